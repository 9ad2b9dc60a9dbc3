/**
 * The closed forms the simulation is checked against (docs/ECONOMICS.md derives each): a job's
 * money for each party, the expected value of cheating and its break-even audit rate, what an
 * auditor and an independent verifier earn, the miss penalty's break-even availability, and the
 * risk left by redundancy. Amounts are exact wei; probabilities are floats, applied with one
 * rounding (parts per billion).
 */
import type { CostModel, ModelClass } from "./costs.js";
import type { FeeSplit, MechanismParams, ProtocolParams } from "./params.js";
import { auditRateOf, jobLock, splitFee } from "./params.js";
import { bpsOf, ratio } from "./units.js";

const PPB = 1_000_000_000n;
/** `amount × p`, p a probability, rounded down to the wei (one rounding, parts per billion). */
export function times(amount: bigint, p: number): bigint {
  return (amount * BigInt(Math.round(Math.min(1, Math.max(0, p)) * 1e9))) / PPB;
}

/** One job of a model class, from the worker's side. */
export interface JobEconomics {
  readonly model: ModelClass;
  readonly split: FeeSplit;
  readonly lock: bigint;
  /** The inference's CPU: what an honest worker spends and a cheater saves. */
  readonly compute: bigint;
  /** Gas of the claim (with the draw's extra, if drawn) and the submission: paid by honest and cheating workers alike. */
  readonly gasClaimSubmit: bigint;
  /** Gas of the finalization: paid only when the result is accepted. */
  readonly gasFinalize: bigint;
  /** An honest worker's profit: w − compute − all its gas. */
  readonly honestProfit: bigint;
  /** The job's audit probability under the mechanism, bps. */
  readonly auditRateBps: number;
}

export function jobEconomics(model: ModelClass, p: ProtocolParams, m: MechanismParams, costs: CostModel): JobEconomics {
  const split = splitFee(model.fee, model.price, p, m);
  const lock = jobLock(model.fee, p);
  const compute = costs.compute(model);
  const gasClaimSubmit = costs.gasCost(costs.gas.claim + (m.assignment === "draw" ? costs.gas.drawExtra : 0n) + costs.gas.submit);
  const gasFinalize = costs.gasCost(costs.gas.finalize);
  return {
    model,
    split,
    lock,
    compute,
    gasClaimSubmit,
    gasFinalize,
    honestProfit: split.worker - compute - gasClaimSubmit - gasFinalize,
    auditRateBps: auditRateOf(split.worker, lock, m),
  };
}

/**
 * The expected value of cheating on one job caught with probability `pCaught`, counting the
 * compute saved as a gain (the definition: the most a worker makes by posting a made-up
 * result instead of running the model):
 *
 *   EV(p) = (1 − p)·(w − g_f) − p·L + c − g_cs
 *
 * w the worker's part of the fee, L the lock, c the compute saved, g_cs the gas of claim and
 * submission (paid anyway), g_f the finalization's (paid only if not caught). At zero gas this is
 * w + c − p·(w + L): the fee part and saved compute, minus the expected loss of lock and fee.
 */
export function cheatingEv(w: bigint, lock: bigint, compute: bigint, gasClaimSubmit: bigint, gasFinalize: bigint, pCaught: number): bigint {
  const ppb = BigInt(Math.round(Math.min(1, Math.max(0, pCaught)) * 1e9));
  return ((PPB - ppb) * (w - gasFinalize) - ppb * lock) / PPB + compute - gasClaimSubmit;
}

export const jobCheatingEv = (j: JobEconomics, pCaught: number): bigint =>
  cheatingEv(j.split.worker, j.lock, j.compute, j.gasClaimSubmit, j.gasFinalize, pCaught);

/**
 * The catch probability at which cheating's expected value is zero:
 * p* = (w + c − g_f − g_cs) / (w − g_f + L); without gas (`withGas` false), (w + c) / (w + L),
 * the bound that holds at any gas price (gas only lowers what cheating earns).
 */
export function breakEven(j: JobEconomics, withGas = true): number {
  const gf = withGas ? j.gasFinalize : 0n;
  const gcs = withGas ? j.gasClaimSubmit : 0n;
  const r = ratio(j.split.worker + j.compute - gf - gcs, j.split.worker - gf + j.lock);
  return Math.min(1, Math.max(0, r));
}

/** The catch probability of an audit rate when a share `blind` of the answering audit weight does not compute (lazy, or colluding). */
export const catchProbability = (auditRate: number, blind = 0, verifierCoverage = 0): number =>
  1 - (1 - auditRate * (1 - blind)) * (1 - verifierCoverage);

