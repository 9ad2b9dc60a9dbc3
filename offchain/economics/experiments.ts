/**
 * The experiments behind docs/ECONOMICS.md and BENCHMARKS.md: each runs the model (and the
 * closed forms beside it) on one question and returns its figures as data; report.ts renders
 * them. Every experiment is a function of its options, seed included.
 */
import { PRODUCTION } from "../../ignition/defaults.js";
import type { Population, WorkerSpec } from "./agents.js";
import { honestWorker, makePopulation } from "./agents.js";
import type { JobEconomics } from "./analysis.js";
import {
  breakEven,
  cheatingEv,
  honestAuditProfit,
  jobCheatingEv,
  jobEconomics,
  lazyAuditProfit,
  missBreakEvenAvailability,
  redundancyRisk,
  selfFundingAuditFeeBps,
  verifierBreakEvenWrongRate,
  verifierProfitPerHour,
} from "./analysis.js";
import { CostModel, MODEL_CLASSES } from "./costs.js";
import type { ModelClass } from "./costs.js";
import type { Concentration, Share } from "./metrics.js";
import { concentration, maxDeviation, shares } from "./metrics.js";
import { splitWeight } from "./mechanisms.js";
import type { SimResult } from "./model.js";
import { net, simulate } from "./model.js";
import type { MechanismParams, ProtocolParams, WeightRule } from "./params.js";
import { ECONOMICS_DEFAULTS, TODAY, auditRateOf, jobLock, protocolParams, splitFee } from "./params.js";
import type { Label } from "./prng.js";
import { VTN, bpsOf, ratio } from "./units.js";

export interface EconomicsOptions {
  readonly seed: Label;
  /** Jobs per simulated run (the sweeps run several). */
  readonly jobs: number;
  readonly protocol: ProtocolParams;
  /** The mechanism under study (default: the chosen defaults). */
  readonly mechanism: MechanismParams;
  readonly costs: CostModel;
  readonly models: readonly ModelClass[];
  readonly jobsPerSecond: number;
  readonly challengeWindowS: number;
}

export function economicsOptions(o: Partial<EconomicsOptions> = {}): EconomicsOptions {
  return {
    seed: o.seed ?? 1,
    jobs: o.jobs ?? 10_000,
    protocol: o.protocol ?? protocolParams(),
    mechanism: o.mechanism ?? ECONOMICS_DEFAULTS,
    costs: o.costs ?? new CostModel(),
    models: o.models ?? MODEL_CLASSES,
    jobsPerSecond: o.jobsPerSecond ?? 0.2,
    challengeWindowS: o.challengeWindowS ?? PRODUCTION.jobs.challengeWindow,
  };
}

const run = (o: EconomicsOptions, population: Population, mechanism: MechanismParams, extra: { seed?: Label; jobs?: number; models?: readonly ModelClass[]; redundancy?: readonly (readonly [number, number])[] } = {}): SimResult =>
  simulate({
    seed: extra.seed ?? o.seed,
    jobs: extra.jobs ?? o.jobs,
    jobsPerSecond: o.jobsPerSecond,
    challengeWindowS: o.challengeWindowS,
    protocol: o.protocol,
    mechanism,
    costs: o.costs,
    models: extra.models ?? o.models,
    population,
    ...(extra.redundancy === undefined ? {} : { redundancy: extra.redundancy }),
  });

/** A flat audit rate (the deterrence rule off). */
export const flat = (m: MechanismParams, rateBps: number): MechanismParams => ({ ...m, auditRateBps: rateBps, auditSafetyBps: 0 });

// ------------------------------------------------------------------------------------------------
// Cheating: expected value per cheated job, analytic and simulated, by audit rate

export interface ClassFigures {
  readonly job: JobEconomics;
  /** Break-even catch probability without gas (holds at any gas price) and with the assumed gas. */
  readonly breakEvenNoGas: number;
  readonly breakEven: number;
  /** The cheating EV at the job's audit rate under the mechanism, with and without gas. */
  readonly evAtRule: bigint;
  readonly evAtRuleNoGas: bigint;
}

