/**
 * Inference jobs, one function per step of docs' flow: request (escrow the fee), claim (lock
 * stake), submit (output + trace root), finalize (after the challenge window), plus expire and
 * a full read-back. Each checks what it can before sending, so that the usual mistakes get a
 * precise message; anything else is decoded from the revert.
 */
import type { ContractTransactionReceipt, EventFragment, Signer } from "ethers";
import { AbiCoder, LogDescription, ZeroAddress, ZeroHash, getBytes, isAddress, keccak256 } from "ethers";

import type { IJobManager, JobManager } from "../../types/ethers-contracts/jobs/JobManager.js";
import { JobManager__factory } from "../../types/ethers-contracts/index.js";
import { ensureFunds } from "./allowance.js";
import { VeritensorError } from "./errors.js";
import { formatBps, formatDuration, formatShape, formatTime, formatVtn } from "./format.js";
import { BPS, requireBytes32 } from "./models.js";
import type { Protocol } from "./protocol.js";
import { nextBlockTime, read, send } from "./protocol.js";
import { jobStatusName } from "./revert.js";
import { tensorCommitment } from "./tensors.js";

export const JobStatus = { None: 0n, Open: 1n, Claimed: 2n, Submitted: 3n, Finalized: 4n, Refunded: 5n, Rejected: 6n } as const;

/** What a job's request fixed (see IJobManager.JobTerms): passed back with every later call. */
export interface JobTerms {
  readonly requester: string;
  readonly modelId: bigint;
  readonly fee: bigint;
  readonly modelFee: bigint;
  readonly lock: bigint;
  readonly protocolFeeBps: bigint;
  readonly deadline: bigint;
  readonly outputElements: bigint;
  readonly consumer: string;
  readonly callbackGasLimit: bigint;
  readonly inputCommitment: string;
  /** The escrow's parameter version at request: the job's windows, slash, treasury and dispute manager. */
  readonly paramsVersion: bigint;
}

/**
 * A job as the escrow stores it (status, disputes, timer, worker, commitment) together with its
 * terms from `JobRequested`, so that callers read one record as before the escrow stored only a
 * hash of the terms.
 */
export interface JobRecord extends JobTerms {
  readonly status: bigint;
  readonly openDisputes: bigint;
  readonly timer: bigint;
  readonly worker: string;
  /** The hash the escrow stores: of the terms, then (from submission on) of terms and result. */
  readonly commitment: string;
  /** The stake locked for the job: its `lock` while claimed, submitted and after, 0 while open or refunded. */
  readonly lockedStake: bigint;
  readonly hasConsumer: boolean;
  readonly terms: JobTerms;
}

/** The terms' ABI type, from the contract's own ABI (the argument of `termsHash`), never a copy. */
const TERMS_TUPLE = JobManager__factory.createInterface().getFunction("termsHash").inputs[0]!;

/** The hash a job stores for its terms until its result is submitted (`termsHash` on chain). */
export function termsHash(t: JobTerms): string {
  return keccak256(AbiCoder.defaultAbiCoder().encode([TERMS_TUPLE], [t]));
}

/** The hash a job stores from submission on (`resultHash` on chain): terms and output commitment. */
export function resultHash(t: JobTerms, outputCommitment: string): string {
  return keccak256(AbiCoder.defaultAbiCoder().encode(["bytes32", "bytes32"], [termsHash(t), outputCommitment]));
}

/** Plain terms from a decoded `JobRequested` (an ethers Result). */
export function termsFromEvent(terms: IJobManager.JobTermsStructOutput): JobTerms {
  return {
    requester: terms.requester,
    modelId: terms.modelId,
    fee: terms.fee,
    modelFee: terms.modelFee,
    lock: terms.lock,
    protocolFeeBps: terms.protocolFeeBps,
    deadline: terms.deadline,
    outputElements: terms.outputElements,
    consumer: terms.consumer,
    callbackGasLimit: terms.callbackGasLimit,
    inputCommitment: terms.inputCommitment,
    paramsVersion: terms.paramsVersion,
  };
}

/**
 * Caches below are per escrow: one deployment on one chain, reached through one connection. The
 * connection is part of the key because two chains can hold an escrow at the same address with the
 * same chain id (in-process and local chains deploy deterministically): a cache keyed by address
 * alone would hand one chain's job terms to the other.
 */
