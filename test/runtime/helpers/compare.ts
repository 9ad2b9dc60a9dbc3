/** Runs a model on onnxruntime (1 and 2 intra-op threads) and on the reference interpreter. */
import { parseCanonicalModel } from "../../../offchain/model/canonical.js";
import type { CanonicalModel } from "../../../offchain/model/canonical.js";
import { runReference } from "../../../offchain/runtime/reference.js";
import { CanonicalRunner } from "../../../offchain/runtime/runner.js";
import type { Rng } from "./random.js";

export interface CompareStats {
  models: number;
  inputs: number;
  elements: number;
  /** Elements where onnxruntime (1 thread) and the reference differ. */
  refMismatches: number;
  /** Elements where 1 and 2 intra-op threads differ. */
  threadMismatches: number;
  firstFailure?: string;
}

export function emptyStats(): CompareStats {
  return { models: 0, inputs: 0, elements: 0, refMismatches: 0, threadMismatches: 0 };
}

export function randomInput(model: CanonicalModel, r: Rng): Int32Array {
  const n = model.inputShape.reduce((a, b) => a * b, 1);
  return r.input(n, model.inputRange[0], model.inputRange[1]);
}

/** Compare every layer output for `inputs` random inputs, accumulating into `stats`. */
export async function compareModel(bytes: Uint8Array, desc: string, inputs: number, r: Rng, stats: CompareStats): Promise<void> {
  const model = parseCanonicalModel(bytes);
  const one = await CanonicalRunner.create(model, { intraOpNumThreads: 1 });
  const two = await CanonicalRunner.create(model, { intraOpNumThreads: 2 });
  try {
    stats.models++;
    for (let k = 0; k < inputs; k++) {
      const x = randomInput(model, r);
      const ref = runReference(model, x);
      const a = await one.runLayers(x);
      const b = await two.runLayers(x);
      stats.inputs++;
      for (let l = 0; l < ref.length; l++) {
        const rl = ref[l]!, al = a[l]!, bl = b[l]!;
        stats.elements += rl.length;
        for (let e = 0; e < rl.length; e++) {
          if (rl[e] !== al[e]) {
            stats.refMismatches++;
            stats.firstFailure ??= `${desc}: layer ${l + 1} element ${e}: onnxruntime ${al[e]} vs reference ${rl[e]} (input ${Array.from(x.slice(0, 16))}…)`;
          }
          if (al[e] !== bl[e]) {
            stats.threadMismatches++;
            stats.firstFailure ??= `${desc}: layer ${l + 1} element ${e}: 1 thread ${al[e]} vs 2 threads ${bl[e]}`;
          }
        }
      }
    }
  } finally {
    await one.release();
    await two.release();
  }
}
