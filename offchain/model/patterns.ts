/**
 * Node-pattern matchers: one function per canonical layer kind. Each starts at the
 * pattern's first node, follows the chain, normalises constants to their committed layout
 * and proves the layer's output range (exactness rule).
 */
import type { CanonicalLayer, ConstTensor, ParseContext, TracedTensor } from "./types.js";
import { layerLabel } from "./types.js";
import { ModelError } from "./errors.js";
import { addRange, matmulRange, minMax, mulRange, productRange, weightedSumRange } from "./intervals.js";
import type { Range } from "./intervals.js";
import { EXACT_LIMIT, LayerKind, MAX_SHIFT } from "./layers.js";
import type { INodeProto } from "./onnx.js";
import { DataType, attrFloat, attrInt, attrInts, attrString, nodeLabel, tensorDims, tensorValues } from "./onnx.js";
import { flattenShape, matmulShape, reshapeShape, shapeStr, windowOut } from "./shapes.js";

const REQUANT = "Mul(·, S) → Floor → Clip(·, lo, hi)";
const PATTERN_OPS = new Set(["Floor", "Cast", "Gather"]);
const GATHER_PATTERN = "GATHER: Reshape(t_i, [-1]) per input → Concat(f_0, …, f_{I−1}, Z; axis=0) → Gather(·, idx; axis=0) → Reshape(·, outShape)";

type Ctx = ParseContext;
const node = (ctx: Ctx, i: number): INodeProto => ctx.nodes[i]!;
const lbl = (ctx: Ctx, i: number): string => nodeLabel(node(ctx, i), i);
const at = (ctx: Ctx, i: number): string => `${node(ctx, i).opType} at node "${lbl(ctx, i)}"`;

function bad(msg: string): never {
  throw new ModelError("BAD_PATTERN", msg);
}

function inputsOf(ctx: Ctx, i: number, min: number, max: number): string[] {
  const ins = (node(ctx, i).input ?? []).slice();
  while (ins.length > 0 && ins[ins.length - 1] === "") ins.pop();
  if (ins.length < min || ins.length > max) bad(`${at(ctx, i)} has ${ins.length} inputs, expected ${min}..${max}`);
  return ins;
}

function singleOutput(ctx: Ctx, i: number): string {
  const outs = (node(ctx, i).output ?? []).filter((o) => o !== "");
  if (outs.length !== 1) bad(`${at(ctx, i)} must have exactly one output; it has ${outs.length}`);
  return outs[0]!;
}

function traced(ctx: Ctx, i: number, name: string): TracedTensor {
  const t = ctx.traced.get(name);
  if (t) return t;
  if (ctx.inits.has(name)) bad(`${at(ctx, i)} reads initializer "${name}" where a layer input is expected`);
  throw new ModelError(
    "SHAPE",
    `${at(ctx, i)} reads "${name}", which is neither the graph input nor the output of an earlier layer (unresolvable shape)`,
  );
}

function isInit(ctx: Ctx, name: string): boolean {
  return ctx.inits.has(name) && !ctx.traced.has(name);
}

interface IntConst {
  values: Int32Array;
  dims: number[];
}

/** An integer-valued initializer with |v| < 2^24 (what canonical/1 allows for W, B, C, T, bounds). */
function intConst(ctx: Ctx, i: number, name: string, role: string): IntConst {
  const t = ctx.inits.get(name);
  if (!t || ctx.traced.has(name)) bad(`${at(ctx, i)}: ${role} "${name}" must be an initializer`);
  const where = `${role} of node "${lbl(ctx, i)}"`;
  const v = tensorValues(t, where);
  const out = new Int32Array(v.length);
  for (let k = 0; k < v.length; k++) {
    const x = v[k]!;
    if (!Number.isInteger(x) || Math.abs(x) >= EXACT_LIMIT) {
      throw new ModelError(
        "NOT_INTEGER",
        `initializer "${name}" (${where}) holds ${x} at index ${k}; canonical constants are integers with |v| < 2^24`,
      );
    }
    out[k] = x;
  }
  return { values: out, dims: tensorDims(t) };
}

/**
 * A constant that is either a scalar or one value per channel (axis 1) of `outShape`,
 * right-aligned as ONNX broadcasting does. Returns it expanded to one value per channel.
 */
function perChannel(values: Int32Array, dims: number[], outShape: readonly number[], what: string, scalarOnly = false): Int32Array {
  const C = outShape[1]!;
  if (values.length === 1 && dims.length <= outShape.length) return new Int32Array(C).fill(values[0]!);
  if (!scalarOnly && dims.length <= outShape.length && dims.length >= outShape.length - 1) {
    const off = outShape.length - dims.length;
    const ok = dims.every((d, k) => (k + off === 1 ? d === C : d === 1));
    if (ok) return values.slice();
  }
  bad(
    `${what} has shape ${shapeStr(dims)}, which is neither a scalar` +
      (scalarOnly ? "" : ` nor per-channel for output shape ${shapeStr(outShape)}`),
  );
}

/**
 * A DENSE constant (B, S): a scalar or one value per unit m, the last axis of `outShape`, right-aligned
 * as ONNX broadcasting does ([M], [1, M], [1, 1, M], ...). Returns it expanded to M values.
 */
function perUnit(values: Int32Array, dims: number[], outShape: readonly number[], what: string): Int32Array {
  const M = outShape[outShape.length - 1]!;
  if (values.length === 1 && dims.length <= outShape.length) return new Int32Array(M).fill(values[0]!);
  if (dims.length >= 1 && dims.length <= outShape.length && dims.every((d, k) => (k === dims.length - 1 ? d === M : d === 1))) {
    return values.slice();
  }
  bad(`${what} has shape ${shapeStr(dims)}, which is neither a scalar nor one value per unit (the last axis) of output shape ${shapeStr(outShape)}`);
}

