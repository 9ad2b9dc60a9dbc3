/**
 * Reads an ordinary float32 ONNX model into the converter's IR. Shapes are inferred here
 * from the (static, batch-1) graph input, bound by the user where the file leaves them dynamic;
 * constants are read as float64, shape arithmetic on them is evaluated (constants.ts), and every
 * op outside the supported set is refused by name.
 */
import type { Const } from "./constants.js";
import { FOLDABLE_OPS, FOLD_ATTRS, FoldError, INT_TYPES, broadcastShape, evalConstant, expandTo, padConstant, splitConst, squeezeShape } from "./constants.js";
import type { UnsupportedNode } from "./errors.js";
import { ElementwiseError, LUT_OP_NAMES, attributesOf, elementwiseGroups, groupLabel, unaryFunction } from "./elementwise.js";
import type { ElementwiseGroup } from "./elementwise.js";
import { ConvertError, UnsupportedOpsError } from "./errors.js";
import type { Act, IrGraph, IrNode, Window } from "./ir.js";
import { NO_ACT, numel } from "./ir.js";
import type { CoordinateMode, NearestMode, ResizeAxis } from "./resample.js";
import {
  COORDINATE_MODES, NEAREST_MODES, ResampleError, depthToSpaceIndex, edgeMap, identityMap, linearKernel, nearestMap, padMap, separableIndex,
  spaceToDepthIndex, transposedKernel, transposedMap, transposedOut, transposedPads,
} from "./resample.js";
import type { INodeProto, ITensorProto } from "../model/onnx.js";
import {
  attrFloat, attrInt, attrInts, attrString, decodeModel, isForeign, nodeLabel, opLabel, tensorDims, tensorValues, toNumber,
  valueInfoShape,
} from "../model/onnx.js";
import { FORMAT_KEY } from "../model/canonical.js";
import { flattenShape, reshapeShape, shapeStr, windowOut } from "../model/shapes.js";

/** Pure data movement: each is one GATHER whose index table is the op applied to the inputs' element indices. */
const MOVE_OPS: readonly string[] = ["Transpose", "Concat", "Slice", "Split", "Gather", "Expand", "Pad", "Tile"];

/** Ops the converter lowers (documented in docs/CONVERTER.md). */
export const SUPPORTED_OPS: readonly string[] = [
  "Gemm", "MatMul", "Conv", "Add", "Sub", "Mul", "Div", "Relu", "Clip", "MaxPool", "GlobalMaxPool",
  "AveragePool", "GlobalAveragePool", "Flatten", "Reshape", "Squeeze", "Unsqueeze", "ReduceMean", "ReduceSum", "ReduceMax", "BatchNormalization",
  "Identity", "Dropout", "Cast", "Constant", "Softmax", "LogSoftmax", "LayerNormalization", "GatherElements", ...MOVE_OPS, ...LUT_OP_NAMES,
  "ConvTranspose", "Resize", "Upsample", "DepthToSpace", "SpaceToDepth",
];

/** Ops taken only when they compute on constants and shapes (they are evaluated, not lowered). */
export const SHAPE_OPS: readonly string[] = [...FOLDABLE_OPS].filter((op) => !SUPPORTED_OPS.includes(op));

type Ctx = {
  consts: Map<string, Const>;
  shapes: Map<string, number[]>;
  alias: Map<string, string>;
  nodes: IrNode[];
  opset: number;
  /** ReduceMean over the last axis (keepdims): its output → its input, so that x − mean(x) is one DENSE. */
  meanOf: Map<string, string>;
  /** Constants used as computed tensors (a class token in a Concat): their CONST node's output. */
  constNodes: Map<string, string>;
  /** Computed tensors known to hold integers at the input's scale 1 (token ids and their views). */
  integral: Set<string>;
  /** The graph input holds integers (see IrGraph.integerInput). */
  integerInput?: { lo?: number; hi?: number };
  /** The longest LUT the plan may write (an embedding's table is one). */
  maxLutSize: number;
  inputName: string;
};

/** ONNX int32 and int64: the types of Gather's indices. */
const INDEX_TYPES: ReadonlySet<number> = new Set([6, 7]);

/** Per-node view with helpers that name the node in every error. */
class NodeView {
  constructor(
    readonly ctx: Ctx,
    readonly n: INodeProto,
    readonly label: string,
  ) {}

  get op(): string {
    return this.n.opType ?? "?";
  }

  fail(code: ConstructorParameters<typeof ConvertError>[0], msg: string): never {
    throw new ConvertError(code, this.label, this.op, msg);
  }

  inputs(): string[] {
    const ins = (this.n.input ?? []).slice();
    while (ins.length > 0 && ins[ins.length - 1] === "") ins.pop();
    return ins.map((s) => (s === "" ? s : (this.ctx.alias.get(s) ?? s)));
  }

  output(): string {
    const outs = (this.n.output ?? []).filter((o) => o !== "");
    if (outs.length !== 1) this.fail("UNSUPPORTED_ATTR", `expected one output, got ${outs.length}`);
    return outs[0]!;
  }

  isConst(name: string): boolean {
    return this.ctx.consts.has(name);
  }

  constOf(name: string, role: string): Const {
    const c = this.ctx.consts.get(name);
    if (!c) this.fail("NOT_CONSTANT", `${role} "${name}" must be a constant (initializer), not a computed tensor`);
    return c;
  }

  tensor(name: string): number[] {
    const s = this.ctx.shapes.get(name);
    if (!s) {
      if (this.ctx.consts.has(name)) this.fail("NOT_CONSTANT", `"${name}" is a constant where a computed tensor is expected`);
      this.fail("SHAPE", `input "${name}" has no known static shape`);
    }
    return s;
  }

  attrs(allowed: readonly string[]): void {
    for (const a of this.n.attribute ?? []) {
      if (!allowed.includes(a.name ?? "")) this.fail("UNSUPPORTED_ATTR", `attribute "${a.name}" is not supported`);
    }
  }

  emit(node: IrNode): void {
    if (node.outShape.some((d) => d === 0)) this.fail("SHAPE", `output shape ${shapeStr(node.outShape)} is empty`);
    if (node.outShape.length < 2 || node.outShape[0] !== 1) {
      this.fail("SHAPE", `output shape ${shapeStr(node.outShape)}; canonical tensors are [1, ...] of rank >= 2 (batch 1)`);
    }
    this.ctx.shapes.set(node.out, [...node.outShape]);
    this.ctx.nodes.push(node);
  }
}

/** Scalar or per-channel (axis 1) constant of a tensor with shape `shape`, expanded to C values. */
function perChannel(c: Const, shape: readonly number[]): Float64Array | undefined {
  const C = shape[1]!;
  if (c.values.length === 1 && c.dims.length <= shape.length) return new Float64Array(C).fill(c.values[0]!);
  if (c.dims.length > shape.length) return undefined;
  const off = shape.length - c.dims.length;
  const ok = c.dims.every((d, k) => (k + off === 1 ? d === C : d === 1));
  if (!ok) return undefined;
  return Float64Array.from(c.values);
}

function resolvePads(v: NodeView, H: number, W: number, kh: number, kw: number, sy: number, sx: number): [number, number, number, number] {
  const auto = attrString(v.n, "auto_pad") ?? "NOTSET";
  if (auto === "NOTSET") {
    const pads = attrInts(v.n, "pads") ?? [0, 0, 0, 0];
    if (pads.length !== 4) v.fail("UNSUPPORTED_ATTR", `pads ${shapeStr(pads)} must have 4 entries (2-D only)`);
    return pads as [number, number, number, number];
  }
  if (auto === "VALID") return [0, 0, 0, 0];
  if (auto !== "SAME_UPPER" && auto !== "SAME_LOWER") v.fail("UNSUPPORTED_ATTR", `auto_pad ${auto}`);
  // ONNX: output = ceil(in / stride); the odd padding goes to the end (UPPER) or start (LOWER).
  const total = (n: number, k: number, s: number) => Math.max((Math.ceil(n / s) - 1) * s + k - n, 0);
  const th = total(H, kh, sy);
  const tw = total(W, kw, sx);
  const lowerH = auto === "SAME_UPPER" ? Math.floor(th / 2) : Math.ceil(th / 2);
  const lowerW = auto === "SAME_UPPER" ? Math.floor(tw / 2) : Math.ceil(tw / 2);
  return [lowerH, lowerW, th - lowerH, tw - lowerW];
}

function windowOf(v: NodeView, x: readonly number[], kh: number, kw: number): Window {
  const dil = attrInts(v.n, "dilations");
  if (dil && dil.some((d) => d !== 1)) v.fail("UNSUPPORTED_ATTR", `dilations ${shapeStr(dil)} (only 1 is supported)`);
  const strides = attrInts(v.n, "strides") ?? [1, 1];
  if (strides.length !== 2) v.fail("UNSUPPORTED_ATTR", `strides ${shapeStr(strides)} (2-D only)`);
  const [sy, sx] = strides as [number, number];
  const [pt, pl, pb, pr] = resolvePads(v, x[2]!, x[3]!, kh, kw, sy, sx);
  return { kh, kw, sy, sx, pt, pl, pb, pr };
}

function spatial(v: NodeView, name: string): number[] {
  const s = v.tensor(name);
  if (s.length !== 4) v.fail("UNSUPPORTED_ATTR", `input shape ${shapeStr(s)}: only 2-D [1, C, H, W] is supported (no 1-D/3-D)`);
  return s;
}

function loadGemm(v: NodeView): void {
  v.attrs(["alpha", "beta", "transA", "transB"]);
  if (attrInt(v.n, "transA", 0) !== 0) v.fail("UNSUPPORTED_ATTR", "transA=1 (the activation must be [1, K])");
  const ins = v.inputs();
  const x = v.tensor(ins[0]!);
  if (x.length !== 2) v.fail("SHAPE", `input shape ${shapeStr(x)}; Gemm needs [1, K]`);
  const K = x[1]!;
  const alpha = attrFloat(v.n, "alpha", 1);
  const beta = attrFloat(v.n, "beta", 1);
  const transB = attrInt(v.n, "transB", 0) === 1;
  const Bc = v.constOf(ins[1]!, "B (weights)");
  if (Bc.dims.length !== 2 || Bc.dims[transB ? 1 : 0] !== K) v.fail("SHAPE", `weights ${shapeStr(Bc.dims)} do not fit input ${shapeStr(x)}`);
  const M = Bc.dims[transB ? 0 : 1]!;
  const W = new Float64Array(M * K);
  for (let m = 0; m < M; m++) {
    for (let k = 0; k < K; k++) W[m * K + k] = alpha * Bc.values[transB ? m * K + k : k * M + m]!;
  }
  const B = new Float64Array(M);
  if (ins[2]) {
    const C = v.constOf(ins[2], "C (bias)");
    const ok = C.values.length === 1 || (C.values.length === M && C.dims[C.dims.length - 1] === M && numel(C.dims) === M);
    if (!ok) v.fail("SHAPE", `bias shape ${shapeStr(C.dims)} is neither a scalar nor [${M}] / [1, ${M}]`);
    for (let m = 0; m < M; m++) B[m] = beta * C.values[C.values.length === 1 ? 0 : m]!;
  }
  v.emit({ kind: "dense", name: v.label, op: v.op, out: v.output(), outShape: [1, M], x: ins[0]!, K, M, W, B, act: NO_ACT });
}

/**
 * MatMul by constant weights [K, M] is a DENSE over the last axis of any rank ([1, R..., K] → [1, R..., M]);
 * MatMul of two computed tensors (attention's q·kᵀ and p·v) is a MATMUL, their leading axes broadcast
 * by a GATHER first where they differ. A constant left operand becomes a CONST layer.
 */
