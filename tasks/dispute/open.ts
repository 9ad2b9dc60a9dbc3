import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { action, formatGas, formatVtn, openProtocol, partyFrom, parseId, report, required, resolveSigner } from "../../offchain/cli/index.js";
import { challengeJob, gameRows } from "../../offchain/cli/disputes.js";

interface Args {
  job: string | undefined;
  model: string | undefined;
  noApprove: boolean;
  from: string | undefined;
}

export default action(async (a: Args, hre: HardhatRuntimeEnvironment) => {
  const from = partyFrom(a.from, "dispute open moves funds (the bond)");
  const p = await openProtocol(hre);
  const challenger = await resolveSigner(p.connection, from);
  const jobId = parseId(a.job, "--job");
  const r = await challengeJob(p, challenger, jobId, required(a.model, "--model"), { approve: !a.noApprove });
  report(`Disputed job ${jobId}: game ${r.game}`, [
    ["ran", `${a.model} (${r.run.ms.toFixed(1)} ms)`],
    // The worker posts its trace root as its first move; the challenger's is bound from the opening.
    ["your trace root", `${r.view.challengerRoot} (its output differs from the one submitted)`],
    ["bond", `${formatVtn(r.bond)} posted${r.approval ? " (approved first)" : ""}`],
    // Committed first, opened in a later block: the rank (not the opening's order) decides which
    // winning game earns the reward, so a copy of this claim, committed later, ranks behind it.
    ["commitment", `rank ${r.rank}${r.commit ? "" : " (already on chain from an earlier run: kept)"}`],
    ["commit tx", r.commit?.hash],
    ["commit gas", r.commit ? formatGas(r.commit.gasUsed) : undefined],
    ...gameRows(r.view).filter(([key]) => key !== "job" && key !== "trace roots" && key !== "challenger"),
    ["tx", r.receipt.hash],
    ["gas used", formatGas(r.receipt.gasUsed)],
  ]);
  return r;
});
