/**
 * The agent-based model: jobs arrive one after another (Poisson arrivals), each is assigned (the
 * stake-weighted draw or today's race), run or faked, maybe audited, maybe checked by independent
 * verifiers, and settled as the contracts settle it: finalized after the challenge window, or
 * rejected by a dispute that the truth wins. Stakes are locked from claim to settlement, so a
 * worker without the free stake for a job's lock cannot claim it (drawn, it misses its slot).
 * Every token movement is an exact bigint
 * between parties (workers, verifiers, requesters, treasury, model developers, the audit pool,
 * the burn); gas and CPU are costs outside the token's ledger.
 *
 * What it does not model is listed in docs/ECONOMICS.md ("What the simulation leaves out").
 */
import type { Population, VerifierSpec, WorkerSpec } from "./agents.js";
import { cheatingEv } from "./analysis.js";
import type { CostModel, ModelClass } from "./costs.js";
import { drawSlots, drawWithFallback, firstComeRace, weightOf } from "./mechanisms.js";
import type { Racer } from "./mechanisms.js";
import type { FeeSplit, MechanismParams, ProtocolParams } from "./params.js";
import { auditRateOf, jobLock, splitFee } from "./params.js";
import { Prng } from "./prng.js";
import type { Label } from "./prng.js";
import { bpsOf, minBig } from "./units.js";

export interface SimConfig {
  readonly seed: Label;
  readonly jobs: number;
  /** Mean arrival rate of jobs (default 0.2 per second, 720 an hour). */
  readonly jobsPerSecond?: number;
  /** Block interval of the race, ms (default 1000, as the measured 1-second-block chain). */
  readonly blockMs?: number;
  /** How long a result's lock is held before it settles, seconds (the challenge window). */
  readonly challengeWindowS: number;
  readonly protocol: ProtocolParams;
  readonly mechanism: MechanismParams;
  readonly costs: CostModel;
  readonly models: readonly ModelClass[];
  readonly population: Population;
  /** Redundancy asked by requesters: [k, share of jobs] (default: every job k = 1). */
  readonly redundancy?: readonly (readonly [number, number])[];
}

/** Signed amounts of one party, by what they are for (wei; costs negative). */
export interface Ledger {
  /** The worker's part of fees of finalized jobs. */
  fees: bigint;
  /** Inference and re-runs (CPU). */
  compute: bigint;
  gas: bigint;
  /** Locks slashed by disputes. */
  slashed: bigint;
  /** Timeout slashes (`expire`), paid to requesters. */
  timeouts: bigint;
  /** Penalties for missed claim slots and unanswered audits, paid to the audit pool. */
  penalties: bigint;
  auditRewards: bigint;
  /** Challenger rewards of won disputes. */
  challengeRewards: bigint;
  /** Bonds lost in disputes, and auditors slashed for vouching for a rejected result. */
  bondsLost: bigint;
  /** Shares of losing challengers' bonds. */
  defenderRewards: bigint;
  /** A node's fixed cost (independent verifiers only). */
  fixed: bigint;
}

const emptyLedger = (): Ledger => ({
  fees: 0n,
  compute: 0n,
  gas: 0n,
  slashed: 0n,
  timeouts: 0n,
  penalties: 0n,
  auditRewards: 0n,
  challengeRewards: 0n,
  bondsLost: 0n,
  defenderRewards: 0n,
  fixed: 0n,
});

export const net = (l: Ledger): bigint => Object.values(l).reduce((a: bigint, b: bigint) => a + b, 0n);
/** A ledger's token movements alone (gas, CPU and fixed costs left out). */
export const tokenNet = (l: Ledger): bigint => net(l) - l.gas - l.compute - l.fixed;