function loadMatMul(v: NodeView): void {
  v.attrs([]);
  const ins = v.inputs();
  if (ins.length !== 2) v.fail("SHAPE", `expected 2 inputs, got ${ins.length}`);
  const [a, b] = ins as [string, string];
  const out = v.output();
  const wc = v.ctx.consts.get(b);
  if (!v.isConst(a) && wc && wc.dims.length >= 2 && wc.dims.slice(0, -2).every((d) => d === 1)) {
    const x = v.tensor(a);
    const K = x[x.length - 1]!;
    const [KW, M] = wc.dims.slice(-2) as [number, number];
    if (KW !== K) v.fail("SHAPE", `weights ${shapeStr(wc.dims)} do not fit input ${shapeStr(x)}`);
    const W = new Float64Array(M * K);
    for (let m = 0; m < M; m++) for (let k = 0; k < K; k++) W[m * K + k] = wc.values[k * M + m]!;
    const outShape = [...x.slice(0, -1), M];
    if (wc.dims.length > outShape.length) v.fail("SHAPE", `weights ${shapeStr(wc.dims)} have a higher rank than the input ${shapeStr(x)}`);
    v.emit({ kind: "dense", name: v.label, op: v.op, out, outShape, x: a, K, M, W, B: new Float64Array(M), act: NO_ACT });
    return;
  }
  const A = operand(v, a);
  const B = operand(v, b);
  // A constant's own dims (a CONST layer may have a 1 put in front): they decide the broadcast.
  const sa = v.isConst(a) ? [...v.ctx.consts.get(a)!.dims] : v.tensor(A);
  const sb = v.isConst(b) ? [...v.ctx.consts.get(b)!.dims] : v.tensor(B);
  if (sa.length < 3 || sb.length < 3) v.fail("SHAPE", `operands ${shapeStr(sa)} and ${shapeStr(sb)}: a product of two computed tensors needs rank >= 3 ([1, G..., N, K] × [1, G..., K, M])`);
  const [N, K] = sa.slice(-2) as [number, number];
  const [KB, M] = sb.slice(-2) as [number, number];
  if (K !== KB) v.fail("SHAPE", `operands ${shapeStr(sa)} and ${shapeStr(sb)} do not multiply (${K} ≠ ${KB})`);
  let lead: number[];
  try {
    lead = broadcastShape([sa.slice(0, -2), sb.slice(0, -2)]);
  } catch (e) {
    if (e instanceof FoldError) v.fail("SHAPE", e.message);
    throw e;
  }
  const outShape = [...lead, N, M];
  if (outShape[0] !== 1) v.fail("SHAPE", `output shape ${shapeStr(outShape)}: its first dimension is not a batch of 1`);
  const A2 = broadcastTo(v, A, [...lead, N, K]);
  const B2 = broadcastTo(v, B, [...lead, K, M]);
  v.emit({ kind: "matmul", name: v.label, op: v.op, out, outShape, a: A2, b: B2, N, K, M, gain: 1, act: NO_ACT });
}

/** Row-major element indices of a tensor of `shape`, starting at `offset`: the index table's seed. */
function iota(shape: readonly number[], offset = 0): Const {
  const n = numel(shape);
  return { values: Float64Array.from({ length: n }, (_, i) => offset + i), dims: [...shape], int: true };
}

/** An internal tensor name derived from the node's output. */
function innerName(v: NodeView, what: string): string {
  const first = (v.n.output ?? []).find((o) => o !== "") ?? v.label;
  let name = `${first}::${what}`;
  for (let k = 2; v.ctx.shapes.has(name); k++) name = `${first}::${what}${k}`;
  return name;
}

/** `t` as a computed tensor: a constant becomes a CONST layer ([1, ...] of rank >= 2), once per constant. */
function operand(v: NodeView, t: string): string {
  if (!v.isConst(t)) {
    v.tensor(t);
    return t;
  }
  const known = v.ctx.constNodes.get(t);
  if (known) return known;
  const c = v.ctx.consts.get(t)!;
  const shape = c.dims.length >= 2 && c.dims[0] === 1 ? [...c.dims] : [1, ...c.dims];
  const name = `${t}::const`;
  v.emit({ kind: "const", name: v.label, op: `${v.op} (constant ${t})`, out: name, outShape: shape.length < 2 ? [1, 1] : shape, values: Float64Array.from(c.values) });
  v.ctx.constNodes.set(t, name);
  return name;
}

/** `t` broadcast (NumPy rules, right-aligned) to `shape`: itself when it has that shape, else a GATHER. */
function broadcastTo(v: NodeView, t: string, shape: readonly number[]): string {
  const s = v.tensor(t);
  if (shapeStr(s) === shapeStr(shape)) return t;
  if (numel(s) === numel(shape)) {
    // Only size-1 axes differ: the same elements in the same order, a view.
    const out = innerName(v, "view");
    v.emit({ kind: "reshape", name: v.label, op: v.op, out, outShape: [...shape], x: t });
    return out;
  }
  const idx = expandTo(iota(s.length > shape.length ? s.slice(s.length - shape.length) : s), shape);
  const out = innerName(v, "expand");
  v.emit({ kind: "gather", name: v.label, op: `${v.op} (broadcast)`, out, outShape: [...shape], xs: [t], idx: Int32Array.from(idx) });
  return out;
}

/** The ONNX roles of the inputs of data-movement ops that must be constants. */
const MOVE_PARAMS: Readonly<Record<string, readonly string[]>> = {
  Transpose: [], Slice: ["", "starts", "ends", "axes", "steps"], Gather: ["", "indices"], Expand: ["", "shape"],
  Pad: ["", "pads", "constant_value", "axes"], Tile: ["", "repeats"], Split: ["", "split"],
};

const MOVE_ATTRS: Readonly<Record<string, readonly string[]>> = {
  Transpose: ["perm"], Concat: ["axis"], Slice: ["starts", "ends", "axes"], Split: ["axis", "split", "num_outputs"], Gather: ["axis"],
  Expand: [], Pad: ["mode", "pads", "value"], Tile: [],
};

/**
 * Data movement on computed tensors: one GATHER, its index table the op itself evaluated on the
 * inputs' element indices (a constant input is a CONST layer first); Pad's zeros read the appended 0.
 * An index table that is the identity is a RESHAPE (a Transpose of size-1 axes, a full Slice).
 */
function loadMove(v: NodeView): void {
  const op = v.op;
  v.attrs(MOVE_ATTRS[op]!);
  const ins = v.inputs();
  const xs: string[] = [];
  let total = 0;
  const seed = (t: string): Const => {
    const x = operand(v, t);
    const shape = v.isConst(t) ? v.ctx.consts.get(t)!.dims : v.tensor(x);
    xs.push(x);
    const c = iota(shape, total);
    total += numel(shape);
    return c;
  };
  const args: (Const | undefined)[] = ins.map((t, k) => {
    if (t === "") return undefined;
    if (op === "Concat" || k === 0) return seed(t);
    return v.constOf(t, MOVE_PARAMS[op]![k] ?? `input ${k}`);
  });
  const fold = (f: () => Const[]): Const[] => {
    try {
      return f();
    } catch (e) {
      if (e instanceof FoldError) v.fail("UNSUPPORTED_ATTR", e.message);
      throw e;
    }
  };
  let results: Const[];
  let padValue = 0;
  const outs = op === "Split" ? (v.n.output ?? []).filter((o) => o !== "") : [v.output()];
  if (op === "Split") {
    const sizes = v.ctx.opset >= 13 ? (args[1] ? Array.from(args[1].values) : []) : (attrInts(v.n, "split") ?? []);
    results = fold(() => splitConst(args[0]!, attrInt(v.n, "axis", 0), sizes, outs.length));
  } else if (op === "Pad") {
    const mode = attrString(v.n, "mode") ?? "constant";
    const pads = v.ctx.opset < 11 ? (attrInts(v.n, "pads") ?? []) : Array.from(args[1]?.values ?? []);
    const axes = args[3] ? Array.from(args[3].values) : undefined;
    if (mode === "edge" || mode === "reflect" || mode === "wrap") results = [padByMode(v, args[0]!, pads, axes, mode)];
    else {
    if (mode !== "constant") v.fail("UNSUPPORTED_ATTR", `mode "${mode}" (constant, edge, reflect and wrap are GATHERs)`);
    const value = v.ctx.opset < 11 ? attrFloat(v.n, "value", 0) : args[2] && args[2].values.length > 0 ? args[2].values[0]! : 0;
    if (value !== 0) {
      if (!Number.isFinite(value)) v.fail("UNSUPPORTED_ATTR", `constant_value ${value}`);
      // Pad(x, c) = Pad(x − c, 0) + c: an ADD of −c before the GATHER, of c after it.
      padValue = value;
      const shifted = innerName(v, "minus_pad_value");
      const sx = v.tensor(xs[0]!);
      v.emit({ kind: "addc", name: v.label, op: v.op, out: shifted, outShape: sx, x: xs[0]!, c: new Float64Array(sx[1]!).fill(-value), act: NO_ACT });
      xs[0] = shifted;
    }
    // The pad reads index `total`: the 0 a GATHER appends to its inputs.
    results = fold(() => [padConstant(args[0]!, pads, total, axes)]);
    }
  } else {
    results = fold(() => [evalConstant(v.n, args, v.ctx.opset, (t) => v.ctx.shapes.get(t))]);
  }
  results.forEach((r, k) => {
    const out = outs[k]!;
    if (padValue !== 0) {
      const padded = innerName(v, "padded");
      v.emit({ kind: "gather", name: v.label, op, out: padded, outShape: [...r.dims], xs: [...xs], idx: Int32Array.from(r.values) });
      v.emit({ kind: "addc", name: v.label, op, out, outShape: [...r.dims], x: padded, c: new Float64Array(r.dims[1]!).fill(padValue), act: NO_ACT });
      return;
    }
    const identity = xs.length === 1 && r.values.length === total && r.values.every((x, i) => x === i);
    if (identity) v.emit({ kind: "reshape", name: v.label, op, out, outShape: [...r.dims], x: xs[0]! });
    else v.emit({ kind: "gather", name: v.label, op, out, outShape: [...r.dims], xs: [...xs], idx: Int32Array.from(r.values) });
  });
}

/**
 * GatherElements(x, indices, axis) with constant indices: out[i] = x[i with i[axis] = indices[i]] (negative
 * indices count from the end), pure data movement: one GATHER (a constant x is a CONST layer first).
 */
function loadGatherElements(v: NodeView): void {
  v.attrs(["axis"]);
  const ins = v.inputs();
  if (ins.length !== 2) v.fail("SHAPE", `expected 2 inputs, got ${ins.length}`);
  const idx = v.constOf(ins[1]!, "indices");
  const x = operand(v, ins[0]!);
  const s = v.isConst(ins[0]!) ? v.ctx.consts.get(ins[0]!)!.dims : v.tensor(x);
  const rank = s.length;
  const given = attrInt(v.n, "axis", 0);
  const axis = given < 0 ? given + rank : given;
  if (axis < 0 || axis >= rank) v.fail("UNSUPPORTED_ATTR", `axis ${given} of ${shapeStr(s)}`);
  const d = idx.dims;
  if (d.length !== rank || d.some((n, k) => k !== axis && n > s[k]!)) v.fail("SHAPE", `indices ${shapeStr(d)} do not fit data ${shapeStr(s)} (same rank, no larger on the other axes)`);
  const st = s.map((_, k) => numel(s.slice(k + 1)));
  const table = new Int32Array(idx.values.length);
  for (let e = 0; e < table.length; e++) {
    let rest = e;
    let src = 0;
    for (let k = rank - 1; k >= 0; k--) {
      let i = rest % d[k]!;
      rest = Math.floor(rest / d[k]!);
      if (k === axis) {
        const j = idx.values[e]!;
        if (!Number.isInteger(j) || j < -s[k]! || j >= s[k]!) v.fail("SHAPE", `index ${j} is outside axis ${axis} of ${shapeStr(s)}`);
        i = j < 0 ? j + s[k]! : j;
      }
      src += i * st[k]!;
    }
    table[e] = src;
  }
  const outShape = [...d];
  if (outShape.length < 2 || outShape[0] !== 1) v.fail("SHAPE", `output shape ${shapeStr(outShape)}; canonical tensors are [1, ...] of rank >= 2 (batch 1)`);
  emitGather(v, x, v.output(), outShape, table);
}

