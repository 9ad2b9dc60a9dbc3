/**
 * The audit manager (contracts/audits/AuditManager.sol), when the escrow has one: a governed share
 * of every fee funds its pool; after a result is submitted, the hash of the next block draws whether
 * the job is audited and which staked worker of the model audits it, slot by slot. The auditor
 * commits to its own output (hidden by a salt), reveals it in a later block (agreement, or a
 * mismatch that opens a dispute with the auditor as challenger), and is settled once the job is:
 * paid from the pool, or slashed for vouching for a wrong result or for not revealing. Without an
 * audit manager (the escrow's `auditManager()` is zero: LocalProtocol, the demo) none of this applies.
 */
import type { ContractTransactionReceipt, Signer } from "ethers";
import { AbiCoder, ZeroAddress, getBytes, keccak256, solidityPacked } from "ethers";

import type { AuditManager } from "../../types/ethers-contracts/index.js";
import { AuditManager__factory } from "../../types/ethers-contracts/index.js";
import type { Hex } from "../commitments/merkle.js";
import type { OpenArgs } from "./disputes.js";
import { attachGame, openParams } from "./disputes.js";
import type { DisputeGame } from "../../types/ethers-contracts/index.js";
import { VeritensorError } from "./errors.js";
import { formatBps, formatVtn } from "./format.js";
import type { Protocol } from "./protocol.js";
import { read, send } from "./protocol.js";
import { newestEvents } from "./job-events.js";
import { JobStatus } from "./job-reads.js";
import type { JobTerms } from "./terms.js";

/** The escrow's audit manager, read once per protocol object (the escrow's binding is immutable). */
const managers = new WeakMap<Protocol, Promise<AuditManager | undefined>>();

/** The audit manager bound to the escrow, or undefined when the deployment has no audits. */
export function auditManagerOf(p: Protocol): Promise<AuditManager | undefined> {
  let hit = managers.get(p);
  if (hit === undefined) {
    hit = read(p, "reading the escrow's audit manager", () => p.jobManager.auditManager()).then((address) =>
      address === ZeroAddress ? undefined : AuditManager__factory.connect(address, p.connection.ethers.provider),
    );
    hit.catch(() => managers.delete(p));
    managers.set(p, hit);
  }
  return hit;
}

async function requireAudits(p: Protocol): Promise<AuditManager> {
  const m = await auditManagerOf(p);
  if (m === undefined) throw new VeritensorError("this deployment's job escrow has no audit manager: its results are not audited");
  return m;
}

/** IAuditManager.AuditStatus, as the contract numbers it. */
export const AuditStatus = { None: 0n, Committed: 1n, Passed: 2n, Mismatch: 3n, Missed: 4n } as const;

const AUDIT_STATUS = [
  "not committed",
  "committed, not revealed",
  "passed (the auditor's output agrees)",
  "mismatch (the auditor's output differs: disputed)",
  "missed (no drawn auditor committed)",
];

export function auditStatusName(status: bigint | number): string {
  return AUDIT_STATUS[Number(status)] ?? `status ${status}`;
}

/** The governed audit parameters (IAuditManager.Params). */
export interface AuditParams {
  readonly auditRateBps: bigint;
  readonly auditSafetyBps: bigint;
  readonly auditReward: bigint;
  readonly auditMissPenaltyBps: bigint;
  readonly auditSlotBlocks: bigint;
  readonly auditSlots: bigint;
}

export async function auditParams(p: Protocol): Promise<AuditParams> {
  const m = await requireAudits(p);
  const r = await read(p, "reading the audit parameters", () => m.params());
  return {
    auditRateBps: r.auditRateBps,
    auditSafetyBps: r.auditSafetyBps,
    auditReward: r.auditReward,
    auditMissPenaltyBps: r.auditMissPenaltyBps,
    auditSlotBlocks: r.auditSlotBlocks,
    auditSlots: r.auditSlots,
  };
}

