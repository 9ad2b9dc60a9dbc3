/**
 * The worker: claims jobs for the models it serves, fetches and checks each model, runs it (the
 * plain model: output and output commitment, no trace), submits, finalizes after the challenge
 * window, withdraws its earnings, and defends every dispute on its results to the end, rebuilding
 * the trace from the model and the job's input when a dispute opens (bit for bit the same: the
 * inference is integer-exact). Everything it commits is written to its store before the
 * transaction is sent, so a restart submits the same result (or notices it was submitted) and
 * defends the same output. A batch job is claimed, submitted and finalized once: every input is
 * run and the outputs are submitted concatenated; a dispute on one of its items is defended with
 * that item's trace. `cheat` makes it lie at one node of every trace (in a batch, of one item's),
 * in a way that reaches the output (demos and tests).
 */

import { ZeroAddress } from "ethers";

import type { WorkerRoster } from "../../types/ethers-contracts/index.js";
import type { JobRow } from "./store.js";
import {
  JobStatus,
  formatTime,
  formatVtn,
  getJob,
  jobStatusName,
  jobAssignee,
  jobTerms,
  rosterOf,
  sendClaim,
  sendFinalize,
  sendSubmit,
  tensorCommitment,
  waitMined,
  withdrawBalance,
} from "../clients/index.js";
import { commitBatch, splitItems } from "../commitments/batch.js";
import type { Hex } from "../commitments/merkle.js";
import { canonicalBytes } from "../commitments/tensor.js";
import { Side } from "../clients/game-types.js";
import { short } from "./log.js";
import type { NodeOptions, RequestedJob } from "./node.js";
import { ProtocolNode, batchSizeOf, openNodeContext } from "./node.js";
import type { NodeContext } from "./node.js";
import { computeBatchOutput, intsOf } from "../runtime/trace.js";
import { validateInput } from "../runtime/input.js";
import type { CheatChoice, CheatSpec } from "../runtime/cheat.js";
import { cheatOfItem, chooseCheat } from "../runtime/cheat.js";
import { countSaturated } from "../runtime/saturation.js";
import { SubscriptionKeeper } from "./subscriptions.js";
import type { AuditMode, SubmittedEvent } from "./auditor.js";
import { Auditor } from "./auditor.js";
import { WorkerReadiness } from "./readiness.js";

/** Seconds before a claim's result is due when the worker reads its submission back (time to send it again). */
const DUE_CHECK_LEAD_S = 60n;

/**
 * With a worker roster, the worker claims in its own slot only if the slot lasts at least this many
 * blocks after the next one: a claim sent now may be mined a block late, and one mined after the
 * slot reverts (and the slot counts as missed).
 */
const SLOT_MARGIN_BLOCKS = 1n;

/** The most callback gas a worker fronts by default when it finalizes a consumer job. */
export const DEFAULT_MAX_CALLBACK_GAS = 200_000n;

export interface WorkerOptions extends NodeOptions {
  /** Models to serve (default: every model this account declared it serves in Staking). */
  readonly models?: readonly bigint[];
  /** Lowest fee worth claiming (default 0: any). */
  readonly minFee?: bigint;
  /**
   * Largest callback gas limit of a consumer job this worker claims (default
   * {@link DEFAULT_MAX_CALLBACK_GAS}): finalizing a job runs its consumer's callback at the
   * finalizer's expense (the job's callback fee pays it back), so a worker caps the gas it fronts.
   */
  readonly maxCallbackGas?: bigint;
  /**
   * Token wei per unit of callback gas this worker must be paid (default: the escrow's current
   * `callbackFeePerGas`): a consumer job is claimed only if its callback fee covers its callback
   * gas limit at this price.
   */
  readonly callbackGasPrice?: bigint;
  /** Claim at most this many jobs in all (default: no limit). */
  readonly maxJobs?: number;
  /** Lie in every trace (demos and tests): at this node, or a random one. */
  readonly cheat?: CheatChoice;
  /** Withdraw escrow earnings once they reach this (default: any amount). Undefined: never. */
  readonly withdrawAt?: bigint | null;
  /** Trigger the due runs of subscriptions to the models served (default true; offchain/nodes/subscriptions.ts). */
  readonly keepSubscriptions?: boolean;
  /**
   * Audit the results of others drawn for us, when the deployment has audits (default `on`;
   * offchain/nodes/auditor.ts). `off` lets our drawn slots pass (each charged the miss penalty);
   * `commit-only` is a lazy auditor for tests and demos (commits, never reveals).
   */
  readonly audits?: AuditMode;
}

/**
 * What the claim decisions read from the chain, and how they ended: the reads per job do not grow
 * with the number of workers (one job read, and with a roster one assignment read, per open job per
 * pass), and with a roster no claim should fail.
 */
export interface ClaimCounters {
  /** Job records read to decide a claim. */
  jobReads: number;
  /** Assignments read from the roster (`assignee`). */
  assignmentReads: number;
  /** Claims sent. */
  claimsSent: number;
  /** Claims that failed (reverted, or lost to another worker). */
  claimsFailed: number;
  /** Claims decided in our slot but not sent: the slot was ending by the time they were ready. */
  claimsLate: number;
}