/** Pad of mode edge, reflect or wrap: every padded element reads an input element (a GATHER, no zeros). */
function padByMode(v: NodeView, seed: Const, pads: readonly number[], axesGiven: readonly number[] | undefined, mode: "edge" | "reflect" | "wrap"): Const {
  const dims = seed.dims;
  const rank = dims.length;
  const axes = axesGiven && axesGiven.length > 0 ? axesGiven.map((a) => (a < 0 ? a + rank : a)) : dims.map((_, k) => k);
  if (pads.length !== 2 * axes.length) v.fail("UNSUPPORTED_ATTR", `pads has ${pads.length} values for ${axes.length} axes`);
  const maps = dims.map((n) => identityMap(n));
  axes.forEach((a, k) => {
    const [b, e] = [pads[k]!, pads[k + axes.length]!];
    if (b === 0 && e === 0) return;
    if (mode === "reflect" && (b >= dims[a]! || e >= dims[a]!)) v.fail("UNSUPPORTED_ATTR", `reflect pads ${b}, ${e} reach past the ${dims[a]} elements of axis ${a}`);
    if (dims[a]! + b + e < 1) v.fail("SHAPE", `pads crop all of axis ${a}`);
    maps[a] = padMap(dims[a]!, b, e, mode);
  });
  const idx = separableIndex(dims, maps);
  return { values: Float64Array.from(idx, (i) => seed.values[i]!), dims: maps.map((m) => m.length), int: true };
}

/** A GATHER (or a RESHAPE when `idx` is the identity) of one tensor. */
function emitGather(v: NodeView, x: string, out: string, outShape: readonly number[], idx: Int32Array, op = v.op): void {
  if (idx.length === numel(v.tensor(x)) && idx.every((i, k) => i === k)) v.emit({ kind: "reshape", name: v.label, op, out, outShape: [...outShape], x });
  else v.emit({ kind: "gather", name: v.label, op, out, outShape: [...outShape], xs: [x], idx });
}

/**
 * A ConvTranspose of x [1, C, H, W] by weights Wt [C, M/G, KH, KW] (stride 1 CONV after a GATHER): the GATHER
 * puts s − 1 zeros between input elements and pads by k − 1 − pad (cropping where negative), the CONV has
 * the kernel flipped and each group's in/out channels swapped.
 */
function emitConvTranspose(
  v: NodeView, x: string, out: string, Wt: ArrayLike<number>, B: Float64Array, group: number, KH: number, KW: number,
  strides: readonly [number, number], pads: readonly [number, number, number, number], outPad: readonly [number, number], op: string,
): void {
  const [, C, H, W] = v.tensor(x) as [number, number, number, number];
  const MG = Wt.length / (C * KH * KW);
  const M = MG * group;
  const ay = { n: H, k: KH, s: strides[0], padBegin: pads[0], padEnd: pads[2], outPad: outPad[0] };
  const ax = { n: W, k: KW, s: strides[1], padBegin: pads[1], padEnd: pads[3], outPad: outPad[1] };
  const [OH, OW] = [transposedOut(ay), transposedOut(ax)];
  if (OH < 1 || OW < 1) v.fail("SHAPE", `output ${OH}×${OW} is empty`);
  let maps: Int32Array[];
  try {
    maps = [identityMap(1), identityMap(C), transposedMap(ay), transposedMap(ax)];
  } catch (e) {
    if (e instanceof ResampleError) v.fail("SHAPE", e.message);
    throw e;
  }
  const [ZH, ZW] = [maps[2]!.length, maps[3]!.length];
  const z = innerName(v, "dilated");
  emitGather(v, x, z, [1, C, ZH, ZW], separableIndex([1, C, H, W], maps), `${op} (zero insertion, padding)`);
  v.emit({
    kind: "conv", name: v.label, op, out, outShape: [1, M, OH, OW], x: z, C, H: ZH, Wd: ZW, M, group,
    win: { kh: KH, kw: KW, sy: 1, sx: 1, pt: 0, pl: 0, pb: 0, pr: 0 }, W: transposedKernel(Wt, C, MG, KH, KW, group), B, act: NO_ACT,
  });
}

/** ConvTranspose (2-D, dilations 1): a zero-inserting GATHER and a CONV with the flipped kernel. */
function loadConvTranspose(v: NodeView): void {
  v.attrs(["auto_pad", "dilations", "group", "kernel_shape", "output_padding", "output_shape", "pads", "strides"]);
  const ins = v.inputs();
  const x = spatial(v, ins[0]!);
  const Wc = v.constOf(ins[1]!, "W (weights)");
  if (Wc.dims.length !== 4) v.fail("UNSUPPORTED_ATTR", `weights ${shapeStr(Wc.dims)}: only 2-D ConvTranspose is supported (no 1-D/3-D)`);
  const [CW, MG, KH, KW] = Wc.dims as [number, number, number, number];
  const group = attrInt(v.n, "group", 1);
  const C = x[1]!;
  if (CW !== C || C % group !== 0) v.fail("SHAPE", `weights ${shapeStr(Wc.dims)} and group ${group} do not fit ${C} input channels`);
  const ks = attrInts(v.n, "kernel_shape");
  if (ks && (ks.length !== 2 || ks[0] !== KH || ks[1] !== KW)) v.fail("SHAPE", `kernel_shape ${shapeStr(ks)} does not match the weights ${shapeStr(Wc.dims)}`);
  const dil = attrInts(v.n, "dilations");
  if (dil && dil.some((d) => d !== 1)) v.fail("UNSUPPORTED_ATTR", `dilations ${shapeStr(dil)} (only 1 is supported)`);
  const pair = (name: string, dflt: number): [number, number] => {
    const a = attrInts(v.n, name) ?? [dflt, dflt];
    if (a.length !== 2) v.fail("UNSUPPORTED_ATTR", `${name} ${shapeStr(a)} (2-D only)`);
    return a as [number, number];
  };
  const strides = pair("strides", 1);
  const outPad = pair("output_padding", 0);
  if (strides.some((s) => s < 1)) v.fail("UNSUPPORTED_ATTR", `strides ${shapeStr(strides)}`);
  if (outPad.some((p, k) => p < 0 || p >= strides[k]!)) v.fail("UNSUPPORTED_ATTR", `output_padding ${shapeStr(outPad)} must be below the strides ${shapeStr(strides)}`);
  const auto = attrString(v.n, "auto_pad") ?? "NOTSET";
  if (!["NOTSET", "VALID", "SAME_UPPER", "SAME_LOWER"].includes(auto)) v.fail("UNSUPPORTED_ATTR", `auto_pad ${auto}`);
  let outShape = attrInts(v.n, "output_shape");
  if (outShape && outShape.length !== 2 && outShape.length !== 4) v.fail("UNSUPPORTED_ATTR", `output_shape ${shapeStr(outShape)} (2-D only)`);
  if (!outShape && (auto === "SAME_UPPER" || auto === "SAME_LOWER")) outShape = [x[2]! * strides[0], x[3]! * strides[1]];
  let pads: [number, number, number, number];
  if (outShape) {
    const [oh, ow] = outShape.slice(-2) as [number, number];
    const upper = auto === "SAME_UPPER";
    const [pt, pb] = transposedPads(x[2]!, KH, strides[0], outPad[0], oh, upper);
    const [pl, pr] = transposedPads(x[3]!, KW, strides[1], outPad[1], ow, upper);
    pads = [pt, pl, pb, pr];
  } else if (auto === "VALID") pads = [0, 0, 0, 0];
  else {
    const p = attrInts(v.n, "pads") ?? [0, 0, 0, 0];
    if (p.length !== 4) v.fail("UNSUPPORTED_ATTR", `pads ${shapeStr(p)} must have 4 entries (2-D only)`);
    pads = p as [number, number, number, number];
  }
  const M = MG * group;
  const B = ins[2] ? Float64Array.from(v.constOf(ins[2], "B (bias)").values) : new Float64Array(M);
  if (B.length !== M) v.fail("SHAPE", `bias has ${B.length} values, expected ${M}`);
  emitConvTranspose(v, ins[0]!, v.output(), Wc.values, B, group, KH, KW, strides, pads, outPad, v.op);
}

/** A Resize's (or Upsample's) scales or sizes: one value per axis, or per axis of `axes` (opset 18). */
function resizeTargets(v: NodeView, x: readonly number[]): { scales: number[]; sizes: number[] } {
  const ins = v.inputs();
  const rank = x.length;
  const nonEmpty = (k: number): Const | undefined => {
    const t = ins[k];
    if (!t) return undefined;
    const c = v.constOf(t, ["X", "roi", "scales", "sizes"][k] ?? `input ${k}`);
    return c.values.length > 0 ? c : undefined;
  };
  let scalesC: number[] | undefined;
  let sizesC: number[] | undefined;
  if (v.op === "Upsample" && v.ctx.opset < 9) scalesC = attrFloatsOf(v, "scales");
  else if (v.op === "Upsample" || v.ctx.opset < 11) scalesC = Array.from(v.constOf(ins[1]!, "scales").values);
  else {
    scalesC = nonEmpty(2) ? Array.from(nonEmpty(2)!.values) : undefined;
    sizesC = nonEmpty(3) ? Array.from(nonEmpty(3)!.values) : undefined;
  }
  if ((scalesC === undefined) === (sizesC === undefined)) v.fail("SHAPE", "exactly one of scales and sizes must be given");
  const axesAttr = attrInts(v.n, "axes");
  const axes = axesAttr ? axesAttr.map((a) => (a < 0 ? a + rank : a)) : x.map((_, k) => k);
  const given = (scalesC ?? sizesC)!;
  if (given.length !== axes.length) v.fail("SHAPE", `${scalesC ? "scales" : "sizes"} has ${given.length} values for ${axes.length} axes`);
  const scales = x.map(() => 1);
  const sizes = [...x];
  const policy = attrString(v.n, "keep_aspect_ratio_policy") ?? "stretch";
  if (policy !== "stretch") v.fail("UNSUPPORTED_ATTR", `keep_aspect_ratio_policy ${policy} (only stretch is supported)`);
  axes.forEach((a, k) => {
    if (scalesC) {
      // ONNX: output_dimension = floor(input_dimension · scale), with the scale as given.
      scales[a] = scalesC[k]!;
      sizes[a] = Math.floor(x[a]! * scalesC[k]!);
    } else {
      sizes[a] = sizesC![k]!;
      scales[a] = sizesC![k]! / x[a]!;
    }
  });
  if (sizes.some((d) => !(d >= 1))) v.fail("SHAPE", `output shape ${shapeStr(sizes)} is empty`);
  return { scales, sizes };
}

