/**
 * The signer a node sends with: it hands out nonces itself (so several transactions can be in
 * flight), applies the node's gas settings, and reports each nonce before signing and each hash
 * once sent to the write-ahead log of the intent being carried out (see journal.ts).
 */
import { AsyncLocalStorage } from "node:async_hooks";

import type { FeeData, Provider, Signer, TransactionRequest, TransactionResponseParams, TypedDataDomain, TypedDataField } from "ethers";
import { AbstractSigner, TransactionResponse, hexlify, resolveAddress, toQuantity } from "ethers";

import { noteReplacement } from "../clients/wait.js";
import { isNonceError } from "./transient.js";

/**
 * The default margin on estimated gas limits. An estimate is made on the state the endpoint has
 * then (its pending block); the transaction runs on the state of the block it is mined in, after
 * whatever precedes it there. Many nodes' transactions land in the same blocks and touch the same
 * storage: a claim that takes out the worker who let the slot before pass costs up to 150,649 gas,
 * one whose estimate found that already done about 105,000 (×1.44). With the bare estimate such
 * claims ran out of gas (limit = used = 104,957) in 2 of 5 runs of the 100-job assignment test on a
 * busy machine. Unused gas is not paid for.
 */
export const DEFAULT_GAS_LIMIT_MULTIPLIER = 1.5;

export interface GasSettings {
  /** Cap on the fee per gas, in gwei (EIP-1559 maxFeePerGas). Default: the node's suggestion. */
  readonly maxFeeGwei?: number;
  /** Tip per gas, in gwei (maxPriorityFeePerGas). */
  readonly priorityFeeGwei?: number;
  /** Multiplies the estimated gas limit (default {@link DEFAULT_GAS_LIMIT_MULTIPLIER}; 1: the estimate as is). */
  readonly gasLimitMultiplier?: number;
  /**
   * A transaction not mined this long after it was sent (ms) is sent again with the same nonce and
   * fees raised by 12.5% (and at least the endpoint's current suggestion), up to `maxFeeGwei`.
   * Default 60 s; 0 never replaces.
   */
  readonly replaceAfterMs?: number;
}

/** What a transaction reports back to the write-ahead log. */
export interface SendHooks {
  onNonce(key: string, nonce: number): void;
  onSent(key: string, hash: string): void;
  /** A stuck transaction was sent again with higher fees (`fee` in gwei, before and after). */
  onReplaced?(key: string | undefined, nonce: number, fee: { from: string; to: string }, hash: string): void;
  /** A stuck transaction cannot be replaced: its fee is at the --max-fee-gwei cap (once per nonce). */
  onCapped?(key: string | undefined, nonce: number, capGwei: number): void;
  /** Replacing failed (it is tried again on the next check). */
  onReplaceError?(key: string | undefined, nonce: number, error: unknown): void;
}

/** A transaction sent and not yet known to be mined. */
interface InFlight {
  req: TransactionRequest;
  hash: string;
  sentAt: number;
  readonly key: string | undefined;
  capped: boolean;
}

const DEFAULT_REPLACE_AFTER_MS = 60_000;

/** x raised by 12.5%, rounded up (nodes require at least +10% to accept a replacement). */
const bump = (x: bigint): bigint => (x * 9n + 7n) / 8n;
const max = (a: bigint, b: bigint): bigint => (a > b ? a : b);
const asGwei = (x: bigint): string => (Number(x) / 1e9).toFixed(3).replace(/\.?0+$/, "");

/**
 * The fees of a replacement for `req`: each raised by 12.5% and at least the current suggestion;
 * undefined when that would exceed `capWei` (a replacement below +10% would be refused anyway).
 */
