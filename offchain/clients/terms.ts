/**
 * A job's terms: what its request fixed, passed back with every later call, and the hashes the
 * escrow stores of them. The encoding is the contract's own (its ABI), never a copy.
 */
import { AbiCoder, keccak256 } from "ethers";

import type { IJobManager } from "../../types/ethers-contracts/jobs/JobManager.js";
import { JobManager__factory } from "../../types/ethers-contracts/index.js";

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

/** The terms' ABI type, from the contract's own ABI (the argument of `termsHash`), never a copy. */
const TERMS_TUPLE = JobManager__factory.createInterface().getFunction("termsHash").inputs[0]!;

/** The hash a job stores for its terms until its result is submitted (`termsHash` on chain). */
export function termsHash(t: JobTerms): string {
  return keccak256(AbiCoder.defaultAbiCoder().encode([TERMS_TUPLE], [t]));
}

/**
 * The hash a job stores from submission on (`resultHash` on chain): terms and output commitment, its
 * last 4 bytes cleared (the escrow keeps the submission block there; `getJob` clears them too).
 */
export function resultHash(t: JobTerms, outputCommitment: string): string {
  const full = keccak256(AbiCoder.defaultAbiCoder().encode(["bytes32", "bytes32"], [termsHash(t), outputCommitment]));
  return `${full.slice(0, 58)}00000000`;
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
