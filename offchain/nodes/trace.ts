/** A node's trace of a job: honest from the runner, or shaped by a cheat (worker/cheat.ts). */
import type { Hex } from "../commitments/merkle.js";
import type { CanonicalModel } from "../model/canonical.js";
import { runWithTrace } from "../runtime/inference.js";
import type { CheatSpec } from "../worker/cheat.js";
import { cheatTrace, traceRootOf } from "../worker/cheat.js";

export interface NodeTrace {
  /** [input, out_1, …, out_L]. */
  readonly trace: readonly Int32Array[];
  readonly root: Hex;
  readonly output: Int32Array;
  readonly ms: number;
}

export function intsOf(bytes: Uint8Array): Int32Array {
  const copy = new Uint8Array(bytes);
  return new Int32Array(copy.buffer, 0, copy.length / 4);
}

export async function computeTrace(model: CanonicalModel, input: Int32Array, cheat?: CheatSpec): Promise<NodeTrace> {
  const started = performance.now();
  const r = await runWithTrace(model, input);
  const honest = [Int32Array.from(r.input), ...r.layerOutputs.map((t) => Int32Array.from(t))];
  if (cheat === undefined) return { trace: honest, root: r.traceRoot, output: Int32Array.from(r.output), ms: performance.now() - started };
  const trace = cheatTrace(model, honest, cheat);
  return { trace, root: traceRootOf(trace), output: trace[trace.length - 1]!, ms: performance.now() - started };
}
