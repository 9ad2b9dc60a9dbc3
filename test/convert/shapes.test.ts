/**
 * Converter: dynamic input dimensions bound by the user, shape arithmetic evaluated at conversion
 * (the Shape → Gather → Unsqueeze → Concat → Reshape exporters write), Squeeze/Unsqueeze as views.
 */
import { expect } from "chai";

import { ConvertError, UnsupportedOpsError, convertModel, measureAccuracy } from "../../offchain/convert/index.js";
import type { Const } from "../../offchain/convert/constants.js";
import { FoldError, evalConstant } from "../../offchain/convert/constants.js";
import { convertOptions } from "../../offchain/cli/model/convert.js";
import type { INodeProto, ITensorProto } from "../../offchain/model/onnx.js";
import { encodeModel } from "../../offchain/model/onnx.js";
import { node, rand, tensor } from "./float-model.js";

const r = rand(23);
const ints = (name: string, values: number[], dims = [values.length]): ITensorProto => {
  const b = BigInt64Array.from(values, (v) => BigInt(v));
  return { name, dims, dataType: 7, rawData: new Uint8Array(b.buffer) };
};

/** A model whose input is `[batch, 3, height, width]` (dynamic, as exporters write it). */
function dynamicModel(nodes: INodeProto[], inits: ITensorProto[], output = "y"): Uint8Array {
  return encodeModel({
    irVersion: 8,
    opsetImport: [{ domain: "", version: 17 }],
    graph: {
      name: "dynamic",
      node: nodes,
      initializer: inits,
      input: [{ name: "x", type: { tensorType: { elemType: 1, shape: { dim: [{ dimParam: "batch" }, { dimValue: 3 }, { dimParam: "height" }, { dimParam: "width" }] } } } }],
      output: [{ name: output, type: { tensorType: { elemType: 1 } } }],
    },
  });
}

/** Conv → Relu → a Reshape to [batch, -1] computed from Shape → Gemm; plus an attention-style scale from Shape. */
function visionModel(): Uint8Array {
  return dynamicModel(
    [
      node("Conv", ["x", "w", "b"], "c", "/conv/Conv", { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] }),
      node("Relu", ["c"], "a", "/relu/Relu"),
      node("Shape", ["a"], "s", "/Shape"),
      node("Gather", ["s", "zero"], "n", "/Gather", { axis: 0 }),
      node("Unsqueeze", ["n", "axes0"], "n1", "/Unsqueeze"),
      node("Concat", ["n1", "minus1"], "target", "/Concat", { axis: 0 }),
      node("Reshape", ["a", "target"], "f", "/Reshape"),
      // scale = sqrt(last dimension of f), as attention computes 1/sqrt(d_k) from the shape.
      node("Shape", ["f"], "fs", "/Shape_1"),
      node("Gather", ["fs", "one"], "d", "/Gather_1", { axis: 0 }),
      node("Cast", ["d"], "df", "/Cast", { to: 1 }),
      node("Sqrt", ["df"], "sd", "/Sqrt"),
      node("Div", ["f", "sd"], "fd", "/Div"),
      node("Gemm", ["fd", "w2"], "y", "/head/Gemm", { transB: 1 }),
    ],
    [
      tensor("w", [4, 3, 3, 3], r(108)), tensor("b", [4], r(4)), tensor("w2", [5, 64], r(320)),
      ints("zero", [0], []), ints("one", [1], []), ints("axes0", [0]), ints("minus1", [-1]),
    ],
  );
}

const calib = (n: number, size: number): Float32Array[] => Array.from({ length: n }, () => r(size, 0, 1));

function refusal(f: () => unknown): ConvertError {
  try {
    f();
  } catch (e) {
    if (e instanceof ConvertError) return e;
    throw e;
  }
  throw new Error("no refusal");
}

