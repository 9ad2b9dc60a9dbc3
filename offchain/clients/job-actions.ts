/**
 * Inference jobs, one function per step of docs' flow: request (escrow the fee; a single input, or
 * a batch of inputs for the same model), claim (lock stake), submit (the output; a batch's items'
 * outputs concatenated), finalize (after the challenge window; a consumer job with its output
 * bytes, read back from its `ResultSubmitted`), plus expire and cancel. Each checks what it
 * can before sending, so that the usual mistakes get a precise message; anything else is decoded
 * from the revert.
 */
import type { ContractTransactionReceipt, EventFragment, Signer } from "ethers";
import { LogDescription, ZeroAddress, ZeroHash, isAddress } from "ethers";

import type { IJobManager } from "../../types/ethers-contracts/jobs/JobManager.js";
import { ensureFunds } from "./allowance.js";
import { VeritensorError } from "./errors.js";
import type { FeeQuote } from "./fees.js";
import { protocolFeeOf, quoteFee } from "./fees.js";
import { formatBps, formatDuration, formatShape, formatTime, formatVtn } from "./format.js";
import { jobTerms, rememberTerms, submittedCommitments, submittedOutput } from "./job-events.js";
import { JobStatus, getJob } from "./job-reads.js";
import { requireBytes32 } from "./models.js";
import type { Protocol } from "./protocol.js";
import { nextBlockTime, read, send } from "./protocol.js";
import { jobStatusName } from "./revert.js";
import { outputCommitmentOf } from "./tensors.js";
import { commitBatch } from "../commitments/batch.js";
import type { JobTerms } from "./terms.js";
import { termsFromEvent } from "./terms.js";

type JobEventName = Parameters<Protocol["jobManager"]["interface"]["getEvent"]>[0];

/** Event fragments of the escrow by name, with their topics (ethers hashes a topic on every lookup). */
const eventCache = new WeakMap<object, Map<string, { fragment: EventFragment; topic: string }>>();

/** The escrow's `name` events in a receipt, decoded; logs are matched by address and topic first. */
function receiptEvents(p: Protocol, receipt: ContractTransactionReceipt, name: JobEventName): LogDescription[] {
  const iface = p.jobManager.interface;
  let byName = eventCache.get(iface);
  if (!byName) eventCache.set(iface, (byName = new Map()));
  let ev = byName.get(name);
  if (!ev) {
    const fragment = iface.getEvent(name)!;
    byName.set(name, (ev = { fragment, topic: fragment.topicHash }));
  }
  const { fragment, topic } = ev;
  const escrow = p.addresses.jobManager.toLowerCase();
  return receipt.logs
    .filter((log) => log.topics[0] === topic && log.address.toLowerCase() === escrow)
    .map((log) => new LogDescription(fragment, topic, iface.decodeEventLog(fragment, log.data, log.topics)));
}

export interface RequestInput {
  readonly modelId: bigint;
  /** Canonical input bytes (inline), or… */
  readonly input?: Uint8Array;
  /** …a URI with the input's tensor commitment. */
  readonly inputUri?: string;
  readonly inputCommitment?: string;
  /**
   * Defaults to the minimum ({@link FeeQuote}'s `minimum`: the model price, and with a consumer the
   * callback fee, after the protocol fee).
   */
  readonly fee?: bigint;
  /** Seconds from now. */
  readonly deadlineIn: number;
  readonly consumer?: string;
  readonly callbackGasLimit?: number;
  /** Approve the fee when the allowance is short (default true). */
  readonly approve?: boolean;
}

/** A batch request: several inputs for one model in one job (see IJobManager.requestBatch). */
export interface BatchRequestInput extends Omit<RequestInput, "input"> {
  /** The inputs inline, each the model's canonical input bytes, in order; or… */
  readonly inputs?: readonly Uint8Array[];
  /** …with `inputUri` and `inputCommitment` (the batch commitment of the items), how many inputs are there. */
  readonly batchSize?: number;
}

export interface RequestResult {
  readonly jobId: bigint;
  /** Inputs the job carries (1 for a single job). */
  readonly batchSize: bigint;
  readonly fee: bigint;
  /** The treasury's part of `fee` (paid at finalization). */
  readonly protocolFee: bigint;
  /** The part of `fee` paid to the job's finalizer for its consumer's callback (0 without consumer). */
  readonly callbackFee: bigint;
  readonly quote: FeeQuote;
  readonly deadline: bigint;
  readonly inputCommitment: string;
  /** The job's terms, as every later call passes them back. */
  readonly terms: JobTerms;
  readonly receipt: ContractTransactionReceipt;
  readonly approval?: ContractTransactionReceipt;
}

