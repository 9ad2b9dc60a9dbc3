/**
 * Chooses every scale, shift, integer weight and clip bound of the canonical model, and
 * propagates a worst-case error bound (docs/CONVERTER.md) alongside.
 *
 * Each IR node becomes one canonical layer (a MATMUL or PRODUCT whose output scale is fixed
 * elsewhere takes a MUL after it). Tensors that must share a scale form a group: pass-through
 * layers (RELU, CLIP, MAXPOOL, RESHAPE, GATHER) keep their inputs' scale and both operands of an
 * ADD need the same one. A group's scale is fixed by its first producer: DENSE/CONV/MUL/LUT/CONST
 * can hit any scale (per-channel shifts absorb it), ADD, MATMUL, PRODUCT and the graph input
 * cannot. A group's bit width is what its readers allow (`allowance`).
 */
import { ConvertError } from "./errors.js";
import type { Act, IrGraph, IrNode } from "./ir.js";
import { NO_ACT, numel } from "./ir.js";
import { lipschitzOn } from "./elementwise.js";
import { nodeInputs } from "./ir.js";
import type { TensorRange } from "./calibrate.js";
import type { RowQuant } from "./quant.js";
import { bitsFor, minOutputScale, quantizeRow, rowError } from "./quant.js";
import { EXACT_LIMIT, MAX_SHIFT } from "../model/layers.js";

export interface PlanOptions {
  /**
   * Bits of the hidden tensors that weighted sums read (DENSE, CONV, MUL): [-(2^(b-1)-1), 2^(b-1)-1],
   * or [0, 2^b-1] when non-negative. Default 8.
   */
  activationBits: number;
  /**
   * Bits of the hidden tensors nothing narrower reads: ADD operands, PRODUCT operands (those within
   * √2^24 = 4096, so that any two multiply below 2^24: 13 bits signed, 12 non-negative), the input of
   * a mean, a sum or LayerNorm's centering. Default 13.
   */
  wideBits: number;
  /** Bits of a LUT's input (its table has up to 2^b entries, within maxLutSize). Default 12. */
  lutInputBits: number;
  /** Bits of the graph output (it feeds nothing, so it can be finer). Default 16. */
  outputBits: number;
  /**
   * The graph output's clip range covers this many times its calibrated magnitude (>= 1): fresh
   * inputs exceed the calibrated maximum, and a clip there cuts them. Default 2 (one bit).
   */
  outputHeadroom: number;
  /** The same for every other tensor (1: none). Each bit of it costs one of `activationBits`. Default 1. */
  activationHeadroom: number;
  /** Cap on |integer weight|: 2^(b-1)-1. The exactness rule usually binds first. Default 16. */
  maxWeightBits: number;
  /** Longest LUT table (entries). Default 65536. */
  maxLutSize: number;
  /** Graph input quantization; default: calibrated range over activationBits. */
  input?: { scale: number; lo: number; hi: number };
}

type Clip = readonly [number, number];

export type LayerPlan =
  | { kind: "dense"; input: number; units: number; weight: Int32Array; bias: Int32Array; shift: Int32Array; clip: Clip }
  | {
      kind: "conv"; input: number; outChannels: number; kernel: readonly [number, number]; strides: readonly [number, number];
      pads: readonly [number, number, number, number]; group: number; weight: Int32Array; bias: Int32Array; shift: Int32Array; clip: Clip;
    }
  | { kind: "add"; input: number; other?: number; constant?: Int32Array; shift: number; clip: Clip }
  | { kind: "mul"; input: number; factor: Int32Array; shift: Int32Array; clip: Clip }
  | { kind: "relu"; input: number }
  | { kind: "clip"; input: number; lo: number; hi: number }
  | { kind: "maxpool"; input: number; kernel: readonly [number, number]; strides: readonly [number, number]; pads: readonly [number, number, number, number] }
  | { kind: "reshape"; input: number; shape: readonly number[] }
  | { kind: "lut"; input: number; lo: number; table: Int32Array }
  | { kind: "matmul"; input: number; other: number; shift: number; clip: Clip }
  | { kind: "product"; input: number; other: number; shift: number; clip: Clip }
  | { kind: "gather"; inputs: number[]; index: Int32Array; outShape: readonly number[] }
  | { kind: "const"; values: Int32Array; shape: readonly number[] };

/** What the converter reports per layer. */
export interface LayerInfo {
  /** Trace index (1-based). */
  index: number;
  /** ONNX node that produced it, and the ONNX ops folded into it. */
  node: string;
  ops: string;
  kind: string;
  /** Real value of one output unit. */
  scale: number;
  /** Integer clip range of the output. */
  range: [number, number];
  /** Worst-case absolute error of the output (real units) while nothing saturates. */
  errorBound: number;
  /** Signed bit-width of the largest integer weight/factor (DENSE/CONV/MUL). */
  weightBits?: number;
  /** Per-channel shifts used (min..max). */
  shifts?: [number, number];
}

