import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { action, formatGas, formatVtn, jobStatusName, openProtocol, parseId, report, resolveSigner, settleRun } from "../../offchain/cli/index.js";

interface Args {
  job: string | undefined;
  from: string;
}

export default action(async (a: Args, hre: HardhatRuntimeEnvironment) => {
  const p = await openProtocol(hre);
  const jobId = parseId(a.job, "--job");
  const caller = await resolveSigner(p.connection, a.from);
  const r = await settleRun(p, caller, jobId);
  report(`Settled run ${r.run} of subscription ${r.subscriptionId} (job ${jobId}, ${jobStatusName(r.status)})`, [
    ["refund", `${formatVtn(r.refund)} back in the subscription's balance (its consumer may withdraw it)`],
    ["timeout slashes", `${formatVtn(r.slashes)} (what the run's late workers paid) added to the balance`],
    ["tx", r.receipt.hash],
    ["gas used", formatGas(r.receipt.gasUsed)],
  ]);
  return r;
});
