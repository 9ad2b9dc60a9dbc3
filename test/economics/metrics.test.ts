/** Concentration measures (offchain/economics/metrics.ts) on cases worked by hand. */
import { expect } from "chai";

import { concentration, hhi, maxDeviation, nakamoto, shares, topShare } from "../../offchain/economics/metrics.js";
import { near } from "./near.js";

describe("economics/metrics: top-1 share, Nakamoto coefficient, HHI, shares against stake", function () {
  it("computes them on worked cases", function () {
    expect(nakamoto([60, 20, 20])).to.equal(1);
    expect(nakamoto([50, 30, 20])).to.equal(2); // exactly half is not more than half
    expect(nakamoto([10, 10, 10, 10, 10, 10, 10, 10, 10, 10])).to.equal(6);
    expect(nakamoto([])).to.equal(0);
    expect(topShare([3, 9, 1])).to.equal(9);
    near(hhi([1, 1, 1, 1]), 0.25, 1e-12);
    expect(hhi([5])).to.equal(1);
    expect(concentration([1, 3])).to.deep.equal({ top1: 0.75, nakamoto: 1, hhi: 0.625 });
  });

  it("groups accounts by operator and compares each one's share of jobs with its share of stake", function () {
    const s = shares([
      { name: "a", stake: 10, jobs: 30 },
      { name: "b", stake: 20, jobs: 40 },
      { name: "a", stake: 10, jobs: 30 },
    ]);
    expect(s.map((x) => x.name)).to.deep.equal(["a", "b"]);
    expect(s[0]!.stakeShare).to.equal(0.5);
    expect(s[0]!.jobShare).to.equal(0.6);
    near(s[0]!.deviation, 0.2, 1e-12);
    near(maxDeviation(s), 0.2, 1e-12);
  });
});