/** The exponents s of S = 2^-s, each checked to be an integer in 0..24. */
function shiftConst(ctx: Ctx, i: number, name: string): { values: Int32Array; dims: number[] } {
  const t = ctx.inits.get(name);
  if (!t || ctx.traced.has(name)) bad(`${at(ctx, i)}: the scale S "${name}" must be an initializer`);
  const v = tensorValues(t, `S of node "${lbl(ctx, i)}"`);
  const out = new Int32Array(v.length);
  for (let k = 0; k < v.length; k++) {
    const x = v[k]!;
    const s = x > 0 ? -Math.log2(x) : NaN;
    const r = Math.round(s);
    if (!(r >= 0 && r <= MAX_SHIFT && 2 ** -r === x)) {
      throw new ModelError(
        "BAD_SHIFT",
        `S "${name}" of node "${lbl(ctx, i)}" holds ${x} at index ${k}; it must be 2^-s with integer 0 <= s <= ${MAX_SHIFT}`,
      );
    }
    out[k] = r;
  }
  return { values: out, dims: tensorDims(t) };
}

/** The unique consumer of node i's output, which must be `op` (the next node of a pattern). */
function follow(ctx: Ctx, i: number, op: string, pattern: string): number {
  const out = singleOutput(ctx, i);
  if (ctx.graphOutputs.has(out)) {
    bad(`output "${out}" of ${at(ctx, i)} is a graph output but lies inside the pattern ${pattern}`);
  }
  const cons = ctx.consumers.get(out) ?? [];
  if (cons.length !== 1 || node(ctx, cons[0]!).opType !== op || ctx.used[cons[0]!]) {
    const got = cons.map((c) => `${node(ctx, c).opType} at node "${lbl(ctx, c)}"`).join(", ") || "nothing";
    bad(`${at(ctx, i)} must be followed only by ${op} (pattern ${pattern}); its output feeds ${got}`);
  }
  return cons[0]!;
}

/** The bounds of a Clip node: both present, scalar integer initializers, lo <= hi. */
function clipBounds(ctx: Ctx, i: number): Range {
  const ins = inputsOf(ctx, i, 3, 3);
  if (ins.some((s) => s === "")) bad(`${at(ctx, i)} must have both min and max inputs`);
  const lo = intConst(ctx, i, ins[1]!, "min");
  const hi = intConst(ctx, i, ins[2]!, "max");
  if (lo.values.length !== 1 || hi.values.length !== 1) bad(`${at(ctx, i)}: min and max must be scalars`);
  if (lo.values[0]! > hi.values[0]!) bad(`${at(ctx, i)}: min ${lo.values[0]} > max ${hi.values[0]}`);
  return [lo.values[0]!, hi.values[0]!];
}

interface Requant {
  shifts: Int32Array;
  clip: Range;
  nodes: number[];
  outputName: string;
}

/** How a requantization's S may be spelled: per channel (axis 1), per unit (DENSE: the last axis) or scalar. */
type ShiftMode = "channel" | "unit" | "scalar";

/** Mul(·, S) → Floor → Clip after node `start`; shifts expanded per channel or unit (or one scalar). */
function requantTail(ctx: Ctx, start: number, outShape: readonly number[], pattern: string, mode: ShiftMode): Requant {
  const mulIdx = follow(ctx, start, "Mul", pattern);
  const prev = singleOutput(ctx, start);
  const mulIns = inputsOf(ctx, mulIdx, 2, 2);
  const sName = mulIns[0] === prev ? mulIns[1]! : mulIns[0]!;
  if (mulIns[0] === mulIns[1]) bad(`${at(ctx, mulIdx)} must multiply by an initializer S`);
  const S = shiftConst(ctx, mulIdx, sName);
  const what = `S "${sName}" of node "${lbl(ctx, mulIdx)}"`;
  const shifts = mode === "unit" ? perUnit(S.values, S.dims, outShape, what) : perChannel(S.values, S.dims, outShape, what, mode === "scalar");
  const floorIdx = follow(ctx, mulIdx, "Floor", pattern);
  const clipIdx = follow(ctx, floorIdx, "Clip", pattern);
  const clip = clipBounds(ctx, clipIdx);
  return {
    shifts: mode === "scalar" ? shifts.slice(0, 1) : shifts,
    clip,
    nodes: [mulIdx, floorIdx, clipIdx],
    outputName: singleOutput(ctx, clipIdx),
  };
}

function expectAttrs(ctx: Ctx, i: number, allowed: readonly string[]): void {
  for (const a of node(ctx, i).attribute ?? []) {
    if (!allowed.includes(a.name ?? "")) bad(`${at(ctx, i)} has attribute "${a.name}", which canonical/1 does not allow`);
  }
}

function finish(
  ctx: Ctx,
  nodeIdx: number[],
  kind: LayerKind,
  inputs: number[],
  outShape: number[],
  params: number[],
  constants: ConstTensor[],
  outputName: string,
  range: Range,
  head = nodeIdx[0]!,
): CanonicalLayer {
  for (const k of nodeIdx) ctx.used[k] = true;
  return {
    index: ctx.nextIndex,
    kind,
    name: lbl(ctx, head),
    nodes: nodeIdx.map((k) => lbl(ctx, k)),
    inputs,
    outShape,
    params,
    constants,
    outputName,
    range,
  };
}