function attrFloatsOf(v: NodeView, name: string): number[] {
  const a = (v.n.attribute ?? []).find((t) => t.name === name);
  return (a?.floats ?? []).map(Number);
}

/**
 * Resize / Upsample. Nearest: one GATHER, each output index reading the input index the operator's
 * coordinate_transformation_mode and nearest_mode give. Linear, 2-D, upsampling H and W by integers: an
 * edge-replicating GATHER and a depthwise ConvTranspose with the fixed interpolation weights (a GATHER
 * and a CONV). Cubic, linear downsampling or at other factors or modes: refused by name.
 */
function loadResize(v: NodeView): void {
  const upsample = v.op === "Upsample";
  v.attrs(upsample ? ["mode", "scales"] : [
    "mode", "coordinate_transformation_mode", "nearest_mode", "cubic_coeff_a", "exclude_outside", "extrapolation_value", "antialias", "axes", "keep_aspect_ratio_policy",
  ]);
  const ins = v.inputs();
  const x = v.tensor(ins[0]!);
  const mode = attrString(v.n, "mode") ?? "nearest";
  // Opset 10's Resize and Upsample are asymmetric, rounding down (their output index o reads ⌊o / scale⌋).
  const legacy = upsample || v.ctx.opset < 11;
  const coord = (legacy ? "asymmetric" : (attrString(v.n, "coordinate_transformation_mode") ?? "half_pixel")) as CoordinateMode;
  const nmode = (legacy ? "floor" : (attrString(v.n, "nearest_mode") ?? "round_prefer_floor")) as NearestMode;
  if (!COORDINATE_MODES.includes(coord)) v.fail("UNSUPPORTED_ATTR", `coordinate_transformation_mode ${coord}`);
  if (!NEAREST_MODES.includes(nmode)) v.fail("UNSUPPORTED_ATTR", `nearest_mode ${nmode}`);
  const { scales, sizes } = resizeTargets(v, x);
  let roi: number[] | undefined;
  if (coord === "tf_crop_and_resize") {
    const r = ins[1] ? Array.from(v.constOf(ins[1], "roi").values) : [];
    const axesAttr = attrInts(v.n, "axes");
    const axes = axesAttr ? axesAttr.map((a) => (a < 0 ? a + x.length : a)) : x.map((_, k) => k);
    if (r.length !== 2 * axes.length) v.fail("SHAPE", `roi has ${r.length} values for ${axes.length} axes`);
    roi = [...x.map(() => 0), ...x.map(() => 1)];
    axes.forEach((a, k) => {
      roi![a] = r[k]!;
      roi![a + x.length] = r[k + axes.length]!;
    });
  }
  const axis = (k: number): ResizeAxis => ({ n: x[k]!, m: sizes[k]!, scale: scales[k]!, roiStart: roi?.[k] ?? 0, roiEnd: roi?.[k + x.length] ?? 1 });
  const out = v.output();
  if (sizes[0] !== 1) v.fail("SHAPE", `output shape ${shapeStr(sizes)}: its first dimension is not a batch of 1`);
  if (mode === "nearest") {
    if (coord === "tf_crop_and_resize") {
      const ext = attrFloat(v.n, "extrapolation_value", 0);
      const outside = x.some((_, k) => nearestMap(axis(k), coord, nmode).some((i) => i < 0));
      if (outside && ext !== 0) v.fail("UNSUPPORTED_ATTR", `extrapolation_value ${ext}: a GATHER can only fill with 0`);
    }
    emitGather(v, ins[0]!, out, sizes, separableIndex(x, x.map((_, k) => nearestMap(axis(k), coord, nmode))));
    return;
  }
  if (mode !== "linear") v.fail("UNSUPPORTED_ATTR", `mode ${mode}: only nearest (a GATHER) and linear upsampling by integer factors (a GATHER and a CONV) are exact in canonical form`);
  if (x.length !== 4) v.fail("UNSUPPORTED_ATTR", `mode linear on ${shapeStr(x)}: only 2-D [1, C, H, W] upsampling is supported`);
  if (sizes[1] !== x[1]) v.fail("UNSUPPORTED_ATTR", "mode linear across channels (only H and W may be resized)");
  if (coord === "tf_crop_and_resize" || coord === "align_corners") {
    v.fail("UNSUPPORTED_ATTR", `mode linear with coordinate_transformation_mode ${coord}: its weights change along the output, so it is no fixed-weight convolution`);
  }
  if (sizes[2]! < x[2]! || sizes[3]! < x[3]!) v.fail("UNSUPPORTED_ATTR", `mode linear downsampling ${shapeStr(x)} → ${shapeStr(sizes)} (only upsampling by integer factors is exact)`);
  const ky = linearKernel(axis(2), coord);
  const kx = linearKernel(axis(3), coord);
  for (const k of [ky, kx]) if (typeof k === "string") v.fail("UNSUPPORTED_ATTR", `mode linear: ${k} (only upsampling by integer factors is a fixed-weight convolution)`);
  const [KY, KX] = [ky as Float64Array, kx as Float64Array];
  const C = x[1]!;
  const [sy, sx] = [sizes[2]! / x[2]!, sizes[3]! / x[3]!];
  const edge = innerName(v, "edge");
  emitGather(v, ins[0]!, edge, [1, C, x[2]! + 2, x[3]! + 2], separableIndex(x, [identityMap(1), identityMap(C), edgeMap(x[2]!), edgeMap(x[3]!)]), `${v.op} (edge)`);
  const Wt = new Float64Array(C * KY.length * KX.length);
  for (let c = 0; c < C; c++) for (let i = 0; i < KY.length; i++) for (let j = 0; j < KX.length; j++) Wt[(c * KY.length + i) * KX.length + j] = KY[i]! * KX[j]!;
  emitConvTranspose(v, edge, out, Wt, new Float64Array(C), C, KY.length, KX.length, [sy, sx], [2 * sy, 2 * sx, 2 * sy, 2 * sx], [0, 0], v.op);
}

/** DepthToSpace / SpaceToDepth of [1, C, H, W]: one GATHER. */
function loadDepthSpace(v: NodeView): void {
  v.attrs(v.op === "DepthToSpace" ? ["blocksize", "mode"] : ["blocksize"]);
  const x = spatial(v, v.inputs()[0]!);
  const [, C, H, W] = x as [number, number, number, number];
  const b = attrInt(v.n, "blocksize", 0);
  if (b < 1) v.fail("UNSUPPORTED_ATTR", `blocksize ${b}`);
  if (v.op === "DepthToSpace") {
    const mode = attrString(v.n, "mode") ?? "DCR";
    if (mode !== "DCR" && mode !== "CRD") v.fail("UNSUPPORTED_ATTR", `mode ${mode}`);
    if (C % (b * b) !== 0) v.fail("SHAPE", `${C} channels do not divide by blocksize² ${b * b}`);
    emitGather(v, v.inputs()[0]!, v.output(), [1, C / (b * b), H * b, W * b], depthToSpaceIndex(C, H, W, b, mode));
  } else {
    if (H % b !== 0 || W % b !== 0) v.fail("SHAPE", `${H}×${W} does not divide by blocksize ${b}`);
    emitGather(v, v.inputs()[0]!, v.output(), [1, C * b * b, H / b, W / b], spaceToDepthIndex(C, H, W, b));
  }
}

/** Entries of an embedding table that one LUT holds exactly: the flat index stays below 2^24. */
const MAX_EMBEDDING = 2 ** 24;

/**
 * Gather(E, ids, axis 0): an embedding lookup of a constant table E [V, D...] by integer ids (the graph
 * input, integer-typed or cast to an integer type, through views). The flat index ids·D + d is computed
 * exactly at scale 1 (a MUL by D clipped to [0, (V − 1)·D], a GATHER broadcasting it over D, an ADD of a
 * CONST holding d = 0..D − 1), then ONE LUT whose table is E flattened: exact as long as V·D fits
 * maxLutSize (and 2^24). Ids outside [0, V − 1] read the nearest row (ONNX leaves them undefined).
 */
function loadEmbedding(v: NodeView): void {
  v.attrs(["axis"]);
  const [data, ids] = v.inputs() as [string, string];
  const E = v.constOf(data, "data (the embedding table)");
  const axis = attrInt(v.n, "axis", 0);
  if (axis !== 0 && axis !== -E.dims.length) {
    v.fail("NOT_CONSTANT", `indices "${ids}" are computed and axis is ${axis}: only an embedding lookup (a constant table gathered along axis 0 by token ids) is lowered; on other axes the indices must be constants`);
  }
  if (!v.ctx.integral.has(ids)) {
    v.fail("NOT_CONSTANT", `indices "${ids}" are computed from real values: only integer token ids (the graph input, int32 / int64 or cast to one, through reshapes) can index an embedding table`);
  }
  const V = E.dims[0] ?? 1;
  const rest = E.dims.slice(1);
  const D = numel(rest);
  const N = V * D;
  if (N > v.ctx.maxLutSize || N >= MAX_EMBEDDING) {
    v.fail(
      "UNSUPPORTED_ATTR",
      `embedding table of ${V}×${D} = ${N} entries exceeds ${N >= MAX_EMBEDDING ? "2^24 (the flat index must stay exact)" : `the LUT size limit maxLutSize (${v.ctx.maxLutSize})`}: it is one LUT over the flat index ids·${D} + d`,
    );
  }
  const s = v.tensor(ids);
  const outShape = [...s, ...rest];
  const exactShape = [...s, D];
  const table = Float64Array.from(E.values);
  const lookup = { name: "Embedding", f: (t: number) => table[Math.min(Math.max(Math.round(t), 0), N - 1)]! };
  const base = { name: v.label, op: v.op };
  // The input's range, if it is the ids: [0, V − 1] (the widest table, when several read it).
  const input = v.ctx.integerInput;
  if (input) input.hi = Math.max(input.hi ?? 0, V - 1);
  if (input) input.lo = 0;
  const n = numel(s);
  let index = ids;
  if (D > 1) {
    const scaled = innerName(v, "row_start");
    v.emit({ ...base, op: `${v.op} (ids·${D})`, kind: "mulc", out: scaled, outShape: s, x: ids, c: new Float64Array(s[1]!).fill(D), act: { lo: 0, hi: (V - 1) * D }, exact: true });
    const spread = innerName(v, "row_start_spread");
    v.emit({ ...base, op: `${v.op} (broadcast)`, kind: "gather", out: spread, outShape: exactShape, xs: [scaled], idx: Int32Array.from({ length: n * D }, (_, e) => Math.floor(e / D)), exact: true });
    const offsets = innerName(v, "column");
    v.emit({ ...base, op: `${v.op} (0..${D - 1})`, kind: "const", out: offsets, outShape: exactShape, values: Float64Array.from({ length: n * D }, (_, e) => e % D), exact: true });
    index = innerName(v, "flat_index");
    v.emit({ ...base, op: `${v.op} (flat index)`, kind: "add", out: index, outShape: exactShape, a: spread, b: offsets, act: { lo: 0, hi: N - 1 }, exact: true });
  } else {
    // One value per row: the ids are the flat index (clipped to the table by its LUT's domain).
    const clipped = innerName(v, "ids");
    v.emit({ ...base, kind: "clamp", out: clipped, outShape: s, x: ids, act: { lo: 0, hi: V - 1 }, exact: true });
    index = clipped;
  }
  const looked = shapeStr(outShape) === shapeStr(v.tensor(index)) ? v.output() : innerName(v, "rows");
  v.emit({ ...base, kind: "lut", out: looked, outShape: v.tensor(index), x: index, fn: lookup, act: NO_ACT });
  if (looked !== v.output()) v.emit({ ...base, kind: "reshape", out: v.output(), outShape, x: looked });
}

