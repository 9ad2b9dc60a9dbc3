import { task } from "hardhat/config";
import { ArgumentType } from "hardhat/types/arguments";

import { partyFromOption } from "./options.js";

const text = <N extends string>(name: N, description: string) =>
  ({ name, type: ArgumentType.STRING_WITHOUT_DEFAULT, description, defaultValue: undefined }) as const;

export const verifierTasks = [
  task("verifier", "Run a verifier until Ctrl-C: re-run every result, dispute any mismatch, play it out, collect")
    .addOption(text("models", "Model ids to watch, e.g. 1,2 (default: all)"))
    .addOption(text("cheat", "Demos and tests: challenge every result with a trace that lies at `random`, a layer or layer:element"))
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
    .setAction(() => import("./verifier/run.js"))
    .build(),
];