export function replacementFees(req: TransactionRequest, suggested: FeeData, capWei?: bigint): Partial<TransactionRequest> | undefined {
  if (req.gasPrice != null) {
    const price = max(bump(BigInt(req.gasPrice)), suggested.gasPrice ?? 0n);
    if (capWei !== undefined && price > capWei) return undefined;
    return { gasPrice: price };
  }
  const tip = max(bump(BigInt(req.maxPriorityFeePerGas ?? 0n)), suggested.maxPriorityFeePerGas ?? 0n);
  const cap = max(max(bump(BigInt(req.maxFeePerGas ?? 0n)), suggested.maxFeePerGas ?? 0n), tip);
  if (capWei !== undefined && cap > capWei) return undefined;
  return { maxFeePerGas: cap, maxPriorityFeePerGas: tip };
}

/** The intent (write-ahead log key) the current async call chain is carrying out. */
export const intentContext = new AsyncLocalStorage<string>();

/** How long a fee suggestion is reused (ms). */
const FEE_DATA_TTL_MS = 2_000;

const gwei = (n: number): bigint => BigInt(Math.round(n * 1e9));

export class ManagedSigner extends AbstractSigner {
  readonly inner: Signer;
  readonly gas: GasSettings;
  private hooks: SendHooks | undefined;
  private nextNonce: number | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private address: string | undefined;
  private feeData: { at: number; data: FeeData } | undefined;
  /** Sent transactions by nonce, until mined (only when replacing is on). */
  private readonly inFlight = new Map<number, InFlight>();
  private replaceTimer: NodeJS.Timeout | undefined;
  private replacing = false;

  constructor(inner: Signer, gas: GasSettings = {}, hooks?: SendHooks) {
    super(inner.provider);
    this.inner = inner;
    this.gas = gas;
    this.hooks = hooks;
  }

  setHooks(hooks: SendHooks): void {
    this.hooks = hooks;
  }

  override async getAddress(): Promise<string> {
    return (this.address ??= await this.inner.getAddress());
  }

  override connect(provider: Provider | null): ManagedSigner {
    return new ManagedSigner(this.inner.connect(provider), this.gas, this.hooks);
  }

  override signTransaction(tx: TransactionRequest): Promise<string> {
    return this.inner.signTransaction(tx);
  }

  override signMessage(message: string | Uint8Array): Promise<string> {
    return this.inner.signMessage(message);
  }

  override signTypedData(domain: TypedDataDomain, types: Record<string, TypedDataField[]>, value: Record<string, unknown>): Promise<string> {
    return this.inner.signTypedData(domain, types, value);
  }

  /**
   * Fills in the fees the settings leave open from the endpoint's suggestion, asked at most once
   * every FEE_DATA_TTL_MS: a node sending a burst of transactions (a batch of jobs) would
   * otherwise ask for the same suggestion (a block and a fee history) before every one.
   */
  private async applyFees(req: TransactionRequest): Promise<void> {
    const now = Date.now();
    if (this.feeData === undefined || now - this.feeData.at > FEE_DATA_TTL_MS) {
      this.feeData = { at: now, data: await this.provider!.getFeeData() };
    }
    const f = this.feeData.data;
    if (f.maxFeePerGas != null && f.maxPriorityFeePerGas != null) {
      req.maxPriorityFeePerGas ??= f.maxPriorityFeePerGas;
      // A tip set above the suggested cap needs a cap that covers it.
      const cap = f.maxFeePerGas > BigInt(req.maxPriorityFeePerGas) ? f.maxFeePerGas : BigInt(req.maxPriorityFeePerGas);
      req.maxFeePerGas ??= cap;
    } else if (f.gasPrice != null && req.maxFeePerGas == null && req.maxPriorityFeePerGas == null) {
      req.gasPrice = f.gasPrice; // a network without EIP-1559
    }
  }

  private get replaceAfterMs(): number {
    return this.gas.replaceAfterMs ?? DEFAULT_REPLACE_AFTER_MS;
  }

  /** Watches a sent transaction so that it can be replaced if it gets stuck. */
  private track(nonce: number, req: TransactionRequest, hash: string, key: string | undefined): void {
    if (this.replaceAfterMs <= 0) return;
    this.inFlight.set(nonce, { req: { ...req }, hash, sentAt: Date.now(), key, capped: false });
    this.replaceTimer ??= setInterval(() => void this.replaceStuck(), Math.max(50, Math.floor(this.replaceAfterMs / 4)));
    this.replaceTimer.unref();
  }