/** What the claims decided in one pass have taken so far. */
interface ClaimPass {
  /** Stake still free after the claims decided so far (read once per pass). */
  free: bigint | undefined;
  /** The price of callback gas this pass asks (read once per pass, when a consumer job needs it). */
  callbackGasPrice: bigint | undefined;
  /** Claims decided in this pass (not yet in the store as claimed). */
  claiming: number;
}

export class Worker extends ProtocolNode {
  readonly options: WorkerOptions;

  /** Triggers due subscription runs worth serving; their jobs are then claimed like any other. */
  private readonly keeper: SubscriptionKeeper | undefined;
  /** Audits the results of others drawn for us (a no-op on a deployment without audits). */
  readonly auditor: Auditor;
  /** Says at start-up, and every 5 minutes while it lasts, when the worker is not staked or serves no model. */
  readonly readiness: WorkerReadiness;

  private constructor(ctx: NodeContext, o: WorkerOptions) {
    super(ctx, o);
    this.options = o;
    this.readiness = new WorkerReadiness({ p: ctx.p, address: ctx.address, models: o.models, log: ctx.log });
    this.keeper =
      o.keepSubscriptions === false
        ? undefined
        : new SubscriptionKeeper({
            ctx,
            now: () => this.nextBlockTime(),
            headBlock: () => this.head?.number,
            serves: (modelId) => this.serves(modelId),
            perform: (key, label, fn) => this.perform(key, label, fn),
            rule: { minFee: o.minFee, maxCallbackGas: o.maxCallbackGas ?? DEFAULT_MAX_CALLBACK_GAS, callbackGasPrice: o.callbackGasPrice },
            withdrawAt: o.withdrawAt === undefined ? 1n : o.withdrawAt,
          });
    this.auditor = new Auditor({
      ctx,
      mode: o.audits ?? "on",
      now: () => this.nextBlockTime(),
      headBlock: () => this.head?.number,
      serves: (modelId) => this.serves(modelId),
      perform: (key, label, fn) => this.perform(key, label, fn),
      inputOf: (job) => this.inputOf(job),
      trackDispute: (d, player) => this.trackDispute(d, player),
    });
  }

  static async create(o: WorkerOptions): Promise<Worker> {
    return new Worker(await openNodeContext("worker", { ...o, name: o.name ?? (o.cheat ? "cheater" : "worker") }), o);
  }

  /** What Staking says this account serves, read once per model per pass. */
  private servesCache = new Map<bigint, Promise<boolean>>();
  /** Dispute manager and callback fee per gas, per escrow parameter version (versions never change). */
  private versions = new Map<bigint, { manager: string; callbackFeePerGas: bigint }>();
  /**
   * Jobs whose state this process knows from its own transactions (its claim, then its submission,
   * went through in this run): the job need not be read back before the next step. A step that
   * fails forgets it, and the next pass reads the job as after a restart.
   */
  private readonly ownState = new Map<bigint, "claimed" | "submitted">();
  /** Submitted jobs read back once shortly before their claim's result was due. */
  private readonly dueChecked = new Set<bigint>();
  readonly claimCounters: ClaimCounters = { jobReads: 0, assignmentReads: 0, claimsSent: 0, claimsFailed: 0, claimsLate: 0 };
  /** The escrow's worker roster (undefined: first-come claims), read once. */
  private roster: Promise<{ roster: WorkerRoster; epochBlocks: bigint } | undefined> | undefined;
  /** Our stake, the minimum and the roster's cap, read once per epoch. */
  private rosterStake: { epoch: bigint; staked: bigint; minStake: bigint; cap: bigint } | undefined;
  /** Per model: the epoch in which we last said we are not staked enough to join. */
  private readonly rosterUnderstaked = new Map<bigint, bigint>();
  /** The (job, slot) pairs already logged as another worker's, so that each is said once. */
  private readonly assignedLogged = new Set<string>();

  private rosterInfo(): Promise<{ roster: WorkerRoster; epochBlocks: bigint } | undefined> {
    this.roster ??= rosterOf(this.p).then(async (roster) => (roster === undefined ? undefined : { roster, epochBlocks: await roster.epochBlocks() }));
    return this.roster;
  }

