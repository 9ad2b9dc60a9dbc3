import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { action, formatVtn, openProtocol, partyFrom, report, resolveSigner, withdrawDisputeBalance } from "../../offchain/cli/index.js";

interface Args {
  from: string | undefined;
}

export default action(async ({ from }: Args, hre: HardhatRuntimeEnvironment) => {
  const party = partyFrom(from, "dispute withdraw pays the sender's bonds and rewards out");
  const p = await openProtocol(hre);
  const account = await resolveSigner(p.connection, party);
  const result = await withdrawDisputeBalance(p, account);
  report(`Withdrew ${formatVtn(result.amount)} from the dispute factory to ${await account.getAddress()}`, [
    ["token balance", formatVtn(result.tokenBalance)],
    ["tx", result.receipt.hash],
  ]);
  return result;
});