export interface WorkerOutcome {
  readonly spec: WorkerSpec;
  readonly ledger: Ledger;
  /** Stake left at the end (slashes and penalties come out of it). */
  readonly stake: bigint;
  /** Jobs it served (claimed and submitted). */
  readonly jobs: number;
  /** Times it was drawn and missed its slot. */
  readonly missed: number;
  readonly stalls: number;
  /** Audits it answered, and those it was drawn for and did not answer. */
  readonly audits: number;
  readonly auditMisses: number;
  /** What its audits brought it: rewards, challenger rewards, minus their gas, re-runs, penalties, bonds and slashes. */
  readonly auditNet: bigint;
  /** Jobs it cheated on, those where it was caught, and their summed outcome (see `cheatValue`). */
  readonly cheats: number;
  readonly caught: number;
  /**
   * The sum over its cheated jobs of what cheating brought it: the fee's worker part when not
   * caught, minus the lock when caught, minus the claim's and submission's gas, minus the
   * finalization's gas when not caught, plus the compute it saved (docs/ECONOMICS.md, "Cheating").
   */
  readonly cheatValue: bigint;
  /** The same by model class (index of the config's models): cheated jobs, caught, and their value. */
  readonly byModel: readonly { readonly cheats: number; readonly caught: number; readonly value: bigint }[];
  /** Its reverted claims (first-come), and the gas they cost. */
  readonly lostClaims: number;
}

export interface VerifierOutcome {
  readonly spec: VerifierSpec;
  readonly ledger: Ledger;
  readonly checks: number;
  readonly catches: number;
}

export interface SimResult {
  readonly config: SimConfig;
  /** Simulated time from the first job to the last one's arrival, seconds. */
  readonly seconds: number;
  readonly workers: readonly WorkerOutcome[];
  readonly verifiers: readonly VerifierOutcome[];
  readonly jobs: {
    readonly requested: number;
    readonly served: number;
    readonly unserved: number;
    readonly cheated: number;
    /** Wrong results caught: by an audit, by an independent verifier, by disagreeing redundant workers. */
    readonly caughtByAudit: number;
    readonly caughtByVerifier: number;
    readonly caughtByRedundancy: number;
    /** Wrong results that were finalized (nobody proved them wrong). */
    readonly wrongFinal: number;
    readonly audits: number;
    /** Cheated jobs that were audited (whatever the auditor answered). */
    readonly auditedCheats: number;
    /** Honest results disputed by an auditor that answered without running the model (and lost). */
    readonly wrongfulAudits: number;
    /** Audits the pool could not pay (it was empty). */
    readonly unpaidAudits: number;
    readonly missedSlots: number;
    /** Jobs whose drawn slots were all missed, opened to every worker (then claimed by the race). */
    readonly openedToAll: number;
    readonly stalls: number;
    readonly revertedClaims: number;
    /** Gas of reverted claims, wei of VTN. */
    readonly wastedGas: bigint;
    /** Jobs per k, by k. */
    readonly byRedundancy: ReadonlyMap<number, { jobs: number; wrongFinal: number; cheated: number }>;
  };
  /** Token totals of the other parties (wei): requesters (negative: what they paid), treasury, model developers, the audit pool, the burn. */
  readonly tokens: {
    readonly requesters: bigint;
    readonly treasury: bigint;
    readonly developers: bigint;
    readonly pool: bigint;
    readonly poolIn: bigint;
    readonly poolOut: bigint;
    readonly burned: bigint;
  };
}

interface Account {
  readonly spec: WorkerSpec;
  readonly index: number;
  readonly serves: ReadonlySet<number> | undefined;
  stake: bigint;
  locked: bigint;
  ledger: Ledger;
  jobs: number;
  missed: number;
  stalls: number;
  audits: number;
  auditMisses: number;
  auditNet: bigint;
  cheats: number;
  caught: number;
  cheatValue: bigint;
  byModel: { cheats: number; caught: number; value: bigint }[];
  lostClaims: number;
}

/** A min-heap of lock releases by time. */
class Releases {
  private readonly heap: { at: number; account: Account; amount: bigint }[] = [];

