/**
 * The model's parameters (offchain/economics/params.ts) and units: the protocol's come from the
 * deployment defaults, a fee splits to the wei as the escrow splits it, the lock is the
 * escrow's, and the audit rule is integer arithmetic a contract can do.
 */
import { expect } from "chai";

import { PRODUCTION } from "../../ignition/defaults.js";
import { ECONOMICS_DEFAULTS, TODAY, auditRateOf, jobLock, protocolParams, splitFee } from "../../offchain/economics/params.js";
import { VTN, bpsOf, formatVtn, isqrt, parseDecimal, ratio, vtn } from "../../offchain/economics/units.js";
import { near } from "./near.js";

describe("economics/params: the parameters and the money of one job", function () {
  const p = protocolParams();

  it("reads the protocol's parameters from ignition/defaults.ts (PRODUCTION)", function () {
    expect(p).to.deep.equal({
      protocolFeeBps: PRODUCTION.jobs.protocolFeeBps,
      stakeRatioBps: PRODUCTION.jobs.stakeRatioBps,
      minJobLock: PRODUCTION.jobs.minJobLock,
      timeoutSlashBps: PRODUCTION.jobs.timeoutSlashBps,
      challengeBond: PRODUCTION.disputes.challengeBond,
      challengerRewardBps: PRODUCTION.disputes.challengerRewardBps,
      defenderRewardBps: PRODUCTION.disputes.defenderRewardBps,
      minStake: PRODUCTION.staking.minStake,
    });
    expect(p.stakeRatioBps).to.equal(20_000);
    expect(p.minJobLock).to.equal(10n * VTN);
  });

  it("splits a fee to the wei as the escrow does: both shares cut together, the pool's rounded down, the model's price, the rest to the worker", function () {
    const s = splitFee(vtn("0.3"), vtn("0.1"), p, ECONOMICS_DEFAULTS);
    expect(s.protocol).to.equal(vtn("0.003"));
    expect(s.audit).to.equal(vtn("0.015"));
    expect(s.worker).to.equal(vtn("0.182"));
    expect(s.protocol + s.audit + s.model + s.worker).to.equal(s.fee);
    const odd = splitFee(1_234_567n, 1_000n, p, ECONOMICS_DEFAULTS);
    // 6% of 1,234,567 is 74,074.02: 61,728 (5%, rounded down) to the pool, 12,346 to the treasury.
    expect(odd.protocol).to.equal(12_346n);
    expect(odd.audit).to.equal(61_728n);
    expect(odd.protocol + odd.audit + odd.model + odd.worker).to.equal(odd.fee);
    expect(splitFee(vtn("0.3"), vtn("0.1"), p, TODAY).audit).to.equal(0n);
    expect(() => splitFee(vtn("0.1"), vtn("0.1"), p, ECONOMICS_DEFAULTS)).to.throw(RangeError);
  });

  it("locks max(minJobLock, fee × stakeRatio) as the escrow does", function () {
    expect(jobLock(vtn("0.3"), p)).to.equal(10n * VTN);
    expect(jobLock(5n * VTN, p)).to.equal(10n * VTN);
    expect(jobLock(vtn("5.5"), p)).to.equal(11n * VTN);
  });

  it("audits a job at the floor, or at auditSafety × w / (w + lock) rounded up, at most always", function () {
    const w = vtn("0.191");
    const lock = 10n * VTN;
    // 20000 × 0.191 / 10.191 = 374.84… → 375 bps.
    expect(auditRateOf(w, lock, ECONOMICS_DEFAULTS)).to.equal(375);
    expect(auditRateOf(0n, lock, ECONOMICS_DEFAULTS)).to.equal(ECONOMICS_DEFAULTS.auditRateBps);
    expect(auditRateOf(w, lock, { ...ECONOMICS_DEFAULTS, auditSafetyBps: 0 })).to.equal(100);
    expect(auditRateOf(w, lock, { ...ECONOMICS_DEFAULTS, auditRateBps: 500 })).to.equal(500);
    expect(auditRateOf(1000n * VTN, 1n, { ...ECONOMICS_DEFAULTS, auditSafetyBps: 1_000_000 })).to.equal(10_000);
  });

  it("keeps amounts exact: decimals parsed to the wei, bps rounded down, VTN printed, ratios and square roots", function () {
    expect(parseDecimal("0.02", 9)).to.equal(20_000_000n);
    expect(parseDecimal("3000", 6)).to.equal(3_000_000_000n);
    expect(parseDecimal(".5", 2)).to.equal(50n);
    expect(() => parseDecimal("1e-3", 6)).to.throw(RangeError);
    expect(() => parseDecimal("0.1234567", 6)).to.throw(RangeError);
    expect(() => parseDecimal("-1", 6)).to.throw(RangeError);
    expect(bpsOf(999n, 100)).to.equal(9n);
    expect(formatVtn(vtn("0.19126"), 4)).to.equal("0.1913");
    expect(formatVtn(-vtn("1.5"), 0)).to.equal("-2");
    expect(formatVtn(-1n, 4)).to.equal("0.0000");
    near(ratio(1n, 3n), 1 / 3, 1e-12);
    expect(ratio(-10n * VTN, 4n * VTN)).to.equal(-2.5);
    expect(isqrt(10n ** 21n)).to.equal(31_622_776_601n);
    expect(isqrt(99n)).to.equal(9n);
  });
});