  /**
   * Watches a transaction sent before a restart (found in the mempool by the journal) as if this
   * signer had just sent it, so that it too is replaced if it stays stuck.
   */
  adopt(key: string, tx: TransactionResponse): void {
    if (this.inFlight.has(tx.nonce)) return;
    const req: TransactionRequest = { from: tx.from, to: tx.to, data: tx.data, value: tx.value, nonce: tx.nonce, gasLimit: tx.gasLimit, chainId: tx.chainId, type: tx.type };
    if (tx.type === 2) Object.assign(req, { maxFeePerGas: tx.maxFeePerGas, maxPriorityFeePerGas: tx.maxPriorityFeePerGas });
    else req.gasPrice = tx.gasPrice;
    this.track(tx.nonce, req, tx.hash, key);
  }

  /** Stops watching (a node that stops; a restarted one finds its transactions through the journal). */
  stopReplacing(): void {
    if (this.replaceTimer) clearInterval(this.replaceTimer);
    this.replaceTimer = undefined;
    this.inFlight.clear();
  }

  /**
   * Sends again, with the same nonce and higher fees, every watched transaction still unmined
   * `replaceAfterMs` after it (or its last replacement) was sent. Runs on a timer while any is watched.
   */
  async replaceStuck(): Promise<void> {
    if (this.replacing || this.inFlight.size === 0) return;
    this.replacing = true;
    try {
      const provider = this.provider!;
      const mined = await provider.getTransactionCount(await this.getAddress(), "latest");
      for (const [nonce, t] of this.inFlight) {
        if (nonce < mined) {
          this.inFlight.delete(nonce);
          continue;
        }
        if (Date.now() - t.sentAt < this.replaceAfterMs) continue;
        const capWei = this.gas.maxFeeGwei !== undefined ? gwei(this.gas.maxFeeGwei) : undefined;
        const fees = replacementFees(t.req, await provider.getFeeData(), capWei);
        if (fees === undefined) {
          if (!t.capped) this.hooks?.onCapped?.(t.key, nonce, this.gas.maxFeeGwei!);
          t.capped = true;
          continue;
        }
        const before = BigInt(t.req.maxFeePerGas ?? t.req.gasPrice ?? 0n);
        const req = { ...t.req, ...fees };
        try {
          const sent = await this.sendSigned(req);
          noteReplacement(provider, t.hash, sent.hash);
          const after = BigInt(req.maxFeePerGas ?? req.gasPrice ?? 0n);
          Object.assign(t, { req, hash: sent.hash, sentAt: Date.now() });
          if (t.key !== undefined) this.hooks?.onSent(t.key, sent.hash);
          this.hooks?.onReplaced?.(t.key, nonce, { from: asGwei(before), to: asGwei(after) }, sent.hash);
        } catch (e) {
          // Mined in the meantime ("nonce too low"), or refused: the next check sees which.
          t.sentAt = Date.now();
          this.hooks?.onReplaceError?.(t.key, nonce, e);
        }
      }
    } catch {
      // The endpoint is away: the node's loop deals with that; try again on the next check.
    } finally {
      if (this.inFlight.size === 0) this.stopReplacing();
      this.replacing = false;
    }
  }

  /** Forget the local nonce: the next transaction asks the node (after an error or a restart). */
  resyncNonce(): void {
    this.nextNonce = undefined;
  }

