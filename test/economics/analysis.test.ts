/**
 * The closed forms (offchain/economics/analysis.ts) and the targets of issue 18 stated on them:
 * cheating loses at the chosen audit rule for every job of the mix, even with no independent
 * verifier; an honest audit pays at least what it costs. A too-low audit rate and a too-low
 * reward are shown to fail the same checks.
 */
import { expect } from "chai";

import {
  breakEven,
  catchProbability,
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
} from "../../offchain/economics/analysis.js";
import { CostModel, MODEL_CLASSES, PRICES } from "../../offchain/economics/costs.js";
import type { MechanismParams } from "../../offchain/economics/params.js";
import { ECONOMICS_DEFAULTS, protocolParams } from "../../offchain/economics/params.js";
import { VTN, ratio, vtn } from "../../offchain/economics/units.js";
import { near } from "./near.js";

const p = protocolParams();
const costs = new CostModel();
const noGas = new CostModel({ ...PRICES, gasPriceWei: 0n });

/** Whether cheating loses money on every job of the mix at its audit rate under `m` (no verifier, gas counted or not). */
const cheatingLosesEverywhere = (m: MechanismParams, c = costs) =>
  MODEL_CLASSES.every((model) => {
    const j = jobEconomics(model, p, m, c);
    return jobCheatingEv(j, j.auditRateBps / 10_000) < 0n;
  });

/** Whether an honest audit pays its re-run and its gas for every model of the mix. */
const auditingPays = (m: MechanismParams) => MODEL_CLASSES.every((model) => honestAuditProfit(model, m, costs) >= 0n);

describe("economics/analysis: closed forms and the targets of issue 18", function () {
  it("prices gas and CPU from the stated assumptions (0.02 gwei, ETH $3,000, VTN $0.10, $0.05 a core-hour)", function () {
    expect(costs.gasCost(1_000_000n)).to.equal(vtn("0.6"));
    expect(costs.gasCost(1_000_000n, 20_000n)).to.equal(vtn("1.2"));
    expect(costs.cpuCost(3_600_000_000n)).to.equal(vtn("0.5")); // one core-hour
    expect(costs.nodeCost(3600)).to.equal(vtn("0.5"));
    expect(noGas.gasCost(10n ** 9n)).to.equal(0n);
  });

  it("puts cheating's expected value at zero at the break-even rate, positive below, negative above", function () {
    for (const model of MODEL_CLASSES) {
      const j = jobEconomics(model, p, ECONOMICS_DEFAULTS, costs);
      const b = breakEven(j);
      near(Number(jobCheatingEv(j, b)), 0, 1e-8 * Number(VTN) * 20);
      expect(jobCheatingEv(j, b - 0.002) > 0n).to.equal(true);
      expect(jobCheatingEv(j, b + 0.002) < 0n).to.equal(true);
      // Without gas it is the formula: w + c − p·(w + L), zero at (w + c) / (w + L).
      near(breakEven(j, false), ratio(j.split.worker + j.compute, j.split.worker + j.lock), 1e-12);
      expect(cheatingEv(j.split.worker, j.lock, j.compute, 0n, 0n, 0.5)).to.equal(
        (j.split.worker + j.compute) - (j.split.worker + j.lock) / 2n,
      );
    }
  });

  it("target: at the chosen defaults cheating has negative expected value on every job, with no verifier, at any gas price", function () {
    expect(cheatingLosesEverywhere(ECONOMICS_DEFAULTS)).to.equal(true);
    expect(cheatingLosesEverywhere(ECONOMICS_DEFAULTS, noGas)).to.equal(true);
    // The rule's margin of 2 also covers half the auditing weight not computing (lazy or colluding).
    for (const model of MODEL_CLASSES) {
      const j = jobEconomics(model, p, ECONOMICS_DEFAULTS, noGas);
      expect(jobCheatingEv(j, catchProbability(j.auditRateBps / 10_000, 0.45)) < 0n).to.equal(true);
    }
  });

  it("a flat 1% audit rate (the rule off) fails the same check: cheating pays on the dearer jobs", function () {
    expect(cheatingLosesEverywhere({ ...ECONOMICS_DEFAULTS, auditSafetyBps: 0 })).to.equal(false);
    expect(cheatingLosesEverywhere({ ...ECONOMICS_DEFAULTS, auditSafetyBps: 0, auditRateBps: 0 })).to.equal(false);
  });

  it("target: at the defaults an honest audit pays at least its compute (and its gas); a reward below its gas fails the check", function () {
    expect(auditingPays(ECONOMICS_DEFAULTS)).to.equal(true);
    for (const model of MODEL_CLASSES) {
      expect(ECONOMICS_DEFAULTS.auditReward - costs.check(model) > 0n).to.equal(true);
    }
    expect(auditingPays({ ...ECONOMICS_DEFAULTS, auditReward: vtn("0.05") })).to.equal(false);
  });

  it("the pool pays for the audits from the chosen fee share", function () {
    const need = selfFundingAuditFeeBps(MODEL_CLASSES, p, ECONOMICS_DEFAULTS, costs);
    expect(need).to.be.greaterThan(0);
    expect(need).to.be.lessThan(ECONOMICS_DEFAULTS.auditFeeBps);
  });

  it("lazy auditors: free when the output is visible and nobody else checks, ruinous when it is hidden", function () {
    const model = MODEL_CLASSES[0]!;
    const visible = { ...ECONOMICS_DEFAULTS, outputVisibleToAuditor: true };
    // Visible and unchecked: the lazy one makes the honest profit plus the re-run it skipped.
    expect(lazyAuditProfit(model, p, visible, costs, 0.01, 0)).to.equal(honestAuditProfit(model, visible, costs) + costs.check(model));
    expect(lazyAuditProfit(model, p, visible, costs, 0.01, 1) < honestAuditProfit(model, visible, costs)).to.equal(true);
    expect(lazyAuditProfit(model, p, { ...visible, outputVisibleToAuditor: false }, costs, 0.01, 1) < -50n * VTN).to.equal(true);
  });

  it("the verifier's dilemma: with nothing wrong a verifier only pays; it breaks even at a small share of wrong results", function () {
    const model = MODEL_CLASSES[0]!;
    const at = (wrong: number) => verifierProfitPerHour(model, p, costs, { jobsPerHour: 720, wrong, verifiers: 1, auditRate: 0 });
    expect(at(0)).to.equal(-costs.nodeCost(3600) - costs.check(model) * 720n);
    expect(at(0.01) > 0n).to.equal(true);
    const b = verifierBreakEvenWrongRate(model, p, costs, 720);
    expect(at(b * 0.9) < 0n).to.equal(true);
    expect(at(b * 1.1) > 0n).to.equal(true);
  });

  it("a drawn worker loses money on its draws below the break-even availability", function () {
    expect(missBreakEvenAvailability(vtn("0.1"), vtn("0.1"))).to.equal(0.5);
    expect(missBreakEvenAvailability(vtn("0.3"), vtn("0.1"))).to.equal(0.25);
  });

  it("redundancy: all k workers from one cartel with s of the stake, s^k with many accounts, less when drawn without replacement", function () {
    near(redundancyRisk(2, 0.3), 0.09, 1e-12);
    near(redundancyRisk(1, 0.3, 6), 0.3, 1e-12);
    near(redundancyRisk(2, 0.3, 6), 0.3 * (0.25 / 0.95), 1e-12);
    expect(redundancyRisk(3, 0.1, 2)).to.equal(0);
  });
});
