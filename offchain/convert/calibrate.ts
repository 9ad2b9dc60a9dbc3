/**
 * Float64 evaluation of the IR on calibration inputs, recording the range of every
 * tensor. These ranges fix the activation scales; float64 (rather than the model's
 * float32) only makes the ranges slightly more accurate.
 */
import { ConvertError } from "./errors.js";
import type { Act, ConvNode, DenseNode, IrGraph, IrNode, MatMulNode, MaxPoolNode } from "./ir.js";
import { numel } from "./ir.js";

export interface TensorRange {
  min: number;
  max: number;
}

const clampAct = (v: number, a: Act): number => (v < a.lo ? a.lo : v > a.hi ? a.hi : v);

/** Over the last axis: every row r of x [1, R..., K]. */
function dense(n: DenseNode, x: Float64Array): Float64Array {
  const rows = x.length / n.K;
  const out = new Float64Array(rows * n.M);
  for (let r = 0; r < rows; r++) {
    const xo = r * n.K;
    for (let m = 0; m < n.M; m++) {
      let acc = n.B[m]!;
      const row = m * n.K;
      for (let k = 0; k < n.K; k++) acc += x[xo + k]! * n.W[row + k]!;
      out[r * n.M + m] = clampAct(acc, n.act);
    }
  }
  return out;
}

/** a [G, N, K] × b [G, K, M], times the gain. */
function matmul(n: MatMulNode, a: Float64Array, b: Float64Array): Float64Array {
  const { N, K, M } = n;
  const G = a.length / (N * K);
  const out = new Float64Array(G * N * M);
  for (let g = 0; g < G; g++) {
    for (let i = 0; i < N; i++) {
      for (let m = 0; m < M; m++) {
        let acc = 0;
        for (let j = 0; j < K; j++) acc += a[(g * N + i) * K + j]! * b[(g * K + j) * M + m]!;
        out[(g * N + i) * M + m] = clampAct(acc * n.gain, n.act);
      }
    }
  }
  return out;
}

/** The GATHER: out[e] = v[idx[e]], v the inputs concatenated and one 0 appended. */
export function gatherValues(idx: Int32Array, xs: readonly Float64Array[]): Float64Array {
  const v = new Float64Array(xs.reduce((s, x) => s + x.length, 0) + 1);
  let o = 0;
  for (const x of xs) {
    v.set(x, o);
    o += x.length;
  }
  return Float64Array.from(idx, (i) => v[i]!);
}

function conv(n: ConvNode, x: Float64Array): Float64Array {
  const { C, H, Wd, M, group, win } = n;
  const OH = n.outShape[2]!;
  const OW = n.outShape[3]!;
  const CG = C / group;
  const MG = M / group;
  const out = new Float64Array(M * OH * OW);
  for (let m = 0; m < M; m++) {
    const c0 = Math.floor(m / MG) * CG;
    for (let oy = 0; oy < OH; oy++) {
      for (let ox = 0; ox < OW; ox++) {
        let acc = n.B[m]!;
        for (let c = 0; c < CG; c++) {
          for (let i = 0; i < win.kh; i++) {
            const y = oy * win.sy + i - win.pt;
            if (y < 0 || y >= H) continue;
            const xrow = ((c0 + c) * H + y) * Wd;
            const wrow = ((m * CG + c) * win.kh + i) * win.kw;
            for (let j = 0; j < win.kw; j++) {
              const xx = ox * win.sx + j - win.pl;
              if (xx >= 0 && xx < Wd) acc += x[xrow + xx]! * n.W[wrow + j]!;
            }
          }
        }
        out[(m * OH + oy) * OW + ox] = clampAct(acc, n.act);
      }
    }
  }
  return out;
}

function maxpool(n: MaxPoolNode, x: Float64Array, inShape: readonly number[]): Float64Array {
  const [, C, H, Wd] = inShape as [number, number, number, number];
  const OH = n.outShape[2]!;
  const OW = n.outShape[3]!;
  const w = n.win;
  const out = new Float64Array(C * OH * OW);
  for (let c = 0; c < C; c++) {
    for (let oy = 0; oy < OH; oy++) {
      for (let ox = 0; ox < OW; ox++) {
        let best = -Infinity;
        for (let i = 0; i < w.kh; i++) {
          const y = oy * w.sy + i - w.pt;
          if (y < 0 || y >= H) continue;
          for (let j = 0; j < w.kw; j++) {
            const xx = ox * w.sx + j - w.pl;
            if (xx >= 0 && xx < Wd) best = Math.max(best, x[(c * H + y) * Wd + xx]!);
          }
        }
        out[(c * OH + oy) * OW + ox] = best;
      }
    }
  }
  return out;
}

