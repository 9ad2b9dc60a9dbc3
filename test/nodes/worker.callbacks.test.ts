/**
 * A worker claims a consumer job only if it is willing to pay for its callback: finalizing runs
 * the consumer's callback at the finalizer's expense, and nothing in the fee covers it.
 */
import { expect } from "chai";

import { requestInference } from "../../offchain/cli/index.js";
import { canonicalBytes } from "../../offchain/commitments/tensor.js";
import { loadDigits } from "../../offchain/datasets/mnist.js";
import { DEFAULT_MAX_CALLBACK_GAS, Worker } from "../../offchain/nodes/worker.js";
import { inProcessChain } from "./inprocess.js";

describe("nodes: the worker and consumer callbacks", function () {
  this.timeout(60_000);

  it("skips a consumer job whose callback needs more gas than --max-callback-gas, and serves one within it", async function () {
    const c = await inProcessChain();
    const consumer = await c.p.connection.ethers.getContractFactory("GasRecordingConsumer");
    const deployed = await consumer.connect(c.requester).deploy();
    await deployed.waitForDeployment();
    await deployed.allow(await c.p.jobManager.getAddress(), await c.requester.getAddress());
    const address = await deployed.getAddress();
    const input = canonicalBytes(Int32Array.from(loadDigits("heldout").pixels[0]!));
    const request = async (callbackGasLimit: number) =>
      (await requestInference(c.p, c.requester, { modelId: c.modelId, input, fee: c.fee, deadlineIn: 600, consumer: address, callbackGasLimit })).jobId;
    const dear = await request(Number(DEFAULT_MAX_CALLBACK_GAS) + 1);
    const cheap = await request(Number(DEFAULT_MAX_CALLBACK_GAS));
    const lines: string[] = [];
    const worker = await Worker.create({ protocol: c.p, signer: c.worker, db: ":memory:", cacheDir: "/tmp/veritensor-callback-models", log: (l) => lines.push(l), pollMs: 0 });
    try {
      await worker.tick();
    } finally {
      worker.close();
    }
    expect(lines.some((l) => l.includes(`job ${dear}: skipped: its consumer's callback needs ${DEFAULT_MAX_CALLBACK_GAS + 1n} gas, more than this worker pays for`)), lines.join("\n")).to.equal(true);
    expect((await c.p.jobManager.getJob(dear)).status).to.equal(1n); // still Open, for a worker that will pay
    expect((await c.p.jobManager.getJob(cheap)).status).to.be.greaterThan(1n); // claimed (and served)
  });
});
