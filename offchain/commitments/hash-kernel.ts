/**
 * The hot loops of the commitments (docs/SEMANTICS.md, format unchanged): SHA-256 of 1024-byte
 * chunks straight from a tensor's memory, Merkle levels with the zero-padding subtrees copied
 * from a table instead of hashed, and the checked float32 -> int32 conversion done in place.
 *
 * This file is also the entry point of the hashing workers (offchain/commitments/pool.ts). A
 * worker is loaded by Node's own TypeScript support, without the project's loader, so this file
 * imports only `node:` modules and uses only erasable TypeScript syntax.
 *
 * Speed notes (Node 22, SHA-NI): `crypto.hash(…, "buffer")` spends most of its ~1.3 µs per call
 * creating the Buffer; the "binary" (latin1) string output costs ~0.3 µs for 64 bytes, and
 * writing its 32 chars into a preallocated level is nearly free. With ~15K chunk hashes and
 * ~15K node hashes per MobileNet-sized trace, that per-call cost is what dominates.
 */
import { createHash, hash } from "node:crypto";
import { isMainThread, parentPort, workerData } from "node:worker_threads";

export const CHUNK_BYTES = 1024;

// crypto.hash (Node >= 20.12 / 21.7) is the fastest one-shot digest; createHash elsewhere.
const digestBinary: (data: Uint8Array) => string =
  typeof hash === "function"
    ? (data) => hash("sha256", data, "binary")
    : (data) => createHash("sha256").update(data).digest("binary");

/** sha256(data) written at out[offset .. offset + 32). */
export function sha256Into(data: Uint8Array, out: Buffer, offset: number): void {
  out.write(digestBinary(data), offset, 32, "latin1");
}

/** ZERO_HASHES[k] = root of an all-padding subtree of height k (ZERO_HASHES[0] = bytes32(0)). */
export const ZERO_HASHES: readonly Buffer[] = (() => {
  const z = [Buffer.alloc(32)];
  const pair = Buffer.alloc(64);
  for (let k = 1; k <= 48; k++) {
    const prev = z[k - 1]!;
    pair.set(prev, 0);
    pair.set(prev, 32);
    const h = Buffer.alloc(32);
    sha256Into(pair, h, 0);
    z.push(h);
  }
  return z;
})();

export function nextPow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

/** Bytes of all levels of a tree with `width` (a power of two) leaves: 2·width − 1 nodes. */
export function treeBytes(width: number): number {
  return (2 * width - 1) * 32;
}

/** The levels (0 = leaves) of a tree buffer laid out by `buildLevels`, as views. */
export function levelViews(all: Buffer, width: number): Buffer[] {
  const levels: Buffer[] = [];
  for (let off = 0, w = width; w >= 1; off += w * 32, w /= 2) levels.push(all.subarray(off, off + w * 32));
  return levels;
}

/**
 * Completes a tree whose first `n` leaves are already at the start of `all` (width·32 bytes of
 * level 0, then level 1, … up to the root; `treeBytes(width)` in all). Padding is written from
 * ZERO_HASHES, so only the nodes with at least one real leaf below them are hashed.
 */
export function buildLevels(all: Buffer, n: number, width: number): void {
  if (n < 1 || n > width || width !== nextPow2(width) || all.length < treeBytes(width)) {
    throw new Error(`bad tree layout: ${n} leaves, width ${width}, ${all.length} bytes`);
  }
  if (n < width) all.fill(0, n * 32, width * 32);
  let off = 0;
  let w = width;
  let m = n;
  for (let k = 1; w > 1; k++) {
    const next = off + w * 32;
    const nm = (m + 1) >> 1;
    for (let i = 0, src = off, dst = next; i < nm; i++, src += 64, dst += 32) {
      sha256Into(all.subarray(src, src + 64), all, dst);
    }
    w >>= 1;
    if (nm < w) all.fill(ZERO_HASHES[k]!, next + nm * 32, next + w * 32);
    off = next;
    m = nm;
  }
}

/** Chunk leaves of canonical bytes written at out[offset …); returns the number of chunks. */
export function hashChunks(bytes: Uint8Array, out: Buffer, offset = 0): number {
  if (bytes.length === 0) throw new Error("cannot commit to an empty tensor");
  const full = Math.floor(bytes.length / CHUNK_BYTES);
  for (let i = 0, o = 0; i < full; i++, o += CHUNK_BYTES) {
    sha256Into(bytes.subarray(o, o + CHUNK_BYTES), out, offset + i * 32);
  }
  if (full * CHUNK_BYTES === bytes.length) return full;
  const tail = new Uint8Array(CHUNK_BYTES); // zero padding of the last chunk
  tail.set(bytes.subarray(full * CHUNK_BYTES));
  sha256Into(tail, out, offset + full * 32);
  return full + 1;
}

