/**
 * The explorer's read API over its index: models, jobs, accounts (workers and challengers),
 * disputes (offchain/explorer/games.ts) and governance. Everything a page shows comes from the
 * indexed events, except what the events do not carry and never changes (a model's shapes, a game's
 * clock), what a page reads from the chain on first view (receipts, a step's calldata; cached in the
 * index), and governance's live figures (parameters in force, proposal states, voting power), read
 * through the same client functions as `gov show` and `gov power`.
 */
import { ZeroAddress, getBytes, hexlify } from "ethers";

import { bytesToInts, tensorCommitment } from "../clients/tensors.js";
import { splitItems } from "../commitments/batch.js";
import { formatVtn } from "../clients/format.js";
import type { Proposal, PowerReport, Concentration } from "../clients/governance.js";
import { describeAction, governedValues, proposalTimeline, proposalView, votingPower } from "../clients/governance.js";
import type { Protocol } from "../clients/protocol.js";
import { share } from "../cli/governance.js";
import { formatWad } from "../model/scales.js";
import type {
  AccountDetail, AccountSummary, AuditsView, ConcentrationView, GovernanceView, JobDetail, JobPage, JobStatusName, JobSummary, ModelDetail, ModelSummary,
  Payee, ProposalRow, QueuedCall, Stake, Status, SubscriptionSummary, Tensor, TimelineEntry,
} from "./api.js";
import type { Args } from "./catalog.js";
import type { EventRow, ExplorerDb } from "./database.js";
import { auditManagerAddress, auditorRecord, auditsView, feePartsOf, groupView, jobAudit, splitFee } from "./audits.js";
import { gameDetail, gameSummary } from "./games.js";
import { amount, at, contractLabels, lower, receipts, sum } from "./view.js";

type Row = Record<string, unknown>;

/** A bad request (400) or an unknown entity (404), with the sentence the page shows. */
export class QueryError extends Error {
  constructor(readonly status: 400 | 404, message: string) {
    super(message);
  }
}

const MAX_TENSOR = 4096;
const SUPPORT = ["against", "for", "abstain"];

export interface ExplorerQueriesOptions {
  readonly protocol: Protocol;
  readonly db: ExplorerDb;
  readonly confirmations: number;
  /** Names of known accounts (lower-case address -> name), shown beside addresses. */
  readonly labels?: ReadonlyMap<string, string>;
}

export class ExplorerQueries {
  readonly p: Protocol;
  readonly db: ExplorerDb;
  readonly confirmations: number;
  readonly labels: Map<string, string>;
  private readonly shapes = new Map<number, Promise<{ input: number[]; output: number[] }>>();
  private power?: { head: number; report: Promise<PowerReport> };

  constructor(o: ExplorerQueriesOptions) {
    this.p = o.protocol;
    this.db = o.db;
    this.confirmations = o.confirmations;
    this.labels = new Map([...contractLabels(o.protocol), ...[...(o.labels ?? new Map())].map(([a, n]) => [lower(a), n] as const)]);
  }

  // ---------------------------------------------------------------- status

  status(): Status {
    const n = (sql: string) => Number(this.db.get(sql)!.n);
    return {
      network: this.p.networkName,
      chainId: this.p.chainId.toString(),
      cursor: this.db.cursor() ?? -1,
      head: Number(this.db.meta("head") ?? "-1"),
      confirmations: this.confirmations,
      addresses: Object.fromEntries(Object.entries(this.p.addresses).map(([k, v]) => [k, lower(v)])),
      labels: Object.fromEntries(this.labels),
      counts: {
        models: n("SELECT COUNT(*) AS n FROM events WHERE source = 'registry' AND name = 'ModelRegistered'"),
        jobs: n("SELECT COUNT(*) AS n FROM jobs"),
        games: n("SELECT COUNT(*) AS n FROM games"),
        accounts: this.accountList().length,
        proposals: n("SELECT COUNT(*) AS n FROM events WHERE source = 'governor' AND name = 'ProposalCreated'"),
      },
    };
  }

  // ---------------------------------------------------------------- models

  private modelEvents(id: number): EventRow[] {
    return this.db.events("e.model_id = ? AND e.source = 'registry'", id);
  }

  private modelSummaryOf(id: number, registry: readonly EventRow[]): ModelSummary {
    const reg = registry.find((e) => e.name === "ModelRegistered")!;
    let price = reg.args.price as string;
    let uri = reg.args.uri as string;
    let owner = lower(reg.args.owner as string);
    let deprecated = false;
    for (const e of registry) {
      if (e.name === "ModelPriceUpdated") price = e.args.newPrice as string;
      else if (e.name === "ModelURIUpdated") uri = e.args.uri as string;
      else if (e.name === "ModelOwnershipTransferred") owner = lower(e.args.newOwner as string);
      else if (e.name === "ModelDeprecated") deprecated = true;
    }
    const counts = this.db.get(
      "SELECT COUNT(*) AS jobs, SUM(status = 'finalized') AS finalized FROM jobs WHERE model_id = ?",
      id,
    )!;
    const revenue = sum(this.db.all("SELECT model_fee FROM jobs WHERE model_id = ? AND status = 'finalized'", id).map((r) => r.model_fee as string));
    return {
      id,
      owner,
      uri,
      price: amount(price),
      deprecated,
      jobs: Number(counts.jobs),
      finalized: Number(counts.finalized ?? 0),
      revenue: amount(revenue),
      registered: at(reg),
    };
  }

  models(): ModelSummary[] {
    const ids = this.db.all("SELECT model_id FROM events WHERE source = 'registry' AND name = 'ModelRegistered' ORDER BY model_id").map((r) => Number(r.model_id));
    return ids.map((id) => this.modelSummaryOf(id, this.modelEvents(id)));
  }

  private shapesOf(id: number): Promise<{ input: number[]; output: number[] }> {
    let s = this.shapes.get(id);
    if (!s) {
      s = this.p.registry.getModel(id).then((m) => ({ input: m.inputShape.map(Number), output: m.outputShape.map(Number) }));
      s.catch(() => this.shapes.delete(id));
      this.shapes.set(id, s);
    }
    return s;
  }

