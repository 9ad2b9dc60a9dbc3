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
});
