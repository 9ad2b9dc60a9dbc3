import { emptyTask, task } from "hardhat/config";

import { fromOption } from "./options.js";

export const faucetTasks = [
  emptyTask("faucet", "The test-VTN faucet (test networks only: local, Sepolia, Base Sepolia, OP Sepolia)").build(),
  task(["faucet", "drip"], "Get the faucet's test VTN (a fixed amount per account per period) for the sending account")
    .addOption({ ...fromOption, description: "Account that receives the drip and sends the transaction: an index (0, 1, …) or one of the network's addresses" })
    .setAction(() => import("./faucet/drip.js"))
    .build(),
];
