/**
 * The Ignition wiring of the dispute layer: LocalProtocol deploys the verifier, the game
 * implementation and the factory, makes the factory the escrow's dispute manager before the escrow
 * is handed to the timelock, and leaves the factory owned by the timelock.
 */
import { expect } from "chai";
import { network } from "hardhat";

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
  });
});
