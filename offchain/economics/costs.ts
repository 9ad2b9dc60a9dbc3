/**
 * What the model takes as given: gas of each transaction (measured, BENCHMARKS.md), inference
 * time per model (measured), and the prices that turn gas and CPU time into VTN (assumed: each is
 * an input with a default, and docs/ECONOMICS.md lists them). Costs are converted to VTN wei with
 * one rounding down per amount, from integer prices (micro-dollars, wei per gas).
 */
import { VTN, parseDecimal } from "./units.js";

/** Gas per transaction. */
export interface GasTable {
  /** `claim`, steady state (BENCHMARKS.md, "Gas"). */
  readonly claim: bigint;
  /** `submitResult` of a 10-element output (the MNIST scores). */
  readonly submit: bigint;
  /** `finalize`, steady state. */
  readonly finalize: bigint;
  /** A claim that loses the race and reverts (issue 18: 27,370 each, measured). */
  readonly lostClaim: bigint;
  /**
   * What the stake-weighted draw adds to a claim: measured, a claim through a roster of 5 costs 91,440
   * (test/nodes/assignment.test.ts, receipts), 36,763 more than the first-come claim above.
   */
  readonly drawExtra: bigint;
  /**
   * An audit's three transactions, commit, reveal and settle: measured end to end, 330,971 (BENCHMARKS.md
   * "Audits": receipts of 18 audits, cold storage, the commit locking the auditor's stake).
   */
  readonly audit: bigint;
  /** The challenger's side of a dispute the cheater does not defend (commit, open, timeout: 990,301 measured). */
  readonly disputeUndefended: bigint;
  /** The challenger's side of a dispute played to the step (about 2,000,000 of the costliest MNIST CNN dispute's 3,423,270). */
  readonly disputeChallenger: bigint;
  /** The defender's side of the same dispute (about 1,450,000). */
  readonly disputeDefender: bigint;
}

export const GAS: GasTable = {
  claim: 54_677n,
  submit: 47_425n,
  finalize: 64_998n,
  lostClaim: 27_370n,
  drawExtra: 36_763n,
  audit: 330_971n,
  disputeUndefended: 990_301n,
  disputeChallenger: 2_000_000n,
  disputeDefender: 1_450_000n,
};

/** A kind of job: a model, its price, the fee requesters offer, and what running it costs. */
export interface ModelClass {
  readonly name: string;
  /** The model's registered price (to its developer), wei. */
  readonly price: bigint;
  /** The fee a requester offers, wei. */
  readonly fee: bigint;
  /** CPU time of one inference as the worker runs it (`run`), microseconds (BENCHMARKS.md, "Inference"). */
  readonly inferenceMicros: bigint;
  /** Share of requests for this model (a float weight of the job mix). */
  readonly share: number;
}

export const MODEL_CLASSES: readonly ModelClass[] = [
  { name: "MNIST CNN", price: VTN / 10n, fee: (3n * VTN) / 10n, inferenceMicros: 65n, share: 0.6 },
  { name: "MNIST ViT", price: VTN / 5n, fee: (6n * VTN) / 10n, inferenceMicros: 534n, share: 0.25 },
  { name: "MobileNet-shaped", price: VTN, fee: 2n * VTN, inferenceMicros: 8_840n, share: 0.15 },
];

/** The assumed prices, as integers. */
export interface Prices {
  /** ETH wei per gas (0.02 gwei: an L2's price; an L1 at 10 gwei is 500 times this). */
  readonly gasPriceWei: bigint;
  /** ETH in micro-dollars. */
  readonly ethUsdMicros: bigint;
  /** VTN in micro-dollars. */
  readonly vtnUsdMicros: bigint;
  /** One CPU core for an hour, micro-dollars (a cloud vCPU). */
  readonly cpuUsdMicrosPerHour: bigint;
  /** A node's fixed cost (its server), micro-dollars per hour: what an independent verifier pays whether or not it catches anything. */
  readonly nodeUsdMicrosPerHour: bigint;
  /** CPU a verifier spends per result beyond the inference (decoding events, its store): 1.2 ms (BENCHMARKS.md, "Nodes"). */
  readonly checkOverheadMicros: bigint;
}

export const PRICES: Prices = {
  gasPriceWei: 20_000_000n,
  ethUsdMicros: 3_000_000_000n,
  vtnUsdMicros: 100_000n,
  cpuUsdMicrosPerHour: 50_000n,
  nodeUsdMicrosPerHour: 50_000n,
  checkOverheadMicros: 1_200n,
};

/** Prices from decimal texts (the task's options): gas price in gwei, the others in dollars. */
export function pricesFrom(base: Prices, o: { gasPriceGwei?: string; ethUsd?: string; vtnUsd?: string; cpuUsdPerHour?: string; nodeUsdPerHour?: string }): Prices {
  const usd = (t: string | undefined, d: bigint) => (t === undefined ? d : parseDecimal(t, 6));
  const p: Prices = {
    ...base,
    gasPriceWei: o.gasPriceGwei === undefined ? base.gasPriceWei : parseDecimal(o.gasPriceGwei, 9),
    ethUsdMicros: usd(o.ethUsd, base.ethUsdMicros),
    vtnUsdMicros: usd(o.vtnUsd, base.vtnUsdMicros),
    cpuUsdMicrosPerHour: usd(o.cpuUsdPerHour, base.cpuUsdMicrosPerHour),
    nodeUsdMicrosPerHour: usd(o.nodeUsdPerHour, base.nodeUsdMicrosPerHour),
  };
  if (p.vtnUsdMicros === 0n) throw new RangeError("the VTN price must be above zero");
  return p;
}

/** Converts gas and CPU time to VTN wei at the given prices. */
export class CostModel {
  constructor(
    readonly prices: Prices = PRICES,
    readonly gas: GasTable = GAS,
  ) {}

  /** VTN wei of `gas` at the gas price times `bidBps / 10000` (a racer's higher bid). */
  gasCost(gas: bigint, bidBps = 10_000n): bigint {
    const p = this.prices;
    return (gas * p.gasPriceWei * bidBps * p.ethUsdMicros) / (10_000n * p.vtnUsdMicros);
  }

  /** VTN wei of `micros` microseconds of one CPU core. */
  cpuCost(micros: bigint): bigint {
    const p = this.prices;
    return (micros * p.cpuUsdMicrosPerHour * VTN) / (3_600_000_000n * p.vtnUsdMicros);
  }

  /** VTN wei of `seconds` of a node's fixed cost. */
  nodeCost(seconds: number): bigint {
    const p = this.prices;
    return (BigInt(Math.round(seconds * 1000)) * p.nodeUsdMicrosPerHour * VTN) / (3_600_000n * p.vtnUsdMicros);
  }

  /** A worker's compute for one job of `m`: the inference (what a cheater saves). */
  compute(m: ModelClass): bigint {
    return this.cpuCost(m.inferenceMicros);
  }

  /** A verifier's or auditor's CPU for re-running one job of `m`. */
  check(m: ModelClass): bigint {
    return this.cpuCost(m.inferenceMicros + this.prices.checkOverheadMicros);
  }
}
