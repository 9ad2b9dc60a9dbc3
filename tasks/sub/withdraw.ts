import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { action, formatVtn, openProtocol, partyFrom, report, resolveSigner, withdrawKeeperRewards } from "../../offchain/cli/index.js";

interface Args {
  from: string | undefined;
}

export default action(async ({ from }: Args, hre: HardhatRuntimeEnvironment) => {
  const party = partyFrom(from, "sub withdraw pays the sender's keeper rewards out");
  const p = await openProtocol(hre);
  const account = await resolveSigner(p.connection, party);
  const result = await withdrawKeeperRewards(p, account);
  report(`Withdrew ${formatVtn(result.amount)} of keeper rewards to ${await account.getAddress()}`, [
    ["token balance", formatVtn(result.tokenBalance)],
    ["tx", result.receipt.hash],
  ]);
  return result;
});
