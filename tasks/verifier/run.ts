import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { action } from "../../offchain/clients/index.js";
import type { NodeTaskArgs } from "../../offchain/nodes/cli.js";
import { nodeOptionsFromArgs, runUntilSignal } from "../../offchain/nodes/cli.js";
import { Verifier } from "../../offchain/verifier/verifier.js";

export default action(async (a: NodeTaskArgs, hre: HardhatRuntimeEnvironment) => {
  const { node, models, cheat } = await nodeOptionsFromArgs(a, hre, "verifier");
  await runUntilSignal(await Verifier.create({ ...node, models, cheat }));
});
