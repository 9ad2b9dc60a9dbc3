import { emptyTask, task } from "hardhat/config";
import { ArgumentType } from "hardhat/types/arguments";

import { fromOption, text } from "./options.js";

export const tokenTasks = [
  emptyTask("token", "The VTN token").build(),
  task(["token", "faucet"], "Send test VTN from the deployer to an account (local networks only)")
    .addOption({
      name: "to",
      type: ArgumentType.STRING_WITHOUT_DEFAULT,
      description: "Receiver: an address or an account index (required)",
      defaultValue: undefined,
    })
    .addOption({ name: "amount", type: ArgumentType.STRING, description: "Amount in VTN", defaultValue: "10000" })
    .setAction(() => import("./token/faucet.js"))
    .build(),
  task(["token", "delegate"], "Delegate your VTN votes (the same as `gov delegate`)")
    .addOption(text("to", "Delegate: an address or an account index (default: the sender itself)"))
    .addOption(fromOption)
    .setAction(() => import("./gov/delegate.js"))
    .build(),
];
