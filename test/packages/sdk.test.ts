/**
 * @veritensor/sdk from its sources, on the in-process chain with the protocol deployed and a worker
 * serving: quotes from the escrow's views, requests (inline and batched) from a plain ethers Wallet
 * on a JSON-RPC provider (where ethers' 250 ms cache of the pending nonce made approve-then-request
 * reuse a nonce), job events from request to finalization, outputs decoded with the model's scale,
 * and errors with stable codes and no raw bytes. The packed package is tested by outsider.test.ts.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { expect } from "chai";
import type { Signer } from "ethers";
import { BrowserProvider, Wallet, ZeroAddress, ZeroHash, parseEther } from "ethers";

import { bytesToInts } from "../../offchain/clients/tensors.js";
import { Worker } from "../../offchain/nodes/worker.js";
import type { InProcessChain } from "../nodes/inprocess.js";
import { digitInputs, inProcessChain } from "../nodes/inprocess.js";

import type { Veritensor } from "../../packages/sdk/src/index.js";

type Sdk = typeof import("../../packages/sdk/src/index.js");

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), "../..");
const VTN = 10n ** 18n;
/** Calldata or a signed transaction in a message: what a message must never hold. */
const RAW_BYTES = /0x[0-9a-fA-F]{80,}/;

describe("packages: @veritensor/sdk (sources, in-process chain)", function () {
  this.timeout(120_000);

  let sdk: Sdk;
  let c: InProcessChain;
  let wallet: Wallet;
  let vt: Veritensor;
  /** The worker's store, kept across passes (it finalizes the jobs it submitted). */
  let store: string;
  const nextInput = digitInputs(11);

  before(async function () {
    // The SDK's ABIs are generated from the artifacts (the build's step): fresh ones for this run.
    execFileSync(process.execPath, [path.join(ROOT, "packages/sdk/scripts/generate.mjs")], { stdio: "pipe" });
    sdk = await import("../../packages/sdk/src/index.js");
    const dir = mkdtempSync(path.join(tmpdir(), "veritensor-sdk-test-"));
    after(() => rmSync(dir, { recursive: true, force: true }));
    store = path.join(dir, "worker.sqlite");
    c = await inProcessChain();
    // A plain Wallet on an ethers JSON-RPC provider (BrowserProvider over the chain's EIP-1193
    // provider: ethers' JSON-RPC stack, its request cache included), funded with ETH and VTN.
    wallet = Wallet.createRandom().connect(new BrowserProvider(c.p.connection.provider)) as unknown as Wallet;
    const [deployer] = (await c.p.connection.ethers.getSigners()) as Signer[];
    await (await deployer!.sendTransaction({ to: wallet.address, value: parseEther("10") })).wait();
    await (await c.p.token.connect(deployer!).transfer(wallet.address, 100n * VTN)).wait();
    vt = await sdk.Veritensor.connect(wallet, { addresses: { jobManager: c.p.addresses.jobManager } });
  });

  /** One pass of the worker over the chain (claims, runs, submits; finalizes what is due). */
  async function workerPass(): Promise<void> {
    const worker = await Worker.create({ protocol: c.p, signer: c.worker, db: store, cacheDir: "/tmp/veritensor-sdk-test-models", log: () => undefined, pollMs: 0 });
    try {
      await worker.tick();
    } finally {
      worker.close();
    }
  }

  async function pastChallengeWindow(): Promise<void> {
    await c.p.connection.networkHelpers.time.increase(Number((await c.p.jobManager.params()).challengeWindow) + 1);
  }

  it("reads the token and registry from the escrow, and quotes fees from the escrow's own minimumFee views", async function () {
    expect(vt.addresses.token).to.equal(c.p.addresses.token);
    expect(vt.addresses.registry).to.equal(c.p.addresses.registry);
    const price = (await c.p.registry.pricing(c.modelId)).price;
    const plain = await vt.quoteFee(c.modelId);
    expect(plain.minimum).to.equal(await c.p.jobManager.minimumFee(price));
    const batch = await vt.quoteFee(c.modelId, { batchSize: 3 });
    expect(batch.minimum).to.equal(await c.p.jobManager.minimumFee(price * 3n));
    const withCallback = await vt.quoteFee(c.modelId, { callbackGasLimit: 80_000 });
    expect(withCallback.minimum).to.equal(await c.p.jobManager.minimumFeeWithCallback(price, 80_000));
    expect(withCallback.callbackFee).to.equal(80_000n * (await c.p.jobManager.params()).callbackFeePerGas);
  });

  it("approves then requests from a plain Wallet without reusing a nonce (the same two transactions sent naively do)", async function () {
    const input = nextInput();
    const fee = (await vt.quoteFee(c.modelId)).minimum;
    // Naively: approve, wait for it, request at once. ethers asks the pending nonce again within
    // its 250 ms cache and gets the approval's.
    const token = c.p.token.connect(wallet as unknown as Signer);
    const escrow = c.p.jobManager.connect(wallet as unknown as Signer);
    const naive = async () => {
      await (await token.approve(c.p.addresses.jobManager, fee)).wait();
      const deadline = BigInt(Math.floor(Date.now() / 1000) + 3600);
      await escrow.requestInference({ modelId: c.modelId, input, inputURI: "", inputCommitment: ZeroHash, fee, deadline, consumer: ZeroAddress, callbackGasLimit: 0 });
    };
    let naiveError: unknown;
    await naive().catch((e: unknown) => (naiveError = e));
    expect(String((naiveError as Error | undefined)?.message)).to.match(/nonce/i);

    // Through the SDK: an approval and a request, twice in a row, every nonce right.
    await vt.send("clearing the allowance", (o) => vt.token.getFunction("approve")(c.p.addresses.jobManager, 0n, o));
    const first = await vt.requestInference({ modelId: c.modelId, input });
    expect(first.approvalHash, "the allowance was 0: the SDK approved first").to.be.a("string");
    const second = await vt.requestInference({ modelId: c.modelId, input: sdk.decodeTensor(input) });
    expect(second.jobId).to.equal(first.jobId + 1n);
    expect((await c.p.jobManager.getJob(second.jobId)).status).to.equal(1n);
  });

  it("follows a job from request to finalization (async iterator and callbacks) and decodes its output with the model's scale", async function () {
    const { jobId, blockNumber } = await vt.requestInference({ modelId: c.modelId, input: nextInput(), fee: (await vt.quoteFee(c.modelId)).minimum + VTN / 10n });
    const seen: string[] = [];
    const waiting = vt.waitForResult(jobId, { pollMs: 20, timeoutMs: 60_000, onEvent: (e) => seen.push(e.type) });
    waiting.catch(() => undefined); // awaited below; a failure before then must not go unhandled
    const iterated: string[] = [];
    const iterating = (async () => {
      for await (const e of vt.watchJob(jobId, { pollMs: 20, timeoutMs: 60_000 })) iterated.push(e.type);
    })();
    iterating.catch(() => undefined);
    await workerPass(); // claims, runs, submits
    await pastChallengeWindow();
    await workerPass(); // finalizes
    const result = await waiting;
    await iterating;
    expect(seen).to.deep.equal(["requested", "claimed", "submitted", "finalized"]);
    expect(iterated).to.deep.equal(seen);
    expect(result.events[0]!.blockNumber).to.equal(blockNumber);

    const submitted = (await c.p.jobManager.queryFilter(c.p.jobManager.filters.ResultSubmitted(jobId)))[0]!;
    expect(result.values).to.deep.equal(bytesToInts(Buffer.from(submitted.args.output.slice(2), "hex")));
    expect(result.outputCommitment).to.equal(submitted.args.outputCommitment);
    const { outputScaleWad } = await c.p.registry.scales(c.modelId);
    expect(result.outputScaleWad).to.equal(outputScaleWad);
    expect(result.real).to.deep.equal(result.values.map((q) => Number(BigInt(q) * outputScaleWad) / 1e18));
    expect(result.items).to.have.length(1);
    expect(result.callback).to.equal(undefined);
  });

  it("requests a batch and returns its output item by item", async function () {
    const inputs = [nextInput(), nextInput(), nextInput()];
    const { jobId, batchSize } = await vt.requestBatch({ modelId: c.modelId, inputs });
    expect(batchSize).to.equal(3);
    expect((await c.p.jobManager.getJob(jobId)).batchSize).to.equal(3n);
    await workerPass();
    await pastChallengeWindow();
    await workerPass();
    const result = await vt.waitForResult(jobId, { timeoutMs: 10_000, pollMs: 20 });
    const { outputElements } = await c.p.registry.elements(c.modelId);
    expect(result.items).to.have.length(3);
    for (const item of result.items) expect(item).to.have.length(Number(outputElements));
    expect(result.items.flat()).to.deep.equal(result.values);
  });

  it("ends a wait with a coded error: TIMEOUT on a job left open, JOB_REFUNDED on a cancelled one", async function () {
    const { jobId, terms } = await vt.requestInference({ modelId: c.modelId, input: nextInput() });
    const timeout = await vt.waitForResult(jobId, { timeoutMs: 300, pollMs: 50 }).catch((e: unknown) => e);
    expect(timeout).to.be.instanceOf(sdk.TimeoutError);
    expect((timeout as InstanceType<Sdk["TimeoutError"]>).code).to.equal("TIMEOUT");
    expect((timeout as Error).message).to.match(/last event was "requested"/);

    await vt.send("cancelling", (o) => vt.jobManager.getFunction("cancel")(jobId, terms, o));
    const refunded = await vt.waitForResult(jobId, { timeoutMs: 5_000, pollMs: 20 }).catch((e: unknown) => e);
    expect(refunded).to.be.instanceOf(sdk.JobFailedError);
    expect((refunded as InstanceType<Sdk["JobFailedError"]>).code).to.equal("JOB_REFUNDED");
    expect((refunded as Error).message).to.match(/cancelled/);
  });

  it("fails with stable codes and messages without raw bytes: UNKNOWN_MODEL, FEE_TOO_LOW (checked, and decoded from a revert), INSUFFICIENT_ALLOWANCE, INSUFFICIENT_BALANCE, INVALID_INPUT", async function () {
    const codeOf = async (p: Promise<unknown>) => {
      const e = await p.then(() => undefined, (x: unknown) => x);
      expect(e, "it must fail").to.be.instanceOf(sdk.VeritensorError);
      expect((e as Error).message).not.to.match(RAW_BYTES);
      return e as InstanceType<Sdk["VeritensorError"]>;
    };
    const input = nextInput();
    expect((await codeOf(vt.requestInference({ modelId: 999n, input }))).code).to.equal("UNKNOWN_MODEL");
    const minimum = (await vt.quoteFee(c.modelId)).minimum;
    expect((await codeOf(vt.requestInference({ modelId: c.modelId, input, fee: minimum - 1n }))).code).to.equal("FEE_TOO_LOW");
    // The escrow's own revert, sent past the SDK's checks: decoded by the ABI, with its numbers.
    const deadline = BigInt(Math.floor(Date.now() / 1000) + 3600);
    await vt.ensureAllowance(c.p.addresses.jobManager, minimum);
    const reverted = await codeOf(
      vt.send("requesting", (o) =>
        vt.jobManager.getFunction("requestInference")({ modelId: c.modelId, input, inputURI: "", inputCommitment: ZeroHash, fee: minimum - 1n, deadline, consumer: ZeroAddress, callbackGasLimit: 0 }, o),
      ),
    );
    expect(reverted).to.be.instanceOf(sdk.ContractRevertError);
    expect(reverted.code).to.equal("FEE_TOO_LOW");
    expect((reverted as InstanceType<Sdk["ContractRevertError"]>).errorName).to.equal("JobManagerInsufficientFee");
    expect(reverted.message).to.contain("JobManagerInsufficientFee");

    await vt.send("clearing the allowance", (o) => vt.token.getFunction("approve")(c.p.addresses.jobManager, 0n, o));
    expect((await codeOf(vt.requestInference({ modelId: c.modelId, input, approve: false }))).code).to.equal("INSUFFICIENT_ALLOWANCE");
    expect((await codeOf(vt.requestInference({ modelId: c.modelId, input, fee: 1_000_000n * VTN }))).code).to.equal("INSUFFICIENT_BALANCE");
    expect((await codeOf(vt.requestInference({ modelId: c.modelId, input: input.subarray(4) }))).code).to.equal("INVALID_INPUT");
    expect(() => sdk.encodeTensor([1, 2.5])).to.throw(sdk.VeritensorError, /element 1 is 2.5/);
  });

  it("cuts raw bytes out of any message, and knows the repository's deployment keys", function () {
    const e = new sdk.VeritensorError(`sending failed: ${"0x" + "ab".repeat(3000)}`);
    expect(e.message).not.to.match(RAW_BYTES);
    expect(e.message).to.contain("(3000 bytes)");
    // The SDK reads Ignition's deployed_addresses.json by the same keys as the repository's clients.
    // (offchain/clients/deployment.ts takes its keys from the SDK's list: one home.) They are the
    // module ids # contract names of ignition/modules/, the keys Ignition writes.
    expect(sdk.FUTURE_IDS).to.deep.equal({
      token: "Token#VeritensorToken",
      registry: "Registry#ModelRegistry",
      staking: "Staking#Staking",
      jobManager: "Jobs#JobManager",
      timelock: "Governance#ProtocolTimelock",
      governor: "Governance#VeritensorGovernor",
      disputeFactory: "Disputes#DisputeGameFactory",
      subscriptions: "Subscriptions#SubscriptionManager",
      roster: "Assignment#WorkerRoster",
      auditManager: "Audits#AuditManager",
      redundancy: "Redundancy#RedundantRequests",
    });
  });
});