export function classFigures(o: EconomicsOptions, m = o.mechanism): ClassFigures[] {
  return o.models.map((model) => {
    const job = jobEconomics(model, o.protocol, m, o.costs);
    const p = job.auditRateBps / 10_000;
    return {
      job,
      breakEvenNoGas: breakEven(job, false),
      breakEven: breakEven(job, true),
      evAtRule: jobCheatingEv(job, p),
      evAtRuleNoGas: cheatingEv(job.split.worker, job.lock, job.compute, 0n, 0n, p),
    };
  });
}

/**
 * The population of the cheating sweep: nine honest accounts and one that cheats on every job,
 * holding `cheaterShare` of the stake; linear weights (the sweep is about audits, not the cap).
 */
export function sweepPopulation(seed: Label, cheaterShare = 0.6): Population {
  const honest = makePopulation(seed, { workers: 9 }).workers;
  const rest = honest.reduce((s, w) => s + w.stake, 0n);
  const stake = (rest * BigInt(Math.round(cheaterShare * 1000))) / BigInt(Math.round((1 - cheaterShare) * 1000));
  const cheater: WorkerSpec = { ...honestWorker("cheater", stake), kind: "cheater", cheat: "always" };
  return { workers: [cheater, ...honest], verifiers: [] };
}

export interface SweepPoint {
  readonly rateBps: number;
  /** Per class: analytic EV per cheated job, and the simulated mean (with the cheated jobs counted). */
  readonly classes: readonly { readonly analytic: bigint; readonly simulated: bigint; readonly cheats: number; readonly caught: number }[];
}

export interface CheatingSweep {
  readonly points: readonly SweepPoint[];
  /** Per class: the analytic break-even rate (with gas), the simulated one (the grid's zero crossing, linearly interpolated) and its sampling error (one standard deviation). */
  readonly breakEven: readonly { readonly analytic: number; readonly simulated: number; readonly error: number }[];
}

export const SWEEP_RATES_BPS: readonly number[] = [0, 50, 100, 150, 200, 250, 300, 400, 500, 600, 700, 800, 900, 1000, 1200, 1500, 2000];

export function cheatingSweep(o: EconomicsOptions, rates: readonly number[] = SWEEP_RATES_BPS, population: Population = sweepPopulation(o.seed)): CheatingSweep {
  const base: MechanismParams = { ...o.mechanism, weightRule: "linear" };
  const points = rates.map((rateBps) => {
    const r = run(o, population, flat(base, rateBps));
    const cheater = r.workers[0]!;
    return {
      rateBps,
      classes: o.models.map((model, i) => {
        const b = cheater.byModel[i]!;
        const job = jobEconomics(model, o.protocol, flat(base, rateBps), o.costs);
        return { analytic: jobCheatingEv(job, rateBps / 10_000), simulated: b.cheats === 0 ? 0n : b.value / BigInt(b.cheats), cheats: b.cheats, caught: b.caught };
      }),
    };
  });
  const breakEvens = o.models.map((model, i) => {
    const job = jobEconomics(model, o.protocol, flat(base, 0), o.costs);
    const analytic = breakEven(job, true);
    let simulated = Number.NaN;
    for (let k = 1; k < points.length; k++) {
      const [a, b] = [points[k - 1]!, points[k]!];
      const [ya, yb] = [a.classes[i]!.simulated, b.classes[i]!.simulated];
      if (ya > 0n && yb <= 0n) {
        simulated = (a.rateBps + ((b.rateBps - a.rateBps) * Number(ya)) / Number(ya - yb)) / 10_000;
        break;
      }
    }
    const n = points[0]!.classes[i]!.cheats;
    return { analytic, simulated, error: Math.sqrt((analytic * (1 - analytic)) / Math.max(1, n)) };
  });
  return { points, breakEven: breakEvens };
}

/** The EV of cheating across fees (one model price share), analytic: where a flat audit rate stops deterring. */
export interface FeeRow {
  readonly fee: bigint;
  readonly lock: bigint;
  readonly worker: bigint;
  readonly breakEvenNoGas: number;
  readonly ruleRateBps: number;
  readonly evAtRuleNoGas: bigint;
  /** The EV (no gas) at a flat 1% and 5% audit rate. */
  readonly evFlat1: bigint;
  readonly evFlat5: bigint;
}

