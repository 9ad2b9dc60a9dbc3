/**
 * Quantization arithmetic for one output channel of a weighted sum (DENSE/CONV row, or a
 * MUL factor as a row of length 1).
 *
 * Real values: x = sx·xq, y = sy·yq. With weights wq = round(w / sw) and requantization
 * yq = floor((B + Σ xq·wq) / 2^s), the output scale is sy = sx·sw·2^s, so for a given
 * output scale each shift s fixes the weight step sw = sy / (sx·2^s). Larger s means finer
 * weights; the exactness rule |B| + Σ|wq|·max|xq| < 2^24 and the weight bit-width cap
 * bound s from above. Rounding to nearest comes from adding 2^(s-1) to B.
 */
import { EXACT_LIMIT, MAX_SHIFT } from "../model/layers.js";

export interface RowQuant {
  shift: number;
  /** Quantized weights, same order as the float row. */
  w: Int32Array;
  /** Integer bias including the rounding term 2^(s-1) when requested. */
  b: number;
  /** The rounding term folded into b (0 or 2^(s-1)). */
  half: number;
  /** Real weight step sw (wq·sw ≈ w). */
  step: number;
}

function absStats(w: ArrayLike<number>): { max: number; sum: number } {
  let max = 0;
  let sum = 0;
  for (let i = 0; i < w.length; i++) {
    const a = Math.abs(w[i]!);
    sum += a;
    if (a > max) max = a;
  }
  return { max, sum };
}

/**
 * The largest shift whose quantized row meets the weight cap and the exactness rule, or
 * undefined when even s = 0 does not (the output scale `sy` is then too fine).
 */
export function quantizeRow(
  w: ArrayLike<number>,
  bias: number,
  sx: number,
  sy: number,
  xmax: number,
  wqmax: number,
  roundBias: boolean,
): RowQuant | undefined {
  const K = w.length;
  const st = absStats(w);
  for (let s = MAX_SHIFT; s >= 0; s--) {
    const step = sy / (sx * 2 ** s);
    // Cheap rejections before rounding every weight.
    if (st.max / step > wqmax + 0.5) continue;
    if ((st.sum / step - K / 2) * xmax > EXACT_LIMIT) continue;
    const q = new Int32Array(K);
    let sum = 0;
    let max = 0;
    for (let k = 0; k < K; k++) {
      const v = Math.round(w[k]! / step);
      q[k] = v;
      const a = Math.abs(v);
      sum += a;
      if (a > max) max = a;
    }
    const half = roundBias && s > 0 ? 2 ** (s - 1) : 0;
    const b = Math.round(bias / (sy / 2 ** s)) + half;
    if (max <= wqmax && Math.abs(b) + sum * xmax < EXACT_LIMIT) return { shift: s, w: q, b, half, step };
  }
  return undefined;
}

/**
 * Smallest output scale for which quantizeRow can succeed at s = 0 (a lower bound used to
 * choose a feasible scale; quantizeRow has the final word).
 */
export function minOutputScale(w: ArrayLike<number>, bias: number, sx: number, xmax: number, wqmax: number): number {
  const st = absStats(w);
  const room = EXACT_LIMIT - (w.length / 2) * xmax - 1;
  if (room <= 0) return Infinity;
  const byCap = (st.max * sx) / wqmax;
  const byBound = (st.sum * sx * xmax + Math.abs(bias)) / room;
  return Math.max(byCap, byBound) * (1 + 1e-9);
}

/**
 * Worst-case real error of one channel's output before requantization rounding, given
 * the input's error bound ex and magnitude bound xm (real units): weight rounding,
 * input error through the weights, and bias rounding.
 */
export function rowError(w: ArrayLike<number>, bias: number, q: RowQuant, sy: number, ex: number, xm: number): number {
  let sw = 0;
  let sd = 0;
  for (let k = 0; k < w.length; k++) {
    sw += Math.abs(w[k]!);
    sd += Math.abs(q.w[k]! * q.step - w[k]!);
  }
  const biasErr = Math.abs((q.b - q.half) * (sy / 2 ** q.shift) - bias);
  return sw * ex + sd * (xm + ex) + biasErr;
}

/** Signed bit-width of the largest |value| (what a weight of this layer needs). */
export function bitsFor(maxAbs: number): number {
  return maxAbs === 0 ? 1 : Math.floor(Math.log2(maxAbs)) + 2;
}
