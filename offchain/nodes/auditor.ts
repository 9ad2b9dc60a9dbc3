/**
 * A worker's audits of other workers' results (issue 18; contracts/audits/AuditManager.sol). When
 * the deployment has an audit manager, the worker reads `ResultSubmitted` of the models it serves
 * (in its own event scan), and for each result that is not its own reads the audit draw once, after
 * the draw's seed block (the one after the submission): not audited, drawn for another worker, or
 * ours. When it is ours (its slot open long enough for a commitment to be mined, the challenge
 * window long enough for the reveal, our free stake enough for the job's lock), the worker runs the
 * model with the runner it uses for its own jobs, writes its output commitment ahead, commits to it
 * hidden by a salt derived from its own signature (a restart finds the same commitment: losing it
 * would cost the lock), and reveals in a later block: agreement (`revealAudit`), or a mismatch
 * (`revealMismatch`: the dispute opens at once, with us as challenger, from the same trace and proof
 * builders as the verifier's) that the node then plays like any game. Once the job is finalized or
 * rejected, it settles the audit and withdraws the reward.
 *
 * Reads: one draw per submitted result per worker, whatever the number of workers; a drawn auditor
 * that commits is seen in the same event scan (`AuditCommitted`), and only one that lets its slot
 * pass costs another draw read (to find the next slot's auditor).
 */
import { MaxUint256, ZeroAddress } from "ethers";

import type { AuditManager } from "../../types/ethers-contracts/index.js";
import type { AuditDraw, JobTerms } from "../clients/index.js";
import {
  AuditStatus,
  JobStatus,
  VeritensorError,
  auditCommitment,
  auditDraw,
  auditManagerOf,
  auditOf,
  auditSalt,
  auditStatusName,
  commitAudit,
  formatTime,
  formatVtn,
  getJob,
  jobDetails,
  jobTerms,
  revealAudit,
  revealMismatch,
  settleAudit,
  submittedOutput,
  submittedResultOf,
  waitMined,
  withdrawAuditBalance,
} from "../clients/index.js";
import { attachGame, itemOfBatch, readGame } from "../clients/disputes.js";
import { protocolRevert } from "../clients/revert.js";
import { Side } from "../clients/game-types.js";
import { itemCommitments, splitItems } from "../commitments/batch.js";
import type { Hex } from "../commitments/merkle.js";
import { DisputePlayer } from "../disputes/player.js";
import { computeBatchOutput, computeTrace, intsOf } from "../runtime/trace.js";
import { batchSizeOf } from "./node.js";
import type { NodeContext } from "./node.js";
import { short } from "./log.js";
import type { AuditRow, JobRow } from "./store.js";

/**
 * How a worker audits: `on` (default), `off` (never: its drawn slots pass, and it is charged the
 * miss penalty), `commit-only` (tests and demos: a lazy auditor that commits and never reveals).
 */
export type AuditMode = "on" | "off" | "commit-only";

/** A commitment is sent only if the slot lasts at least this many blocks after the next one (see SLOT_MARGIN_BLOCKS of the worker). */
const SLOT_MARGIN_BLOCKS = 1n;
/**
 * Seconds of challenge window a commitment must leave for its reveal (mined in a later block, and
 * before the window closes): a few blocks' time on any chain.
 */
export const REVEAL_MARGIN_S = 10n;
/** Jobs whose draw reads are counted (see {@link Auditor.drawReadsOf}). */
const DRAW_READS_KEPT = 1024;

/** The fields of the escrow's `ResultSubmitted` an auditor reads. */
export interface SubmittedEvent {
  readonly jobId: bigint;
  readonly worker: string;
  readonly outputCommitment: string;
  readonly challengeEnd: bigint;
}

/** What the auditor needs from the worker that runs it. */
export interface AuditorHost {
  readonly ctx: NodeContext;
  readonly mode: AuditMode;
  /** At least the time a block mined now will carry. */
  now(): bigint;
  /** The head block of this pass. */
  headBlock(): number | undefined;
  serves(modelId: bigint): Promise<boolean>;
  /** Sends through the node's journal (write-ahead, counted). */
  perform<T>(key: string, label: string, fn: () => Promise<T>): Promise<T>;
  /** The job's input (inline, or fetched and checked); throws an InputError. */
  inputOf(job: JobRow): Promise<Uint8Array>;
  /** Records a dispute the node then plays (the player, whose trace is built, handed over). */
  trackDispute(
    d: { game: string; jobId: bigint; side: Side; modelId: bigint; input: Uint8Array; claim: string },
    player: DisputePlayer,
  ): boolean;
}

