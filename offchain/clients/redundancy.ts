/**
 * Redundancy k (contracts/redundancy/RedundantRequests.sol): request k jobs of one input at once,
 * read a group (its jobs, workers and outputs, whether it can be confirmed), confirm it early when
 * all k agree from distinct workers, resolve it after the windows, and settle its refunds and
 * timeout slashes back to its requester. docs/INTEGRATING.md "Redundancy".
 */
import type { ContractTransactionReceipt, Signer } from "ethers";
import { ZeroAddress, ZeroHash } from "ethers";

import type { RedundantRequests } from "../../types/ethers-contracts/index.js";
import type { IJobManager } from "../../types/ethers-contracts/jobs/JobManager.js";
import { commitBatch } from "../commitments/batch.js";
import { ensureFunds } from "./allowance.js";
import { VeritensorError } from "./errors.js";
import { quoteFee } from "./fees.js";
import { formatDuration, formatVtn } from "./format.js";
import { jobTerms, rememberTerms, submittedCommitments } from "./job-events.js";
import { JobStatus } from "./job-reads.js";
import { requireBytes32 } from "./models.js";
import type { Protocol } from "./protocol.js";
import { nextBlockTime, read, send } from "./protocol.js";
import type { JobTerms } from "./terms.js";
import { termsFromEvent } from "./terms.js";

/** Where a group's answer stands (`IRedundantRequests.GroupStatus`). */
export const GroupStatus = { None: 0n, Pending: 1n, Confirmed: 2n, Resolved: 3n } as const;

const GROUP_STATUS_NAMES = ["None", "Pending", "Confirmed", "Resolved"] as const;

export function groupStatusName(status: bigint): string {
  return GROUP_STATUS_NAMES[Number(status)] ?? `status ${status}`;
}

/** The redundancy contract of the deployment, or a message saying it has none. */
export function redundancyOf(p: Protocol): RedundantRequests {
  if (p.redundancy === undefined) {
    throw new VeritensorError(`the deployment on network ${p.networkName} has no redundancy contract (Redundancy#RedundantRequests): redeploy the protocol`);
  }
  return p.redundancy;
}

export interface RedundantRequestInput {
  readonly modelId: bigint;
  /** Canonical input bytes (inline), or… */
  readonly input?: Uint8Array;
  /** …a URI with the input's tensor commitment. */
  readonly inputUri?: string;
  readonly inputCommitment?: string;
  /** Jobs in the group: 2 to `MAX_REDUNDANCY`. */
  readonly k: number;
  /** The value the group's output decides, which the k locks must cover (token wei; default 0). */
  readonly value?: bigint;
  /** Fee per job; defaults to the least that both the escrow accepts and makes k locks cover `value`. */
  readonly fee?: bigint;
  /** Seconds from now. */
  readonly deadlineIn: number;
  /** Approve the k fees when the allowance is short (default true). */
  readonly approve?: boolean;
}

export interface RedundantRequestResult {
  readonly groupId: bigint;
  readonly jobIds: readonly bigint[];
  readonly fee: bigint;
  /** The stake each job's claim locks. */
  readonly lock: bigint;
  readonly value: bigint;
  /** The group's jobs' terms (the same for all). */
  readonly terms: JobTerms;
  readonly receipt: ContractTransactionReceipt;
  readonly approval?: ContractTransactionReceipt;
}

/**
 * Requests a group of `k` jobs of one input. The fee per job defaults to the larger of the escrow's
 * minimum and the least fee whose lock, k times, covers `value` (the contract's `feeToCover`).
 */