export function feeSweep(o: EconomicsOptions, feesVtn: readonly string[] = ["0.3", "1", "3", "5", "10", "30", "100"], priceShare = 0.5): FeeRow[] {
  return feesVtn.map((f) => {
    const fee = (BigInt(Math.round(Number(f) * 1000)) * VTN) / 1000n;
    const model: ModelClass = { ...o.models[0]!, fee, price: bpsOf(fee, Math.round(priceShare * 10_000)) };
    const job = jobEconomics(model, o.protocol, o.mechanism, o.costs);
    const ev = (p: number) => cheatingEv(job.split.worker, job.lock, job.compute, 0n, 0n, p);
    return {
      fee,
      lock: job.lock,
      worker: job.split.worker,
      breakEvenNoGas: breakEven(job, false),
      ruleRateBps: job.auditRateBps,
      evAtRuleNoGas: ev(job.auditRateBps / 10_000),
      evFlat1: ev(0.01),
      evFlat5: ev(0.05),
    };
  });
}

// ------------------------------------------------------------------------------------------------
// Auditing: what honest and lazy auditors make, and whether the pool pays for the audits

export interface AuditFigures {
  /**
   * Per class: an honest auditor's cost and profit per audit; what answering without running the
   * model saves (the re-run); a lazy auditor's profit with the worker's output visible (nobody
   * else checks / a verifier checks; 1% of audited results wrong) and hidden until it commits;
   * and the forced-error rate that would make laziness lose with the output visible.
   */
  readonly classes: readonly {
    readonly model: string;
    readonly cost: bigint;
    readonly honest: bigint;
    readonly lazySaves: bigint;
    readonly lazyVisibleUnchecked: bigint;
    readonly lazyVisibleChecked: bigint;
    readonly lazyHidden: bigint;
    readonly forcedErrorRate: number;
  }[];
  readonly selfFundingFeeBps: number;
  /** Simulated: a third of the auditing weight lazy, a cheater, no verifier; output visible, then hidden. */
  readonly lazyRuns: readonly LazyRun[];
}

export interface LazyRun {
  readonly visible: boolean;
  /** The honest share of the weight that may audit the cheater's jobs (everyone but the cheater). */
  readonly honestAuditorShare: number;
  readonly audits: number;
  readonly cheats: number;
  readonly auditedCheats: number;
  readonly caughtByAudit: number;
  readonly wrongFinal: number;
  readonly wrongfulAudits: number;
  /** Mean profit per answered audit (rewards, compute, gas, bonds and slashes of audits) of honest and lazy auditors. */
  readonly honestPerAudit: bigint;
  readonly lazyPerAudit: bigint;
}

export function auditFigures(o: EconomicsOptions): AuditFigures {
  const m = o.mechanism;
  const classes = o.models.map((model) => ({
    model: model.name,
    cost: o.costs.check(model) + o.costs.gasCost(o.costs.gas.audit),
    honest: honestAuditProfit(model, m, o.costs),
    lazySaves: o.costs.check(model),
    lazyVisibleUnchecked: lazyAuditProfit(model, o.protocol, { ...m, outputVisibleToAuditor: true }, o.costs, 0.01, 0),
    lazyVisibleChecked: lazyAuditProfit(model, o.protocol, { ...m, outputVisibleToAuditor: true }, o.costs, 0.01, 1),
    lazyHidden: lazyAuditProfit(model, o.protocol, { ...m, outputVisibleToAuditor: false }, o.costs, 0.01, 1),
    forcedErrorRate: ratio(o.costs.check(model), m.auditReward + jobLock(model.fee, o.protocol)),
  }));
  // Twelve equal accounts, four of them lazy auditors, and one cheating on every job with 30% of the stake.
  const others = Array.from({ length: 12 }, (_, i): WorkerSpec => ({ ...honestWorker(`a${i + 1}`, 10_000n * VTN), auditor: i < 4 ? "lazy" : "honest" }));
  const cheater: WorkerSpec = { ...honestWorker("cheater", 51_429n * VTN), kind: "cheater", cheat: "always" };
  const population: Population = { workers: [cheater, ...others], verifiers: [] };
  const lazyRuns = [true, false].map((visible) => {
    const r = run(o, population, { ...m, weightRule: "linear", outputVisibleToAuditor: visible });
    const per = (kind: "honest" | "lazy") => {
      const ws = r.workers.filter((w) => w.spec.auditor === kind && w.spec.kind !== "cheater");
      const audits = ws.reduce((s, w) => s + w.audits, 0);
      return audits === 0 ? 0n : ws.reduce((s, w) => s + w.auditNet, 0n) / BigInt(audits);
    };
    return {
      visible,
      honestAuditorShare: 8 / 12,
      audits: r.jobs.audits,
      cheats: r.jobs.cheated,
      auditedCheats: r.jobs.auditedCheats,
      caughtByAudit: r.jobs.caughtByAudit,
      wrongFinal: r.jobs.wrongFinal,
      wrongfulAudits: r.jobs.wrongfulAudits,
      honestPerAudit: per("honest"),
      lazyPerAudit: per("lazy"),
    };
  });
  return { classes, selfFundingFeeBps: selfFundingAuditFeeBps(o.models, o.protocol, m, o.costs), lazyRuns };
}

