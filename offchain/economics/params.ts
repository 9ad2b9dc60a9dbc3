/**
 * The parameters the economic model runs under: the protocol's own (read from
 * ignition/defaults.ts, PRODUCTION, so the model follows any change of the deployment defaults),
 * and those of the mechanisms of issue 18 (assignment, audits), with the defaults the simulation
 * chose (docs/ECONOMICS.md says why). The contracts will take the latter as governed parameters.
 */
import type { ProtocolDefaults } from "../../ignition/defaults.js";
import { PRODUCTION } from "../../ignition/defaults.js";
import { VTN, bpsOf, maxBig } from "./units.js";

/** What a job's money and a dispute's payouts depend on today (docs/PROTOCOL.md, docs/DISPUTES.md). */
export interface ProtocolParams {
  readonly protocolFeeBps: number;
  readonly stakeRatioBps: number;
  readonly minJobLock: bigint;
  readonly timeoutSlashBps: number;
  readonly challengeBond: bigint;
  readonly challengerRewardBps: number;
  readonly defenderRewardBps: number;
  readonly minStake: bigint;
}

export function protocolParams(d: ProtocolDefaults = PRODUCTION): ProtocolParams {
  return {
    protocolFeeBps: d.jobs.protocolFeeBps,
    stakeRatioBps: d.jobs.stakeRatioBps,
    minJobLock: d.jobs.minJobLock,
    timeoutSlashBps: d.jobs.timeoutSlashBps,
    challengeBond: d.disputes.challengeBond,
    challengerRewardBps: d.disputes.challengerRewardBps,
    defenderRewardBps: d.disputes.defenderRewardBps,
    minStake: d.staking.minStake,
  };
}

/**
 * How a worker's stake becomes its weight in the draw: `linear` (the stake), `capped`
 * (min(stake, weightCap): linear below the cap) or `sqrt` (the square root of the stake, a
 * sublinear rule shown for comparison: it rewards splitting a stake across accounts).
 */
export type WeightRule = "linear" | "capped" | "sqrt";

/** Who gets a job: the stake-weighted draw, or today's race (the first claim mined wins). */
export type AssignmentRule = "draw" | "first-come";

/** The governed parameters of assignment and audits (issue 18). */
export interface MechanismParams {
  readonly assignment: AssignmentRule;
  readonly weightRule: WeightRule;
  /** Per-account weight cap of the `capped` rule, in wei of stake. */
  readonly weightCap: bigint;
  /**
   * Claim slots drawn per job before it is open to every worker (WorkerRoster's `drawnSlots`; the
   * contract's own parameter, taken here as in its tests: 3).
   */
  readonly drawnSlots: number;
  /**
   * Share of a drawn job's lock that a worker loses when it misses its claim slot (offline, or
   * not enough free stake), in bps. Goes to the audit pool.
   */
  readonly missPenaltyBps: number;
  /** Share of every fee that funds the audit pool, in bps (taken like the protocol fee). */
  readonly auditFeeBps: number;
  /** The least fraction of jobs audited, in bps: every job is audited at least this often. */
  readonly auditRateBps: number;
  /**
   * The deterrence rule: a job is audited with probability at least `auditSafetyBps / 10000 ×
   * w / (w + lock)`, w the worker's part of its fee (its break-even audit rate, "Cheating" in
   * docs/ECONOMICS.md, times this margin); 0 turns the rule off (a flat `auditRateBps`).
   */
  readonly auditSafetyBps: number;
  /** What the pool pays an auditor per audit it answers, in wei. */
  readonly auditReward: bigint;
  /** Share of the audited job's lock that a drawn auditor loses when it does not answer, in bps. */
  readonly auditMissPenaltyBps: number;
  /**
   * Whether the auditor sees the worker's output commitment before it commits its own. Today's
   * submission publishes it (ResultSubmitted), so an auditor can "agree" without computing; the
   * other design hides it until the auditor has committed (docs/ECONOMICS.md, "Lazy auditors").
   */
  readonly outputVisibleToAuditor: boolean;
}

