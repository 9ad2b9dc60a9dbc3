/**
 * Subscriptions (contracts/subscriptions/SubscriptionManager.sol): read a schedule and where it
 * stands, list them, trigger a due run (keepers, workers), settle a failed run back into its
 * subscription, and follow each run's job. A subscription is created by its consumer contract itself
 * (the manager's consumer is the caller), so there is no client for that: integrators call their own
 * contract (contracts/examples/SignalFeed.sol, scripts/subscription-demo.ts).
 */
import type { ContractTransactionReceipt, Signer } from "ethers";
import { LogDescription } from "ethers";

import { VeritensorError } from "./errors.js";
import { formatTime, formatVtn } from "./format.js";
import { LOG_WINDOW } from "./job-events.js";
import { JobStatus } from "./job-reads.js";
import type { Protocol } from "./protocol.js";
import { nextBlockTime, read, send } from "./protocol.js";

/** A subscription as the manager stores it (`ISubscriptionManager.Subscription`), with its id. */
export interface SubscriptionInfo {
  readonly id: bigint;
  readonly consumer: string;
  readonly modelId: bigint;
  /** Seconds between the starts of two runs' intervals. */
  readonly period: bigint;
  /** Gas of the consumer's result callback. */
  readonly callbackGasLimit: bigint;
  /** When run 0's interval starts. */
  readonly start: bigint;
  readonly runs: bigint;
  /** The first run that may still be triggered: every run before it was triggered or skipped. */
  readonly nextRun: bigint;
  readonly triggered: bigint;
  readonly cancelled: boolean;
  /** Tokens held for future runs, withdrawable by the consumer. */
  readonly balance: bigint;
  readonly feePerRun: bigint;
  readonly keeperReward: bigint;
}

/** Where a subscription's schedule stands at a given time (see {@link scheduleOf}). */
export interface Schedule {
  /** The run whose interval contains `now` (may be past the last run). */
  readonly current: bigint;
  /** Runs triggered. */
  readonly done: bigint;
  /** Runs whose interval passed without a trigger while the subscription was active (their funds stayed). */
  readonly skipped: bigint;
  /** Runs that will never run because the consumer cancelled. */
  readonly cancelledRuns: bigint;
  /** Runs that can still be triggered (0 once cancelled or finished). */
  readonly remaining: bigint;
  /** The next run that can be triggered, and when its interval starts; undefined when none can. */
  readonly next?: { readonly run: bigint; readonly at: bigint };
  /** Whether a trigger passes the schedule and balance checks now. */
  readonly dueNow: boolean;
  /** What one run costs the balance: its fee and the keeper reward. */
  readonly cost: bigint;
  /** How many runs the balance pays for. */
  readonly funded: bigint;
  /** No run can be triggered any more (all triggered or skipped, or cancelled). */
  readonly finished: boolean;
}

/** Where `s` stands at chain time `now`: runs done, skipped and remaining, the next due run. */
export function scheduleOf(s: SubscriptionInfo, now: bigint): Schedule {
  const current = now >= s.start ? (now - s.start) / s.period : 0n;
  const cost = s.feePerRun + s.keeperReward;
  const min = (a: bigint, b: bigint) => (a < b ? a : b);
  // Runs before `open` are behind: triggered, or skipped. A cancelled schedule stopped at `nextRun`
  // as far as this view can tell (the time of the cancel is in SubscriptionCancelled).
  const open = s.cancelled ? s.nextRun : min(current > s.nextRun ? current : s.nextRun, s.runs);
  const remaining = s.cancelled ? 0n : s.runs - open;
  const next = remaining > 0n ? { run: open, at: s.start + open * s.period } : undefined;
  return {
    current,
    done: s.triggered,
    skipped: open - s.triggered,
    cancelledRuns: s.cancelled ? s.runs - open : 0n,
    remaining,
    next,
    dueNow: next !== undefined && next.run === current && s.balance >= cost,
    cost,
    funded: cost === 0n ? 0n : s.balance / cost,
    finished: remaining === 0n,
  };
}

type SubscriptionStruct = Awaited<ReturnType<Protocol["subscriptions"]["getSubscription"]>>;

function infoOf(id: bigint, s: SubscriptionStruct): SubscriptionInfo {
  return {
    id,
    consumer: s.consumer,
    modelId: s.modelId,
    period: s.period,
    callbackGasLimit: s.callbackGasLimit,
    start: s.start,
    runs: s.runs,
    nextRun: s.nextRun,
    triggered: s.triggered,
    cancelled: s.cancelled,
    balance: s.balance,
    feePerRun: s.feePerRun,
    keeperReward: s.keeperReward,
  };
}

/** Subscription `id` as stored. */
export async function readSubscription(p: Protocol, id: bigint): Promise<SubscriptionInfo> {
  return infoOf(id, await read(p, `reading subscription ${id}`, () => p.subscriptions.getSubscription(id)));
}