/** Gemm(x, W, B; transB) with x [1, K]: the weights in the committed layout [M, K] and the bias. */
function gemmHead(ctx: Ctx, i: number) {
  expectAttrs(ctx, i, ["alpha", "beta", "transA", "transB"]);
  if (attrInt(node(ctx, i), "transA", 0) !== 0) bad(`${at(ctx, i)}: transA must be 0`);
  if (attrFloat(node(ctx, i), "alpha", 1) !== 1 || attrFloat(node(ctx, i), "beta", 1) !== 1) {
    bad(`${at(ctx, i)}: alpha and beta must be 1`);
  }
  const transB = attrInt(node(ctx, i), "transB", 0);
  if (transB !== 0 && transB !== 1) bad(`${at(ctx, i)}: transB must be 0 or 1`);
  const ins = inputsOf(ctx, i, 2, 3);
  const x = traced(ctx, i, ins[0]!);
  if (x.shape.length !== 2) {
    throw new ModelError(
      "SHAPE",
      `${at(ctx, i)}: input "${ins[0]}" has shape ${shapeStr(x.shape)}; Gemm needs [1, K] (a DENSE over more axes is MatMul(x, W) → Add(·, B))`,
    );
  }
  const K = x.shape[1]!;
  const W = intConst(ctx, i, ins[1]!, "W");
  if (W.dims.length !== 2 || W.dims[transB ? 1 : 0] !== K) {
    throw new ModelError(
      "SHAPE",
      `${at(ctx, i)}: W "${ins[1]}" has shape ${shapeStr(W.dims)}, incompatible with input [1,${K}] (transB=${transB})`,
    );
  }
  const M = W.dims[transB ? 0 : 1]!;
  const outShape = [1, M];
  let bias: Int32Array = new Int32Array(M);
  if (ins[2]) {
    const B = intConst(ctx, i, ins[2], "B");
    bias = perUnit(B.values, B.dims, outShape, `B "${ins[2]}" of node "${lbl(ctx, i)}"`);
  }
  return { x, K, M, W: W.values, kmLayout: !transB, bias, outShape, nodes: [i], last: i };
}

/** MatMul(x, W[K, M]) → Add(·, B) with x [1, R..., K]: DENSE applied to every row of x. */
function matmulAddHead(ctx: Ctx, i: number, pattern: string) {
  expectAttrs(ctx, i, []);
  const ins = inputsOf(ctx, i, 2, 2);
  const x = traced(ctx, i, ins[0]!);
  const K = x.shape[x.shape.length - 1]!;
  const W = intConst(ctx, i, ins[1]!, "W");
  if (W.dims.length !== 2 || W.dims[0] !== K) {
    throw new ModelError(
      "SHAPE",
      `${at(ctx, i)}: W "${ins[1]}" has shape ${shapeStr(W.dims)}; DENSE's MatMul needs W [K, M] with K = ${K}, the last axis of input ${shapeStr(x.shape)}`,
    );
  }
  const M = W.dims[1]!;
  const outShape = [...x.shape.slice(0, -1), M];
  const addIdx = follow(ctx, i, "Add", pattern);
  expectAttrs(ctx, addIdx, []);
  const addIns = inputsOf(ctx, addIdx, 2, 2);
  const mmOut = singleOutput(ctx, i);
  if (addIns[0] === addIns[1]) bad(`${at(ctx, addIdx)} must add a bias initializer B to the MatMul output`);
  const bName = addIns[0] === mmOut ? addIns[1]! : addIns[0]!;
  if (!isInit(ctx, bName)) bad(`${at(ctx, addIdx)}: the bias B "${bName}" of a DENSE layer must be an initializer`);
  const B = intConst(ctx, addIdx, bName, "B");
  const bias = perUnit(B.values, B.dims, outShape, `B "${bName}" of node "${lbl(ctx, addIdx)}"`);
  return { x, K, M, W: W.values, kmLayout: true, bias, outShape, nodes: [i, addIdx], last: addIdx };
}

function matchDense(ctx: Ctx, i: number): CanonicalLayer {
  const gemm = node(ctx, i).opType === "Gemm";
  const pattern = `DENSE: ${gemm ? "Gemm" : "MatMul(x, W) → Add(·, B)"} → ${REQUANT}`;
  const label = layerLabel(ctx.nextIndex, LayerKind.DENSE, lbl(ctx, i));
  const h = gemm ? gemmHead(ctx, i) : matmulAddHead(ctx, i, pattern);
  const { K, M } = h;
  // Committed layout is [M, K] so that one output's weights are one contiguous run.
  let wMK: Int32Array = h.W;
  if (h.kmLayout) {
    wMK = new Int32Array(M * K);
    for (let k = 0; k < K; k++) for (let m = 0; m < M; m++) wMK[m * K + k] = h.W[k * M + m]!;
  }
  const rq = requantTail(ctx, h.last, h.outShape, pattern, "unit");
  const range = weightedSumRange(label, wMK, K, h.bias, rq.shifts, h.x.range, rq.clip);
  return finish(
    ctx,
    [...h.nodes, ...rq.nodes],
    LayerKind.DENSE,
    [h.x.index],
    h.outShape,
    [K, M, rq.clip[0], rq.clip[1]],
    [
      { values: wMK, shape: [M, K] },
      { values: h.bias, shape: [M] },
      { values: rq.shifts, shape: [M] },
    ],
    rq.outputName,
    range,
  );
}

