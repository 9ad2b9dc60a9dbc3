/**
 * Reference interpreter of the canonical/1 semantics: exact integer kernels written
 * straight from docs/SEMANTICS.md. Plain JS numbers are exact here because every value
 * and partial sum is below 2^24 (far below 2^53). Used to cross-check onnxruntime and as
 * the model of what the on-chain one-step checker computes.
 */
import type { CanonicalLayer, CanonicalModel } from "../model/canonical.js";
import { numel } from "../model/canonical.js";
import {
  AddConst, AddParam, ClipParam, ConstConst, ConvConst, ConvParam, DenseConst, DenseParam, GatherConst, LayerKind,
  LutConst, LutParam, MatMulConst, MatMulParam, MaxPoolParam, MulConst, MulParam, ProductConst, ProductParam,
} from "../model/layers.js";
import type { InputLike } from "./input.js";
import { validateInput } from "./input.js";

const clip = (v: number, lo: number, hi: number): number => (v < lo ? lo : v > hi ? hi : v);
/** v >> s for integers (floor division by 2^s), exact below 2^53. */
const shr = (v: number, s: number): number => Math.floor(v / 2 ** s);

const P = (l: CanonicalLayer, i: number): number => l.params[i]!;
const K = (l: CanonicalLayer, i: number): Int32Array => l.constants[i]!.values;

/** DENSE on every row r of x [1, R..., K]: element e = r·M + m reads x[r·K + j]. */
function dense(l: CanonicalLayer, x: Int32Array): Int32Array {
  const k = P(l, DenseParam.K), m = P(l, DenseParam.M), lo = P(l, DenseParam.LO), hi = P(l, DenseParam.HI);
  const W = K(l, DenseConst.W), B = K(l, DenseConst.B), S = K(l, DenseConst.S);
  const rows = numel(l.outShape) / m;
  const out = new Int32Array(rows * m);
  for (let r = 0; r < rows; r++) {
    const xr = r * k;
    for (let j = 0; j < m; j++) {
      let acc = B[j]!;
      const row = j * k;
      for (let i = 0; i < k; i++) acc += x[xr + i]! * W[row + i]!;
      out[r * m + j] = clip(shr(acc, S[j]!), lo, hi);
    }
  }
  return out;
}

/** MATMUL: element (g, n, m) = Σ_j a[(g·N + n)·K + j] · b[(g·K + j)·M + m], >> s, clipped. */
function matmul(l: CanonicalLayer, a: Int32Array, b: Int32Array): Int32Array {
  const N = P(l, MatMulParam.N), k = P(l, MatMulParam.K), M = P(l, MatMulParam.M);
  const lo = P(l, MatMulParam.LO), hi = P(l, MatMulParam.HI);
  const s = K(l, MatMulConst.S)[0]!;
  const G = numel(l.outShape) / (N * M);
  const out = new Int32Array(G * N * M);
  for (let g = 0; g < G; g++) {
    for (let n = 0; n < N; n++) {
      for (let m = 0; m < M; m++) {
        let acc = 0;
        for (let j = 0; j < k; j++) acc += a[(g * N + n) * k + j]! * b[(g * k + j) * M + m]!;
        out[(g * N + n) * M + m] = clip(shr(acc, s), lo, hi);
      }
    }
  }
  return out;
}

/** PRODUCT: clip((a[e]·b[e]) >> s, lo, hi). */
function product(l: CanonicalLayer, a: Int32Array, b: Int32Array): Int32Array {
  const lo = P(l, ProductParam.LO), hi = P(l, ProductParam.HI);
  const s = K(l, ProductConst.S)[0]!;
  const out = new Int32Array(a.length);
  for (let e = 0; e < a.length; e++) out[e] = clip(shr(a[e]! * b[e]!, s), lo, hi);
  return out;
}

