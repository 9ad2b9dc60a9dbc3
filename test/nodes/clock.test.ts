/**
 * A local node that mines only on transactions stamps its next block with the wall clock however
 * long it has been idle: a worker must not wait for a new block to see its challenge window end
 * (it would never finalize on an idle `hardhat node`). A fresh chain whose clock follows the wall
 * clock, a 2-second window, and no block mined while the window runs out.
 */
import { expect } from "chai";

import { JobStatus, requestInference } from "../../offchain/cli/index.js";
import { canonicalBytes } from "../../offchain/commitments/tensor.js";
import { quantizeInput } from "../../offchain/convert/evaluate.js";
import { loadDigits, toFloat } from "../../offchain/datasets/mnist.js";
import { Worker } from "../../offchain/nodes/worker.js";
import { mnistCnn } from "../disputes/models.js";
import { inProcessChain } from "./inprocess.js";

describe("nodes: deadlines on an idle local chain", function () {
  this.timeout(60_000);

  it("a worker finalizes once the window has passed by the wall clock, with no block mined meanwhile", async function () {
    const c = await inProcessChain({ Jobs: { challengeWindow: 2 } }, true);
    const input = canonicalBytes(quantizeInput(mnistCnn(), toFloat(loadDigits("heldout").pixels[3]!)));
    const { jobId } = await requestInference(c.p, c.requester, { modelId: c.modelId, input, fee: c.fee, deadlineIn: 600 });
    const lines: string[] = [];
    const worker = await Worker.create({ protocol: c.p, signer: c.worker, db: ":memory:", cacheDir: "/tmp/veritensor-clock-models", log: (l) => lines.push(l), pollMs: 0 });
    await worker.tick();
    expect((await c.p.jobManager.getJob(jobId)).status).to.equal(JobStatus.Submitted);
    const head = await c.p.connection.ethers.provider.getBlock("latest");
    const { timer } = await c.p.jobManager.getJob(jobId);
    // Wait on the wall clock until the window has ended; the chain mines nothing meanwhile.
    while (BigInt(Math.floor(Date.now() / 1000)) <= timer) await new Promise((r) => setTimeout(r, 200));
    expect((await c.p.connection.ethers.provider.getBlock("latest"))!.number).to.equal(head!.number);
    await worker.tick();
    expect((await c.p.jobManager.getJob(jobId)).status, lines.join("\n")).to.equal(JobStatus.Finalized);
    worker.close();
  });

  it("a chain whose clock lags the wall clock: the worker waits for the chain, never fails a pass, and finalizes once the chain's time has passed", async function () {
    // Genesis two minutes ago: every block is stamped two minutes behind the wall clock.
    const c = await inProcessChain({ Jobs: { challengeWindow: 2 } }, true, new Date(Date.now() - 120_000));
    const input = canonicalBytes(quantizeInput(mnistCnn(), toFloat(loadDigits("heldout").pixels[4]!)));
    const { jobId } = await requestInference(c.p, c.requester, { modelId: c.modelId, input, fee: c.fee, deadlineIn: 600 });
    const lines: string[] = [];
    const worker = await Worker.create({ protocol: c.p, signer: c.worker, db: ":memory:", cacheDir: "/tmp/veritensor-clock-models", log: (l) => lines.push(l), pollMs: 0 });
    await worker.tick();
    const { timer } = await c.p.jobManager.getJob(jobId);
    while (BigInt(Math.floor(Date.now() / 1000)) <= timer + 1n) await new Promise((r) => setTimeout(r, 200));
    // By the wall clock the window is over; by the chain's (the one the contract reads) it is not.
    await worker.tick();
    expect((await c.p.jobManager.getJob(jobId)).status, lines.join("\n")).to.equal(JobStatus.Submitted);
    expect(lines.filter((l) => l.includes("!")), lines.join("\n")).to.deep.equal([]);
    await c.p.connection.networkHelpers.time.increase(3);
    await worker.tick();
    expect((await c.p.jobManager.getJob(jobId)).status, lines.join("\n")).to.equal(JobStatus.Finalized);
    worker.close();
  });
});
