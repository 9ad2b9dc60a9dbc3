/**
 * Shape arithmetic, evaluated at conversion. Exporters compute shapes in the graph (a Reshape's
 * target from Shape → Gather → Unsqueeze → Concat, an attention scale from Shape → Cast → Sqrt):
 * once the input's shape is static, every such node reads constants only, so the converter
 * evaluates it and keeps its output as one more constant. No canonical layer is left of it.
 */
import type { INodeProto } from "../model/onnx.js";
import { attrFloat, attrInt, attrInts, attrString, tensorDims, tensorValues } from "../model/onnx.js";

/** A constant tensor, as the converter holds it: float64 values, row-major, and whether it is integer-typed. */
export interface Const {
  readonly values: Float64Array;
  readonly dims: readonly number[];
  /** Integer-typed (ONNX int*, uint*, bool): Div truncates, Cast to it truncates. */
  readonly int?: boolean;
}

/** Ops evaluated when every input is a constant (Shape: when its input's shape is known). */
export const FOLDABLE_OPS: ReadonlySet<string> = new Set([
  "Shape", "Size", "Gather", "Unsqueeze", "Squeeze", "Concat", "Cast", "ConstantOfShape", "Range", "Slice",
  "Reshape", "Expand", "Identity", "Add", "Sub", "Mul", "Div", "Neg", "Equal", "Where", "Floor", "Ceil",
  "Sqrt", "Min", "Max", "Pow", "Transpose", "Pad", "Tile", "Flatten",
]);

/** Why a node could not be evaluated (the caller names the node). */
export class FoldError extends Error {}

/** ONNX integer and bool element types (their values fold with integer semantics). */
export const INT_TYPES: ReadonlySet<number> = new Set([2, 3, 4, 5, 6, 7, 9, 12, 13]);

const numel = (dims: readonly number[]): number => dims.reduce((a, b) => a * b, 1);

export function strides(dims: readonly number[]): number[] {
  const s = new Array<number>(dims.length).fill(1);
  for (let k = dims.length - 2; k >= 0; k--) s[k] = s[k + 1]! * dims[k + 1]!;
  return s;
}

/** NumPy broadcasting of `shapes` to one shape (FoldError when they do not broadcast). */
export function broadcastShape(shapes: readonly (readonly number[])[]): number[] {
  const rank = Math.max(...shapes.map((s) => s.length));
  return Array.from({ length: rank }, (_, k) => {
    const dims = shapes.map((s) => s[k - (rank - s.length)] ?? 1);
    const big = Math.max(...dims);
    if (dims.some((d) => d !== 1 && d !== big)) throw new FoldError(`shapes ${shapes.map((s) => `[${s.join(",")}]`).join(" and ")} do not broadcast`);
    return big;
  });
}

/** Values of `c` read at every index of `shape` (broadcast). */
export function expandTo(c: Const, shape: readonly number[]): Float64Array {
  const out = new Float64Array(numel(shape));
  const os = strides(shape);
  const off = shape.length - c.dims.length;
  const cs = strides(c.dims);
  for (let i = 0; i < out.length; i++) {
    let src = 0;
    for (let k = 0; k < c.dims.length; k++) {
      const idx = Math.floor(i / os[k + off]!) % shape[k + off]!;
      src += (c.dims[k] === 1 ? 0 : idx) * cs[k]!;
    }
    out[i] = c.values[src]!;
  }
  return out;
}

function elementwise(ins: readonly Const[], f: (...v: number[]) => number, int: boolean): Const {
  const shape = broadcastShape(ins.map((c) => c.dims));
  const vals = ins.map((c) => expandTo(c, shape));
  const out = new Float64Array(numel(shape));
  for (let i = 0; i < out.length; i++) out[i] = f(...vals.map((v) => v[i]!));
  return { values: out, dims: shape, int };
}

const axisOf = (axis: number, rank: number): number => {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) throw new FoldError(`axis ${axis} is out of range for rank ${rank}`);
  return a;
};

/** The `k`-th input as a list of integers (an axes, shape or index input). */
const ints = (c: Const | undefined): number[] => (c ? Array.from(c.values, (v) => Math.trunc(v)) : []);