/** GATHER: v = the inputs' elements concatenated, then one 0; y[e] = v[idx[e]]. */
function gather(l: CanonicalLayer, inputs: readonly Int32Array[]): Int32Array {
  const total = l.params.reduce((x, y) => x + y, 0);
  const v = new Int32Array(total + 1);
  let off = 0;
  inputs.forEach((t, i) => {
    if (t.length !== l.params[i]) throw new Error(`GATHER input ${i} has ${t.length} elements, params say ${l.params[i]}`);
    v.set(t, off);
    off += t.length;
  });
  const idx = K(l, GatherConst.IDX);
  const out = new Int32Array(idx.length);
  for (let e = 0; e < idx.length; e++) {
    const j = idx[e]!;
    if (j < 0 || j > total) throw new Error(`GATHER index ${j} outside [0, ${total}] (the validator should have refused this model)`);
    out[e] = v[j]!;
  }
  return out;
}

function conv(l: CanonicalLayer, x: Int32Array): Int32Array {
  const [C, H, Wd, M, KH, KW, SY, SX, PT, PL] = [
    P(l, ConvParam.C), P(l, ConvParam.H), P(l, ConvParam.W), P(l, ConvParam.M), P(l, ConvParam.KH),
    P(l, ConvParam.KW), P(l, ConvParam.SY), P(l, ConvParam.SX), P(l, ConvParam.PT), P(l, ConvParam.PL),
  ] as const;
  const G = P(l, ConvParam.GROUP), lo = P(l, ConvParam.LO), hi = P(l, ConvParam.HI);
  const W = K(l, ConvConst.W), B = K(l, ConvConst.B), S = K(l, ConvConst.S);
  const OH = l.outShape[2]!, OW = l.outShape[3]!;
  const CG = C / G, MG = M / G;
  const out = new Int32Array(M * OH * OW);
  for (let m = 0; m < M; m++) {
    const c0 = Math.floor(m / MG) * CG;
    for (let oy = 0; oy < OH; oy++) {
      for (let ox = 0; ox < OW; ox++) {
        let acc = B[m]!;
        for (let c = 0; c < CG; c++) {
          for (let i = 0; i < KH; i++) {
            const y = oy * SY + i - PT;
            if (y < 0 || y >= H) continue; // out-of-range x reads as 0
            for (let j = 0; j < KW; j++) {
              const xx = ox * SX + j - PL;
              if (xx < 0 || xx >= Wd) continue;
              acc += x[((c0 + c) * H + y) * Wd + xx]! * W[((m * CG + c) * KH + i) * KW + j]!;
            }
          }
        }
        out[(m * OH + oy) * OW + ox] = clip(shr(acc, S[m]!), lo, hi);
      }
    }
  }
  return out;
}

/** Channel (axis 1) of element e of a [1, C, ...] tensor. */
function channelOf(shape: readonly number[]): (e: number) => number {
  const C = shape[1]!;
  const inner = numel(shape.slice(2));
  return (e) => Math.floor(e / inner) % C;
}

function add(l: CanonicalLayer, a: Int32Array, b: Int32Array | undefined): Int32Array {
  const lo = P(l, AddParam.LO), hi = P(l, AddParam.HI);
  const s = K(l, AddConst.S)[0]!;
  const ch = channelOf(l.outShape);
  const Bc = b ? undefined : K(l, AddConst.B);
  const out = new Int32Array(a.length);
  for (let e = 0; e < a.length; e++) out[e] = clip(shr(a[e]! + (b ? b[e]! : Bc![ch(e)]!), s), lo, hi);
  return out;
}

function mul(l: CanonicalLayer, x: Int32Array): Int32Array {
  const lo = P(l, MulParam.LO), hi = P(l, MulParam.HI);
  const S = K(l, MulConst.S), Cm = K(l, MulConst.C);
  const ch = channelOf(l.outShape);
  const out = new Int32Array(x.length);
  for (let e = 0; e < x.length; e++) {
    const c = ch(e);
    out[e] = clip(shr(x[e]! * Cm[c]!, S[c]!), lo, hi);
  }
  return out;
}

