/**
 * Scales as the registry holds them: 18-decimal fixed point ("wad"), a canonical integer `q`
 * meaning the real value `q × wad / 10^18`. canonical/1 has no zero point. The wad is computed
 * from the metadata's decimal text with integer arithmetic: the text is the exact value, and a
 * float product (`scale * 1e18`) would round once more, differently on each side of the check.
 */

/** 10^18: one in 18-decimal fixed point. */
export const WAD = 10n ** 18n;
/** The largest scale the registry stores (a uint128 field). */
export const MAX_SCALE_WAD = 2n ** 128n - 1n;

/** Unsigned decimal text: digits with an optional point and exponent ("2.5e-7", ".5", "3."). */
const DECIMAL = /^\+?(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d{1,4}))?$/;

/**
 * The wad of a non-negative decimal's text, rounded to the nearest 10^-18 (halves up), or
 * undefined if `text` is not decimal text (hex, "Infinity", a sign, an exponent beyond 9999).
 */
export function decimalToWad(text: string): bigint | undefined {
  const m = DECIMAL.exec(text.trim());
  if (!m) return undefined;
  const [, whole = "", frac = "", exp = "0"] = m;
  if (whole === "" && frac === "") return undefined;
  const digits = BigInt(whole + frac);
  // value × 10^18 = digits × 10^shift
  const shift = Number(exp) - frac.length + 18;
  if (shift >= 0) return digits * 10n ** BigInt(shift);
  const unit = 10n ** BigInt(-shift);
  return (digits + unit / 2n) / unit;
}

/** A wad as exact decimal text, without trailing zeros: 3921568627450980n -> "0.00392156862745098". */
export function formatWad(wad: bigint): string {
  const sign = wad < 0n ? "-" : "";
  const abs = wad < 0n ? -wad : wad;
  const frac = (abs % WAD).toString().padStart(18, "0").replace(/0+$/, "");
  return `${sign}${abs / WAD}${frac === "" ? "" : `.${frac}`}`;
}

/** Canonical integers as real numbers by a registered scale, to 4 significant digits (for reports). */
export function dequantizeWad(values: readonly number[], scaleWad: bigint): number[] {
  return values.map((q) => Number((Number(BigInt(q) * scaleWad) / 1e18).toPrecision(4)));
}
