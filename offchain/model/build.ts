/**
 * Programmatic construction of canonical/1 ONNX models. Emits exactly the node patterns of
 * docs/SEMANTICS.md at opset 17 with the required metadata. It checks argument sizes but
 * not the exactness rule: parseCanonicalModel is the validator (tests build bad models on
 * purpose).
 *
 *   const bytes = new CanonicalModelBuilder([1, 1, 8, 8], [-128, 127])
 *     .conv({ weight, outChannels: 4, kernel: [3, 3], shift: 4, clip: [-128, 127] })
 *     .maxpool({ kernel: [2, 2], strides: [2, 2] })
 *     .flatten()
 *     .dense({ weight: w2, units: 10, shift: 6, clip: [-128, 127] })
 *     .build();
 */
import type { IAttributeProto, INodeProto, ITensorProto } from "./onnx.js";
import { BUILD_IR_VERSION, BUILD_OPSET, DataType, encodeModel, floatValueInfo } from "./onnx.js";
import { FORMAT_KEY, FORMAT_VALUE, INPUT_RANGE_KEY, INPUT_SCALE_KEY, OUTPUT_SCALE_KEY } from "./canonical.js";
import { flattenShape, reshapeShape, windowOut } from "./shapes.js";

export type Ints = ArrayLike<number>;
export type Pair = readonly [number, number];
export type Quad = readonly [number, number, number, number];

export interface BuilderOptions {
  inputName?: string;
  /** Real value of one input unit (metadata veritensor.input.scale). Default 1. */
  inputScale?: number;
  /** Real value of one output unit (metadata veritensor.output.scale). Default 1. */
  outputScale?: number;
  graphName?: string;
}

/** Common to every layer: which trace tensor to read (default: the latest) and a node name. */
interface LayerOpts {
  /** Trace index of the input (0 = graph input); default `builder.last`. */
  input?: number;
  /** Name of the pattern's first node (default `l<i>_<op>`). */
  name?: string;
}

interface Requant {
  /** Exponent(s) s of S = 2^-s: a scalar or one per output channel. */
  shift: number | Ints;
  clip: Pair;
}

export interface DenseSpec extends LayerOpts, Requant {
  /** W as ONNX holds it: [K, M] row-major, or [M, K] when transB. */
  weight: Ints;
  units: number;
  transB?: boolean;
  bias?: Ints;
}

export interface ConvSpec extends LayerOpts, Requant {
  /** W as [M, C/group, KH, KW] row-major. */
  weight: Ints;
  outChannels: number;
  kernel: Pair;
  bias?: Ints;
  strides?: Pair;
  /** [top, left, bottom, right] (ONNX order). */
  pads?: Quad;
  group?: number;
}

export interface AddSpec extends LayerOpts {
  /** Trace index of the second operand (same shape). */
  other?: number;
  /** Or an integer constant: scalar or one per channel. */
  constant?: number | Ints;
  shift?: number;
  clip: Pair;
}

export interface MulSpec extends LayerOpts, Requant {
  /** Integer factor C: scalar or one per channel. */
  factor: number | Ints;
}

export interface ClipSpec extends LayerOpts {
  lo: number;
  hi: number;
}

export interface MaxPoolSpec extends LayerOpts {
  kernel: Pair;
  strides?: Pair;
  pads?: Quad;
}

export interface FlattenSpec extends LayerOpts {
  axis?: number;
}

export interface ReshapeSpec extends LayerOpts {
  shape: readonly number[];
}

export interface LutSpec extends LayerOpts {
  /** Smallest input the table covers; T[x - lo] for x in [lo, lo + table.length - 1]. */
  lo: number;
  table: Ints;
}

export interface MatMulSpec extends LayerOpts {
  /** Trace index of b [1, G..., K, M]; a [1, G..., N, K] is `input` (default the latest). */
  other: number;
  /** Exponent s of S = 2^-s (one scalar). */
  shift: number;
  clip: Pair;
}

export interface ProductSpec extends LayerOpts {
  /** Trace index of b, of a's shape (may be a itself). */
  other: number;
  shift: number;
  clip: Pair;
}

export interface GatherSpec {
  /** Trace indices t_0..t_{I-1}, concatenated flat in this order (I >= 1). */
  inputs: readonly number[];
  /** One index per output element into the concatenation, in [0, Σ n_i]; Σ n_i reads 0. */
  index: Ints;
  outShape: readonly number[];
  /** Name of the pattern's Concat node (default `l<i>_gather`). */
  name?: string;
}

export interface ConstantSpec {
  /** The values in row-major order of `shape`. */
  values: Ints;
  shape: readonly number[];
  name?: string;
}

