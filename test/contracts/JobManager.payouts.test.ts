/** JobManager: distributeModelEarnings, withdraw. */
import { expect } from "chai";
import { keccak256 } from "ethers";
import {
  C1_BPS,
  DEV_BPS,
  FEE,
  PRICE,
  PROTOCOL_FEE,
  WAD,
  creditsOf,
  endChallengeWindow,
  expectEscrowConserved,
  finalizeArgs,
  modelSpec,
  modelSplit,
  protocolFeeOf,
  submittedJob,
} from "./fixtures.js";
import { ethers, protocol } from "./job-manager-helpers.js";

describe("JobManager: payouts", function () {
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
        .to.be.revertedWithCustomError(p.jm, "PullPaymentsNothingToWithdraw")
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
        .to.be.revertedWithCustomError(p.jm, "PullPaymentsNothingToWithdraw")
        .withArgs(p.worker.address);
      await expectEscrowConserved(p);
    });
  });
});