  async model(idText: string): Promise<ModelDetail> {
    const id = parseId(idText, "model");
    const registry = this.modelEvents(id);
    if (!registry.some((e) => e.name === "ModelRegistered")) {
      throw new QueryError(404, `model ${id} does not exist (the index has ${this.countOf("ModelRegistered")} model(s): ${rangeText(this.idsOf("ModelRegistered", "model_id"))})`);
    }
    const summary = this.modelSummaryOf(id, registry);
    const reg = registry.find((e) => e.name === "ModelRegistered")!;
    const split = [...registry].reverse().find((e) => e.name === "ModelSplitSet");
    const contributors = ((split?.args.contributors as Args[] | undefined) ?? []).map((c) => ({ account: lower(c.account as string), bps: Number(c.bps) }));
    const developerBps = split ? Number(split.args.developerBps) : 10_000;
    const family = Number(reg.args.family);
    const versions = this.db
      .all("SELECT model_id FROM events WHERE source = 'registry' AND name = 'ModelRegistered' AND json_extract(args, '$.family') = ? ORDER BY model_id", String(family))
      .map((r) => Number(r.model_id));
    const byStatus: Record<string, number> = {};
    for (const r of this.db.all("SELECT status, COUNT(*) AS n FROM jobs WHERE model_id = ? GROUP BY status", id)) byStatus[r.status as string] = Number(r.n);
    const finalized = this.db.all("SELECT fee, model_fee, worker_fee FROM jobs WHERE model_id = ? AND status = 'finalized'", id);
    const total = sum(finalized.map((r) => r.model_fee as string));
    // The treasury's part as paid (JobFinalized): not the audit pool's share or a callback fee, which the fee also carried.
    const protocolFees = sum(
      this.db
        .all("SELECT json_extract(e.args, '$.protocolFee') AS v FROM jobs j JOIN events e ON e.job_id = j.job_id WHERE j.model_id = ? AND j.status = 'finalized' AND e.source = 'jobManager' AND e.name = 'JobFinalized'", id)
        .map((r) => r.v as string),
    );
    // Distributions: each ModelEarningsDistributed is followed, in its transaction, by one credit per payee.
    const distributions = this.db.events("e.model_id = ? AND e.source = 'jobManager' AND e.name = 'ModelEarningsDistributed'", id);
    const earned = new Map<string, bigint>();
    for (const d of distributions) {
      const inTx = this.db.events("e.tx_hash = ? AND e.source = 'jobManager' AND e.log_index > ?", d.txHash, d.logIndex);
      for (const e of inTx) {
        if (e.name === "ModelEarningsDistributed" || e.name === "ProtocolFeesCollected") break;
        if (e.name === "BalanceCredited" && BigInt(e.args.jobId as string) === 0n) {
          const a = lower(e.args.account as string);
          earned.set(a, (earned.get(a) ?? 0n) + BigInt(e.args.amount as string));
        }
      }
    }
    const distributed = sum(distributions.map((d) => d.args.amount as string));
    const undistributed = total - distributed;
    let rest = undistributed;
    const payees: Payee[] = contributors.map((c) => {
      const owed = (undistributed * BigInt(c.bps)) / 10_000n;
      rest -= owed;
      return { account: c.account, role: "contributor" as const, bps: c.bps, earned: amount(earned.get(c.account) ?? 0n), owed: amount(owed) };
    });
    payees.unshift({ account: summary.owner, role: "developer", bps: developerBps, earned: amount(earned.get(summary.owner) ?? 0n), owed: amount(rest) });
    const priceHistory = [
      { price: amount(reg.args.price as string), at: at(reg) },
      ...registry.filter((e) => e.name === "ModelPriceUpdated").map((e) => ({ price: amount(e.args.newPrice as string), at: at(e) })),
    ];
    const served = new Map<string, boolean>();
    for (const e of this.db.events("e.model_id = ? AND e.source = 'staking' AND e.name = 'ModelServed'", id)) served.set(lower(e.args.staker as string), e.args.served as boolean);
    const shapes = await this.shapesOf(id);
    const scale = (wad: string) => ({ wad, value: Number(formatWad(BigInt(wad))) });
    return {
      ...summary,
      family,
      previousVersion: Number(reg.args.previousVersion),
      versions,
      contentHash: reg.args.contentHash as string,
      graphCommitment: reg.args.graphCommitment as string,
      developerBps,
      contributors,
      inputScale: scale(reg.args.inputScaleWad as string),
      outputScale: scale(reg.args.outputScaleWad as string),
      inputShape: shapes.input,
      outputShape: shapes.output,
      priceHistory,
      jobsByStatus: byStatus,
      earnings: { total: amount(total), distributed: amount(distributed), undistributed: amount(undistributed), protocolFees: amount(protocolFees) },
      payees,
      servedBy: [...served].filter(([, s]) => s).map(([a]) => a),
    };
  }

  // ---------------------------------------------------------------- jobs

  jobs(q: { status?: string; model?: string; worker?: string; requester?: string; offset?: string; limit?: string }): JobPage {
    const where: string[] = [];
    const params: (string | number)[] = [];
    if (q.status) {
      if (!STATUSES.includes(q.status as JobStatusName)) throw new QueryError(400, `status "${q.status}" is not one of ${STATUSES.join(", ")}`);
      where.push("status = ?");
      params.push(q.status);
    }
    if (q.model) {
      where.push("model_id = ?");
      params.push(parseId(q.model, "model"));
    }
    if (q.worker) {
      where.push("worker = ?");
      params.push(parseAddress(q.worker));
    }
    if (q.requester) {
      where.push("requester = ?");
      params.push(parseAddress(q.requester));
    }
    const offset = q.offset ? parseCount(q.offset, "offset") : 0;
    const limit = Math.min(q.limit ? parseCount(q.limit, "limit") : 50, 500);
    const w = where.length > 0 ? `WHERE ${where.join(" AND ")}` : "";
    const total = Number(this.db.get(`SELECT COUNT(*) AS n FROM jobs ${w}`, ...params)!.n);
    const rows = this.db.all(`SELECT * FROM jobs ${w} ORDER BY job_id DESC LIMIT ? OFFSET ?`, ...params, limit, offset);
    return { total, offset, jobs: rows.map(jobSummary) };
  }

