/**
 * A failed call as an error with a code: the revert data is found in whatever shape the provider
 * gave it, decoded against every custom error of the protocol's contracts, given a stable code,
 * and phrased with its numbers. The repository's clients phrase more errors (offchain/clients/
 * revert.ts); they share {@link revertData} and {@link codeOfError} with this file.
 */
import type { ErrorDescription, Interface } from "ethers";
import { formatUnits } from "ethers";

import type { VeritensorErrorCode } from "./errors.js";
import { ContractRevertError, NetworkError, VeritensorError } from "./errors.js";

const JOB_STATUS = ["None", "Open", "Claimed", "Submitted", "Finalized", "Refunded", "Rejected"] as const;

/** A job status number as its name in IJobManager.JobStatus. */
export function jobStatusName(status: bigint | number): string {
  return JOB_STATUS[Number(status)] ?? `status ${status}`;
}

/** `1500000000000000000n` -> `"1.5 VTN"`, with thousands separators in the integer part. */
export function formatVtn(wei: bigint): string {
  const [int, frac] = formatUnits(wei, 18).split(".");
  const grouped = int!.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return `${grouped}.${frac ?? "0"} VTN`;
}

/** The stable code of each protocol error that has one; any other decoded error is REVERTED. */
const CODES: Readonly<Record<string, VeritensorErrorCode>> = {
  ModelRegistryUnknownModel: "UNKNOWN_MODEL",
  ModelRegistryModelDeprecated: "MODEL_DEPRECATED",
  JobManagerModelDeprecated: "MODEL_DEPRECATED",
  SubscriptionManagerModelDeprecated: "MODEL_DEPRECATED",
  JobManagerInsufficientFee: "FEE_TOO_LOW",
  SubscriptionManagerFeeTooLow: "FEE_TOO_LOW",
  ERC20InsufficientBalance: "INSUFFICIENT_BALANCE",
  ERC20InsufficientAllowance: "INSUFFICIENT_ALLOWANCE",
  JobManagerInvalidInput: "INVALID_INPUT",
  JobManagerInputSizeMismatch: "INVALID_INPUT",
  JobManagerInputCommitmentMismatch: "INVALID_INPUT",
  JobManagerInvalidBatchSize: "INVALID_INPUT",
  JobManagerInvalidDeadline: "INVALID_DEADLINE",
  JobManagerInvalidCallback: "INVALID_CALLBACK",
  JobManagerConsumerHasNoCode: "INVALID_CALLBACK",
  JobManagerConsumerNotApproved: "INVALID_CALLBACK",
  JobManagerPaused: "PAUSED",
  JobManagerUnknownJob: "UNKNOWN_JOB",
  JobManagerWrongStatus: "WRONG_STATUS",
};

/** The code of a protocol error by its name: REVERTED when it has none of its own. */
export function codeOfError(errorName: string): VeritensorErrorCode {
  return CODES[errorName] ?? "REVERTED";
}

type Phrase = (a: readonly unknown[]) => string;
const vtn = (v: unknown): string => formatVtn(BigInt(v as bigint));

/** The errors an integrator meets, in words; others print as `Name(arg, …)`. */
const PHRASES: Readonly<Record<string, Phrase>> = {
  ModelRegistryUnknownModel: ([id]) => `unknown model ${id}: no model is registered with that id`,
  JobManagerModelDeprecated: ([id]) => `model ${id} is deprecated and takes no new jobs`,
  JobManagerInsufficientFee: ([fee, min]) => `fee ${vtn(fee)} is below the minimum ${vtn(min)} (quoteFee gives it)`,
  ERC20InsufficientBalance: ([who, balance, needed]) => `token balance too low: ${who} has ${vtn(balance)}, ${vtn(needed)} is needed`,
  ERC20InsufficientAllowance: ([spender, allowance, needed]) =>
    `allowance too low: ${spender} may spend ${vtn(allowance)}, ${vtn(needed)} is needed (approve it first)`,
  JobManagerInvalidInput: () => "give either an inline input or an input URI with its commitment, not both and not neither",
  JobManagerInputSizeMismatch: ([expected, got]) => `the input has ${Number(got) / 4} elements; the model takes ${Number(expected) / 4}`,
  JobManagerInvalidBatchSize: ([size, max]) => `a batch carries 1 to ${max} inputs, not ${size}`,
  JobManagerInvalidDeadline: ([deadline, latest]) => `deadline ${deadline} is in the past or later than the latest allowed, ${latest}`,
  JobManagerInvalidCallback: ([limit, max]) => `callback gas limit ${limit} is invalid: at most ${max}, and only with a consumer contract`,
  JobManagerConsumerHasNoCode: ([consumer]) => `${consumer} has no code: a consumer must be a contract that receives the callback`,
  JobManagerConsumerNotApproved: ([consumer, requester]) =>
    `${consumer} has not approved ${requester}: a job's consumer is the contract that requests it, or one that approved the requester (setRequesterApproval)`,
  JobManagerPaused: () => "new jobs are paused by governance",
  JobManagerUnknownJob: ([id]) => `unknown job ${id}: no job has that id`,
  JobManagerWrongStatus: ([id, status]) => `job ${id} is ${jobStatusName(status as bigint)}, which does not allow this`,
};

