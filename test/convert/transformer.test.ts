/**
 * Converter: the ops transformers use, each lowered onto the canonical kinds (DENSE over the last
 * axis, MATMUL, PRODUCT, GATHER, CONST) in a small float model, checked against onnxruntime's float
 * result within the stated bound (or, where the bound is too loose to say anything, a measured
 * tolerance), parsed back by parseCanonicalModel and run bit for bit alike by onnxruntime and the
 * reference interpreter; and what is not supported, refused by node and op.
 */
import { expect } from "chai";

import { convertOptions } from "../../offchain/cli/model/convert.js";
import { ConvertError, convertModel, quantizeInput } from "../../offchain/convert/index.js";
import type { ConversionResult } from "../../offchain/convert/index.js";
import { GatherConst } from "../../offchain/model/layers.js";
import type { INodeProto, ITensorProto } from "../../offchain/model/onnx.js";
import { parseCanonicalModel } from "../../offchain/model/canonical.js";
import { CanonicalRunner } from "../../offchain/runtime/runner.js";
import { checkConversion } from "./check.js";
import { floatModel, int64, node, rand, tensor } from "./float-model.js";

const r = rand(23);
const calib = (n: number, size: number, lo = -1, hi = 1): Float32Array[] => Array.from({ length: n }, () => r(size, lo, hi));
const kinds = (c: ConversionResult): string[] => c.layers.map((l) => l.kind);
const numel = (s: number[]): number => s.reduce((a, b) => a * b, 1);

/** Within `tolerance` when one is given, else the stated bound (test/convert/check.ts). */
const check = (bytes: Uint8Array, conv: ConversionResult, inputs: Float32Array[], tolerance?: number): Promise<number> =>
  checkConversion(bytes, conv, inputs, tolerance === undefined ? {} : { tolerance, bound: false });

function refusal(bytes: Uint8Array, size: number): ConvertError {
  try {
    convertModel(bytes, { calibration: calib(2, size) });
  } catch (e) {
    expect(e).to.be.instanceOf(ConvertError);
    return e as ConvertError;
  }
  throw new Error("converted");
}

/** [1, N, D] tokens from a [1, N·D] input: a Gemm (so the tokens are a computed tensor) and a Reshape. */
function tokens(N: number, D: number, name = "t"): { nodes: INodeProto[]; inits: ITensorProto[] } {
  const w = rand(101);
  return {
    nodes: [node("Gemm", ["x", "w0"], "flat", "embed", { transB: 1 }), node("Reshape", ["flat", "tshape"], name, "to_tokens")],
    inits: [tensor("w0", [N * D, N * D], w(N * D * N * D, -0.3, 0.3)), int64("tshape", [3], [1, N, D])],
  };
}

