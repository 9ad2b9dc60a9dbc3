/**
 * The Veritensor client: the job escrow, the model registry and the token at their addresses, with
 * any ethers v6 Signer (to send) or Provider (to read).
 *
 *   const vt = await Veritensor.connect(wallet, { deployment: "ignition/deployments/chain-31337/deployed_addresses.json" });
 *   const { jobId } = await vt.requestInference({ modelId: 1n, input: [0, 3, ...] });
 *   const result = await vt.waitForResult(jobId, { timeoutMs: 120_000 });
 *   result.values; result.real; // the output's integers, and times the model's output scale
 *
 * Nonces: every transaction the client sends waits for its receipt before the next, and carries
 * the nonce the client counted (the endpoint's pending count read uncached, or one more than the
 * client's last, whichever is higher). A plain Wallet on a JsonRpcProvider would otherwise reuse a
 * nonce: ethers caches `eth_getTransactionCount` for 250 ms, so an approval then a request in
 * quick succession both asked for the same one. A NonceManager keeps counting its own.
 */
import type {
  ContractRunner,
  ContractTransactionResponse,
  Provider,
  Signer,
  TransactionReceipt,
  TransactionResponse,
} from "ethers";
import { Contract, Interface, ZeroAddress, ZeroHash, getBytes, isAddress, isHexString } from "ethers";

import { JOB_MANAGER_ABI, MODEL_REGISTRY_ABI, PROTOCOL_ERRORS_ABI, TOKEN_ABI } from "./abi.js";
import type { ProtocolAddresses } from "./deployment.js";
import { checkAddresses, officialDeployment, readDeploymentFile } from "./deployment.js";
import { JobFailedError, TimeoutError, VeritensorError } from "./errors.js";
import { formatVtn, jobStatusName, toVeritensorError } from "./revert.js";
import { decodeTensor, dequantize, encodeTensor, splitItems } from "./tensors.js";
import type { JobEvent, WatchOptions } from "./watch.js";
import { jobEvents, toJobId } from "./watch.js";

export interface ConnectOptions {
  /** The contracts' addresses (only `jobManager` is required; the token and registry are read from it). */
  readonly addresses?: ProtocolAddresses;
  /** Or Ignition's `deployed_addresses.json` of your own deployment (Node only). */
  readonly deployment?: string;
  /** Without either, the official deployment of the provider's chain (the SDK's address book). */
  /** Confirmations to wait for each transaction the client sends (default 1). */
  readonly confirmations?: number;
}

/** A model as the escrow prices and scales it. */
export interface ModelInfo {
  readonly modelId: bigint;
  /** Price per input, in token wei. */
  readonly price: bigint;
  readonly deprecated: boolean;
  readonly inputElements: bigint;
  readonly outputElements: bigint;
  /** Real value = integer × scale / 10^18. */
  readonly inputScaleWad: bigint;
  readonly outputScaleWad: bigint;
}

export interface FeeQuote {
  readonly price: bigint;
  readonly batchSize: bigint;
  /** `price × batchSize`: what the job pays the model. */
  readonly modelFee: bigint;
  /** The callback fee (0 without a callback): `callbackGasLimit × callbackFeePerGas`. */
  readonly callbackFee: bigint;
  /** The protocol fee rate now, in basis points of the fee. */
  readonly protocolFeeBps: bigint;
  /** The smallest fee accepted now: the escrow's own `minimumFee` / `minimumFeeWithCallback`. */
  readonly minimum: bigint;
  readonly deprecated: boolean;
  readonly inputElements: bigint;
  readonly outputElements: bigint;
}

/** A tensor: canonical bytes (Uint8Array), or int32 values (numbers, Int32Array). */
export type TensorInput = Uint8Array | ArrayLike<number>;

interface RequestCommon {
  readonly modelId: bigint | number;
  /** Defaults to {@link FeeQuote.minimum}; whatever is above it is the worker's. */
  readonly fee?: bigint;
  /** Seconds from now until the job expires unclaimed or unanswered (default 3600, at most the escrow's maxJobDuration). */
  readonly deadlineIn?: number;
  /** A contract to call back with the output (it must have approved this requester, or be it). */
  readonly consumer?: string;
  /** Gas for the callback (default 100,000 with a consumer). */
  readonly callbackGasLimit?: number;
  /** Approve the escrow for the fee when the allowance is short (default true); false fails with INSUFFICIENT_ALLOWANCE. */
  readonly approve?: boolean;
}

