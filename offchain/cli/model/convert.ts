/** `model convert`: convert with calibration data and measure what the conversion costs. */
import { convertModel } from "../../convert/index.js";
import type { AccuracyReport, ConversionResult } from "../../convert/index.js";
import { measureAccuracy } from "../../convert/evaluate.js";
import { loadFloatModel } from "../../convert/load.js";

export interface ConvertReport {
  readonly conversion: ConversionResult;
  readonly accuracy: AccuracyReport;
  readonly calibrationNote: string;
}

const DEFAULT_SAMPLES = 64;

/** Seeded uniform [0, 1) inputs: a fallback when the user has no calibration data. */
function uniformSamples(size: number, count: number): number[][] {
  let s = 12345;
  const next = (): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
  return Array.from({ length: count }, () => Array.from({ length: size }, next));
}

export async function convertWithReport(floatBytes: Uint8Array, calibration?: number[][]): Promise<ConvertReport> {
  let samples = calibration;
  let note = `${calibration?.length ?? 0} samples from the calibration file`;
  if (samples === undefined) {
    const size = loadFloatModel(floatBytes).inputShape.reduce((a, b) => a * b, 1);
    samples = uniformSamples(size, DEFAULT_SAMPLES);
    note = `${DEFAULT_SAMPLES} seeded uniform [0, 1) inputs (no --calibration given: ranges may not match real data)`;
  }
  const conversion = convertModel(floatBytes, { calibration: samples });
  const accuracy = await measureAccuracy(floatBytes, conversion, samples);
  return { conversion, accuracy, calibrationNote: note };
}