  /**
   * With a roster, keeps our weight in each served model's roster in line with our stake: one read
   * of our place per model per pass (not per job), and a join (or re-join, after a missed slot took
   * us out of the draws) when the weight from the next epoch on is not what our stake gives. Our
   * stake is read once per epoch. A weight counts from the next epoch.
   */
  private async keepRosterPlaces(): Promise<void> {
    const info = await this.rosterInfo();
    if (info === undefined || this.head === undefined) return;
    const epoch = BigInt(this.head.number) / info.epochBlocks;
    const models = new Set<bigint>(this.options.models ?? []);
    for (const job of this.store.jobsAt("seen")) models.add(job.modelId);
    for (const modelId of models) {
      if (!(await this.serves(modelId))) continue;
      if (this.rosterStake?.epoch !== epoch) {
        const [s, minStake, params] = await Promise.all([this.p.staking.stakeOf(this.address), this.p.staking.minStake(), info.roster.params()]);
        this.rosterStake = { epoch, staked: s.staked, minStake, cap: params.weightCap };
      }
      const stake = this.rosterStake;
      if (stake.staked < stake.minStake) {
        if (this.rosterUnderstaked.get(modelId) !== epoch) {
          this.rosterUnderstaked.set(modelId, epoch);
          this.log.info(
            `model ${modelId}: not joining its roster: ${formatVtn(stake.staked)} staked, below the minimum of ${formatVtn(stake.minStake)} ` +
              `(its jobs are claimed only once open to all)`,
          );
        }
        continue;
      }
      const wanted = stake.staked < stake.cap ? stake.staked : stake.cap;
      const [position, , next] = await info.roster.memberOf(modelId, this.address);
      if (position !== 0n && next === wanted) continue;
      if (this.ctx.journal.inFlight(`roster:${modelId}`)) continue;
      await this.perform(`roster:${modelId}`, `join model ${modelId}'s roster`, async () => waitMined(await info.roster.connect(this.ctx.signer).join(modelId)));
      this.log.info(
        `model ${modelId}: ${position === 0n ? "joined its roster" : next === 0n ? "back in its roster's draws (a missed slot had taken us out)" : "roster weight updated"} ` +
          `with weight ${formatVtn(wanted)}, drawn from epoch ${epoch + 1n} (block ${(epoch + 1n) * info.epochBlocks})`,
      );
    }
  }

  /** Whether `job`'s submission should be read back now: once, in the last stretch before its result is due. */
  private submissionDueCheck(job: JobRow): boolean {
    if (job.resultDue === undefined || this.dueChecked.has(job.jobId)) return false;
    const now = this.nextBlockTime();
    return now < job.resultDue && now >= job.resultDue - DUE_CHECK_LEAD_S;
  }

  override async tick(): Promise<void> {
    this.servesCache.clear();
    await this.attempt("checking the stake and served models", async () => void (await this.readiness.check()));
    await super.tick();
  }

  private serves(modelId: bigint): Promise<boolean> {
    if (this.options.models && !this.options.models.includes(modelId)) return Promise.resolve(false);
    let hit = this.servesCache.get(modelId);
    if (!hit) {
      hit = this.p.staking.servesModel(this.address, modelId);
      this.servesCache.set(modelId, hit);
    }
    return hit;
  }

