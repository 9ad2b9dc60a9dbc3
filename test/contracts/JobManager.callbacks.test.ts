/** JobManager: callbacks. */
import { expect } from "chai";
import { AbiCoder, concat, dataSlice, getBytes, keccak256, toBeHex } from "ethers";
import {
  FEE,
  MAX_CALLBACK_GAS,
  PRICE,
  PROTOCOL_FEE,
  SAMPLE_OUTPUT,
  Status,
  claimJob,
  creditsOf,
  endChallengeWindow,
  expectEscrowConserved,
  finalizeArgs,
  int32Bytes,
  jobOf,
  modelSpec,
  requestJob,
  requestParams,
  sampleInput,
  submittedJob,
  termsOf,
} from "./fixtures.js";
import type { Protocol } from "./fixtures.js";
import { ethers, protocol, minimalGas } from "./job-manager-helpers.js";

describe("JobManager: callbacks", function () {
  /** The test consumer at `consumer` approves the fixture's requester. */
  async function allow(p: Protocol, consumer: string) {
    await (await ethers.getContractAt("TestConsumer", consumer)).allow(await p.jm.getAddress(), p.requester.address);
  }

  const GAS = 200_000n;

  /** A finalizable job with `consumer` (which approves the fixture's requester first). */
  async function jobFor(p: Protocol, consumer: string, gas = GAS, output = SAMPLE_OUTPUT) {
    await allow(p, consumer);
    const jobId = await submittedJob(p, { consumer, callbackGasLimit: gas }, output);
    await endChallengeWindow(p, jobId);
    return jobId;
  }

  describe("callbacks", function () {

    it("keeps the output for the callback and delivers it within the gas limit", async function () {
      const p = await protocol();
      const consumer = await ethers.deployContract("GasRecordingConsumer");
      const jobId = await jobFor(p, await consumer.getAddress());
      expect(await p.jm.callbackOutput(jobId)).to.equal(SAMPLE_OUTPUT);
      await expect(p.jm.finalize(jobId, ...(await finalizeArgs(p, jobId))))
        .to.emit(p.jm, "CallbackDelivered")
        .withArgs(jobId, await consumer.getAddress())
        .and.to.emit(p.jm, "JobFinalized");
      expect(await consumer.lastJobId()).to.equal(jobId);
      expect(await consumer.outputHash()).to.equal(keccak256(SAMPLE_OUTPUT));
      const got = await consumer.gasAtEntry();
      expect(got).to.be.lessThanOrEqual(GAS);
      expect(got).to.be.greaterThan(GAS - 2_000n);
    });

    it("records a reverting callback and still pays", async function () {
      const p = await protocol();
      const consumer = await ethers.deployContract("RevertingConsumer", [false]);
      const address = await consumer.getAddress();
      const jobId = await jobFor(p, address);
      const reason = consumer.interface.encodeErrorResult("ConsumerRejected", [jobId, 40n]);
      const tx = p.jm.finalize(jobId, ...(await finalizeArgs(p, jobId)));
      await expect(tx)
        .to.emit(p.jm, "CallbackFailed")
        .withArgs(jobId, address, reason)
        .and.to.emit(p.jm, "JobFinalized")
        .and.not.to.emit(p.jm, "CallbackDelivered");
      // The worker is credited, the price and the protocol fee accrue: the whole fee, as without a failure.
      expect((await creditsOf(p, tx)).reduce((s, c) => s + c[2], 0n)).to.equal(FEE - PRICE - PROTOCOL_FEE);
      expect(await p.jm.protocolFees(p.modelId)).to.equal(PROTOCOL_FEE);
      expect(await p.jm.modelEarnings(p.modelId)).to.equal(PRICE);
      expect((await jobOf(p, jobId)).status).to.equal(Status.Finalized);
      expect((await p.staking.stakeOf(p.worker.address)).locked).to.equal(0n);
      await expectEscrowConserved(p);
    });

    it("keeps only the first 256 bytes of a long revert reason", async function () {
      const p = await protocol();
      const consumer = await ethers.deployContract("RevertingConsumer", [true]);
      const address = await consumer.getAddress();
      const jobId = await jobFor(p, address);
      const full = concat(["0x08c379a0", AbiCoder.defaultAbiCoder().encode(["string"], ["\0".repeat(400)])]);
      expect(getBytes(full).length).to.be.greaterThan(256);
      await expect(p.jm.finalize(jobId, ...(await finalizeArgs(p, jobId))))
        .to.emit(p.jm, "CallbackFailed")
        .withArgs(jobId, address, dataSlice(full, 0, 256));
    });

    it("survives a consumer that burns all its gas", async function () {
      const p = await protocol();
      const consumer = await ethers.deployContract("GasBurningConsumer");
      const address = await consumer.getAddress();
      const jobId = await jobFor(p, address, MAX_CALLBACK_GAS);
      const tx = await p.jm.finalize(jobId, ...(await finalizeArgs(p, jobId)));
      await expect(tx).to.emit(p.jm, "CallbackFailed").withArgs(jobId, address, "0x");
      const receipt = await tx.wait();
      // The consumer cannot take more than its limit.
      expect(receipt!.gasUsed).to.be.lessThan(MAX_CALLBACK_GAS + 250_000n);
      expect(await p.jm.balanceOf(p.worker.address)).to.equal(FEE - PRICE - PROTOCOL_FEE);
    });

    it("survives return bombs: copies at most 256 bytes of return data", async function () {
      const p = await protocol();
      const size = 400_000n; // ~400 KB of return data: costly to copy, cheap for the consumer
      const bomb = await ethers.deployContract("ReturnBombConsumer", [size, false]);
      const jobId = await jobFor(p, await bomb.getAddress(), MAX_CALLBACK_GAS);
      await expect(p.jm.finalize(jobId, ...(await finalizeArgs(p, jobId)), { gasLimit: 1_400_000n }))
        .to.emit(p.jm, "CallbackFailed")
        // The bomb's data is its memory from 0: scratch space, then the free memory pointer (0x80).
        .withArgs(jobId, await bomb.getAddress(), concat([new Uint8Array(64), toBeHex(0x80, 32), new Uint8Array(160)]));

      const okBomb = await ethers.deployContract("ReturnBombConsumer", [size, true]);
      const okJob = await jobFor(p, await okBomb.getAddress(), MAX_CALLBACK_GAS);
      await expect(p.jm.finalize(okJob, ...(await finalizeArgs(p, okJob)), { gasLimit: 1_400_000n }))
        .to.emit(p.jm, "CallbackDelivered")
        .withArgs(okJob, await okBomb.getAddress());
      await expectEscrowConserved(p);
    });

    it("does not let the consumer re-enter the escrow", async function () {
      const p = await protocol();
      const consumer = await ethers.deployContract("ReentrantConsumer");
      const address = await consumer.getAddress();
      const jobId = await jobFor(p, address);
      await expect(p.jm.finalize(jobId, ...(await finalizeArgs(p, jobId))))
        .to.emit(p.jm, "CallbackFailed")
        .withArgs(jobId, address, p.jm.interface.encodeErrorResult("ReentrancyGuardReentrantCall", []));
    });

    it("reverts a finalize sent with too little gas for the callback", async function () {
      const p = await protocol();
      const consumer = await ethers.deployContract("GasRecordingConsumer");
      const jobId = await jobFor(p, await consumer.getAddress(), MAX_CALLBACK_GAS);
      const needed = MAX_CALLBACK_GAS + MAX_CALLBACK_GAS / 63n + 30_000n;
      const args = await finalizeArgs(p, jobId);
      const min = await minimalGas((gas) => p.jm.finalize.staticCall(jobId, ...args, { gasLimit: gas }), 100_000n, 3_000_000n);
      await expect(p.jm.finalize(jobId, ...(await finalizeArgs(p, jobId)), { gasLimit: min - 1n }))
        .to.be.revertedWithCustomError(p.jm, "JobManagerInsufficientGasForCallback")
        .withArgs(needed, (available: bigint) => available < needed);
      await expect(p.jm.finalize(jobId, ...(await finalizeArgs(p, jobId)), { gasLimit: MAX_CALLBACK_GAS / 2n }))
        .to.be.revertedWithCustomError(p.jm, "JobManagerInsufficientGasForCallback")
        .withArgs(needed, (available: bigint) => available < needed);
      // With the least gas that passes, the consumer still gets its whole limit.
      await p.jm.finalize(jobId, ...(await finalizeArgs(p, jobId)), { gasLimit: min });
      expect(await consumer.gasAtEntry()).to.be.greaterThan(MAX_CALLBACK_GAS - 2_000n);
    });

    it("gives the consumer its whole gas limit even when the output is large", async function () {
      const p = await protocol();
      // A 1000-class model: its 4000-byte output costs far more to load than the reserve.
      await p.registry.connect(p.developer).registerModel(modelSpec({ outputShape: [1, 1000] }));
      const consumer = await ethers.deployContract("GasRecordingConsumer");
      await allow(p, await consumer.getAddress());
      const output = int32Bytes(sampleInput(1000, 3));
      const gas = 300_000n;
      const jobId = await submittedJob(
        p,
        { modelId: 2n, consumer: await consumer.getAddress(), callbackGasLimit: gas },
        output,
      );
      await endChallengeWindow(p, jobId);
      const args = await finalizeArgs(p, jobId);
      const min = await minimalGas((g) => p.jm.finalize.staticCall(jobId, ...args, { gasLimit: g }), 100_000n, 5_000_000n);
      await expect(p.jm.finalize(jobId, ...(await finalizeArgs(p, jobId)), { gasLimit: min })).to.emit(p.jm, "CallbackDelivered");
      expect(await consumer.outputHash()).to.equal(keccak256(output));
      expect(await consumer.gasAtEntry()).to.be.greaterThan(gas - 2_000n);
    });
  });

  describe("consumers: who may be called back, and retries", function () {
    it("calls back only a consumer that requested, or approved the requester; approval can be withdrawn", async function () {
      const p = await protocol();
      const consumer = await ethers.deployContract("GasRecordingConsumer");
      const address = await consumer.getAddress();
      await expect(p.jm.connect(p.requester).requestInference(await requestParams(p, { consumer: address, callbackGasLimit: GAS })))
        .to.be.revertedWithCustomError(p.jm, "JobManagerConsumerNotApproved")
        .withArgs(address, p.requester.address);
      await expect(consumer.allow(await p.jm.getAddress(), p.requester.address))
        .to.emit(p.jm, "RequesterApprovalSet")
        .withArgs(address, p.requester.address, true);
      expect(await p.jm.isApprovedRequester(address, p.requester.address)).to.equal(true);
      // Approvals are per requester: another account still may not name it.
      expect(await p.jm.isApprovedRequester(address, p.other.address)).to.equal(false);
      await p.jm.connect(p.requester).requestInference(await requestParams(p, { consumer: address, callbackGasLimit: GAS }));
      // An account approving for itself changes nothing for others (the caller is the consumer).
      await p.jm.connect(p.other).setRequesterApproval(p.requester.address, false);
      expect(await p.jm.isApprovedRequester(address, p.requester.address)).to.equal(true);
      await expect(p.jm.connect(p.requester).requestInference(await requestParams(p, { consumer: p.other.address, callbackGasLimit: GAS })))
        .to.be.revertedWithCustomError(p.jm, "JobManagerConsumerHasNoCode")
        .withArgs(p.other.address);
    });

    it("records the callback's fate in the job, and lets the consumer retry a failed one with more gas", async function () {
      const p = await protocol();
      const consumer = await ethers.deployContract("FlakyConsumer");
      const address = await consumer.getAddress();
      const jobId = await jobFor(p, address);
      expect((await p.jm.getJob(jobId)).callback).to.equal(0n);
      const [terms, outputCommitment] = await finalizeArgs(p, jobId);
      // Nothing to retry before a callback failed.
      await expect(consumer.retry(await p.jm.getAddress(), jobId, terms, outputCommitment, 100_000n))
        .to.be.revertedWithCustomError(p.jm, "JobManagerNoFailedCallback")
        .withArgs(jobId, address);
      await expect(p.jm.finalize(jobId, terms, outputCommitment)).to.emit(p.jm, "CallbackFailed");
      expect((await p.jm.getJob(jobId)).callback).to.equal(2n);
      // Only the consumer retries, within the maximum of the job's parameter version.
      await expect(p.jm.connect(p.other).retryCallback(jobId, terms, outputCommitment, 100_000n))
        .to.be.revertedWithCustomError(p.jm, "JobManagerNoFailedCallback")
        .withArgs(jobId, p.other.address);
      await expect(consumer.retry(await p.jm.getAddress(), jobId, terms, outputCommitment, MAX_CALLBACK_GAS + 1n))
        .to.be.revertedWithCustomError(p.jm, "JobManagerInvalidCallback")
        .withArgs(MAX_CALLBACK_GAS + 1n, MAX_CALLBACK_GAS);
      await expect(consumer.retry(await p.jm.getAddress(), jobId, terms, outputCommitment, 100_000n)).to.emit(p.jm, "CallbackFailed");
      await consumer.fix();
      await expect(consumer.retry(await p.jm.getAddress(), jobId, terms, outputCommitment, 100_000n))
        .to.emit(p.jm, "CallbackDelivered")
        .withArgs(jobId, address);
      expect(await consumer.delivered()).to.equal(jobId);
      expect((await p.jm.getJob(jobId)).callback).to.equal(1n);
      // Delivered: no more retries.
      await expect(consumer.retry(await p.jm.getAddress(), jobId, terms, outputCommitment, 100_000n)).to.be.revertedWithCustomError(p.jm, "JobManagerNoFailedCallback");
      await expectEscrowConserved(p);
    });
  });

  describe("cancel", function () {
    it("lets the requester withdraw an unclaimed job, its fee credited at once; nobody else, and not once claimed", async function () {
      const p = await protocol();
      const jobId = await requestJob(p);
      const terms = await termsOf(p, jobId);
      await expect(p.jm.connect(p.other).cancel(jobId, terms))
        .to.be.revertedWithCustomError(p.jm, "JobManagerNotRequester")
        .withArgs(jobId, p.other.address);
      await expect(p.jm.connect(p.requester).cancel(jobId, { ...terms, fee: terms.fee + 1n })).to.be.revertedWithCustomError(p.jm, "JobManagerTermsMismatch");
      const tx = p.jm.connect(p.requester).cancel(jobId, terms);
      await expect(tx).to.emit(p.jm, "JobCancelled").withArgs(jobId).and.to.emit(p.jm, "JobRefunded").withArgs(jobId, p.requester.address, FEE);
      expect(await p.jm.balanceOf(p.requester.address)).to.equal(FEE);
      expect((await jobOf(p, jobId)).status).to.equal(Status.Refunded);
      await expect(p.jm.connect(p.requester).cancel(jobId, terms)).to.be.revertedWithCustomError(p.jm, "JobManagerWrongStatus");
      // A claimed job is the worker's to serve: it cannot be cancelled under it.
      const claimed = await requestJob(p);
      await claimJob(p, claimed);
      await expect(p.jm.connect(p.requester).cancel(claimed, await termsOf(p, claimed)))
        .to.be.revertedWithCustomError(p.jm, "JobManagerWrongStatus")
        .withArgs(claimed, Status.Claimed);
      await expect(p.jm.connect(p.worker).claim(jobId, terms)).to.be.revertedWithCustomError(p.jm, "JobManagerWrongStatus");
      await expectEscrowConserved(p);
    });
  });

  describe("results any contract can check", function () {
    it("isFinalOutput is true only for the final output of a finalized job, consumer or not", async function () {
      const p = await protocol();
      const jobId = await submittedJob(p);
      const terms = await termsOf(p, jobId);
      // Submitted is not final: a dispute could still reject it.
      expect(await p.jm.isFinalOutput(jobId, terms, SAMPLE_OUTPUT)).to.equal(false);
      await endChallengeWindow(p, jobId);
      await p.jm.finalize(jobId, ...(await finalizeArgs(p, jobId)));
      expect(await p.jm.isFinalOutput(jobId, terms, SAMPLE_OUTPUT)).to.equal(true);
      const other = int32Bytes(Array.from({ length: 10 }, (_, i) => i));
      expect(await p.jm.isFinalOutput(jobId, terms, other)).to.equal(false);
      expect(await p.jm.isFinalOutput(jobId, terms, SAMPLE_OUTPUT.slice(0, -8))).to.equal(false);
      expect(await p.jm.isFinalOutput(jobId, { ...terms, fee: terms.fee + 1n }, SAMPLE_OUTPUT)).to.equal(false);
      expect(await p.jm.isFinalOutput(99n, terms, SAMPLE_OUTPUT)).to.equal(false);
    });
  });
});