// ------------------------------------------------------------------------------------------------
// The verifier's dilemma

export interface VerifierRow {
  readonly wrong: number;
  readonly alone: bigint;
  readonly withAudits: bigint;
}

export interface EpochRow {
  readonly epoch: number;
  readonly activeVerifiers: number;
  readonly belief: number;
  readonly cheats: number;
  readonly caughtByAudit: number;
  readonly caughtByVerifier: number;
  readonly wrongFinal: number;
  /** What cheating brought the cheater (the value of its cheated jobs, as in the sweep). */
  readonly cheaterProfit: bigint;
  readonly verifierProfit: bigint;
}

export interface VerifierFigures {
  readonly jobsPerHour: number;
  readonly breakEvenWrong: number;
  readonly rows: readonly VerifierRow[];
  readonly today: readonly EpochRow[];
  readonly defaults: readonly EpochRow[];
}

/**
 * Epochs of best responses: a rational cheater (10% of the stake) cheats when its expected value,
 * with its belief that a verifier checks, is positive, and probes 0.5% of its jobs whatever it
 * expects; its belief is the share of its cheats that verifiers caught in the last epoch. Each of
 * three verifiers stays while its last epoch paid, and an idle one joins when last epoch's
 * uncaught-by-audit cheats would have paid it. `mechanism` decides the audits.
 */
export function verifierEpochs(o: EconomicsOptions, mechanism: MechanismParams, epochs = 12, jobsPerEpoch = Math.max(500, Math.round(o.jobs / 5))): EpochRow[] {
  const honest = makePopulation(o.seed, { workers: 10 }).workers;
  const rest = honest.reduce((s, w) => s + w.stake, 0n);
  const cheaterSpec = (belief: number): WorkerSpec => ({
    ...honestWorker("cheater", rest / 9n),
    kind: "cheater",
    cheat: "rational",
    believedVerifierCoverage: belief,
    probeRate: 0.005,
  });
  const model = o.models[0]!;
  const reward = bpsOf(jobLock(model.fee, o.protocol), o.protocol.challengerRewardBps) - o.costs.gasCost(o.costs.gas.disputeUndefended);
  const epochSeconds = jobsPerEpoch / o.jobsPerSecond;
  const verifierCost = o.costs.check(model) * BigInt(jobsPerEpoch) + o.costs.nodeCost(epochSeconds);
  let active = 3;
  let belief = 1;
  const rows: EpochRow[] = [];
  for (let e = 1; e <= epochs; e++) {
    const verifiers = [0, 1, 2].map((i) => ({ name: `v${i + 1}`, coverage: 1, active: i < active }));
    const r = run(o, { workers: [cheaterSpec(belief), ...honest], verifiers }, mechanism, { seed: `${String(o.seed)}/epoch${e}`, jobs: jobsPerEpoch });
    const cheater = r.workers[0]!;
    const vProfit = r.verifiers.filter((v) => v.spec.active).reduce((s, v) => s + net(v.ledger), 0n);
    rows.push({
      epoch: e,
      activeVerifiers: active,
      belief,
      cheats: r.jobs.cheated,
      caughtByAudit: r.jobs.caughtByAudit,
      caughtByVerifier: r.jobs.caughtByVerifier,
      wrongFinal: r.jobs.wrongFinal,
      cheaterProfit: cheater.cheatValue,
      verifierProfit: vProfit,
    });
    if (r.jobs.cheated > 0) belief = r.jobs.caughtByVerifier / r.jobs.cheated;
    // Verifiers: the active stay while they earned (each its own ledger); idle ones join if last
    // epoch's cheats that audits did not catch would have paid one more verifier.
    const stay = r.verifiers.filter((v) => v.spec.active && net(v.ledger) >= 0n).length;
    const open = BigInt(r.jobs.cheated - r.jobs.caughtByAudit);
    const join = active < 3 && (open * reward) / BigInt(stay + 1) > verifierCost ? 1 : 0;
    active = Math.min(3, stay + join);
  }
  return rows;
}

