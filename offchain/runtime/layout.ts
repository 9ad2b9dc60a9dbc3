/**
 * What onnxruntime executes for a canonical model: the model recompiled, layer by layer, from
 * its parsed form (`CanonicalModel.layers`, the committed semantics) into a graph that
 * onnxruntime runs faster, with bit-identical results. The canonical file, its content hash
 * and its graph commitment are untouched: this is only how the runner hands the model to
 * onnxruntime.
 *
 * Ground rules, from the validator (offchain/model/patterns.ts, intervals.ts): every constant
 * is an integer with |v| < 2^24; shifts s are integers in 0..24; clip bounds are integers;
 * for DENSE/CONV `|B[m]| + Σ|W[m,k]|·max|x| < 2^24` per output channel (x's proven range,
 * widened to include 0 when a CONV pads), `max|a| + max|b| < 2^24` for ADD,
 * `max|x|·|C[c]| < 2^24` for MUL, `K·max|a|·max|b| < 2^24` for MATMUL and `max|a|·max|b| < 2^24`
 * for PRODUCT. A float32 value P·2^-s with P an integer, |P| < 2^24 and
 * s <= 25 is exactly representable (24-bit significand; no underflow, normal floats reach
 * 2^-126). Float32 addition and multiplication round only when the exact result is not
 * representable, so a computation all of whose exact intermediates are representable is
 * exact, in any summation order, with or without FMA or SIMD.
 *
 * Rewrites (each one proven exact; test/runtime/layout.test.ts checks every layer output
 * against the reference interpreter, and that a deliberately wrong rewrite is caught):
 *
 * 1. Fold the power-of-two scale into the weights (DENSE, CONV, MUL). `Gemm/Conv(x, W, B)`
 *    → `Mul(·, 2^-s)` becomes `Gemm/Conv(x, W·2^-s, B·2^-s)`; MUL's `Mul(x, C)` → `Mul(·, 2^-s)`
 *    becomes `Mul(x, C·2^-s)`. Exact: every product and partial sum of the folded layer is the
 *    original one (an integer below 2^24, by the exactness rule) times 2^-s, hence
 *    representable. Removes a node (onnxruntime folds Conv+Mul itself, but not Gemm+Mul or
 *    Mul+Mul).
 * 2. Clip before Floor: `Floor → Clip(lo, hi)` becomes `Clip(lo, hi) → Floor`. Exact: for
 *    integers lo <= hi and any real y, floor(clip(y, lo, hi)) = clip(floor(y), lo, hi)
 *    (floor is monotone and fixes integers). The Clip then fuses into the Conv as its
 *    activation (one pass over the output fewer).
 * 3. No Floor when s = 0 for every channel: the value is already an integer (an exact
 *    integer sum scaled by 1), so Floor is the identity. Mul by 1 disappears with rewrite 1.
 * 4. Floor sinking (plain run only; the traced graph must expose every layer output): a Floor
 *    whose only consumer is a MAXPOOL, RESHAPE, RELU or CLIP layer, or a one-input GATHER with
 *    fewer output elements than input elements, moves after it. Exact: floor is monotone, so it
 *    commutes with max over a window (padding never wins in canonical/1), with max(·, 0) and
 *    with clip to integer bounds, and it is elementwise, so it commutes with a reshape and with
 *    any movement of values (a GATHER's zeros stay zeros). Fewer elements to floor (e.g. after
 *    a 2×2 or global pool, or a slice such as a transformer's first token).
 * 5. Rounding instead of Floor, on integer kernels' terms (only in the NCHWc layout below,
 *    CONV layers with clip [0, 255] or [-128, 127], every s >= 1): the bias becomes
 *    `(B − 2^(s−1) + 1/2)·2^-s` and `Floor → Clip` becomes `QuantizeLinear(·, 1, 0)` to
 *    uint8 / int8 (round to nearest, saturate) → `DequantizeLinear(·, 1, 0)`. Exact when
 *    `|B − 2^(s−1) + 1/2| + Σ|W|·max|x| < 2^23` (checked per channel, else the layer keeps
 *    Floor): every partial sum is then P·2^-s with P a half-integer, |P| < 2^23, i.e.
 *    (2P)·2^-(s+1) with |2P| < 2^24, representable, so the Conv output z is exact. With
 *    acc = q·2^s + r, 0 <= r < 2^s: z = q + (r − 2^(s−1) + 1/2)·2^-s lies strictly within
 *    1/2 of q = floor(acc·2^-s), so rounding to nearest (whatever the tie rule: there is no
 *    tie) gives q, and the saturation is the clip. The Conv keeps Relu (uint8) or Clip (int8)
 *    as its activation: both commute with rounding for integer bounds. QuantizeLinear is a
 *    vectorised MLAS kernel; Floor is not, and costs about three times as much.
 * 6. The NCHWc layout (`nchwcLayout`, needs onnxruntime; not pure): onnxruntime's fastest
 *    convolutions run on channel-blocked tensors (NCHWc), but its layout pass only keeps a
 *    tensor blocked through ops it knows (Conv, pooling, Relu, Add, …). Floor, QuantizeLinear
 *    and DequantizeLinear are not among them, so each layer would pay a reorder to NCHW and
 *    back around its Floor. Instead the graph is laid out with a `Relu` placeholder in place
 *    of each of those nodes, onnxruntime optimises it (Conv+activation fusion, weight
 *    reordering, the NCHWc rewrite) and saves the result, and the placeholders are turned
 *    back into the real ops. Exact: those three ops are elementwise with scalar parameters,
 *    so they compute the same values on a blocked tensor (padding channels hold zeros, which
 *    they map to zeros, and never reach an output); every other node is onnxruntime's own
 *    exact rewrite of exact float arithmetic (weight reordering moves values, the fused
 *    activations are max/min). The saved graph runs with optimisation disabled, so nothing
 *    fuses across the swapped ops. If any placeholder does not come back exactly once, as a
 *    unary node, the portable graph (rewrites 1–4, Floor everywhere) is used instead.
 *
 * The new kinds: a DENSE over [1, R..., K] is a Gemm on the input viewed as [R, K] (Reshape is
 * free), its result viewed back as [1, R..., M]; MATMUL and PRODUCT are MatMul / Mul of the two
 * settled operands, then `Mul(·, 2^-s)` and the tail (exact: every product and partial sum is an
 * integer below 2^24, and a power-of-two scale of it is representable); GATHER is its own pattern
 * (without the Concat when one input is read and never the zero); CONST is `Identity(C)`.
 *
 * Not changed: DENSE stays a Gemm (batch 1: a GEMV either way); LUT stays Add → Cast → Gather;
 * ConvInteger/MatMulInteger are not used (no depthwise-friendly kernel, and int32 requantizing
 * ops would need their own exactness proofs).
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import { join } from "node:path";

import type * as ortTypes from "onnxruntime-node";

import type { CanonicalLayer, CanonicalModel } from "../model/canonical.js";
import {
  AddConst, AddParam, ClipParam, ConstConst, ConvConst, ConvParam, DenseConst, DenseParam, GatherConst, LayerKind,
  LutConst, LutParam, MatMulConst, MatMulParam, MaxPoolParam, MulConst, MulParam, ProductConst, ProductParam,
} from "../model/layers.js";
import type { IAttributeProto, INodeProto, ITensorProto } from "../model/onnx.js";
import { BUILD_IR_VERSION, DataType, decodeModel, encodeModel, floatValueInfo } from "../model/onnx.js";
import type { Range } from "../model/intervals.js";

export interface LayoutOptions {
  /** Expose every layer output (by its `outputName`) as a graph output, for the traced session. */
  readonly trace?: boolean;
  /**
   * Emit `Relu` placeholders (named `…#floor`, `…#quantize-u8|i8`, `…#dequantize-u8|i8`) for the ops the
   * NCHWc layout swaps back in, and use rewrite 5. Only for `nchwcLayout`: never run as is.
   */
  readonly placeholders?: boolean;
  /**
   * Test hook: break one rewrite on purpose (the layout tests check it is caught):
   * "skip-owed-floor" lets a consumer read a sunk Floor's input unfloored (rewrite 4),
   * "half-bias" leaves out rewrite 5's +1/2 (ties then round to even).
   */
  readonly broken?: "skip-owed-floor" | "half-bias";
}

