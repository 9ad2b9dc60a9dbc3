/** Option definitions shared by several tasks: each option's name, type and words in one place. */
import { ArgumentType } from "hardhat/types/arguments";
import type { NewTaskDefinitionBuilder, TaskArguments } from "hardhat/types/tasks";

/** An optional text option (no default: the action decides what its absence means). */
export const text = <N extends string>(name: N, description: string) =>
  ({ name, type: ArgumentType.STRING_WITHOUT_DEFAULT, description, defaultValue: undefined }) as const;

/** An optional file option (a path; Hardhat resolves it from the working directory). */
export const file = <N extends string>(name: N, description: string) =>
  ({ name, type: ArgumentType.FILE_WITHOUT_DEFAULT, description, defaultValue: undefined }) as const;

const int = <N extends string>(name: N, description: string, defaultValue: number) =>
  ({ name, type: ArgumentType.INT, description, defaultValue }) as const;

export const fromOption = {
  name: "from",
  type: ArgumentType.STRING,
  description: "Account that sends the transaction: an index among the network's accounts (0, 1, …) or one of their addresses",
  defaultValue: "0",
} as const;

/**
 * `--from` for tasks where the sender acts as a party (pays, stakes, locks stake, earns, answers a
 * dispute): no default, since account 0 is the deployer, which holds the whole local supply, and
 * a forgotten `--from` would silently spend from it. The action refuses a missing one (partyFrom).
 */
export const partyFromOption = {
  name: "from",
  type: ArgumentType.STRING_WITHOUT_DEFAULT,
  description: "Account that acts (required): an index among the network's accounts (1, 2, …) or one of their addresses",
  defaultValue: undefined,
} as const;

export const noApproveFlag = {
  name: "noApprove",
  description: "Do not approve the tokens automatically; fail if the allowance is too low",
} as const;

// ---------------------------------------------------------------- long-running nodes (worker, verifier)

export const dbOption = text("db", "SQLite state file (default .veritensor/<role>-<chain>-<account>.sqlite); a restart with the same file resumes");
export const cacheDirOption = text("cacheDir", "Folder of verified model files (default .veritensor/models)");
export const ipfsGatewayOption = text("ipfsGateway", "HTTP gateway for ipfs:// model URIs (its base URL)");
export const pollOption = int("poll", "Pause between passes, in milliseconds", 1000);
export const confirmationsOption = int(
  "confirmations",
  "Confirmations to wait for each transaction, and that a block needs before its events are acted on",
  1,
);
export const maxFeeGweiOption = text("maxFeeGwei", "Cap on the fee per gas, in gwei (default: the node's suggestion)");
export const priorityFeeGweiOption = text("priorityFeeGwei", "Priority fee per gas, in gwei");
export const gasMultiplierOption = text("gasMultiplier", "Multiply each estimated gas limit by this (default 1.5; 1: the estimate as is)");
export const replaceAfterOption = int(
  "replaceAfter",
  "Seconds before a transaction not yet mined is sent again with 12.5% higher fees (0: never)",
  60,
);
export const fromBlockOption = int("fromBlock", "First block to read events from on a new state file", 0);

/** Adds the options every node takes (worker, verifier) to a task being defined. */
export function withNodeOptions<ArgsT extends TaskArguments>(task: NewTaskDefinitionBuilder<ArgsT>) {
  return task
    .addOption(dbOption)
    .addOption(cacheDirOption)
    .addOption(ipfsGatewayOption)
    .addOption(pollOption)
    .addOption(confirmationsOption)
    .addOption(maxFeeGweiOption)
    .addOption(priorityFeeGweiOption)
    .addOption(gasMultiplierOption)
    .addOption(replaceAfterOption)
    .addOption(fromBlockOption);
}