function windowAttrs(ctx: Ctx, i: number, kh: number, kw: number) {
  const n = node(ctx, i);
  const autoPad = attrString(n, "auto_pad");
  if (autoPad !== undefined && autoPad !== "NOTSET") bad(`${at(ctx, i)}: auto_pad must be NOTSET; got ${autoPad}`);
  const ks = attrInts(n, "kernel_shape");
  if (ks && (ks.length !== 2 || ks[0] !== kh || ks[1] !== kw)) {
    bad(`${at(ctx, i)}: kernel_shape ${shapeStr(ks)} does not match [${kh},${kw}]`);
  }
  const strides = attrInts(n, "strides") ?? [1, 1];
  const pads = attrInts(n, "pads") ?? [0, 0, 0, 0];
  const dil = attrInts(n, "dilations") ?? [1, 1];
  if (strides.length !== 2 || strides.some((s) => s < 1)) bad(`${at(ctx, i)}: strides must be two positive integers`);
  if (pads.length !== 4 || pads.some((p) => p < 0)) bad(`${at(ctx, i)}: pads must be four non-negative integers`);
  if (dil.some((d) => d !== 1)) bad(`${at(ctx, i)}: dilations must be 1`);
  return { sy: strides[0]!, sx: strides[1]!, pt: pads[0]!, pl: pads[1]!, pb: pads[2]!, pr: pads[3]! };
}

function spatialInput(ctx: Ctx, i: number, name: string): TracedTensor {
  const x = traced(ctx, i, name);
  if (x.shape.length !== 4) {
    throw new ModelError("SHAPE", `${at(ctx, i)}: input "${name}" has shape ${shapeStr(x.shape)}; 2-D windows need [1, C, H, W]`);
  }
  return x;
}

function matchConv(ctx: Ctx, i: number): CanonicalLayer {
  const pattern = `CONV: Conv → ${REQUANT}`;
  const label = layerLabel(ctx.nextIndex, LayerKind.CONV, lbl(ctx, i));
  expectAttrs(ctx, i, ["auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"]);
  const ins = inputsOf(ctx, i, 2, 3);
  const x = spatialInput(ctx, i, ins[0]!);
  const [, C, H, Wd] = x.shape as [number, number, number, number];
  const W = intConst(ctx, i, ins[1]!, "W");
  const group = attrInt(node(ctx, i), "group", 1);
  if (W.dims.length !== 4) throw new ModelError("SHAPE", `${at(ctx, i)}: W "${ins[1]}" must be [M, C/group, KH, KW]; got ${shapeStr(W.dims)}`);
  const [M, CG, KH, KW] = W.dims as [number, number, number, number];
  if (group < 1 || C % group !== 0 || M % group !== 0 || CG !== C / group) {
    throw new ModelError(
      "SHAPE",
      `${at(ctx, i)}: W shape ${shapeStr(W.dims)} and group ${group} do not fit input channels ${C}`,
    );
  }
  const a = windowAttrs(ctx, i, KH, KW);
  const OH = windowOut(H, KH, a.sy, a.pt, a.pb);
  const OW = windowOut(Wd, KW, a.sx, a.pl, a.pr);
  if (OH < 1 || OW < 1) throw new ModelError("SHAPE", `${at(ctx, i)}: output would be empty (${OH}x${OW})`);
  const outShape = [1, M, OH, OW];
  let bias: Int32Array = new Int32Array(M);
  if (ins[2]) {
    const B = intConst(ctx, i, ins[2], "B");
    bias = perChannel(B.values, B.dims, [1, M], `B "${ins[2]}" of node "${lbl(ctx, i)}"`);
  }
  const rq = requantTail(ctx, i, outShape, pattern, "channel");
  const padded = a.pt + a.pl + a.pb + a.pr > 0;
  const xr: Range = padded ? [Math.min(x.range[0], 0), Math.max(x.range[1], 0)] : x.range;
  const range = weightedSumRange(label, W.values, CG * KH * KW, bias, rq.shifts, xr, rq.clip);
  return finish(
    ctx,
    [i, ...rq.nodes],
    LayerKind.CONV,
    [x.index],
    outShape,
    [C, H, Wd, M, KH, KW, a.sy, a.sx, a.pt, a.pl, a.pb, a.pr, group, rq.clip[0], rq.clip[1]],
    [
      { values: W.values, shape: [M, CG, KH, KW] },
      { values: bias, shape: [M] },
      { values: rq.shifts, shape: [M] },
    ],
    rq.outputName,
    range,
  );
}

/** Two operands of a binary node: the traced one first, then the other (traced or initializer). */
function binaryOperands(ctx: Ctx, i: number): [string, string] {
  const ins = inputsOf(ctx, i, 2, 2);
  if (isInit(ctx, ins[0]!) && !isInit(ctx, ins[1]!)) return [ins[1]!, ins[0]!];
  if (isInit(ctx, ins[0]!)) bad(`${at(ctx, i)} has two constant operands`);
  return [ins[0]!, ins[1]!];
}