  protected async onEvents(from: number, to: number): Promise<void> {
    const jm = this.p.jobManager.interface;
    const f = this.p.disputes.interface;
    const requested = jm.getEvent("JobRequested")!;
    const batch = jm.getEvent("BatchRequested")!;
    const reopened = jm.getEvent("JobReopened")!;
    const opened = f.getEvent("DisputeOpened")!;
    const itemDisputed = f.getEvent("BatchItemDisputed")!;
    const submitted = jm.getEvent("ResultSubmitted")!;
    // The five kinds, from both contracts, in one call and in chain order (with the subscriptions
    // the keeper watches for, and with audits the results to audit and the audit commitments, in
    // the same call).
    const keeper = this.keeper?.events;
    const audits = this.options.audits === "off" ? undefined : await this.auditor.events();
    const logs = await this.p.connection.ethers.provider.getLogs({
      address: [this.p.addresses.jobManager, this.p.addresses.disputeFactory, ...(keeper ? [keeper.address] : []), ...(audits ? [audits.address] : [])],
      fromBlock: from,
      toBlock: to,
      topics: [
        [
          requested.topicHash,
          batch.topicHash,
          reopened.topicHash,
          opened.topicHash,
          itemDisputed.topicHash,
          ...(keeper ? [keeper.topic] : []),
          ...(audits ? [submitted.topicHash, audits.committed] : []),
        ],
      ],
    });
    // The item each game on a batch is about: its BatchItemDisputed follows its DisputeOpened in the
    // same transaction, so in these same logs.
    const items = new Map<string, number>();
    for (const log of logs) {
      if (log.topics[0] !== itemDisputed.topicHash || log.address.toLowerCase() !== this.p.addresses.disputeFactory.toLowerCase()) continue;
      const { game, item } = f.decodeEventLog(itemDisputed, log.data, log.topics) as unknown as { game: string; item: bigint };
      items.set(game.toLowerCase(), Number(item));
    }
    for (const log of logs) {
      if (this.keeper?.onLog(log)) continue;
      if (audits && log.address.toLowerCase() === audits.address.toLowerCase()) {
        if (log.topics[0] !== audits.committed) continue;
        const m = (await this.auditor.managerOf())!;
        const e = m.interface.parseLog(log)!;
        this.auditor.onCommitted(e.args.jobId as bigint, e.args.auditor as string, e.args.slot as bigint);
        continue;
      }
      const escrow = log.address.toLowerCase() === this.p.addresses.jobManager.toLowerCase();
      if (escrow && log.topics[0] === submitted.topicHash) {
        const e = jm.decodeEventLog(submitted, log.data, log.topics) as unknown as SubmittedEvent;
        await this.auditor.onResultSubmitted(e, log.blockNumber);
        continue;
      }
      if (escrow && log.topics[0] === requested.topicHash) {
        const e = jm.decodeEventLog(requested, log.data, log.topics) as unknown as RequestedJob;
        if (!(await this.serves(e.modelId))) continue;
        if (this.indexRequest(e, true)) {
          this.log.info(`job ${e.jobId}: requested on model ${e.modelId}, fee ${formatVtn(e.terms.fee)}${e.inputURI !== "" ? `, input at ${e.inputURI}` : ""}`);
        }
        continue;
      }
      if (escrow && log.topics[0] === batch.topicHash) {
        const { jobId, batchSize } = jm.decodeEventLog(batch, log.data, log.topics) as unknown as { jobId: bigint; batchSize: bigint };
        this.indexBatch(jobId, batchSize);
        if (this.store.job(jobId) !== undefined) this.log.info(`job ${jobId}: a batch of ${batchSize} inputs`);
        continue;
      }
      if (escrow && log.topics[0] === reopened.topicHash) {
        const { jobId } = jm.decodeEventLog(reopened, log.data, log.topics) as unknown as { jobId: bigint };
        const job = this.store.job(jobId);
        if (job && (job.stage === "skipped" || job.stage === "lost")) this.store.updateJob(job.jobId, { stage: "seen" });
        continue;
      }
      if (escrow || log.topics[0] !== opened.topicHash) continue;
      const { jobId, game, challenger } = f.decodeEventLog(opened, log.data, log.topics) as unknown as { jobId: bigint; game: string; challenger: string };
      const job = this.store.job(jobId);
      if (!job || job.output === undefined || job.input === undefined) continue;
      if (!["submitted", "finalized", "rejected"].includes(job.stage)) continue;
      const item = items.get(game.toLowerCase()) ?? 0;
      const d = this.disputedItem(job, item);
      if (this.trackDispute({ game, jobId, side: Side.Defender, modelId: job.modelId, ...d })) {
        const what = batchSizeOf(job) === 1 ? "" : ` (item ${item} of its ${batchSizeOf(job)})`;
        this.log.info(`job ${jobId}${what}: DISPUTED by ${short(challenger)} (game ${short(game)}); defending our output with its trace`);
      }
    }
  }

  /**
   * What defending item `item` of `job` needs (the whole job, for a single one): the item's input,
   * the cheat that shaped its output (if it lied there), and its output commitment, which its
   * rebuilt trace must end in.
   */
  private disputedItem(job: JobRow, item: number): { input: Uint8Array; cheat?: CheatSpec; claim: string } {
    const n = batchSizeOf(job);
    const input = new Uint8Array(splitItems(job.input!, n)[item]!);
    const output = splitItems(job.output!, n)[item]!;
    const cheat = cheatOfItem(job.cheat ? (JSON.parse(job.cheat) as CheatSpec) : undefined, item);
    return { input, claim: tensorCommitment(output), ...(cheat ? { cheat } : {}) };
  }

  protected async work(): Promise<void> {
    // Due subscription runs first: their jobs are claimed in the next pass, as any job.
    if (this.keeper) await this.attempt("subscriptions", () => this.keeper!.tick());
    // Claims are decided one at a time (each reads its job, and the stake it locks is counted
    // against what is free), then sent together: several in flight, nonces from the signer. On a
    // chain with a block time a batch of requests then costs a block or two, not a block per job.
    await this.attempt("the worker roster", () => this.keepRosterPlaces());
    const pass: ClaimPass = { free: undefined, callbackGasPrice: undefined, claiming: 0 };
    const claims: Promise<boolean>[] = [];
    for (const job of this.store.jobsAt("seen")) {
      const decided: { send?: () => Promise<void> } = {};
      await this.attempt(`job ${job.jobId}`, async () => void (decided.send = await this.decideClaim(job, pass)));
      if (decided.send) claims.push(this.attempt(`job ${job.jobId}`, decided.send));
    }
    await Promise.all(claims);
    // Models run one at a time (they use the CPU); each result is sent without waiting for the
    // previous one to be mined, so the next job runs meanwhile.
    const submits: Promise<boolean>[] = [];
    for (const job of this.store.jobsAt("claimed", "computed")) {
      const ready: { send?: () => Promise<void> } = {};
      await this.attempt(`job ${job.jobId}`, async () => void (ready.send = await this.prepareSubmit(job)));
      if (ready.send) submits.push(this.attempt(`job ${job.jobId}`, ready.send));
    }
    await Promise.all(submits);
    // Audits of others' results drawn for us: after our own claims and results, which have deadlines
    // of their own, and before finalizations, which have none (a slot lasts a few blocks, and a drawn
    // auditor that lets it pass is charged the miss penalty).
    await this.auditor.tick((what, fn) => this.attempt(what, fn));
    // Finalizations go out together too.
    await Promise.all(this.store.jobsAt("submitted").map((job) => this.attempt(`job ${job.jobId}`, () => this.settle(job))));
  }

