/**
 * Tensors as the contracts hold them: canonical bytes (int32 little-endian) to and from integers,
 * and their commitments, from offchain/commitments/tensor.ts, the same rule as
 * contracts/libraries/TensorCommitment.sol. The tasks read tensor files with cli/model/tensors.ts.
 */
import { commitBatch } from "../commitments/batch.js";
import type { Hex } from "../commitments/merkle.js";
import { canonicalBytes, commitBytes } from "../commitments/tensor.js";
import { VeritensorError } from "./errors.js";

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

/** Canonical bytes of an integer array (every element must be an int32). */
export function intsToBytes(values: readonly number[], what = "tensor"): Buffer {
  const ints = new Int32Array(values.length);
  values.forEach((v, i) => {
    if (!Number.isInteger(v) || v < INT32_MIN || v > INT32_MAX) {
      throw new VeritensorError(`${what}: element ${i} is ${JSON.stringify(v)}, not a 32-bit integer`);
    }
    ints[i] = v;
  });
  return canonicalBytes(ints);
}

/** int32 little-endian bytes back to numbers. */
export function bytesToInts(bytes: Uint8Array): number[] {
  if (bytes.length % 4 !== 0) throw new VeritensorError(`${bytes.length} bytes are not a whole number of int32 elements`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Array.from({ length: bytes.length / 4 }, (_, i) => view.getInt32(i * 4, true));
}

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
