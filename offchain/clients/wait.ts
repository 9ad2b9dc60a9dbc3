/**
 * Waiting for transactions, with one block poll per endpoint rather than a receipt poll per
 * transaction.
 *
 * ethers' `tx.wait()` polls the receipt of every transaction on its own timer (and, on a node
 * that is not the in-process network, the block number and the sender's nonce too, to notice
 * replacements): a node with forty transactions in flight on a chain with a block a second
 * makes hundreds of calls per block. Here every wait on one provider shares one
 * {@link ReceiptWatcher}: a transaction is first looked up once by hash (a chain that mines on
 * every transaction has its receipt at once); if it is not mined yet, the watcher follows the
 * chain block by block (one `eth_getBlockByNumber` per block, polled until the block exists) and
 * reads a receipt only for a transaction of ours found in a block.
 *
 * A transaction may have been re-sent with higher fees: a node replaces a transaction stuck in
 * the mempool by one with the same nonce, recipient, data and value (see offchain/nodes/signer.ts),
 * which calls {@link noteReplacement}. For the caller that is the same transaction, mined: the
 * wait returns the replacement's receipt. A transaction whose nonce another transaction took (one
 * sent from the same account outside this process) is never mined: a wait that knows its sender
 * and nonce notices it when it looks the transaction up again, and fails with NONCE_EXPIRED.
 */
import type { Provider, TransactionReceipt } from "ethers";
import { isError, makeError } from "ethers";

/** What the watcher needs of a provider (every ethers provider has these). */
type ChainReader = Pick<Provider, "getBlock" | "getBlockNumber" | "getTransactionReceipt"> & Partial<Pick<Provider, "getTransactionCount">>;

/** Who sent a transaction, and with which nonce: what shows that another transaction took its place. */
export interface SentBy {
  readonly from: string;
  readonly nonce: number;
}

interface Waiter {
  /** The transaction's hash and those of its replacements (lowercase). */
  readonly hashes: Set<string>;
  readonly confirmations: number;
  readonly resolve: (r: TransactionReceipt) => void;
  readonly reject: (e: unknown) => void;
  /** Looked up by hash once (only the first wait of a quiet spell is). */
  checked: boolean;
  /** Its receipt, once mined, while it waits for more confirmations. */
  found: TransactionReceipt | undefined;
  /** Blocks scanned while it waited (a long wait is looked up by hash again now and then). */
  scanned: number;
  /** When it was last looked up by hash (ms). */
  lookedUp: number;
  /** Its sender and nonce, when the caller knows them. */
  readonly sentBy: SentBy | undefined;
}

/**
 * Poll intervals while the next block is not there yet (ms): quick at first, then steady. Once the
 * chain's block time is known (from blocks seen arriving), the first poll waits until the next
 * block is due.
 */
const POLL_MS = [25, 50, 100, 200, 250];
/** Longest wait for a block that is due (ms). */
const MAX_DUE_MS = 2_000;
/** A watcher idle longer than this finds the head again rather than scanning from where it stopped. */
const STALE_MS = 3_000;
/** Consecutive endpoint failures before the waiters are failed (each then decides what to do). */
const MAX_FAILURES = 3;
/**
 * A wait still open after this many blocks, or this long without a new block, is looked up by hash
 * again: a safety net (a reorganization, a transaction mined just before the scan started).
 */
const RECHECK_BLOCKS = 8;
const RECHECK_MS = 2_000;
/**
 * Blocks below the head scanned when a scan starts: a transaction sent while the scan started may
 * have been mined just before it (on a chain that mines each transaction at once).
 */
const LOOK_BACK = 2;
/** Transactions of recently scanned blocks, remembered so that a wait that starts late still finds them. */
const SEEN_BLOCKS = 64;

/** Replacements noted before their wait started or while it runs: old hash -> new hash. */
const replacedBy = new Map<string, string>();