const PLACEHOLDER = /#(floor|quantize|dequantize)-?(u8|i8)?$/;
const UINT8 = 2;
const INT8 = 3;
const MAX_EXACT_HALF = 2 ** 23;

const f32 = (name: string, dims: readonly number[], values: ArrayLike<number>): ITensorProto => ({
  name,
  dims: [...dims],
  dataType: DataType.FLOAT,
  rawData: new Uint8Array(Float32Array.from(values).buffer),
});
const i64 = (name: string, values: readonly number[]): ITensorProto => ({
  name,
  dims: [values.length],
  dataType: DataType.INT64,
  rawData: new Uint8Array(BigInt64Array.from(values.map((v) => BigInt(v))).buffer),
});
const ints = (name: string, v: readonly number[]): IAttributeProto => ({ name, type: 7, ints: [...v] });
const int = (name: string, v: number): IAttributeProto => ({ name, type: 2, i: v });

/** Largest |x| over a range. */
const absMax = (r: Range): number => Math.max(Math.abs(r[0]), Math.abs(r[1]));

class Emitter {
  /** Prefix of the shared constants' names (distinct per emitter: names must not collide). */
  constructor(private readonly prefix = "layout") {}
  readonly nodes: INodeProto[] = [];
  readonly inits: ITensorProto[] = [];
  private readonly scalars = new Map<string, string>();