function matchAdd(ctx: Ctx, i: number): CanonicalLayer {
  const pattern = `ADD: Add → ${REQUANT}`;
  const label = layerLabel(ctx.nextIndex, LayerKind.ADD, lbl(ctx, i));
  expectAttrs(ctx, i, []);
  const [aName, bName] = binaryOperands(ctx, i);
  const a = traced(ctx, i, aName);
  const outShape = [...a.shape];
  let inputs: number[];
  let bConst: Int32Array | undefined;
  let bRange: Range;
  if (isInit(ctx, bName)) {
    const B = intConst(ctx, i, bName, "B");
    bConst = perChannel(B.values, B.dims, outShape, `constant "${bName}" of node "${lbl(ctx, i)}"`);
    bRange = minMax(bConst);
    inputs = [a.index];
  } else {
    const b = traced(ctx, i, bName);
    if (b.shape.length !== a.shape.length || b.shape.some((d, k) => d !== a.shape[k])) {
      throw new ModelError("SHAPE", `${at(ctx, i)}: operands have shapes ${shapeStr(a.shape)} and ${shapeStr(b.shape)}; they must match`);
    }
    bRange = b.range;
    inputs = [a.index, b.index];
  }
  const rq = requantTail(ctx, i, outShape, pattern, "scalar");
  const range = addRange(label, a.range, bRange, rq.shifts[0]!, rq.clip);
  const constants: ConstTensor[] = [{ values: rq.shifts, shape: [1] }];
  if (bConst) constants.push({ values: bConst, shape: [bConst.length] });
  return finish(ctx, [i, ...rq.nodes], LayerKind.ADD, inputs, outShape, [rq.clip[0], rq.clip[1]], constants, rq.outputName, range);
}

function matchLut(ctx: Ctx, i: number): CanonicalLayer {
  const pattern = "LUT: Add(x, O) → Cast(to=INT64) → Gather(T, ·, axis=0)";
  const label = layerLabel(ctx.nextIndex, LayerKind.LUT, lbl(ctx, i));
  expectAttrs(ctx, i, []);
  const [xName, oName] = binaryOperands(ctx, i);
  const x = traced(ctx, i, xName);
  if (!isInit(ctx, oName)) bad(`${at(ctx, i)}: the offset O of a LUT must be an initializer`);
  const O = intConst(ctx, i, oName, "O");
  if (O.values.length !== 1) bad(`${at(ctx, i)}: the offset O "${oName}" must be a scalar`);
  const castIdx = follow(ctx, i, "Cast", pattern);
  expectAttrs(ctx, castIdx, ["to", "saturate"]);
  if (attrInt(node(ctx, castIdx), "to", 0) !== DataType.INT64) bad(`${at(ctx, castIdx)}: Cast must be to INT64 (7)`);
  const gatherIdx = follow(ctx, castIdx, "Gather", pattern);
  expectAttrs(ctx, gatherIdx, ["axis"]);
  if (attrInt(node(ctx, gatherIdx), "axis", 0) !== 0) bad(`${at(ctx, gatherIdx)}: axis must be 0`);
  const gIns = inputsOf(ctx, gatherIdx, 2, 2);
  if (gIns[1] !== singleOutput(ctx, castIdx)) bad(`${at(ctx, gatherIdx)}: the indices must be the Cast output`);
  const T = intConst(ctx, gatherIdx, gIns[0]!, "table T");
  if (T.dims.length !== 1 || T.values.length === 0) bad(`${at(ctx, gatherIdx)}: the table T must be a non-empty 1-D tensor`);
  const lo = -O.values[0]!;
  const hi = lo + T.values.length - 1;
  if (x.range[0] < lo || x.range[1] > hi) {
    throw new ModelError(
      "LUT_RANGE",
      `${label}: input range [${x.range[0]}, ${x.range[1]}] is not inside the table's domain [${lo}, ${hi}]`,
    );
  }
  if (Math.abs(hi) >= EXACT_LIMIT) bad(`${label}: table domain [${lo}, ${hi}] exceeds 2^24`);
  return finish(
    ctx,
    [i, castIdx, gatherIdx],
    LayerKind.LUT,
    [x.index],
    [...x.shape],
    [lo, hi],
    [{ values: T.values, shape: [T.values.length] }],
    singleOutput(ctx, gatherIdx),
    minMax(T.values),
  );
}

function matchMul(ctx: Ctx, i: number): CanonicalLayer {
  const pattern = `MUL: Mul(x, C) → ${REQUANT}`;
  const label = layerLabel(ctx.nextIndex, LayerKind.MUL, lbl(ctx, i));
  expectAttrs(ctx, i, []);
  const [xName, cName] = binaryOperands(ctx, i);
  const x = traced(ctx, i, xName);
  if (!isInit(ctx, cName)) bad(`${at(ctx, i)}: the factor C of a MUL layer must be an initializer`);
  const outShape = [...x.shape];
  const Cc = intConst(ctx, i, cName, "C");
  const factors = perChannel(Cc.values, Cc.dims, outShape, `C "${cName}" of node "${lbl(ctx, i)}"`);
  const rq = requantTail(ctx, i, outShape, pattern, "channel");
  const range = mulRange(label, x.range, factors, rq.shifts, rq.clip);
  return finish(
    ctx,
    [i, ...rq.nodes],
    LayerKind.MUL,
    [x.index],
    outShape,
    [rq.clip[0], rq.clip[1]],
    [
      { values: rq.shifts, shape: [rq.shifts.length] },
      { values: factors, shape: [factors.length] },
    ],
    rq.outputName,
    range,
  );
}

