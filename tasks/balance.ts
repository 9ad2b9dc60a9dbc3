import { emptyTask, task } from "hardhat/config";


import { fromOption, partyFromOption, text } from "./options.js";

export const balanceTasks = [
  emptyTask("balance", "Earnings held in the job escrow (pull payments)").build(),
  task(["balance", "withdraw"], "Withdraw your earnings (worker fees, model revenue, refunds) from the job escrow")
    .addOption(partyFromOption)
    .setAction(() => import("./balance/withdraw.js"))
    .build(),
  task(["balance", "distribute"], "Pay out a model's accruals: its earnings to its developer and contributors, the protocol fees to the treasury (anyone may)")
    .addOption(text("model", "Model id (required)"))
    .addOption(fromOption)
    .setAction(() => import("./balance/distribute.js"))
    .build(),
];
