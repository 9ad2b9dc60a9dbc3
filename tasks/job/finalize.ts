import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { action, formatGas, finalizeJob, formatDuration, formatVtn, openProtocol, parseId, report, resolveSigner } from "../../offchain/cli/index.js";

interface Args {
  job: string | undefined;
  wait: boolean;
  from: string;
}

export default action(async (a: Args, hre: HardhatRuntimeEnvironment) => {
  const p = await openProtocol(hre);
  const caller = await resolveSigner(p.connection, a.from);
  const jobId = parseId(a.job, "--job");
  const result = await finalizeJob(p, caller, jobId, {
    wait: a.wait,
    onWait: (left) => console.log(`Waiting ${formatDuration(left)} for the challenge window of job ${jobId} to end…`),
  });
  report(`Finalized job ${jobId}`, [
    ["worker earned", `${formatVtn(result.workerFee)} (${result.worker})`],
    ["model earned", `${formatVtn(result.modelFee)} (accrued to the model; \`balance distribute\` splits it among developer and contributors)`],
    ["protocol fee", `${formatVtn(result.protocolFee)} (accrued to the model too; \`balance distribute\` pays it to the treasury)`],
    ["callback", result.callback ? `${result.callback.status} to ${result.callback.consumer}` : undefined],
    ["callback fee", result.callback ? `${formatVtn(result.callbackFee)} (credited to the caller, who paid for the callback's gas)` : undefined],
    ["stake unlocked", "yes"],
    ["tx", result.receipt.hash],
    ["gas used", formatGas(result.receipt.gasUsed)],
  ]);
  console.log("Earnings are credited in the job escrow: `npx hardhat balance withdraw --from <account>` pays them out.");
  return result;
});
