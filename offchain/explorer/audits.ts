/**
 * The explorer's reads of audits and redundancy groups (offchain/explorer/queries.ts uses them):
 * a job's fee split with the audit pool's share (the escrow's rule, from the indexed parameters of
 * the job's version), its audit from the audit manager's events (and its draw, read from the chain
 * once and cached), the redundancy group it belongs to, the audit pool's money in and out, and an
 * auditor's record. A deployment without an audit manager or a redundancy contract shows none of it.
 */
import { auditDraw, auditManagerOf, auditParams } from "../clients/audits.js";
import { formatBps, formatVtn } from "../clients/format.js";
import type { Protocol } from "../clients/protocol.js";
import type { JobTerms } from "../clients/terms.js";
import type { AuditRow, AuditsView, GroupView, JobAudit, JobStatusName, MissedSlot } from "./api.js";
import type { Args } from "./catalog.js";
import type { EventRow, ExplorerDb } from "./database.js";
import { amount, at, lower, sum } from "./view.js";

const BPS = 10_000n;

/** The parts of a job's fee the escrow cuts at finalization (IJobManager.feeSplit). */
export interface FeeParts {
  readonly protocolFee: bigint;
  readonly auditFee: bigint;
  readonly auditFeeBps: bigint;
  readonly callbackFee: bigint;
}

/**
 * The escrow's rule: the treasury's and the pool's parts cut together, `fee * (protocolFeeBps +
 * auditFeeBps) / 10000` rounded down, of which the pool gets `fee * auditFeeBps / 10000` rounded down
 * and the treasury the rest. Without audits `auditFeeBps` is 0 and this is the protocol fee alone.
 */
export function splitFee(fee: bigint, protocolFeeBps: bigint, auditFeeBps: bigint): { protocolFee: bigint; auditFee: bigint } {
  const auditFee = (fee * auditFeeBps) / BPS;
  return { protocolFee: (fee * (protocolFeeBps + auditFeeBps)) / BPS - auditFee, auditFee };
}

/**
 * The escrow's parameters of version `version`: the newest indexed `ParamsSet` at or below it (a
 * `DisputeManagerSet` version copies the one before), or the escrow's own record when the index
 * started after it (then cached with block 0, which no rollback removes: versions never change).
 */
export async function escrowParamsAt(p: Protocol, db: ExplorerDb, version: number): Promise<Args> {
  const r = db.get(
    `SELECT args FROM events WHERE source = 'jobManager' AND name = 'ParamsSet' AND CAST(json_extract(args, '$.version') AS INTEGER) <= ?
     ORDER BY block DESC, log_index DESC LIMIT 1`,
    version,
  );
  if (r) return (JSON.parse(r.args as string) as Args).params as Args;
  const key = `params:${version}`;
  const hit = db.cached<Args>(key);
  if (hit) return hit;
  const [params] = await p.jobManager.paramsAt(version);
  const out: Args = {
    protocolFeeBps: params.protocolFeeBps.toString(),
    auditFeeBps: params.auditFeeBps.toString(),
    callbackFeePerGas: params.callbackFeePerGas.toString(),
  };
  db.cache(key, 0, out);
  return out;
}

/** Job `terms`' fee parts as the escrow cuts them (see {@link splitFee}), with a consumer job's callback fee. */
export async function feePartsOf(p: Protocol, db: ExplorerDb, terms: Args): Promise<FeeParts> {
  const params = await escrowParamsAt(p, db, Number(terms.paramsVersion));
  const auditFeeBps = BigInt((params.auditFeeBps as string | undefined) ?? "0");
  const { protocolFee, auditFee } = splitFee(BigInt(terms.fee as string), BigInt(terms.protocolFeeBps as string), auditFeeBps);
  const callbackFee = BigInt(terms.callbackGasLimit as string) * BigInt((params.callbackFeePerGas as string | undefined) ?? "0");
  return { protocolFee, auditFee, auditFeeBps, callbackFee };
}

