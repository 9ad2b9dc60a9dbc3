/**
 * Runs canonical models with onnxruntime-node. The traced session has every layer output
 * added to the graph outputs, so one session.run returns the whole trace; the plain session
 * runs the untouched file (final output only) for benchmarks.
 */
import * as ort from "onnxruntime-node";

import type { CanonicalModel } from "../model/canonical.js";
import { parseCanonicalModel } from "../model/canonical.js";
import { decodeModel, encodeModel, floatValueInfo } from "../model/onnx.js";
import type { Hex } from "../commitments/merkle.js";
import type { TensorCommitment } from "../commitments/tensor.js";
import { commitTensor } from "../commitments/tensor.js";
import type { TraceCommitment } from "../commitments/trace.js";
import { commitTraceFrom } from "../commitments/trace.js";
import type { InputLike } from "./input.js";
import { validateInput } from "./input.js";

export interface RunnerOptions {
  /** Threads inside one op (results are bit-identical for any value). Default 1. */
  intraOpNumThreads?: number;
  /** onnxruntime graph optimisation level. Default "all". */
  graphOptimizationLevel?: "disabled" | "basic" | "extended" | "all";
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
  /** Milliseconds in session.run and in hashing. */
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

function toInt32(data: unknown, name: string): Int32Array {
  if (!(data instanceof Float32Array)) throw new Error(`onnxruntime returned non-float32 data for "${name}"`);
  const out = new Int32Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    const iv = v | 0;
    // Guard against any kernel leaving the integer grid (would mean a validator bug).
    if (iv !== v) throw new Error(`onnxruntime produced non-integer ${v} at element ${i} of "${name}"`);
    out[i] = iv;
  }
  return out;
}

function sessionOptions(o: RunnerOptions): ort.InferenceSession.SessionOptions {
  return {
    intraOpNumThreads: o.intraOpNumThreads ?? 1,
    interOpNumThreads: 1,
    executionMode: "sequential",
    graphOptimizationLevel: o.graphOptimizationLevel ?? "all",
  };
}

export class CanonicalRunner {
  readonly model: CanonicalModel;
  private readonly options: RunnerOptions;
  private readonly traced: ort.InferenceSession;
  private plain: ort.InferenceSession | undefined;

  private constructor(model: CanonicalModel, options: RunnerOptions, traced: ort.InferenceSession) {
    this.model = model;
    this.options = options;
    this.traced = traced;
  }

  /** Parse (if given bytes) and open a traced session. */
  static async create(model: CanonicalModel | Uint8Array, options: RunnerOptions = {}): Promise<CanonicalRunner> {
    const m = model instanceof Uint8Array ? parseCanonicalModel(model) : model;
    const session = await ort.InferenceSession.create(tracingModelBytes(m), sessionOptions(options));
    return new CanonicalRunner(m, options, session);
  }

  private feeds(input: Int32Array): Record<string, ort.Tensor> {
    return { [this.model.inputName]: new ort.Tensor("float32", Float32Array.from(input), [...this.model.inputShape]) };
  }

  /** Every layer output, no commitments. `input` is validated against shape and range. */
  async runLayers(input: InputLike, shape?: readonly number[]): Promise<Int32Array[]> {
    const x = validateInput(this.model, input, shape);
    return this.runValidated(x);
  }

  private async runValidated(x: Int32Array): Promise<Int32Array[]> {
    const names = this.model.layers.map((l) => l.outputName);
    const res = await this.traced.run(this.feeds(x), names);
    return names.map((n) => toInt32(res[n]!.data, n));
  }

  /** Run, then commit every tensor of the trace [input, out_1, …, out_n]. */
  async runWithTrace(input: InputLike, shape?: readonly number[]): Promise<TraceResult> {
    const x = validateInput(this.model, input, shape);
    const t0 = performance.now();
    const layerOutputs = await this.runValidated(x);
    const t1 = performance.now();
    const tensors: TensorCommitment[] = [commitTensor(x), ...layerOutputs.map((o) => commitTensor(o))];
    const trace = commitTraceFrom(tensors);
    const t2 = performance.now();
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
   * Plain onnxruntime on the unmodified file: only the final output, no conversion checks
   * beyond float -> int, no commitments. The baseline for benchmarks.
   */
  async runPlain(input: InputLike, shape?: readonly number[]): Promise<Int32Array> {
    const x = validateInput(this.model, input, shape);
    this.plain ??= await ort.InferenceSession.create(this.model.bytes, sessionOptions(this.options));
    const res = await this.plain.run(this.feeds(x));
    return toInt32(res[this.model.outputName]!.data, this.model.outputName);
  }

  /** Plain run on an already prepared float32 input tensor (measures session.run alone). */
  async runPlainRaw(input: Float32Array): Promise<Float32Array> {
    this.plain ??= await ort.InferenceSession.create(this.model.bytes, sessionOptions(this.options));
    const res = await this.plain.run({ [this.model.inputName]: new ort.Tensor("float32", input, [...this.model.inputShape]) });
    return res[this.model.outputName]!.data as Float32Array;
  }

  async release(): Promise<void> {
    await this.traced.release();
    if (this.plain) await this.plain.release();
    this.plain = undefined;
  }
}
