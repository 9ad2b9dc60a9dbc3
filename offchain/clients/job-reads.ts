/**
 * Reads of a job: its stored state merged with its terms ({@link getJob}), and everything its
 * events add (input, output, payout or rejection; {@link jobDetails}).
 */
import { ZeroAddress, getBytes } from "ethers";

import { protocolFeeOf } from "./fees.js";
import { jobTerms, newestEvents } from "./job-events.js";
import type { Protocol } from "./protocol.js";
import { nextBlockTime, read } from "./protocol.js";
import type { JobTerms } from "./terms.js";

export const JobStatus = { None: 0n, Open: 1n, Claimed: 2n, Submitted: 3n, Finalized: 4n, Refunded: 5n, Rejected: 6n } as const;

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
  /** IJobManager.CallbackStatus: 0 none (yet), 1 delivered, 2 failed. */
  readonly callback: bigint;
  /** Inputs the job carries: 1 for a single job, more for a batch (its input and output are its items', concatenated). */
  readonly batchSize: bigint;
  /** The stake locked for the job: its `lock` while claimed, submitted and after, 0 while open or refunded. */
  readonly lockedStake: bigint;
  readonly hasConsumer: boolean;
  readonly terms: JobTerms;
}

/** IJobManager.CallbackStatus in words (None is "pending" for a consumer job: not finalized yet). */
const CALLBACK_STATUS = ["pending", "delivered", "failed"] as const;

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
    callback: stored.callback,
    batchSize: stored.batchSize,
    lockedStake: LOCK_HELD.has(stored.status) ? terms.lock : 0n,
    hasConsumer: terms.consumer !== ZeroAddress,
    terms,
  };
}

export interface JobDetails {
  readonly job: JobRecord;
  readonly now: bigint;
  /**
   * The consumer, its callback gas, the callback fee (paid out of the fee to whoever finalizes the
   * job, for the callback's gas), and what became of the callback; absent for a job without consumer.
   */
  readonly callback?: {
    readonly consumer: string;
    readonly gasLimit: bigint;
    readonly fee: bigint;
    readonly status: "pending" | "delivered" | "failed";
  };
  /**
   * The protocol fee (the treasury's part): of the fee as paid (finalized), or as it would be. On an
   * escrow with audits, the escrow's `feeSplit` of the job's terms (cut together with the audit share).
   */
  readonly protocolFee: bigint;
  /**
   * The audit pool's share of the fee (credited to the audit manager at finalization), as the
   * escrow's `feeSplit` of the job's terms computes it; absent on an escrow without audits.
   */
  readonly auditFee?: bigint;
  /** The input's tensor commitment (from JobRequested). */
  readonly inputCommitment?: string;
  /** Inline input bytes (from JobRequested), or the input URI. */
  readonly input?: Uint8Array;
  readonly inputUri?: string;
  /** Output bytes and output commitment (from ResultSubmitted), once submitted. */
  readonly output?: Uint8Array;
  readonly outputCommitment?: string;
  /**
   * What finalization paid (from JobFinalized); on an escrow with audits also the audit pool's share,
   * which that event leaves out (its `workerFee` is net of it): worker + model + protocol + audit
   * (+ the callback fee of a consumer job) is the fee.
   */
  readonly payout?: { workerFee: bigint; modelFee: bigint; protocolFee: bigint; auditFee?: bigint };
  /** For a rejected job: the worker's stake slashed and the fee refunded (from JobRejected). */
  readonly rejection?: { slashed: bigint; refund: bigint };
}

/** The job as stored, plus its input, output and commitments from the escrow's events. */
export async function jobDetails(p: Protocol, jobId: bigint): Promise<JobDetails> {
  const job = await getJob(p, jobId);
  const jm = p.jobManager;
  const [requested, submitted, finalized, rejected, now, callbackFee, split] = await Promise.all([
    newestEvents(p, (from, to) => jm.queryFilter(jm.filters.JobRequested(jobId), from, to)),
    newestEvents(p, (from, to) => jm.queryFilter(jm.filters.ResultSubmitted(jobId), from, to)),
    job.status === JobStatus.Finalized ? newestEvents(p, (from, to) => jm.queryFilter(jm.filters.JobFinalized(jobId), from, to)) : [],
    job.status === JobStatus.Rejected ? newestEvents(p, (from, to) => jm.queryFilter(jm.filters.JobRejected(jobId), from, to)) : [],
    nextBlockTime(p),
    job.hasConsumer ? read(p, `reading the callback fee of job ${jobId}`, () => jm.callbackFee(job.terms)) : 0n,
    feeSplitOfJob(p, job.terms),
  ]);
  const req = requested[0]?.args;
  const sub = submitted[submitted.length - 1]?.args;
  const fin = finalized[0]?.args;
  return {
    job,
    now,
    callback: job.hasConsumer
      ? { consumer: job.consumer, gasLimit: job.callbackGasLimit, fee: callbackFee, status: CALLBACK_STATUS[Number(job.callback)] ?? "pending" }
      : undefined,
    protocolFee: split.protocolFee,
    ...(split.auditFee === undefined ? {} : { auditFee: split.auditFee }),
    inputCommitment: job.inputCommitment,
    input: req && req.input !== "0x" ? getBytes(req.input) : undefined,
    inputUri: req && req.inputURI !== "" ? req.inputURI : undefined,
    output: sub ? getBytes(sub.output) : undefined,
    outputCommitment: sub?.outputCommitment,
    payout: fin
      ? {
          workerFee: fin.workerFee,
          modelFee: fin.modelFee,
          protocolFee: fin.protocolFee,
          ...(split.auditFee === undefined ? {} : { auditFee: split.auditFee }),
        }
      : undefined,
    rejection: rejected[0] ? { slashed: rejected[0].args.slashed, refund: rejected[0].args.refunded } : undefined,
  };
}

/** Whether each protocol's escrow has an audit manager (immutable in the escrow: read once). */
const escrowAudited = new WeakMap<Protocol, Promise<boolean>>();

/** Whether `p`'s escrow has an audit manager: its address book says so, or else the escrow itself. */
function hasAudits(p: Protocol): Promise<boolean> {
  if (p.audits !== undefined) return Promise.resolve(true);
  let known = escrowAudited.get(p);
  if (known === undefined) {
    known = read(p, "reading the escrow's audit manager", () => p.jobManager.auditManager()).then((a) => a !== ZeroAddress);
    escrowAudited.set(p, known);
  }
  return known;
}

/**
 * Job `terms`' treasury and audit pool parts of the fee. On an escrow without audits, the mirror of
 * the treasury's share ({@link protocolFeeOf}) and no audit part, as before audits existed; with
 * audits, the escrow's own `feeSplit` view, since the audit rate is fixed by the job's parameter
 * version (not in its terms) and the two parts are cut together.
 */
async function feeSplitOfJob(p: Protocol, terms: JobTerms): Promise<{ protocolFee: bigint; auditFee?: bigint }> {
  if (!(await hasAudits(p))) return { protocolFee: protocolFeeOf(terms.fee, terms.protocolFeeBps) };
  const [protocolFee, auditFee] = await read(p, "reading the job's fee split", () => p.jobManager.feeSplit(terms));
  return { protocolFee, auditFee };
}
