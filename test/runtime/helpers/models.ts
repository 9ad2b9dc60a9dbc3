/**
 * Random small canonical models, one generator per layer kind, covering the parameter
 * space (strides, pads, groups incl. depthwise, per-channel shifts, transB, constants) and
 * ranges right up to the 2^24 exactness edge. Every model they return passes validation.
 */
import { CanonicalModelBuilder } from "../../../offchain/model/build.js";
import type { Pair, Quad } from "../../../offchain/model/build.js";
import { LayerKind } from "../../../offchain/model/layers.js";
import { LIMIT, Rng } from "./random.js";

export interface RandomModel {
  bytes: Uint8Array;
  /** Human-readable description for failure messages. */
  desc: string;
}

const log2ceil = (v: number): number => Math.ceil(Math.log2(Math.max(1, v)));

function inputRange(r: Rng, maxAbs = LIMIT - 1): Pair {
  const choice = r.int(0, 6);
  let lo: number;
  let hi: number;
  if (choice === 0) [lo, hi] = [-128, 127];
  else if (choice === 1) [lo, hi] = [0, 255];
  else if (choice === 2) [lo, hi] = [-1, 1];
  else if (choice === 3) {
    const k = r.int(1, 23);
    [lo, hi] = [-(2 ** k), 2 ** k - 1];
  } else if (choice === 4) [lo, hi] = [-(LIMIT - 1), LIMIT - 1];
  else {
    lo = r.int(-1000, 1000);
    hi = lo + r.int(0, 2000);
  }
  return [Math.max(lo, -maxAbs), Math.min(hi, maxAbs)] as Pair;
}

/** Clip bounds: common int8/uint8 ones, no-op ones, random ones, or ones that fit `natural`. */
function clipRange(r: Rng, natural?: number): Pair {
  if (natural !== undefined && r.bool(0.4)) {
    const n = Math.min(LIMIT - 1, Math.max(1, Math.round(natural * (0.3 + r.next()))));
    return [-n, n];
  }
  const c = r.int(0, 4);
  if (c === 0) return [-128, 127];
  if (c === 1) return [0, 255];
  if (c === 2) return [-(LIMIT - 1), LIMIT - 1];
  const lo = r.int(-3000, 3000);
  return [lo, lo + r.int(0, 3000)];
}

/**
 * A shift that brings accumulators of typical magnitude `typical` to about 2^(6..9), so most
 * outputs land inside int8/int16-like clip ranges; sometimes an extreme (0 or 24).
 */
function shiftFor(r: Rng, typical: number): number {
  if (r.bool(0.08)) return r.pick([0, 24]);
  return Math.min(24, Math.max(0, log2ceil(typical) - r.int(5, 9)));
}

function shifts(r: Rng, n: number, typical: number): number | number[] {
  return r.bool(0.5) ? shiftFor(r, typical) : Array.from({ length: n }, () => shiftFor(r, typical));
}

/** Weights for rows of `rowLen` reading |x| <= xm, with |B| + Σ|w|·xm < 2^24. */
function weightsAndBias(r: Rng, rows: number, rowLen: number, xm: number) {
  const bmax = Math.min(r.pick([0, 10, 1000, 100000]), Math.floor((LIMIT - 1) / 4));
  const wEdge = Math.floor((LIMIT - 1 - bmax) / Math.max(1, rowLen * Math.max(1, xm)));
  const wmax = Math.max(0, Math.min(r.pick([1, 3, 8, 31, 127, 100000]), wEdge));
  // Near the edge, make weights large on purpose so partial sums approach 2^24.
  const nearEdge = wmax === wEdge && r.bool(0.5);
  const w = Array.from({ length: rows * rowLen }, () =>
    nearEdge ? (r.bool() ? 1 : -1) * r.int(Math.floor(wmax * 0.8), wmax) : r.int(-wmax, wmax),
  );
  const bias = r.bool(0.8) ? r.ints(rows, -bmax, bmax) : undefined;
  // Random-sign sums grow like sqrt(rowLen); this is the scale outputs actually reach.
  const typical = Math.sqrt(rowLen) * (nearEdge ? wmax : wmax / 2) * (xm / 2) + (bias ? bmax / 2 : 0);
  return { w, bias, typical };
}