/** The deployment's audit manager (lower case), or undefined without audits (the escrow's binding, read once). */
export async function auditManagerAddress(p: Protocol): Promise<string | undefined> {
  const m = await auditManagerOf(p);
  return m === undefined ? undefined : lower(m.target as string);
}

const STATUS_NAMES = ["not committed", "committed", "passed", "mismatch", "missed"] as const;

/** The audit rows of the `AuditCommitted` events in `evs`, with what followed each (from the same events). */
function auditRows(evs: readonly EventRow[]): AuditRow[] {
  const rows: AuditRow[] = [];
  for (const c of evs.filter((e) => e.name === "AuditCommitted")) {
    const auditor = lower(c.args.auditor as string);
    const after = evs.filter((e) => e.jobId === c.jobId && lower((e.args.auditor as string | undefined) ?? "") === auditor);
    const mismatch = after.find((e) => e.name === "AuditMismatch");
    const passed = after.find((e) => e.name === "AuditPassed");
    const settled = after.find((e) => e.name === "AuditSettled");
    const game = mismatch && BigInt(mismatch.args.game as string) !== 0n ? lower(mismatch.args.game as string) : undefined;
    rows.push({
      job: Number(c.jobId),
      auditor,
      slot: Number(c.args.slot),
      status: mismatch ? "mismatch" : passed ? "passed" : "committed",
      ...(game ? { game } : {}),
      settled: settled !== undefined,
      ...(settled ? { reward: amount(settled.args.reward as string), slashed: amount(settled.args.slashed as string) } : {}),
      committed: at(c),
    });
  }
  return rows;
}

const missedOf = (e: EventRow): MissedSlot => ({
  job: Number(e.jobId),
  auditor: lower(e.args.auditor as string),
  slot: Number(e.args.slot),
  penalty: amount(e.args.penalty as string),
  at: at(e),
});

interface DrawFacts {
  readonly audited: boolean;
  readonly rateBps: number;
}

/**
 * Job `jobId`'s audit, once a result was submitted (`submitted`), on a deployment with audits. The
 * draw (audited or not, the rate) is read from the chain at the block after the seed block, once,
 * and cached with the submission's block; a node that no longer has that block's state leaves it unknown.
 */
export async function jobAudit(p: Protocol, db: ExplorerDb, jobId: number, evs: readonly EventRow[], terms: Args, submitted: EventRow | undefined): Promise<JobAudit | undefined> {
  if (!submitted || (await auditManagerAddress(p)) === undefined) return undefined;
  const own = evs.filter((e) => e.source === "audits");
  const [row] = auditRows(own);
  const missed = own.filter((e) => e.name === "AuditMissed").map(missedOf);
  const key = `draw:${jobId}:${submitted.txHash}`;
  let draw = db.cached<DrawFacts>(key);
  const readAt = submitted.block + 2;
  if (!draw && Number(db.meta("head") ?? "0") >= readAt) {
    try {
      const d = await auditDraw(p, BigInt(jobId), terms as unknown as JobTerms, readAt);
      draw = { audited: d.audited, rateBps: Number(d.rateBps) };
      db.cache(key, submitted.block, draw);
    } catch {
      draw = undefined;
    }
  }
  const status = row ? row.status : missed.length > 0 ? "missed" : STATUS_NAMES[0];
  const drawn = row || missed.length > 0 ? true : draw?.audited;
  const rate = draw ? ` (rate ${formatBps(draw.rateBps)})` : "";
  const commit = own.find((e) => e.name === "AuditCommitted");
  let text: string;
  if (row) {
    const what =
      row.status === "passed"
        ? "passed: its output agrees with the worker's"
        : row.status === "mismatch"
          ? `mismatch: its output differs from the worker's${row.game ? `; it opened dispute game ${row.game}` : " (the result was already rejected)"}`
          : "committed, not revealed";
    const money = row.settled
      ? `; settled: ${BigInt(row.reward!.wei) > 0n ? `${row.reward!.text} reward paid from the pool` : "no reward"}${BigInt(row.slashed!.wei) > 0n ? `, ${row.slashed!.text} of its lock slashed` : ""}`
      : `; ${formatVtn(BigInt(commit!.args.lock as string))} of its stake locked until the job is settled`;
    text = `audited${rate} by ${row.auditor} in slot ${row.slot}: ${what}${money}`;
  } else if (missed.length > 0) {
    text = `drawn for audit${rate}, but no drawn auditor committed: ${missed.length} slot(s) missed, ${formatVtn(sum(missed.map((m) => m.penalty.wei)))} of penalties to the pool`;
  } else if (draw === undefined) {
    text = "the draw is not known (its seed block is not mined yet, or the node no longer has its state)";
  } else if (draw.audited) {
    text = `drawn for audit${rate}; no drawn auditor has committed`;
  } else text = `not drawn for audit${rate}`;
  return {
    ...(drawn !== undefined ? { drawn } : {}),
    ...(draw ? { rateBps: draw.rateBps } : {}),
    status,
    ...(row ? { auditor: row.auditor, slot: row.slot, lock: amount(commit!.args.lock as string), committed: row.committed } : {}),
    ...(row?.game ? { game: row.game } : {}),
    settled: row?.settled ?? false,
    ...(row?.reward ? { reward: row.reward, slashed: row.slashed! } : {}),
    missed,
    text,
  };
}

