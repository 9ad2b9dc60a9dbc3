/**
 * Measures the float MNIST ViT (models/mnist-vit*.float.onnx, from scripts/train-vit.py)
 * under onnxruntime-node on the held-out digits, checks that the opset-17 and opset-14
 * exports give the same logits, and lists each file's ONNX op types.
 *
 *   npx tsx scripts/vit-float-accuracy.ts
 *   (or npx hardhat run scripts/vit-float-accuracy.ts)
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

import { argmax, runFloat } from "../offchain/convert/evaluate.js";
import { loadDigits, toFloat } from "../offchain/datasets/mnist.js";
import { decodeModel, opLabel } from "../offchain/model/onnx.js";

const models = join(dirname(fileURLToPath(import.meta.url)), "..", "models");
const held = loadDigits("heldout");
const inputs = held.pixels.map(toFloat);

const logits: Float32Array[][] = [];
for (const file of ["mnist-vit.float.onnx", "mnist-vit-opset14.float.onnx"]) {
  const bytes = readFileSync(join(models, file));
  const proto = decodeModel(bytes);
  const counts = new Map<string, number>();
  for (const n of proto.graph!.node ?? []) counts.set(opLabel(n), (counts.get(opLabel(n)) ?? 0) + 1);
  const opset = (proto.opsetImport ?? []).map((o) => `${o.domain || "ai.onnx"} ${String(o.version)}`).join(", ");
  const outs = await runFloat(bytes, inputs);
  logits.push(outs);
  const acc = outs.filter((o, i) => argmax(o) === held.labels[i]).length / outs.length;
  console.log(`${file} (${bytes.length} bytes, opset ${opset}, ${proto.graph!.node!.length} nodes, ${proto.graph!.initializer!.length} initializers)`);
  console.log(`  held-out float accuracy ${(acc * 100).toFixed(2)}% (${held.labels.length} digits)`);
  console.log(`  ops: ${[...counts].sort(([a], [b]) => a.localeCompare(b)).map(([op, c]) => `${op} ${c}`).join(", ")}`);
}
let maxDiff = 0;
let disagree = 0;
for (let i = 0; i < inputs.length; i++) {
  const [a, b] = [logits[0]![i]!, logits[1]![i]!];
  for (let j = 0; j < a.length; j++) maxDiff = Math.max(maxDiff, Math.abs(a[j]! - b[j]!));
  if (argmax(a) !== argmax(b)) disagree++;
}
console.log(`opset 17 vs opset 14: max |logit difference| ${maxDiff.toExponential(2)}, ${disagree} arg-max disagreements`);