function loadConv(v: NodeView): void {
  v.attrs(["auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"]);
  const ins = v.inputs();
  const x = spatial(v, ins[0]!);
  const Wc = v.constOf(ins[1]!, "W (weights)");
  if (Wc.dims.length !== 4) v.fail("UNSUPPORTED_ATTR", `weights ${shapeStr(Wc.dims)}: only 2-D convolution is supported`);
  const [M, CG, KH, KW] = Wc.dims as [number, number, number, number];
  const group = attrInt(v.n, "group", 1);
  const C = x[1]!;
  if (C % group !== 0 || M % group !== 0 || CG !== C / group) v.fail("SHAPE", `weights ${shapeStr(Wc.dims)} and group ${group} do not fit ${C} input channels`);
  const win = windowOf(v, x, KH, KW);
  const OH = windowOut(x[2]!, KH, win.sy, win.pt, win.pb);
  const OW = windowOut(x[3]!, KW, win.sx, win.pl, win.pr);
  const B = ins[2] ? Float64Array.from(v.constOf(ins[2], "B (bias)").values) : new Float64Array(M);
  if (B.length !== M) v.fail("SHAPE", `bias has ${B.length} values, expected ${M}`);
  v.emit({
    kind: "conv", name: v.label, op: v.op, out: v.output(), outShape: [1, M, OH, OW], x: ins[0]!,
    C, H: x[2]!, Wd: x[3]!, M, group, win, W: Float64Array.from(Wc.values), B, act: NO_ACT,
  });
}

/** A DENSE over the last axis computing x − mean(x) (weights δ − 1/D): LayerNorm's centering in one layer. */
function emitCentering(v: NodeView, x: string, out: string, op: string): void {
  const s = v.tensor(x);
  const D = s[s.length - 1]!;
  const W = new Float64Array(D * D);
  for (let m = 0; m < D; m++) for (let k = 0; k < D; k++) W[m * D + k] = (m === k ? 1 : 0) - 1 / D;
  v.emit({ kind: "dense", name: v.label, op, out, outShape: s, x, K: D, M: D, W, B: new Float64Array(D), act: NO_ACT, wideInput: true });
}

/** 1/x, as a LUT. */
const reciprocal = { name: "Reciprocal", f: (x: number) => 1 / x };

/**
 * Add/Sub/Mul/Div. Of two computed tensors: ADD (Sub: the subtrahend through a MUL by −1 first), PRODUCT
 * (Div: the divisor through a reciprocal LUT first), the operand that is smaller by the NumPy rules
 * broadcast by a GATHER; x − ReduceMean(x) over the last axis is one centering DENSE. With a constant:
 * per channel (axis 1) or scalar, a MUL or ADD; of any other shape that does not enlarge the tensor, an
 * elementwise constant (fold.ts: into a DENSE, else CONST + ADD / PRODUCT).
 */
function loadBinary(v: NodeView): void {
  v.attrs([]);
  const ins = v.inputs();
  if (ins.length !== 2) v.fail("SHAPE", `expected 2 inputs, got ${ins.length}`);
  const [a, b] = ins as [string, string];
  const out = v.output();
  const aConst = v.isConst(a);
  const bConst = v.isConst(b);
  if (aConst && bConst) v.fail("NOT_CONSTANT", "both operands are constants (fold them before converting)");
  if (!aConst && !bConst) {
    const sa = v.tensor(a);
    const sb = v.tensor(b);
    let shape: number[];
    try {
      shape = broadcastShape([sa, sb]);
    } catch (e) {
      if (e instanceof FoldError) v.fail("SHAPE", `operand shapes ${shapeStr(sa)} and ${shapeStr(sb)} do not broadcast`);
      throw e;
    }
    if (v.op === "Sub" && v.ctx.meanOf.get(b) === a && shapeStr(shape) === shapeStr(sa)) return emitCentering(v, a, out, "ReduceMean+Sub");
    let other = b;
    if (v.op === "Sub") {
      // a − b = a + (−1)·b: a MUL by −1 (exact) and an ADD.
      other = innerName(v, "negated");
      v.emit({ kind: "mulc", name: v.label, op: v.op, out: other, outShape: sb, x: b, c: new Float64Array(sb[1]!).fill(-1), act: NO_ACT });
    } else if (v.op === "Div") {
      other = innerName(v, "reciprocal");
      v.emit({ kind: "lut", name: v.label, op: v.op, out: other, outShape: sb, x: b, fn: reciprocal, act: NO_ACT });
    }
    const A = broadcastTo(v, a, shape);
    const B = broadcastTo(v, other, shape);
    if (v.op === "Add" || v.op === "Sub") v.emit({ kind: "add", name: v.label, op: v.op, out, outShape: shape, a: A, b: B, act: NO_ACT });
    else v.emit({ kind: "prod", name: v.label, op: v.op, out, outShape: shape, a: A, b: B, gain: 1, act: NO_ACT });
    return;
  }
  let xName = aConst ? b : a;
  const cName = aConst ? a : b;
  const shape = v.tensor(xName);
  if (aConst && v.op === "Sub") {
    // c − x = (−1)·x + c
    const neg = innerName(v, "negated");
    v.emit({ kind: "mulc", name: v.label, op: v.op, out: neg, outShape: shape, x: xName, c: new Float64Array(shape[1]!).fill(-1), act: NO_ACT });
    xName = neg;
  } else if (aConst && v.op === "Div") {
    // c / x = c · (1/x)
    const rec = innerName(v, "reciprocal");
    v.emit({ kind: "lut", name: v.label, op: v.op, out: rec, outShape: shape, x: xName, fn: reciprocal, act: NO_ACT });
    xName = rec;
  }
  const cc = v.constOf(cName, "constant operand");
  const c = perChannel(cc, shape);
  const adds = v.op === "Add" || v.op === "Sub";
  const transform = (x: number): number => (v.op === "Sub" && !aConst ? -x : v.op === "Div" && !aConst ? 1 / x : x);
  if (c) {
    c.forEach((x, i) => (c[i] = transform(x)));
    v.emit({ kind: adds ? "addc" : "mulc", name: v.label, op: v.op, out, outShape: shape, x: xName, c, act: NO_ACT });
    return;
  }
  let full: Float64Array;
  try {
    if (shapeStr(broadcastShape([shape, cc.dims])) !== shapeStr(shape)) throw new FoldError("");
    full = expandTo(cc, shape);
  } catch (e) {
    if (e instanceof FoldError) v.fail("SHAPE", `constant "${cName}" of shape ${shapeStr(cc.dims)} does not broadcast to the tensor's shape ${shapeStr(shape)}`);
    throw e;
  }
  v.emit({ kind: "elemc", name: v.label, op: v.op, out, outShape: shape, mode: adds ? "add" : "mul", x: xName, c: full.map(transform), act: NO_ACT });
}

/**
 * Softmax over the last axis of x [1, ..., N], each of its R rows: viewed as [1, R, 1, N], its max
 * (MAXPOOL 1×N), negated (MUL −1) and broadcast (GATHER), added (x − max ≤ 0), exp (LUT), summed (a
 * CONV of ones), inverted (LUT 1/s, s ≥ 1), broadcast back and multiplied in (PRODUCT).
 */
function loadSoftmax(v: NodeView): void {
  v.attrs(["axis"]);
  const emit = v.op === "LogSoftmax" ? emitLogSoftmax : emitSoftmax;
  const x = v.inputs()[0]!;
  const s = v.tensor(x);
  const rank = s.length;
  const given = attrInt(v.n, "axis", v.ctx.opset >= 13 ? -1 : 1);
  const axis = given < 0 ? given + rank : given;
  if (axis < 1 || axis >= rank) v.fail("UNSUPPORTED_ATTR", `axis ${given} of ${shapeStr(s)} (the batch axis or out of range)`);
  // Opset < 13 normalizes over the flattened axes from `axis` on; 13 and later over `axis` alone.
  if (v.ctx.opset >= 13 && s.slice(axis + 1).some((d) => d !== 1)) {
    // Over a middle axis: a GATHER moves it last, the softmax runs there, a GATHER moves it back.
    const perm = [...s.keys()].filter((k) => k !== axis).concat([axis]);
    const sp = perm.map((k) => s[k]!);
    const st = s.map((_, k) => numel(s.slice(k + 1)));
    const toLast = new Int32Array(numel(s));
    const back = new Int32Array(numel(s));
    for (let e = 0; e < toLast.length; e++) {
      let rest = e;
      let src = 0;
      for (let k = sp.length - 1; k >= 0; k--) {
        const i = rest % sp[k]!;
        rest = Math.floor(rest / sp[k]!);
        src += i * st[perm[k]!]!;
      }
      toLast[e] = src;
      back[src] = e;
    }
    const xt = innerName(v, "axis_last");
    v.emit({ kind: "gather", name: v.label, op: `${v.op} (axis last)`, out: xt, outShape: sp, xs: [x], idx: toLast });
    const yt = innerName(v, "softmax_axis_last");
    emit(v, xt, sp, sp[sp.length - 1]!, yt);
    v.emit({ kind: "gather", name: v.label, op: `${v.op} (axis back)`, out: v.output(), outShape: s, xs: [yt], idx: back });
    return;
  }
  emit(v, x, s, v.ctx.opset >= 13 ? s[axis]! : numel(s.slice(axis)), v.output());
}

/**
 * The log-softmax layers over rows of N: x − max − log Σ exp(x − max). The shifted x − max and the sum of
 * exps as in the softmax (view, MAXPOOL, MUL −1, GATHER, ADD, LUT exp, CONV of ones), then a LUT −log s
 * (s ≥ 1, so −log s ≤ 0), a GATHER broadcasting it over the row and an ADD to x − max.
 */
function emitLogSoftmax(v: NodeView, x: string, s: readonly number[], N: number, out: string): void {
  const R = numel(s) / N;
  const base = { name: v.label, op: "LogSoftmax" };
  const rows = (e: number) => Math.floor(e / N);
  const { shifted, ex, sum } = emitShiftedExps(v, x, R, N, base);
  const negLog = innerName(v, "neg_log_sum");
  v.emit({ ...base, kind: "lut", out: negLog, outShape: [1, R, 1, 1], x: sum, fn: { name: "NegLog", f: (t: number) => -Math.log(t) }, act: NO_ACT, sumOfExps: ex });
  const negLogE = innerName(v, "neg_log_sum_rows");
  v.emit({ ...base, kind: "gather", out: negLogE, outShape: [1, R, 1, N], xs: [negLog], idx: Int32Array.from({ length: R * N }, (_, e) => rows(e)) });
  const y = innerName(v, "log_softmax_rows");
  v.emit({ ...base, kind: "add", out: y, outShape: [1, R, 1, N], a: shifted, b: negLogE, act: { lo: -Infinity, hi: 0 } });
  v.emit({ ...base, kind: "reshape", out, outShape: s, x: y });
}