/** Every subscription, oldest first (ids 1 to `subscriptionCount`). */
export async function listSubscriptions(p: Protocol): Promise<SubscriptionInfo[]> {
  const count = await read(p, "reading the subscription count", () => p.subscriptions.subscriptionCount());
  const ids = Array.from({ length: Number(count) }, (_, i) => BigInt(i + 1));
  return Promise.all(ids.map((id) => readSubscription(p, id)));
}

/** What became of a run's job, for the manager and the escrow. */
export type RunFate =
  | "waiting for a worker"
  | "claimed"
  | "submitted (challenge window)"
  | "delivered"
  | "relay failed (the consumer may retry it)"
  | "failed: refunded, to settle"
  | "failed: rejected, to settle"
  | "settled back (refunded)"
  | "settled back (rejected)"
  | "finalized, relay not recorded (the consumer may retry it)";

/** One triggered run: its job, who triggered it, what it paid and what became of it. */
export interface RunRecord {
  readonly run: bigint;
  readonly jobId: bigint;
  readonly keeper: string;
  readonly fee: bigint;
  readonly keeperReward: bigint;
  /** Runs skipped just before this one. */
  readonly skipped: bigint;
  readonly block: number;
  readonly jobStatus: bigint;
  readonly fate: RunFate;
}

/** Manager run states (`ISubscriptionManager.RunState`). */
export const RunState = { None: 0n, Requested: 1n, Delivered: 2n, RelayFailed: 3n, Settled: 4n } as const;

function fateOf(state: bigint, status: bigint): RunFate {
  if (state === RunState.Delivered) return "delivered";
  if (state === RunState.RelayFailed) return "relay failed (the consumer may retry it)";
  if (state === RunState.Settled) return status === JobStatus.Rejected ? "settled back (rejected)" : "settled back (refunded)";
  if (status === JobStatus.Refunded) return "failed: refunded, to settle";
  if (status === JobStatus.Rejected) return "failed: rejected, to settle";
  if (status === JobStatus.Finalized) return "finalized, relay not recorded (the consumer may retry it)";
  if (status === JobStatus.Submitted) return "submitted (challenge window)";
  if (status === JobStatus.Claimed) return "claimed";
  return "waiting for a worker";
}

/** The block the manager was deployed in (0 for one that does not say). */
async function managerFirstBlock(p: Protocol): Promise<number> {
  return p.subscriptions.deploymentBlock().then(Number, () => 0);
}

/**
 * Every run triggered for subscription `id`, oldest first, from the manager's `RunTriggered` events
 * (in windows of {@link LOG_WINDOW} blocks from the manager's deployment: public endpoints cap the
 * range of `eth_getLogs`), each with its job's status and what became of it.
 */
export async function subscriptionRuns(p: Protocol, id: bigint): Promise<RunRecord[]> {
  const m = p.subscriptions;
  const [first, head] = await Promise.all([managerFirstBlock(p), p.connection.ethers.provider.getBlockNumber()]);
  const query = (from: number, to: number) => m.queryFilter(m.filters.RunTriggered(id), from, to);
  const events: Awaited<ReturnType<typeof query>> = [];
  for (let from = first; from <= head; from += LOG_WINDOW) {
    events.push(...(await read(p, `reading the runs of subscription ${id}`, () => query(from, Math.min(head, from + LOG_WINDOW - 1)))));
  }
  return Promise.all(
    events.map(async (e) => {
      const jobId = e.args.jobId;
      const [run, job] = await Promise.all([m.getRun(jobId), p.jobManager.getJob(jobId)]);
      return {
        run: e.args.run,
        jobId,
        keeper: e.args.keeper,
        fee: e.args.fee,
        keeperReward: e.args.keeperReward,
        skipped: e.args.skipped,
        block: e.blockNumber,
        jobStatus: job.status,
        fate: fateOf(run.state, job.status),
      };
    }),
  );
}

/** The manager's `name` events in a receipt, decoded. */
function managerEvents(p: Protocol, receipt: ContractTransactionReceipt, name: "RunTriggered" | "RunSettled" | "SlashesCollected"): LogDescription[] {
  const iface = p.subscriptions.interface;
  const fragment = iface.getEvent(name)!;
  const manager = p.addresses.subscriptions.toLowerCase();
  return receipt.logs
    .filter((log) => log.topics[0] === fragment.topicHash && log.address.toLowerCase() === manager)
    .map((log) => new LogDescription(fragment, fragment.topicHash, iface.decodeEventLog(fragment, log.data, log.topics)));
}

export interface TriggerResult {
  readonly subscriptionId: bigint;
  readonly run: bigint;
  readonly jobId: bigint;
  readonly fee: bigint;
  readonly keeperReward: bigint;
  readonly skipped: bigint;
  readonly receipt: ContractTransactionReceipt;
}