  private claimedCount(): number {
    return this.store.allJobs().filter((j) => !["seen", "skipped"].includes(j.stage)).length;
  }

  /** Decides whether to claim `job` now; returns the claim to send, or undefined (recorded why). */
  private async decideClaim(job: JobRow, pass: ClaimPass): Promise<(() => Promise<void>) | undefined> {
    const id = job.jobId;
    if (this.ctx.journal.inFlight(`claim:${id}`)) return;
    const rec = await getJob(this.p, id);
    this.claimCounters.jobReads++;
    // The escrow's record is the authority on the batch size (its event may predate our first block).
    if (batchSizeOf(job) !== Number(rec.batchSize)) {
      this.store.updateJob(id, { batchSize: Number(rec.batchSize) });
      job = this.store.job(id)!;
    }
    const mine = rec.worker.toLowerCase() === this.address.toLowerCase();
    if (rec.status === JobStatus.Claimed && mine) {
      this.store.updateJob(id, { stage: "claimed", resultDue: rec.timer });
      this.log.info(`job ${id}: our claim is on chain (recovered)`);
      return;
    }
    if (rec.status !== JobStatus.Open) {
      this.store.updateJob(id, { stage: "skipped", note: `${jobStatusName(rec.status)}${mine ? "" : ` by ${rec.worker}`}` });
      return;
    }
    if (this.options.maxJobs !== undefined && this.claimedCount() + pass.claiming >= this.options.maxJobs) return;
    if (this.options.minFee !== undefined && rec.fee < this.options.minFee) {
      this.store.updateJob(id, { stage: "skipped", note: `fee ${formatVtn(rec.fee)} below --min-fee` });
      return;
    }
    if (this.nextBlockTime() > rec.deadline) {
      this.store.updateJob(id, { stage: "skipped", note: "deadline passed" });
      return;
    }
    const maxCallbackGas = this.options.maxCallbackGas ?? DEFAULT_MAX_CALLBACK_GAS;
    if (rec.callbackGasLimit > maxCallbackGas) {
      this.store.updateJob(id, { stage: "skipped", note: `callback gas ${rec.callbackGasLimit} above --max-callback-gas ${maxCallbackGas}` });
      this.log.info(`job ${id}: skipped: its consumer's callback needs ${rec.callbackGasLimit} gas, more than this worker pays for (--max-callback-gas ${maxCallbackGas})`);
      return;
    }
    const version = await this.versionOf(rec.paramsVersion);
    if (rec.hasConsumer) {
      // Finalizing runs the callback at our expense; the job's callback fee (its gas limit at its
      // parameter version's rate, fixed at request) must pay for that gas at our price.
      pass.callbackGasPrice ??= this.options.callbackGasPrice ?? (await this.p.jobManager.params()).callbackFeePerGas;
      const callbackFee = rec.callbackGasLimit * version.callbackFeePerGas;
      const needed = rec.callbackGasLimit * pass.callbackGasPrice;
      if (callbackFee < needed) {
        this.store.updateJob(id, { stage: "skipped", note: `callback fee ${formatVtn(callbackFee)} below ${formatVtn(needed)} for ${rec.callbackGasLimit} gas` });
        this.log.info(
          `job ${id}: skipped: its callback fee ${formatVtn(callbackFee)} does not cover its ${rec.callbackGasLimit} callback gas ` +
            `at ${pass.callbackGasPrice} wei per gas (${formatVtn(needed)}; --callback-gas-price)`,
        );
        return;
      }
    }
    // The job's dispute manager could slash the stake a claim locks: claim only jobs judged by the
    // dispute factory this node's address book names (the escrow appoints one manager, once; a job
    // requested before it has none, and a wrong address book names another).
    const manager = version.manager;
    if (manager.toLowerCase() !== this.p.addresses.disputeFactory.toLowerCase()) {
      this.store.updateJob(id, { stage: "skipped", note: `judged by dispute manager ${manager}, not the deployment's factory` });
      this.log.warn(`job ${id}: skipped: its dispute manager ${manager} is not the deployment's dispute factory ${this.p.addresses.disputeFactory}`);
      return;
    }
    // With a roster, claim only in our own slot (with a block of it left for the claim to be mined
    // in), or once the job is open to all: a claim outside it would revert.
    const window = await this.assignedToUs(job, rec.timer);
    if (window === undefined) return;
    // A worker must be able to serve a job before it locks stake for it: get and check the input first.
    const input = await this.usableInput(job, "claiming", "trying again each pass until its deadline");
    if (input === undefined) return;
    // The input must also be one the model can run: an element outside its declared range (which the
    // escrow cannot check) would fail the run after the claim, and the timeout would slash our lock
    // to the requester, who could make such jobs on purpose.
    const { model } = await this.ctx.models.get(job.modelId);
    try {
      this.validateItems(model, input, batchSizeOf(job));
    } catch (e) {
      const why = (e as Error).message;
      this.store.updateJob(id, { stage: "skipped", note: why });
      this.log.warn(`job ${id}: not claiming it: ${why}`);
      return;
    }
    const lock = rec.lock;
    pass.free ??= await this.p.staking.freeStake(this.address);
    if (pass.free < lock) {
      this.log.warn(`job ${id}: claiming locks ${formatVtn(lock)}, only ${formatVtn(pass.free)} of our stake is free; waiting`);
      return;
    }
    pass.free -= lock;
    pass.claiming++;
    return () => this.sendClaim(id, window.last);
  }