function maxpool(l: CanonicalLayer, x: Int32Array): Int32Array {
  const [C, H, Wd, KH, KW, SY, SX, PT, PL] = [
    P(l, MaxPoolParam.C), P(l, MaxPoolParam.H), P(l, MaxPoolParam.W), P(l, MaxPoolParam.KH), P(l, MaxPoolParam.KW),
    P(l, MaxPoolParam.SY), P(l, MaxPoolParam.SX), P(l, MaxPoolParam.PT), P(l, MaxPoolParam.PL),
  ] as const;
  const OH = l.outShape[2]!, OW = l.outShape[3]!;
  const out = new Int32Array(C * OH * OW);
  for (let c = 0; c < C; c++) {
    for (let oy = 0; oy < OH; oy++) {
      for (let ox = 0; ox < OW; ox++) {
        let best = -Infinity; // padding never wins: only in-range elements compete
        for (let i = 0; i < KH; i++) {
          const y = oy * SY + i - PT;
          if (y < 0 || y >= H) continue;
          for (let j = 0; j < KW; j++) {
            const xx = ox * SX + j - PL;
            if (xx < 0 || xx >= Wd) continue;
            const v = x[(c * H + y) * Wd + xx]!;
            if (v > best) best = v;
          }
        }
        out[(c * OH + oy) * OW + ox] = best;
      }
    }
  }
  return out;
}

function lut(l: CanonicalLayer, x: Int32Array): Int32Array {
  const lo = P(l, LutParam.LO), hi = P(l, LutParam.HI);
  const T = K(l, LutConst.T);
  const out = new Int32Array(x.length);
  for (let e = 0; e < x.length; e++) {
    const v = x[e]!;
    if (v < lo || v > hi) throw new Error(`LUT input ${v} outside [${lo}, ${hi}] (the validator should have refused this model)`);
    out[e] = T[v - lo]!;
  }
  return out;
}

/**
 * Output of one layer given the trace tensors it reads (`inputs[k]` = trace tensor
 * `layer.inputs[k]`).
 */
export function evalLayer(layer: CanonicalLayer, inputs: readonly Int32Array[]): Int32Array {
  const x = inputs[0]!;
  switch (layer.kind) {
    case LayerKind.DENSE:
      return dense(layer, x);
    case LayerKind.CONV:
      return conv(layer, x);
    case LayerKind.ADD:
      return add(layer, x, inputs[1]);
    case LayerKind.MUL:
      return mul(layer, x);
    case LayerKind.RELU:
      return x.map((v) => (v > 0 ? v : 0));
    case LayerKind.CLIP: {
      const lo = P(layer, ClipParam.LO), hi = P(layer, ClipParam.HI);
      return x.map((v) => clip(v, lo, hi));
    }
    case LayerKind.MAXPOOL:
      return maxpool(layer, x);
    case LayerKind.RESHAPE:
      return x.slice();
    case LayerKind.LUT:
      return lut(layer, x);
    case LayerKind.MATMUL:
      return matmul(layer, x, inputs[1]!);
    case LayerKind.PRODUCT:
      return product(layer, x, inputs[1]!);
    case LayerKind.GATHER:
      return gather(layer, inputs);
    case LayerKind.CONST:
      return K(layer, ConstConst.C).slice();
  }
}

/** The whole trace [input, out_1, …, out_n] computed by the reference semantics. */
export function referenceTrace(model: CanonicalModel, input: InputLike): Int32Array[] {
  const trace: Int32Array[] = [validateInput(model, input)];
  for (const layer of model.layers) trace.push(evalLayer(layer, layer.inputs.map((i) => trace[i]!)));
  return trace;
}

/** Every layer output (element i = output of layer i + 1); the last one is the model output. */
export function runReference(model: CanonicalModel, input: InputLike): Int32Array[] {
  return referenceTrace(model, input).slice(1);
}
