import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { runBenchmarks } from "../../offchain/dev/bench/index.js";
import { action } from "../../offchain/cli/index.js";

interface Args {
  only: string | undefined;
  out: string;
}

export default action(async ({ only, out }: Args, hre: HardhatRuntimeEnvironment) => {
  await runBenchmarks({ network: hre.network, log: (line) => console.log(line) }, { only, out });
  console.log(`Wrote ${out}`);
});