  push(at: number, account: Account, amount: bigint): void {
    const h = this.heap;
    h.push({ at, account, amount });
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (h[p]!.at <= h[i]!.at) break;
      [h[p], h[i]] = [h[i]!, h[p]!];
      i = p;
    }
  }

  releaseUntil(t: number): void {
    const h = this.heap;
    while (h.length > 0 && h[0]!.at <= t) {
      const top = h[0]!;
      const last = h.pop()!;
      if (h.length > 0) {
        h[0] = last;
        let i = 0;
        for (;;) {
          const [l, r] = [2 * i + 1, 2 * i + 2];
          let m = i;
          if (l < h.length && h[l]!.at < h[m]!.at) m = l;
          if (r < h.length && h[r]!.at < h[m]!.at) m = r;
          if (m === i) break;
          [h[m], h[i]] = [h[i]!, h[m]!];
          i = m;
        }
      }
      top.account.locked -= minBig(top.amount, top.account.locked);
    }
  }
}

/** What a worker posted: the true output, or a made-up one (its operator's: colluding accounts post the same). */
type Output = { readonly true: true } | { readonly true: false; readonly by: string };
const TRUE: Output = { true: true };
const same = (a: Output, b: Output): boolean => (a.true && b.true) || (!a.true && !b.true && a.by === b.by);

export function simulate(config: SimConfig): SimResult {
  return new Simulation(config).run();
}

/** What one job fixes for everything that happens to it. */
interface Job {
  readonly jr: Prng;
  readonly modelIndex: number;
  readonly model: ModelClass;
  readonly split: FeeSplit;
  readonly lock: bigint;
  readonly compute: bigint;
  /** The claim's and submission's gas (paid whatever happens), and the finalization's. */
  readonly gasCS: bigint;
  readonly gasF: bigint;
  readonly auditRateBps: number;
}

interface Verifier {
  readonly spec: VerifierSpec;
  readonly ledger: Ledger;
  checks: number;
  catches: number;
}

/** One run's state; each method is one step of a job's life (kept as methods: no closure is built per job). */
class Simulation {
  private readonly p: ProtocolParams;
  private readonly m: MechanismParams;
  private readonly costs: CostModel;
  private readonly root: Prng;
  private readonly accounts: Account[];
  private readonly verifiers: Verifier[];
  private readonly releases = new Releases();
  private readonly shares: number[];
  private t = 0;
  private readonly stats = {
    requested: 0,
    served: 0,
    unserved: 0,
    cheated: 0,
    caughtByAudit: 0,
    caughtByVerifier: 0,
    caughtByRedundancy: 0,
    wrongFinal: 0,
    audits: 0,
    auditedCheats: 0,
    wrongfulAudits: 0,
    unpaidAudits: 0,
    missedSlots: 0,
    openedToAll: 0,
    stalls: 0,
    revertedClaims: 0,
    wastedGas: 0n,
    byRedundancy: new Map<number, { jobs: number; wrongFinal: number; cheated: number }>(),
  };
  private readonly tokens = { requesters: 0n, treasury: 0n, developers: 0n, pool: 0n, poolIn: 0n, poolOut: 0n, burned: 0n };

  constructor(private readonly config: SimConfig) {
    this.p = config.protocol;
    this.m = config.mechanism;
    this.costs = config.costs;
    this.root = new Prng(config.seed, "simulate");
    this.shares = config.models.map((c) => c.share);
    this.accounts = config.population.workers.map((spec, index) => ({
      spec,
      index,
      serves: spec.models === undefined ? undefined : new Set(spec.models),
      stake: spec.stake,
      locked: 0n,
      ledger: emptyLedger(),
      jobs: 0,
      missed: 0,
      stalls: 0,
      audits: 0,
      auditMisses: 0,
      auditNet: 0n,
      cheats: 0,
      caught: 0,
      cheatValue: 0n,
      byModel: config.models.map(() => ({ cheats: 0, caught: 0, value: 0n })),
      lostClaims: 0,
    }));
    this.verifiers = config.population.verifiers.map((spec) => ({ spec, ledger: emptyLedger(), checks: 0, catches: 0 }));
  }