function randomShape(r: Rng): number[] {
  const rank = r.int(2, 4);
  if (rank === 2) return [1, r.int(1, 64)];
  if (rank === 3) return [1, r.int(1, 6), r.int(1, 12)];
  return [1, r.int(1, 5), r.int(1, 7), r.int(1, 7)];
}

const xmOf = (p: Pair): number => Math.max(Math.abs(p[0]), Math.abs(p[1]));

export function randomDense(r: Rng, large = false): RandomModel {
  const K = large ? r.int(1024, 4096) : r.pick([r.int(1, 16), r.int(1, 300)]);
  const M = large ? r.int(64, 256) : r.int(1, 40);
  // Over the last axis of a rank-3/4 input (one row per token) as often as on a [1, K] input.
  const rows = large || r.bool() ? [] : r.bool() ? [r.int(1, 6)] : [r.int(1, 4), r.int(1, 4)];
  const range = inputRange(r, large ? 4095 : LIMIT - 1);
  const { w, bias, typical } = weightsAndBias(r, M, K, xmOf(range));
  const transB = r.bool();
  // `w` is row m = output m ([M, K]); lay it out as ONNX wants.
  const weight = transB ? w : Array.from({ length: K * M }, (_, i) => w[(i % M) * K + Math.floor(i / M)]!);
  const clip = clipRange(r, 200);
  const sh = shifts(r, M, typical);
  const shape = [1, ...rows, K];
  const bytes = new CanonicalModelBuilder(shape, range)
    .dense({ weight, units: M, transB, bias, shift: sh, clip, name: "fc" })
    .build();
  return { bytes, desc: `DENSE in=${shape} K=${K} M=${M} transB=${transB} range=${range} shift=${sh} clip=${clip}` };
}

export function randomConv(r: Rng, large = false): RandomModel {
  const C = large ? 16 : r.int(1, 6);
  const mode = r.pick(["one", "depthwise", "grouped"] as const);
  let g = 1;
  if (mode === "depthwise") g = C;
  else if (mode === "grouped") g = r.pick(Array.from({ length: C }, (_, i) => i + 1).filter((d) => C % d === 0));
  const M = large ? 32 : g * r.int(1, mode === "one" ? 6 : 2);
  const H = large ? 32 : r.int(1, 10);
  const W = large ? 32 : r.int(1, 10);
  const pads: Quad = large ? [1, 1, 1, 1] : [r.int(0, 2), r.int(0, 2), r.int(0, 2), r.int(0, 2)];
  const KH = large ? 3 : r.int(1, Math.min(5, H + pads[0] + pads[2]));
  const KW = large ? 3 : r.int(1, Math.min(5, W + pads[1] + pads[3]));
  const strides: Pair = large ? [1, 1] : [r.int(1, 3), r.int(1, 3)];
  const range = inputRange(r);
  const rowLen = (C / g) * KH * KW;
  const { w, bias, typical } = weightsAndBias(r, M, rowLen, xmOf(range));
  const clip = clipRange(r, 200);
  const sh = shifts(r, M, typical);
  const bytes = new CanonicalModelBuilder([1, C, H, W], range)
    .conv({ weight: w, outChannels: M, kernel: [KH, KW], bias, strides, pads, group: g, shift: sh, clip, name: "conv" })
    .build();
  return {
    bytes,
    desc: `CONV C=${C} HxW=${H}x${W} M=${M} k=${KH}x${KW} s=${strides} p=${pads} g=${g} range=${range} shift=${sh}`,
  };
}

