import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { action, executeProposal, openProtocol, report, required, resolveSigner } from "../../offchain/cli/index.js";

interface Args {
  proposal: string | undefined;
  from: string;
}

export default action(async (a: Args, hre: HardhatRuntimeEnvironment) => {
  const proposal = required(a.proposal, "--proposal");
  const p = await openProtocol(hre);
  const r = await executeProposal(p, await resolveSigner(p.connection, a.from), proposal);
  report(`Proposal #${r.proposal.index} executed`, [
    ...r.decoded.map((d, i): [string, string] => [`action ${i + 1}`, d]),
    ["tx", r.receipt.hash],
  ]);
  return r;
});