/** Requests one inference (`requestInference`): one input, inline or by URI. */
export async function requestInference(p: Protocol, requester: Signer, r: RequestInput): Promise<RequestResult> {
  return sendRequest(p, requester, r, undefined);
}

/**
 * Requests one job over several inputs of the same model (`requestBatch`): inline (`inputs`, each
 * the model's input size; they go on chain concatenated) or by URI (`inputUri`, `inputCommitment`
 * the batch commitment, `batchSize`). The fee must cover the price once per input; the job is
 * claimed, submitted (the outputs concatenated), disputed and settled as one.
 */
export async function requestBatch(p: Protocol, requester: Signer, r: BatchRequestInput): Promise<RequestResult> {
  const inline = r.inputs !== undefined;
  if (inline === (r.batchSize !== undefined)) {
    throw new VeritensorError("give a batch's inputs either inline (one file each) or by URI with their number (batch size)");
  }
  const size = inline ? r.inputs!.length : r.batchSize!;
  const max = Number(await read(p, "reading the largest batch size", () => p.jobManager.MAX_BATCH_SIZE()));
  if (!Number.isInteger(size) || size < 1 || size > max) {
    throw new VeritensorError(`a batch carries 1 to ${max} inputs, not ${size}`);
  }
  const input = inline ? Buffer.concat(r.inputs!.map((x) => Buffer.from(x))) : undefined;
  return sendRequest(p, requester, { ...r, ...(input === undefined ? {} : { input }) }, inline ? { size, items: r.inputs! } : { size });
}

/** A request of `size` inputs, with the items when they are inline (checked one by one). */
interface Batch {
  readonly size: number;
  readonly items?: readonly Uint8Array[];
}

/** What requestInference (no `batch`) and requestBatch share: checks, the fee quote, approval and the request. */
async function sendRequest(p: Protocol, requester: Signer, r: RequestInput, batch: Batch | undefined): Promise<RequestResult> {
  const consumer = r.consumer ?? ZeroAddress;
  if (!isAddress(consumer)) throw new VeritensorError(`consumer "${consumer}" is not an address`);
  const callbackGasLimit = r.callbackGasLimit ?? (consumer === ZeroAddress ? 0 : 100_000);
  const batchSize = batch?.size ?? 1;
  const quote = await quoteFee(p, r.modelId, consumer === ZeroAddress ? 0n : BigInt(callbackGasLimit), BigInt(batchSize));
  if (quote.deprecated) throw new VeritensorError(`model ${r.modelId} is deprecated and takes no new jobs`);
  const fee = r.fee ?? quote.minimum;
  if (fee < quote.minimum) {
    const callback = quote.callbackFee > 0n ? ` and the callback fee ${formatVtn(quote.callbackFee)} (${callbackGasLimit} gas)` : "";
    const model = batchSize === 1 ? `model price ${formatVtn(quote.price)}` : `model price ${formatVtn(quote.price)} × ${batchSize} inputs`;
    throw new VeritensorError(
      `fee ${formatVtn(fee)} is below the minimum ${formatVtn(quote.minimum)} ` +
        `(${model}${callback} after a protocol fee of ${formatBps(quote.protocolFeeBps)} of the fee)`,
    );
  }

  const inline = r.input !== undefined && r.input.length > 0;
  if (inline === (r.inputUri !== undefined && r.inputUri !== "")) {
    throw new VeritensorError("give the input either inline (--input FILE) or by URI (--input-uri with --input-commitment)");
  }
  if (inline) await checkInputSizes(p, r.modelId, quote.inputElements, batch?.items ?? [r.input!]);
  if (!inline && (r.inputCommitment === undefined || r.inputCommitment === "")) {
    throw new VeritensorError(`an input given by URI needs its ${batchSize === 1 ? "tensor" : "batch"} commitment (--input-commitment)`);
  }
  const inputCommitment = inline ? commitBatch(r.input!, batchSize) : requireBytes32(r.inputCommitment!, "input commitment");

  const params = await p.jobManager.params();
  if (!Number.isInteger(r.deadlineIn) || r.deadlineIn <= 0) {
    throw new VeritensorError(`deadline ${r.deadlineIn} s from now is not in the future: give a time from now greater than 0 (e.g. 600, 10m, 1h)`);
  }
  if (r.deadlineIn > Number(params.maxJobDuration)) {
    throw new VeritensorError(
      `deadline ${formatDuration(r.deadlineIn)} from now is too far: at most ${formatDuration(params.maxJobDuration)}`,
    );
  }
  const deadline = (await nextBlockTime(p)) + BigInt(r.deadlineIn);

  const { approval } = await ensureFunds(p, requester, p.addresses.jobManager, fee, {
    approve: r.approve ?? true,
    purpose: `the fee of ${formatVtn(fee)}`,
  });
  const request: IJobManager.RequestParamsStruct = {
    modelId: r.modelId,
    input: inline ? r.input! : "0x",
    inputURI: inline ? "" : r.inputUri!,
    inputCommitment: inline ? ZeroHash : inputCommitment,
    fee,
    deadline,
    consumer,
    callbackGasLimit,
  };
  const receipt = await send(p, `requesting ${batch ? `a batch of ${batchSize} inferences` : "an inference"} of model ${r.modelId}`, () =>
    batch ? p.jobManager.connect(requester).requestBatch(request, batchSize) : p.jobManager.connect(requester).requestInference(request),
  );
  const [event] = receiptEvents(p, receipt, "JobRequested");
  if (!event) throw new VeritensorError("the request emitted no JobRequested event");
  const jobId = event.args.jobId as bigint;
  const terms = termsFromEvent(event.args.terms as IJobManager.JobTermsStructOutput);
  rememberTerms(p, jobId, terms);
  return {
    jobId,
    batchSize: BigInt(batchSize),
    fee,
    protocolFee: protocolFeeOf(fee, quote.protocolFeeBps),
    callbackFee: quote.callbackFee,
    quote,
    deadline,
    inputCommitment: terms.inputCommitment,
    terms,
    receipt,
    approval,
  };
}

