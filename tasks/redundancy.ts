import { task } from "hardhat/config";
import { ArgumentType } from "hardhat/types/arguments";

import { file, fromOption, noApproveFlag, partyFromOption, text } from "./options.js";

/** Redundancy k (docs/INTEGRATING.md "Redundancy"): in the `job` namespace, beside `job request`. */
export const redundancyTasks = [
  task(["job", "redundant"], "Request k jobs of one input (redundancy k): final early when all k agree from distinct workers")
    .addOption(text("model", "Model id (required)"))
    .addOption(file("input", "Input tensor of integers: JSON (an array, nested arrays, or {shape, data}), NumPy .npy, ONNX TensorProto .pb, or .bin int32 bytes"))
    .addOption(text("inputUri", "Where a large input can be fetched (instead of --input)"))
    .addOption(text("inputCommitment", "Tensor commitment of the input at --input-uri (0x…)"))
    .addOption({ name: "redundancy", type: ArgumentType.INT, description: "Jobs in the group, k: 2 to 5", defaultValue: 3 })
    .addOption(text("value", "Value in VTN the output decides: the k locks must cover it (default 0)"))
    .addOption(text("fee", "Fee per job in VTN (default: the least the escrow accepts whose lock, k times, covers --value)"))
    .addOption({
      name: "deadline",
      type: ArgumentType.STRING,
      description: "Time from now by which the results must be submitted: seconds, or 90s, 10m, 2h, 1d",
      defaultValue: "1h",
    })
    .addFlag(noApproveFlag)
    .addOption(partyFromOption)
    .setAction(() => import("./job/redundant.js"))
    .build(),
  task(["job", "group"], "Show a redundancy group: its jobs, workers and outputs, confirmed or not; optionally confirm, resolve or settle it")
    .addOption(text("id", "Group id (required)"))
    .addFlag({ name: "confirm", description: "First confirm the group early (all k results agree, from distinct workers)" })
    .addFlag({ name: "resolve", description: "First resolve the group after its jobs are over (the output its finalized jobs share)" })
    .addFlag({ name: "settle", description: "First credit the requester its finished jobs' refunds and timeout slashes" })
    .addOption(fromOption)
    .setAction(() => import("./job/group.js"))
    .build(),
];
