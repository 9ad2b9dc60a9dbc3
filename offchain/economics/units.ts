/**
 * Token amounts in the economic model: bigint wei of VTN (18 decimals), exact; basis points as
 * integers. Floats appear only for probabilities and for ratios that are reported, never for an
 * amount that is added up.
 */
export const VTN = 10n ** 18n;
export const BPS = 10_000n;

/** `amount × bps / 10000`, rounded down (as the contracts round every share). */
export function bpsOf(amount: bigint, bps: number | bigint): bigint {
  return (amount * BigInt(bps)) / BPS;
}

/** Whole VTN, or a decimal text of VTN ("0.3"), as wei. */
export function vtn(value: number | string): bigint {
  return parseDecimal(String(value), 18);
}

/**
 * A non-negative decimal text (`"0.02"`, `"3000"`, `"1e-3"` is refused) as an integer with
 * `decimals` decimals, exactly; digits beyond `decimals` are refused rather than rounded.
 */
export function parseDecimal(text: string, decimals: number): bigint {
  const m = /^\s*(\d*)(?:\.(\d*))?\s*$/.exec(text);
  if (m === null || (m[1] === "" && (m[2] ?? "") === "")) throw new RangeError(`"${text}" is not a non-negative decimal number`);
  const frac = (m[2] ?? "").replace(/0+$/, "");
  if (frac.length > decimals) throw new RangeError(`"${text}" has more than ${decimals} decimals`);
  return BigInt(m[1] === "" ? "0" : m[1]!) * 10n ** BigInt(decimals) + BigInt(frac.padEnd(decimals, "0") || "0");
}

/** `a / b` as a float (a reported ratio); NaN when b is 0. */
export function ratio(a: bigint, b: bigint): number {
  if (b === 0n) return Number.NaN;
  const neg = a < 0n !== b < 0n;
  const [x, y] = [a < 0n ? -a : a, b < 0n ? -b : b];
  const whole = x / y;
  const rest = Number(((x % y) * 10n ** 15n) / y) / 1e15;
  const r = Number(whole) + rest;
  return neg ? -r : r;
}

/** Wei as a decimal VTN text with `digits` decimals, rounded half away from zero ("-0.0123"). */
export function formatVtn(wei: bigint, digits = 4): string {
  const neg = wei < 0n;
  const abs = neg ? -wei : wei;
  const unit = 10n ** BigInt(18 - digits);
  const rounded = (abs + unit / 2n) / unit;
  const s = rounded.toString().padStart(digits + 1, "0");
  const text = digits === 0 ? s : `${s.slice(0, -digits)}.${s.slice(-digits)}`;
  return neg && rounded !== 0n ? `-${text}` : text;
}

/** A probability or share as a percentage text with `digits` decimals ("1.87%"). */
export function percent(p: number, digits = 2): string {
  return Number.isFinite(p) ? `${(p * 100).toFixed(digits)}%` : "–";
}

/** Basis points as a percentage text ("500 bps" → "5%"). */
export function bpsText(bps: number | bigint): string {
  const n = Number(bps);
  return `${(n / 100).toFixed(n % 100 === 0 ? 0 : 2)}%`;
}

/** Integer square root (floor), for sublinear weights. */
export function isqrt(n: bigint): bigint {
  if (n < 0n) throw new RangeError("isqrt of a negative number");
  if (n < 2n) return n;
  let x = BigInt(Math.floor(Math.sqrt(Number(n))));
  while (x * x > n) x--;
  while ((x + 1n) * (x + 1n) <= n) x++;
  return x;
}

export const minBig = (a: bigint, b: bigint): bigint => (a < b ? a : b);
export const maxBig = (a: bigint, b: bigint): bigint => (a > b ? a : b);
export const sumBig = (xs: Iterable<bigint>): bigint => {
  let s = 0n;
  for (const x of xs) s += x;
  return s;
};
