/**
 * SHA-256 binary Merkle trees, the one rule every commitment uses (docs/SEMANTICS.md):
 * leaves padded with bytes32(0) up to a power of two, node = sha256(left ‖ right), a single
 * leaf is its own root. A proof is the list of siblings from the leaf up; at level k the
 * node is the right child when bit k of the index is 1 — exactly the loop a Solidity
 * verifier runs.
 */
import * as crypto from "node:crypto";

import type { TreeData } from "./hash-kernel.js";
import { leafTree, levelViews, nextPow2 } from "./hash-kernel.js";

export { nextPow2 };

export type Hex = `0x${string}`;

// crypto.hash (Node >= 20.12 / 21.7) is the fastest one-shot digest; createHash elsewhere.
const oneShot = (crypto as { hash?: (alg: string, data: Uint8Array, enc: "buffer") => Buffer }).hash;

export function sha256(data: Uint8Array): Buffer {
  return oneShot ? oneShot("sha256", data, "buffer") : crypto.createHash("sha256").update(data).digest();
}

export function toHex(b: Uint8Array): Hex {
  return `0x${Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("hex")}`;
}

export function fromHex(h: string): Buffer {
  const s = h.startsWith("0x") ? h.slice(2) : h;
  if (s.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(s)) throw new Error(`not a hex string: ${h}`);
  return Buffer.from(s, "hex");
}

/** A Merkle tree kept level by level (level 0 = padded leaves) so proofs are cheap. */
export class MerkleTree {
  /** levels[k] holds the 2^(depth-k) nodes of level k, concatenated (32 bytes each). */
  readonly levels: readonly Buffer[];
  /** Number of real (unpadded) leaves. */
  readonly size: number;

  private constructor(levels: Buffer[], size: number) {
    this.levels = levels;
    this.size = size;
  }

  /** From leaves given as an array of 32-byte values or as one buffer of n·32 bytes. */
  static from(leaves: readonly Uint8Array[] | Uint8Array): MerkleTree {
    const concat = leaves instanceof Uint8Array ? leaves : Buffer.concat(leaves.map((l) => checked32(l)));
    if (concat.length % 32 !== 0) throw new Error(`leaf buffer of ${concat.length} bytes is not a multiple of 32`);
    if (concat.length === 0) throw new Error("a Merkle tree needs at least one leaf");
    return MerkleTree.fromTree(leafTree(concat));
  }

  /** From all levels already built by the hash kernel (chunkTree / leafTree / a hashing worker). */
  static fromTree(t: TreeData): MerkleTree {
    return new MerkleTree(levelViews(t.all, t.width), t.n);
  }

  get depth(): number {
    return this.levels.length - 1;
  }

  get root(): Buffer {
    return this.levels[this.levels.length - 1]!;
  }

  get rootHex(): Hex {
    return toHex(this.root);
  }

  leaf(index: number): Buffer {
    this.checkIndex(index);
    return this.levels[0]!.subarray(index * 32, index * 32 + 32);
  }

  /** Siblings from the leaf level up to (excluding) the root. */
  proof(index: number): Buffer[] {
    this.checkIndex(index);
    const out: Buffer[] = [];
    let i = index;
    for (let k = 0; k < this.depth; k++) {
      const sib = i ^ 1;
      out.push(Buffer.from(this.levels[k]!.subarray(sib * 32, sib * 32 + 32)));
      i >>= 1;
    }
    return out;
  }

  proofHex(index: number): Hex[] {
    return this.proof(index).map(toHex);
  }

  private checkIndex(index: number): void {
    if (!Number.isInteger(index) || index < 0 || index >= this.size) {
      throw new Error(`leaf index ${index} out of range [0, ${this.size})`);
    }
  }
}

function checked32(b: Uint8Array): Uint8Array {
  if (b.length !== 32) throw new Error(`Merkle leaf must be 32 bytes; got ${b.length}`);
  return b;
}

export function merkleRoot(leaves: readonly Uint8Array[] | Uint8Array): Buffer {
  return MerkleTree.from(leaves).root;
}

/** The root implied by a leaf, its index and its siblings (the Solidity verifier's loop). */
export function rootFromProof(leaf: Uint8Array | string, index: number, proof: readonly (Uint8Array | string)[]): Buffer {
  let node = typeof leaf === "string" ? fromHex(leaf) : Buffer.from(leaf);
  let i = index;
  const pair = Buffer.alloc(64);
  for (const p of proof) {
    const sib = typeof p === "string" ? fromHex(p) : p;
    if (node.length !== 32 || sib.length !== 32) throw new Error("Merkle nodes are 32 bytes");
    if (i & 1) {
      pair.set(sib, 0);
      pair.set(node, 32);
    } else {
      pair.set(node, 0);
      pair.set(sib, 32);
    }
    node = sha256(pair);
    i = Math.floor(i / 2);
  }
  return node;
}

/**
 * True when `proof` proves `leaf` at `index` under `root`. Like the on-chain verifier it
 * also requires the index to fit the proof's depth, so one proof proves one position.
 */
export function verifyMerkleProof(
  leaf: Uint8Array | string,
  index: number,
  proof: readonly (Uint8Array | string)[],
  root: Uint8Array | string,
): boolean {
  if (!Number.isInteger(index) || index < 0 || index >= 2 ** proof.length) return false;
  const r = typeof root === "string" ? fromHex(root) : Buffer.from(root);
  return rootFromProof(leaf, index, proof).equals(r);
}