export async function requestRedundant(p: Protocol, requester: Signer, r: RedundantRequestInput): Promise<RedundantRequestResult> {
  const rr = redundancyOf(p);
  const max = Number(await read(p, "reading the largest redundancy", () => rr.MAX_REDUNDANCY()));
  if (!Number.isInteger(r.k) || r.k < 2 || r.k > max) throw new VeritensorError(`redundancy is 2 to ${max} jobs, not ${r.k}`);
  const value = r.value ?? 0n;
  const quote = await quoteFee(p, r.modelId);
  if (quote.deprecated) throw new VeritensorError(`model ${r.modelId} is deprecated and takes no new jobs`);
  const cover = await read(p, "quoting the fee that covers the value", () => rr.feeToCover(r.k, value));
  const fee = r.fee ?? (cover > quote.minimum ? cover : quote.minimum);
  if (fee < quote.minimum) throw new VeritensorError(`fee ${formatVtn(fee)} per job is below the model's minimum ${formatVtn(quote.minimum)}`);
  if (fee < cover) {
    const lock = await rr.lockFor(fee);
    throw new VeritensorError(
      `${r.k} locks of ${formatVtn(lock)} do not cover the value ${formatVtn(value)}: a job's lock grows with its fee, ` +
        `raise the fee to at least ${formatVtn(cover)} per job`,
    );
  }
  const inline = r.input !== undefined && r.input.length > 0;
  if (inline === (r.inputUri !== undefined && r.inputUri !== "")) {
    throw new VeritensorError("give the input either inline (--input FILE) or by URI (--input-uri with --input-commitment)");
  }
  if (inline && r.input!.length !== Number(quote.inputElements) * 4) {
    throw new VeritensorError(`the input has ${r.input!.length / 4} elements; model ${r.modelId} takes ${quote.inputElements}`);
  }
  if (!inline && (r.inputCommitment === undefined || r.inputCommitment === "")) {
    throw new VeritensorError("an input given by URI needs its tensor commitment (--input-commitment)");
  }
  const params = await p.jobManager.params();
  if (!Number.isInteger(r.deadlineIn) || r.deadlineIn <= 0 || r.deadlineIn > Number(params.maxJobDuration)) {
    throw new VeritensorError(`deadline ${r.deadlineIn} s from now: give a time from now, at most ${formatDuration(params.maxJobDuration)}`);
  }
  const total = fee * BigInt(r.k);
  const { approval } = await ensureFunds(p, requester, await rr.getAddress(), total, {
    approve: r.approve ?? true,
    purpose: `${r.k} fees of ${formatVtn(fee)}`,
  });
  const request: IJobManager.RequestParamsStruct = {
    modelId: r.modelId,
    input: inline ? r.input! : "0x",
    inputURI: inline ? "" : r.inputUri!,
    inputCommitment: inline ? ZeroHash : requireBytes32(r.inputCommitment!, "input commitment"),
    fee,
    deadline: (await nextBlockTime(p)) + BigInt(r.deadlineIn),
    consumer: ZeroAddress,
    callbackGasLimit: 0,
  };
  const receipt = await send(p, `requesting ${r.k} redundant inferences of model ${r.modelId}`, () =>
    rr.connect(requester).request(request, r.k, value),
  );
  const group = receipt.logs.map((log) => safeParse(rr, log)).find((e) => e?.name === "GroupRequested");
  if (!group) throw new VeritensorError("the request emitted no GroupRequested event");
  const escrow = p.addresses.jobManager.toLowerCase();
  const jobs = receipt.logs
    .filter((log) => log.address.toLowerCase() === escrow)
    .map((log) => p.jobManager.interface.parseLog(log))
    .filter((e) => e?.name === "JobRequested");
  const terms = termsFromEvent(jobs[0]!.args.terms as IJobManager.JobTermsStructOutput);
  const jobIds = jobs.map((e) => e!.args.jobId as bigint);
  for (const jobId of jobIds) rememberTerms(p, jobId, terms);
  if (inline && terms.inputCommitment !== commitBatch(r.input!, 1)) throw new VeritensorError("the escrow committed to another input");
  return { groupId: group.args.groupId as bigint, jobIds, fee, lock: group.args.lock as bigint, value, terms, receipt, approval };
}

function safeParse(rr: RedundantRequests, log: { topics: readonly string[]; data: string }) {
  try {
    return rr.interface.parseLog(log);
  } catch {
    return null;
  }
}

/** One job of a group as the escrow has it, with its result's output commitment once submitted. */
export interface GroupJob {
  readonly jobId: bigint;
  readonly status: bigint;
  /** Zero while unclaimed. */
  readonly worker: string;
  readonly outputCommitment?: string;
  readonly openDisputes: bigint;
}

export interface GroupInfo {
  readonly groupId: bigint;
  readonly requester: string;
  readonly k: bigint;
  readonly status: bigint;
  readonly fee: bigint;
  readonly value: bigint;
  /** The group's answer once Confirmed or Resolved. */
  readonly output?: string;
  readonly terms: JobTerms;
  readonly jobs: readonly GroupJob[];
  /** Jobs settled: their refunds and slashes credited to the requester. */
  readonly settled: readonly boolean[];
  /** What the settled-able jobs still hold for the requester (`unsettled`). */
  readonly unsettled: bigint;
  /** What the requester may withdraw from the contract now. */
  readonly requesterBalance: bigint;
  /**
   * Whether `confirm` would pass now with `commonOutput`, and otherwise why not (in words).
   * The same checks as the contract's, read from the escrow.
   */
  readonly confirmable: { readonly ok: true; readonly output: string } | { readonly ok: false; readonly reason: string };
}

