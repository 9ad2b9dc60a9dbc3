/**
 * `econ simulate`: the task's options turned into the economic model's options (each checked,
 * with the option named when it is wrong), and the report it prints.
 */
import { VeritensorError } from "../clients/errors.js";
import { CostModel, PRICES, pricesFrom } from "../economics/costs.js";
import type { EconomicsOptions } from "../economics/experiments.js";
import { economicsOptions } from "../economics/experiments.js";
import type { MechanismParams, WeightRule } from "../economics/params.js";
import { ECONOMICS_DEFAULTS } from "../economics/params.js";
import { parseDecimal } from "../economics/units.js";

export interface EconTaskArgs {
  readonly seed: number;
  readonly jobs: number;
  readonly auditRate?: string | undefined;
  readonly auditSafety?: string | undefined;
  readonly auditFee?: string | undefined;
  readonly auditReward?: string | undefined;
  readonly missPenalty?: string | undefined;
  readonly weightCap?: string | undefined;
  readonly weightRule?: string | undefined;
  readonly drawnSlots?: string | undefined;
  readonly jobsPerSecond?: string | undefined;
  readonly gasPriceGwei?: string | undefined;
  readonly ethUsd?: string | undefined;
  readonly vtnUsd?: string | undefined;
  readonly cpuUsdPerHour?: string | undefined;
  readonly nodeUsdPerHour?: string | undefined;
}

function bps(text: string | undefined, option: string, fallback: number, max = 10_000): number {
  if (text === undefined) return fallback;
  const value = Number(text.trim());
  const what = option === "drawn-slots" ? "a number of slots" : "basis points";
  if (!/^\d+$/.test(text.trim()) || value > max) throw new VeritensorError(`--${option} "${text}": give ${what}, a whole number from 0 to ${max}`);
  return value;
}

function decimal(text: string | undefined, option: string, decimals: number): bigint | undefined {
  if (text === undefined) return undefined;
  try {
    return parseDecimal(text, decimals);
  } catch {
    throw new VeritensorError(`--${option} "${text}" is not a non-negative decimal number (at most ${decimals} decimals)`);
  }
}

/** The model's options from the task's, defaults for anything not given. */
export function econOptions(a: EconTaskArgs): EconomicsOptions {
  if (!Number.isInteger(a.jobs) || a.jobs < 100 || a.jobs > 1_000_000) throw new VeritensorError(`--jobs ${a.jobs}: give 100 to 1,000,000 jobs per run`);
  if (!Number.isSafeInteger(a.seed)) throw new VeritensorError(`--seed ${a.seed} is not a whole number`);
  const rule = a.weightRule ?? ECONOMICS_DEFAULTS.weightRule;
  if (rule !== "linear" && rule !== "capped" && rule !== "sqrt") throw new VeritensorError(`--weight-rule "${rule}": give linear, capped or sqrt`);
  const d = ECONOMICS_DEFAULTS;
  const mechanism: MechanismParams = {
    ...d,
    auditRateBps: bps(a.auditRate, "audit-rate", d.auditRateBps),
    auditSafetyBps: bps(a.auditSafety, "audit-safety", d.auditSafetyBps, 1_000_000),
    auditFeeBps: bps(a.auditFee, "audit-fee", d.auditFeeBps, 2_000),
    missPenaltyBps: bps(a.missPenalty, "miss-penalty", d.missPenaltyBps),
    auditMissPenaltyBps: bps(a.missPenalty, "miss-penalty", d.auditMissPenaltyBps),
    auditReward: decimal(a.auditReward, "audit-reward", 18) ?? d.auditReward,
    weightCap: decimal(a.weightCap, "weight-cap", 18) ?? d.weightCap,
    weightRule: rule as WeightRule,
    drawnSlots: bps(a.drawnSlots, "drawn-slots", d.drawnSlots, 255),
  };
  let prices;
  try {
    prices = pricesFrom(PRICES, a);
  } catch (e) {
    throw new VeritensorError(`a price option is wrong: ${(e as Error).message} (gas price in gwei, the others in dollars, e.g. --vtn-usd 0.1)`);
  }
  const rate = a.jobsPerSecond === undefined ? 0.2 : Number(a.jobsPerSecond);
  if (!(rate > 0) || !Number.isFinite(rate)) throw new VeritensorError(`--jobs-per-second "${a.jobsPerSecond}" is not a positive number`);
  return economicsOptions({ seed: a.seed, jobs: a.jobs, mechanism, costs: new CostModel(prices), jobsPerSecond: rate });
}

export { economicsMarkdown, economicsReport, headline } from "../economics/report.js";