  /**
   * Sends `req` (nonce and fees filled in) through the inner signer. An account the endpoint signs
   * for (Hardhat's signer: \`eth_sendTransaction\`) is sent to directly, and the response is built
   * from the request and the hash: Hardhat's signer would also read the block number before and
   * the transaction back after, two more calls per transaction that tell this signer nothing new.
   */
  private async sendSigned(req: TransactionRequest): Promise<TransactionResponse> {
    const provider = this.provider as (Provider & { send?: (method: string, params: unknown[]) => Promise<unknown> }) | null;
    if (this.inner.constructor?.name !== "HardhatEthersSigner" || typeof provider?.send !== "function") return this.inner.sendTransaction(req);
    const q = (v: bigint | number | string | null | undefined) => (v == null ? undefined : toQuantity(v));
    const from = await this.getAddress();
    const to = req.to == null ? null : await resolveAddress(req.to, provider);
    const data = hexlify(req.data ?? "0x");
    const rpc = Object.fromEntries(
      Object.entries({
        from,
        to: to ?? undefined,
        gas: q(req.gasLimit),
        gasPrice: q(req.gasPrice),
        maxFeePerGas: q(req.maxFeePerGas),
        maxPriorityFeePerGas: q(req.maxPriorityFeePerGas),
        value: q(req.value),
        data,
        nonce: q(req.nonce),
        type: q(req.type),
        chainId: q(req.chainId),
      }).filter(([, v]) => v !== undefined),
    );
    const hash = (await provider.send("eth_sendTransaction", [rpc])) as string;
    const big = (v: bigint | number | string | null | undefined) => (v == null ? null : BigInt(v));
    const params = {
      blockNumber: null,
      blockHash: null,
      hash,
      index: 0,
      type: req.type ?? (req.gasPrice != null ? 0 : 2),
      to,
      from,
      nonce: Number(req.nonce),
      gasLimit: big(req.gasLimit) ?? 0n,
      gasPrice: big(req.gasPrice) ?? big(req.maxFeePerGas) ?? 0n,
      maxPriorityFeePerGas: big(req.maxPriorityFeePerGas),
      maxFeePerGas: big(req.maxFeePerGas),
      maxFeePerBlobGas: null,
      data,
      value: big(req.value) ?? 0n,
      chainId: big(req.chainId) ?? 0n,
      signature: null,
      accessList: null,
      blobVersionedHashes: null,
      authorizationList: null,
    } as unknown as TransactionResponseParams;
    return new TransactionResponse(params, provider);
  }

  /** Sends in order, one nonce each; a nonce error resyncs and retries once. */
  override sendTransaction(tx: TransactionRequest): Promise<TransactionResponse> {
    const run = this.queue.then(() => this.sendNow(tx, true));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async sendNow(tx: TransactionRequest, retry: boolean): Promise<TransactionResponse> {
    const provider = this.provider!;
    const from = await this.getAddress();
    const nonce = this.nextNonce ?? (await provider.getTransactionCount(from, "pending"));
    const key = intentContext.getStore();
    const req: TransactionRequest = { ...tx, from, nonce };
    if (this.gas.maxFeeGwei !== undefined) req.maxFeePerGas = gwei(this.gas.maxFeeGwei);
    if (this.gas.priorityFeeGwei !== undefined) req.maxPriorityFeePerGas = gwei(this.gas.priorityFeeGwei);
    if (req.gasPrice == null && (req.maxFeePerGas == null || req.maxPriorityFeePerGas == null)) await this.applyFees(req);
    const multiplier = this.gas.gasLimitMultiplier ?? DEFAULT_GAS_LIMIT_MULTIPLIER;
    if (multiplier !== 1 && req.gasLimit == null) {
      const estimate = await this.inner.estimateGas(req);
      req.gasLimit = (estimate * BigInt(Math.round(multiplier * 1000))) / 1000n;
    }
    if (key !== undefined) this.hooks?.onNonce(key, nonce);
    try {
      const sent = await this.sendSigned(req);
      this.nextNonce = nonce + 1;
      if (key !== undefined) this.hooks?.onSent(key, sent.hash);
      this.track(nonce, req, sent.hash, key);
      return sent;
    } catch (e) {
      this.nextNonce = undefined;
      if (retry && isNonceError(e)) return this.sendNow(tx, false);
      throw e;
    }
  }
}