export interface Plan {
  inputShape: readonly number[];
  inputRange: [number, number];
  inputScale: number;
  outputScale: number;
  /** Stated error bound of every output element, real units. */
  errorBound: number;
  layers: { plan: LayerPlan; name: string; info: LayerInfo }[];
}

/** Quantized tensor: scale, proven integer range, error bound, trace index. */
interface QTensor {
  scale: number;
  lo: number;
  hi: number;
  err: number;
  /**
   * Expected offset of the dequantized values from the float ones (a floor's −½ unit): the layers
   * that read the tensor and have a constant to put it in (DENSE, CONV, ADD of a constant, LUT)
   * take it back out. The worst-case bound `err` already covers it.
   */
  bias: number;
  index: number;
  group: Group;
}

/** Mean error of a floor after a shift by s (of a value uniform below the unit): −½ unit, less the bits that stay exact. */
const floorBias = (shift: number, scale: number): number => (shift > 0 ? -(scale / 2) * (1 - 2 ** -shift) : 0);

interface Group {
  min: number;
  max: number;
  bits: number;
  /** Factor over the calibrated magnitude that the integer range covers. */
  headroom: number;
  scale?: number;
}

const magnitude = (t: { lo: number; hi: number }): number => Math.max(Math.abs(t.lo), Math.abs(t.hi));

function groupBounds(g: Group): [number, number] {
  return g.min >= 0 ? [0, 2 ** g.bits - 1] : [-(2 ** (g.bits - 1) - 1), 2 ** (g.bits - 1) - 1];
}

function desiredScale(g: Group): number {
  const m = Math.max(Math.abs(g.min), Math.abs(g.max)) * g.headroom;
  // A hair more: float32 inference may exceed the float64 calibration range by an ulp.
  return m > 0 ? (m * (1 + 1e-6)) / groupBounds(g)[1] : 1;
}

/** Bits of a range whose magnitude is at most m: [-(2^(b-1)-1), 2^(b-1)-1] signed, [0, 2^b-1] not. */
function bitsWithin(m: number, signed: boolean): number {
  const b = Math.floor(Math.log2(Math.max(m, 1) + 1));
  return signed ? b + 1 : b;
}

/** Σ|w| / max|w| of the heaviest row: how many full-size terms the exactness budget must hold. */
function rowMass(W: Float64Array, rows: number): number {
  const per = W.length / rows;
  let worst = 1;
  for (let m = 0; m < rows; m++) {
    let sum = 0;
    let max = 0;
    for (let k = m * per; k < (m + 1) * per; k++) {
      const a = Math.abs(W[k]!);
      sum += a;
      max = Math.max(max, a);
    }
    if (max > 0) worst = Math.max(worst, sum / max);
  }
  return worst;
}

/**
 * The widest tensor node `n` reads, in bits, for a signed or a non-negative tensor (undefined: a
 * pass-through layer, whose input shares its output's group). A weighted sum splits the exactness
 * budget evenly: its input may be as wide as its largest weight, |x|·|w|·Σ|w|/max|w| < 2^24.
 */
function allowance(n: IrNode, o: PlanOptions): ((signed: boolean) => number) | undefined {
  const budget = (m: number, lo: number, hi: number) => (signed: boolean) => Math.max(lo, Math.min(hi, bitsWithin(m, signed)));
  switch (n.kind) {
    case "dense": case "conv": {
      const K = n.kind === "dense" ? n.K : n.W.length / n.M;
      // A mean or a sum: K·|x|·w < 2^24 with an integer weight w >= 1; a centering: light weights.
      if (n.wideInput) return n.W.every((w) => w === n.W[0]) ? budget((EXACT_LIMIT - 1) / K - 1, o.activationBits, o.wideBits) : () => o.wideBits;
      return budget(Math.sqrt((EXACT_LIMIT - 1) / rowMass(n.W, n.M)), o.activationBits, Math.max(o.activationBits, o.wideBits));
    }
    case "mulc": return () => (n.c.every((c) => Math.abs(c) === 1) ? o.wideBits : o.activationBits);
    case "lut": return () => Math.min(o.lutInputBits, Math.floor(Math.log2(o.maxLutSize)));
    // Both operands of a product within √(2^24 / K): any two multiply and sum exactly.
    case "prod": return budget(Math.floor(Math.sqrt(EXACT_LIMIT - 1)), 1, o.wideBits);
    case "matmul": return budget(Math.floor(Math.sqrt((EXACT_LIMIT - 1) / n.K)), 1, o.wideBits);
    case "add": case "addc": case "elemc": return () => o.wideBits;
    case "clamp": case "maxpool": case "reshape": case "gather": case "const": return undefined;
  }
}

