/**
 * The agent-based model (offchain/economics/model.ts): deterministic, every token accounted for,
 * and the mechanisms behave as designed inside it: the draw follows stake (the race does not),
 * splitting a stake gains nothing under capped linear weights and gains under √stake, cheating
 * loses at the default audits with no verifier, honest audits pay, lazy auditors catch nothing,
 * missed slots and stalls cost what they should.
 */
import { expect } from "chai";

import type { Population, WorkerSpec } from "../../offchain/economics/agents.js";
import { honestWorker, makePopulation } from "../../offchain/economics/agents.js";
import { CostModel, MODEL_CLASSES } from "../../offchain/economics/costs.js";
import { shares } from "../../offchain/economics/metrics.js";
import type { SimConfig, SimResult } from "../../offchain/economics/model.js";
import { net, simulate, tokenNet } from "../../offchain/economics/model.js";
import type { MechanismParams } from "../../offchain/economics/params.js";
import { ECONOMICS_DEFAULTS, TODAY, protocolParams } from "../../offchain/economics/params.js";
import { VTN } from "../../offchain/economics/units.js";
import { near } from "./near.js";

const base = (population: Population, mechanism: MechanismParams, over: Partial<SimConfig> = {}): SimConfig => ({
  seed: 1,
  jobs: 3000,
  challengeWindowS: 3600,
  protocol: protocolParams(),
  mechanism,
  costs: new CostModel(),
  models: MODEL_CLASSES,
  population,
  ...over,
});

/** Every token that moved, added up over every party: zero when nothing is created or lost. */
function tokenBalance(r: SimResult): bigint {
  const t = r.tokens;
  return (
    r.workers.reduce((s, w) => s + tokenNet(w.ledger), 0n) +
    r.verifiers.reduce((s, v) => s + tokenNet(v.ledger), 0n) +
    t.requesters +
    t.treasury +
    t.developers +
    t.pool +
    t.burned
  );
}

const cheaterSpec = (stake: bigint, o: Partial<WorkerSpec> = {}): WorkerSpec => ({ ...honestWorker("cheater", stake), kind: "cheater", cheat: "always", ...o });

