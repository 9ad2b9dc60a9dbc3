/** JobManager: deployment and governance, parameter versions, pause. */
import { expect } from "chai";
import { ZeroAddress } from "ethers";
import {
  CHALLENGE_WINDOW,
  FEE,
  MIN_CHALLENGE_WINDOW,
  PRICE,
  PROTOCOL_FEE,
  RESULT_TIMEOUT,
  claimJob,
  endChallengeWindow,
  expectEscrowConserved,
  expectStakingConserved,
  finalizeArgs,
  jobOf,
  minimumFeeFor,
  paramsTuple,
  requestJob,
  requestParams,
  submitJob,
  submittedJob,
  termsOf,
} from "./fixtures.js";
import type { Params, Protocol } from "./fixtures.js";
import { ethers, time, protocol, setParams } from "./job-manager-helpers.js";

describe("JobManager: governance", function () {
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
      ["callbackFeePerGas", () => ({ callbackFeePerGas: 10n ** 18n + 1n })],
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
        callbackFeePerGas: 10n ** 18n,
        // An escrow without audit manager takes no audit share (its bound is tested with audits).
        auditFeeBps: 0n,
      };
      await p.jm.setParams(next);
      expect(await p.jm.params()).to.deep.equal(paramsTuple(next));
      // The shortest window is the one fixed at deployment.
      await p.jm.setParams({ ...next, challengeWindow: MIN_CHALLENGE_WINDOW });
      expect((await p.jm.params()).challengeWindow).to.equal(MIN_CHALLENGE_WINDOW);
      expect(await p.jm.MAX_PROTOCOL_FEE_BPS()).to.equal(2_000n);
      expect(await p.jm.MAX_CHALLENGE_WINDOW()).to.equal(30n * 86400n);
      expect(await p.jm.MAX_CALLBACK_FEE_PER_GAS()).to.equal(10n ** 18n);
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
        // Bounded below its type's top (2^72 - 1): the bound is the widest it can be.
        callbackFeePerGas: 10n ** 18n,
        // An escrow without audit manager takes no audit share (its bound is tested with audits).
        auditFeeBps: 0n,
      };
      await p.jm.setParams(widest);
      expect(await p.jm.params()).to.deep.equal(paramsTuple({ ...widest, treasury: ethers.getAddress(widest.treasury) }));
      const narrow = { ...widest, minJobLock: 1n, stakeRatioBps: 0n, protocolFeeBps: 0n, timeoutSlashBps: 0n, paused: false, challengeWindow: MIN_CHALLENGE_WINDOW, resultTimeout: 1n, maxJobDuration: 1n, maxCallbackGasLimit: 0n, callbackFeePerGas: 0n };
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
        factory.deploy(p.token, p.registry, p.staking, p.deployer.address, MIN_CHALLENGE_WINDOW, { ...p.params, treasury: ZeroAddress }, ZeroAddress, ZeroAddress),
      )
        .to.be.revertedWithCustomError(factory, "JobManagerInvalidParameter")
        .withArgs("treasury");
      // The initial window obeys the deployment's own minimum.
      await expect(
        factory.deploy(p.token, p.registry, p.staking, p.deployer.address, CHALLENGE_WINDOW + 1n, p.params, ZeroAddress, ZeroAddress),
      )
        .to.be.revertedWithCustomError(factory, "JobManagerInvalidParameter")
        .withArgs("challengeWindow");
      // The minimum itself: at least 1 s, at most the longest window.
      for (const min of [0n, 30n * 86400n + 1n]) {
        await expect(factory.deploy(p.token, p.registry, p.staking, p.deployer.address, min, p.params, ZeroAddress, ZeroAddress))
          .to.be.revertedWithCustomError(factory, "JobManagerInvalidParameter")
          .withArgs("minChallengeWindow");
      }
    });

    it("appoints the dispute manager once: only the owner, never zero, never again", async function () {
      const p = await protocol();
      await expect(p.jm.connect(p.other).setDisputeManager(p.other.address))
        .to.be.revertedWithCustomError(p.jm, "OwnableUnauthorizedAccount")
        .withArgs(p.other.address);
      // The fixture appointed it (version 2); the owner can appoint no other, not even itself.
      for (const candidate of [p.other.address, p.deployer.address, ZeroAddress]) {
        await expect(p.jm.setDisputeManager(candidate))
          .to.be.revertedWithCustomError(p.jm, "JobManagerDisputeManagerSealed")
          .withArgs(p.disputeManager.address);
      }
      expect(await p.jm.paramsVersion()).to.equal(2n);
      expect(await p.jm.paramsAt(2n)).to.deep.equal([paramsTuple(p.params), p.disputeManager.address]);
      // A fresh escrow's one appointment: not zero; then a version with the parameters carried over.
      const fresh = await ethers.deployContract("JobManager", [p.token, p.registry, p.staking, p.deployer.address, MIN_CHALLENGE_WINDOW, p.params, ZeroAddress, ZeroAddress]);
      await expect(fresh.setDisputeManager(ZeroAddress)).to.be.revertedWithCustomError(fresh, "JobManagerInvalidParameter").withArgs("disputeManager");
      await expect(fresh.setDisputeManager(p.other.address)).to.emit(fresh, "DisputeManagerSet").withArgs(2n, p.other.address);
      expect(await fresh.paramsAt(2n)).to.deep.equal([paramsTuple(p.params), p.other.address]);
    });

    it("answers JobManagerUnknownJob for ids that were never requested", async function () {
      const p = await protocol();
      await expect(jobOf(p, 0n)).to.be.revertedWithCustomError(p.jm, "JobManagerUnknownJob").withArgs(0n);
      await requestJob(p);
      await expect(jobOf(p, 2n)).to.be.revertedWithCustomError(p.jm, "JobManagerUnknownJob").withArgs(2n);
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
      const [frozenWorker, batchSize] = await p.jm.connect(p.disputeManager).freezeForDispute.staticCall(finalized, ...(await finalizeArgs(p, finalized)));
      expect([frozenWorker, batchSize]).to.deep.equal([p.worker.address, 1n]);
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
});
