/**
 * Runs canonical models with onnxruntime-node. Two sessions, each opened on first use:
 * - the plain session runs the file for its final output only: the happy path of workers and
 *   verifiers (`run`: the output and its commitment, nothing else is hashed);
 * - the traced session has every layer output added to the graph outputs, so one session.run
 *   returns the whole trace: only a dispute needs it (`runWithTrace`).
 */
import * as ort from "onnxruntime-node";

import type { CanonicalModel } from "../model/canonical.js";
import { parseCanonicalModel } from "../model/canonical.js";
import { decodeModel, encodeModel, floatValueInfo } from "../model/onnx.js";
import type { Hex } from "../commitments/merkle.js";
import { floatToInt32InPlace } from "../commitments/hash-kernel.js";
import { CommitPool, MIN_PARALLEL_ELEMENTS, NonIntegerError, defaultHashWorkers, ownBuffers } from "../commitments/pool.js";
import type { TraceCommitment } from "../commitments/trace.js";
import { commitTraceFrom } from "../commitments/trace.js";
import { tensorRoot } from "../commitments/tensor.js";
import type { InputLike } from "./input.js";
import { validateInput } from "./input.js";
import { layoutModel, nchwcLayout } from "./layout.js";

export interface RunnerOptions {
  /** Threads inside one op (results are bit-identical for any value). Default 1. */
  intraOpNumThreads?: number;
  /** onnxruntime graph optimisation level. Default "all". */
  graphOptimizationLevel?: "disabled" | "basic" | "extended" | "all";
  /**
   * Hashing worker threads for runWithTrace, besides the calling thread (commitments are
   * identical for any value). Default: one per further core, at most 3; 0 hashes on the
   * calling thread only. Started on the first runWithTrace (never for traces too small to
   * pay for a worker round trip), terminated by release().
   */
  hashWorkers?: number;
  /**
   * What onnxruntime runs (offchain/runtime/layout.ts; results are bit-identical for every
   * value): "nchwc" (default) the layout with every rewrite, onnxruntime's channel-blocked
   * convolutions kept across the requantization (falls back to "portable" when onnxruntime
   * does not keep the placeholders); "portable" the pure layout (rewrites 1–4); "file" the
   * canonical file as is (the benchmarks' baseline).
   */
  layout?: "nchwc" | "portable" | "file";
}

/** Known facts about a job's input that let `run` skip work (the result is the same). */
export interface RunHints {
  /** The input's tensor commitment when the caller already has it (e.g. from the chain). */
  readonly inputCommitment?: Hex;
}

/** What the happy path needs of a run: the output and the two commitments a result binds. */
export interface RunResult {
  readonly output: Int32Array;
  /** The validated input as int32. */
  readonly input: Int32Array;
  readonly inputCommitment: Hex;
  readonly outputCommitment: Hex;
  /** Milliseconds in session.run, and after it (conversion with the integrality check, hashing). */
  readonly timings: { readonly inferenceMs: number; readonly commitMs: number };
}

export interface TraceResult {
  /** The model output (= layerOutputs[n-1]). */
  readonly output: Int32Array;
  /** Output of every layer, element i = layer i + 1. */
  readonly layerOutputs: readonly Int32Array[];
  /** The validated input as int32. */
  readonly input: Int32Array;
  readonly trace: TraceCommitment;
  readonly traceRoot: Hex;
  readonly inputCommitment: Hex;
  readonly outputCommitment: Hex;
  /**
   * Milliseconds in session.run (all layer outputs fetched) and after it: float -> int32
   * conversion with the integrality check, hashing, Merkle trees, trace root.
   */
  readonly timings: { readonly inferenceMs: number; readonly commitMs: number };
}

/** The model bytes with every layer output exposed as a graph output. */
export function tracingModelBytes(model: CanonicalModel): Uint8Array {
  const proto = decodeModel(model.bytes);
  const graph = proto.graph!;
  const outputs = graph.output ?? [];
  const have = new Set(outputs.map((o) => o.name));
  for (const l of model.layers) {
    if (!have.has(l.outputName)) outputs.push(floatValueInfo(l.outputName, l.outShape));
  }
  graph.output = outputs;
  return encodeModel(proto);
}

