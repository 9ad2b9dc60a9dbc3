/**
 * The keeper a worker runs for subscriptions (contracts/subscriptions/SubscriptionManager.sol): each
 * pass, it triggers the runs that are due of the subscriptions whose model the worker serves, when
 * the run's job would be worth claiming by the worker's own rule (its --min-fee, --max-callback-gas
 * and --callback-gas-price). The triggered job is an ordinary consumer job: the worker sees its
 * `JobRequested` in its next pass and claims, runs, submits and finalizes it as any other, the
 * finalization relaying the result to the subscription's consumer. The trigger pays the keeper the
 * subscription's keeper reward (a pull balance in the manager, withdrawn with the worker's earnings).
 *
 * It learns of subscriptions from `SubscriptionCreated`, which the worker's own event scan fetches in
 * the same `eth_getLogs` call as the escrow's events ({@link SubscriptionKeeper.onLog}: no call of its
 * own per block); the blocks before the node's store began are read once, from the manager's
 * deployment. The ids it watches are kept in the node's store; it reads each subscription only when
 * its next run falls due, and forgets it once no run can be triggered any more. A trigger that fails because
 * another keeper was first, or because the run is not due after all, is said plainly: with several
 * keepers it is the normal case.
 */
import type { SubscriptionInfo } from "../clients/index.js";
import { formatTime, formatVtn, readSubscription, scheduleOf, sendTrigger, withdrawKeeperRewards } from "../clients/index.js";
import type { NodeContext } from "./node.js";

/** Blocks per `eth_getLogs` call when reading `SubscriptionCreated`. */
const LOG_RANGE = 5_000;
/** Seconds before a run whose trigger failed is tried again (within its interval). */
const RETRY_S = 30n;

const BACKFILL_KEY = "subscriptions:backfilled";
const WATCH_KEY = "subscriptions:watch";

/** The worker's rule for claiming a job, which a run's job must pass for the keeper to trigger it. */
export interface ClaimRule {
  /** Lowest fee worth claiming. */
  readonly minFee?: bigint;
  /** Largest callback gas limit the worker fronts. */
  readonly maxCallbackGas: bigint;
  /** Token wei per unit of callback gas the worker must be paid (default: the escrow's current rate). */
  readonly callbackGasPrice?: bigint;
}

/** What the keeper needs from the worker that runs it. */
export interface KeeperHost {
  readonly ctx: NodeContext;
  /** At least the time a block mined now will carry. */
  now(): bigint;
  /** Whether the worker serves `modelId`. */
  serves(modelId: bigint): Promise<boolean>;
  /** The head block of this pass, when the node has read it. */
  headBlock(): number | undefined;
  /** Sends through the node's journal (write-ahead, counted). */
  perform<T>(key: string, label: string, fn: () => Promise<T>): Promise<T>;
  readonly rule: ClaimRule;
  /** Withdraw keeper rewards from the manager once they reach this (as the worker's earnings); null: never. */
  readonly withdrawAt: bigint | null;
}

/**
 * Why a run's job would not be claimed by `rule` (undefined when it would): the same checks the
 * worker makes on a job's fee and callback gas, on the job a trigger would request now (its
 * callback fee at the escrow's current rate, `rate`).
 */
export function declineReason(rule: ClaimRule, fee: bigint, jobCallbackGas: bigint, rate: bigint): string | undefined {
  if (rule.minFee !== undefined && fee < rule.minFee) return `its fee per run ${formatVtn(fee)} is below --min-fee ${formatVtn(rule.minFee)}`;
  if (jobCallbackGas > rule.maxCallbackGas) {
    return `its job's callback needs ${jobCallbackGas} gas (the consumer's limit and the relay's), more than --max-callback-gas ${rule.maxCallbackGas}`;
  }
  const price = rule.callbackGasPrice ?? rate;
  if (jobCallbackGas * rate < jobCallbackGas * price) {
    return `its callback fee ${formatVtn(jobCallbackGas * rate)} does not cover ${jobCallbackGas} callback gas at ${price} wei per gas (--callback-gas-price)`;
  }
  return undefined;
}