  async job(idText: string): Promise<JobDetail> {
    const id = parseId(idText, "job");
    const row = this.db.get("SELECT * FROM jobs WHERE job_id = ?", id);
    if (!row) {
      const n = Number(this.db.get("SELECT COUNT(*) AS n FROM jobs")!.n);
      const hi = Number(this.db.get("SELECT MAX(job_id) AS m FROM jobs")!.m ?? 0);
      throw new QueryError(404, `job ${id} does not exist${n > 0 ? ` (the index has ${n} job(s), ids 1 to ${hi})` : " (the index has no jobs yet)"}`);
    }
    const evs = this.db.events("e.job_id = ?", id);
    const req = evs.find((e) => e.name === "JobRequested")!;
    const terms = req.args.terms as Args;
    const modelId = Number(terms.modelId);
    const reg = this.db.events("e.source = 'registry' AND e.name = 'ModelRegistered' AND e.model_id = ?", modelId)[0];
    const shapes = await this.shapesOf(modelId).catch(() => ({ input: [], output: [] }));
    const fee = BigInt(terms.fee as string);
    const modelFee = BigInt(terms.modelFee as string);
    const bps = BigInt(terms.protocolFeeBps as string);
    const parts = await feePartsOf(this.p, this.db, terms);
    const audited = (await auditManagerAddress(this.p)) !== undefined || parts.auditFeeBps > 0n;
    const submitted = [...evs].reverse().find((e) => e.name === "ResultSubmitted");
    const claimed = [...evs].reverse().find((e) => e.name === "JobClaimed");
    const fin = evs.find((e) => e.name === "JobFinalized");
    const rej = evs.find((e) => e.name === "JobRejected");
    const cbFailed = evs.find((e) => e.name === "CallbackFailed");
    const consumer = lower(terms.consumer as string);
    const input = (req.args.input as string) !== "0x"
      ? tensorOf(req.args.input as string, reg?.args.inputScaleWad as string | undefined, shapes.input, terms.inputCommitment as string, false)
      : undefined;
    const output = submitted
      ? tensorOf(submitted.args.output as string, reg?.args.outputScaleWad as string | undefined, shapes.output, submitted.args.outputCommitment as string, true)
      : undefined;
    const batchSize = Number(row.batch_size);
    const items = batchSize > 1
      ? Array.from({ length: batchSize }, (_, i) => {
          const input = (req.args.input as string) !== "0x" ? itemOf(req.args.input as string, batchSize, i, reg?.args.inputScaleWad as string | undefined, shapes.input, false) : undefined;
          const output = submitted ? itemOf(submitted.args.output as string, batchSize, i, reg?.args.outputScaleWad as string | undefined, shapes.output, true) : undefined;
          return { ...(input ? { input } : {}), ...(output ? { output } : {}) };
        })
      : undefined;
    const triggered = evs.find((e) => e.source === "subscriptions" && e.name === "RunTriggered");
    const created = triggered
      ? this.db.events("e.source = 'subscriptions' AND e.name = 'SubscriptionCreated' AND json_extract(e.args, '$.subscriptionId') = ?", triggered.args.subscriptionId as string)[0]
      : undefined;
    const subscription = triggered && created
      ? {
          id: Number(triggered.args.subscriptionId),
          run: Number(triggered.args.run),
          runs: Number(created.args.runs),
          consumer: lower(created.args.consumer as string),
          keeper: lower(triggered.args.keeper as string),
        }
      : undefined;
    const groupId = row.group_id !== null && row.group_id !== undefined ? Number(row.group_id) : undefined;
    // A group's request, confirmation and resolution belong to each of its jobs' timelines.
    const groupEvents = groupId === undefined ? [] : this.db.events("e.grp = ? AND e.name IN ('GroupRequested', 'GroupConfirmed', 'GroupResolved')", groupId);
    const txs = new Map([...evs, ...groupEvents].map((e) => [e.txHash, e.block] as const));
    const facts = await receipts(this.p, this.db, txs);
    const timeline = this.timeline([...evs, ...groupEvents].sort((x, y) => x.block - y.block || x.logIndex - y.logIndex), facts, parts);
    const games = this.db.all("SELECT * FROM games WHERE job_id = ? ORDER BY opened_block", id).map(gameSummary);
    // Once finalized, the parts as paid: the treasury's from JobFinalized, the pool's from the escrow's credit to the manager.
    const manager = await auditManagerAddress(this.p);
    const paidAudit = fin && manager
      ? evs.find((e) => e.source === "jobManager" && e.name === "BalanceCredited" && lower(e.args.account as string) === manager)
      : undefined;
    const protocolFee = fin ? BigInt(fin.args.protocolFee as string) : parts.protocolFee;
    const auditFee = fin ? BigInt((paidAudit?.args.amount as string | undefined) ?? "0") : parts.auditFee;
    const audit = await jobAudit(this.p, this.db, id, evs, terms, submitted);
    const group = groupId === undefined ? undefined : groupView(this.db, groupId);
    return {
      ...jobSummary(row),
      modelFee: amount(modelFee),
      protocolFee: amount(protocolFee),
      protocolFeeBps: Number(bps),
      ...(audited ? { auditFee: amount(auditFee), auditFeeBps: Number(parts.auditFeeBps) } : {}),
      ...(parts.callbackFee > 0n ? { callbackFee: amount(parts.callbackFee) } : {}),
      workerPart: amount(fee - modelFee - protocolFee - auditFee - parts.callbackFee),
      lock: amount(terms.lock as string),
      deadline: Number(terms.deadline),
      paramsVersion: Number(terms.paramsVersion),
      ...(claimed ? { resultDue: Number(claimed.args.resultDue) } : {}),
      ...(row.challenge_end !== null ? { challengeEnd: Number(row.challenge_end) } : {}),
      ...(consumer !== lower(ZeroAddress)
        ? {
            consumer,
            callbackGasLimit: Number(terms.callbackGasLimit),
            callback: { status: row.callback as "pending" | "delivered" | "failed", ...(cbFailed ? { reason: cbFailed.args.reason as string } : {}) },
          }
        : {}),
      ...(input ? { input } : {}),
      ...((req.args.inputURI as string) !== "" ? { inputUri: req.args.inputURI as string } : {}),
      inputCommitment: terms.inputCommitment as string,
      ...(output ? { output } : {}),
      ...(items ? { items } : {}),
      ...(subscription ? { subscription } : {}),
      ...(fin
        ? {
            payout: {
              worker: amount(fin.args.workerFee as string),
              model: amount(fin.args.modelFee as string),
              protocol: amount(fin.args.protocolFee as string),
              ...(audited ? { audit: amount(auditFee) } : {}),
            },
          }
        : {}),
      ...(rej ? { rejection: { slashed: amount(rej.args.slashed as string), refunded: amount(rej.args.refunded as string) } } : {}),
      timeline,
      gasTotal: sum([...facts.values()].map((f) => f.gasUsed)).toString(),
      disputes: games,
      ...(audit ? { audit } : {}),
      ...(group ? { group } : {}),
    };
  }

