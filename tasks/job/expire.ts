import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { action, expireJob, formatGas, formatVtn, openProtocol, parseId, report, resolveSigner } from "../../offchain/cli/index.js";

interface Args {
  job: string | undefined;
  from: string;
}

export default action(async (a: Args, hre: HardhatRuntimeEnvironment) => {
  const p = await openProtocol(hre);
  const caller = await resolveSigner(p.connection, a.from);
  const jobId = parseId(a.job, "--job");
  const result = await expireJob(p, caller, jobId);
  report(`Expired job ${jobId}`, [
    ["outcome", result.outcome === "reopened" ? "the late worker lost its claim; the job is open again" : "refunded to its requester"],
    ["worker slashed", result.slashed > 0n ? `${formatVtn(result.slashed)} (credited to the requester)` : undefined],
    ["tx", result.receipt.hash],
    ["gas used", formatGas(result.receipt.gasUsed)],
  ]);
  return result;
});
