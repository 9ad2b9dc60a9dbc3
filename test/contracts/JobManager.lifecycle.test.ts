/** JobManager: stake lock, claim, submitResult, finalize, expire. */
import { expect } from "chai";
import { anyValue } from "@nomicfoundation/hardhat-ethers-chai-matchers/withArgs";
import { ZeroAddress, ZeroHash, getBytes, keccak256 } from "ethers";
import {
  CHALLENGE_WINDOW,
  FEE,
  MAX_JOB_DURATION,
  MIN_FEE,
  MIN_STAKE,
  OUTPUT_ELEMENTS,
  PRICE,
  PROTOCOL_FEE,
  PROTOCOL_FEE_BPS,
  RESULT_TIMEOUT,
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
  protocolFeeOf,
  requestJob,
  requestParams,
  resultHash,
  submitJob,
  submittedJob,
  tensorCommitment,
  termsHash,
  termsOf,
} from "./fixtures.js";
import type { JobTerms } from "./fixtures.js";
import { ethers, time, protocol, setParams, lockFor, alteredTerms } from "./job-manager-helpers.js";

describe("JobManager: lifecycle", function () {
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
      // Open again: its timer is the block it was reopened in, which seeds its claim draws anew.
      expect(job.timer).to.equal(BigInt((await (await tx).wait())!.blockNumber));
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
});