  run(): SimResult {
    const rate = this.config.jobsPerSecond ?? 0.2;
    for (let j = 0; j < this.config.jobs; j++) {
      const jr = this.root.fork("job", j);
      this.t += jr.fork("arrival").exponential(1 / rate);
      this.releases.releaseUntil(this.t);
      this.job(jr);
    }
    for (const v of this.verifiers) if (v.spec.active) v.ledger.fixed -= this.costs.nodeCost(this.t);
    return {
      config: this.config,
      seconds: this.t,
      workers: this.accounts.map((a) => ({
        spec: a.spec,
        ledger: a.ledger,
        stake: a.stake,
        jobs: a.jobs,
        missed: a.missed,
        stalls: a.stalls,
        audits: a.audits,
        auditMisses: a.auditMisses,
        auditNet: a.auditNet,
        cheats: a.cheats,
        caught: a.caught,
        cheatValue: a.cheatValue,
        byModel: a.byModel,
        lostClaims: a.lostClaims,
      })),
      verifiers: this.verifiers,
      jobs: this.stats,
      tokens: this.tokens,
    };
  }

  // ---------------------------------------------------------------- small steps

  private gasCost(gas: bigint, bidBps?: bigint): bigint {
    return this.costs.gasCost(gas, bidBps);
  }

  private weight(a: Account): bigint {
    return weightOf(a.stake, this.m.weightRule, this.m.weightCap);
  }

  private toPool(amount: bigint): void {
    this.tokens.pool += amount;
    this.tokens.poolIn += amount;
  }

  /** Takes up to `amount` from an account's free stake (a penalty, or a slash of unlocked stake). */
  private takeFree(a: Account, amount: bigint): bigint {
    const taken = minBig(amount, a.stake - a.locked);
    a.stake -= taken;
    return taken;
  }

  private eligible(a: Account, job: Job): boolean {
    return (a.serves === undefined || a.serves.has(job.modelIndex)) && a.stake >= this.p.minStake && a.stake - a.locked >= job.lock;
  }

  /** Pays the worker its part and the other shares, and holds its lock until the window ends. */
  private finalize(job: Job, w: Account): void {
    w.ledger.fees += job.split.worker;
    w.ledger.gas -= job.gasF;
    this.tokens.treasury += job.split.protocol;
    this.tokens.developers += job.split.model;
    this.toPool(job.split.audit);
    this.releases.push(this.t + this.config.challengeWindowS, w, job.lock);
  }

  /** Slashes the worker's lock; returns the challenger's reward (the rest is burned). */
  private slash(job: Job, w: Account): bigint {
    w.stake -= job.lock;
    w.locked -= job.lock;
    w.ledger.slashed -= job.lock;
    w.caught++;
    const reward = bpsOf(job.lock, this.p.challengerRewardBps);
    this.tokens.burned += job.lock - reward;
    return reward;
  }

  private recordCheat(job: Job, w: Account, caught: boolean): void {
    const value = (caught ? -job.lock : job.split.worker - job.gasF) + job.compute - job.gasCS;
    const b = w.byModel[job.modelIndex]!;
    w.cheatValue += value;
    b.value += value;
    b.cheats++;
    if (caught) b.caught++;
  }

  private payAuditor(auditor: Account): void {
    const reward = this.m.auditReward;
    if (this.tokens.pool >= reward) {
      this.tokens.pool -= reward;
      this.tokens.poolOut += reward;
      auditor.ledger.auditRewards += reward;
      auditor.auditNet += reward;
    } else this.stats.unpaidAudits++;
  }

  private penalize(a: Account, amount: bigint): bigint {
    const penalty = this.takeFree(a, amount);
    a.ledger.penalties -= penalty;
    this.toPool(penalty);
    return penalty;
  }

  // ---------------------------------------------------------------- a job's life

