/** `model convert`: convert with calibration data and measure what the conversion costs. */
import { VeritensorError } from "../../clients/errors.js";
import { convertModel } from "../../convert/index.js";
import type { AccuracyReport, ConversionResult, ConvertOptions, PlanOptions } from "../../convert/index.js";
import { measureAccuracy } from "../../convert/evaluate.js";
import { loadFloatModel } from "../../convert/load.js";

export interface ConvertReport {
  readonly conversion: ConversionResult;
  /** Measured on samples the calibration never saw (undefined when there were too few to spare any). */
  readonly heldOut: AccuracyReport | undefined;
  /** Measured on the calibration samples themselves: the ranges were fitted to them, so it flatters. */
  readonly calibrationAccuracy: AccuracyReport;
  readonly calibrationNote: string;
}

/** Seeded samples generated when the user gives none: 64 calibrate, 16 are held out. */
const DEFAULT_SAMPLES = 80;
/** Every HOLD_OUT-th sample is held out of calibration, when there are at least MIN_TO_HOLD_OUT. */
const HOLD_OUT = 5;
const MIN_TO_HOLD_OUT = 10;

/** Seeded uniform [0, 1) inputs: a fallback when the user has no calibration data. */
function uniformSamples(size: number, count: number): number[][] {
  let s = 12345;
  const next = (): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
  return Array.from({ length: count }, () => Array.from({ length: size }, next));
}

/** The samples split into those that fix the ranges and those that measure the result. */
export function splitSamples<T>(samples: readonly T[]): { calibrate: T[]; heldOut: T[] } {
  if (samples.length < MIN_TO_HOLD_OUT) return { calibrate: [...samples], heldOut: [] };
  return {
    calibrate: samples.filter((_, i) => i % HOLD_OUT !== HOLD_OUT - 1),
    heldOut: samples.filter((_, i) => i % HOLD_OUT === HOLD_OUT - 1),
  };
}

/** The converter's options without the calibration (which `convertWithReport` splits itself). */
export type ConverterOptions = Omit<ConvertOptions, "calibration">;

export async function convertWithReport(
  floatBytes: Uint8Array,
  calibration?: number[][],
  options: ConverterOptions = {},
): Promise<ConvertReport> {
  let samples = calibration;
  let source = "from the calibration file";
  if (samples === undefined) {
    const size = loadFloatModel(floatBytes, options).inputShape.reduce((a, b) => a * b, 1);
    samples = uniformSamples(size, DEFAULT_SAMPLES);
    source = "seeded uniform [0, 1) inputs (no --calibration given: ranges may not match real data)";
  }
  const { calibrate, heldOut } = splitSamples(samples);
  const conversion = convertModel(floatBytes, { ...options, calibration: calibrate });
  const calibrationAccuracy = await measureAccuracy(floatBytes, conversion, calibrate);
  const held = heldOut.length > 0 ? await measureAccuracy(floatBytes, conversion, heldOut) : undefined;
  const note =
    heldOut.length > 0
      ? `${calibrate.length} samples ${source}; ${heldOut.length} more held out to measure the result`
      : `${calibrate.length} samples ${source}; too few to hold any out (give at least ${MIN_TO_HOLD_OUT})`;
  return { conversion, heldOut: held, calibrationAccuracy, calibrationNote: note };
}

/** The converter options a user may set on the command line, as `model convert` gives them. */
export interface ConvertArgs {
  /** Least bits of tensors read by weighted sums, e.g. "8" (they get more where the exactness budget leaves room). */
  readonly activationBits?: string;
  /** Bits of tensors read by ADD, PRODUCT and MATMUL (within their bound), a mean or a centering, e.g. "12". */
  readonly wideBits?: string;
  /** Bits of a LUT's input, e.g. "12" (its table has up to 2^b entries). */
  readonly lutInputBits?: string;
  readonly outputBits?: string;
  readonly maxWeightBits?: string;
  /** Factor over the calibrated magnitude that the output's range covers, e.g. "2". */
  readonly outputHeadroom?: string;
  /** The same for the hidden activations, e.g. "1.5". */
  readonly activationHeadroom?: string;
  /** Real value of one input unit, e.g. "0.00392156862745098" (1/255). */
  readonly inputScale?: string;
  /** The input's integer range "lo,hi", e.g. "0,255". */
  readonly inputRange?: string;
  /** The input's shape "1,3,48,192" (or "NAME=1,3,48,192"), binding what the file leaves dynamic. */
  readonly inputShape?: string;
}

