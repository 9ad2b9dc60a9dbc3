import { expect } from "chai";
import { network } from "hardhat";
import { ZeroHash, id, toBeHex } from "ethers";

import {
  QUORUM_PERCENT,
  SUPPLY,
  TIMELOCK_DELAY,
  VOTING_DELAY,
  VOTING_PERIOD,
  WAD,
  paramsTuple,
  protocolFixtures,
  requestJob,
  submitJob,
  claimJob,
  UNBONDING_DELAY,
  termsOf,
  WORKER_STAKE,
} from "./fixtures.js";
import type { Governance } from "./fixtures.js";

const conn = await network.create();
const { ethers, networkHelpers } = conn;
const { deployGovernance } = protocolFixtures(conn);

const State = { Pending: 0n, Active: 1n, Defeated: 3n, Succeeded: 4n, Queued: 5n, Executed: 7n } as const;

/** A proposal that lengthens the challenge window and raises the minimum stake. */
async function proposal(g: Governance) {
  const newParams = { ...g.params, challengeWindow: 2n * g.params.challengeWindow };
  const newMinStake = 2_000n * WAD;
  const targets = [await g.jm.getAddress(), await g.staking.getAddress()];
  const values = [0n, 0n];
  const calldatas = [
    g.jm.interface.encodeFunctionData("setParams", [newParams]),
    g.staking.interface.encodeFunctionData("setMinStake", [newMinStake]),
  ];
  const description = "VIP-1: double the challenge window, raise the minimum stake";
  const descriptionHash = id(description);
  const proposalId = await g.governor.hashProposal(targets, values, calldatas, descriptionHash);
  return { newParams, newMinStake, targets, values, calldatas, description, descriptionHash, proposalId };
}

