/** NumPy .npy files written byte by byte, for the tests of the tensor reader and the tasks. */

/** A .npy file as numpy.save writes it: magic, version, padded header dict, then the data. */
export function npy(descr: string, shape: readonly number[], body: Uint8Array, o: { major?: number; fortran?: boolean } = {}): Buffer {
  const major = o.major ?? 1;
  const dims = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
  const dict = `{'descr': '${descr}', 'fortran_order': ${o.fortran ? "True" : "False"}, 'shape': ${dims}, }`;
  const pre = major === 1 ? 10 : 12;
  const header = dict.padEnd(Math.ceil((pre + dict.length + 1) / 64) * 64 - pre - 1, " ") + "\n";
  const head = Buffer.alloc(pre);
  Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0]).copy(head);
  if (major === 1) head.writeUInt16LE(header.length, 8);
  else head.writeUInt32LE(header.length, 8);
  return Buffer.concat([head, Buffer.from(header, "latin1"), body]);
}

/** A typed array's bytes (little-endian on every machine the tests run on). */
export const bytes = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
