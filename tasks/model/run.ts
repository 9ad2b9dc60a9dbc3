import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { action, formatInts, report, required, VeritensorError } from "../../offchain/cli/index.js";
import { argmax, quantizeInputCounted } from "../../offchain/convert/evaluate.js";
import { asUserError } from "../../offchain/cli/model/errors.js";
import { readBytes } from "../../offchain/cli/model/files.js";
import { checkShape, clampedNote, readTensor } from "../../offchain/cli/model/tensors.js";
import { parseCanonicalModel } from "../../offchain/model/canonical.js";
import { runWithTrace } from "../../offchain/runtime/inference.js";
import { countSaturated, saturationNote, traceSaturation } from "../../offchain/runtime/saturation.js";

interface Args {
  model?: string;
  input?: string;
  real: boolean;
  threads: number;
}

export default action(async ({ model, input, real, threads }: Args, _hre: HardhatRuntimeEnvironment) => {
  const modelPath = required(model, "--model");
  const inputPath = required(input, "--input");
  if (!Number.isInteger(threads) || threads < 1) throw new VeritensorError(`--threads ${threads}: give a positive integer`);
  const bytes = await readBytes(modelPath, "model file");
  const tensor = await readTensor(inputPath, "input file");
  const m = await asUserError(modelPath, () => parseCanonicalModel(bytes));
  checkShape(tensor, m.inputShape, `input file ${inputPath}`, `the input of ${modelPath}`);
  const q = real ? quantizeInputCounted(m, tensor.data) : undefined;
  const r = await asUserError(inputPath, () => runWithTrace(m, q?.values ?? Array.from(tensor.data), { intraOpNumThreads: threads }));
  const saturated = countSaturated(m, r.output);
  const hidden = traceSaturation(m, r.layerOutputs).slice(0, -1).filter((s) => s.saturated > 0);
  if (saturated.saturated > 0) {
    console.warn(
      `Warning: saturated outputs ${saturationNote(m, saturated)}: their real values may lie beyond ` +
        "(a converted model's stated error bound does not hold for this input)",
    );
  }
  report(`Ran ${modelPath} on ${inputPath}`, [
    ["clamped by --real", q && clampedNote(m, q.clamped, q.values.length)],
    ["output", `${formatInts(r.output)} (${r.output.length} integers)`],
    ["output (real)", formatInts(Array.from(r.output, (v) => Number((v * m.outputScale).toPrecision(4))))],
    ["arg max", argmax(r.output)],
    ["saturated outputs", saturationNote(m, saturated)],
    ["saturated in hidden layers", hidden.length === 0 ? "none" : hidden.map((s) => `layer ${s.layer}: ${s.saturated} of ${s.total}`).join(", ")],
    ["input commitment", r.inputCommitment],
    ["output commitment", r.outputCommitment],
    ["trace root", r.traceRoot],
    ["layers traced", r.layerOutputs.length],
    ["time", `${r.timings.inferenceMs.toFixed(1)} ms inference + ${r.timings.commitMs.toFixed(1)} ms commitments`],
  ]);
});