/** Softmax's common part over rows of N: x − max (≤ 0), its exps, and their sum per row ([1, R, 1, 1]). */
function emitShiftedExps(v: NodeView, x: string, R: number, N: number, base: { name: string; op: string }): { shifted: string; ex: string; sum: string } {
  const rows = (e: number) => Math.floor(e / N);
  const view = innerName(v, "rows");
  v.emit({ ...base, kind: "reshape", out: view, outShape: [1, R, 1, N], x });
  const max = innerName(v, "max");
  v.emit({ ...base, kind: "maxpool", out: max, outShape: [1, R, 1, 1], x: view, win: { kh: 1, kw: N, sy: 1, sx: 1, pt: 0, pl: 0, pb: 0, pr: 0 } });
  const neg = innerName(v, "negmax");
  v.emit({ ...base, kind: "mulc", out: neg, outShape: [1, R, 1, 1], x: max, c: new Float64Array(R).fill(-1), act: NO_ACT });
  const negE = innerName(v, "negmax_rows");
  v.emit({ ...base, kind: "gather", out: negE, outShape: [1, R, 1, N], xs: [neg], idx: Int32Array.from({ length: R * N }, (_, e) => rows(e)) });
  const shifted = innerName(v, "shifted");
  v.emit({ ...base, kind: "add", out: shifted, outShape: [1, R, 1, N], a: view, b: negE, act: { lo: -Infinity, hi: 0 } });
  const ex = innerName(v, "exp");
  v.emit({ ...base, kind: "lut", out: ex, outShape: [1, R, 1, N], x: shifted, fn: { name: "Exp", f: Math.exp }, act: NO_ACT });
  const exCol = innerName(v, "exp_column");
  v.emit({ ...base, kind: "reshape", out: exCol, outShape: [1, R, N, 1], x: ex });
  const sum = innerName(v, "sum");
  v.emit({
    ...base, kind: "conv", out: sum, outShape: [1, R, 1, 1], x: exCol, C: R, H: N, Wd: 1, M: R, group: R,
    win: { kh: N, kw: 1, sy: 1, sx: 1, pt: 0, pl: 0, pb: 0, pr: 0 }, W: new Float64Array(R * N).fill(1), B: new Float64Array(R), act: NO_ACT, wideInput: true,
  });
  return { shifted, ex, sum };
}

/** The softmax layers over the last N elements (rows of N) of x, shape s, into `out`. */
function emitSoftmax(v: NodeView, x: string, s: readonly number[], N: number, out: string): void {
  const R = numel(s) / N;
  const base = { name: v.label, op: "Softmax" };
  const rows = (e: number) => Math.floor(e / N);
  const { ex, sum } = emitShiftedExps(v, x, R, N, base);
  const inv = innerName(v, "inverse");
  v.emit({ ...base, kind: "lut", out: inv, outShape: [1, R, 1, 1], x: sum, fn: reciprocal, act: NO_ACT, sumOfExps: ex });
  const exOut = innerName(v, "exp_view");
  v.emit({ ...base, kind: "reshape", out: exOut, outShape: s, x: ex });
  const invE = innerName(v, "inverse_rows");
  v.emit({ ...base, kind: "gather", out: invE, outShape: s, xs: [inv], idx: Int32Array.from({ length: R * N }, (_, e) => rows(e)) });
  v.emit({ ...base, kind: "prod", out, outShape: s, a: exOut, b: invE, gain: 1, act: NO_ACT });
}

/**
 * LayerNormalization over the last axis: centering (one DENSE, δ − 1/D), square (LUT), mean (CONV of
 * 1/D over a view), 1/√(var + ε) (LUT), broadcast (GATHER) and multiplied in (PRODUCT), then γ and β
 * as elementwise constants (folded into the DENSEs that read the result where they can be).
 */
function loadLayerNorm(v: NodeView): void {
  v.attrs(["axis", "epsilon", "stash_type"]);
  const outs = v.n.output ?? [];
  const ins = v.inputs();
  const x = ins[0]!;
  const s = v.tensor(x);
  const rank = s.length;
  const given = attrInt(v.n, "axis", -1);
  const axis = given < 0 ? given + rank : given;
  if (axis < 1 || axis >= rank) v.fail("UNSUPPORTED_ATTR", `axis ${given} of ${shapeStr(s)} (the batch axis or out of range)`);
  // Normalized over the axes from `axis` on: the rows of the view [1, R, D].
  const D = numel(s.slice(axis));
  const eps = attrFloat(v.n, "epsilon", 1e-5);
  const gamma = v.constOf(ins[1]!, "Scale");
  const beta = ins[2] ? v.constOf(ins[2], "B") : undefined;
  const R = numel(s) / D;
  const out = outs[0] ?? "";
  if (out === "") v.fail("UNSUPPORTED_ATTR", "the output Y is not named");
  const op = "LayerNormalization";
  const base = { name: v.label, op };
  const lastOnly = s.slice(axis, -1).every((d) => d === 1);
  const sv = lastOnly ? s : [1, R, D];
  let xv = x;
  if (!lastOnly) {
    xv = innerName(v, "rows");
    v.emit({ ...base, kind: "reshape", out: xv, outShape: sv, x });
  }
  const centred = innerName(v, "centred");
  emitCentering(v, xv, centred, op);
  const sq = innerName(v, "square");
  v.emit({ ...base, kind: "lut", out: sq, outShape: sv, x: centred, fn: { name: "Square", f: (t: number) => t * t }, act: NO_ACT });
  const col = innerName(v, "square_column");
  v.emit({ ...base, kind: "reshape", out: col, outShape: [1, R, D, 1], x: sq });
  const variance = innerName(v, "variance");
  v.emit({
    ...base, kind: "conv", out: variance, outShape: [1, R, 1, 1], x: col, C: R, H: D, Wd: 1, M: R, group: R,
    win: { kh: D, kw: 1, sy: 1, sx: 1, pt: 0, pl: 0, pb: 0, pr: 0 }, W: new Float64Array(R * D).fill(1 / D), B: new Float64Array(R), act: NO_ACT, wideInput: true,
  });
  const inv = innerName(v, "rsqrt");
  v.emit({ ...base, kind: "lut", out: inv, outShape: [1, R, 1, 1], x: variance, fn: { name: "InvSqrt", f: (t: number) => 1 / Math.sqrt(t + eps) }, act: NO_ACT });
  const invE = innerName(v, "rsqrt_rows");
  v.emit({ ...base, kind: "gather", out: invE, outShape: sv, xs: [inv], idx: Int32Array.from({ length: R * D }, (_, e) => Math.floor(e / D)) });
  const expand = (c: Const, role: string): Float64Array => {
    try {
      if (shapeStr(broadcastShape([s, c.dims])) !== shapeStr(s)) throw new FoldError("");
      return expandTo(c, s);
    } catch (e) {
      if (e instanceof FoldError) v.fail("SHAPE", `${role} of shape ${shapeStr(c.dims)} does not broadcast to ${shapeStr(s)}`);
      throw e;
    }
  };
  const g = expand(gamma, "Scale");
  const b = beta ? expand(beta, "B") : undefined;
  const hasBeta = b !== undefined && b.some((t) => t !== 0);
  const hasGamma = g.some((t) => t !== 1);
  const normed = hasGamma || hasBeta ? innerName(v, "normalized") : out;
  if (lastOnly) v.emit({ ...base, kind: "prod", out: normed, outShape: s, a: centred, b: invE, gain: 1, act: NO_ACT });
  else {
    const nv = innerName(v, "normalized_rows");
    v.emit({ ...base, kind: "prod", out: nv, outShape: sv, a: centred, b: invE, gain: 1, act: NO_ACT });
    v.emit({ ...base, kind: "reshape", out: normed, outShape: s, x: nv });
  }
  const scaled = hasBeta ? innerName(v, "scaled") : out;
  if (hasGamma) v.emit({ ...base, kind: "elemc", mode: "mul", out: scaled, outShape: s, x: normed, c: g, act: NO_ACT });
  if (hasBeta) v.emit({ ...base, kind: "elemc", mode: "add", out, outShape: s, x: hasGamma ? scaled : normed, c: b!, act: NO_ACT });
  // The optional Mean and InvStdDev outputs, of shape s with the normalized axes 1: a CONV of 1/D (the
  // mean, over a column view of x) and the 1/√ LUT above, each viewed in that shape.
  const reduced = s.map((d, k) => (k >= axis ? 1 : d));
  if (outs[1]) {
    const xcol = innerName(v, "column");
    v.emit({ ...base, kind: "reshape", out: xcol, outShape: [1, R, D, 1], x });
    const mean = innerName(v, "mean");
    v.emit({
      ...base, kind: "conv", out: mean, outShape: [1, R, 1, 1], x: xcol, C: R, H: D, Wd: 1, M: R, group: R,
      win: { kh: D, kw: 1, sy: 1, sx: 1, pt: 0, pl: 0, pb: 0, pr: 0 }, W: new Float64Array(R * D).fill(1 / D), B: new Float64Array(R), act: NO_ACT, wideInput: true,
    });
    v.emit({ ...base, kind: "reshape", out: outs[1], outShape: reduced, x: mean });
  }
  if (outs[2]) v.emit({ ...base, kind: "reshape", out: outs[2], outShape: reduced, x: inv });
}

function clampOf(v: NodeView): Act {
  const ins = v.inputs();
  if (v.ctx.opset < 11) {
    v.attrs(["min", "max"]);
    return { lo: attrFloat(v.n, "min", -Infinity), hi: attrFloat(v.n, "max", Infinity) };
  }
  v.attrs([]);
  const bound = (name: string | undefined, dflt: number, role: string): number => {
    if (!name) return dflt;
    const c = v.constOf(name, role);
    if (c.values.length !== 1) v.fail("SHAPE", `${role} must be a scalar`);
    return c.values[0]!;
  };
  return { lo: bound(ins[1], -Infinity, "min"), hi: bound(ins[2], Infinity, "max") };
}

function loadPool(v: NodeView): void {
  const global = v.op.startsWith("Global");
  const avg = v.op.endsWith("AveragePool");
  v.attrs(global ? [] : ["auto_pad", "ceil_mode", "dilations", "kernel_shape", "pads", "storage_order", "strides", "count_include_pad"]);
  if ((v.n.output ?? []).filter((o) => o).length > 1) v.fail("UNSUPPORTED_ATTR", "the Indices output is not supported");
  const x = spatial(v, v.inputs()[0]!);
  const [, C, H, Wd] = x as [number, number, number, number];
  let win: Window;
  if (global) win = { kh: H, kw: Wd, sy: 1, sx: 1, pt: 0, pl: 0, pb: 0, pr: 0 };
  else {
    const ks = attrInts(v.n, "kernel_shape") ?? [];
    if (ks.length !== 2) v.fail("UNSUPPORTED_ATTR", `kernel_shape ${shapeStr(ks)}: only 2-D pooling is supported`);
    win = windowOf(v, x, ks[0]!, ks[1]!);
  }
  let OH = windowOut(H, win.kh, win.sy, win.pt, win.pb);
  let OW = windowOut(Wd, win.kw, win.sx, win.pl, win.pr);
  if (!global && attrInt(v.n, "ceil_mode", 0) === 1) {
    const ceilOut = (n: number, k: number, s: number, p: number) => Math.ceil((n + p - k) / s) + 1;
    if (ceilOut(H, win.kh, win.sy, win.pt + win.pb) !== OH || ceilOut(Wd, win.kw, win.sx, win.pl + win.pr) !== OW) {
      v.fail("UNSUPPORTED_ATTR", "ceil_mode=1 adds partial windows (canonical MaxPool floors)");
    }
  }
  OH = Math.max(OH, 0);
  OW = Math.max(OW, 0);
  const out = v.output();
  if (!avg) {
    if (win.pt >= win.kh || win.pb >= win.kh || win.pl >= win.kw || win.pr >= win.kw) v.fail("UNSUPPORTED_ATTR", "pads as large as the kernel (a window of padding only)");
    v.emit({ kind: "maxpool", name: v.label, op: v.op, out, outShape: [1, C, OH, OW], x: v.inputs()[0]!, win });
    return;
  }
  // Average pooling is a depthwise convolution with weights 1/(kh·kw): exact in canonical
  // form when padded elements count (or there is no padding).
  const padded = win.pt + win.pl + win.pb + win.pr > 0;
  if (padded && attrInt(v.n, "count_include_pad", 0) === 0) v.fail("UNSUPPORTED_ATTR", "count_include_pad=0 with padding (the divisor varies per window)");
  const W = new Float64Array(C * win.kh * win.kw).fill(1 / (win.kh * win.kw));
  v.emit({
    kind: "conv", name: v.label, op: v.op, out, outShape: [1, C, OH, OW], x: v.inputs()[0]!,
    C, H, Wd, M: C, group: C, win, W, B: new Float64Array(C), act: NO_ACT,
  });
}