function matchMaxPool(ctx: Ctx, i: number): CanonicalLayer {
  expectAttrs(ctx, i, ["auto_pad", "ceil_mode", "dilations", "kernel_shape", "pads", "storage_order", "strides"]);
  const ins = inputsOf(ctx, i, 1, 1);
  const x = spatialInput(ctx, i, ins[0]!);
  const n = node(ctx, i);
  if (attrInt(n, "ceil_mode", 0) !== 0) bad(`${at(ctx, i)}: ceil_mode must be 0`);
  if (attrInt(n, "storage_order", 0) !== 0) bad(`${at(ctx, i)}: storage_order must be 0`);
  const ks = attrInts(n, "kernel_shape");
  if (!ks || ks.length !== 2 || ks.some((k) => k < 1)) bad(`${at(ctx, i)}: kernel_shape must be two positive integers`);
  const [KH, KW] = ks as [number, number];
  const a = windowAttrs(ctx, i, KH, KW);
  // Every window must hold an in-range element, so padding can never be the maximum.
  if (a.pt >= KH || a.pb >= KH || a.pl >= KW || a.pr >= KW) bad(`${at(ctx, i)}: pads must be smaller than the kernel`);
  const [, C, H, Wd] = x.shape as [number, number, number, number];
  const OH = windowOut(H, KH, a.sy, a.pt, a.pb);
  const OW = windowOut(Wd, KW, a.sx, a.pl, a.pr);
  if (OH < 1 || OW < 1) throw new ModelError("SHAPE", `${at(ctx, i)}: output would be empty (${OH}x${OW})`);
  const out = singleOutput(ctx, i);
  return finish(ctx, [i], LayerKind.MAXPOOL, [x.index], [1, C, OH, OW], [C, H, Wd, KH, KW, a.sy, a.sx, a.pt, a.pl, a.pb, a.pr], [], out, x.range);
}

function matchSimple(ctx: Ctx, i: number, op: string): CanonicalLayer {
  const n = node(ctx, i);
  if (op === "Relu") {
    expectAttrs(ctx, i, []);
    const x = traced(ctx, i, inputsOf(ctx, i, 1, 1)[0]!);
    const r: Range = [Math.max(x.range[0], 0), Math.max(x.range[1], 0)];
    return finish(ctx, [i], LayerKind.RELU, [x.index], [...x.shape], [], [], singleOutput(ctx, i), r);
  }
  if (op === "Clip") {
    expectAttrs(ctx, i, []);
    const x = traced(ctx, i, inputsOf(ctx, i, 3, 3)[0]!);
    const [lo, hi] = clipBounds(ctx, i);
    const r: Range = [Math.min(Math.max(x.range[0], lo), hi), Math.min(Math.max(x.range[1], lo), hi)];
    return finish(ctx, [i], LayerKind.CLIP, [x.index], [...x.shape], [lo, hi], [], singleOutput(ctx, i), r);
  }
  if (op === "Flatten") {
    expectAttrs(ctx, i, ["axis"]);
    const x = traced(ctx, i, inputsOf(ctx, i, 1, 1)[0]!);
    const axis = attrInt(n, "axis", 1);
    if (axis < -x.shape.length || axis > x.shape.length) bad(`${at(ctx, i)}: axis ${axis} out of range`);
    return finish(ctx, [i], LayerKind.RESHAPE, [x.index], flattenShape(x.shape, axis), [], [], singleOutput(ctx, i), x.range);
  }
  // Reshape
  expectAttrs(ctx, i, ["allowzero"]);
  if (attrInt(n, "allowzero", 0) !== 0) bad(`${at(ctx, i)}: allowzero must be 0`);
  const ins = inputsOf(ctx, i, 2, 2);
  const x = traced(ctx, i, ins[0]!);
  const t = ctx.inits.get(ins[1]!);
  if (!t || ctx.traced.has(ins[1]!)) {
    throw new ModelError("SHAPE", `${at(ctx, i)}: the target shape "${ins[1]}" must be an initializer (unresolvable shape)`);
  }
  const target = Array.from(tensorValues(t, `shape of node "${lbl(ctx, i)}"`));
  const shape = reshapeShape(x.shape, target);
  if (!shape) {
    throw new ModelError("SHAPE", `${at(ctx, i)}: cannot reshape ${shapeStr(x.shape)} to ${shapeStr(target)} (unresolvable shape)`);
  }
  return finish(ctx, [i], LayerKind.RESHAPE, [x.index], shape, [], [], singleOutput(ctx, i), x.range);
}

function matchMatMul(ctx: Ctx, i: number): CanonicalLayer {
  const pattern = `MATMUL: MatMul(a, b) → ${REQUANT}`;
  const label = layerLabel(ctx.nextIndex, LayerKind.MATMUL, lbl(ctx, i));
  expectAttrs(ctx, i, []);
  const ins = inputsOf(ctx, i, 2, 2);
  const a = traced(ctx, i, ins[0]!);
  const b = traced(ctx, i, ins[1]!);
  const outShape = matmulShape(a.shape, b.shape);
  if (!outShape) {
    throw new ModelError(
      "SHAPE",
      `${label}: operands have shapes ${shapeStr(a.shape)} and ${shapeStr(b.shape)}; MATMUL needs a [1,G…,N,K] and b [1,G…,K,M] ` +
        "of the same rank >= 3 with the same leading axes (broadcasting is a GATHER before it)",
    );
  }
  const r = a.shape.length;
  const N = a.shape[r - 2]!, K = a.shape[r - 1]!, M = b.shape[r - 1]!;
  const rq = requantTail(ctx, i, outShape, pattern, "scalar");
  const range = matmulRange(label, K, a.range, b.range, rq.shifts[0]!, rq.clip);
  return finish(
    ctx,
    [i, ...rq.nodes],
    LayerKind.MATMUL,
    [a.index, b.index],
    outShape,
    [N, K, M, rq.clip[0], rq.clip[1]],
    [{ values: rq.shifts, shape: [1] }],
    rq.outputName,
    range,
  );
}

