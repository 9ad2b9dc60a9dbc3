/**
 * Writes a seeded synthetic canonical model shaped like MobileNet v1 (benchmarks only; not
 * committed). Defaults: width 0.75, 224×224, 1000 classes → ~325M MACs, ~2.6M params.
 *
 *   npx tsx scripts/gen-mobilenet.ts OUT.onnx [--seed 1] [--width 0.75] [--resolution 224] [--classes 1000] [--check]
 *
 * --check runs one random image through onnxruntime and prints each layer's share of
 * zeros and of saturated (255) outputs.
 */
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";

import { mobileNetShaped } from "../offchain/datasets/mobilenet.js";
import { parseCanonicalModel } from "../offchain/model/canonical.js";
import { CanonicalRunner } from "../offchain/runtime/runner.js";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    seed: { type: "string", default: "1" },
    width: { type: "string", default: "0.75" },
    resolution: { type: "string", default: "224" },
    classes: { type: "string", default: "1000" },
    check: { type: "boolean", default: false },
  },
});
const out = positionals[0];
if (!out) {
  console.error("usage: npx tsx scripts/gen-mobilenet.ts OUT.onnx [--seed N] [--width A] [--resolution R] [--classes N] [--check]");
  process.exit(2);
}
const m = mobileNetShaped({ seed: Number(values.seed), width: Number(values.width), resolution: Number(values.resolution), classes: Number(values.classes) });
// Validate before writing: the exactness bound must hold for every layer.
const model = parseCanonicalModel(m.bytes);
writeFileSync(out, m.bytes);
console.log(`${out}: ${m.layers} layers, ${(m.macs / 1e6).toFixed(1)}M MACs, ${(m.params / 1e6).toFixed(2)}M params, ${(m.bytes.length / 1e6).toFixed(1)} MB`);

if (values.check) {
  let s = Number(values.seed) + 1;
  const input = Int32Array.from({ length: model.inputShape.reduce((a, b) => a * b, 1) }, () => ((s = (s * 1103515245 + 12345) % 2 ** 31) >> 8) % 256);
  const runner = await CanonicalRunner.create(model);
  const t0 = performance.now();
  const outs = await runner.runLayers(input);
  console.log(`one inference with every layer output: ${(performance.now() - t0).toFixed(0)} ms`);
  outs.forEach((o, i) => {
    const l = model.layers[i]!;
    const zeros = o.filter((v) => v === 0).length / o.length;
    const sat = o.filter((v) => v === 255).length / o.length;
    console.log(`  ${String(i + 1).padStart(2)} ${l.name.padEnd(16)} zeros ${(zeros * 100).toFixed(0).padStart(3)}%  saturated ${(sat * 100).toFixed(1).padStart(5)}%`);
  });
  await runner.release();
}
