/**
 * Write-ahead log of a node's transactions. Every transaction is an intent with a stable key
 * (`submit:4`, `move:0xgame:trace:1.0:0`):
 *
 *   1. the intent row is written (pending) before anything is signed;
 *   2. the nonce is written before the transaction is signed, its hash as soon as it is sent;
 *   3. the row is closed (done) with its gas once the receipt is in.
 *
 * After a crash or an endpoint failure, {@link Journal.reconcile} settles every open row against
 * the chain before the node decides anything: a transaction that was mined is closed, one still in
 * the mempool is waited for, and only one that provably never reached the chain (its nonce is
 * still free) is forgotten. The node's decisions read the chain, so a forgotten intent is simply
 * decided again: nothing is sent twice, nothing is lost.
 */
import type { Provider } from "ethers";

import { waitReceipt } from "../clients/wait.js";
import type { IntentRow, NodeStore } from "./store.js";
import type { Logger } from "./log.js";
import type { ManagedSigner } from "./signer.js";
import { intentContext } from "./signer.js";
import { isTransient } from "./transient.js";

export type Settled = "done" | "dropped" | "waiting";

/**
 * Test hook: `VERITENSOR_CRASH_AFTER_SEND=submit:` makes the process kill itself with SIGKILL right
 * after the first transaction whose intent key starts with that prefix is sent (before its receipt
 * is recorded), once per state database. It exercises the worst moment for a crash.
 */
const CRASH_ENV = "VERITENSOR_CRASH_AFTER_SEND";

export class Journal {
  readonly store: NodeStore;
  readonly signer: ManagedSigner;
  readonly provider: Provider;
  readonly confirmations: number;
  private readonly log: Logger;

  constructor(store: NodeStore, signer: ManagedSigner, log: Logger, confirmations = 1) {
    this.store = store;
    this.signer = signer;
    this.provider = signer.provider!;
    this.log = log;
    this.confirmations = Math.max(1, confirmations);
    const what = (key: string | undefined, nonce: number) => `${(key !== undefined ? store.intent(key)?.label : undefined) ?? "transaction"} (nonce ${nonce})`;
    signer.setHooks({
      onNonce: (key, nonce) => store.noteNonce(key, nonce),
      onSent: (key, hash) => {
        store.noteSent(key, hash);
        this.maybeCrash(key);
      },
      onReplaced: (key, nonce, fee, hash) => log.warn(`replaced ${what(key, nonce)}, not mined in time: fee ${fee.from} -> ${fee.to} gwei, tx ${hash}`),
      onCapped: (key, nonce, cap) => log.warn(`${what(key, nonce)} is not mined and its fee is at the --max-fee-gwei cap (${cap} gwei): waiting`),
      onReplaceError: (key, nonce, e) => log.info(`replacing ${what(key, nonce)} failed (${(e as Error).message?.split("\n")[0]}); trying again`),
    });
  }

  private maybeCrash(key: string): void {
    const prefix = process.env[CRASH_ENV];
    if (!prefix || !key.startsWith(prefix) || this.store.meta(`crashed:${prefix}`) !== undefined) return;
    this.store.setMeta(`crashed:${prefix}`, key);
    this.log.warn(`${CRASH_ENV}=${prefix}: killing this process right after sending ${key}`);
    process.kill(process.pid, "SIGKILL");
  }

  /** Whether `key` has a transaction that may still be in flight. */
  inFlight(key: string): boolean {
    const i = this.store.intent(key);
    return i !== undefined && (i.state === "pending" || i.state === "sent");
  }

  /** Settles every open intent; returns how many are still waiting for the chain. */
  async reconcile(): Promise<number> {
    let waiting = 0;
    for (const i of this.store.openIntents()) {
      const s = await this.settle(i);
      if (s === "waiting") waiting++;
      else this.log.info(`recovered ${i.label}: ${s === "done" ? "it reached the chain" : "it never reached the chain; deciding again"}`);
    }
    return waiting;
  }

  /** What became of an open intent's transaction. */
  async settle(i: IntentRow): Promise<Settled> {
    const from = await this.signer.getAddress();
    if (i.txHash !== undefined) {
      const receipt = await this.provider.getTransactionReceipt(i.txHash);
      if (receipt) {
        this.store.finishIntent(i.key, receipt.status === 1 ? "done" : "failed", receipt.gasUsed);
        return "done";
      }
      const pending = await this.provider.getTransaction(i.txHash);
      if (pending) {
        this.signer.adopt(i.key, pending); // replaced with higher fees if it stays stuck
        return "waiting";
      }
    }
    if (i.nonce !== undefined) {
      const mined = await this.provider.getTransactionCount(from, "latest");
      if (mined > i.nonce) {
        this.store.finishIntent(i.key, "done");
        return "done";
      }
      const pending = await this.provider.getTransactionCount(from, "pending");
      if (pending > i.nonce) return "waiting";
    }
    this.store.finishIntent(i.key, "dropped");
    this.signer.resyncNonce();
    return "dropped";
  }

  /**
   * Carries out intent `key` (`label` says what it is, in words): records it, runs `fn` (which
   * sends through the node's signer), waits for the configured confirmations and closes it. An
   * endpoint failure leaves the intent open for {@link reconcile}; a revert closes it as failed.
   */
  async perform<T>(key: string, label: string, fn: () => Promise<T>): Promise<T> {
    this.store.beginIntent(key, label);
    let out: T;
    try {
      out = await intentContext.run(key, fn);
    } catch (e) {
      if (isTransient(e)) throw e;
      const i = this.store.intent(key);
      if (i?.txHash !== undefined) {
        const receipt = await this.provider.getTransactionReceipt(i.txHash).catch(() => null);
        this.store.finishIntent(key, "failed", receipt?.gasUsed);
      } else this.store.finishIntent(key, i?.nonce === undefined ? "dropped" : "failed");
      throw e;
    }
    const i = this.store.intent(key);
    let gas: bigint | undefined;
    if (i?.txHash !== undefined) {
      const own = receiptIn(out);
      const receipt =
        this.confirmations > 1
          ? await waitReceipt(this.provider, i.txHash, this.confirmations)
          : own?.hash.toLowerCase() === i.txHash.toLowerCase()
            ? own // the caller already waited for this very transaction
            : await this.provider.getTransactionReceipt(i.txHash);
      gas = receipt?.gasUsed;
    }
    this.store.finishIntent(key, "done", gas);
    return out;
  }
}

/** The receipt a client call returned (itself, or as its `receipt`), if it returned one. */
function receiptIn(out: unknown): { hash: string; gasUsed: bigint } | undefined {
  const isReceipt = (x: unknown): x is { hash: string; gasUsed: bigint } =>
    typeof x === "object" && x !== null && typeof (x as { hash?: unknown }).hash === "string" && typeof (x as { gasUsed?: unknown }).gasUsed === "bigint";
  if (isReceipt(out)) return out;
  const inner = typeof out === "object" && out !== null ? (out as { receipt?: unknown }).receipt : undefined;
  return isReceipt(inner) ? inner : undefined;
}
