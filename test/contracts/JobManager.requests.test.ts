/** JobManager: tensor commitment helper, requestInference, JobRequested terms. */
import { expect } from "chai";
import { anyValue } from "@nomicfoundation/hardhat-ethers-chai-matchers/withArgs";
import { AbiCoder, ZeroAddress, ZeroHash, concat, getBytes, keccak256, sha256, zeroPadBytes } from "ethers";
import {
  FEE,
  INPUT_ELEMENTS,
  MAX_CALLBACK_GAS,
  MAX_JOB_DURATION,
  MIN_FEE,
  OUTPUT_ELEMENTS,
  PRICE,
  PROTOCOL_FEE,
  PROTOCOL_FEE_BPS,
  SAMPLE_INPUT,
  SAMPLE_OUTPUT,
  Status,
  WAD,
  claimJob,
  endChallengeWindow,
  expectEscrowConserved,
  finalizeArgs,
  int32Bytes,
  jobOf,
  minimumFeeFor,
  protocolFeeOf,
  requestJob,
  requestParams,
  resultHash,
  sampleInput,
  submitJob,
  tensorCommitment,
  termsHash,
  termsOf,
} from "./fixtures.js";
import type { JobTerms } from "./fixtures.js";
import { approvedConsumer, ethers, time, protocol, setParams, lockFor, termsTuple } from "./job-manager-helpers.js";