export function verifierFigures(o: EconomicsOptions): VerifierFigures {
  const jobsPerHour = o.jobsPerSecond * 3600;
  const model = o.models[0]!;
  const rows = [0, 0.0001, 0.001, 0.01].map((wrong) => ({
    wrong,
    alone: verifierProfitPerHour(model, o.protocol, o.costs, { jobsPerHour, wrong, verifiers: 1, auditRate: 0 }),
    withAudits: verifierProfitPerHour(model, o.protocol, o.costs, {
      jobsPerHour,
      wrong,
      verifiers: 1,
      auditRate: auditRateOf(splitFee(model.fee, model.price, o.protocol, o.mechanism).worker, jobLock(model.fee, o.protocol), o.mechanism) / 10_000,
    }),
  }));
  return {
    jobsPerHour,
    breakEvenWrong: verifierBreakEvenWrongRate(model, o.protocol, o.costs, jobsPerHour),
    rows,
    today: verifierEpochs(o, { ...o.mechanism, auditRateBps: 0, auditSafetyBps: 0, auditFeeBps: 0 }),
    defaults: verifierEpochs(o, o.mechanism),
  };
}

// ------------------------------------------------------------------------------------------------
// Assignment and concentration

export interface RuleRun {
  readonly name: string;
  readonly shares: readonly Share[];
  readonly concentration: Concentration;
  readonly maxDeviation: number;
  readonly revertedPerJob: number;
  /** Gas of reverted claims per job, wei. */
  readonly wastedPerJob: bigint;
  readonly missedPerJob: number;
}

export interface AssignmentFigures {
  readonly stake: Concentration;
  readonly runs: readonly RuleRun[];
  /** The race's calibration: reverted claims per job of three equal workers (issue 18 measured 0.22 to 0.48). */
  readonly threeEqualRevertedPerJob: number;
}

/**
 * Honest accounts only (no cheating, availability 99%): who gets the work under each rule; then
 * the same accounts when the one with the median stake invests in the race (a pass every 100 ms, 20 ms of
 * latency, 50 ms of random delay, twice the gas price), under the race and under the draw.
 */
export function assignmentFigures(o: EconomicsOptions): AssignmentFigures {
  const population = makePopulation(o.seed, { workers: 20, verifiers: 0 });
  const median = [...population.workers].sort((a, b) => (a.stake < b.stake ? -1 : a.stake > b.stake ? 1 : 0))[Math.floor(population.workers.length / 2)]!;
  const racing: Population = { ...population, workers: population.workers.map((w) => (w === median ? { ...w, latencyMs: 20, pollMs: 100, jitterMs: 50, bidBps: 20_000n } : w)) };
  const stakeVtn = (w: WorkerSpec) => Number(w.stake / VTN);
  const rules: [string, MechanismParams, Population][] = [
    ["first-come (today)", { ...TODAY }, population],
    ["draw, weight = min(stake, cap)", { ...o.mechanism, assignment: "draw", weightRule: "capped" }, population],
    ["draw, weight = stake", { ...o.mechanism, assignment: "draw", weightRule: "linear" }, population],
    ["draw, weight = √stake", { ...o.mechanism, assignment: "draw", weightRule: "sqrt" }, population],
    [`first-come, ${median.name} (the median stake) racing`, { ...TODAY }, racing],
    [`draw, ${median.name} racing (it changes nothing)`, { ...o.mechanism, assignment: "draw", weightRule: "capped" }, racing],
  ];
  const runs = rules.map(([name, m, pop]) => {
    const r = run(o, pop, m);
    const s = shares(r.workers.map((w) => ({ name: w.spec.operator, stake: stakeVtn(w.spec), jobs: w.jobs })));
    return {
      name,
      shares: s,
      concentration: concentration(s.map((x) => x.jobs)),
      maxDeviation: maxDeviation(s),
      revertedPerJob: r.jobs.revertedClaims / r.jobs.requested,
      wastedPerJob: r.jobs.wastedGas / BigInt(r.jobs.requested),
      missedPerJob: r.jobs.missedSlots / r.jobs.requested,
    };
  });
  const equal = [1, 2, 3].map((i) => honestWorker(`e${i}`, 10_000n * VTN, { latencyMs: 300, pollMs: 1000 }));
  const calibration = run(o, { workers: equal, verifiers: [] }, TODAY, { jobs: Math.min(o.jobs, 3000) });
  return { stake: concentration(population.workers.map(stakeVtn)), runs, threeEqualRevertedPerJob: calibration.jobs.revertedClaims / calibration.jobs.requested };
}