export class SubscriptionKeeper {
  private readonly host: KeeperHost;
  /** When each watched subscription should be read again (chain time); absent: at once. */
  private readonly nextCheck = new Map<bigint, bigint>();
  /** Runs already reported (not due, declined, failed), so that each is said once. */
  private readonly said = new Set<string>();
  /** The callback gas of a run's job per model and consumer limit (a pure function of both). */
  private readonly jobGas = new Map<string, Promise<bigint>>();
  private disabled: string | undefined;
  private checked = false;
  /** Subscriptions that may still have runs to trigger (kept in the store). */
  private readonly watched: Set<bigint>;
  /** The last block the node's store had scanned when this keeper started: older blocks are backfilled once. */
  private readonly startCursor: number;
  /** Whether a trigger credited a reward since the manager's balance was last read. */
  private rewarded = true;

  constructor(host: KeeperHost) {
    this.host = host;
    const store = host.ctx.store;
    this.watched = new Set((JSON.parse(store.meta(WATCH_KEY) ?? "[]") as string[]).map(BigInt));
    this.startCursor = Number(store.meta("cursor") ?? "-1");
  }

  /** The manager's address and the `SubscriptionCreated` topic, for the node's event scan to include. */
  get events(): { readonly address: string; readonly topic: string } {
    return { address: this.ctx.p.addresses.subscriptions, topic: this.ctx.p.subscriptions.interface.getEvent("SubscriptionCreated")!.topicHash };
  }

  /** Takes a log of the node's scan; returns whether it was the manager's `SubscriptionCreated` (then watched). */
  onLog(log: { readonly address: string; readonly topics: readonly string[]; readonly data: string }): boolean {
    const { address, topic } = this.events;
    if (log.topics[0] !== topic || log.address.toLowerCase() !== address.toLowerCase()) return false;
    const iface = this.ctx.p.subscriptions.interface;
    const e = iface.decodeEventLog("SubscriptionCreated", log.data, log.topics);
    this.watch(e.subscriptionId as bigint, e.modelId as bigint, e.runs as bigint, e.period as bigint, e.start as bigint, e.feePerRun as bigint, e.keeperReward as bigint);
    return true;
  }

  private get ctx(): NodeContext {
    return this.host.ctx;
  }

  /** One pass: learn of new subscriptions, trigger the due runs worth serving, collect rewards. */
  async tick(): Promise<void> {
    if (this.disabled !== undefined) return;
    const p = this.ctx.p;
    if (!this.checked) {
      if ((await p.connection.ethers.provider.getCode(p.addresses.subscriptions)) === "0x") {
        this.disabled = "no subscription manager in this deployment";
        this.ctx.log.info(`subscriptions: ${this.disabled}; not keeping any`);
        return;
      }
      this.checked = true;
    }
    await this.backfill();
    const now = this.host.now();
    let rate: bigint | undefined;
    for (const id of [...this.watched]) {
      if ((this.nextCheck.get(id) ?? 0n) > now) continue;
      const s = await readSubscription(p, id);
      const sched = scheduleOf(s, now);
      if (sched.next === undefined) {
        this.forget(id);
        continue;
      }
      // Nothing to do before the next run's interval starts (the next check is then).
      const nextInterval = s.start + (sched.current + 1n) * s.period;
      if (!(await this.host.serves(s.modelId))) {
        this.nextCheck.set(id, nextInterval);
        continue;
      }
      if (sched.next.run !== sched.current) {
        this.nextCheck.set(id, sched.next.at);
        continue;
      }
      if (!sched.dueNow) {
        this.sayOnce(id, sched.current, "funds", `run ${sched.current} is due, but its balance ${formatVtn(s.balance)} does not pay for a run (${formatVtn(sched.cost)}); waiting for its consumer to fund it`);
        this.nextCheck.set(id, nextInterval);
        continue;
      }
      rate ??= (await p.jobManager.params()).callbackFeePerGas;
      const why = declineReason(this.host.rule, s.feePerRun, await this.jobGasOf(s), rate);
      if (why !== undefined) {
        this.sayOnce(id, sched.current, "declined", `run ${sched.current} is due; not triggering it: ${why}`);
        this.nextCheck.set(id, nextInterval);
        continue;
      }
      await this.trigger(s, sched.current, nextInterval);
    }
    await this.collect();
  }

  /** Withdraws the keeper rewards the manager holds for this node, once they reach `withdrawAt`. */
  private async collect(): Promise<void> {
    const at = this.host.withdrawAt;
    if (at === null || !this.rewarded) return;
    const p = this.ctx.p;
    const owed = await p.subscriptions.balanceOf(this.ctx.address);
    this.rewarded = false;
    if (owed === 0n || owed < at) return;
    const block = this.host.headBlock() ?? (await p.connection.ethers.provider.getBlockNumber());
    await this.host.perform(`withdraw-subscriptions:${block}`, `withdraw ${formatVtn(owed)} of keeper rewards`, () =>
      withdrawKeeperRewards(p, this.ctx.signer),
    );
    this.ctx.log.info(`withdrew ${formatVtn(owed)} of keeper rewards from the subscription manager`);
  }

