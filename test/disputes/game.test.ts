import { expect } from "chai";
import { network } from "hardhat";

import { DisputePlayer } from "../../offchain/disputes/player.js";
import { GameStatus, Side } from "../../offchain/disputes/game.js";
import { referenceTrace } from "../../offchain/runtime/reference.js";
import { cheat, disputeFixtures, playDispute, registerModel, submitTrace } from "./fixtures.js";
import { allKindsModel, randomInput } from "./models.js";

const conn = await network.create();
const { deployDisputes } = disputeFixtures(conn);

describe("DisputeGame: mechanics on a small all-kinds model", function () {
  const model = allKindsModel();
  const honest = referenceTrace(model, randomInput(model, 1));

  it("honest result, cheating challenger: the challenger loses", async function () {
    const p = await conn.networkHelpers.loadFixture(deployDisputes);
    const modelId = await registerModel(p, model);
    const jobId = await submitTrace(p, modelId, honest);
    const liar = cheat(honest, 3, 5, 1);
    const r = await playDispute(p, jobId, new DisputePlayer(Side.Defender, p.worker, model, honest), new DisputePlayer(Side.Challenger, p.challenger, model, liar));
    console.log(r.txs, r.moves.map((m) => `${m.kind}:${m.gasUsed}`).join(" "));
    expect(r.status).to.equal(GameStatus.DefenderWins);
  });

  for (let k = 1; k <= 10; k++) {
    it(`cheat at layer ${k}: the worker loses`, async function () {
      const p = await conn.networkHelpers.loadFixture(deployDisputes);
      const modelId = await registerModel(p, model);
      const liar = cheat(honest, k, 3, 1);
      const jobId = await submitTrace(p, modelId, liar);
      const r = await playDispute(p, jobId, new DisputePlayer(Side.Defender, p.worker, model, liar), new DisputePlayer(Side.Challenger, p.challenger, model, honest));
      console.log(k, r.txs, r.moves.map((m) => `${m.kind}:${m.gasUsed}`).join(" "));
      expect(r.status).to.equal(GameStatus.ChallengerWins);
    });
  }
});