/** What the audits cost a worker in reads, and what they did (tests and benchmarks). */
export interface AuditCounters {
  /** Audit draws read (`auditDraw`). */
  drawReads: number;
  /** Results seen to audit (not our own, of a model we serve). */
  results: number;
  /** Audits committed, revealed in agreement, revealed as a mismatch, settled. */
  committed: number;
  passed: number;
  mismatches: number;
  settled: number;
}

export class Auditor {
  private readonly host: AuditorHost;
  readonly counters: AuditCounters = { drawReads: 0, results: 0, committed: 0, passed: 0, mismatches: 0, settled: 0 };
  /**
   * Draw reads per job, for the most recent {@link DRAW_READS_KEPT} jobs (tests: at most one per
   * slot, and one more to learn that the last has passed; bounded, as a node runs for months).
   */
  readonly drawReadsOf = new Map<bigint, number>();
  /** The manager, read once (undefined: the deployment has no audits). */
  private manager: Promise<AuditManager | undefined> | undefined;
  /** Whether the manager may owe us a reward (read once at start, then after each settlement). */
  private mayBeOwed = true;
  /** Each (job, slot) said once. */
  private readonly said = new Set<string>();

  constructor(host: AuditorHost) {
    this.host = host;
  }

  private get ctx(): NodeContext {
    return this.host.ctx;
  }
  private get log() {
    return this.host.ctx.log;
  }

  managerOf(): Promise<AuditManager | undefined> {
    this.manager ??= auditManagerOf(this.ctx.p);
    return this.manager;
  }

  /** The manager's address and the topic of `AuditCommitted`, for the worker's event scan (undefined: no audits). */
  async events(): Promise<{ address: string; committed: string } | undefined> {
    const m = await this.managerOf();
    if (m === undefined) return undefined;
    return { address: await m.getAddress(), committed: m.interface.getEvent("AuditCommitted")!.topicHash };
  }

  /** A result was submitted in block `block`: to audit if it is not ours and we serve its model. */
  async onResultSubmitted(e: SubmittedEvent, block: number): Promise<void> {
    if (this.host.mode === "off") return;
    if (e.worker.toLowerCase() === this.ctx.address.toLowerCase()) return;
    const job = this.ctx.store.job(e.jobId);
    const modelId = job?.modelId ?? (await jobTerms(this.ctx.p, e.jobId)).modelId;
    if (!(await this.host.serves(modelId))) return;
    const known = this.ctx.store.audit(e.jobId);
    if (known !== undefined && known.submittedBlock === BigInt(block)) return;
    if (known !== undefined) {
      // Submitted again (a reorganization dropped the first one): the draw follows the new block.
      if (!["pending", "unaudited", "other", "theirs"].includes(known.stage)) return;
      this.ctx.store.db.prepare("DELETE FROM audits WHERE job_id = ?").run(e.jobId);
    }
    this.counters.results++;
    this.ctx.store.addAudit({
      jobId: e.jobId,
      modelId,
      worker: e.worker,
      workerOutput: e.outputCommitment,
      submittedBlock: BigInt(block),
      challengeEnd: e.challengeEnd,
    });
  }

  /** Someone committed to the audit of `jobId`: nothing more to wait for unless it is us. */
  onCommitted(jobId: bigint, auditor: string, slot: bigint): void {
    const a = this.ctx.store.audit(jobId);
    if (a === undefined || auditor.toLowerCase() === this.ctx.address.toLowerCase()) return;
    // Also once we have computed ours: an audit takes one commitment, so ours (too late for our slot:
    // a slow run, a restart) can no longer be accepted, and sending it would fail every pass.
    if (a.stage === "pending" || a.stage === "other" || a.stage === "computed") {
      this.ctx.store.updateAudit(jobId, { stage: "theirs", note: `audited by ${auditor} (slot ${slot})` });
    }
  }

