/**
 * Index tables and fixed weights of the spatial data-movement ops: ConvTranspose (its zero-inserting,
 * padding GATHER and the CONV kernel that follows it), Resize / Upsample (nearest: a GATHER; linear at
 * integer upsampling factors: an edge-replicating GATHER and a fixed-weight ConvTranspose), DepthToSpace
 * and SpaceToDepth. Pure functions of shapes and attributes; load.ts emits the layers. An index equal
 * to the input's element count reads the 0 a GATHER appends (docs/SEMANTICS.md).
 */
import { numel } from "./ir.js";

/** Thrown for a geometry the lowering cannot express; load.ts turns it into a ConvertError. */
export class ResampleError extends Error {}

/** Row-major strides of a shape. */
function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length).fill(1);
  for (let k = shape.length - 2; k >= 0; k--) s[k] = s[k + 1]! * shape[k + 1]!;
  return s;
}

/**
 * A GATHER table built axis by axis: output element (o_0, …, o_r) reads input element
 * (maps[0][o_0], …, maps[r][o_r]); a −1 in any map reads the appended 0 (index numel(inShape)).
 */
export function separableIndex(inShape: readonly number[], maps: readonly Int32Array[]): Int32Array {
  const outShape = maps.map((m) => m.length);
  const total = numel(inShape);
  const st = stridesOf(inShape);
  const idx = new Int32Array(numel(outShape));
  const rank = outShape.length;
  const o = new Array<number>(rank).fill(0);
  for (let e = 0; e < idx.length; e++) {
    let at = 0;
    for (let k = 0; k < rank; k++) {
      const i = maps[k]![o[k]!]!;
      if (i < 0) {
        at = total;
        break;
      }
      at += i * st[k]!;
    }
    idx[e] = at;
    for (let k = rank - 1; k >= 0; k--) {
      if (++o[k]! < outShape[k]!) break;
      o[k] = 0;
    }
  }
  return idx;
}

const identityMap = (n: number): Int32Array => Int32Array.from({ length: n }, (_, i) => i);

// ---------------------------------------------------------------------------------------------
// ConvTranspose

/** One spatial axis of a ConvTranspose: input length, kernel, stride, pads and output_padding. */
export interface TransposedAxis {
  readonly n: number;
  readonly k: number;
  readonly s: number;
  readonly padBegin: number;
  readonly padEnd: number;
  readonly outPad: number;
}

/** ONNX's output length: s·(n − 1) + output_padding + k − pads. */
export const transposedOut = (a: TransposedAxis): number => a.s * (a.n - 1) + a.outPad + a.k - a.padBegin - a.padEnd;

/**
 * ONNX's pads when output_shape is given or auto_pad is SAME_*: total = s·(n − 1) + output_padding + k − out,
 * split with the odd unit at the end for SAME_UPPER, at the start otherwise (the operator's definition).
 */
export function transposedPads(n: number, k: number, s: number, outPad: number, out: number, upper: boolean): [number, number] {
  const total = s * (n - 1) + outPad + k - out;
  const half = Math.floor(total / 2);
  return upper ? [half, total - half] : [total - half, half];
}

/**
 * The map of the GATHER before the CONV of a ConvTranspose along one axis: the input with s − 1 zeros
 * between its elements, padded by k − 1 − padBegin at the start (cropped where that is negative) and
 * to out + k − 1 elements in all, so that a stride-1 CONV with the flipped kernel gives the output.
 */
export function transposedMap(a: TransposedAxis): Int32Array {
  const len = transposedOut(a) + a.k - 1;
  if (len < a.k) throw new ResampleError(`the output would be empty (${transposedOut(a)} along an axis)`);
  const lead = a.k - 1 - a.padBegin;
  return Int32Array.from({ length: len }, (_, z) => {
    const u = z - lead;
    return u >= 0 && u % a.s === 0 && u / a.s < a.n ? u / a.s : -1;
  });
}

/**
 * The CONV weights [M, C/G, KH, KW] equivalent to ConvTranspose weights [C, M/G, KH, KW] over the
 * zero-inserted input: each group's in/out channels swapped, the kernel flipped in both axes.
 */
