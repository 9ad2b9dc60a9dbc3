/**
 * The loop of a long-running node: one `tick()` per poll interval until the signal aborts. An
 * endpoint failure (unreachable, reset, overloaded) is retried with exponential backoff and logged
 * once per outage, never thrown; any other error ends the loop.
 */
import type { Logger } from "./log.js";
import { isTransient } from "./transient.js";

export interface LoopOptions {
  /** Pause between ticks (ms). */
  readonly pollMs: number;
  /** First retry delay after an endpoint failure (ms), doubled up to `maxBackoffMs`. */
  readonly backoffMs?: number;
  readonly maxBackoffMs?: number;
  readonly signal?: AbortSignal;
  readonly log: Logger;
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}

const reason = (e: unknown): string => {
  const m = (e as Error)?.message ?? String(e);
  return m.split("\n")[0]!.slice(0, 200);
};

export async function runLoop(tick: () => Promise<void>, o: LoopOptions): Promise<void> {
  const base = o.backoffMs ?? 500;
  const max = o.maxBackoffMs ?? 15_000;
  let delay = base;
  let outage: number | undefined;
  while (!o.signal?.aborted) {
    try {
      await tick();
      if (outage !== undefined) {
        o.log.info(`the endpoint is back after ${((Date.now() - outage) / 1000).toFixed(1)} s; resuming`);
        outage = undefined;
      }
      delay = base;
      await sleep(o.pollMs, o.signal);
    } catch (e) {
      if (!isTransient(e)) throw e;
      if (outage === undefined) {
        outage = Date.now();
        o.log.warn(`the endpoint failed (${reason(e)}); retrying with backoff`);
      } else o.log.warn(`still unreachable; next try in ${(delay / 1000).toFixed(1)} s`);
      await sleep(delay, o.signal);
      delay = Math.min(max, delay * 2);
    }
  }
}
