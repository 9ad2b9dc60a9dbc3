/**
 * The experiments (offchain/economics/experiments.ts): the simulated break-even audit rate agrees
 * with the analytic one, and the agreement test fails on a broken audit (lazy auditors that
 * never compute); the assignment's concentration against today's race; the verifier's dilemma.
 */
import { expect } from "chai";

import { cheatingSweep, economicsOptions, assignmentFigures, verifierEpochs, sweepPopulation } from "../../offchain/economics/experiments.js";
import type { CheatingSweep, EconomicsOptions } from "../../offchain/economics/experiments.js";
import { MODEL_CLASSES } from "../../offchain/economics/costs.js";
import { ECONOMICS_DEFAULTS } from "../../offchain/economics/params.js";
import { near } from "./near.js";

/** Whether each class's simulated break-even is within max(3σ, 0.15 points) of the analytic one. */
const agrees = (s: CheatingSweep) => s.breakEven.every((b) => Math.abs(b.simulated - b.analytic) <= Math.max(3 * b.error, 0.0015));

describe("economics/experiments: the figures of docs/ECONOMICS.md", function () {
  this.timeout(300_000);
  const cnn: EconomicsOptions = economicsOptions({ seed: 5, jobs: 12_000, models: [{ ...MODEL_CLASSES[0]!, share: 1 }] });
  const rates = [0, 25, 50, 75, 100, 125, 150, 200];

  it("the simulated break-even audit rate matches the analytic one (MNIST CNN, 0.59%)", function () {
    const s = cheatingSweep(cnn, rates);
    const b = s.breakEven[0]!;
    near(b.analytic, 0.0059, 0.0005);
    expect(Number.isFinite(b.simulated)).to.equal(true);
    expect(agrees(s)).to.equal(true);
    // Below the break-even the simulated EV is positive, above negative.
    expect(s.points[0]!.classes[0]!.simulated > 0n).to.equal(true);
    expect(s.points.at(-1)!.classes[0]!.simulated < 0n).to.equal(true);
  });

  it("with audits that catch nothing (every auditor lazy, the output visible) the same check fails", function () {
    const broken = { ...cnn, mechanism: { ...ECONOMICS_DEFAULTS, outputVisibleToAuditor: true } };
    // sweepPopulation's honest accounts made lazy auditors: the cheater is never caught.
    const s = cheatingSweepWithLazyAuditors(broken);
    expect(agrees(s)).to.equal(false);
  });

  it("concentration: the draw follows stake; first-come concentrates on the fastest and wastes gas on reverted claims", function () {
    const a = assignmentFigures(economicsOptions({ seed: 1, jobs: 4000 }));
    const [first, capped, , sqrt, racing, racingDraw] = a.runs;
    expect(first!.concentration.top1).to.be.greaterThan(a.stake.top1);
    expect(first!.concentration.nakamoto).to.be.at.most(a.stake.nakamoto);
    expect(first!.revertedPerJob).to.be.greaterThan(1);
    expect(capped!.revertedPerJob).to.equal(0);
    near(capped!.concentration.top1, a.stake.top1, 0.03);
    expect(capped!.concentration.nakamoto).to.equal(a.stake.nakamoto);
    // √stake flattens the shares away from the stake (the big accounts lose what small ones gain).
    expect(sqrt!.maxDeviation).to.be.greaterThan(1);
    expect(a.threeEqualRevertedPerJob).to.be.within(0.22, 0.6);
    // One account with 2% of the stake that races (faster passes, twice the gas price) takes most of the work; under the draw it gains nothing.
    expect(racing!.concentration.top1).to.be.greaterThan(0.5);
    expect(racing!.concentration.nakamoto).to.equal(1);
    expect(racingDraw!.shares.map((x) => x.jobs)).to.deep.equal(capped!.shares.map((x) => x.jobs));
  });

  it("the verifier's dilemma: without audits, verifiers leave when nobody cheats and a cheater that finds them gone cheats on everything; with audits it does not", function () {
    const o = economicsOptions({ seed: 1, jobs: 10_000 });
    const today = verifierEpochs(o, { ...ECONOMICS_DEFAULTS, auditRateBps: 0, auditSafetyBps: 0, auditFeeBps: 0 });
    expect(today.some((e) => e.activeVerifiers === 0)).to.equal(true);
    expect(Math.max(...today.map((e) => e.cheats))).to.be.greaterThan(50);
    const audited = verifierEpochs(o, ECONOMICS_DEFAULTS);
    expect(audited.some((e) => e.activeVerifiers === 0)).to.equal(true);
    expect(Math.max(...audited.map((e) => e.cheats))).to.be.lessThan(5); // probes only
  });
});

/** The cheating sweep on sweepPopulation with every honest account auditing lazily. */
function cheatingSweepWithLazyAuditors(o: EconomicsOptions): CheatingSweep {
  const pop = sweepPopulation(o.seed);
  const lazy = { ...pop, workers: pop.workers.map((w) => (w.kind === "cheater" ? w : { ...w, auditor: "lazy" as const })) };
  return cheatingSweep({ ...o }, [0, 25, 50, 75, 100, 125, 150, 200], lazy);
}
