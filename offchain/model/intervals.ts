/**
 * Interval analysis for the exactness rule of docs/SEMANTICS.md: prove that every partial
 * sum stays below 2^24 in magnitude (so float32 is exact in any order) and propagate the
 * integer range of every layer output.
 */
import { ModelError } from "./errors.js";
import { EXACT_LIMIT } from "./layers.js";

export type Range = readonly [number, number];

const clamp = (v: number, lo: number, hi: number): number => Math.min(Math.max(v, lo), hi);

/** floor(v / 2^s), exact for |v| < 2^53. */
export const shiftFloor = (v: number, s: number): number => Math.floor(v / 2 ** s);

function fail(layer: string, what: string, bound: number): never {
  throw new ModelError(
    "EXACTNESS",
    `exactness bound violated in ${layer}: ${what} may reach ${bound} in magnitude, ` +
      `which is not below 2^24 = ${EXACT_LIMIT}; narrow the input range or the weights`,
  );
}

/** Output range of clip(v >> s) over the accumulator range [a, b]. */
function requantRange(a: number, b: number, s: number, lo: number, hi: number): Range {
  return [clamp(shiftFloor(a, s), lo, hi), clamp(shiftFloor(b, s), lo, hi)];
}

function union(r: Range | undefined, a: Range): Range {
  return r ? [Math.min(r[0], a[0]), Math.max(r[1], a[1])] : a;
}

/**
 * DENSE/CONV: weights laid out as M rows of `rowLen` (the committed layout). `x` is the
 * input range, widened to include 0 by the caller when padding can read zeros.
 */
export function weightedSumRange(
  layer: string,
  w: Int32Array,
  rowLen: number,
  bias: Int32Array,
  shifts: Int32Array,
  x: Range,
  clip: Range,
): Range {
  const M = bias.length;
  const xm = Math.max(Math.abs(x[0]), Math.abs(x[1]));
  let out: Range | undefined;
  for (let m = 0; m < M; m++) {
    let abs = 0;
    let lo = bias[m]!;
    let hi = bias[m]!;
    for (let k = m * rowLen, end = k + rowLen; k < end; k++) {
      const wk = w[k]!;
      abs += Math.abs(wk);
      const p = wk * x[0];
      const q = wk * x[1];
      lo += Math.min(p, q);
      hi += Math.max(p, q);
    }
    const bound = Math.abs(bias[m]!) + abs * xm;
    if (bound >= EXACT_LIMIT) fail(layer, `the partial sums of output channel ${m}`, bound);
    out = union(out, requantRange(lo, hi, shifts[m]!, clip[0], clip[1]));
  }
  return out ?? [clip[0], clip[1]];
}

/** ADD: a + b (b a layer output range, or the per-channel constant's range). */
export function addRange(layer: string, a: Range, b: Range, shift: number, clip: Range): Range {
  const bound = Math.max(Math.abs(a[0]), Math.abs(a[1])) + Math.max(Math.abs(b[0]), Math.abs(b[1]));
  if (bound >= EXACT_LIMIT) fail(layer, "the sum", bound);
  return requantRange(a[0] + b[0], a[1] + b[1], shift, clip[0], clip[1]);
}

/** MUL: x · C[c] >> s[c] per channel. */
export function mulRange(layer: string, x: Range, factors: Int32Array, shifts: Int32Array, clip: Range): Range {
  const xm = Math.max(Math.abs(x[0]), Math.abs(x[1]));
  let out: Range | undefined;
  for (let c = 0; c < factors.length; c++) {
    const f = factors[c]!;
    const bound = xm * Math.abs(f);
    if (bound >= EXACT_LIMIT) fail(layer, `the product of channel ${c}`, bound);
    const p = x[0] * f;
    const q = x[1] * f;
    out = union(out, requantRange(Math.min(p, q), Math.max(p, q), shifts[c]!, clip[0], clip[1]));
  }
  return out ?? [clip[0], clip[1]];
}

export function minMax(v: Int32Array): Range {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < v.length; i++) {
    const x = v[i]!;
    if (x < lo) lo = x;
    if (x > hi) hi = x;
  }
  return v.length ? [lo, hi] : [0, 0];
}

/** The interval of a·b for a in `a`, b in `b` (corner products). */
function productInterval(a: Range, b: Range): Range {
  const c = [a[0] * b[0], a[0] * b[1], a[1] * b[0], a[1] * b[1]];
  return [Math.min(...c), Math.max(...c)];
}

/** The interval of x·x for x in `x` (0 when x may change sign). */
function squareInterval(x: Range): Range {
  const hi = Math.max(x[0] * x[0], x[1] * x[1]);
  const lo = x[0] <= 0 && x[1] >= 0 ? 0 : Math.min(x[0] * x[0], x[1] * x[1]);
  return [lo, hi];
}

/** MATMUL: K terms a·b summed, `K · max|a| · max|b| < 2^24`, then >> s and clip. */
export function matmulRange(layer: string, K: number, a: Range, b: Range, shift: number, clip: Range): Range {
  const bound = K * Math.max(Math.abs(a[0]), Math.abs(a[1])) * Math.max(Math.abs(b[0]), Math.abs(b[1]));
  if (bound >= EXACT_LIMIT) fail(layer, `the partial sums of ${K} products`, bound);
  const p = productInterval(a, b);
  return requantRange(K * p[0], K * p[1], shift, clip[0], clip[1]);
}

/**
 * PRODUCT: a·b, `max|a| · max|b| < 2^24`, then >> s and clip. When both operands are the same
 * tensor (`same`) the product is a square, never negative.
 */
export function productRange(layer: string, a: Range, b: Range, same: boolean, shift: number, clip: Range): Range {
  const bound = Math.max(Math.abs(a[0]), Math.abs(a[1])) * Math.max(Math.abs(b[0]), Math.abs(b[1]));
  if (bound >= EXACT_LIMIT) fail(layer, "the product", bound);
  const p = same ? squareInterval(a) : productInterval(a, b);
  return requantRange(p[0], p[1], shift, clip[0], clip[1]);
}