/** Each inline input must be the model's size: the one wrong is named (the item, in a batch). */
async function checkInputSizes(p: Protocol, modelId: bigint, inputElements: bigint, items: readonly Uint8Array[]): Promise<void> {
  const wrong = items.findIndex((x) => x.length !== Number(inputElements) * 4);
  if (wrong < 0) return;
  const model = await p.registry.getModel(modelId);
  const which = items.length === 1 ? "the input" : `input ${wrong} of the batch`;
  throw new VeritensorError(
    `${which} has ${items[wrong]!.length / 4} elements; model ${modelId} takes ${inputElements} (shape ${formatShape(model.inputShape)})`,
  );
}

export interface ClaimResult {
  readonly lockedStake: bigint;
  readonly resultDue: bigint;
  readonly receipt: ContractTransactionReceipt;
}

export async function claimJob(p: Protocol, worker: Signer, jobId: bigint): Promise<ClaimResult> {
  const job = await getJob(p, jobId);
  if (job.status !== JobStatus.Open) {
    throw new VeritensorError(`job ${jobId} is ${jobStatusName(job.status)}; only an Open job can be claimed`);
  }
  const now = await nextBlockTime(p);
  if (now > job.deadline) {
    throw new VeritensorError(`the deadline of job ${jobId} passed at ${formatTime(job.deadline, now)}; it can only be expired`);
  }
  const address = await worker.getAddress();
  const [info, minStake] = await Promise.all([p.staking.stakeOf(address), p.staking.minStake()]);
  const lock = job.lock;
  if (info.staked < minStake) {
    throw new VeritensorError(
      `${address} has ${formatVtn(info.staked)} staked, below the minimum stake of ${formatVtn(minStake)}: ` +
        `\`npx hardhat stake add --from ${address} --amount … --network ${p.networkName}\` first`,
    );
  }
  if (info.staked - info.locked < lock) {
    throw new VeritensorError(
      `claiming job ${jobId} locks ${formatVtn(lock)} of stake; ${address} has only ${formatVtn(info.staked - info.locked)} free`,
    );
  }
  return sendClaim(p, worker, jobId);
}

/**
 * The claim transaction alone, without {@link claimJob}'s checks (which exist to turn a revert
 * into advice): for callers that have just read the job and the stake themselves, like the
 * worker node, for which every extra call is a round trip per job. A revert still becomes a
 * VeritensorError.
 */
export async function sendClaim(p: Protocol, worker: Signer, jobId: bigint): Promise<ClaimResult> {
  const terms = await jobTerms(p, jobId);
  const receipt = await send(p, `claiming job ${jobId}`, () => p.jobManager.connect(worker).claim(jobId, terms));
  const [event] = receiptEvents(p, receipt, "JobClaimed");
  return { lockedStake: event!.args.lockedStake as bigint, resultDue: event!.args.resultDue as bigint, receipt };
}

