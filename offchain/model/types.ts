/**
 * The types of a parsed canonical/1 model, shared by the parser (canonical.ts) and the pattern
 * matchers (patterns.ts), which both import them from here (no import loop between the two).
 */
import type { Range } from "./intervals.js";
import type { LayerKind } from "./layers.js";
import { layerKindName } from "./layers.js";
import type { INodeProto, ITensorProto } from "./onnx.js";

/** A committed constant tensor in its committed layout (see offchain/model/layers.ts). */
export interface ConstTensor {
  readonly values: Int32Array;
  readonly shape: readonly number[];
}

export interface CanonicalLayer {
  /** Trace index: 1 for the first layer (0 is the graph input). */
  readonly index: number;
  readonly kind: LayerKind;
  /** Name of the pattern's first ONNX node (for messages); a GATHER's is its Concat's. */
  readonly name: string;
  /** Names of all ONNX nodes of the pattern, in order. */
  readonly nodes: readonly string[];
  /** Trace indices read by the layer (0 = graph input, i = output of layer i). */
  readonly inputs: readonly number[];
  readonly outShape: readonly number[];
  /** Integer attributes, in the order of offchain/model/layers.ts. */
  readonly params: readonly number[];
  readonly constants: readonly ConstTensor[];
  /** ONNX tensor name of the layer output (the last node's output). */
  readonly outputName: string;
  /** Proven integer range of every output element. */
  readonly range: Range;
}

export interface CanonicalModel {
  /** The ONNX file as given (sessions are created from it). */
  readonly bytes: Uint8Array;
  /** sha256 of `bytes`, 0x-hex: the model content hash. */
  readonly contentHash: string;
  readonly opset: number;
  readonly inputName: string;
  readonly inputShape: readonly number[];
  readonly inputRange: Range;
  readonly inputScale: number;
  readonly outputScale: number;
  /** The scales' metadata text in 18-decimal fixed point, as registered (scales.ts). */
  readonly inputScaleWad: bigint;
  readonly outputScaleWad: bigint;
  readonly layers: readonly CanonicalLayer[];
  /** ONNX name of the graph output (= the last layer's outputName). */
  readonly outputName: string;
}

/** A tensor visible to later layers: the graph input or a layer output. */
export interface TracedTensor {
  readonly index: number;
  readonly shape: readonly number[];
  readonly range: Range;
}

/** Everything the pattern matchers need about the graph. */
export interface ParseContext {
  readonly nodes: readonly INodeProto[];
  readonly inits: ReadonlyMap<string, ITensorProto>;
  readonly consumers: ReadonlyMap<string, readonly number[]>;
  readonly graphOutputs: ReadonlySet<string>;
  readonly traced: Map<string, TracedTensor>;
  readonly used: boolean[];
  /** Index the next layer gets. */
  nextIndex: number;
}

export function layerLabel(index: number, kind: LayerKind, name: string): string {
  return `layer ${index} (${layerKindName(kind)} "${name}")`;
}