function bits(name: string, s: string | undefined, lo: number, hi: number): number | undefined {
  if (s === undefined) return undefined;
  const v = /^\s*\d+\s*$/.test(s) ? Number(s) : NaN;
  if (!(v >= lo && v <= hi)) throw new VeritensorError(`--${name} ${s}: give an integer from ${lo} to ${hi}`);
  return v;
}

/** Largest headroom factor taken: 2^10 leaves a 16-bit output 6 bits for its calibrated range. */
const MAX_HEADROOM = 1024;

function headroom(name: string, s: string | undefined): number | undefined {
  if (s === undefined) return undefined;
  const v = /^\s*\d+(\.\d+)?\s*$/.test(s) ? Number(s) : NaN;
  if (!(v >= 1 && v <= MAX_HEADROOM)) throw new VeritensorError(`--${name} ${s}: give a number from 1 (no headroom) to ${MAX_HEADROOM}, e.g. 2 for one bit`);
  return v;
}

/** Checks the options and turns them into the planner's; a bad value gets an error naming the option. */
export function convertOptions(a: ConvertArgs): ConverterOptions {
  const o: { -readonly [K in keyof PlanOptions]?: PlanOptions[K] } & { inputShape?: number[]; inputName?: string } = {};
  if (a.inputShape !== undefined) {
    const named = /^\s*([^=]+?)\s*=(.*)$/.exec(a.inputShape);
    const dims = (named ? named[2]! : a.inputShape).split(",").map((d) => d.trim());
    if (dims.length < 2 || !dims.every((d) => /^\d+$/.test(d) && Number(d) > 0)) {
      throw new VeritensorError(`--input-shape ${a.inputShape}: give the input's dimensions as positive integers, e.g. 1,3,48,192 or x=1,3,48,192 (batch 1 first)`);
    }
    o.inputShape = dims.map(Number);
    if (named) o.inputName = named[1]!;
  }
  const activationBits = bits("activation-bits", a.activationBits, 2, 16);
  const outputBits = bits("output-bits", a.outputBits, 2, 24);
  const maxWeightBits = bits("max-weight-bits", a.maxWeightBits, 2, 24);
  if (activationBits !== undefined) o.activationBits = activationBits;
  const wideBits = bits("wide-bits", a.wideBits, 2, 16);
  const lutInputBits = bits("lut-input-bits", a.lutInputBits, 2, 16);
  if (wideBits !== undefined) o.wideBits = wideBits;
  if (lutInputBits !== undefined) o.lutInputBits = lutInputBits;
  if (outputBits !== undefined) o.outputBits = outputBits;
  if (maxWeightBits !== undefined) o.maxWeightBits = maxWeightBits;
  const outputHeadroom = headroom("output-headroom", a.outputHeadroom);
  const activationHeadroom = headroom("activation-headroom", a.activationHeadroom);
  if (outputHeadroom !== undefined) o.outputHeadroom = outputHeadroom;
  if (activationHeadroom !== undefined) o.activationHeadroom = activationHeadroom;
  if ((a.inputScale === undefined) !== (a.inputRange === undefined)) {
    throw new VeritensorError("--input-scale and --input-range go together: the scale of one input unit and the integers it spans, e.g. --input-scale 0.00392156862745098 --input-range 0,255");
  }
  if (a.inputScale !== undefined && a.inputRange !== undefined) {
    const scale = Number(a.inputScale);
    if (!Number.isFinite(scale) || scale <= 0) throw new VeritensorError(`--input-scale ${a.inputScale}: give a positive number`);
    const m = /^\s*(-?\d+)\s*,\s*(-?\d+)\s*$/.exec(a.inputRange);
    const lo = m ? Number(m[1]) : NaN;
    const hi = m ? Number(m[2]) : NaN;
    if (!m || lo >= hi || Math.abs(lo) >= 2 ** 24 || Math.abs(hi) >= 2 ** 24) {
      throw new VeritensorError(`--input-range ${a.inputRange}: give two integers lo,hi with lo < hi and |lo|, |hi| < 2^24, e.g. 0,255`);
    }
    o.input = { scale, lo, hi };
  }
  return o;
}
