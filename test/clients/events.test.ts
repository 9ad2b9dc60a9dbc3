/**
 * A job's events are looked up back from the head in windows of LOG_WINDOW blocks, never before the
 * escrow's deployment block: public endpoints refuse `eth_getLogs` over long ranges, and every call
 * on a job after its request needs the terms in its `JobRequested`.
 */
import { expect } from "chai";
import { ZeroAddress, hexlify } from "ethers";

import { LOG_WINDOW, escrowFirstBlock, getJob, jobTerms, newestEvents } from "../../offchain/cli/index.js";
import { canonicalBytes } from "../../offchain/commitments/tensor.js";
import { quantizeInput } from "../../offchain/convert/evaluate.js";
import { loadDigits, toFloat } from "../../offchain/datasets/mnist.js";
import { mnistCnn } from "../disputes/models.js";
import { inProcessChain } from "../nodes/inprocess.js";

describe("clients: a job's events on a long chain", function () {
  this.timeout(120_000);

  it("finds a job requested 25,000 blocks ago in windows of at most LOG_WINDOW blocks, and stops at the escrow's deployment block", async function () {
    const c = await inProcessChain();
    const first = await escrowFirstBlock(c.p);
    expect(first).to.be.greaterThan(0);
    expect(first).to.be.lessThan(await c.p.connection.ethers.provider.getBlockNumber());
    // Requested with the contract directly, so that no client has its terms in memory yet.
    const input = canonicalBytes(quantizeInput(mnistCnn(), toFloat(loadDigits("heldout").pixels[5]!)));
    const latest = await c.p.connection.ethers.provider.getBlock("latest");
    await (await c.p.token.connect(c.requester).approve(c.p.addresses.jobManager, c.fee)).wait();
    await (
      await c.p.jobManager.connect(c.requester).requestInference({
        modelId: c.modelId,
        input: hexlify(input),
        inputURI: "",
        inputCommitment: "0x" + "00".repeat(32),
        fee: c.fee,
        deadline: BigInt(latest!.timestamp) + 3600n,
        consumer: ZeroAddress,
        callbackGasLimit: 0n,
      })
    ).wait();
    const jobId = await c.p.jobManager.jobCount();
    await c.p.connection.networkHelpers.mine(25_000);

    const jm = c.p.jobManager;
    const spans: number[] = [];
    const found = await newestEvents(c.p, (from, to) => {
      spans.push(to - from + 1);
      return jm.queryFilter(jm.filters.JobRequested(jobId), from, to);
    });
    expect(found).to.have.length(1);
    expect(spans).to.have.length(3);
    expect(Math.max(...spans)).to.be.at.most(LOG_WINDOW);
    // The client's terms lookup goes the same way and agrees with what the escrow stores.
    const terms = await jobTerms(c.p, jobId);
    expect(terms.requester).to.equal(await c.requester.getAddress());
    expect((await getJob(c.p, jobId)).commitment).to.equal(await jm.termsHash(terms));

    // A job that does not exist: every window from the head down to the deployment block, once.
    const head = await c.p.connection.ethers.provider.getBlockNumber();
    const misses: [number, number][] = [];
    const none = await newestEvents(c.p, (from, to) => {
      misses.push([from, to]);
      return jm.queryFilter(jm.filters.JobRequested(jobId + 1n), from, to);
    });
    expect(none).to.deep.equal([]);
    expect(misses[0]![1]).to.equal(head);
    expect(misses[misses.length - 1]![0]).to.equal(first);
    expect(misses.length).to.equal(Math.ceil((head - first + 1) / LOG_WINDOW));
    await expectRejects(jobTerms(c.p, jobId + 1n), /job \d+ does not exist/);
  });

  it("keeps two chains' job terms apart, though their escrows share an address and a chain id", async function () {
    const [a, b] = [await inProcessChain(), await inProcessChain()];
    // Deterministic deployments: the same escrow address and chain id on both chains.
    expect(a.p.addresses.jobManager).to.equal(b.p.addresses.jobManager);
    expect(a.p.chainId).to.equal(b.p.chainId);
    const input = canonicalBytes(quantizeInput(mnistCnn(), toFloat(loadDigits("heldout").pixels[1]!)));
    const request = async (c: typeof a, fee: bigint): Promise<bigint> => {
      const latest = await c.p.connection.ethers.provider.getBlock("latest");
      await (await c.p.token.connect(c.requester).approve(c.p.addresses.jobManager, fee)).wait();
      await (
        await c.p.jobManager.connect(c.requester).requestInference({
          modelId: c.modelId, input: hexlify(input), inputURI: "", inputCommitment: "0x" + "00".repeat(32),
          fee, deadline: BigInt(latest!.timestamp) + 3600n, consumer: ZeroAddress, callbackGasLimit: 0n,
        })
      ).wait();
      return c.p.jobManager.jobCount();
    };
    const [ja, jb] = [await request(a, a.fee), await request(b, b.fee + 1n)];
    expect(ja).to.equal(jb);
    // Chain a's terms are read (and remembered) first; chain b must still get its own.
    expect((await jobTerms(a.p, ja)).fee).to.equal(a.fee);
    expect((await jobTerms(b.p, jb)).fee).to.equal(b.fee + 1n);
    expect((await getJob(b.p, jb)).commitment).to.equal(await b.p.jobManager.termsHash(await jobTerms(b.p, jb)));
  });
});

async function expectRejects(p: Promise<unknown>, message: RegExp): Promise<void> {
  try {
    await p;
  } catch (e) {
    expect((e as Error).message).to.match(message);
    return;
  }
  expect.fail("expected a rejection");
}
