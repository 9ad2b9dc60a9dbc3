/**
 * The MNIST Vision Transformer (models/mnist-vit*.float.onnx from scripts/train-vit.py): both exports
 * (opset 17 with LayerNormalization, opset 14 with it decomposed) convert, to the same integers, with
 * held-out accuracy >= 97% and within one point of float; the committed canonical model
 * (scripts/convert-vit.ts) gives the figures recorded in models/mnist-vit-accuracy.json.
 */
import { expect } from "chai";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

import { convertModel } from "../../offchain/convert/index.js";
import type { ConversionResult } from "../../offchain/convert/index.js";
import { argmax, runCanonical, runFloat } from "../../offchain/convert/evaluate.js";
import { every, loadDigits, toFloat } from "../../offchain/datasets/mnist.js";
import { parseCanonicalModel } from "../../offchain/model/canonical.js";

const models = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "models");
const TARGET = 0.97;

interface Recorded {
  floatAccuracy: number;
  canonicalAccuracy: number;
  top1Agreement: number;
  layerCount: number;
}

describe("convert: the MNIST Vision Transformer", function () {
  this.timeout(180_000);
  const train = loadDigits("train");
  const held = loadDigits("heldout");
  // A lighter calibration than scripts/convert-vit.ts's (every 8th digit), and a subset of the held-out
  // digits, to keep the test short: every 40th training digit (200) and every 4th held-out one (499).
  const calibration = every(train.pixels, 40).map(toFloat);
  const subset = every(held.pixels.map((p, i) => ({ x: toFloat(p), label: held.labels[i]! })), 4);
  const input = { scale: 1 / 255, lo: 0, hi: 255 };
  const accuracy = (outs: readonly ArrayLike<number>[], labels: readonly number[]): number => outs.filter((o, i) => argmax(o) === labels[i]).length / outs.length;
  const convert = (file: string): { bytes: Uint8Array; conv: ConversionResult } => {
    const bytes = readFileSync(join(models, file));
    return { bytes, conv: convertModel(bytes, { calibration, input }) };
  };
  let c17: ConversionResult | undefined;

  it("opset 17 (LayerNormalization): held-out accuracy >= 97% and within 1 point of float", async function () {
    const { bytes, conv } = convert("mnist-vit.float.onnx");
    c17 = conv;
    const kinds = new Set(conv.layers.map((l) => l.kind));
    for (const k of ["DENSE", "MATMUL", "PRODUCT", "GATHER", "CONST", "LUT"]) expect(kinds.has(k), k).to.equal(true);
    const xs = subset.map((s) => s.x);
    const labels = subset.map((s) => s.label);
    const fl = accuracy(await runFloat(bytes, xs), labels);
    const cq = accuracy(await runCanonical(conv.model, xs), labels);
    console.log(`      opset 17: float ${(fl * 100).toFixed(2)}%, canonical ${(cq * 100).toFixed(2)}% on ${xs.length} held-out digits (${conv.layers.length} layers)`);
    expect(cq).to.be.at.least(TARGET);
    expect(Math.abs(fl - cq)).to.be.at.most(0.01);
  });

  it("opset 14 (LayerNorm decomposed) converts to the same layers and the same integers", async function () {
    const { conv } = convert("mnist-vit-opset14.float.onnx");
    const ref = c17 ?? convert("mnist-vit.float.onnx").conv;
    expect(conv.layers.map((l) => l.kind)).to.deep.equal(ref.layers.map((l) => l.kind));
    const xs = subset.slice(0, 100).map((s) => s.x);
    const [a, b] = [await runCanonical(conv.model, xs), await runCanonical(ref.model, xs)];
    a.forEach((o, i) => expect(Array.from(o), `digit ${i}`).to.deep.equal(Array.from(b[i]!)));
  });

  it("the committed canonical model gives the recorded held-out figures", async function () {
    const recorded = JSON.parse(readFileSync(join(models, "mnist-vit-accuracy.json"), "utf8")) as { models: Record<string, Recorded> };
    const r = recorded.models.vit!;
    const model = parseCanonicalModel(readFileSync(join(models, "mnist-vit.canonical.onnx")));
    expect(model.inputRange).to.deep.equal([0, 255]);
    expect(model.layers.length).to.equal(r.layerCount);
    const xs = held.pixels.map(toFloat);
    const fl = await runFloat(readFileSync(join(models, "mnist-vit.float.onnx")), xs);
    const cq = await runCanonical(model, xs);
    const agree = fl.filter((f, i) => argmax(f) === argmax(cq[i]!)).length / fl.length;
    console.log(`      committed: float ${(accuracy(fl, held.labels) * 100).toFixed(2)}%, canonical ${(accuracy(cq, held.labels) * 100).toFixed(2)}%, agreement ${(agree * 100).toFixed(2)}% on ${xs.length} held-out digits`);
    expect(accuracy(cq, held.labels)).to.be.at.least(TARGET);
    expect(Math.abs(accuracy(fl, held.labels) - accuracy(cq, held.labels))).to.be.at.most(0.01);
    // Plain comparisons: the ethers chai matchers (loaded in the full suite) redefine closeTo for bigints.
    expect(Math.abs(r.canonicalAccuracy - accuracy(cq, held.labels)) <= 1e-9, "recorded canonical accuracy").to.equal(true);
    expect(Math.abs(r.floatAccuracy - accuracy(fl, held.labels)) <= 1e-9, "recorded float accuracy").to.equal(true);
    expect(Math.abs(r.top1Agreement - agree) <= 1e-9, "recorded agreement").to.equal(true);
  });
});
