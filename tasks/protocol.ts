import { emptyTask, task } from "hardhat/config";
import { ArgumentType } from "hardhat/types/arguments";

export const protocolTasks = [
  emptyTask("protocol", "Deploy and inspect the Veritensor protocol").build(),
  task(["protocol", "deploy"], "Deploy the protocol with Ignition (LocalProtocol on chain 31337, Protocol elsewhere)")
    .addFlag({ name: "reset", description: "Forget the previous deployment on this chain and deploy anew" })
    .addFlag({
      name: "assignment",
      description: "Local chain: deploy with a worker roster (claims drawn by stake; workers join it) instead of first-come claims",
    })
    .addFlag({ name: "noFaucet", description: "Test networks: do not deploy the test-VTN faucet (deployed by default there, never elsewhere)" })
    .addOption({
      name: "parameters",
      type: ArgumentType.FILE_WITHOUT_DEFAULT,
      description: "JSON file of Ignition module parameters, e.g. {\"Jobs\": {\"challengeWindow\": 600}} (every key is checked; ignition/parameters/testnet.example.json lists them all)",
      defaultValue: undefined,
    })
    .setAction(() => import("./protocol/deploy.js"))
    .build(),
];