export class ReceiptWatcher {
  private readonly provider: ChainReader;
  private readonly waiters = new Set<Waiter>();
  private readonly byHash = new Map<string, Waiter>();
  /** Transactions of the last SEEN_BLOCKS blocks scanned: hash -> block number. */
  private readonly seen = new Map<string, number>();
  /** The last block scanned. */
  private cursor: number | undefined;
  private idleSince = 0;
  private running = false;
  /** When the newest block was seen arriving (found right after a poll that did not find it), and its number. */
  private arrival: { at: number; block: number } | undefined;
  /** Times between consecutive blocks seen arriving (ms), the newest last. */
  private readonly gaps: number[] = [];
  /** The last poll did not find the next block. */
  private missed = false;
  /** Calls made (for tests and diagnostics). */
  calls = 0;

  constructor(provider: ChainReader) {
    this.provider = provider;
  }

  /** The receipt of `hash` (or of a replacement of it) once it has `confirmations` blocks. */
  wait(hash: string, confirmations = 1, sentBy?: SentBy): Promise<TransactionReceipt> {
    return new Promise<TransactionReceipt>((resolve, reject) => {
      const w: Waiter = { hashes: new Set(), confirmations: Math.max(1, confirmations), resolve, reject, checked: false, found: undefined, scanned: 0, lookedUp: Date.now(), sentBy };
      this.waiters.add(w);
      let h: string | undefined = hash.toLowerCase();
      while (h !== undefined && !w.hashes.has(h)) {
        w.hashes.add(h);
        this.byHash.set(h, w);
        h = replacedBy.get(h);
      }
      if (!this.running) void this.loop();
    });
  }

  /** `newHash` replaces `oldHash` (same nonce): a wait for either is over when either is mined. */
  replaced(oldHash: string, newHash: string): void {
    const w = this.byHash.get(oldHash.toLowerCase());
    if (!w) return;
    w.hashes.add(newHash.toLowerCase());
    this.byHash.set(newHash.toLowerCase(), w);
  }

  private finish(w: Waiter, r: TransactionReceipt | undefined, e?: unknown): void {
    if (!this.waiters.delete(w)) return;
    for (const h of w.hashes) this.byHash.delete(h);
    if (r) w.resolve(r);
    else w.reject(e);
  }

  private async loop(): Promise<void> {
    this.running = true;
    if (this.cursor !== undefined && Date.now() - this.idleSince > STALE_MS) this.cursor = undefined;
    let failures = 0;
    let idlePolls = 0;
    try {
      while (this.waiters.size > 0) {
        try {
          const progressed = await this.step();
          failures = 0;
          if (progressed) idlePolls = 0;
          else await sleep(this.pollDelay(idlePolls++));
        } catch (e) {
          if (++failures < MAX_FAILURES) {
            await sleep(POLL_MS[POLL_MS.length - 1]!);
            continue;
          }
          // The endpoint is away: every waiter learns it (a node's journal keeps the intent open).
          for (const w of [...this.waiters]) this.finish(w, undefined, e);
          this.cursor = undefined;
          failures = 0;
        }
      }
    } finally {
      this.running = false;
      this.idleSince = Date.now();
    }
  }

  /** How long to wait before polling again for the next block. */
  private pollDelay(idlePolls: number): number {
    const quick = POLL_MS[Math.min(idlePolls, POLL_MS.length - 1)]!;
    if (idlePolls > 0 || this.arrival === undefined || this.gaps.length === 0) return quick;
    const gap = [...this.gaps].sort((a, b) => a - b)[Math.floor(this.gaps.length / 2)]!;
    const due = this.arrival.at + gap - Date.now();
    return due > quick ? Math.min(due, MAX_DUE_MS) : quick;
  }

  /** Block `n` was just found after a poll that did not find it: it arrived about now. */
  private arrived(n: number): void {
    const now = Date.now();
    if (this.arrival && this.arrival.block === n - 1) {
      this.gaps.push(now - this.arrival.at);
      if (this.gaps.length > 5) this.gaps.shift();
    }
    this.arrival = { at: now, block: n };
  }

