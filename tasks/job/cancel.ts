import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { action, cancelJob, formatGas, formatVtn, openProtocol, parseId, report, resolveSigner } from "../../offchain/cli/index.js";

interface Args {
  job: string | undefined;
  from: string;
}

export default action(async (a: Args, hre: HardhatRuntimeEnvironment) => {
  const p = await openProtocol(hre);
  const requester = await resolveSigner(p.connection, a.from);
  const jobId = parseId(a.job, "--job");
  const result = await cancelJob(p, requester, jobId);
  report(`Cancelled job ${jobId}`, [
    ["refunded", `${formatVtn(result.refunded)} (credited in the job escrow)`],
    ["tx", result.receipt.hash],
    ["gas used", formatGas(result.receipt.gasUsed)],
  ]);
  console.log("The refund is a pull balance: `npx hardhat balance withdraw --from <account>` pays it out.");
  return result;
});