const connectionIds = new WeakMap<object, number>();
let connectionsSeen = 0;
function connectionId(p: Protocol): number {
  const provider = p.connection.ethers.provider;
  const known = connectionIds.get(provider);
  if (known !== undefined) return known;
  connectionsSeen += 1;
  connectionIds.set(provider, connectionsSeen);
  return connectionsSeen;
}
const escrowKey = (p: Protocol): string => `${connectionId(p)}:${p.chainId}:${p.addresses.jobManager.toLowerCase()}`;

/** Terms already seen, per escrow and job (they never change; a request or an event scan adds them). */
const termsCache = new Map<string, Map<bigint, JobTerms>>();

function termsOfEscrow(p: Protocol): Map<bigint, JobTerms> {
  const key = escrowKey(p);
  let byId = termsCache.get(key);
  if (!byId) termsCache.set(key, (byId = new Map()));
  return byId;
}

/** Remembers the terms of `jobId` (from a `JobRequested` the caller has already read). */
export function rememberTerms(p: Protocol, jobId: bigint, terms: JobTerms): void {
  termsOfEscrow(p).set(jobId, terms);
}

/** Blocks per `eth_getLogs` call when looking up one job's events (public endpoints cap the range). */
export const LOG_WINDOW = 10_000;

const firstBlocks = new Map<string, Promise<number>>();

/** The block the escrow was deployed in (0 for an escrow that does not say), read once per escrow. */
export function escrowFirstBlock(p: Protocol): Promise<number> {
  const key = escrowKey(p);
  let first = firstBlocks.get(key);
  if (!first) {
    first = p.jobManager.deploymentBlock().then(Number, () => 0);
    firstBlocks.set(key, first);
  }
  return first;
}

/**
 * The newest non-empty result of `query` over windows of {@link LOG_WINDOW} blocks, from the head
 * back to the escrow's deployment block: a job's events are found in one or two calls while the
 * job is live, and no call spans more blocks than public endpoints accept.
 */
export async function newestEvents<T>(p: Protocol, query: (from: number, to: number) => Promise<T[]>): Promise<T[]> {
  const [first, head] = await Promise.all([escrowFirstBlock(p), p.connection.ethers.provider.getBlockNumber()]);
  for (let to = head; to >= first; to -= LOG_WINDOW) {
    const found = await query(Math.max(first, to - LOG_WINDOW + 1), to);
    if (found.length > 0) return found;
  }
  return [];
}

/** The terms of `jobId` from its `JobRequested` event on `jobManager`, searched from block 0 (local chains, tests). */
export async function requestedTerms(jobManager: JobManager, jobId: bigint): Promise<JobTerms> {
  const [event] = await jobManager.queryFilter(jobManager.filters.JobRequested(jobId), 0);
  if (!event) throw new VeritensorError(`job ${jobId} does not exist (no JobRequested event for it)`);
  return termsFromEvent(event.args.terms);
}

/** The terms of `jobId`, from its `JobRequested` event (read once, then remembered). */
export async function jobTerms(p: Protocol, jobId: bigint): Promise<JobTerms> {
  const known = termsOfEscrow(p).get(jobId);
  if (known) return known;
  const jm = p.jobManager;
  const [event] = await read(p, `reading the request of job ${jobId}`, () =>
    newestEvents(p, (from, to) => jm.queryFilter(jm.filters.JobRequested(jobId), from, to)),
  );
  if (!event) throw new VeritensorError(`job ${jobId} does not exist (no JobRequested event for it)`);
  const terms = termsFromEvent(event.args.terms);
  rememberTerms(p, jobId, terms);
  return terms;
}

/** The output commitment of the result submitted for `jobId` (its latest `ResultSubmitted`). */
export async function submittedCommitments(p: Protocol, jobId: bigint): Promise<{ outputCommitment: string }> {
  const jm = p.jobManager;
  const events = await read(p, `reading the result of job ${jobId}`, () =>
    newestEvents(p, (from, to) => jm.queryFilter(jm.filters.ResultSubmitted(jobId), from, to)),
  );
  const last = events[events.length - 1];
  if (!last) throw new VeritensorError(`job ${jobId} has no submitted result`);
  return { outputCommitment: last.args.outputCommitment };
}

type JobEventName = Parameters<Protocol["jobManager"]["interface"]["getEvent"]>[0];