  init(t: ITensorProto): string {
    this.inits.push(t);
    return t.name!;
  }

  /** A shared float scalar initializer. */
  scalar(v: number): string {
    const key = `f${v}`;
    let name = this.scalars.get(key);
    if (!name) {
      name = this.init(f32(`${this.prefix}/const/${this.scalars.size}`, [], [v]));
      this.scalars.set(key, name);
    }
    return name;
  }

  zeroPoint(type: number): string {
    const key = `zp${type}`;
    let name = this.scalars.get(key);
    if (!name) {
      name = this.init({ name: `${this.prefix}/zp/${type}`, dims: [], dataType: type, rawData: new Uint8Array([0]) });
      this.scalars.set(key, name);
    }
    return name;
  }

  node(opType: string, name: string, input: string[], output: string, attribute: IAttributeProto[] = [], domain = ""): string {
    this.nodes.push({ name, opType, input, output: [output], attribute, domain });
    return output;
  }
}

/** Per-channel constant shaped to broadcast along axis 1 of a rank-r tensor. */
function channelDims(c: number, rank: number): number[] {
  return [c, ...new Array<number>(Math.max(0, rank - 2)).fill(1)];
}

interface Ctx {
  readonly model: CanonicalModel;
  readonly opts: LayoutOptions;
  readonly e: Emitter;
  /** ONNX name holding trace tensor i, and whether a Floor is still owed on it (rewrite 4). */
  readonly names: string[];
  readonly owesFloor: boolean[];
  /** Layers reading each trace tensor. */
  readonly consumers: number[][];
}

function rangeOf(ctx: Ctx, index: number): Range {
  return index === 0 ? ctx.model.inputRange : ctx.model.layers[index - 1]!.range;
}

/** Name of trace tensor i with any owed Floor applied. */
function settled(ctx: Ctx, index: number, final = false): string {
  if (!ctx.owesFloor[index]) return ctx.names[index]!;
  if (ctx.opts.broken === "skip-owed-floor" && !final) return ctx.names[index]!;
  const name = index === 0 ? ctx.model.inputName : ctx.model.layers[index - 1]!.outputName;
  floorNode(ctx, ctx.names[index]!, name);
  ctx.names[index] = name;
  ctx.owesFloor[index] = false;
  return name;
}

function floorNode(ctx: Ctx, input: string, output: string): void {
  if (ctx.opts.placeholders) ctx.e.node("Relu", `${output}#floor`, [input], output);
  else ctx.e.node("Floor", `${output}/floor`, [input], output);
}