describe("convert: dynamic dimensions and shape arithmetic", function () {
  this.timeout(60_000);

  it("a dynamic input is refused with the way to bind it; bound, the shape arithmetic folds away", async function () {
    const bytes = visionModel();
    const e = refusal(() => convertModel(bytes, { calibration: calib(4, 3 * 8 * 8) }));
    expect([e.node, e.code]).to.deep.equal(["x", "SHAPE"]);
    expect(e.message).to.contain("shape [?,3,?,?]");
    expect(e.message).to.contain("bind its dynamic dimensions with --input-shape (e.g. --input-shape 1,3,N,N)");

    const inputs = calib(12, 3 * 8 * 8);
    const conv = convertModel(bytes, { calibration: inputs, inputShape: [1, 3, 8, 8] });
    // Shape, Gather, Unsqueeze, Concat, Cast and Sqrt leave no layer: the Reshape got a constant
    // target, and the Div a constant divisor (a MUL by 1/8, the evaluated 1/sqrt(64), folded into the
    // weights of the Gemm that reads it).
    expect(conv.layers.map((l) => l.kind)).to.deep.equal(["CONV", "RESHAPE", "DENSE"]);
    expect(conv.layers.map((l) => l.ops)).to.deep.equal(["Conv+Relu", "Reshape", "Div+Gemm"]);
    expect(conv.model.inputShape).to.deep.equal([1, 3, 8, 8]);
    const acc = await measureAccuracy(bytes, conv, inputs);
    expect(acc.maxAbsError).to.be.at.most(conv.errorBound);
  });

  it("a bound shape must fit the file's fixed dimensions, rank and input name", function () {
    const bytes = visionModel();
    const c = calib(2, 48);
    expect(refusal(() => convertModel(bytes, { calibration: c, inputShape: [1, 4, 4, 3] })).message).to.equal(
      'cannot convert node "x" (graph input): the bound shape [1,4,4,3] does not fit the declared [?,3,?,?]: dimension 1 is 3',
    );
    expect(refusal(() => convertModel(bytes, { calibration: c, inputShape: [1, 3, 16] })).message).to.contain("the bound shape [1,3,16] has rank 3; the file declares [?,3,?,?]");
    expect(refusal(() => convertModel(bytes, { calibration: c, inputShape: [2, 3, 4, 4] })).message).to.contain("a static [1, ...] shape of rank >= 2 is required");
    expect(refusal(() => convertModel(bytes, { calibration: c, inputShape: [1, 3, 4, 4], inputName: "pixels" })).message).to.equal(
      'cannot convert node "pixels" (graph input): the model has no input of that name; its input is "x"',
    );
    expect(convertOptions({ inputShape: "x=1,3,48,192" })).to.deep.equal({ inputShape: [1, 3, 48, 192], inputName: "x" });
    expect(convertOptions({ inputShape: "1, 3, 48, 192" })).to.deep.equal({ inputShape: [1, 3, 48, 192] });
    expect(() => convertOptions({ inputShape: "1,3,?,192" })).to.throw(/--input-shape 1,3,\?,192: give the input's dimensions as positive integers/);
  });

  it("shape ops on activations (an Equal of computed tensors) are listed with the unsupported ops, up front", function () {
    const bytes = dynamicModel(
      [node("Relu", ["x"], "a", "relu"), node("Equal", ["a", "x"], "y", "/equal"), node("Shape", ["y"], "s", "/shape_of_y")],
      [],
      "y",
    );
    const e = refusal(() => convertModel(bytes, { calibration: calib(2, 48), inputShape: [1, 3, 4, 4] }));
    expect(e).to.be.instanceOf(UnsupportedOpsError);
    expect((e as UnsupportedOpsError).nodes).to.deep.equal([{ node: "/equal", op: "Equal" }]);
    expect(e.message).to.contain("; on constants and shapes only: Shape, Size, ConstantOfShape, Range");
  });

  it("Squeeze and Unsqueeze of activations are views (RESHAPE)", function () {
    const bytes = dynamicModel(
      [
        node("GlobalAveragePool", ["x"], "p", "pool"),
        node("Squeeze", ["p", "axes23"], "s", "squeeze"),
        node("Unsqueeze", ["s", "axes2"], "u", "unsqueeze"),
        node("Flatten", ["u"], "f", "flatten"),
        node("Gemm", ["f", "w"], "y", "fc", { transB: 1 }),
      ],
      [ints("axes23", [2, 3]), ints("axes2", [2]), tensor("w", [2, 3], r(6))],
    );
    const conv = convertModel(bytes, { calibration: calib(4, 48), inputShape: [1, 3, 4, 4] });
    // Views in a row are one view: [1,3,1,1] → [1,3] → [1,3,1] → [1,3] is one RESHAPE.
    expect(conv.layers.map((l) => l.kind)).to.deep.equal(["CONV", "RESHAPE", "DENSE"]);
    expect(conv.layers[1]!.ops).to.equal("Flatten");
    expect(conv.model.layers[1]!.outShape).to.deep.equal([1, 3]);
  });

  describe("evalConstant", function () {
    const c = (values: number[], dims = [values.length], int = true): Const => ({ values: Float64Array.from(values), dims, int });
    const ev = (n: INodeProto, ins: (Const | undefined)[], opset = 17) => evalConstant(n, ins, opset, () => undefined);
    const vals = (x: Const): number[] => Array.from(x.values);

    it("Gather, Slice, Concat, Range, ConstantOfShape, Cast, Div, Where/Equal with broadcasting", function () {
      const data = c([10, 11, 12, 13, 14, 15], [2, 3]);
      expect(vals(ev(node("Gather", ["d", "i"], "o", "g", { axis: 1 }), [data, c([-1, 0])]))).to.deep.equal([12, 10, 15, 13]);
      expect(ev(node("Gather", ["d", "i"], "o", "g", { axis: 1 }), [data, c([-1, 0])]).dims).to.deep.equal([2, 2]);
      // ends at INT64_MAX, as exporters write "to the end"; a negative step walks back.
      expect(vals(ev(node("Slice", [], "o", "s"), [c([0, 1, 2, 3, 4]), c([1]), c([9223372036854775807]), c([0]), c([2])]))).to.deep.equal([1, 3]);
      expect(vals(ev(node("Slice", [], "o", "s"), [c([0, 1, 2, 3, 4]), c([-1]), c([-9223372036854775807]), c([0]), c([-1])]))).to.deep.equal([4, 3, 2, 1, 0]);
      expect(vals(ev(node("Concat", [], "o", "c", { axis: 0 }), [c([1]), c([2, 3])]))).to.deep.equal([1, 2, 3]);
      expect(vals(ev(node("Range", [], "o", "r"), [c([1], []), c([8], []), c([3], [])]))).to.deep.equal([1, 4, 7]);
      const fill = ev({ ...node("ConstantOfShape", ["s"], "o", "k"), attribute: [{ name: "value", type: 4, t: tensor("v", [1], [2.5]) }] }, [c([2, 2])]);
      expect([vals(fill), fill.dims]).to.deep.equal([[2.5, 2.5, 2.5, 2.5], [2, 2]]);
      expect(vals(ev(node("Cast", ["x"], "o", "cast", { to: 7 }), [c([-2.7, 2.7], [2], false)]))).to.deep.equal([-2, 2]);
      // Integer Div truncates toward zero; float Div does not.
      expect(vals(ev(node("Div", ["a", "b"], "o", "div"), [c([-7, 7]), c([2], [])]))).to.deep.equal([-3, 3]);
      expect(vals(ev(node("Div", ["a", "b"], "o", "div"), [c([-7, 7], [2], false), c([2], [], false)]))).to.deep.equal([-3.5, 3.5]);
      const eq = ev(node("Equal", ["a", "b"], "o", "eq"), [c([1, 2, 3]), c([2], [])]);
      expect(vals(ev(node("Where", [], "o", "w"), [eq, c([9], []), c([4, 5, 6])]))).to.deep.equal([4, 9, 6]);
      expect(vals(ev(node("Shape", ["x"], "o", "shape", { start: -2 }), [c([0, 0, 0, 0, 0, 0], [1, 2, 3])]))).to.deep.equal([2, 3]);
      expect(() => ev(node("Gather", ["d", "i"], "o", "g", { axis: 0 }), [data, c([2])])).to.throw(FoldError, "index 2 is out of range for a dimension of 2");
      expect(() => ev(node("Add", [], "o", "add"), [c([1, 2]), c([1, 2, 3])])).to.throw(FoldError, "do not broadcast");
    });
  });
});