/** An operator's weight when it splits its stake over `parts` accounts, against one account, under each rule. */
export interface SybilRow {
  readonly stake: bigint;
  readonly parts: number;
  readonly gain: Readonly<Record<WeightRule, number>>;
}

export function sybilTable(o: EconomicsOptions, stakesVtn: readonly bigint[] = [10_000n, 50_000n, 300_000n], parts: readonly number[] = [1, 2, 5, 10]): SybilRow[] {
  const cap = o.mechanism.weightCap;
  return stakesVtn.flatMap((s) =>
    parts.map((n) => {
      const stake = s * VTN;
      const gain = (rule: WeightRule) => ratio(splitWeight(stake, n, rule, cap), splitWeight(stake, 1, rule, cap));
      return { stake, parts: n, gain: { linear: gain("linear"), capped: gain("capped"), sqrt: gain("sqrt") } };
    }),
  );
}

// ------------------------------------------------------------------------------------------------
// Miss penalty, redundancy, and the whole network at the defaults

export interface MissRow {
  readonly availability: number;
  /** Per class: the profit per draw, a·profit − (1 − a)·penalty. */
  readonly perDraw: readonly bigint[];
}

export function missFigures(o: EconomicsOptions, availabilities: readonly number[] = [1, 0.99, 0.9, 0.75, 0.5, 0.25]): { rows: MissRow[]; breakEven: number[] } {
  const jobs = o.models.map((model) => jobEconomics(model, o.protocol, o.mechanism, o.costs));
  const penalty = (j: JobEconomics) => bpsOf(j.lock, o.mechanism.missPenaltyBps);
  return {
    rows: availabilities.map((a) => ({
      availability: a,
      perDraw: jobs.map((j) => {
        const ppb = BigInt(Math.round(a * 1e9));
        return (ppb * j.honestProfit - (1_000_000_000n - ppb) * penalty(j)) / 1_000_000_000n;
      }),
    })),
    breakEven: jobs.map((j) => missBreakEvenAvailability(j.honestProfit, penalty(j))),
  };
}

export interface RedundancyRow {
  readonly k: number;
  /** What the requester pays per job (k fees of the first model class). */
  readonly cost: bigint;
  readonly colludingShare: number;
  /** s^k, and the exact chance for the cartel's accounts drawn without replacement. */
  readonly approx: number;
  readonly exact: number;
  /** Share of jobs whose wrong result was final (all k workers from the cartel), simulated without audits. */
  readonly simulated: number;
}

/**
 * A cartel holds `share` of the stake in six accounts and cheats on every job (its accounts post
 * the same wrong output); every job asks for k workers; no audits and no verifier. Stakes are
 * large beside the locks, so the slashes barely move the cartel's share during the run.
 */