describe("JobManager: requests", function () {
  describe("tensor commitment helper", function () {
    it("follows the rule of docs/SEMANTICS.md, checked independently", async function () {
      // One chunk: the root is sha256 of the zero-padded chunk.
      const small = int32Bytes([1, -1, 2]);
      expect(tensorCommitment(small)).to.equal(sha256(zeroPadBytes(small, 1024)));
      // Three chunks: leaves padded with a zero leaf to four.
      const bytes = getBytes(SAMPLE_INPUT);
      expect(bytes.length).to.equal(2400);
      const l0 = sha256(bytes.slice(0, 1024));
      const l1 = sha256(bytes.slice(1024, 2048));
      const l2 = sha256(zeroPadBytes(bytes.slice(2048), 1024));
      const root = sha256(concat([sha256(concat([l0, l1])), sha256(concat([l2, ZeroHash]))]));
      expect(tensorCommitment(SAMPLE_INPUT)).to.equal(root);
      // int32 little-endian, two's complement.
      expect(int32Bytes([1, -2])).to.equal("0x01000000feffffff");
    });
  });

  describe("requestInference", function () {
    it("escrows the fee and computes the commitment of an inline input on-chain", async function () {
      const p = await protocol();
      const rp = await requestParams(p);
      const commitment = tensorCommitment(SAMPLE_INPUT);
      const expected: JobTerms = {
        requester: p.requester.address,
        modelId: p.modelId,
        fee: FEE,
        modelFee: PRICE,
        lock: lockFor(p, FEE),
        protocolFeeBps: PROTOCOL_FEE_BPS,
        deadline: BigInt(rp.deadline),
        outputElements: BigInt(OUTPUT_ELEMENTS),
        consumer: ZeroAddress,
        callbackGasLimit: 0n,
        inputCommitment: commitment,
        paramsVersion: await p.jm.paramsVersion(),
      };
      const tx = p.jm.connect(p.requester).requestInference(rp);
      await expect(tx)
        .to.emit(p.jm, "JobRequested")
        .withArgs(1n, p.modelId, p.requester.address, termsTuple(expected), SAMPLE_INPUT, "");
      await expect(tx).to.changeTokenBalances(ethers, p.token, [p.requester, p.jm], [-FEE, FEE]);
      expect(await p.jm.jobCount()).to.equal(1n);
      // The event carries the terms; the job stores only their hash (and its state).
      const terms = await termsOf(p, 1n);
      expect(terms).to.deep.equal(expected);
      const stored = await p.jm.getJob(1n);
      expect(stored.commitment).to.equal(await p.jm.termsHash(terms));
      expect(stored.commitment).to.equal(termsHash(terms));
      const job = await jobOf(p, 1n);
      expect(job.requester).to.equal(p.requester.address);
      expect(job.deadline).to.equal(rp.deadline);
      // An Open job's timer is the block it was requested in (its claim draws' seed).
      expect(job.timer).to.equal(BigInt((await (await tx).wait())!.blockNumber));
      expect(job.status).to.equal(Status.Open);
      expect(job.openDisputes).to.equal(0n);
      expect(job.fee).to.equal(FEE);
      expect(job.modelFee).to.equal(PRICE);
      expect(job.protocolFeeBps).to.equal(PROTOCOL_FEE_BPS);
      expect(job.modelId).to.equal(p.modelId);
      expect(job.hasConsumer).to.equal(false);
      expect(job.inputCommitment).to.equal(commitment);
      expect(job.worker).to.equal(ZeroAddress);
      expect(job.lockedStake).to.equal(0n);
      await expectEscrowConserved(p);
    });

    it("accepts an inline input with its correct commitment and refuses a wrong one", async function () {
      const p = await protocol();
      const computed = tensorCommitment(SAMPLE_INPUT);
      await p.jm.connect(p.requester).requestInference(await requestParams(p, { inputCommitment: computed }));
      expect((await jobOf(p, 1n)).inputCommitment).to.equal(computed);
      const wrong = tensorCommitment(int32Bytes(sampleInput(INPUT_ELEMENTS, 2)));
      await expect(p.jm.connect(p.requester).requestInference(await requestParams(p, { inputCommitment: wrong })))
        .to.be.revertedWithCustomError(p.jm, "JobManagerInputCommitmentMismatch")
        .withArgs(wrong, computed);
    });

    it("accepts an input by URI with its commitment", async function () {
      const p = await protocol();
      const commitment = tensorCommitment(SAMPLE_INPUT);
      const rp = await requestParams(p, { input: "0x", inputURI: "ipfs://bafy-input", inputCommitment: commitment });
      await expect(p.jm.connect(p.requester).requestInference(rp))
        .to.emit(p.jm, "JobRequested")
        .withArgs(1n, p.modelId, p.requester.address, anyValue, "0x", "ipfs://bafy-input");
      expect((await jobOf(p, 1n)).inputCommitment).to.equal(commitment);
    });

    it("refuses a URI without commitment, both input forms, or neither", async function () {
      const p = await protocol();
      const c = tensorCommitment(SAMPLE_INPUT);
      for (const o of [
        { input: "0x", inputURI: "ipfs://x", inputCommitment: ZeroHash },
        { input: SAMPLE_INPUT, inputURI: "ipfs://x", inputCommitment: c },
        { input: "0x", inputURI: "", inputCommitment: c },
      ]) {
        await expect(
          p.jm.connect(p.requester).requestInference(await requestParams(p, o)),
        ).to.be.revertedWithCustomError(p.jm, "JobManagerInvalidInput");
      }
    });

    it("refuses an inline input of the wrong size", async function () {
      const p = await protocol();
      for (const n of [INPUT_ELEMENTS - 1, INPUT_ELEMENTS + 1]) {
        await expect(
          p.jm.connect(p.requester).requestInference(await requestParams(p, { input: int32Bytes(sampleInput(n)) })),
        )
          .to.be.revertedWithCustomError(p.jm, "JobManagerInputSizeMismatch")
          .withArgs(INPUT_ELEMENTS * 4, n * 4);
      }
      // Not a whole number of elements either.
      await expect(p.jm.connect(p.requester).requestInference(await requestParams(p, { input: SAMPLE_INPUT + "00" })))
        .to.be.revertedWithCustomError(p.jm, "JobManagerInputSizeMismatch")
        .withArgs(INPUT_ELEMENTS * 4, INPUT_ELEMENTS * 4 + 1);
    });

    it("refuses requests while paused", async function () {
      const p = await protocol();
      await setParams(p, { paused: true });
      await expect(
        p.jm.connect(p.requester).requestInference(await requestParams(p)),
      ).to.be.revertedWithCustomError(p.jm, "JobManagerPaused");
    });

    it("refuses an unknown model", async function () {
      const p = await protocol();
      await expect(p.jm.connect(p.requester).requestInference(await requestParams(p, { modelId: 99n })))
        .to.be.revertedWithCustomError(p.registry, "ModelRegistryUnknownModel")
        .withArgs(99n);
    });

    it("refuses a deprecated model", async function () {
      const p = await protocol();
      await p.registry.connect(p.developer).deprecate(p.modelId);
      await expect(p.jm.connect(p.requester).requestInference(await requestParams(p)))
        .to.be.revertedWithCustomError(p.jm, "JobManagerModelDeprecated")
        .withArgs(p.modelId);
    });

    it("needs a fee that still covers the model price after the protocol fee", async function () {
      const p = await protocol();
      // The rule, checked on the constant: MIN_FEE covers PRICE after 8%, one wei less does not.
      expect(MIN_FEE - protocolFeeOf(MIN_FEE)).to.be.gte(PRICE);
      expect(MIN_FEE - 1n - protocolFeeOf(MIN_FEE - 1n)).to.be.lt(PRICE);
      expect(await p.jm.minimumFee(PRICE)).to.equal(MIN_FEE);
      await expect(p.jm.connect(p.requester).requestInference(await requestParams(p, { fee: MIN_FEE - 1n })))
        .to.be.revertedWithCustomError(p.jm, "JobManagerInsufficientFee")
        .withArgs(MIN_FEE - 1n, MIN_FEE);
      await p.jm.connect(p.requester).requestInference(await requestParams(p, { fee: MIN_FEE }));
      expect((await jobOf(p, 1n)).fee).to.equal(MIN_FEE);
    });

    it("computes the minimum fee for any price and rate (the documented closed form agrees)", async function () {
      const p = await protocol();
      // The closed form of JobManager._minimumFee, as docs/PROTOCOL.md states it.
      const closedForm = (price: bigint, bps: bigint) => (price === 0n ? 0n : ((price - 1n) * 10_000n) / (10_000n - bps) + 1n);
      for (const bps of [0n, 1n, 800n, 1_999n, 2_000n]) {
        await setParams(p, { protocolFeeBps: bps });
        for (const price of [0n, 1n, 2n, 7n, 9_999n, 10_000n, PRICE, 2n ** 96n - 1n]) {
          const min = await p.jm.minimumFee(price);
          expect(min).to.equal(minimumFeeFor(price, bps), `price ${price} at ${bps} bps`);
          expect(min).to.equal(closedForm(price, bps));
        }
      }
      // A free model at any rate: a zero fee is enough.
      expect(await p.jm.minimumFee(0n)).to.equal(0n);
    });

    it("refuses a fee that does not fit 96 bits", async function () {
      const p = await protocol();
      const fee = 2n ** 96n;
      await expect(p.jm.connect(p.requester).requestInference(await requestParams(p, { fee })))
        .to.be.revertedWithCustomError(p.jm, "SafeCastOverflowedUintDowncast")
        .withArgs(96n, fee);
    });

    it("needs a deadline in the future and at most maxJobDuration away", async function () {
      const p = await protocol();
      const t = BigInt(await time.latest()) + 100n;
      const latest = t + MAX_JOB_DURATION;
      for (const deadline of [t, t - 1n, latest + 1n]) {
        await time.setNextBlockTimestamp(t);
        await expect(p.jm.connect(p.requester).requestInference(await requestParams(p, { deadline })))
          .to.be.revertedWithCustomError(p.jm, "JobManagerInvalidDeadline")
          .withArgs(deadline, latest);
      }
      await time.setNextBlockTimestamp(t);
      await p.jm.connect(p.requester).requestInference(await requestParams(p, { deadline: latest }));
      expect((await jobOf(p, 1n)).deadline).to.equal(latest);
    });

    it("refuses a callback gas limit without consumer, none with a consumer, or one above the maximum", async function () {
      const p = await protocol();
      await expect(p.jm.connect(p.requester).requestInference(await requestParams(p, { callbackGasLimit: 1n })))
        .to.be.revertedWithCustomError(p.jm, "JobManagerInvalidCallback")
        .withArgs(1n, MAX_CALLBACK_GAS);
      const consumer = await approvedConsumer(p);
      // A callback with no gas could only fail: the requester would pay the callback fee for nothing.
      await expect(p.jm.connect(p.requester).requestInference(await requestParams(p, { consumer, callbackGasLimit: 0n })))
        .to.be.revertedWithCustomError(p.jm, "JobManagerInvalidCallback")
        .withArgs(0n, MAX_CALLBACK_GAS);
      await expect(
        p.jm
          .connect(p.requester)
          .requestInference(await requestParams(p, { consumer, callbackGasLimit: MAX_CALLBACK_GAS + 1n })),
      )
        .to.be.revertedWithCustomError(p.jm, "JobManagerInvalidCallback")
        .withArgs(MAX_CALLBACK_GAS + 1n, MAX_CALLBACK_GAS);
      await p.jm
        .connect(p.requester)
        .requestInference(await requestParams(p, { consumer, callbackGasLimit: MAX_CALLBACK_GAS }));
      const job = await jobOf(p, 1n);
      expect(job.hasConsumer).to.equal(true);
      expect([job.consumer, job.callbackGasLimit]).to.deep.equal([consumer, MAX_CALLBACK_GAS]);
    });

    it("needs the fee approved", async function () {
      const p = await protocol();
      await expect(p.jm.connect(p.other).requestInference(await requestParams(p)))
        .to.be.revertedWithCustomError(p.token, "ERC20InsufficientAllowance")
        .withArgs(await p.jm.getAddress(), 0n, FEE);
    });

    it("keeps the price and protocol fee rate of the request time", async function () {
      const p = await protocol();
      const jobId = await requestJob(p);
      await p.registry.connect(p.developer).setPrice(p.modelId, 1n * WAD);
      await setParams(p, { protocolFeeBps: 2_000n });
      const job = await jobOf(p, jobId);
      expect(job.modelFee).to.equal(PRICE);
      expect(job.protocolFeeBps).to.equal(PROTOCOL_FEE_BPS);
      await claimJob(p, jobId);
      await submitJob(p, jobId);
      await endChallengeWindow(p, jobId);
      await expect(p.jm.finalize(jobId, ...(await finalizeArgs(p, jobId))))
        .to.emit(p.jm, "JobFinalized")
        .withArgs(jobId, p.worker.address, FEE - PRICE - PROTOCOL_FEE, PRICE, PROTOCOL_FEE);
    });
  });

  describe("JobRequested terms", function () {
    it("carries the terms whose hash the job stores, for every kind of request", async function () {
      const p = await protocol();
      const consumer = await approvedConsumer(p);
      const inputCommitment = tensorCommitment(SAMPLE_INPUT);
      const requests = [
        await requestParams(p),
        await requestParams(p, { input: "0x", inputURI: "ipfs://bafy-input", inputCommitment, fee: MIN_FEE }),
        await requestParams(p, { consumer, callbackGasLimit: MAX_CALLBACK_GAS, fee: 6_000n * WAD }),
      ];
      const hashes = new Set<string>();
      for (const [i, rp] of requests.entries()) {
        const jobId = BigInt(i + 1);
        const tx = await p.jm.connect(p.requester).requestInference(rp);
        const receipt = await tx.wait();
        const logs = receipt!.logs.map((l) => p.jm.interface.parseLog(l)).filter((l) => l?.name === "JobRequested");
        expect(logs).to.have.length(1);
        const fromEvent = logs[0]!.args.terms;
        const terms = await termsOf(p, jobId);
        // termsOf returns the event's terms as a plain object, field for field.
        expect(termsTuple(terms)).to.deep.equal([...fromEvent]);
        expect(await termsOf(p.jm, jobId)).to.deep.equal(terms);
        expect(terms).to.deep.equal({
          requester: p.requester.address,
          modelId: p.modelId,
          fee: BigInt(rp.fee),
          modelFee: PRICE,
          lock: lockFor(p, BigInt(rp.fee)),
          protocolFeeBps: PROTOCOL_FEE_BPS,
          deadline: BigInt(rp.deadline),
          outputElements: BigInt(OUTPUT_ELEMENTS),
          consumer: rp.consumer,
          callbackGasLimit: BigInt(rp.callbackGasLimit),
          inputCommitment,
          // The version in force at request (the fixture's setDisputeManager made version 2).
          paramsVersion: 2n,
        });
        // The stored hash is keccak256(abi.encode(terms)): on chain, here, and of the raw event tuple.
        const job = await p.jm.getJob(jobId);
        expect(job.commitment).to.equal(termsHash(terms));
        expect(job.commitment).to.equal(await p.jm.termsHash(terms));
        // (A decoded Result is frozen and cannot be passed back as is; its plain object can.)
        expect(job.commitment).to.equal(await p.jm.termsHash(fromEvent.toObject() as JobTerms));
        expect([job.status, job.openDisputes, job.worker]).to.deep.equal([Status.Open, 0n, ZeroAddress]);
        expect(job.timer).to.equal(BigInt(receipt!.blockNumber));
        hashes.add(job.commitment);
      }
      expect(hashes.size).to.equal(requests.length);
    });

    it("stores, from submission on, the hash of the terms with the output commitment (resultHash)", async function () {
      const p = await protocol();
      const jobId = await requestJob(p);
      const terms = await termsOf(p, jobId);
      await claimJob(p, jobId);
      // A claim changes the state, never the terms hash.
      expect((await p.jm.getJob(jobId)).commitment).to.equal(termsHash(terms));
      await submitJob(p, jobId);
      // The block the result was submitted in (the audit draw's seed is the next one's hash).
      expect(await p.jm.submittedBlock(jobId)).to.equal(BigInt(await ethers.provider.getBlockNumber()));
      const out = tensorCommitment(SAMPLE_OUTPUT);
      const stored = (await p.jm.getJob(jobId)).commitment;
      expect(stored).to.equal(await p.jm.resultHash(terms, out));
      expect(stored).to.equal(resultHash(terms, out));
      const coder = AbiCoder.defaultAbiCoder();
      // The hash with its last 4 bytes cleared: the escrow keeps the submission block there.
      const full = keccak256(coder.encode(["bytes32", "bytes32"], [termsHash(terms), out]));
      expect(stored).to.equal(full.slice(0, 58) + "00000000");
      expect(stored).to.not.equal(termsHash(terms));
      // No trace is bound: the stored hash is the same whatever trace the worker would later post.
      expect(stored).to.not.equal(await p.jm.resultHash(terms, keccak256("0x02")));
      // Finalizing and disputes leave it as it is.
      await p.jm.connect(p.disputeManager).freezeForDispute(jobId, terms, out);
      await p.jm.connect(p.disputeManager).settleDispute(jobId, true, 0n);
      await endChallengeWindow(p, jobId);
      await p.jm.finalize(jobId, terms, out);
      expect((await p.jm.getJob(jobId)).commitment).to.equal(stored);
    });
  });
});
