/**
 * The verifier: re-runs every submitted result of the models it watches while the challenge
 * window is open (a plain run: it compares output commitments), and on a mismatch builds the
 * trace, opens a dispute (its bond and stake in place), plays it to the end and withdraws its bond
 * and reward. What it will open with (its trace's inputs and root) is in its store before the
 * dispute is opened, so a restart keeps playing the same game.
 * `cheat` makes it challenge every result with a wrong trace (demos and tests: the worker wins).
 * A batch job is checked input by input; if an item's output is wrong, the dispute is about that
 * item (its input and output, opened from the job's batch commitments), and settles the batch.
 *
 * Results are checked in parallel: each model has a pool of `parallel` runners (one onnxruntime
 * session in a thread of its own and one core each; default: the machine's cores), and the pending jobs of a pass are
 * checked concurrently, their re-runs bounded by the pool. The store's writes are synchronous and
 * each log line is whole, so concurrent checks interleave only between lines. Opening a dispute
 * (trace, write-ahead, bond, commit, reveal) is done one job at a time, under the journal's keys
 * `commit:N` and `open:N` as before, so that nothing is sent twice.
 */
import { availableParallelism } from "node:os";

import { MaxUint256, getBytes } from "ethers";

import type { JobRecord } from "../clients/index.js";
import type { JobRow } from "./store.js";
import {
  JobStatus,
  VeritensorError,
  formatVtn,
  getJob,
  jobDetails,
  jobStatusName,
  submittedOutput,
  waitMined,
} from "../clients/index.js";
import { commitBatch, itemCommitments, splitItems } from "../commitments/batch.js";
import type { Hex } from "../commitments/merkle.js";
import { attachGame, commitDispute, derivedSalt, itemOfBatch, readGame, revealDispute, submittedResultOf } from "../clients/disputes.js";
import { Side } from "../clients/game-types.js";
import { DisputePlayer } from "../disputes/player.js";
import { short } from "./log.js";
import type { InputSource, NodeContext, NodeOptions, RequestedJob } from "./node.js";
import { ProtocolNode, batchSizeOf, openNodeContext } from "./node.js";
import { computeBatchOutput, computeTrace, intsOf } from "../runtime/trace.js";
import type { CheatChoice, CheatSpec } from "../runtime/cheat.js";
import { cheatOfItem, chooseCheat } from "../runtime/cheat.js";
import type { RunnerFactory } from "./runner-pool.js";
import { RunnerPool, Slots } from "./runner-pool.js";
import { threadRunners } from "./runner-threads.js";

export interface VerifierOptions extends NodeOptions {
  /** Models to watch (default: all). */
  readonly models?: readonly bigint[];
  /** Challenge every result with a trace that lies at this node (demos and tests). */
  readonly cheat?: CheatChoice;
  /** Results re-run at once: runners (onnxruntime sessions) per model (default: the machine's cores). */
  readonly parallel?: number;
  /**
   * Opens the runners of the pools (default: a CanonicalRunner in a thread of its own each, see
   * threads.ts; `canonicalRunners` keeps them in the node's thread; tests pass instrumented ones).
   */
  readonly runners?: RunnerFactory;
}

/** The item of a batch a verifier disputes, and the submitted items' output commitments. */
interface WrongItem {
  readonly item: number;
  readonly submittedItems: readonly Hex[];
}

/** Checks in progress at once per runner: a check also waits for the chain and for its input. */
const CHECKS_PER_RUNNER = 2;

/** The fields of the escrow's `ResultSubmitted` the verifier reads (decoded by the escrow's ABI). */
interface ResultSubmittedArgs {
  readonly jobId: bigint;
  readonly worker: string;
  readonly outputCommitment: string;
  readonly output: string;
  readonly challengeEnd: bigint;
}

/** What a check learns of a submitted result from its event: a batch's output bytes too (to find a wrong item). */
interface Submitted {
  readonly worker: string;
  readonly outputCommitment: string;
  readonly output?: Uint8Array;
}

