/**
 * The batch commitment (docs/SEMANTICS.md "Batch commitment"), the twin of
 * contracts/libraries/BatchCommitment.sol: a batch job's input (or output) is its items' tensors
 * concatenated, each the model's size; one item commits as its own tensor commitment, more as
 * keccak256 over the items' tensor commitments in order. A batch of one is therefore a single job.
 */
import { concat, keccak256 } from "ethers";

import type { Hex } from "./merkle.js";
import { commitBytes } from "./tensor.js";

/** The batch commitment of the items' tensor commitments (at least one). */
export function batchCommitment(itemCommitments: readonly string[]): Hex {
  if (itemCommitments.length === 0) throw new RangeError("a batch has at least one item");
  if (itemCommitments.length === 1) return itemCommitments[0]!.toLowerCase() as Hex;
  return keccak256(concat([...itemCommitments])) as Hex;
}

/** The `items` equal parts of `bytes` (views, not copies), in order: a batch's items. */
export function splitItems(bytes: Uint8Array, items: number): Uint8Array[] {
  if (!Number.isInteger(items) || items < 1) throw new RangeError(`a batch has at least one item, not ${items}`);
  const size = bytes.length / items;
  if (!Number.isInteger(size) || size % 4 !== 0 || size === 0) {
    throw new RangeError(`${bytes.length} bytes are not ${items} items of whole int32 elements`);
  }
  return Array.from({ length: items }, (_, i) => bytes.subarray(i * size, (i + 1) * size));
}

/** The tensor commitment of each of the `items` items of `bytes`. */
export function itemCommitments(bytes: Uint8Array, items: number): Hex[] {
  return splitItems(bytes, items).map((item) => commitBytes(item).root);
}

/** The batch commitment of the `items` items concatenated in `bytes` (one item: its tensor commitment). */
export function commitBatch(bytes: Uint8Array, items: number): Hex {
  return batchCommitment(itemCommitments(bytes, items));
}
