/** Option definitions shared by several tasks. */
import { ArgumentType } from "hardhat/types/arguments";

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
