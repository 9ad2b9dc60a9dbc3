import { emptyTask, task } from "hardhat/config";
import { ArgumentType } from "hardhat/types/arguments";

import { noApproveFlag, partyFromOption } from "./options.js";

const amount = (description: string) =>
  ({ name: "amount", type: ArgumentType.STRING_WITHOUT_DEFAULT, description, defaultValue: undefined }) as const;

export const stakeTasks = [
  emptyTask("stake", "Stake VTN to serve inference (workers) or dispute results (verifiers)").build(),
  task(["stake", "add"], "Add VTN to your stake (approves it first)")
    .addOption(amount("Amount in VTN (required)"))
    .addOption({
      name: "serves",
      type: ArgumentType.STRING,
      description: "Model ids you serve, e.g. 1,2 (a hint for requesters)",
      defaultValue: "",
    })
    .addFlag(noApproveFlag)
    .addOption(partyFromOption)
    .setAction(() => import("./stake/add.js"))
    .build(),
  task(["stake", "unstake"], "Start unbonding part of your free stake")
    .addOption(amount("Amount in VTN (required)"))
    .addOption(partyFromOption)
    .setAction(() => import("./stake/unstake.js"))
    .build(),
  task(["stake", "withdraw"], "Withdraw your stake once its unbonding delay is over")
    .addOption(partyFromOption)
    .setAction(() => import("./stake/withdraw.js"))
    .build(),
  task(["stake", "serve"], "Declare the models you serve (or, with --stop, no longer serve)")
    .addOption({ name: "models", type: ArgumentType.STRING_WITHOUT_DEFAULT, description: "Model ids, e.g. 1,2 (required)", defaultValue: undefined })
    .addFlag({ name: "stop", description: "Declare that you no longer serve them" })
    .addOption(partyFromOption)
    .setAction(() => import("./stake/serve.js"))
    .build(),
  task(["stake", "roster"], "Show your place in a model's worker roster, or join or leave its draws (from the next epoch)")
    .addOption({ name: "model", type: ArgumentType.STRING_WITHOUT_DEFAULT, description: "Model id (required)", defaultValue: undefined })
    .addFlag({ name: "join", description: "Join the roster, or set your weight there to your stake now" })
    .addFlag({ name: "leave", description: "Leave the draws (stop your worker first: a running worker joins again)" })
    .addOption(partyFromOption)
    .setAction(() => import("./stake/roster.js"))
    .build(),
];