/** A decoded custom error in words, with its name. */
export function describeProtocolError(e: Pick<ErrorDescription, "name" | "args">): string {
  const args = Array.from(e.args as ArrayLike<unknown>);
  const phrase = PHRASES[e.name];
  if (phrase) return `${phrase(args)} (${e.name})`;
  if (e.name === "Error") return String(args[0]);
  if (e.name === "Panic") return `the contract panicked (code ${args[0]})`;
  return `${e.name}(${args.map(String).join(", ")})`;
}

/** Finds revert data in the error shapes of ethers, hardhat-ethers and JSON-RPC providers. */
export function revertData(error: unknown): string | undefined {
  const stack: unknown[] = [error];
  const seen = new Set<unknown>();
  while (stack.length > 0) {
    const e = stack.pop();
    if (e === null || typeof e !== "object" || seen.has(e)) continue;
    seen.add(e);
    const data = (e as { data?: unknown }).data;
    if (typeof data === "string" && /^0x[0-9a-fA-F]{8}/.test(data)) return data;
    if (typeof data === "object") stack.push(data);
    for (const key of ["error", "info", "cause", "revert", "parent"]) stack.push((e as Record<string, unknown>)[key]);
  }
  return undefined;
}

/** The custom error in `data`, or undefined when none of `errors` matches it. */
export function parseRevert(data: string, errors: Interface): ErrorDescription | undefined {
  try {
    return errors.parseError(data) ?? undefined;
  } catch {
    return undefined;
  }
}

/** The shortest readable form of an error that is not a revert (ethers' `shortMessage`, else the first line). */
function plainMessage(error: unknown): string {
  const short = (error as { shortMessage?: unknown })?.shortMessage;
  if (typeof short === "string" && short !== "") return short;
  const message = error instanceof Error ? error.message : String(error);
  return message.split("\n")[0]!;
}

/**
 * `error`, from a call or transaction about `action`, as a VeritensorError: a decoded revert as a
 * ContractRevertError with its code, an unreachable endpoint as a NetworkError, anything else
 * as TRANSACTION_FAILED; a VeritensorError is returned as is.
 */
export function toVeritensorError(error: unknown, action: string, errors: Interface): VeritensorError {
  if (VeritensorError.is(error)) return error;
  const data = revertData(error);
  if (data !== undefined) {
    const parsed = parseRevert(data, errors);
    if (parsed) {
      const args = Array.from(parsed.args as ArrayLike<unknown>);
      return new ContractRevertError(`${action} failed: ${describeProtocolError(parsed)}`, parsed.name, args, { cause: error, code: codeOfError(parsed.name) });
    }
    return new ContractRevertError(`${action} failed: the contract reverted with unknown error data ${data}`, undefined, [], { cause: error, code: "UNKNOWN_REVERT" });
  }
  const message = plainMessage(error);
  const code = (error as { code?: unknown })?.code;
  if (/ECONNREFUSED|ENOTFOUND|fetch failed|socket hang up/i.test(message) || code === "NETWORK_ERROR" || code === "TIMEOUT") {
    return new NetworkError(`${action} failed: cannot reach the JSON-RPC endpoint (${message})`, { cause: error });
  }
  return new VeritensorError(`${action} failed: ${message}`, { cause: error, code: "TRANSACTION_FAILED" });
}
