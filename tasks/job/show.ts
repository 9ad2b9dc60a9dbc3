import { ZeroAddress, ZeroHash } from "ethers";
import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import {
  action,
  bytesToInts,
  formatInts,
  formatTime,
  formatVtn,
  jobDetails,
  jobStatusName,
  JobStatus,
  openProtocol,
  parseId,
  report,
} from "../../offchain/clients/index.js";

interface Args {
  job: string | undefined;
}

const argmax = (v: readonly number[]): number => v.reduce((best, x, i) => (x > v[best]! ? i : best), 0);

export default action(async (a: Args, hre: HardhatRuntimeEnvironment) => {
  const p = await openProtocol(hre);
  const jobId = parseId(a.job, "--job");
  const d = await jobDetails(p, jobId);
  const j = d.job;
  const timerLabel = j.status === JobStatus.Claimed ? "result due" : j.status === JobStatus.Submitted ? "challenge window ends" : undefined;
  report(`Job ${jobId}: ${jobStatusName(j.status)}${j.openDisputes > 0n ? ` (${j.openDisputes} open disputes)` : ""}`, [
    ["model", j.modelId],
    ["requester", j.requester],
    ["consumer", j.consumer === ZeroAddress ? undefined : `${j.consumer} (callback gas ${j.callbackGasLimit})`],
    ["worker", j.worker === ZeroAddress ? undefined : j.worker],
    ["fee", `${formatVtn(j.fee)} (model ${formatVtn(j.modelFee)}, protocol ${formatVtn(j.protocolFee)}, worker ${formatVtn(j.fee - j.modelFee - j.protocolFee)})`],
    ["stake locked", j.lockedStake === 0n ? undefined : formatVtn(j.lockedStake)],
    ["deadline", formatTime(j.deadline, d.now)],
    [timerLabel ?? "timer", timerLabel ? formatTime(j.timer, d.now) : undefined],
    ["input commitment", j.inputCommitment],
    ["input", d.input ? formatInts(bytesToInts(d.input)) : d.inputUri],
    ["output commitment", j.outputCommitment === ZeroHash ? undefined : j.outputCommitment],
    ["trace root", j.traceRoot === ZeroHash ? undefined : j.traceRoot],
    ["output", d.output ? formatInts(bytesToInts(d.output)) : undefined],
    ["largest output", d.output ? `element ${argmax(bytesToInts(d.output))} (the class, for a classifier)` : undefined],
    ["paid", d.payout ? `worker ${formatVtn(d.payout.workerFee)}, model ${formatVtn(d.payout.modelFee)}, treasury ${formatVtn(d.payout.protocolFee)}` : undefined],
  ]);
  return d;
});
