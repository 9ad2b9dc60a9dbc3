/** A job's fee: what a model accepts now, and the protocol's share of a fee. */
import { BPS } from "./models.js";
import type { Protocol } from "./protocol.js";
import { read } from "./protocol.js";

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