/** Escape hatch for tests: one arbitrary node reading the input tensor. */
export interface CustomSpec extends LayerOpts {
  opType: string;
  outShape: readonly number[];
  attribute?: IAttributeProto[];
  /** Extra float initializers appended as inputs after the data input. */
  extraInputs?: { values: Ints; dims: readonly number[] }[];
}

function f32Tensor(name: string, dims: readonly number[], values: Ints): ITensorProto {
  const size = dims.reduce((a, b) => a * b, 1);
  if (values.length !== size) throw new Error(`initializer ${name}: ${values.length} values for shape [${dims.join(",")}]`);
  const f = Float32Array.from(values);
  return { name, dims: [...dims], dataType: DataType.FLOAT, rawData: new Uint8Array(f.buffer) };
}

function i64Tensor(name: string, values: ArrayLike<number>): ITensorProto {
  const b = BigInt64Array.from(Array.from(values, (v) => BigInt(v)));
  return { name, dims: [values.length], dataType: DataType.INT64, rawData: new Uint8Array(b.buffer) };
}

const ints = (name: string, v: readonly number[]): IAttributeProto => ({ name, type: 7, ints: [...v] });
const int = (name: string, v: number): IAttributeProto => ({ name, type: 2, i: v });

/** A scalar or per-channel constant as ONNX dims that broadcast along axis 1 of `outShape`. */
function channelDims(v: number | Ints, outShape: readonly number[], what: string): { dims: number[]; values: Ints } {
  if (typeof v === "number") return { dims: [], values: [v] };
  const C = outShape[1]!;
  if (v.length !== C) throw new Error(`${what}: ${v.length} values, expected 1 or ${C} (channels)`);
  return { dims: [C, ...new Array<number>(outShape.length - 2).fill(1)], values: v };
}

/** A scalar or one value per unit (DENSE: the last axis of `outShape`) as ONNX dims: [] or [M]. */
function unitDims(v: number | Ints, outShape: readonly number[], what: string): { dims: number[]; values: Ints } {
  if (typeof v === "number") return { dims: [], values: [v] };
  const M = outShape[outShape.length - 1]!;
  if (v.length !== M) throw new Error(`${what}: ${v.length} values, expected 1 or ${M} (units)`);
  return { dims: [M], values: v };
}

const numelOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

export class CanonicalModelBuilder {
  private readonly nodes: INodeProto[] = [];
  private readonly inits: ITensorProto[] = [];
  /** Trace tensors: ONNX name and shape, index 0 = graph input. */
  private readonly tensors: { name: string; shape: number[] }[] = [];
  private readonly opts: Required<BuilderOptions>;
  private readonly range: Pair;

  constructor(inputShape: readonly number[], inputRange: Pair, opts: BuilderOptions = {}) {
    this.opts = {
      inputName: opts.inputName ?? "input",
      inputScale: opts.inputScale ?? 1,
      outputScale: opts.outputScale ?? 1,
      graphName: opts.graphName ?? "veritensor",
    };
    this.range = inputRange;
    this.tensors.push({ name: this.opts.inputName, shape: [...inputShape] });
  }

  /** Trace index of the latest tensor (0 = graph input before any layer). */
  get last(): number {
    return this.tensors.length - 1;
  }

  get numLayers(): number {
    return this.tensors.length - 1;
  }

  shapeOf(index: number): number[] {
    const t = this.tensors[index];
    if (!t) throw new Error(`no trace tensor ${index}`);
    return [...t.shape];
  }

  /** ONNX name of a trace tensor (graph input or layer output). */
  nameOf(index: number): string {
    const t = this.tensors[index];
    if (!t) throw new Error(`no trace tensor ${index}`);
    return t.name;
  }

  private inputOf(o: LayerOpts): { name: string; shape: number[] } {
    return this.tensors[o.input ?? this.last] ?? (() => { throw new Error(`no trace tensor ${o.input}`); })();
  }

  private prefix(o: LayerOpts, op: string): string {
    return o.name ?? `l${this.tensors.length}_${op}`;
  }

  private init(t: ITensorProto): string {
    this.inits.push(t);
    return t.name!;
  }

  private push(name: string, shape: number[]): this {
    this.tensors.push({ name, shape });
    return this;
  }

