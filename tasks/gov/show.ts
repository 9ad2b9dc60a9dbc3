import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { action, findProposal, listProposals, openProtocol, proposalRows, proposalView, report } from "../../offchain/cli/index.js";

interface Args {
  proposal: string | undefined;
}

export default action(async (a: Args, hre: HardhatRuntimeEnvironment) => {
  const p = await openProtocol(hre);
  const chosen = a.proposal === undefined || a.proposal.trim() === "" ? await listProposals(p) : [await findProposal(p, a.proposal)];
  if (chosen.length === 0) {
    console.log(`No proposal yet on the governor ${p.addresses.governor} (make one with \`gov propose\`)`);
    return [];
  }
  const views = [];
  for (const x of chosen) {
    const v = await proposalView(p, x);
    views.push(v);
    report(`Proposal #${x.index}`, proposalRows(v));
  }
  return views;
});
