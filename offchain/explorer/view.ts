/**
 * What the explorer's queries share: amounts and places in the API's shape, and the chain reads a
 * page makes on first view (receipts, transactions), cached in the index with their block so that
 * a rollback drops them too.
 */
import { formatVtn } from "../clients/format.js";
import type { Protocol } from "../clients/protocol.js";
import type { Amount, At } from "./api.js";
import type { EventRow, ExplorerDb } from "./database.js";

export const amount = (wei: bigint | string | undefined | null): Amount => {
  const v = BigInt(wei ?? 0);
  return { wei: v.toString(), text: formatVtn(v) };
};

export const sum = (values: Iterable<string | bigint | null | undefined>): bigint => {
  let s = 0n;
  for (const v of values) if (v !== null && v !== undefined) s += BigInt(v);
  return s;
};

export const at = (e: EventRow): At => ({ block: e.block, tx: e.txHash, ...(e.time !== undefined ? { time: e.time } : {}) });

export const lower = (a: string): string => a.toLowerCase();

/** What a transaction's receipt says that pages show. */
export interface ReceiptFacts {
  readonly gasUsed: string;
  readonly from: string;
  readonly status: number;
}

type Rpc = <T>(method: string, params: unknown[]) => Promise<T>;

export function rpcOf(p: Protocol): Rpc {
  return <T>(method: string, params: unknown[]) => p.connection.provider.request({ method, params }) as Promise<T>;
}

/** Receipts of `txs` (by hash, with their blocks), from the index's cache or the chain (then cached). */
export async function receipts(p: Protocol, db: ExplorerDb, txs: ReadonlyMap<string, number>): Promise<Map<string, ReceiptFacts>> {
  const out = new Map<string, ReceiptFacts>();
  const missing: string[] = [];
  for (const tx of txs.keys()) {
    const hit = db.cached<ReceiptFacts>(`r:${tx}`);
    if (hit) out.set(tx, hit);
    else missing.push(tx);
  }
  const rpc = rpcOf(p);
  for (let i = 0; i < missing.length; i += 16) {
    const batch = missing.slice(i, i + 16);
    const got = await Promise.all(batch.map((h) => rpc<{ gasUsed: string; from: string; status: string } | null>("eth_getTransactionReceipt", [h])));
    got.forEach((r, j) => {
      if (!r) return;
      const facts = { gasUsed: BigInt(r.gasUsed).toString(), from: r.from.toLowerCase(), status: Number(r.status) };
      out.set(batch[j]!, facts);
      db.cache(`r:${batch[j]!}`, txs.get(batch[j]!)!, facts);
    });
  }
  return out;
}

/** A transaction's sender and calldata, from the cache or the chain (then cached). */
export async function transaction(p: Protocol, db: ExplorerDb, tx: string, block: number): Promise<{ from: string; input: string } | undefined> {
  const hit = db.cached<{ from: string; input: string }>(`t:${tx}`);
  if (hit) return hit;
  const t = await rpcOf(p)<{ from: string; input: string } | null>("eth_getTransactionByHash", [tx]);
  if (!t) return undefined;
  const facts = { from: t.from.toLowerCase(), input: t.input };
  db.cache(`t:${tx}`, block, facts);
  return facts;
}

/** Whether `address` is one of a game's own clones or a protocol contract: the names pages give them. */
export function contractLabels(p: Protocol): Map<string, string> {
  const a = p.addresses;
  return new Map([
    [lower(a.token), "VTN token"],
    [lower(a.registry), "model registry"],
    [lower(a.staking), "staking"],
    [lower(a.jobManager), "job escrow"],
    [lower(a.timelock), "timelock (treasury)"],
    [lower(a.governor), "governor"],
    [lower(a.disputeFactory), "dispute factory"],
    ...(a.auditManager !== undefined ? [[lower(a.auditManager), "audit manager (pool)"] as [string, string]] : []),
    ...(a.redundancy !== undefined ? [[lower(a.redundancy), "redundancy contract"] as [string, string]] : []),
  ]);
}