/**
 * May layer L's Floor be owed to its consumer (rewrite 4)? Only in the plain graph, when the
 * single consumer is a floor-commuting layer and L's output is not the model output.
 */
function canSink(ctx: Ctx, layer: CanonicalLayer): boolean {
  if (ctx.opts.trace || layer.index === ctx.model.layers.length) return false;
  const cons = ctx.consumers[layer.index]!;
  if (cons.length !== 1) return false;
  const next = ctx.model.layers[cons[0]! - 1]!;
  if (next.inputs.length !== 1) return false;
  // A one-input GATHER moves values (and zeros, which Floor keeps): worth it when it keeps fewer.
  if (next.kind === LayerKind.GATHER) return numelOf(next.outShape) < next.params[0]!;
  return next.kind === LayerKind.MAXPOOL || next.kind === LayerKind.RESHAPE || next.kind === LayerKind.RELU || next.kind === LayerKind.CLIP;
}

const numelOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/**
 * The requantization tail after an accumulator `acc` that already holds acc·2^-s (rewrite 1):
 * Clip(lo, hi), then Floor unless every s is 0 (rewrites 2, 3), possibly owed (rewrite 4).
 */
function tail(ctx: Ctx, layer: CanonicalLayer, acc: string, shifts: Int32Array, clip: Range): void {
  const out = layer.outputName;
  const needFloor = shifts.some((s) => s !== 0);
  const lo = ctx.e.scalar(clip[0]);
  const hi = ctx.e.scalar(clip[1]);
  if (!needFloor) {
    ctx.names[layer.index] = ctx.e.node("Clip", `${out}/clip`, [acc, lo, hi], out);
    return;
  }
  const clipped = ctx.e.node("Clip", `${out}/clip`, [acc, lo, hi], `${out}/clipped`);
  if (canSink(ctx, layer)) {
    ctx.names[layer.index] = clipped;
    ctx.owesFloor[layer.index] = true;
    return;
  }
  floorNode(ctx, clipped, out);
  ctx.names[layer.index] = out;
}

function scaled(values: Int32Array, shifts: Int32Array, per: number): Float64Array {
  const out = new Float64Array(values.length);
  for (let k = 0; k < values.length; k++) out[k] = values[k]! * 2 ** -shifts[Math.floor(k / per)]!;
  return out;
}

/** DENSE: a Gemm on the rows; an input [1, R..., K] is viewed as [R, K] and the result as [1, R..., M]. */
function dense(ctx: Ctx, l: CanonicalLayer): void {
  const K = l.params[DenseParam.K]!, M = l.params[DenseParam.M]!;
  const S = l.constants[DenseConst.S]!.values;
  const out = l.outputName;
  const W = ctx.e.init(f32(`${out}/W`, [M, K], scaled(l.constants[DenseConst.W]!.values, S, K)));
  const B = ctx.e.init(f32(`${out}/B`, [M], scaled(l.constants[DenseConst.B]!.values, S, 1)));
  let x = settled(ctx, l.inputs[0]!);
  const rows = l.outShape.length > 2;
  if (rows) x = ctx.e.node("Reshape", `${out}/rows`, [x, ctx.e.init(i64(`${out}/rows-shape`, [-1, K]))], `${out}/x-rows`);
  let acc = ctx.e.node("Gemm", `${out}/gemm`, [x, W, B], `${out}/acc`, [int("transB", 1)]);
  if (rows) acc = ctx.e.node("Reshape", `${out}/unrows`, [acc, ctx.e.init(i64(`${out}/out-shape`, l.outShape))], `${out}/acc-shaped`);
  tail(ctx, l, acc, S, [l.params[DenseParam.LO]!, l.params[DenseParam.HI]!]);
}

/**
 * MATMUL and PRODUCT: the op on the two settled operands, then · 2^-s and the tail. Exact: every
 * product and partial sum is an integer below 2^24 (the validator's bound), and scaling it by a
 * power of two 2^-s, s <= 24, is exact.
 */