/**
 * Triggers the due run of subscription `id` as `keeper`, after checking what can be checked (not
 * cancelled, a run due now, the balance); the manager checks the rest (the consumer's input, the
 * fee per run against the escrow's least fee) and its refusal is explained in words.
 */
export async function triggerRun(p: Protocol, keeper: Signer, id: bigint): Promise<TriggerResult> {
  const s = await readSubscription(p, id);
  const now = await nextBlockTime(p);
  const sched = scheduleOf(s, now);
  if (s.cancelled) throw new VeritensorError(`subscription ${id} was cancelled by its consumer: no run can be triggered`);
  if (sched.finished) throw new VeritensorError(`subscription ${id} is finished: its ${s.runs} runs were triggered or skipped`);
  if (!sched.dueNow && sched.next !== undefined && sched.next.run !== sched.current) {
    throw new VeritensorError(
      `run ${sched.current} of subscription ${id} was already triggered; run ${sched.next.run} is due at ${formatTime(sched.next.at, now)}`,
    );
  }
  if (s.balance < sched.cost) {
    throw new VeritensorError(
      `subscription ${id} holds ${formatVtn(s.balance)}, a run costs ${formatVtn(sched.cost)} (fee ${formatVtn(s.feePerRun)}, keeper reward ${formatVtn(s.keeperReward)}): its consumer must fund it`,
    );
  }
  return sendTrigger(p, keeper, id);
}

/** The trigger alone, without {@link triggerRun}'s checks (for the keeper, which just read the subscription). */
export async function sendTrigger(p: Protocol, keeper: Signer, id: bigint): Promise<TriggerResult> {
  const receipt = await send(p, `triggering subscription ${id}`, () => p.subscriptions.connect(keeper).trigger(id));
  const [event] = managerEvents(p, receipt, "RunTriggered");
  if (!event) throw new VeritensorError("the trigger emitted no RunTriggered event");
  return {
    subscriptionId: id,
    run: event.args.run as bigint,
    jobId: event.args.jobId as bigint,
    fee: event.args.fee as bigint,
    keeperReward: event.args.keeperReward as bigint,
    skipped: event.args.skipped as bigint,
    receipt,
  };
}

export interface SettleRunResult {
  readonly subscriptionId: bigint;
  readonly run: bigint;
  /** The job's end: Refunded or Rejected (the fee comes back), or Finalized (only slashes do). */
  readonly status: bigint;
  /** The fee returned to the subscription's balance (0 for a finalized run). */
  readonly refund: bigint;
  /** What the timeouts of the run's workers paid, added to the subscription's balance. */
  readonly slashes: bigint;
  readonly receipt: ContractTransactionReceipt;
}

/**
 * Settles a run whose job is over (anyone may): a refunded or rejected run gets its fee back, and any
 * run what its workers' timeouts paid (the escrow credits those to the manager, the job's requester).
 */
export async function settleRun(p: Protocol, caller: Signer, jobId: bigint): Promise<SettleRunResult> {
  const run = await read(p, `reading the run of job ${jobId}`, () => p.subscriptions.getRun(jobId));
  if (run.state === RunState.None) throw new VeritensorError(`job ${jobId} is no run of a subscription`);
  const failed = run.state === RunState.Requested;
  if (!failed && (run.state === RunState.Settled || run.slashesCollected)) {
    const what = run.state === RunState.Settled ? "already settled" : "was finalized (its result relayed) and its slashes collected";
    throw new VeritensorError(`run ${run.run} of subscription ${run.subscriptionId} (job ${jobId}) ${what}: nothing to settle`);
  }
  const receipt = await send(p, `settling job ${jobId} of subscription ${run.subscriptionId}`, () =>
    failed ? p.subscriptions.connect(caller).settleRun(jobId) : p.subscriptions.connect(caller).collectSlashes(jobId),
  );
  const [settled] = managerEvents(p, receipt, "RunSettled");
  const [collected] = managerEvents(p, receipt, "SlashesCollected");
  const status = settled ? (settled.args.status as bigint) : (await read(p, `reading job ${jobId}`, () => p.jobManager.getJob(jobId))).status;
  return {
    subscriptionId: run.subscriptionId,
    run: run.run,
    status,
    refund: settled ? (settled.args.refund as bigint) : 0n,
    slashes: collected ? (collected.args.amount as bigint) : 0n,
    receipt,
  };
}

/** The subscriptions due now (their next run's interval has started and their balance pays for it), of `models` if given. */
export async function dueSubscriptions(p: Protocol, models?: readonly bigint[]): Promise<SubscriptionInfo[]> {
  const [all, now] = await Promise.all([listSubscriptions(p), nextBlockTime(p)]);
  return all.filter((s) => (models === undefined || models.includes(s.modelId)) && scheduleOf(s, now).dueNow);
}