export interface TreeData {
  /** All levels, leaves first (see levelViews); owns its ArrayBuffer (transferable). */
  readonly all: Buffer;
  /** Real leaves (chunks). */
  readonly n: number;
  /** Padded width (power of two). */
  readonly width: number;
}

/** Tree over the chunks of canonical (int32 LE) bytes. */
export function chunkTree(bytes: Uint8Array): TreeData {
  const n = Math.ceil(bytes.length / CHUNK_BYTES);
  const width = nextPow2(n);
  const all = Buffer.from(new ArrayBuffer(treeBytes(width)));
  hashChunks(bytes, all, 0);
  buildLevels(all, n, width);
  return { all, n, width };
}

/** Tree over leaves given as n·32 bytes. */
export function leafTree(leaves: Uint8Array): TreeData {
  const n = leaves.length / 32;
  const width = nextPow2(n);
  const all = Buffer.from(new ArrayBuffer(treeBytes(width)));
  all.set(leaves, 0);
  buildLevels(all, n, width);
  return { all, n, width };
}

/**
 * Rewrites float32 values as their int32 values in the same memory (-0 becomes 0). Stops at
 * the first value that is not an int32 integer and returns its index (that element is left
 * untouched, earlier ones are already converted); returns -1 when every value converted.
 */
export function floatToInt32InPlace(data: Float32Array): number {
  const ints = new Int32Array(data.buffer, data.byteOffset, data.length);
  const n = data.length;
  for (let i = 0; i < n; i++) {
    const v = data[i]!;
    const iv = v | 0;
    if (iv !== v) return i;
    ints[i] = iv;
  }
  return -1;
}

// ---- worker side (see pool.ts for the protocol's other end) ----

export const WORKER_TAG = "veritensor-hash-worker";

/** One tensor of a job: `length` elements at `byteOffset` of `buffer` (transferred). */
export interface KernelTensor {
  readonly buffer: ArrayBuffer;
  readonly byteOffset: number;
  readonly length: number;
  /** True: float32 values to convert in place first; false: already int32. */
  readonly convert: boolean;
}

export interface KernelRequest {
  readonly id: number;
  readonly tensors: readonly KernelTensor[];
}

export interface KernelTree {
  readonly tree: ArrayBuffer;
  readonly n: number;
  readonly width: number;
}

export type KernelResponse =
  | { readonly id: number; readonly ok: true; readonly tensors: readonly KernelTensor[]; readonly trees: readonly KernelTree[] }
  | { readonly id: number; readonly ok: false; readonly tensor: number; readonly element: number; readonly value: number; readonly message: string };

/** Converts (when asked) and commits each tensor; the worker's whole job. */
export function runKernel(req: KernelRequest): { res: KernelResponse; transfer: ArrayBuffer[] } {
  const trees: KernelTree[] = [];
  const transfer: ArrayBuffer[] = [];
  for (let t = 0; t < req.tensors.length; t++) {
    const x = req.tensors[t]!;
    if (x.convert) {
      const f = new Float32Array(x.buffer, x.byteOffset, x.length);
      const bad = floatToInt32InPlace(f);
      if (bad >= 0) {
        return { res: { id: req.id, ok: false, tensor: t, element: bad, value: f[bad]!, message: "non-integer" }, transfer: [] };
      }
    }
    const tree = chunkTree(new Uint8Array(x.buffer, x.byteOffset, x.length * 4));
    trees.push({ tree: tree.all.buffer as ArrayBuffer, n: tree.n, width: tree.width });
    transfer.push(x.buffer, tree.all.buffer as ArrayBuffer);
  }
  return { res: { id: req.id, ok: true, tensors: req.tensors, trees }, transfer };
}

if (!isMainThread && parentPort && (workerData as { tag?: string } | null)?.tag === WORKER_TAG) {
  const port = parentPort;
  port.on("message", (req: KernelRequest) => {
    try {
      const { res, transfer } = runKernel(req);
      port.postMessage(res, transfer);
    } catch (e) {
      port.postMessage({ id: req.id, ok: false, tensor: -1, element: -1, value: 0, message: (e as Error).message });
    }
  });
  port.postMessage({ ready: true });
}