/** Gathers along `axis`: out[..., j, ...] = data[..., idx[j], ...]. */
function gather(data: Const, idx: Const, axis: number): Const {
  const a = axisOf(axis, data.dims.length);
  const outer = numel(data.dims.slice(0, a));
  const inner = numel(data.dims.slice(a + 1));
  const n = data.dims[a]!;
  const picks = Array.from(idx.values, (v) => {
    const j = v < 0 ? v + n : v;
    if (j < 0 || j >= n) throw new FoldError(`index ${v} is out of range for a dimension of ${n}`);
    return j;
  });
  const out = new Float64Array(outer * picks.length * inner);
  let o = 0;
  for (let p = 0; p < outer; p++) for (const j of picks) for (let q = 0; q < inner; q++) out[o++] = data.values[(p * n + j) * inner + q]!;
  return { values: out, dims: [...data.dims.slice(0, a), ...idx.dims, ...data.dims.slice(a + 1)], int: data.int };
}

function slice(data: Const, starts: number[], ends: number[], axes: number[], steps: number[]): Const {
  const rank = data.dims.length;
  const lo = data.dims.map(() => 0);
  const step = data.dims.map(() => 1);
  const count = [...data.dims];
  starts.forEach((s, k) => {
    const a = axisOf(axes[k] ?? k, rank);
    const d = data.dims[a]!;
    const st = steps[k] ?? 1;
    if (st === 0) throw new FoldError("a slice step of 0");
    const clampIdx = (v: number, hiInclusive: boolean): number => {
      const w = v < 0 ? v + d : v;
      return st > 0 ? Math.min(Math.max(w, 0), d) : Math.min(Math.max(w, -1), hiInclusive ? d - 1 : d);
    };
    const b = clampIdx(s, true);
    const e = clampIdx(ends[k]!, false);
    lo[a] = b;
    step[a] = st;
    count[a] = Math.max(0, Math.ceil((e - b) / st));
  });
  const out = new Float64Array(numel(count));
  const os = strides(count);
  const is = strides(data.dims);
  for (let i = 0; i < out.length; i++) {
    let src = 0;
    for (let k = 0; k < rank; k++) src += (lo[k]! + (Math.floor(i / os[k]!) % count[k]!) * step[k]!) * is[k]!;
    out[i] = data.values[src]!;
  }
  return { values: out, dims: count, int: data.int };
}

function concat(ins: readonly Const[], axis: number): Const {
  const rank = ins[0]!.dims.length;
  const a = axisOf(axis, rank);
  for (const c of ins) {
    if (c.dims.length !== rank || c.dims.some((d, k) => k !== a && d !== ins[0]!.dims[k])) {
      throw new FoldError(`inputs of shapes ${ins.map((x) => `[${x.dims.join(",")}]`).join(" and ")} differ outside axis ${axis}`);
    }
  }
  const outer = numel(ins[0]!.dims.slice(0, a));
  const dims = [...ins[0]!.dims];
  dims[a] = ins.reduce((s, c) => s + c.dims[a]!, 0);
  const out = new Float64Array(numel(dims));
  let o = 0;
  for (let p = 0; p < outer; p++) {
    for (const c of ins) {
      const block = numel(c.dims.slice(a));
      out.set(c.values.subarray(p * block, (p + 1) * block), o);
      o += block;
    }
  }
  return { values: out, dims, int: ins.every((c) => c.int) };
}

function transpose(d: Const, permAttr: readonly number[] | undefined): Const {
  const rank = d.dims.length;
  const perm = permAttr ?? d.dims.map((_, k) => rank - 1 - k);
  if (perm.length !== rank || new Set(perm.map((a) => axisOf(a, rank))).size !== rank) throw new FoldError(`perm [${perm.join(",")}] is not a permutation of ${rank} axes`);
  const p = perm.map((a) => axisOf(a, rank));
  const dims = p.map((a) => d.dims[a]!);
  const is = strides(d.dims);
  const os = strides(dims);
  const out = new Float64Array(d.values.length);
  for (let i = 0; i < out.length; i++) {
    let src = 0;
    for (let k = 0; k < rank; k++) src += (Math.floor(i / os[k]!) % dims[k]!) * is[p[k]!]!;
    out[i] = d.values[src]!;
  }
  return { values: out, dims, int: d.int };
}

