import { task } from "hardhat/config";
import { ArgumentType } from "hardhat/types/arguments";

import { partyFromOption, text, withNodeOptions } from "./options.js";

export const workerTasks = [
  // The options every node takes come from tasks/options.ts.
  withNodeOptions(
    task("worker", "Run a worker until Ctrl-C: claim, run, submit, finalize, withdraw, and defend every dispute")
      .addOption(text("models", "Model ids to serve, e.g. 1,2 (default: those the account serves in Staking)"))
      .addOption(text("minFee", "Lowest fee worth claiming, in VTN (default: any)"))
      .addOption(text("maxCallbackGas", "Largest consumer callback gas limit to claim (finalizing pays for the callback; default 200000)"))
      .addOption(text("callbackGasPrice", "VTN per unit of callback gas a consumer job's callback fee must pay (default: the escrow's current callbackFeePerGas)"))
      .addOption({ name: "maxJobs", type: ArgumentType.INT, description: "Claim at most this many jobs (0: no limit)", defaultValue: 0 })
      .addOption(text("cheat", "Demos and tests: submit a wrong output for every job, from a lie at `random` or LAYER[:ELEMENT[:DELTA]] (parts left out are drawn at random) that reaches the output; in a batch, in one input: @ITEM, or one drawn at random"))
      .addFlag({ name: "noWithdraw", description: "Leave earnings in the escrow instead of withdrawing them" })
      .addOption(text("audits", "Audits of others' results drawn for this worker, on a deployment with audits: on (default), off (its drawn slots are charged the miss penalty), or commit-only (tests and demos: a lazy auditor that never reveals)"))
      .addFlag({ name: "noKeeper", description: "Do not trigger the due runs of subscriptions to the models served (leave it to other keepers)" })
      .addOption(partyFromOption),
  )
    .setAction(() => import("./worker/run.js"))
    .build(),
];