export function randomAdd(r: Rng): RandomModel {
  const shape = randomShape(r);
  const range = inputRange(r, 2 ** 22);
  const mode = r.int(0, 3);
  const b = new CanonicalModelBuilder(shape, range);
  const shift = r.int(0, 3);
  const clip = clipRange(r, (2 * xmOf(range)) / 2 ** shift);
  if (mode === 0) b.relu().add({ other: 0, shift, clip, name: "add" });
  else if (mode === 1) b.add({ input: 0, other: 0, shift, clip, name: "add" });
  else if (mode === 2) b.add({ constant: r.int(-(2 ** 22), 2 ** 22), shift, clip, name: "add" });
  else b.add({ constant: r.ints(shape[1]!, -1000, 1000), shift, clip, name: "add" });
  return { bytes: b.build(), desc: `ADD shape=${shape} mode=${mode} range=${range} shift=${shift} clip=${clip}` };
}

export function randomMul(r: Rng): RandomModel {
  const shape = randomShape(r);
  const range = inputRange(r);
  const xm = Math.max(1, xmOf(range));
  const fmax = Math.max(1, Math.min(r.pick([1, 5, 127, 5000]), Math.floor((LIMIT - 1) / xm)));
  const C = shape[1]!;
  const factor = r.bool() ? r.int(-fmax, fmax) : r.ints(C, -fmax, fmax);
  const sh = shifts(r, C, (fmax * xm) / 2);
  const clip = clipRange(r, 200);
  const bytes = new CanonicalModelBuilder(shape, range).mul({ factor, shift: sh, clip, name: "mul" }).build();
  return { bytes, desc: `MUL shape=${shape} range=${range} factor=${factor} shift=${sh} clip=${clip}` };
}

export function randomRelu(r: Rng): RandomModel {
  const shape = randomShape(r);
  const range = inputRange(r);
  return { bytes: new CanonicalModelBuilder(shape, range).relu({ name: "relu" }).build(), desc: `RELU shape=${shape} range=${range}` };
}

export function randomClip(r: Rng): RandomModel {
  const shape = randomShape(r);
  const range = inputRange(r);
  const lo = r.int(range[0] - 10, range[1] + 10);
  const hi = r.int(lo, range[1] + 20);
  const bytes = new CanonicalModelBuilder(shape, range).clip({ lo, hi, name: "clip" }).build();
  return { bytes, desc: `CLIP shape=${shape} range=${range} lo=${lo} hi=${hi}` };
}

export function randomMaxPool(r: Rng): RandomModel {
  const [C, H, W] = [r.int(1, 5), r.int(1, 10), r.int(1, 10)];
  const KH = r.int(1, Math.min(4, H));
  const KW = r.int(1, Math.min(4, W));
  const pads: Quad = [r.int(0, KH - 1), r.int(0, KW - 1), r.int(0, KH - 1), r.int(0, KW - 1)];
  const strides: Pair = [r.int(1, 3), r.int(1, 3)];
  const range = inputRange(r);
  const bytes = new CanonicalModelBuilder([1, C, H, W], range)
    .maxpool({ kernel: [KH, KW], strides, pads, name: "pool" })
    .build();
  return { bytes, desc: `MAXPOOL C=${C} HxW=${H}x${W} k=${KH}x${KW} s=${strides} p=${pads} range=${range}` };
}

function factorizations(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i + 1).filter((d) => n % d === 0);
}

export function randomReshape(r: Rng): RandomModel {
  const shape = randomShape(r);
  const n = shape.reduce((a, b) => a * b, 1);
  const range = inputRange(r);
  const b = new CanonicalModelBuilder(shape, range);
  const mode = r.int(0, 3);
  let desc: string;
  if (mode === 0) {
    const axis = r.int(0, 1);
    b.flatten({ axis, name: "flat" });
    desc = `flatten axis=${axis}`;
  } else if (mode === 1) {
    b.reshape({ shape: [1, -1], name: "reshape" });
    desc = "reshape [1,-1]";
  } else {
    const f = r.pick(factorizations(n));
    const target = mode === 2 ? [0, f, -1] : [1, n / f, f, 1];
    b.reshape({ shape: target, name: "reshape" });
    desc = `reshape ${target}`;
  }
  return { bytes: b.build(), desc: `RESHAPE shape=${shape} ${desc}` };
}

