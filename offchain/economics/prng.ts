/**
 * The simulation's only source of randomness: a seeded xoshiro128** generator (32-bit state
 * words, Math.imul), seeded through splitmix32 from a hash of the seed and a list of labels.
 * Nothing in offchain/economics/ calls Math.random, so a run is a function of its seed.
 *
 * `fork(...labels)` derives an independent stream from the generator's own seed and the labels,
 * not from how far it has been drawn: the audit draw of job 17 is the same whatever the
 * assignment of job 17 consumed, so runs that differ in one parameter share their other draws
 * (common random numbers), and a sweep over audit rates is monotone in the rate.
 */
/** FNV-1a over the text's UTF-16 units, continuing from state `h` (an offset basis to start). */
function fnv1a(text: string, h: number): number {
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x0100_0193) >>> 0;
  }
  return h >>> 0;
}

/** One step of splitmix32: returns [output, next state]. */
function splitmix32(state: number): [number, number] {
  const next = (state + 0x9e37_79b9) | 0;
  let z = next;
  z = Math.imul(z ^ (z >>> 16), 0x21f0_aaad);
  z = Math.imul(z ^ (z >>> 15), 0x735a_2d97);
  z ^= z >>> 15;
  return [z >>> 0, next];
}

const rotl = (x: number, k: number): number => ((x << k) | (x >>> (32 - k))) >>> 0;

export type Label = string | number | bigint;

export class Prng {
  /** The text the generator was seeded from (seed and labels), which forks extend. */
  private key: string;
  /** FNV-1a states of the key under two offset bases (forks continue them instead of rehashing the key). */
  private h1: number;
  private h2: number;
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;

  constructor(seed: Label, ...labels: Label[]) {
    this.key = [seed, ...labels].map(String).join("/");
    this.h1 = fnv1a(this.key, 0x811c_9dc5);
    this.h2 = fnv1a(this.key, 0x0505_0505);
    this.seedState();
  }

  /** The seed and labels this stream was made from, joined by "/". */
  get name(): string {
    return this.key;
  }

  private seedState(): void {
    let st = this.h1 ^ rotl(this.h2, 13);
    for (let i = 0; i < 4; i++) {
      const [out, next] = splitmix32(st);
      if (i === 0) this.s0 = out;
      else if (i === 1) this.s1 = out;
      else if (i === 2) this.s2 = out;
      else this.s3 = out;
      st = next;
    }
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1; // xoshiro's one forbidden state
  }

  /** An independent stream named by `labels` under this generator's seed (the same as `new Prng(seed, ...ownLabels, ...labels)`). */
  fork(...labels: Label[]): Prng {
    let tail = "";
    for (const l of labels) tail += `/${String(l)}`;
    const child = new Prng("");
    child.key = this.key + tail;
    child.h1 = fnv1a(tail, this.h1);
    child.h2 = fnv1a(tail, this.h2);
    child.seedState();
    return child;
  }

  /** The next 32 random bits, as an unsigned integer. */
  u32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (this.s1 << 9) >>> 0;
    this.s2 = (this.s2 ^ this.s0) >>> 0;
    this.s3 = (this.s3 ^ this.s1) >>> 0;
    this.s1 = (this.s1 ^ this.s2) >>> 0;
    this.s0 = (this.s0 ^ this.s3) >>> 0;
    this.s2 = (this.s2 ^ t) >>> 0;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** A float uniform in [0, 1), with 53 random bits. */
  float(): number {
    const hi = this.u32() >>> 5; // 27 bits
    const lo = this.u32() >>> 6; // 26 bits
    return (hi * 67_108_864 + lo) / 9_007_199_254_740_992;
  }

  /** True with probability p (p ≤ 0: never; p ≥ 1: always; one draw either way). */
  chance(p: number): boolean {
    return this.float() < p;
  }

  /** An integer uniform in [0, n), n a positive safe integer (rejection sampling: no bias). */
  below(n: number): number {
    if (!Number.isSafeInteger(n) || n <= 0) throw new RangeError(`below(${n}): n must be a positive safe integer`);
    if (n <= 0x1_0000_0000) {
      const limit = 0x1_0000_0000 - (0x1_0000_0000 % n);
      for (;;) {
        const x = this.u32();
        if (x < limit) return x % n;
      }
    }
    return Number(this.bigBelow(BigInt(n)));
  }

  /** A bigint uniform in [0, n), n > 0 (rejection sampling over whole 32-bit words: no bias). */
  bigBelow(n: bigint): bigint {
    if (n <= 0n) throw new RangeError("bigBelow: n must be positive");
    const words = Math.ceil(n.toString(2).length / 32);
    const span = 1n << BigInt(32 * words);
    const limit = span - (span % n);
    for (;;) {
      let x = 0n;
      for (let i = 0; i < words; i++) x = (x << 32n) | BigInt(this.u32());
      if (x < limit) return x % n;
    }
  }

  /** An exponentially distributed float with the given mean. */
  exponential(mean: number): number {
    return -mean * Math.log(1 - this.float());
  }

  /** An index drawn with probability proportional to `weights` (non-negative floats, e.g. a job mix). */
  pickWeighted(weights: readonly number[]): number {
    const total = weights.reduce((a, b) => a + b, 0);
    if (!(total > 0)) throw new RangeError("pickWeighted: the weights add up to nothing");
    let x = this.float() * total;
    for (let i = 0; i < weights.length; i++) {
      x -= weights[i]!;
      if (x < 0) return i;
    }
    return weights.length - 1;
  }
}
