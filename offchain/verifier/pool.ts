/**
 * A small pool of runners per model, so that a verifier re-runs several results at once. One
 * onnxruntime session runs one inference at a time (its runs are queued), but `session.run` is
 * async and computes on onnxruntime's own threads: several sessions of the same model run in
 * parallel, one core each (one intra-op thread per session, so that the sessions do not fight
 * over the cores). Runners open on first use, up to `size`; a run waits for a free one.
 */
import type { CanonicalModel } from "../model/canonical.js";
import type { InputLike } from "../runtime/input.js";
import type { RunResult, RunnerOptions } from "../runtime/runner.js";
import { CanonicalRunner } from "../runtime/runner.js";

/** What the verifier needs of a runner (a CanonicalRunner; tests pass an instrumented one). */
export interface OutputRunner {
  run(input: InputLike): Promise<RunResult>;
  release(): Promise<void>;
}

export type RunnerFactory = (model: CanonicalModel, options: RunnerOptions) => Promise<OutputRunner>;

export const canonicalRunners: RunnerFactory = (model, options) => CanonicalRunner.create(model, options);

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