  private job(jr: Prng): void {
    const { p, m, costs, config, stats, tokens } = this;
    const modelIndex = jr.fork("model").pickWeighted(this.shares);
    const model = config.models[modelIndex]!;
    const k = config.redundancy === undefined ? 1 : config.redundancy[jr.fork("k").pickWeighted(config.redundancy.map((r) => r[1]))]![0];
    const split = splitFee(model.fee, model.price, p, m);
    const lock = jobLock(model.fee, p);
    const job: Job = {
      jr,
      modelIndex,
      model,
      split,
      lock,
      compute: costs.compute(model),
      gasCS: this.gasCost(costs.gas.claim + (m.assignment === "draw" ? costs.gas.drawExtra : 0n) + costs.gas.submit),
      gasF: this.gasCost(costs.gas.finalize),
      auditRateBps: auditRateOf(split.worker, lock, m),
    };
    stats.requested++;
    tokens.requesters -= split.fee * BigInt(k);
    const kStats = stats.byRedundancy.get(k) ?? { jobs: 0, wrongFinal: 0, cheated: 0 };
    stats.byRedundancy.set(k, kStats);
    kStats.jobs++;

    // Assignment, slot after slot; a lazy worker may claim and never submit: `expire` slashes
    // part of its lock to the requester and the job is assigned again without it.
    const chosen: Account[] = [];
    const taken = new Set<Account>();
    let slot = 0;
    while (chosen.length < k) {
      const w = this.assign(job, slot++, taken);
      if (w === undefined) break;
      taken.add(w);
      w.locked += lock;
      if (w.spec.stallRate > 0 && jr.fork("stall", w.index).chance(w.spec.stallRate)) {
        const slash = bpsOf(lock, p.timeoutSlashBps);
        w.stake -= slash;
        w.locked -= lock;
        w.ledger.timeouts -= slash;
        tokens.requesters += slash;
        w.stalls++;
        stats.stalls++;
        continue;
      }
      chosen.push(w);
    }
    if (chosen.length === 0) {
      stats.unserved++;
      tokens.requesters += split.fee * BigInt(k);
      return;
    }
    if (chosen.length < k) tokens.requesters += split.fee * BigInt(k - chosen.length);
    stats.served++;

    const outputs = chosen.map((w) => this.work(job, w));
    if (outputs.some((o) => !o.true)) kStats.cheated++;
    if (k > 1) this.compare(job, chosen, outputs, kStats);
    else this.settle(job, chosen[0]!, outputs[0]!, kStats);
  }

  /**
   * Who claims the job: the roster's draw (contracts/assignment/WorkerRoster.sol: weights from
   * stake among the accounts serving the model with the minimum stake, one draw per slot; a drawn
   * account offline or without the free stake for the lock misses its slot and pays the penalty),
   * then, when every drawn slot was missed, or under today's rule from the start, the race among
   * the eligible accounts. `exclude`: accounts that already hold or abandoned this job.
   */
  private assign(job: Job, round: number, exclude: ReadonlySet<Account>): Account | undefined {
    const { m, costs, stats } = this;
    const sr = job.jr.fork("assign", round);
    if (m.assignment === "draw") {
      const members = this.accounts.filter((a) => (a.serves === undefined || a.serves.has(job.modelIndex)) && a.stake >= this.p.minStake);
      const draw = drawSlots(
        sr.fork("draw"),
        members.map((a) => (exclude.has(a) ? 0n : this.weight(a))),
        (i, slot) => {
          const a = members[i]!;
          return a.stake - a.locked >= job.lock && sr.fork("online", a.index, slot).chance(a.spec.availability);
        },
        m.drawnSlots,
      );
      for (const i of draw.missed) {
        const a = members[i]!;
        this.penalize(a, bpsOf(job.lock, m.missPenaltyBps));
        a.missed++;
        stats.missedSlots++;
      }
      if (draw.claimed !== undefined) {
        const w = members[draw.claimed]!;
        w.ledger.gas -= this.gasCost(costs.gas.claim + costs.gas.drawExtra);
        return w;
      }
      stats.openedToAll++;
    }
    const pool = this.accounts.filter((a) => !exclude.has(a) && this.eligible(a, job));
    const online = pool.filter((a) => sr.fork("online", a.index).chance(a.spec.availability));
    const racers: Racer[] = online.map((a) => ({
      index: a.index,
      latencyMs: a.spec.latencyMs,
      pollMs: a.spec.pollMs,
      bidBps: a.spec.bidBps,
      ...(a.spec.jitterMs === undefined ? {} : { jitterMs: a.spec.jitterMs }),
    }));
    const race = firstComeRace(sr.fork("race"), racers, this.config.blockMs ?? 1000);
    for (const i of race.reverted) {
      const a = this.accounts[i]!;
      const g = this.gasCost(costs.gas.lostClaim, a.spec.bidBps);
      a.ledger.gas -= g;
      a.lostClaims++;
      stats.revertedClaims++;
      stats.wastedGas += g;
    }
    if (race.winner === undefined) return undefined;
    const w = this.accounts[race.winner]!;
    w.ledger.gas -= this.gasCost(costs.gas.claim, w.spec.bidBps);
    return w;
  }

