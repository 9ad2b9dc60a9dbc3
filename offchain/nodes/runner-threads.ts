/**
 * Runners in threads of their own: each a worker thread holding one CanonicalRunner of the model
 * (offchain/nodes/runner-thread.ts). onnxruntime-node's `session.run` blocks the JavaScript
 * thread that calls it, so several sessions in the node's own thread take turns; in threads they
 * run at once, one core each, and the node's thread stays free for the chain, the store and the
 * inputs. A thread that cannot start falls back to a runner in the calling thread.
 */
import { extname } from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";

import type { Hex } from "../commitments/merkle.js";
import type { InputLike } from "../runtime/input.js";
import { InputError } from "./sources/inputs.js";
import type { OutputRun, OutputRunner, RemoteInput, RunnerFactory } from "./runner-pool.js";
import { canonicalRunners } from "./runner-pool.js";

const ENTRY = new URL(`./runner-thread${extname(fileURLToPath(import.meta.url))}`, import.meta.url);

interface Pending {
  resolve(r: OutputRun): void;
  reject(e: Error): void;
}

type Reply = { id: number; output?: Int32Array; outputCommitment?: Hex; error?: string; inputError?: "unreachable" | "invalid" };

class ThreadRunner implements OutputRunner {
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private dead: Error | undefined;

  constructor(worker: Worker) {
    this.worker = worker;
    worker.on("message", (m: Reply) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (this.pending.size === 0) worker.unref();
      if (m.error !== undefined) p.reject(m.inputError ? new InputError(m.inputError, m.error) : new Error(m.error));
      else p.resolve({ output: m.output!, outputCommitment: m.outputCommitment! });
    });
    const fail = (e: Error) => {
      this.dead ??= e;
      for (const p of this.pending.values()) p.reject(e);
      this.pending.clear();
    };
    worker.on("error", fail);
    worker.on("exit", (code) => fail(new Error(`runner thread exited (code ${code})`)));
    worker.unref();
  }

  runFrom(from: RemoteInput): Promise<OutputRun> {
    return this.send({ from: { ...from } }, []);
  }

  run(input: InputLike): Promise<OutputRun> {
    // The thread gets the input's memory: an int32 input that is all of its buffer is moved (the
    // caller gives it up: the verifier's is a copy of its own), any other is copied.
    const whole = input instanceof Int32Array && input.byteOffset === 0 && input.byteLength === input.buffer.byteLength && input.buffer instanceof ArrayBuffer;
    const copy = whole ? input : input instanceof Int32Array ? input.slice() : input;
    return this.send({ input: copy }, copy instanceof Int32Array ? [copy.buffer as ArrayBuffer] : []);
  }

  private send(request: object, transfer: ArrayBuffer[]): Promise<OutputRun> {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      if (this.pending.size === 0) this.worker.ref();
      this.pending.set(id, { resolve, reject });
      try {
        this.worker.postMessage({ id, ...request }, transfer);
      } catch (e) {
        this.pending.delete(id);
        if (this.pending.size === 0) this.worker.unref();
        reject(e as Error);
      }
    });
  }

  async release(): Promise<void> {
    this.dead ??= new Error("runner thread released");
    await this.worker.terminate();
  }
}

/** Starts a runner thread for the model; undefined if it cannot (the caller falls back). */
function startThread(model: Uint8Array, options: Record<string, unknown>): Promise<ThreadRunner | { error: string } | undefined> {
  return new Promise((resolve) => {
    let worker: Worker;
    try {
      worker = new Worker(ENTRY, { workerData: { model, options } });
    } catch {
      resolve(undefined);
      return;
    }
    const onError = () => {
      void worker.terminate();
      resolve(undefined);
    };
    worker.once("error", onError);
    worker.once("exit", onError);
    worker.once("message", (m: { ready: boolean; error?: string }) => {
      worker.off("error", onError);
      worker.off("exit", onError);
      if (m.ready) resolve(new ThreadRunner(worker));
      else {
        void worker.terminate();
        resolve({ error: m.error ?? "the runner thread could not open the model" });
      }
    });
  });
}

/**
 * Runners in threads of their own. A model onnxruntime cannot open fails as CanonicalRunner.create
 * would; a thread that cannot start at all (no TypeScript support in threads, no `tsx`) gives a
 * runner in the calling thread instead.
 */
export const threadRunners: RunnerFactory = async (model, options) => {
  const started = await startThread(model.bytes, { ...options });
  if (started instanceof ThreadRunner) return started;
  if (started !== undefined) throw new Error(started.error);
  return canonicalRunners(model, options);
};