  /**
   * Whether we may claim `job` (requested or reopened in block `requestBlock`) now: always without
   * a roster; with one, when the job is open to all or the current slot is ours and lasts
   * {@link SLOT_MARGIN_BLOCKS} blocks beyond the next. One read, at the head this pass knows.
   * Undefined when we may not; else the last block the claim may be mined in (none without a roster).
   */
  private async assignedToUs(job: JobRow, requestBlock: bigint): Promise<{ last?: bigint } | undefined> {
    const info = await this.rosterInfo();
    if (info === undefined) return {};
    const head = this.head?.number;
    const a = await jobAssignee(this.p, job.modelId, job.jobId, requestBlock, head);
    this.claimCounters.assignmentReads++;
    // Every epoch draws its open jobs afresh (seeded by its first block): a slot, and the open
    // phase, end at the epoch's last block at the latest.
    const epochEnd = (a.atBlock / info.epochBlocks + 1n) * info.epochBlocks - 1n;
    const ours = a.open || a.worker.toLowerCase() === this.address.toLowerCase();
    const last = a.open || a.slotEnd > epochEnd ? epochEnd : a.slotEnd;
    if (ours && last > a.atBlock + SLOT_MARGIN_BLOCKS) return { last };
    const key = `${job.jobId}:${a.seedBlock}:${a.slot}:${a.open ? "open" : a.worker === ZeroAddress ? "seed" : "drawn"}`;
    if (!this.assignedLogged.has(key)) {
      this.assignedLogged.add(key);
      if (a.open) {
        this.log.info(`job ${job.jobId}: open to all, but its epoch ends at block ${epochEnd}, too soon after the head (${a.atBlock}); it is drawn again in the next`);
      } else if (a.worker === ZeroAddress) {
        // Not drawn yet: its seed block is the next one (at every epoch's start, for every open job); nothing to say.
      } else if (a.worker.toLowerCase() === this.address.toLowerCase()) {
        this.log.info(`job ${job.jobId}: our slot ${a.slot} ends at block ${last}, too soon after the head (${a.atBlock}) for a claim to be mined in it`);
      } else {
        this.log.info(`job ${job.jobId}: assigned to another worker ${a.worker} (slot ${a.slot}, until block ${a.slotEnd})`);
      }
    }
    return undefined;
  }

  /** Checks each input of a batch (or the one input of a job) against the model's shape and range. */
  private validateItems(model: Parameters<typeof validateInput>[0], input: Uint8Array, n: number): void {
    for (const [i, item] of splitItems(input, n).entries()) {
      try {
        validateInput(model, intsOf(item));
      } catch (e) {
        if (n === 1) throw e;
        throw new Error(`input ${i} of the batch: ${(e as Error).message}`, { cause: e });
      }
    }
  }

  /** The dispute manager and callback fee per gas of the escrow's parameter version `version` (read once: versions never change). */
  private async versionOf(version: bigint): Promise<{ manager: string; callbackFeePerGas: bigint }> {
    let v = this.versions.get(version);
    if (v === undefined) {
      const [params, manager] = await this.p.jobManager.paramsAt(version);
      v = { manager, callbackFeePerGas: params.callbackFeePerGas };
      this.versions.set(version, v);
    }
    return v;
  }

  /**
   * Sends the claim of job `id`. With a roster, `last` is the last block of our slot: a pass takes a
   * while (inputs fetched and checked, the model loaded, other claims decided), more on a busy
   * machine, so the head is read again first (one read per claim), and a claim that could no longer
   * be mined in the slot is not sent (it would revert; the job is decided again next pass).
   */
  private async sendClaim(id: bigint, last?: bigint): Promise<void> {
    if (last !== undefined) {
      const head = BigInt(await this.p.connection.ethers.provider.getBlockNumber());
      if (last <= head + SLOT_MARGIN_BLOCKS) {
        this.claimCounters.claimsLate++;
        this.log.info(`job ${id}: our claim slot ends at block ${last}, and the head is already ${head}: not sending a claim that would be mined too late`);
        return;
      }
    }
    this.claimCounters.claimsSent++;
    try {
      const r = await this.perform(`claim:${id}`, `claim job ${id}`, () => sendClaim(this.p, this.ctx.signer, id));
      this.store.updateJob(id, { stage: "claimed", resultDue: r.resultDue });
      this.ownState.set(id, "claimed");
      this.log.info(`job ${id}: claimed, ${formatVtn(r.lockedStake)} of stake locked`);
    } catch (e) {
      this.claimCounters.claimsFailed++;
      const now = await getJob(this.p, id);
      if (now.status !== JobStatus.Open && now.worker.toLowerCase() !== this.address.toLowerCase()) {
        this.store.updateJob(id, { stage: "skipped", note: `claimed first by ${now.worker}` });
        this.log.info(`job ${id}: another worker (${short(now.worker)}) claimed it first`);
        return;
      }
      throw e;
    }
  }

