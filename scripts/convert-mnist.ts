/**
 * Converts the float MNIST models (models/mnist-*.float.onnx, from scripts/train-mnist.py)
 * to canonical/1 and measures both on the held-out digits.
 *
 *   npx hardhat run scripts/convert-mnist.ts
 *
 * writes models/mnist-{mlp,cnn}.canonical.onnx and models/mnist-accuracy.json.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

import { convertModel } from "../offchain/convert/index.js";
import { argmax, runCanonical, runFloat } from "../offchain/convert/evaluate.js";
import { every, loadDigits, toFloat } from "../offchain/datasets/mnist.js";

const models = join(dirname(fileURLToPath(import.meta.url)), "..", "models");
const train = loadDigits("train");
const held = loadDigits("heldout");
// 1 in 8 training digits (about 1,000): enough to find every activation's range.
const calibration = every(train.pixels, 8).map(toFloat);
const heldFloat = held.pixels.map(toFloat);

const accuracy = (outs: readonly ArrayLike<number>[]): number =>
  outs.filter((o, i) => argmax(o) === held.labels[i]).length / outs.length;

const summary: Record<string, unknown> = {
  split: "per digit file of the mnist npm package, sample i held out iff i % 5 == 4",
  heldOutCount: held.labels.length,
  calibration: `every 8th training digit (${calibration.length} images)`,
  models: {} as Record<string, unknown>,
};
for (const name of (process.env.ONLY ? [process.env.ONLY] : ["mlp", "cnn"])) {
  const floatBytes = readFileSync(join(models, `mnist-${name}.float.onnx`));
  const r = convertModel(floatBytes, {
    calibration,
    // Pixels are already integers: one input unit is one grey level.
    input: { scale: 1 / 255, lo: 0, hi: 255 },
    graphName: `mnist_${name}_canonical`,
  });
  writeFileSync(join(models, `mnist-${name}.canonical.onnx`), r.bytes);
  const fl = await runFloat(floatBytes, heldFloat);
  const cq = await runCanonical(r.model, heldFloat);
  const agree = fl.filter((f, i) => argmax(f) === argmax(cq[i]!)).length / fl.length;
  const entry = {
    float: `mnist-${name}.float.onnx`,
    canonical: `mnist-${name}.canonical.onnx`,
    floatAccuracy: accuracy(fl),
    canonicalAccuracy: accuracy(cq),
    top1Agreement: agree,
    outputScale: r.outputScale,
    layers: r.layers.map((l) => ({ kind: l.kind, ops: l.ops, weightBits: l.weightBits, shifts: l.shifts, range: l.range })),
  };
  (summary.models as Record<string, unknown>)[name] = entry;
  console.log(`${name}: float ${(entry.floatAccuracy * 100).toFixed(2)}%  canonical ${(entry.canonicalAccuracy * 100).toFixed(2)}%  agreement ${(agree * 100).toFixed(2)}%  (${r.bytes.length} bytes)`);
}
writeFileSync(join(models, "mnist-accuracy.json"), JSON.stringify(summary, null, 2) + "\n");