  /** One pass over the audits: draws to read, ours to run, commit and reveal, settled jobs to settle. */
  async tick(attempt: (what: string, fn: () => Promise<void>) => Promise<boolean>): Promise<void> {
    if (this.host.mode === "off" || (await this.managerOf()) === undefined) return;
    const head = this.host.headBlock();
    if (head === undefined) return;
    for (const a of this.ctx.store.auditsAt("pending", "other", "computed", "committed")) {
      await attempt(`audit of job ${a.jobId}`, () => this.step(a, BigInt(head)));
    }
    for (const a of this.ctx.store.auditsAt("passed", "disputed", "unrevealed")) await attempt(`audit of job ${a.jobId}`, () => this.settle(a));
  }

  private async step(a: AuditRow, head: bigint): Promise<void> {
    const id = a.jobId;
    if (a.stage === "computed") return this.commit(a);
    if (a.stage === "committed") return this.reveal(a);
    // The draw is readable once its seed block (the one after the submission) is below the head.
    if (head < a.submittedBlock + 2n) return;
    if (a.stage === "other" && (a.slotEnd === undefined || head <= a.slotEnd)) return;
    if (this.host.now() >= a.challengeEnd) {
      this.ctx.store.updateAudit(id, { stage: a.stage === "other" ? "theirs" : "skipped", note: "challenge window closed" });
      return;
    }
    const terms = await jobTerms(this.ctx.p, id);
    const d = await auditDraw(this.ctx.p, id, terms, Number(head));
    this.countDrawRead(id);
    if (!d.audited) {
      this.ctx.store.updateAudit(id, { stage: "unaudited" });
      this.log.info(`job ${id}: not drawn for audit`);
      return;
    }
    if (d.over) {
      this.ctx.store.updateAudit(id, { stage: "theirs", note: "every audit slot has passed" });
      return;
    }
    if (d.auditor === ZeroAddress) {
      // The slot's draw (and its redraw) fell on the job's worker: nobody audits in it; the next slot draws again.
      this.ctx.store.updateAudit(id, { stage: "other", slotEnd: d.slotEnd });
      this.sayOnce(`${id}:${d.slot}`, `job ${id}: drawn for audit, but slot ${d.slot} has no auditor (its draw fell on the worker); the next slot is drawn after block ${d.slotEnd}`);
      return;
    }
    if (d.auditor.toLowerCase() !== this.ctx.address.toLowerCase()) {
      this.ctx.store.updateAudit(id, { stage: "other", slotEnd: d.slotEnd });
      this.sayOnce(`${id}:${d.slot}`, `job ${id}: audit drawn for ${short(d.auditor)} (slot ${d.slot}, until block ${d.slotEnd}), not us`);
      return;
    }
    await this.ours(a, terms, d);
  }

  private countDrawRead(id: bigint): void {
    this.counters.drawReads++;
    const n = (this.drawReadsOf.get(id) ?? 0) + 1;
    this.drawReadsOf.delete(id); // re-inserted last: the map's order is the order of the latest reads
    this.drawReadsOf.set(id, n);
    if (this.drawReadsOf.size > DRAW_READS_KEPT) this.drawReadsOf.delete(this.drawReadsOf.keys().next().value!);
  }

  private sayOnce(key: string, line: string): void {
    if (this.said.has(key)) return;
    this.said.add(key);
    this.log.info(line);
  }