function twoOperands(ctx: Ctx, l: CanonicalLayer, op: "MatMul" | "Mul", s: number, clip: Range): void {
  const out = l.outputName;
  const a = settled(ctx, l.inputs[0]!);
  const b = settled(ctx, l.inputs[1]!);
  let acc = ctx.e.node(op, `${out}/${op.toLowerCase()}`, [a, b], `${out}/sum`);
  if (s !== 0) acc = ctx.e.node("Mul", `${out}/scale`, [acc, ctx.e.scalar(2 ** -s)], `${out}/acc`);
  tail(ctx, l, acc, Int32Array.of(s), clip);
}

/**
 * GATHER: the pattern itself (flatten, concatenate with the zero, gather, reshape), without the
 * Concat when one input's elements alone are read. Values move unchanged; a one-input GATHER
 * passes an owed Floor on (rewrite 4) or settles it, like a RESHAPE.
 */
function gatherLayer(ctx: Ctx, l: CanonicalLayer): void {
  const e = ctx.e;
  const out = l.outputName;
  const idx = l.constants[GatherConst.IDX]!.values;
  const total = l.params.reduce((a, b) => a + b, 0);
  const flat = e.init(i64(`${out}/flat-shape`, [-1]));
  const indices = e.init(i64(`${out}/idx`, Array.from(idx)));
  const shape = e.init(i64(`${out}/shape`, l.outShape));
  const moveFrom = (data: string, o: string): void => {
    const g = e.node("Gather", `${out}/gather`, [data, indices], `${out}/gathered`, [int("axis", 0)]);
    e.node("Reshape", `${out}/reshape`, [g, shape], o);
  };
  if (l.inputs.length === 1 && !idx.includes(total)) {
    return passThrough(ctx, l, (i, o) => moveFrom(e.node("Reshape", `${out}/flat0`, [i, flat], `${out}/flat0`), o));
  }
  if (l.inputs.length === 1) {
    const zero = e.init(f32(`${out}/Z`, [1], [0]));
    return passThrough(ctx, l, (i, o) => {
      const f = e.node("Reshape", `${out}/flat0`, [i, flat], `${out}/flat0`);
      moveFrom(e.node("Concat", `${out}/concat`, [f, zero], `${out}/cat`, [int("axis", 0)]), o);
    });
  }
  const flats = l.inputs.map((t, k) => e.node("Reshape", `${out}/flat${k}`, [settled(ctx, t), flat], `${out}/flat${k}`));
  const zero = e.init(f32(`${out}/Z`, [1], [0]));
  moveFrom(e.node("Concat", `${out}/concat`, [...flats, zero], `${out}/cat`, [int("axis", 0)]), out);
  ctx.names[l.index] = out;
}

/** Rewrite 5's condition for a CONV layer: the quantized type, or undefined. */
function roundingType(ctx: Ctx, l: CanonicalLayer, xr: Range): number | undefined {
  if (!ctx.opts.placeholders || canSink(ctx, l)) return undefined;
  const lo = l.params[ConvParam.LO]!, hi = l.params[ConvParam.HI]!;
  const type = lo === 0 && hi === 255 ? UINT8 : lo === -128 && hi === 127 ? INT8 : undefined;
  if (type === undefined) return undefined;
  const W = l.constants[ConvConst.W]!.values, B = l.constants[ConvConst.B]!.values, S = l.constants[ConvConst.S]!.values;
  const per = W.length / B.length;
  const xm = absMax(xr);
  for (let m = 0; m < B.length; m++) {
    const s = S[m]!;
    if (s < 1) return undefined;
    let bound = Math.abs(B[m]! - 2 ** (s - 1) + 0.5);
    for (let k = m * per; k < (m + 1) * per; k++) bound += Math.abs(W[k]!) * xm;
    if (bound >= MAX_EXACT_HALF) return undefined;
  }
  return type;
}

