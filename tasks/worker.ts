import { task } from "hardhat/config";
import { ArgumentType } from "hardhat/types/arguments";

import { partyFromOption } from "./options.js";

const text = <N extends string>(name: N, description: string) =>
  ({ name, type: ArgumentType.STRING_WITHOUT_DEFAULT, description, defaultValue: undefined }) as const;

export const workerTasks = [
  task("worker", "Run a worker until Ctrl-C: claim, run, submit, finalize, withdraw, and defend every dispute")
    .addOption(text("models", "Model ids to serve, e.g. 1,2 (default: those the account serves in Staking)"))
    .addOption(text("minFee", "Lowest fee worth claiming, in VTN (default: any)"))
    .addOption({ name: "maxJobs", type: ArgumentType.INT, description: "Claim at most this many jobs (0: no limit)", defaultValue: 0 })
    .addOption(text("cheat", "Demos and tests: lie in every trace at `random`, a layer (3) or layer:element (3:17)"))
    .addFlag({ name: "noWithdraw", description: "Leave earnings in the escrow instead of withdrawing them" })
    .addOption(partyFromOption)
    .addOption(text("db", "SQLite state file (default .veritensor/<role>-<chain>-<account>.sqlite); a restart with the same file resumes"))
    .addOption(text("cacheDir", "Folder of verified model files (default .veritensor/models)"))
    .addOption(text("ipfsGateway", "HTTP gateway for ipfs:// model URIs (its base URL)"))
    .addOption({ name: "poll", type: ArgumentType.INT, description: "Pause between passes, in milliseconds", defaultValue: 1000 })
    .addOption({ name: "confirmations", type: ArgumentType.INT, description: "Confirmations to wait for each transaction, and that a block needs before its events are acted on", defaultValue: 1 })
    .addOption(text("maxFeeGwei", "Cap on the fee per gas, in gwei (default: the node's suggestion)"))
    .addOption(text("priorityFeeGwei", "Priority fee per gas, in gwei"))
    .addOption(text("gasMultiplier", "Multiply each estimated gas limit by this (e.g. 1.2)"))
    .addOption({ name: "replaceAfter", type: ArgumentType.INT, description: "Seconds before a transaction not yet mined is sent again with 12.5% higher fees (0: never)", defaultValue: 60 })
    .addOption({ name: "fromBlock", type: ArgumentType.INT, description: "First block to read events from on a new state file", defaultValue: 0 })
    .setAction(() => import("./worker/run.js"))
    .build(),
];