function floatData(data: unknown, name: string): Float32Array {
  if (!(data instanceof Float32Array)) throw new Error(`onnxruntime returned non-float32 data for "${name}"`);
  return data;
}

function nonInteger(value: number, element: number, name: string): Error {
  // Guard against any kernel leaving the integer grid (would mean a validator bug).
  return new Error(`onnxruntime produced non-integer ${value} at element ${element} of "${name}"`);
}

/** Converts onnxruntime's float32 output to int32 in place (it is ours alone), checked. */
function toInt32(data: Float32Array, name: string): Int32Array {
  const bad = floatToInt32InPlace(data);
  if (bad >= 0) throw nonInteger(data[bad]!, bad, name);
  return new Int32Array(data.buffer, data.byteOffset, data.length);
}

function sessionOptions(o: RunnerOptions): ort.InferenceSession.SessionOptions {
  return {
    intraOpNumThreads: o.intraOpNumThreads ?? 1,
    interOpNumThreads: 1,
    executionMode: "sequential",
    graphOptimizationLevel: o.graphOptimizationLevel ?? "all",
  };
}

/** A session on the model laid out as `o.layout` says (`trace`: every layer output exposed). */
async function openSession(model: CanonicalModel, o: RunnerOptions, trace: boolean): Promise<ort.InferenceSession> {
  const layout = o.layout ?? "nchwc";
  if (layout === "file") return ort.InferenceSession.create(trace ? tracingModelBytes(model) : model.bytes, sessionOptions(o));
  if (layout === "portable" || o.graphOptimizationLevel !== undefined) {
    return ort.InferenceSession.create(layoutModel(model, { trace }), sessionOptions(o));
  }
  const laid = await nchwcLayout(model, ort, { trace, intraOpNumThreads: o.intraOpNumThreads });
  // The NCHWc graph is onnxruntime's own optimised output: nothing more to fuse, and fusing
  // across the swapped-in ops would not be ours to prove.
  return ort.InferenceSession.create(laid.bytes, { ...sessionOptions(o), graphOptimizationLevel: laid.optimized ? "disabled" : "all" });
}

export class CanonicalRunner {
  readonly model: CanonicalModel;
  private readonly options: RunnerOptions;
  private traced: Promise<ort.InferenceSession> | undefined;
  private plain: Promise<ort.InferenceSession> | undefined;
  private pool: Promise<CommitPool> | undefined;

  private constructor(model: CanonicalModel, options: RunnerOptions) {
    this.model = model;
    this.options = options;
  }

  /** Parse (if given bytes); sessions open on first use (the traced one only for a dispute). */
  static async create(model: CanonicalModel | Uint8Array, options: RunnerOptions = {}): Promise<CanonicalRunner> {
    const m = model instanceof Uint8Array ? parseCanonicalModel(model) : model;
    const runner = new CanonicalRunner(m, options);
    // Open the plain session now, so a model onnxruntime cannot load fails here, not mid-job.
    await runner.plainSession();
    return runner;
  }

  private plainSession(): Promise<ort.InferenceSession> {
    this.plain ??= openSession(this.model, this.options, false);
    return this.plain;
  }

  private tracedSession(): Promise<ort.InferenceSession> {
    this.traced ??= openSession(this.model, this.options, true);
    return this.traced;
  }

  private feeds(input: Int32Array): Record<string, ort.Tensor> {
    return { [this.model.inputName]: new ort.Tensor("float32", Float32Array.from(input), [...this.model.inputShape]) };
  }

  /** Every layer output, no commitments. `input` is validated against shape and range. */
  async runLayers(input: InputLike, shape?: readonly number[]): Promise<Int32Array[]> {
    const x = validateInput(this.model, input, shape);
    return this.runValidated(x);
  }