function conv(ctx: Ctx, l: CanonicalLayer): void {
  const p = (i: number): number => l.params[i]!;
  const M = p(ConvParam.M), KH = p(ConvParam.KH), KW = p(ConvParam.KW), G = p(ConvParam.GROUP);
  const CG = p(ConvParam.C) / G;
  const S = l.constants[ConvConst.S]!.values;
  const Bi = l.constants[ConvConst.B]!.values;
  const pads = [p(ConvParam.PT), p(ConvParam.PL), p(ConvParam.PB), p(ConvParam.PR)];
  const x = l.inputs[0]!;
  const r = rangeOf(ctx, x);
  const xr: Range = pads.some((v) => v > 0) ? [Math.min(r[0], 0), Math.max(r[1], 0)] : r;
  const qType = roundingType(ctx, l, xr);
  const out = l.outputName;
  const bias = qType === undefined
    ? scaled(Bi, S, 1)
    : Float64Array.from(Bi, (b, m) => {
        const s = S[m]!;
        const half = ctx.opts.broken === "half-bias" ? 0 : 0.5;
        return (b - 2 ** (s - 1) + half) * 2 ** -s;
      });
  const W = ctx.e.init(f32(`${out}/W`, [M, CG, KH, KW], scaled(l.constants[ConvConst.W]!.values, S, CG * KH * KW)));
  const B = ctx.e.init(f32(`${out}/B`, [M], bias));
  const attrs = [
    ints("kernel_shape", [KH, KW]),
    ints("strides", [p(ConvParam.SY), p(ConvParam.SX)]),
    ints("pads", pads),
    int("group", G),
  ];
  const acc = ctx.e.node("Conv", `${out}/conv`, [settled(ctx, x), W, B], `${out}/acc`, attrs);
  if (qType === undefined) {
    tail(ctx, l, acc, S, [p(ConvParam.LO), p(ConvParam.HI)]);
    return;
  }
  // Rewrite 5: activation, then round-and-saturate, then back to float (placeholders; see nchwcLayout).
  const act = qType === UINT8
    ? ctx.e.node("Relu", `${out}/relu`, [acc], `${out}/act`)
    : ctx.e.node("Clip", `${out}/clip`, [acc, ctx.e.scalar(-128), ctx.e.scalar(127)], `${out}/act`);
  const t = qType === UINT8 ? "u8" : "i8";
  const q = ctx.e.node("Relu", `${out}/q#quantize-${t}`, [act], `${out}/q`);
  ctx.names[l.index] = ctx.e.node("Relu", `${out}#dequantize-${t}`, [q], out);
}

function add(ctx: Ctx, l: CanonicalLayer): void {
  const s = l.constants[AddConst.S]!.values[0]!;
  const a = settled(ctx, l.inputs[0]!);
  const C = l.outShape[1]!;
  const b = l.inputs.length === 2
    ? settled(ctx, l.inputs[1]!)
    : ctx.e.init(f32(`${l.outputName}/Bc`, channelDims(C, l.outShape.length), l.constants[AddConst.B]!.values));
  let acc = ctx.e.node("Add", `${l.outputName}/add`, [a, b], `${l.outputName}/sum`);
  if (s !== 0) acc = ctx.e.node("Mul", `${l.outputName}/scale`, [acc, ctx.e.scalar(2 ** -s)], `${l.outputName}/acc`);
  tail(ctx, l, acc, Int32Array.of(s), [l.params[AddParam.LO]!, l.params[AddParam.HI]!]);
}

function mul(ctx: Ctx, l: CanonicalLayer): void {
  const S = l.constants[MulConst.S]!.values;
  const C = l.outShape[1]!;
  const factor = ctx.e.init(f32(`${l.outputName}/C`, channelDims(C, l.outShape.length), scaled(l.constants[MulConst.C]!.values, S, 1)));
  const acc = ctx.e.node("Mul", `${l.outputName}/mul`, [settled(ctx, l.inputs[0]!), factor], `${l.outputName}/acc`);
  tail(ctx, l, acc, S, [l.params[MulParam.LO]!, l.params[MulParam.HI]!]);
}

