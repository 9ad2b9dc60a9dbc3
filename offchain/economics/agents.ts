/**
 * The agents: staked worker accounts (each also an auditor when drawn), the operators behind
 * them, and independent verifiers. Requesters are the job mix (costs.ts, MODEL_CLASSES): each job
 * is a draw of a model class and its fee. A population is plain data, built from a seed.
 */
import { Prng } from "./prng.js";
import type { Label } from "./prng.js";
import { VTN } from "./units.js";

/**
 * - `honest`: runs every job it claims and answers every audit it is drawn for while online.
 * - `lazy`: unreliable: often offline when drawn, and sometimes claims and never submits (the
 *   escrow's `expire` then slashes `timeoutSlashBps` of its lock to the requester).
 * - `cheater`: posts a made-up result instead of running the model, by its `cheat` policy.
 */
export type WorkerKind = "honest" | "lazy" | "cheater";

/** `always`: cheats on every job it gets; `rational`: only when its expected value is positive. */
export type CheatPolicy = "always" | "rational";

/**
 * How the account answers an audit it is drawn for: `honest` runs the model; `lazy` answers
 * without running it (it "agrees" with the worker's output when it can see it, otherwise it
 * guesses). Any auditor agrees with a worker of its own operator (collusion).
 */
export type AuditorKind = "honest" | "lazy";

export interface WorkerSpec {
  readonly name: string;
  /** Who controls the account: accounts of one operator collude, and are counted together. */
  readonly operator: string;
  readonly stake: bigint;
  readonly kind: WorkerKind;
  readonly cheat: CheatPolicy;
  /** A rational cheater's belief that an independent verifier checks its result (0..1). */
  readonly believedVerifierCoverage: number;
  /** A rational cheater's probes: it cheats on this share of its jobs whatever it expects, to learn whether anyone checks. */
  readonly probeRate: number;
  /** Probability it is online when drawn (or when a job appears, in a race). */
  readonly availability: number;
  /** Probability that it claims a job and then never submits. */
  readonly stallRate: number;
  readonly auditor: AuditorKind;
  /** First-come race: latency from seeing a job to its claim reaching the chain, ms (a random delay adds to it, see firstComeRace). */
  readonly latencyMs: number;
  /** First-come race: time between its passes over the chain, ms. */
  readonly pollMs: number;
  /** First-come race: the gas price it offers, bps of the base price. */
  readonly bidBps: bigint;
  /** First-come race: mean of its random extra delay, ms (default 2000, calibrated; see firstComeRace). */
  readonly jitterMs?: number;
  /** Indices of the model classes it serves (all if absent). */
  readonly models?: readonly number[];
}

export interface VerifierSpec {
  readonly name: string;
  /** Fraction of results it re-runs. */
  readonly coverage: number;
  readonly active: boolean;
}

export interface Population {
  readonly workers: readonly WorkerSpec[];
  readonly verifiers: readonly VerifierSpec[];
}

/** An honest worker with a given stake and race profile (the other fields at their usual values). */
export function honestWorker(name: string, stake: bigint, race: Partial<Pick<WorkerSpec, "latencyMs" | "pollMs" | "bidBps" | "jitterMs">> = {}): WorkerSpec {
  return {
    name,
    operator: name,
    stake,
    kind: "honest",
    cheat: "always",
    believedVerifierCoverage: 0,
    probeRate: 0,
    availability: 0.99,
    stallRate: 0,
    auditor: "honest",
    latencyMs: race.latencyMs ?? 200,
    pollMs: race.pollMs ?? 1000,
    bidBps: race.bidBps ?? 10_000n,
    ...(race.jitterMs === undefined ? {} : { jitterMs: race.jitterMs }),
  };
}

export interface PopulationOptions {
  /** Worker accounts (default 20). */
  readonly workers?: number;
  /** Smallest and largest stake, whole VTN (default 1,000 and 150,000: log-uniform between). */
  readonly minStakeVtn?: number;
  readonly maxStakeVtn?: number;
  /** How many of the workers are lazy, and how many cheat (always / rationally). */
  readonly lazy?: number;
  readonly alwaysCheaters?: number;
  readonly rationalCheaters?: number;
  /** Fraction of accounts (the honest ones first drawn) that audit lazily. */
  readonly lazyAuditors?: number;
  /** Independent verifiers checking every result (default 1). */
  readonly verifiers?: number;
}

/**
 * A seeded population: stakes log-uniform between the bounds, race profiles (latency 50–1000 ms,
 * a pass every 250, 500 or 1000 ms, a bid of 1–2× the base gas price) independent of the stake;
 * the first accounts are the lazy ones, then the cheaters, then the honest.
 */
export function makePopulation(seed: Label, o: PopulationOptions = {}): Population {
  const prng = new Prng(seed, "population");
  const n = o.workers ?? 20;
  const [lo, hi] = [Math.log(o.minStakeVtn ?? 1_000), Math.log(o.maxStakeVtn ?? 150_000)];
  const lazy = o.lazy ?? 0;
  const always = o.alwaysCheaters ?? 0;
  const rational = o.rationalCheaters ?? 0;
  const lazyAuditors = Math.round((o.lazyAuditors ?? 0) * n);
  if (lazy + always + rational > n) throw new RangeError("more lazy and cheating workers than workers");
  const workers: WorkerSpec[] = [];
  for (let i = 0; i < n; i++) {
    const stake = BigInt(Math.round(Math.exp(lo + prng.float() * (hi - lo)))) * VTN;
    const race = {
      latencyMs: Math.round(Math.exp(Math.log(50) + prng.float() * Math.log(1000 / 50))),
      pollMs: [250, 500, 1000][prng.below(3)]!,
      bidBps: 10_000n + BigInt(prng.below(10_001)),
    };
    const base = honestWorker(`w${String(i + 1).padStart(2, "0")}`, stake, race);
    const kind: WorkerKind = i < lazy ? "lazy" : i < lazy + always + rational ? "cheater" : "honest";
    workers.push({
      ...base,
      kind,
      cheat: i < lazy + always ? "always" : "rational",
      availability: kind === "lazy" ? 0.6 : base.availability,
      stallRate: kind === "lazy" ? 0.05 : 0,
      auditor: i >= lazy + always + rational && i < lazy + always + rational + lazyAuditors ? "lazy" : "honest",
    });
  }
  const verifiers = Array.from({ length: o.verifiers ?? 1 }, (_, i) => ({ name: `v${i + 1}`, coverage: 1, active: true }));
  return { workers, verifiers };
}
