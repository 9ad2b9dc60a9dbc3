/**
 * JobManager: batch jobs (issue 14, deliverable 6). One request carries several inputs of a model:
 * the fee covers the price once per input, the job is claimed, submitted (the outputs concatenated,
 * committed item by item), disputed and settled as one; a batch of one is a single job. The batch
 * commitment is checked against its TypeScript twin (offchain/commitments/batch.ts) and against
 * its definition, computed here from the items' tensor commitments.
 */
import { expect } from "chai";
import { ZeroHash, concat, getBytes, keccak256 } from "ethers";

import { commitBatch, itemCommitments } from "../../offchain/commitments/batch.js";
import {
  CALLBACK_FEE_PER_GAS,
  INPUT_ELEMENTS,
  OUTPUT_ELEMENTS,
  PRICE,
  PROTOCOL_FEE_BPS,
  Status,
  claimJob,
  digitScores,
  endChallengeWindow,
  expectEscrowConserved,
  int32Bytes,
  minimumFeeFor,
  modelSplit,
  protocolFeeOf,
  requestParams,
  resultHash,
  sampleInput,
  tensorCommitment,
  termsHash,
  termsOf,
} from "./fixtures.js";
import type { Protocol, RequestOverrides } from "./fixtures.js";
import { approvedConsumer, ethers, protocol, termsTuple } from "./job-manager-helpers.js";

const MAX_BATCH_SIZE = 64n;

/** `n` different inputs of the fixture model, concatenated (0x-hex), and each one. */
function batchInput(n: number): { bytes: string; items: string[] } {
  const items = Array.from({ length: n }, (_, i) => int32Bytes(sampleInput(INPUT_ELEMENTS, i + 2)));
  return { bytes: concat(items), items };
}

/** `n` outputs of the fixture model (ten scores each, best at `7 - i`), concatenated, and each one. */
function batchOutput(n: number): { bytes: string; items: string[] } {
  const items = Array.from({ length: n }, (_, i) => int32Bytes(digitScores(7 - i)));
  return { bytes: concat(items), items };
}

/** The batch commitment by its definition (docs/SEMANTICS.md), from the items' tensor commitments. */
function batchCommitmentOf(items: readonly string[]): string {
  return items.length === 1 ? tensorCommitment(items[0]!) : keccak256(concat(items.map(tensorCommitment)));
}

/** The least fee of a batch of `n`: minimumFee(n × price). */
const batchFee = (n: number) => minimumFeeFor(PRICE * BigInt(n));

/** Requests a batch of `n` inline inputs (with `overrides`); returns its id, terms and input. */
async function requestBatch(p: Protocol, n: number, overrides: RequestOverrides = {}) {
  const input = batchInput(n);
  const rp = await requestParams(p, { input: input.bytes, fee: batchFee(n), ...overrides });
  await p.jm.connect(p.requester).requestBatch(rp, n);
  const jobId = await p.jm.jobCount();
  return { jobId, terms: await termsOf(p, jobId), input };
}

/** Requests, claims and submits a batch of `n` (the outputs of batchOutput); returns what later calls need. */
async function submittedBatch(p: Protocol, n: number, overrides: RequestOverrides = {}) {
  const { jobId, terms, input } = await requestBatch(p, n, overrides);
  await claimJob(p, jobId);
  const output = batchOutput(n);
  const commitment = commitBatch(getBytes(output.bytes), n);
  await p.jm.connect(p.worker).submitResult(jobId, terms, output.bytes, commitment);
  return { jobId, terms, input, output, commitment };
}