/** A floor-commuting layer (rewrite 4): its input may owe a Floor, which it passes on. */
function passThrough(ctx: Ctx, l: CanonicalLayer, emit: (input: string, output: string) => void): void {
  const x = l.inputs[0]!;
  const owed = ctx.owesFloor[x]!;
  const out = l.outputName;
  if (!owed) {
    emit(ctx.names[x]!, out);
    ctx.names[l.index] = out;
    return;
  }
  const pre = `${out}/unfloored`;
  emit(ctx.names[x]!, pre);
  ctx.owesFloor[x] = false;
  // Passing the Floor on again, or settling it here.
  if (canSink(ctx, l)) {
    ctx.names[l.index] = pre;
    ctx.owesFloor[l.index] = true;
  } else if (ctx.opts.broken === "skip-owed-floor" && l.index < ctx.model.layers.length) {
    ctx.names[l.index] = pre;
  } else {
    floorNode(ctx, pre, out);
    ctx.names[l.index] = out;
  }
}

function layer(ctx: Ctx, l: CanonicalLayer): void {
  const e = ctx.e;
  switch (l.kind) {
    case LayerKind.DENSE:
      return dense(ctx, l);
    case LayerKind.CONV:
      return conv(ctx, l);
    case LayerKind.ADD:
      return add(ctx, l);
    case LayerKind.MUL:
      return mul(ctx, l);
    case LayerKind.RELU:
      return passThrough(ctx, l, (i, o) => void e.node("Relu", `${o}/relu`, [i], o));
    case LayerKind.CLIP:
      return passThrough(ctx, l, (i, o) => {
        e.node("Clip", `${o}/clip`, [i, e.scalar(l.params[ClipParam.LO]!), e.scalar(l.params[ClipParam.HI]!)], o);
      });
    case LayerKind.MAXPOOL: {
      const p = (i: number): number => l.params[i]!;
      const attrs = [
        ints("kernel_shape", [p(MaxPoolParam.KH), p(MaxPoolParam.KW)]),
        ints("strides", [p(MaxPoolParam.SY), p(MaxPoolParam.SX)]),
        ints("pads", [p(MaxPoolParam.PT), p(MaxPoolParam.PL), p(MaxPoolParam.PB), p(MaxPoolParam.PR)]),
      ];
      return passThrough(ctx, l, (i, o) => void e.node("MaxPool", `${o}/maxpool`, [i], o, attrs));
    }
    case LayerKind.RESHAPE: {
      const shape = e.init(i64(`${l.outputName}/shape`, l.outShape));
      return passThrough(ctx, l, (i, o) => void e.node("Reshape", `${o}/reshape`, [i, shape], o));
    }
    case LayerKind.LUT: {
      const lo = l.params[LutParam.LO]!;
      const out = l.outputName;
      const shifted = e.node("Add", `${out}/offset`, [settled(ctx, l.inputs[0]!), e.scalar(-lo)], `${out}/shifted`);
      const idx = e.node("Cast", `${out}/cast`, [shifted], `${out}/idx`, [int("to", DataType.INT64)]);
      const T = e.init(f32(`${out}/T`, [l.constants[LutConst.T]!.values.length], l.constants[LutConst.T]!.values));
      ctx.names[l.index] = e.node("Gather", `${out}/gather`, [T, idx], out, [int("axis", 0)]);
      return;
    }
    case LayerKind.MATMUL:
      return twoOperands(ctx, l, "MatMul", l.constants[MatMulConst.S]!.values[0]!, [l.params[MatMulParam.LO]!, l.params[MatMulParam.HI]!]);
    case LayerKind.PRODUCT:
      return twoOperands(ctx, l, "Mul", l.constants[ProductConst.S]!.values[0]!, [l.params[ProductParam.LO]!, l.params[ProductParam.HI]!]);
    case LayerKind.GATHER:
      return gatherLayer(ctx, l);
    case LayerKind.CONST: {
      const C = l.constants[ConstConst.C]!.values;
      const c = e.init(f32(`${l.outputName}/C`, l.outShape, C));
      ctx.names[l.index] = e.node("Identity", `${l.outputName}/identity`, [c], l.outputName);
      return;
    }
  }
}

/**
 * The graph onnxruntime runs for `model` (rewrites 1–4, and 5 with `placeholders`): same
 * input, same output name, same values. Pure: a function of the parsed model only.
 */