  /** We are the drawn auditor of `a`: check the time and the stake, run the model, write our output ahead. */
  private async ours(a: AuditRow, terms: JobTerms, d: AuditDraw): Promise<void> {
    const id = a.jobId;
    const p = this.ctx.p;
    // The commitment must be mined in our slot, and leave time to reveal before the window closes.
    if (d.slotEnd <= d.atBlock + SLOT_MARGIN_BLOCKS) {
      this.ctx.store.updateAudit(id, { stage: "other", slotEnd: d.slotEnd, note: "our slot ends too soon" });
      this.log.warn(`job ${id}: audit drawn for us (slot ${d.slot}), but the slot ends at block ${d.slotEnd}, too soon after the head (${d.atBlock}) for a commitment to be mined in it`);
      return;
    }
    if (this.host.now() + REVEAL_MARGIN_S >= a.challengeEnd) {
      this.ctx.store.updateAudit(id, { stage: "skipped", note: "too little of the challenge window left to reveal" });
      this.log.warn(`job ${id}: audit drawn for us (slot ${d.slot}), but its challenge window ends ${formatTime(a.challengeEnd, this.host.now())}: no time to reveal; not committing`);
      return;
    }
    const free = await p.staking.freeStake(this.ctx.address);
    if (free < terms.lock) {
      this.ctx.store.updateAudit(id, { stage: "skipped", note: `free stake ${formatVtn(free)} below the lock ${formatVtn(terms.lock)}` });
      this.log.warn(`job ${id}: audit drawn for us (slot ${d.slot}), but it locks ${formatVtn(terms.lock)} and only ${formatVtn(free)} of our stake is free; not committing`);
      return;
    }
    if (a.ourOutput !== undefined) {
      // Computed in an earlier slot of ours whose commitment never went out (a restart after it ended): the same output.
      this.ctx.store.updateAudit(id, { stage: "computed" });
      this.log.info(`job ${id}: audited by us again (slot ${d.slot}), with the output computed before (${short(a.ourOutput)})`);
      return this.commit(this.ctx.store.audit(id)!, { draw: d, terms });
    }
    const job = await this.jobRow(id);
    const input = await this.host.inputOf(job);
    const { model } = await this.ctx.models.get(job.modelId);
    const n = batchSizeOf(job);
    const t = await computeBatchOutput(model, splitItems(input, n).map(intsOf), n === 1 ? { inputCommitment: terms.inputCommitment as Hex } : {});
    // Write-ahead: the output our commitment will hide, before the commitment exists.
    this.ctx.store.updateAudit(id, { stage: "computed", ourOutput: t.outputCommitment });
    const agrees = t.outputCommitment.toLowerCase() === a.workerOutput.toLowerCase();
    this.log.info(
      `job ${id}: audited by us (slot ${d.slot}): ran model ${job.modelId} in ${t.ms.toFixed(1)} ms, output ${short(t.outputCommitment)}, ` +
        (agrees ? "agrees with the worker's" : `DIFFERS from the worker's ${short(a.workerOutput)}`),
    );
    await this.commit(this.ctx.store.audit(id)!, { draw: d, terms });
  }

  /** The job's row in our store (a job requested before our first block is read back from its events). */
  private async jobRow(id: bigint): Promise<JobRow> {
    const known = this.ctx.store.job(id);
    if (known !== undefined) return known;
    const d = await jobDetails(this.ctx.p, id);
    this.ctx.store.addJob(id, d.job.modelId, "skipped");
    this.ctx.store.updateJob(id, { note: "audited only", ...(d.input ? { input: d.input } : {}), ...(d.job.batchSize > 1n ? { batchSize: Number(d.job.batchSize) } : {}) });
    return this.ctx.store.job(id)!;
  }

  private async salt(id: bigint, ours: string): Promise<Hex> {
    const m = (await this.managerOf())!;
    return auditSalt(this.ctx.signer, await m.getAddress(), id, ours);
  }

  /** Our audit record on chain when a transaction for `key` was sent before (a restart): its status, or undefined. */
  private async recovered(id: bigint, key: string): Promise<bigint | undefined> {
    if (this.ctx.store.intent(key) === undefined) return undefined;
    const r = await auditOf(this.ctx.p, id);
    return r.auditor.toLowerCase() === this.ctx.address.toLowerCase() ? r.status : undefined;
  }

  /**
   * Commits to our output of `a` (or finds the commitment on chain). `fresh` is the draw that
   * found the slot ours in this pass; without it (the commitment was decided in an earlier pass:
   * before a restart, or its sending failed) the draw is read again, and a slot that has passed
   * meanwhile is given up rather than sent for in vain every pass.
   */
  private async commit(a: AuditRow, fresh?: { draw: AuditDraw; terms: JobTerms }): Promise<void> {
    const id = a.jobId;
    const key = `audit-commit:${id}`;
    if (this.ctx.journal.inFlight(key)) return;
    const status = await this.recovered(id, key);
    if (status !== undefined && status !== AuditStatus.None) {
      this.ctx.store.updateAudit(id, { stage: "committed" });
      this.log.info(`job ${id}: our audit commitment is on chain (recovered)`);
      return this.reveal(this.ctx.store.audit(id)!);
    }
    if (this.host.now() + REVEAL_MARGIN_S >= a.challengeEnd) {
      this.ctx.store.updateAudit(id, { stage: "skipped", note: "too little of the challenge window left to reveal" });
      this.log.warn(`job ${id}: too little of its challenge window is left to reveal an audit; not committing`);
      return;
    }
    const ours = a.ourOutput!;
    const mismatch = ours.toLowerCase() !== a.workerOutput.toLowerCase();
    // A mismatch is revealed by opening a dispute, whose bond the factory takes from us: make sure it can.
    if (mismatch && !(await this.bondReady(id))) return;
    const terms = fresh?.terms ?? (await jobTerms(this.ctx.p, id));
    if (fresh === undefined && !(await this.stillOurs(a, terms))) return;
    const salt = await this.salt(id, ours);
    const commitment = auditCommitment(id, this.ctx.address, ours, salt);
    let receipt;
    try {
      receipt = await this.host.perform(key, `audit-commit job ${id}`, () => commitAudit(this.ctx.p, this.ctx.signer, id, terms, a.workerOutput, commitment));
    } catch (e) {
      if (!this.committedBefore(id, e)) throw e;
      return;
    }
    this.counters.committed++;
    this.ctx.store.updateAudit(id, { stage: "committed" });
    this.log.info(`job ${id}: committed to our audit output (${formatVtn(terms.lock)} of stake locked, block ${receipt.blockNumber}); revealing in the next block`);
    await this.reveal(this.ctx.store.audit(id)!);
  }

