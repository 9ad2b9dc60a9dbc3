import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { action, parseVtn } from "../../offchain/cli/index.js";
import type { NodeTaskArgs } from "../../offchain/cli/nodes.js";
import { nodeOptionsFromArgs, runUntilSignal } from "../../offchain/cli/nodes.js";
import { Worker } from "../../offchain/nodes/worker.js";

interface Args extends NodeTaskArgs {
  minFee: string | undefined;
  maxJobs: number;
  noWithdraw: boolean;
}

export default action(async (a: Args, hre: HardhatRuntimeEnvironment) => {
  const { node, models, cheat } = await nodeOptionsFromArgs(a, hre, "worker");
  const worker = await Worker.create({
    ...node,
    models,
    cheat,
    minFee: a.minFee === undefined ? undefined : parseVtn(a.minFee, "--min-fee"),
    maxJobs: a.maxJobs > 0 ? a.maxJobs : undefined,
    withdrawAt: a.noWithdraw ? null : undefined,
  });
  await runUntilSignal(worker);
});
