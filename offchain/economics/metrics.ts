/**
 * How work is spread: each operator's share of jobs against its share of stake, the largest
 * share (top-1), the Nakamoto coefficient (the fewest operators holding more than half), and the
 * Herfindahl–Hirschman index (the sum of squared shares: 1 for one operator, 1/n for n equal).
 */
export interface Share {
  readonly name: string;
  readonly stake: number;
  readonly jobs: number;
  readonly stakeShare: number;
  readonly jobShare: number;
  /** jobShare / stakeShare − 1: 0 when the work follows the stake. */
  readonly deviation: number;
}

/** Shares of `items` (name, stake as a float, jobs), grouped by name (accounts of one operator add up). */
export function shares(items: readonly { name: string; stake: number; jobs: number }[]): Share[] {
  const by = new Map<string, { stake: number; jobs: number }>();
  for (const it of items) {
    const cur = by.get(it.name) ?? { stake: 0, jobs: 0 };
    by.set(it.name, { stake: cur.stake + it.stake, jobs: cur.jobs + it.jobs });
  }
  const totalStake = [...by.values()].reduce((s, x) => s + x.stake, 0);
  const totalJobs = [...by.values()].reduce((s, x) => s + x.jobs, 0);
  return [...by.entries()].map(([name, x]) => {
    const stakeShare = x.stake / totalStake;
    const jobShare = totalJobs === 0 ? 0 : x.jobs / totalJobs;
    return { name, stake: x.stake, jobs: x.jobs, stakeShare, jobShare, deviation: jobShare / stakeShare - 1 };
  });
}

/** The largest share. */
export const topShare = (xs: readonly number[]): number => xs.reduce((a, b) => Math.max(a, b), 0);

/** The fewest parties whose shares add up to more than half (0 for no shares). */
export function nakamoto(xs: readonly number[]): number {
  const sorted = [...xs].sort((a, b) => b - a);
  const total = sorted.reduce((a, b) => a + b, 0);
  let acc = 0;
  for (let i = 0; i < sorted.length; i++) {
    acc += sorted[i]!;
    if (acc > total / 2) return i + 1;
  }
  return 0;
}

/** Herfindahl–Hirschman index of shares (normalized to add up to 1). */
export function hhi(xs: readonly number[]): number {
  const total = xs.reduce((a, b) => a + b, 0);
  return total === 0 ? 0 : xs.reduce((s, x) => s + (x / total) ** 2, 0);
}

/** The largest |deviation| among shares whose stake share is at least `minStakeShare`. */
export function maxDeviation(xs: readonly Share[], minStakeShare = 0): number {
  return xs.filter((s) => s.stakeShare >= minStakeShare).reduce((a, s) => Math.max(a, Math.abs(s.deviation)), 0);
}

export interface Concentration {
  readonly top1: number;
  readonly nakamoto: number;
  readonly hhi: number;
}

export const concentration = (xs: readonly number[]): Concentration => ({ top1: topShare(xs) / xs.reduce((a, b) => a + b, 0), nakamoto: nakamoto(xs), hhi: hhi(xs) });
