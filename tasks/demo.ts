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
    .setAction(() => import("./demo/run.js"))
    .build(),
];
