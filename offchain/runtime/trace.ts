/**
 * What a node runs for a job. The happy path is the output alone (`computeOutput`: a plain run and
 * the output commitment; `computeBatchOutput` for each input of a batch job); the whole trace
 * (`computeTrace`) is built only for a dispute, from the model and the job's input (one item of a
 * batch), and is bit for bit the same whenever it is rebuilt. A cheat (demos and tests) forges the
 * trace, so it always takes the traced run.
 */
import { batchCommitment } from "../commitments/batch.js";
import type { Hex } from "../commitments/merkle.js";
import { tensorRoot } from "../commitments/tensor.js";
import type { CanonicalModel } from "../model/canonical.js";
import { runOutput, runWithTrace } from "./inference.js";
import type { CheatSpec } from "./cheat.js";
import { cheatOfItem, cheatTrace, traceRootOf } from "./cheat.js";

export interface NodeOutput {
  readonly output: Int32Array;
  readonly outputCommitment: Hex;
  readonly ms: number;
}

export interface NodeTrace extends NodeOutput {
  /** [input, out_1, …, out_L]. */
  readonly trace: readonly Int32Array[];
  readonly root: Hex;
}

export function intsOf(bytes: Uint8Array): Int32Array {
  const copy = new Uint8Array(bytes);
  return new Int32Array(copy.buffer, 0, copy.length / 4);
}

/** A cheat that shapes the run (demos and tests); `exact`: by hand, the lie is exactly its DELTA (see cheatTrace). */
export interface CheatOptions {
  readonly cheat?: CheatSpec;
  readonly exact?: boolean;
}

export interface OutputOptions extends CheatOptions {
  /** Where to run (a verifier's pool); default the model's shared runner. */
  readonly runner?: { run(input: Int32Array): Promise<{ output: Int32Array; outputCommitment: Hex }> };
  /** The input's commitment from the job's terms, when known: not hashed again. */
  readonly inputCommitment?: Hex;
}

/** The job's output and its commitment: one plain run, nothing else hashed (unless cheating). */
export async function computeOutput(model: CanonicalModel, input: Int32Array, o: OutputOptions = {}): Promise<NodeOutput> {
  if (o.cheat !== undefined) return computeTrace(model, input, o);
  const started = performance.now();
  const r = o.runner ? await o.runner.run(input) : await runOutput(model, input, {}, o.inputCommitment ? { inputCommitment: o.inputCommitment } : {});
  return { output: Int32Array.from(r.output), outputCommitment: r.outputCommitment, ms: performance.now() - started };
}

/** A batch job's output: its items' outputs concatenated, and each item's output commitment. */
export interface BatchOutput extends NodeOutput {
  /** Each item's output commitment, in order: `outputCommitment` is their batch commitment. */
  readonly itemCommitments: readonly Hex[];
}

/**
 * A batch job's output: every input run on its own (a cheat lies only in its item's run), the
 * outputs concatenated and committed as a batch. One input is exactly {@link computeOutput}.
 */
export async function computeBatchOutput(model: CanonicalModel, inputs: readonly Int32Array[], o: OutputOptions = {}): Promise<BatchOutput> {
  const started = performance.now();
  const runs: NodeOutput[] = [];
  for (const [i, input] of inputs.entries()) {
    const cheat = cheatOfItem(o.cheat, i);
    // The terms' input commitment is a single job's own; a batch's items are committed by the run.
    runs.push(await computeOutput(model, input, { ...o, cheat, inputCommitment: inputs.length === 1 ? o.inputCommitment : undefined }));
  }
  const output = new Int32Array(runs.reduce((n, r) => n + r.output.length, 0));
  runs.reduce((at, r) => (output.set(r.output, at), at + r.output.length), 0);
  const itemCommitments = runs.map((r) => r.outputCommitment);
  return { output, outputCommitment: batchCommitment(itemCommitments), itemCommitments, ms: performance.now() - started };
}

/** The job's whole trace with its root (a dispute): rebuilt from the model and the input. */
export async function computeTrace(model: CanonicalModel, input: Int32Array, o: CheatOptions = {}): Promise<NodeTrace> {
  const { cheat } = o;
  const started = performance.now();
  const r = await runWithTrace(model, input);
  const honest = [Int32Array.from(r.input), ...r.layerOutputs.map((t) => Int32Array.from(t))];
  if (cheat === undefined) {
    return { trace: honest, root: r.traceRoot, output: Int32Array.from(r.output), outputCommitment: r.outputCommitment, ms: performance.now() - started };
  }
  const trace = cheatTrace(model, honest, cheat, { exact: o.exact ?? false });
  const output = trace[trace.length - 1]!;
  return { trace, root: traceRootOf(trace), output, outputCommitment: tensorRoot(output), ms: performance.now() - started };
}
