/**
 * The Ignition wiring of the dispute layer: LocalProtocol deploys the verifier, the game
 * implementation and the factory, makes the factory the escrow's dispute manager before the escrow
 * is handed to the timelock (parameter version 2: every job is requested under the factory), leaves
 * the factory owned by the timelock, and seals Staking's operators (the escrow alone) before
 * Staking goes to the timelock.
 */
import { expect } from "chai";
import { ZeroAddress } from "ethers";
import { network } from "hardhat";

import { Staking__factory } from "../../types/ethers-contracts/index.js";
import LocalProtocol from "../../ignition/modules/LocalProtocol.js";
import { LOCAL } from "../../ignition/defaults.js";

const conn = await network.create();

describe("Ignition: Disputes module inside Protocol", function () {
  it("the factory is the escrow's dispute manager and is owned by the timelock", async function () {
    const c = await conn.ignition.deploy(LocalProtocol);
    const factory = c.disputeGameFactory;
    expect(await c.jobManager.disputeManager()).to.equal(await factory.getAddress());
    expect(await factory.owner()).to.equal(await c.timelock.getAddress());
    expect(await c.jobManager.owner()).to.equal(await c.timelock.getAddress());
    expect(await factory.gameImplementation()).to.equal(await c.disputeGame.getAddress());
    expect(await c.disputeGame.VERIFIER()).to.equal(await c.oneStepVerifier.getAddress());
    const p = await factory.params();
    // LocalProtocol takes the local dispute parameters (short moves, small bond).
    expect(p.moveTimeout).to.equal(BigInt(LOCAL.disputes.moveTimeout));
    expect(p.challengeBond).to.equal(LOCAL.disputes.challengeBond);
    expect(p.moveTimeoutPerGame).to.equal(BigInt(LOCAL.disputes.moveTimeoutPerGame));
    expect(p.maxMoveTimeout).to.equal(BigInt(LOCAL.disputes.maxMoveTimeout));
    expect(await factory.minMoveTimeout()).to.equal(BigInt(LOCAL.disputes.minMoveTimeout));
    // The escrow: constructor params (version 1, no manager), then the factory (version 2).
    expect(await c.jobManager.paramsVersion()).to.equal(2n);
    expect((await c.jobManager.paramsAt(1n))[1]).to.equal(ZeroAddress);
    expect((await c.jobManager.paramsAt(2n))[1]).to.equal(await factory.getAddress());
    expect(await c.jobManager.minChallengeWindow()).to.equal(BigInt(LOCAL.jobs.minChallengeWindow));
    expect((await c.jobManager.params()).challengeWindow).to.equal(BigInt(LOCAL.jobs.challengeWindow));
  });

  it("seals Staking's operators with the escrow alone, before the timelock owns Staking", async function () {
    const c = await conn.ignition.deploy(LocalProtocol);
    const staking = Staking__factory.connect(await c.staking.getAddress(), conn.ethers.provider);
    expect(await staking.operatorsSealed()).to.equal(true);
    expect(await staking.isOperator(await c.jobManager.getAddress())).to.equal(true);
    expect(await staking.isOperator(await c.disputeGameFactory.getAddress())).to.equal(false);
    expect(await staking.owner()).to.equal(await c.timelock.getAddress());
    const events = await staking.queryFilter(staking.filters.OperatorSet());
    expect(events.map((e) => [e.args.operator, e.args.allowed])).to.deep.equal([[await c.jobManager.getAddress(), true]]);
    const [sealed] = await staking.queryFilter(staking.filters.OperatorsSealed());
    const [owned] = await staking.queryFilter(staking.filters.OwnershipTransferred(undefined, await c.timelock.getAddress()));
    expect(sealed!.blockNumber).to.be.lessThan(owned!.blockNumber);
    // Even the timelock cannot add one (it would need a vote anyway; the seal refuses it).
    const timelock = await conn.ethers.getImpersonatedSigner(await c.timelock.getAddress());
    await conn.networkHelpers.setBalance(timelock.address, 10n ** 18n);
    await expect(staking.connect(timelock).setOperator(timelock.address, true)).to.be.revertedWithCustomError(staking, "StakingOperatorsSealed");
  });
});