/**
 * ReduceMean/ReduceSum over a contiguous block of axes: a depthwise convolution. The input is
 * viewed as [1, outer, reduced, inner] (a reshape: no data moves), each of the `outer` channels
 * sums its `reduced` rows with weights 1 (Sum) or 1/reduced (Mean) into [1, outer, 1, inner],
 * viewed back as the output shape. Exact like any CONV (the planner's weights and shifts). ReduceMax
 * is a MAXPOOL over the same view.
 */
function loadReduce(v: NodeView): void {
  const ins = v.inputs();
  const x = v.tensor(ins[0]!);
  const axesFromInput = v.op === "ReduceSum" ? v.ctx.opset >= 13 : v.ctx.opset >= 18;
  const max = v.op === "ReduceMax";
  v.attrs(axesFromInput ? ["keepdims", "noop_with_empty_axes"] : ["axes", "keepdims"]);
  const given = axesFromInput ? (ins[1] ? Array.from(v.constOf(ins[1], "axes").values) : []) : (attrInts(v.n, "axes") ?? []);
  if (given.length === 0 && attrInt(v.n, "noop_with_empty_axes", 0) === 1) {
    v.emit({ kind: "reshape", name: v.label, op: v.op, out: v.output(), outShape: x, x: ins[0]! });
    return;
  }
  const rank = x.length;
  const axes = new Set((given.length > 0 ? given : x.map((_, k) => k)).map((a) => (a < 0 ? a + rank : a)));
  if ([...axes].some((a) => a < 0 || a >= rank)) v.fail("UNSUPPORTED_ATTR", `axes ${shapeStr(given)} are out of range for rank ${rank}`);
  // Axes of size 1 change nothing; the others must be one contiguous block.
  const big = x.map((d, k) => ({ k, d, reduced: axes.has(k) })).filter((e) => e.d > 1);
  const first = big.findIndex((e) => e.reduced);
  const last = big.length - 1 - [...big].reverse().findIndex((e) => e.reduced);
  if (first >= 0 && big.slice(first, last + 1).some((e) => !e.reduced)) {
    v.fail("UNSUPPORTED_ATTR", `axes ${shapeStr(given)} of ${shapeStr(x)} are not one contiguous block (only such a reduction is a convolution)`);
  }
  const keep = attrInt(v.n, "keepdims", 1) === 1;
  const outShape = keep ? x.map((d, k) => (axes.has(k) ? 1 : d)) : x.filter((_, k) => !axes.has(k));
  const out = v.output();
  if (first < 0) {
    v.emit({ kind: "reshape", name: v.label, op: v.op, out, outShape, x: ins[0]! });
    return;
  }
  const product = (es: readonly { d: number }[]): number => es.reduce((p, e) => p * e.d, 1);
  const outer = product(big.slice(0, first));
  const reduced = product(big.slice(first, last + 1));
  const inner = product(big.slice(last + 1));
  const view = `${out}::view`;
  const sum = `${out}::sum`;
  v.emit({ kind: "reshape", name: v.label, op: v.op, out: view, outShape: [1, outer, reduced, inner], x: ins[0]! });
  const win = { kh: reduced, kw: 1, sy: 1, sx: 1, pt: 0, pl: 0, pb: 0, pr: 0 };
  if (max) v.emit({ kind: "maxpool", name: v.label, op: v.op, out: sum, outShape: [1, outer, 1, inner], x: view, win });
  else {
    const W = new Float64Array(outer * reduced).fill(v.op === "ReduceMean" ? 1 / reduced : 1);
    v.emit({
      kind: "conv", name: v.label, op: v.op, out: sum, outShape: [1, outer, 1, inner], x: view,
      C: outer, H: reduced, Wd: inner, M: outer, group: outer, win, W, B: new Float64Array(outer), act: NO_ACT, wideInput: true,
    });
  }
  v.emit({ kind: "reshape", name: v.label, op: v.op, out, outShape, x: sum });
  if (v.op === "ReduceMean" && keep && inner === 1 && big[big.length - 1]?.reduced && first === last) v.ctx.meanOf.set(out, ins[0]!);
}

function loadReshape(v: NodeView): void {
  const ins = v.inputs();
  const x = v.tensor(ins[0]!);
  let shape: number[] | undefined;
  if (v.op === "Flatten") {
    v.attrs(["axis"]);
    shape = flattenShape(x, attrInt(v.n, "axis", 1));
  } else {
    v.attrs(["allowzero"]);
    const t = Array.from(v.constOf(ins[1]!, "shape").values);
    if (attrInt(v.n, "allowzero", 0) === 1 && t.includes(0)) v.fail("UNSUPPORTED_ATTR", "allowzero=1 with a 0 in the shape");
    shape = reshapeShape(x, t);
    if (!shape) v.fail("SHAPE", `cannot reshape ${shapeStr(x)} to ${shapeStr(t)}`);
  }
  v.emit({ kind: "reshape", name: v.label, op: v.op, out: v.output(), outShape: shape, x: ins[0]! });
  if (v.ctx.integral.has(ins[0]!)) v.ctx.integral.add(v.output());
}

function loadBatchNorm(v: NodeView): void {
  v.attrs(["epsilon", "momentum", "training_mode", "spatial"]);
  if (attrInt(v.n, "training_mode", 0) !== 0) v.fail("UNSUPPORTED_ATTR", "training_mode=1");
  if ((v.n.output ?? []).filter((o) => o).length > 1) v.fail("UNSUPPORTED_ATTR", "running statistics outputs");
  const ins = v.inputs();
  const x = v.tensor(ins[0]!);
  const C = x[1]!;
  const [g, b, mean, varc] = [1, 2, 3, 4].map((k) => v.constOf(ins[k]!, ["", "scale", "B", "mean", "var"][k]!).values);
  if ([g, b, mean, varc].some((a) => a!.length !== C)) v.fail("SHAPE", `statistics must have ${C} values`);
  const eps = attrFloat(v.n, "epsilon", 1e-5);
  // y = g·(x − mean)/sqrt(var + eps) + b = x·f + (b − mean·f): a per-channel Mul then Add.
  const f = new Float64Array(C).map((_, c) => g![c]! / Math.sqrt(varc![c]! + eps));
  const h = new Float64Array(C).map((_, c) => b![c]! - mean![c]! * f[c]!);
  const mid = `${v.output()}/bn_scaled`;
  v.emit({ kind: "mulc", name: v.label, op: v.op, out: mid, outShape: x, x: ins[0]!, c: f, act: NO_ACT });
  v.emit({ kind: "addc", name: v.label, op: v.op, out: v.output(), outShape: x, x: mid, c: h, act: NO_ACT });
}

function loadNode(v: NodeView): void {
  const op = v.op;
  switch (op) {
    case "Gemm": return loadGemm(v);
    case "MatMul": return loadMatMul(v);
    case "Conv": return loadConv(v);
    case "Add": case "Sub": case "Mul": case "Div": return loadBinary(v);
    case "Relu":
      v.attrs([]);
      return v.emit({ kind: "clamp", name: v.label, op, out: v.output(), outShape: v.tensor(v.inputs()[0]!), x: v.inputs()[0]!, act: { lo: 0, hi: Infinity } });
    case "Clip":
      return v.emit({ kind: "clamp", name: v.label, op, out: v.output(), outShape: v.tensor(v.inputs()[0]!), x: v.inputs()[0]!, act: clampOf(v) });
    case "MaxPool": case "GlobalMaxPool": case "AveragePool": case "GlobalAveragePool": return loadPool(v);
    case "Flatten": case "Reshape": return loadReshape(v);
    case "Squeeze": case "Unsqueeze": return loadSqueeze(v);
    case "ReduceMean": case "ReduceSum": case "ReduceMax": return loadReduce(v);
    case "Cast": {
      // A computed tensor is float already: a Cast to float (LayerNorm's stash_type) changes nothing.
      v.attrs(["to", "saturate"]);
      const to = attrInt(v.n, "to", 0);
      const x = v.inputs()[0]!;
      if (INDEX_TYPES.has(to) && (v.ctx.integral.has(x) || x === v.ctx.inputName)) {
        // Token ids cast to an integer type: the input is taken to hold integers (scale 1, exact).
        if (x === v.ctx.inputName) v.ctx.integerInput ??= {};
        v.ctx.integral.add(x);
      } else if (to !== 1) {
        v.fail("UNSUPPORTED_ATTR", `to=${to}: a computed tensor can only be cast to float (1), or the graph input (token ids) to int32 / int64`);
      }
      v.ctx.alias.set(v.output(), x);
      return;
    }
    case "BatchNormalization": return loadBatchNorm(v);
    case "Softmax": case "LogSoftmax": return loadSoftmax(v);
    case "GatherElements": return loadGatherElements(v);
    case "LayerNormalization": return loadLayerNorm(v);
    case "Gather": {
      const ins = v.inputs();
      if (v.isConst(ins[0]!) && ins[1] !== undefined && !v.isConst(ins[1])) return loadEmbedding(v);
      return loadMove(v);
    }
    case "Transpose": case "Concat": case "Slice": case "Split": case "Expand": case "Pad": case "Tile": return loadMove(v);
    case "ConvTranspose": return loadConvTranspose(v);
    case "Resize": case "Upsample": return loadResize(v);
    case "DepthToSpace": case "SpaceToDepth": return loadDepthSpace(v);
    case "Identity": case "Dropout": {
      const outs = (v.n.output ?? []).filter((o) => o);
      if (outs.length !== 1) v.fail("UNSUPPORTED_ATTR", "Dropout mask output");
      v.ctx.alias.set(outs[0]!, v.inputs()[0]!);
      return;
    }
    default:
      if (LUT_OP_NAMES.includes(op)) return loadLut(v);
      // unsupportedNodes() has refused every other op before any node is loaded.
      v.fail("UNSUPPORTED_OP", `op "${op}" has no canonical lowering (supported: ${SUPPORTED_OPS.join(", ")})`);
  }
}

/** The scalar value of a constant, if `name` is one (initializer or Constant node). */
function scalarOf(ctx: Ctx, name: string): number | undefined {
  const c = ctx.consts.get(name);
  return c && c.values.length === 1 ? c.values[0] : undefined;
}

/** A unary activation alone: a LUT of its function. */
function loadLut(v: NodeView): void {
  v.attrs(attributesOf(v.op, v.ctx.opset));
  const ins = v.inputs();
  if (v.op === "Pow") {
    if (ins.length !== 2 || scalarOf(v.ctx, ins[1]!) === undefined) v.fail("NOT_CONSTANT", "the exponent must be a scalar constant (Pow of two computed tensors is not supported)");
  } else if (ins.length !== 1) {
    v.fail("SHAPE", `expected 1 input, got ${ins.length}`);
  }
  let f: (x: number) => number;
  try {
    f = unaryFunction(v.n, (name) => scalarOf(v.ctx, v.ctx.alias.get(name) ?? name));
  } catch (e) {
    if (e instanceof ElementwiseError) v.fail("UNSUPPORTED_ATTR", e.message);
    throw e;
  }
  v.emit({ kind: "lut", name: v.label, op: v.op, out: v.output(), outShape: v.tensor(ins[0]!), x: ins[0]!, fn: { name: v.op, f }, act: NO_ACT });
}

