import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { VeritensorError, action } from "../../offchain/cli/index.js";
import type { NodeTaskArgs } from "../../offchain/cli/nodes.js";
import { nodeOptionsFromArgs, runUntilSignal } from "../../offchain/cli/nodes.js";
import { Verifier } from "../../offchain/nodes/verifier.js";

/** `--parallel N`: a whole number of runners, at least 1 (undefined: the machine's cores). */
function parallelOf(text: string | undefined): number | undefined {
  if (text === undefined || text.trim() === "") return undefined;
  const n = Number(text.trim());
  if (!Number.isInteger(n) || n < 1) throw new VeritensorError(`--parallel "${text}" is not a whole number of runners (1, 2, …)`);
  return n;
}

export default action(async (a: NodeTaskArgs & { parallel: string | undefined }, hre: HardhatRuntimeEnvironment) => {
  const parallel = parallelOf(a.parallel);
  const { node, models, cheat } = await nodeOptionsFromArgs(a, hre, "verifier");
  await runUntilSignal(await Verifier.create({ ...node, models, cheat, parallel }));
});