  private timeline(evs: readonly EventRow[], facts: Map<string, { gasUsed: string; from: string }>, parts: { auditFeeBps: bigint; callbackFee: bigint }): TimelineEntry[] {
    const out: TimelineEntry[] = [];
    const name = (a: string) => this.labels.get(lower(a)) ?? lower(a);
    const seenTx = new Set<string>();
    for (const e of evs) {
      const a = e.args;
      let text: string | undefined;
      switch (`${e.source}.${e.name}`) {
        case "jobManager.JobRequested": {
          const t = a.terms as Args;
          const fee = BigInt(t.fee as string);
          const { protocolFee: pf, auditFee: af } = splitFee(fee, BigInt(t.protocolFeeBps as string), parts.auditFeeBps);
          const audit = af > 0n || parts.auditFeeBps > 0n ? `, audit pool ${formatVtn(af)}` : "";
          text = `requested by ${name(a.requester as string)} on model ${t.modelId}: fee ${formatVtn(fee)} escrowed (model ${formatVtn(BigInt(t.modelFee as string))}, protocol ${formatVtn(pf)}${audit}, worker ${formatVtn(fee - pf - af - parts.callbackFee - BigInt(t.modelFee as string))}), input ${(a.input as string) !== "0x" ? `inline (${((a.input as string).length - 2) / 8} elements)` : `by URI ${a.inputURI}`}`;
          break;
        }
        case "redundancy.GroupRequested":
          text = `one of the ${a.k} jobs of redundancy group ${a.groupId} (jobs ${a.firstJobId} to ${BigInt(a.firstJobId as string) + BigInt(a.k as string) - 1n}), requested by ${name(a.requester as string)}`;
          break;
        case "audits.AuditCommitted":
          text = `audit committed by ${name(a.auditor as string)} (slot ${a.slot}): ${formatVtn(BigInt(a.lock as string))} of its stake locked`;
          break;
        case "audits.AuditPassed":
          text = `audit revealed by ${name(a.auditor as string)}: its output agrees with the worker's`;
          break;
        case "audits.AuditMismatch":
          text = `audit revealed by ${name(a.auditor as string)}: its output DIFFERS from the worker's${BigInt(a.game as string) !== 0n ? `; dispute game ${lower(a.game as string)} opened` : ""}`;
          break;
        case "audits.AuditMissed":
          text = `${name(a.auditor as string)}, drawn to audit in slot ${a.slot}, let it pass: ${formatVtn(BigInt(a.penalty as string))} of its stake to the audit pool`;
          break;
        case "audits.AuditSettled":
          text = `audit settled: ${formatVtn(BigInt(a.reward as string))} reward to ${name(a.auditor as string)} from the pool, ${formatVtn(BigInt(a.slashed as string))} of its lock slashed`;
          break;
        case "redundancy.GroupConfirmed":
          text = `redundancy group ${a.groupId} confirmed early: all its jobs agree on output ${a.outputCommitment}, from distinct workers`;
          break;
        case "redundancy.GroupResolved":
          text = `redundancy group ${a.groupId} resolved after the windows: its ${a.finalizedJobs} finalized job(s) agree on output ${a.outputCommitment}`;
          break;
        case "audits.BalanceCredited":
          text = `${formatVtn(BigInt(a.amount as string))} credited to ${name(a.account as string)} (pull balance in the audit manager)`;
          break;
        case "redundancy.JobSettled":
          text = `settled for group ${a.groupId}: ${formatVtn(BigInt(a.refund as string))} refunded and ${formatVtn(BigInt(a.slashes as string))} of timeout slashes credited to ${name(a.requester as string)}`;
          break;
        case "jobManager.BatchRequested":
          text = `a batch of ${a.batchSize} inputs: its input and output are the items' tensors concatenated, claimed, disputed and settled as one job`;
          break;
        case "disputes.BatchItemDisputed":
          text = `game ${lower(a.game as string)} is about item ${a.item} of the batch`;
          break;
        case "subscriptions.RunTriggered":
          text = `run ${a.run} of subscription ${a.subscriptionId}, triggered by ${name(a.keeper as string)} (keeper reward ${formatVtn(BigInt(a.keeperReward as string))}${Number(a.skipped) > 0 ? `; ${a.skipped} run(s) skipped before it` : ""})`;
          break;
        case "subscriptions.ResultRelayed":
          text = `the result relayed to subscription ${a.subscriptionId}'s consumer (run ${a.run})`;
          break;
        case "subscriptions.RelayFailed":
          text = `relaying the result to subscription ${a.subscriptionId}'s consumer failed (revert data ${a.reason}); anyone may retry it`;
          break;
        case "subscriptions.RunSettled":
          text = `run ${a.run} settled for subscription ${a.subscriptionId}: ${formatVtn(BigInt(a.refund as string))} back to its balance`;
          break;
        case "subscriptions.SlashesCollected":
          text = `${formatVtn(BigInt(a.amount as string))} of timeout slashes added to subscription ${a.subscriptionId}'s balance`;
          break;
        case "jobManager.JobClaimed":
          text = `claimed by ${name(a.worker as string)}: ${formatVtn(BigInt(a.lockedStake as string))} of stake locked, result due ${iso(Number(a.resultDue))}`;
          break;
        case "jobManager.ResultSubmitted":
          text = `result submitted by ${name(a.worker as string)}: output commitment ${a.outputCommitment}; the challenge window is open until ${iso(Number(a.challengeEnd))}`;
          break;
        case "jobManager.JobFrozen":
          text = `frozen by a dispute (${a.openDisputes} open): it cannot be finalized until every game on it has ended`;
          break;
        case "disputes.DisputeOpened":
          text = `dispute opened by ${name(a.challenger as string)}: game ${lower(a.game as string)}, bond ${formatVtn(BigInt(a.bond as string))}, commitment rank ${a.rank}`;
          break;
        case "disputes.DisputeSettled":
          text = `game ${lower(a.game as string)} settled: ${["in progress", "challenger won", "defender won"][Number(a.status)]}; slashed ${formatVtn(BigInt(a.slashed as string))}, burned ${formatVtn(BigInt(a.burned as string))}`;
          break;
        case "jobManager.DisputeSettled":
          text = `one dispute settled (the result ${a.resultValid ? "upheld" : "proven wrong"}); ${a.openDisputes} still open`;
          break;
        case "disputes.DisputesClosed":
          text = `the job's disputes closed: challenger reward ${formatVtn(BigInt(a.challengerReward as string))}, defender reward ${formatVtn(BigInt(a.defenderReward as string))}, burned ${formatVtn(BigInt(a.burned as string))}`;
          break;
        case "jobManager.JobRejected":
          text = `rejected: ${formatVtn(BigInt(a.slashed as string))} of ${name(a.worker as string)}'s stake slashed, the fee ${formatVtn(BigInt(a.refunded as string))} refunded to the requester`;
          break;
        case "jobManager.JobFinalized":
          text = `finalized: worker ${formatVtn(BigInt(a.workerFee as string))}, model ${formatVtn(BigInt(a.modelFee as string))} (accrued to the model), protocol ${formatVtn(BigInt(a.protocolFee as string))}; the stake unlocked`;
          break;
        case "jobManager.WorkerTimedOut":
          text = `${name(a.worker as string)} missed its result time: ${formatVtn(BigInt(a.slashed as string))} of its lock slashed to the requester`;
          break;
        case "jobManager.JobReopened":
          text = "reopened for another worker";
          break;
        case "jobManager.JobCancelled":
          text = "cancelled by its requester";
          break;
        case "jobManager.JobRefunded":
          text = `refunded: ${formatVtn(BigInt(a.amount as string))} credited to ${name(a.requester as string)}`;
          break;
        case "jobManager.CallbackDelivered":
          text = `callback delivered to ${name(a.consumer as string)}`;
          break;
        case "jobManager.CallbackFailed":
          text = `callback to ${name(a.consumer as string)} failed (revert data ${a.reason}); the job is finalized and paid all the same, and the consumer may retry`;
          break;
        case "jobManager.BalanceCredited":
          text = `${formatVtn(BigInt(a.amount as string))} credited to ${name(a.account as string)} (pull balance in the escrow)`;
          break;
      }
      if (text === undefined) continue;
      const f = facts.get(e.txHash);
      // A transaction's gas is shown once, on its first entry.
      const first = !seenTx.has(e.txHash);
      seenTx.add(e.txHash);
      out.push({ name: e.name, text, at: at(e), ...(f ? { from: f.from, ...(first ? { gasUsed: f.gasUsed } : {}) } : {}) });
      if (e.name === "ResultSubmitted") out.push({ name: "WindowCloses", text: "the challenge window closes", time: Number(a.challengeEnd) });
    }
    // The end of the window is a time, not a transaction: it sits where the clock puts it.
    const window = out.filter((x) => x.name === "WindowCloses");
    const rest = out.filter((x) => x.name !== "WindowCloses");
    for (const w of window) {
      const i = rest.findIndex((x) => (x.at?.time ?? 0) > w.time! && x.name !== "ResultSubmitted");
      rest.splice(i < 0 ? rest.length : i, 0, w);
    }
    return rest;
  }