  /** Elements of the whole trace [input, out_1, …, out_n]. */
  private traceElements(): number {
    const numel = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);
    return this.model.layers.reduce((a, l) => a + numel(l.outShape), numel(this.model.inputShape));
  }

  private get layerNames(): string[] {
    return this.model.layers.map((l) => l.outputName);
  }

  /** session.run with every layer output; the float32 arrays are ours to convert in place. */
  private async fetchLayers(x: Int32Array): Promise<Float32Array[]> {
    const names = this.layerNames;
    const res = await (await this.tracedSession()).run(this.feeds(x), names);
    return ownBuffers(names.map((n) => floatData(res[n]!.data, n))) as Float32Array[];
  }

  private async runValidated(x: Int32Array): Promise<Int32Array[]> {
    const names = this.layerNames;
    return (await this.fetchLayers(x)).map((f, i) => toInt32(f, names[i]!));
  }

  /**
   * The happy path: plain session.run for the final output, checked to be integers, and the
   * input and output commitments. No intermediate tensor is fetched or hashed. A caller that
   * already holds the input commitment passes it in `hints` (it is then not recomputed:
   * about 0.5 ms for a 224×224×3 input).
   */
  async run(input: InputLike, shape?: readonly number[], hints: RunHints = {}): Promise<RunResult> {
    // Validated and converted to float32 in one pass (a 224×224×3 input: two passes cost ~0.2 ms more).
    const floats = new Float32Array(input.length);
    const x = validateInput(this.model, input, shape, floats);
    const session = await this.plainSession();
    const t0 = performance.now();
    const res = await session.run({ [this.model.inputName]: new ort.Tensor("float32", floats, [...this.model.inputShape]) });
    const t1 = performance.now();
    const name = this.model.outputName;
    const output = toInt32(floatData(res[name]!.data, name), name);
    const outputCommitment = tensorRoot(output);
    const inputCommitment = hints.inputCommitment ?? tensorRoot(x);
    const t2 = performance.now();
    return { output, input: x, inputCommitment, outputCommitment, timings: { inferenceMs: t1 - t0, commitMs: t2 - t1 } };
  }

  /** Run, then commit every tensor of the trace [input, out_1, …, out_n]. */
  async runWithTrace(input: InputLike, shape?: readonly number[]): Promise<TraceResult> {
    const x = validateInput(this.model, input, shape);
    this.pool ??= CommitPool.create(this.traceElements() < MIN_PARALLEL_ELEMENTS ? 0 : (this.options.hashWorkers ?? defaultHashWorkers()));
    const pool = await this.pool;
    const t0 = performance.now();
    const floats = await this.fetchLayers(x);
    const t1 = performance.now();
    let committed;
    try {
      committed = await pool.commit([x, ...floats]);
    } catch (e) {
      if (e instanceof NonIntegerError && e.tensor > 0) throw nonInteger(e.value, e.element, this.layerNames[e.tensor - 1]!);
      throw e;
    }
    const { ints, commitments: tensors } = committed;
    const trace = commitTraceFrom(tensors);
    const t2 = performance.now();
    const layerOutputs = ints.slice(1);
    return {
      output: layerOutputs[layerOutputs.length - 1]!,
      layerOutputs,
      input: x,
      trace,
      traceRoot: trace.root,
      inputCommitment: tensors[0]!.root,
      outputCommitment: tensors[tensors.length - 1]!.root,
      timings: { inferenceMs: t1 - t0, commitMs: t2 - t1 },
    };
  }

  /**
   * Plain onnxruntime on the plain session (the layout of `options.layout`): only the final
   * output, no conversion checks beyond float -> int, no commitments. The baseline for
   * benchmarks.
   */
  async runPlain(input: InputLike, shape?: readonly number[]): Promise<Int32Array> {
    const x = validateInput(this.model, input, shape);
    const res = await (await this.plainSession()).run(this.feeds(x));
    const name = this.model.outputName;
    return toInt32(floatData(res[name]!.data, name), name);
  }

  /** Plain run on an already prepared float32 input tensor (measures session.run alone). */
  async runPlainRaw(input: Float32Array): Promise<Float32Array> {
    const res = await (await this.plainSession()).run({ [this.model.inputName]: new ort.Tensor("float32", input, [...this.model.inputShape]) });
    return res[this.model.outputName]!.data as Float32Array;
  }

  /** Releases both sessions and terminates the hashing workers. */
  async release(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    if (pool) await (await pool).close();
    const sessions = [this.traced, this.plain];
    this.traced = undefined;
    this.plain = undefined;
    for (const s of sessions) if (s) await (await s).release();
  }
}
