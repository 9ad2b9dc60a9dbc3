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
}

export interface DenseNode extends Base {
  readonly kind: "dense";
  readonly x: string;
  readonly K: number;
  readonly M: number;
  /** [M, K] */
  W: Float64Array;
  B: Float64Array;
  act: Act;
}

export interface ConvNode extends Base {
  readonly kind: "conv";
  readonly x: string;
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
}

/** Sum of two computed tensors of the same shape. */
export interface AddNode extends Base {
  readonly kind: "add";
  readonly a: string;
  readonly b: string;
  act: Act;
}

/** x + c[channel] */
export interface AddConstNode extends Base {
  readonly kind: "addc";
  readonly x: string;
  c: Float64Array;
  act: Act;
}

/** x · c[channel] */
export interface MulConstNode extends Base {
  readonly kind: "mulc";
  readonly x: string;
  c: Float64Array;
  act: Act;
}

export interface ClampNode extends Base {
  /** Relu is clamp [0, inf). */
  readonly kind: "clamp";
  readonly x: string;
  readonly act: Act;
}

export interface MaxPoolNode extends Base {
  readonly kind: "maxpool";
  readonly x: string;
  readonly win: Window;
}

export interface ReshapeNode extends Base {
  readonly kind: "reshape";
  readonly x: string;
}

export interface LutNode extends Base {
  readonly kind: "lut";
  readonly x: string;
  /** Any real function of one value (convert/elementwise.ts): the table is its rounding. */
  readonly fn: ElementwiseFn;
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
  | LutNode;

export interface IrGraph {
  readonly input: string;
  readonly inputShape: readonly number[];
  output: string;
  nodes: IrNode[];
}

/** Tensors read by a node, in order. */
export function nodeInputs(n: IrNode): string[] {
  return n.kind === "add" ? [n.a, n.b] : [n.x];
}

export const numel = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);