  /**
   * Mul(·, S) → Floor → Clip(·, lo, hi) after tensor `acc`; returns the output name. Per-channel
   * shifts broadcast along axis 1, or along the last axis with `perUnit` (DENSE).
   */
  private requant(p: string, acc: string, r: Requant, outShape: number[], perUnit = false): string {
    const S = perUnit ? unitDims(r.shift, outShape, `${p} shift`) : channelDims(r.shift, outShape, `${p} shift`);
    const sName = this.init(f32Tensor(`${p}/S`, S.dims, Array.from(S.values, (s) => 2 ** -s)));
    const lo = this.init(f32Tensor(`${p}/lo`, [], [r.clip[0]]));
    const hi = this.init(f32Tensor(`${p}/hi`, [], [r.clip[1]]));
    this.nodes.push({ name: `${p}/mul`, opType: "Mul", input: [acc, sName], output: [`${p}/scaled`] });
    this.nodes.push({ name: `${p}/floor`, opType: "Floor", input: [`${p}/scaled`], output: [`${p}/floored`] });
    this.nodes.push({ name: `${p}/clip`, opType: "Clip", input: [`${p}/floored`, lo, hi], output: [`${p}/out`] });
    return `${p}/out`;
  }

  /**
   * DENSE over the last axis: `Gemm` for a [1, K] input, `MatMul(x, W[K, M]) → Add(·, B)` for a
   * [1, R..., K] one (a transB weight is transposed to [K, M]; a missing bias is M zeros).
   */
  dense(s: DenseSpec): this {
    const x = this.inputOf(s);
    const p = this.prefix(s, "dense");
    const K = x.shape[x.shape.length - 1]!;
    const M = s.units;
    const out = [...x.shape.slice(0, -1), M];
    if (x.shape.length > 2) {
      let wKM: Ints = s.weight;
      if (s.transB) {
        if (s.weight.length !== M * K) throw new Error(`${p}: ${s.weight.length} weights, expected ${M * K}`);
        const t = new Array<number>(K * M);
        for (let m = 0; m < M; m++) for (let k = 0; k < K; k++) t[k * M + m] = s.weight[m * K + k]!;
        wKM = t;
      }
      const W = this.init(f32Tensor(`${p}/W`, [K, M], wKM));
      const B = this.init(f32Tensor(`${p}/B`, [M], s.bias ?? new Array<number>(M).fill(0)));
      this.nodes.push({ name: p, opType: "MatMul", input: [x.name, W], output: [`${p}/mm`] });
      this.nodes.push({ name: `${p}/bias`, opType: "Add", input: [`${p}/mm`, B], output: [`${p}/acc`] });
      return this.push(this.requant(p, `${p}/acc`, s, out, true), out);
    }
    const W = this.init(f32Tensor(`${p}/W`, s.transB ? [M, K] : [K, M], s.weight));
    const ins = [x.name, W];
    if (s.bias) ins.push(this.init(f32Tensor(`${p}/B`, [M], s.bias)));
    const attr = s.transB ? [int("transB", 1)] : [];
    this.nodes.push({ name: p, opType: "Gemm", input: ins, output: [`${p}/acc`], attribute: attr });
    return this.push(this.requant(p, `${p}/acc`, s, out, true), out);
  }

  conv(s: ConvSpec): this {
    const x = this.inputOf(s);
    const p = this.prefix(s, "conv");
    const [, C, H, Wd] = x.shape as [number, number, number, number];
    const g = s.group ?? 1;
    const [KH, KW] = s.kernel;
    const M = s.outChannels;
    const strides = s.strides ?? [1, 1];
    const pads = s.pads ?? [0, 0, 0, 0];
    const W = this.init(f32Tensor(`${p}/W`, [M, C / g, KH, KW], s.weight));
    const ins = [x.name, W];
    if (s.bias) ins.push(this.init(f32Tensor(`${p}/B`, [M], s.bias)));
    const attribute = [ints("kernel_shape", [KH, KW]), ints("strides", strides), ints("pads", pads), int("group", g)];
    this.nodes.push({ name: p, opType: "Conv", input: ins, output: [`${p}/acc`], attribute });
    const out = [1, M, windowOut(H, KH, strides[0], pads[0], pads[2]), windowOut(Wd, KW, strides[1], pads[1], pads[3])];
    return this.push(this.requant(p, `${p}/acc`, s, out), out);
  }

  add(s: AddSpec): this {
    const a = this.inputOf(s);
    const p = this.prefix(s, "add");
    let b: string;
    if (s.other !== undefined) b = this.inputOf({ input: s.other }).name;
    else if (s.constant !== undefined) {
      const c = channelDims(s.constant, a.shape, `${p} constant`);
      b = this.init(f32Tensor(`${p}/B`, c.dims, c.values));
    } else throw new Error(`${p}: add needs 'other' or 'constant'`);
    this.nodes.push({ name: p, opType: "Add", input: [a.name, b], output: [`${p}/acc`] });
    return this.push(this.requant(p, `${p}/acc`, { shift: s.shift ?? 0, clip: s.clip }, a.shape), [...a.shape]);
  }

