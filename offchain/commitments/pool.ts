/**
 * Commits many tensors at once (a whole trace), spread over the calling thread and a small
 * persistent pool of hashing workers. Float32 tensors (onnxruntime outputs) are converted to
 * canonical int32 in place, with the integrality check, by whichever thread hashes them; their
 * ArrayBuffers are transferred to the worker and back, so no tensor byte is ever copied.
 *
 * Workers are unref'd while idle, so a pool that is never closed does not keep the process
 * alive; `close()` terminates them. A worker that fails to start is dropped and its share of
 * the work stays on the calling thread.
 */
import { availableParallelism, endianness } from "node:os";
import { extname } from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";

import type { KernelRequest, KernelResponse, KernelTensor } from "./hash-kernel.js";
import { WORKER_TAG, chunkTree, floatToInt32InPlace } from "./hash-kernel.js";
import { MerkleTree } from "./merkle.js";
import type { TensorCommitment } from "./tensor.js";
import { commitTensor, tensorCommitmentOf } from "./tensor.js";

const LITTLE_ENDIAN_HOST = endianness() === "LE";
/**
 * Below this many elements a trace is hashed on the calling thread: a worker round trip costs
 * ~0.1-0.3 ms, about what 256K elements (1 MiB, ~1K chunk hashes) take to hash.
 */
export const MIN_PARALLEL_ELEMENTS = 256 * 1024;

/** A float32 tensor that held a value which is not an int32 integer. */
export class NonIntegerError extends Error {
  /** Index of the tensor in the list given to `commit`. */
  readonly tensor: number;
  readonly element: number;
  readonly value: number;

  constructor(tensor: number, element: number, value: number) {
    super(`tensor ${tensor} holds the non-integer ${value} at element ${element}`);
    this.name = "NonIntegerError";
    this.tensor = tensor;
    this.element = element;
    this.value = value;
  }
}

export interface CommittedTensors {
  /** The canonical int32 values, in the order given (float inputs: a view of their memory). */
  readonly ints: Int32Array[];
  readonly commitments: TensorCommitment[];
}

/** Default worker count: one per core beyond the calling thread's, at most 3. */
export function defaultHashWorkers(): number {
  return Math.max(0, Math.min(3, availableParallelism() - 1));
}

interface Waiter {
  resolve(r: KernelResponse): void;
  reject(e: Error): void;
}

class WorkerLane {
  private readonly worker: Worker;
  private readonly pending = new Map<number, Waiter>();
  private nextId = 0;
  dead = false;

  private constructor(worker: Worker) {
    this.worker = worker;
    worker.on("message", (m: KernelResponse) => {
      const w = this.pending.get(m.id);
      if (!w) return;
      this.pending.delete(m.id);
      if (this.pending.size === 0) this.worker.unref();
      w.resolve(m);
    });
    const fail = (e: Error): void => {
      this.dead = true;
      for (const w of this.pending.values()) w.reject(e);
      this.pending.clear();
    };
    worker.on("error", fail);
    worker.on("exit", (code) => fail(new Error(`hashing worker exited (code ${code})`)));
  }

  /** Resolves once the worker has loaded the kernel, or to undefined if it cannot start. */
  static start(url: URL): Promise<WorkerLane | undefined> {
    return new Promise((resolve) => {
      let worker: Worker;
      try {
        worker = new Worker(url, { workerData: { tag: WORKER_TAG } });
      } catch {
        resolve(undefined);
        return;
      }
      const onError = (): void => {
        void worker.terminate();
        resolve(undefined);
      };
      worker.once("error", onError);
      worker.once("exit", onError);
      worker.once("message", (m: { ready?: boolean }) => {
        worker.off("error", onError);
        worker.off("exit", onError);
        if (!m.ready) {
          onError();
          return;
        }
        worker.unref();
        resolve(new WorkerLane(worker));
      });
    });
  }

  run(tensors: KernelTensor[]): Promise<KernelResponse> {
    if (this.dead) return Promise.reject(new Error("hashing worker is not running"));
    const id = this.nextId++;
    const transfer = tensors.filter((t) => t.buffer instanceof ArrayBuffer).map((t) => t.buffer);
    return new Promise((resolve, reject) => {
      if (this.pending.size === 0) this.worker.ref();
      this.pending.set(id, { resolve, reject });
      try {
        this.worker.postMessage({ id, tensors } satisfies KernelRequest, transfer);
      } catch (e) {
        this.pending.delete(id);
        if (this.pending.size === 0) this.worker.unref();
        reject(e as Error);
      }
    });
  }

  async close(): Promise<void> {
    this.dead = true;
    await this.worker.terminate();
  }
}

export class CommitPool {
  private readonly lanes: WorkerLane[];

  private constructor(lanes: WorkerLane[]) {
    this.lanes = lanes;
  }

