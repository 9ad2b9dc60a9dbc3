/**
 * Computes a job's result by hand: the manual form of what the worker node automates. Reads
 * the job's inline input from the escrow's events, checks that the ONNX file is the registered
 * model (content hash and graph commitment), runs it with onnxruntime and returns the output
 * bytes and the trace root to submit.
 */
import { readFile } from "node:fs/promises";

import type { Hex } from "../commitments/merkle.js";
import { VeritensorError } from "./errors.js";
import { getJob, jobDetails } from "./jobs.js";
import { getModel } from "./models.js";
import type { Protocol } from "./protocol.js";
import { bytesToInts, intsToBytes } from "./tensors.js";

export interface ComputedResult {
  readonly output: Buffer;
  readonly traceRoot: Hex;
  readonly inferenceMs: number;
}

export async function computeJobResult(p: Protocol, jobId: bigint, modelFile: string): Promise<ComputedResult> {
  const job = await getJob(p, jobId);
  const [model, details] = await Promise.all([getModel(p, job.modelId), jobDetails(p, jobId)]);
  if (details.input === undefined) {
    throw new VeritensorError(`job ${jobId} has its input at ${details.inputUri}; fetch it and give --output and --trace-root`);
  }
  const bytes = await readFile(modelFile).catch((e: unknown) => {
    throw new VeritensorError(`cannot read model file ${modelFile}: ${(e as Error).message}`, { cause: e });
  });
  // The runtime (onnxruntime-node) loads only when a model is actually run.
  const { contentHash, graphCommitment, loadCanonicalModel, runWithTrace } = await import("../runtime/inference.js");
  if (contentHash(bytes) !== model.contentHash) {
    throw new VeritensorError(
      `${modelFile} is not model ${job.modelId}: its sha256 is ${contentHash(bytes)}, the registry says ${model.contentHash}`,
    );
  }
  const canonical = loadCanonicalModel(bytes);
  if (graphCommitment(canonical).root !== model.graphCommitment) {
    throw new VeritensorError(`the graph commitment of ${modelFile} does not match model ${job.modelId}'s: refusing to run it`);
  }
  const result = await runWithTrace(canonical, bytesToInts(details.input));
  return {
    output: intsToBytes(Array.from(result.output), "output"),
    traceRoot: result.traceRoot,
    inferenceMs: result.timings.inferenceMs,
  };
}
