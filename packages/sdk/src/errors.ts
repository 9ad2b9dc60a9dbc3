/**
 * Errors the SDK throws: one base class with a stable `code` to branch on, and a class per kind
 * of failure. A message is a complete sentence meant to be shown as is; it never holds raw
 * transaction bytes (long hex is cut, see {@link scrubHex}). `cause` keeps the original error.
 */

/** The stable codes: new ones may be added, existing ones never change meaning. */
export type VeritensorErrorCode =
  /** A problem without a more precise code (the repository's own tasks use it). */
  | "ERROR"
  /** An argument the SDK checks before sending (a malformed address, an empty input...). */
  | "INVALID_ARGUMENT"
  /** No model has that id. */
  | "UNKNOWN_MODEL"
  /** The model is deprecated and takes no new jobs. */
  | "MODEL_DEPRECATED"
  /** The fee is below the escrow's minimum for the model (and callback). */
  | "FEE_TOO_LOW"
  /** The account holds too few tokens. */
  | "INSUFFICIENT_BALANCE"
  /** The escrow may not spend enough of the account's tokens (approve first, or let the SDK). */
  | "INSUFFICIENT_ALLOWANCE"
  /** The input does not fit the model, or is given both or neither inline and by URI. */
  | "INVALID_INPUT"
  /** The deadline is in the past or too far ahead. */
  | "INVALID_DEADLINE"
  /** The consumer or its callback gas limit is refused. */
  | "INVALID_CALLBACK"
  /** New jobs are paused by governance. */
  | "PAUSED"
  /** No job has that id. */
  | "UNKNOWN_JOB"
  /** The job's status does not allow the call. */
  | "WRONG_STATUS"
  /** A waited-for job was rejected: a dispute proved its result wrong (the fee is refunded). */
  | "JOB_REJECTED"
  /** A waited-for job ended without a result: cancelled or expired (the fee is refunded). */
  | "JOB_REFUNDED"
  /** A wait ran out of time. */
  | "TIMEOUT"
  /** A contract reverted with a protocol error that has no code of its own (see `errorName`). */
  | "REVERTED"
  /** A contract reverted with data no protocol ABI decodes. */
  | "UNKNOWN_REVERT"
  /** The JSON-RPC endpoint cannot be reached or answered with an error. */
  | "NETWORK"
  /** No protocol deployment is known for the chain, or none is at the given addresses. */
  | "NOT_DEPLOYED"
  /** A transaction must be sent but the client has no signer. */
  | "NO_SIGNER"
  /** A transaction failed for another reason (dropped, replaced, refused by the node). */
  | "TRANSACTION_FAILED";

export interface VeritensorErrorOptions {
  readonly cause?: unknown;
  readonly code?: VeritensorErrorCode;
}

/** Hex strings longer than this are cut in messages (an address is 42 characters, a hash 66). */
const MAX_HEX = 74;

/** `text` with every long 0x-hex run (calldata, a signed transaction) cut to its start and its size. */
export function scrubHex(text: string): string {
  return text.replace(/0x[0-9a-fA-F]+/g, (hex) => (hex.length <= MAX_HEX ? hex : `${hex.slice(0, 18)}…(${(hex.length - 2) / 2} bytes)`));
}

export class VeritensorError extends Error {
  override readonly name: string = "VeritensorError";
  readonly code: VeritensorErrorCode;

  constructor(message: string, options: VeritensorErrorOptions = {}) {
    super(scrubHex(message), options.cause === undefined ? undefined : { cause: options.cause });
    this.code = options.code ?? "ERROR";
  }

  static is(e: unknown): e is VeritensorError {
    return e instanceof VeritensorError;
  }
}

/** A contract call reverted with a custom error (decoded by the protocol's ABIs). */
export class ContractRevertError extends VeritensorError {
  override readonly name: string = "ContractRevertError";
  /** The custom error's name (`JobManagerInsufficientFee`), or undefined when the data is unknown. */
  readonly errorName: string | undefined;
  /** Its arguments, in order. */
  readonly args: readonly unknown[];

  constructor(message: string, errorName: string | undefined, args: readonly unknown[], options: VeritensorErrorOptions) {
    super(message, options);
    this.errorName = errorName;
    this.args = args;
  }
}

/** A wait (for a job, a transaction) ran out of time: code TIMEOUT. */
export class TimeoutError extends VeritensorError {
  override readonly name: string = "TimeoutError";
  constructor(message: string, options: Omit<VeritensorErrorOptions, "code"> = {}) {
    super(message, { ...options, code: "TIMEOUT" });
  }
}

/** A waited-for job ended without a result: code JOB_REJECTED or JOB_REFUNDED. */
export class JobFailedError extends VeritensorError {
  override readonly name: string = "JobFailedError";
  readonly jobId: bigint;
  constructor(message: string, jobId: bigint, code: "JOB_REJECTED" | "JOB_REFUNDED") {
    super(message, { code });
    this.jobId = jobId;
  }
}

/** The endpoint failed: code NETWORK. */
export class NetworkError extends VeritensorError {
  override readonly name: string = "NetworkError";
  constructor(message: string, options: Omit<VeritensorErrorOptions, "code"> = {}) {
    super(message, { ...options, code: "NETWORK" });
  }
}

/** Throws a VeritensorError (code `code`, default ERROR) with `message` unless `condition` holds. */
export function ensure(condition: unknown, message: string | (() => string), code: VeritensorErrorCode = "ERROR"): asserts condition {
  if (!condition) throw new VeritensorError(typeof message === "string" ? message : message(), { code });
}