  /** Starts `workers` hashing workers (0: everything on the calling thread). */
  static async create(workers: number = defaultHashWorkers()): Promise<CommitPool> {
    if (workers <= 0 || !LITTLE_ENDIAN_HOST) return new CommitPool([]);
    // This module runs as .ts under the project's loaders and as .js once compiled.
    const url = new URL(`./hash-kernel${extname(fileURLToPath(import.meta.url))}`, import.meta.url);
    const lanes = await Promise.all(Array.from({ length: workers }, () => WorkerLane.start(url)));
    return new CommitPool(lanes.filter((l): l is WorkerLane => l !== undefined));
  }

  /** Live workers. */
  get workers(): number {
    return this.lanes.filter((l) => !l.dead).length;
  }

  /**
   * Commits every tensor. Int32Array items are read where they are. Float32Array items are
   * consumed: converted in place to int32 (throws NonIntegerError if one is not an integer)
   * and returned as Int32Array views of the same memory.
   */
  async commit(items: readonly (Float32Array | Int32Array)[]): Promise<CommittedTensors> {
    const tensors = ownBuffers(items);
    const total = tensors.reduce((a, t) => a + t.length, 0);
    const lanes = total < MIN_PARALLEL_ELEMENTS ? [] : this.lanes.filter((l) => !l.dead);
    // Longest first onto the least loaded thread; int32 items (the caller's memory) stay here.
    const load = new Array<number>(lanes.length + 1).fill(0);
    const assigned: number[][] = Array.from({ length: lanes.length + 1 }, () => []);
    const order = tensors.map((_, i) => i).sort((a, b) => tensors[b]!.length - tensors[a]!.length);
    for (const i of order) {
      let best = 0;
      if (tensors[i] instanceof Float32Array) {
        for (let l = 1; l < load.length; l++) if (load[l]! < load[best]!) best = l;
      }
      assigned[best]!.push(i);
      load[best]! += tensors[i]!.length;
    }

    const ints = new Array<Int32Array>(tensors.length);
    const commitments = new Array<TensorCommitment>(tensors.length);
    const remote = lanes.map((lane, l) => {
      const mine = assigned[l + 1]!;
      if (mine.length === 0) return Promise.resolve();
      const job: KernelTensor[] = mine.map((i) => {
        const t = tensors[i]!;
        return { buffer: t.buffer as ArrayBuffer, byteOffset: t.byteOffset, length: t.length, convert: true };
      });
      return lane.run(job).then((res) => {
        if (!res.ok) {
          if (res.tensor < 0) throw new Error(`hashing worker failed: ${res.message}`);
          throw new NonIntegerError(mine[res.tensor]!, res.element, res.value);
        }
        mine.forEach((i, k) => {
          const t = res.tensors[k]!;
          const tree = res.trees[k]!;
          ints[i] = new Int32Array(t.buffer, t.byteOffset, t.length);
          const merkle = MerkleTree.fromTree({ all: Buffer.from(tree.tree), n: tree.n, width: tree.width });
          commitments[i] = tensorCommitmentOf(merkle, t.length);
        });
      });
    });

    let localError: unknown;
    try {
      for (const i of assigned[0]!) {
        const { values, commitment } = commitHere(tensors[i]!, i);
        ints[i] = values;
        commitments[i] = commitment;
      }
    } catch (e) {
      localError = e;
    }
    const settled = await Promise.allSettled(remote);
    if (localError !== undefined) throw localError;
    for (const s of settled) if (s.status === "rejected") throw s.reason;
    return { ints, commitments };
  }

  /** Terminates the workers (idempotent). */
  async close(): Promise<void> {
    const lanes = this.lanes.splice(0);
    await Promise.all(lanes.map((l) => l.close()));
  }
}

function commitHere(t: Float32Array | Int32Array, index: number): { values: Int32Array; commitment: TensorCommitment } {
  let values: Int32Array;
  if (t instanceof Float32Array) {
    const bad = floatToInt32InPlace(t);
    if (bad >= 0) throw new NonIntegerError(index, bad, t[bad]!);
    values = new Int32Array(t.buffer, t.byteOffset, t.length);
  } else {
    values = t;
  }
  if (!LITTLE_ENDIAN_HOST) return { values, commitment: commitTensor(values) };
  const tree = chunkTree(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
  return { values, commitment: tensorCommitmentOf(MerkleTree.fromTree(tree), values.length) };
}

/**
 * Float32 items that share memory with an int32 item or an earlier float item are copied, so that every in-place
 * conversion and every transfer owns its buffer.
 */
export function ownBuffers(items: readonly (Float32Array | Int32Array)[]): (Float32Array | Int32Array)[] {
  const seen = new Set<ArrayBufferLike>(items.filter((t) => t instanceof Int32Array).map((t) => t.buffer));
  return items.map((t) => {
    if (t instanceof Int32Array) return t;
    if (seen.has(t.buffer)) return new Float32Array(t);
    seen.add(t.buffer);
    return t;
  });
}