/** Redundancy group `groupId` from its events and its jobs' rows, or undefined when it is not indexed. */
export function groupView(db: ExplorerDb, groupId: number): GroupView | undefined {
  const evs = db.events("e.grp = ?", groupId);
  const req = evs.find((e) => e.name === "GroupRequested");
  if (!req) return undefined;
  const confirmed = evs.find((e) => e.name === "GroupConfirmed");
  const resolved = evs.find((e) => e.name === "GroupResolved");
  const decided = confirmed ?? resolved;
  const jobs = db.all("SELECT job_id, status, worker FROM jobs WHERE group_id = ? ORDER BY job_id", groupId).map((r) => {
    const out = db.get(
      "SELECT json_extract(args, '$.outputCommitment') AS c FROM events WHERE job_id = ? AND source = 'jobManager' AND name = 'ResultSubmitted' ORDER BY block DESC, log_index DESC LIMIT 1",
      r.job_id as number,
    )?.c as string | undefined;
    return { id: Number(r.job_id), status: r.status as JobStatusName, ...(r.worker ? { worker: r.worker as string } : {}), ...(out ? { outputCommitment: out } : {}) };
  });
  return {
    id: groupId,
    requester: lower(req.args.requester as string),
    k: Number(req.args.k),
    fee: amount(req.args.fee as string),
    lock: amount(req.args.lock as string),
    value: amount(req.args.value as string),
    status: confirmed ? "confirmed" : resolved ? "resolved" : "pending",
    ...(decided ? { output: decided.args.outputCommitment as string, decided: at(decided) } : {}),
    ...(resolved ? { finalizedJobs: Number(resolved.args.finalizedJobs) } : {}),
    requested: at(req),
    jobs,
    settled: evs
      .filter((e) => e.name === "JobSettled")
      .map((e) => ({ job: Number(e.args.jobId), refund: amount(e.args.refund as string), slashes: amount(e.args.slashes as string) })),
  };
}

/** Credits or withdrawals of `source` naming `account` (through the indexed account column). */
function amountsOf(db: ExplorerDb, account: string, source: string, name: string): bigint {
  return sum(
    db
      .all(
        `SELECT json_extract(e.args, '$.amount') AS amount FROM event_accounts a JOIN events e ON e.block = a.block AND e.log_index = a.log_index
         WHERE a.account = ? AND e.source = ? AND e.name = ?`,
        account,
        source,
        name,
      )
      .map((r) => r.amount as string),
  );
}

const LIST = 100;