export function randomLut(r: Rng): RandomModel {
  const shape = randomShape(r);
  const lo = r.int(-600, 300);
  const hi = lo + r.int(0, 600);
  const tlo = lo - r.int(0, 5);
  const tlen = hi - tlo + 1 + r.int(0, 5);
  const tmax = r.pick([1, 127, LIMIT - 1]);
  const table = r.ints(tlen, -tmax, tmax);
  const bytes = new CanonicalModelBuilder(shape, [lo, hi]).lut({ lo: tlo, table, name: "lut" }).build();
  return { bytes, desc: `LUT shape=${shape} range=${lo},${hi} table=[${tlo}..${tlo + tlen - 1}]` };
}

const numel = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** Row-major strides of a shape. */
function strides(shape: readonly number[]): number[] {
  const st = new Array<number>(shape.length).fill(1);
  for (let k = shape.length - 2; k >= 0; k--) st[k] = st[k + 1]! * shape[k + 1]!;
  return st;
}

/** Flat index of multi-index `ix` in `shape`. */
const flatIndex = (ix: readonly number[], shape: readonly number[]): number => {
  const st = strides(shape);
  return ix.reduce((a, v, k) => a + v * st[k]!, 0);
};

/** The multi-index of flat element e of `shape`. */
function unflat(e: number, shape: readonly number[]): number[] {
  const st = strides(shape);
  return shape.map((_, k) => Math.floor(e / st[k]!) % shape[k]!);
}

/** GATHER indices of a transpose of x (axis 0 stays first): out[ix] = x[ix permuted back]. */
export function transposeIndex(shape: readonly number[], perm: readonly number[]): { index: number[]; outShape: number[] } {
  const outShape = perm.map((p) => shape[p]!);
  const index = Array.from({ length: numel(shape) }, (_, e) => {
    const o = unflat(e, outShape);
    const ix = new Array<number>(shape.length);
    perm.forEach((p, k) => (ix[p] = o[k]!));
    return flatIndex(ix, shape);
  });
  return { index, outShape };
}

/** A random permutation of the axes after the first (axis 0, the batch, stays). */
function randomPerm(r: Rng, rank: number): number[] {
  const rest = Array.from({ length: rank - 1 }, (_, k) => k + 1);
  for (let k = rest.length - 1; k > 0; k--) {
    const j = r.int(0, k);
    [rest[k], rest[j]] = [rest[j]!, rest[k]!];
  }
  return [0, ...rest];
}

/** A random [1, ...] shape of rank 2..4 holding n elements. */
function shapeOf(r: Rng, n: number): number[] {
  const rank = r.int(2, 4);
  const dims = [1];
  let left = n;
  for (let k = 1; k < rank - 1; k++) {
    const d = r.pick(factorizations(left));
    dims.push(d);
    left /= d;
  }
  dims.push(left);
  return dims;
}

/** Largest |x| allowed for a product of two tensors in [-x, x] summed `terms` times. */
const productEdge = (terms: number): number => Math.max(1, Math.floor(Math.sqrt((LIMIT - 1) / terms)));

/** A range for one operand of a product, up to `edge` in magnitude, sometimes at the edge itself. */
function operandRange(r: Rng, edge: number): Pair {
  const c = r.int(0, 4);
  if (c === 0) return [-edge, edge];
  if (c === 1) return [0, edge];
  if (c === 2) return [-Math.min(edge, 128), Math.min(edge, 127)];
  const m = r.int(1, edge);
  return [-r.int(0, m), m];
}