  /**
   * Whether our commitment to the audit of `id` failed because the audit already had one (the
   * manager's `AuditManagerAlreadyCommitted`): another auditor's, committed in its own slot while
   * ours passed (our output took longer than our slot), and not yet in our event scan; or every
   * slot was reported missed. Then the audit is given up, once, rather than sent for again every
   * pass. A commitment of our own (sent by an earlier run that did not record it) is revealed.
   */
  private committedBefore(id: bigint, error: unknown): boolean {
    const r = protocolRevert(error);
    if (r?.name !== "AuditManagerAlreadyCommitted") return false;
    const by = String(r.args[1]);
    if (by.toLowerCase() === this.ctx.address.toLowerCase()) {
      this.ctx.store.updateAudit(id, { stage: "committed" });
      this.log.info(`job ${id}: our audit commitment is on chain (found when sending it again)`);
      return true;
    }
    const whose = by === ZeroAddress ? "every slot was reported missed" : `${short(by)} committed first, in its own slot`;
    this.ctx.store.updateAudit(id, { stage: "theirs", note: `not ours: ${whose}` });
    this.log.warn(`job ${id}: our audit commitment came too late: ${whose}; letting the audit go`);
    return true;
  }

  /**
   * Whether the current audit slot of `a` is still ours, long enough for a commitment to be mined
   * in it (read again for a commitment decided in an earlier pass). If not, says so once: the audit
   * waits for the end of the current slot (a later one may be ours again: the output is kept), or
   * is given up once every slot has passed (a commit would only revert).
   */
  private async stillOurs(a: AuditRow, terms: JobTerms): Promise<boolean> {
    const id = a.jobId;
    const d = await auditDraw(this.ctx.p, id, terms, this.host.headBlock());
    this.countDrawRead(id);
    if (d.over) {
      this.ctx.store.updateAudit(id, { stage: "skipped", note: "every audit slot passed before our commitment was sent" });
      this.log.warn(`job ${id}: every audit slot has passed before our commitment was sent (a restart?): not committing`);
      return false;
    }
    if (d.auditor.toLowerCase() === this.ctx.address.toLowerCase() && d.slotEnd > d.atBlock + SLOT_MARGIN_BLOCKS) return true;
    this.ctx.store.updateAudit(id, { stage: "other", slotEnd: d.slotEnd, note: "our slot passed before our commitment was sent" });
    this.log.warn(`job ${id}: our audit slot passed before our commitment was sent (a restart?); slot ${d.slot} lasts until block ${d.slotEnd}, the draw is read again after it`);
    return false;
  }

  /** Whether the dispute factory can take a challenge bond from us (approving it if needed); says why not. */
  private async bondReady(id: bigint): Promise<boolean> {
    const p = this.ctx.p;
    const [params, balance, allowance] = await Promise.all([
      p.disputes.params(),
      p.token.balanceOf(this.ctx.address),
      p.token.allowance(this.ctx.address, p.addresses.disputeFactory),
    ]);
    if (balance < params.challengeBond) {
      this.ctx.store.updateAudit(id, { stage: "skipped", note: `cannot post the dispute bond (${formatVtn(params.challengeBond)})` });
      this.log.warn(
        `job ${id}: our audit output differs, but a mismatch opens a dispute whose bond is ${formatVtn(params.challengeBond)} and we hold ${formatVtn(balance)}: not committing (the slot's miss penalty applies)`,
      );
      return false;
    }
    if (allowance < params.challengeBond) {
      await this.host.perform(`approve-factory:${allowance}`, "approve the dispute factory for bonds", async () =>
        waitMined(await p.token.connect(this.ctx.signer).approve(p.addresses.disputeFactory, MaxUint256)),
      );
      this.log.info(`approved the dispute factory to take bonds (${formatVtn(params.challengeBond)} per dispute)`);
    }
    return true;
  }