/** Tokens the audit pool can pay rewards from (held, and the escrow's credit not yet collected). */
export async function auditPool(p: Protocol): Promise<bigint> {
  const m = await requireAudits(p);
  return read(p, "reading the audit pool", () => m.pool());
}

/** Whether a submitted job is audited, and by whom now (IAuditManager.auditDraw). */
export interface AuditDraw {
  /** The job is drawn for audit (meaningful once its seed block is mined). */
  readonly audited: boolean;
  /** The auditor of the current slot (zero address when none: not drawn yet, not audited, or over). */
  readonly auditor: string;
  readonly slot: bigint;
  /** The block whose hash seeds the draw: the one after the submission. */
  readonly seedBlock: bigint;
  /** The last block of the current slot. */
  readonly slotEnd: bigint;
  /** Every slot has passed (or the seed is no longer readable). */
  readonly over: boolean;
  /** The job's audit probability, in basis points. */
  readonly rateBps: bigint;
  /** The block the draw was read at. */
  readonly atBlock: bigint;
}

/**
 * The audit draw of submitted job `jobId` (with its `terms`) as of block `atBlock` (default: the
 * latest). One call.
 */
export async function auditDraw(p: Protocol, jobId: bigint, terms: JobTerms, atBlock?: number): Promise<AuditDraw> {
  const m = await requireAudits(p);
  const block = atBlock ?? (await p.connection.ethers.provider.getBlockNumber());
  const d = await read(p, `reading the audit draw of job ${jobId}`, () => m.auditDraw(jobId, terms, { blockTag: block }));
  return { audited: d.audited, auditor: d.auditor, slot: d.slot, seedBlock: d.seedBlock, slotEnd: d.slotEnd, over: d.over, rateBps: d.rateBps, atBlock: BigInt(block) };
}

/** A job's audit as the manager records it (IAuditManager.auditOf). */
export interface AuditRecord {
  readonly auditor: string;
  readonly status: bigint;
  /** Whether {settleAudit} has paid it out. */
  readonly settled: boolean;
  /** The slot the auditor committed in. */
  readonly slot: bigint;
  /** What the commit bound (the auditor's commitment with the worker's output commitment). */
  readonly commitment: string;
  /** The auditor's stake locked for the audit (the job's lock). */
  readonly lock: bigint;
  /** The reward in force at the commit (paid from the pool if the audit ends well). */
  readonly reward: bigint;
  readonly committedBlock: bigint;
  /** The dispute game a mismatch opened (zero address otherwise). */
  readonly game: string;
}

export async function auditOf(p: Protocol, jobId: bigint): Promise<AuditRecord> {
  const m = await requireAudits(p);
  const a = await read(p, `reading the audit of job ${jobId}`, () => m.auditOf(jobId));
  return {
    auditor: a.auditor,
    status: a.status,
    settled: a.settled,
    slot: a.slot,
    commitment: a.commitment,
    lock: a.lock,
    reward: a.reward,
    committedBlock: a.committedBlock,
    game: a.game,
  };
}

/** The audit rate of a job with `terms`, in basis points (the larger of the floor and the safety rule). */
export async function auditRate(p: Protocol, terms: JobTerms): Promise<bigint> {
  const m = await requireAudits(p);
  return read(p, "reading the audit rate", () => m.auditRate(terms));
}

/** `auditCommitmentOf` on the manager, computed locally: keccak256(abi.encode(jobId, auditor, output, salt)). */
export function auditCommitment(jobId: bigint, auditor: string, outputCommitment: string, salt: string): Hex {
  return keccak256(AbiCoder.defaultAbiCoder().encode(["uint256", "address", "bytes32", "bytes32"], [jobId, auditor, outputCommitment, salt])) as Hex;
}

/**
 * The salt `signer` hides its audit output on `jobId` with: a hash of its own signature over the
 * output, so that nobody can compute it before the reveal, and a restarted node finds the same one
 * without storing it (ECDSA signatures here are deterministic, RFC 6979).
 */
