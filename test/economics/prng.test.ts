/**
 * The simulation's randomness (offchain/economics/prng.ts): a seed fixes every draw, forks are
 * independent of how far their parent was drawn, the draws are unbiased, and nothing in
 * offchain/economics/ reaches for Math.random.
 */
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";

import { expect } from "chai";

import { Prng } from "../../offchain/economics/prng.js";
import { near } from "./near.js";

const draws = (p: Prng, n: number) => Array.from({ length: n }, () => p.u32());

describe("economics/prng: a seeded generator", function () {
  it("gives the same sequence for the same seed and labels, and another for another seed", function () {
    expect(draws(new Prng(7, "a"), 50)).to.deep.equal(draws(new Prng(7, "a"), 50));
    expect(draws(new Prng(7, "a"), 50)).to.not.deep.equal(draws(new Prng(8, "a"), 50));
    expect(draws(new Prng(7, "a"), 50)).to.not.deep.equal(draws(new Prng(7, "b"), 50));
    // Fixed output: a change of the algorithm changes every figure, and must be deliberate.
    expect(draws(new Prng(1), 3)).to.deep.equal(draws(new Prng("1"), 3));
    expect(new Prng(1).u32()).to.be.a("number").within(0, 2 ** 32 - 1);
  });

  it("forks by name, whatever the parent has drawn, as if seeded with the labels appended", function () {
    const a = new Prng(3, "run");
    const b = new Prng(3, "run");
    draws(b, 17);
    expect(draws(a.fork("job", 5), 20)).to.deep.equal(draws(b.fork("job", 5), 20));
    expect(draws(a.fork("job", 5), 20)).to.deep.equal(draws(new Prng(3, "run", "job", 5), 20));
    expect(draws(a.fork("job", 5), 20)).to.not.deep.equal(draws(a.fork("job", 6), 20));
    expect(draws(a.fork("job", 5).fork("audit"), 5)).to.deep.equal(draws(a.fork("job", 5, "audit"), 5));
  });

  it("draws unsigned 32-bit words, floats in [0, 1), integers and bigints below a bound without bias", function () {
    const p = new Prng(11);
    const n = 40_000;
    const counts = new Array<number>(10).fill(0);
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const x = p.u32();
      expect(x >= 0 && x < 2 ** 32 && Number.isInteger(x)).to.equal(true);
      const f = p.float();
      expect(f >= 0 && f < 1).to.equal(true);
      sum += f;
      counts[p.below(10)]!++;
    }
    near(sum / n, 0.5, 0.01);
    for (const c of counts) near(c, n / 10, (n / 10) * 0.06);
    // A bound above 2^64 (stakes in wei): every draw below it, the top half hit about half the time.
    const bound = 3n * 10n ** 23n;
    let high = 0;
    for (let i = 0; i < 4000; i++) {
      const x = p.bigBelow(bound);
      expect(x >= 0n && x < bound).to.equal(true);
      if (x >= bound / 2n) high++;
    }
    near(high, 2000, 150);
    expect(() => p.bigBelow(0n)).to.throw(RangeError);
    expect(() => p.below(0)).to.throw(RangeError);
  });

  it("picks by float weights and gives exponential delays with the asked mean", function () {
    const p = new Prng(5);
    const counts = [0, 0, 0];
    for (let i = 0; i < 30_000; i++) counts[p.pickWeighted([0.6, 0.3, 0.1])]!++;
    near(counts[0]! / 30_000, 0.6, 0.015);
    near(counts[2]! / 30_000, 0.1, 0.01);
    let s = 0;
    for (let i = 0; i < 30_000; i++) s += p.exponential(2000);
    near(s / 30_000, 2000, 60);
    expect(() => p.pickWeighted([0, 0])).to.throw(RangeError);
  });

  it("is the only randomness of offchain/economics/ (no call of Math.random anywhere in it)", function () {
    const dir = path.resolve("offchain/economics");
    const files = readdirSync(dir).filter((f) => f.endsWith(".ts"));
    expect(files.length).to.be.greaterThan(8);
    for (const f of files) expect(readFileSync(path.join(dir, f), "utf8"), f).to.not.match(/Math\.random\s*\(/);
  });
});