/** Bits of an exact index group: [0, 2^25 − 1], past any index below 2^24. */
const EXACT_BITS = 25;

/** Union-find over tensor names for the shared-scale groups. */
function buildGroups(g: IrGraph, ranges: ReadonlyMap<string, TensorRange>, o: PlanOptions): Map<string, Group> {
  const parent = new Map<string, string>();
  const find = (t: string): string => {
    let r = t;
    while (parent.has(r) && parent.get(r) !== r) r = parent.get(r)!;
    parent.set(t, r);
    return r;
  };
  const union = (a: string, b: string): void => {
    const ra = find(a);
    const rb = find(b);
    if (ra !== rb) parent.set(rb, ra);
  };
  find(g.input);
  for (const n of g.nodes) {
    find(n.out);
    if (n.kind === "clamp" || n.kind === "maxpool" || n.kind === "reshape") union(n.x, n.out);
    if (n.kind === "gather") for (const x of n.xs) union(x, n.out);
    if (n.kind === "add") union(n.a, n.b);
  }
  const groups = new Map<string, Group>();
  for (const t of parent.keys()) {
    const root = find(t);
    const r = ranges.get(t) ?? { min: 0, max: 0 };
    let grp = groups.get(root);
    if (!grp) {
      grp = { min: Infinity, max: -Infinity, bits: Infinity, headroom: o.activationHeadroom };
      groups.set(root, grp);
    }
    grp.min = Math.min(grp.min, r.min);
    grp.max = Math.max(grp.max, r.max);
  }
  // Each group is as wide as its narrowest reader allows (exactness budget, table size).
  const out = groups.get(find(g.output))!;
  out.bits = o.outputBits;
  for (const n of g.nodes) {
    const allow = allowance(n, o);
    if (!allow) continue;
    for (const t of nodeInputs(n)) {
      const grp = groups.get(find(t))!;
      grp.bits = Math.min(grp.bits, allow(grp.min < 0));
    }
  }
  for (const grp of groups.values()) {
    if (grp.bits === Infinity) grp.bits = o.activationBits;
    if (grp === out && grp.bits === o.outputBits) grp.headroom = o.outputHeadroom;
  }
  // Integer index arithmetic (an embedding's flat index): scale 1, as wide as the index (< 2^24; its
  // layers' clips give the exact range), whatever its readers would allow a real-valued tensor.
  for (const n of g.nodes) {
    if (!n.exact) continue;
    const grp = groups.get(find(n.out))!;
    grp.scale = 1;
    grp.bits = EXACT_BITS;
    grp.headroom = 1;
  }
  const byTensor = new Map<string, Group>();
  for (const t of parent.keys()) byTensor.set(t, groups.get(find(t))!);
  return byTensor;
}

/** Integer clip bounds of a layer: its group's range narrowed by a fused activation. */
function clipFor(grp: Group, scale: number, act: Act): { clip: [number, number]; err: number } {
  let [lo, hi] = groupBounds(grp);
  let err = 0;
  const bound = (v: number): number => {
    const q = Math.round(v / scale);
    if (q * scale !== v) err = scale / 2;
    return q;
  };
  if (act.lo !== -Infinity) lo = Math.max(lo, bound(act.lo));
  if (act.hi !== Infinity) hi = Math.min(hi, bound(act.hi));
  if (lo > hi) hi = lo;
  return { clip: [lo, hi], err };
}

class Planner {
  readonly tensors = new Map<string, QTensor>();
  readonly layers: Plan["layers"] = [];
  private readonly names = new Set<string>();

  constructor(
    readonly g: IrGraph,
    readonly groups: Map<string, Group>,
    readonly o: PlanOptions,
    readonly ranges: ReadonlyMap<string, TensorRange>,
  ) {}

  fail(n: IrNode, code: "SCALE" | "UNSUPPORTED_ATTR", msg: string): never {
    throw new ConvertError(code, n.name, n.op, msg);
  }

  q(t: string): QTensor {
    return this.tensors.get(t)!;
  }

  /** Fix the output group's scale for a producer that can hit any scale >= minScale. */
  flexibleScale(n: IrNode, minScale: number): number {
    const grp = this.groups.get(n.out)!;
    if (grp.scale === undefined) grp.scale = Math.max(desiredScale(grp), minScale);
    else if (grp.scale < minScale) {
      this.fail(n, "SCALE", `its output must share scale ${grp.scale} with another tensor, but the exactness bound needs >= ${minScale}`);
    }
    return grp.scale;
  }

