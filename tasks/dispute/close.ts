import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { action, formatGas, openProtocol, parseId, report, resolveSigner } from "../../offchain/cli/index.js";
import { closeJobDisputes, closeText } from "../../offchain/cli/disputes.js";

interface Args {
  job: string | undefined;
  from: string;
}

export default action(async (a: Args, hre: HardhatRuntimeEnvironment) => {
  const jobId = parseId(a.job, "--job");
  const p = await openProtocol(hre);
  const caller = await resolveSigner(p.connection, a.from);
  const r = await closeJobDisputes(p, caller, jobId);
  report(`Closed the disputes of job ${jobId}`, [
    ["paid", closeText(r.outcome)],
    ["tx", r.receipt.hash],
    ["gas used", formatGas(r.receipt.gasUsed)],
  ]);
  return r;
});