export function randomMatMul(r: Rng): RandomModel {
  const lead = r.pick([[], [r.int(1, 4)], [r.int(1, 3), r.int(1, 3)]]);
  const N = r.int(1, 8), K = r.pick([r.int(1, 8), r.int(1, 64)]), M0 = r.int(1, 8);
  const mode = r.int(0, 3);
  // mode 0: b a CONST; 1: b gathered from x (random reads, zeros too); 2: b = x transposed (x·xᵀ); 3: x·x (square x, same tensor twice).
  const Kx = mode === 3 ? N : K;
  const M = mode === 2 ? N : mode === 3 ? N : M0;
  const aShape = [1, ...lead, N, Kx];
  const bShape = [1, ...lead, Kx, M];
  const selfProduct = mode !== 0;
  const edgeA = selfProduct ? productEdge(Kx) : r.pick([productEdge(Kx), 127, 2 ** 12]);
  const range = operandRange(r, Math.min(edgeA, LIMIT - 1));
  const ma = Math.max(1, xmOf(range));
  const b = new CanonicalModelBuilder(aShape, range);
  let other: number;
  if (mode === 0) {
    const mb = Math.max(0, Math.floor((LIMIT - 1) / (Kx * ma)));
    const bmax = Math.min(mb, r.pick([1, 15, 127, mb]));
    b.constant({ values: r.ints(numel(bShape), -bmax, bmax), shape: bShape, name: "b" });
    other = b.last;
  } else if (mode === 1) {
    const n = numel(aShape);
    b.gather({ inputs: [0], index: Array.from({ length: numel(bShape) }, () => r.int(0, n)), outShape: bShape, name: "b" });
    other = b.last;
  } else if (mode === 2) {
    const perm = [...aShape.keys()];
    [perm[perm.length - 1], perm[perm.length - 2]] = [perm[perm.length - 2]!, perm[perm.length - 1]!];
    const t = transposeIndex(aShape, perm);
    b.gather({ inputs: [0], index: t.index, outShape: t.outShape, name: "xT" });
    other = b.last;
  } else other = 0;
  const mbUsed = mode === 0 ? undefined : ma;
  const typical = Math.sqrt(Kx) * ma * (mbUsed ?? ma) / 4;
  const shift = shiftFor(r, typical);
  const clip = clipRange(r, 200);
  b.matmul({ input: 0, other, shift, clip, name: "mm" });
  return { bytes: b.build(), desc: `MATMUL a=${aShape} b=${bShape} mode=${mode} range=${range} shift=${shift} clip=${clip}` };
}

export function randomProduct(r: Rng): RandomModel {
  const shape = randomShape(r);
  const mode = r.int(0, 3);
  // mode 0: x·x (same tensor twice); 1: x·relu(x); 2: x·CONST; 3: x·(x permuted, zeros too).
  const range = operandRange(r, mode === 2 ? r.pick([productEdge(1), 4095, LIMIT - 1]) : productEdge(1));
  const ma = Math.max(1, xmOf(range));
  const b = new CanonicalModelBuilder(shape, range);
  let other = 0;
  if (mode === 1) {
    b.relu({ name: "relu" });
    other = b.last;
  } else if (mode === 2) {
    const cmax = Math.max(0, Math.min(r.pick([1, 127, LIMIT - 1]), Math.floor((LIMIT - 1) / ma)));
    b.constant({ values: r.ints(numel(shape), -cmax, cmax), shape, name: "c" });
    other = b.last;
  } else if (mode === 3) {
    const n = numel(shape);
    b.gather({ inputs: [0], index: Array.from({ length: n }, () => r.int(0, n)), outShape: shape, name: "perm" });
    other = b.last;
  }
  const shift = shiftFor(r, (ma * ma) / 4);
  const clip = clipRange(r, 200);
  b.product({ input: 0, other, shift, clip, name: "prod" });
  return { bytes: b.build(), desc: `PRODUCT shape=${shape} mode=${mode} range=${range} shift=${shift} clip=${clip}` };
}

