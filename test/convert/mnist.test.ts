/**
 * The committed MNIST models (models/, produced by scripts/train-mnist.py and
 * scripts/convert-mnist.ts) on the held-out digits, which training never saw: canonical
 * accuracy targets, canonical within one point of float, and the figures in
 * models/mnist-accuracy.json are the ones measured here.
 */
import { expect } from "chai";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

import { argmax, runCanonical, runFloat } from "../../offchain/convert/evaluate.js";
import { loadDigits, toFloat } from "../../offchain/datasets/mnist.js";
import { parseCanonicalModel } from "../../offchain/model/canonical.js";

const models = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "models");
const TARGETS = { mlp: 0.94, cnn: 0.97 } as const;

interface Recorded {
  floatAccuracy: number;
  canonicalAccuracy: number;
}

describe("convert: committed MNIST models on held-out digits", function () {
  this.timeout(120_000);
  const held = loadDigits("heldout");
  const inputs = held.pixels.map(toFloat);
  const recorded = JSON.parse(readFileSync(join(models, "mnist-accuracy.json"), "utf8")) as { models: Record<string, Recorded> };
  const accuracy = (outs: readonly ArrayLike<number>[]): number => outs.filter((o, i) => argmax(o) === held.labels[i]).length / outs.length;

  it("uses a held-out split disjoint from training", function () {
    const train = loadDigits("train");
    expect(held.labels.length).to.be.within(1900, 2100);
    expect(train.labels.length + held.labels.length).to.be.greaterThan(9900);
    const key = (p: Uint8Array) => Buffer.from(p).toString("base64");
    const trainSet = new Set(train.pixels.map(key));
    expect(held.pixels.filter((p) => trainSet.has(key(p))).length).to.be.lessThan(5); // MNIST has a few duplicate images
  });

  for (const name of ["mlp", "cnn"] as const) {
    it(`${name}: canonical >= ${TARGETS[name] * 100}% and within 1 point of float`, async function () {
      const floatBytes = readFileSync(join(models, `mnist-${name}.float.onnx`));
      const model = parseCanonicalModel(readFileSync(join(models, `mnist-${name}.canonical.onnx`)));
      expect(model.inputRange).to.deep.equal([0, 255]);
      const fl = accuracy(await runFloat(floatBytes, inputs));
      const cq = accuracy(await runCanonical(model, inputs));
      console.log(`      ${name}: float ${(fl * 100).toFixed(2)}%, canonical ${(cq * 100).toFixed(2)}% on ${inputs.length} held-out digits`);
      expect(cq).to.be.at.least(TARGETS[name]);
      expect(Math.abs(fl - cq)).to.be.at.most(0.01);
      // Plain comparisons: the ethers chai matchers (loaded in the full suite) redefine closeTo for bigints.
      expect(Math.abs(recorded.models[name]!.canonicalAccuracy - cq) <= 1e-9, "recorded canonical accuracy").to.equal(true);
      expect(Math.abs(recorded.models[name]!.floatAccuracy - fl) <= 1e-9, "recorded float accuracy").to.equal(true);
    });
  }
});