  private async trigger(s: SubscriptionInfo, run: bigint, nextInterval: bigint): Promise<void> {
    const key = `trigger:${s.id}:${run}`;
    if (this.ctx.journal.inFlight(key)) return;
    try {
      const t = await this.host.perform(key, `trigger run ${run} of subscription ${s.id}`, () => sendTrigger(this.ctx.p, this.ctx.signer, s.id));
      this.nextCheck.set(s.id, nextInterval);
      this.rewarded ||= t.keeperReward > 0n;
      const skipped = t.skipped > 0n ? ` (${t.skipped} earlier run(s) skipped: their intervals passed untriggered)` : "";
      this.ctx.log.info(
        `subscription ${s.id}: run ${t.run} triggered, job ${t.jobId} on model ${s.modelId}, fee ${formatVtn(t.fee)}, keeper reward ${formatVtn(t.keeperReward)}${skipped}`,
      );
    } catch (e) {
      // Another keeper may have been first (the usual case with several), or the run is not due
      // after all (a clock ahead of the chain's): said plainly, once per run.
      const now = await readSubscription(this.ctx.p, s.id);
      const reason = now.nextRun > run ? "another keeper triggered it first" : ((e as Error).message?.split("\n")[0] ?? String(e));
      this.sayOnce(s.id, run, "failed", `run ${run} not triggered: ${reason}`);
      const retry = this.host.now() + RETRY_S;
      this.nextCheck.set(s.id, now.nextRun > run || retry > nextInterval ? nextInterval : retry);
    }
  }

  /** The callback gas a run's job asks for: the consumer's limit and the relay's, for the model's output. */
  private jobGasOf(s: SubscriptionInfo): Promise<bigint> {
    const key = `${s.modelId}:${s.callbackGasLimit}`;
    let gas = this.jobGas.get(key);
    if (!gas) {
      const p = this.ctx.p;
      gas = p.registry.elements(s.modelId).then(([, outputs]) => p.subscriptions.relayGas(s.callbackGasLimit, outputs));
      gas.catch(() => this.jobGas.delete(key));
      this.jobGas.set(key, gas);
    }
    return gas;
  }

  private sayOnce(id: bigint, run: bigint, kind: string, what: string): void {
    const key = `${id}:${run}:${kind}`;
    if (this.said.has(key)) return;
    this.said.add(key);
    this.ctx.log.info(`subscription ${id}: ${what}`);
  }

  /**
   * Once per store: the subscriptions created before the node's scan began (from the manager's
   * deployment block to the store's cursor when this keeper started), in windows of {@link LOG_RANGE}.
   */
  private async backfill(): Promise<void> {
    const { p, store } = this.ctx;
    if (store.meta(BACKFILL_KEY) !== undefined) return;
    const m = p.subscriptions;
    for (let from = Number(await m.deploymentBlock()); from <= this.startCursor; from += LOG_RANGE) {
      for (const e of await m.queryFilter(m.filters.SubscriptionCreated(), from, Math.min(this.startCursor, from + LOG_RANGE - 1))) {
        this.watch(e.args.subscriptionId, e.args.modelId, e.args.runs, e.args.period, e.args.start, e.args.feePerRun, e.args.keeperReward);
      }
    }
    store.setMeta(BACKFILL_KEY, String(this.startCursor));
  }

  private watch(id: bigint, modelId: bigint, runs: bigint, period: bigint, start: bigint, fee: bigint, reward: bigint): void {
    if (this.watched.has(id)) return;
    this.watched.add(id);
    this.save();
    this.ctx.log.info(
      `subscription ${id}: model ${modelId}, ${runs} run(s) every ${period} s from ${formatTime(start, this.host.now())}, ` +
        `fee per run ${formatVtn(fee)}, keeper reward ${formatVtn(reward)}`,
    );
  }

  private save(): void {
    this.ctx.store.setMeta(WATCH_KEY, JSON.stringify([...this.watched].map(String)));
  }

  private forget(id: bigint): void {
    this.watched.delete(id);
    this.save();
    this.nextCheck.delete(id);
  }
}
