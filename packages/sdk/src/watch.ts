/**
 * A job's life as events, read from the escrow's logs (each event names the job in its first
 * indexed topic): from the request through claim, submission and disputes to finalization,
 * refund or rejection. Polls `eth_getLogs` from a start block to the head, so it works on any
 * endpoint (no filters or subscriptions to keep alive) and replays what already happened.
 */
import type { Interface, Log, Provider } from "ethers";
import { toBeHex, zeroPadValue } from "ethers";

import { TimeoutError, VeritensorError } from "./errors.js";
import { toVeritensorError } from "./revert.js";

/** What happened to a job, in the order of the chain. */
export type JobEventType =
  | "requested"
  | "batch"
  | "claimed"
  | "submitted"
  | "disputed"
  | "dispute-settled"
  | "worker-timed-out"
  | "reopened"
  | "finalized"
  | "callback-delivered"
  | "callback-failed"
  | "cancelled"
  | "refunded"
  | "rejected";

/** The escrow's event behind each type. */
export const JOB_EVENTS: Readonly<Record<string, JobEventType>> = {
  JobRequested: "requested",
  BatchRequested: "batch",
  JobClaimed: "claimed",
  ResultSubmitted: "submitted",
  JobFrozen: "disputed",
  DisputeSettled: "dispute-settled",
  WorkerTimedOut: "worker-timed-out",
  JobReopened: "reopened",
  JobFinalized: "finalized",
  CallbackDelivered: "callback-delivered",
  CallbackFailed: "callback-failed",
  JobCancelled: "cancelled",
  JobRefunded: "refunded",
  JobRejected: "rejected",
};

/** Events after which nothing more happens to the job. */
export const FINAL_EVENTS: ReadonlySet<JobEventType> = new Set(["finalized", "refunded", "rejected"]);

export interface JobEvent {
  readonly type: JobEventType;
  readonly jobId: bigint;
  /** The escrow's event name (`ResultSubmitted`). */
  readonly event: string;
  /** The event's arguments by name (`output`, `challengeEnd`, `worker`...). */
  readonly args: Readonly<Record<string, unknown>>;
  readonly blockNumber: number;
  readonly transactionHash: string;
  readonly logIndex: number;
}

export interface WatchOptions {
  /** First block to read (default: the request's block when this client sent it, else 0). */
  readonly fromBlock?: number;
  /** Give up after this long: the iteration throws a TimeoutError (code TIMEOUT). Default: no limit. */
  readonly timeoutMs?: number;
  /** Time between polls of the head (default 1000 ms). */
  readonly pollMs?: number;
  /** Stops the watch (the iteration ends without error). */
  readonly signal?: AbortSignal;
  /** Called for every event, before the iterator yields it. */
  readonly onEvent?: (event: JobEvent) => void;
  /** Blocks per `eth_getLogs` call, for endpoints that limit ranges (default 10,000). */
  readonly maxBlockRange?: number;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => (clearTimeout(t), resolve()), { once: true });
  });

/**
 * The events of job `jobId` on `escrow` (at `address`), from `fromBlock` on, until one of
 * {@link FINAL_EVENTS} (the events of that transaction included), the timeout or the signal.
 */
export async function* jobEvents(
  provider: Provider,
  escrow: Interface,
  address: string,
  jobId: bigint,
  options: WatchOptions = {},
): AsyncGenerator<JobEvent, void, undefined> {
  const started = Date.now();
  const pollMs = options.pollMs ?? 1000;
  const range = options.maxBlockRange ?? 10_000;
  const fragments = Object.keys(JOB_EVENTS).map((name) => escrow.getEvent(name)!);
  const byTopic = new Map(fragments.map((f) => [f.topicHash, f]));
  const topics = [fragments.map((f) => f.topicHash), zeroPadValue(toBeHex(jobId), 32)];
  let from = options.fromBlock ?? 0;
  for (;;) {
    if (options.signal?.aborted) return;
    let head: number;
    try {
      head = await provider.getBlockNumber();
    } catch (e) {
      throw toVeritensorError(e, `watching job ${jobId}`, escrow);
    }
    let done = false;
    while (from <= head) {
      const to = Math.min(head, from + range - 1);
      let logs: Log[];
      try {
        logs = await provider.getLogs({ address, topics, fromBlock: from, toBlock: to });
      } catch (e) {
        throw toVeritensorError(e, `reading the events of job ${jobId} (blocks ${from} to ${to}; pass fromBlock to start later)`, escrow);
      }
      logs.sort((a, b) => a.blockNumber - b.blockNumber || a.index - b.index);
      for (const log of logs) {
        const fragment = byTopic.get(log.topics[0]!);
        if (!fragment) continue;
        const decoded = escrow.decodeEventLog(fragment, log.data, log.topics);
        const args: Record<string, unknown> = {};
        fragment.inputs.forEach((input, i) => (args[input.name] = decoded[i]));
        const event: JobEvent = {
          type: JOB_EVENTS[fragment.name]!,
          jobId,
          event: fragment.name,
          args,
          blockNumber: log.blockNumber,
          transactionHash: log.transactionHash,
          logIndex: log.index,
        };
        options.onEvent?.(event);
        yield event;
        if (FINAL_EVENTS.has(event.type)) done = true;
      }
      from = to + 1;
      // Ranges hold whole blocks: the final transaction's other events (a consumer's callback) were yielded too.
      if (done) return;
    }
    if (options.timeoutMs !== undefined && Date.now() - started >= options.timeoutMs) {
      throw new TimeoutError(`job ${jobId}: no final event (finalized, refunded or rejected) within ${Math.round(options.timeoutMs / 1000)} s`);
    }
    const left = options.timeoutMs === undefined ? pollMs : Math.min(pollMs, options.timeoutMs - (Date.now() - started));
    await sleep(Math.max(0, left), options.signal);
  }
}

/** Guards the job id a caller passes. */
export function toJobId(jobId: bigint | number | string): bigint {
  try {
    const id = BigInt(jobId);
    if (id > 0n) return id;
  } catch {
    // below
  }
  throw new VeritensorError(`"${jobId}" is not a job id (a positive integer)`, { code: "INVALID_ARGUMENT" });
}