/**
 * GATHER of the graph input x and up to two more tensors (relu(x), a CONST): transposes, slices,
 * concatenations along an axis, broadcasts, zero padding, and random reads with repetition.
 */
export function randomGather(r: Rng): RandomModel {
  const shape = randomShape(r);
  const range = inputRange(r);
  const b = new CanonicalModelBuilder(shape, range);
  const inputs = [0];
  const extra = r.int(0, 2);
  for (let k = 0; k < extra; k++) {
    if (r.bool()) b.relu({ input: 0, name: `relu${k}` });
    else {
      const cs = shapeOf(r, r.int(1, 40));
      b.constant({ values: r.ints(numel(cs), range[0], range[1]), shape: cs, name: `c${k}` });
    }
    inputs.push(b.last);
  }
  const sizes = inputs.map((t) => numel(b.shapeOf(t)));
  const total = sizes.reduce((a, c) => a + c, 0);
  const mode = r.int(0, 5);
  let index: number[];
  let outShape: number[];
  let what: string;
  if (mode === 0 && shape.length > 2) {
    const perm = randomPerm(r, shape.length);
    ({ index, outShape } = transposeIndex(shape, perm));
    what = `transpose ${perm}`;
  } else if (mode === 1) {
    // A slice along a random axis (>= 1) of x, with a step.
    const ax = r.int(1, shape.length - 1);
    const start = r.int(0, shape[ax]! - 1);
    const step = r.int(1, 2);
    const len = r.int(1, Math.floor((shape[ax]! - 1 - start) / step) + 1);
    outShape = shape.map((d, k) => (k === ax ? len : d));
    index = Array.from({ length: numel(outShape) }, (_, e) => {
      const ix = unflat(e, outShape);
      ix[ax] = start + ix[ax]! * step;
      return flatIndex(ix, shape);
    });
    what = `slice axis ${ax} from ${start} step ${step} len ${len}`;
  } else if (mode === 2) {
    // x concatenated with itself (or relu(x)) along a random axis >= 1.
    const ax = r.int(1, shape.length - 1);
    const second = inputs.find((t) => t !== 0 && numel(b.shapeOf(t)) === numel(shape)) ?? 0;
    const off = second === 0 ? 0 : sizes[0]!;
    outShape = shape.map((d, k) => (k === ax ? 2 * d : d));
    index = Array.from({ length: numel(outShape) }, (_, e) => {
      const ix = unflat(e, outShape);
      const hi = ix[ax]! >= shape[ax]!;
      if (hi) ix[ax] = ix[ax]! - shape[ax]!;
      return (hi ? off : 0) + flatIndex(ix, shape);
    });
    what = `concat axis ${ax} with ${second}`;
  } else if (mode === 3) {
    // Broadcast (expand) x along a new axis of random size, before or after its own axes.
    const reps = r.int(1, 4);
    const before = r.bool();
    outShape = before ? [1, reps, ...shape.slice(1)] : [...shape, reps];
    index = Array.from({ length: numel(outShape) }, (_, e) => (before ? e % numel(shape) : Math.floor(e / reps)));
    what = `expand ×${reps} ${before ? "before" : "after"}`;
  } else if (mode === 4) {
    // Zero padding of the last axis (index total reads 0), as Pad does.
    const last = shape.length - 1;
    const [pl, pr] = [r.int(0, 2), r.int(0, 2)];
    outShape = shape.map((d, k) => (k === last ? d + pl + pr : d));
    index = Array.from({ length: numel(outShape) }, (_, e) => {
      const ix = unflat(e, outShape);
      const j = ix[last]! - pl;
      if (j < 0 || j >= shape[last]!) return total;
      ix[last] = j;
      return flatIndex(ix, shape);
    });
    what = `pad last axis ${pl},${pr}`;
  } else if (r.bool()) {
    // Random reads of every input and the zero, with repetition.
    outShape = shapeOf(r, r.int(1, 80));
    index = Array.from({ length: numel(outShape) }, () => r.int(0, total));
    what = "random reads";
  } else {
    // A random permutation of every element of every input and the zero.
    index = Array.from({ length: total + 1 }, (_, k) => k);
    for (let k = index.length - 1; k > 0; k--) {
      const j = r.int(0, k);
      [index[k], index[j]] = [index[j]!, index[k]!];
    }
    outShape = shapeOf(r, total + 1);
    what = "permutation";
  }
  b.gather({ inputs, index, outShape, name: "gather" });
  return { bytes: b.build(), desc: `GATHER x=${shape} inputs=${inputs} sizes=${sizes} ${what} out=${outShape} range=${range}` };
}