describe("VeritensorGovernor + ProtocolTimelock", function () {
  it("is configured as deployed", async function () {
    const g = await networkHelpers.loadFixture(deployGovernance);
    expect(await g.governor.token()).to.equal(await g.token.getAddress());
    expect(await g.governor.stakedVotes()).to.equal(await g.staking.getAddress());
    expect(await g.governor.CLOCK_MODE()).to.equal(await g.staking.CLOCK_MODE());
    expect(await g.governor.timelock()).to.equal(await g.timelock.getAddress());
    expect(await g.governor.votingDelay()).to.equal(VOTING_DELAY);
    expect(await g.governor.votingPeriod()).to.equal(VOTING_PERIOD);
    expect(await g.governor.proposalThreshold()).to.equal(0n);
    const block = BigInt(await ethers.provider.getBlockNumber());
    await networkHelpers.mine();
    expect(await g.governor.quorum(block)).to.equal((SUPPLY * QUORUM_PERCENT) / 100n);
    expect(await g.timelock.getMinDelay()).to.equal(TIMELOCK_DELAY);
    expect(await g.jm.owner()).to.equal(await g.timelock.getAddress());
    expect(await g.staking.owner()).to.equal(await g.timelock.getAddress());
    expect(await g.timelock.hasRole(await g.timelock.DEFAULT_ADMIN_ROLE(), g.deployer.address)).to.equal(false);
  });

  it("changes JobManager and Staking parameters through propose, vote, queue and execute", async function () {
    const g = await networkHelpers.loadFixture(deployGovernance);
    const pr = await proposal(g);
    const timelockAddress = await g.timelock.getAddress();
    // A job requested before the vote: the change never reaches it (parameters are versioned per job).
    const earlier = await requestJob(g);

    await expect(g.governor.propose(pr.targets, pr.values, pr.calldatas, pr.description))
      .to.emit(g.governor, "ProposalCreated")
      .withArgs(
        pr.proposalId,
        g.deployer.address,
        pr.targets,
        pr.values,
        ["", ""], // no function signatures: calldatas carry the selectors
        pr.calldatas,
        (start: bigint) => start > 0n,
        (end: bigint) => end > 0n,
        pr.description,
      );
    expect(await g.governor.state(pr.proposalId)).to.equal(State.Pending);
    await networkHelpers.mine(VOTING_DELAY + 1n);
    expect(await g.governor.state(pr.proposalId)).to.equal(State.Active);

    const votes = await g.token.getVotes(g.deployer.address);
    await expect(g.governor.castVote(pr.proposalId, 1))
      .to.emit(g.governor, "VoteCast")
      .withArgs(g.deployer.address, pr.proposalId, 1n, votes, "");
    await networkHelpers.mine(VOTING_PERIOD);
    expect(await g.governor.state(pr.proposalId)).to.equal(State.Succeeded);

    await expect(g.governor.queue(pr.targets, pr.values, pr.calldatas, pr.descriptionHash)).to.emit(
      g.timelock,
      "CallScheduled",
    );
    expect(await g.governor.state(pr.proposalId)).to.equal(State.Queued);

    // Too early: the timelock's operation is not ready yet.
    const salt = toBeHex((BigInt(await g.governor.getAddress()) << 96n) ^ BigInt(pr.descriptionHash), 32);
    const operationId = await g.timelock.hashOperationBatch(pr.targets, pr.values, pr.calldatas, ZeroHash, salt);
    const readyBitmap = toBeHex(1n << 2n, 32); // OperationState.Ready
    await expect(g.governor.execute(pr.targets, pr.values, pr.calldatas, pr.descriptionHash))
      .to.be.revertedWithCustomError(g.timelock, "TimelockUnexpectedOperationState")
      .withArgs(operationId, readyBitmap);

    await networkHelpers.time.increase(TIMELOCK_DELAY);
    await expect(g.governor.connect(g.other).execute(pr.targets, pr.values, pr.calldatas, pr.descriptionHash))
      .to.emit(g.jm, "ParamsSet")
      .withArgs(3n, paramsTuple(pr.newParams))
      .and.to.emit(g.staking, "MinStakeSet")
      .withArgs(pr.newMinStake)
      .and.to.emit(g.timelock, "CallExecuted");
    expect(await g.governor.state(pr.proposalId)).to.equal(State.Executed);
    expect(await g.jm.params()).to.deep.equal(paramsTuple(pr.newParams));
    expect(await g.staking.minStake()).to.equal(pr.newMinStake);
    expect(await g.timelock.isOperationDone(operationId)).to.equal(true);

    // The new window applies to jobs requested from now on; the earlier job keeps the old one.
    const jobId = await requestJob(g);
    await claimJob(g, jobId);
    await submitJob(g, jobId);
    const job = await g.jm.getJob(jobId);
    const submittedAt = BigInt(await networkHelpers.time.latest());
    expect(job.timer).to.equal(submittedAt + pr.newParams.challengeWindow);
    await claimJob(g, earlier);
    await submitJob(g, earlier);
    expect((await g.jm.getJob(earlier)).timer).to.equal(BigInt(await networkHelpers.time.latest()) + g.params.challengeWindow);
  });

  it("does not execute a proposal that was voted down", async function () {
    const g = await networkHelpers.loadFixture(deployGovernance);
    const pr = await proposal(g);
    await g.governor.propose(pr.targets, pr.values, pr.calldatas, pr.description);
    await networkHelpers.mine(VOTING_DELAY + 1n);
    await g.governor.castVote(pr.proposalId, 0);
    await networkHelpers.mine(VOTING_PERIOD);
    expect(await g.governor.state(pr.proposalId)).to.equal(State.Defeated);
    await expect(g.governor.queue(pr.targets, pr.values, pr.calldatas, pr.descriptionHash))
      .to.be.revertedWithCustomError(g.governor, "GovernorUnexpectedProposalState")
      .withArgs(pr.proposalId, State.Defeated, toBeHex(1n << State.Succeeded, 32));
    expect(await g.jm.params()).to.deep.equal(paramsTuple(g.params));
  });

  it("lets no account but the timelock set parameters", async function () {
    const g = await networkHelpers.loadFixture(deployGovernance);
    const next = { ...g.params, challengeWindow: 60n };
    for (const s of [g.deployer, g.other]) {
      await expect(g.jm.connect(s).setParams(next))
        .to.be.revertedWithCustomError(g.jm, "OwnableUnauthorizedAccount")
        .withArgs(s.address);
      await expect(g.jm.connect(s).setDisputeManager(s.address))
        .to.be.revertedWithCustomError(g.jm, "OwnableUnauthorizedAccount")
        .withArgs(s.address);
      await expect(g.staking.connect(s).setMinStake(0n))
        .to.be.revertedWithCustomError(g.staking, "OwnableUnauthorizedAccount")
        .withArgs(s.address);
      await expect(g.staking.connect(s).setOperator(s.address, true))
        .to.be.revertedWithCustomError(g.staking, "OwnableUnauthorizedAccount")
        .withArgs(s.address);
    }
    // Nor can anyone but the governor schedule on the timelock.
    const proposer = await g.timelock.PROPOSER_ROLE();
    await expect(
      g.timelock.schedule(await g.jm.getAddress(), 0n, g.jm.interface.encodeFunctionData("setParams", [next]), ZeroHash, ZeroHash, TIMELOCK_DELAY),
    )
      .to.be.revertedWithCustomError(g.timelock, "AccessControlUnauthorizedAccount")
      .withArgs(g.deployer.address, proposer);
    expect(await g.jm.params()).to.deep.equal(paramsTuple(g.params));
  });

  describe("staked tokens keep their votes", function () {
    /** `other` delegates its wallet to itself; its 100,000 VTN are all in its wallet. */
    async function withVoter() {
      const g = await networkHelpers.loadFixture(deployGovernance);
      await g.token.connect(g.other).delegate(g.other.address);
      await g.token.connect(g.other).approve(await g.staking.getAddress(), ethers.MaxUint256);
      return g;
    }
    const block = async () => BigInt(await ethers.provider.getBlockNumber());

    it("counts wallet, staked and unbonding tokens at each snapshot, never twice", async function () {
      const g = await withVoter();
      const all = 100_000n * WAD;
      const s = g.staking.connect(g.other);
      const points: [bigint, bigint][] = [[await block(), all]];
      await s.stake(30n * WAD);
      points.push([await block(), all]); // 70,000 in the wallet + 30,000 staked
      await s.requestUnstake(10n * WAD);
      points.push([await block(), all]); // + 10,000 of them unbonding
      await networkHelpers.time.increase(UNBONDING_DELAY);
      await s.withdraw();
      points.push([await block(), all]); // 80,000 in the wallet + 20,000 staked
      await g.token.connect(g.other).transfer(g.requester.address, 50n * WAD);
      points.push([await block(), all - 50n * WAD]);
      await networkHelpers.mine();
      for (const [t, votes] of points) {
        const wallet = await g.token.getPastVotes(g.other.address, t);
        const staked = await g.staking.getPastVotes(g.other.address, t);
        expect(await g.governor.getVotes(g.other.address, t)).to.equal(votes);
        expect(wallet + staked).to.equal(votes);
      }
      expect(await g.staking.getPastVotes(g.other.address, points[1][0])).to.equal(30n * WAD);
      expect(await g.staking.getPastVotes(g.other.address, points[2][0])).to.equal(30n * WAD);
      expect(await g.staking.getPastVotes(g.other.address, points[3][0])).to.equal(20n * WAD);
      // Every account's votes together never exceed the supply: the staking contract's balance
      // counts once, through its stakers.
      const t = points[points.length - 1][0];
      let sum = 0n;
      for (const a of await ethers.getSigners()) sum += await g.governor.getVotes(a.address, t);
      expect(sum).to.be.lte(await g.token.getPastTotalSupply(t));
      expect(await g.token.getPastVotes(await g.staking.getAddress(), t)).to.equal(0n);
    });

    it("lets a worker vote with its staked tokens, as they were at the snapshot", async function () {
      const g = await networkHelpers.loadFixture(deployGovernance);
      // The worker has 90,000 VTN in its wallet (not delegated on the token) and WORKER_STAKE staked.
      expect(await g.token.getVotes(g.worker.address)).to.equal(0n);
      const pr = await proposal(g);
      await g.governor.propose(pr.targets, pr.values, pr.calldatas, pr.description);
      const snapshot = await g.governor.proposalSnapshot(pr.proposalId);
      // Staking more, and delegating the wallet, after the snapshot changes nothing.
      await networkHelpers.mine(VOTING_DELAY);
      expect(await block()).to.equal(snapshot);
      await g.staking.connect(g.worker).stake(5_000n * WAD);
      await g.token.connect(g.worker).delegate(g.worker.address);
      await expect(g.governor.connect(g.worker).castVote(pr.proposalId, 1))
        .to.emit(g.governor, "VoteCast")
        .withArgs(g.worker.address, pr.proposalId, 1n, WORKER_STAKE, "");
      expect(await g.governor.getVotes(g.worker.address, snapshot)).to.equal(WORKER_STAKE);
      const [against, forVotes] = await g.governor.proposalVotes(pr.proposalId);
      expect([against, forVotes]).to.deep.equal([0n, WORKER_STAKE]);
      // A proposal made now counts its wallet and its larger stake.
      await networkHelpers.mine();
      const now = (await block()) - 1n;
      expect(await g.governor.getVotes(g.worker.address, now)).to.equal(100_000n * WAD);
    });

    it("counts delegated staked votes for the delegate, not the staker", async function () {
      const g = await networkHelpers.loadFixture(deployGovernance);
      await g.staking.connect(g.worker).delegate(g.other.address);
      await g.staking.connect(g.worker2).delegate(g.other.address);
      const pr = await proposal(g);
      await g.governor.propose(pr.targets, pr.values, pr.calldatas, pr.description);
      await networkHelpers.mine(VOTING_DELAY + 1n);
      await expect(g.governor.connect(g.other).castVote(pr.proposalId, 0))
        .to.emit(g.governor, "VoteCast")
        .withArgs(g.other.address, pr.proposalId, 0n, 2n * WORKER_STAKE, "");
      await expect(g.governor.connect(g.worker).castVote(pr.proposalId, 1))
        .to.emit(g.governor, "VoteCast")
        .withArgs(g.worker.address, pr.proposalId, 1n, 0n, "");
    });

    it("takes a slashed worker's votes at the next snapshot", async function () {
      const g = await networkHelpers.loadFixture(deployGovernance);
      const jobId = await requestJob(g);
      await claimJob(g, jobId);
      const before = await block();
      // The worker misses the result time: anyone expires the job and the escrow slashes its lock.
      await networkHelpers.time.increase(g.params.resultTimeout + 1n);
      await g.jm.connect(g.other).expire(jobId, await termsOf(g, jobId));
      const after = await block();
      await networkHelpers.mine();
      const slashed = WORKER_STAKE - (await g.staking.stakeOf(g.worker.address)).staked;
      expect(slashed).to.be.gt(0n);
      expect(await g.governor.getVotes(g.worker.address, before)).to.equal(WORKER_STAKE);
      expect(await g.governor.getVotes(g.worker.address, after)).to.equal(WORKER_STAKE - slashed);
      // The slashed tokens went to the escrow, which votes with nothing.
      expect(await g.governor.getVotes(await g.jm.getAddress(), after)).to.equal(0n);
    });

    it("reaches quorum, a share of the whole supply staked tokens included, with staked votes alone", async function () {
      const g = await networkHelpers.loadFixture(deployGovernance);
      const quorum = (SUPPLY * QUORUM_PERCENT) / 100n;
      // `other` receives exactly the quorum and stakes it all; its wallet is never delegated.
      await g.token.transfer(g.other.address, quorum - 100_000n * WAD);
      await g.token.connect(g.other).approve(await g.staking.getAddress(), ethers.MaxUint256);
      await g.staking.connect(g.other).stake(quorum);
      const pr = await proposal(g);
      await g.governor.propose(pr.targets, pr.values, pr.calldatas, pr.description);
      const snapshot = await g.governor.proposalSnapshot(pr.proposalId);
      await networkHelpers.mine(VOTING_DELAY + 1n);
      // Staking moved no supply: the quorum is the same share of the same total.
      expect(await g.governor.quorum(snapshot)).to.equal(quorum);
      expect(await g.token.getPastTotalSupply(snapshot)).to.equal(SUPPLY);
      await expect(g.governor.connect(g.other).castVote(pr.proposalId, 1))
        .to.emit(g.governor, "VoteCast")
        .withArgs(g.other.address, pr.proposalId, 1n, quorum, "");
      await networkHelpers.mine(VOTING_PERIOD);
      expect(await g.governor.state(pr.proposalId)).to.equal(State.Succeeded);
    });
  });
});