  /** Output scale sIn·2^s for ADD, MATMUL and PRODUCT layers (which cannot rescale by anything else). */
  shiftScale(n: IrNode, sIn: number): { scale: number; shift: number } {
    const grp = this.groups.get(n.out)!;
    if (grp.scale !== undefined) {
      const s = this.powerOfTwoAbove(grp.scale, sIn);
      if (s === undefined) {
        this.fail(n, "SCALE", `its output must share scale ${grp.scale} with another tensor, which is not its input scale ${sIn} times a power of two`);
      }
      return { scale: grp.scale, shift: s };
    }
    const want = desiredScale(grp);
    let s = 0;
    while (s < MAX_SHIFT && sIn * 2 ** s < want * (1 - 1e-9)) s++;
    grp.scale = sIn * 2 ** s;
    return { scale: grp.scale, shift: s };
  }

  push(n: IrNode, plan: LayerPlan, t: Omit<QTensor, "index" | "group" | "bias"> & { bias?: number }, extra: Partial<LayerInfo> = {}): void {
    const index = this.layers.length + 1;
    let name = n.name.replace(/[^A-Za-z0-9_.:/-]/g, "_") || `node${index}`;
    if (this.names.has(name)) name = `${name}_${index}`;
    this.names.add(name);
    this.tensors.set(n.out, { bias: 0, ...t, index, group: this.groups.get(n.out)! });
    const info: LayerInfo = { index, node: n.name, ops: n.op, kind: plan.kind.toUpperCase(), scale: t.scale, range: [t.lo, t.hi], errorBound: t.err, ...extra };
    this.layers.push({ plan, name, info });
  }

  /** DENSE, CONV and MUL: per-channel rows quantized against one output scale. */
  weighted(n: Extract<IrNode, { kind: "dense" | "conv" | "mulc" }>, rows: Float64Array[], biases: Float64Array, act: Act, roundBias: boolean) {
    // (A MUL has no constant to compensate its input's offset with: it passes it on, scaled.)
    const x = this.q(n.x);
    const xm = magnitude(x);
    const wqmax = 2 ** (this.o.maxWeightBits - 1) - 1;
    if (roundBias && x.bias !== 0) {
      // The input's expected offset, taken back out through the bias: Σ_k w·(x + β) − β·Σ_k w.
      biases = biases.map((b, m) => b - x.bias * rows[m]!.reduce((s, w) => s + w, 0));
    }
    const ex = x.err + (roundBias ? Math.abs(x.bias) : 0);
    let minScale = 0;
    rows.forEach((r, m) => (minScale = Math.max(minScale, minOutputScale(r, biases[m]!, x.scale, xm, wqmax))));
    if (!Number.isFinite(minScale)) this.fail(n, "SCALE", `its input range ±${xm} times ${rows[0]!.length} terms cannot stay below 2^24`);
    const grp = this.groups.get(n.out)!;
    const fixed = grp.scale !== undefined;
    let sy = this.flexibleScale(n, minScale);
    for (let attempt = 0; ; attempt++) {
      const qs = rows.map((r, m) => quantizeRow(r, biases[m]!, x.scale, sy, xm, wqmax, roundBias));
      if (qs.every((v) => v !== undefined)) {
        const quants = qs as RowQuant[];
        const { clip, err: clipErr } = clipFor(grp, sy, act);
        let err = 0;
        quants.forEach((qr, m) => {
          // floor without a rounding term (MUL) errs by up to one unit, with it by half, and not at all
          // when every weight is a multiple of 2^s (a MUL by −1 at its input's scale).
          const unit = 2 ** qr.shift;
          const exact = qr.shift === 0 || ((qr.b - qr.half) % unit === 0 && qr.w.every((w) => w % unit === 0));
          const requant = exact ? 0 : roundBias ? sy / 2 : sy;
          err = Math.max(err, rowError(rows[m]!, biases[m]!, qr, sy, ex, xm * x.scale) + requant);
        });
        return { sy, quants, clip, err: err + clipErr, xm };
      }
      if (fixed || attempt > 200) this.fail(n, "SCALE", `no shift in 0..${MAX_SHIFT} meets the exactness bound at output scale ${sy}`);
      sy *= 1.01;
      grp.scale = sy;
    }
  }

  dense(n: Extract<IrNode, { kind: "dense" | "conv" }>): void {
    const per = n.W.length / n.M;
    this.exactUniformScale(n, per);
    const rows = Array.from({ length: n.M }, (_, m) => n.W.subarray(m * per, (m + 1) * per));
    const r = this.weighted(n, rows, n.B, n.act, true);
    const weight = new Int32Array(n.W.length);
    r.quants.forEach((qr, m) => weight.set(qr.w, m * per));
    const bias = Int32Array.from(r.quants, (qr) => qr.b);
    const shift = Int32Array.from(r.quants, (qr) => qr.shift);
    const input = this.q(n.x).index;
    const plan: LayerPlan =
      n.kind === "dense"
        ? { kind: "dense", input, units: n.M, weight, bias, shift, clip: r.clip }
        : {
            kind: "conv", input, outChannels: n.M, kernel: [n.win.kh, n.win.kw], strides: [n.win.sy, n.win.sx],
            pads: [n.win.pt, n.win.pl, n.win.pb, n.win.pr], group: n.group, weight, bias, shift, clip: r.clip,
          };
    let wmax = 0;
    for (const v of weight) wmax = Math.max(wmax, Math.abs(v));
    this.push(n, plan, { scale: r.sy, lo: r.clip[0], hi: r.clip[1], err: r.err }, {
      weightBits: bitsFor(wmax), shifts: [Math.min(...shift), Math.max(...shift)],
    });
  }

