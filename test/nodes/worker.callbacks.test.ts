/**
 * A worker claims a consumer job only if it is willing to pay for its callback: finalizing runs the
 * consumer's callback at the finalizer's expense, which the job's callback fee pays back. The
 * worker caps the gas it fronts (--max-callback-gas) and checks that the fee covers that gas at
 * its price (--callback-gas-price, by default the escrow's current rate); it then finalizes with
 * the output bytes (the escrow keeps none) and is credited the callback fee.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { expect } from "chai";

import { finalizeJob, requestInference } from "../../offchain/cli/index.js";
import type { InProcessChain } from "./inprocess.js";
import { canonicalBytes } from "../../offchain/commitments/tensor.js";
import { loadDigits } from "../../offchain/datasets/mnist.js";
import type { WorkerOptions } from "../../offchain/nodes/worker.js";
import { DEFAULT_MAX_CALLBACK_GAS, Worker } from "../../offchain/nodes/worker.js";
import { inProcessChain } from "./inprocess.js";

const VTN = 10n ** 18n;

describe("nodes: the worker and consumer callbacks", function () {
  this.timeout(60_000);

  /** A consumer (GasRecordingConsumer) that approved the chain's requester, and a request helper for it. */
  async function withConsumer(c: InProcessChain) {
    const factory = await c.p.connection.ethers.getContractFactory("GasRecordingConsumer");
    const consumer = await factory.connect(c.requester).deploy();
    await consumer.waitForDeployment();
    await consumer.allow(await c.p.jobManager.getAddress(), await c.requester.getAddress());
    const address = await consumer.getAddress();
    const input = canonicalBytes(Int32Array.from(loadDigits("heldout").pixels[0]!));
    // The least fee for the callback, plus 0.2 VTN for the worker.
    const price = (await c.p.registry.pricing(c.modelId)).price;
    const request = async (callbackGasLimit: number) => {
      const fee = (await c.p.jobManager.minimumFeeWithCallback(price, callbackGasLimit)) + VTN / 5n;
      return (await requestInference(c.p, c.requester, { modelId: c.modelId, input, fee, deadlineIn: 600, consumer: address, callbackGasLimit })).jobId;
    };
    return { consumer, address, request };
  }

  /** One pass of a worker with options `o`; returns its log lines. */
  async function pass(c: InProcessChain, o: Partial<WorkerOptions> = {}): Promise<string[]> {
    const lines: string[] = [];
    const worker = await Worker.create({ protocol: c.p, signer: c.worker, db: ":memory:", cacheDir: "/tmp/veritensor-callback-models", log: (l) => lines.push(l), pollMs: 0, ...o });
    try {
      await worker.tick();
    } finally {
      worker.close();
    }
    return lines;
  }

  it("skips a consumer job whose callback needs more gas than --max-callback-gas, and serves one within it", async function () {
    const c = await inProcessChain();
    const { request } = await withConsumer(c);
    const dear = await request(Number(DEFAULT_MAX_CALLBACK_GAS) + 1);
    const cheap = await request(Number(DEFAULT_MAX_CALLBACK_GAS));
    const lines = await pass(c);
    expect(lines.some((l) => l.includes(`job ${dear}: skipped: its consumer's callback needs ${DEFAULT_MAX_CALLBACK_GAS + 1n} gas, more than this worker pays for`)), lines.join("\n")).to.equal(true);
    expect((await c.p.jobManager.getJob(dear)).status).to.equal(1n); // still Open, for a worker that will pay
    expect((await c.p.jobManager.getJob(cheap)).status).to.be.greaterThan(1n); // claimed (and served)
  });

  it("skips a consumer job whose callback fee does not cover its gas at --callback-gas-price; serves it at the escrow's rate and earns the callback fee", async function () {
    const c = await inProcessChain();
    const { consumer, request } = await withConsumer(c);
    const rate = (await c.p.jobManager.params()).callbackFeePerGas;
    expect(rate).to.be.greaterThan(0n);
    const gas = 150_000;
    const jobId = await request(gas);
    const lines = await pass(c, { callbackGasPrice: rate + 1n });
    expect(lines.some((l) => l.includes(`job ${jobId}: skipped: its callback fee`) && l.includes("--callback-gas-price")), lines.join("\n")).to.equal(true);
    expect((await c.p.jobManager.getJob(jobId)).status).to.equal(1n);

    // A worker asking the escrow's own rate serves it, and finalizes with the output bytes.
    const dir = mkdtempSync(path.join(tmpdir(), "veritensor-callback-worker-"));
    after(() => rmSync(dir, { recursive: true, force: true }));
    const store = path.join(dir, "worker.sqlite");
    // Earnings stay in the escrow, to be counted.
    await pass(c, { db: store, withdrawAt: null });
    expect((await c.p.jobManager.getJob(jobId)).status).to.equal(3n); // Submitted
    await c.p.connection.networkHelpers.time.increase(Number((await c.p.jobManager.params()).challengeWindow) + 1);
    const before = await c.p.jobManager.balanceOf(await c.worker.getAddress());
    const done = await pass(c, { db: store, withdrawAt: null });
    expect((await c.p.jobManager.getJob(jobId)).status).to.equal(4n, done.join("\n")); // Finalized
    expect((await c.p.jobManager.getJob(jobId)).callback).to.equal(1n); // delivered
    expect(await consumer.lastJobId()).to.equal(jobId);
    const earned = (await c.p.jobManager.balanceOf(await c.worker.getAddress())) - before;
    const terms = (await c.p.jobManager.queryFilter(c.p.jobManager.filters.JobRequested(jobId)))[0]!.args.terms;
    const protocolFee = (terms.fee * terms.protocolFeeBps) / 10_000n;
    // The worker's fee and the callback fee: together, what the fee leaves after the price and the protocol fee.
    expect(earned).to.equal(terms.fee - terms.modelFee - protocolFee);
    expect(done.some((l) => l.includes(`job ${jobId}: finalized`) && l.includes("callback delivered")), done.join("\n")).to.equal(true);
  });

  it("finalizeJob (behind `job finalize`) reads a consumer job's output bytes from ResultSubmitted and reports the callback fee", async function () {
    const c = await inProcessChain();
    const { consumer, request } = await withConsumer(c);
    const gas = 120_000;
    const jobId = await request(gas);
    await pass(c); // claims, runs, submits
    expect((await c.p.jobManager.getJob(jobId)).status).to.equal(3n);
    await c.p.connection.networkHelpers.time.increase(Number((await c.p.jobManager.params()).challengeWindow) + 1);
    // Someone else than the worker finalizes (it pays the callback's gas, and is paid for it).
    const f = await finalizeJob(c.p, c.verifier, jobId);
    const rate = (await c.p.jobManager.params()).callbackFeePerGas;
    expect(f.callback?.status).to.equal("delivered");
    expect(f.callbackFee).to.equal(BigInt(gas) * rate);
    expect(await c.p.jobManager.balanceOf(await c.verifier.getAddress())).to.equal(BigInt(gas) * rate);
    expect(await consumer.lastJobId()).to.equal(jobId);
  });
});