describe("convert: transformer ops onto DENSE, MATMUL, PRODUCT, GATHER, CONST", function () {
  this.timeout(60_000);

  describe("MatMul", function () {
    it("by weights on [1, N, K], with its bias Add over the last axis, is one DENSE over the last axis", async function () {
      const t = tokens(5, 6);
      const w = rand(3);
      const bytes = floatModel(
        [1, 30],
        [...t.nodes, node("MatMul", ["t", "W"], "mm", "/q/MatMul"), node("Add", ["mm", "B"], "y", "/q/Add")],
        [...t.inits, tensor("W", [6, 4], w(24)), tensor("B", [4], w(4))],
        "y",
      );
      const inputs = calib(12, 30);
      const conv = convertModel(bytes, { calibration: inputs });
      expect(kinds(conv)).to.deep.equal(["DENSE", "RESHAPE", "DENSE"]);
      expect(conv.layers[2]!.ops).to.equal("MatMul+Add");
      expect(conv.model.layers[2]!.outShape).to.deep.equal([1, 5, 4]);
      await check(bytes, conv, inputs);
    });

    it("of two computed tensors, batched over heads, with its scale folded in, is one MATMUL", async function () {
      // q [1, 2, 4, 3] · kᵀ [1, 2, 3, 4] · 0.5, k transposed by a Transpose: a GATHER.
      const t = tokens(4, 6);
      const bytes = floatModel(
        [1, 24],
        [
          ...t.nodes,
          node("Reshape", ["t", "hshape"], "h", "/heads"),
          node("Transpose", ["h"], "q", "/q", { perm: [0, 2, 1, 3] }),
          node("Transpose", ["h"], "kt", "/kt", { perm: [0, 2, 3, 1] }),
          node("MatMul", ["q", "kt"], "s", "/scores"),
          node("Mul", ["s", "half"], "y", "/scale"),
        ],
        [...t.inits, int64("hshape", [4], [1, 4, 2, 3]), tensor("half", [], [0.5])],
        "y",
      );
      const inputs = calib(12, 24);
      const conv = convertModel(bytes, { calibration: inputs });
      expect(kinds(conv)).to.deep.equal(["DENSE", "GATHER", "GATHER", "MATMUL"]);
      expect(conv.layers[3]!.ops).to.equal("MatMul+Mul");
      expect(conv.model.layers[3]!.outShape).to.deep.equal([1, 2, 4, 4]);
      await check(bytes, conv, inputs);
    });

    it("broadcasts leading axes by a GATHER ([1, 2, N, K] × [1, 1, K, M])", async function () {
      const t = tokens(3, 4);
      const bytes = floatModel(
        [1, 12],
        [
          ...t.nodes,
          node("Unsqueeze", ["t", "ax1"], "b", "/b"),
          node("Concat", ["b", "b"], "a", "/a", { axis: 1 }),
          node("Transpose", ["b"], "bt", "/bt", { perm: [0, 1, 3, 2] }),
          node("MatMul", ["a", "bt"], "y", "/mm"),
        ],
        [...t.inits, int64("ax1", [1], [1])],
        "y",
      );
      const inputs = calib(12, 12);
      const conv = convertModel(bytes, { calibration: inputs });
      expect(kinds(conv)).to.deep.equal(["DENSE", "GATHER", "GATHER", "MATMUL"]);
      await check(bytes, conv, inputs);
    });
  });

  describe("elementwise ops of two tensors and of constants", function () {
    it("Mul and Div of two computed tensors are PRODUCTs, the smaller operand broadcast by a GATHER, the divisor through a 1/x LUT", async function () {
      const t = tokens(4, 5);
      const w = rand(9);
      const bytes = floatModel(
        [1, 20],
        [
          ...t.nodes,
          node("MatMul", ["t", "Wg"], "g", "/gate"), // [1, 4, 1]
          node("Sigmoid", ["g"], "sg", "/sigmoid"),
          node("Mul", ["t", "sg"], "m", "/gated"),
          node("Add", ["sg", "one"], "den", "/den"),
          node("Div", ["m", "den"], "y", "/divided"),
        ],
        [...t.inits, tensor("Wg", [5, 1], w(5)), tensor("one", [], [1])],
        "y",
      );
      const inputs = calib(16, 20);
      const conv = convertModel(bytes, { calibration: inputs });
      // Sigmoid+Add(1) then 1/x: one LUT each; they read one tensor, so x ↦ 1/(σ(x)+1) is fused with the reciprocal.
      expect(kinds(conv)).to.deep.equal(["DENSE", "RESHAPE", "DENSE", "LUT", "GATHER", "PRODUCT", "LUT", "GATHER", "PRODUCT"]);
      await check(bytes, conv, inputs);
    });

    it("Add and Sub of two computed tensors broadcast the smaller one (Sub negates it first)", async function () {
      const t = tokens(4, 5);
      const w = rand(9);
      const bytes = floatModel(
        [1, 20],
        [...t.nodes, node("MatMul", ["t", "Wr"], "row", "/row"), node("Sub", ["t", "row"], "d", "/sub"), node("Add", ["d", "row"], "y", "/add")],
        [...t.inits, tensor("Wr", [5, 1], w(5))],
        "y",
      );
      const inputs = calib(16, 20);
      const conv = convertModel(bytes, { calibration: inputs });
      // row has two readers, so its −1 is a MUL of its own; the difference is added to row next, so it
      // must share row's scale, which its ADD cannot reach by a shift: a MUL rescales it.
      expect(kinds(conv)).to.deep.equal(["DENSE", "RESHAPE", "DENSE", "MUL", "GATHER", "ADD", "MUL", "GATHER", "ADD"]);
      await check(bytes, conv, inputs);
    });

    it("a constant over the last axis after a non-DENSE layer, and a position embedding, are CONST layers added in", async function () {
      const t = tokens(4, 5);
      const w = rand(13);
      const bytes = floatModel(
        [1, 20],
        [...t.nodes, node("Tanh", ["t"], "a", "/act"), node("Add", ["a", "pos"], "p", "/pos"), node("Mul", ["p", "gamma"], "y", "/gamma")],
        [...t.inits, tensor("pos", [1, 4, 5], w(20)), tensor("gamma", [5], w(5, 0.5, 2))],
        "y",
      );
      const inputs = calib(16, 20);
      const conv = convertModel(bytes, { calibration: inputs });
      // (The RESHAPE to tokens moves after the LUT, which does not care about shapes.)
      expect(kinds(conv)).to.deep.equal(["DENSE", "LUT", "RESHAPE", "CONST", "ADD", "CONST", "PRODUCT"]);
      expect(conv.model.layers[3]!.inputs).to.deep.equal([]);
      await check(bytes, conv, inputs);
    });

    it("a scale and shift over the last axis fold into the DENSEs that read the result, through a GATHER of rows", async function () {
      const t = tokens(4, 5);
      const w = rand(17);
      const bytes = floatModel(
        [1, 20],
        [
          ...t.nodes,
          node("Tanh", ["t"], "a", "/act"),
          node("Mul", ["a", "gamma"], "ag", "/gamma"),
          node("Add", ["ag", "beta"], "ab", "/beta"),
          node("Gather", ["ab", "zero"], "first", "/first", { axis: 1 }), // x[:, 0]
          node("Gemm", ["first", "Wh"], "y", "/head", { transB: 1 }),
        ],
        [...t.inits, tensor("gamma", [5], w(5, 0.5, 2)), tensor("beta", [5], w(5)), int64("zero", [], [0]), tensor("Wh", [3, 5], w(15))],
        "y",
      );
      const inputs = calib(16, 20);
      const conv = convertModel(bytes, { calibration: inputs });
      // (The RESHAPE to tokens moves after the LUT and into the GATHER.)
      expect(kinds(conv)).to.deep.equal(["DENSE", "LUT", "GATHER", "DENSE"]);
      expect(conv.layers[3]!.ops).to.equal("Mul+Add+Gemm");
      await check(bytes, conv, inputs);
    });
  });

  describe("data movement: one GATHER each", function () {
    const t = tokens(4, 6);
    const inputs = calib(8, 24);
    const cases: [string, INodeProto[], ITensorProto[], number[]][] = [
      ["Transpose", [node("Transpose", ["t"], "y", "/T", { perm: [0, 2, 1] })], [], [1, 6, 4]],
      ["Slice (steps, negative ends)", [node("Slice", ["t", "st", "en", "ax", "sp"], "y", "/S")], [int64("st", [2], [1, 0]), int64("en", [2], [-1, 6]), int64("ax", [2], [1, 2]), int64("sp", [2], [1, 2])], [1, 2, 3]],
      ["Gather on constant indices", [node("Gather", ["t", "gi"], "y", "/G", { axis: 2 })], [int64("gi", [3], [5, 0, -1])], [1, 4, 3]],
      ["Expand", [node("Unsqueeze", ["t", "a1"], "u", "/U"), node("Expand", ["u", "es"], "y", "/E")], [int64("a1", [1], [1]), int64("es", [4], [1, 2, 4, 6])], [1, 2, 4, 6]],
      ["Pad with zeros", [node("Pad", ["t", "pads"], "y", "/P", { mode: "constant" })], [int64("pads", [6], [0, 1, 0, 0, 2, 1])], [1, 7, 7]],
      ["Tile", [node("Tile", ["t", "reps"], "y", "/Ti")], [int64("reps", [3], [1, 2, 1])], [1, 8, 6]],
      ["Concat with a constant (a class token)", [node("Concat", ["cls", "t"], "y", "/C", { axis: 1 })], [tensor("cls", [1, 1, 6], rand(5)(6))], [1, 5, 6]],
    ];
    for (const [what, body, extra, shape] of cases) {
      it(what, async function () {
        const bytes = floatModel([1, 24], [...t.nodes, ...body], [...t.inits, ...extra], "y", 13);
        const conv = convertModel(bytes, { calibration: inputs });
        const k = kinds(conv);
        expect(k.slice(0, 1)).to.deep.equal(["DENSE"]);
        expect(k.at(-1)).to.equal("GATHER");
        // The RESHAPE to tokens is read through: the GATHER reads the DENSE's [1, 24] directly.
        expect(k.filter((x) => x === "RESHAPE")).to.deep.equal([]);
        expect(conv.model.layers.at(-1)!.outShape).to.deep.equal(shape);
        expect(conv.model.layers.at(-1)!.constants[GatherConst.IDX]!.values.length).to.equal(numel(shape));
        // Data movement copies integers: the error is the DENSE's (and the constant's rounding).
        await check(bytes, conv, inputs);
      });
    }

    it("Split: one GATHER per output", async function () {
      const bytes = floatModel(
        [1, 24],
        [...t.nodes, { ...node("Split", ["t", "parts"], "a", "/Split", { axis: 2 }), output: ["a", "b"] }, node("Sub", ["a", "b"], "y", "/diff")],
        [...t.inits, int64("parts", [2], [3, 3])],
        "y",
        13,
      );
      const conv = convertModel(bytes, { calibration: inputs });
      expect(kinds(conv)).to.deep.equal(["DENSE", "GATHER", "GATHER", "MUL", "ADD"]);
      await check(bytes, conv, inputs);
    });

    it("a Transpose that only moves axes of size 1 is a RESHAPE; Transposes in a row are one GATHER, or none when they undo each other", async function () {
      const chain = (last: number[]) =>
        floatModel(
          [1, 24],
          [
            ...t.nodes,
            node("Unsqueeze", ["t", "a1"], "u", "/U"),
            node("Transpose", ["u"], "v", "/T1", { perm: [0, 2, 1, 3] }), // [1, 1, 4, 6]: size-1 axes only
            node("Transpose", ["v"], "w", "/T2", { perm: [0, 1, 3, 2] }), // [1, 1, 6, 4]
            node("Transpose", ["w"], "y", "/T3", { perm: last }),
          ],
          [...t.inits, int64("a1", [1], [2])],
          "y",
          13,
        );
      const undone = chain([0, 1, 3, 2]);
      const c1 = convertModel(undone, { calibration: inputs });
      expect(kinds(c1)).to.deep.equal(["DENSE", "RESHAPE"]);
      expect(c1.model.layers[1]!.outShape).to.deep.equal([1, 1, 4, 6]);
      await check(undone, c1, inputs);
      const moved = chain([0, 2, 1, 3]);
      const c2 = convertModel(moved, { calibration: inputs });
      expect(kinds(c2)).to.deep.equal(["DENSE", "GATHER"]);
      expect(c2.model.layers[1]!.outShape).to.deep.equal([1, 6, 1, 4]);
      await check(moved, c2, inputs);
    });

    it("Pad reflect is one GATHER, a non-zero pad value c an ADD of −c (here folded into the DENSE), the GATHER and an ADD of c; Gather on computed indices is refused, by node and op", async function () {
      const pad = (attrs: Record<string, string>, value?: number) =>
        floatModel([1, 24], [...t.nodes, node("Pad", ["t", "pads", ...(value === undefined ? [] : ["v"])], "y", "/pad", attrs)], [...t.inits, int64("pads", [6], [0, 1, 0, 0, 1, 0]), tensor("v", [], [value ?? 0])], "y", 13);
      const inputs = calib(8, 24);
      const reflect = pad({ mode: "reflect" });
      const c1 = convertModel(reflect, { calibration: inputs });
      expect(kinds(c1)).to.deep.equal(["DENSE", "GATHER"]);
      await check(reflect, c1, inputs);
      const valued = pad({}, 1);
      const c2 = convertModel(valued, { calibration: inputs });
      expect(kinds(c2)).to.deep.equal(["DENSE", "GATHER", "ADD"]); // the ADD of −c folds into the DENSE's bias
      await check(valued, c2, inputs);
      const computed = floatModel([1, 24], [...t.nodes, node("Relu", ["t"], "i", "/i"), node("Gather", ["t", "i"], "y", "/gather", { axis: 1 })], t.inits, "y", 13);
      const e = refusal(computed, 24);
      const tooFar = floatModel([1, 24], [...t.nodes, node("Pad", ["t", "big"], "y", "/pad", { mode: "reflect" })], [...t.inits, int64("big", [6], [0, 4, 0, 0, 0, 0])], "y", 13);
      expect(refusal(tooFar, 24).message).to.match(/node "\/pad" \(Pad\): reflect pads 4, 0 reach past/);
      expect([e.node, e.op, e.code]).to.deep.equal(["/gather", "Gather", "NOT_CONSTANT"]);
    });
  });

  describe("Softmax", function () {
    /** Scores [1, 2, 4, 4] = q·kᵀ of [1, 2, 4, 3] heads, from a [1, 24] input. */
    function attention(tail: INodeProto[], extra: ITensorProto[] = [], opset = 13): Uint8Array {
      const t = tokens(4, 6);
      return floatModel(
        [1, 24],
        [
          ...t.nodes,
          node("Reshape", ["t", "hshape"], "h", "/heads"),
          node("Transpose", ["h"], "q", "/q", { perm: [0, 2, 1, 3] }),
          node("Transpose", ["h"], "kt", "/kt", { perm: [0, 2, 3, 1] }),
          node("MatMul", ["q", "kt"], "s", "/scores"),
          node("Mul", ["s", "scale"], "ss", "/scale"),
          ...tail,
        ],
        [...t.inits, int64("hshape", [4], [1, 4, 2, 3]), tensor("scale", [], [3 ** -0.5]), ...extra],
        "y",
        opset,
      );
    }
    const inputs = calib(24, 24, -2, 2);

    it("over the last axis: max (MAXPOOL), x − max, exp (LUT), sum (CONV), 1/sum (LUT), broadcast and product", async function () {
      const bytes = attention([node("Softmax", ["ss"], "y", "/softmax", { axis: -1 })]);
      const conv = convertModel(bytes, { calibration: inputs });
      expect(kinds(conv).slice(4)).to.deep.equal(["RESHAPE", "MAXPOOL", "MUL", "GATHER", "ADD", "LUT", "RESHAPE", "CONV", "LUT", "RESHAPE", "GATHER", "PRODUCT"]);
      expect(conv.layers.slice(4).every((l) => l.ops === "Softmax")).to.equal(true);
      // Probabilities, on a 0..1 scale: within the stated bound (finite: the integer sum holds an exp(0) too,
      // so 1/sum is not taken near 0), which is worst-case and loose; the measured error is far below.
      expect(conv.errorBound).to.be.below(2);
      await check(bytes, conv, inputs);
      const err = await check(bytes, conv, inputs, 0.01);
      expect(err).to.be.above(0);
    });

    it("multiplied by v: the normalization moves after the MATMUL (exp·v, then times 1/sum)", async function () {
      const bytes = attention([node("Softmax", ["ss"], "p", "/softmax", { axis: -1 }), node("MatMul", ["p", "q"], "y", "/pv")]);
      const conv = convertModel(bytes, { calibration: inputs });
      const k = kinds(conv);
      expect(k.slice(-3)).to.deep.equal(["MATMUL", "GATHER", "PRODUCT"]);
      expect(k.filter((x) => x === "PRODUCT")).to.have.length(1);
      expect(conv.layers.at(-1)!.ops).to.equal("Softmax+MatMul");
      await check(bytes, conv, inputs);
    });

    it("decomposed (ReduceMax, Sub, Exp, ReduceSum, Div, a Cast to float) through the generic rules: the same kinds, within the same tolerance", async function () {
      const bytes = attention(
        [
          node("Cast", ["ss"], "sc", "/cast", { to: 1 }),
          node("ReduceMax", ["sc"], "mx", "/max", { axes: [-1], keepdims: 1 }),
          node("Sub", ["sc", "mx"], "d", "/sub"),
          node("Exp", ["d"], "e", "/exp"),
          node("ReduceSum", ["e", "last"], "sum", "/sum", { keepdims: 1 }),
          node("Div", ["e", "sum"], "y", "/div"),
        ],
        [int64("last", [1], [-1])],
      );
      const conv = convertModel(bytes, { calibration: inputs });
      expect(kinds(conv).slice(4)).to.deep.equal(["RESHAPE", "MAXPOOL", "MUL", "GATHER", "ADD", "LUT", "RESHAPE", "CONV", "LUT", "GATHER", "PRODUCT"]);
      await check(bytes, conv, inputs, 0.01);
      const e = refusal(attention([node("Cast", ["ss"], "y", "/cast", { to: 7 })]), 24);
      expect(e.message).to.equal('cannot convert node "/cast" (Cast): to=7: a computed tensor can only be cast to float (1), or the graph input (token ids) to int32 / int64');
    });

    it("opset 11 semantics (the axes from `axis` on, flattened): a classifier's Softmax over [1, N]", async function () {
      const w = rand(29);
      const bytes = floatModel([1, 8], [node("Gemm", ["x", "w"], "h", "fc", { transB: 1 }), node("Softmax", ["h"], "y", "/probs")], [tensor("w", [5, 8], w(40, -2, 2))], "y", 11);
      const conv = convertModel(bytes, { calibration: calib(24, 8) });
      expect(kinds(conv)[0]).to.equal("DENSE");
      await check(bytes, conv, calib(24, 8));
    });

    it("lutInputBits sets the width of a LUT's input (--lut-input-bits), wideBits that of ADD and PRODUCT operands (--wide-bits)", async function () {
      expect(convertOptions({ wideBits: "10", lutInputBits: "14" })).to.deep.equal({ wideBits: 10, lutInputBits: 14 });
      expect(() => convertOptions({ lutInputBits: "17" })).to.throw("--lut-input-bits 17: give an integer from 2 to 16");
      const bytes = attention([node("Softmax", ["ss"], "y", "/softmax", { axis: -1 })]);
      const expRange = (c: ConversionResult): [number, number] => c.layers.find((l) => l.kind === "ADD")!.range;
      // x − max ≤ 0 feeds exp's table: [-(2^(b-1) - 1), 0].
      expect(expRange(convertModel(bytes, { calibration: inputs }))).to.deep.equal([-2047, 0]);
      const narrow = convertModel(bytes, { calibration: inputs, lutInputBits: 8, wideBits: 8 });
      expect(expRange(narrow)).to.deep.equal([-127, 0]);
      expect(narrow.layers.find((l) => l.kind === "MATMUL")!.range).to.deep.equal([-127, 127]);
      await check(bytes, narrow, inputs, 0.05);
    });

    it("over a middle axis: a GATHER moves the axis last and another moves it back", async function () {
      const bytes = attention([node("Softmax", ["ss"], "y", "/softmax", { axis: 2 })]);
      const inputs = calib(8, 24);
      const c = convertModel(bytes, { calibration: inputs });
      expect(kinds(c).filter((k) => k === "GATHER").length).to.be.at.least(2);
      await check(bytes, c, inputs, 0.05);
    });
  });

  describe("LayerNormalization", function () {
    const D = 8;
    const N = 3;
    const w = rand(37);
    const gamma = w(D, 0.5, 1.5);
    const beta = w(D, -0.5, 0.5);
    const wq = w(D * 5);
    const emb = tokens(N, D);
    const head = (x: string): INodeProto[] => [node("MatMul", [x, "Wq"], "y", "/q/MatMul")];
    const inits = [...emb.inits, tensor("gamma", [D], gamma), tensor("beta", [D], beta), tensor("Wq", [D, 5], wq)];
    const ln17 = floatModel([1, N * D], [...emb.nodes, node("LayerNormalization", ["t", "gamma", "beta"], "n", "/ln", { axis: -1, epsilon: 1e-5 }), ...head("n")], inits, "y", 17);
    const ln14 = floatModel(
      [1, N * D],
      [
        ...emb.nodes,
        node("ReduceMean", ["t"], "mu", "/ln/ReduceMean", { axes: [-1], keepdims: 1 }),
        node("Sub", ["t", "mu"], "d", "/ln/Sub"),
        node("Pow", ["d", "two"], "d2", "/ln/Pow"),
        node("ReduceMean", ["d2"], "var", "/ln/ReduceMean_1", { axes: [-1], keepdims: 1 }),
        node("Add", ["var", "eps"], "ve", "/ln/Add"),
        node("Sqrt", ["ve"], "sd", "/ln/Sqrt"),
        node("Div", ["d", "sd"], "nd", "/ln/Div"),
        node("Mul", ["nd", "gamma"], "ng", "/ln/Mul"),
        node("Add", ["ng", "beta"], "n", "/ln/Add_1"),
        ...head("n"),
      ],
      [...inits, tensor("two", [], [2]), tensor("eps", [], [1e-5])],
      "y",
      14,
    );
    const inputs = calib(24, N * D, -1.5, 1.5);

    it("opset 17's node: centering (DENSE), square (LUT), mean (CONV), 1/√(var + ε) (LUT), broadcast, product; γ and β fold into the next DENSE", async function () {
      const conv = convertModel(ln17, { calibration: inputs });
      expect(kinds(conv)).to.deep.equal(["DENSE", "RESHAPE", "DENSE", "LUT", "RESHAPE", "CONV", "LUT", "GATHER", "PRODUCT", "DENSE"]);
      expect(conv.layers.at(-1)!.ops).to.equal("LayerNormalization+MatMul");
      await check(ln17, conv, inputs, 0.05);
    });

    it("opset 14's decomposed form (ReduceMean, Sub, Pow, ReduceMean, Add, Sqrt, Div, Mul, Add) converts to the same layers and the same integers", async function () {
      const c17 = convertModel(ln17, { calibration: inputs });
      const c14 = convertModel(ln14, { calibration: inputs });
      expect(kinds(c14)).to.deep.equal(kinds(c17));
      expect(c14.layers.map((l) => l.ops)).to.deep.equal(["Gemm", "Reshape", "ReduceMean+Sub", "Pow", "ReduceMean", "ReduceMean", "Add+Sqrt+Div", "Div (broadcast)", "Div", "Mul+Add+MatMul"]);
      const runner17 = await CanonicalRunner.create(c17.model);
      const runner14 = await CanonicalRunner.create(c14.model);
      try {
        for (const x of inputs.slice(0, 6)) {
          expect(Array.from(await runner14.runPlain(quantizeInput(c14, x)))).to.deep.equal(Array.from(await runner17.runPlain(quantizeInput(c17, x))));
        }
      } finally {
        await runner17.release();
        await runner14.release();
      }
      await check(ln14, c14, inputs, 0.05);
    });

    it("over the last two axes (axis 1 of [1, N, D]): the same layers over a [1, 1, N·D] view", async function () {
      const bytes = floatModel([1, N * D], [...emb.nodes, node("LayerNormalization", ["t", "g1", "b1"], "y", "/ln", { axis: 1 })], [...emb.inits, tensor("g1", [N, D], w(N * D)), tensor("b1", [N, D], w(N * D))], "y", 17);
      const inputs = calib(8, N * D);
      const c = convertModel(bytes, { calibration: inputs });
      await check(bytes, c, inputs, 0.05);
      expect(refusal(floatModel([1, N * D], [...emb.nodes, node("LayerNormalization", ["t", "g1"], "y", "/ln", { axis: 0 })], [...emb.inits, tensor("g1", [1, N, D], w(N * D))], "y", 17), N * D).message).to.match(/axis 0 of \[1,3,8\] \(the batch axis/);
    });
  });
});