export class Verifier extends ProtocolNode {
  readonly options: VerifierOptions;
  /** Runners per model. */
  readonly parallel: number;
  private readonly pools = new Map<bigint, RunnerPool>();
  /** Checks in progress at once. */
  private readonly slots: Slots;
  /**
   * Each submitted result's worker and output commitment, from its ResultSubmitted event: a check
   * needs nothing else (after a restart the job and its result are read back).
   */
  private readonly submitted = new Map<bigint, Submitted>();
  /** Disputes are opened one at a time: the tail of that queue. */
  private disputing: Promise<unknown> = Promise.resolve();

  private constructor(ctx: NodeContext, o: VerifierOptions) {
    super(ctx, o);
    this.options = o;
    this.parallel = o.parallel ?? availableParallelism();
    this.slots = new Slots(this.parallel * CHECKS_PER_RUNNER);
  }

  private poolFor(modelId: bigint, model: RunnerPool["model"]): RunnerPool {
    let pool = this.pools.get(modelId);
    if (!pool || pool.model !== model) {
      void pool?.close();
      pool = new RunnerPool(model, this.parallel, this.options.runners ?? threadRunners, { intraOpNumThreads: 1 });
      this.pools.set(modelId, pool);
    }
    return pool;
  }

  override close(): void {
    super.close();
    for (const pool of this.pools.values()) void pool.close();
    this.pools.clear();
  }

