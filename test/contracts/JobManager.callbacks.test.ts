/** JobManager: callbacks. */
import { expect } from "chai";
import { AbiCoder, concat, dataSlice, getBytes, keccak256, toBeHex } from "ethers";
import {
  CALLBACK_FEE_PER_GAS,
  FEE,
  MAX_CALLBACK_GAS,
  PRICE,
  PROTOCOL_FEE,
  PROTOCOL_FEE_BPS,
  SAMPLE_OUTPUT,
  Status,
  callbackArgs,
  callbackFeeOf,
  claimJob,
  creditsOf,
  endChallengeWindow,
  expectEscrowConserved,
  finalizeArgs,
  int32Bytes,
  jobOf,
  minimumFeeFor,
  modelSpec,
  requestJob,
  requestParams,
  sampleInput,
  submitJob,
  submittedJob,
  tensorCommitment,
  termsOf,
} from "./fixtures.js";
import type { Protocol } from "./fixtures.js";
import { ethers, protocol, minimalGas, setParams, time } from "./job-manager-helpers.js";

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

    it("delivers the output bytes passed back to finalizeWithCallback, within the gas limit", async function () {
      const p = await protocol();
      const consumer = await ethers.deployContract("GasRecordingConsumer");
      const jobId = await jobFor(p, await consumer.getAddress());
      await expect(p.jm.finalizeWithCallback(jobId, ...(await callbackArgs(p, jobId))))
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
      const tx = p.jm.finalizeWithCallback(jobId, ...(await callbackArgs(p, jobId)));
      await expect(tx)
        .to.emit(p.jm, "CallbackFailed")
        .withArgs(jobId, address, reason)
        .and.to.emit(p.jm, "JobFinalized")
        .and.not.to.emit(p.jm, "CallbackDelivered");
      // The worker and the finalizer (its callback fee) are credited, the price and the protocol fee
      // accrue: the whole fee, as without a failure.
      expect((await creditsOf(p, tx)).reduce((s, c) => s + c[2], 0n)).to.equal(FEE - PRICE - PROTOCOL_FEE);
      expect(await p.jm.balanceOf(p.deployer.address)).to.equal(callbackFeeOf(GAS));
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
      await expect(p.jm.finalizeWithCallback(jobId, ...(await callbackArgs(p, jobId))))
        .to.emit(p.jm, "CallbackFailed")
        .withArgs(jobId, address, dataSlice(full, 0, 256));
    });

    it("survives a consumer that burns all its gas", async function () {
      const p = await protocol();
      const consumer = await ethers.deployContract("GasBurningConsumer");
      const address = await consumer.getAddress();
      const jobId = await jobFor(p, address, MAX_CALLBACK_GAS);
      const tx = await p.jm.finalizeWithCallback(jobId, ...(await callbackArgs(p, jobId)));
      await expect(tx).to.emit(p.jm, "CallbackFailed").withArgs(jobId, address, "0x");
      const receipt = await tx.wait();
      // The consumer cannot take more than its limit.
      expect(receipt!.gasUsed).to.be.lessThan(MAX_CALLBACK_GAS + 250_000n);
      // The finalizer paid for all of that gas, and is paid for it.
      expect(await p.jm.balanceOf(p.worker.address)).to.equal(FEE - PRICE - PROTOCOL_FEE - callbackFeeOf(MAX_CALLBACK_GAS));
      expect(await p.jm.balanceOf(p.deployer.address)).to.equal(callbackFeeOf(MAX_CALLBACK_GAS));
    });

    it("survives return bombs: copies at most 256 bytes of return data", async function () {
      const p = await protocol();
      const size = 400_000n; // ~400 KB of return data: costly to copy, cheap for the consumer
      const bomb = await ethers.deployContract("ReturnBombConsumer", [size, false]);
      const jobId = await jobFor(p, await bomb.getAddress(), MAX_CALLBACK_GAS);
      await expect(p.jm.finalizeWithCallback(jobId, ...(await callbackArgs(p, jobId)), { gasLimit: 1_400_000n }))
        .to.emit(p.jm, "CallbackFailed")
        // The bomb's data is its memory from 0: scratch space, then the free memory pointer (0x80).
        .withArgs(jobId, await bomb.getAddress(), concat([new Uint8Array(64), toBeHex(0x80, 32), new Uint8Array(160)]));

      const okBomb = await ethers.deployContract("ReturnBombConsumer", [size, true]);
      const okJob = await jobFor(p, await okBomb.getAddress(), MAX_CALLBACK_GAS);
      await expect(p.jm.finalizeWithCallback(okJob, ...(await callbackArgs(p, okJob)), { gasLimit: 1_400_000n }))
        .to.emit(p.jm, "CallbackDelivered")
        .withArgs(okJob, await okBomb.getAddress());
      await expectEscrowConserved(p);
    });

    it("does not let the consumer re-enter the escrow", async function () {
      const p = await protocol();
      const consumer = await ethers.deployContract("ReentrantConsumer");
      const address = await consumer.getAddress();
      const jobId = await jobFor(p, address);
      await expect(p.jm.finalizeWithCallback(jobId, ...(await callbackArgs(p, jobId))))
        .to.emit(p.jm, "CallbackFailed")
        .withArgs(jobId, address, p.jm.interface.encodeErrorResult("ReentrancyGuardReentrantCall", []));
    });

    it("reverts a finalize sent with too little gas for the callback", async function () {
      const p = await protocol();
      const consumer = await ethers.deployContract("GasRecordingConsumer");
      const jobId = await jobFor(p, await consumer.getAddress(), MAX_CALLBACK_GAS);
      const needed = MAX_CALLBACK_GAS + MAX_CALLBACK_GAS / 63n + 30_000n;
      const args = await callbackArgs(p, jobId);
      const min = await minimalGas((gas) => p.jm.finalizeWithCallback.staticCall(jobId, ...args, { gasLimit: gas }), 100_000n, 3_000_000n);
      await expect(p.jm.finalizeWithCallback(jobId, ...(await callbackArgs(p, jobId)), { gasLimit: min - 1n }))
        .to.be.revertedWithCustomError(p.jm, "JobManagerInsufficientGasForCallback")
        .withArgs(needed, (available: bigint) => available < needed);
      await expect(p.jm.finalizeWithCallback(jobId, ...(await callbackArgs(p, jobId)), { gasLimit: MAX_CALLBACK_GAS / 2n }))
        .to.be.revertedWithCustomError(p.jm, "JobManagerInsufficientGasForCallback")
        .withArgs(needed, (available: bigint) => available < needed);
      // With the least gas that passes, the consumer still gets its whole limit.
      await p.jm.finalizeWithCallback(jobId, ...(await callbackArgs(p, jobId)), { gasLimit: min });
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
      const args = await callbackArgs(p, jobId);
      const min = await minimalGas((g) => p.jm.finalizeWithCallback.staticCall(jobId, ...args, { gasLimit: g }), 100_000n, 5_000_000n);
      await expect(p.jm.finalizeWithCallback(jobId, ...(await callbackArgs(p, jobId)), { gasLimit: min })).to.emit(p.jm, "CallbackDelivered");
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
      const [terms, output] = await callbackArgs(p, jobId);
      const jm = await p.jm.getAddress();
      // Nothing to retry before a callback failed.
      await expect(consumer.retry(jm, jobId, terms, output, 100_000n))
        .to.be.revertedWithCustomError(p.jm, "JobManagerNoFailedCallback")
        .withArgs(jobId, address);
      await expect(p.jm.finalizeWithCallback(jobId, terms, output)).to.emit(p.jm, "CallbackFailed");
      expect((await p.jm.getJob(jobId)).callback).to.equal(2n);
      // Only the consumer retries, within the maximum of the job's parameter version.
      await expect(p.jm.connect(p.other).retryCallback(jobId, terms, output, 100_000n))
        .to.be.revertedWithCustomError(p.jm, "JobManagerNoFailedCallback")
        .withArgs(jobId, p.other.address);
      await expect(consumer.retry(jm, jobId, terms, output, MAX_CALLBACK_GAS + 1n))
        .to.be.revertedWithCustomError(p.jm, "JobManagerInvalidCallback")
        .withArgs(MAX_CALLBACK_GAS + 1n, MAX_CALLBACK_GAS);
      // Only with the job's own output bytes: another output, or one of another length, is refused.
      const other = int32Bytes(Array.from({ length: 10 }, (_, i) => i));
      await expect(consumer.retry(jm, jobId, terms, other, 100_000n))
        .to.be.revertedWithCustomError(p.jm, "JobManagerOutputMismatch")
        .withArgs(jobId, tensorCommitment(other));
      await expect(consumer.retry(jm, jobId, terms, output + "00000000", 100_000n))
        .to.be.revertedWithCustomError(p.jm, "JobManagerOutputSizeMismatch")
        .withArgs(40n, 44n);
      await expect(consumer.retry(jm, jobId, terms, output, 100_000n)).to.emit(p.jm, "CallbackFailed");
      await consumer.fix();
      // A retry pays nobody: the consumer pays its gas.
      const balance = await p.jm.balanceOf(address);
      await expect(consumer.retry(jm, jobId, terms, output, 100_000n))
        .to.emit(p.jm, "CallbackDelivered")
        .withArgs(jobId, address)
        .and.not.to.emit(p.jm, "BalanceCredited");
      expect(await p.jm.balanceOf(address)).to.equal(balance);
      expect(await consumer.delivered()).to.equal(jobId);
      expect((await p.jm.getJob(jobId)).callback).to.equal(1n);
      // Delivered: no more retries.
      await expect(consumer.retry(jm, jobId, terms, output, 100_000n)).to.be.revertedWithCustomError(p.jm, "JobManagerNoFailedCallback");
      await expectEscrowConserved(p);
    });
  });

  describe("the output travels as calldata: nothing stored for the callback", function () {
    it("a consumer job's finalize reverts, naming finalizeWithCallback; nothing changes", async function () {
      const p = await protocol();
      const consumer = await ethers.deployContract("GasRecordingConsumer");
      const jobId = await jobFor(p, await consumer.getAddress());
      const before = await p.jm.getJob(jobId);
      await expect(p.jm.finalize(jobId, ...(await finalizeArgs(p, jobId))))
        .to.be.revertedWithCustomError(p.jm, "JobManagerUseFinalizeWithCallback")
        .withArgs(jobId);
      expect(await p.jm.getJob(jobId)).to.deep.equal(before);
      // Wrong terms are still reported as such first.
      const [terms, out] = await finalizeArgs(p, jobId);
      await expect(p.jm.finalize(jobId, { ...terms, fee: terms.fee + 1n }, out)).to.be.revertedWithCustomError(p.jm, "JobManagerTermsMismatch");
      await p.jm.finalizeWithCallback(jobId, ...(await callbackArgs(p, jobId)));
      expect((await jobOf(p, jobId)).status).to.equal(Status.Finalized);
    });

    it("refuses output bytes that are not the job's result (wrong length, wrong content), changing nothing", async function () {
      const p = await protocol();
      const consumer = await ethers.deployContract("GasRecordingConsumer");
      const address = await consumer.getAddress();
      const jobId = await jobFor(p, address);
      const [terms, output] = await callbackArgs(p, jobId);
      expect(output).to.equal(SAMPLE_OUTPUT);
      const before = { job: await p.jm.getJob(jobId), worker: await p.jm.balanceOf(p.worker.address), locked: (await p.staking.stakeOf(p.worker.address)).locked };
      // A trailing zero element has the same commitment (the last chunk is zero-padded): the length rule catches it.
      const padded = output + "00000000";
      expect(tensorCommitment(padded)).to.equal(tensorCommitment(output));
      await expect(p.jm.finalizeWithCallback(jobId, terms, padded)).to.be.revertedWithCustomError(p.jm, "JobManagerOutputSizeMismatch").withArgs(40n, 44n);
      await expect(p.jm.finalizeWithCallback(jobId, terms, output.slice(0, -8))).to.be.revertedWithCustomError(p.jm, "JobManagerOutputSizeMismatch").withArgs(40n, 36n);
      await expect(p.jm.finalizeWithCallback(jobId, terms, "0x")).to.be.revertedWithCustomError(p.jm, "JobManagerOutputSizeMismatch").withArgs(40n, 0n);
      // Same length, other content: its commitment is not the submitted one.
      const other = int32Bytes(Array.from({ length: 10 }, (_, i) => i));
      await expect(p.jm.finalizeWithCallback(jobId, terms, other))
        .to.be.revertedWithCustomError(p.jm, "JobManagerOutputMismatch")
        .withArgs(jobId, tensorCommitment(other));
      // The right bytes with other terms are refused the same way.
      await expect(p.jm.finalizeWithCallback(jobId, { ...terms, callbackGasLimit: terms.callbackGasLimit + 1n }, output))
        .to.be.revertedWithCustomError(p.jm, "JobManagerOutputMismatch")
        .withArgs(jobId, tensorCommitment(output));
      expect(await p.jm.getJob(jobId)).to.deep.equal(before.job);
      expect(await p.jm.balanceOf(p.worker.address)).to.equal(before.worker);
      expect((await p.staking.stakeOf(p.worker.address)).locked).to.equal(before.locked);
      expect(await consumer.lastJobId()).to.equal(0n);
      await expectEscrowConserved(p);
    });

    it("a consumer job's submission costs what a plain job's does: the output is not stored", async function () {
      const p = await protocol();
      const consumer = await ethers.deployContract("GasRecordingConsumer");
      await allow(p, await consumer.getAddress());
      const gasOfSubmit = async (overrides: Parameters<typeof requestJob>[1]) => {
        const jobId = await requestJob(p, overrides);
        await claimJob(p, jobId);
        const tx = await p.jm.connect(p.worker).submitResult(jobId, await termsOf(p, jobId), SAMPLE_OUTPUT, tensorCommitment(SAMPLE_OUTPUT));
        return (await tx.wait())!.gasUsed;
      };
      const plain = await gasOfSubmit({});
      const withConsumer = await gasOfSubmit({ consumer: await consumer.getAddress(), callbackGasLimit: GAS });
      // Only the terms' calldata differs (a consumer's address and gas limit are non-zero words).
      expect(withConsumer - plain).to.be.lessThan(1_000n);
    });

    it("finalizeWithCallback also finalizes a job without consumer (no callback, no callback fee)", async function () {
      const p = await protocol();
      const jobId = await submittedJob(p);
      await endChallengeWindow(p, jobId);
      const tx = p.jm.connect(p.other).finalizeWithCallback(jobId, ...(await callbackArgs(p, jobId)));
      await expect(tx).to.emit(p.jm, "JobFinalized").withArgs(jobId, p.worker.address, FEE - PRICE - PROTOCOL_FEE, PRICE, PROTOCOL_FEE).and.not.to.emit(p.jm, "CallbackFailed");
      expect(await creditsOf(p, tx)).to.deep.equal([[p.worker.address, jobId, FEE - PRICE - PROTOCOL_FEE]]);
    });
  });

  describe("the callback fee", function () {
    it("is priced into the request: the least fee covers the price and callbackGasLimit x callbackFeePerGas after the protocol fee", async function () {
      const p = await protocol();
      const consumer = await ethers.deployContract("GasRecordingConsumer");
      const address = await consumer.getAddress();
      await allow(p, address);
      const owed = PRICE + callbackFeeOf(GAS);
      const minimum = minimumFeeFor(owed);
      expect(await p.jm.minimumFeeWithCallback(PRICE, GAS)).to.equal(minimum);
      // Without callback gas it is the plain minimum, which is unchanged.
      expect(await p.jm.minimumFeeWithCallback(PRICE, 0n)).to.equal(await p.jm.minimumFee(PRICE));
      expect(await p.jm.minimumFee(PRICE)).to.equal(minimumFeeFor(PRICE));
      await expect(p.jm.connect(p.requester).requestInference(await requestParams(p, { consumer: address, callbackGasLimit: GAS, fee: minimum - 1n })))
        .to.be.revertedWithCustomError(p.jm, "JobManagerInsufficientFee")
        .withArgs(minimum - 1n, minimum);
      // The plain minimum is not enough for a consumer job.
      await expect(p.jm.connect(p.requester).requestInference(await requestParams(p, { consumer: address, callbackGasLimit: GAS, fee: minimumFeeFor(PRICE) })))
        .to.be.revertedWithCustomError(p.jm, "JobManagerInsufficientFee")
        .withArgs(minimumFeeFor(PRICE), minimum);
      const jobId = await requestJob(p, { consumer: address, callbackGasLimit: GAS, fee: minimum });
      const terms = await termsOf(p, jobId);
      expect(await p.jm.callbackFee(terms)).to.equal(callbackFeeOf(GAS));
      // At the minimum the worker's part is what rounding leaves (at most a few wei), never negative.
      await claimJob(p, jobId);
      await submitJob(p, jobId);
      await endChallengeWindow(p, jobId);
      const protocolFee = (minimum * PROTOCOL_FEE_BPS) / 10_000n;
      await expect(p.jm.connect(p.other).finalizeWithCallback(jobId, ...(await callbackArgs(p, jobId))))
        .to.emit(p.jm, "JobFinalized")
        .withArgs(jobId, p.worker.address, minimum - protocolFee - owed, PRICE, protocolFee);
      expect(await p.jm.balanceOf(p.other.address)).to.equal(callbackFeeOf(GAS));
      await expectEscrowConserved(p);
    });

    it("is paid to whoever calls finalizeWithCallback: a third party, or the worker on top of its fee", async function () {
      const p = await protocol();
      const consumer = await ethers.deployContract("GasRecordingConsumer");
      const address = await consumer.getAddress();
      const third = await jobFor(p, address);
      const workerFee = FEE - PRICE - PROTOCOL_FEE - callbackFeeOf(GAS);
      const tx = p.jm.connect(p.other).finalizeWithCallback(third, ...(await callbackArgs(p, third)));
      await expect(tx).to.emit(p.jm, "JobFinalized").withArgs(third, p.worker.address, workerFee, PRICE, PROTOCOL_FEE);
      expect(await creditsOf(p, tx)).to.deep.equal([
        [p.worker.address, third, workerFee],
        [p.other.address, third, callbackFeeOf(GAS)],
      ]);
      // A worker finalizing its own job is paid the callback fee with its part, in one credit.
      const own = await jobFor(p, address, 300_000n);
      const before = await p.jm.balanceOf(p.worker.address);
      const byWorker = p.jm.connect(p.worker).finalizeWithCallback(own, ...(await callbackArgs(p, own)));
      await expect(byWorker).to.emit(p.jm, "JobFinalized").withArgs(own, p.worker.address, FEE - PRICE - PROTOCOL_FEE, PRICE, PROTOCOL_FEE);
      expect(await creditsOf(p, byWorker)).to.deep.equal([[p.worker.address, own, FEE - PRICE - PROTOCOL_FEE]]);
      expect((await p.jm.balanceOf(p.worker.address)) - before).to.equal(FEE - PRICE - PROTOCOL_FEE);
      await expectEscrowConserved(p);
    });

    it("goes back to the requester with the rest of the fee on cancel, expiry and rejection", async function () {
      const p = await protocol();
      const consumer = await ethers.deployContract("GasRecordingConsumer");
      const address = await consumer.getAddress();
      await allow(p, address);
      const consumerJob = { consumer: address, callbackGasLimit: GAS };
      // Cancelled.
      const cancelled = await requestJob(p, consumerJob);
      await expect(p.jm.connect(p.requester).cancel(cancelled, await termsOf(p, cancelled))).to.emit(p.jm, "JobRefunded").withArgs(cancelled, p.requester.address, FEE);
      // Expired open.
      const open = await requestJob(p, consumerJob);
      await time.increaseTo((await termsOf(p, open)).deadline + 1n);
      await expect(p.jm.expire(open, await termsOf(p, open))).to.emit(p.jm, "JobRefunded").withArgs(open, p.requester.address, FEE);
      // Rejected by a dispute.
      const rejected = await submittedJob(p, consumerJob);
      const [terms, out] = await finalizeArgs(p, rejected);
      await p.jm.connect(p.disputeManager).freezeForDispute(rejected, terms, out);
      await expect(p.jm.connect(p.disputeManager).settleDispute(rejected, false, 0n)).to.emit(p.jm, "JobRejected").withArgs(rejected, p.worker.address, 0n, FEE);
      expect(await p.jm.balanceOf(p.requester.address)).to.equal(3n * FEE);
      // A rejected job cannot be finalized afterwards: nobody earns its callback fee.
      await expect(p.jm.finalizeWithCallback(rejected, ...(await callbackArgs(p, rejected))))
        .to.be.revertedWithCustomError(p.jm, "JobManagerWrongStatus")
        .withArgs(rejected, Status.Rejected);
      await expectEscrowConserved(p);
    });

    it("is fixed at request: a governance change of callbackFeePerGas mid-job changes neither its terms nor its payout", async function () {
      const p = await protocol();
      const consumer = await ethers.deployContract("GasRecordingConsumer");
      const address = await consumer.getAddress();
      await allow(p, address);
      const jobId = await requestJob(p, { consumer: address, callbackGasLimit: GAS });
      const terms = await termsOf(p, jobId);
      const hash = (await p.jm.getJob(jobId)).commitment;
      const dearer = CALLBACK_FEE_PER_GAS * 5n;
      await setParams(p, { callbackFeePerGas: dearer });
      // New requests pay the new rate; the job keeps its version's.
      expect(await p.jm.minimumFeeWithCallback(PRICE, GAS)).to.equal(minimumFeeFor(PRICE + callbackFeeOf(GAS, dearer)));
      expect((await p.jm.getJob(jobId)).commitment).to.equal(hash);
      expect(await p.jm.callbackFee(terms)).to.equal(callbackFeeOf(GAS));
      expect(await p.jm.callbackFee({ ...terms, paramsVersion: terms.paramsVersion + 1n })).to.equal(callbackFeeOf(GAS, dearer));
      await claimJob(p, jobId);
      await submitJob(p, jobId);
      await setParams(p, { callbackFeePerGas: 0n });
      await endChallengeWindow(p, jobId);
      const tx = p.jm.connect(p.other).finalizeWithCallback(jobId, ...(await callbackArgs(p, jobId)));
      await expect(tx).to.emit(p.jm, "JobFinalized").withArgs(jobId, p.worker.address, FEE - PRICE - PROTOCOL_FEE - callbackFeeOf(GAS), PRICE, PROTOCOL_FEE);
      expect(await p.jm.balanceOf(p.other.address)).to.equal(callbackFeeOf(GAS));
      await expectEscrowConserved(p);
    });

    it("is zero when governance sets no rate: the consumer job's minimum is the plain one", async function () {
      const p = await protocol();
      await setParams(p, { callbackFeePerGas: 0n });
      expect(await p.jm.minimumFeeWithCallback(PRICE, MAX_CALLBACK_GAS)).to.equal(await p.jm.minimumFee(PRICE));
      const consumer = await ethers.deployContract("GasRecordingConsumer");
      const jobId = await jobFor(p, await consumer.getAddress());
      const tx = p.jm.connect(p.other).finalizeWithCallback(jobId, ...(await callbackArgs(p, jobId)));
      expect(await creditsOf(p, tx)).to.deep.equal([[p.worker.address, jobId, FEE - PRICE - PROTOCOL_FEE]]);
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