export function randomConst(r: Rng): RandomModel {
  const shape = randomShape(r);
  const range = inputRange(r, 2 ** 22);
  const b = new CanonicalModelBuilder(shape, range);
  const mode = r.int(0, 2);
  const vmax = r.pick([1, 127, mode === 1 ? 2 ** 22 : LIMIT - 1]);
  const cShape = mode === 0 ? shapeOf(r, r.int(1, 64)) : shape;
  b.constant({ values: r.ints(numel(cShape), -vmax, vmax), shape: cShape, name: "const" });
  // mode 0: the constant alone (the model ignores its input); 1: x + C; 2: C then a RELU of it.
  if (mode === 1) b.add({ input: 0, other: b.last, shift: 0, clip: [-(LIMIT - 1), LIMIT - 1], name: "add" });
  if (mode === 2) b.relu({ name: "relu" });
  return { bytes: b.build(), desc: `CONST shape=${cShape} mode=${mode} vmax=${vmax}` };
}

export const GENERATORS: Record<LayerKind, (r: Rng) => RandomModel> = {
  [LayerKind.DENSE]: randomDense,
  [LayerKind.CONV]: randomConv,
  [LayerKind.ADD]: randomAdd,
  [LayerKind.MUL]: randomMul,
  [LayerKind.RELU]: randomRelu,
  [LayerKind.CLIP]: randomClip,
  [LayerKind.MAXPOOL]: randomMaxPool,
  [LayerKind.RESHAPE]: randomReshape,
  [LayerKind.LUT]: randomLut,
  [LayerKind.MATMUL]: randomMatMul,
  [LayerKind.PRODUCT]: randomProduct,
  [LayerKind.GATHER]: randomGather,
  [LayerKind.CONST]: randomConst,
};

/** A random small CNN/MLP chaining several kinds (conv → relu → pool → flatten → dense → lut …). */
export function randomPipeline(r: Rng): RandomModel {
  const C = r.int(1, 3);
  const H = r.int(4, 10);
  const W = r.int(4, 10);
  const b = new CanonicalModelBuilder([1, C, H, W], [-128, 127]);
  const M = r.int(1, 4);
  const g = r.bool() ? 1 : C;
  const M2 = g === 1 ? M : C;
  b.conv({
    weight: r.ints(M2 * (C / g) * 9, -20, 20), outChannels: M2, kernel: [3, 3], pads: [1, 1, 1, 1],
    group: g, bias: r.ints(M2, -500, 500), shift: r.ints(M2, 3, 7), clip: [-128, 127],
  });
  const skip = b.last;
  b.relu();
  if (r.bool()) b.add({ other: skip, shift: 1, clip: [-128, 127] });
  b.mul({ factor: r.ints(M2, -3, 3), shift: 1, clip: [-128, 127] });
  b.maxpool({ kernel: [2, 2], strides: [2, 2] });
  b.flatten();
  const K = b.shapeOf(b.last)[1]!;
  const U = r.int(2, 12);
  b.dense({ weight: r.ints(K * U, -30, 30), units: U, bias: r.ints(U, -100, 100), shift: 6, clip: [-100, 100] });
  b.lut({ lo: -100, table: Array.from({ length: 201 }, (_, i) => Math.round(127 * Math.tanh((i - 100) / 30))) });
  b.clip({ lo: -120, hi: 120 });
  b.reshape({ shape: [1, U, 1] });
  return { bytes: b.build(), desc: `PIPELINE C=${C} ${H}x${W} M=${M2} g=${g} U=${U}` };
}