function matchProduct(ctx: Ctx, i: number): CanonicalLayer {
  const pattern = `PRODUCT: Mul(a, b) → ${REQUANT}`;
  const label = layerLabel(ctx.nextIndex, LayerKind.PRODUCT, lbl(ctx, i));
  expectAttrs(ctx, i, []);
  const ins = inputsOf(ctx, i, 2, 2);
  const a = traced(ctx, i, ins[0]!);
  const b = traced(ctx, i, ins[1]!);
  if (b.shape.length !== a.shape.length || b.shape.some((d, k) => d !== a.shape[k])) {
    throw new ModelError(
      "SHAPE",
      `${label}: operands have shapes ${shapeStr(a.shape)} and ${shapeStr(b.shape)}; they must match (broadcasting is a GATHER before it)`,
    );
  }
  const outShape = [...a.shape];
  const rq = requantTail(ctx, i, outShape, pattern, "scalar");
  const range = productRange(label, a.range, b.range, a.index === b.index, rq.shifts[0]!, rq.clip);
  return finish(
    ctx,
    [i, ...rq.nodes],
    LayerKind.PRODUCT,
    [a.index, b.index],
    outShape,
    [rq.clip[0], rq.clip[1]],
    [{ values: rq.shifts, shape: [1] }],
    rq.outputName,
    range,
  );
}

/** The target of a Reshape node when it is an initializer (else undefined). */
function reshapeTarget(ctx: Ctx, i: number): number[] | undefined {
  const ins = (node(ctx, i).input ?? []).filter((s) => s !== "");
  if (ins.length !== 2 || !isInit(ctx, ins[1]!)) return undefined;
  return Array.from(tensorValues(ctx.inits.get(ins[1]!)!, `shape of node "${lbl(ctx, i)}"`));
}

/**
 * Is node i a `Reshape(t, [-1])` feeding only a Concat (the first nodes of a GATHER pattern)? The
 * parser skips such a node; the GATHER is matched at its Concat, which claims it.
 */
export function isGatherFlatten(ctx: ParseContext, i: number): boolean {
  const n = node(ctx, i);
  if (n.opType !== "Reshape") return false;
  const out = (n.output ?? []).filter((o) => o !== "");
  if (out.length !== 1 || ctx.graphOutputs.has(out[0]!)) return false;
  const cons = ctx.consumers.get(out[0]!) ?? [];
  if (cons.length !== 1 || node(ctx, cons[0]!).opType !== "Concat") return false;
  const t = reshapeTarget(ctx, i);
  return t !== undefined && t.length === 1;
}

function matchGather(ctx: Ctx, i: number): CanonicalLayer {
  const pattern = GATHER_PATTERN;
  const label = layerLabel(ctx.nextIndex, LayerKind.GATHER, lbl(ctx, i));
  expectAttrs(ctx, i, ["axis"]);
  if (attrInt(node(ctx, i), "axis", 0) !== 0) bad(`${at(ctx, i)}: axis must be 0 (pattern ${pattern})`);
  const ins = inputsOf(ctx, i, 2, Infinity);
  // The last operand is Z = [0], the value every index Σ n_i reads.
  const zName = ins[ins.length - 1]!;
  if (!isInit(ctx, zName)) bad(`${at(ctx, i)}: the last operand must be the initializer Z = [0] (pattern ${pattern})`);
  const Z = intConst(ctx, i, zName, "Z");
  if (Z.dims.length !== 1 || Z.values.length !== 1 || Z.values[0] !== 0) {
    bad(`${at(ctx, i)}: the last operand Z "${zName}" must be [0] of shape [1]; it has shape ${shapeStr(Z.dims)}`);
  }
  const nodes: number[] = [];
  const inputs: number[] = [];
  const params: number[] = [];
  let range: Range | undefined;
  for (const f of ins.slice(0, -1)) {
    const producer = ctx.nodes.findIndex((nd) => (nd.output ?? []).includes(f));
    if (producer < 0 || node(ctx, producer).opType !== "Reshape" || !isGatherFlatten(ctx, producer) || (ctx.used[producer] && !nodes.includes(producer))) {
      bad(`${at(ctx, i)}: operand "${f}" must be the output of a Reshape(t, [-1]) of a layer output that feeds only this Concat (pattern ${pattern})`);
    }
    expectAttrs(ctx, producer, ["allowzero"]);
    if (attrInt(node(ctx, producer), "allowzero", 0) !== 0) bad(`${at(ctx, producer)}: allowzero must be 0`);
    const t = traced(ctx, producer, inputsOf(ctx, producer, 2, 2)[0]!);
    const n = t.shape.reduce((x, y) => x * y, 1);
    const target = reshapeTarget(ctx, producer)!;
    if (target[0] !== -1 && target[0] !== n) {
      throw new ModelError("SHAPE", `${at(ctx, producer)}: cannot reshape ${shapeStr(t.shape)} to ${shapeStr(target)}; GATHER flattens with [-1]`);
    }
    if (!nodes.includes(producer)) nodes.push(producer);
    inputs.push(t.index);
    params.push(n);
    range = range ? [Math.min(range[0], t.range[0]), Math.max(range[1], t.range[1])] : t.range;
  }
  const total = params.reduce((x, y) => x + y, 0);
  if (total > 2 ** 31 - 1) throw new ModelError("SHAPE", `${label}: its inputs hold ${total} elements, more than an int32 index reaches`);
  const gatherIdx = follow(ctx, i, "Gather", pattern);
  expectAttrs(ctx, gatherIdx, ["axis"]);
  if (attrInt(node(ctx, gatherIdx), "axis", 0) !== 0) bad(`${at(ctx, gatherIdx)}: axis must be 0`);
  const gIns = inputsOf(ctx, gatherIdx, 2, 2);
  if (gIns[0] !== singleOutput(ctx, i)) bad(`${at(ctx, gatherIdx)}: the data must be the Concat output (pattern ${pattern})`);
  const it = ctx.inits.get(gIns[1]!);
  if (!it || !isInit(ctx, gIns[1]!)) bad(`${at(ctx, gatherIdx)}: the indices "${gIns[1]}" must be an int64 initializer`);
  if ((it.dataType ?? 0) !== DataType.INT64) bad(`${at(ctx, gatherIdx)}: the indices "${gIns[1]}" must be int64; they are of type ${it.dataType}`);
  const idxDims = tensorDims(it);
  if (idxDims.length !== 1) bad(`${at(ctx, gatherIdx)}: the indices "${gIns[1]}" must be 1-D; they have shape ${shapeStr(idxDims)}`);
  const raw = tensorValues(it, `indices of node "${lbl(ctx, gatherIdx)}"`);
  const idx = new Int32Array(raw.length);
  let readsZero = false;
  for (let k = 0; k < raw.length; k++) {
    const v = raw[k]!;
    if (!Number.isInteger(v) || v < 0 || v > total) {
      throw new ModelError(
        "SHAPE",
        `${label}: index ${v} at position ${k} of "${gIns[1]}" is outside [0, ${total}] (the inputs' ${total} elements, then ${total} for the zero)`,
      );
    }
    if (v === total) readsZero = true;
    idx[k] = v;
  }
  const reshapeIdx = follow(ctx, gatherIdx, "Reshape", pattern);
  expectAttrs(ctx, reshapeIdx, ["allowzero"]);
  if (attrInt(node(ctx, reshapeIdx), "allowzero", 0) !== 0) bad(`${at(ctx, reshapeIdx)}: allowzero must be 0`);
  const rIns = inputsOf(ctx, reshapeIdx, 2, 2);
  if (rIns[0] !== singleOutput(ctx, gatherIdx)) bad(`${at(ctx, reshapeIdx)}: it must reshape the Gather output (pattern ${pattern})`);
  const target = reshapeTarget(ctx, reshapeIdx);
  if (!target) throw new ModelError("SHAPE", `${at(ctx, reshapeIdx)}: the target shape "${rIns[1]}" must be an initializer (unresolvable shape)`);
  const outShape = reshapeShape([idx.length], target);
  if (!outShape) {
    throw new ModelError("SHAPE", `${at(ctx, reshapeIdx)}: cannot reshape the ${idx.length} gathered elements to ${shapeStr(target)}`);
  }
  if (readsZero) range = [Math.min(range![0], 0), Math.max(range![1], 0)];
  return finish(
    ctx,
    [...nodes.sort((x, y) => x - y), i, gatherIdx, reshapeIdx],
    LayerKind.GATHER,
    inputs,
    outShape,
    params,
    [{ values: idx, shape: [idx.length] }],
    singleOutput(ctx, reshapeIdx),
    range!,
    i,
  );
}

