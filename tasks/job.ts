import { emptyTask, task } from "hardhat/config";
import { ArgumentType } from "hardhat/types/arguments";

import { cacheDirOption, fromOption, ipfsGatewayOption, noApproveFlag, partyFromOption, text } from "./options.js";

const jobOption = text("job", "Job id (required)");

export const jobTasks = [
  emptyTask("job", "Request, serve and settle inference jobs").build(),
  task(["job", "request"], "Request an inference: escrows the fee until the job settles")
    .addOption(text("model", "Model id (required)"))
    .addOption({
      name: "input",
      type: ArgumentType.FILE_WITHOUT_DEFAULT,
      description: "Input tensor: JSON (an array, nested arrays, or {shape, data}), NumPy .npy, ONNX TensorProto .pb, or .bin int32 bytes",
      defaultValue: undefined,
    })
    .addOption(text("inputs", "Instead of --input, a batch: several input files, comma-separated (one job; the fee covers the price once per input)"))
    .addFlag({ name: "real", description: "The --input (or --inputs) holds real values: quantize them with the registered model's input scale" })
    .addOption(cacheDirOption)
    .addOption(ipfsGatewayOption)
    .addOption(text("inputUri", "Where a large input can be fetched (instead of --input)"))
    .addOption(text("inputCommitment", "Tensor commitment of the input at --input-uri (0x…)"))
    .addOption(text("fee", "Fee in VTN (default: the minimum, model price (× the inputs of a batch) + protocol fee)"))
    .addOption({
      name: "deadline",
      type: ArgumentType.STRING,
      description: "Time from now by which the result must be submitted: seconds, or 90s, 10m, 2h, 1d",
      defaultValue: "1h",
    })
    .addOption(text("consumer", "Contract to call back with the final output (optional)"))
    .addOption({ name: "callbackGasLimit", type: ArgumentType.INT, description: "Gas for the consumer's callback (default 100000 with --consumer)", defaultValue: 0 })
    .addFlag(noApproveFlag)
    .addOption(partyFromOption)
    .setAction(() => import("./job/request.js"))
    .build(),
  task(["job", "claim"], "Claim an open job as a worker (locks part of your stake)")
    .addOption(jobOption)
    .addOption(partyFromOption)
    .setAction(() => import("./job/claim.js"))
    .build(),
  task(["job", "submit"], "Submit the output of a job you claimed; opens the challenge window")
    .addOption(jobOption)
    .addOption({
      name: "output",
      type: ArgumentType.FILE_WITHOUT_DEFAULT,
      description: "Output tensor of integers: JSON (an array, nested arrays, or {shape, data}), NumPy .npy, ONNX TensorProto .pb, or .bin int32 bytes",
      defaultValue: undefined,
    })
    .addOption({
      name: "run",
      type: ArgumentType.FILE_WITHOUT_DEFAULT,
      description: "Instead of --output: run this canonical ONNX file (the registered model) on the job's input",
      defaultValue: undefined,
    })
    .addOption(text("cheat", "With --run, to try a dispute: submit a wrong result, LAYER:ELEMENT[:DELTA] off by DELTA (default +1), defended in a dispute with a consistent forged trace; in a batch, @ITEM lies in that input's output (default 0)"))
    .addOption(partyFromOption)
    .setAction(() => import("./job/submit.js"))
    .build(),
  task(["job", "show"], "Show a job: status, times, amounts, commitments, input and output")
    .addOption(jobOption)
    .setAction(() => import("./job/show.js"))
    .build(),
  task(["job", "cancel"], "Withdraw a job you requested that no worker has claimed: its fee is credited back at once")
    .addOption(jobOption)
    .addOption(fromOption)
    .setAction(() => import("./job/cancel.js"))
    .build(),
  task(["job", "expire"], "Enforce a missed deadline: refund an unclaimed job past its deadline, or slash a late worker and reopen or refund the job")
    .addOption(jobOption)
    .addOption(fromOption)
    .setAction(() => import("./job/expire.js"))
    .build(),
  task(["job", "finalize"], "Settle a job after its challenge window: pays everyone, unlocks the stake, calls back")
    .addOption(jobOption)
    .addFlag({ name: "wait", description: "Wait for the challenge window to end instead of failing" })
    .addOption(fromOption)
    .setAction(() => import("./job/finalize.js"))
    .build(),
];