/** Event fragments of the escrow by name, with their topics (ethers hashes a topic on every lookup). */
const eventCache = new WeakMap<object, Map<string, { fragment: EventFragment; topic: string }>>();

/** The escrow's `name` events in a receipt, decoded; logs are matched by address and topic first. */
function jobEvents(p: Protocol, receipt: ContractTransactionReceipt, name: JobEventName): LogDescription[] {
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

const LOCK_HELD = new Set<bigint>([JobStatus.Claimed, JobStatus.Submitted, JobStatus.Finalized, JobStatus.Rejected]);

/** Job `jobId`: its stored state and its terms (see {@link JobRecord}). */
export async function getJob(p: Protocol, jobId: bigint): Promise<JobRecord> {
  const stored = await read(p, `reading job ${jobId}`, () => p.jobManager.getJob(jobId));
  const terms = await jobTerms(p, jobId);
  return {
    ...terms,
    status: stored.status,
    openDisputes: stored.openDisputes,
    timer: stored.timer,
    worker: stored.worker,
    commitment: stored.commitment,
    lockedStake: LOCK_HELD.has(stored.status) ? terms.lock : 0n,
    hasConsumer: terms.consumer !== ZeroAddress,
    terms,
  };
}

export interface FeeQuote {
  readonly price: bigint;
  /** The protocol fee rate now, in basis points of the fee. */
  readonly protocolFeeBps: bigint;
  /** The smallest fee accepted now (see {@link minimumFee}). */
  readonly minimum: bigint;
  /** The protocol fee of a job paying exactly `minimum`. */
  readonly protocolFee: bigint;
  readonly deprecated: boolean;
  readonly inputElements: bigint;
  readonly outputElements: bigint;
}

/** The treasury's part of `fee` at `bps` basis points, rounded down (as the escrow computes it). */
export function protocolFeeOf(fee: bigint, bps: bigint): bigint {
  return (fee * bps) / BigInt(BPS);
}

/**
 * The smallest fee a job on a model priced `price` may offer at a protocol fee rate of `bps`:
 * the least `fee` with `fee - floor(fee * bps / 10000) >= price` (the escrow's rule, and its
 * `minimumFee` view). That difference grows by 0 or 1 per wei of fee, so the least fee is
 * `floor((price - 1) * 10000 / (10000 - bps)) + 1`, and 0 for a free model.
 */
export function minimumFee(price: bigint, bps: bigint): bigint {
  if (bps < 0n || bps >= 10_000n) throw new RangeError(`protocol fee rate ${bps} bps is out of range`);
  if (price <= 0n) return 0n;
  return ((price - 1n) * 10_000n) / (10_000n - bps) + 1n;
}

/** The smallest fee model `modelId` accepts now: its price plus the protocol fee on the fee itself. */
export async function quoteFee(p: Protocol, modelId: bigint): Promise<FeeQuote> {
  const [[price, deprecated, inputElements, outputElements], params] = await Promise.all([
    read(p, `looking up model ${modelId}`, () => p.registry.pricing(modelId)),
    p.jobManager.params(),
  ]);
  const protocolFeeBps = params.protocolFeeBps;
  const minimum = minimumFee(price, protocolFeeBps);
  return {
    price,
    protocolFeeBps,
    minimum,
    protocolFee: protocolFeeOf(minimum, protocolFeeBps),
    deprecated,
    inputElements,
    outputElements,
  };
}

export interface RequestInput {
  readonly modelId: bigint;
  /** Canonical input bytes (inline), or… */
  readonly input?: Uint8Array;
  /** …a URI with the input's tensor commitment. */
  readonly inputUri?: string;
  readonly inputCommitment?: string;
  /** Defaults to the minimum ({@link minimumFee}: the model price after the protocol fee). */
  readonly fee?: bigint;
  /** Seconds from now. */
  readonly deadlineIn: number;
  readonly consumer?: string;
  readonly callbackGasLimit?: number;
  /** Approve the fee when the allowance is short (default true). */
  readonly approve?: boolean;
}

export interface RequestResult {
  readonly jobId: bigint;
  readonly fee: bigint;
  /** The treasury's part of `fee` (paid at finalization). */
  readonly protocolFee: bigint;
  readonly quote: FeeQuote;
  readonly deadline: bigint;
  readonly inputCommitment: string;
  /** The job's terms, as every later call passes them back. */
  readonly terms: JobTerms;
  readonly receipt: ContractTransactionReceipt;
  readonly approval?: ContractTransactionReceipt;
}

export async function requestInference(p: Protocol, requester: Signer, r: RequestInput): Promise<RequestResult> {
  const quote = await quoteFee(p, r.modelId);
  if (quote.deprecated) throw new VeritensorError(`model ${r.modelId} is deprecated and takes no new jobs`);
  const fee = r.fee ?? quote.minimum;
  if (fee < quote.minimum) {
    throw new VeritensorError(
      `fee ${formatVtn(fee)} is below the minimum ${formatVtn(quote.minimum)} ` +
        `(model price ${formatVtn(quote.price)} after a protocol fee of ${formatBps(quote.protocolFeeBps)} of the fee)`,
    );
  }

  const inline = r.input !== undefined && r.input.length > 0;
  if (inline === (r.inputUri !== undefined && r.inputUri !== "")) {
    throw new VeritensorError("give the input either inline (--input FILE) or by URI (--input-uri with --input-commitment)");
  }
  if (inline && r.input!.length !== Number(quote.inputElements) * 4) {
    const model = await p.registry.getModel(r.modelId);
    throw new VeritensorError(
      `the input has ${r.input!.length / 4} elements; model ${r.modelId} takes ${quote.inputElements} ` +
        `(shape ${formatShape(model.inputShape)})`,
    );
  }
  if (!inline && (r.inputCommitment === undefined || r.inputCommitment === "")) {
    throw new VeritensorError("an input given by URI needs its tensor commitment (--input-commitment)");
  }
  const inputCommitment = inline ? tensorCommitment(r.input!) : requireBytes32(r.inputCommitment!, "input commitment");

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

  const consumer = r.consumer ?? ZeroAddress;
  if (!isAddress(consumer)) throw new VeritensorError(`consumer "${consumer}" is not an address`);
  const callbackGasLimit = r.callbackGasLimit ?? (consumer === ZeroAddress ? 0 : 100_000);

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
  const receipt = await send(p, `requesting an inference of model ${r.modelId}`, () =>
    p.jobManager.connect(requester).requestInference(request),
  );
  const [event] = jobEvents(p, receipt, "JobRequested");
  if (!event) throw new VeritensorError("the request emitted no JobRequested event");
  const jobId = event.args.jobId as bigint;
  const terms = termsFromEvent(event.args.terms as IJobManager.JobTermsStructOutput);
  rememberTerms(p, jobId, terms);
  return { jobId, fee, protocolFee: protocolFeeOf(fee, quote.protocolFeeBps), quote, deadline, inputCommitment: terms.inputCommitment, terms, receipt, approval };
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
  const [event] = jobEvents(p, receipt, "JobClaimed");
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
  if (output.length !== Number(outputElements) * 4) {
    const model = await p.registry.getModel(job.modelId);
    throw new VeritensorError(
      `the output has ${output.length / 4} elements; model ${job.modelId} produces ${outputElements} ` +
        `(shape ${formatShape(model.outputShape)})`,
    );
  }
  return sendSubmit(p, worker, jobId, output);
}

/** The submission alone, without {@link submitResult}'s checks (see {@link sendClaim}). */
export async function sendSubmit(p: Protocol, worker: Signer, jobId: bigint, output: Uint8Array): Promise<SubmitResult> {
  const outputCommitment = tensorCommitment(output);
  const terms = await jobTerms(p, jobId);
  const receipt = await send(p, `submitting the result of job ${jobId}`, () =>
    p.jobManager.connect(worker).submitResult(jobId, terms, output, outputCommitment),
  );
  const [event] = jobEvents(p, receipt, "ResultSubmitted");
  return { outputCommitment, challengeEnd: event!.args.challengeEnd as bigint, receipt };
}

export interface FinalizeResult {
  readonly worker: string;
  readonly workerFee: bigint;
  readonly modelFee: bigint;
  readonly protocolFee: bigint;
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

/**
 * The finalization alone, without {@link finalizeJob}'s checks and waiting (see {@link sendClaim}).
 * `result` is the submitted output commitment; without it, it is read from the
 * job's `ResultSubmitted` event (a worker passes its own and saves the round trip).
 */
export async function sendFinalize(
  p: Protocol,
  caller: Signer,
  jobId: bigint,
  result?: { outputCommitment: string },
): Promise<FinalizeResult> {
  const [terms, r] = await Promise.all([jobTerms(p, jobId), result ?? submittedCommitments(p, jobId)]);
  const receipt = await send(p, `finalizing job ${jobId}`, () =>
    p.jobManager.connect(caller).finalize(jobId, terms, r.outputCommitment),
  );
  const [event] = jobEvents(p, receipt, "JobFinalized");
  const delivered = jobEvents(p, receipt, "CallbackDelivered")[0];
  const failed = jobEvents(p, receipt, "CallbackFailed")[0];
  const callback = delivered
    ? { status: "delivered" as const, consumer: delivered.args.consumer as string }
    : failed
      ? { status: "failed" as const, consumer: failed.args.consumer as string, reason: failed.args.reason as string }
      : undefined;
  return {
    worker: event!.args.worker as string,
    workerFee: event!.args.workerFee as bigint,
    modelFee: event!.args.modelFee as bigint,
    protocolFee: event!.args.protocolFee as bigint,
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
  const timedOut = jobEvents(p, receipt, "WorkerTimedOut")[0];
  const reopened = jobEvents(p, receipt, "JobReopened").length > 0;
  return { outcome: reopened ? "reopened" : "refunded", slashed: (timedOut?.args.slashed as bigint | undefined) ?? 0n, receipt };
}

export interface JobDetails {
  readonly job: JobRecord;
  readonly now: bigint;
  /** The consumer called back at finalization, and its gas limit (absent for a job without). */
  readonly callback?: { readonly consumer: string; readonly gasLimit: bigint };
  /** The protocol fee: of the fee as paid (finalized), or as it would be. */
  readonly protocolFee: bigint;
  /** The input's tensor commitment (from JobRequested). */
  readonly inputCommitment?: string;
  /** Inline input bytes (from JobRequested), or the input URI. */
  readonly input?: Uint8Array;
  readonly inputUri?: string;
  /** Output bytes and output commitment (from ResultSubmitted), once submitted. */
  readonly output?: Uint8Array;
  readonly outputCommitment?: string;
  readonly payout?: { workerFee: bigint; modelFee: bigint; protocolFee: bigint };
  /** For a rejected job: the worker's stake slashed and the fee refunded (from JobRejected). */
  readonly rejection?: { slashed: bigint; refund: bigint };
}

/** The job as stored, plus its input, output and commitments from the escrow's events. */
export async function jobDetails(p: Protocol, jobId: bigint): Promise<JobDetails> {
  const job = await getJob(p, jobId);
  const jm = p.jobManager;
  const [requested, submitted, finalized, rejected, now] = await Promise.all([
    newestEvents(p, (from, to) => jm.queryFilter(jm.filters.JobRequested(jobId), from, to)),
    newestEvents(p, (from, to) => jm.queryFilter(jm.filters.ResultSubmitted(jobId), from, to)),
    job.status === JobStatus.Finalized ? newestEvents(p, (from, to) => jm.queryFilter(jm.filters.JobFinalized(jobId), from, to)) : [],
    job.status === JobStatus.Rejected ? newestEvents(p, (from, to) => jm.queryFilter(jm.filters.JobRejected(jobId), from, to)) : [],
    nextBlockTime(p),
  ]);
  const req = requested[0]?.args;
  const sub = submitted[submitted.length - 1]?.args;
  const fin = finalized[0]?.args;
  return {
    job,
    now,
    callback: job.hasConsumer ? { consumer: job.consumer, gasLimit: job.callbackGasLimit } : undefined,
    protocolFee: protocolFeeOf(job.fee, job.protocolFeeBps),
    inputCommitment: job.inputCommitment,
    input: req && req.input !== "0x" ? getBytes(req.input) : undefined,
    inputUri: req && req.inputURI !== "" ? req.inputURI : undefined,
    output: sub ? getBytes(sub.output) : undefined,
    outputCommitment: sub?.outputCommitment,
    payout: fin ? { workerFee: fin.workerFee, modelFee: fin.modelFee, protocolFee: fin.protocolFee } : undefined,
    rejection: rejected[0] ? { slashed: rejected[0].args.slashed, refund: rejected[0].args.refunded } : undefined,
  };
}
