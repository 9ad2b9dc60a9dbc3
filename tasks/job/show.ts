import { ZeroAddress } from "ethers";
import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { splitItems } from "../../offchain/commitments/batch.js";
import {
  action,
  auditSummary,
  bytesToInts,
  dequantizeWad,
  describeAssignment,
  formatBps,
  formatInts,
  formatTime,
  formatVtn,
  jobAssignee,
  jobDetails,
  jobStatusName,
  JobStatus,
  modelScales,
  openProtocol,
  parseId,
  report,
  rosterOf,
} from "../../offchain/cli/index.js";

interface Args {
  job: string | undefined;
}

/** The job's lock, and what became of it once the job is settled (the record keeps the amount). */
function stakeLine(status: bigint, locked: bigint, rejection: { slashed: bigint } | undefined): string | undefined {
  if (locked === 0n) return undefined;
  if (status === JobStatus.Finalized) return `${formatVtn(locked)} while the job ran (released at finalization)`;
  if (status === JobStatus.Rejected && rejection) {
    return `${formatVtn(locked)} while the job ran: ${formatVtn(rejection.slashed)} slashed (result proven wrong), ${formatVtn(locked - rejection.slashed)} released`;
  }
  return formatVtn(locked);
}

const argmax = (v: readonly number[]): number => v.reduce((best, x, i) => (x > v[best]! ? i : best), 0);

type Line = [string, string | bigint | number | undefined];

/**
 * The output lines: the output (integers, real values, largest element) of a single job, or of
 * each input of a batch, labelled with its item.
 */
function outputLines(output: Uint8Array | undefined, batchSize: number, outputScaleWad: bigint | undefined): Line[] {
  if (output === undefined) return [];
  return splitItems(output, batchSize).flatMap((bytes, i): Line[] => {
    const values = bytesToInts(bytes);
    const item = batchSize === 1 ? "" : ` (item ${i})`;
    return [
      [`output${item}`, formatInts(values)],
      [`output${item} (real)`, outputScaleWad !== undefined ? `${formatInts(dequantizeWad(values, outputScaleWad))} (× the registry's output scale)` : undefined],
      [`largest output${item}`, `element ${argmax(values)} (the class, for a classifier)`],
    ];
  });
}

/** The input lines: a single job's input (or its URI), or each inline input of a batch. */
function inputLines(input: Uint8Array | undefined, inputUri: string | undefined, batchSize: number): Line[] {
  if (input === undefined) return [["input", inputUri]];
  if (batchSize === 1) return [["input", formatInts(bytesToInts(input))]];
  return splitItems(input, batchSize).map((bytes, i): Line => [`input (item ${i})`, formatInts(bytesToInts(bytes))]);
}

export default action(async (a: Args, hre: HardhatRuntimeEnvironment) => {
  const p = await openProtocol(hre);
  const jobId = parseId(a.job, "--job");
  const d = await jobDetails(p, jobId);
  const j = d.job;
  const n = Number(j.batchSize);
  const outputScaleWad = d.output ? (await modelScales(p, j.modelId)).outputScaleWad : undefined;
  // With a worker roster, an Open job may be claimed only by the worker drawn for the current slot.
  const assignment =
    j.status === JobStatus.Open && (await rosterOf(p)) !== undefined ? describeAssignment(await jobAssignee(p, j.modelId, jobId, j.timer)) : undefined;
  const audit = await auditSummary(p, { jobId, status: j.status, terms: j.terms });
  const timerLabel = j.status === JobStatus.Claimed ? "result due" : j.status === JobStatus.Submitted ? "challenge window ends" : undefined;
  report(`Job ${jobId}: ${jobStatusName(j.status)}${j.openDisputes > 0n ? ` (${j.openDisputes} open disputes)` : ""}`, [
    ["model", j.modelId],
    ["batch size", n === 1 ? undefined : `${n} inputs, settled as one job (its outputs below, item by item)`],
    ["requester", j.requester],
    ["consumer", d.callback ? `${d.callback.consumer} (callback gas ${d.callback.gasLimit}, callback fee ${formatVtn(d.callback.fee)} to its finalizer)` : undefined],
    ["callback", d.callback ? (d.callback.status === "failed" ? "failed (the consumer may retry it with more gas)" : d.callback.status) : undefined],
    ["worker", j.worker === ZeroAddress ? undefined : j.worker],
    [
      "fee",
      `${formatVtn(j.fee)} (model ${formatVtn(j.modelFee)}${n === 1 ? "" : ` for ${n} inputs`}, protocol ${formatVtn(d.protocolFee)} at ${formatBps(j.protocolFeeBps)}, ` +
        `${d.callback ? `callback ${formatVtn(d.callback.fee)}, ` : ""}worker ${formatVtn(j.fee - j.modelFee - d.protocolFee - (d.callback?.fee ?? 0n))})`,
    ],
    ["stake locked", stakeLine(j.status, j.lockedStake, d.rejection)],
    ["a claim locks", j.status === JobStatus.Open ? formatVtn(j.lock) : undefined],
    ["may claim now", assignment],
    ["deadline", formatTime(j.deadline, d.now)],
    [timerLabel ?? "timer", timerLabel ? formatTime(j.timer, d.now) : undefined],
    [n === 1 ? "input commitment" : "input commitment (batch)", d.inputCommitment],
    ...inputLines(d.input, d.inputUri, n),
    [n === 1 ? "output commitment" : "output commitment (batch)", d.outputCommitment],
    // What the escrow stores of the job: the hash of its terms, then of terms and result.
    [d.outputCommitment ? "result hash" : "terms hash", j.commitment],
    ...outputLines(d.output, n, outputScaleWad),
    ["audit", audit],
    ["paid", d.payout ? `worker ${formatVtn(d.payout.workerFee)}, model ${formatVtn(d.payout.modelFee)}, treasury ${formatVtn(d.payout.protocolFee)}` : undefined],
  ]);
  return d;
});