  /**
   * A mean or a sum (every weight the same w, no bias): choose the output scale so that w quantizes
   * exactly, sy = w·sx·2^s / wq, the smallest such scale at or above the desired one. Rounding every
   * weight to an arbitrary step would scale the whole mean by the same error.
   */
  exactUniformScale(n: Extract<IrNode, { kind: "dense" | "conv" }>, K: number): void {
    const grp = this.groups.get(n.out)!;
    const w = n.W[0]!;
    if (grp.scale !== undefined || !(w > 0) || !n.W.every((v) => v === w) || !n.B.every((b) => b === 0)) return;
    const x = this.q(n.x);
    const xm = magnitude(x);
    const want = desiredScale(grp);
    const wqmax = 2 ** (this.o.maxWeightBits - 1) - 1;
    for (let s = MAX_SHIFT; s >= 0; s--) {
      const wq = Math.floor((w * x.scale * 2 ** s) / want);
      const half = s > 0 ? 2 ** (s - 1) : 0;
      if (wq >= 1 && wq <= wqmax && half + K * wq * xm < EXACT_LIMIT) {
        grp.scale = (w * x.scale * 2 ** s) / wq;
        return;
      }
    }
  }

  /**
   * MATMUL (depth K) and PRODUCT (K = 1): output scale gain·sa·sb·2^s, floored. Where the output's
   * scale is fixed already (it is added to a tensor computed before), the product goes to a scale of
   * its own and a MUL takes it to the fixed one.
   */
  product(n: Extract<IrNode, { kind: "matmul" | "prod" }>): void {
    const a = this.q(n.a);
    const b = this.q(n.b);
    const K = n.kind === "matmul" ? n.K : 1;
    const ma = magnitude(a);
    const mb = magnitude(b);
    if (K * ma * mb >= EXACT_LIMIT) {
      this.fail(n, "SCALE", `${K > 1 ? `${K} terms of ` : ""}operands up to ${ma} and ${mb} may reach ${K * ma * mb}, not below 2^24 (narrow the operands: wideBits, activationBits)`);
    }
    const sIn = n.gain * a.scale * b.scale;
    const { out, own } = this.ownScaleIfFixed(n, sIn);
    const { scale, shift } = this.shiftScale({ ...n, out }, sIn);
    const { clip, err: clipErr } = clipFor(this.groups.get(out)!, scale, own ? NO_ACT : n.act);
    const real = (t: string, q: QTensor): number => {
      const r = this.ranges.get(t);
      return r ? Math.max(Math.abs(r.min), Math.abs(r.max)) : magnitude(q) * q.scale;
    };
    const err = n.gain * K * (real(n.a, a) * b.err + mb * b.scale * a.err) + (shift > 0 ? scale : 0) + clipErr;
    const kind = n.kind === "matmul" ? "matmul" : "product";
    this.push({ ...n, out }, { kind, input: a.index, other: b.index, shift, clip }, { scale, lo: clip[0], hi: clip[1], err, bias: floorBias(shift, scale) }, { shifts: [shift, shift] });
    if (own) this.rescale(n, out);
  }

  /**
   * ADD, MATMUL and PRODUCT reach only sIn·2^s. When another tensor fixed their output's scale to
   * something else (a residual added to an earlier tensor, say), the layer writes a tensor of its own
   * scale, and a MUL (`rescale`) takes it to the fixed one.
   */
  ownScaleIfFixed(n: IrNode, sIn: number): { out: string; own?: Group } {
    const grp = this.groups.get(n.out)!;
    if (grp.scale === undefined || this.powerOfTwoAbove(grp.scale, sIn) !== undefined) return { out: n.out };
    const out = `${n.out}::own_scale`;
    const r = this.ranges.get(n.out) ?? { min: grp.min, max: grp.max };
    const own: Group = { min: r.min, max: r.max, bits: this.o.wideBits, headroom: this.o.activationHeadroom };
    this.groups.set(out, own);
    return { out, own };
  }