export interface SubmitResult {
  readonly outputCommitment: string;
  readonly challengeEnd: bigint;
  readonly receipt: ContractTransactionReceipt;
}

export async function submitResult(
  p: Protocol,
  worker: Signer,
  jobId: bigint,
  output: Uint8Array,
): Promise<SubmitResult> {
  const job = await getJob(p, jobId);
  if (job.status !== JobStatus.Claimed) {
    throw new VeritensorError(`job ${jobId} is ${jobStatusName(job.status)}; a result can only be submitted for a Claimed job`);
  }
  const address = await worker.getAddress();
  if (job.worker.toLowerCase() !== address.toLowerCase()) {
    throw new VeritensorError(`job ${jobId} was claimed by ${job.worker}, not by ${address}`);
  }
  const outputElements = job.outputElements;
  if (output.length !== Number(outputElements * job.batchSize) * 4) {
    const model = await p.registry.getModel(job.modelId);
    const batch = job.batchSize === 1n ? "" : ` for each of the job's ${job.batchSize} inputs, ${outputElements * job.batchSize} in all, concatenated`;
    throw new VeritensorError(
      `the output has ${output.length / 4} elements; model ${job.modelId} produces ${outputElements} ` +
        `(shape ${formatShape(model.outputShape)})${batch}`,
    );
  }
  return sendSubmit(p, worker, jobId, output);
}

/**
 * The submission alone, without {@link submitResult}'s checks (see {@link sendClaim}). A batch's
 * `output` is its items' outputs concatenated, committed item by item (outputCommitmentOf).
 */
export async function sendSubmit(p: Protocol, worker: Signer, jobId: bigint, output: Uint8Array): Promise<SubmitResult> {
  const terms = await jobTerms(p, jobId);
  const outputCommitment = outputCommitmentOf(output, terms.outputElements);
  const receipt = await send(p, `submitting the result of job ${jobId}`, () =>
    p.jobManager.connect(worker).submitResult(jobId, terms, output, outputCommitment),
  );
  const [event] = receiptEvents(p, receipt, "ResultSubmitted");
  return { outputCommitment, challengeEnd: event!.args.challengeEnd as bigint, receipt };
}

export interface FinalizeResult {
  readonly worker: string;
  /** The worker's own part: the fee less the model's price, the protocol fee and the callback fee. */
  readonly workerFee: bigint;
  readonly modelFee: bigint;
  readonly protocolFee: bigint;
  /** The consumer job's callback fee, credited to the caller for the callback's gas (0 without consumer). */
  readonly callbackFee: bigint;
  /** "delivered", "failed" (with the reason bytes) or undefined when there is no consumer. */
  readonly callback?: { readonly status: "delivered" | "failed"; readonly consumer: string; readonly reason?: string };
  readonly receipt: ContractTransactionReceipt;
}