export function redundancyFigures(o: EconomicsOptions, ks: readonly number[] = [1, 2, 3], colluding: readonly number[] = [0.1, 0.3]): RedundancyRow[] {
  const model = o.models[0]!;
  const rows: RedundancyRow[] = [];
  const CARTEL = 6;
  for (const share of colluding) {
    const honest = Array.from({ length: 14 }, (_, i) => honestWorker(`h${i + 1}`, 1_000_000n * VTN));
    const cheatStake = (14_000_000n * VTN * BigInt(Math.round(share * 1000))) / BigInt(Math.round((1 - share) * 1000));
    const cheaters = Array.from({ length: CARTEL }, (_, i): WorkerSpec => ({ ...honestWorker(`c${i + 1}`, cheatStake / BigInt(CARTEL)), operator: "cartel", kind: "cheater", cheat: "always" }));
    for (const k of ks) {
      const r = run(o, { workers: [...cheaters, ...honest], verifiers: [] }, { ...o.mechanism, weightRule: "linear", auditRateBps: 0, auditSafetyBps: 0 }, {
        models: [{ ...model, share: 1 }],
        redundancy: [[k, 1]],
        seed: `${String(o.seed)}/k${k}/${share}`,
      });
      rows.push({
        k,
        cost: model.fee * BigInt(k),
        colludingShare: share,
        approx: redundancyRisk(k, share),
        exact: redundancyRisk(k, share, CARTEL),
        simulated: r.jobs.wrongFinal / r.jobs.served,
      });
    }
  }
  return rows;
}

export interface NetworkRow {
  readonly kind: string;
  readonly accounts: number;
  readonly stakeShare: number;
  readonly jobShare: number;
  readonly profit: bigint;
  readonly cheats: number;
  readonly caught: number;
  /** What cheating brought them, per cheated job (as in the sweep). */
  readonly perCheat: bigint;
  readonly missed: number;
}

export interface NetworkRun {
  readonly name: string;
  readonly result: SimResult;
  readonly rows: readonly NetworkRow[];
}

/**
 * The seeded population (20 accounts: 2 lazy, 1 always cheating with 30,000 VTN, 1 rational
 * cheater, 16 honest; one verifier) under today's rules and under the mechanism (the draw and
 * audits), with and without the verifier.
 */
export function networkRuns(o: EconomicsOptions): NetworkRun[] {
  const seeded = makePopulation(o.seed, { workers: 20, lazy: 2, alwaysCheaters: 1, rationalCheaters: 1, verifiers: 1 });
  // The always-cheater gets 30,000 VTN (about a tenth of the stake), so that it cheats on enough
  // jobs for its average to show its expected value rather than its luck.
  const population: Population = { ...seeded, workers: seeded.workers.map((w) => (w.kind === "cheater" && w.cheat === "always" ? { ...w, stake: 30_000n * VTN } : w)) };
  const variants: [string, MechanismParams, Population][] = [
    ["today (first-come, no audits), one verifier", TODAY, population],
    ["today, no verifier", TODAY, { ...population, verifiers: [] }],
    ["draw + audits, one verifier", o.mechanism, population],
    ["draw + audits, no verifier", o.mechanism, { ...population, verifiers: [] }],
  ];
  return variants.map(([name, m, pop]) => {
    const r = run(o, pop, m);
    const totalStake = r.workers.reduce((s, w) => s + w.spec.stake, 0n);
    const totalJobs = r.workers.reduce((s, w) => s + w.jobs, 0);
    const kinds: [string, (w: WorkerSpec) => boolean][] = [
      ["honest", (w) => w.kind === "honest"],
      ["lazy", (w) => w.kind === "lazy"],
      ["cheater, always", (w) => w.kind === "cheater" && w.cheat === "always"],
      ["cheater, rational", (w) => w.kind === "cheater" && w.cheat === "rational"],
    ];
    const rows = kinds.map(([kind, f]) => {
      const ws = r.workers.filter((w) => f(w.spec));
      return {
        kind,
        accounts: ws.length,
        stakeShare: ratio(
          ws.reduce((s, w) => s + w.spec.stake, 0n),
          totalStake,
        ),
        jobShare: ws.reduce((s, w) => s + w.jobs, 0) / Math.max(1, totalJobs),
        profit: ws.reduce((s, w) => s + net(w.ledger), 0n),
        cheats: ws.reduce((s, w) => s + w.cheats, 0),
        caught: ws.reduce((s, w) => s + w.caught, 0),
        perCheat: ((cheats: number) => (cheats === 0 ? 0n : ws.reduce((s, w) => s + w.cheatValue, 0n) / BigInt(cheats)))(ws.reduce((s, w) => s + w.cheats, 0)),
        missed: ws.reduce((s, w) => s + w.missed, 0),
      };
    });
    return { name, result: r, rows };
  });
}