/** What an honest auditor makes per audit: the reward, minus its re-run and its commit and reveal. */
export function honestAuditProfit(model: ModelClass, m: MechanismParams, costs: CostModel): bigint {
  return m.auditReward - costs.check(model) - costs.gasCost(costs.gas.audit);
}

/**
 * What an auditor that does not run the model makes per audit, when a share `wrong` of audited
 * results is wrong:
 * - output visible (today's submission): it agrees; it is paid unless the result is wrong and
 *   someone else proves it (probability `detected`), when it loses the lock it vouched for;
 * - output hidden until it commits: it must guess, so its answer differs from every correct
 *   result and it opens a dispute it loses (its bond and the dispute's gas); against a wrong
 *   result its guess wins the dispute (the defender loses when both differ).
 */
export function lazyAuditProfit(
  model: ModelClass,
  p: ProtocolParams,
  m: MechanismParams,
  costs: CostModel,
  wrong: number,
  detected: number,
): bigint {
  const lock = jobLock(model.fee, p);
  const gas = costs.gasCost(costs.gas.audit);
  if (m.outputVisibleToAuditor) {
    const caught = wrong * detected;
    return times(m.auditReward, 1 - caught) - times(lock, caught) - gas;
  }
  const lose = p.challengeBond + costs.gasCost(costs.gas.disputeChallenger);
  const win = m.auditReward + bpsOf(lock, p.challengerRewardBps) - costs.gasCost(costs.gas.disputeUndefended);
  return times(win, wrong) - times(lose, 1 - wrong) - gas;
}

/**
 * An independent verifier's profit per hour, checking every result of `jobsPerHour` jobs of
 * `model`, when a share `wrong` of results is wrong, `verifiers` verifiers check them all (the
 * first to commit of them takes the reward, all pay the dispute's gas), and audits at `auditRate`
 * by honest auditors race them for it (a fair coin).
 */
export function verifierProfitPerHour(
  model: ModelClass,
  p: ProtocolParams,
  costs: CostModel,
  o: { jobsPerHour: number; wrong: number; verifiers: number; auditRate: number },
): bigint {
  const lock = jobLock(model.fee, p);
  const reward = bpsOf(lock, p.challengerRewardBps);
  const perJob =
    times(reward, (o.wrong * (1 - o.auditRate / 2)) / o.verifiers) - times(costs.gasCost(costs.gas.disputeUndefended), o.wrong) - costs.check(model);
  return perJob * BigInt(Math.round(o.jobsPerHour)) - costs.nodeCost(3600);
}

/** The share of wrong results at which a lone verifier breaks even (`verifierProfitPerHour` = 0, no audits). */
export function verifierBreakEvenWrongRate(model: ModelClass, p: ProtocolParams, costs: CostModel, jobsPerHour: number): number {
  const reward = bpsOf(jobLock(model.fee, p), p.challengerRewardBps) - costs.gasCost(costs.gas.disputeUndefended);
  const costPerJob = costs.check(model) * BigInt(Math.round(jobsPerHour)) + costs.nodeCost(3600);
  return ratio(costPerJob, reward * BigInt(Math.round(jobsPerHour)));
}

/**
 * The availability below which a drawn worker loses money on the draws it gets: it earns its
 * profit when it claims (probability a) and pays the miss penalty otherwise, so a·profit =
 * (1 − a)·penalty at a* = penalty / (profit + penalty).
 */
export function missBreakEvenAvailability(honestProfit: bigint, penalty: bigint): number {
  return ratio(penalty, honestProfit + penalty);
}

/**
 * The chance that all k workers of a job come from one cheating operator holding `share` of the
 * weight, drawn without replacement: with its weight spread over `accounts` equal accounts it is
 * Π_{i<k} (s − i·s/n) / (1 − i·s/n); with many accounts (n → ∞) it is s^k.
 */
export function redundancyRisk(k: number, share: number, accounts = Infinity): number {
  let p = 1;
  const each = Number.isFinite(accounts) ? share / accounts : 0;
  for (let i = 0; i < k; i++) p *= Math.max(0, share - i * each) / (1 - i * each);
  return p;
}

/** The least audit fee share (bps) that funds the audits of a job mix: E[rate × reward] / E[fee]. */
export function selfFundingAuditFeeBps(models: readonly ModelClass[], p: ProtocolParams, m: MechanismParams, costs: CostModel): number {
  let num = 0;
  let den = 0;
  for (const model of models) {
    const j = jobEconomics(model, p, m, costs);
    num += model.share * (j.auditRateBps / 10_000) * Number(m.auditReward);
    den += model.share * Number(model.fee);
  }
  return (num / den) * 10_000;
}