describe("JobManager: batches", function () {
  describe("requestBatch", function () {
    it("opens one job over several inputs: terms for batchSize × price, the batch commitment, BatchRequested", async function () {
      const p = await protocol();
      const input = batchInput(3);
      const rp = await requestParams(p, { input: input.bytes, fee: batchFee(3) });
      const tx = p.jm.connect(p.requester).requestBatch(rp, 3);
      const jobId = (await p.jm.jobCount()) + 1n;
      await expect(tx).to.emit(p.jm, "BatchRequested").withArgs(jobId, 3n);
      const terms = await termsOf(p, jobId);
      expect(terms.modelFee).to.equal(PRICE * 3n);
      expect(terms.fee).to.equal(batchFee(3));
      // One item's output size: a batch's output is three of them.
      expect(terms.outputElements).to.equal(BigInt(OUTPUT_ELEMENTS));
      // The input commitment is the batch commitment, computed on chain as here and by the TypeScript twin.
      expect(terms.inputCommitment).to.equal(batchCommitmentOf(input.items));
      expect(terms.inputCommitment).to.equal(commitBatch(getBytes(input.bytes), 3));
      expect(itemCommitments(getBytes(input.bytes), 3)).to.deep.equal(input.items.map(tensorCommitment));
      const job = await p.jm.getJob(jobId);
      expect([job.status, job.batchSize, job.commitment]).to.deep.equal([Status.Open, 3n, termsHash(terms)]);
      await expect(tx).to.emit(p.jm, "JobRequested").withArgs(jobId, p.modelId, p.requester.address, termsTuple(terms), input.bytes, "");
      await expectEscrowConserved(p);
    });

    it("takes at least minimumFee(batchSize × price): one wei less is refused with that minimum", async function () {
      const p = await protocol();
      for (const n of [2, 5]) {
        const least = await p.jm.minimumFee(PRICE * BigInt(n));
        expect(least).to.equal(batchFee(n));
        const rp = await requestParams(p, { input: batchInput(n).bytes, fee: least - 1n });
        await expect(p.jm.connect(p.requester).requestBatch(rp, n))
          .to.be.revertedWithCustomError(p.jm, "JobManagerInsufficientFee")
          .withArgs(least - 1n, least);
        // A single job's least fee does not pay for a batch.
        const single = await p.jm.minimumFee(PRICE);
        await expect(p.jm.connect(p.requester).requestBatch({ ...rp, fee: single }, n))
          .to.be.revertedWithCustomError(p.jm, "JobManagerInsufficientFee")
          .withArgs(single, least);
        await p.jm.connect(p.requester).requestBatch({ ...rp, fee: least }, n);
      }
    });

    it("makes exactly the job requestInference makes when asked for a batch of one (no BatchRequested)", async function () {
      const p = await protocol();
      const rp = await requestParams(p);
      await p.jm.connect(p.requester).requestInference(rp);
      const single = await p.jm.jobCount();
      const tx = p.jm.connect(p.requester).requestBatch(rp, 1);
      await expect(tx).not.to.emit(p.jm, "BatchRequested");
      const batch = single + 1n;
      const [a, b] = [await termsOf(p, single), await termsOf(p, batch)];
      expect(b).to.deep.equal(a);
      // The same stored job, but for the block it was requested in (an Open job's timer: its claim draws' seed).
      const [jobA, jobB] = [await p.jm.getJob(single), await p.jm.getJob(batch)];
      expect(jobB.timer).to.equal(jobA.timer + 1n);
      const fields = (j: typeof jobA) => [j.status, j.openDisputes, j.worker, j.callback, j.batchSize, j.commitment];
      expect(fields(jobB)).to.deep.equal(fields(jobA));
      expect((await p.jm.getJob(batch)).batchSize).to.equal(1n);
      expect(a.inputCommitment).to.equal(tensorCommitment(rp.input));
    });

    it("refuses batch sizes outside 1..MAX_BATCH_SIZE, and inputs that are not batchSize inputs of the model's size", async function () {
      const p = await protocol();
      expect(await p.jm.MAX_BATCH_SIZE()).to.equal(MAX_BATCH_SIZE);
      const rp = await requestParams(p, { input: batchInput(2).bytes, fee: batchFee(2) });
      for (const n of [0n, MAX_BATCH_SIZE + 1n, 2n ** 200n]) {
        await expect(p.jm.connect(p.requester).requestBatch(rp, n))
          .to.be.revertedWithCustomError(p.jm, "JobManagerInvalidBatchSize")
          .withArgs(n, MAX_BATCH_SIZE);
      }
      // Two inputs for a batch of three, and three for a batch of two.
      const bytes = (n: number) => getBytes(batchInput(n).bytes).length;
      await expect(p.jm.connect(p.requester).requestBatch({ ...rp, fee: batchFee(3) }, 3))
        .to.be.revertedWithCustomError(p.jm, "JobManagerInputSizeMismatch")
        .withArgs(bytes(3), bytes(2));
      await expect(p.jm.connect(p.requester).requestBatch({ ...rp, input: batchInput(3).bytes }, 2))
        .to.be.revertedWithCustomError(p.jm, "JobManagerInputSizeMismatch")
        .withArgs(bytes(2), bytes(3));
      // An inline batch with a commitment that is not its batch commitment (the concatenation's, as one tensor).
      const asOne = tensorCommitment(rp.input);
      await expect(p.jm.connect(p.requester).requestBatch({ ...rp, inputCommitment: asOne }, 2))
        .to.be.revertedWithCustomError(p.jm, "JobManagerInputCommitmentMismatch")
        .withArgs(asOne, commitBatch(getBytes(rp.input), 2));
    });

    it("takes a batch by URI with the requester's batch commitment, as given", async function () {
      const p = await protocol();
      const input = batchInput(4);
      const commitment = batchCommitmentOf(input.items);
      const rp = await requestParams(p, { input: "0x", inputURI: "ipfs://bafy-batch", inputCommitment: commitment, fee: batchFee(4) });
      await p.jm.connect(p.requester).requestBatch(rp, 4);
      const jobId = await p.jm.jobCount();
      expect((await termsOf(p, jobId)).inputCommitment).to.equal(commitment);
      expect((await p.jm.getJob(jobId)).batchSize).to.equal(4n);
      await expect(p.jm.connect(p.requester).requestBatch({ ...rp, inputCommitment: ZeroHash }, 4)).to.be.revertedWithCustomError(
        p.jm,
        "JobManagerInvalidInput",
      );
    });
  });

  describe("results", function () {
    it("takes the items' outputs concatenated, committed item by item; refuses other lengths and the one-tensor commitment", async function () {
      const p = await protocol();
      const { jobId, terms } = await requestBatch(p, 3);
      await claimJob(p, jobId);
      const output = batchOutput(3);
      const short = batchOutput(2).bytes;
      await expect(p.jm.connect(p.worker).submitResult(jobId, terms, short, commitBatch(getBytes(short), 2)))
        .to.be.revertedWithCustomError(p.jm, "JobManagerOutputSizeMismatch")
        .withArgs(OUTPUT_ELEMENTS * 4 * 3, OUTPUT_ELEMENTS * 4 * 2);
      const asOne = tensorCommitment(output.bytes);
      const batch = batchCommitmentOf(output.items);
      await expect(p.jm.connect(p.worker).submitResult(jobId, terms, output.bytes, asOne))
        .to.be.revertedWithCustomError(p.jm, "JobManagerOutputCommitmentMismatch")
        .withArgs(asOne, batch);
      await expect(p.jm.connect(p.worker).submitResult(jobId, terms, output.bytes, batch)).to.emit(p.jm, "ResultSubmitted");
      expect((await p.jm.getJob(jobId)).commitment).to.equal(resultHash(terms, batch));
      expect(commitBatch(getBytes(output.bytes), 3)).to.equal(batch);
    });

    it("pays out like one job: the worker the fee less batchSize × price and the protocol fee, the model batchSize × price", async function () {
      const p = await protocol();
      const { jobId, terms, commitment } = await submittedBatch(p, 4);
      await endChallengeWindow(p, jobId);
      const protocolFee = protocolFeeOf(terms.fee, PROTOCOL_FEE_BPS);
      await expect(p.jm.finalize(jobId, terms, commitment))
        .to.emit(p.jm, "JobFinalized")
        .withArgs(jobId, p.worker.address, terms.fee - 4n * PRICE - protocolFee, 4n * PRICE, protocolFee);
      expect(await p.jm.modelEarnings(p.modelId)).to.equal(4n * PRICE);
      expect((await p.staking.stakeOf(p.worker.address)).locked).to.equal(0n);
      await p.jm.distributeModelEarnings(p.modelId);
      const split = modelSplit(4n * PRICE);
      expect(await p.jm.balanceOf(p.contributor1.address)).to.equal(split.c1);
      expect(await p.jm.balanceOf(p.developer.address)).to.equal(split.developer);
      await expectEscrowConserved(p);
    });

    it("is final only with all its outputs, in order (isFinalOutput, finalizeWithCallback)", async function () {
      const p = await protocol();
      const { jobId, terms, output } = await submittedBatch(p, 3);
      await endChallengeWindow(p, jobId);
      await expect(p.jm.finalizeWithCallback(jobId, terms, output.items[0]!))
        .to.be.revertedWithCustomError(p.jm, "JobManagerOutputSizeMismatch")
        .withArgs(OUTPUT_ELEMENTS * 4 * 3, OUTPUT_ELEMENTS * 4);
      const swapped = concat([output.items[1]!, output.items[0]!, output.items[2]!]);
      await expect(p.jm.finalizeWithCallback(jobId, terms, swapped))
        .to.be.revertedWithCustomError(p.jm, "JobManagerOutputMismatch")
        .withArgs(jobId, commitBatch(getBytes(swapped), 3));
      await p.jm.finalizeWithCallback(jobId, terms, output.bytes);
      expect(await p.jm.isFinalOutput(jobId, terms, output.bytes)).to.equal(true);
      expect(await p.jm.isFinalOutput(jobId, terms, swapped)).to.equal(false);
      expect(await p.jm.isFinalOutput(jobId, terms, output.items[0]!)).to.equal(false);
    });

    it("calls a consumer back with the outputs concatenated; its fee covers the callback fee once", async function () {
      const p = await protocol();
      const consumer = await approvedConsumer(p);
      const gas = 200_000n;
      const least = minimumFeeFor(3n * PRICE + gas * CALLBACK_FEE_PER_GAS);
      expect(await p.jm.minimumFeeWithCallback(3n * PRICE, gas)).to.equal(least);
      const { jobId, terms, output } = await submittedBatch(p, 3, { consumer, callbackGasLimit: gas, fee: least });
      await endChallengeWindow(p, jobId);
      await expect(p.jm.connect(p.other).finalizeWithCallback(jobId, terms, output.bytes)).to.emit(p.jm, "CallbackDelivered");
      const recorder = await ethers.getContractAt("GasRecordingConsumer", consumer);
      expect(await recorder.outputHash()).to.equal(keccak256(output.bytes));
      expect(await p.jm.balanceOf(p.other.address)).to.equal(gas * CALLBACK_FEE_PER_GAS);
    });
  });

  describe("InferenceConsumer._requestBatch", function () {
    it("requests a batch for the consumer, whose _onResult gets the outputs concatenated; a rejected batch comes back whole to _onFailure", async function () {
      const p = await protocol();
      const consumer = await ethers.deployContract("BatchTestConsumer", [await p.jm.getAddress()]);
      const address = await consumer.getAddress();
      await p.token.connect(p.requester).transfer(address, 1_000n * 10n ** 18n);
      const gas = 100_000n;
      const fee = minimumFeeFor(3n * PRICE + gas * CALLBACK_FEE_PER_GAS);
      const ask = async () => {
        const deadline = BigInt((await ethers.provider.getBlock("latest"))!.timestamp) + 3600n;
        await consumer.askBatch(p.modelId, batchInput(3).bytes, 3, fee, deadline, gas);
        const jobId = await p.jm.jobCount();
        expect(await consumer.pending(jobId)).to.equal(true);
        expect((await p.jm.getJob(jobId)).batchSize).to.equal(3n);
        await claimJob(p, jobId);
        const output = batchOutput(3);
        const terms = await termsOf(p, jobId);
        await p.jm.connect(p.worker).submitResult(jobId, terms, output.bytes, commitBatch(getBytes(output.bytes), 3));
        return { jobId, terms, output };
      };

      const answered = await ask();
      expect(answered.terms.consumer).to.equal(address);
      await endChallengeWindow(p, answered.jobId);
      await p.jm.connect(p.worker).finalizeWithCallback(answered.jobId, answered.terms, answered.output.bytes);
      expect(await consumer.outputHash(answered.jobId)).to.equal(keccak256(answered.output.bytes));
      expect(await consumer.outputLength(answered.jobId)).to.equal(BigInt(3 * OUTPUT_ELEMENTS * 4));
      expect(await consumer.pending(answered.jobId)).to.equal(false);

      const rejected = await ask();
      const balance = await p.token.balanceOf(address);
      await p.jm.connect(p.disputeManager).freezeForDispute(rejected.jobId, rejected.terms, commitBatch(getBytes(rejected.output.bytes), 3));
      await p.jm.connect(p.disputeManager).settleDispute(rejected.jobId, false, 2n ** 255n);
      await consumer.settleFailedJob(rejected.jobId);
      expect(await consumer.failure(rejected.jobId)).to.equal(Status.Rejected);
      expect(await p.token.balanceOf(address)).to.equal(balance + fee);
    });
  });

  describe("disputes", function () {
    it("freezes with the batch size, and a rejection refunds the whole fee and slashes the lock", async function () {
      const p = await protocol();
      const { jobId, terms, commitment } = await submittedBatch(p, 5);
      const [worker, size] = await p.jm.connect(p.disputeManager).freezeForDispute.staticCall(jobId, terms, commitment);
      expect([worker, size]).to.deep.equal([p.worker.address, 5n]);
      await p.jm.connect(p.disputeManager).freezeForDispute(jobId, terms, commitment);
      const staked = (await p.staking.stakeOf(p.worker.address)).staked;
      await expect(p.jm.connect(p.disputeManager).settleDispute(jobId, false, 2n ** 255n))
        .to.emit(p.jm, "JobRejected")
        .withArgs(jobId, p.worker.address, terms.lock, terms.fee);
      expect(await p.jm.balanceOf(p.requester.address)).to.equal(terms.fee);
      expect((await p.staking.stakeOf(p.worker.address)).staked).to.equal(staked - terms.lock);
      expect(await p.jm.modelEarnings(p.modelId)).to.equal(0n);
      await expectEscrowConserved(p, [p.disputeManager.address]);
    });

    it("a single job freezes with batch size 1", async function () {
      const p = await protocol();
      const rp = await requestParams(p);
      await p.jm.connect(p.requester).requestInference(rp);
      const jobId = await p.jm.jobCount();
      await claimJob(p, jobId);
      const terms = await termsOf(p, jobId);
      const out = int32Bytes(digitScores(3));
      await p.jm.connect(p.worker).submitResult(jobId, terms, out, tensorCommitment(out));
      const [, size] = await p.jm.connect(p.disputeManager).freezeForDispute.staticCall(jobId, terms, tensorCommitment(out));
      expect(size).to.equal(1n);
    });
  });
});