export interface FinalizeOptions {
  /** Wait for the end of the challenge window instead of failing. */
  readonly wait?: boolean;
  /** Called once before waiting, with the seconds left. */
  readonly onWait?: (secondsLeft: bigint, end: bigint) => void;
  /** Poll interval while waiting, in ms. */
  readonly pollMs?: number;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function finalizeJob(p: Protocol, caller: Signer, jobId: bigint, o: FinalizeOptions = {}): Promise<FinalizeResult> {
  const job = await getJob(p, jobId);
  if (job.status !== JobStatus.Submitted) {
    throw new VeritensorError(`job ${jobId} is ${jobStatusName(job.status)}; only a Submitted job can be finalized`);
  }
  if (job.openDisputes > 0n) throw new VeritensorError(`job ${jobId} has ${job.openDisputes} open dispute(s); it finalizes once they are settled`);
  let now = await nextBlockTime(p);
  if (now < job.timer) {
    if (!o.wait) {
      throw new VeritensorError(
        `the challenge window of job ${jobId} is still open: it ends at ${formatTime(job.timer, now)}; ` +
          `finalize after that (or pass --wait)`,
      );
    }
    o.onWait?.(job.timer - now, job.timer);
    while (now < job.timer) {
      await sleep(Math.min(o.pollMs ?? 1000, Number(job.timer - now) * 1000));
      now = await nextBlockTime(p);
    }
  }
  return sendFinalize(p, caller, jobId);
}

/** The submitted result a finalization passes back: the output bytes (a consumer job's callback needs them), or only their commitment. */
export interface SubmittedOutput {
  readonly outputCommitment: string;
  /** The output bytes (as in `ResultSubmitted`); needed for a job with a consumer. */
  readonly output?: Uint8Array;
}

/**
 * The finalization alone, without {@link finalizeJob}'s checks and waiting (see {@link sendClaim}).
 * A job without consumer is finalized with its output commitment (`finalize`); a consumer job with
 * its output bytes (`finalizeWithCallback`: the escrow keeps no output, checks the bytes against the
 * job's result and passes them to the consumer), and the caller is credited its callback fee.
 * `result` is the submitted output; without it (or without the bytes a consumer job needs), it is
 * read from the job's `ResultSubmitted` event (a worker passes its own and saves the round trip).
 */
export async function sendFinalize(p: Protocol, caller: Signer, jobId: bigint, result?: SubmittedOutput): Promise<FinalizeResult> {
  const terms = await jobTerms(p, jobId);
  const withCallback = terms.consumer !== ZeroAddress;
  let receipt: ContractTransactionReceipt;
  let callbackFee = 0n;
  if (withCallback) {
    const [output, fee] = await Promise.all([
      result?.output ?? submittedOutput(p, jobId).then((r) => r.output),
      read(p, `reading the callback fee of job ${jobId}`, () => p.jobManager.callbackFee(terms)),
    ]);
    callbackFee = fee;
    receipt = await send(p, `finalizing job ${jobId} and calling back its consumer ${terms.consumer}`, () =>
      p.jobManager.connect(caller).finalizeWithCallback(jobId, terms, output),
    );
  } else {
    const r = result ?? (await submittedCommitments(p, jobId));
    receipt = await send(p, `finalizing job ${jobId}`, () => p.jobManager.connect(caller).finalize(jobId, terms, r.outputCommitment));
  }
  const [event] = receiptEvents(p, receipt, "JobFinalized");
  const delivered = receiptEvents(p, receipt, "CallbackDelivered")[0];
  const failed = receiptEvents(p, receipt, "CallbackFailed")[0];
  const callback = delivered
    ? { status: "delivered" as const, consumer: delivered.args.consumer as string }
    : failed
      ? { status: "failed" as const, consumer: failed.args.consumer as string, reason: failed.args.reason as string }
      : undefined;
  const worker = event!.args.worker as string;
  // A worker finalizing its own consumer job is credited the callback fee with its part, in one
  // credit (JobFinalized's workerFee): the worker's own part is reported without it.
  const byWorker = worker.toLowerCase() === (await caller.getAddress()).toLowerCase();
  return {
    worker,
    workerFee: (event!.args.workerFee as bigint) - (byWorker ? callbackFee : 0n),
    modelFee: event!.args.modelFee as bigint,
    protocolFee: event!.args.protocolFee as bigint,
    callbackFee,
    callback,
    receipt,
  };
}

export interface ExpireResult {
  readonly outcome: "refunded" | "reopened";
  readonly slashed: bigint;
  readonly receipt: ContractTransactionReceipt;
}

/** Enforces a missed deadline: refunds an open job, or slashes a late worker and reopens/refunds. */
export async function expireJob(p: Protocol, caller: Signer, jobId: bigint): Promise<ExpireResult> {
  const terms = await jobTerms(p, jobId);
  const receipt = await send(p, `expiring job ${jobId}`, () => p.jobManager.connect(caller).expire(jobId, terms));
  const timedOut = receiptEvents(p, receipt, "WorkerTimedOut")[0];
  const reopened = receiptEvents(p, receipt, "JobReopened").length > 0;
  return { outcome: reopened ? "reopened" : "refunded", slashed: (timedOut?.args.slashed as bigint | undefined) ?? 0n, receipt };
}

export interface CancelResult {
  readonly refunded: bigint;
  readonly receipt: ContractTransactionReceipt;
}

/** Withdraws an unclaimed job of `requester`: its fee is credited back at once. */
export async function cancelJob(p: Protocol, requester: Signer, jobId: bigint): Promise<CancelResult> {
  const terms = await jobTerms(p, jobId);
  const who = await requester.getAddress();
  if (who.toLowerCase() !== terms.requester.toLowerCase()) {
    throw new VeritensorError(`job ${jobId} was requested by ${terms.requester}, not ${who}: only its requester may cancel it`);
  }
  const receipt = await send(p, `cancelling job ${jobId}`, () => p.jobManager.connect(requester).cancel(jobId, terms));
  const refunded = receiptEvents(p, receipt, "JobRefunded")[0];
  return { refunded: (refunded?.args.amount as bigint | undefined) ?? 0n, receipt };
}