/**
 * A random small transformer block over every new kind: a position embedding (CONST + ADD), Q/K/V
 * projections (DENSE over [1, T, D]), heads split and K transposed (GATHER), attention scores
 * (MATMUL), a table for the softmax's numerator (LUT), the weighted values (MATMUL), heads merged
 * (GATHER), a gate (PRODUCT), an output projection and a residual ADD, then the first token sliced
 * out (a one-input GATHER keeping fewer elements, which a Floor sinks through) and a classifier.
 */
export function randomTransformer(r: Rng): RandomModel {
  const T = r.int(1, 6);
  const H = r.int(1, 3);
  const dh = r.int(1, 5);
  const D = H * dh;
  const b = new CanonicalModelBuilder([1, T, D], [-128, 127]);
  const q8: Pair = [-128, 127];
  b.constant({ values: r.ints(T * D, -20, 20), shape: [1, T, D], name: "pos" });
  b.add({ input: 0, other: b.last, shift: r.int(0, 1), clip: q8, name: "embed" });
  const h = b.last;
  const proj = (name: string, units: number, input: number): number => {
    b.dense({ input, weight: r.ints(D * units, -8, 8), units, transB: r.bool(), bias: r.ints(units, -200, 200), shift: r.int(2, 6), clip: q8, name });
    return b.last;
  };
  const [q, k, v] = [proj("q", D, h), proj("k", D, h), proj("v", D, h)];
  // [1, T, D] → [1, H, T, dh] (heads), and K further to [1, H, dh, T].
  const heads = transposeIndex([1, T, H, dh], [0, 2, 1, 3]);
  const keysT = transposeIndex([1, T, H, dh], [0, 2, 3, 1]);
  b.gather({ inputs: [q], index: heads.index, outShape: heads.outShape, name: "qh" });
  const qh = b.last;
  b.gather({ inputs: [k], index: keysT.index, outShape: keysT.outShape, name: "kt" });
  b.matmul({ input: qh, other: b.last, shift: r.int(3, 8), clip: q8, name: "scores" });
  b.lut({ lo: -128, table: Array.from({ length: 256 }, (_, i) => Math.round(127 * Math.exp((i - 255) / 40))), name: "exp" });
  const p = b.last;
  b.gather({ inputs: [v], index: heads.index, outShape: heads.outShape, name: "vh" });
  b.matmul({ input: p, other: b.last, shift: r.int(4, 9), clip: q8, name: "mix" });
  const merge = transposeIndex([1, H, T, dh], [0, 2, 1, 3]);
  b.gather({ inputs: [b.last], index: merge.index, outShape: [1, T, D], name: "merge" });
  const merged = b.last;
  if (r.bool()) b.product({ input: merged, other: r.bool() ? merged : h, shift: r.int(5, 8), clip: q8, name: "gate" });
  proj("out", D, b.last);
  b.add({ input: b.last, other: h, shift: 1, clip: q8, name: "residual" });
  const U = r.int(1, 6);
  if (r.bool()) {
    // A Floor owed by the DENSE below sinks through the first-token slice (rewrite 4).
    proj("ffn", D, b.last);
    b.gather({ inputs: [b.last], index: Array.from({ length: D }, (_, j) => j), outShape: [1, D], name: "first" });
    b.dense({ weight: r.ints(D * U, -10, 10), units: U, shift: 4, clip: q8, name: "cls" });
  } else {
    b.dense({ weight: r.ints(D * U, -10, 10), units: U, shift: 4, clip: q8, name: "cls" });
  }
  return { bytes: b.build(), desc: `TRANSFORMER T=${T} H=${H} dh=${dh} U=${U}` };
}