  // ---------------------------------------------------------------- accounts

  /** Workers and challengers: every account that staked, served a job or opened a dispute. */
  private accountList(): string[] {
    return this.db
      .all(
        `SELECT json_extract(args, '$.staker') AS account FROM events WHERE source = 'staking' AND name = 'Staked'
         UNION SELECT worker FROM jobs WHERE worker IS NOT NULL
         UNION SELECT challenger FROM games`,
      )
      .map((r) => r.account as string)
      .sort();
  }

  /** Events of `source` named `names` whose argument `field` is `account` (few: stakes, slashes, withdrawals). */
  private eventsOf(source: string, names: readonly string[], field: string, account: string): EventRow[] {
    return this.db.events(
      `e.source = ? AND e.name IN (${names.map(() => "?").join(",")}) AND json_extract(e.args, '$.${field}') = ?`,
      source,
      ...names,
      account,
    );
  }

  /**
   * Stake, from the staker's few stake events (stake, unstake, withdraw, slash) and its latest lock
   * or unlock (which carries its locked total): a worker's thousands of locks are not read.
   */
  private stakeOf(address: string): Stake & { slashes: EventRow[] } {
    let staked = 0n;
    let unbonding = 0n;
    let unbondingEnd: number | undefined;
    const slashes: EventRow[] = [];
    for (const e of this.eventsOf("staking", ["Staked", "UnstakeRequested", "Withdrawn", "StakeSlashed"], "staker", address)) {
      const a = e.args;
      if (e.name === "Staked") staked = BigInt(a.totalStaked as string);
      else if (e.name === "UnstakeRequested") {
        staked -= BigInt(a.amount as string);
        unbonding = BigInt(a.totalUnbonding as string);
        unbondingEnd = Number(a.unbondingEnd);
      } else if (e.name === "Withdrawn") {
        unbonding = 0n;
        unbondingEnd = undefined;
      } else {
        staked -= BigInt(a.amount as string);
        slashes.push(e);
      }
    }
    const lastLock = this.db.get(
      `SELECT e.block, e.log_index, json_extract(e.args, '$.totalLocked') AS total FROM event_accounts a
       JOIN events e ON e.block = a.block AND e.log_index = a.log_index
       WHERE a.account = ? AND e.source = 'staking' AND e.name IN ('StakeLocked', 'StakeUnlocked')
       ORDER BY a.block DESC, a.log_index DESC LIMIT 1`,
      address,
    );
    let locked = lastLock ? BigInt(lastLock.total as string) : 0n;
    // A slash takes from the locked stake too, after the last lock or unlock that reported its total.
    for (const sl of slashes) {
      if (!lastLock || sl.block > Number(lastLock.block) || (sl.block === Number(lastLock.block) && sl.logIndex > Number(lastLock.log_index))) {
        locked -= BigInt(sl.args.amount as string);
      }
    }
    return { staked: amount(staked), locked: amount(locked), free: amount(staked - locked), unbonding: amount(unbonding), ...(unbondingEnd ? { unbondingEnd } : {}), slashes };
  }

