import { expect } from "chai";
import { network } from "hardhat";

import { MIN_STAKE, UNBONDING_DELAY, WAD, WORKER_STAKE, expectStakingConserved, protocolFixtures } from "./fixtures.js";
import type { Protocol } from "./fixtures.js";

const conn = await network.create();
const { ethers, networkHelpers } = conn;
const { deployProtocol } = protocolFixtures(conn);
const { time } = networkHelpers;

/** The protocol with `operator` (an EOA) allowed as staking operator, and `other` staking. */
async function withOperator(): Promise<Protocol> {
  const p = await networkHelpers.loadFixture(deployProtocol);
  await p.staking.setOperator(p.operator.address, true);
  await p.token.connect(p.other).approve(await p.staking.getAddress(), ethers.MaxUint256);
  return p;
}

describe("Staking", function () {
  describe("deployment and governance", function () {
    it("stores token, owner, minimum stake and unbonding delay", async function () {
      const p = await networkHelpers.loadFixture(deployProtocol);
      expect(await p.staking.token()).to.equal(await p.token.getAddress());
      expect(await p.staking.owner()).to.equal(p.deployer.address);
      expect(await p.staking.minStake()).to.equal(MIN_STAKE);
      expect(await p.staking.unbondingDelay()).to.equal(UNBONDING_DELAY);
      expect(await p.staking.isOperator(await p.jm.getAddress())).to.equal(true);
      expect(await p.staking.MAX_UNBONDING_DELAY()).to.equal(90n * 86400n);
      expect(await p.staking.MAX_MIN_STAKE()).to.equal(1_000_000n * WAD);
      // The test fixture leaves the set open (Ignition's Protocol module seals it).
      expect(await p.staking.operatorsSealed()).to.equal(false);
    });

    it("validates constructor parameters", async function () {
      const p = await networkHelpers.loadFixture(deployProtocol);
      const factory = await ethers.getContractFactory("Staking");
      await expect(factory.deploy(p.token, p.deployer.address, 1_000_000n * WAD + 1n, 0n))
        .to.be.revertedWithCustomError(factory, "StakingInvalidParameter")
        .withArgs("minStake");
      await expect(factory.deploy(p.token, p.deployer.address, 0n, 90n * 86400n + 1n))
        .to.be.revertedWithCustomError(factory, "StakingInvalidParameter")
        .withArgs("unbondingDelay");
    });

    it("lets only the owner set operators, minimum stake and unbonding delay", async function () {
      const p = await networkHelpers.loadFixture(deployProtocol);
      const s = p.staking.connect(p.other);
      for (const tx of [s.setOperator(p.other.address, true), s.setMinStake(1n), s.setUnbondingDelay(1n)]) {
        await expect(tx).to.be.revertedWithCustomError(p.staking, "OwnableUnauthorizedAccount").withArgs(p.other.address);
      }
      await expect(p.staking.setOperator(p.operator.address, true))
        .to.emit(p.staking, "OperatorSet")
        .withArgs(p.operator.address, true);
      expect(await p.staking.isOperator(p.operator.address)).to.equal(true);
      await expect(p.staking.setOperator(p.operator.address, false))
        .to.emit(p.staking, "OperatorSet")
        .withArgs(p.operator.address, false);
      expect(await p.staking.isOperator(p.operator.address)).to.equal(false);

      // Capped at 1,000,000 VTN: a higher minimum could shut every challenger out.
      await expect(p.staking.setMinStake(1_000_000n * WAD)).to.emit(p.staking, "MinStakeSet").withArgs(1_000_000n * WAD);
      await expect(p.staking.setMinStake(1_000_000n * WAD + 1n)).to.be.revertedWithCustomError(p.staking, "StakingInvalidParameter").withArgs("minStake");
      await expect(p.staking.setMinStake(2n ** 96n - 1n)).to.be.revertedWithCustomError(p.staking, "StakingInvalidParameter").withArgs("minStake");
      expect(await p.staking.minStake()).to.equal(1_000_000n * WAD);
      await expect(p.staking.setUnbondingDelay(90n * 86400n))
        .to.emit(p.staking, "UnbondingDelaySet")
        .withArgs(90n * 86400n);
      await expect(p.staking.setUnbondingDelay(90n * 86400n + 1n))
        .to.be.revertedWithCustomError(p.staking, "StakingInvalidParameter")
        .withArgs("unbondingDelay");
    });

    it("seals the operator set once, by the owner: no operator can be added or revoked after it", async function () {
      const p = await withOperator();
      await expect(p.staking.connect(p.other).sealOperators())
        .to.be.revertedWithCustomError(p.staking, "OwnableUnauthorizedAccount")
        .withArgs(p.other.address);
      await expect(p.staking.sealOperators()).to.emit(p.staking, "OperatorsSealed");
      expect(await p.staking.operatorsSealed()).to.equal(true);
      await expect(p.staking.sealOperators()).to.be.revertedWithCustomError(p.staking, "StakingOperatorsSealed");
      for (const [who, allowed] of [[p.other.address, true], [p.operator.address, false], [await p.jm.getAddress(), false]] as const) {
        await expect(p.staking.setOperator(who, allowed)).to.be.revertedWithCustomError(p.staking, "StakingOperatorsSealed");
      }
      expect(await p.staking.isOperator(p.other.address)).to.equal(false);
      expect(await p.staking.isOperator(p.operator.address)).to.equal(true);
      expect(await p.staking.isOperator(await p.jm.getAddress())).to.equal(true);
      // A new owner (the timelock) inherits the seal: it has no key to anyone's stake either.
      await p.staking.transferOwnership(p.other.address);
      await expect(p.staking.connect(p.other).setOperator(p.other.address, true)).to.be.revertedWithCustomError(p.staking, "StakingOperatorsSealed");
      // The governed parameters stay governable.
      await expect(p.staking.connect(p.other).setMinStake(1n)).to.emit(p.staking, "MinStakeSet").withArgs(1n);
      await expect(p.staking.connect(p.other).setUnbondingDelay(1n)).to.emit(p.staking, "UnbondingDelaySet").withArgs(1n);
    });
  });

  describe("stake", function () {
    it("adds to the caller's stake and takes the tokens", async function () {
      const p = await withOperator();
      const tx = p.staking.connect(p.other).stake(5n * WAD);
      await expect(tx).to.emit(p.staking, "Staked").withArgs(p.other.address, 5n * WAD, 5n * WAD);
      await expect(tx).to.changeTokenBalances(ethers, p.token, [p.other, p.staking], [-5n * WAD, 5n * WAD]);
      await expect(p.staking.connect(p.other).stake(WAD))
        .to.emit(p.staking, "Staked")
        .withArgs(p.other.address, WAD, 6n * WAD);
      expect(await p.staking.stakeOf(p.other.address)).to.deep.equal([6n * WAD, 0n, 0n, 0n]);
      expect(await p.staking.freeStake(p.other.address)).to.equal(6n * WAD);
      await expectStakingConserved(p);
    });

    it("refuses zero, amounts above 96 bits, and unapproved tokens", async function () {
      const p = await withOperator();
      await expect(p.staking.connect(p.other).stake(0n)).to.be.revertedWithCustomError(p.staking, "StakingZeroAmount");
      await expect(p.staking.connect(p.other).stake(2n ** 96n))
        .to.be.revertedWithCustomError(p.staking, "SafeCastOverflowedUintDowncast")
        .withArgs(96n, 2n ** 96n);
      await expect(p.staking.connect(p.requester).stake(WAD))
        .to.be.revertedWithCustomError(p.token, "ERC20InsufficientAllowance")
        .withArgs(await p.staking.getAddress(), 0n, WAD);
    });
  });

  describe("unstake and withdraw", function () {
    it("moves free stake into unbonding and pays it out after the delay", async function () {
      const p = await withOperator();
      const t = BigInt(await time.latest()) + 10n;
      await time.setNextBlockTimestamp(t);
      await expect(p.staking.connect(p.worker).requestUnstake(4n * WAD))
        .to.emit(p.staking, "UnstakeRequested")
        .withArgs(p.worker.address, 4n * WAD, 4n * WAD, t + UNBONDING_DELAY);
      expect(await p.staking.stakeOf(p.worker.address)).to.deep.equal([
        WORKER_STAKE - 4n * WAD,
        0n,
        4n * WAD,
        t + UNBONDING_DELAY,
      ]);
      await expectStakingConserved(p);

      await time.setNextBlockTimestamp(t + UNBONDING_DELAY - 1n);
      await expect(p.staking.connect(p.worker).withdraw())
        .to.be.revertedWithCustomError(p.staking, "StakingStillUnbonding")
        .withArgs(p.worker.address, t + UNBONDING_DELAY);
      await time.setNextBlockTimestamp(t + UNBONDING_DELAY);
      const tx = p.staking.connect(p.worker).withdraw();
      await expect(tx).to.emit(p.staking, "Withdrawn").withArgs(p.worker.address, 4n * WAD);
      await expect(tx).to.changeTokenBalances(ethers, p.token, [p.worker, p.staking], [4n * WAD, -4n * WAD]);
      expect(await p.staking.stakeOf(p.worker.address)).to.deep.equal([WORKER_STAKE - 4n * WAD, 0n, 0n, 0n]);
      await expect(p.staking.connect(p.worker).withdraw())
        .to.be.revertedWithCustomError(p.staking, "StakingNothingToWithdraw")
        .withArgs(p.worker.address);
      await expectStakingConserved(p);
    });

    it("adds a second request to the first and restarts the delay", async function () {
      const p = await withOperator();
      await p.staking.connect(p.worker).requestUnstake(WAD);
      const t = BigInt(await time.latest()) + 1000n;
      await time.setNextBlockTimestamp(t);
      await expect(p.staking.connect(p.worker).requestUnstake(2n * WAD))
        .to.emit(p.staking, "UnstakeRequested")
        .withArgs(p.worker.address, 2n * WAD, 3n * WAD, t + UNBONDING_DELAY);
      await time.setNextBlockTimestamp(t + UNBONDING_DELAY - 1n);
      await expect(p.staking.connect(p.worker).withdraw())
        .to.be.revertedWithCustomError(p.staking, "StakingStillUnbonding")
        .withArgs(p.worker.address, t + UNBONDING_DELAY);
    });

    it("keeps the end time of requests made before a delay change", async function () {
      const p = await withOperator();
      await p.staking.connect(p.worker).requestUnstake(WAD);
      const end = (await p.staking.stakeOf(p.worker.address)).unbondingEnd;
      await p.staking.setUnbondingDelay(90n * 86400n);
      expect((await p.staking.stakeOf(p.worker.address)).unbondingEnd).to.equal(end);
      await time.increaseTo(end);
      await expect(p.staking.connect(p.worker).withdraw()).to.emit(p.staking, "Withdrawn");
    });

    it("refuses zero, and more than the free stake: locked stake cannot leave", async function () {
      const p = await withOperator();
      await expect(p.staking.connect(p.worker).requestUnstake(0n)).to.be.revertedWithCustomError(
        p.staking,
        "StakingZeroAmount",
      );
      await p.staking.connect(p.operator).lock(p.worker.address, 3n * WAD);
      const free = WORKER_STAKE - 3n * WAD;
      await expect(p.staking.connect(p.worker).requestUnstake(free + 1n))
        .to.be.revertedWithCustomError(p.staking, "StakingInsufficientFreeStake")
        .withArgs(p.worker.address, free, free + 1n);
      await p.staking.connect(p.worker).requestUnstake(free);
      expect(await p.staking.stakeOf(p.worker.address)).to.deep.equal([
        3n * WAD,
        3n * WAD,
        free,
        (await p.staking.stakeOf(p.worker.address)).unbondingEnd,
      ]);
      // Unbonding tokens back nothing: they cannot be locked or slashed.
      await expect(p.staking.connect(p.operator).lock(p.worker.address, 1n))
        .to.be.revertedWithCustomError(p.staking, "StakingBelowMinimum")
        .withArgs(p.worker.address, 3n * WAD, MIN_STAKE);
      await expect(p.staking.connect(p.operator).slash(p.worker.address, 3n * WAD + 1n, p.other.address))
        .to.be.revertedWithCustomError(p.staking, "StakingInsufficientLocked")
        .withArgs(p.worker.address, 3n * WAD, 3n * WAD + 1n);
      await expectStakingConserved(p);
    });
  });

  describe("operators", function () {
    it("lets only operators lock, unlock and slash", async function () {
      const p = await withOperator();
      const s = p.staking.connect(p.other);
      for (const tx of [
        s.lock(p.worker.address, 1n),
        s.unlock(p.worker.address, 1n),
        s.slash(p.worker.address, 1n, p.other.address),
      ]) {
        await expect(tx).to.be.revertedWithCustomError(p.staking, "StakingNotOperator").withArgs(p.other.address);
      }
      // A revoked operator loses the right.
      await p.staking.setOperator(p.operator.address, false);
      await expect(p.staking.connect(p.operator).lock(p.worker.address, 1n))
        .to.be.revertedWithCustomError(p.staking, "StakingNotOperator")
        .withArgs(p.operator.address);
    });

    it("locks free stake of stakers above the minimum only", async function () {
      const p = await withOperator();
      const op = p.staking.connect(p.operator);
      await expect(op.lock(p.worker.address, 2n * WAD))
        .to.emit(p.staking, "StakeLocked")
        .withArgs(p.worker.address, p.operator.address, 2n * WAD, 2n * WAD);
      await expect(op.lock(p.worker.address, 3n * WAD))
        .to.emit(p.staking, "StakeLocked")
        .withArgs(p.worker.address, p.operator.address, 3n * WAD, 5n * WAD);
      expect(await p.staking.freeStake(p.worker.address)).to.equal(WORKER_STAKE - 5n * WAD);
      await expect(op.lock(p.worker.address, WORKER_STAKE - 5n * WAD + 1n))
        .to.be.revertedWithCustomError(p.staking, "StakingInsufficientFreeStake")
        .withArgs(p.worker.address, WORKER_STAKE - 5n * WAD, WORKER_STAKE - 5n * WAD + 1n);

      await p.staking.connect(p.other).stake(MIN_STAKE - 1n);
      await expect(op.lock(p.other.address, 1n))
        .to.be.revertedWithCustomError(p.staking, "StakingBelowMinimum")
        .withArgs(p.other.address, MIN_STAKE - 1n, MIN_STAKE);
      await p.staking.connect(p.other).stake(1n);
      await expect(op.lock(p.other.address, MIN_STAKE))
        .to.emit(p.staking, "StakeLocked")
        .withArgs(p.other.address, p.operator.address, MIN_STAKE, MIN_STAKE);
    });

    it("unlocks up to the locked stake", async function () {
      const p = await withOperator();
      const op = p.staking.connect(p.operator);
      await op.lock(p.worker.address, 5n * WAD);
      await expect(op.unlock(p.worker.address, 5n * WAD + 1n))
        .to.be.revertedWithCustomError(p.staking, "StakingInsufficientLocked")
        .withArgs(p.worker.address, 5n * WAD, 5n * WAD + 1n);
      await expect(op.unlock(p.worker.address, 2n * WAD))
        .to.emit(p.staking, "StakeUnlocked")
        .withArgs(p.worker.address, p.operator.address, 2n * WAD, 3n * WAD);
      expect(await p.staking.freeStake(p.worker.address)).to.equal(WORKER_STAKE - 3n * WAD);
    });

    it("slashes locked stake to a recipient", async function () {
      const p = await withOperator();
      const op = p.staking.connect(p.operator);
      await op.lock(p.worker.address, 5n * WAD);
      await expect(op.slash(p.worker.address, 5n * WAD + 1n, p.other.address))
        .to.be.revertedWithCustomError(p.staking, "StakingInsufficientLocked")
        .withArgs(p.worker.address, 5n * WAD, 5n * WAD + 1n);
      const tx = op.slash(p.worker.address, 2n * WAD, p.other.address);
      await expect(tx)
        .to.emit(p.staking, "StakeSlashed")
        .withArgs(p.worker.address, p.operator.address, 2n * WAD, p.other.address);
      await expect(tx).to.changeTokenBalances(ethers, p.token, [p.staking, p.other], [-2n * WAD, 2n * WAD]);
      expect(await p.staking.stakeOf(p.worker.address)).to.deep.equal([WORKER_STAKE - 2n * WAD, 3n * WAD, 0n, 0n]);
      await expectStakingConserved(p);
    });
  });

  describe("staked votes", function () {
    it("gives a staker the votes of its staked and unbonding tokens, from the block they enter to the block they leave", async function () {
      const p = await withOperator();
      const s = p.staking.connect(p.other);
      expect(await p.staking.CLOCK_MODE()).to.equal(await p.token.CLOCK_MODE());
      expect(await p.staking.delegates(p.other.address)).to.equal(p.other.address); // itself, with nothing to call
      const b0 = await ethers.provider.getBlockNumber();
      await expect(s.stake(30n * WAD))
        .to.emit(p.staking, "DelegateVotesChanged")
        .withArgs(p.other.address, 0n, 30n * WAD);
      const b1 = await ethers.provider.getBlockNumber();
      await s.requestUnstake(10n * WAD); // unbonding tokens still vote
      const b2 = await ethers.provider.getBlockNumber();
      await time.increase(UNBONDING_DELAY);
      await expect(s.withdraw())
        .to.emit(p.staking, "DelegateVotesChanged")
        .withArgs(p.other.address, 30n * WAD, 20n * WAD);
      const b3 = await ethers.provider.getBlockNumber();
      await networkHelpers.mine();
      const past = (b: number) => p.staking.getPastVotes(p.other.address, b);
      expect([await past(b0), await past(b1), await past(b2), await past(b3)]).to.deep.equal([0n, 30n * WAD, 30n * WAD, 20n * WAD]);
      expect(await p.staking.getPastTotalSupply(b1)).to.equal(2n * WORKER_STAKE + 30n * WAD);
      expect(await p.staking.getPastTotalSupply(b3)).to.equal(2n * WORKER_STAKE + 20n * WAD);
      expect(await p.staking.getVotes(p.worker.address)).to.equal(WORKER_STAKE);
      // The staking contract's own tokens count for nobody on the token: it delegates nothing.
      expect(await p.token.delegates(await p.staking.getAddress())).to.equal(ethers.ZeroAddress);
    });

    it("leaves votes unchanged on lock and unlock (the job path writes no checkpoint)", async function () {
      const p = await withOperator();
      const op = p.staking.connect(p.operator);
      await expect(op.lock(p.worker.address, 5n * WAD)).not.to.emit(p.staking, "DelegateVotesChanged");
      await expect(op.unlock(p.worker.address, 2n * WAD)).not.to.emit(p.staking, "DelegateVotesChanged");
      await expect(p.staking.connect(p.worker).requestUnstake(WAD)).not.to.emit(p.staking, "DelegateVotesChanged");
      expect(await p.staking.getVotes(p.worker.address)).to.equal(WORKER_STAKE);
    });

    it("takes the votes of slashed tokens away with them", async function () {
      const p = await withOperator();
      const op = p.staking.connect(p.operator);
      await op.lock(p.worker.address, 5n * WAD);
      const before = await ethers.provider.getBlockNumber();
      await expect(op.slash(p.worker.address, 2n * WAD, await p.jm.getAddress()))
        .to.emit(p.staking, "DelegateVotesChanged")
        .withArgs(p.worker.address, WORKER_STAKE, WORKER_STAKE - 2n * WAD);
      const after = await ethers.provider.getBlockNumber();
      await networkHelpers.mine();
      expect(await p.staking.getPastVotes(p.worker.address, before)).to.equal(WORKER_STAKE);
      expect(await p.staking.getPastVotes(p.worker.address, after)).to.equal(WORKER_STAKE - 2n * WAD);
      expect(await p.staking.getPastTotalSupply(after)).to.equal(2n * WORKER_STAKE - 2n * WAD);
      // The escrow now holds them and delegates nothing on the token: they count for nobody.
      expect(await p.token.delegates(await p.jm.getAddress())).to.equal(ethers.ZeroAddress);
      await expectStakingConserved(p);
    });

    it("lets a staker delegate its staked votes, and take them back", async function () {
      const p = await withOperator();
      const w = p.staking.connect(p.worker);
      await expect(w.delegate(p.other.address))
        .to.emit(p.staking, "DelegateChanged")
        .withArgs(p.worker.address, p.worker.address, p.other.address);
      expect(await p.staking.delegates(p.worker.address)).to.equal(p.other.address);
      expect(await p.staking.getVotes(p.worker.address)).to.equal(0n);
      expect(await p.staking.getVotes(p.other.address)).to.equal(WORKER_STAKE);
      // A top-up follows the delegation; the staking delegation is independent of the token's.
      await w.stake(WAD);
      expect(await p.staking.getVotes(p.other.address)).to.equal(WORKER_STAKE + WAD);
      expect(await p.token.getVotes(p.other.address)).to.equal(0n);
      // Delegating to the zero address gives the votes back to the staker itself.
      await expect(w.delegate(ethers.ZeroAddress))
        .to.emit(p.staking, "DelegateChanged")
        .withArgs(p.worker.address, p.other.address, p.worker.address);
      expect(await p.staking.getVotes(p.other.address)).to.equal(0n);
      expect(await p.staking.getVotes(p.worker.address)).to.equal(WORKER_STAKE + WAD);
    });
  });

  describe("served models", function () {
    it("records what a staker declares it serves", async function () {
      const p = await withOperator();
      expect(await p.staking.servesModel(p.worker.address, 1n)).to.equal(false);
      await expect(p.staking.connect(p.worker).setModelServed(1n, true))
        .to.emit(p.staking, "ModelServed")
        .withArgs(p.worker.address, 1n, true);
      expect(await p.staking.servesModel(p.worker.address, 1n)).to.equal(true);
      expect(await p.staking.servesModel(p.worker2.address, 1n)).to.equal(false);
      await expect(p.staking.connect(p.worker).setModelServed(1n, false))
        .to.emit(p.staking, "ModelServed")
        .withArgs(p.worker.address, 1n, false);
      expect(await p.staking.servesModel(p.worker.address, 1n)).to.equal(false);
    });
  });
});
