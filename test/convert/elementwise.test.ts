/**
 * Converter: elementwise functions of one tensor become one LUT layer, each activation alone and
 * the subgraphs exporters emit (GELU's Erf and tanh forms, HardSwish as x·Clip(x+3,0,6)/6).
 */
import { expect } from "chai";

import { ConvertError, convertModel, measureAccuracy, quantizeInput } from "../../offchain/convert/index.js";
import type { ConversionResult } from "../../offchain/convert/index.js";
import { erf, lipschitzOn } from "../../offchain/convert/elementwise.js";
import { LutConst } from "../../offchain/model/layers.js";
import type { INodeProto, ITensorProto } from "../../offchain/model/onnx.js";
import { runReference } from "../../offchain/runtime/reference.js";
import { CanonicalRunner } from "../../offchain/runtime/runner.js";
import type { Attr } from "./float-model.js";
import { floatModel, node, rand, tensor } from "./float-model.js";

const r = rand(11);
const calib = (n: number, size: number): Float32Array[] => Array.from({ length: n }, () => r(size, -1, 1));
const kinds = (c: ConversionResult): string[] => c.layers.map((l) => l.kind);

/** [1, 16] → Gemm (to 12, so the function sees about [-4, 4]) → `body` → Gemm → [1, 5], the same weights every time. */
function sandwich(body: INodeProto[], extra: ITensorProto[] = [], opset = 13): Uint8Array {
  const w = rand(5);
  return floatModel(
    [1, 16],
    [node("Gemm", ["x", "w1", "b1"], "h", "fc1", { transB: 1 }), ...body, node("Gemm", ["a", "w2"], "y", "fc2", { transB: 1 })],
    [tensor("w1", [12, 16], w(192, -1.5, 1.5)), tensor("b1", [12], w(12)), tensor("w2", [5, 12], w(60)), ...extra],
    "y",
    opset,
  );
}

const scalar = (name: string, v: number): ITensorProto => tensor(name, [], [v]);

/** Within the stated bound on the calibration inputs, and onnxruntime = reference, bit for bit. */
async function check(bytes: Uint8Array, conv: ConversionResult, inputs: Float32Array[]): Promise<void> {
  const acc = await measureAccuracy(bytes, conv, inputs);
  expect(acc.maxAbsError, `max error ${acc.maxAbsError} vs bound ${conv.errorBound}`).to.be.at.most(conv.errorBound);
  const runner = await CanonicalRunner.create(conv.model);
  try {
    for (const input of inputs.slice(0, 4)) {
      const x = quantizeInput(conv, input);
      const ort = await runner.runLayers(x);
      const ref = runReference(conv.model, x);
      ort.forEach((o, i) => expect(Array.from(o)).to.deep.equal(Array.from(ref[i]!)));
    }
  } finally {
    await runner.release();
  }
}

/** The LUT layer's table. */
function table(conv: ConversionResult): number[] {
  const l = conv.model.layers.find((x) => x.kind === 9)!;
  return Array.from(l.constants[LutConst.T]!.values);
}

const geluErfNodes = (): INodeProto[] => [
  node("Div", ["h", "sqrt2"], "d", "/mlp/act/Div"),
  node("Erf", ["d"], "e", "/mlp/act/Erf"),
  node("Add", ["e", "one"], "e1", "/mlp/act/Add"),
  node("Mul", ["h", "e1"], "m", "/mlp/act/Mul"),
  node("Mul", ["m", "half"], "a", "/mlp/act/Mul_1"),
];
const geluErfConsts = (): ITensorProto[] => [scalar("sqrt2", Math.SQRT2), scalar("one", 1), scalar("half", 0.5)];

