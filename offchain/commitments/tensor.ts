/**
 * Tensor commitments: canonical bytes (int32 little-endian, row-major, -0 = 0) cut into
 * 1024-byte chunks (256 elements, the last one zero-padded), leaf = sha256(chunk), Merkle
 * root over the leaves. Element and chunk proofs let a dispute open one value without the
 * whole tensor.
 */
import { endianness } from "node:os";

import { CHUNK_BYTES, chunkTree, hashChunks } from "./hash-kernel.js";
import type { Hex } from "./merkle.js";
import { MerkleTree, fromHex, sha256, toHex, verifyMerkleProof } from "./merkle.js";

export { CHUNK_BYTES };
export const CHUNK_ELEMS = CHUNK_BYTES / 4;
const LITTLE_ENDIAN_HOST = endianness() === "LE";
const LIMIT = 2 ** 24;

export type TensorLike = Int32Array | Float32Array | readonly number[];

/** Canonical bytes of an integer tensor. Float input must hold integers with |v| < 2^24. */
export function canonicalBytes(t: TensorLike): Buffer {
  let ints: Int32Array;
  if (t instanceof Int32Array) ints = t;
  else {
    ints = new Int32Array(t.length);
    for (let i = 0; i < t.length; i++) {
      const v = t[i]!;
      if (!Number.isInteger(v) || v <= -LIMIT || v >= LIMIT) {
        throw new Error(`tensor element ${i} is ${v}; canonical tensors hold integers with |v| < 2^24`);
      }
      ints[i] = v; // -0 becomes 0 here
    }
  }
  if (LITTLE_ENDIAN_HOST) return Buffer.from(ints.buffer, ints.byteOffset, ints.byteLength);
  const out = Buffer.allocUnsafe(ints.length * 4);
  for (let i = 0; i < ints.length; i++) out.writeInt32LE(ints[i]!, i * 4);
  return out;
}

/** The 1024-byte chunk `i` of canonical bytes, zero-padded at the end of the tensor. */
export function chunkOf(bytes: Uint8Array, i: number): Buffer {
  const start = i * CHUNK_BYTES;
  if (start >= bytes.length || i < 0) throw new Error(`chunk ${i} out of range (${bytes.length} bytes)`);
  const end = start + CHUNK_BYTES;
  if (end <= bytes.length) return Buffer.from(bytes.buffer, bytes.byteOffset + start, CHUNK_BYTES);
  const c = Buffer.alloc(CHUNK_BYTES);
  c.set(bytes.subarray(start), 0);
  return c;
}

/** All chunk leaves, concatenated (n·32 bytes). */
export function chunkLeaves(bytes: Uint8Array): Buffer {
  if (bytes.length === 0) throw new Error("cannot commit to an empty tensor");
  const out = Buffer.allocUnsafe(Math.ceil(bytes.length / CHUNK_BYTES) * 32);
  hashChunks(bytes, out, 0);
  return out;
}

export interface TensorCommitment {
  readonly root: Hex;
  readonly numElements: number;
  readonly numChunks: number;
  readonly tree: MerkleTree;
}

export function commitBytes(bytes: Uint8Array): TensorCommitment {
  if (bytes.length === 0) throw new Error("cannot commit to an empty tensor");
  return tensorCommitmentOf(MerkleTree.fromTree(chunkTree(bytes)), bytes.length / 4);
}

/** The commitment record of a tensor of `numElements` whose chunk tree is already built. */
export function tensorCommitmentOf(tree: MerkleTree, numElements: number): TensorCommitment {
  return { root: tree.rootHex, numElements, numChunks: tree.size, tree };
}

export function commitTensor(t: TensorLike): TensorCommitment {
  return commitBytes(canonicalBytes(t));
}

export function tensorRoot(t: TensorLike): Hex {
  return commitTensor(t).root;
}

export interface ChunkProof {
  readonly chunkIndex: number;
  /** The 1024-byte chunk, 0x-hex. */
  readonly chunk: Hex;
  readonly proof: Hex[];
}

export interface ElementProof extends ChunkProof {
  readonly elementIndex: number;
  readonly value: number;
  /** Byte offset of the element inside the chunk. */
  readonly offset: number;
}

export function chunkProof(t: TensorLike, chunkIndex: number, c?: TensorCommitment): ChunkProof {
  const bytes = canonicalBytes(t);
  const com = c ?? commitBytes(bytes);
  return { chunkIndex, chunk: toHex(chunkOf(bytes, chunkIndex)), proof: com.tree.proofHex(chunkIndex) };
}

export function elementProof(t: TensorLike, elementIndex: number, c?: TensorCommitment): ElementProof {
  if (!Number.isInteger(elementIndex) || elementIndex < 0 || elementIndex >= t.length) {
    throw new Error(`element ${elementIndex} out of range [0, ${t.length})`);
  }
  const chunkIndex = Math.floor(elementIndex / CHUNK_ELEMS);
  const cp = chunkProof(t, chunkIndex, c);
  return { ...cp, elementIndex, value: Number(t[elementIndex]) | 0, offset: (elementIndex % CHUNK_ELEMS) * 4 };
}

export function verifyChunkProof(root: Hex | Uint8Array, p: ChunkProof): boolean {
  const chunk = fromHex(p.chunk);
  if (chunk.length !== CHUNK_BYTES) return false;
  return verifyMerkleProof(sha256(chunk), p.chunkIndex, p.proof, root);
}

/** Checks the chunk proof and that the chunk holds `value` at the element's position. */
export function verifyElementProof(root: Hex | Uint8Array, p: ElementProof): boolean {
  if (Math.floor(p.elementIndex / CHUNK_ELEMS) !== p.chunkIndex || p.offset !== (p.elementIndex % CHUNK_ELEMS) * 4) {
    return false;
  }
  const chunk = fromHex(p.chunk);
  if (chunk.length !== CHUNK_BYTES || chunk.readInt32LE(p.offset) !== p.value) return false;
  return verifyChunkProof(root, p);
}