/** Pad with a constant (`pads` = begins then ends, negative crops), the ONNX Pad of mode "constant". */
export function padConstant(d: Const, pads: readonly number[], value: number, axesGiven?: readonly number[]): Const {
  const rank = d.dims.length;
  const axes = axesGiven && axesGiven.length > 0 ? axesGiven.map((a) => axisOf(a, rank)) : d.dims.map((_, k) => k);
  if (pads.length !== 2 * axes.length) throw new FoldError(`pads has ${pads.length} values for ${axes.length} axes`);
  const begin = d.dims.map(() => 0);
  const end = d.dims.map(() => 0);
  axes.forEach((a, k) => {
    begin[a] = pads[k]!;
    end[a] = pads[k + axes.length]!;
  });
  const dims = d.dims.map((n, k) => n + begin[k]! + end[k]!);
  if (dims.some((n) => n < 0)) throw new FoldError("pads crop more than the whole dimension");
  const is = strides(d.dims);
  const os = strides(dims);
  const out = new Float64Array(numel(dims));
  for (let i = 0; i < out.length; i++) {
    let src = 0;
    let inside = true;
    for (let k = 0; k < rank; k++) {
      const j = (Math.floor(i / os[k]!) % dims[k]!) - begin[k]!;
      if (j < 0 || j >= d.dims[k]!) inside = false;
      src += j * is[k]!;
    }
    out[i] = inside ? d.values[src]! : value;
  }
  return { values: out, dims, int: d.int };
}

function tile(d: Const, repeats: readonly number[]): Const {
  const rank = d.dims.length;
  if (repeats.length !== rank) throw new FoldError(`repeats has ${repeats.length} values for rank ${rank}`);
  const dims = d.dims.map((n, k) => n * repeats[k]!);
  const is = strides(d.dims);
  const os = strides(dims);
  const out = new Float64Array(numel(dims));
  for (let i = 0; i < out.length; i++) {
    let src = 0;
    for (let k = 0; k < rank; k++) src += ((Math.floor(i / os[k]!) % dims[k]!) % d.dims[k]!) * is[k]!;
    out[i] = d.values[src]!;
  }
  return { values: out, dims, int: d.int };
}

/** Split's outputs along `axis` with the given sizes (equal parts when `sizes` is empty). */
export function splitConst(d: Const, axis: number, sizes: readonly number[], outputs: number): Const[] {
  const a = axisOf(axis, d.dims.length);
  const n = d.dims[a]!;
  let parts = [...sizes];
  if (parts.length === 0) {
    // Equal parts; opset 18's num_outputs makes the last one smaller when n does not divide.
    const each = Math.ceil(n / outputs);
    parts = Array.from({ length: outputs }, (_, k) => Math.max(0, Math.min(each, n - k * each)));
  }
  if (parts.length !== outputs || parts.reduce((x, y) => x + y, 0) !== n) throw new FoldError(`split sizes [${parts.join(",")}] do not add up to the dimension ${n}`);
  let at = 0;
  return parts.map((p) => {
    const ends = d.dims.map((m) => m);
    const starts = d.dims.map(() => 0);
    starts[a] = at;
    ends[a] = at + p;
    at += p;
    return slice(d, starts, ends, d.dims.map((_, k) => k), []);
  });
}

function reshapeTo(dims: readonly number[], target: readonly number[]): number[] {
  const t = target.map((d, k) => (d === 0 ? dims[k]! : d));
  const known = t.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
  const out = t.map((d) => (d === -1 ? numel(dims) / known : d));
  if (numel(out) !== numel(dims) || !out.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new FoldError(`cannot reshape [${dims.join(",")}] to [${target.join(",")}]`);
  }
  return out;
}

/**
 * The output of node `n` from constant inputs (`ins`, undefined where an input is left out).
 * `shapeOf` gives the static shape of a computed tensor (Shape's input).
 */