export function transposedKernel(W: ArrayLike<number>, C: number, MG: number, KH: number, KW: number, group: number): Float64Array {
  const CG = C / group;
  const M = MG * group;
  const out = new Float64Array(M * CG * KH * KW);
  for (let g = 0; g < group; g++) {
    for (let ci = 0; ci < CG; ci++) {
      for (let mo = 0; mo < MG; mo++) {
        for (let y = 0; y < KH; y++) {
          for (let x = 0; x < KW; x++) {
            const src = (((g * CG + ci) * MG + mo) * KH + (KH - 1 - y)) * KW + (KW - 1 - x);
            const dst = (((g * MG + mo) * CG + ci) * KH + y) * KW + x;
            out[dst] = W[src]!;
          }
        }
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Resize

export const COORDINATE_MODES = [
  "half_pixel", "half_pixel_symmetric", "pytorch_half_pixel", "align_corners", "asymmetric", "tf_half_pixel_for_nn", "tf_crop_and_resize",
] as const;
export type CoordinateMode = (typeof COORDINATE_MODES)[number];
export const NEAREST_MODES = ["round_prefer_floor", "round_prefer_ceil", "floor", "ceil"] as const;
export type NearestMode = (typeof NEAREST_MODES)[number];

/** One axis of a Resize: input length n, output length m, the scale (given, or m / n), the roi's start and end. */
export interface ResizeAxis {
  readonly n: number;
  readonly m: number;
  readonly scale: number;
  readonly roiStart: number;
  readonly roiEnd: number;
}

/** x_original of output coordinate o, exactly as the Resize operator defines each mode. */
export function originalCoordinate(mode: CoordinateMode, a: ResizeAxis, o: number): number {
  const { n, m, scale } = a;
  switch (mode) {
    case "half_pixel": return (o + 0.5) / scale - 0.5;
    case "half_pixel_symmetric": {
      const adjustment = m / (scale * n);
      const offset = (n / 2) * (1 - adjustment);
      return offset + (o + 0.5) / scale - 0.5;
    }
    case "pytorch_half_pixel": return m > 1 ? (o + 0.5) / scale - 0.5 : 0;
    case "align_corners": return m === 1 ? 0 : (o * (n - 1)) / (m - 1);
    case "asymmetric": return o / scale;
    case "tf_half_pixel_for_nn": return (o + 0.5) / scale;
    case "tf_crop_and_resize":
      return m > 1 ? a.roiStart * (n - 1) + (o * (a.roiEnd - a.roiStart) * (n - 1)) / (m - 1) : 0.5 * (a.roiStart + a.roiEnd) * (n - 1);
  }
}

function nearest(x: number, mode: NearestMode): number {
  const fl = Math.floor(x);
  const half = x - fl === 0.5;
  switch (mode) {
    case "round_prefer_floor": return half ? fl : Math.floor(x + 0.5);
    case "round_prefer_ceil": return half ? fl + 1 : Math.floor(x + 0.5);
    case "floor": return fl;
    case "ceil": return Math.ceil(x);
  }
}

/**
 * Resize nearest along one axis: the input index each output index reads, clamped to [0, n − 1]; −1
 * (the appended 0: extrapolation_value must be 0) where tf_crop_and_resize falls outside the input.
 */
export function nearestMap(a: ResizeAxis, coord: CoordinateMode, mode: NearestMode): Int32Array {
  return Int32Array.from({ length: a.m }, (_, o) => {
    const x = originalCoordinate(coord, a, o);
    if (coord === "tf_crop_and_resize" && (x < 0 || x > a.n - 1)) return -1;
    return Math.min(Math.max(nearest(x, mode), 0), a.n - 1);
  });
}

/**
 * Resize linear along one axis upsampled by the integer factor s = m / n, as a ConvTranspose of stride s,
 * kernel 3s and pads 2s over the input edge-replicated by one element on each side: output s·i + r is
 * (1 − f)·x[i + t] + f·x[i + t + 1] with t = ⌊d_r⌋ ∈ {−1, 0}, f = d_r − t, d_r = x_original(s·i + r) − i,
 * which must not depend on i (it does not for half_pixel, pytorch_half_pixel, half_pixel_symmetric and
 * asymmetric at integer factors). Returns the 1-D ConvTranspose kernel, or a reason it is not one.
 */
export function linearKernel(a: ResizeAxis, coord: CoordinateMode): Float64Array | string {
  if (a.m % a.n !== 0) return `output length ${a.m} is not an integer multiple of the input length ${a.n}`;
  const s = a.m / a.n;
  const d = Array.from({ length: s }, (_, r) => originalCoordinate(coord, a, r));
  for (let o = 0; o < a.m; o++) {
    const i = Math.floor(o / s);
    const x = originalCoordinate(coord, a, o);
    if (Math.abs(x - i - d[o - i * s]!) > 1e-9) return `coordinate_transformation_mode ${coord} does not repeat with the factor ${s} (output ${o} reads ${x})`;
  }
  const k = new Float64Array(3 * s);
  for (let r = 0; r < s; r++) {
    const t = Math.floor(d[r]!);
    const f = d[r]! - t;
    if (t < -1 || t > 0) return `output ${r} reads ${d[r]}, beyond the neighbouring input elements`;
    // Kernel tap k = r + s·(1 − t') weighs x[i + t'] (see the function's comment).
    k[r + s * (1 - t)] += 1 - f;
    k[r + s * (1 - (t + 1))] += f;
  }
  return k;
}

/** The edge-replicating map of one axis: n + 2 elements, x[0], x[0..n−1], x[n−1]. */
export const edgeMap = (n: number): Int32Array => Int32Array.from({ length: n + 2 }, (_, j) => Math.min(Math.max(j - 1, 0), n - 1));

// ---------------------------------------------------------------------------------------------
// Pad (edge, reflect, wrap)

/** Pad of mode edge, reflect or wrap along one axis: the input index each output index reads. */
export function padMap(n: number, begin: number, end: number, mode: "edge" | "reflect" | "wrap"): Int32Array {
  if (mode === "reflect" && n === 1 && begin + end > 0) return Int32Array.from({ length: n + begin + end }, () => 0);
  return Int32Array.from({ length: n + begin + end }, (_, o) => {
    let i = o - begin;
    if (mode === "edge") return Math.min(Math.max(i, 0), n - 1);
    if (mode === "wrap") return ((i % n) + n) % n;
    // reflect: mirror without repeating the edge, period 2(n − 1)
    const p = 2 * (n - 1);
    i = ((i % p) + p) % p;
    return i < n ? i : p - i;
  });
}

// ---------------------------------------------------------------------------------------------
// DepthToSpace / SpaceToDepth

/** DepthToSpace of [1, C, H, W] by block b: [1, C/b², H·b, W·b]; DCR reads channel (i·b + j)·C' + c, CRD c·b² + i·b + j. */
export function depthToSpaceIndex(C: number, H: number, W: number, b: number, mode: "DCR" | "CRD"): Int32Array {
  const Co = C / (b * b);
  const idx = new Int32Array(C * H * W);
  let e = 0;
  for (let c = 0; c < Co; c++) {
    for (let y = 0; y < H * b; y++) {
      for (let x = 0; x < W * b; x++) {
        const i = y % b;
        const j = x % b;
        const ch = mode === "DCR" ? (i * b + j) * Co + c : c * b * b + i * b + j;
        idx[e++] = (ch * H + Math.floor(y / b)) * W + Math.floor(x / b);
      }
    }
  }
  return idx;
}

/** SpaceToDepth of [1, C, H, W] by block b: [1, C·b², H/b, W/b], channel (i·b + j)·C + c reads x[c, h·b + i, w·b + j]. */
export function spaceToDepthIndex(C: number, H: number, W: number, b: number): Int32Array {
  const idx = new Int32Array(C * H * W);
  let e = 0;
  for (let i = 0; i < b; i++) {
    for (let j = 0; j < b; j++) {
      for (let c = 0; c < C; c++) {
        for (let h = 0; h < H / b; h++) {
          for (let w = 0; w < W / b; w++) idx[e++] = (c * H + h * b + i) * W + w * b + j;
        }
      }
    }
  }
  return idx;
}

export { identityMap };