export function layoutModel(model: CanonicalModel, options: LayoutOptions = {}): Uint8Array {
  const n = model.layers.length;
  const consumers: number[][] = Array.from({ length: n + 1 }, () => []);
  for (const l of model.layers) for (const i of new Set(l.inputs)) consumers[i]!.push(l.index);
  const ctx: Ctx = {
    model,
    opts: options,
    e: new Emitter(),
    names: [model.inputName],
    owesFloor: new Array<boolean>(n + 1).fill(false),
    consumers,
  };
  for (const l of model.layers) layer(ctx, l);
  const last = model.layers[n - 1]!;
  settled(ctx, last.index, true);
  const outputs = options.trace ? model.layers.map((l) => l.outputName) : [last.outputName];
  const outShape = new Map(model.layers.map((l) => [l.outputName, l.outShape]));
  return encodeModel({
    irVersion: BUILD_IR_VERSION,
    producerName: "veritensor-layout",
    opsetImport: [{ domain: "", version: 17 }],
    graph: {
      name: "veritensor-layout",
      node: ctx.e.nodes,
      initializer: ctx.e.inits,
      input: [floatValueInfo(model.inputName, model.inputShape)],
      output: outputs.map((o) => floatValueInfo(o, outShape.get(o)!)),
    },
  });
}

export interface NchwcLayout {
  /** ONNX bytes to run with graph optimisation disabled (`optimized`), or at "all" (portable fallback). */
  readonly bytes: Uint8Array;
  /** True when the NCHWc layout was produced; false when the portable graph is returned. */
  readonly optimized: boolean;
  /** Placeholders swapped back (Floor, QuantizeLinear, DequantizeLinear nodes). */
  readonly swapped: number;
}

/**
 * Rewrite 6: the NCHWc layout, produced by onnxruntime itself from the placeholder graph,
 * with the placeholders swapped back. Falls back to the portable graph when onnxruntime did
 * not keep every placeholder as a unary node. Needs a temporary file (onnxruntime writes the
 * optimised model to a path).
 */
export async function nchwcLayout(
  model: CanonicalModel,
  ort: typeof ortTypes,
  options: Omit<LayoutOptions, "placeholders"> & { intraOpNumThreads?: number } = {},
): Promise<NchwcLayout> {
  const portable = (): NchwcLayout => ({ bytes: layoutModel(model, options), optimized: false, swapped: 0 });
  const source = layoutModel(model, { ...options, placeholders: true });
  const expected = decodeModel(source).graph!.node!.filter((nd) => PLACEHOLDER.test(nd.name ?? "")).length;
  if (expected === 0) return portable();
  const dir = await mkdtemp(join(os.tmpdir(), "veritensor-layout-"));
  try {
    const file = join(dir, "optimized.onnx");
    const session = await ort.InferenceSession.create(source, {
      graphOptimizationLevel: "all",
      optimizedModelFilePath: file,
      intraOpNumThreads: options.intraOpNumThreads ?? 1,
      logSeverityLevel: 3,
    });
    await session.release();
    const proto = decodeModel(await readFile(file));
    const graph = proto.graph!;
    const e = new Emitter("layout-swap");
    const seen = new Set<string>();
    for (const nd of graph.node ?? []) {
      const m = PLACEHOLDER.exec(nd.name ?? "");
      if (!m) continue;
      const ins = (nd.input ?? []).filter((s) => s !== "");
      if (nd.opType !== "Relu" || (nd.domain ?? "") !== "" || ins.length !== 1 || (nd.output ?? []).length !== 1 || seen.has(nd.name!)) return portable();
      seen.add(nd.name!);
      if (m[1] === "floor") nd.opType = "Floor";
      else {
        const type = m[2] === "u8" ? UINT8 : INT8;
        nd.opType = m[1] === "quantize" ? "QuantizeLinear" : "DequantizeLinear";
        nd.input = [ins[0]!, e.scalar(1), e.zeroPoint(type)];
      }
    }
    if (seen.size !== expected) return portable();
    graph.initializer = [...(graph.initializer ?? []), ...e.inits];
    // Shapes and types recorded for the placeholders' outputs are float; let onnxruntime infer them.
    graph.valueInfo = [];
    return { bytes: encodeModel(proto), optimized: true, swapped: seen.size };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
