/** JobManager: disputes. */
import { expect } from "chai";
import { AbiCoder, ZeroAddress, concat, dataSlice, keccak256, toBeHex } from "ethers";
import {
  CHALLENGE_WINDOW,
  FEE,
  MIN_CHALLENGE_WINDOW,
  SAMPLE_OUTPUT,
  Status,
  WAD,
  WORKER_STAKE,
  creditsOf,
  expectEscrowConserved,
  expectStakingConserved,
  finalizeArgs,
  jobOf,
  requestJob,
  requestParams,
  submittedJob,
  tensorCommitment,
  termsOf,
} from "./fixtures.js";
import { ethers, networkHelpers, time, protocol, lockFor } from "./job-manager-helpers.js";

describe("JobManager: disputes", function () {
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

    it("judges every job by the one dispute manager appointed at deployment: the owner cannot appoint another, and no other account freezes or settles", async function () {
      const p = await protocol();
      const manager = p.jm.connect(p.disputeManager);
      const frozen = await submittedJob(p);
      const idle = await submittedJob(p);
      await manager.freezeForDispute(frozen, ...(await finalizeArgs(p, frozen)));

      // Governance (the owner) tries to appoint another manager: refused, nothing changes.
      const version = await p.jm.paramsVersion();
      await expect(p.jm.setDisputeManager(p.other.address))
        .to.be.revertedWithCustomError(p.jm, "JobManagerDisputeManagerSealed")
        .withArgs(p.disputeManager.address);
      expect([await p.jm.paramsVersion(), await p.jm.disputeManager()]).to.deep.equal([version, p.disputeManager.address]);
      const other = p.jm.connect(p.other);
      for (const jobId of [frozen, idle]) {
        await expect(other.freezeForDispute(jobId, ...(await finalizeArgs(p, jobId))))
          .to.be.revertedWithCustomError(p.jm, "JobManagerNotDisputeManager")
          .withArgs(p.other.address);
      }
      await expect(other.settleDispute(frozen, false, 1n))
        .to.be.revertedWithCustomError(p.jm, "JobManagerNotDisputeManager")
        .withArgs(p.other.address);
      // The manager opens more disputes and settles them; a parameter change carries it over.
      await expect(manager.freezeForDispute(idle, ...(await finalizeArgs(p, idle)))).to.emit(p.jm, "JobFrozen").withArgs(idle, 1n);
      await expect(manager.settleDispute(frozen, false, 1n)).to.emit(p.jm, "JobRejected");
      await expect(manager.settleDispute(idle, true, 0n)).to.emit(p.jm, "DisputeSettled").withArgs(idle, true, 0n);
      await p.jm.setParams(p.params);
      const next = await submittedJob(p);
      expect((await termsOf(p, next)).paramsVersion).to.equal(version + 1n);
      await expect(manager.freezeForDispute(next, ...(await finalizeArgs(p, next)))).to.emit(p.jm, "JobFrozen").withArgs(next, 1n);
      await expectEscrowConserved(p);
      await expectStakingConserved(p);
    });

    it("lets nobody dispute a job requested before any dispute manager was set", async function () {
      const p = await protocol();
      // A second escrow at version 1 (no manager yet), allowed to lock stakes.
      const bare = await ethers.deployContract("JobManager", [p.token, p.registry, p.staking, p.deployer.address, MIN_CHALLENGE_WINDOW, p.params, ZeroAddress, ZeroAddress]);
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
});
