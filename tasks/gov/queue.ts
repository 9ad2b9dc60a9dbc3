import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { action, chainTime, formatTime, openProtocol, queueProposal, report, required, resolveSigner } from "../../offchain/cli/index.js";

interface Args {
  proposal: string | undefined;
  from: string;
}

export default action(async (a: Args, hre: HardhatRuntimeEnvironment) => {
  const proposal = required(a.proposal, "--proposal");
  const p = await openProtocol(hre);
  const r = await queueProposal(p, await resolveSigner(p.connection, a.from), proposal);
  report(`Proposal #${r.proposal.index} queued in the timelock`, [
    ["executable from", formatTime(r.eta, await chainTime(p))],
    ["tx", r.receipt.hash],
  ]);
  return r;
});