  /** A MUL by 1 from tensor `from` (at its own scale) to `n`'s output, at the scale its group fixed. */
  rescale(n: IrNode, from: string): void {
    const act = "act" in n ? n.act : NO_ACT;
    this.mulc({ kind: "mulc", name: `${n.name} (rescaled)`, op: n.op, out: n.out, outShape: n.outShape, x: from, c: new Float64Array(n.outShape[1]!).fill(1), act });
  }

  /** s in 0..MAX_SHIFT with sIn·2^s = scale, if there is one. */
  powerOfTwoAbove(scale: number, sIn: number): number | undefined {
    const s = Math.round(Math.log2(scale / sIn));
    return s >= 0 && s <= MAX_SHIFT && Math.abs(sIn * 2 ** s - scale) <= 1e-12 * scale ? s : undefined;
  }

  /** GATHER: its inputs' scale (one group), the union of their ranges, their worst error. */
  gather(n: Extract<IrNode, { kind: "gather" }>): void {
    const xs = n.xs.map((t) => this.q(t));
    const scale = xs[0]!.scale;
    if (xs.some((x) => Math.abs(x.scale - scale) > 1e-12 * scale)) this.fail(n, "SCALE", `its inputs have scales ${xs.map((x) => x.scale).join(", ")}; they could not be given the same scale`);
    const total = n.xs.reduce((s, t) => s + numel(this.shapeOf(t)), 0);
    const zero = n.idx.some((i) => i === total);
    const lo = Math.min(...xs.map((x) => x.lo), zero ? 0 : Infinity);
    const hi = Math.max(...xs.map((x) => x.hi), zero ? 0 : -Infinity);
    const err = Math.max(...xs.map((x) => x.err));
    const bias = xs.reduce((s, x) => s + x.bias, 0) / xs.length;
    this.push(n, { kind: "gather", inputs: xs.map((x) => x.index), index: n.idx, outShape: n.outShape }, { scale, lo, hi, err, bias });
  }

  shapeOf(t: string): readonly number[] {
    if (t === this.g.input) return this.g.inputShape;
    return this.g.nodes.find((m) => m.out === t)!.outShape;
  }

  /** CONST: the values rounded to the group's scale (a flexible producer: it may fix that scale). */
  constant(n: Extract<IrNode, { kind: "const" }>): void {
    const grp = this.groups.get(n.out)!;
    const sy = this.flexibleScale(n, 0);
    const [glo, ghi] = groupBounds(grp);
    const values = Int32Array.from(n.values, (v) => Math.min(Math.max(Math.round(v / sy), glo), ghi));
    let err = 0;
    let lo = Infinity;
    let hi = -Infinity;
    values.forEach((q, i) => {
      err = Math.max(err, Math.abs(q * sy - n.values[i]!));
      lo = Math.min(lo, q);
      hi = Math.max(hi, q);
    });
    this.push(n, { kind: "const", values, shape: n.outShape }, { scale: sy, lo, hi, err });
  }

  mulc(n: Extract<IrNode, { kind: "mulc" }>): void {
    const rows = Array.from(n.c, (c) => Float64Array.of(c));
    const r = this.weighted(n, rows, new Float64Array(rows.length), n.act, false);
    const factor = Int32Array.from(r.quants, (qr) => qr.w[0]!);
    const shift = Int32Array.from(r.quants, (qr) => qr.shift);
    let fmax = 0;
    for (const v of factor) fmax = Math.max(fmax, Math.abs(v));
    const x = this.q(n.x);
    // A factor that is a multiple of 2^s shifts exactly; any other floors.
    const floors = r.quants.some((qr) => qr.w[0]! % 2 ** qr.shift !== 0);
    const meanC = n.c.reduce((a, c) => a + c, 0) / n.c.length;
    const bias = meanC * x.bias + (floors ? floorBias(Math.max(...shift), r.sy) : 0);
    this.push(n, { kind: "mul", input: x.index, factor, shift, clip: r.clip }, { scale: r.sy, lo: r.clip[0], hi: r.clip[1], err: r.err, bias }, {
      weightBits: bitsFor(fmax), shifts: [Math.min(...shift), Math.max(...shift)],
    });
  }