/** Group `groupId`: its stored record, its jobs at the escrow with their workers and outputs. */
export async function readGroup(p: Protocol, groupId: bigint): Promise<GroupInfo> {
  const rr = redundancyOf(p);
  const g = await read(p, `reading group ${groupId}`, () => rr.getGroup(groupId));
  const ids = await rr.jobIds(groupId);
  const terms = await jobTerms(p, ids[0]!);
  const jobs: GroupJob[] = [];
  for (const jobId of ids) {
    const job = await p.jobManager.getJob(jobId);
    const submitted = job.status === JobStatus.Submitted || job.status === JobStatus.Finalized || job.status === JobStatus.Rejected;
    const outputCommitment = submitted ? (await submittedCommitments(p, jobId)).outputCommitment : undefined;
    jobs.push({ jobId, status: job.status, worker: job.worker, openDisputes: job.openDisputes, ...(outputCommitment ? { outputCommitment } : {}) });
  }
  const k = Number(g.k);
  const settled = Array.from({ length: k }, (_, i) => (Number(g.settled) & (1 << i)) !== 0);
  return {
    groupId,
    requester: g.requester,
    k: g.k,
    status: g.status,
    fee: g.fee,
    value: g.value,
    ...(g.outputCommitment !== ZeroHash ? { output: g.outputCommitment } : {}),
    terms,
    jobs,
    settled,
    unsettled: await rr.unsettled(groupId),
    requesterBalance: await rr.balanceOf(g.requester),
    confirmable: confirmability(g.status, jobs),
  };
}

/** The contract's checks of `confirm`, on what was read: all results in, equal, undisputed, distinct workers. */
function confirmability(status: bigint, jobs: readonly GroupJob[]): GroupInfo["confirmable"] {
  if (status !== GroupStatus.Pending) return { ok: false, reason: `the group is already ${groupStatusName(status)}` };
  const waiting = jobs.filter((j) => j.status !== JobStatus.Submitted && j.status !== JobStatus.Finalized);
  if (waiting.length > 0) return { ok: false, reason: `job${waiting.length > 1 ? "s" : ""} ${waiting.map((j) => j.jobId).join(", ")} without a standing result` };
  const outputs = new Set(jobs.map((j) => j.outputCommitment));
  if (outputs.size > 1) return { ok: false, reason: "the results disagree: the disputes decide each job, then `resolve` after the windows" };
  const disputed = jobs.find((j) => j.openDisputes > 0n);
  if (disputed) return { ok: false, reason: `job ${disputed.jobId} is under dispute` };
  const workers = new Set(jobs.map((j) => j.worker.toLowerCase()));
  if (workers.size < jobs.length) return { ok: false, reason: "one worker holds two of the jobs: no early finality, the group waits for the windows" };
  return { ok: true, output: jobs[0]!.outputCommitment! };
}

/** Confirms group `groupId` early with the output its jobs agree on (checked first, in words). */
export async function confirmGroup(p: Protocol, caller: Signer, groupId: bigint): Promise<{ output: string; receipt: ContractTransactionReceipt }> {
  const g = await readGroup(p, groupId);
  if (!g.confirmable.ok) throw new VeritensorError(`group ${groupId} cannot be confirmed: ${g.confirmable.reason}`);
  const output = g.confirmable.output;
  const receipt = await send(p, `confirming group ${groupId}`, () => redundancyOf(p).connect(caller).confirm(groupId, g.terms, output));
  return { output, receipt };
}

/**
 * Resolves group `groupId` after its jobs are over, with the output its finalized jobs share (read
 * from their results).
 */
export async function resolveGroup(p: Protocol, caller: Signer, groupId: bigint): Promise<{ output: string; receipt: ContractTransactionReceipt }> {
  const g = await readGroup(p, groupId);
  const finalized = g.jobs.filter((j) => j.status === JobStatus.Finalized);
  const outputs = [...new Set(finalized.map((j) => j.outputCommitment!))];
  if (outputs.length !== 1) {
    throw new VeritensorError(`group ${groupId} has ${outputs.length === 0 ? "no finalized job" : "finalized jobs with different outputs"}: it has no answer`);
  }
  const output = outputs[0]!;
  const receipt = await send(p, `resolving group ${groupId}`, () => redundancyOf(p).connect(caller).resolve(groupId, g.terms, output));
  return { output, receipt };
}

/** Credits the group's requester what its finished jobs returned (refunds, timeout slashes). */
export async function settleGroup(p: Protocol, caller: Signer, groupId: bigint): Promise<{ credited: bigint; receipt: ContractTransactionReceipt }> {
  const rr = redundancyOf(p);
  const credited = await read(p, `settling group ${groupId}`, () => rr.connect(caller).settle.staticCall(groupId));
  const receipt = await send(p, `settling group ${groupId}`, () => rr.connect(caller).settle(groupId));
  return { credited, receipt };
}
