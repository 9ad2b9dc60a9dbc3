import { task } from "hardhat/config";

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

export const verifierTasks = [
  task("verifier", "Run a verifier until Ctrl-C: re-run every result, dispute any mismatch, play it out, collect")
    .addOption(text("models", "Model ids to watch, e.g. 1,2 (default: all)"))
    .addOption(text("cheat", "Demos and tests: challenge every result with a trace that lies at `random`, a layer or layer:element"))
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
    .setAction(() => import("./verifier/run.js"))
    .build(),
];
