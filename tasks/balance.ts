import { emptyTask, task } from "hardhat/config";

import { fromOption } from "./options.js";

export const balanceTasks = [
  emptyTask("balance", "Earnings held in the job escrow (pull payments)").build(),
  task(["balance", "withdraw"], "Withdraw your earnings (worker fees, model revenue, refunds) from the job escrow")
    .addOption(fromOption)
    .setAction(() => import("./balance/withdraw.js"))
    .build(),
];