  /** Runs `job` and records its result (write-ahead); returns the submission to send, or undefined. */
  private async prepareSubmit(job: JobRow): Promise<(() => Promise<void>) | undefined> {
    const id = job.jobId;
    if (this.ctx.journal.inFlight(`submit:${id}`)) return;
    // Claimed by us in this run: it is ours until we submit (or its result time passes, which the
    // submission's failure shows). Otherwise the job is read back.
    if (this.ownState.get(id) !== "claimed") {
      const rec = await getJob(this.p, id);
      const mine = rec.worker.toLowerCase() === this.address.toLowerCase();
      if (rec.status === JobStatus.Submitted && mine) {
        this.store.updateJob(id, { stage: "submitted", challengeEnd: rec.timer });
        this.log.info(`job ${id}: our result is on chain (recovered), challenge window ends ${formatTime(rec.timer, this.nextBlockTime())}`);
        return;
      }
      if (rec.status === JobStatus.Open) {
        // Our claim is no longer on chain (a reorganization dropped it; a timeout's JobReopened
        // would bring the job back here too): the job is open to anyone, us included.
        this.store.updateJob(id, { stage: "seen" });
        this.log.warn(`job ${id}: our claim is gone from the chain (reorganized?); deciding again`);
        return;
      }
      if (rec.status !== JobStatus.Claimed || !mine) {
        this.store.updateJob(id, { stage: "lost", note: `${jobStatusName(rec.status)} before we submitted` });
        this.log.warn(`job ${id}: it became ${jobStatusName(rec.status)} before we submitted`);
        return;
      }
    }
    let current = job;
    if (job.stage === "claimed") {
      const input = await this.inputOf(job);
      const { model } = await this.ctx.models.get(job.modelId);
      const n = batchSizeOf(job);
      const cheat = this.options.cheat ? chooseCheat(model, this.options.cheat, Math.random, n) : undefined;
      // The plain model only (each input of a batch): the trace is rebuilt from the model and the
      // input if a dispute opens. The input is the one the escrow committed (inline) or was checked
      // against the terms' commitment (URI): a single job's commitment is the terms', not hashed again.
      const { inputCommitment } = await jobTerms(this.p, id);
      const items = splitItems(input, n).map((item) => intsOf(item));
      const t = await computeBatchOutput(model, items, { cheat, inputCommitment: inputCommitment as Hex });
      // Write-ahead: what we are about to commit, before the transaction exists.
      this.store.updateJob(id, {
        stage: "computed",
        output: canonicalBytes(t.output),
        cheat: cheat ? JSON.stringify(cheat) : undefined,
      });
      // The model's quality, not the result's correctness: a saturated output is still the exact one.
      const sat = countSaturated(model, t.output);
      this.log.info(
        `job ${id}: ran model ${job.modelId}${n === 1 ? "" : ` on ${n} inputs`} in ${t.ms.toFixed(1)} ms, output commitment ${short(t.outputCommitment)}, ` +
          `saturated outputs ${sat.bounds ? `${sat.saturated} of ${sat.total}` : "not counted (no clip bounds)"}` +
          (cheat ? ` (CHEATING at ${cheat.item === undefined ? "" : `item ${cheat.item}, `}layer ${cheat.layer}, element ${cheat.element})` : ""),
      );
      current = this.store.job(id)!;
    }
    return async () => {
      let r;
      try {
        r = await this.perform(`submit:${id}`, `submit job ${id} output ${this.outputCommitment(current)}`, () =>
          sendSubmit(this.p, this.ctx.signer, id, current.output!),
        );
      } catch (e) {
        this.ownState.delete(id);
        throw e;
      }
      this.store.updateJob(id, { stage: "submitted", challengeEnd: r.challengeEnd });
      this.ownState.set(id, "submitted");
      this.log.info(`job ${id}: submitted, challenge window ends ${formatTime(r.challengeEnd, this.nextBlockTime())}`);
    };
  }