export interface InferenceRequest extends RequestCommon {
  /** The input inline, or… */
  readonly input?: TensorInput;
  /** …by URI with its tensor commitment (docs/SEMANTICS.md). */
  readonly inputUri?: string;
  readonly inputCommitment?: string;
}

export interface BatchRequest extends RequestCommon {
  /** The inputs inline, each the model's input size; or… */
  readonly inputs?: readonly TensorInput[];
  /** …by URI with the batch commitment and the number of inputs. */
  readonly inputUri?: string;
  readonly inputCommitment?: string;
  readonly batchSize?: number;
}

export interface RequestReceipt {
  readonly jobId: bigint;
  readonly batchSize: number;
  readonly fee: bigint;
  readonly deadline: bigint;
  /** The job's terms, as the escrow's later calls take them back. */
  readonly terms: Readonly<Record<string, unknown>>;
  readonly blockNumber: number;
  readonly transactionHash: string;
  /** The approval sent first, if one was needed. */
  readonly approvalHash?: string;
}

export interface JobInfo {
  readonly jobId: bigint;
  /** `Open`, `Claimed`, `Submitted`, `Finalized`, `Refunded` or `Rejected`. */
  readonly status: string;
  readonly worker: string;
  readonly batchSize: number;
  readonly openDisputes: number;
  /** `none`, `delivered` or `failed`. */
  readonly callback: "none" | "delivered" | "failed";
}

/** An output decoded with its model's scale. */
export interface JobOutput {
  readonly bytes: Uint8Array;
  /** The int32 values (all items of a batch, concatenated). */
  readonly values: number[];
  /** The values times the model's output scale. */
  readonly real: number[];
  /** The values item by item (one item for a single job). */
  readonly items: number[][];
  readonly outputScaleWad: bigint;
}

export interface JobResult extends JobOutput {
  readonly jobId: bigint;
  readonly worker: string;
  readonly outputCommitment: string;
  /** The finalization's transaction. */
  readonly transactionHash: string;
  /** What became of a consumer's callback (undefined without a consumer). */
  readonly callback?: "delivered" | "failed";
  /** Every event of the job, in order. */
  readonly events: readonly JobEvent[];
}

export interface WaitOptions extends WatchOptions {}

const CALLBACK = ["none", "delivered", "failed"] as const;
const DEFAULT_DEADLINE_S = 3600;
const DEFAULT_CALLBACK_GAS = 100_000;

function isSigner(r: ContractRunner): r is Signer {
  return typeof (r as Signer).getAddress === "function" && typeof (r as Signer).signTransaction === "function";
}

/** A signer that counts nonces itself (ethers' NonceManager): the client leaves them to it. */
function countsNonces(s: Signer): boolean {
  return typeof (s as { increment?: unknown }).increment === "function" && typeof (s as { reset?: unknown }).reset === "function";
}

function toBytes(t: TensorInput, what: string): Uint8Array {
  if (t instanceof Uint8Array) return t;
  return encodeTensor(t, what);
}

