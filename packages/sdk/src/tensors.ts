/**
 * Tensors as the contracts hold them: canonical bytes, each element an int32 in 4 bytes,
 * little-endian (docs/SEMANTICS.md). A model's registry entry gives each side a scale in
 * 18-decimal fixed point: real value = integer × scale / 10^18.
 */
import { VeritensorError } from "./errors.js";

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

/** Canonical bytes of int32 values; each element must be an integer in the int32 range. */
export function encodeTensor(values: ArrayLike<number>, what = "tensor"): Uint8Array {
  const bytes = new Uint8Array(values.length * 4);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v !== "number" || !Number.isInteger(v) || v < INT32_MIN || v > INT32_MAX) {
      throw new VeritensorError(`${what}: element ${i} is ${JSON.stringify(v)}, not a 32-bit integer`, { code: "INVALID_INPUT" });
    }
    view.setInt32(i * 4, v, true);
  }
  return bytes;
}

/** Canonical bytes back to int32 values. */
export function decodeTensor(bytes: Uint8Array): number[] {
  if (bytes.length % 4 !== 0) {
    throw new VeritensorError(`${bytes.length} bytes are not a whole number of int32 elements`, { code: "INVALID_INPUT" });
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Array.from({ length: bytes.length / 4 }, (_, i) => view.getInt32(i * 4, true));
}

/** Integers times a scale in 18-decimal fixed point, as numbers (the model's real values). */
export function dequantize(values: readonly number[], scaleWad: bigint): number[] {
  // q × scale is exact in bigint; only the final division rounds (to the nearest double).
  return values.map((q) => Number(BigInt(q) * scaleWad) / 1e18);
}

/** A batch's concatenated output, item by item (`outputElements` values each). */
export function splitItems(values: readonly number[], outputElements: number): number[][] {
  if (outputElements <= 0 || values.length % outputElements !== 0) {
    throw new VeritensorError(`${values.length} values are not whole items of ${outputElements} elements`, { code: "INVALID_INPUT" });
  }
  return Array.from({ length: values.length / outputElements }, (_, i) => values.slice(i * outputElements, (i + 1) * outputElements));
}

/** The index of the largest value (the class, for a classifier); -1 for none. */
export function argmax(values: readonly number[]): number {
  let best = -1;
  for (let i = 0; i < values.length; i++) if (best < 0 || values[i]! > values[best]!) best = i;
  return best;
}