  private async reveal(a: AuditRow): Promise<void> {
    const id = a.jobId;
    if (this.host.mode === "commit-only") {
      this.ctx.store.updateAudit(id, { stage: "skipped", note: "committed, never revealed (commit-only)" });
      this.log.warn(`job ${id}: audit committed and NOT revealed (--audits commit-only: a lazy auditor, for tests)`);
      return;
    }
    const key = `audit-reveal:${id}`;
    if (this.ctx.journal.inFlight(key)) return;
    const status = await this.recovered(id, key);
    if (status === AuditStatus.Passed || status === AuditStatus.Mismatch) return this.revealed(a, status);
    if (this.host.now() >= a.challengeEnd) {
      // Down through the whole reveal window: a reveal can only fail now. The commitment still
      // locks our stake until the audit is settled (its miss penalty), which we do once the job is.
      this.ctx.store.updateAudit(id, { stage: "unrevealed", note: "the challenge window closed before our reveal" });
      this.log.warn(`job ${id}: the challenge window closed before our audit was revealed (was the node down?): its miss penalty applies; settling it once the job is`);
      return;
    }
    const ours = a.ourOutput!;
    const salt = await this.salt(id, ours);
    if (ours.toLowerCase() === a.workerOutput.toLowerCase()) {
      await this.host.perform(key, `audit-reveal job ${id}`, () => revealAudit(this.ctx.p, this.ctx.signer, id, ours, salt));
      this.counters.passed++;
      this.ctx.store.updateAudit(id, { stage: "passed" });
      this.log.info(`job ${id}: audited by us, our output agrees, revealed`);
      return;
    }
    // A mismatch: the dispute's claim, built as the verifier builds it (the whole trace of the
    // input, or of the first batch item whose output differs).
    const job = await this.jobRow(id);
    const input = await this.host.inputOf(job);
    const { model } = await this.ctx.models.get(job.modelId);
    const n = batchSizeOf(job);
    let item = 0;
    let result = await submittedResultOf(this.ctx.p, id);
    if (n > 1) {
      const theirs = itemCommitments((await submittedOutput(this.ctx.p, id)).output, n);
      const mine = (await computeBatchOutput(model, splitItems(input, n).map(intsOf))).itemCommitments;
      item = theirs.findIndex((c, i) => c.toLowerCase() !== mine[i]!.toLowerCase());
      if (item < 0) throw new VeritensorError(`job ${id}: the batch's commitments differ but every item agrees`);
      result = itemOfBatch(result, item, itemCommitments(input, n), theirs);
    }
    const itemInput = new Uint8Array(splitItems(input, n)[item]!);
    const t = await computeTrace(model, intsOf(itemInput));
    const player = new DisputePlayer(Side.Challenger, this.ctx.signer, model, t.trace);
    const args = player.openArgs(result, salt);
    const { game, receipt } = await this.host.perform(key, `audit-reveal job ${id} (mismatch)`, () =>
      revealMismatch(this.ctx.p, this.ctx.signer, id, ours, salt, args),
    );
    this.counters.mismatches++;
    if (game === undefined) {
      // Already rejected (a verifier's game, say): the mismatch stands, settled with the job.
      this.ctx.store.updateAudit(id, { stage: "disputed", note: "mismatch revealed; the result was already rejected" });
      this.log.info(`job ${id}: audited by us, our output DIFFERS from the worker's: revealed as a mismatch (the result is already rejected: no game to open)`);
      return;
    }
    const address = await game.getAddress();
    this.host.trackDispute({ game: address, jobId: id, side: Side.Challenger, modelId: job.modelId, input: itemInput, claim: t.root }, player);
    this.ctx.store.updateAudit(id, { stage: "disputed", note: `game ${address}` });
    this.log.info(
      `job ${id}: audited by us, our output DIFFERS from the worker's: revealed as a mismatch, dispute opened, game ${short(address)}` +
        `${n > 1 ? ` on item ${item}` : ""} (${receipt.gasUsed.toLocaleString("en-US")} gas); playing it`,
    );
  }

