import { expect } from "chai";
import { network } from "hardhat";
import { anyValue } from "@nomicfoundation/hardhat-ethers-chai-matchers/withArgs";
import { AbiCoder, ZeroAddress, ZeroHash, concat, dataSlice, getBytes, keccak256, sha256, toBeHex, zeroPadBytes } from "ethers";

import {
  C1_BPS,
  CHALLENGE_WINDOW,
  DEV_BPS,
  FEE,
  INPUT_ELEMENTS,
  MAX_CALLBACK_GAS,
  MAX_JOB_DURATION,
  MIN_CHALLENGE_WINDOW,
  MIN_FEE,
  MIN_STAKE,
  OUTPUT_ELEMENTS,
  PRICE,
  PROTOCOL_FEE,
  PROTOCOL_FEE_BPS,
  RESULT_TIMEOUT,
  SAMPLE_INPUT,
  SAMPLE_OUTPUT,
  Status,
  WAD,
  WORKER_STAKE,
  claimJob,
  creditsOf,
  endChallengeWindow,
  expectEscrowConserved,
  expectStakingConserved,
  finalizeArgs,
  int32Bytes,
  jobOf,
  minimumFeeFor,
  modelSpec,
  modelSplit,
  paramsTuple,
  protocolFeeOf,
  protocolFixtures,
  requestJob,
  requestParams,
  resultHash,
  sampleInput,
  submitJob,
  submittedJob,
  tensorCommitment,
  termsHash,
  termsOf,
} from "./fixtures.js";
import type { JobTerms, Params, Protocol } from "./fixtures.js";

const conn = await network.create();
const { ethers, networkHelpers } = conn;
const { deployProtocol } = protocolFixtures(conn);
const { time } = networkHelpers;

async function protocol(): Promise<Protocol> {
  return networkHelpers.loadFixture(deployProtocol);
}

async function setParams(p: Protocol, changes: Partial<Params>) {
  const next = { ...p.params, ...changes };
  await p.jm.connect(p.deployer).setParams(next);
  return next;
}

/** Lock a claim takes with the default params (twice the fee, at least minJobLock). */
function lockFor(p: Protocol, fee: bigint) {
  const l = (fee * p.params.stakeRatioBps) / 10_000n;
  return l < p.params.minJobLock ? p.params.minJobLock : l;
}

/** The positional tuple of `terms` (for `.withArgs` on an event that carries them). */
function termsTuple(t: JobTerms): unknown[] {
  return [
    t.requester,
    t.modelId,
    t.fee,
    t.modelFee,
    t.lock,
    t.protocolFeeBps,
    t.deadline,
    t.outputElements,
    t.consumer,
    t.callbackGasLimit,
    t.inputCommitment,
    t.paramsVersion,
  ];
}

/**
 * `terms` with one thing changed, by name: each is what a caller might try to get away with (a lower
 * fee, a smaller lock, another requester to receive refunds and slashes, ...).
 */
function alteredTerms(terms: JobTerms, stranger: string): [string, JobTerms][] {
  return [
    ["another requester", { ...terms, requester: stranger }],
    ["a lower fee", { ...terms, fee: terms.fee - 1n }],
    ["a higher fee", { ...terms, fee: terms.fee + 1n }],
    ["another model", { ...terms, modelId: terms.modelId + 1n }],
    ["a lower model fee", { ...terms, modelFee: terms.modelFee - 1n }],
    ["a smaller lock", { ...terms, lock: terms.lock - 1n }],
    ["a larger lock", { ...terms, lock: terms.lock + 1n }],
    ["a zero lock", { ...terms, lock: 0n }],
    ["another protocol fee rate", { ...terms, protocolFeeBps: terms.protocolFeeBps + 1n }],
    ["a later deadline", { ...terms, deadline: terms.deadline + 1n }],
    ["another output size", { ...terms, outputElements: terms.outputElements + 1n }],
    ["a consumer", { ...terms, consumer: stranger, callbackGasLimit: 1n }],
    ["another input", { ...terms, inputCommitment: keccak256("0x01") }],
    // An older version has other windows, slash, treasury or dispute manager (version 1 has none).
    ["an older parameter version", { ...terms, paramsVersion: terms.paramsVersion - 1n }],
    ["a later parameter version", { ...terms, paramsVersion: terms.paramsVersion + 1n }],
  ];
}

/** Smallest gas limit with which `call(gas)` does not revert (binary search over eth_call). */
async function minimalGas(call: (gas: bigint) => Promise<unknown>, lo: bigint, hi: bigint) {
  await call(hi); // must pass
  while (hi - lo > 1n) {
    const mid = (lo + hi) / 2n;
    try {
      await call(mid);
      hi = mid;
    } catch {
      lo = mid;
    }
  }
  return hi;
}