describe("convert: elementwise functions → one LUT", function () {
  this.timeout(60_000);

  it("erf is exact to double precision, and the slope estimate bounds the true one", function () {
    expect(erf(0)).to.equal(0);
    // (Plain comparisons: another suite's chai plugin makes closeTo take integers only.)
    for (const [x, y] of [[0.5, 0.5204998778130465], [-1.5, -0.9661051464753108], [3, 0.9999779095030014]] as const) {
      expect(Math.abs(erf(x) - y), `erf(${x})`).to.be.below(1e-15);
    }
    expect(erf(10)).to.equal(1);
    // sigmoid's steepest slope is 1/4 (at 0); LeakyRelu's is 1.
    expect(lipschitzOn((v) => 1 / (1 + Math.exp(-v)), -4, 4, 4096)).to.be.within(0.25, 0.2526);
    expect(lipschitzOn((v) => (v >= 0 ? v : 0.1 * v), -4, 4, 4096)).to.be.within(1, 1.0101);
  });

  // HardSwish came with opset 14.
  const single: [string, Record<string, Attr>][] = [
    ["LeakyRelu", { alpha: 0.1 }],
    ["HardSigmoid", { alpha: 0.25, beta: 0.4 }],
    ["HardSwish", {}],
    ["Elu", { alpha: 0.7 }],
    ["Selu", {}],
    ["Softplus", {}],
    ["Softsign", {}],
    ["Erf", {}],
    ["Exp", {}],
    ["Abs", {}],
    ["Neg", {}],
    ["Tanh", {}],
  ];
  for (const [op, attrs] of single) {
    it(`${op}: one LUT between the DENSEs, within the stated bound, onnxruntime = reference`, async function () {
      const bytes = sandwich([node(op, ["h"], "a", "act", attrs)], [], op === "HardSwish" ? 14 : 13);
      const inputs = calib(24, 16);
      const conv = convertModel(bytes, { calibration: inputs });
      expect(kinds(conv)).to.deep.equal(["DENSE", "LUT", "DENSE"]);
      expect(conv.layers[1]!.ops).to.equal(op);
      await check(bytes, conv, inputs);
    });
  }

  it("Gelu (opset 20, both approximations) is one LUT, the same table as PyTorch's exported Erf form", async function () {
    const inputs = calib(24, 16);
    const op = convertModel(sandwich([node("Gelu", ["h"], "a", "gelu")], [], 20), { calibration: inputs });
    const pattern = convertModel(sandwich(geluErfNodes(), geluErfConsts()), { calibration: inputs });
    expect(kinds(pattern)).to.deep.equal(["DENSE", "LUT", "DENSE"]);
    expect(pattern.layers[1]!.ops).to.equal("Div+Erf+Add+Mul+Mul");
    expect(table(pattern)).to.deep.equal(table(op));
    const tanh = convertModel(sandwich([node("Gelu", ["h"], "a", "gelu", { approximate: "tanh" })], [], 20), { calibration: inputs });
    // The two forms differ by less than 1e-3, below a unit of this table.
    expect(table(tanh).every((v, i) => Math.abs(v - table(op)[i]!) <= 1)).to.equal(true);
    await check(sandwich(geluErfNodes(), geluErfConsts()), pattern, inputs);
  });

  it("GELU's tanh form with Pow(x, 3), as exporters write it, is one LUT within the bound", async function () {
    const bytes = sandwich(
      [
        node("Pow", ["h", "three"], "p", "pow"),
        node("Mul", ["p", "c"], "pc", "mul_c"),
        node("Add", ["h", "pc"], "s", "add_x"),
        node("Mul", ["s", "k"], "sk", "mul_k"),
        node("Tanh", ["sk"], "t", "tanh"),
        node("Add", ["t", "one"], "t1", "add_1"),
        node("Mul", ["h", "t1"], "m", "mul_x"),
        node("Mul", ["m", "half"], "a", "mul_half"),
      ],
      [scalar("three", 3), scalar("c", 0.044715), scalar("k", Math.sqrt(2 / Math.PI)), scalar("one", 1), scalar("half", 0.5)],
    );
    const inputs = calib(24, 16);
    const conv = convertModel(bytes, { calibration: inputs });
    expect(kinds(conv)).to.deep.equal(["DENSE", "LUT", "DENSE"]);
    expect(conv.layers[1]!.ops).to.equal("Pow+Mul+Add+Mul+Tanh+Add+Mul+Mul");
    await check(bytes, conv, inputs);
  });

  it("HardSwish as x·Clip(x+3, 0, 6)/6 is one LUT with the HardSwish op's table", async function () {
    const inputs = calib(24, 16);
    const pattern = sandwich(
      [
        node("Add", ["h", "three"], "s", "add3"),
        node("Clip", ["s", "zero", "six"], "c", "clip"),
        node("Mul", ["h", "c"], "m", "mul"),
        node("Div", ["m", "six"], "a", "div6"),
      ],
      [scalar("three", 3), scalar("zero", 0), scalar("six", 6)],
    );
    const conv = convertModel(pattern, { calibration: inputs });
    expect(kinds(conv)).to.deep.equal(["DENSE", "LUT", "DENSE"]);
    expect(table(conv)).to.deep.equal(table(convertModel(sandwich([node("HardSwish", ["h"], "a", "hs")], [], 14), { calibration: inputs })));
    await check(pattern, conv, inputs);
  });

  it("keeps Relu and constant Add/Mul chains on their own lowerings (no LUT where none is needed)", function () {
    const conv = convertModel(
      sandwich([node("Mul", ["h", "half"], "m", "mul"), node("Add", ["m", "one"], "s", "add"), node("Relu", ["s"], "a", "relu")], [scalar("half", 0.5), scalar("one", 1)]),
      { calibration: calib(8, 16) },
    );
    expect(kinds(conv)).to.not.include("LUT");
  });

  it("does not fuse when an intermediate tensor is read elsewhere: x·Erf(x) with Erf(x) also used alone is a PRODUCT of two layers", async function () {
    const bytes = floatModel(
      [1, 16],
      [
        node("Gemm", ["x", "w1"], "h", "fc1", { transB: 1 }),
        node("Erf", ["h"], "e", "erf"),
        node("Mul", ["h", "e"], "m", "mul_x"),
        node("Add", ["m", "e"], "y", "reuse"),
      ],
      [tensor("w1", [12, 16], r(192))],
      "y",
    );
    // x·Erf(x) + Erf(x) reads only h: that whole subgraph is one function, fused.
    expect(kinds(convertModel(bytes, { calibration: calib(8, 16) }))).to.deep.equal(["DENSE", "LUT"]);
    const split = floatModel(
      [1, 16],
      [
        node("Gemm", ["x", "w1"], "h", "fc1", { transB: 1 }),
        node("Erf", ["h"], "e", "erf"),
        node("Mul", ["h", "e"], "m", "mul_x"),
        node("Gemm", ["e", "w2"], "g", "fc2", { transB: 1 }),
        node("Add", ["m", "g"], "y", "sum"),
      ],
      [tensor("w1", [12, 16], r(192)), tensor("w2", [12, 12], r(144))],
      "y",
    );
    // Erf(h) is read by fc2 too: Erf stays a LUT of its own, and Mul(h, Erf(h)) is a product of two tensors.
    const inputs = calib(8, 16);
    const conv = convertModel(split, { calibration: inputs });
    expect(kinds(conv)).to.deep.equal(["DENSE", "LUT", "PRODUCT", "DENSE", "ADD"]);
    await check(split, conv, inputs);
  });

  it("fills the entries where the function is undefined outside the calibrated range with their nearest defined neighbour", function () {
    // Sqrt on the input, whose fixed range reaches below 0 (-1.0) though calibration stays in [0.5, 1].
    const bytes = floatModel([1, 4], [node("Sqrt", ["x"], "y", "root")], [], "y");
    const conv = convertModel(bytes, { calibration: Array.from({ length: 8 }, () => r(4, 0.5, 1)), input: { scale: 0.1, lo: -10, hi: 20 } });
    const t = table(conv);
    expect(t).to.have.length(31);
    // Entries 0..9 are Sqrt of -1.0..-0.1 (undefined): each takes entry 10, Sqrt(0) = 0.
    expect(t.slice(0, 11)).to.deep.equal(new Array(11).fill(t[10]));
    expect(t[10]).to.equal(0);
    expect(t[30]).to.be.greaterThan(t[20]!);
  });

  it("refuses a function undefined inside the calibrated range, and an unknown approximation, by name", function () {
    const refusal = (bytes: Uint8Array): ConvertError => {
      try {
        convertModel(bytes, { calibration: calib(8, 16) });
      } catch (e) {
        return e as ConvertError;
      }
      throw new Error("converted");
    };
    // The calibration itself takes Sqrt below 0: named at the node, not at the output it spoils.
    const sqrt = refusal(sandwich([node("Sqrt", ["h"], "a", "root")]));
    expect([sqrt.node, sqrt.code]).to.deep.equal(["root", "CALIBRATION"]);
    expect(sqrt.message).to.match(/^cannot convert node "root" \(Sqrt\): calibration sample \d+ makes element \d+ of its output NaN/);
    const gelu = refusal(sandwich([node("Gelu", ["h"], "a", "gelu", { approximate: "fast" })], [], 20));
    expect(gelu.message).to.equal('cannot convert node "gelu" (Gelu): approximate "fast" (ONNX defines "none" and "tanh")');
    const leaky = refusal(sandwich([node("LeakyRelu", ["h"], "a", "leaky", { beta: 1 })]));
    expect(leaky.message).to.equal('cannot convert node "leaky" (LeakyRelu): attribute "beta" is not supported');
    const pow = refusal(sandwich([node("Pow", ["h", "h"], "a", "square")]));
    expect([pow.node, pow.code]).to.deep.equal(["square", "NOT_CONSTANT"]);
  });
});
