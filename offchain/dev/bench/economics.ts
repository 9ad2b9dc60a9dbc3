/**
 * The economic simulation (offchain/economics/, issue 18): the figures docs/ECONOMICS.md cites,
 * at seed 1 and 10,000 jobs per run. Pure computation, a few seconds; no network.
 */
import { economicsOptions } from "../../economics/experiments.js";
import { economicsMarkdown, economicsReport, headline } from "../../economics/report.js";
import type { BenchSection } from "./section.js";

export const ECONOMICS_SEED = 1;
export const ECONOMICS_JOBS = 10_000;

export const economicsSection: BenchSection = {
  id: "economics",
  title: "Economics: cheating, audits, verifiers and the assignment, simulated",
  async run(ctx) {
    const report = economicsReport(economicsOptions({ seed: ECONOMICS_SEED, jobs: ECONOMICS_JOBS }));
    for (const line of headline(report)) ctx.log(`  ${line}`);
    return economicsMarkdown(report);
  },
};