function perChannelMap(shape: readonly number[], x: Float64Array, f: (v: number, c: number) => number): Float64Array {
  const inner = numel(shape.slice(2));
  const C = shape[1]!;
  return x.map((v, e) => f(v, Math.floor(e / inner) % C));
}

/** Evaluates one node given the values computed so far. */
export function evalNode(n: IrNode, vals: ReadonlyMap<string, Float64Array>, shapes: ReadonlyMap<string, readonly number[]>): Float64Array {
  const get = (t: string): Float64Array => vals.get(t)!;
  switch (n.kind) {
    case "dense": return dense(n, get(n.x));
    case "conv": return conv(n, get(n.x));
    case "add": {
      const b = get(n.b);
      return get(n.a).map((v, e) => clampAct(v + b[e]!, n.act));
    }
    case "addc": return perChannelMap(n.outShape, get(n.x), (v, c) => clampAct(v + n.c[c]!, n.act));
    case "mulc": return perChannelMap(n.outShape, get(n.x), (v, c) => clampAct(v * n.c[c]!, n.act));
    case "clamp": return get(n.x).map((v) => clampAct(v, n.act));
    case "maxpool": return maxpool(n, get(n.x), shapes.get(n.x)!);
    case "reshape": return get(n.x).slice();
    case "lut": {
      const f = n.fn.f;
      return get(n.x).map((v) => clampAct(f(v), n.act));
    }
    case "matmul": return matmul(n, get(n.a), get(n.b));
    case "prod": {
      const b = get(n.b);
      return get(n.a).map((v, e) => clampAct(v * b[e]! * n.gain, n.act));
    }
    case "gather": return gatherValues(n.idx, n.xs.map(get));
    case "const": return n.values.slice();
    case "elemc": return get(n.x).map((v, e) => clampAct(n.mode === "add" ? v + n.c[e]! : v * n.c[e]!, n.act));
  }
}

/** Runs the IR on every calibration input and returns each tensor's [min, max]. */
export function calibrate(g: IrGraph, inputs: readonly ArrayLike<number>[]): Map<string, TensorRange> {
  if (inputs.length === 0) throw new ConvertError("CALIBRATION", g.input, "graph input", "at least one calibration input is required");
  const size = numel(g.inputShape);
  const shapes = new Map<string, readonly number[]>([[g.input, g.inputShape]]);
  for (const n of g.nodes) shapes.set(n.out, n.outShape);
  const ranges = new Map<string, TensorRange>();
  const note = (t: string, v: Float64Array): void => {
    const r = ranges.get(t) ?? { min: Infinity, max: -Infinity };
    for (let i = 0; i < v.length; i++) {
      const x = v[i]!;
      if (x < r.min) r.min = x;
      if (x > r.max) r.max = x;
    }
    ranges.set(t, r);
  };
  inputs.forEach((inp, s) => {
    if (inp.length !== size) throw new ConvertError("CALIBRATION", g.input, "graph input", `calibration input ${s} has ${inp.length} values, expected ${size}`);
    const vals = new Map<string, Float64Array>([[g.input, Float64Array.from(inp)]]);
    note(g.input, vals.get(g.input)!);
    for (const n of g.nodes) {
      const v = evalNode(n, vals, shapes);
      // Name the node where a value stops being a number, not the output it spoils.
      const bad = v.findIndex((x) => !Number.isFinite(x));
      if (bad >= 0) {
        throw new ConvertError("CALIBRATION", n.name, n.op, `calibration sample ${s + 1} makes element ${bad} of its output ${v[bad]} (the function is undefined or infinite there)`);
      }
      vals.set(n.out, v);
      note(n.out, v);
    }
  });
  for (const [t, r] of ranges) {
    if (!Number.isFinite(r.min) || !Number.isFinite(r.max)) throw new ConvertError("CALIBRATION", t, "tensor", "calibration produced a non-finite value");
  }
  return ranges;
}