  /** The worker runs the job, or (a cheater, by its policy) posts a made-up result. */
  private work(job: Job, w: Account): Output {
    w.jobs++;
    w.ledger.gas -= this.gasCost(this.costs.gas.submit);
    let cheat = false;
    if (w.spec.kind === "cheater") {
      if (w.spec.cheat === "always" || (w.spec.probeRate > 0 && job.jr.fork("probe").chance(w.spec.probeRate))) cheat = true;
      else {
        // Its belief: audits by any account but its own operator's catch it; a verifier checks
        // with its believed coverage.
        let own = 0n;
        let all = 0n;
        for (const a of this.accounts) {
          if (a === w || a.stake < this.p.minStake) continue;
          const x = this.weight(a);
          all += x;
          if (a.spec.operator === w.spec.operator) own += x;
        }
        const honestAuditors = all === 0n ? 0 : 1 - Number((own * 1_000_000n) / all) / 1e6;
        const pCaught = 1 - (1 - (job.auditRateBps / 10_000) * honestAuditors) * (1 - w.spec.believedVerifierCoverage);
        cheat = cheatingEv(job.split.worker, job.lock, job.compute, job.gasCS, job.gasF, pCaught) > 0n;
      }
    }
    if (!cheat) {
      w.ledger.compute -= job.compute;
      return TRUE;
    }
    w.cheats++;
    this.stats.cheated++;
    return { true: false, by: w.spec.operator };
  }

  /**
   * Redundancy: k results compared; final at once when they agree, disputed when they do not. No
   * audit and no verifier: the k results check each other, and an agreeing set is final before
   * anyone else could look.
   */
  private compare(job: Job, chosen: readonly Account[], outputs: readonly Output[], kStats: { wrongFinal: number }): void {
    const { costs, stats, tokens } = this;
    if (outputs.every((o) => same(o, outputs[0]!))) {
      // Every result is paid; a wrong one stands (all k came from one operator).
      chosen.forEach((w, i) => {
        this.finalize(job, w);
        if (!outputs[i]!.true) this.recordCheat(job, w, false);
      });
      if (!outputs[0]!.true) {
        stats.wrongFinal++;
        kStats.wrongFinal++;
      }
      return;
    }
    // They disagree: the truth wins each dispute; each wrong worker is slashed and its fee
    // refunded, the reward goes to an honest co-worker (who played the dispute).
    const honest = chosen.find((_, i) => outputs[i]!.true);
    stats.caughtByRedundancy++;
    chosen.forEach((w, i) => {
      if (outputs[i]!.true) {
        this.finalize(job, w);
        return;
      }
      this.recordCheat(job, w, true);
      const reward = this.slash(job, w);
      if (honest === undefined) tokens.burned += reward;
      else {
        honest.ledger.challengeRewards += reward;
        honest.ledger.gas -= this.gasCost(costs.gas.disputeUndefended);
      }
      tokens.requesters += job.split.fee;
    });
  }

