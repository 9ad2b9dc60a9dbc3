import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { action, addressNames, openProtocol, powerLines, votingPower } from "../../offchain/cli/index.js";

interface Args {
  top: number;
}

export default action(async (a: Args, hre: HardhatRuntimeEnvironment) => {
  const p = await openProtocol(hre);
  const r = await votingPower(p);
  for (const line of powerLines(r, a.top, addressNames(p))) console.log(line);
  return r;
});
