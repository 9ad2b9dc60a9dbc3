/**
 * The mechanisms (offchain/economics/mechanisms.ts): stake weights and what splitting a stake
 * does to them, the stake-weighted draw and its fallback, and today's first-come race. Each
 * property is also checked against a deliberately broken variant, to show the check catches it.
 */
import { expect } from "chai";

import { drawIndex, drawSlots, drawWithFallback, firstComeRace, splitWeight, weightOf } from "../../offchain/economics/mechanisms.js";
import type { WeightRule } from "../../offchain/economics/params.js";
import { Prng } from "../../offchain/economics/prng.js";
import { VTN } from "../../offchain/economics/units.js";
import { near } from "./near.js";

const CAP = 100_000n * VTN;

/** Shares of `n` draws over `weights`, by index. */
function drawShares(weights: readonly bigint[], n: number, seed = 1): number[] {
  const p = new Prng(seed, "shares");
  const counts = weights.map(() => 0);
  for (let i = 0; i < n; i++) counts[drawIndex(p, weights)]!++;
  return counts.map((c) => c / n);
}

/** Whether every share is within ±tolerance (relative) of its stake share. */
function followsStake(stakes: readonly bigint[], shares: readonly number[], tolerance = 0.25): boolean {
  const total = Number(stakes.reduce((a, b) => a + b, 0n) / VTN);
  return stakes.every((s, i) => Math.abs(shares[i]! / (Number(s / VTN) / total) - 1) <= tolerance);
}

/** Whether splitting `stake` over any number of accounts never gives more weight than one account with it all. */
const splittingGainsNothing = (rule: WeightRule, stake: bigint, parts: readonly number[]) =>
  parts.every((n) => splitWeight(stake, n, rule, CAP) <= splitWeight(stake, 1, rule, CAP));

describe("economics/mechanisms: weights, the draw, the race", function () {
  describe("weights and Sybil splitting", function () {
    it("weighs a stake linearly, linearly up to the cap, or by its square root", function () {
      expect(weightOf(5_000n * VTN, "linear", CAP)).to.equal(5_000n * VTN);
      expect(weightOf(500_000n * VTN, "capped", CAP)).to.equal(CAP);
      expect(weightOf(5_000n * VTN, "capped", CAP)).to.equal(5_000n * VTN);
      expect(weightOf(4n * VTN, "sqrt", CAP)).to.equal(2_000_000_000n);
      expect(weightOf(0n, "capped", CAP)).to.equal(0n);
    });

    it("under min(stake, cap): splitting below the cap gains nothing, and no split ever beats the stake itself", function () {
      const p = new Prng(2, "sybil");
      for (let i = 0; i < 200; i++) {
        const stake = (BigInt(p.below(95_000)) + 1_000n) * VTN; // below the cap
        expect(splittingGainsNothing("capped", stake, [2, 3, 7, 10, 50])).to.equal(true);
        expect(splitWeight(stake, 1 + p.below(20), "capped", CAP)).to.equal(stake);
        const big = stake * 10n; // maybe above the cap: a split only gets back to the stake
        expect(splitWeight(big, 1 + p.below(30), "capped", CAP) <= big).to.equal(true);
      }
      expect(splitWeight(300_000n * VTN, 3, "capped", CAP)).to.equal(300_000n * VTN);
      expect(splitWeight(300_000n * VTN, 1, "capped", CAP)).to.equal(CAP);
    });

    it("under √stake splitting pays (√n times the weight): the same check fails, as it must", function () {
      const stake = 50_000n * VTN;
      expect(splittingGainsNothing("sqrt", stake, [2])).to.equal(false);
      const gain = Number(splitWeight(stake, 4, "sqrt", CAP)) / Number(splitWeight(stake, 1, "sqrt", CAP));
      near(gain, 2, 1e-6);
      expect(splittingGainsNothing("linear", stake, [2, 4, 9])).to.equal(true);
    });
  });

  describe("the stake-weighted draw", function () {
    const stakes = [1_000n, 4_000n, 10_000n, 25_000n, 60_000n].map((s) => s * VTN);

    it("gives each account a share of draws within ±25% of its stake share (here within ±10%)", function () {
      const shares = drawShares(stakes, 20_000);
      expect(followsStake(stakes, shares, 0.1)).to.equal(true);
    });

    it("a broken draw (every account alike) fails the same check", function () {
      expect(followsStake(stakes, drawShares(stakes.map(() => 1n), 20_000))).to.equal(false);
    });

    it("never draws a zero weight, and passes over those that miss their slot to the next draw", function () {
      const p = new Prng(4);
      for (let i = 0; i < 500; i++) expect(drawIndex(p, [0n, 5n, 0n, 1n])).to.be.oneOf([1, 3]);
      const offline = new Set([1]);
      const r = drawWithFallback(new Prng(9), [0n, 10n, 1n], (i) => !offline.has(i));
      expect(r.claimed).to.equal(2);
      expect(r.missed).to.deep.equal([1]);
      const none = drawWithFallback(new Prng(9), [3n, 4n], () => false);
      expect(none.claimed).to.equal(undefined);
      expect([...none.missed].sort()).to.deep.equal([0, 1]);
      expect(drawWithFallback(new Prng(9), [], () => true).claimed).to.equal(undefined);
    });
  });

  describe("the roster's claim slots (contracts/assignment/WorkerRoster.sol)", function () {
    it("draws afresh for each slot (an account that missed may be drawn again), then opens the job to all", function () {
      const offline = drawSlots(new Prng(3), [5n, 0n], () => false, 3);
      expect(offline).to.deep.equal({ claimed: undefined, missed: [0, 0, 0], open: true });
      const second = drawSlots(new Prng(3), [1n, 1n], (_, slot) => slot === 1, 3);
      expect(second.claimed).to.be.oneOf([0, 1]);
      expect(second.missed).to.have.length(1);
      expect(second.open).to.equal(false);
      expect(drawSlots(new Prng(3), [0n, 0n], () => true, 3)).to.deep.equal({ claimed: undefined, missed: [], open: true });
      expect(drawSlots(new Prng(3), [1n], () => true, 0).open).to.equal(true);
    });
  });

  describe("today's first-come race", function () {
    const racer = (index: number, latencyMs: number, pollMs: number, bidBps = 10_000n, jitterMs?: number) => ({ index, latencyMs, pollMs, bidBps, ...(jitterMs === undefined ? {} : { jitterMs }) });

    it("goes mostly to the fastest racer, and the claims in its block that lose revert", function () {
      const p = new Prng(6);
      const wins = [0, 0, 0];
      let reverted = 0;
      for (let i = 0; i < 5000; i++) {
        const r = firstComeRace(p.fork(i), [racer(0, 50, 250), racer(1, 800, 1000), racer(2, 800, 1000)], 1000);
        wins[r.winner!]!++;
        reverted += r.reverted.length;
        expect(r.reverted).to.not.include(r.winner);
      }
      expect(wins[0]! / 5000).to.be.greaterThan(0.5);
      expect(reverted).to.be.greaterThan(0);
    });

    it("within one block, goes to the highest gas price", function () {
      const r = firstComeRace(new Prng(1), [racer(0, 10, 1, 10_000n, 1), racer(1, 10, 1, 20_000n, 1), racer(2, 10, 1, 10_000n, 1)], 100_000);
      expect(r.winner).to.equal(1);
      expect([...r.reverted].sort()).to.deep.equal([0, 2]);
      expect(firstComeRace(new Prng(1), [], 1000)).to.deep.equal({ winner: undefined, reverted: [] });
    });
  });
});