export function evalConstant(n: INodeProto, ins: readonly (Const | undefined)[], opset: number, shapeOf: (name: string) => readonly number[] | undefined): Const {
  const op = n.opType ?? "";
  const x = ins[0];
  const need = (c: Const | undefined, what: string): Const => {
    if (!c) throw new FoldError(`${what} is missing`);
    return c;
  };
  switch (op) {
    case "Shape": {
      const s = x?.dims ?? shapeOf((n.input ?? [])[0] ?? "");
      if (!s) throw new FoldError("its input has no static shape");
      const rank = s.length;
      const start = axisClamp(attrInt(n, "start", 0), rank);
      const end = axisClamp(attrInt(n, "end", rank), rank);
      return { values: Float64Array.from(s.slice(start, end)), dims: [Math.max(0, end - start)], int: true };
    }
    case "Size":
      return { values: Float64Array.of(numel(need(x, "the input").dims)), dims: [], int: true };
    case "Identity":
      return need(x, "the input");
    case "Gather":
      return gather(need(x, "the data"), need(ins[1], "the indices"), attrInt(n, "axis", 0));
    case "Unsqueeze": {
      const d = need(x, "the input");
      const axes = opset >= 13 ? ints(ins[1]) : (attrInts(n, "axes") ?? []);
      const rank = d.dims.length + axes.length;
      const at = new Set(axes.map((a) => axisOf(a, rank)));
      const dims: number[] = [];
      let k = 0;
      for (let i = 0; i < rank; i++) dims.push(at.has(i) ? 1 : d.dims[k++]!);
      return { ...d, dims };
    }
    case "Squeeze": {
      const d = need(x, "the input");
      const given = opset >= 13 ? ints(ins[1]) : (attrInts(n, "axes") ?? []);
      const axes = new Set(given.length > 0 ? given.map((a) => axisOf(a, d.dims.length)) : d.dims.flatMap((v, i) => (v === 1 ? [i] : [])));
      return { ...d, dims: d.dims.filter((_, i) => !axes.has(i)) };
    }
    case "Concat":
      return concat(ins.map((c, k) => need(c, `input ${k}`)), attrInt(n, "axis", 0));
    case "Cast": {
      const d = need(x, "the input");
      const to = attrInt(n, "to", 1);
      const int = INT_TYPES.has(to);
      const cast = to === 9 ? (v: number) => (v !== 0 ? 1 : 0) : int ? Math.trunc : to === 1 ? Math.fround : (v: number) => v;
      return { values: d.values.map(cast), dims: d.dims, int };
    }
    case "ConstantOfShape": {
      const dims = ints(need(x, "the shape"));
      const t = (n.attribute ?? []).find((a) => a.name === "value")?.t;
      const v = t ? tensorValues(t, "ConstantOfShape value")[0]! : 0;
      const int = t ? INT_TYPES.has(t.dataType ?? 1) : false;
      if (t && tensorDims(t).reduce((a, b) => a * b, 1) !== 1) throw new FoldError("its value must hold one element");
      return { values: new Float64Array(numel(dims)).fill(v), dims, int };
    }
    case "Range": {
      const [start, limit, delta] = [0, 1, 2].map((k) => need(ins[k], `input ${k}`).values[0]!);
      const count = Math.max(Math.ceil((limit! - start!) / delta!), 0);
      return { values: Float64Array.from({ length: count }, (_, i) => start! + i * delta!), dims: [count], int: ins.every((c) => c?.int) };
    }
    case "Slice": {
      const d = need(x, "the data");
      if (opset < 10) return slice(d, attrInts(n, "starts") ?? [], attrInts(n, "ends") ?? [], attrInts(n, "axes") ?? [], []);
      return slice(d, ints(ins[1]), ints(ins[2]), ints(ins[3]), ints(ins[4]));
    }
    case "Reshape": {
      const d = need(x, "the data");
      return { ...d, dims: reshapeTo(d.dims, ints(need(ins[1], "the shape"))) };
    }
    case "Expand": {
      const d = need(x, "the input");
      const shape = broadcastShape([d.dims, ints(need(ins[1], "the shape"))]);
      return { values: expandTo(d, shape), dims: shape, int: d.int };
    }
    case "Add": return elementwise([need(x, "A"), need(ins[1], "B")], (a, b) => a + b, !!(x?.int && ins[1]?.int));
    case "Sub": return elementwise([need(x, "A"), need(ins[1], "B")], (a, b) => a - b, !!(x?.int && ins[1]?.int));
    case "Mul": return elementwise([need(x, "A"), need(ins[1], "B")], (a, b) => a * b, !!(x?.int && ins[1]?.int));
    case "Div": {
      const int = !!(x?.int && ins[1]?.int);
      // Integer Div truncates toward zero, as ONNX defines it.
      return elementwise([need(x, "A"), need(ins[1], "B")], int ? (a, b) => Math.trunc(a / b) : (a, b) => a / b, int);
    }
    case "Pow": return elementwise([need(x, "X"), need(ins[1], "Y")], Math.pow, !!x?.int);
    case "Min": return elementwise(ins.map((c, k) => need(c, `input ${k}`)), Math.min, ins.every((c) => c?.int));
    case "Max": return elementwise(ins.map((c, k) => need(c, `input ${k}`)), Math.max, ins.every((c) => c?.int));
    case "Equal": return elementwise([need(x, "A"), need(ins[1], "B")], (a, b) => (a === b ? 1 : 0), true);
    case "Where": return elementwise([need(x, "the condition"), need(ins[1], "X"), need(ins[2], "Y")], (c, a, b) => (c !== 0 ? a : b), !!(ins[1]?.int && ins[2]?.int));
    case "Neg": return { ...need(x, "the input"), values: need(x, "the input").values.map((v) => -v) };
    case "Floor": return { ...need(x, "the input"), values: need(x, "the input").values.map(Math.floor) };
    case "Ceil": return { ...need(x, "the input"), values: need(x, "the input").values.map(Math.ceil) };
    case "Sqrt": return { ...need(x, "the input"), values: need(x, "the input").values.map(Math.sqrt) };
    case "Transpose": return transpose(need(x, "the input"), attrInts(n, "perm"));
    case "Flatten": {
      const d = need(x, "the input");
      const a = axisClamp(attrInt(n, "axis", 1), d.dims.length);
      return { ...d, dims: [numel(d.dims.slice(0, a)), numel(d.dims.slice(a))] };
    }
    case "Tile": return tile(need(x, "the input"), ints(need(ins[1], "the repeats")));
    case "Pad": {
      const mode = attrString(n, "mode") ?? "constant";
      if (mode !== "constant") throw new FoldError(`mode "${mode}" (only "constant" is supported)`);
      if (opset < 11) return padConstant(need(x, "the data"), attrInts(n, "pads") ?? [], attrFloat(n, "value", 0));
      const value = ins[2] && ins[2].values.length > 0 ? ins[2].values[0]! : 0;
      return padConstant(need(x, "the data"), ints(need(ins[1], "the pads")), value, ins[3] ? ints(ins[3]) : undefined);
    }
    default:
      throw new FoldError(`op "${op}" is not evaluated at conversion`);
  }
}

/** Unsqueeze's or Squeeze's output shape for an input of shape `dims` (a computed tensor's view). */
export function squeezeShape(n: INodeProto, dims: readonly number[], axes: Const | undefined, opset: number): readonly number[] {
  return evalConstant(n, [{ values: new Float64Array(0), dims }, axes], opset, () => undefined).dims;
}

/** Shape's start/end: negative counts from the end, then clamped to [0, rank]. */
function axisClamp(v: number, rank: number): number {
  return Math.min(Math.max(v < 0 ? v + rank : v, 0), rank);
}

/** The attributes of the ops evaluated here (any other is refused by name). */
export const FOLD_ATTRS: Readonly<Record<string, readonly string[]>> = {
  Shape: ["start", "end"], Gather: ["axis"], Unsqueeze: ["axes"], Squeeze: ["axes"], Concat: ["axis"], Cast: ["to", "saturate"],
  ConstantOfShape: ["value"], Slice: ["starts", "ends", "axes"], Reshape: ["allowzero"], Transpose: ["perm"], Pad: ["mode", "pads", "value"], Flatten: ["axis"],
};
