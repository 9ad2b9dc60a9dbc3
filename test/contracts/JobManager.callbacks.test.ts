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
  creditsOf,
  endChallengeWindow,
  expectEscrowConserved,
  finalizeArgs,
  int32Bytes,
  jobOf,
  modelSpec,
  sampleInput,
  submittedJob,
} from "./fixtures.js";
import type { Protocol } from "./fixtures.js";
import { ethers, protocol, minimalGas } from "./job-manager-helpers.js";

describe("JobManager: callbacks", function () {
  describe("callbacks", function () {
    const GAS = 200_000n;

    async function jobFor(p: Protocol, consumer: string, gas = GAS, output = SAMPLE_OUTPUT) {
      const jobId = await submittedJob(p, { consumer, callbackGasLimit: gas }, output);
      await endChallengeWindow(p, jobId);
      return jobId;
    }

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
});
