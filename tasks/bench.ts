import { task } from "hardhat/config";
import { ArgumentType } from "hardhat/types/arguments";

export const benchTasks = [
  task("bench", "Run the benchmarks and write BENCHMARKS.md (gas of every lifecycle transaction, …)")
    .addOption({
      name: "only",
      type: ArgumentType.STRING_WITHOUT_DEFAULT,
      description: "Run only the section with this id (e.g. gas)",
      defaultValue: undefined,
    })
    .addOption({ name: "out", type: ArgumentType.STRING, description: "File to write", defaultValue: "BENCHMARKS.md" })
    .setAction(() => import("./bench/run.js"))
    .build(),
];
