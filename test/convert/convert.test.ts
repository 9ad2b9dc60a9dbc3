/** Converter: small float models built here, folding, every layer kind, refusals by name. */
import { readFile } from "node:fs/promises";

import { expect } from "chai";

import { ConvertError, SHAPE_OPS, SUPPORTED_OPS as SUPPORTED, UnsupportedOpsError, convertModel, measureAccuracy } from "../../offchain/convert/index.js";
import type { ConversionResult } from "../../offchain/convert/index.js";
import { dequantizeOutput, quantizeInput, runCanonical, runFloat } from "../../offchain/convert/evaluate.js";
import { countSaturated } from "../../offchain/runtime/saturation.js";
import { runReference } from "../../offchain/runtime/reference.js";
import { CanonicalRunner } from "../../offchain/runtime/runner.js";
import { encodeModel } from "../../offchain/model/onnx.js";
import { floatModel, node, rand, tensor } from "./float-model.js";

const r = rand(7);
const calib = (n: number, size: number, lo = -1, hi = 1): Float32Array[] => Array.from({ length: n }, () => r(size, lo, hi));

/** Converted output must agree with the float model within the stated bound on every calibration input. */
async function checkWithinBound(floatBytes: Uint8Array, conv: ConversionResult, inputs: Float32Array[]): Promise<void> {
  const acc = await measureAccuracy(floatBytes, conv, inputs);
  expect(acc.withinBound, `max error ${acc.maxAbsError} vs bound ${conv.errorBound}`).to.equal(1);
  expect(acc.maxAbsError).to.be.lessThanOrEqual(conv.errorBound);
}

/** onnxruntime and the reference interpreter give the same bits. */
async function checkRunnerMatchesReference(conv: ConversionResult, input: Float32Array): Promise<void> {
  const x = quantizeInput(conv, input);
  const runner = await CanonicalRunner.create(conv.model);
  try {
    const ort = await runner.runLayers(x);
    const ref = runReference(conv.model, x);
    ort.forEach((o, i) => expect(Array.from(o)).to.deep.equal(Array.from(ref[i]!)));
  } finally {
    await runner.release();
  }
}

const kinds = (c: ConversionResult): string[] => c.layers.map((l) => l.kind);

