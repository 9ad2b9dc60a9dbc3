/**
 * Whether an error is the endpoint's fault (unreachable, reset, timed out, overloaded) rather than
 * the node's: those cost a retry with backoff, never a crash.
 */
import { revertData } from "../clients/revert.js";

const TRANSIENT = [
  /ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|EAI_AGAIN|ENOTFOUND/i,
  /socket hang up|other side closed|fetch failed|network error|network is down|connection (refused|reset|closed)/i,
  /UND_ERR|timeout|timed out|TIMEOUT/,
  /\b(429|502|503|504)\b|too many requests|service unavailable|bad gateway/i,
  /HHE7\d\d|could not connect|cannot connect|couldn't connect|failed to connect|Hardhat was set to use a network|connect to the JSON-RPC/i,
  /missing response|server error|SERVER_ERROR/i,
];

function messages(e: unknown, depth = 0): string[] {
  if (e === null || e === undefined || depth > 6) return [];
  if (typeof e !== "object") return [String(e)];
  const o = e as { message?: unknown; code?: unknown; cause?: unknown; error?: unknown; shortMessage?: unknown };
  return [
    String(o.message ?? ""),
    String(o.code ?? ""),
    String(o.shortMessage ?? ""),
    ...messages(o.cause, depth + 1),
    ...(o.error !== e ? messages(o.error, depth + 1) : []),
  ];
}

export function isTransient(e: unknown): boolean {
  // A revert is the contract's answer, never the endpoint's failure (its data may hold any number).
  if (revertData(e) !== undefined) return false;
  const text = messages(e).join(" | ");
  return TRANSIENT.some((re) => re.test(text));
}

/** Nonce trouble: another transaction of the account took the nonce, or the node already has it. */
export function isNonceError(e: unknown): boolean {
  return /nonce too low|nonce has already been used|already known|replacement transaction underpriced|NONCE_EXPIRED|Nonce too high/i.test(
    messages(e).join(" | "),
  );
}
