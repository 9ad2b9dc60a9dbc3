import { emptyTask, task } from "hardhat/config";


import { fromOption, partyFromOption, text } from "./options.js";

export const balanceTasks = [
  emptyTask("balance", "Earnings held in the job escrow (pull payments)").build(),
  task(["balance", "withdraw"], "Withdraw your earnings (worker fees, model revenue, refunds) from the job escrow")
    .addOption(partyFromOption)
    .setAction(() => import("./balance/withdraw.js"))
    .build(),
  task(["balance", "distribute"], "Split a model's accrued earnings among its developer and contributors (anyone may)")
    .addOption(text("model", "Model id (required)"))
    .addOption(fromOption)
    .setAction(() => import("./balance/distribute.js"))
    .build(),
  task(["balance", "collect-fees"], "Credit the protocol fees accrued under a parameter version to its treasury (anyone may)")
    .addOption(text("paramsVersion", "Parameter version the fees accrued under (default: the current one)"))
    .addOption(fromOption)
    .setAction(() => import("./balance/collect-fees.js"))
    .build(),
];
