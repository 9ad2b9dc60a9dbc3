/**
 * The converter's float intermediate representation: a straight-line list of nodes whose
 * kinds map one-to-one (after folding) onto canonical layers. Weights are float64 copies
 * of the float model's constants, already in the committed layouts of offchain/model/layers.ts
 * (DENSE W as [M, K], CONV W as [M, C/group, KH, KW]).
 */
import type { ElementwiseFn } from "./elementwise.js";

/** Activation fused into a producer: its output is clamped to [lo, hi] (real units). */
export interface Act {
  readonly lo: number;
  readonly hi: number;
}

export const NO_ACT: Act = { lo: -Infinity, hi: Infinity };

export interface Window {
  readonly kh: number;
  readonly kw: number;
  readonly sy: number;
  readonly sx: number;
  readonly pt: number;
  readonly pl: number;
  readonly pb: number;
  readonly pr: number;
}

interface Base {
  /** ONNX node name (or "#index") of the node that produced this IR node, for messages. */
  readonly name: string;
  /** ONNX op(s) this node stands for, e.g. "Conv+BatchNormalization+Relu". */
  op: string;
  out: string;
  readonly outShape: readonly number[];
  /**
   * Integer index arithmetic (an embedding lookup's flat index ids·D + d): the output is at scale 1,
   * exactly, its integer range the fused clip's (plan.ts gives its group scale 1 and the bits it needs).
   */
  exact?: boolean;
}

/**
 * A weighted sum over the last axis: [1, R..., K] → [1, R..., M] (Gemm, MatMul by constant weights,
 * LayerNorm's centering). `wideInput`: its weights are light enough (a centering, a mean) that its
 * input may be wider than activationBits without starving the weights of precision.
 */
export interface DenseNode extends Base {
  readonly kind: "dense";
  x: string;
  readonly K: number;
  readonly M: number;
  /** [M, K] */
  W: Float64Array;
  B: Float64Array;
  act: Act;
  wideInput?: boolean;
}

export interface ConvNode extends Base {
  readonly kind: "conv";
  x: string;
  readonly C: number;
  readonly H: number;
  readonly Wd: number;
  readonly M: number;
  readonly group: number;
  readonly win: Window;
  /** [M, C/group, KH, KW] */
  W: Float64Array;
  B: Float64Array;
  act: Act;
  /** Uniform weights (a mean or a sum): the input may be wide (see DenseNode). */
  wideInput?: boolean;
}

/** Sum of two computed tensors of the same shape. */
export interface AddNode extends Base {
  readonly kind: "add";
  a: string;
  b: string;
  act: Act;
}

/** x + c[channel] */
export interface AddConstNode extends Base {
  readonly kind: "addc";
  x: string;
  c: Float64Array;
  act: Act;
}

/** x · c[channel] */
export interface MulConstNode extends Base {
  readonly kind: "mulc";
  x: string;
  c: Float64Array;
  act: Act;
}

export interface ClampNode extends Base {
  /** Relu is clamp [0, inf). */
  readonly kind: "clamp";
  x: string;
  readonly act: Act;
}

export interface MaxPoolNode extends Base {
  readonly kind: "maxpool";
  x: string;
  readonly win: Window;
}

export interface ReshapeNode extends Base {
  readonly kind: "reshape";
  x: string;
}

export interface LutNode extends Base {
  readonly kind: "lut";
  x: string;
  /** Any real function of one value (convert/elementwise.ts): the table is its rounding. */
  readonly fn: ElementwiseFn;
  act: Act;
  /**
   * Softmax's 1/sum: the input is a sum of non-negative exps that includes exp(0) = 1, in the float model
   * and, to half a unit of each, in the integer one (the named tensor holds the exps): the error bound
   * need not look below that.
   */
  sumOfExps?: string;
}

/**
 * Product of two computed tensors, batched over the leading axes: a [1, G..., N, K] × b [1, G..., K, M],
 * times the positive constant `gain` (a scale folded in, e.g. attention's dh^-0.5).
 */
export interface MatMulNode extends Base {
  readonly kind: "matmul";
  a: string;
  b: string;
  readonly N: number;
  readonly K: number;
  readonly M: number;
  gain: number;
  act: Act;
}

/** Elementwise product of two computed tensors of the output's shape, times the positive constant `gain`. */
export interface ProdNode extends Base {
  readonly kind: "prod";
  a: string;
  b: string;
  gain: number;
  act: Act;
}

/**
 * Pure data movement (Transpose, Slice, Concat, Split, Expand, Pad, Gather on constant indices...):
 * out[e] = v[idx[e]], v the inputs' elements concatenated in order, idx = Σ n_i reading 0.
 */
export interface GatherNode extends Base {
  readonly kind: "gather";
  xs: string[];
  idx: Int32Array;
}

/** A constant tensor the later layers combine with activations (class token, position embedding). */
export interface ConstNode extends Base {
  readonly kind: "const";
  readonly values: Float64Array;
}

/**
 * x + c or x · c with c a constant of the output's full shape (row-major), anything but per channel:
 * a bias over the last axis, LayerNorm's γ and β, a position embedding. Folded into a neighbouring
 * DENSE where it can be (fold.ts), else lowered to CONST + ADD / PRODUCT before planning.
 */
export interface ElemConstNode extends Base {
  readonly kind: "elemc";
  readonly mode: "add" | "mul";
  x: string;
  c: Float64Array;
  act: Act;
}

export type IrNode =
  | DenseNode
  | ConvNode
  | AddNode
  | AddConstNode
  | MulConstNode
  | ClampNode
  | MaxPoolNode
  | ReshapeNode
  | LutNode
  | MatMulNode
  | ProdNode
  | GatherNode
  | ConstNode
  | ElemConstNode;

export interface IrGraph {
  readonly input: string;
  readonly inputShape: readonly number[];
  /**
   * The input holds integers (token ids: an integer-typed input, or one cast to an integer type): by
   * default it is taken at scale 1 over [lo, hi] (an embedding's [0, V − 1]; else the calibrated range),
   * and it carries no rounding error.
   */
  integerInput?: { lo?: number; hi?: number };
  output: string;
  nodes: IrNode[];
}

/** Tensors read by a node, in order. */
export function nodeInputs(n: IrNode): string[] {
  switch (n.kind) {
    case "add": case "matmul": case "prod": return [n.a, n.b];
    case "gather": return [...n.xs];
    case "const": return [];
    default: return [n.x];
  }
}

/** Replace every read of tensor `from` by `to` in node `n`. */
export function renameInput(n: IrNode, from: string, to: string): void {
  switch (n.kind) {
    case "add": case "matmul": case "prod":
      if (n.a === from) n.a = to;
      if (n.b === from) n.b = to;
      return;
    case "gather": n.xs = n.xs.map((t) => (t === from ? to : t)); return;
    case "const": return;
    default: if (n.x === from) n.x = to;
  }
}

export const numel = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);
