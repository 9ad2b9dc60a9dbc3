/**
 * Graph commitment: Merkle root over [header, layer_1, …, layer_n] with
 *   header  = sha256(abi.encode(uint32 version=1, uint32[] inputShape, int64 inputLo, int64 inputHi, uint32 numLayers))
 *   layer_i = sha256(abi.encode(uint8 kind, uint32[] inputs, uint32[] outShape, int64[] params, bytes32[] constants))
 * (docs/SEMANTICS.md; params/constants layouts in offchain/model/layers.ts).
 */
import { AbiCoder } from "ethers";

import type { CanonicalLayer, CanonicalModel } from "../model/canonical.js";
import { PARAM_COUNT } from "../model/layers.js";
import type { Hex } from "./merkle.js";
import { MerkleTree, sha256, toHex } from "./merkle.js";
import { commitTensor } from "./tensor.js";

export const GRAPH_VERSION = 1;
const abi = AbiCoder.defaultAbiCoder();

export const HEADER_TYPES = ["uint32", "uint32[]", "int64", "int64", "uint32"] as const;
export const LAYER_TYPES = ["uint8", "uint32[]", "uint32[]", "int64[]", "bytes32[]"] as const;

export function encodeHeader(model: CanonicalModel): Hex {
  return abi.encode(HEADER_TYPES, [
    GRAPH_VERSION,
    model.inputShape,
    model.inputRange[0],
    model.inputRange[1],
    model.layers.length,
  ]) as Hex;
}

/** Tensor commitments of a layer's constants, in layout order. */
export function constantRoots(layer: CanonicalLayer): Hex[] {
  return layer.constants.map((c) => commitTensor(c.values).root);
}

/** Number of params a layer of this kind and input count has (GATHER: one per input, PARAM_COUNT -1). */
export function paramCount(layer: Pick<CanonicalLayer, "kind" | "inputs">): number {
  const n = PARAM_COUNT[layer.kind];
  return n < 0 ? layer.inputs.length : n;
}

export function encodeLayer(layer: CanonicalLayer, constants: readonly Hex[] = constantRoots(layer)): Hex {
  if (layer.params.length !== paramCount(layer)) {
    throw new Error(`layer ${layer.index} has ${layer.params.length} params, kind ${layer.kind} needs ${paramCount(layer)}`);
  }
  return abi.encode(LAYER_TYPES, [layer.kind, layer.inputs, layer.outShape, layer.params, constants]) as Hex;
}

export function headerLeaf(model: CanonicalModel): Hex {
  return toHex(sha256(Buffer.from(encodeHeader(model).slice(2), "hex")));
}

export function layerLeaf(layer: CanonicalLayer, constants?: readonly Hex[]): Hex {
  return toHex(sha256(Buffer.from(encodeLayer(layer, constants).slice(2), "hex")));
}

export interface GraphCommitment {
  readonly root: Hex;
  /** [header, layer_1, …, layer_n] leaves. */
  readonly leaves: readonly Hex[];
  /** Tensor commitments of each layer's constants (index i-1 for layer i). */
  readonly constants: readonly (readonly Hex[])[];
  readonly tree: MerkleTree;
}

export function commitGraph(model: CanonicalModel): GraphCommitment {
  const constants = model.layers.map((l) => constantRoots(l));
  const leaves = [headerLeaf(model), ...model.layers.map((l, i) => layerLeaf(l, constants[i]))];
  const tree = MerkleTree.from(leaves.map((h) => Buffer.from(h.slice(2), "hex")));
  return { root: tree.rootHex, leaves, constants, tree };
}

export function graphRoot(model: CanonicalModel): Hex {
  return commitGraph(model).root;
}

/** Proof for graph leaf `i` (0 = header, i = layer i). */
export function graphLeafProof(g: GraphCommitment, i: number): Hex[] {
  return g.tree.proofHex(i);
}
