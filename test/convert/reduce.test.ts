/**
 * Converter: ReduceMean/ReduceSum as a depthwise convolution over a view of the input, and Sub of
 * two computed tensors as an ADD of a negated one (what decomposed LayerNorms and residuals need).
 */
import { expect } from "chai";

import { ConvertError, convertModel, measureAccuracy } from "../../offchain/convert/index.js";
import type { ConversionResult } from "../../offchain/convert/index.js";
import type { INodeProto, ITensorProto } from "../../offchain/model/onnx.js";
import { encodeModel } from "../../offchain/model/onnx.js";
import { node, rand, tensor } from "./float-model.js";

const r = rand(31);
const ints = (name: string, values: number[]): ITensorProto => {
  const b = BigInt64Array.from(values, (v) => BigInt(v));
  return { name, dims: [values.length], dataType: 7, rawData: new Uint8Array(b.buffer) };
};

function model(inputShape: number[], nodes: INodeProto[], inits: ITensorProto[], opset = 17): Uint8Array {
  return encodeModel({
    irVersion: 8,
    opsetImport: [{ domain: "", version: opset }],
    graph: {
      name: "reduce",
      node: nodes,
      initializer: inits,
      input: [{ name: "x", type: { tensorType: { elemType: 1, shape: { dim: inputShape.map((d) => ({ dimValue: d })) } } } }],
      output: [{ name: "y", type: { tensorType: { elemType: 1 } } }],
    },
  });
}

const calib = (n: number, size: number): Float32Array[] => Array.from({ length: n }, () => r(size, -1, 1));

async function withinBound(bytes: Uint8Array, conv: ConversionResult, inputs: Float32Array[]): Promise<void> {
  const acc = await measureAccuracy(bytes, conv, inputs);
  expect(acc.maxAbsError, `max error ${acc.maxAbsError} vs bound ${conv.errorBound}`).to.be.at.most(conv.errorBound);
}

describe("convert: reductions and differences of tensors", function () {
  this.timeout(60_000);

  it("a decomposed LayerNorm's centering: x − Expand(ReduceMean(x)) broadcasts by a GATHER, x − ReduceMean(x) is one centering DENSE", async function () {
    const expanded = model(
      [1, 6, 8],
      [
        node("ReduceMean", ["x"], "m", "/ln/ReduceMean", { axes: [-1], keepdims: 1 }),
        node("Expand", ["m", "shape"], "mb", "/ln/Expand"),
        node("Sub", ["x", "mb"], "y", "/ln/Sub"),
      ],
      [ints("shape", [1, 6, 8])],
      13,
    );
    const inputs = calib(12, 48);
    const c1 = convertModel(expanded, { calibration: inputs });
    // The mean's view back to [1, 6, 1] is read by the GATHER directly.
    expect(c1.layers.map((l) => l.kind)).to.deep.equal(["RESHAPE", "CONV", "GATHER", "MUL", "ADD"]);
    await withinBound(expanded, c1, inputs);
    const implicit = model(
      [1, 6, 8],
      [node("ReduceMean", ["x"], "m", "/ln/ReduceMean", { axes: [-1], keepdims: 1 }), node("Sub", ["x", "m"], "y", "/ln/Sub")],
      [],
      13,
    );
    const c2 = convertModel(implicit, { calibration: inputs });
    expect(c2.layers.map((l) => [l.kind, l.ops])).to.deep.equal([["DENSE", "ReduceMean+Sub"]]);
    await withinBound(implicit, c2, inputs);
  });

  it("ReduceMean over the last axis of [1, T, D] is RESHAPE, CONV (depthwise, D taps of 1/D), RESHAPE", async function () {
    const bytes = model([1, 6, 8], [node("ReduceMean", ["x"], "y", "mean", { axes: [2], keepdims: 0 })], [], 13);
    const inputs = calib(12, 48);
    const conv = convertModel(bytes, { calibration: inputs });
    expect(conv.layers.map((l) => l.kind)).to.deep.equal(["RESHAPE", "CONV", "RESHAPE"]);
    expect(conv.model.layers.map((l) => l.outShape.join("x"))).to.deep.equal(["1x6x8x1", "1x6x1x1", "1x6"]);
    await withinBound(bytes, conv, inputs);
  });

  it("ReduceSum over the channel axis (axes as an input, opset 13) and over all axes, keepdims", async function () {
    const channel = model([1, 4, 3, 3], [node("ReduceSum", ["x", "axes"], "y", "sum")], [ints("axes", [1])], 13);
    const inputs = calib(12, 36);
    const c = convertModel(channel, { calibration: inputs });
    expect(c.model.layers.map((l) => l.outShape.join("x"))).to.deep.equal(["1x1x4x9", "1x1x1x9", "1x1x3x3"]);
    await withinBound(channel, c, inputs);
    const all = model([1, 4, 3, 3], [node("ReduceMean", ["x"], "y", "mean", { keepdims: 1 })], [], 13);
    const a = convertModel(all, { calibration: inputs });
    expect(a.model.layers.map((l) => l.outShape.join("x"))).to.deep.equal(["1x1x36x1", "1x1x1x1", "1x1x1x1"]);
    await withinBound(all, a, inputs);
  });

  it("refuses axes that are not one contiguous block, naming them", function () {
    const bytes = model([1, 4, 3, 5], [node("ReduceMean", ["x"], "y", "mean", { axes: [1, 3], keepdims: 1 })], [], 13);
    let e: unknown;
    try {
      convertModel(bytes, { calibration: calib(2, 60) });
    } catch (x) {
      e = x;
    }
    expect((e as ConvertError).message).to.equal('cannot convert node "mean" (ReduceMean): axes [1,3] of [1,4,3,5] are not one contiguous block (only such a reduction is a convolution)');
  });

  it("Sub of two computed tensors of one shape is MUL by −1 and ADD, within the bound", async function () {
    const bytes = model(
      [1, 4, 3, 3],
      [node("Conv", ["x", "w1"], "a", "conv_a", { kernel_shape: [1, 1] }), node("Conv", ["x", "w2"], "b", "conv_b", { kernel_shape: [1, 1] }), node("Sub", ["a", "b"], "y", "diff")],
      [tensor("w1", [4, 4, 1, 1], r(16)), tensor("w2", [4, 4, 1, 1], r(16))],
    );
    const inputs = calib(12, 36);
    const conv = convertModel(bytes, { calibration: inputs });
    // The −1 folds into conv_b's weights, like any per-channel Mul after a Conv.
    expect(conv.layers.map((l) => l.kind)).to.deep.equal(["CONV", "CONV", "ADD"]);
    await withinBound(bytes, conv, inputs);
    // With nothing to fold it into (the graph input), the negation is a MUL layer of its own.
    const fromInput = model([1, 4, 3, 3], [node("Conv", ["x", "w1"], "a", "conv_a", { kernel_shape: [1, 1] }), node("Sub", ["a", "x"], "y", "diff")], [tensor("w1", [4, 4, 1, 1], r(16))]);
    const c2 = convertModel(fromInput, { calibration: inputs });
    expect(c2.layers.map((l) => l.kind)).to.deep.equal(["CONV", "MUL", "ADD"]);
    await withinBound(fromInput, c2, inputs);
  });
});
