/**
 * Accuracy lost by conversion: the float model under onnxruntime against the canonical
 * model under the project's runner, on the same real inputs.
 */
import * as ort from "onnxruntime-node";

import type { CanonicalModel } from "../model/canonical.js";
import { decodeModel, valueInfoShape } from "../model/onnx.js";
import { CanonicalRunner } from "../runtime/runner.js";

export interface AccuracyReport {
  samples: number;
  /** max / mean of |dequantized canonical − float| over all output elements. */
  maxAbsError: number;
  meanAbsError: number;
  /** Fraction of samples whose arg-max agrees (classifiers). */
  top1Agreement: number;
  /** The converter's stated bound and the fraction of elements within it. */
  errorBound: number;
  withinBound: number;
}

type InputQuantization = { inputScale: number; inputRange: readonly [number, number] };

/** Real input → integer input: round to the nearest unit, then clamp to the declared range. */
export function quantizeInput(m: InputQuantization, x: ArrayLike<number>): Int32Array {
  return quantizeInputCounted(m, x).values;
}

/**
 * {@link quantizeInput}, also counting the values the clamp changed: a user's real input outside
 * the calibrated range is silently different from what runs unless someone says so.
 */
export function quantizeInputCounted(m: InputQuantization, x: ArrayLike<number>): { values: Int32Array; clamped: number } {
  const [lo, hi] = m.inputRange;
  const values = new Int32Array(x.length);
  let clamped = 0;
  for (let i = 0; i < x.length; i++) {
    const q = Math.round(x[i]! / m.inputScale);
    if (q < lo || q > hi) clamped++;
    values[i] = Math.min(Math.max(q, lo), hi);
  }
  return { values, clamped };
}

export function dequantizeOutput(m: { outputScale: number }, y: ArrayLike<number>): Float64Array {
  return Float64Array.from(y as ArrayLike<number>, (v) => v * m.outputScale);
}

export const argmax = (v: ArrayLike<number>): number => {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i]! > v[best]!) best = i;
  return best;
};

/** Runs a float model on each input with onnxruntime (one sample at a time, batch 1). */
export async function runFloat(floatBytes: Uint8Array, inputs: readonly ArrayLike<number>[], inputShape?: readonly number[]): Promise<Float32Array[]> {
  const proto = decodeModel(floatBytes);
  const inits = new Set((proto.graph!.initializer ?? []).map((t) => t.name));
  const inp = (proto.graph!.input ?? []).find((i) => !inits.has(i.name))!;
  // The shape the conversion bound (`--input-shape`), else the file's with dynamic dimensions at 1.
  const shape = inputShape ? [...inputShape] : valueInfoShape(inp)!.map((d) => d ?? 1);
  const outName = proto.graph!.output![0]!.name!;
  const session = await ort.InferenceSession.create(floatBytes, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  // Token ids (an int64 or int32 input) are fed as integers.
  const elem = inp.type?.tensorType?.elemType ?? 1;
  const feed = (x: ArrayLike<number>): ort.Tensor =>
    elem === 7
      ? new ort.Tensor("int64", BigInt64Array.from(Array.from(x), (v) => BigInt(Math.round(v))), shape)
      : elem === 6
        ? new ort.Tensor("int32", Int32Array.from(Array.from(x), (v) => Math.round(v)), shape)
        : new ort.Tensor("float32", Float32Array.from(x), shape);
  try {
    const outs: Float32Array[] = [];
    for (const x of inputs) {
      const res = await session.run({ [inp.name!]: feed(x) }, [outName]);
      outs.push(res[outName]!.data as Float32Array);
    }
    return outs;
  } finally {
    await session.release();
  }
}

/** Runs a canonical model on real inputs (quantized with its input scale); returns integer outputs. */
export async function runCanonical(model: CanonicalModel, inputs: readonly ArrayLike<number>[]): Promise<Int32Array[]> {
  const runner = await CanonicalRunner.create(model);
  try {
    const outs: Int32Array[] = [];
    for (const x of inputs) outs.push(await runner.runPlain(quantizeInput(model, x)));
    return outs;
  } finally {
    await runner.release();
  }
}

export async function measureAccuracy(
  floatBytes: Uint8Array,
  conv: { model: CanonicalModel; errorBound: number },
  inputs: readonly ArrayLike<number>[],
): Promise<AccuracyReport> {
  const fl = await runFloat(floatBytes, inputs, conv.model.inputShape);
  const cq = await runCanonical(conv.model, inputs);
  let max = 0;
  let sum = 0;
  let count = 0;
  let within = 0;
  let agree = 0;
  fl.forEach((f, s) => {
    const c = dequantizeOutput(conv.model, cq[s]!);
    for (let i = 0; i < f.length; i++) {
      const e = Math.abs(c[i]! - f[i]!);
      max = Math.max(max, e);
      sum += e;
      count++;
      if (e <= conv.errorBound) within++;
    }
    if (argmax(f) === argmax(c)) agree++;
  });
  return {
    samples: inputs.length,
    maxAbsError: max,
    meanAbsError: count ? sum / count : 0,
    top1Agreement: inputs.length ? agree / inputs.length : 0,
    errorBound: conv.errorBound,
    withinBound: count ? within / count : 0,
  };
}
