import { task } from "hardhat/config";

import { partyFromOption, text, withNodeOptions } from "./options.js";

export const verifierTasks = [
  // The options every node takes come from tasks/options.ts.
  withNodeOptions(
    task("verifier", "Run a verifier until Ctrl-C: re-run every result, dispute any mismatch, play it out, collect")
      .addOption(text("models", "Model ids to watch, e.g. 1,2 (default: all)"))
      .addOption(text("cheat", "Demos and tests: challenge every result with a trace that lies at `random` or LAYER[:ELEMENT[:DELTA]] (parts left out are drawn at random); in a batch, in one input: @ITEM, or one drawn at random"))
      .addOption(text("parallel", "Results re-run at once: onnxruntime sessions per model, one core each (default: the machine's cores)"))
      .addOption(partyFromOption),
  )
    .setAction(() => import("./verifier/run.js"))
    .build(),
];