describe("economics/model: the simulation", function () {
  this.timeout(120_000);

  it("is a function of its seed: the same config gives the same run, another seed another", function () {
    const pop = makePopulation(3, { workers: 12, lazy: 1, alwaysCheaters: 1, rationalCheaters: 1 });
    const a = simulate(base(pop, ECONOMICS_DEFAULTS, { jobs: 1500 }));
    const b = simulate(base(pop, ECONOMICS_DEFAULTS, { jobs: 1500 }));
    const c = simulate(base(pop, ECONOMICS_DEFAULTS, { jobs: 1500, seed: 2 }));
    const key = (r: SimResult) => JSON.stringify({ w: r.workers.map((w) => [w.jobs, net(w.ledger).toString(), w.cheats]), j: { ...r.jobs, byRedundancy: [...r.jobs.byRedundancy], wastedGas: r.jobs.wastedGas.toString() } });
    expect(key(a)).to.equal(key(b));
    expect(key(a)).to.not.equal(key(c));
  });

  it("accounts for every token: what requesters paid is what everyone else got, plus the burn", function () {
    const pop = makePopulation(4, { workers: 14, lazy: 2, alwaysCheaters: 1, rationalCheaters: 1, lazyAuditors: 0.3 });
    const configs: SimConfig[] = [
      base(pop, TODAY),
      base(pop, ECONOMICS_DEFAULTS),
      base({ ...pop, verifiers: [] }, { ...ECONOMICS_DEFAULTS, outputVisibleToAuditor: false }),
      base(pop, ECONOMICS_DEFAULTS, { redundancy: [[1, 1], [2, 1], [3, 1]] }),
    ];
    for (const cfg of configs) {
      const r = simulate(cfg);
      expect(tokenBalance(r)).to.equal(0n);
      expect(r.tokens.pool).to.equal(r.tokens.poolIn - r.tokens.poolOut);
      for (const w of r.workers) expect(w.stake >= 0n, w.spec.name).to.equal(true);
    }
  });

  describe("assignment", function () {
    const five = [2_000n, 5_000n, 8_000n, 15_000n, 20_000n].map((s, i) => honestWorker(`w${i + 1}`, s * VTN, { latencyMs: i === 0 ? 50 : 700, pollMs: i === 0 ? 250 : 1000 }));
    const pop: Population = { workers: five, verifiers: [] };
    const jobShares = (r: SimResult) => shares(r.workers.map((w) => ({ name: w.spec.operator, stake: Number(w.spec.stake / VTN), jobs: w.jobs })));

    it("the draw: each of 5 workers' share of jobs is within ±25% of its stake share, with no reverted claim", function () {
      const r = simulate(base(pop, ECONOMICS_DEFAULTS, { jobs: 5000 }));
      for (const s of jobShares(r)) expect(Math.abs(s.deviation), s.name).to.be.lessThan(0.25);
      expect(r.jobs.revertedClaims).to.equal(0);
    });

    it("first-come: the fastest (4% of the stake) takes the most work and losing claims revert", function () {
      const r = simulate(base(pop, TODAY, { jobs: 3000 }));
      const s = jobShares(r);
      expect(s[0]!.jobShare).to.be.greaterThan(3 * s[0]!.stakeShare);
      expect(s[0]!.jobShare).to.equal(Math.max(...s.map((x) => x.jobShare)));
      expect(s.some((x) => Math.abs(x.deviation) > 0.25)).to.equal(true);
      expect(r.jobs.revertedClaims).to.be.greaterThan(0);
      expect(r.jobs.wastedGas > 0n).to.equal(true);
    });

    it("Sybil: an operator splitting 20% of the stake over 4 accounts gets its share under min(stake, cap), and more under √stake", function () {
      const others = Array.from({ length: 8 }, (_, i) => honestWorker(`h${i}`, 10_000n * VTN));
      const whole: Population = { workers: [{ ...honestWorker("op", 20_000n * VTN) }, ...others], verifiers: [] };
      const split: Population = { workers: [0, 1, 2, 3].map((i) => ({ ...honestWorker(`op${i}`, 5_000n * VTN), operator: "op" })).concat(others), verifiers: [] };
      const opShare = (r: SimResult) => shares(r.workers.map((w) => ({ name: w.spec.operator, stake: Number(w.spec.stake / VTN), jobs: w.jobs }))).find((s) => s.name === "op")!.jobShare;
      const capped = { ...ECONOMICS_DEFAULTS, weightRule: "capped" as const };
      const sqrt = { ...ECONOMICS_DEFAULTS, weightRule: "sqrt" as const };
      // 10,000 jobs: one standard deviation of a 20% share is 0.4 points, of the ratio about 3%.
      const [cw, cs] = [opShare(simulate(base(whole, capped, { jobs: 10_000 }))), opShare(simulate(base(split, capped, { jobs: 10_000 })))];
      near(cs / cw, 1, 0.12);
      near(cw, 0.2, 0.02);
      near(cs, 0.2, 0.02);
      const [sw, ss] = [opShare(simulate(base(whole, sqrt, { jobs: 10_000 }))), opShare(simulate(base(split, sqrt, { jobs: 10_000 })))];
      expect(ss / sw).to.be.greaterThan(1.4);
    });

    it("a drawn worker that is offline misses its slot, pays the penalty to the pool, and the job goes to the next draw", function () {
      const flaky: WorkerSpec = { ...honestWorker("flaky", 50_000n * VTN), availability: 0.5 };
      const r = simulate(base({ workers: [flaky, ...five], verifiers: [] }, ECONOMICS_DEFAULTS, { jobs: 2000 }));
      const f = r.workers[0]!;
      expect(f.missed).to.be.greaterThan(100);
      expect(r.jobs.unserved).to.equal(0);
      expect(f.ledger.penalties < 0n).to.equal(true);
      // 1% of the 10 VTN lock for each missed slot and each audit it was drawn for and missed.
      expect(f.ledger.penalties).to.equal((-BigInt(f.missed + f.auditMisses) * VTN) / 10n);
    });

    it("after three drawn slots missed, the job is open to all and the race decides (as WorkerRoster does)", function () {
      const absent: WorkerSpec = { ...honestWorker("absent", 1_000_000n * VTN), availability: 0 };
      const small = honestWorker("small", 5_000n * VTN); // free stake for 500 locks: all 300 jobs
      const r = simulate(base({ workers: [absent, small], verifiers: [] }, ECONOMICS_DEFAULTS, { jobs: 300 }));
      // "absent" weighs min(1,000,000, cap) = 100,000 against 5,000: drawn in 95% of the slots.
      expect(r.jobs.openedToAll).to.be.within(240, 290);
      expect(r.workers[0]!.missed).to.be.greaterThan(3 * r.jobs.openedToAll); // drawn again slot after slot
      expect(r.workers[1]!.jobs).to.equal(r.jobs.served);
      expect(r.jobs.served).to.be.greaterThan(290); // "small" is online 99% of the time
    });

    it("a worker that claims and never submits is slashed half its lock to the requester, and the job is served by another", function () {
      const staller: WorkerSpec = { ...honestWorker("staller", 50_000n * VTN), stallRate: 1 };
      const r = simulate(base({ workers: [staller, ...five], verifiers: [] }, ECONOMICS_DEFAULTS, { jobs: 1000 }));
      expect(r.workers[0]!.stalls).to.be.greaterThan(100);
      expect(r.workers[0]!.ledger.timeouts).to.equal(-BigInt(r.workers[0]!.stalls) * 5n * VTN);
      expect(r.jobs.served).to.equal(1000);
    });
  });

  describe("cheating and audits", function () {
    const others = Array.from({ length: 9 }, (_, i) => honestWorker(`h${i}`, 10_000n * VTN));

    it("target: at the defaults, with no verifier, an always-cheater loses on every kind of job, and a rational one never cheats", function () {
      const pop: Population = { workers: [cheaterSpec(60_000n * VTN), { ...cheaterSpec(30_000n * VTN, { cheat: "rational" }), name: "rational", operator: "rational" }, ...others], verifiers: [] };
      const r = simulate(base(pop, ECONOMICS_DEFAULTS, { jobs: 8000 }));
      const [always, rational] = r.workers;
      for (const b of always!.byModel) {
        expect(b.cheats).to.be.greaterThan(100);
        expect(b.value < 0n).to.equal(true);
      }
      expect(rational!.cheats).to.equal(0);
      expect(r.jobs.caughtByVerifier).to.equal(0);
      // The same check on a flat 1% audit rate finds cheating profitable on the dearest jobs.
      const flat = simulate(base(pop, { ...ECONOMICS_DEFAULTS, auditSafetyBps: 0 }, { jobs: 8000 }));
      expect(flat.workers[0]!.byModel.some((b) => b.value > 0n)).to.equal(true);
      expect(flat.workers[1]!.cheats).to.be.greaterThan(0);
    });

    it("target: honest auditors earn at least their compute and gas from audits, at the defaults, with nobody cheating", function () {
      const r = simulate(base({ workers: others, verifiers: [] }, ECONOMICS_DEFAULTS, { jobs: 6000 }));
      const audited = r.workers.filter((w) => w.audits > 0);
      expect(audited.length).to.be.greaterThan(5);
      for (const w of audited) expect(w.auditNet >= 0n, w.spec.name).to.equal(true);
      expect(r.jobs.unpaidAudits).to.be.lessThan(5); // only while the pool fills, at the start
      // A reward below the audit's gas makes the same auditors lose.
      const cheap = simulate(base({ workers: others, verifiers: [] }, { ...ECONOMICS_DEFAULTS, auditReward: VTN / 20n }, { jobs: 3000 }));
      expect(cheap.workers.filter((w) => w.audits > 0).every((w) => w.auditNet < 0n)).to.equal(true);
    });

    it("a lazy auditor that sees the output catches nothing; hiding the output makes its guesses lose disputes", function () {
      const lazy = others.map((w, i): WorkerSpec => ({ ...w, auditor: i < 3 ? "lazy" : "honest" }));
      const pop: Population = { workers: [cheaterSpec(40_000n * VTN), ...lazy], verifiers: [] };
      const visible = simulate(base(pop, ECONOMICS_DEFAULTS, { jobs: 6000 }));
      const caughtShare = visible.jobs.caughtByAudit / visible.jobs.auditedCheats;
      near(caughtShare, 6 / 9, 0.1); // only the honest two thirds of the auditing weight
      const hidden = simulate(base(pop, { ...ECONOMICS_DEFAULTS, outputVisibleToAuditor: false }, { jobs: 6000 }));
      expect(hidden.jobs.caughtByAudit).to.equal(hidden.jobs.auditedCheats);
      expect(hidden.jobs.wrongfulAudits).to.be.greaterThan(0);
      const lazyNet = hidden.workers.filter((w) => w.spec.auditor === "lazy").reduce((s, w) => s + w.auditNet, 0n);
      expect(lazyNet < -100n * VTN).to.equal(true);
    });

    it("an independent verifier with nothing to catch pays its costs and earns nothing", function () {
      const r = simulate(base({ workers: others, verifiers: [{ name: "v", coverage: 1, active: true }] }, TODAY, { jobs: 1000 }));
      const v = r.verifiers[0]!;
      expect(v.checks).to.equal(1000);
      expect(v.catches).to.equal(0);
      expect(net(v.ledger) < 0n).to.equal(true);
      expect(v.ledger.challengeRewards).to.equal(0n);
    });

    it("redundancy: workers that disagree are disputed and the wrong ones slashed; a cartel's agreeing results stand", function () {
      const cartel = [0, 1].map((i): WorkerSpec => ({ ...cheaterSpec(10_000n * VTN), name: `c${i}`, operator: "cartel" }));
      const r = simulate(base({ workers: [...cartel, ...others], verifiers: [] }, { ...ECONOMICS_DEFAULTS, auditRateBps: 0, auditSafetyBps: 0 }, { jobs: 3000, redundancy: [[2, 1]] }));
      expect(r.jobs.caughtByRedundancy).to.be.greaterThan(0);
      expect(r.jobs.wrongFinal).to.be.greaterThan(0); // both drawn from the cartel
      expect(r.jobs.wrongFinal).to.be.lessThan(r.jobs.caughtByRedundancy);
      expect(r.jobs.byRedundancy.get(2)!.jobs).to.equal(3000);
    });
  });
});
