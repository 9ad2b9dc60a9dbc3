/**
 * Tensor files as the tasks accept them: a JSON array of integers (nested arrays are flattened
 * in row-major order) or a `.bin` file of canonical bytes (int32 little-endian). Commitments come
 * from offchain/commitments/tensor.ts, the same rule as contracts/libraries/TensorCommitment.sol.
 */
import { readFile } from "node:fs/promises";

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

/** Reads a tensor file (`.bin` canonical bytes, anything else JSON) into canonical bytes. */
export async function readTensorFile(path: string, what = "tensor"): Promise<Buffer> {
  let raw: Buffer;
  try {
    raw = await readFile(path);
  } catch (e) {
    throw new VeritensorError(`${what}: cannot read ${path} (${(e as NodeJS.ErrnoException).code ?? String(e)})`, { cause: e });
  }
  if (path.endsWith(".bin")) {
    if (raw.length === 0 || raw.length % 4 !== 0) {
      throw new VeritensorError(`${what}: ${path} has ${raw.length} bytes; a .bin tensor holds int32 little-endian elements`);
    }
    return raw;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.toString("utf8"));
  } catch (e) {
    throw new VeritensorError(`${what}: ${path} is neither a .bin file nor JSON (${(e as Error).message})`, { cause: e });
  }
  if (!Array.isArray(parsed)) throw new VeritensorError(`${what}: ${path} must hold a JSON array of integers`);
  const flat = (parsed as unknown[]).flat(Infinity) as number[];
  if (flat.length === 0) throw new VeritensorError(`${what}: ${path} holds an empty array`);
  return intsToBytes(flat, `${what} (${path})`);
}

/** Tensor commitment of canonical bytes (0x-hex). */
export function tensorCommitment(bytes: Uint8Array): Hex {
  return commitBytes(bytes).root;
}
