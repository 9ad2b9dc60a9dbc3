import { ArgumentType } from "hardhat/types/arguments";
import { task } from "hardhat/config";

export const demoTasks = [
  task("demo", "Run the whole network end to end on the in-process chain (the project's main job)")
    .addOption({
      name: "jobs",
      description: "How many digits to classify",
      type: ArgumentType.INT,
      defaultValue: 6,
    })
    .addFlag({ name: "explorer", description: "At the end, leave the explorer running on the demo's chain (until Ctrl-C) and print its URL" })
    .addOption({ name: "explorerPort", description: "Port of the explorer with --explorer (taken if free, else any free port)", type: ArgumentType.INT, defaultValue: 8550 })
    .setAction(() => import("./demo/run.js"))
    .build(),
];