  add(n: Extract<IrNode, { kind: "add" | "addc" }>): void {
    const a = this.q(n.kind === "add" ? n.a : n.x);
    let other: QTensor | undefined;
    if (n.kind === "add") {
      other = this.q(n.b);
      if (Math.abs(other.scale - a.scale) > 1e-12 * a.scale) {
        this.fail(n, "SCALE", `operands have scales ${a.scale} and ${other.scale}; they could not be given the same scale`);
      }
    }
    const { out, own } = this.ownScaleIfFixed(n, a.scale);
    const { scale, shift } = this.shiftScale({ ...n, out }, a.scale);
    const grp = this.groups.get(out)!;
    const { clip, err: clipErr } = clipFor(grp, scale, own ? NO_ACT : n.act);
    const half = shift > 0 ? 2 ** (shift - 1) : 0;
    let constant: Int32Array | undefined;
    let err: number;
    let bm: number;
    let bias = 0;
    if (n.kind === "addc") {
      // The input's expected offset comes back out through the constant.
      const c0 = n.c.map((c) => c - a.bias);
      constant = Int32Array.from(c0, (c) => Math.round(c / a.scale) + half);
      let cErr = 0;
      c0.forEach((c, i) => (cErr = Math.max(cErr, Math.abs((constant![i]! - half) * a.scale - c))));
      err = a.err + Math.abs(a.bias) + cErr + (shift > 0 ? scale / 2 : 0);
      bm = Math.max(...Array.from(constant, Math.abs));
    } else {
      // Two layer outputs: no constant to fold the rounding into, so floor errs by one unit.
      err = a.err + other!.err + (shift > 0 ? scale : 0);
      bm = magnitude(other!);
      bias = a.bias + other!.bias + floorBias(shift, scale);
    }
    if (magnitude(a) + bm >= EXACT_LIMIT) this.fail(n, "SCALE", `the sum may reach ${magnitude(a) + bm}, not below 2^24`);
    const plan: LayerPlan = { kind: "add", input: a.index, ...(other ? { other: other.index } : { constant: constant! }), shift, clip };
    this.push({ ...n, out }, plan, { scale, lo: clip[0], hi: clip[1], err: err + clipErr, bias }, { shifts: [shift, shift] });
    if (own) this.rescale(n, out);
  }

  lut(n: Extract<IrNode, { kind: "lut" }>): void {
    const x = this.q(n.x);
    const size = x.hi - x.lo + 1;
    if (size > this.o.maxLutSize) {
      this.fail(n, "UNSUPPORTED_ATTR", `its input range [${x.lo}, ${x.hi}] needs a ${size}-entry table (limit ${this.o.maxLutSize})`);
    }
    const sy = this.flexibleScale(n, 0);
    const grp = this.groups.get(n.out)!;
    const [glo, ghi] = groupBounds(grp);
    const f = n.fn.f;
    const clamped = (v: number): number => Math.min(Math.max(f(v), n.act.lo), n.act.hi);
    const cal = this.ranges.get(n.x) ?? { min: x.lo * x.scale, max: x.hi * x.scale };
    // An infinite value saturates like any other (the clamps below); an undefined one (Sqrt below
    // 0, 0/0) takes its nearest defined neighbour, unless the calibration itself reached it.
    // Each entry at its integer's expected real value (a floored input reads ½ unit low).
    const reals = Array.from({ length: size }, (_, i) => clamped((x.lo + i) * x.scale - x.bias));
    for (let i = 0; i < size; i++) {
      if (!Number.isNaN(reals[i])) continue;
      const v = (x.lo + i) * x.scale;
      if (v >= cal.min && v <= cal.max) {
        this.fail(n, "UNSUPPORTED_ATTR", `${n.fn.name} is undefined at ${v} (integer ${x.lo + i}), inside the calibrated input range [${cal.min}, ${cal.max}]`);
      }
    }
    // The nearest defined entry of each index: one scan each way (a tie goes to the lower one).
    const below = new Int32Array(size).fill(-1);
    const above = new Int32Array(size).fill(-1);
    for (let i = 0, last = -1; i < size; i++) below[i] = last = Number.isNaN(reals[i]) ? last : i;
    for (let i = size - 1, last = -1; i >= 0; i--) above[i] = last = Number.isNaN(reals[i]) ? last : i;
    if (below[size - 1] === -1) this.fail(n, "UNSUPPORTED_ATTR", `${n.fn.name} is undefined on the whole input range`);
    const table = new Int32Array(size);
    for (let i = 0; i < size; i++) {
      const lo = below[i]!;
      const hi = above[i]!;
      const near = lo === -1 ? hi : hi === -1 || i - lo <= hi - i ? lo : hi;
      table[i] = Math.min(Math.max(Math.round(reals[near]! / sy), glo), ghi);
    }
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of table) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    // The bound holds while activations stay in their calibrated ranges: the float input v is in
    // [cal.min, cal.max] and the integer's real value within x.err of it, on the table. The
    // function's slope there bounds what the input's error costs at the output.
    const ex = x.err + Math.abs(x.bias);
    let a = Math.min(cal.min, Math.max(cal.min - ex, x.lo * x.scale));
    const exps = n.sumOfExps === undefined ? undefined : this.tensors.get(n.sumOfExps);
    if (exps) {
      // One exp(0) = 1 in the sum, within half a unit of the exps, the sum rounded to half a unit of its own.
      a = Math.max(a, Math.min(cal.min, 1 - exps.scale / 2 - x.scale / 2));
    }
    const b = Math.max(cal.max, Math.min(cal.max + ex, x.hi * x.scale));
    const slope = lipschitzOn(clamped, a, b, Math.min(1 << 20, Math.max(4096, 16 * size)));
    this.push(n, { kind: "lut", input: x.index, lo: x.lo, table }, { scale: sy, lo, hi, err: slope * ex + sy / 2 });
  }

  passThrough(n: Extract<IrNode, { kind: "clamp" | "maxpool" | "reshape" }>): void {
    const x = this.q(n.x);
    const base = { scale: x.scale, lo: x.lo, hi: x.hi, err: x.err, bias: x.bias };
    if (n.kind === "maxpool") {
      const w = n.win;
      this.push(n, { kind: "maxpool", input: x.index, kernel: [w.kh, w.kw], strides: [w.sy, w.sx], pads: [w.pt, w.pl, w.pb, w.pr] }, base);
    } else if (n.kind === "reshape") {
      this.push(n, { kind: "reshape", input: x.index, shape: n.outShape }, base);
    } else if (n.act.lo === 0 && n.act.hi === Infinity) {
      this.push(n, { kind: "relu", input: x.index }, { ...base, lo: Math.max(x.lo, 0), hi: Math.max(x.hi, 0) });
    } else {
      const { clip, err } = clipFor({ min: -1, max: 1, bits: 31, headroom: 1 }, x.scale, n.act);
      const lo = Math.min(Math.max(clip[0], x.lo), x.hi);
      const hi = Math.max(Math.min(clip[1], x.hi), lo);
      this.push(n, { kind: "clip", input: x.index, lo, hi }, { ...base, lo, hi, err: x.err + err });
    }
  }

  node(n: IrNode): void {
    switch (n.kind) {
      case "dense": case "conv": return this.dense(n);
      case "mulc": return this.mulc(n);
      case "add": case "addc": return this.add(n);
      case "lut": return this.lut(n);
      case "clamp": case "maxpool": case "reshape": return this.passThrough(n);
      case "matmul": case "prod": return this.product(n);
      case "gather": return this.gather(n);
      case "const": return this.constant(n);
      case "elemc": return this.fail(n, "UNSUPPORTED_ATTR", "an elementwise constant left unlowered (converter bug)");
    }
  }
}

