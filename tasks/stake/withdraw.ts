import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { action, formatVtn, openProtocol, partyFrom, report, resolveSigner, withdrawStake } from "../../offchain/cli/index.js";

interface Args {
  from: string | undefined;
}

export default action(async ({ from }: Args, hre: HardhatRuntimeEnvironment) => {
  const party = partyFrom(from, "stake withdraw pays the sender's unbonded stake out");
  const p = await openProtocol(hre);
  const staker = await resolveSigner(p.connection, party);
  const result = await withdrawStake(p, staker);
  const address = await staker.getAddress();
  report(`Withdrew ${formatVtn(result.amount)} of unbonded stake to ${address}`, [
    ["token balance", formatVtn(await p.token.balanceOf(address))],
    ["tx", result.receipt.hash],
  ]);
  return result;
});