  private accountSummaryOf(address: string): AccountSummary & { slashEvents: EventRow[] } {
    const { slashes, ...stake } = this.stakeOf(address);
    const served = Number(this.db.get("SELECT COUNT(*) AS n FROM jobs WHERE worker = ? AND status IN ('submitted', 'finalized', 'rejected')", address)!.n);
    const earned = sum(this.db.all("SELECT worker_fee FROM jobs WHERE worker = ? AND status = 'finalized'", address).map((r) => r.worker_fee as string));
    const won = Number(this.db.get("SELECT COUNT(*) AS n FROM games WHERE (defender = ? AND status = 2) OR (challenger = ? AND status = 1)", address, address)!.n);
    const lost = Number(this.db.get("SELECT COUNT(*) AS n FROM games WHERE (defender = ? AND status = 1) OR (challenger = ? AND status = 2)", address, address)!.n);
    const roles: string[] = [];
    if (this.db.get("SELECT 1 FROM jobs WHERE worker = ? LIMIT 1", address) || served > 0) roles.push("worker");
    if (this.db.get("SELECT 1 FROM games WHERE challenger = ? LIMIT 1", address)) roles.push("challenger");
    if (this.db.get("SELECT 1 FROM event_accounts a JOIN events e ON e.block = a.block AND e.log_index = a.log_index WHERE a.account = ? AND e.source = 'audits' AND e.name = 'AuditCommitted' LIMIT 1", address)) roles.push("auditor");
    if (roles.length === 0 && BigInt(stake.staked.wei) + BigInt(stake.unbonding.wei) > 0n) roles.push("staker");
    return {
      address,
      roles,
      stake,
      jobsServed: served,
      earned: amount(earned),
      slashed: amount(sum(slashes.map((s) => s.args.amount as string))),
      disputesWon: won,
      disputesLost: lost,
      slashEvents: slashes,
    };
  }

  accounts(): AccountSummary[] {
    return this.accountList().map((a) => {
      const { slashEvents: _, ...s } = this.accountSummaryOf(a);
      return s;
    });
  }

  account(addressText: string): AccountDetail {
    const address = parseAddress(addressText);
    const known = this.db.get("SELECT 1 FROM event_accounts WHERE account = ? LIMIT 1", address);
    if (!known) throw new QueryError(404, `account ${address} does not appear in any indexed event`);
    const { slashEvents, ...summary } = this.accountSummaryOf(address);
    const count = (name: string) =>
      Number(this.db.get("SELECT COUNT(*) AS n FROM events WHERE source = 'jobManager' AND name = ? AND json_extract(args, '$.worker') = ?", name, address)!.n);
    const slashes = slashEvents.map((s) => {
      const inTx = this.db.events("e.tx_hash = ? AND e.name IN ('JobRejected', 'WorkerTimedOut')", s.txHash)[0];
      const toFactory = lower(s.args.to as string) === lower(this.p.addresses.disputeFactory);
      return {
        amount: amount(s.args.amount as string),
        at: at(s),
        ...(inTx?.jobId !== undefined ? { job: Number(inTx.jobId) } : {}),
        why: toFactory ? "its result was proven wrong in a dispute (to the dispute factory)" : "it missed a job's result time (to the requester)",
      };
    });
    const games = this.db.all("SELECT * FROM games WHERE defender = ? OR challenger = ? ORDER BY opened_block", address, address).map((r) => {
      const side = r.defender === address ? ("defender" as const) : ("challenger" as const);
      const status = Number(r.status);
      return { ...gameSummary(r), side, won: status === 0 ? undefined : (status === 2) === (side === "defender") };
    });
    const credits = (source: string) =>
      sum(
        this.db
          .all(
            `SELECT json_extract(e.args, '$.amount') AS amount FROM event_accounts a JOIN events e ON e.block = a.block AND e.log_index = a.log_index
             WHERE a.account = ? AND e.source = ? AND e.name = 'BalanceCredited'`,
            address,
            source,
          )
          .map((r) => r.amount as string),
      );
    const withdrawn = sum(this.db.all("SELECT json_extract(args, '$.amount') AS amount FROM events WHERE name = 'BalanceWithdrawn' AND json_extract(args, '$.account') = ?", address).map((r) => r.amount as string));
    const auditor = auditorRecord(this.db, address);
    const serves = new Map<number, boolean>();
    for (const e of this.eventsOf("staking", ["ModelServed"], "staker", address)) serves.set(Number(e.args.modelId), e.args.served as boolean);
    return {
      ...summary,
      jobs: {
        claimed: count("JobClaimed"),
        finalized: Number(this.db.get("SELECT COUNT(*) AS n FROM jobs WHERE worker = ? AND status = 'finalized'", address)!.n),
        rejected: Number(this.db.get("SELECT COUNT(*) AS n FROM jobs WHERE worker = ? AND status = 'rejected'", address)!.n),
        timedOut: count("WorkerTimedOut"),
      },
      slashes,
      disputes: games,
      credits: { escrow: amount(credits("jobManager")), disputes: amount(credits("disputes")), audits: amount(auditor.credited), withdrawn: amount(withdrawn) },
      audits: auditor.audits,
      missedAudits: auditor.missed,
      requested: Number(this.db.get("SELECT COUNT(*) AS n FROM jobs WHERE requester = ?", address)!.n),
      serves: [...serves].filter(([, s]) => s).map(([m]) => m),
      recentJobs: this.db.all("SELECT * FROM jobs WHERE worker = ? OR requester = ? ORDER BY job_id DESC LIMIT 20", address, address).map(jobSummary),
    };
  }