  private async settle(job: JobRow): Promise<void> {
    const id = job.jobId;
    if (this.ctx.journal.inFlight(`finalize:${id}`)) return;
    // Nothing to ask the chain before the window we recorded has closed (a dispute can only delay
    // it), except once, shortly before our claim's result is due: a reorganization deeper than our
    // confirmations may have dropped the submission, and only then can it still be sent again in
    // time (the window may close long after the result was due: 1 h against 15 min in production).
    if (job.challengeEnd !== undefined && this.nextBlockTime() < job.challengeEnd) {
      if (!this.submissionDueCheck(job)) return;
      const rec = await getJob(this.p, id);
      this.dueChecked.add(id);
      if (rec.status === JobStatus.Claimed && rec.worker.toLowerCase() === this.address.toLowerCase()) {
        this.store.updateJob(id, { stage: "computed" });
        this.log.warn(`job ${id}: our submitted result is gone from the chain (reorganized?), and the result is due ${formatTime(rec.timer, this.nextBlockTime())}; submitting it again`);
      }
      return;
    }
    // Submitted by us in this run and never disputed (every opened game is recorded from its
    // event): its window, just checked, is all that stands before finalizing.
    if (this.ownState.get(id) === "submitted" && job.challengeEnd !== undefined && !this.store.hasDisputeOn(id)) return this.finalize(job);
    const rec = await getJob(this.p, id);
    if (rec.status === JobStatus.Finalized) {
      this.store.updateJob(id, { stage: "finalized" });
      return;
    }
    if (rec.status === JobStatus.Rejected) {
      this.store.updateJob(id, { stage: "rejected" });
      this.log.warn(`job ${id}: REJECTED: our result was proven wrong and our locked stake slashed`);
      return;
    }
    if (rec.status === JobStatus.Claimed && rec.worker.toLowerCase() === this.address.toLowerCase()) {
      // Our submission is no longer on chain (a reorganization dropped it): submit again while we can.
      this.store.updateJob(id, { stage: "computed" });
      this.log.warn(`job ${id}: our submitted result is gone from the chain (reorganized?); submitting it again`);
      return;
    }
    if (rec.status === JobStatus.Open || (rec.status === JobStatus.Claimed && rec.worker.toLowerCase() !== this.address.toLowerCase())) {
      this.store.updateJob(id, { stage: "seen" });
      this.log.warn(`job ${id}: our claim is gone from the chain (reorganized?); deciding again`);
      return;
    }
    if (rec.status !== JobStatus.Submitted || rec.openDisputes > 0n) return;
    if (this.nextBlockTime() < rec.timer) return;
    // Challenges we beat pay us their bonds' defender share only once no other game can open on the
    // job: the factory holds it until then. Closing first also survives a restart (finalize is last).
    // Only jobs we defended (every opened game is recorded from its event) cost the extra read.
    const disputes = this.store.hasDisputeOn(id) ? await this.p.disputes.jobDisputes(id) : undefined;
    if (disputes !== undefined && disputes.gamesOpened > 0n && !disputes.closed) {
      await this.perform(`close-disputes:${id}`, `close the disputes of job ${id}`, async () =>
        waitMined(await this.p.disputes.connect(this.ctx.signer).closeDisputes(id)),
      );
      this.log.info(`job ${id}: its ${disputes.gamesOpened} dispute(s) closed; our share of the lost bonds is credited`);
    }
    await this.finalize(job);
  }

  private async finalize(job: JobRow): Promise<void> {
    const id = job.jobId;
    let f;
    try {
      f = await this.perform(`finalize:${id}`, `finalize job ${id}`, () =>
        // Our own output (a consumer job's callback needs the bytes), when we have it, saves reading it back from the events.
        sendFinalize(this.p, this.ctx.signer, id, job.output ? { outputCommitment: this.outputCommitment(job), output: job.output } : undefined),
      );
    } catch (e) {
      this.ownState.delete(id);
      throw e;
    }
    this.ownState.delete(id);
    this.store.updateJob(id, { stage: "finalized" });
    const callback = f.callback ? `; callback ${f.callback.status}, ${formatVtn(f.callbackFee)} callback fee for its gas` : "";
    this.log.info(`job ${id}: finalized, ${formatVtn(f.workerFee)} earned${callback}`);
  }

  /** The commitment our stored output was (or will be) submitted with: a batch's, item by item. */
  private outputCommitment(job: JobRow): string {
    return commitBatch(job.output!, batchSizeOf(job));
  }

  protected async collect(): Promise<void> {
    const at = this.options.withdrawAt === undefined ? 1n : this.options.withdrawAt;
    if (at !== null) {
      const balance = await this.p.jobManager.balanceOf(this.address);
      if (balance > 0n && balance >= at) {
        const block = this.head?.number ?? (await this.p.connection.ethers.provider.getBlockNumber());
        const w = await this.perform(`withdraw-escrow:${block}`, `withdraw ${formatVtn(balance)} from the escrow`, () =>
          withdrawBalance(this.p, this.ctx.signer),
        );
        this.log.info(`withdrew ${formatVtn(w.amount)} of earnings from the escrow`);
      }
    }
    await this.collectFromFactory();
    await this.attempt("audit rewards", () => this.auditor.collect());
  }
}
