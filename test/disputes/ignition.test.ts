/**
 * The Ignition wiring of the dispute layer: LocalProtocol deploys the verifier, the game
 * implementation and the factory, makes the factory the escrow's dispute manager before the escrow
 * is handed to the timelock, and leaves the factory owned by the timelock.
 */
import { expect } from "chai";
import { network } from "hardhat";

import LocalProtocol from "../../ignition/modules/LocalProtocol.js";
import { DISPUTES_PRODUCTION } from "../../ignition/modules/Disputes.js";

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
    expect(p.moveTimeout).to.equal(BigInt(DISPUTES_PRODUCTION.moveTimeout));
    expect(p.challengeBond).to.equal(DISPUTES_PRODUCTION.challengeBond);
  });
});
