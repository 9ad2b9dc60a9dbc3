/**
 * A small pool of runners per model, so that a verifier re-runs several results at once: each
 * runner is one onnxruntime session with one intra-op thread (so that the sessions do not fight
 * over the cores), in a thread of its own by default (threads.ts: onnxruntime-node's `session.run`
 * blocks the thread that calls it, so sessions sharing a thread take turns). Runners open on first
 * use, up to `size`; a run waits for a free one.
 */
import type { Hex } from "../commitments/merkle.js";
import { tensorRoot } from "../commitments/tensor.js";
import type { CanonicalModel } from "../model/canonical.js";
import type { InputLike } from "../runtime/input.js";
import type { RunnerOptions } from "../runtime/runner.js";
import { CanonicalRunner } from "../runtime/runner.js";

/** What the verifier needs of a run: the output and its commitment. */
export interface OutputRun {
  readonly output: Int32Array;
  readonly outputCommitment: Hex;
}

/** An input to fetch: its URI, its committed tensor commitment and its size in bytes (a batch's: `items` inputs). */
export interface RemoteInput {
  readonly uri: string;
  readonly commitment: string;
  readonly bytes: number;
  readonly ipfsGateway?: string;
  readonly items?: number;
}

/** What the verifier needs of a runner (a CanonicalRunner; tests pass an instrumented one). */
export interface OutputRunner {
  /** Runs `input`, which the runner may take over (an Int32Array's memory may be moved to its thread). */
  run(input: InputLike): Promise<OutputRun>;
  /**
   * Fetches the input at `from` and checks it as fetchInput does (an InputError if it cannot be
   * had), then runs it: in the runner's own thread, if it has one (optional).
   */
  runFrom?(from: RemoteInput): Promise<OutputRun>;
  release(): Promise<void>;
}

export type RunnerFactory = (model: CanonicalModel, options: RunnerOptions) => Promise<OutputRunner>;

/**
 * CanonicalRunners in the calling thread, as the verifier uses them: the input validated and run,
 * its output checked to be integers and committed. The input's own commitment is not computed
 * again (CanonicalRunner.run would: for a MobileNet-sized input that costs as much as the rest of
 * a check outside the session): the verifier checked it when it took the input (from the
 * request's calldata, which the escrow committed, or fetched and checked against the request's
 * commitment).
 */
export const canonicalRunners: RunnerFactory = async (model, options) => {
  const runner = await CanonicalRunner.create(model, options);
  return {
    async run(input: InputLike): Promise<OutputRun> {
      const output = await runner.runPlain(input);
      return { output, outputCommitment: tensorRoot(output) };
    },
    release: () => runner.release(),
  };
};

export class RunnerPool {
  readonly model: CanonicalModel;
  readonly size: number;
  private readonly create: RunnerFactory;
  private readonly options: RunnerOptions;
  private readonly free: OutputRunner[] = [];
  private readonly opened: Promise<OutputRunner>[] = [];
  private readonly waiting: ((r: OutputRunner) => void)[] = [];
  private closed = false;

  constructor(model: CanonicalModel, size: number, create: RunnerFactory = canonicalRunners, options: RunnerOptions = { intraOpNumThreads: 1 }) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`a runner pool needs at least one runner, not ${size}`);
    this.model = model;
    this.size = size;
    this.create = create;
    this.options = options;
  }

  /** Runs `fn` with a runner of its own (waits for one to be free). */
  async use<T>(fn: (runner: OutputRunner) => Promise<T>): Promise<T> {
    const runner = await this.acquire();
    try {
      return await fn(runner);
    } finally {
      this.release(runner);
    }
  }

  private async acquire(): Promise<OutputRunner> {
    if (this.closed) throw new Error("the runner pool is closed");
    const free = this.free.pop();
    if (free) return free;
    if (this.opened.length < this.size) {
      const opening = this.create(this.model, this.options);
      this.opened.push(opening);
      try {
        return await opening;
      } catch (e) {
        this.opened.splice(this.opened.indexOf(opening), 1);
        throw e;
      }
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private release(runner: OutputRunner): void {
    const next = this.waiting.shift();
    if (next) next(runner);
    else this.free.push(runner);
  }

  /** Releases every session (call it once no run is in progress: the node has stopped). */
  async close(): Promise<void> {
    this.closed = true;
    const opened = this.opened.splice(0);
    this.free.length = 0;
    for (const r of await Promise.allSettled(opened)) if (r.status === "fulfilled") await r.value.release().catch(() => undefined);
  }
}

/** At most `size` calls of `run` in progress at once; the others wait their turn, first come first served. */
export class Slots {
  private free: number;
  private readonly waiting: (() => void)[] = [];

  constructor(size: number) {
    this.free = Math.max(1, size);
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.free++;
    }
  }
}

/**
 * Runs `fn` on every item, at most `limit` at once, and waits for all of them. The first error is
 * thrown once every call has ended (none is left running behind the caller's back).
 */
export async function eachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  let failed: { error: unknown } | undefined;
  const lane = async () => {
    while (next < items.length) {
      const item = items[next++]!;
      try {
        await fn(item);
      } catch (e) {
        failed ??= { error: e };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, lane));
  if (failed) throw failed.error;
}
