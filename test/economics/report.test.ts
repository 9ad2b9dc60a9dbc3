/**
 * The report (offchain/economics/report.ts) and its two front ends: `npx hardhat econ simulate`
 * (offchain/cli/economics.ts, tasks/econ/) and the `economics` section of BENCHMARKS.md.
 */
import { expect } from "chai";
import hre from "hardhat";

import { econOptions } from "../../offchain/cli/economics.js";
import { SECTIONS } from "../../offchain/dev/bench/index.js";
import { economicsSection } from "../../offchain/dev/bench/economics.js";
import { economicsOptions } from "../../offchain/economics/experiments.js";
import type { EconomicsReport } from "../../offchain/economics/report.js";
import { economicsMarkdown, economicsReport, headline, table } from "../../offchain/economics/report.js";
import { ECONOMICS_DEFAULTS } from "../../offchain/economics/params.js";
import { VTN } from "../../offchain/economics/units.js";
import { rejection } from "../tasks/helpers.js";

describe("economics/report: the figures as Markdown, the task and the bench section", function () {
  this.timeout(300_000);
  let report: EconomicsReport;

  before(function () {
    report = economicsReport(economicsOptions({ seed: 1, jobs: 1000 }));
  });

  it("renders every experiment as a section with its table", function () {
    const md = economicsMarkdown(report);
    for (const title of [
      "### Assumptions",
      "### One job: the worker's money and the break-even audit rate",
      "### Cheating: expected value per cheated job by audit rate",
      "### A flat audit rate against the fee",
      "### Auditing: what it pays, and lazy auditors",
      "### Independent verifiers: the verifier's dilemma",
      "### Assignment: who gets the work",
      "### Sybil splitting",
      "### Missing a claim slot",
      "### Redundancy k",
      "### The network",
    ]) {
      expect(md).to.include(title);
    }
    expect(md).to.include("**break-even**");
    expect(md).to.include("`npx hardhat econ simulate --seed 1 --jobs 1000`");
    expect(md).to.not.match(/NaN|undefined/);
    expect(table(["a", "b"], [["x", "1"]])).to.equal("| a | b |\n|---|---:|\n| x | 1 |");
  });

  it("sums up the headline figures: the defaults, each model's break-even and EV, concentration, the network without verifier", function () {
    const lines = headline(report);
    expect(lines).to.have.length(2 + report.classes.length + 1);
    expect(lines[0]).to.match(/^Mechanism: audit rate ≥ 1%, and each job at 2× its break-even; audit fee 5%; reward 0\.40 VTN/);
    for (const c of report.classes) expect(c.evAtRule < 0n).to.equal(true);
  });

  it("is deterministic: the same seed and jobs give the same Markdown (but for the wall time)", function () {
    const again = economicsReport(economicsOptions({ seed: 1, jobs: 1000 }));
    const strip = (s: string) => s.replace(/\(\d+\.\d s\)/, "");
    expect(strip(economicsMarkdown(again))).to.equal(strip(economicsMarkdown(report)));
  });

  it("`econ simulate` runs with its options, and refuses wrong ones naming the option", async function () {
    const task = hre.tasks.getTask(["econ", "simulate"]);
    const log = console.log;
    const printed: string[] = [];
    console.log = (...a: unknown[]) => void printed.push(a.join(" "));
    let r: EconomicsReport;
    try {
      r = (await task.run({ seed: 2, jobs: 300, auditRate: "300", weightCap: "5000", gasPriceGwei: "0.1" })) as EconomicsReport;
    } finally {
      console.log = log;
    }
    expect(r.options.mechanism.auditRateBps).to.equal(300);
    expect(r.options.mechanism.weightCap).to.equal(5000n * VTN);
    expect(r.options.costs.prices.gasPriceWei).to.equal(100_000_000n);
    expect(printed.join("\n")).to.include("### Cheating: expected value per cheated job");
    expect(printed.at(-1)).to.match(/^Without any verifier/);
    expect(await rejection(() => task.run({ jobs: 5 }))).to.include("--jobs 5: give 100 to 1,000,000 jobs per run");
    expect(await rejection(() => task.run({ auditRate: "2.5" }))).to.include('--audit-rate "2.5": give basis points');
    expect(await rejection(() => task.run({ weightRule: "cubic" }))).to.include('--weight-rule "cubic": give linear, capped or sqrt');
    expect(await rejection(() => task.run({ vtnUsd: "0" }))).to.include("the VTN price must be above zero");
    expect(await rejection(() => task.run({ auditReward: "a lot" }))).to.include('--audit-reward "a lot" is not a non-negative decimal number');
  });

  it("takes the chosen defaults when no option is given", function () {
    expect(econOptions({ seed: 1, jobs: 10_000 }).mechanism).to.deep.equal(ECONOMICS_DEFAULTS);
  });

  it("is the `economics` section of BENCHMARKS.md (`npx hardhat bench --only economics`)", function () {
    expect(SECTIONS).to.include(economicsSection);
    expect(economicsSection.id).to.equal("economics");
  });
});