  private async receipt(hash: string): Promise<TransactionReceipt | null> {
    this.calls++;
    return this.provider.getTransactionReceipt(hash);
  }

  /**
   * Looks `w` up by hash (each of its hashes); true when it is mined. On a second look (`again`),
   * a wait that knows its sender also reads the sender's nonce: once another transaction has taken
   * it, none of ours can be mined any more, and the wait fails instead of waiting forever.
   */
  private async lookUp(w: Waiter, again = false): Promise<boolean> {
    w.lookedUp = Date.now();
    if (await this.findMined(w)) return true;
    if (!again || w.sentBy === undefined || this.provider.getTransactionCount === undefined) return false;
    this.calls++;
    const next = await this.provider.getTransactionCount(w.sentBy.from, "latest");
    // Ours may have been mined between the lookup and the nonce read: look once more.
    if (next <= w.sentBy.nonce || (await this.findMined(w))) return false;
    const hash = [...w.hashes][0]!;
    this.finish(
      w,
      undefined,
      makeError(
        `transaction ${hash} will never be mined: nonce ${w.sentBy.nonce} of ${w.sentBy.from} was taken by another transaction (one account, one sender: was it used outside this node?)`,
        "NONCE_EXPIRED",
        { transaction: { from: w.sentBy.from, nonce: w.sentBy.nonce } },
      ),
    );
    return true;
  }

  private async findMined(w: Waiter): Promise<boolean> {
    for (const h of [...w.hashes]) {
      const r = await this.receipt(h);
      if (r && r.blockNumber !== null) {
        await this.mined(w, r);
        return true;
      }
    }
    return false;
  }

  /** `w`'s receipt `r` is in: done, or waiting for confirmations. */
  private async mined(w: Waiter, r: TransactionReceipt): Promise<void> {
    w.found = r;
    if (w.confirmations === 1) return this.finish(w, r);
    if (this.cursor === undefined || this.cursor < r.blockNumber) {
      this.calls++;
      this.cursor = Math.max(this.cursor ?? 0, (await this.provider.getBlockNumber()) - 1);
    }
    await this.confirm(w);
  }

  /** Finishes `w` once its receipt has the confirmations it asked for (read again: still there?). */
  private async confirm(w: Waiter): Promise<void> {
    const r = w.found!;
    if (this.cursor === undefined || this.cursor + 1 < r.blockNumber + w.confirmations) return;
    const again = await this.receipt(r.hash);
    if (again && again.blockNumber !== null) this.finish(w, again);
    else w.found = undefined; // reorganized away: wait for it again
  }

  /** One step: look new waits up, or scan the next block; false when there was nothing new. */
  private async step(): Promise<boolean> {
    const fresh = [...this.waiters].filter((w) => !w.checked);
    for (const w of fresh) w.checked = true;
    // A wait that starts a busy spell is looked up by hash: a chain that mines every
    // transaction at once has it already. Waits that join a spell are found by the block scan,
    // or among the transactions of blocks scanned just before they started.
    const tracking = this.waiters.size > fresh.length;
    for (const w of fresh) {
      const at = [...w.hashes].find((h) => this.seen.has(h));
      if (at !== undefined || !tracking) await this.lookUp(w);
    }
    if (this.waiters.size === 0) return true;
    if (this.cursor === undefined) {
      // Scan from the head: a transaction mined between the lookup and now is in it.
      this.calls++;
      this.cursor = Math.max(-1, (await this.provider.getBlockNumber()) - 1 - LOOK_BACK);
      return true;
    }
    this.calls++;
    const block = await this.provider.getBlock(this.cursor + 1);
    if (!block) {
      this.missed = true;
      const now = Date.now();
      for (const w of [...this.waiters]) if (!w.found && now - w.lookedUp > RECHECK_MS) await this.lookUp(w, true);
      return false;
    }
    if (this.missed) this.arrived(block.number);
    this.missed = false;
    this.cursor = block.number;
    for (const h of block.transactions) {
      const hash = h.toLowerCase();
      this.seen.set(hash, block.number);
      const w = this.byHash.get(hash);
      if (w && !w.found) {
        const r = await this.receipt(hash);
        if (r && r.blockNumber !== null) await this.mined(w, r);
      }
    }
    for (const [hash, n] of this.seen) {
      if (n > block.number - SEEN_BLOCKS) break;
      this.seen.delete(hash);
    }
    for (const w of [...this.waiters]) {
      if (w.found) await this.confirm(w);
      else if (++w.scanned % RECHECK_BLOCKS === 0) await this.lookUp(w, true);
    }
    return true;
  }
}

