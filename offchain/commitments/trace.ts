/**
 * Trace commitment: Merkle root over [inputCommitment, out_1, …, out_n] (tensor
 * commitments). Leaf 0 equals the job's input commitment; the last leaf is the output's.
 */
import type { Hex } from "./merkle.js";
import { MerkleTree, fromHex, verifyMerkleProof } from "./merkle.js";
import type { TensorCommitment, TensorLike } from "./tensor.js";
import { commitTensor } from "./tensor.js";

export interface TraceCommitment {
  readonly root: Hex;
  /** Tensor commitments [input, out_1, …, out_n]. */
  readonly tensors: readonly TensorCommitment[];
  readonly tree: MerkleTree;
}

export function commitTraceFrom(tensors: readonly TensorCommitment[]): TraceCommitment {
  const tree = MerkleTree.from(tensors.map((t) => fromHex(t.root)));
  return { root: tree.rootHex, tensors, tree };
}

/** Commit a whole trace [input, out_1, …, out_n]. */
export function commitTrace(trace: readonly TensorLike[]): TraceCommitment {
  return commitTraceFrom(trace.map((t) => commitTensor(t)));
}

export function traceLeafProof(t: TraceCommitment, index: number): Hex[] {
  return t.tree.proofHex(index);
}

export function verifyTraceLeaf(root: Hex, index: number, tensorRoot: Hex, proof: readonly Hex[]): boolean {
  return verifyMerkleProof(tensorRoot, index, proof, root);
}