describe("convert: float ONNX → canonical/1", function () {
  this.timeout(60_000);

  it("converts an MLP (MatMul+Add+Relu, Gemm) into two DENSE layers within the stated bound", async function () {
    const bytes = floatModel(
      [1, 20],
      [
        node("MatMul", ["x", "w1"], "h", "fc1"),
        node("Add", ["h", "b1"], "hb", "fc1_bias"),
        node("Relu", ["hb"], "a", "relu"),
        node("Gemm", ["a", "w2", "b2"], "y", "fc2", { transB: 1 }),
      ],
      [tensor("w1", [20, 16], r(320)), tensor("b1", [16], r(16)), tensor("w2", [5, 16], r(80)), tensor("b2", [5], r(5))],
      "y",
    );
    const inputs = calib(50, 20);
    const conv = convertModel(bytes, { calibration: inputs });
    expect(kinds(conv)).to.deep.equal(["DENSE", "DENSE"]);
    expect(conv.layers[0]!.ops).to.equal("MatMul+Add+Relu");
    expect(conv.layers[0]!.range[0]).to.equal(0); // Relu folded into the clip bounds
    await checkWithinBound(bytes, conv, inputs);
    await checkRunnerMatchesReference(conv, inputs[0]!);
    const acc = await measureAccuracy(bytes, conv, inputs);
    expect(acc.top1Agreement).to.be.greaterThan(0.9);
  });

  it("folds BatchNormalization and Relu into the Conv and keeps MaxPool/Flatten exact", async function () {
    const bytes = floatModel(
      [1, 3, 8, 8],
      [
        node("Conv", ["x", "w", "b"], "c", "conv", { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }),
        node("BatchNormalization", ["c", "g", "beta", "mean", "var"], "bn", "bn"),
        node("Relu", ["bn"], "a", "relu"),
        node("MaxPool", ["a"], "p", "pool", { kernel_shape: [2, 2], strides: [2, 2] }),
        node("Flatten", ["p"], "f", "flat"),
        node("Gemm", ["f", "w2"], "y", "fc", { transB: 1 }),
      ],
      [
        tensor("w", [4, 3, 3, 3], r(108)), tensor("b", [4], r(4)), tensor("g", [4], r(4, 0.5, 2)), tensor("beta", [4], r(4)),
        tensor("mean", [4], r(4)), tensor("var", [4], r(4, 0.5, 2)), tensor("w2", [3, 64], r(192)),
      ],
      "y",
    );
    const inputs = calib(20, 192);
    const conv = convertModel(bytes, { calibration: inputs });
    expect(kinds(conv)).to.deep.equal(["CONV", "MAXPOOL", "RESHAPE", "DENSE"]);
    expect(conv.layers[0]!.ops).to.equal("Conv+BatchNormalization+Relu");
    await checkWithinBound(bytes, conv, inputs);
    await checkRunnerMatchesReference(conv, inputs[1]!);
  });

  it("converts a strided depthwise + pointwise block with auto_pad SAME_UPPER", async function () {
    const bytes = floatModel(
      [1, 4, 9, 9],
      [
        node("Conv", ["x", "dw"], "d", "depthwise", { kernel_shape: [3, 3], strides: [2, 2], group: 4, auto_pad: "SAME_UPPER" }),
        node("Clip", ["d", "zero", "six"], "d6", "relu6"),
        node("Conv", ["d6", "pw", "pb"], "y", "pointwise", { kernel_shape: [1, 1] }),
      ],
      [tensor("dw", [4, 1, 3, 3], r(36)), tensor("zero", [], [0]), tensor("six", [], [6]), tensor("pw", [8, 4, 1, 1], r(32)), tensor("pb", [8], r(8))],
      "y",
    );
    const inputs = calib(10, 324, -3, 3);
    const conv = convertModel(bytes, { calibration: inputs });
    expect(kinds(conv)).to.deep.equal(["CONV", "CONV"]);
    const dw = conv.model.layers[0]!;
    expect(dw.outShape).to.deep.equal([1, 4, 5, 5]);
    expect(dw.params.slice(6, 13)).to.deep.equal([2, 2, 1, 1, 1, 1, 4]); // strides, resolved pads, group
    await checkWithinBound(bytes, conv, inputs);
    await checkRunnerMatchesReference(conv, inputs[0]!);
  });

  it("turns Sigmoid and Tanh into committed LUT layers", async function () {
    const bytes = floatModel(
      [1, 6],
      [
        node("Gemm", ["x", "w"], "h", "fc", { transB: 1 }),
        node("Tanh", ["h"], "t", "tanh"),
        node("Gemm", ["t", "w2"], "h2", "fc2", { transB: 1 }),
        node("Sigmoid", ["h2"], "y", "sigmoid"),
      ],
      [tensor("w", [6, 6], r(36)), tensor("w2", [4, 6], r(24))],
      "y",
    );
    const inputs = calib(30, 6);
    const conv = convertModel(bytes, { calibration: inputs });
    expect(kinds(conv)).to.deep.equal(["DENSE", "LUT", "DENSE", "LUT"]);
    const lut = conv.model.layers[1]!;
    expect(lut.constants[0]!.values.length).to.equal(lut.params[1]! - lut.params[0]! + 1);
    await checkWithinBound(bytes, conv, inputs);
    await checkRunnerMatchesReference(conv, inputs[2]!);
  });

  it("converts a residual Add of two branches and a per-channel Mul", async function () {
    const bytes = floatModel(
      [1, 2, 6, 6],
      [
        node("Conv", ["x", "w"], "c", "conv", { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }),
        node("Add", ["c", "x"], "s", "residual"),
        node("Relu", ["s"], "a", "relu"),
        node("MaxPool", ["a"], "p", "pool", { kernel_shape: [2, 2], strides: [2, 2] }),
        node("Mul", ["p", "k"], "y", "scale"),
      ],
      [tensor("w", [2, 2, 3, 3], r(36)), tensor("k", [1, 2, 1, 1], [0.5, -3])],
      "y",
    );
    const inputs = calib(10, 72);
    const conv = convertModel(bytes, { calibration: inputs });
    expect(kinds(conv)).to.deep.equal(["CONV", "ADD", "MAXPOOL", "MUL"]);
    expect(conv.model.layers[1]!.inputs).to.deep.equal([1, 0]); // conv branch + graph input
    await checkWithinBound(bytes, conv, inputs);
    await checkRunnerMatchesReference(conv, inputs[3]!);
  });

  it("chooses weight bits so the exactness bound holds on wide layers", function () {
    const K = 4096;
    const bytes = floatModel([1, K], [node("Gemm", ["x", "w"], "y", "wide", { transB: 1 })], [tensor("w", [2, K], r(2 * K))], "y");
    const conv = convertModel(bytes, { calibration: calib(4, K) });
    // 4096 inputs of up to 127 leave about 2^24 / (4096·127) ≈ 32 per weight on average.
    expect(conv.layers[0]!.weightBits).to.be.lessThan(9);
    const l = conv.model.layers[0]!;
    for (let m = 0; m < 2; m++) {
      let sum = Math.abs(l.constants[1]!.values[m]!);
      for (let k = 0; k < K; k++) sum += Math.abs(l.constants[0]!.values[m * K + k]!) * 127;
      expect(sum).to.be.lessThan(2 ** 24);
    }
  });

  describe("headroom", function () {
    // One Gemm without bias: an input k times a calibration sample gives exactly k times its output.
    const mlp = floatModel(
      [1, 12],
      [node("Gemm", ["x", "w1", "b1"], "h", "fc1", { transB: 1 }), node("Relu", ["h"], "a", "relu"), node("Gemm", ["a", "w2"], "y", "fc2", { transB: 1 })],
      [tensor("w1", [8, 12], r(96)), tensor("b1", [8], r(8)), tensor("w2", [4, 8], r(32))],
      "y",
    );
    const linear = floatModel([1, 12], [node("Gemm", ["x", "w"], "y", "fc", { transB: 1 })], [tensor("w", [4, 12], r(48))], "y");
    const samples = calib(40, 12, -0.5, 0.5);
    const input = { scale: 1 / 127, lo: -127, hi: 127 };
    const magnitude = async (bytes: Uint8Array): Promise<number> => Math.max(...(await runFloat(bytes, samples)).flatMap((y) => Array.from(y, Math.abs)));

    it("gives the output's range twice the calibrated magnitude by default, and what outputHeadroom says", async function () {
      const top = 2 ** 15 - 1;
      const m = await magnitude(mlp);
      for (const [options, factor] of [[{}, 2], [{ outputHeadroom: 1 }, 1], [{ outputHeadroom: 4 }, 4]] as const) {
        const conv = convertModel(mlp, { calibration: samples, ...options });
        const last = conv.layers.at(-1)!;
        expect(last.range).to.deep.equal([-top, top]);
        // The calibrated maximum sits at 1/factor of the range (float32 against float64: a hair off).
        expect(Math.abs((m / conv.outputScale) * factor - top), `factor ${factor}`).to.be.lessThan(top * 1e-4);
        // Hidden activations keep theirs: the calibrated range fills the bits fc2 reads, 10 for its 8 terms
        // (its exactness budget split evenly: inputs and weights up to √(2^24 / 8) ≈ 1448).
        expect(conv.layers[0]!.range).to.deep.equal([0, 1023]);
      }
    });

    it("gives hidden activations the headroom activationHeadroom says (none by default)", function () {
      const plain = convertModel(mlp, { calibration: samples });
      const wide = convertModel(mlp, { calibration: samples, activationHeadroom: 2 });
      // Plain comparisons: the ethers chai matchers (loaded in the full suite) redefine closeTo for bigints.
      expect(Math.abs(wide.layers[0]!.scale / plain.layers[0]!.scale - 2)).to.be.lessThan(1e-9);
      expect(wide.outputScale).to.equal(plain.outputScale);
    });

    it("keeps an output that exceeds the calibrated maximum: inputs 1.9 times the calibration's saturate nothing, without headroom they do", async function () {
      const fresh = samples.map((x) => x.map((v) => 1.9 * v));
      const expected = await runFloat(linear, fresh);
      const measure = async (outputHeadroom: number): Promise<{ saturated: number; maxError: number }> => {
        const conv = convertModel(linear, { calibration: samples, input, outputHeadroom });
        const outs = await runCanonical(conv.model, fresh);
        let saturated = 0;
        let maxError = 0;
        outs.forEach((q, s) => {
          saturated += countSaturated(conv.model, q).saturated;
          dequantizeOutput(conv.model, q).forEach((v, i) => (maxError = Math.max(maxError, Math.abs(v - expected[s]![i]!))));
        });
        return { saturated, maxError };
      };
      const kept = await measure(2);
      const cut = await measure(1);
      expect(kept.saturated).to.equal(0);
      expect(cut.saturated).to.be.greaterThan(0);
      expect(cut.maxError).to.be.greaterThan(10 * kept.maxError);
    });
  });

  describe("refusals name the node and op", function () {
    const expectRefusal = (bytes: Uint8Array, nodeName: string, op: string, code: string): void => {
      let err: unknown;
      try {
        convertModel(bytes, { calibration: calib(2, 16) });
      } catch (e) {
        err = e;
      }
      expect(err).to.be.instanceOf(ConvertError);
      const ce = err as ConvertError;
      expect([ce.node, ce.op, ce.code]).to.deep.equal([nodeName, op, code]);
      expect(ce.message).to.include(`"${nodeName}"`).and.include(op);
    };

    it("refuses an unsupported op", function () {
      const bytes = floatModel(
        [1, 16],
        [node("Gemm", ["x", "w"], "h", "fc", { transB: 1 }), node("Hardmax", ["h"], "y", "one_hot")],
        [tensor("w", [4, 16], r(64))],
        "y",
      );
      expectRefusal(bytes, "one_hot", "Hardmax", "UNSUPPORTED_OP");
    });

    it("lists every unsupported op at once, before any shape problem, and names each node", function () {
      // The audio and LSTM models of the issue: ops with no lowering, behind a dynamic input shape.
      const bytes = encodeModel({
        irVersion: 8,
        opsetImport: [{ domain: "", version: 17 }],
        graph: {
          name: "unseen",
          node: [
            { ...node("LSTM", ["x", "w", "r"], "h", "the_lstm"), output: ["h"] },
            node("Hardmax", ["h"], "m1", "/attn1/Hardmax"),
            node("Relu", ["m1"], "a", "relu"),
            node("Hardmax", ["a"], "m2", "/attn2/Hardmax"),
            { ...node("FusedGemm", ["m2", "w2"], "y", "fused"), domain: "com.microsoft" },
          ],
          initializer: [tensor("w", [1, 16, 4], r(64)), tensor("r", [1, 16, 4], r(64)), tensor("w2", [4, 2], r(8))],
          input: [{ name: "x", type: { tensorType: { elemType: 1, shape: { dim: [{ dimParam: "batch" }, { dimValue: 3 }, { dimParam: "t" }] } } } }],
          output: [{ name: "y", type: { tensorType: { elemType: 1 } } }],
        },
      });
      let err: unknown;
      try {
        convertModel(bytes, { calibration: calib(2, 16) });
      } catch (e) {
        err = e;
      }
      expect(err).to.be.instanceOf(UnsupportedOpsError);
      const e = err as UnsupportedOpsError;
      expect(e.code).to.equal("UNSUPPORTED_OP");
      expect(e.nodes).to.deep.equal([
        { node: "the_lstm", op: "LSTM" },
        { node: "/attn1/Hardmax", op: "Hardmax" },
        { node: "/attn2/Hardmax", op: "Hardmax" },
        { node: "fused", op: "com.microsoft.FusedGemm" },
      ]);
      expect(e.message).to.equal(
        'cannot convert this model: it uses 3 ops with no canonical lowering: LSTM (node "the_lstm"); ' +
          'Hardmax (2 nodes: "/attn1/Hardmax", "/attn2/Hardmax"); com.microsoft.FusedGemm (node "fused"). ' +
          `Supported ops: ${SUPPORTED.join(", ")}; on constants and shapes only: ${SHAPE_OPS.join(", ")}`,
      );
      // Not a word about the dynamic shape: that comes once the ops are convertible.
      expect(e.message.split("Supported ops")[0]).to.not.match(/shape|batch|\[/);
    });

    it("counts the nodes of an op beyond the first three", function () {
      const nodes = Array.from({ length: 5 }, (_, i) => node("Softmax", [i === 0 ? "x" : `s${i - 1}`], `s${i}`, `sm${i}`));
      const e = new UnsupportedOpsError(nodes.map((n) => ({ node: n.name!, op: "Softmax" })), ["Relu"]);
      expect(e.message).to.include('Softmax (5 nodes: "sm0", "sm1", "sm2" and 2 more)');
      expect([e.node, e.op]).to.deep.equal(["sm0", "Softmax"]);
    });

    it("says a canonical file needs no conversion", async function () {
      const canonical = await readFile(new URL("../../models/mnist-cnn.canonical.onnx", import.meta.url));
      let err: unknown;
      try {
        convertModel(canonical, { calibration: calib(2, 784) });
      } catch (e) {
        err = e;
      }
      expect(err).to.be.instanceOf(ConvertError);
      expect((err as ConvertError).code).to.equal("ALREADY_CANONICAL");
      expect((err as ConvertError).message).to.match(/^cannot convert this model: it is a canonical model already \(metadata veritensor\.format is "canonical\/1"\): it needs no conversion/);
    });

    it("refuses dilated convolutions", function () {
      const bytes = floatModel(
        [1, 1, 4, 4],
        [node("Conv", ["x", "w"], "y", "dilated", { kernel_shape: [2, 2], dilations: [2, 2] })],
        [tensor("w", [1, 1, 2, 2], r(4))],
        "y",
      );
      expectRefusal(bytes, "dilated", "Conv", "UNSUPPORTED_ATTR");
    });

    it("refuses a MatMul of two computed tensors of rank 2 (a MATMUL multiplies [1, G..., N, K] by [1, G..., K, M])", function () {
      const bytes = floatModel(
        [1, 16],
        [node("Relu", ["x"], "a", "relu"), node("MatMul", ["x", "a"], "y", "outer")],
        [],
        "y",
      );
      expectRefusal(bytes, "outer", "MatMul", "SHAPE");
    });
  });
});