  /** One worker's result: maybe audited, maybe checked by verifiers, then finalized or rejected. */
  private settle(job: Job, w: Account, out: Output, kStats: { wrongFinal: number }): void {
    const { p, m, costs, stats, tokens } = this;
    const { jr, lock } = job;
    let auditor: Account | undefined;
    let answer: Output | undefined;
    const ar = jr.fork("audit");
    if (ar.float() * 10_000 < job.auditRateBps) {
      stats.audits++;
      if (!out.true) stats.auditedCheats++;
      const pool = this.accounts.filter((a) => a !== w && a.stake >= p.minStake && (a.serves === undefined || a.serves.has(job.modelIndex)));
      const draw = drawWithFallback(
        ar.fork("draw"),
        pool.map((a) => this.weight(a)),
        (i) => ar.fork("online", pool[i]!.index).chance(pool[i]!.spec.availability),
      );
      for (const i of draw.missed) {
        const a = pool[i]!;
        a.auditNet -= this.penalize(a, bpsOf(lock, m.auditMissPenaltyBps));
        a.auditMisses++;
      }
      if (draw.claimed !== undefined) {
        auditor = pool[draw.claimed]!;
        auditor.audits++;
        const g = this.gasCost(costs.gas.audit);
        auditor.ledger.gas -= g;
        auditor.auditNet -= g;
        if (auditor.spec.operator === w.spec.operator) answer = out; // collusion: it vouches for its own
        else if (auditor.spec.auditor === "honest") {
          const c = costs.check(job.model);
          auditor.ledger.compute -= c;
          auditor.auditNet -= c;
          answer = TRUE;
        } else answer = m.outputVisibleToAuditor ? out : { true: false, by: `guess:${auditor.spec.operator}` };
      }
    }
    const checkedBy: Verifier[] = [];
    for (const v of this.verifiers) {
      if (!v.spec.active || !jr.fork("verify", v.spec.name).chance(v.spec.coverage)) continue;
      v.checks++;
      v.ledger.compute -= costs.check(job.model);
      checkedBy.push(v);
    }

    if (!out.true) {
      // An auditor whose answer differs from the result disputes it, and the result is wrong, so
      // it wins (a guess that happens to differ wins too: "if both differ, the defender loses").
      const auditCaught = answer !== undefined && !same(answer, out);
      const verifierCaught = checkedBy.length > 0;
      if (!auditCaught && !verifierCaught) {
        this.recordCheat(job, w, false);
        stats.wrongFinal++;
        kStats.wrongFinal++;
        if (auditor !== undefined) this.payAuditor(auditor);
        this.finalize(job, w);
        return;
      }
      // Rejected: the requester gets its fee back, the lock is slashed, and the first to commit
      // (audit or verifier: a fair coin when both found it) gets the reward; a cheater does not
      // defend a lost cause, so each game ends by timeout.
      this.recordCheat(job, w, true);
      const reward = this.slash(job, w);
      tokens.requesters += job.split.fee;
      const order = jr.fork("first");
      const verifierFirst = verifierCaught && (!auditCaught || order.chance(0.5));
      const undefended = this.gasCost(costs.gas.disputeUndefended);
      for (const v of checkedBy) v.ledger.gas -= undefended; // each opens its own game
      if (verifierFirst) {
        const first = checkedBy[order.below(checkedBy.length)]!;
        first.ledger.challengeRewards += reward;
        first.catches++;
        stats.caughtByVerifier++;
      } else {
        auditor!.ledger.challengeRewards += reward;
        auditor!.ledger.gas -= undefended;
        auditor!.auditNet += reward - undefended;
        stats.caughtByAudit++;
      }
      if (auditor !== undefined && answer !== undefined && same(answer, out)) {
        // It vouched for a result now proven wrong: slashed the job's lock (burned), and unpaid.
        const s = this.takeFree(auditor, lock);
        auditor.ledger.bondsLost -= s;
        auditor.auditNet -= s;
        tokens.burned += s;
      } else if (auditor !== undefined) this.payAuditor(auditor);
      return;
    }

    // A correct result; an auditor that answered something else opens a dispute and loses it.
    if (auditor !== undefined && answer !== undefined && !answer.true) {
      stats.wrongfulAudits++;
      const bond = this.takeFree(auditor, p.challengeBond);
      const toWorker = bpsOf(bond, p.defenderRewardBps);
      const g = this.gasCost(costs.gas.disputeChallenger);
      auditor.ledger.bondsLost -= bond;
      auditor.ledger.gas -= g;
      auditor.auditNet -= bond + g;
      w.ledger.defenderRewards += toWorker;
      w.ledger.gas -= this.gasCost(costs.gas.disputeDefender);
      tokens.burned += bond - toWorker;
    } else if (auditor !== undefined) this.payAuditor(auditor);
    this.finalize(job, w);
  }
}