export class Veritensor {
  readonly addresses: Required<Pick<ProtocolAddresses, "jobManager" | "token" | "registry">> & ProtocolAddresses;
  readonly chainId: bigint;
  readonly provider: Provider;
  /** The signer transactions are sent from (undefined: read only). */
  readonly signer: Signer | undefined;
  /** The job escrow, the registry and the token as ethers Contracts (connected to the signer when there is one). */
  readonly jobManager: Contract;
  readonly registry: Contract;
  readonly token: Contract;
  /** Every custom error of the protocol, for decoding reverts. */
  readonly errors: Interface;
  private readonly confirmations: number;
  private readonly nonces = new Map<string, number>();
  private readonly requestBlocks = new Map<bigint, number>();
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    runner: ContractRunner,
    provider: Provider,
    chainId: bigint,
    addresses: Veritensor["addresses"],
    confirmations: number,
  ) {
    this.provider = provider;
    this.signer = isSigner(runner) ? runner : undefined;
    this.chainId = chainId;
    this.addresses = addresses;
    this.confirmations = confirmations;
    this.jobManager = new Contract(addresses.jobManager, JOB_MANAGER_ABI as never, runner);
    this.registry = new Contract(addresses.registry, MODEL_REGISTRY_ABI as never, runner);
    this.token = new Contract(addresses.token, TOKEN_ABI as never, runner);
    this.errors = new Interface(PROTOCOL_ERRORS_ABI as never);
  }

  /**
   * A client on `runner` (a Signer with a provider, or a Provider for reads only), at the addresses
   * given, the deployment file given, or the official deployment of the provider's chain.
   * Fails with NOT_DEPLOYED when no escrow is at the address.
   */
  static async connect(runner: Signer | Provider, options: ConnectOptions = {}): Promise<Veritensor> {
    const provider = isSigner(runner) ? runner.provider : (runner as Provider);
    if (!provider) throw new VeritensorError("the signer has no provider: connect it to one (wallet.connect(provider))", { code: "INVALID_ARGUMENT" });
    const errors = new Interface(PROTOCOL_ERRORS_ABI as never);
    let chainId: bigint;
    try {
      chainId = (await provider.getNetwork()).chainId;
    } catch (e) {
      throw toVeritensorError(e, "connecting to the network", errors);
    }
    const given = options.addresses
      ? checkAddresses(options.addresses)
      : options.deployment !== undefined
        ? await readDeploymentFile(options.deployment)
        : officialDeployment(chainId).contracts;
    const code = await provider.getCode(given.jobManager).catch((e: unknown) => {
      throw toVeritensorError(e, "looking up the job escrow", errors);
    });
    if (code === "0x") {
      throw new VeritensorError(
        `no contract at the job escrow's address ${given.jobManager} on chain ${chainId} (a deployment of another chain, or a node restarted since?)`,
        { code: "NOT_DEPLOYED" },
      );
    }
    const escrow = new Contract(given.jobManager, JOB_MANAGER_ABI as never, provider);
    const [token, registry] = await Promise.all([
      given.token ?? (escrow.getFunction("token")() as Promise<string>),
      given.registry ?? (escrow.getFunction("registry")() as Promise<string>),
    ]).catch((e: unknown) => {
      throw toVeritensorError(e, "reading the escrow's token and registry", errors);
    });
    return new Veritensor(runner, provider, chainId, { ...given, token, registry }, options.confirmations ?? 1);
  }

  // ----- reads -----

  /** Runs a read; a revert becomes a VeritensorError with its code. */
  private async read<T>(action: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      throw toVeritensorError(e, action, this.errors);
    }
  }

  /** A model's price, sizes and scales. Fails with UNKNOWN_MODEL. */
  async model(modelId: bigint | number): Promise<ModelInfo> {
    const id = BigInt(modelId);
    const [[price, deprecated, inputElements, outputElements], [inputScaleWad, outputScaleWad]] = await this.read(`looking up model ${id}`, () =>
      Promise.all([this.registry.getFunction("pricing")(id), this.registry.getFunction("scales")(id)]),
    );
    return { modelId: id, price, deprecated, inputElements, outputElements, inputScaleWad, outputScaleWad };
  }

  /**
   * The smallest fee a job of `modelId` accepts now, from the escrow's own views (so it follows
   * governance's fee changes), with its parts.
   */
  async quoteFee(modelId: bigint | number, options: { callbackGasLimit?: number | bigint; batchSize?: number | bigint } = {}): Promise<FeeQuote> {
    const id = BigInt(modelId);
    const gas = BigInt(options.callbackGasLimit ?? 0);
    const batchSize = BigInt(options.batchSize ?? 1);
    const [[price, deprecated, inputElements, outputElements], params] = await this.read(`looking up model ${id}`, () =>
      Promise.all([this.registry.getFunction("pricing")(id), this.jobManager.getFunction("params")()]),
    );
    const modelFee = (price as bigint) * batchSize;
    const minimum: bigint = await this.read("quoting the fee", () =>
      gas === 0n ? this.jobManager.getFunction("minimumFee")(modelFee) : this.jobManager.getFunction("minimumFeeWithCallback")(modelFee, gas),
    );
    return {
      price,
      batchSize,
      modelFee,
      callbackFee: gas * (params.callbackFeePerGas as bigint),
      protocolFeeBps: params.protocolFeeBps as bigint,
      minimum,
      deprecated,
      inputElements,
      outputElements,
    };
  }

  /** A job's state now. Fails with UNKNOWN_JOB. */
  async getJob(jobId: bigint | number | string): Promise<JobInfo> {
    const id = toJobId(jobId);
    const job = await this.read(`reading job ${id}`, () => this.jobManager.getFunction("getJob")(id));
    return {
      jobId: id,
      status: jobStatusName(job.status as bigint),
      worker: job.worker as string,
      batchSize: Number(job.batchSize),
      openDisputes: Number(job.openDisputes),
      callback: CALLBACK[Number(job.callback)] ?? "none",
    };
  }

  // ----- sending -----

  private requireSigner(action: string): Signer {
    if (!this.signer) throw new VeritensorError(`${action}: this client has no signer (connect with a Signer, not a Provider)`, { code: "NO_SIGNER" });
    return this.signer;
  }

  /** Runs `fn` after every earlier call of it on this client: one flow of transactions at a time. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** The endpoint's pending transaction count, uncached when the provider speaks JSON-RPC. */
  private async pendingCount(address: string): Promise<number> {
    const p = this.provider as Provider & { send?: (method: string, params: unknown[]) => Promise<unknown> };
    if (typeof p.send === "function") {
      try {
        return Number(BigInt((await p.send("eth_getTransactionCount", [address, "pending"])) as string));
      } catch {
        // fall back on the provider's own method
      }
    }
    return this.provider.getTransactionCount(address, "pending");
  }

  /**
   * Sends one transaction built by `build` (given the nonce to use) and waits for its receipt: the
   * nonce bookkeeping above, and every failure as a VeritensorError with its code. Use it for your
   * own transactions from the same signer in between the client's.
   */
  async send(action: string, build: (overrides: { nonce?: number }) => Promise<ContractTransactionResponse | TransactionResponse>): Promise<TransactionReceipt> {
    const signer = this.requireSigner(action);
    const overrides: { nonce?: number } = {};
    let from: string | undefined;
    try {
      if (!countsNonces(signer)) {
        from = (await signer.getAddress()).toLowerCase();
        const counted = this.nonces.get(from) ?? 0;
        overrides.nonce = Math.max(counted, await this.pendingCount(from));
      }
    } catch (e) {
      throw toVeritensorError(e, action, this.errors);
    }
    let tx: ContractTransactionResponse | TransactionResponse;
    try {
      tx = await build(overrides);
    } catch (e) {
      throw toVeritensorError(e, action, this.errors);
    }
    if (from !== undefined) this.nonces.set(from, tx.nonce + 1);
    let receipt: TransactionReceipt | null;
    try {
      receipt = await tx.wait(this.confirmations);
    } catch (e) {
      throw toVeritensorError(e, action, this.errors);
    }
    if (!receipt) throw new VeritensorError(`${action} failed: the transaction was dropped`, { code: "TRANSACTION_FAILED" });
    return receipt;
  }

  /**
   * Makes sure `spender` may spend `amount` of the signer's tokens: approves exactly `amount` when
   * the allowance is short. Fails with INSUFFICIENT_BALANCE before approving what the signer lacks.
   * Returns the approval's hash, if one was sent.
   */
  async ensureAllowance(spender: string, amount: bigint, options: { approve?: boolean; purpose?: string } = {}): Promise<string | undefined> {
    const signer = this.requireSigner("approving tokens");
    const owner = await signer.getAddress();
    const purpose = options.purpose ?? `${formatVtn(amount)}`;
    const [balance, allowance]: [bigint, bigint] = await this.read("reading the token balance", () =>
      Promise.all([this.token.getFunction("balanceOf")(owner), this.token.getFunction("allowance")(owner, spender)]),
    );
    if (balance < amount) {
      throw new VeritensorError(`token balance too low for ${purpose}: ${owner} has ${formatVtn(balance)}, ${formatVtn(amount)} is needed`, {
        code: "INSUFFICIENT_BALANCE",
      });
    }
    if (allowance >= amount) return undefined;
    if (options.approve === false) {
      throw new VeritensorError(
        `allowance too low for ${purpose}: ${spender} may spend ${formatVtn(allowance)} of ${owner}'s tokens, ${formatVtn(amount)} is needed (approve it, or leave approve on)`,
        { code: "INSUFFICIENT_ALLOWANCE" },
      );
    }
    const receipt = await this.send(`approving ${formatVtn(amount)} for ${spender}`, (o) => this.token.getFunction("approve")(spender, amount, o));
    return receipt.hash;
  }

  /** Requests one inference: inline input (bytes or int32 values) or by URI. Approves the fee if needed. */
  requestInference(r: InferenceRequest): Promise<RequestReceipt> {
    const inline = r.input !== undefined;
    const input = inline ? toBytes(r.input!, "input") : undefined;
    return this.serial(() => this.request(r, input, 1, input === undefined ? undefined : [input]));
  }

  /** Requests one job over several inputs of one model (`requestBatch`): settled as one, outputs concatenated. */
  requestBatch(r: BatchRequest): Promise<RequestReceipt> {
    if ((r.inputs !== undefined) === (r.batchSize !== undefined)) {
      throw new VeritensorError("give a batch's inputs either inline (inputs) or by URI with their number (batchSize)", { code: "INVALID_INPUT" });
    }
    const items = r.inputs?.map((x, i) => toBytes(x, `input ${i}`));
    const size = items ? items.length : r.batchSize!;
    const input = items ? concat(items) : undefined;
    return this.serial(() => this.request(r, input, size, items));
  }

  private async request(r: RequestCommon & { inputUri?: string; inputCommitment?: string }, input: Uint8Array | undefined, batchSize: number, items: readonly Uint8Array[] | undefined): Promise<RequestReceipt> {
    const signer = this.requireSigner("requesting an inference");
    const modelId = BigInt(r.modelId);
    const consumer = r.consumer ?? ZeroAddress;
    if (!isAddress(consumer)) throw new VeritensorError(`consumer "${consumer}" is not an address`, { code: "INVALID_ARGUMENT" });
    const callbackGasLimit = consumer === ZeroAddress ? 0 : (r.callbackGasLimit ?? DEFAULT_CALLBACK_GAS);
    const byUri = r.inputUri !== undefined && r.inputUri !== "";
    if ((input !== undefined && input.length > 0) === byUri) {
      throw new VeritensorError("give the input either inline or by URI with its commitment, not both and not neither", { code: "INVALID_INPUT" });
    }
    if (byUri && !(isHexString(r.inputCommitment, 32) && r.inputCommitment !== ZeroHash)) {
      throw new VeritensorError(`an input given by URI needs its ${batchSize === 1 ? "tensor" : "batch"} commitment (32 bytes, 0x-hex)`, { code: "INVALID_INPUT" });
    }
    const max = Number(await this.read("reading the largest batch", () => this.jobManager.getFunction("MAX_BATCH_SIZE")()));
    if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > max) {
      throw new VeritensorError(`a batch carries 1 to ${max} inputs, not ${batchSize}`, { code: "INVALID_INPUT" });
    }
    const quote = await this.quoteFee(modelId, { callbackGasLimit, batchSize });
    if (quote.deprecated) throw new VeritensorError(`model ${modelId} is deprecated and takes no new jobs`, { code: "MODEL_DEPRECATED" });
    const fee = r.fee ?? quote.minimum;
    if (fee < quote.minimum) {
      throw new VeritensorError(
        `fee ${formatVtn(fee)} is below the minimum ${formatVtn(quote.minimum)} for model ${modelId} ` +
          `(its price ${formatVtn(quote.price)}${batchSize > 1 ? ` × ${batchSize} inputs` : ""}${quote.callbackFee > 0n ? ` and the callback fee ${formatVtn(quote.callbackFee)}` : ""}, after the protocol fee)`,
        { code: "FEE_TOO_LOW" },
      );
    }
    const bad = items?.findIndex((x) => x.length !== Number(quote.inputElements) * 4) ?? -1;
    if (bad >= 0) {
      const which = batchSize === 1 ? "the input" : `input ${bad} of the batch`;
      throw new VeritensorError(`${which} has ${items![bad]!.length / 4} elements; model ${modelId} takes ${quote.inputElements}`, { code: "INVALID_INPUT" });
    }
    const params = await this.read("reading the escrow's parameters", () => this.jobManager.getFunction("params")());
    const deadlineIn = r.deadlineIn ?? Math.min(DEFAULT_DEADLINE_S, Number(params.maxJobDuration));
    if (!Number.isInteger(deadlineIn) || deadlineIn <= 0 || deadlineIn > Number(params.maxJobDuration)) {
      throw new VeritensorError(`deadlineIn ${deadlineIn} s: give whole seconds from now, more than 0 and at most ${params.maxJobDuration}`, { code: "INVALID_DEADLINE" });
    }
    const head = await this.read("reading the latest block", () => this.provider.getBlock("latest"));
    const base = BigInt(Math.max(head?.timestamp ?? 0, Math.floor(Date.now() / 1000)));
    const deadline = base + BigInt(deadlineIn);

    const approvalHash = await this.ensureAllowance(this.addresses.jobManager, fee, { approve: r.approve, purpose: `the fee of ${formatVtn(fee)}` });
    const request = {
      modelId,
      input: byUri ? "0x" : input!,
      inputURI: byUri ? r.inputUri! : "",
      inputCommitment: byUri ? r.inputCommitment! : ZeroHash,
      fee,
      deadline,
      consumer,
      callbackGasLimit,
    };
    const escrow = this.jobManager.connect(signer) as Contract;
    const action = batchSize === 1 ? `requesting an inference of model ${modelId}` : `requesting a batch of ${batchSize} inferences of model ${modelId}`;
    const receipt = await this.send(action, (o) =>
      batchSize === 1 ? escrow.getFunction("requestInference")(request, o) : escrow.getFunction("requestBatch")(request, batchSize, o),
    );
    const requested = this.jobRequested(receipt);
    this.requestBlocks.set(requested.jobId, receipt.blockNumber);
    return {
      jobId: requested.jobId,
      batchSize,
      fee,
      deadline,
      terms: requested.terms,
      blockNumber: receipt.blockNumber,
      transactionHash: receipt.hash,
      ...(approvalHash === undefined ? {} : { approvalHash }),
    };
  }

  private jobRequested(receipt: TransactionReceipt): { jobId: bigint; terms: Record<string, unknown> } {
    const iface = this.jobManager.interface;
    const escrow = this.addresses.jobManager.toLowerCase();
    for (const log of receipt.logs) {
      if (log.address.toLowerCase() !== escrow) continue;
      const parsed = iface.parseLog(log);
      if (parsed?.name === "JobRequested") return { jobId: parsed.args.jobId as bigint, terms: (parsed.args.terms as { toObject(): Record<string, unknown> }).toObject() };
    }
    throw new VeritensorError(`transaction ${receipt.hash} requested no job (no JobRequested event of the escrow)`, { code: "INVALID_ARGUMENT" });
  }

  /**
   * The id of the job a transaction requested (yours, or your contract's): from its JobRequested
   * event. The job is then watched from that block on.
   */
  jobIdOf(receipt: TransactionReceipt): bigint {
    const { jobId } = this.jobRequested(receipt);
    this.requestBlocks.set(jobId, receipt.blockNumber);
    return jobId;
  }

  // ----- following a job -----

  /**
   * The job's events from its request on, as an async iterator: `for await (const e of vt.watchJob(id)) …`.
   * It ends after the final one (finalized, refunded or rejected), on `signal`, or throws a
   * TimeoutError after `timeoutMs`. `onEvent` gets each event too.
   */
  watchJob(jobId: bigint | number | string, options: WatchOptions = {}): AsyncGenerator<JobEvent, void, undefined> {
    const id = toJobId(jobId);
    const fromBlock = options.fromBlock ?? this.requestBlocks.get(id) ?? 0;
    return jobEvents(this.provider, this.jobManager.interface, this.addresses.jobManager, id, { ...options, fromBlock });
  }

  /**
   * Waits until the job is finalized and returns its output decoded with the model's scale. A job
   * rejected (its result proven wrong) or refunded (cancelled, expired) fails with a JobFailedError
   * (JOB_REJECTED, JOB_REFUNDED); running out of `timeoutMs` with a TimeoutError (TIMEOUT).
   */
  async waitForResult(jobId: bigint | number | string, options: WaitOptions = {}): Promise<JobResult> {
    const id = toJobId(jobId);
    const events: JobEvent[] = [];
    try {
      for await (const e of this.watchJob(id, options)) events.push(e);
    } catch (e) {
      if (e instanceof TimeoutError) {
        const last = events.at(-1);
        const where = last ? `its last event was "${last.type}" in block ${last.blockNumber}` : "no event of it was seen (is the job id right, and fromBlock before its request?)";
        throw new TimeoutError(`job ${id} was not final within ${Math.round((options.timeoutMs ?? 0) / 1000)} s: ${where}`, { cause: e });
      }
      throw e;
    }
    const final = events.find((e) => e.type === "finalized" || e.type === "refunded" || e.type === "rejected");
    if (!final) {
      throw new VeritensorError(`the watch of job ${id} stopped before the job was final`, { code: "TIMEOUT" });
    }
    if (final.type === "rejected") {
      throw new JobFailedError(`job ${id} was rejected: a dispute proved its result wrong; its fee is credited back to the requester (withdraw it from the escrow)`, id, "JOB_REJECTED");
    }
    if (final.type === "refunded") {
      const how = events.some((e) => e.type === "cancelled") ? "cancelled" : "expired (no worker answered in time)";
      throw new JobFailedError(`job ${id} ended without a result: ${how}; its fee is credited back to the requester (withdraw it from the escrow)`, id, "JOB_REFUNDED");
    }
    const submitted = events.filter((e) => e.type === "submitted").at(-1);
    if (!submitted) throw new VeritensorError(`job ${id} was finalized, but its ResultSubmitted event was not found after block ${options.fromBlock ?? 0}`, { code: "ERROR" });
    const requested = events.find((e) => e.type === "requested");
    const modelId = requested ? BigInt(requested.args.modelId as bigint) : undefined;
    const outputElements = requested ? Number((requested.args.terms as { outputElements: bigint }).outputElements) : undefined;
    const output = await this.decodeOutput(getBytes(submitted.args.output as string), modelId, outputElements);
    const callback = events.some((e) => e.type === "callback-delivered") ? "delivered" : events.some((e) => e.type === "callback-failed") ? "failed" : undefined;
    return {
      ...output,
      jobId: id,
      worker: submitted.args.worker as string,
      outputCommitment: submitted.args.outputCommitment as string,
      transactionHash: final.transactionHash,
      ...(callback === undefined ? {} : { callback }),
      events,
    };
  }

  /**
   * Output bytes decoded: int32 values, real values by the model's output scale (read from the
   * registry when `modelId` is given, else 1), and the items of a batch.
   */
  async decodeOutput(bytes: Uint8Array, modelId?: bigint | number, outputElements?: number): Promise<JobOutput> {
    const values = decodeTensor(bytes);
    let scale = 10n ** 18n;
    let per = outputElements;
    if (modelId !== undefined) {
      const m = await this.model(modelId);
      scale = m.outputScaleWad;
      per ??= Number(m.outputElements);
    }
    per ??= values.length;
    return { bytes, values, real: dequantize(values, scale), items: per > 0 ? splitItems(values, per) : [values], outputScaleWad: scale };
  }
}

function concat(items: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(items.reduce((n, x) => n + x.length, 0));
  let at = 0;
  for (const x of items) {
    out.set(x, at);
    at += x.length;
  }
  return out;
}