  mul(s: MulSpec): this {
    const x = this.inputOf(s);
    const p = this.prefix(s, "mul");
    const c = channelDims(s.factor, x.shape, `${p} factor`);
    const C = this.init(f32Tensor(`${p}/C`, c.dims, c.values));
    this.nodes.push({ name: p, opType: "Mul", input: [x.name, C], output: [`${p}/acc`] });
    return this.push(this.requant(p, `${p}/acc`, s, x.shape), [...x.shape]);
  }

  relu(s: LayerOpts = {}): this {
    const x = this.inputOf(s);
    const p = this.prefix(s, "relu");
    this.nodes.push({ name: p, opType: "Relu", input: [x.name], output: [`${p}/out`] });
    return this.push(`${p}/out`, [...x.shape]);
  }

  clip(s: ClipSpec): this {
    const x = this.inputOf(s);
    const p = this.prefix(s, "clip");
    const lo = this.init(f32Tensor(`${p}/lo`, [], [s.lo]));
    const hi = this.init(f32Tensor(`${p}/hi`, [], [s.hi]));
    this.nodes.push({ name: p, opType: "Clip", input: [x.name, lo, hi], output: [`${p}/out`] });
    return this.push(`${p}/out`, [...x.shape]);
  }

  maxpool(s: MaxPoolSpec): this {
    const x = this.inputOf(s);
    const p = this.prefix(s, "maxpool");
    const [, C, H, Wd] = x.shape as [number, number, number, number];
    const [KH, KW] = s.kernel;
    const strides = s.strides ?? [1, 1];
    const pads = s.pads ?? [0, 0, 0, 0];
    const attribute = [ints("kernel_shape", [KH, KW]), ints("strides", strides), ints("pads", pads)];
    this.nodes.push({ name: p, opType: "MaxPool", input: [x.name], output: [`${p}/out`], attribute });
    const out = [1, C, windowOut(H, KH, strides[0], pads[0], pads[2]), windowOut(Wd, KW, strides[1], pads[1], pads[3])];
    return this.push(`${p}/out`, out);
  }

  flatten(s: FlattenSpec = {}): this {
    const x = this.inputOf(s);
    const p = this.prefix(s, "flatten");
    const axis = s.axis ?? 1;
    this.nodes.push({ name: p, opType: "Flatten", input: [x.name], output: [`${p}/out`], attribute: [int("axis", axis)] });
    return this.push(`${p}/out`, flattenShape(x.shape, axis));
  }

  reshape(s: ReshapeSpec): this {
    const x = this.inputOf(s);
    const p = this.prefix(s, "reshape");
    const shape = this.init(i64Tensor(`${p}/shape`, s.shape));
    this.nodes.push({ name: p, opType: "Reshape", input: [x.name, shape], output: [`${p}/out`] });
    const out = reshapeShape(x.shape, s.shape);
    if (!out) throw new Error(`${p}: cannot reshape [${x.shape.join(",")}] to [${s.shape.join(",")}]`);
    return this.push(`${p}/out`, out);
  }

  lut(s: LutSpec): this {
    const x = this.inputOf(s);
    const p = this.prefix(s, "lut");
    const O = this.init(f32Tensor(`${p}/O`, [], [-s.lo]));
    const T = this.init(f32Tensor(`${p}/T`, [s.table.length], s.table));
    this.nodes.push({ name: p, opType: "Add", input: [x.name, O], output: [`${p}/shifted`] });
    this.nodes.push({ name: `${p}/cast`, opType: "Cast", input: [`${p}/shifted`], output: [`${p}/idx`], attribute: [int("to", DataType.INT64)] });
    this.nodes.push({ name: `${p}/gather`, opType: "Gather", input: [T, `${p}/idx`], output: [`${p}/out`], attribute: [int("axis", 0)] });
    return this.push(`${p}/out`, [...x.shape]);
  }

  /** MATMUL: `MatMul(a, b)` → requantization; a [1, G..., N, K] (`input`), b [1, G..., K, M] (`other`). */
  matmul(s: MatMulSpec): this {
    const a = this.inputOf(s);
    const b = this.inputOf({ input: s.other });
    const p = this.prefix(s, "matmul");
    // Shapes are not checked here (the validator refuses a mismatch, and tests build one on purpose).
    const out = [...a.shape.slice(0, -1), b.shape[b.shape.length - 1]!];
    this.nodes.push({ name: p, opType: "MatMul", input: [a.name, b.name], output: [`${p}/acc`] });
    return this.push(this.requant(p, `${p}/acc`, { shift: s.shift, clip: s.clip }, out), out);
  }