function matchConst(ctx: Ctx, i: number): CanonicalLayer {
  expectAttrs(ctx, i, []);
  const ins = inputsOf(ctx, i, 1, 1);
  if (!isInit(ctx, ins[0]!)) bad(`${at(ctx, i)}: a CONST layer is Identity(C) of an initializer C; "${ins[0]}" is not one`);
  const C = intConst(ctx, i, ins[0]!, "C");
  return finish(ctx, [i], LayerKind.CONST, [], C.dims, [], [{ values: C.values, shape: [C.values.length] }], singleOutput(ctx, i), minMax(C.values));
}

/** Recognise the layer whose pattern starts at node i. */
export function matchLayer(ctx: ParseContext, i: number): CanonicalLayer {
  const op = node(ctx, i).opType ?? "";
  switch (op) {
    case "Gemm":
      return matchDense(ctx, i);
    case "MatMul": {
      const ins = inputsOf(ctx, i, 2, 2);
      if (isInit(ctx, ins[0]!)) bad(`${at(ctx, i)}: the first operand "${ins[0]}" must be a layer output (DENSE is MatMul(x, W), MATMUL is MatMul(a, b))`);
      return isInit(ctx, ins[1]!) ? matchDense(ctx, i) : matchMatMul(ctx, i);
    }
    case "Concat":
      return matchGather(ctx, i);
    case "Identity":
      return matchConst(ctx, i);
    case "Conv":
      return matchConv(ctx, i);
    case "Add": {
      const out = singleOutput(ctx, i);
      const cons = ctx.consumers.get(out) ?? [];
      const isLut = cons.length === 1 && node(ctx, cons[0]!).opType === "Cast";
      return isLut ? matchLut(ctx, i) : matchAdd(ctx, i);
    }
    case "Mul": {
      const ins = inputsOf(ctx, i, 2, 2);
      return !isInit(ctx, ins[0]!) && !isInit(ctx, ins[1]!) ? matchProduct(ctx, i) : matchMul(ctx, i);
    }
    case "MaxPool":
      return matchMaxPool(ctx, i);
    case "Relu":
    case "Clip":
    case "Flatten":
    case "Reshape":
      return matchSimple(ctx, i, op);
    default:
      if (PATTERN_OPS.has(op)) {
        bad(`op "${op}" at node "${lbl(ctx, i)}" is only allowed inside a canonical pattern (a requantization, a LUT or a GATHER)`);
      }
      throw new ModelError("UNSUPPORTED_OP", `unsupported op "${op}" at node "${lbl(ctx, i)}"`);
  }
}