  // ---------------------------------------------------------------- subscriptions

  /** Every subscription, newest first, with its schedule and the runs triggered (from the manager's events). */
  subscriptions(): SubscriptionSummary[] {
    const evs = this.db.events("e.source = 'subscriptions'");
    const out = new Map<string, { created: EventRow; cancelled: boolean; feePerRun: string; keeperReward: string; triggered: { run: number; job: number }[] }>();
    for (const e of evs) {
      const id = e.args.subscriptionId as string;
      if (e.name === "SubscriptionCreated") {
        out.set(id, { created: e, cancelled: false, feePerRun: e.args.feePerRun as string, keeperReward: e.args.keeperReward as string, triggered: [] });
        continue;
      }
      const s = out.get(id);
      if (!s) continue;
      if (e.name === "RunTriggered") s.triggered.push({ run: Number(e.args.run), job: Number(e.args.jobId) });
      else if (e.name === "SubscriptionCancelled") s.cancelled = true;
      else if (e.name === "FeePerRunSet") s.feePerRun = e.args.feePerRun as string;
      else if (e.name === "KeeperRewardSet") s.keeperReward = e.args.keeperReward as string;
    }
    return [...out.values()]
      .map(({ created: c, cancelled, feePerRun, keeperReward, triggered }) => ({
        id: Number(c.args.subscriptionId),
        consumer: lower(c.args.consumer as string),
        model: Number(c.args.modelId),
        period: Number(c.args.period),
        runs: Number(c.args.runs),
        feePerRun: amount(feePerRun),
        keeperReward: amount(keeperReward),
        created: at(c),
        cancelled,
        triggered,
      }))
      .reverse();
  }

  // ---------------------------------------------------------------- audits and redundancy

  /** The audit pool, parameters, recent audits and missed slots (empty without audits), and the redundancy groups. */
  audits(): Promise<AuditsView> {
    return auditsView(this.p, this.db);
  }

  // ---------------------------------------------------------------- disputes

  disputes() {
    return this.db.all("SELECT * FROM games ORDER BY opened_block DESC").map(gameSummary);
  }

  async dispute(address: string) {
    if (!/^0x[0-9a-fA-F]{40}$/.test(address)) throw new QueryError(400, `"${address}" is not a game address (0x and 40 hex digits)`);
    const g = await gameDetail(this.p, this.db, address);
    if (!g) throw new QueryError(404, `no dispute game ${address.toLowerCase()} in the index (the disputes page lists them)`);
    return g;
  }

  // ---------------------------------------------------------------- governance

  async governance(): Promise<GovernanceView> {
    const [params, power] = await Promise.all([governedValues(this.p), this.powerReport()]);
    const created = this.db.events("e.source = 'governor' AND e.name = 'ProposalCreated'");
    const proposals: ProposalRow[] = [];
    for (const [i, e] of created.entries()) {
      const a = e.args;
      const proposal: Proposal = {
        index: i + 1,
        id: BigInt(a.proposalId as string),
        proposer: a.proposer as string,
        description: a.description as string,
        descriptionHash: "",
        actions: (a.targets as string[]).map((target, k) => ({ target, value: BigInt((a.values as string[])[k]!), calldata: (a.calldatas as string[])[k]! })),
        createdBlock: e.block,
      };
      const v = await proposalView(this.p, proposal);
      const ballots = this.db.events("e.proposal = ? AND e.name IN ('VoteCast', 'VoteCastWithParams')", a.proposalId as string).map((b) => ({
        voter: lower(b.args.voter as string),
        support: SUPPORT[Number(b.args.support)] ?? String(b.args.support),
        weight: amount(b.args.weight as string),
        reason: b.args.reason as string,
        at: at(b),
      }));
      proposals.push({
        index: i + 1,
        id: proposal.id.toString(),
        proposer: lower(proposal.proposer),
        description: proposal.description,
        state: v.state,
        timeline: proposalTimeline(v),
        votes: { for: amount(v.votes.for), against: amount(v.votes.against), abstain: amount(v.votes.abstain) },
        quorum: amount(v.quorum),
        snapshot: v.snapshot.toString(),
        deadline: v.deadline.toString(),
        ...(v.eta > 0n ? { eta: Number(v.eta) } : {}),
        actions: v.decoded,
        ballots,
        created: at(e),
      });
    }
    const scheduled = this.db.events("e.source = 'timelock' AND e.name = 'CallScheduled'");
    const executed = new Set(this.db.events("e.source = 'timelock' AND e.name = 'CallExecuted'").map((e) => `${e.args.id}:${e.args.index}`));
    const cancelled = new Set(this.db.events("e.source = 'timelock' AND e.name = 'Cancelled'").map((e) => e.args.id as string));
    const now = (await this.p.connection.ethers.provider.getBlock("latest"))!.timestamp;
    const queue: QueuedCall[] = scheduled.map((e) => {
      const a = e.args;
      const readyAt = e.time !== undefined ? e.time + Number(a.delay) : undefined;
      const key = `${a.id}:${a.index}`;
      const status = executed.has(key) ? "executed" : cancelled.has(a.id as string) ? "cancelled" : readyAt !== undefined && readyAt <= now ? "ready" : "waiting";
      return {
        id: a.id as string,
        index: Number(a.index),
        action: describeAction(this.p, { target: a.target as string, value: BigInt(a.value as string), calldata: a.data as string }),
        ...(readyAt !== undefined ? { readyAt } : {}),
        status,
        scheduled: at(e),
      };
    });
    return {
      params,
      proposals,
      queue,
      power: {
        block: power.block.toString(),
        supply: amount(power.supply),
        quorum: amount(power.quorum),
        votesShareOfSupply: share(power.votes.total, power.supply),
        votes: concentrationView(power.votes, true),
        stake: concentrationView(power.stake, false),
      },
    };
  }