const watchers = new WeakMap<object, ReceiptWatcher>();

/** The watcher shared by every wait on `provider`. */
export function receiptWatcher(provider: ChainReader): ReceiptWatcher {
  let w = watchers.get(provider);
  if (!w) watchers.set(provider, (w = new ReceiptWatcher(provider)));
  return w;
}

/** Notes that `newHash` was sent to replace `oldHash` (same nonce, higher fees) on `provider`. */
export function noteReplacement(provider: object | null | undefined, oldHash: string, newHash: string): void {
  const old = oldHash.toLowerCase();
  replacedBy.set(old, newHash.toLowerCase());
  if (replacedBy.size > 10_000) replacedBy.delete(replacedBy.keys().next().value!);
  if (provider) watchers.get(provider)?.replaced(old, newHash);
}

/** The receipt of `hash` once it has `confirmations` blocks (default 1), through the shared watcher. */
export function waitReceipt(provider: ChainReader, hash: string, confirmations = 1, sentBy?: SentBy): Promise<TransactionReceipt> {
  return receiptWatcher(provider).wait(hash, confirmations, sentBy);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** What waitMined takes: a sent transaction (an ethers TransactionResponse or ContractTransactionResponse). */
interface SentTransaction<R> {
  wait(confirmations?: number): Promise<R | null>;
  readonly hash?: string;
  readonly provider?: unknown;
  readonly from?: string;
  readonly nonce?: number;
}

const isChainReader = (p: unknown): p is ChainReader =>
  typeof p === "object" && p !== null && ["getBlock", "getBlockNumber", "getTransactionReceipt"].every((m) => typeof (p as Record<string, unknown>)[m] === "function");

/**
 * The receipt of a sent transaction, or of the transaction that replaced it with higher fees
 * (same nonce, recipient, data and value). A reverted transaction throws CALL_EXCEPTION, as
 * ethers' `wait` does. The receipt's logs are plain logs, which every caller reads by topic.
 */
export async function waitMined<R>(tx: SentTransaction<R>, confirmations?: number): Promise<R | null> {
  if (typeof tx.hash !== "string" || !isChainReader(tx.provider)) return waitWithEthers(tx, confirmations);
  const sentBy = typeof tx.from === "string" && typeof tx.nonce === "number" ? { from: tx.from, nonce: tx.nonce } : undefined;
  const receipt = await waitReceipt(tx.provider, tx.hash, confirmations ?? 1, sentBy);
  if (receipt.status === 0) {
    throw makeError("transaction execution reverted", "CALL_EXCEPTION", {
      action: "sendTransaction",
      data: null,
      reason: null,
      invocation: null,
      revert: null,
      transaction: { to: receipt.to, from: receipt.from, data: "" },
      receipt,
    });
  }
  return receipt as unknown as R;
}

async function waitWithEthers<R>(tx: SentTransaction<R>, confirmations?: number): Promise<R | null> {
  try {
    return await tx.wait(confirmations);
  } catch (e) {
    if (isError(e, "TRANSACTION_REPLACED") && e.reason === "repriced" && e.receipt) {
      if (e.receipt.status !== 1) throw e;
      return e.receipt as unknown as R;
    }
    throw e;
  }
}