export function planModel(g: IrGraph, ranges: ReadonlyMap<string, TensorRange>, o: PlanOptions): Plan {
  const groups = buildGroups(g, ranges, o);
  const p = new Planner(g, groups, o, ranges);
  const inGroup = groups.get(g.input)!;
  let inScale: number;
  let inRange: [number, number];
  if (o.input) {
    inScale = o.input.scale;
    inRange = [o.input.lo, o.input.hi];
  } else {
    inScale = desiredScale(inGroup);
    inRange = groupBounds(inGroup);
  }
  if (!o.input && g.integerInput) {
    // Token ids: integers at scale 1, over the embedding's [0, V − 1] (else the calibrated integers).
    const cal = ranges.get(g.input) ?? { min: 0, max: 0 };
    inScale = 1;
    inRange = [g.integerInput.lo ?? Math.floor(cal.min), g.integerInput.hi ?? Math.ceil(cal.max)];
  }
  inGroup.scale = inScale;
  // Rounding a real input to the nearest unit errs by half a unit; integer ids at scale 1 do not.
  const inErr = g.integerInput && inScale === 1 ? 0 : inScale / 2;
  p.tensors.set(g.input, { scale: inScale, lo: inRange[0], hi: inRange[1], err: inErr, bias: 0, index: 0, group: inGroup });
  for (const n of g.nodes) {
    for (const t of nodeInputs(n)) {
      if (!p.tensors.has(t)) throw new ConvertError("SHAPE", n.name, n.op, `reads "${t}", which no earlier node computes`);
    }
    if (n.exact) {
      for (const t of nodeInputs(n)) {
        const x = p.tensors.get(t)!;
        if (x.scale !== 1 || x.err !== 0) {
          throw new ConvertError("SCALE", n.name, n.op, `the token ids must be exact integers at scale 1 (they are at scale ${x.scale}, error ${x.err}): convert with --input-scale 1 --input-range 0,<V − 1>, or leave the input's quantization to the converter`);
        }
      }
    }
    p.node(n);
  }
  const out = p.tensors.get(g.output);
  if (!out || out.index === 0) throw new ConvertError("SHAPE", g.output, "graph output", "the output must be computed by at least one layer");
  if (out.index !== p.layers.length) {
    throw new ConvertError("SHAPE", g.output, "graph output", "nodes after the graph output's producer are not supported (dead code)");
  }
  return { inputShape: g.inputShape, inputRange: inRange, inputScale: inScale, outputScale: out.scale, errorBound: out.err, layers: p.layers };
}
