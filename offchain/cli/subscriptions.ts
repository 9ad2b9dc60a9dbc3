/**
 * The `sub` tasks' words: a subscription's schedule, where it stands, and its runs, as report rows.
 */
import type { Protocol, RunRecord, Schedule, SubscriptionInfo } from "../clients/index.js";
import { formatDuration, formatGas, formatTime, formatVtn, read, scheduleOf } from "../clients/index.js";

/** One word for where a subscription stands. */
export function subscriptionState(s: SubscriptionInfo, sched: Schedule): string {
  if (s.cancelled) return "cancelled";
  if (sched.finished) return "finished";
  if (sched.dueNow) return "run due now";
  if (sched.next !== undefined && sched.next.run === sched.current) return "run due, balance too low";
  return "active";
}

/** The next due run in words. */
function nextDue(s: SubscriptionInfo, sched: Schedule, now: bigint): string {
  if (sched.next === undefined) return s.cancelled ? "none (cancelled)" : "none (every run was triggered or skipped)";
  const when = sched.next.at <= now ? `due now (since ${formatTime(sched.next.at, now)})` : `at ${formatTime(sched.next.at, now)}`;
  const unpaid = s.balance < sched.cost ? `; the balance does not pay for it (a run costs ${formatVtn(sched.cost)})` : "";
  return `run ${sched.next.run}, ${when}${unpaid}`;
}

/** The rows of `sub show`: schedule, runs done, skipped and remaining, balance, next due, fees. */
export async function subscriptionRows(p: Protocol, s: SubscriptionInfo, now: bigint): Promise<[string, string | undefined][]> {
  const sched = scheduleOf(s, now);
  const [elements, least] = await Promise.all([
    read(p, `reading model ${s.modelId}`, () => p.registry.elements(s.modelId)),
    p.subscriptions.minimumFeePerRun(s.modelId, s.callbackGasLimit).catch(() => undefined),
  ]);
  const jobGas = await p.subscriptions.relayGas(s.callbackGasLimit, elements[1]);
  const end = s.start + s.runs * s.period;
  const feeNote =
    least === undefined ? "" : s.feePerRun >= least ? ` (the least a run's job accepts now: ${formatVtn(least)})` : ` — BELOW the least a run's job accepts now, ${formatVtn(least)}: triggers fail until its consumer raises it`;
  return [
    ["consumer", s.consumer],
    ["model", String(s.modelId)],
    ["schedule", `${s.runs} run(s) every ${formatDuration(s.period)}, from ${formatTime(s.start, now)} to ${formatTime(end, now)}`],
    [
      "runs",
      `${sched.done} triggered, ${sched.skipped} skipped, ${sched.remaining} remaining` + (sched.cancelledRuns > 0n ? `, ${sched.cancelledRuns} never to run (cancelled)` : ""),
    ],
    ["next due", nextDue(s, sched, now)],
    ["balance", `${formatVtn(s.balance)} (pays ${sched.funded} run(s) at ${formatVtn(sched.cost)} each; withdrawable by the consumer)`],
    ["fee per run", `${formatVtn(s.feePerRun)}${feeNote}`],
    ["keeper reward", formatVtn(s.keeperReward)],
    ["callback gas", `${formatGas(s.callbackGasLimit)} for the consumer (each run's job asks ${formatGas(jobGas)} with the relay's own)`],
  ];
}

/** One line per run: its job, who triggered it, what it paid, what became of it. */
export function runLines(runs: readonly RunRecord[]): string[] {
  return runs.map(
    (r) =>
      `run ${r.run}: job ${r.jobId}, triggered in block ${r.block} by ${r.keeper}${r.skipped > 0n ? ` (${r.skipped} skipped before it)` : ""}, ` +
      `fee ${formatVtn(r.fee)}: ${r.fate}`,
  );
}
