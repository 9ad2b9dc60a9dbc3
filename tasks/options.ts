/** Option definitions shared by several tasks. */
import { ArgumentType } from "hardhat/types/arguments";

export const fromOption = {
  name: "from",
  type: ArgumentType.STRING,
  description: "Account that sends the transaction: an index among the network's accounts (0, 1, …) or one of their addresses",
  defaultValue: "0",
} as const;

export const noApproveFlag = {
  name: "noApprove",
  description: "Do not approve the tokens automatically; fail if the allowance is too low",
} as const;