  /** Runs `fn` after every dispute opening queued before it (one at a time). */
  private oneAtATime<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.disputing.then(fn, fn);
    this.disputing = run.catch(() => undefined);
    return run;
  }

  static async create(o: VerifierOptions): Promise<Verifier> {
    if (o.parallel !== undefined && (!Number.isInteger(o.parallel) || o.parallel < 1)) {
      throw new RangeError(`parallel must be a whole number of runners, at least 1 (not ${o.parallel})`);
    }
    return new Verifier(await openNodeContext("verifier", { ...o, name: o.name ?? "verifier" }), o);
  }

  private watches(modelId: bigint): boolean {
    return this.options.models === undefined || this.options.models.includes(modelId);
  }

  protected async onEvents(from: number, to: number): Promise<void> {
    const jm = this.p.jobManager;
    const iface = jm.interface;
    const requested = iface.getEvent("JobRequested")!;
    const batch = iface.getEvent("BatchRequested")!;
    const submitted = iface.getEvent("ResultSubmitted")!;
    // The three kinds in one call, in chain order (a job's request, and its batch size, come before its result).
    const logs = await this.p.connection.ethers.provider.getLogs({
      address: this.p.addresses.jobManager,
      fromBlock: from,
      toBlock: to,
      topics: [[requested.topicHash, batch.topicHash, submitted.topicHash]],
    });
    for (const log of logs) {
      if (log.topics[0] === requested.topicHash) {
        const e = iface.decodeEventLog(requested, log.data, log.topics) as unknown as RequestedJob;
        this.indexRequest(e, this.watches(e.modelId));
        continue;
      }
      if (log.topics[0] === batch.topicHash) {
        const { jobId, batchSize } = iface.decodeEventLog(batch, log.data, log.topics) as unknown as { jobId: bigint; batchSize: bigint };
        this.indexBatch(jobId, batchSize);
        continue;
      }
      const e = iface.decodeEventLog(submitted, log.data, log.topics) as unknown as ResultSubmittedArgs;
      let job = this.store.job(e.jobId);
      if (!job) {
        // Requested before our first block (--from-block): read the job and its input back.
        const d = await jobDetails(this.p, e.jobId);
        if (!this.watches(d.job.modelId)) continue;
        this.store.addJob(e.jobId, d.job.modelId, "seen");
        this.store.updateJob(e.jobId, { ...(d.input ? { input: d.input } : {}), ...(d.job.batchSize > 1n ? { batchSize: Number(d.job.batchSize) } : {}) });
        job = this.store.job(e.jobId)!;
      }
      if (job.stage !== "seen") continue;
      // The output's commitment (the contract checked it against the output) is all a check compares
      // with; a batch's output bytes say which item is wrong if it is not.
      const output = batchSizeOf(job) > 1 ? { output: getBytes(e.output) } : {};
      this.submitted.set(job.jobId, { worker: e.worker, outputCommitment: e.outputCommitment, ...output });
      this.store.updateJob(job.jobId, { stage: "pending", challengeEnd: e.challengeEnd });
      // Checked from now on, while the rest of the events are read: a turn of the event loop lets
      // the check reach its runner's thread before the next event is decoded.
      this.launch(job.jobId);
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  /** Checks in progress (started by the event scan or by `work`), by job. */
  private readonly checking = new Map<bigint, Promise<boolean>>();

  /** Starts checking pending job `jobId` unless it is being checked (at most `parallel * 2` at once). */
  private launch(jobId: bigint): void {
    if (this.checking.has(jobId)) return;
    const started = this.slots.run(async () => {
      const job = this.store.job(jobId);
      if (job?.stage !== "pending") return true;
      const ok = await this.attempt(`job ${jobId}`, () => this.check(job));
      if (this.store.job(jobId)?.stage !== "pending") this.submitted.delete(jobId);
      return ok;
    });
    const tracked = started.finally(() => this.checking.delete(jobId));
    tracked.catch(() => undefined); // awaited (and its failure thrown) by work()
    this.checking.set(jobId, tracked);
  }

  /** Checks the pending jobs concurrently (those the scan started and the rest); their re-runs share the model's runner pool. */
  protected async work(): Promise<void> {
    for (const job of this.store.jobsAt("pending")) this.launch(job.jobId);
    const ended = await Promise.allSettled([...this.checking.values()]);
    const failed = ended.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed) throw failed.reason;
  }

  /** Our game on `jobId`, if we opened one, with the input commitment it starts from (a batch item's). */
  private async ourGame(jobId: bigint): Promise<{ game: string; inputCommitment: string } | undefined> {
    for (const g of await this.p.disputes.gamesOf(jobId)) {
      const s = await readGame(attachGame(g, this.ctx.signer));
      if (s.challenger.toLowerCase() === this.address.toLowerCase()) return { game: g, inputCommitment: s.inputCommitment };
    }
    return undefined;
  }

  private async check(job: JobRow): Promise<void> {
    const id = job.jobId;
    if (this.ctx.journal.inFlight(`open:${id}`)) return;
    // A dispute we opened before a restart: keep playing it.
    if (job.disputeRoot !== undefined) {
      if (await this.oneAtATime(() => this.recover(job))) return;
    }
    // The ResultSubmitted event we read says who submitted and when the window ends (after a
    // restart, not in memory, the job is read back). The job may have moved on since (a dispute of
    // another verifier rejected it): that matters only before a dispute is opened, or once the
    // window has closed, and is read then.
    let rec: JobRecord | undefined;
    const current = async (): Promise<JobRecord | undefined> => {
      rec ??= await getJob(this.p, id);
      if (rec.status === JobStatus.Submitted) return rec;
      this.store.updateJob(id, { stage: "skipped", note: jobStatusName(rec.status) });
      return undefined;
    };
    const event = this.submitted.get(id);
    let worker = event?.worker;
    let windowEnd = job.challengeEnd;
    if (worker === undefined || windowEnd === undefined) {
      const r = await current();
      if (!r) return;
      worker = r.worker;
      windowEnd = r.timer;
    }
    if (worker.toLowerCase() === this.address.toLowerCase()) {
      this.store.updateJob(id, { stage: "skipped", note: "our own job" });
      return;
    }
    if (this.nextBlockTime() >= windowEnd) {
      if (!(await current())) return;
      this.store.updateJob(id, { stage: "missed", note: "challenge window closed before the check" });
      this.log.warn(`job ${id}: its challenge window closed before we could check it`);
      return;
    }
    // Bytes that do not match the requester's commitment cannot be judged: such a job is skipped.
    // An input to fetch is fetched and checked by the runner's thread, if it has one, and kept in
    // the store only if it comes to a dispute (see inputOf).
    const doing = "checking";
    const retrying = "trying again while the window is open";
    let source: InputSource;
    try {
      source = await this.inputSourceOf(job);
    } catch (e) {
      return this.inputFailed(job, e, doing, retrying);
    }
    const { model } = await this.ctx.models.get(job.modelId);
    const n = batchSizeOf(job);
    const cheat = job.cheat ? (JSON.parse(job.cheat) as CheatSpec) : undefined;
    const lie = cheat ?? (this.options.cheat ? chooseCheat(model, this.options.cheat, Math.random, n) : undefined);
    let input = "input" in source ? source.input : undefined;
    // The happy path: a plain run on a runner of the pool (each input of a batch), compared by
    // output commitment (no trace is built).
    let ran: { outputCommitment: string; ms: number; itemCommitments?: readonly string[] };
    try {
      ran = await this.poolFor(job.modelId, model).use(async (runner) => {
        if (n === 1 && input === undefined && lie === undefined && runner.runFrom && !("input" in source)) {
          const started = performance.now();
          const r = await runner.runFrom(source);
          return { outputCommitment: r.outputCommitment, ms: performance.now() - started };
        }
        input ??= await this.inputOf(job, false);
        return computeBatchOutput(model, splitItems(input, n).map(intsOf), { cheat: lie, runner });
      });
    } catch (e) {
      return this.inputFailed(job, e, doing, retrying);
    }
    const submitted =
      event?.outputCommitment ?? (job.output !== undefined ? commitBatch(job.output, n) : (await submittedResultOf(this.p, id)).outputCommitment);
    const items = n === 1 ? "" : ` of its ${n} inputs`;
    if (ran.outputCommitment.toLowerCase() === submitted.toLowerCase()) {
      this.store.updateJob(id, { stage: "agreed" });
      this.log.info(`job ${id}: result${items} checks out (output ${short(submitted)}, re-run in ${ran.ms.toFixed(1)} ms)`);
      return;
    }
    if (!(await current())) return;
    const bytes = input ?? (await this.usableInput(job, doing, retrying, false));
    if (bytes === undefined) return;
    const wrong = n === 1 ? undefined : await this.firstWrongItem(job, event, ran.itemCommitments!);
    this.log.info(
      `job ${id}: MISMATCH: worker ${short(worker)} submitted output ${short(submitted)}${items}, we computed ${short(ran.outputCommitment)}` +
        (wrong ? ` (item ${wrong.item} differs)` : "") +
        (lie ? ` (we lie on purpose at layer ${lie.layer}${lie.item === undefined ? "" : ` of item ${lie.item}`})` : "") +
        "; building the trace to open a dispute",
    );
    await this.oneAtATime(() => this.dispute(job, model, bytes, lie, wrong));
  }

  /**
   * The first item of batch `job` whose submitted output differs from ours (`ours`: our items'
   * output commitments), with the submitted items' commitments, which the dispute passes.
   */
  private async firstWrongItem(job: JobRow, event: Submitted | undefined, ours: readonly string[]): Promise<WrongItem> {
    const output = event?.output ?? job.output ?? (await submittedOutput(this.p, job.jobId)).output;
    const theirs = itemCommitments(output, batchSizeOf(job));
    const item = theirs.findIndex((c, i) => c.toLowerCase() !== ours[i]!.toLowerCase());
    if (item < 0) throw new VeritensorError(`job ${job.jobId}: the batch's commitments differ but every item agrees`);
    return { item, submittedItems: theirs };
  }

  /** A dispute we opened before a restart, found on chain and tracked again; false if there is none. */
  private async recover(job: JobRow): Promise<boolean> {
    const id = job.jobId;
    const found = await this.ourGame(id);
    if (!found) return false;
    const { game } = found;
    const n = batchSizeOf(job);
    // The item our game is about: the one whose input the game starts from.
    const item = n === 1 ? 0 : itemCommitments(job.input!, n).findIndex((c) => c === found.inputCommitment.toLowerCase());
    if (item < 0) throw new VeritensorError(`job ${id}: our game ${game} starts from an input of none of the batch's items`);
    const input = new Uint8Array(splitItems(job.input!, n)[item]!);
    const cheat = cheatOfItem(job.cheat ? (JSON.parse(job.cheat) as CheatSpec) : undefined, item);
    this.trackDispute({ game, jobId: id, side: Side.Challenger, modelId: job.modelId, input, cheat, claim: job.disputeRoot! });
    this.store.updateJob(id, { stage: "disputed" });
    this.log.info(`job ${id}: our dispute (game ${short(game)}) is on chain (recovered)`);
    return true;
  }

  /**
   * Builds the trace and opens a dispute on `job` (one at a time: see oneAtATime); on a batch, on
   * its item `wrong.item`, whose trace starts from that item's input.
   */
  private async dispute(
    job: JobRow,
    model: Parameters<typeof computeTrace>[0],
    input: Uint8Array,
    lie: CheatSpec | undefined,
    wrong: WrongItem | undefined,
  ): Promise<void> {
    const id = job.jobId;
    if (this.ctx.journal.inFlight(`open:${id}`)) return;
    const n = batchSizeOf(job);
    const item = wrong?.item ?? 0;
    const itemInput = new Uint8Array(splitItems(input, n)[item]!);
    const itemLie = cheatOfItem(lie, item);
    const t = await computeTrace(model, intsOf(itemInput), { cheat: itemLie });
    const player = new DisputePlayer(Side.Challenger, this.ctx.signer, model, t.trace);
    const submitted = await submittedResultOf(this.p, id);
    const result = wrong ? itemOfBatch(submitted, item, itemCommitments(input, n), wrong.submittedItems) : submitted;
    // Write-ahead: the trace we will play (its root and how to rebuild it: the input too) before opening.
    this.store.updateJob(id, { disputeRoot: t.root, cheat: lie ? JSON.stringify(lie) : undefined, input: job.input?.length ? undefined : input });
    await this.ensureBond();
    // Commit, then reveal in a later block: the commitment's rank, not the opening's, decides who
    // earns the reward, so a copycat that sees our opening is always behind. The salt is derived
    // from our own signature, so a restart between the two finds the same commitment on chain.
    const args = player.openArgs(result, await derivedSalt(this.ctx.signer, this.p.addresses.disputeFactory, id, t.root as Hex));
    const committed = await this.perform(`commit:${id}`, `commit to a dispute on job ${id}`, () =>
      commitDispute(this.p.disputes, this.ctx.signer, id, args),
    );
    this.log.info(`job ${id}: committed to the dispute (rank ${committed.rank}); opening it in the next block`);
    const { game, receipt } = await this.perform(`open:${id}`, `open dispute job ${id}`, () =>
      revealDispute(this.p.disputes, this.ctx.signer, id, args),
    );
    const address = await game.getAddress();
    this.trackDispute({ game: address, jobId: id, side: Side.Challenger, modelId: job.modelId, input: itemInput, cheat: itemLie, claim: t.root }, player);
    this.store.updateJob(id, { stage: "disputed" });
    this.log.info(`job ${id}: dispute opened, game ${short(address)} (${receipt.gasUsed.toLocaleString("en-US")} gas); the worker must post its trace root`);
  }

  /** The dispute factory may take our bond. */
  private async ensureBond(): Promise<void> {
    const params = await this.p.disputes.params();
    const allowance = await this.p.token.allowance(this.address, this.p.addresses.disputeFactory);
    if (allowance >= params.challengeBond) return;
    await this.perform(`approve-factory:${allowance}`, `approve the dispute factory for bonds`, async () => {
      const tx = await this.p.token.connect(this.ctx.signer).approve(this.p.addresses.disputeFactory, MaxUint256);
      return waitMined(tx);
    });
    this.log.info(`approved the dispute factory to take bonds (${formatVtn(params.challengeBond)} per dispute)`);
  }

  protected async collect(): Promise<void> {
    await this.collectFromFactory();
  }
}