  /** `gov power`'s report, read once per head block. */
  private async powerReport(): Promise<PowerReport> {
    const head = await this.p.connection.ethers.provider.getBlockNumber();
    if (!this.power || this.power.head !== head) {
      const report = votingPower(this.p);
      report.catch(() => (this.power = undefined));
      this.power = { head, report };
    }
    return this.power.report;
  }

  // ---------------------------------------------------------------- helpers

  private countOf(name: string): number {
    return Number(this.db.get("SELECT COUNT(*) AS n FROM events WHERE name = ?", name)!.n);
  }

  private idsOf(name: string, column: string): number[] {
    return this.db.all(`SELECT ${column} AS id FROM events WHERE name = ? ORDER BY ${column}`, name).map((r) => Number(r.id));
  }

  /** Whether the entity a page path names exists (the server answers 404 for the page otherwise). */
  exists(kind: string, id: string): boolean {
    try {
      switch (kind) {
        case "jobs":
          return this.db.get("SELECT 1 FROM jobs WHERE job_id = ?", parseId(id, "job")) !== undefined;
        case "models":
          return this.db.get("SELECT 1 FROM events WHERE source = 'registry' AND name = 'ModelRegistered' AND model_id = ?", parseId(id, "model")) !== undefined;
        case "disputes":
          return this.db.get("SELECT 1 FROM games WHERE game = ?", id.toLowerCase()) !== undefined;
        case "accounts":
          return this.db.get("SELECT 1 FROM event_accounts WHERE account = ? LIMIT 1", parseAddress(id)) !== undefined;
        default:
          return true;
      }
    } catch {
      return false;
    }
  }
}

const STATUSES: readonly JobStatusName[] = ["open", "claimed", "submitted", "finalized", "refunded", "rejected", "cancelled"];

function jobSummary(r: Row): JobSummary {
  return {
    id: Number(r.job_id),
    model: Number(r.model_id),
    status: r.status as JobStatusName,
    requester: r.requester as string,
    ...(r.worker ? { worker: r.worker as string } : {}),
    fee: amount(r.fee as string),
    ...(r.requested_at !== null ? { requestedAt: Number(r.requested_at) } : {}),
    ...(r.settled_at !== null ? { settledAt: Number(r.settled_at) } : {}),
    games: Number(r.games),
    batchSize: Number(r.batch_size ?? 1),
  };
}

/** Item `i` of a batch's `items` tensors concatenated in `hex`, with its own tensor commitment (undefined when the bytes do not split). */
function itemOf(hex: string, items: number, i: number, scaleWad: string | undefined, shape: readonly number[], withArgmax: boolean): Tensor | undefined {
  let parts: Uint8Array[];
  try {
    parts = splitItems(getBytes(hex), items);
  } catch {
    return undefined;
  }
  const bytes = parts[i]!;
  return tensorOf(hexlify(bytes), scaleWad, shape, tensorCommitment(bytes), withArgmax);
}

function tensorOf(hex: string, scaleWad: string | undefined, shape: readonly number[], commitment: string, withArgmax: boolean): Tensor {
  const all = bytesToInts(getBytes(hex));
  const values = all.slice(0, MAX_TENSOR);
  const scale = scaleWad === undefined ? 0 : Number(formatWad(BigInt(scaleWad)));
  let argmax: number | undefined;
  if (withArgmax && all.length > 0) {
    argmax = 0;
    all.forEach((v, i) => {
      if (v > all[argmax!]!) argmax = i;
    });
  }
  return {
    count: all.length,
    shape: [...shape],
    values,
    real: values.map((v) => Number((v * scale).toPrecision(4))),
    commitment,
    ...(argmax !== undefined ? { argmax } : {}),
  };
}

function concentrationView(c: Concentration, withQuorum: boolean): ConcentrationView {
  return {
    holders: c.holders.slice(0, 10).map((h) => ({ account: lower(h.account), amount: amount(h.amount), share: share(h.amount, c.total) })),
    count: c.holders.length,
    total: amount(c.total),
    top10Share: `${(Number(c.top10Bps) / 100).toFixed(2)}%`,
    majority: c.majority ?? null,
    ...(withQuorum ? { toQuorum: c.toThreshold ?? null } : {}),
  };
}

function parseId(text: string, what: string): number {
  if (!/^\d{1,15}$/.test(text)) throw new QueryError(400, `${what} id "${text}" is not a number`);
  return Number(text);
}

function parseCount(text: string, what: string): number {
  if (!/^\d{1,9}$/.test(text)) throw new QueryError(400, `${what} "${text}" is not a whole number`);
  return Number(text);
}

function parseAddress(text: string): string {
  if (!/^0x[0-9a-fA-F]{40}$/.test(text)) throw new QueryError(400, `"${text}" is not an address (0x and 40 hex digits)`);
  return text.toLowerCase();
}

function rangeText(ids: readonly number[]): string {
  return ids.length === 0 ? "none" : ids.length === 1 ? `id ${ids[0]}` : `ids ${ids[0]} to ${ids[ids.length - 1]}`;
}

const iso = (t: number): string => new Date(t * 1000).toISOString().replace("T", " ").replace(/\.\d{3}Z$/, " UTC");