/** The audits page: the pool's money, the parameters in force, recent audits and missed slots, and the groups. */
export async function auditsView(p: Protocol, db: ExplorerDb): Promise<AuditsView> {
  const groupIds = db.all("SELECT grp FROM events WHERE source = 'redundancy' AND name = 'GroupRequested' ORDER BY block DESC, log_index DESC LIMIT ?", LIST);
  const groups = groupIds.map((r) => groupView(db, Number(r.grp))!).filter((g) => g !== undefined);
  const manager = await auditManagerAddress(p);
  if (manager === undefined) return { enabled: false, audits: [], missed: [], groups };
  const total = (name: string, field: string) =>
    sum(db.all(`SELECT json_extract(args, '$.${field}') AS v FROM events WHERE source = 'audits' AND name = ?`, name).map((r) => r.v as string));
  const feeShares = amountsOf(db, manager, "jobManager", "BalanceCredited");
  const uncollected = feeShares - amountsOf(db, manager, "jobManager", "BalanceWithdrawn");
  const funded = total("PoolFunded", "amount");
  const rewards = total("AuditSettled", "reward");
  const commits = db.latestEvents("e.source = 'audits' AND e.name = 'AuditCommitted'", LIST);
  const jobs = [...new Set(commits.map((c) => Number(c.jobId)))];
  const related = jobs.length === 0 ? [] : db.events(`e.source = 'audits' AND e.job_id IN (${jobs.map(() => "?").join(",")})`, ...jobs);
  const audits = auditRows(related).sort((a, b) => b.committed.block - a.committed.block || b.job - a.job);
  const count = (where: string) => Number(db.get(`SELECT COUNT(*) AS n FROM events WHERE source = 'audits' AND ${where}`)!.n);
  const settledUnrevealed = Number(
    db.get("SELECT COUNT(*) AS n FROM events WHERE source = 'audits' AND name = 'AuditSettled' AND json_extract(args, '$.status') = '1'")!.n,
  );
  const [params, escrow] = await Promise.all([auditParams(p), p.jobManager.params()]);
  return {
    enabled: true,
    manager,
    pool: {
      feeShares: amount(feeShares),
      uncollected: amount(uncollected),
      funded: amount(funded),
      penalties: amount(total("AuditMissed", "penalty")),
      slashes: amount(total("AuditSettled", "slashed")),
      rewards: amount(rewards),
      balance: amount(funded - rewards + uncollected),
    },
    params: [
      { name: "audit share of each fee (jobs.auditFeeBps)", value: formatBps(escrow.auditFeeBps) },
      { name: "least audit rate (auditRateBps)", value: formatBps(params.auditRateBps) },
      { name: "rate as a multiple of break-even (auditSafetyBps)", value: formatBps(params.auditSafetyBps) },
      { name: "reward per audit that stands (auditReward)", value: formatVtn(params.auditReward) },
      { name: "miss penalty, share of the lock (auditMissPenaltyBps)", value: formatBps(params.auditMissPenaltyBps) },
      { name: "slots (auditSlots × auditSlotBlocks)", value: `${params.auditSlots} of ${params.auditSlotBlocks} block(s)` },
    ],
    counts: {
      committed: count("name = 'AuditCommitted'"),
      passed: count("name = 'AuditPassed'"),
      mismatch: count("name = 'AuditMismatch'"),
      unrevealed: settledUnrevealed,
      missedSlots: count("name = 'AuditMissed'"),
    },
    audits,
    missed: db.latestEvents("e.source = 'audits' AND e.name = 'AuditMissed'", LIST).map(missedOf),
    groups,
  };
}

/** The audits `account` made (committed), newest first, and the slots it let pass. */
export function auditorRecord(db: ExplorerDb, account: string): { audits: AuditRow[]; missed: MissedSlot[]; credited: bigint } {
  const evs = db.accountEvents(account, ["audits"]);
  return {
    audits: auditRows(evs).reverse(),
    missed: evs.filter((e) => e.name === "AuditMissed").map(missedOf).reverse(),
    credited: sum(evs.filter((e) => e.name === "BalanceCredited").map((e) => e.args.amount as string)),
  };
}
