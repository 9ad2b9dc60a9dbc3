import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { action, castVote, formatVtn, openProtocol, parseSupport, report, required, resolveSigner } from "../../offchain/cli/index.js";

interface Args {
  proposal: string | undefined;
  support: string | undefined;
  reason: string;
  from: string;
}

export default action(async (a: Args, hre: HardhatRuntimeEnvironment) => {
  const support = parseSupport(required(a.support, "--support"));
  const proposal = required(a.proposal, "--proposal");
  const p = await openProtocol(hre);
  const voter = await resolveSigner(p.connection, a.from);
  const r = await castVote(p, voter, proposal, support, a.reason);
  const v = r.view;
  report(`${r.voter} voted ${support} on proposal #${r.proposal.index} with ${formatVtn(r.weight)}`, [
    ["reason", a.reason === "" ? undefined : a.reason],
    ["votes for / against / abstain", `${formatVtn(v.votes.for)} / ${formatVtn(v.votes.against)} / ${formatVtn(v.votes.abstain)}`],
    ["quorum", `${formatVtn(v.quorum)} (${v.votes.for + v.votes.abstain >= v.quorum ? "reached" : "not reached"})`],
    ["voting ends", `block ${v.deadline} (the head is ${v.head})`],
    ["tx", r.receipt.hash],
  ]);
  return r;
});