export async function auditSalt(signer: Signer, manager: string, jobId: bigint, outputCommitment: string): Promise<Hex> {
  const claim = solidityPacked(["string", "address", "uint256", "bytes32"], ["veritensor audit salt", manager, jobId, outputCommitment]);
  return keccak256(await signer.signMessage(getBytes(claim))) as Hex;
}

/**
 * Commits `auditor` to its output on `jobId` (the auditor of the current slot, the job Submitted
 * with its `workerOutput`): locks `terms.lock` of its stake. Returns the receipt.
 */
export async function commitAudit(
  p: Protocol,
  auditor: Signer,
  jobId: bigint,
  terms: JobTerms,
  workerOutput: string,
  commitment: string,
): Promise<ContractTransactionReceipt> {
  const m = await requireAudits(p);
  return send(p, `committing to the audit of job ${jobId}`, () => m.connect(auditor).commitAudit(jobId, terms, workerOutput, commitment));
}

/** Reveals an output that agrees with the worker's: the audit passes. */
export async function revealAudit(p: Protocol, auditor: Signer, jobId: bigint, output: string, salt: string): Promise<ContractTransactionReceipt> {
  const m = await requireAudits(p);
  return send(p, `revealing the audit of job ${jobId}`, () => m.connect(auditor).revealAudit(jobId, output, salt));
}

/**
 * Reveals an output that differs from the worker's, opening a dispute on the job at once with the
 * auditor as challenger (`a`: the dispute's claim, as a verifier would open it; its bond taken from
 * the auditor, approved to the dispute factory beforehand). Returns the game, or undefined when the
 * result was already rejected (the mismatch is recorded, there is nothing to dispute).
 */
export async function revealMismatch(
  p: Protocol,
  auditor: Signer,
  jobId: bigint,
  output: string,
  salt: string,
  a: OpenArgs,
): Promise<{ game: DisputeGame | undefined; receipt: ContractTransactionReceipt }> {
  const m = await requireAudits(p);
  const receipt = await send(p, `revealing a mismatch in the audit of job ${jobId}`, () =>
    m.connect(auditor).revealMismatch(jobId, output, salt, openParams(a)),
  );
  const game = auditEvents(m, receipt, "AuditMismatch")[0]?.args.game as string | undefined;
  if (game === undefined) throw new VeritensorError(`revealing the mismatch of job ${jobId}: no AuditMismatch event in its receipt`);
  return { game: game === ZeroAddress ? undefined : attachGame(game, auditor), receipt };
}

export interface AuditSettlement {
  readonly receipt: ContractTransactionReceipt;
  readonly auditor: string;
  readonly status: bigint;
  readonly reward: bigint;
  readonly slashed: bigint;
}

/** Settles `jobId`'s audit (anyone, once the job is Finalized or Rejected). */
export async function settleAudit(p: Protocol, caller: Signer, jobId: bigint): Promise<AuditSettlement> {
  const m = await requireAudits(p);
  const receipt = await send(p, `settling the audit of job ${jobId}`, () => m.connect(caller).settleAudit(jobId));
  const e = auditEvents(m, receipt, "AuditSettled")[0];
  if (!e) throw new VeritensorError(`settling the audit of job ${jobId}: no AuditSettled event in its receipt`);
  return { receipt, auditor: e.args.auditor as string, status: e.args.status as bigint, reward: e.args.reward as bigint, slashed: e.args.slashed as bigint };
}

/** Charges the drawn auditors of `jobId` that let their slots pass (anyone, once every slot is over). */
export async function reportMissedAudit(p: Protocol, caller: Signer, jobId: bigint, terms: JobTerms, workerOutput: string): Promise<ContractTransactionReceipt> {
  const m = await requireAudits(p);
  return send(p, `reporting the missed audit of job ${jobId}`, () => m.connect(caller).reportMissedAudit(jobId, terms, workerOutput));
}

/** What the audit manager owes `account` (rewards). */
export async function auditBalance(p: Protocol, account: string): Promise<bigint> {
  const m = await requireAudits(p);
  return read(p, "reading the audit balance", () => m.balanceOf(account));
}

