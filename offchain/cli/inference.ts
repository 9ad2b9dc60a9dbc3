/**
 * Computes a job's result by hand: the manual form of what the worker node automates. Reads
 * the job's inline input from the escrow's events, checks that the ONNX file is the registered
 * model (content hash and graph commitment), runs it with onnxruntime and returns the output
 * to submit (a plain run), or, for a dispute, the whole trace and its root.
 *
 * A cheat (`--cheat LAYER[:ELEMENT[:DELTA]]`) forges a wrong but self-consistent trace, to try
 * the dispute game by hand: one element of one layer is off by DELTA, and every later layer is
 * recomputed from the forged tensor (reference semantics), so the lie sits in exactly one place.
 * The lie must reach the output: a correct output is a correct result, whatever the trace.
 *
 * A batch job's output is computed input by input (the cheat in its `@ITEM`, item 0 by default)
 * and submitted concatenated; its disputes are the verifier node's to play: the traced run here
 * refuses a batch.
 */
import { readFile } from "node:fs/promises";

import type { Hex } from "../commitments/merkle.js";
import type { CanonicalModel } from "../model/canonical.js";
import { VeritensorError } from "../clients/errors.js";
import { getJob, jobDetails } from "../clients/job-reads.js";
import { checkModelBytes, getModel } from "../clients/models.js";
import type { Protocol } from "../clients/protocol.js";
import { bytesToInts, intsToBytes } from "../clients/tensors.js";
import type { CheatSpec } from "../runtime/cheat.js";

/** A job's model, checked against the registry, and its input (a batch's inputs, concatenated). */
export interface JobModel {
  readonly jobId: bigint;
  readonly modelId: bigint;
  readonly model: CanonicalModel;
  readonly input: Int32Array;
  /** Inputs the job carries (1 for a single job). */
  readonly batchSize: number;
}

/** Loads `modelFile` for job `jobId`, refusing it unless it is the job's registered model. */
export async function loadJobModel(p: Protocol, jobId: bigint, modelFile: string): Promise<JobModel> {
  const job = await getJob(p, jobId);
  if (job.modelId === 0n) throw new VeritensorError(`unknown job ${jobId}: no job has that id`);
  const [model, details] = await Promise.all([getModel(p, job.modelId), jobDetails(p, jobId)]);
  if (details.input === undefined) {
    throw new VeritensorError(`job ${jobId} has its input at ${details.inputUri}; fetch it, run the model and give --output`);
  }
  const bytes = await readFile(modelFile).catch((e: unknown) => {
    throw new VeritensorError(`cannot read model file ${modelFile}: ${(e as Error).message}`, { cause: e });
  });
  const canonical = checkModelBytes(job.modelId, model, bytes, modelFile);
  return { jobId, modelId: job.modelId, model: canonical, input: Int32Array.from(bytesToInts(details.input)), batchSize: Number(job.batchSize) };
}

/** A job's output as a worker submits it: no trace (it is built only for a dispute). */
export interface ComputedOutput {
  readonly output: Buffer;
  readonly outputCommitment: Hex;
  /** Milliseconds of the run, its conversion and its commitments. */
  readonly ms: number;
  readonly model: CanonicalModel;
  readonly cheat?: CheatSpec;
}

/** A job's run with its whole trace, as a dispute needs it. */
export interface ComputedResult extends ComputedOutput {
  readonly traceRoot: Hex;
  /** The whole trace [input, out_1, …, out_L] behind `traceRoot` (forged with a cheat). */
  readonly trace: readonly Int32Array[];
}

/**
 * Runs a checked job model on its input for its output only (plain onnxruntime run, output
 * commitment). A cheat forges a trace, so it takes the traced run; by hand the lie is exactly its DELTA.
 */
export async function runJobOutput(m: JobModel, options: { cheat?: CheatSpec } = {}): Promise<ComputedOutput> {
  // The runtime (onnxruntime-node) loads only when a model is actually run.
  const { computeBatchOutput } = await import("../runtime/trace.js");
  const size = m.input.length / m.batchSize;
  const items = Array.from({ length: m.batchSize }, (_, i) => m.input.subarray(i * size, (i + 1) * size));
  const r = await computeBatchOutput(m.model, items, { cheat: options.cheat, exact: true });
  return { output: intsToBytes(Array.from(r.output), "output"), outputCommitment: r.outputCommitment, ms: r.ms, model: m.model, ...cheatOf(options) };
}

/** Runs a checked job model on its input with its trace (a dispute), forging it if asked to. */
export async function runJobModel(m: JobModel, options: { cheat?: CheatSpec } = {}): Promise<ComputedResult> {
  if (m.batchSize !== 1) {
    throw new VeritensorError(
      `job ${m.jobId} is a batch of ${m.batchSize} inputs: a dispute is about one of its items, which the verifier node ` +
        "finds and plays (`npx hardhat verifier run`); by hand, disputes are for single jobs",
    );
  }
  const { computeTrace } = await import("../runtime/trace.js");
  const t = await computeTrace(m.model, m.input, { cheat: options.cheat, exact: true });
  return {
    output: intsToBytes(Array.from(t.output), "output"),
    outputCommitment: t.outputCommitment,
    traceRoot: t.root,
    ms: t.ms,
    trace: t.trace,
    model: m.model,
    ...cheatOf(options),
  };
}

const cheatOf = (o: { cheat?: CheatSpec }): { cheat?: CheatSpec } => (o.cheat === undefined ? {} : { cheat: o.cheat });

/** Job `jobId`'s output from `modelFile` (checked to be its model), as a worker submits it. */
export async function computeJobOutput(
  p: Protocol,
  jobId: bigint,
  modelFile: string,
  options: { cheat?: CheatSpec } = {},
): Promise<ComputedOutput> {
  return runJobOutput(await loadJobModel(p, jobId, modelFile), options);
}

/** Job `jobId`'s run with its trace, as a dispute needs it. */
export async function computeJobResult(
  p: Protocol,
  jobId: bigint,
  modelFile: string,
  options: { cheat?: CheatSpec } = {},
): Promise<ComputedResult> {
  return runJobModel(await loadJobModel(p, jobId, modelFile), options);
}
