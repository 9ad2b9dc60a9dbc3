/**
 * A job's fee. The smallest fee a model accepts is the escrow's to say (its `minimumFee` view, and
 * `minimumFeeWithCallback` for a consumer job, the one home of that rule); the protocol's share of a
 * fee is mirrored here so that a request and a job's details can show the split without a call.
 */
import { BPS } from "./models.js";
import type { Protocol } from "./protocol.js";
import { read } from "./protocol.js";

export interface FeeQuote {
  /** The model's price, per input. */
  readonly price: bigint;
  /** Inputs the job carries (1 for a single job). */
  readonly batchSize: bigint;
  /** What the job pays the model: `price × batchSize`. */
  readonly modelFee: bigint;
  /** The protocol fee rate now, in basis points of the fee. */
  readonly protocolFeeBps: bigint;
  /**
   * The smallest fee accepted now: the escrow's `minimumFee` of `modelFee`, or for a consumer job
   * its `minimumFeeWithCallback` of `modelFee` and the callback gas limit.
   */
  readonly minimum: bigint;
  /** The callback fee the fee must also cover (0 without callback): paid to the job's finalizer. */
  readonly callbackFee: bigint;
  /** The protocol fee of a job paying exactly `minimum`. */
  readonly protocolFee: bigint;
  /** The audit pool's share rate now, in basis points of the fee (0 on an escrow without audits). */
  readonly auditFeeBps: bigint;
  /** The audit pool's share of a job paying exactly `minimum`. */
  readonly auditFee: bigint;
  readonly deprecated: boolean;
  readonly inputElements: bigint;
  readonly outputElements: bigint;
}

/**
 * The treasury's part of `fee` at `bps` basis points: the mirror of `FeeSplit.share(fee, bps)`,
 * which `JobManager.finalize` pays at the job's `protocolFeeBps` (rounded down).
 * test/clients/fees.test.ts holds the two to agree.
 */
export function protocolFeeOf(fee: bigint, bps: bigint): bigint {
  return (fee * bps) / BigInt(BPS);
}

/**
 * The treasury's and the audit pool's parts of `fee`: the mirror of `JobManager.feeSplit`. The two
 * are cut together, `⌊fee · (protocolFeeBps + auditFeeBps) / 10000⌋`; the pool gets
 * `⌊fee · auditFeeBps / 10000⌋` and the treasury the rest (with no audit share, exactly
 * {@link protocolFeeOf}).
 */
export function feeSplitOf(fee: bigint, protocolFeeBps: bigint, auditFeeBps: bigint): { protocolFee: bigint; auditFee: bigint } {
  const auditFee = (fee * auditFeeBps) / BigInt(BPS);
  return { protocolFee: (fee * (protocolFeeBps + auditFeeBps)) / BigInt(BPS) - auditFee, auditFee };
}

/**
 * The smallest fee model `modelId` accepts now: its price (times `batchSize`, for a batch) plus the
 * protocol fee on the fee itself, and with `callbackGasLimit` (a consumer job) the callback fee
 * too, `callbackGasLimit × callbackFeePerGas` (once per job, whatever its batch size).
 */
export async function quoteFee(p: Protocol, modelId: bigint, callbackGasLimit = 0n, batchSize = 1n): Promise<FeeQuote> {
  const [[price, deprecated, inputElements, outputElements], params] = await Promise.all([
    read(p, `looking up model ${modelId}`, () => p.registry.pricing(modelId)),
    p.jobManager.params(),
  ]);
  const protocolFeeBps = params.protocolFeeBps;
  const auditFeeBps = params.auditFeeBps;
  const modelFee = price * batchSize;
  const minimum =
    callbackGasLimit === 0n ? await p.jobManager.minimumFee(modelFee) : await p.jobManager.minimumFeeWithCallback(modelFee, callbackGasLimit);
  return {
    price,
    batchSize,
    modelFee,
    protocolFeeBps,
    minimum,
    callbackFee: callbackGasLimit * params.callbackFeePerGas,
    ...feeSplitOf(minimum, protocolFeeBps, auditFeeBps),
    auditFeeBps,
    deprecated,
    inputElements,
    outputElements,
  };
}
