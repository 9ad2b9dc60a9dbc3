/**
 * How amounts, times and records are shown to people: amounts in VTN, times in UTC with a
 * relative hint, records as aligned `key: value` lines.
 */
import { parseUnits } from "ethers";

import { VeritensorError } from "./errors.js";

export const TOKEN_SYMBOL = "VTN";
export const TOKEN_DECIMALS = 18;

/** `1500000000000000000n` -> `"1.5 VTN"`, with thousands separators in the integer part (the SDK's, one home). */
export { formatVtn } from "../../packages/sdk/src/revert.js";

/** `"1.5"` (or `"1.5 VTN"`, `"1,000"`) -> wei. Throws a readable error for anything else. */
export function parseVtn(text: string, what = "amount"): bigint {
  const clean = text.trim().replace(/\s*vtn$/i, "").replaceAll(",", "").replaceAll("_", "");
  if (!/^\d+(\.\d+)?$/.test(clean)) {
    throw new VeritensorError(`${what} "${text}" is not a VTN amount (examples: 100, 1.5, 0.25 VTN)`);
  }
  try {
    return parseUnits(clean, TOKEN_DECIMALS);
  } catch {
    throw new VeritensorError(`${what} "${text}" has more than ${TOKEN_DECIMALS} decimals`);
  }
}

/** `"600"`, `"90s"`, `"10m"`, `"2h"`, `"1d"` (may be negative) -> seconds. */
export function parseDuration(text: string, what = "duration"): number {
  const m = /^\s*(-?\d+)\s*(s|sec|m|min|h|d)?\s*$/i.exec(text);
  if (!m) throw new VeritensorError(`${what} "${text}" is not a duration (examples: 600, 90s, 10m, 2h, 1d)`);
  const unit = (m[2] ?? "s").toLowerCase();
  const size = unit.startsWith("d") ? 86_400 : unit.startsWith("h") ? 3600 : unit.startsWith("m") ? 60 : 1;
  return Number(m[1]) * size;
}

/** `3725` -> `"1 h 2 min 5 s"`. */
export function formatDuration(seconds: number | bigint): string {
  let s = Math.max(0, Math.round(Number(seconds)));
  if (s === 0) return "0 s";
  const parts: string[] = [];
  for (const [unit, size] of [["d", 86_400], ["h", 3600], ["min", 60], ["s", 1]] as const) {
    if (s >= size) {
      parts.push(`${Math.floor(s / size)} ${unit}`);
      s %= size;
    }
  }
  return parts.join(" ");
}

/** A unix time as `2026-11-24 17:03:12 UTC (in 58 s)`, relative to `now` (chain time). */
export function formatTime(time: number | bigint, now?: number | bigint): string {
  const t = Number(time);
  if (t === 0) return "-";
  const iso = new Date(t * 1000).toISOString().replace("T", " ").replace(/\.\d{3}Z$/, " UTC");
  if (now === undefined) return iso;
  const delta = t - Number(now);
  if (delta === 0) return `${iso} (now)`;
  return delta > 0 ? `${iso} (in ${formatDuration(delta)})` : `${iso} (${formatDuration(-delta)} ago)`;
}

/** Aligned `key: value` lines; rows whose value is undefined are left out. */
export function formatFields(rows: readonly (readonly [string, string | number | bigint | undefined])[]): string {
  const shown = rows.filter((r): r is readonly [string, string | number | bigint] => r[1] !== undefined);
  const width = Math.max(0, ...shown.map(([k]) => k.length)) + 1;
  return shown.map(([k, v]) => `${`${k}:`.padEnd(width)} ${String(v)}`).join("\n");
}

/** Integers as `[1, 2, 3, …, 9] (784 elements)`, cut after `max` values. */
export function formatInts(values: ArrayLike<number>, max = 16): string {
  const n = values.length;
  const head = Array.from({ length: Math.min(n, max) }, (_, i) => String(values[i]));
  const more = n > max ? ", …" : "";
  return `[${head.join(", ")}${more}]${n > max ? ` (${n} elements)` : ""}`;
}

/** Gas as `165,181`. */
export function formatGas(gas: bigint): string {
  return gas.toLocaleString("en-US");
}

/** A shape as `[1, 1, 28, 28]`. */
export function formatShape(shape: readonly (number | bigint)[]): string {
  return `[${shape.map(String).join(", ")}]`;
}

/** Basis points as a percentage: `250n` -> `"2.5% (250 bps)"`. */
export function formatBps(bps: number | bigint): string {
  const n = Number(bps);
  return `${Number((n / 100).toFixed(2))}% (${n} bps)`;
}