  /** PRODUCT: `Mul(a, b)` of two layer outputs of one shape (possibly the same) → requantization. */
  product(s: ProductSpec): this {
    const a = this.inputOf(s);
    const b = this.inputOf({ input: s.other });
    const p = this.prefix(s, "product");
    this.nodes.push({ name: p, opType: "Mul", input: [a.name, b.name], output: [`${p}/acc`] });
    return this.push(this.requant(p, `${p}/acc`, { shift: s.shift, clip: s.clip }, a.shape), [...a.shape]);
  }

  /**
   * GATHER: `Reshape(t_i, [-1])` per input → `Concat(…, Z = [0]; axis 0)` → `Gather(·, index; axis 0)`
   * → `Reshape(·, outShape)`. Index values are not checked here (the validator does).
   */
  gather(s: GatherSpec): this {
    if (s.inputs.length === 0) throw new Error("gather needs at least one input (a layer without inputs is constant())");
    const p = s.name ?? `l${this.tensors.length}_gather`;
    if (s.index.length !== numelOf(s.outShape)) {
      throw new Error(`${p}: ${s.index.length} indices for output shape [${s.outShape.join(",")}]`);
    }
    const flatShape = this.init(i64Tensor(`${p}/flatshape`, [-1]));
    const flats = s.inputs.map((t, k) => {
      const x = this.inputOf({ input: t });
      this.nodes.push({ name: `${p}/flat${k}`, opType: "Reshape", input: [x.name, flatShape], output: [`${p}/flat${k}`] });
      return `${p}/flat${k}`;
    });
    const Z = this.init(f32Tensor(`${p}/Z`, [1], [0]));
    const idx = this.init(i64Tensor(`${p}/idx`, s.index));
    const shape = this.init(i64Tensor(`${p}/shape`, s.outShape));
    this.nodes.push({ name: p, opType: "Concat", input: [...flats, Z], output: [`${p}/cat`], attribute: [int("axis", 0)] });
    this.nodes.push({ name: `${p}/gather`, opType: "Gather", input: [`${p}/cat`, idx], output: [`${p}/gathered`], attribute: [int("axis", 0)] });
    this.nodes.push({ name: `${p}/reshape`, opType: "Reshape", input: [`${p}/gathered`, shape], output: [`${p}/out`] });
    return this.push(`${p}/out`, [...s.outShape]);
  }

  /** CONST: `Identity(C)`, a layer without inputs whose output is `values` of `shape`. */
  constant(s: ConstantSpec): this {
    const p = s.name ?? `l${this.tensors.length}_const`;
    const C = this.init(f32Tensor(`${p}/C`, s.shape, s.values));
    this.nodes.push({ name: p, opType: "Identity", input: [C], output: [`${p}/out`] });
    return this.push(`${p}/out`, [...s.shape]);
  }

  custom(s: CustomSpec): this {
    const x = this.inputOf(s);
    const p = this.prefix(s, s.opType.toLowerCase());
    const ins = [x.name, ...(s.extraInputs ?? []).map((e, k) => this.init(f32Tensor(`${p}/in${k}`, e.dims, e.values)))];
    this.nodes.push({ name: p, opType: s.opType, input: ins, output: [`${p}/out`], attribute: s.attribute ?? [] });
    return this.push(`${p}/out`, [...s.outShape]);
  }

  build(): Uint8Array {
    if (this.numLayers === 0) throw new Error("a canonical model needs at least one layer");
    const input = this.tensors[0]!;
    const output = this.tensors[this.last]!;
    return encodeModel({
      irVersion: BUILD_IR_VERSION,
      producerName: "veritensor",
      opsetImport: [{ domain: "", version: BUILD_OPSET }],
      metadataProps: [
        { key: FORMAT_KEY, value: FORMAT_VALUE },
        { key: INPUT_RANGE_KEY, value: `${this.range[0]},${this.range[1]}` },
        { key: INPUT_SCALE_KEY, value: String(this.opts.inputScale) },
        { key: OUTPUT_SCALE_KEY, value: String(this.opts.outputScale) },
      ],
      graph: {
        name: this.opts.graphName,
        node: this.nodes,
        initializer: this.inits,
        input: [floatValueInfo(input.name, input.shape)],
        output: [floatValueInfo(output.name, output.shape)],
      },
    });
  }
}
