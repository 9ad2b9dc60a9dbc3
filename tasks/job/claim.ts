import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { action, formatGas, nextBlockTime, claimJob, formatTime, formatVtn, openProtocol, partyFrom, parseId, report, resolveSigner } from "../../offchain/cli/index.js";

interface Args {
  job: string | undefined;
  from: string | undefined;
}

export default action(async (a: Args, hre: HardhatRuntimeEnvironment) => {
  const from = partyFrom(a.from, "job claim locks the sender's stake");
  const p = await openProtocol(hre);
  const worker = await resolveSigner(p.connection, from);
  const jobId = parseId(a.job, "--job");
  const result = await claimJob(p, worker, jobId);
  report(`Claimed job ${jobId}`, [
    ["worker", await worker.getAddress()],
    ["stake locked", formatVtn(result.lockedStake)],
    ["result due", formatTime(result.resultDue, await nextBlockTime(p))],
    ["tx", result.receipt.hash],
    ["gas used", formatGas(result.receipt.gasUsed)],
  ]);
  return result;
});