describe("JobManager", function () {
  describe("deployment and governance", function () {
    it("wires the token, registry, staking, owner and params", async function () {
      const p = await protocol();
      expect(await p.jm.token()).to.equal(await p.token.getAddress());
      expect(await p.jm.registry()).to.equal(await p.registry.getAddress());
      expect(await p.jm.staking()).to.equal(await p.staking.getAddress());
      expect(await p.jm.owner()).to.equal(p.deployer.address);
      expect(await p.jm.disputeManager()).to.equal(p.disputeManager.address);
      expect(await p.jm.params()).to.deep.equal(paramsTuple(p.params));
      expect(await p.jm.jobCount()).to.equal(0n);
    });

    it("lets only the owner set params, and emits ParamsSet", async function () {
      const p = await protocol();
      const next = { ...p.params, challengeWindow: 7200n, protocolFeeBps: 300n };
      await expect(p.jm.connect(p.other).setParams(next))
        .to.be.revertedWithCustomError(p.jm, "OwnableUnauthorizedAccount")
        .withArgs(p.other.address);
      // The constructor's params are version 1, the fixture's setDisputeManager version 2.
      expect(await p.jm.paramsVersion()).to.equal(2n);
      await expect(p.jm.setParams(next)).to.emit(p.jm, "ParamsSet").withArgs(3n, paramsTuple(next));
      expect(await p.jm.params()).to.deep.equal(paramsTuple(next));
      expect(await p.jm.paramsVersion()).to.equal(3n);
      // Every version stays readable, with the dispute manager carried over.
      expect(await p.jm.paramsAt(1n)).to.deep.equal([paramsTuple(p.params), ZeroAddress]);
      expect(await p.jm.paramsAt(2n)).to.deep.equal([paramsTuple(p.params), p.disputeManager.address]);
      expect(await p.jm.paramsAt(3n)).to.deep.equal([paramsTuple(next), p.disputeManager.address]);
      for (const v of [0n, 4n]) {
        await expect(p.jm.paramsAt(v)).to.be.revertedWithCustomError(p.jm, "JobManagerUnknownParamsVersion").withArgs(v);
      }
    });

    const invalid: [string, (p: Params) => Partial<Params>][] = [
      ["treasury", () => ({ treasury: ZeroAddress })],
      ["protocolFeeBps", () => ({ protocolFeeBps: 2_001n })],
      ["timeoutSlashBps", () => ({ timeoutSlashBps: 10_001n })],
      ["challengeWindow", () => ({ challengeWindow: 0n })],
      ["challengeWindow", () => ({ challengeWindow: MIN_CHALLENGE_WINDOW - 1n })],
      ["challengeWindow", () => ({ challengeWindow: 30n * 86400n + 1n })],
      ["resultTimeout", () => ({ resultTimeout: 0n })],
      ["maxJobDuration", (p) => ({ maxJobDuration: p.resultTimeout - 1n })],
    ];
    for (const [name, change] of invalid) {
      it(`refuses an invalid ${name}: ${JSON.stringify(change({ resultTimeout: RESULT_TIMEOUT } as Params), (_, v) => (typeof v === "bigint" ? v.toString() : v))}`, async function () {
        const p = await protocol();
        await expect(p.jm.setParams({ ...p.params, ...change(p.params) }))
          .to.be.revertedWithCustomError(p.jm, "JobManagerInvalidParameter")
          .withArgs(name);
      });
    }

    it("accepts the bounds themselves", async function () {
      const p = await protocol();
      const next = {
        ...p.params,
        protocolFeeBps: 2_000n,
        timeoutSlashBps: 10_000n,
        challengeWindow: 30n * 86400n,
        maxJobDuration: p.params.resultTimeout,
      };
      await p.jm.setParams(next);
      expect(await p.jm.params()).to.deep.equal(paramsTuple(next));
      // The shortest window is the one fixed at deployment.
      await p.jm.setParams({ ...next, challengeWindow: MIN_CHALLENGE_WINDOW });
      expect((await p.jm.params()).challengeWindow).to.equal(MIN_CHALLENGE_WINDOW);
      expect(await p.jm.MAX_PROTOCOL_FEE_BPS()).to.equal(2_000n);
      expect(await p.jm.MAX_CHALLENGE_WINDOW()).to.equal(30n * 86400n);
      expect(await p.jm.minChallengeWindow()).to.equal(MIN_CHALLENGE_WINDOW);
    });

    it("packs every parameter at its full width (two slots) and reads it back unchanged", async function () {
      const p = await protocol();
      // Each field at the top of its type: a packing mistake would spill into its neighbours.
      const widest = {
        minJobLock: 2n ** 96n - 1n,
        stakeRatioBps: 2n ** 32n - 1n,
        protocolFeeBps: 2_000n,
        timeoutSlashBps: 10_000n,
        paused: true,
        challengeWindow: 30n * 86400n,
        resultTimeout: 2n ** 32n - 1n,
        maxJobDuration: 2n ** 32n - 1n,
        treasury: "0x" + "ff".repeat(20),
        maxCallbackGasLimit: 2n ** 24n - 1n,
      };
      await p.jm.setParams(widest);
      expect(await p.jm.params()).to.deep.equal(paramsTuple({ ...widest, treasury: ethers.getAddress(widest.treasury) }));
      const narrow = { ...widest, minJobLock: 1n, stakeRatioBps: 0n, protocolFeeBps: 0n, timeoutSlashBps: 0n, paused: false, challengeWindow: MIN_CHALLENGE_WINDOW, resultTimeout: 1n, maxJobDuration: 1n, maxCallbackGasLimit: 0n };
      await p.jm.setParams(narrow);
      expect(await p.jm.params()).to.deep.equal(paramsTuple({ ...narrow, treasury: ethers.getAddress(widest.treasury) }));
      // Field types bound the rest: values past them do not even encode.
      for (const over of [{ challengeWindow: 2n ** 24n }, { maxCallbackGasLimit: 2n ** 24n }, { protocolFeeBps: 2n ** 16n }]) {
        const err = await p.jm.setParams({ ...narrow, ...over }).then(
          () => undefined,
          (e: Error) => e,
        );
        expect(err, JSON.stringify(Object.keys(over))).to.be.instanceOf(Error);
      }
      expect(await p.jm.params()).to.deep.equal(paramsTuple({ ...narrow, treasury: ethers.getAddress(widest.treasury) }));
    });

    it("validates params in the constructor too", async function () {
      const p = await protocol();
      const factory = await ethers.getContractFactory("JobManager");
      await expect(
        factory.deploy(p.token, p.registry, p.staking, p.deployer.address, MIN_CHALLENGE_WINDOW, { ...p.params, treasury: ZeroAddress }),
      )
        .to.be.revertedWithCustomError(factory, "JobManagerInvalidParameter")
        .withArgs("treasury");
      // The initial window obeys the deployment's own minimum.
      await expect(
        factory.deploy(p.token, p.registry, p.staking, p.deployer.address, CHALLENGE_WINDOW + 1n, p.params),
      )
        .to.be.revertedWithCustomError(factory, "JobManagerInvalidParameter")
        .withArgs("challengeWindow");
      // The minimum itself: at least 1 s, at most the longest window.
      for (const min of [0n, 30n * 86400n + 1n]) {
        await expect(factory.deploy(p.token, p.registry, p.staking, p.deployer.address, min, p.params))
          .to.be.revertedWithCustomError(factory, "JobManagerInvalidParameter")
          .withArgs("minChallengeWindow");
      }
    });

    it("lets only the owner set the dispute manager", async function () {
      const p = await protocol();
      await expect(p.jm.connect(p.other).setDisputeManager(p.other.address))
        .to.be.revertedWithCustomError(p.jm, "OwnableUnauthorizedAccount")
        .withArgs(p.other.address);
      await expect(p.jm.setDisputeManager(p.other.address))
        .to.emit(p.jm, "DisputeManagerSet")
        .withArgs(3n, p.other.address);
      expect(await p.jm.disputeManager()).to.equal(p.other.address);
      // A new version, with the parameters carried over; the old version keeps its manager.
      expect(await p.jm.paramsVersion()).to.equal(3n);
      expect(await p.jm.paramsAt(3n)).to.deep.equal([paramsTuple(p.params), p.other.address]);
      expect((await p.jm.paramsAt(2n))[1]).to.equal(p.disputeManager.address);
    });

    it("answers JobManagerUnknownJob for ids that were never requested", async function () {
      const p = await protocol();
      await expect(jobOf(p, 0n)).to.be.revertedWithCustomError(p.jm, "JobManagerUnknownJob").withArgs(0n);
      await requestJob(p);
      await expect(jobOf(p, 2n)).to.be.revertedWithCustomError(p.jm, "JobManagerUnknownJob").withArgs(2n);
    });
  });

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
      expect(job.timer).to.equal(0n);
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
      // The closed form of JobManager._minimumFee (also the off-chain clients' formula).
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

    it("refuses a callback gas limit without consumer, or above the maximum", async function () {
      const p = await protocol();
      await expect(p.jm.connect(p.requester).requestInference(await requestParams(p, { callbackGasLimit: 1n })))
        .to.be.revertedWithCustomError(p.jm, "JobManagerInvalidCallback")
        .withArgs(1n, MAX_CALLBACK_GAS);
      const consumer = p.other.address;
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
      const consumer = await ethers.deployContract("GasRecordingConsumer");
      const inputCommitment = tensorCommitment(SAMPLE_INPUT);
      const requests = [
        await requestParams(p),
        await requestParams(p, { input: "0x", inputURI: "ipfs://bafy-input", inputCommitment, fee: MIN_FEE }),
        await requestParams(p, { consumer: await consumer.getAddress(), callbackGasLimit: MAX_CALLBACK_GAS, fee: 6_000n * WAD }),
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
        expect([job.status, job.openDisputes, job.timer, job.worker]).to.deep.equal([Status.Open, 0n, 0n, ZeroAddress]);
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
      const out = tensorCommitment(SAMPLE_OUTPUT);
      const stored = (await p.jm.getJob(jobId)).commitment;
      expect(stored).to.equal(await p.jm.resultHash(terms, out));
      expect(stored).to.equal(resultHash(terms, out));
      const coder = AbiCoder.defaultAbiCoder();
      expect(stored).to.equal(keccak256(coder.encode(["bytes32", "bytes32"], [termsHash(terms), out])));
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

  describe("stake lock", function () {
    it("is fixed at request by the params then: a params change before the claim moves neither the lock nor what is unlocked", async function () {
      const p = await protocol();
      const before = lockFor(p, FEE);
      expect(before).to.equal(2n * FEE);
      const a = await requestJob(p);
      // Governance lowers the ratio and raises the floor: new requests lock the floor.
      const next = await setParams(p, { stakeRatioBps: 5_000n, minJobLock: 30n * WAD });
      const after = 30n * WAD;
      expect((FEE * next.stakeRatioBps) / 10_000n).to.be.lessThan(after);
      const b = await requestJob(p);
      const [ta, tb] = [await termsOf(p, a), await termsOf(p, b)];
      expect(ta.lock).to.equal(before);
      expect(tb.lock).to.equal(after);
      // And raises the ratio again before anyone claims: neither job follows.
      await setParams(p, { stakeRatioBps: 40_000n, minJobLock: 1n });

      const jmAddress = await p.jm.getAddress();
      // Claiming with the lock today's params would give is claiming other terms.
      await expect(p.jm.connect(p.worker).claim(a, { ...ta, lock: (FEE * 40_000n) / 10_000n }))
        .to.be.revertedWithCustomError(p.jm, "JobManagerTermsMismatch")
        .withArgs(a);
      await expect(p.jm.connect(p.worker).claim(a, ta))
        .to.emit(p.jm, "JobClaimed")
        .withArgs(a, p.worker.address, before, anyValue)
        .and.to.emit(p.staking, "StakeLocked")
        .withArgs(p.worker.address, jmAddress, before, before);
      await expect(p.jm.connect(p.worker2).claim(b, tb))
        .to.emit(p.jm, "JobClaimed")
        .withArgs(b, p.worker2.address, after, anyValue)
        .and.to.emit(p.staking, "StakeLocked")
        .withArgs(p.worker2.address, jmAddress, after, after);
      expect((await jobOf(p, a)).lockedStake).to.equal(before);
      expect((await jobOf(p, b)).lockedStake).to.equal(after);

      // Job a finalizes and unlocks what it locked; job b times out: the slash is of its own lock.
      await submitJob(p, a);
      await time.increaseTo((await p.jm.getJob(b)).timer + 1n);
      const slashed = (after * p.params.timeoutSlashBps) / 10_000n;
      await expect(p.jm.expire(b, tb))
        .to.emit(p.jm, "WorkerTimedOut")
        .withArgs(b, p.worker2.address, slashed)
        .and.to.emit(p.staking, "StakeUnlocked")
        .withArgs(p.worker2.address, jmAddress, after - slashed, 0n);
      await endChallengeWindow(p, a);
      await expect(p.jm.finalize(a, ...(await finalizeArgs(p, a))))
        .to.emit(p.staking, "StakeUnlocked")
        .withArgs(p.worker.address, jmAddress, before, 0n);
      for (const w of [p.worker, p.worker2]) expect((await p.staking.stakeOf(w.address)).locked).to.equal(0n);
      await expectEscrowConserved(p);
      await expectStakingConserved(p);
    });

    it("refuses at request a lock that does not fit 96 bits", async function () {
      const p = await protocol();
      // 2^95 at 20000 bps locks 2^96: one past uint96. The request reverts before any transfer.
      const fee = 2n ** 95n;
      await expect(p.jm.connect(p.requester).requestInference(await requestParams(p, { fee })))
        .to.be.revertedWithCustomError(p.jm, "SafeCastOverflowedUintDowncast")
        .withArgs(96n, 2n ** 96n);
      expect(await p.jm.jobCount()).to.equal(0n);
    });
  });

  describe("claim", function () {
    it("locks stake in proportion to the fee and sets the result due time", async function () {
      const p = await protocol();
      const jobId = await requestJob(p);
      const lock = lockFor(p, FEE);
      expect(lock).to.equal(2n * FEE);
      const t = BigInt(await time.latest()) + 10n;
      await time.setNextBlockTimestamp(t);
      await expect(p.jm.connect(p.worker).claim(jobId, await termsOf(p, jobId)))
        .to.emit(p.jm, "JobClaimed")
        .withArgs(jobId, p.worker.address, lock, t + RESULT_TIMEOUT)
        .and.to.emit(p.staking, "StakeLocked")
        .withArgs(p.worker.address, await p.jm.getAddress(), lock, lock);
      const job = await jobOf(p, jobId);
      expect(job.status).to.equal(Status.Claimed);
      expect(job.worker).to.equal(p.worker.address);
      expect(job.lockedStake).to.equal(lock);
      expect(job.timer).to.equal(t + RESULT_TIMEOUT);
      expect(await p.staking.freeStake(p.worker.address)).to.equal(WORKER_STAKE - lock);
    });

    it("locks at least minJobLock", async function () {
      const p = await protocol();
      await setParams(p, { stakeRatioBps: 1_000n });
      const jobId = await requestJob(p);
      await expect(p.jm.connect(p.worker).claim(jobId, await termsOf(p, jobId)))
        .to.emit(p.jm, "JobClaimed")
        .withArgs(jobId, p.worker.address, p.params.minJobLock, (v: bigint) => v > 0n);
      expect((await jobOf(p, jobId)).lockedStake).to.equal(p.params.minJobLock);
    });

    it("caps the result due time at the job's deadline, and allows a claim at the deadline", async function () {
      const p = await protocol();
      const deadline = BigInt(await time.latest()) + 100n;
      const jobId = await requestJob(p, { deadline });
      await time.setNextBlockTimestamp(deadline);
      await expect(p.jm.connect(p.worker).claim(jobId, await termsOf(p, jobId)))
        .to.emit(p.jm, "JobClaimed")
        .withArgs(jobId, p.worker.address, lockFor(p, FEE), deadline);
    });

    it("refuses unknown jobs, jobs not open, and jobs past their deadline", async function () {
      const p = await protocol();
      await expect(p.jm.connect(p.worker).claim(1n, await termsOf(p, 1n))).to.be.revertedWithCustomError(p.jm, "JobManagerUnknownJob").withArgs(1n);
      const jobId = await requestJob(p);
      await claimJob(p, jobId);
      await expect(p.jm.connect(p.worker2).claim(jobId, await termsOf(p, jobId)))
        .to.be.revertedWithCustomError(p.jm, "JobManagerWrongStatus")
        .withArgs(jobId, Status.Claimed);

      const deadline = BigInt(await time.latest()) + 100n;
      const late = await requestJob(p, { deadline });
      await time.setNextBlockTimestamp(deadline + 1n);
      await expect(p.jm.connect(p.worker).claim(late, await termsOf(p, late)))
        .to.be.revertedWithCustomError(p.jm, "JobManagerDeadlinePassed")
        .withArgs(late, deadline);
    });

    it("needs the minimum stake and enough free stake", async function () {
      const p = await protocol();
      const jobId = await requestJob(p);
      await expect(p.jm.connect(p.other).claim(jobId, await termsOf(p, jobId)))
        .to.be.revertedWithCustomError(p.staking, "StakingBelowMinimum")
        .withArgs(p.other.address, 0n, MIN_STAKE);
      const bigFee = 6_000n * WAD;
      const big = await requestJob(p, { fee: bigFee });
      await expect(p.jm.connect(p.worker).claim(big, await termsOf(p, big)))
        .to.be.revertedWithCustomError(p.staking, "StakingInsufficientFreeStake")
        .withArgs(p.worker.address, WORKER_STAKE, 2n * bigFee);
    });
  });

  describe("submitResult", function () {
    it("records the result and opens the challenge window", async function () {
      const p = await protocol();
      const jobId = await requestJob(p);
      await claimJob(p, jobId);
      const out = tensorCommitment(SAMPLE_OUTPUT);
      const t = BigInt(await time.latest()) + 5n;
      await time.setNextBlockTimestamp(t);
      await expect(p.jm.connect(p.worker).submitResult(jobId, await termsOf(p, jobId), SAMPLE_OUTPUT, out))
        .to.emit(p.jm, "ResultSubmitted")
        .withArgs(jobId, p.worker.address, out, SAMPLE_OUTPUT, t + CHALLENGE_WINDOW);
      const job = await jobOf(p, jobId);
      expect(job.status).to.equal(Status.Submitted);
      expect(job.timer).to.equal(t + CHALLENGE_WINDOW);
      // The terms hash is replaced by one hash binding terms (and so the input), output and trace.
      expect(job.commitment).to.equal(resultHash(job.terms, out));
      expect(job.commitment).to.equal(await p.jm.resultHash(job.terms, out));
      // Outputs are kept only for jobs with a consumer to call back.
      expect(await p.jm.callbackOutput(jobId)).to.equal("0x");
    });

    it("takes only the job's own terms, then its own result, back: any other is refused", async function () {
      const p = await protocol();
      const out = tensorCommitment(SAMPLE_OUTPUT);
      const jobId = await requestJob(p);
      const terms = await termsOf(p, jobId);
      expect((await p.jm.getJob(jobId)).commitment).to.equal(termsHash(terms));
      // One field changed at a time, each is a different job as far as the escrow is concerned.
      const altered: JobTerms[] = [
        { ...terms, requester: p.other.address },
        { ...terms, fee: terms.fee - 1n },
        { ...terms, modelFee: terms.modelFee - 1n },
        { ...terms, lock: terms.lock - 1n },
        { ...terms, protocolFeeBps: terms.protocolFeeBps + 1n },
        { ...terms, deadline: terms.deadline + 1n },
        { ...terms, outputElements: terms.outputElements + 1n },
        { ...terms, consumer: p.other.address, callbackGasLimit: 1n },
        { ...terms, inputCommitment: keccak256("0x01") },
      ];
      for (const wrong of altered) {
        await expect(p.jm.connect(p.worker).claim(jobId, wrong)).to.be.revertedWithCustomError(p.jm, "JobManagerTermsMismatch").withArgs(jobId);
      }
      await claimJob(p, jobId);
      await expect(p.jm.connect(p.worker).submitResult(jobId, altered[1]!, SAMPLE_OUTPUT, out))
        .to.be.revertedWithCustomError(p.jm, "JobManagerTermsMismatch")
        .withArgs(jobId);
      await submitJob(p, jobId);
      expect((await p.jm.getJob(jobId)).commitment).to.equal(resultHash(terms, out));
      await endChallengeWindow(p, jobId);
      const other = keccak256("0x02");
      for (const args of [
        [altered[0]!, out],
        [terms, other],
        [terms, ZeroHash],
      ] as const) {
        await expect(p.jm.finalize(jobId, ...args)).to.be.revertedWithCustomError(p.jm, "JobManagerTermsMismatch").withArgs(jobId);
        await expect(p.jm.connect(p.disputeManager).freezeForDispute(jobId, ...args))
          .to.be.revertedWithCustomError(p.jm, "JobManagerTermsMismatch")
          .withArgs(jobId);
      }
      await expect(p.jm.finalize(jobId, terms, out)).to.emit(p.jm, "JobFinalized");
      // An open job past its deadline: expire too takes only its own terms.
      const open = await requestJob(p);
      const openTerms = await termsOf(p, open);
      await time.increaseTo(openTerms.deadline + 1n);
      await expect(p.jm.expire(open, { ...openTerms, fee: openTerms.fee + 1n }))
        .to.be.revertedWithCustomError(p.jm, "JobManagerTermsMismatch")
        .withArgs(open);
      await expect(p.jm.expire(open, openTerms)).to.emit(p.jm, "JobRefunded").withArgs(open, p.requester.address, openTerms.fee);
      await expectEscrowConserved(p);
    });

    it("checks the status before the terms: a wrong-status call says so whatever terms it passes", async function () {
      const p = await protocol();
      const out = tensorCommitment(SAMPLE_OUTPUT);
      const jobId = await submittedJob(p);
      const terms = await termsOf(p, jobId);
      const wrong = { ...terms, fee: terms.fee - 1n };
      for (const t of [terms, wrong]) {
        await expect(p.jm.connect(p.worker).claim(jobId, t))
          .to.be.revertedWithCustomError(p.jm, "JobManagerWrongStatus")
          .withArgs(jobId, Status.Submitted);
        await expect(p.jm.connect(p.worker).submitResult(jobId, t, SAMPLE_OUTPUT, out))
          .to.be.revertedWithCustomError(p.jm, "JobManagerWrongStatus")
          .withArgs(jobId, Status.Submitted);
        await expect(p.jm.expire(jobId, t)).to.be.revertedWithCustomError(p.jm, "JobManagerWrongStatus").withArgs(jobId, Status.Submitted);
      }
      // Open and claimed jobs: finalize and freeze say the status, whatever the terms and result.
      const open = await requestJob(p);
      const openTerms = await termsOf(p, open);
      for (const t of [openTerms, { ...openTerms, requester: p.other.address }]) {
        await expect(p.jm.connect(p.worker).submitResult(open, t, SAMPLE_OUTPUT, out))
          .to.be.revertedWithCustomError(p.jm, "JobManagerWrongStatus")
          .withArgs(open, Status.Open);
        await expect(p.jm.finalize(open, t, out)).to.be.revertedWithCustomError(p.jm, "JobManagerWrongStatus").withArgs(open, Status.Open);
        await expect(p.jm.connect(p.disputeManager).freezeForDispute(open, t, out))
          .to.be.revertedWithCustomError(p.jm, "JobManagerWrongStatus")
          .withArgs(open, Status.Open);
      }
      await claimJob(p, open);
      await expect(p.jm.finalize(open, { ...openTerms, lock: 0n }, out))
        .to.be.revertedWithCustomError(p.jm, "JobManagerWrongStatus")
        .withArgs(open, Status.Claimed);
    });

    it("refuses every altered term on claim, submit, finalize and expire, and a wrong result on finalize, changing nothing", async function () {
      const p = await protocol();
      const out = tensorCommitment(SAMPLE_OUTPUT);
      const stranger = p.other.address;
      // An open job past its deadline: the refund goes to the terms' requester, so they must be the job's.
      const lapsed = await requestJob(p, { deadline: BigInt(await time.latest()) + 100n });
      const lapsedTerms = await termsOf(p, lapsed);
      // A job claimed and left late: the slash is of the terms' lock, to the terms' requester.
      const late = await requestJob(p);
      const lateTerms = await termsOf(p, late);
      await claimJob(p, late, p.worker2);
      // A job claimed, then submitted.
      const jobId = await requestJob(p);
      const terms = await termsOf(p, jobId);

      for (const [what, wrong] of alteredTerms(terms, stranger)) {
        await expect(p.jm.connect(p.worker).claim(jobId, wrong), `claim with ${what}`)
          .to.be.revertedWithCustomError(p.jm, "JobManagerTermsMismatch")
          .withArgs(jobId);
      }
      expect((await p.jm.getJob(jobId)).status).to.equal(Status.Open);
      expect((await p.staking.stakeOf(p.worker.address)).locked).to.equal(0n);
      await claimJob(p, jobId);
      for (const [what, wrong] of alteredTerms(terms, stranger)) {
        await expect(p.jm.connect(p.worker).submitResult(jobId, wrong, SAMPLE_OUTPUT, out), `submit with ${what}`)
          .to.be.revertedWithCustomError(p.jm, "JobManagerTermsMismatch")
          .withArgs(jobId);
      }
      expect((await p.jm.getJob(jobId)).commitment).to.equal(termsHash(terms));
      await submitJob(p, jobId);
      await endChallengeWindow(p, jobId);
      for (const [what, wrong] of alteredTerms(terms, stranger)) {
        await expect(p.jm.finalize(jobId, wrong, out), `finalize with ${what}`)
          .to.be.revertedWithCustomError(p.jm, "JobManagerTermsMismatch")
          .withArgs(jobId);
        // The terms are checked before the window: after it, freezing still says which is wrong.
        await expect(p.jm.connect(p.disputeManager).freezeForDispute(jobId, wrong, out), `freeze with ${what}`)
          .to.be.revertedWithCustomError(p.jm, "JobManagerTermsMismatch")
          .withArgs(jobId);
      }
      // The right terms with another output commitment, or the terms hash itself.
      const other = keccak256("0x02");
      for (const [what, o] of [
        ["another output commitment", other],
        ["a zero output commitment", ZeroHash],
        ["the terms hash", termsHash(terms)],
      ] as const) {
        await expect(p.jm.finalize(jobId, terms, o), `finalize with ${what}`)
          .to.be.revertedWithCustomError(p.jm, "JobManagerTermsMismatch")
          .withArgs(jobId);
      }
      expect((await p.jm.getJob(jobId)).status).to.equal(Status.Submitted);
      await expect(p.jm.finalize(jobId, terms, out))
        .to.emit(p.jm, "JobFinalized")
        .withArgs(jobId, p.worker.address, FEE - PRICE - PROTOCOL_FEE, PRICE, PROTOCOL_FEE);

      // Both expiries are due by now.
      expect(BigInt(await time.latest())).to.be.greaterThan(lapsedTerms.deadline);
      for (const [what, wrong] of alteredTerms(lapsedTerms, stranger)) {
        await expect(p.jm.expire(lapsed, wrong), `expire (open) with ${what}`)
          .to.be.revertedWithCustomError(p.jm, "JobManagerTermsMismatch")
          .withArgs(lapsed);
      }
      for (const [what, wrong] of alteredTerms(lateTerms, stranger)) {
        await expect(p.jm.expire(late, wrong), `expire (claimed) with ${what}`)
          .to.be.revertedWithCustomError(p.jm, "JobManagerTermsMismatch")
          .withArgs(late);
      }
      expect(await p.jm.balanceOf(stranger)).to.equal(0n);
      await expect(p.jm.expire(lapsed, lapsedTerms)).to.emit(p.jm, "JobRefunded").withArgs(lapsed, p.requester.address, FEE);
      const slashed = (lateTerms.lock * p.params.timeoutSlashBps) / 10_000n;
      await expect(p.jm.expire(late, lateTerms)).to.emit(p.jm, "WorkerTimedOut").withArgs(late, p.worker2.address, slashed);
      expect(await p.jm.balanceOf(stranger)).to.equal(0n);
      await expectEscrowConserved(p);
      await expectStakingConserved(p);
    });

    it("refuses unknown jobs, jobs not claimed, and other workers", async function () {
      const p = await protocol();
      const out = tensorCommitment(SAMPLE_OUTPUT);
      await expect(p.jm.connect(p.worker).submitResult(5n, await termsOf(p, 5n), SAMPLE_OUTPUT, out))
        .to.be.revertedWithCustomError(p.jm, "JobManagerUnknownJob")
        .withArgs(5n);
      const jobId = await requestJob(p);
      await expect(p.jm.connect(p.worker).submitResult(jobId, await termsOf(p, jobId), SAMPLE_OUTPUT, out))
        .to.be.revertedWithCustomError(p.jm, "JobManagerWrongStatus")
        .withArgs(jobId, Status.Open);
      await claimJob(p, jobId);
      await expect(p.jm.connect(p.worker2).submitResult(jobId, await termsOf(p, jobId), SAMPLE_OUTPUT, out))
        .to.be.revertedWithCustomError(p.jm, "JobManagerNotWorker")
        .withArgs(jobId, p.worker2.address);
      await submitJob(p, jobId);
      await expect(p.jm.connect(p.worker).submitResult(jobId, await termsOf(p, jobId), SAMPLE_OUTPUT, out))
        .to.be.revertedWithCustomError(p.jm, "JobManagerWrongStatus")
        .withArgs(jobId, Status.Submitted);
    });

    it("accepts a result at the due time and refuses it after", async function () {
      const p = await protocol();
      const a = await requestJob(p);
      const b = await requestJob(p);
      await claimJob(p, a);
      await claimJob(p, b, p.worker2);
      const dueA = (await jobOf(p, a)).timer;
      await time.setNextBlockTimestamp(dueA);
      await submitJob(p, a);
      const dueB = (await jobOf(p, b)).timer;
      await time.setNextBlockTimestamp(dueB + 1n);
      await expect(
        p.jm.connect(p.worker2).submitResult(b, await termsOf(p, b), SAMPLE_OUTPUT, tensorCommitment(SAMPLE_OUTPUT)),
      )
        .to.be.revertedWithCustomError(p.jm, "JobManagerResultOverdue")
        .withArgs(b, dueB);
    });

    it("checks the output commitment on-chain (a result binds no trace)", async function () {
      const p = await protocol();
      const jobId = await requestJob(p);
      await claimJob(p, jobId);
      const computed = tensorCommitment(SAMPLE_OUTPUT);
      const wrong = tensorCommitment(int32Bytes([1]));
      await expect(p.jm.connect(p.worker).submitResult(jobId, await termsOf(p, jobId), SAMPLE_OUTPUT, wrong))
        .to.be.revertedWithCustomError(p.jm, "JobManagerOutputCommitmentMismatch")
        .withArgs(wrong, computed);
      await expect(p.jm.connect(p.worker).submitResult(jobId, await termsOf(p, jobId), SAMPLE_OUTPUT, computed))
        .to.emit(p.jm, "ResultSubmitted")
        .withArgs(jobId, p.worker.address, computed, SAMPLE_OUTPUT, anyValue);
    });

    it("refuses outputs that are not whole int32 tensors", async function () {
      const p = await protocol();
      const jobId = await requestJob(p);
      await claimJob(p, jobId);
      // The length is checked against the job's output size before any commitment is computed.
      for (const output of ["0x", "0x010203040506"]) {
        await expect(p.jm.connect(p.worker).submitResult(jobId, await termsOf(p, jobId), output, ZeroHash))
          .to.be.revertedWithCustomError(p.jm, "JobManagerOutputSizeMismatch")
          .withArgs(OUTPUT_ELEMENTS * 4, getBytes(output).length);
      }
    });
  });

  describe("finalize", function () {
    it("pays the worker exactly, accrues the price and the protocol fee to the model, and unlocks the stake", async function () {
      const p = await protocol();
      const jobId = await submittedJob(p);
      const lock = lockFor(p, FEE);
      await endChallengeWindow(p, jobId);
      const workerFee = FEE - PRICE - PROTOCOL_FEE;
      expect(PROTOCOL_FEE).to.equal(2n * WAD); // 8% of 25 VTN

      const tx = p.jm.finalize(jobId, ...(await finalizeArgs(p, jobId)));
      await expect(tx)
        .to.emit(p.jm, "JobFinalized")
        .withArgs(jobId, p.worker.address, workerFee, PRICE, PROTOCOL_FEE)
        .and.to.emit(p.staking, "StakeUnlocked")
        .withArgs(p.worker.address, await p.jm.getAddress(), lock, 0n);
      // The model's and the protocol's parts are not credited to anyone yet: they accrue to the
      // model, in one slot (one write).
      expect(await creditsOf(p, tx)).to.deep.equal([[p.worker.address, jobId, workerFee]]);
      expect(await p.jm.modelEarnings(p.modelId)).to.equal(PRICE);
      expect(await p.jm.protocolFees(p.modelId)).to.equal(PROTOCOL_FEE);
      expect(workerFee + PROTOCOL_FEE + PRICE).to.equal(FEE);
      expect(await p.jm.balanceOf(p.worker.address)).to.equal(workerFee);
      expect(await p.jm.balanceOf(p.treasury.address)).to.equal(0n);
      expect(await p.jm.balanceOf(p.developer.address)).to.equal(0n);
      await expectEscrowConserved(p);
      // Anyone distributes them, once: the fees to the treasury, the earnings to the payees.
      await expect(p.jm.connect(p.other).distributeModelEarnings(p.modelId))
        .to.emit(p.jm, "ProtocolFeesCollected")
        .withArgs(p.modelId, p.treasury.address, PROTOCOL_FEE)
        .and.to.emit(p.jm, "BalanceCredited")
        .withArgs(p.treasury.address, 0n, PROTOCOL_FEE)
        .and.to.emit(p.jm, "ModelEarningsDistributed")
        .withArgs(p.modelId, PRICE);
      expect(await p.jm.protocolFees(p.modelId)).to.equal(0n);
      expect(await p.jm.modelEarnings(p.modelId)).to.equal(0n);
      expect(await p.jm.balanceOf(p.treasury.address)).to.equal(PROTOCOL_FEE);
      await expect(p.jm.distributeModelEarnings(p.modelId)).to.be.revertedWithCustomError(p.jm, "JobManagerNothingToDistribute").withArgs(p.modelId);
      await expectEscrowConserved(p);
      expect((await jobOf(p, jobId)).status).to.equal(Status.Finalized);
      expect((await p.staking.stakeOf(p.worker.address)).locked).to.equal(0n);
      await expectEscrowConserved(p);
      await expectStakingConserved(p);
    });

    it("credits nothing for zero parts (fee at the minimum, free model, no protocol fee)", async function () {
      const p = await protocol();
      await p.registry.connect(p.developer).setPrice(p.modelId, 0n);
      await setParams(p, { protocolFeeBps: 0n });
      const a = await submittedJob(p, { fee: 0n });
      await endChallengeWindow(p, a);
      expect(await creditsOf(p, p.jm.finalize(a, ...(await finalizeArgs(p, a))))).to.deep.equal([]);
      expect(await p.jm.modelEarnings(p.modelId)).to.equal(0n);

      await p.registry.connect(p.developer).setPrice(p.modelId, PRICE);
      await setParams(p, { protocolFeeBps: PROTOCOL_FEE_BPS });
      const b = await submittedJob(p, { fee: MIN_FEE });
      await endChallengeWindow(p, b);
      const credits = await creditsOf(p, p.jm.finalize(b, ...(await finalizeArgs(p, b))));
      // At the minimum fee the worker's part is exactly zero: nobody is credited, all accrues.
      expect(credits).to.deep.equal([]);
      const accrued = await p.jm.protocolFees(p.modelId);
      expect(accrued).to.equal(protocolFeeOf(MIN_FEE));
      expect(accrued + (await p.jm.modelEarnings(p.modelId))).to.equal(MIN_FEE);
      await expectEscrowConserved(p);
    });

    it("waits for the end of the challenge window", async function () {
      const p = await protocol();
      const jobId = await submittedJob(p);
      const end = (await jobOf(p, jobId)).timer;
      await time.setNextBlockTimestamp(end - 1n);
      await expect(p.jm.finalize(jobId, ...(await finalizeArgs(p, jobId))))
        .to.be.revertedWithCustomError(p.jm, "JobManagerChallengeWindowOpen")
        .withArgs(jobId, end);
      await time.setNextBlockTimestamp(end);
      await expect(p.jm.connect(p.other).finalize(jobId, ...(await finalizeArgs(p, jobId)))).to.emit(p.jm, "JobFinalized");
    });

    it("refuses unknown jobs and jobs not submitted, and finalizes once", async function () {
      const p = await protocol();
      await expect(p.jm.finalize(1n, ...(await finalizeArgs(p, 1n)))).to.be.revertedWithCustomError(p.jm, "JobManagerUnknownJob").withArgs(1n);
      const jobId = await requestJob(p);
      await expect(p.jm.finalize(jobId, ...(await finalizeArgs(p, jobId))))
        .to.be.revertedWithCustomError(p.jm, "JobManagerWrongStatus")
        .withArgs(jobId, Status.Open);
      await claimJob(p, jobId);
      await expect(p.jm.finalize(jobId, ...(await finalizeArgs(p, jobId))))
        .to.be.revertedWithCustomError(p.jm, "JobManagerWrongStatus")
        .withArgs(jobId, Status.Claimed);
      await submitJob(p, jobId);
      await endChallengeWindow(p, jobId);
      await p.jm.finalize(jobId, ...(await finalizeArgs(p, jobId)));
      await expect(p.jm.finalize(jobId, ...(await finalizeArgs(p, jobId))))
        .to.be.revertedWithCustomError(p.jm, "JobManagerWrongStatus")
        .withArgs(jobId, Status.Finalized);
    });
  });

  describe("expire", function () {
    it("refunds an open job after its deadline, not at it", async function () {
      const p = await protocol();
      const deadline = BigInt(await time.latest()) + 1000n;
      const jobId = await requestJob(p, { deadline });
      await time.setNextBlockTimestamp(deadline);
      await expect(p.jm.expire(jobId, await termsOf(p, jobId)))
        .to.be.revertedWithCustomError(p.jm, "JobManagerNotExpired")
        .withArgs(jobId, deadline);
      // A call that reverts in gas estimation mines no block: set the next timestamp again.
      await time.setNextBlockTimestamp(deadline + 1n);
      const tx = p.jm.connect(p.other).expire(jobId, await termsOf(p, jobId));
      await expect(tx)
        .to.emit(p.jm, "JobRefunded")
        .withArgs(jobId, p.requester.address, FEE)
        .and.to.emit(p.jm, "BalanceCredited")
        .withArgs(p.requester.address, jobId, FEE);
      expect((await jobOf(p, jobId)).status).to.equal(Status.Refunded);
      expect(await p.jm.balanceOf(p.requester.address)).to.equal(FEE);
      await expect(p.jm.expire(jobId, await termsOf(p, jobId)))
        .to.be.revertedWithCustomError(p.jm, "JobManagerWrongStatus")
        .withArgs(jobId, Status.Refunded);
      await expectEscrowConserved(p);
    });

    it("slashes a late worker to the requester and reopens the job before its deadline", async function () {
      const p = await protocol();
      const jobId = await requestJob(p);
      await claimJob(p, jobId);
      const lock = lockFor(p, FEE);
      const slashed = (lock * p.params.timeoutSlashBps) / 10_000n;
      const due = (await jobOf(p, jobId)).timer;
      await time.setNextBlockTimestamp(due);
      await expect(p.jm.expire(jobId, await termsOf(p, jobId))).to.be.revertedWithCustomError(p.jm, "JobManagerNotExpired").withArgs(jobId, due);
      await time.setNextBlockTimestamp(due + 1n);

      const jmAddress = await p.jm.getAddress();
      const tx = p.jm.connect(p.other).expire(jobId, await termsOf(p, jobId));
      await expect(tx)
        .to.emit(p.jm, "WorkerTimedOut")
        .withArgs(jobId, p.worker.address, slashed)
        .and.to.emit(p.jm, "JobReopened")
        .withArgs(jobId)
        .and.to.emit(p.staking, "StakeSlashed")
        .withArgs(p.worker.address, jmAddress, slashed, jmAddress)
        .and.to.emit(p.staking, "StakeUnlocked")
        .withArgs(p.worker.address, jmAddress, lock - slashed, 0n)
        .and.not.to.emit(p.jm, "JobRefunded");
      await expect(tx).to.changeTokenBalances(ethers, p.token, [p.staking, p.jm], [-slashed, slashed]);

      const job = await jobOf(p, jobId);
      expect(job.status).to.equal(Status.Open);
      expect(job.worker).to.equal(ZeroAddress);
      expect(job.lockedStake).to.equal(0n);
      expect(job.timer).to.equal(0n);
      expect(await p.jm.balanceOf(p.requester.address)).to.equal(slashed);
      const info = await p.staking.stakeOf(p.worker.address);
      expect(info.staked).to.equal(WORKER_STAKE - slashed);
      expect(info.locked).to.equal(0n);
      await expectEscrowConserved(p);
      await expectStakingConserved(p);

      // Another worker takes the reopened job through to payment.
      await claimJob(p, jobId, p.worker2);
      await submitJob(p, jobId, SAMPLE_OUTPUT, p.worker2);
      await endChallengeWindow(p, jobId);
      await expect(p.jm.finalize(jobId, ...(await finalizeArgs(p, jobId))))
        .to.emit(p.jm, "JobFinalized")
        .withArgs(jobId, p.worker2.address, FEE - PRICE - PROTOCOL_FEE, PRICE, PROTOCOL_FEE);
      await expectEscrowConserved(p);
    });

    it("slashes and refunds a claimed job whose deadline has passed", async function () {
      const p = await protocol();
      const deadline = BigInt(await time.latest()) + 300n; // sooner than the result timeout
      const jobId = await requestJob(p, { deadline });
      await claimJob(p, jobId);
      expect((await jobOf(p, jobId)).timer).to.equal(deadline);
      const lock = lockFor(p, FEE);
      const slashed = (lock * p.params.timeoutSlashBps) / 10_000n;
      await time.setNextBlockTimestamp(deadline + 1n);
      const tx = p.jm.expire(jobId, await termsOf(p, jobId));
      await expect(tx)
        .to.emit(p.jm, "WorkerTimedOut")
        .withArgs(jobId, p.worker.address, slashed)
        .and.to.emit(p.jm, "JobRefunded")
        .withArgs(jobId, p.requester.address, FEE)
        .and.not.to.emit(p.jm, "JobReopened");
      expect((await jobOf(p, jobId)).status).to.equal(Status.Refunded);
      expect(await p.jm.balanceOf(p.requester.address)).to.equal(slashed + FEE);
      await expectEscrowConserved(p);
      await expectStakingConserved(p);
    });

    it("rounds the timeout slash down (the worker keeps the dust) and slashes nothing at 0 bps", async function () {
      const p = await protocol();
      await setParams(p, { stakeRatioBps: 15_000n, timeoutSlashBps: 3_333n });
      const fee = FEE + 1n;
      const a = await requestJob(p, { fee });
      await claimJob(p, a);
      const lock = (fee * 15_000n) / 10_000n;
      const slashed = (lock * 3_333n) / 10_000n;
      await time.increaseTo((await jobOf(p, a)).timer + 1n);
      await expect(p.jm.expire(a, await termsOf(p, a)))
        .to.emit(p.staking, "StakeUnlocked")
        .withArgs(p.worker.address, await p.jm.getAddress(), lock - slashed, 0n);
      expect((await p.staking.stakeOf(p.worker.address)).staked).to.equal(WORKER_STAKE - slashed);

      await setParams(p, { timeoutSlashBps: 0n });
      const b = await requestJob(p);
      await claimJob(p, b, p.worker2);
      await time.increaseTo((await jobOf(p, b)).timer + 1n);
      const tx = p.jm.expire(b, await termsOf(p, b));
      await expect(tx)
        .to.emit(p.jm, "WorkerTimedOut")
        .withArgs(b, p.worker2.address, 0n)
        .and.not.to.emit(p.staking, "StakeSlashed");
      expect(await creditsOf(p, tx)).to.deep.equal([]);
      expect((await p.staking.stakeOf(p.worker2.address)).staked).to.equal(WORKER_STAKE);
      await expectEscrowConserved(p);
    });

    it("refuses unknown and submitted jobs", async function () {
      const p = await protocol();
      await expect(p.jm.expire(3n, await termsOf(p, 3n))).to.be.revertedWithCustomError(p.jm, "JobManagerUnknownJob").withArgs(3n);
      const jobId = await submittedJob(p);
      await time.increase(MAX_JOB_DURATION);
      await expect(p.jm.expire(jobId, await termsOf(p, jobId)))
        .to.be.revertedWithCustomError(p.jm, "JobManagerWrongStatus")
        .withArgs(jobId, Status.Submitted);
    });
  });

  describe("disputes", function () {
    it("lets only the dispute manager freeze and settle", async function () {
      const p = await protocol();
      const jobId = await submittedJob(p);
      await expect(p.jm.connect(p.other).freezeForDispute(jobId, ...(await finalizeArgs(p, jobId))))
        .to.be.revertedWithCustomError(p.jm, "JobManagerNotDisputeManager")
        .withArgs(p.other.address);
      await expect(p.jm.connect(p.deployer).settleDispute(jobId, false, 1n))
        .to.be.revertedWithCustomError(p.jm, "JobManagerNotDisputeManager")
        .withArgs(p.deployer.address);
    });

    it("freezes a submitted job inside its challenge window only", async function () {
      const p = await protocol();
      const dm = p.jm.connect(p.disputeManager);
      await expect(dm.freezeForDispute(1n, ...(await finalizeArgs(p, 1n)))).to.be.revertedWithCustomError(p.jm, "JobManagerUnknownJob").withArgs(1n);
      const open = await requestJob(p);
      await expect(dm.freezeForDispute(open, ...(await finalizeArgs(p, open))))
        .to.be.revertedWithCustomError(p.jm, "JobManagerWrongStatus")
        .withArgs(open, Status.Open);

      const jobId = await submittedJob(p);
      await expect(dm.freezeForDispute(jobId, ...(await finalizeArgs(p, jobId)))).to.emit(p.jm, "JobFrozen").withArgs(jobId, 1n);
      await expect(dm.freezeForDispute(jobId, ...(await finalizeArgs(p, jobId)))).to.emit(p.jm, "JobFrozen").withArgs(jobId, 2n);
      expect((await jobOf(p, jobId)).openDisputes).to.equal(2n);
      const end = (await jobOf(p, jobId)).timer;
      await time.setNextBlockTimestamp(end);
      await expect(dm.freezeForDispute(jobId, ...(await finalizeArgs(p, jobId))))
        .to.be.revertedWithCustomError(p.jm, "JobManagerChallengeWindowClosed")
        .withArgs(jobId, end);
      await expect(p.jm.finalize(jobId, ...(await finalizeArgs(p, jobId))))
        .to.be.revertedWithCustomError(p.jm, "JobManagerUnderDispute")
        .withArgs(jobId, 2n);
    });

    it("finalizes once every dispute is settled valid, even after the window", async function () {
      const p = await protocol();
      const dm = p.jm.connect(p.disputeManager);
      const jobId = await submittedJob(p);
      await dm.freezeForDispute(jobId, ...(await finalizeArgs(p, jobId)));
      await dm.freezeForDispute(jobId, ...(await finalizeArgs(p, jobId)));
      await time.increase(CHALLENGE_WINDOW * 2n);
      expect(await dm.settleDispute.staticCall(jobId, true, 10n * WAD)).to.equal(0n);
      await expect(dm.settleDispute(jobId, true, 10n * WAD))
        .to.emit(p.jm, "DisputeSettled")
        .withArgs(jobId, true, 1n)
        .and.not.to.emit(p.staking, "StakeSlashed");
      await expect(p.jm.finalize(jobId, ...(await finalizeArgs(p, jobId))))
        .to.be.revertedWithCustomError(p.jm, "JobManagerUnderDispute")
        .withArgs(jobId, 1n);
      await expect(dm.settleDispute(jobId, true, 0n)).to.emit(p.jm, "DisputeSettled").withArgs(jobId, true, 0n);
      await expect(dm.settleDispute(jobId, true, 0n))
        .to.be.revertedWithCustomError(p.jm, "JobManagerDisputeCount")
        .withArgs(jobId, 0n);
      await expect(p.jm.finalize(jobId, ...(await finalizeArgs(p, jobId)))).to.emit(p.jm, "JobFinalized");
    });

    it("rejects an invalid result: refunds the requester and slashes to the dispute manager", async function () {
      const p = await protocol();
      const dm = p.jm.connect(p.disputeManager);
      const jobId = await submittedJob(p);
      const lock = lockFor(p, FEE);
      const slash = 10n * WAD;
      await dm.freezeForDispute(jobId, ...(await finalizeArgs(p, jobId)));
      expect(await dm.settleDispute.staticCall(jobId, false, slash)).to.equal(slash);
      const jmAddress = await p.jm.getAddress();
      const tx = dm.settleDispute(jobId, false, slash);
      await expect(tx)
        .to.emit(p.jm, "DisputeSettled")
        .withArgs(jobId, false, 0n)
        .and.to.emit(p.jm, "JobRejected")
        .withArgs(jobId, p.worker.address, slash, FEE)
        .and.to.emit(p.jm, "BalanceCredited")
        .withArgs(p.requester.address, jobId, FEE)
        .and.to.emit(p.staking, "StakeSlashed")
        .withArgs(p.worker.address, jmAddress, slash, p.disputeManager.address)
        .and.to.emit(p.staking, "StakeUnlocked")
        .withArgs(p.worker.address, jmAddress, lock - slash, 0n);
      await expect(tx).to.changeTokenBalances(ethers, p.token, [p.disputeManager, p.staking], [slash, -slash]);
      expect((await jobOf(p, jobId)).status).to.equal(Status.Rejected);
      expect(await p.jm.balanceOf(p.requester.address)).to.equal(FEE);
      expect(await p.jm.balanceOf(p.worker.address)).to.equal(0n);
      expect(await p.staking.stakeOf(p.worker.address)).to.deep.equal([WORKER_STAKE - slash, 0n, 0n, 0n]);
      await expect(p.jm.finalize(jobId, ...(await finalizeArgs(p, jobId))))
        .to.be.revertedWithCustomError(p.jm, "JobManagerWrongStatus")
        .withArgs(jobId, Status.Rejected);
      await expect(dm.freezeForDispute(jobId, ...(await finalizeArgs(p, jobId))))
        .to.be.revertedWithCustomError(p.jm, "JobManagerWrongStatus")
        .withArgs(jobId, Status.Rejected);
      await expectEscrowConserved(p);
      await expectStakingConserved(p);
    });

    it("caps the slash at the locked stake, and slashes nothing when asked for zero", async function () {
      const p = await protocol();
      const dm = p.jm.connect(p.disputeManager);
      const lock = lockFor(p, FEE);
      const a = await submittedJob(p);
      await dm.freezeForDispute(a, ...(await finalizeArgs(p, a)));
      await expect(dm.settleDispute(a, false, lock * 10n))
        .to.emit(p.jm, "JobRejected")
        .withArgs(a, p.worker.address, lock, FEE)
        .and.not.to.emit(p.staking, "StakeUnlocked");
      expect((await p.staking.stakeOf(p.worker.address)).staked).to.equal(WORKER_STAKE - lock);

      const b = await submittedJob(p);
      await dm.freezeForDispute(b, ...(await finalizeArgs(p, b)));
      await expect(dm.settleDispute(b, false, 0n))
        .to.emit(p.jm, "JobRejected")
        .withArgs(b, p.worker.address, 0n, FEE)
        .and.to.emit(p.staking, "StakeUnlocked")
        .withArgs(p.worker.address, await p.jm.getAddress(), lock, 0n)
        .and.not.to.emit(p.staking, "StakeSlashed");
      await expectEscrowConserved(p);
      await expectStakingConserved(p);
    });

    it("keeps a result rejected by a parallel dispute rejected, moving nothing more", async function () {
      const p = await protocol();
      const dm = p.jm.connect(p.disputeManager);
      const jobId = await submittedJob(p);
      for (let i = 0; i < 3; i++) await dm.freezeForDispute(jobId, ...(await finalizeArgs(p, jobId)));
      await dm.settleDispute(jobId, false, 5n * WAD);
      const stake = await p.staking.stakeOf(p.worker.address);
      const requesterBalance = await p.jm.balanceOf(p.requester.address);

      expect(await dm.settleDispute.staticCall(jobId, true, 0n)).to.equal(0n);
      await expect(dm.settleDispute(jobId, true, 0n))
        .to.emit(p.jm, "DisputeSettled")
        .withArgs(jobId, true, 1n)
        .and.not.to.emit(p.jm, "JobRejected");
      expect(await dm.settleDispute.staticCall(jobId, false, 5n * WAD)).to.equal(0n);
      const tx = dm.settleDispute(jobId, false, 5n * WAD);
      await expect(tx)
        .to.emit(p.jm, "DisputeSettled")
        .withArgs(jobId, false, 0n)
        .and.not.to.emit(p.jm, "JobRejected")
        .and.not.to.emit(p.staking, "StakeSlashed");
      expect(await creditsOf(p, tx)).to.deep.equal([]);
      const job = await jobOf(p, jobId);
      expect(job.status).to.equal(Status.Rejected);
      expect(job.openDisputes).to.equal(0n);
      expect(await p.staking.stakeOf(p.worker.address)).to.deep.equal(stake);
      expect(await p.jm.balanceOf(p.requester.address)).to.equal(requesterBalance);
      await expectEscrowConserved(p);
    });

    it("refuses to settle a job without open dispute, or an unknown job", async function () {
      const p = await protocol();
      const dm = p.jm.connect(p.disputeManager);
      await expect(dm.settleDispute(9n, true, 0n)).to.be.revertedWithCustomError(p.jm, "JobManagerUnknownJob").withArgs(9n);
      const jobId = await submittedJob(p);
      // Never frozen: no manager holds it, so not even the job's own may settle it.
      await expect(dm.settleDispute(jobId, false, 1n))
        .to.be.revertedWithCustomError(p.jm, "JobManagerNotDisputeManager")
        .withArgs(p.disputeManager.address);
      // Frozen once and settled: nothing is left open.
      await dm.freezeForDispute(jobId, ...(await finalizeArgs(p, jobId)));
      await dm.settleDispute(jobId, true, 0n);
      await expect(dm.settleDispute(jobId, false, 1n))
        .to.be.revertedWithCustomError(p.jm, "JobManagerDisputeCount")
        .withArgs(jobId, 0n);
      expect((await jobOf(p, jobId)).status).to.equal(Status.Submitted);
    });

    it("opens any number of disputes on one result (no cap: 300, past the old 255), and settles each", async function () {
      this.timeout(120_000);
      const p = await protocol();
      const dm = p.jm.connect(p.disputeManager);
      const jobId = await submittedJob(p);
      const args = await finalizeArgs(p, jobId);
      // The old escrow kept the count in a uint8 and refused the 256th (JobManagerDisputeCount): a cartel
      // could fill the slots and shut an honest challenger out. Each dispute is backed by a bond now.
      const n = 300;
      for (let i = 1; i <= n; i++) {
        const tx = dm.freezeForDispute(jobId, ...args);
        if (i === 255 || i === 256 || i === n) await expect(tx).to.emit(p.jm, "JobFrozen").withArgs(jobId, BigInt(i));
        else await tx;
      }
      expect((await jobOf(p, jobId)).openDisputes).to.equal(BigInt(n));
      // The colluders' games end first (valid), then one proves the result wrong; the rest move nothing.
      for (let i = 1; i <= 280; i++) await dm.settleDispute(jobId, true, 0n);
      expect((await jobOf(p, jobId)).status).to.equal(Status.Submitted);
      const lock = lockFor(p, FEE);
      await expect(dm.settleDispute(jobId, false, lock))
        .to.emit(p.jm, "JobRejected")
        .withArgs(jobId, p.worker.address, lock, FEE);
      for (let i = 1; i < 20; i++) await dm.settleDispute(jobId, true, 0n);
      const job = await jobOf(p, jobId);
      expect([job.status, job.openDisputes]).to.deep.equal([Status.Rejected, 0n]);
      await expect(dm.settleDispute(jobId, true, 0n)).to.be.revertedWithCustomError(p.jm, "JobManagerDisputeCount").withArgs(jobId, 0n);
      expect(await p.jm.balanceOf(p.requester.address)).to.equal(FEE);
      await expectEscrowConserved(p);
      await expectStakingConserved(p);
    });

    it("counts open disputes in 32 bits and refuses the one past it", async function () {
      const p = await protocol();
      const dm = p.jm.connect(p.disputeManager);
      const jobId = await submittedJob(p);
      // Jump to 2^32 - 2 open disputes by writing the job's first slot: (2 zero bytes) worker |
      // timer | openDisputes | status, from the high bytes down (openDisputes is bytes 27..30).
      const jmAddress = await p.jm.getAddress();
      let slot = "";
      for (let base = 0n; base < 16n && !slot; base++) {
        const candidate = keccak256(AbiCoder.defaultAbiCoder().encode(["uint256", "uint256"], [jobId, base]));
        const word = await ethers.provider.getStorage(jmAddress, candidate);
        if (dataSlice(word, 2, 22).toLowerCase() === p.worker.address.toLowerCase()) slot = candidate;
      }
      expect(slot).to.not.equal("");
      const word = await ethers.provider.getStorage(jmAddress, slot);
      await networkHelpers.setStorageAt(jmAddress, slot, concat([dataSlice(word, 0, 27), toBeHex(2n ** 32n - 2n, 4), dataSlice(word, 31)]));
      const before = await jobOf(p, jobId);
      expect([before.openDisputes, before.status, before.worker]).to.deep.equal([2n ** 32n - 2n, Status.Submitted, p.worker.address]);
      await expect(dm.freezeForDispute(jobId, ...(await finalizeArgs(p, jobId)))).to.emit(p.jm, "JobFrozen").withArgs(jobId, 2n ** 32n - 1n);
      await expect(dm.freezeForDispute(jobId, ...(await finalizeArgs(p, jobId))))
        .to.be.revertedWithCustomError(p.jm, "SafeCastOverflowedUintDowncast")
        .withArgs(32n, 2n ** 32n);
      expect((await jobOf(p, jobId)).openDisputes).to.equal(2n ** 32n - 1n);
    });

    it("judges a job by the dispute manager of its own parameter version, and settles it only by the one that froze it", async function () {
      const p = await protocol();
      const old = p.jm.connect(p.disputeManager);
      const frozen = await submittedJob(p);
      const idle = await submittedJob(p);
      await old.freezeForDispute(frozen, ...(await finalizeArgs(p, frozen)));

      // Governance replaces the manager (version 3): jobs already requested stay with the old one.
      await p.jm.setDisputeManager(p.other.address);
      const fresh = p.jm.connect(p.other);
      for (const jobId of [frozen, idle]) {
        await expect(fresh.freezeForDispute(jobId, ...(await finalizeArgs(p, jobId))))
          .to.be.revertedWithCustomError(p.jm, "JobManagerNotDisputeManager")
          .withArgs(p.other.address);
      }
      await expect(fresh.settleDispute(frozen, false, 1n))
        .to.be.revertedWithCustomError(p.jm, "JobManagerNotDisputeManager")
        .withArgs(p.other.address);
      // The old manager still opens more disputes on its jobs and settles them.
      await expect(old.freezeForDispute(idle, ...(await finalizeArgs(p, idle)))).to.emit(p.jm, "JobFrozen").withArgs(idle, 1n);
      await expect(old.settleDispute(frozen, false, 1n)).to.emit(p.jm, "JobRejected");
      await expect(old.settleDispute(idle, true, 0n)).to.emit(p.jm, "DisputeSettled").withArgs(idle, true, 0n);

      // A job requested now belongs to the new manager only.
      const next = await submittedJob(p);
      expect((await termsOf(p, next)).paramsVersion).to.equal(3n);
      await expect(old.freezeForDispute(next, ...(await finalizeArgs(p, next))))
        .to.be.revertedWithCustomError(p.jm, "JobManagerNotDisputeManager")
        .withArgs(p.disputeManager.address);
      await expect(fresh.freezeForDispute(next, ...(await finalizeArgs(p, next)))).to.emit(p.jm, "JobFrozen").withArgs(next, 1n);
      await expect(old.settleDispute(next, false, 1n))
        .to.be.revertedWithCustomError(p.jm, "JobManagerNotDisputeManager")
        .withArgs(p.disputeManager.address);
      await expect(fresh.settleDispute(next, true, 0n)).to.emit(p.jm, "DisputeSettled").withArgs(next, true, 0n);
      await expectEscrowConserved(p);
      await expectStakingConserved(p);
    });

    it("lets nobody dispute a job requested before any dispute manager was set", async function () {
      const p = await protocol();
      // A second escrow at version 1 (no manager yet), allowed to lock stakes.
      const bare = await ethers.deployContract("JobManager", [p.token, p.registry, p.staking, p.deployer.address, MIN_CHALLENGE_WINDOW, p.params]);
      await p.staking.setOperator(await bare.getAddress(), true);
      await p.token.connect(p.requester).approve(await bare.getAddress(), ethers.MaxUint256);
      expect([await bare.paramsVersion(), await bare.disputeManager()]).to.deep.equal([1n, ZeroAddress]);
      await bare.connect(p.requester).requestInference(await requestParams(p));
      const terms = await termsOf(bare, 1n);
      expect(terms.paramsVersion).to.equal(1n);
      await bare.connect(p.worker).claim(1n, terms);
      await bare.connect(p.worker).submitResult(1n, terms, SAMPLE_OUTPUT, tensorCommitment(SAMPLE_OUTPUT));
      // A manager set afterwards is version 2's: the job stays with version 1's, which is nobody.
      await bare.setDisputeManager(p.disputeManager.address);
      const args = await finalizeArgs(bare, 1n);
      for (const s of [p.disputeManager, p.deployer]) {
        await expect(bare.connect(s).freezeForDispute(1n, ...args))
          .to.be.revertedWithCustomError(bare, "JobManagerNotDisputeManager")
          .withArgs(s.address);
      }
      await time.increaseTo((await bare.getJob(1n)).timer);
      await expect(bare.finalize(1n, ...args)).to.emit(bare, "JobFinalized");
    });
  });

  describe("parameter versions", function () {
    it("a job keeps the result timeout, challenge window, timeout slash and treasury of its request", async function () {
      const p = await protocol();
      const jmAddress = await p.jm.getAddress();
      const finalized = await requestJob(p);
      const timedOut = await requestJob(p);
      const [tf, tt] = [await termsOf(p, finalized), await termsOf(p, timedOut)];
      // Governance changes every parameter a job reads after its request (version 3).
      const next = await setParams(p, {
        resultTimeout: RESULT_TIMEOUT * 3n,
        challengeWindow: MIN_CHALLENGE_WINDOW,
        timeoutSlashBps: 10_000n,
        treasury: p.other.address,
      });
      expect(await p.jm.paramsVersion()).to.equal(3n);
      expect([tf.paramsVersion, tt.paramsVersion]).to.deep.equal([2n, 2n]);

      // The claim's due time is the old result timeout's, the window the old window's.
      await p.jm.connect(p.worker).claim(finalized, tf);
      expect((await p.jm.getJob(finalized)).timer).to.equal(BigInt(await time.latest()) + RESULT_TIMEOUT);
      await submitJob(p, finalized);
      const end = BigInt(await time.latest()) + CHALLENGE_WINDOW;
      expect((await p.jm.getJob(finalized)).timer).to.equal(end);
      // Under the new window it would be over; disputes can still open (the old manager's).
      await time.increaseTo(end - CHALLENGE_WINDOW + MIN_CHALLENGE_WINDOW + 1n);
      expect(await p.jm.connect(p.disputeManager).freezeForDispute.staticCall(finalized, ...(await finalizeArgs(p, finalized)))).to.equal(p.worker.address);
      await expect(p.jm.finalize(finalized, ...(await finalizeArgs(p, finalized))))
        .to.be.revertedWithCustomError(p.jm, "JobManagerChallengeWindowOpen")
        .withArgs(finalized, end);

      // The late worker is slashed at the old rate, not the whole lock.
      await p.jm.connect(p.worker2).claim(timedOut, tt);
      await time.increaseTo((await p.jm.getJob(timedOut)).timer + 1n);
      const slashed = (tt.lock * p.params.timeoutSlashBps) / 10_000n;
      await expect(p.jm.expire(timedOut, tt))
        .to.emit(p.jm, "WorkerTimedOut")
        .withArgs(timedOut, p.worker2.address, slashed)
        .and.to.emit(p.staking, "StakeUnlocked")
        .withArgs(p.worker2.address, jmAddress, tt.lock - slashed, 0n);

      // The protocol fee keeps the request's rate; it accrues to the model until distributed.
      await time.increaseTo(end);
      const tx = p.jm.finalize(finalized, ...(await finalizeArgs(p, finalized)));
      await expect(tx).to.emit(p.jm, "JobFinalized").withArgs(finalized, p.worker.address, FEE - PRICE - PROTOCOL_FEE, PRICE, PROTOCOL_FEE);
      expect(await p.jm.protocolFees(p.modelId)).to.equal(PROTOCOL_FEE);

      // A job requested now uses the new version throughout.
      const later = await requestJob(p);
      const tl = await termsOf(p, later);
      expect(tl.paramsVersion).to.equal(3n);
      await p.jm.connect(p.worker).claim(later, tl);
      expect((await p.jm.getJob(later)).timer).to.equal(BigInt(await time.latest()) + next.resultTimeout);
      await submitJob(p, later);
      expect((await p.jm.getJob(later)).timer).to.equal(BigInt(await time.latest()) + next.challengeWindow);
      await endChallengeWindow(p, later);
      await p.jm.finalize(later, ...(await finalizeArgs(p, later)));
      expect(await p.jm.protocolFees(p.modelId)).to.equal(2n * PROTOCOL_FEE);
      await expectEscrowConserved(p);
      // Protocol revenue goes to the treasury in force when it is distributed (governance's own funds).
      await expect(p.jm.distributeModelEarnings(p.modelId))
        .to.emit(p.jm, "ProtocolFeesCollected")
        .withArgs(p.modelId, p.other.address, 2n * PROTOCOL_FEE);
      expect(await p.jm.balanceOf(p.other.address)).to.equal(2n * PROTOCOL_FEE);
      expect(await p.jm.balanceOf(p.treasury.address)).to.equal(0n);
      await expectEscrowConserved(p, [p.other.address]);
      await expectStakingConserved(p);
    });

    it("a job requested before a pause still claims, submits and finalizes; the minimum fee follows the current version", async function () {
      const p = await protocol();
      const jobId = await requestJob(p);
      await setParams(p, { paused: true, protocolFeeBps: 2_000n });
      expect(await p.jm.minimumFee(PRICE)).to.equal(minimumFeeFor(PRICE, 2_000n));
      await expect(p.jm.connect(p.requester).requestInference(await requestParams(p))).to.be.revertedWithCustomError(p.jm, "JobManagerPaused");
      await claimJob(p, jobId);
      await submitJob(p, jobId);
      await endChallengeWindow(p, jobId);
      await expect(p.jm.finalize(jobId, ...(await finalizeArgs(p, jobId))))
        .to.emit(p.jm, "JobFinalized")
        .withArgs(jobId, p.worker.address, FEE - PRICE - PROTOCOL_FEE, PRICE, PROTOCOL_FEE);
    });
  });

  describe("distributeModelEarnings", function () {
    it("splits the accrued earnings exactly among contributors and developer, emitting each credit", async function () {
      const p = await protocol();
      // Two jobs at two prices: the accrued amount is their sum.
      const first = await submittedJob(p);
      await p.registry.connect(p.developer).setPrice(p.modelId, PRICE + 3n);
      const second = await submittedJob(p);
      await endChallengeWindow(p, second);
      await p.jm.finalize(first, ...(await finalizeArgs(p, first)));
      await p.jm.finalize(second, ...(await finalizeArgs(p, second)));
      const accrued = 2n * PRICE + 3n;
      expect(await p.jm.modelEarnings(p.modelId)).to.equal(accrued);
      await expectEscrowConserved(p);

      const split = modelSplit(accrued);
      // The contributors' shares round down; the developer takes the dust.
      expect(split.c1).to.equal((accrued * BigInt(C1_BPS)) / 10_000n);
      expect(split.developer).to.be.greaterThan((accrued * BigInt(DEV_BPS)) / 10_000n);
      expect(split.c1 + split.c2 + split.developer).to.equal(accrued);

      // Anyone may distribute; the tokens stay in the escrow.
      const tx = p.jm.connect(p.other).distributeModelEarnings(p.modelId);
      await expect(tx).to.emit(p.jm, "ModelEarningsDistributed").withArgs(p.modelId, accrued);
      await expect(tx).to.changeTokenBalances(ethers, p.token, [p.jm, p.other], [0n, 0n]);
      // The protocol fees of the same jobs go to the treasury first, then the payees are credited.
      const fees = protocolFeeOf(FEE) * 2n;
      await expect(tx).to.emit(p.jm, "ProtocolFeesCollected").withArgs(p.modelId, p.treasury.address, fees);
      expect(await creditsOf(p, tx)).to.deep.equal([
        [p.treasury.address, 0n, fees],
        [p.contributor1.address, 0n, split.c1],
        [p.contributor2.address, 0n, split.c2],
        [p.developer.address, 0n, split.developer],
      ]);
      expect(await p.jm.modelEarnings(p.modelId)).to.equal(0n);
      expect(await p.jm.balanceOf(p.contributor1.address)).to.equal(split.c1);
      expect(await p.jm.balanceOf(p.developer.address)).to.equal(split.developer);
      await expectEscrowConserved(p);

      // Nothing left: a second distribution reverts, and the payees withdraw as usual.
      await expect(p.jm.distributeModelEarnings(p.modelId))
        .to.be.revertedWithCustomError(p.jm, "JobManagerNothingToDistribute")
        .withArgs(p.modelId);
      await expect(p.jm.connect(p.developer).withdraw()).to.changeTokenBalances(
        ethers,
        p.token,
        [p.developer, p.jm],
        [split.developer, -split.developer],
      );
      await expectEscrowConserved(p);
    });

    it("returns the amount, pays the current owner, and keeps models apart", async function () {
      const p = await protocol();
      await p.registry.connect(p.developer).registerModel(modelSpec({ price: 1n * WAD, contentHash: keccak256("0x02") }));
      const jobA = await submittedJob(p);
      const jobB = await submittedJob(p, { modelId: 2n });
      await endChallengeWindow(p, jobB);
      await p.jm.finalize(jobA, ...(await finalizeArgs(p, jobA)));
      await p.jm.finalize(jobB, ...(await finalizeArgs(p, jobB)));
      expect(await p.jm.modelEarnings(2n)).to.equal(1n * WAD);
      // Accrued earnings follow the model: a new owner receives what is distributed after the transfer.
      await p.registry.connect(p.developer).transferModelOwnership(2n, p.other.address);
      expect(await p.jm.distributeModelEarnings.staticCall(2n)).to.equal(1n * WAD);
      expect(await creditsOf(p, p.jm.distributeModelEarnings(2n))).to.deep.equal([
        [p.treasury.address, 0n, PROTOCOL_FEE],
        [p.other.address, 0n, 1n * WAD],
      ]);
      expect(await p.jm.protocolFees(p.modelId)).to.equal(PROTOCOL_FEE);
      expect(await p.jm.protocolFees(2n)).to.equal(0n);
      expect(await p.jm.modelEarnings(p.modelId)).to.equal(PRICE);
      expect(await p.jm.modelEarnings(2n)).to.equal(0n);
      await expect(p.jm.distributeModelEarnings(99n))
        .to.be.revertedWithCustomError(p.jm, "JobManagerNothingToDistribute")
        .withArgs(99n);
      await expectEscrowConserved(p);
    });

    it("credits nothing for a share that rounds to zero", async function () {
      const p = await protocol();
      await p.registry.connect(p.developer).setPrice(p.modelId, 2n);
      const jobId = await submittedJob(p);
      await endChallengeWindow(p, jobId);
      await p.jm.finalize(jobId, ...(await finalizeArgs(p, jobId)));
      // 2 wei at 33.33%: both contributors' shares are 0, the developer gets both wei.
      expect(await creditsOf(p, p.jm.distributeModelEarnings(p.modelId))).to.deep.equal([
        [p.treasury.address, 0n, PROTOCOL_FEE],
        [p.developer.address, 0n, 2n],
      ]);
      await expectEscrowConserved(p);
    });

    it("pays the treasury alone for a free model, and reverts only when neither part accrued", async function () {
      const p = await protocol();
      await p.registry.connect(p.developer).setPrice(p.modelId, 0n);
      const jobId = await submittedJob(p);
      await endChallengeWindow(p, jobId);
      await p.jm.finalize(jobId, ...(await finalizeArgs(p, jobId)));
      expect(await p.jm.modelEarnings(p.modelId)).to.equal(0n);
      expect(await p.jm.protocolFees(p.modelId)).to.equal(PROTOCOL_FEE);
      const tx = p.jm.distributeModelEarnings(p.modelId);
      await expect(tx).to.emit(p.jm, "ProtocolFeesCollected").and.not.to.emit(p.jm, "ModelEarningsDistributed");
      expect(await creditsOf(p, tx)).to.deep.equal([[p.treasury.address, 0n, PROTOCOL_FEE]]);
      await expect(p.jm.distributeModelEarnings(p.modelId)).to.be.revertedWithCustomError(p.jm, "JobManagerNothingToDistribute");
      await expectEscrowConserved(p);
    });
  });

  describe("withdraw", function () {
    it("sends the whole balance once", async function () {
      const p = await protocol();
      await expect(p.jm.connect(p.worker).withdraw())
        .to.be.revertedWithCustomError(p.jm, "JobManagerNothingToWithdraw")
        .withArgs(p.worker.address);
      const jobId = await submittedJob(p);
      await endChallengeWindow(p, jobId);
      await p.jm.finalize(jobId, ...(await finalizeArgs(p, jobId)));
      const amount = FEE - PRICE - PROTOCOL_FEE;
      const tx = p.jm.connect(p.worker).withdraw();
      await expect(tx).to.emit(p.jm, "BalanceWithdrawn").withArgs(p.worker.address, amount);
      await expect(tx).to.changeTokenBalances(ethers, p.token, [p.worker, p.jm], [amount, -amount]);
      expect(await p.jm.balanceOf(p.worker.address)).to.equal(0n);
      await expect(p.jm.connect(p.worker).withdraw())
        .to.be.revertedWithCustomError(p.jm, "JobManagerNothingToWithdraw")
        .withArgs(p.worker.address);
      await expectEscrowConserved(p);
    });
  });

  describe("pause", function () {
    it("blocks only new requests: jobs in flight still claim, submit, finalize, expire and pay out", async function () {
      const p = await protocol();
      const a = await requestJob(p);
      const deadline = BigInt(await time.latest()) + 100n;
      const b = await requestJob(p, { deadline });
      const c = await submittedJob(p);
      await setParams(p, { paused: true });
      await expect(
        p.jm.connect(p.requester).requestInference(await requestParams(p)),
      ).to.be.revertedWithCustomError(p.jm, "JobManagerPaused");

      await claimJob(p, a);
      await submitJob(p, a);
      await p.jm.connect(p.disputeManager).freezeForDispute(c, ...(await finalizeArgs(p, c)));
      await p.jm.connect(p.disputeManager).settleDispute(c, true, 0n);
      await time.increase(CHALLENGE_WINDOW);
      await p.jm.finalize(a, ...(await finalizeArgs(p, a)));
      await p.jm.finalize(c, ...(await finalizeArgs(p, c)));
      await p.jm.expire(b, await termsOf(p, b));
      await p.jm.connect(p.worker).withdraw();
      await p.jm.connect(p.requester).withdraw();
      await expectEscrowConserved(p);

      await setParams(p, { paused: false });
      await p.jm.connect(p.requester).requestInference(await requestParams(p));
      expect(await p.jm.jobCount()).to.equal(4n);
    });
  });

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
