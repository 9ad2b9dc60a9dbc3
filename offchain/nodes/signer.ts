/**
 * The signer a node sends with: it hands out nonces itself (so several transactions can be in
 * flight), applies the node's gas settings, and reports each nonce before signing and each hash
 * once sent to the write-ahead log of the intent being carried out (see journal.ts).
 */
import { AsyncLocalStorage } from "node:async_hooks";

import type { FeeData, Provider, Signer, TransactionRequest, TransactionResponse, TypedDataDomain, TypedDataField } from "ethers";
import { AbstractSigner } from "ethers";

import { isNonceError } from "./transient.js";

export interface GasSettings {
  /** Cap on the fee per gas, in gwei (EIP-1559 maxFeePerGas). Default: the node's suggestion. */
  readonly maxFeeGwei?: number;
  /** Tip per gas, in gwei (maxPriorityFeePerGas). */
  readonly priorityFeeGwei?: number;
  /** Multiplies the estimated gas limit (default 1: the estimate as is). */
  readonly gasLimitMultiplier?: number;
}

/** What a transaction reports back to the write-ahead log. */
export interface SendHooks {
  onNonce(key: string, nonce: number): void;
  onSent(key: string, hash: string): void;
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

  /** Forget the local nonce: the next transaction asks the node (after an error or a restart). */
  resyncNonce(): void {
    this.nextNonce = undefined;
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
    if (this.gas.gasLimitMultiplier !== undefined && this.gas.gasLimitMultiplier !== 1 && req.gasLimit === undefined) {
      const estimate = await this.inner.estimateGas(req);
      req.gasLimit = (estimate * BigInt(Math.round(this.gas.gasLimitMultiplier * 1000))) / 1000n;
    }
    if (key !== undefined) this.hooks?.onNonce(key, nonce);
    try {
      const sent = await this.inner.sendTransaction(req);
      this.nextNonce = nonce + 1;
      if (key !== undefined) this.hooks?.onSent(key, sent.hash);
      return sent;
    } catch (e) {
      this.nextNonce = undefined;
      if (retry && isNonceError(e)) return this.sendNow(tx, false);
      throw e;
    }
  }
}
