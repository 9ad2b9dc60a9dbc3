import { emptyTask, task } from "hardhat/config";
import { ArgumentType } from "hardhat/types/arguments";

import { text } from "./options.js";

export const econTasks = [
  emptyTask("econ", "The protocol's economics: a seeded agent-based simulation (docs/ECONOMICS.md)").build(),
  task(["econ", "simulate"], "Simulate workers, auditors, verifiers and requesters; print the figures (cheating EV by audit rate, audit pay, concentration, …)")
    .addOption({ name: "seed", type: ArgumentType.INT, description: "Seed of every random draw (same seed, same figures)", defaultValue: 1 })
    .addOption({ name: "jobs", type: ArgumentType.INT, description: "Jobs per simulated run (the sweeps run several)", defaultValue: 10_000 })
    .addOption(text("auditRate", "Least share of jobs audited, bps (default: the chosen 100)"))
    .addOption(text("auditSafety", "Audit each job at this multiple of its break-even rate, bps (20000 = 2x; 0 = a flat --audit-rate)"))
    .addOption(text("auditFee", "Share of every fee to the audit pool, bps (default 200)"))
    .addOption(text("auditReward", "VTN the pool pays per answered audit (default 0.15)"))
    .addOption(text("missPenalty", "Share of the lock lost for a missed claim slot or an unanswered audit, bps (default 100)"))
    .addOption(text("weightCap", "Per-account weight cap, VTN (default 100000)"))
    .addOption(text("weightRule", "Weight of a stake in the draw: capped (default), linear or sqrt"))
    .addOption(text("drawnSlots", "Claim slots drawn per job before it is open to all (default 3)"))
    .addOption(text("jobsPerSecond", "Mean arrival rate of jobs (default 0.2)"))
    .addOption(text("gasPriceGwei", "Assumed gas price, gwei (default 0.02)"))
    .addOption(text("ethUsd", "Assumed ETH price, dollars (default 3000)"))
    .addOption(text("vtnUsd", "Assumed VTN price, dollars (default 0.1)"))
    .addOption(text("cpuUsdPerHour", "Assumed price of a CPU core-hour, dollars (default 0.05)"))
    .addOption(text("nodeUsdPerHour", "Assumed fixed cost of a verifier's node per hour, dollars (default 0.05)"))
    .setAction(() => import("./econ/simulate.js"))
    .build(),
];
