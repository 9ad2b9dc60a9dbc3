import { task } from "hardhat/config";
import { ArgumentType } from "hardhat/types/arguments";

import {
  cacheDirOption,
  confirmationsOption,
  dbOption,
  fromBlockOption,
  gasMultiplierOption,
  ipfsGatewayOption,
  maxFeeGweiOption,
  partyFromOption,
  pollOption,
  priorityFeeGweiOption,
  replaceAfterOption,
  text,
} from "./options.js";

export const workerTasks = [
  task("worker", "Run a worker until Ctrl-C: claim, run, submit, finalize, withdraw, and defend every dispute")
    .addOption(text("models", "Model ids to serve, e.g. 1,2 (default: those the account serves in Staking)"))
    .addOption(text("minFee", "Lowest fee worth claiming, in VTN (default: any)"))
    .addOption({ name: "maxJobs", type: ArgumentType.INT, description: "Claim at most this many jobs (0: no limit)", defaultValue: 0 })
    .addOption(text("cheat", "Demos and tests: lie in every trace at `random`, a layer (3) or layer:element (3:17)"))
    .addFlag({ name: "noWithdraw", description: "Leave earnings in the escrow instead of withdrawing them" })
    .addOption(partyFromOption)
    // The options every node takes (tasks/options.ts).
    .addOption(dbOption)
    .addOption(cacheDirOption)
    .addOption(ipfsGatewayOption)
    .addOption(pollOption)
    .addOption(confirmationsOption)
    .addOption(maxFeeGweiOption)
    .addOption(priorityFeeGweiOption)
    .addOption(gasMultiplierOption)
    .addOption(replaceAfterOption)
    .addOption(fromBlockOption)
    .setAction(() => import("./worker/run.js"))
    .build(),
];
