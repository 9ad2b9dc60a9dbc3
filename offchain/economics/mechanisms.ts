/**
 * The mechanisms under study, as pure functions of their inputs and a random stream: stake
 * weights, the stake-weighted draw with its fallback slots, and today's first-come race.
 */
import type { Prng } from "./prng.js";
import type { WeightRule } from "./params.js";
import { isqrt, minBig } from "./units.js";

/** One account's weight in the draw. */
export function weightOf(stake: bigint, rule: WeightRule, cap: bigint): bigint {
  if (stake <= 0n) return 0n;
  switch (rule) {
    case "linear":
      return stake;
    case "capped":
      return minBig(stake, cap);
    case "sqrt":
      return isqrt(stake);
  }
}

/**
 * The total weight of an operator that splits `stake` over `parts` accounts (as evenly as wei
 * allow): what a Sybil gains or loses under each rule.
 */
export function splitWeight(stake: bigint, parts: number, rule: WeightRule, cap: bigint): bigint {
  const n = BigInt(parts);
  const each = stake / n;
  const rest = stake - each * n;
  let total = 0n;
  for (let i = 0n; i < n; i++) total += weightOf(each + (i < rest ? 1n : 0n), rule, cap);
  return total;
}

/** An index drawn with probability weight / total (exact: a uniform bigint below the total). */
export function drawIndex(prng: Prng, weights: readonly bigint[]): number {
  let total = 0n;
  for (const w of weights) total += w;
  if (total <= 0n) throw new RangeError("drawIndex: no weight to draw from");
  let x = prng.bigBelow(total);
  for (let i = 0; i < weights.length; i++) {
    x -= weights[i]!;
    if (x < 0n) return i;
  }
  throw new Error("unreachable: the draw fell beyond the total weight");
}

/** The result of a job's draw: who claimed (if anyone), and who was drawn before and missed its slot. */
export interface DrawResult {
  readonly claimed: number | undefined;
  readonly missed: readonly number[];
}

/**
 * The stake-weighted draw with fallback: slot after slot, one candidate is drawn among those not
 * yet drawn for the job, weighted by `weights`; if `claims(i)` (it is online and has the free
 * stake) it has the job, otherwise it missed its slot and the next slot draws again without it.
 * With no candidate left the job goes unserved. `weights[i] = 0` never draws `i`.
 */
export function drawWithFallback(prng: Prng, weights: readonly bigint[], claims: (i: number) => boolean, maxSlots = Infinity): DrawResult {
  const left = weights.map((w, i) => ({ w, i })).filter((c) => c.w > 0n);
  const missed: number[] = [];
  while (left.length > 0 && missed.length < maxSlots) {
    const k = drawIndex(
      prng,
      left.map((c) => c.w),
    );
    const { i } = left[k]!;
    if (claims(i)) return { claimed: i, missed };
    missed.push(i);
    left.splice(k, 1);
  }
  return { claimed: undefined, missed };
}

export interface SlotDraw {
  /** The account that claimed in its slot, if any. */
  readonly claimed: number | undefined;
  /** The accounts drawn that missed their slot, in slot order (one may appear more than once). */
  readonly missed: readonly number[];
  /** No drawn account claimed: the job is open to every worker (the first-come fallback). */
  readonly open: boolean;
}

/**
 * The roster's draw as contracts/assignment/WorkerRoster.sol makes it: `slots` claim slots, each a
 * fresh draw over the same weights (with replacement: an account that missed may be drawn again).
 * The account drawn for a slot claims if `claims(i, slot)` (online, with the free stake for the
 * lock); otherwise it missed its slot and the next slot draws again. After the drawn slots, or at
 * once when no account has weight, the job is open to all.
 */
export function drawSlots(prng: Prng, weights: readonly bigint[], claims: (i: number, slot: number) => boolean, slots: number): SlotDraw {
  const missed: number[] = [];
  if (weights.every((w) => w <= 0n)) return { claimed: undefined, missed, open: true };
  for (let slot = 0; slot < slots; slot++) {
    const i = drawIndex(prng, weights);
    if (claims(i, slot)) return { claimed: i, missed, open: false };
    missed.push(i);
  }
  return { claimed: undefined, missed, open: true };
}

/** A worker in today's race for a job. */
export interface Racer {
  readonly index: number;
  /** From seeing a job in a pass to its claim reaching the chain, ms. */
  readonly latencyMs: number;
  /** Time between its passes over the chain, ms (it sees a job up to this long after it appears). */
  readonly pollMs: number;
  /** The gas price it offers, bps of the base price (10000 = the base price). */
  readonly bidBps: bigint;
  /** Mean of its random extra delay, ms (default 2000: see firstComeRace). */
  readonly jitterMs?: number;
}

export interface RaceResult {
  readonly winner: number | undefined;
  /** The racers whose claims were mined and reverted (each pays a lost claim's gas at its bid). */
  readonly reverted: readonly number[];
}

/**
 * Today's first-come claim on a chain with a block every `blockMs`. The request is mined at a
 * block boundary (time 0); each racer sees it at its next pass (uniform within its poll interval)
 * and its claim reaches the chain after its latency plus a random delay (exponential, mean
 * `jitterMs` of the racer: the pass's own reads, the gas estimate, propagation; 2 s, the default,
 * makes three equal workers on a 1-second-block chain revert 0.40 claims per job, where issue 18
 * measured 0.22 to 0.48). The first block after the
 * earliest claim holds every claim that arrived by then: the highest gas price wins (ties: the
 * earlier), the others are mined and revert. A claim arriving later is not sent: its gas estimate
 * already sees the job claimed.
 */
export function firstComeRace(prng: Prng, racers: readonly Racer[], blockMs: number): RaceResult {
  if (racers.length === 0) return { winner: undefined, reverted: [] };
  const sends = racers.map((r) => ({ r, at: prng.float() * r.pollMs + r.latencyMs + prng.exponential(r.jitterMs ?? 2000) }));
  const earliest = Math.min(...sends.map((s) => s.at));
  const block = Math.max(1, Math.ceil(earliest / blockMs)) * blockMs;
  const inBlock = sends.filter((s) => s.at <= block);
  inBlock.sort((a, b) => (a.r.bidBps === b.r.bidBps ? a.at - b.at : a.r.bidBps > b.r.bidBps ? -1 : 1));
  const winner = inBlock[0]!.r.index;
  return { winner, reverted: inBlock.slice(1).map((s) => s.r.index) };
}
