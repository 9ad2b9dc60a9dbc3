/**
 * Tensors as the contracts hold them: canonical bytes (int32 little-endian) to and from integers,
 * and their commitments, from offchain/commitments/tensor.ts, the same rule as
 * contracts/libraries/TensorCommitment.sol. The tasks read tensor files with cli/model/tensors.ts.
 * The bytes' encoding is the SDK's (packages/sdk/src/tensors.ts), so integrators decode alike.
 */
import { decodeTensor, encodeTensor } from "../../packages/sdk/src/tensors.js";
import { commitBatch } from "../commitments/batch.js";
import type { Hex } from "../commitments/merkle.js";
import { commitBytes } from "../commitments/tensor.js";

/** Canonical bytes of an integer array (every element must be an int32): the SDK's encodeTensor. */
export function intsToBytes(values: readonly number[], what = "tensor"): Buffer {
  const bytes = encodeTensor(values, what);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** int32 little-endian bytes back to numbers: the SDK's decodeTensor. */
export const bytesToInts: (bytes: Uint8Array) => number[] = decodeTensor;

/** Tensor commitment of canonical bytes (0x-hex). */
export function tensorCommitment(bytes: Uint8Array): Hex {
  return commitBytes(bytes).root;
}

/**
 * The output commitment a submission of `output` carries: the batch commitment of its items, cut
 * at the model's output size (`outputElements` per item), which for a single job's output is its
 * tensor commitment. Bytes that are not whole items commit as one tensor (the escrow refuses their
 * length anyway).
 */
export function outputCommitmentOf(output: Uint8Array, outputElements: bigint): Hex {
  const size = Number(outputElements) * 4;
  const items = size > 0 && output.length > size && output.length % size === 0 ? output.length / size : 1;
  return items === 1 ? tensorCommitment(output) : commitBatch(output, items);
}