/** Today's protocol: first-come claims, no audit pool, no penalties beyond those of PROTOCOL.md. */
export const TODAY: MechanismParams = {
  assignment: "first-come",
  weightRule: "linear",
  weightCap: 0n,
  drawnSlots: 0,
  missPenaltyBps: 0,
  auditFeeBps: 0,
  auditRateBps: 0,
  auditSafetyBps: 0,
  auditReward: 0n,
  auditMissPenaltyBps: 0,
  outputVisibleToAuditor: true,
};

/**
 * The defaults the simulation chose (docs/ECONOMICS.md, "Chosen defaults"), for the contracts to
 * take as governed parameters:
 * - audit at least 1% of jobs, and every job at least at twice its own break-even rate;
 * - 5% of every fee to the audit pool, 0.40 VTN per answered audit (twice an audit's measured gas);
 * - 1% of the job's lock for a missed claim slot or an unanswered audit;
 * - weight = min(stake, 100,000 VTN) per account.
 * (Three drawn slots before a job is open to all is the roster's own parameter, as in its tests.)
 */
export const ECONOMICS_DEFAULTS: MechanismParams = {
  assignment: "draw",
  weightRule: "capped",
  weightCap: 100_000n * VTN,
  drawnSlots: 3,
  missPenaltyBps: 100,
  auditFeeBps: 500,
  auditRateBps: 100,
  auditSafetyBps: 20_000,
  auditReward: (40n * VTN) / 100n,
  auditMissPenaltyBps: 100,
  outputVisibleToAuditor: true,
};

/** A job's fee, split as the escrow splits it, plus the audit pool's share. */
export interface FeeSplit {
  readonly fee: bigint;
  readonly protocol: bigint;
  readonly audit: bigint;
  /** The model's price (to its developer and contributors). */
  readonly model: bigint;
  /** What is left for the worker: fee − protocol − audit − model (never negative for a valid request). */
  readonly worker: bigint;
}

export function splitFee(fee: bigint, price: bigint, p: ProtocolParams, m: MechanismParams): FeeSplit {
  // As the escrow cuts them (JobManager._feeSplit): both shares together with one rounding, the pool's
  // rounded down, the treasury the rest (so the treasury takes the rounding remainder, at most 1 wei).
  const audit = bpsOf(fee, m.auditFeeBps);
  const protocol = bpsOf(fee, p.protocolFeeBps + m.auditFeeBps) - audit;
  const worker = fee - protocol - audit - price;
  if (worker < 0n) throw new RangeError(`a fee of ${fee} wei does not cover the model's price ${price} after the protocol and audit shares`);
  return { fee, protocol, audit, model: price, worker };
}

/** The stake a claim locks: max(minJobLock, fee × stakeRatioBps / 10000) (docs/PROTOCOL.md). */
export function jobLock(fee: bigint, p: ProtocolParams): bigint {
  return maxBig(p.minJobLock, bpsOf(fee, p.stakeRatioBps));
}

/**
 * The probability, in bps, that a submitted job is audited: the floor `auditRateBps`, raised by
 * the deterrence rule to ⌈auditSafetyBps × w / (w + lock)⌉ (at most 10000). Integer arithmetic
 * only, as a contract would compute it from the job's terms.
 */
export function auditRateOf(workerPart: bigint, lock: bigint, m: MechanismParams): number {
  let rate = BigInt(m.auditRateBps);
  if (m.auditSafetyBps > 0 && workerPart > 0n) {
    const num = BigInt(m.auditSafetyBps) * workerPart;
    const den = workerPart + lock;
    const rule = (num + den - 1n) / den;
    if (rule > rate) rate = rule;
  }
  return Number(rate > 10_000n ? 10_000n : rate);
}