/** Withdraws the signer's whole balance from the audit manager; returns the amount. */
export async function withdrawAuditBalance(p: Protocol, account: Signer): Promise<{ amount: bigint; receipt: ContractTransactionReceipt }> {
  const m = await requireAudits(p);
  const amount = await auditBalance(p, await account.getAddress());
  const receipt = await send(p, "withdrawing audit rewards", () => m.connect(account).withdraw());
  return { amount, receipt };
}

/** The manager's events of one name in a receipt. */
function auditEvents(m: AuditManager, receipt: ContractTransactionReceipt, name: string) {
  const address = m.target.toString().toLowerCase();
  return receipt.logs
    .filter((l) => l.address.toLowerCase() === address)
    .map((l) => {
      try {
        return m.interface.parseLog(l);
      } catch {
        return null;
      }
    })
    .filter((e): e is NonNullable<typeof e> => e !== null && e.name === name);
}

/** The settlement of `jobId`'s audit, from its `AuditSettled` event (undefined before it is settled). */
export async function auditSettlement(p: Protocol, jobId: bigint): Promise<{ reward: bigint; slashed: bigint } | undefined> {
  const m = await requireAudits(p);
  const events = await newestEvents(p, (from, to) => m.queryFilter(m.filters.AuditSettled(jobId), from, to));
  const e = events[events.length - 1];
  return e ? { reward: e.args.reward, slashed: e.args.slashed } : undefined;
}

/**
 * A job's audit in one line for `job show` (undefined when the deployment has no audits, or the job
 * has no result yet): drawn or not, rate, auditor, status, reward or penalty, game. A few reads.
 */
export async function auditSummary(p: Protocol, job: { jobId: bigint; status: bigint; terms: JobTerms }): Promise<string | undefined> {
  if ((await auditManagerOf(p)) === undefined) return undefined;
  if (job.status !== JobStatus.Submitted && job.status !== JobStatus.Finalized && job.status !== JobStatus.Rejected) return undefined;
  const [record, rate] = await Promise.all([auditOf(p, job.jobId), auditRate(p, job.terms)]);
  const draw = record.status === AuditStatus.None ? await auditDraw(p, job.jobId, job.terms) : undefined;
  const settled = record.settled ? await auditSettlement(p, job.jobId) : undefined;
  return describeAudit(draw, record, rate, settled);
}

/** A job's audit in words, for `job show`: drawn or not, rate, auditor, status, reward or penalty, game. */
export function describeAudit(d: AuditDraw | undefined, a: AuditRecord, rateBps: bigint, settled?: { reward: bigint; slashed: bigint }): string {
  const rate = `rate ${formatBps(rateBps)}`;
  if (a.status === AuditStatus.Missed) return `drawn for audit (${rate}), but no drawn auditor committed in its slots (each charged the miss penalty)`;
  if (a.status !== AuditStatus.None) {
    const money = settled
      ? `; settled: ${settled.reward > 0n ? `${formatVtn(settled.reward)} reward paid from the pool` : "no reward"}${settled.slashed > 0n ? `, ${formatVtn(settled.slashed)} of its lock slashed` : ""}`
      : `, ${formatVtn(a.lock)} of its stake locked, reward ${formatVtn(a.reward)} if it ends well`;
    const game = a.game !== ZeroAddress ? `, dispute game ${a.game}` : "";
    return `audited (${rate}) by ${a.auditor}: ${auditStatusName(a.status)}${game}${money}`;
  }
  if (d === undefined) return `${rate}; drawn once the block after the submission is mined`;
  if (!d.audited && !d.over && d.atBlock <= d.seedBlock) return `${rate}; drawn by the hash of block ${d.seedBlock}, not mined yet`;
  if (!d.audited) return d.over ? `not audited (${rate}; its draw's seed is no longer readable)` : `not drawn for audit (${rate})`;
  if (d.over) return `drawn for audit (${rate}), but no drawn auditor committed in its slots`;
  return `drawn for audit (${rate}): slot ${d.slot} is ${d.auditor}'s, until block ${d.slotEnd}; not committed yet`;
}