/** A fused elementwise subgraph: one LUT of its root, emitted where its output is computed. */
function loadGroup(v: NodeView, g: ElementwiseGroup): void {
  const x = v.ctx.alias.get(g.root) ?? g.root;
  v.emit({ kind: "lut", name: v.label, op: g.fn.name, out: g.output, outShape: v.tensor(x), x, fn: g.fn, act: NO_ACT });
}

function readConst(t: ITensorProto, where: string, name: string): Const {
  try {
    return { values: tensorValues(t, where), dims: tensorDims(t), int: INT_TYPES.has(t.dataType ?? 1) };
  } catch (e) {
    throw new ConvertError("NOT_CONSTANT", name, "initializer", e instanceof Error ? e.message : String(e));
  }
}

/**
 * The nodes whose op the converter cannot lower (other domains included), in graph order. A shape
 * op (SHAPE_OPS) counts as lowered when everything it reads is constant, or computed from
 * constants and shapes only; the graph's initializers are `constants`.
 */
export function unsupportedNodes(nodes: readonly INodeProto[], constants: ReadonlySet<string>): UnsupportedNode[] {
  const known = new Set(constants);
  const out: UnsupportedNode[] = [];
  nodes.forEach((n, i) => {
    const op = n.opType ?? "?";
    const foreign = isForeign(n);
    const ins = (n.input ?? []).filter((t) => t !== "");
    const folds = !foreign && (op === "Constant" || op === "Shape" || (FOLDABLE_OPS.has(op) && ins.every((t) => known.has(t))));
    if (folds) for (const o of n.output ?? []) known.add(o);
    if (foreign || (!SUPPORTED_OPS.includes(op) && !folds)) out.push({ node: nodeLabel(n, i), op: opLabel(n) });
  });
  return out;
}

/** A node that reads constants (and static shapes) only: evaluated, its output one more constant. */
function tryFold(v: NodeView): boolean {
  const op = v.op;
  if (!FOLDABLE_OPS.has(op)) return false;
  const ins = (v.n.input ?? []).map((t) => (t === "" ? "" : (v.ctx.alias.get(t) ?? t)));
  const shapeOnly = op === "Shape" && v.ctx.shapes.has(ins[0] ?? "");
  if (!shapeOnly && !ins.every((t) => t === "" || v.ctx.consts.has(t))) return false;
  v.attrs(FOLD_ATTRS[op] ?? []);
  try {
    const c = evalConstant(v.n, ins.map((t) => (t === "" ? undefined : v.ctx.consts.get(t))), v.ctx.opset, (t) => v.ctx.shapes.get(t));
    v.ctx.consts.set(v.output(), c);
  } catch (e) {
    if (e instanceof FoldError) v.fail("SHAPE", `cannot evaluate it on its constant inputs: ${e.message}`);
    throw e;
  }
  return true;
}

/** Squeeze/Unsqueeze of a computed tensor: a view, like Reshape. */
function loadSqueeze(v: NodeView): void {
  v.attrs(["axes"]);
  const ins = v.inputs();
  const x = v.tensor(ins[0]!);
  const axes = v.ctx.opset >= 13 && ins[1] ? v.constOf(ins[1], "axes") : undefined;
  let shape: readonly number[];
  try {
    shape = squeezeShape(v.n, x, axes, v.ctx.opset);
  } catch (e) {
    if (e instanceof FoldError) v.fail("SHAPE", e.message);
    throw e;
  }
  v.emit({ kind: "reshape", name: v.label, op: v.op, out: v.output(), outShape: shape, x: ins[0]! });
  if (v.ctx.integral.has(ins[0]!)) v.ctx.integral.add(v.output());
}

/** What `convertModel` may say about the graph input. */
export interface LoadOptions {
  /** The input's shape, binding what the file leaves dynamic (it must agree with every fixed dimension). */
  readonly inputShape?: readonly number[];
  /** The input's name, when the user gave one with the shape. */
  readonly inputName?: string;
  /** The longest LUT the plan may write (default 65536): an embedding table larger than that is refused. */
  readonly maxLutSize?: number;
}

/** The input's static shape: the file's, with its dynamic dimensions bound by `bound`. */
function inputShapeOf(name: string, declared: readonly (number | undefined)[] | undefined, bound: readonly number[] | undefined): number[] {
  const fail = (why: string): never => {
    throw new ConvertError("SHAPE", name, "graph input", why);
  };
  if (bound) {
    if (declared && declared.length !== bound.length) fail(`the bound shape ${shapeStr(bound)} has rank ${bound.length}; the file declares ${shapeStr(declared)}`);
    declared?.forEach((d, k) => {
      if (d !== undefined && d !== bound[k]) fail(`the bound shape ${shapeStr(bound)} does not fit the declared ${shapeStr(declared)}: dimension ${k} is ${d}`);
    });
    if (bound.length < 2 || bound[0] !== 1) fail(`the bound shape ${shapeStr(bound)}; a static [1, ...] shape of rank >= 2 is required (batch 1)`);
    return [...bound];
  }
  if (!declared || declared.some((d) => d === undefined) || declared.length < 2 || declared[0] !== 1) {
    const hint = declared?.some((d) => d === undefined)
      ? `; bind its dynamic dimensions with --input-shape (e.g. --input-shape ${declared.map((d, k) => d ?? (k === 0 ? 1 : "N")).join(",")})`
      : "";
    fail(`shape ${declared ? shapeStr(declared) : "(none)"}; a static [1, ...] shape of rank >= 2 is required (batch 1)${hint}`);
  }
  return declared as number[];
}

/**
 * Parse float ONNX bytes into the IR. Throws ConvertError naming the node and op. What a user must
 * know first comes first: a file that is already canonical, then every unsupported op at once
 * (a shape problem is only worth fixing for a model whose ops can be converted), then the rest.
 */
export function loadFloatModel(bytes: Uint8Array, options: LoadOptions = {}): IrGraph {
  const proto = decodeModel(bytes);
  const graph = proto.graph!;
  const format = (proto.metadataProps ?? []).find((p) => p.key === FORMAT_KEY)?.value;
  if (format) {
    throw new ConvertError(
      "ALREADY_CANONICAL", "", "", `it is a canonical model already (metadata ${FORMAT_KEY} is "${format}"): it needs no conversion; \`model inspect\`, \`model run\` and \`model register\` take it as it is`, "model",
    );
  }
  const unsupported = unsupportedNodes(graph.node ?? [], new Set((graph.initializer ?? []).map((t) => t.name ?? "")));
  if (unsupported.length > 0) throw new UnsupportedOpsError(unsupported, SUPPORTED_OPS, SHAPE_OPS);
  const imp = (proto.opsetImport ?? []).find((o) => !o.domain || o.domain === "ai.onnx");
  const ctx: Ctx = {
    consts: new Map(), shapes: new Map(), alias: new Map(), nodes: [], opset: imp ? toNumber(imp.version) : 13, meanOf: new Map(), constNodes: new Map(),
    integral: new Set(), maxLutSize: options.maxLutSize ?? 65536, inputName: "",
  };
  for (const t of graph.initializer ?? []) ctx.consts.set(t.name ?? "", readConst(t, "initializer", t.name ?? ""));
  const inputs = (graph.input ?? []).filter((i) => !ctx.consts.has(i.name ?? ""));
  if (inputs.length !== 1) {
    throw new ConvertError("SHAPE", inputs.map((i) => i.name).join(", ") || "(none)", "graph input", `a convertible model has exactly one non-constant graph input; this one has ${inputs.length}`);
  }
  const input = inputs[0]!;
  const inName = input.name ?? "";
  if (options.inputName !== undefined && options.inputName !== inName) {
    throw new ConvertError("SHAPE", options.inputName, "graph input", `the model has no input of that name; its input is "${inName}"`);
  }
  const inShape = inputShapeOf(inName, valueInfoShape(input), options.inputShape);
  const elem = input.type?.tensorType?.elemType ?? 0;
  if (elem !== 1 && !INDEX_TYPES.has(elem)) {
    throw new ConvertError("SHAPE", inName, "graph input", `element type ${elem}; the converter takes float32 inputs (type 1), or int32 / int64 token ids (6, 7)`);
  }
  ctx.shapes.set(inName, inShape);
  ctx.inputName = inName;
  if (INDEX_TYPES.has(elem)) {
    ctx.integerInput = {};
    ctx.integral.add(inName);
  }
  const nodes = graph.node ?? [];
  // Constants first: a fused subgraph's scalars may come from Constant nodes.
  nodes.forEach((n, i) => {
    if (n.opType !== "Constant") return;
    const v: NodeView = new NodeView(ctx, n, nodeLabel(n, i));
    const t = (n.attribute ?? []).find((a) => a.name === "value")?.t;
    if (!t) v.fail("UNSUPPORTED_ATTR", "only Constant with a tensor 'value' is supported");
    ctx.consts.set(v.output(), readConst(t, "Constant", v.label));
  });
  const outputs = new Set((graph.output ?? []).map((o) => o.name ?? ""));
  let groups: ElementwiseGroup[];
  try {
    groups = elementwiseGroups(nodes, (name) => scalarOf(ctx, name), ctx.opset, outputs).filter((g) => !ctx.consts.has(g.root));
  } catch (e) {
    if (!(e instanceof ElementwiseError) || e.node === undefined) throw e;
    const v: NodeView = new NodeView(ctx, nodes[e.node]!, nodeLabel(nodes[e.node]!, e.node));
    v.fail("UNSUPPORTED_ATTR", e.message);
  }
  const groupOf = new Map<number, ElementwiseGroup>();
  for (const g of groups) {
    for (const i of g.nodes) {
      // A fused node is checked like one loaded alone: no attribute it does not understand.
      new NodeView(ctx, nodes[i]!, nodeLabel(nodes[i]!, i)).attrs(attributesOf(nodes[i]!.opType ?? "", ctx.opset));
      groupOf.set(i, g);
    }
  }
  nodes.forEach((n, i) => {
    if (n.opType === "Constant") return;
    const g = groupOf.get(i);
    // A subgraph computed on constants (an attention scale from Shape, say) is evaluated instead.
    if (g && !ctx.consts.has(ctx.alias.get(g.root) ?? g.root)) {
      // The subgraph is one LUT, emitted at its last node (which computes its output).
      if (i === g.nodes[g.nodes.length - 1]) loadGroup(new NodeView(ctx, n, groupLabel(nodes, g)), g);
      return;
    }
    const v = new NodeView(ctx, n, nodeLabel(n, i));
    if (!tryFold(v)) loadNode(v);
  });
  const outs = graph.output ?? [];
  if (outs.length !== 1) throw new ConvertError("SHAPE", outs.map((o) => o.name).join(", "), "graph output", `exactly one graph output is supported; got ${outs.length}`);
  const outName = outs[0]!.name ?? "";
  const output = ctx.alias.get(outName) ?? outName;
  if (!ctx.nodes.some((n) => n.out === output)) throw new ConvertError("SHAPE", outName, "graph output", "the graph output is not computed by any supported node");
  return { input: inName, inputShape: inShape, output, nodes: ctx.nodes, ...(ctx.integerInput ? { integerInput: ctx.integerInput } : {}) };
}