  /** Our reveal is on chain (found after a restart): track the game of a mismatch again. */
  private async revealed(a: AuditRow, status: bigint): Promise<void> {
    const id = a.jobId;
    if (status === AuditStatus.Passed) {
      this.ctx.store.updateAudit(id, { stage: "passed" });
      this.log.info(`job ${id}: our audit reveal is on chain (recovered)`);
      return;
    }
    const r = await auditOf(this.ctx.p, id);
    if (r.game === ZeroAddress) {
      this.ctx.store.updateAudit(id, { stage: "disputed", note: "mismatch revealed; the result was already rejected" });
      return;
    }
    const job = await this.jobRow(id);
    const input = await this.host.inputOf(job);
    const { model } = await this.ctx.models.get(job.modelId);
    const n = batchSizeOf(job);
    // The game starts from the input of the item it disputes.
    const game = await readGame(attachGame(r.game, this.ctx.signer));
    const item = n === 1 ? 0 : itemCommitments(input, n).findIndex((c) => c === game.inputCommitment.toLowerCase());
    const itemInput = new Uint8Array(splitItems(input, n)[Math.max(item, 0)]!);
    const t = await computeTrace(model, intsOf(itemInput));
    this.host.trackDispute(
      { game: r.game, jobId: id, side: Side.Challenger, modelId: job.modelId, input: itemInput, claim: t.root },
      new DisputePlayer(Side.Challenger, this.ctx.signer, model, t.trace),
    );
    this.ctx.store.updateAudit(id, { stage: "disputed", note: `game ${r.game}` });
    this.log.info(`job ${id}: our audit's dispute (game ${short(r.game)}) is on chain (recovered)`);
  }

  /** Once the job is finalized or rejected: settle the audit (its reward credited, or its lock released or slashed). */
  private async settle(a: AuditRow): Promise<void> {
    const id = a.jobId;
    // A passed audit waits for the window; a disputed one for its game (the job is read only then).
    if (a.stage === "passed" && this.host.now() < a.challengeEnd) return;
    if (a.stage === "disputed" && this.ctx.store.allDisputes().some((d) => d.jobId === id && d.status === "playing")) return;
    const key = `audit-settle:${id}`;
    if (this.ctx.journal.inFlight(key)) return;
    const job = await getJob(this.ctx.p, id);
    if (job.status !== JobStatus.Finalized && job.status !== JobStatus.Rejected) return;
    const record = await auditOf(this.ctx.p, id);
    if (record.settled) {
      this.ctx.store.updateAudit(id, { stage: "settled", note: "settled by another" });
      this.mayBeOwed = true;
      return;
    }
    const s = await this.host.perform(key, `audit-settle job ${id}`, () => settleAudit(this.ctx.p, this.ctx.signer, id));
    this.counters.settled++;
    this.mayBeOwed = true;
    const outcome = s.reward > 0n ? `${formatVtn(s.reward)} reward credited` : s.slashed > 0n ? `${formatVtn(s.slashed)} of our lock SLASHED` : "lock released, no reward";
    this.ctx.store.updateAudit(id, { stage: "settled", note: outcome });
    this.log.info(`job ${id}: ${job.status === JobStatus.Finalized ? "finalized" : "rejected"}; our audit settled (${auditStatusName(record.status)}): ${outcome}`);
  }

  /** Withdraws what the audit manager owes us (read once at start, then after each settlement). */
  async collect(): Promise<void> {
    if (!this.mayBeOwed || (await this.managerOf()) === undefined) return;
    const m = (await this.managerOf())!;
    const owed = await m.balanceOf(this.ctx.address);
    this.mayBeOwed = false;
    if (owed === 0n) return;
    const block = this.host.headBlock() ?? 0;
    const w = await this.host.perform(`withdraw-audits:${block}`, `withdraw ${formatVtn(owed)} from the audit manager`, () => withdrawAuditBalance(this.ctx.p, this.ctx.signer));
    this.log.info(`withdrew ${formatVtn(w.amount)} of audit rewards`);
  }
}
