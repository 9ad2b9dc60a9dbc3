/**
 * Dispute games end to end: the factory opens them on real jobs, the library plays both sides
 * (offchain/disputes/player.ts), and the tests check who wins, every token moved (to the wei), the
 * clocks, parallel games, the opening rules and the number of transactions per side.
 *
 * A result binds no trace (issue 11, lazy trace): the defender's first move posts its trace root,
 * proven to end in the output it submitted; the challenger opens with a root proven to end in
 * another output. So every liar here ends in a wrong output (`lie`, a consistent forged trace), and
 * every lying challenger too (its output must differ from the one it disputes).
 */
import { expect } from "chai";
import { anyValue } from "@nomicfoundation/hardhat-ethers-chai-matchers/withArgs";
import { ZeroAddress, ZeroHash } from "ethers";
import { network } from "hardhat";

import type { Hex } from "../../offchain/commitments/merkle.js";
import { MerkleTree, fromHex, rootFromProof, toHex } from "../../offchain/commitments/merkle.js";
import { canonicalBytes, chunkLeaves, commitTensor } from "../../offchain/commitments/tensor.js";
import { commitTrace } from "../../offchain/commitments/trace.js";
import { commitDispute, disputeCommitment, openDispute, openParams, randomSalt, readGame, sendMove, submittedResult } from "../../offchain/clients/disputes.js";
import { GameStatus, Level, LEVEL_NAMES, Reason, Side } from "../../offchain/clients/game-types.js";
import type { OpenArgs } from "../../offchain/clients/disputes.js";
import type { PlayResult } from "../../offchain/disputes/player.js";
import { DisputePlayer, playToEnd } from "../../offchain/disputes/player.js";
import { gameReductionLength } from "../../offchain/disputes/proofs.js";
import type { CanonicalModel } from "../../offchain/model/canonical.js";
import { CanonicalModelBuilder } from "../../offchain/model/build.js";
import { parseCanonicalModel } from "../../offchain/model/canonical.js";
import { LayerKind, MatMulParam, layerKindName } from "../../offchain/model/layers.js";
import { referenceTrace } from "../../offchain/runtime/reference.js";
import { CanonicalRunner } from "../../offchain/runtime/runner.js";
import { Rng } from "../runtime/helpers/random.js";
import { SUPPLY, Status, WAD } from "../contracts/fixtures.js";
import type { DisputeProtocol } from "./fixtures.js";
import {
  CHALLENGE_BOND,
  CHALLENGER_REWARD_BPS,
  DEFENDER_REWARD_BPS,
  JOB_FEE,
  MIN_MOVE_TIMEOUT,
  MOVE_TIMEOUT,
  MOVE_TIMEOUT_PER_GAME,
  cheat,
  disputeFixtures,
  expectDisputesConserved,
  finalizeArgs,
  lie,
  lockOf,
  playDispute,
  randomLie,
  randomLiar,
  registerModel,
  submitTrace,
} from "./fixtures.js";
import { allKindsModel, attentionBlock as sharedAttentionBlock, mnistCnn, mnistInput, randomInput } from "./models.js";

const conn = await network.create();
const { deployDisputes } = disputeFixtures(conn);
const { loadFixture, time } = conn.networkHelpers;

const ceilLog2 = (n: number) => (n <= 1 ? 0 : Math.ceil(Math.log2(n)));

/** Supply and factory conservation (test/disputes/fixtures.ts). */
const expectConserved = (p: DisputeProtocol) => expectDisputesConserved(p);

/** The bound of docs/DISPUTES.md on each side's transactions. */
function txBound(model: CanonicalModel, layer: number, numel: number): number {
  const l = model.layers[layer - 1]!;
  const K = l.kind === 1 ? l.params[0]! : l.kind === 2 ? (l.params[0]! / l.params[12]!) * l.params[4]! * l.params[5]!
    : l.kind === LayerKind.MATMUL ? l.params[MatMulParam.K]! : 1;
  return ceilLog2(model.layers.length + 1) + ceilLog2(numel) + ceilLog2(K) + 5;
}

async function setup(model: CanonicalModel, workerTrace: readonly Int32Array[]) {
  const p = await loadFixture(deployDisputes);
  const modelId = await registerModel(p, model);
  const jobId = await submitTrace(p, modelId, workerTrace);
  return { p, modelId, jobId };
}

describe("DisputeGame", function () {
  const model = allKindsModel();
  const honest = referenceTrace(model, randomInput(model, 1));

  describe("payouts, to the wei", function () {
    it("honest result challenged: the challenger loses its bond, half held for the worker until the window closes, half burned", async function () {
      const { p, jobId } = await setup(model, honest);
      const before = await p.token.balanceOf(p.challenger.address);
      const r = await playDispute(p, jobId, new DisputePlayer(Side.Defender, p.worker, model, honest), new DisputePlayer(Side.Challenger, p.challenger, model, lie(model, honest, 3, 5, 1)));
      expect(r.status).to.equal(GameStatus.DefenderWins);
      const reward = (CHALLENGE_BOND * DEFENDER_REWARD_BPS) / 10_000n;
      expect(await p.token.balanceOf(p.challenger.address)).to.equal(before - CHALLENGE_BOND);
      expect(await p.factory.balanceOf(p.challenger.address)).to.equal(0n);
      // The worker's share is held: another game could still open and prove the result wrong.
      expect(await p.factory.balanceOf(p.worker.address)).to.equal(0n);
      const held = await p.factory.jobDisputes(jobId);
      expect([held.gamesOpened, held.gamesOpen, held.defenderRewards, held.slashed, held.closed, held.worker]).to.deep.equal([1n, 0n, reward, 0n, false, p.worker.address]);
      expect(await p.token.totalSupply()).to.equal(SUPPLY - (CHALLENGE_BOND - reward));
      const job = await p.jm.getJob(jobId);
      expect(job.status).to.equal(Status.Submitted);
      expect(job.openDisputes).to.equal(0n);
      await expect(p.factory.closeDisputes(jobId)).to.be.revertedWithCustomError(p.factory, "DisputeGameFactoryDisputesNotOver").withArgs(jobId, 0n);
      await expectConserved(p);
      // Once the window is over anyone closes the disputes: the worker is credited its share.
      await time.increaseTo(job.timer);
      await expect(p.factory.connect(p.requester).closeDisputes(jobId))
        .to.emit(p.factory, "DisputesClosed")
        .withArgs(jobId, ZeroAddress, 0n, reward, 0n);
      await expect(p.factory.closeDisputes(jobId)).to.be.revertedWithCustomError(p.factory, "DisputeGameFactoryNothingToClose").withArgs(jobId);
      expect(await p.factory.balanceOf(p.worker.address)).to.equal(reward);
      // The job finalizes normally; the worker withdraws its reward.
      await p.jm.finalize(jobId, ...(await finalizeArgs(p.jm, jobId)));
      const w = await p.token.balanceOf(p.worker.address);
      await p.factory.connect(p.worker).withdraw();
      expect(await p.token.balanceOf(p.worker.address)).to.equal(w + reward);
      await expectConserved(p);
    });

    it("wrong result challenged: worker slashed, requester refunded, challenger rewarded, rest burned", async function () {
      const liar = lie(model, honest, 1, 17, 1);
      const { p, jobId } = await setup(model, liar);
      const locked = (await lockOf(p.jm, jobId));
      const workerStake = (await p.staking.stakeOf(p.worker.address)).staked;
      const r = await playDispute(p, jobId, new DisputePlayer(Side.Defender, p.worker, model, liar), new DisputePlayer(Side.Challenger, p.challenger, model, honest));
      expect(r.status).to.equal(GameStatus.ChallengerWins);
      const reward = (locked * CHALLENGER_REWARD_BPS) / 10_000n;
      expect((await p.jm.getJob(jobId)).status).to.equal(Status.Rejected);
      expect(await p.jm.balanceOf(p.requester.address)).to.equal(JOB_FEE);
      expect((await p.staking.stakeOf(p.worker.address)).staked).to.equal(workerStake - locked);
      expect((await p.staking.stakeOf(p.worker.address)).locked).to.equal(0n);
      // The rejected job can take no more games: its disputes closed in the deciding move.
      const [closed] = await p.factory.queryFilter(p.factory.filters.DisputesClosed(jobId));
      expect([...closed!.args]).to.deep.equal([jobId, await r.game.getAddress(), reward, 0n, locked - reward]);
      expect((await p.factory.jobDisputes(jobId)).closed).to.equal(true);
      await expect(p.factory.closeDisputes(jobId)).to.be.revertedWithCustomError(p.factory, "DisputeGameFactoryNothingToClose").withArgs(jobId);
      expect(await p.factory.balanceOf(p.challenger.address)).to.equal(CHALLENGE_BOND + reward);
      expect(await p.token.totalSupply()).to.equal(SUPPLY - (locked - reward));
      const before = await p.token.balanceOf(p.challenger.address);
      await p.factory.connect(p.challenger).withdraw();
      expect(await p.token.balanceOf(p.challenger.address)).to.equal(before + CHALLENGE_BOND + reward);
      await expect(p.factory.connect(p.challenger).withdraw()).to.be.revertedWithCustomError(p.factory, "PullPaymentsNothingToWithdraw");
      await expectConserved(p);
    });

    it("a job never disputed has nothing to close", async function () {
      const { p, jobId } = await setup(model, honest);
      await expect(p.factory.closeDisputes(jobId)).to.be.revertedWithCustomError(p.factory, "DisputeGameFactoryNothingToClose").withArgs(jobId);
      await time.increaseTo((await p.jm.getJob(jobId)).timer);
      await expect(p.factory.closeDisputes(jobId)).to.be.revertedWithCustomError(p.factory, "DisputeGameFactoryNothingToClose").withArgs(jobId);
    });
  });

  describe("a cheat at each layer of a model with every kind", function () {
    for (let k = 1; k <= model.layers.length; k++) {
      const l = model.layers[k - 1]!;
      it(`layer ${k} (${layerKindName(l.kind)}): the worker loses within the transaction bound`, async function () {
        // A consistent liar: the lie at layer k, every later layer recomputed from it (another
        // element of layer k if every lie at this one is absorbed before the output).
        const n = honest[k]!.length;
        let next = (k * 37) % n;
        const { trace: liar } = randomLie(model, honest, k, next, k % 2 === 0 ? -1 : 1, () => (next = (next + 1) % n));
        const { p, jobId } = await setup(model, liar);
        const r = await playDispute(p, jobId, new DisputePlayer(Side.Defender, p.worker, model, liar), new DisputePlayer(Side.Challenger, p.challenger, model, honest));
        expect(r.status).to.equal(GameStatus.ChallengerWins);
        const bound = txBound(model, k, honest[k]!.length);
        expect(r.txs.defender).to.be.at.most(bound);
        expect(r.txs.challenger + 2).to.be.at.most(bound); // + commitDispute and openDispute
        await expectConserved(p);
      });
    }
  });

  describe("random cheats", function () {
    it("60 random cheats (layer, element, error size) are each caught", async function () {
      this.timeout(120_000);
      const rng = new Rng(2024);
      let consistentLies = 0;
      for (let i = 0; i < 60; i++) {
        const input = randomInput(model, 100 + i);
        const truth = referenceTrace(model, input);
        const k = rng.int(1, model.layers.length);
        const e = rng.int(0, truth[k]!.length - 1);
        const size = rng.pick([1, -1, 1, -1, 2, -3, 17, -250, 4096, -100_000]);
        // Consistent when the lie can reach the output (recomputed later layers); otherwise, e.g. a
        // lie a LUT after it cannot take, the exact lie with the later layers honest and the output off.
        const { trace: liar, consistent } = randomLiar(model, truth, k, e, size);
        if (consistent) consistentLies++;
        const { p, jobId } = await setup(model, liar);
        const r = await playDispute(p, jobId, new DisputePlayer(Side.Defender, p.worker, model, liar), new DisputePlayer(Side.Challenger, p.challenger, model, truth));
        expect(r.status, `cheat ${i}: layer ${k} element ${e} by ${size}`).to.equal(GameStatus.ChallengerWins);
        expect((await readGame(r.game)).layer, `cheat ${i}: the game lands on the lie`).to.equal(k);
        await expectConserved(p);
      }
      console.log(`      ${consistentLies} of 60 consistent (later layers recomputed), the others inconsistent`);
    });
  });

  describe("clocks", function () {
    // A CONV cheat: the game goes through every level (root, trace, tensor, chunk, accumulator, partial sums, step).
    const liar = lie(model, honest, 1, 17, 1);
    const levels = [Level.Root, Level.Trace, Level.Tensor, Level.Chunk, Level.Accumulator, Level.PartialSum, Level.Step];

    for (const level of levels) {
      for (const side of [Side.Defender, Side.Challenger]) {
        if (level === Level.Step && side === Side.Defender) continue; // the step is the challenger's
        if (level === Level.Root && side === Side.Challenger) continue; // the root is the defender's
        const who = side === Side.Defender ? "defender" : "challenger";
        it(`the ${who} stalls at the ${LEVEL_NAMES[level]} level and loses by timeout`, async function () {
          // The stalling side is the one that would otherwise win: the timeout decides alone.
          const workerTrace = side === Side.Defender ? honest : liar;
          const { p, jobId } = await setup(model, workerTrace);
          const defender = new DisputePlayer(Side.Defender, p.worker, model, workerTrace, side === Side.Defender ? { stallAt: level } : {});
          const challengerTrace = side === Side.Defender ? liar : honest;
          const challenger = new DisputePlayer(Side.Challenger, p.challenger, model, challengerTrace, side === Side.Challenger ? { stallAt: level } : {});
          const r = await playDispute(p, jobId, defender, challenger);
          expect(r.status).to.equal(side === Side.Defender ? GameStatus.ChallengerWins : GameStatus.DefenderWins);
          expect(r.moves[r.moves.length - 1]!.kind).to.equal("timeout");
          expect(r.moves[r.moves.length - 1]!.level).to.equal(level);
          await expectConserved(p);
        });
      }
    }

    it("the time per move grows with every further game on the job, up to the ceiling; no deadline moves earlier", async function () {
      const { p, jobId } = await setup(model, liar);
      const result = await submittedResult(p.jm, jobId);
      const a = await openDispute(p.factory, p.challenger, jobId, new DisputePlayer(Side.Challenger, p.challenger, model, honest).openArgs(result));
      expect(await a.game.moveTime()).to.equal(MOVE_TIMEOUT);
      const first = await a.game.deadline();
      const started = (await readGame(a.game)).deadline - MOVE_TIMEOUT;
      const b = await openDispute(p.factory, p.challenger2, jobId, new DisputePlayer(Side.Challenger, p.challenger2, model, lie(model, honest, 3, 0, 1)).openArgs(result));
      for (const g of [a.game, b.game]) expect(await g.moveTime()).to.equal(MOVE_TIMEOUT + MOVE_TIMEOUT_PER_GAME);
      expect(await a.game.deadline()).to.equal(started + MOVE_TIMEOUT + MOVE_TIMEOUT_PER_GAME);
      expect(await a.game.deadline()).to.be.greaterThan(first);
      // Up to the ceiling: governance lowers it for games opened from now on; the open ones keep theirs.
      const params = await p.factory.params();
      await p.factory.setParams({
        moveTimeout: params.moveTimeout,
        challengeBond: params.challengeBond,
        challengerRewardBps: params.challengerRewardBps,
        defenderRewardBps: params.defenderRewardBps,
        moveTimeoutPerGame: params.moveTimeoutPerGame,
        maxMoveTimeout: MOVE_TIMEOUT + 100n,
      });
      const c = await openDispute(p.factory, p.challenger2, jobId, new DisputePlayer(Side.Challenger, p.challenger2, model, lie(model, honest, 4, 0, 1)).openArgs(result));
      expect(await c.game.moveTime()).to.equal(MOVE_TIMEOUT + 100n);
      expect(await a.game.moveTime()).to.equal(MOVE_TIMEOUT + 2n * MOVE_TIMEOUT_PER_GAME);
      expect((await p.factory.jobDisputes(jobId)).gamesOpened).to.equal(3n);
    });

    it("a move after the deadline reverts, a timeout before it reverts", async function () {
      const { p, jobId } = await setup(model, liar);
      const challenger = new DisputePlayer(Side.Challenger, p.challenger, model, honest);
      const defender = new DisputePlayer(Side.Defender, p.worker, model, liar);
      const { game } = await openDispute(p.factory, p.challenger, jobId, challenger.openArgs(await submittedResult(p.jm, jobId)));
      let s = await readGame(game);
      await expect(game.connect(p.other).timeout()).to.be.revertedWithCustomError(game, "DisputeGameClockNotExpired").withArgs(s.deadline);
      const move = await defender.move(s, game);
      await expect(sendMove(game, p.challenger, move)).to.be.revertedWithCustomError(game, "DisputeGameNotYourTurn");
      await time.increaseTo(s.deadline + 1n);
      await expect(sendMove(game, p.worker, move)).to.be.revertedWithCustomError(game, "DisputeGameClockExpired").withArgs(s.deadline);
      await game.connect(p.requester).timeout();
      s = await readGame(game);
      expect(s.status).to.equal(GameStatus.ChallengerWins);
      expect(s.deadline - (await time.latest().then(BigInt))).to.be.lessThan(0n);
      void MOVE_TIMEOUT;
    });
  });

  describe("parallel disputes", function () {
    it("a colluding challenger that loses on purpose changes nothing for an honest one", async function () {
      const liar = lie(model, honest, 10, 4, 1);
      const { p, jobId } = await setup(model, liar);
      const locked = (await lockOf(p.jm, jobId));
      const job = await p.jm.getJob(jobId);
      // The colluder disputes with a lie of its own at an earlier layer, so the game lands there and
      // the step proves the worker right: it loses on purpose, in the open.
      const colluder = new DisputePlayer(Side.Challenger, p.challenger2, model, lie(model, honest, 2, 0, 5));
      const honestChallenger = new DisputePlayer(Side.Challenger, p.challenger, model, honest);
      const defender = new DisputePlayer(Side.Defender, p.worker, model, liar);
      const a = await openDispute(p.factory, p.challenger2, jobId, colluder.openArgs(await submittedResult(p.jm, jobId)));
      const b = await openDispute(p.factory, p.challenger, jobId, honestChallenger.openArgs(await submittedResult(p.jm, jobId)));
      expect((await p.jm.getJob(jobId)).openDisputes).to.equal(2n);
      expect(await p.factory.gamesOf(jobId)).to.deep.equal([await a.game.getAddress(), await b.game.getAddress()]);
      // The colluder's game ends first: the job stays frozen under the other game.
      const advanceTo = (t: bigint) => time.increaseTo(t);
      const ra = await playToEnd(a.game, { defender, challenger: colluder }, { advanceTo });
      expect(ra.status).to.equal(GameStatus.DefenderWins);
      expect((await p.jm.getJob(jobId)).openDisputes).to.equal(1n);
      await time.increaseTo(job.timer);
      await expect(p.jm.finalize(jobId, ...(await finalizeArgs(p.jm, jobId)))).to.be.revertedWithCustomError(p.jm, "JobManagerUnderDispute");
      // The honest challenger still wins (its clock restarted with each move).
      const rb: PlayResult = await playToEnd(b.game, { defender, challenger: honestChallenger }, { advanceTo });
      expect(rb.status).to.equal(GameStatus.ChallengerWins);
      expect((await p.jm.getJob(jobId)).status).to.equal(Status.Rejected);
      const reward = (locked * CHALLENGER_REWARD_BPS) / 10_000n;
      expect(await p.factory.balanceOf(p.challenger.address)).to.equal(CHALLENGE_BOND + reward);
      expect(await p.factory.balanceOf(p.challenger2.address)).to.equal(0n);
      // The worker's share of the colluder's bond was only held; its result was proven wrong, so the
      // share is burned with the rest of the slash (the old factory paid it, as the colluder's game
      // ended before the rejection).
      expect(await p.factory.balanceOf(p.worker.address)).to.equal(0n);
      const share = (CHALLENGE_BOND * DEFENDER_REWARD_BPS) / 10_000n;
      const [closed] = await p.factory.queryFilter(p.factory.filters.DisputesClosed(jobId));
      expect([...closed!.args]).to.deep.equal([jobId, await b.game.getAddress(), reward, 0n, locked - reward + share]);
      await expectConserved(p);
    });

    it("a colluder settling after the job was rejected earns the cheating worker nothing", async function () {
      const liar = lie(model, honest, 10, 4, 1);
      const { p, jobId } = await setup(model, liar);
      const job = await p.jm.getJob(jobId);
      const colluder = new DisputePlayer(Side.Challenger, p.challenger2, model, lie(model, honest, 2, 0, 5), { stallAt: Level.Tensor });
      const honestChallenger = new DisputePlayer(Side.Challenger, p.challenger, model, honest);
      const defender = new DisputePlayer(Side.Defender, p.worker, model, liar);
      const a = await openDispute(p.factory, p.challenger2, jobId, colluder.openArgs(await submittedResult(p.jm, jobId)));
      const b = await openDispute(p.factory, p.challenger, jobId, honestChallenger.openArgs(await submittedResult(p.jm, jobId)));
      const advanceTo = (t: bigint) => time.increaseTo(t);
      expect((await playToEnd(b.game, { defender, challenger: honestChallenger }, { advanceTo })).status).to.equal(GameStatus.ChallengerWins);
      expect((await playToEnd(a.game, { defender, challenger: colluder }, { advanceTo })).status).to.equal(GameStatus.DefenderWins);
      expect(await p.factory.balanceOf(p.worker.address)).to.equal(0n);
      expect((await p.jm.getJob(jobId)).openDisputes).to.equal(0n);
      await expectConserved(p);
    });
  });

  describe("opening", function () {
    it("a challenger whose trace ends in the submitted output cannot open (DisputeGameOutputNotDisputed): an honest result is not griefed by another intermediate trace", async function () {
      const { p, jobId } = await setup(model, honest);
      const result = await submittedResult(p.jm, jobId);
      const job = await p.jm.getJob(jobId);
      // The honest trace, one off at an intermediate layer only, and one off at every layer but the
      // input and the output: other roots, the same output (a correct output is a correct result).
      const everyLayer = honest.map((t, i) => (i === 0 || i === honest.length - 1 ? t.slice() : t.map((v) => v + 1)));
      for (const [name, trace] of [["honest", honest], ["off at layer 2", cheat(honest, 2, 0, 1)], ["off at every layer but the output", everyLayer]] as const) {
        const c = new DisputePlayer(Side.Challenger, p.challenger, model, trace);
        expect(c.disputes(result), name).to.equal(false);
        if (trace !== honest) expect(c.root, name).to.not.equal(new DisputePlayer(Side.Challenger, p.challenger, model, honest).root);
        // Its output proof is right: it is refused for what it proves, not for how.
        const args = c.openArgs(result);
        expect(args.outputLeaf, name).to.equal(result.outputCommitment);
        await commitDispute(p.factory, p.challenger, jobId, args);
        await expect(p.factory.connect(p.challenger).openDispute(jobId, openParams(args)), name)
          .to.be.revertedWithCustomError(p.implementation, "DisputeGameOutputNotDisputed")
          .withArgs(result.outputCommitment);
      }
      // Nothing was opened: the result finalizes once the window is over.
      expect(await p.factory.gamesOf(jobId)).to.deep.equal([]);
      expect((await p.jm.getJob(jobId)).openDisputes).to.equal(0n);
      await time.increaseTo(job.timer);
      await p.jm.finalize(jobId, ...(await finalizeArgs(p.jm, jobId)));
      expect((await p.jm.getJob(jobId)).status).to.equal(Status.Finalized);
    });

    it("a challenger's output leaf must be leaf L of its root, at the trace tree's depth (DisputeGameOutputProofMismatch)", async function () {
      const { p, jobId } = await setup(model, honest);
      const result = await submittedResult(p.jm, jobId);
      // A challenger holding the honest trace claims another output for it, to dispute a correct result.
      const c = new DisputePlayer(Side.Challenger, p.challenger, model, honest);
      const real = c.openArgs(result);
      const L = model.layers.length;
      const forged = commitTensor(lie(model, honest, L, 0, 1)[L]!).root;
      const claims: [string, typeof real, Hex][] = [
        ["another output leaf", { ...real, outputLeaf: forged }, toHex(rootFromProof(forged, L, real.outputProof))],
        ["zero output leaf", { ...real, outputLeaf: ZeroHash as Hex }, toHex(rootFromProof(ZeroHash, L, real.outputProof))],
        ["the proof of another leaf", { ...real, outputLeaf: forged, outputProof: c.prover.traceCommitment.tree.proofHex(L - 1) }, toHex(rootFromProof(forged, L, c.prover.traceCommitment.tree.proofHex(L - 1)))],
        ["a proof too short", { ...real, outputLeaf: forged, outputProof: real.outputProof.slice(1) }, ZeroHash as Hex],
        ["a proof too long", { ...real, outputLeaf: forged, outputProof: [...real.outputProof, ZeroHash as Hex] }, ZeroHash as Hex],
      ];
      for (const [name, args, computed] of claims) {
        await commitDispute(p.factory, p.challenger, jobId, args);
        await expect(p.factory.connect(p.challenger).openDispute(jobId, openParams(args)), name)
          .to.be.revertedWithCustomError(p.implementation, "DisputeGameOutputProofMismatch")
          .withArgs(real.challengerRoot, computed);
      }
      expect(await p.factory.gamesOf(jobId)).to.deep.equal([]);
    });

    it("a small stake, a closed window or a wrong header revert", async function () {
      const { p, jobId } = await setup(model, honest);
      const job = await p.jm.getJob(jobId);
      const open = (from: typeof p.challenger, a: OpenArgs) => p.factory.connect(from).openDispute(jobId, openParams(a));
      // Each claim is committed first (a block earlier), so that what reverts is the claim itself.
      const liarArgs = new DisputePlayer(Side.Challenger, p.challenger, model, lie(model, honest, 2, 0, 1)).openArgs(await submittedResult(p.jm, jobId));
      await commitDispute(p.factory, p.requester, jobId, liarArgs);
      await expect(open(p.requester, liarArgs)).to.be.revertedWithCustomError(p.factory, "DisputeGameFactoryInsufficientStake");
      await commitDispute(p.factory, p.challenger, jobId, liarArgs);
      await expect(open(p.challenger, { ...liarArgs, headerProof: liarArgs.headerProof.slice(1) })).to.be.revert(conn.ethers);
      await time.increaseTo(job.timer);
      await expect(open(p.challenger, liarArgs)).to.be.revertedWithCustomError(p.jm, "JobManagerChallengeWindowClosed");
      // None of them consumed its commitment (a reverted opening changes nothing).
      expect((await p.factory.commitmentInfo(disputeCommitment(jobId, p.challenger.address, liarArgs)))[0]).to.not.equal(0n);
    });
  });

  describe("the defender's root (issue 11: the trace is committed only in a dispute)", function () {
    const L = model.layers.length;

    it("the defender's first move posts its root, proven to end in the submitted output, with the root's children; then the challenger moves", async function () {
      const liar = lie(model, honest, 1, 17, 1);
      const { p, jobId } = await setup(model, liar);
      const result = await submittedResult(p.jm, jobId);
      const defender = new DisputePlayer(Side.Defender, p.worker, model, liar);
      const challenger = new DisputePlayer(Side.Challenger, p.challenger, model, honest);
      const { game } = await openDispute(p.factory, p.challenger, jobId, challenger.openArgs(result));
      let s = await readGame(game);
      expect([s.level, s.turn, s.defenderRoot, s.challengerRoot, s.outputCommitment]).to.deep.equal([Level.Root, Side.Defender, ZeroHash, challenger.root, result.outputCommitment]);
      const move = await defender.move(s, game);
      if (move.kind !== "root") throw new Error(`expected the root move, got ${move.kind}`);
      expect(move.root).to.equal(defender.root);
      // Only the defender, only at the root level, only with the root's own children.
      await expect(game.connect(p.challenger).postRoot(move.root, [...move.outputProof], move.left, move.right)).to.be.revertedWithCustomError(game, "DisputeGameNotYourTurn");
      await expect(game.connect(p.worker).traceMove(move.left, move.right, "0x", [])).to.be.revertedWithCustomError(game, "DisputeGameWrongLevel").withArgs(Level.Trace, Level.Root);
      await expect(game.connect(p.worker).postRoot(move.root, [...move.outputProof], move.right, move.left)).to.be.revertedWithCustomError(game, "DisputeGameChildrenMismatch");
      const tx = game.connect(p.worker).postRoot(move.root, [...move.outputProof], move.left, move.right);
      await expect(tx).to.emit(game, "RootPosted").withArgs(defender.root);
      await expect(tx).to.emit(game, "ChildrenRevealed").withArgs(Level.Trace, Side.Defender, anyValue, move.left, move.right);
      console.log(`      postRoot: ${(await (await tx).wait())!.gasUsed} gas (root, output proof of depth ${move.outputProof.length}, children)`);
      s = await readGame(game);
      expect([s.level, s.turn, s.defenderRoot, s.defenderLeft]).to.deep.equal([Level.Trace, Side.Challenger, defender.root, move.left]);
      expect((await game.config()).defenderRoot).to.equal(defender.root);
      // The root is fixed: no second root.
      await expect(game.connect(p.worker).postRoot(move.root, [...move.outputProof], move.left, move.right)).to.be.revertedWithCustomError(game, "DisputeGameWrongLevel");
      const r = await playToEnd(game, { defender, challenger }, { advanceTo: (t) => time.increaseTo(t) });
      expect(r.status).to.equal(GameStatus.ChallengerWins);
      // The root move is the defender's first trace move: no extra transaction for it.
      expect(1 + r.txs.defender).to.be.at.most(txBound(model, 1, honest[1]!.length));
      await expectConserved(p);
    });

    it("a root whose leaf L is not the submitted output is refused (DisputeGameOutputProofMismatch); a defender that never posts one is timed out, slashed, the requester refunded", async function () {
      // The worker submits an output that its (honest) trace does not end in: it forged the output alone.
      const p = await loadFixture(deployDisputes);
      const modelId = await registerModel(p, model);
      const wrongOutput = honest[L]!.slice();
      wrongOutput[0] = wrongOutput[0]! + 1;
      const jobId = await submitTrace(p, modelId, honest, { outputOverride: wrongOutput });
      const locked = await lockOf(p.jm, jobId);
      const staked = (await p.staking.stakeOf(p.worker.address)).staked;
      const challenger = new DisputePlayer(Side.Challenger, p.challenger, model, honest);
      expect(challenger.disputes(await submittedResult(p.jm, jobId))).to.equal(true);
      const { game } = await openDispute(p.factory, p.challenger, jobId, challenger.openArgs(await submittedResult(p.jm, jobId)));
      const s = await readGame(game);
      const defender = new DisputePlayer(Side.Defender, p.worker, model, honest);
      const move = await defender.move(s, game);
      if (move.kind !== "root") throw new Error(`expected the root move, got ${move.kind}`);
      const post = (root: string, proof: readonly Hex[], left = move.left, right = move.right) => game.connect(p.worker).postRoot(root, [...proof], left, right);
      // Its honest root (the challenger's too): the proof leads from the submitted output to another root.
      const withSubmitted = commitTrace([...honest.slice(0, L), wrongOutput]).root;
      await expect(post(defender.root, move.outputProof)).to.be.revertedWithCustomError(game, "DisputeGameOutputProofMismatch").withArgs(defender.root, withSubmitted);
      expect(toHex(rootFromProof(s.outputCommitment, L, move.outputProof))).to.equal(withSubmitted);
      // A proof of another leaf, of the wrong depth, or a zero root: refused as well.
      const leaf0 = defender.prover.traceCommitment.tree.proofHex(0);
      await expect(post(defender.root, leaf0)).to.be.revertedWithCustomError(game, "DisputeGameOutputProofMismatch").withArgs(defender.root, toHex(rootFromProof(s.outputCommitment, L, leaf0)));
      await expect(post(defender.root, move.outputProof.slice(1))).to.be.revertedWithCustomError(game, "DisputeGameOutputProofMismatch").withArgs(defender.root, ZeroHash);
      await expect(post(defender.root, [...move.outputProof, ZeroHash as Hex])).to.be.revertedWithCustomError(game, "DisputeGameOutputProofMismatch").withArgs(defender.root, ZeroHash);
      await expect(post(ZeroHash, move.outputProof, ZeroHash as Hex, ZeroHash as Hex)).to.be.revertedWithCustomError(game, "DisputeGameOutputProofMismatch");
      // It never posts: once the deadline passes, anyone times it out.
      expect((await readGame(game)).level).to.equal(Level.Root);
      await time.increaseTo(s.deadline + 1n);
      await expect(post(defender.root, move.outputProof)).to.be.revertedWithCustomError(game, "DisputeGameClockExpired");
      await expect(game.connect(p.requester).timeout()).to.emit(game, "GameResolved").withArgs(GameStatus.ChallengerWins, Reason.Timeout);
      expect((await p.jm.getJob(jobId)).status).to.equal(Status.Rejected);
      expect((await p.staking.stakeOf(p.worker.address)).staked).to.equal(staked - locked);
      expect(await p.jm.balanceOf(p.requester.address)).to.equal(JOB_FEE);
      expect(await p.factory.balanceOf(p.challenger.address)).to.equal(CHALLENGE_BOND + (locked * CHALLENGER_REWARD_BPS) / 10_000n);
      expect((await game.config()).defenderRoot).to.equal(ZeroHash);
      await expectConserved(p);
    });

    it("a wrong output loses even with a root picked after the challenger's: it copies all the challenger's leaves but the output (built from the opening's output proof alone)", async function () {
      const wrongOutput = honest[L]!.slice();
      wrongOutput[3] = wrongOutput[3]! - 1;
      const p = await loadFixture(deployDisputes);
      const modelId = await registerModel(p, model);
      const jobId = await submitTrace(p, modelId, honest, { outputOverride: wrongOutput });
      const challenger = new DisputePlayer(Side.Challenger, p.challenger, model, honest);
      const { game, receipt } = await openDispute(p.factory, p.challenger, jobId, challenger.openArgs(await submittedResult(p.jm, jobId)));
      // What the opening reveals: the challenger's root, its output leaf and that leaf's proof. Its
      // siblings cover every other leaf, so the defender can build a root that agrees with the
      // challenger's on every layer and ends in the submitted output.
      const call = p.factory.interface.parseTransaction((await conn.ethers.provider.getTransaction(receipt.hash))!)!;
      const copied = toHex(rootFromProof(commitTensor(wrongOutput).root, L, [...call.args.o.outputProof] as Hex[]));
      // Copying the challenger's root itself (its output leaf included) is refused: that root does
      // not end in the submitted output.
      const top = challenger.prover.traceCommitment.tree.levels[(await readGame(game)).traceDepth - 1]!;
      const [cl, cr] = [toHex(top.subarray(0, 32)), toHex(top.subarray(32, 64))];
      await expect(game.connect(p.worker).postRoot(challenger.root, [...call.args.o.outputProof], cl, cr))
        .to.be.revertedWithCustomError(game, "DisputeGameOutputProofMismatch")
        .withArgs(challenger.root, copied);
      const copycat = [...honest.slice(0, L), wrongOutput];
      const defender = new DisputePlayer(Side.Defender, p.worker, model, copycat);
      expect(defender.root).to.equal(copied);
      const r = await playToEnd(game, { defender, challenger }, { advanceTo: (t) => time.increaseTo(t) });
      // The roots differ only at leaf L: the game lands on the output layer and the step decides.
      const s = await readGame(game);
      expect([r.status, s.layer]).to.deep.equal([GameStatus.ChallengerWins, L]);
      expect(r.moves[r.moves.length - 1]!.kind).to.equal("step");
      expect(r.moves.filter((m) => m.kind === "timeout")).to.have.length(0);
      await expectConserved(p);
    });

    // The defender copies the challenger's leaves 0..j, then follows a consistent lie from layer 1
    // on (its output is the liar's): the first differing leaf is the first layer after j where the
    // lie shows, and the defender's value there does not follow from the agreed layers.
    const liar = lie(model, honest, 1, 17, 1);
    const firstDiff = (j: number) => {
      for (let k = j + 1; k <= L; k++) if (!liar[k]!.every((v, i) => v === honest[k]![i])) return k;
      return -1;
    };
    for (const j of [1, 3, 5, L - 1]) {
      it(`a wrong output loses even with a root picked after the challenger's: it copies the challenger's leaves up to layer ${j}, then diverges (lands on layer ${firstDiff(j)})`, async function () {
        const { p, jobId } = await setup(model, liar);
        const challenger = new DisputePlayer(Side.Challenger, p.challenger, model, honest);
        const { game } = await openDispute(p.factory, p.challenger, jobId, challenger.openArgs(await submittedResult(p.jm, jobId)));
        const adaptive = [...honest.slice(0, j + 1), ...liar.slice(j + 1)];
        const defender = new DisputePlayer(Side.Defender, p.worker, model, adaptive);
        expect(defender.outputCommitment).to.equal((await readGame(game)).outputCommitment);
        const r = await playToEnd(game, { defender, challenger }, { advanceTo: (t) => time.increaseTo(t) });
        const s = await readGame(game);
        expect([r.status, s.layer]).to.deep.equal([GameStatus.ChallengerWins, firstDiff(j)]);
        expect(r.moves.filter((m) => m.kind === "timeout")).to.have.length(0);
        await expectConserved(p);
      });
    }

    it("the whole-trace rebuild is deterministic: two runs of runWithTrace on the same model and input give the same root", async function () {
      const input = randomInput(model, 1);
      const runs = [];
      for (const fresh of [true, false, true]) {
        const runner = await CanonicalRunner.create(model, fresh ? {} : { hashWorkers: 0 });
        try {
          runs.push(await runner.runWithTrace(input));
          if (!fresh) runs.push(await runner.runWithTrace(input));
        } finally {
          await runner.release();
        }
      }
      const roots = runs.map((r) => r.traceRoot);
      expect(new Set(roots).size).to.equal(1);
      // The root the player posts from the reference interpreter's trace, and the output the worker submitted.
      expect(roots[0]).to.equal(commitTrace(honest).root);
      expect(roots[0]).to.equal(new DisputePlayer(Side.Defender, (await conn.ethers.getSigners())[0]!, model, honest).root);
      expect(runs[0]!.outputCommitment).to.equal(commitTensor(honest[L]!).root);
    });

    it("the honest defender wins against 24 random lying challengers (consistent lies and lies inside the trace with another output)", async function () {
      this.timeout(120_000);
      const rng = new Rng(11);
      for (let i = 0; i < 24; i++) {
        const truth = referenceTrace(model, randomInput(model, 300 + i));
        const k = rng.int(1, L);
        const e = rng.int(0, truth[k]!.length - 1);
        const size = rng.pick([1, -1, 2, -3, 17, -250, 4096]);
        let trace: Int32Array[];
        if (i % 2 === 0) {
          trace = randomLie(model, truth, k, e, size, () => rng.int(0, truth[k]!.length - 1)).trace;
        } else {
          // Inconsistent: a lie at layer k, the later layers honest, the output off at one element.
          trace = cheat(truth, k, e, size);
          if (k !== L) {
            const o = rng.int(0, truth[L]!.length - 1);
            trace[L]![o] = trace[L]![o]! + rng.pick([1, -1]);
          }
        }
        const { p, jobId } = await setup(model, truth);
        const r = await playDispute(p, jobId, new DisputePlayer(Side.Defender, p.worker, model, truth), new DisputePlayer(Side.Challenger, p.challenger, model, trace));
        expect(r.status, `lying challenger ${i}: layer ${k} element ${e} by ${size}`).to.equal(GameStatus.DefenderWins);
        expect((await readGame(r.game)).layer, `lying challenger ${i}: the game lands on its lie`).to.equal(k);
        await expectConserved(p);
      }
    });
  });

  describe("commit, then reveal", function () {
    const liar = lie(model, honest, 2, 0, 1);

    it("opens only the caller's own commitment, made in an earlier block, once", async function () {
      const { p, jobId } = await setup(model, liar);
      const result = await submittedResult(p.jm, jobId);
      const args = new DisputePlayer(Side.Challenger, p.challenger, model, honest).openArgs(result);
      const mine = disputeCommitment(jobId, p.challenger.address, args);
      expect(mine).to.equal(await p.factory.commitmentOf(jobId, p.challenger.address, args.challengerRoot, args.outputLeaf, args.salt));
      const open = (from: typeof p.challenger, a = args) => p.factory.connect(from).openDispute(jobId, openParams(a));

      // No commitment: nothing to reveal.
      await expect(open(p.challenger)).to.be.revertedWithCustomError(p.factory, "DisputeGameFactoryUnknownCommitment").withArgs(mine);
      await expect(p.factory.connect(p.challenger).commitDispute(mine)).to.emit(p.factory, "DisputeCommitted").withArgs(mine, p.challenger.address, 1n);
      const [rank, block] = await p.factory.commitmentInfo(mine);
      expect([rank, block]).to.deep.equal([1n, BigInt(await conn.ethers.provider.getBlockNumber())]);
      // Commitments are single-use, whoever sends them.
      await expect(p.factory.connect(p.challenger2).commitDispute(mine)).to.be.revertedWithCustomError(p.factory, "DisputeGameFactoryCommitmentExists").withArgs(mine);
      // Another account revealing the same claim and salt reveals a commitment of its own: unknown.
      await expect(open(p.challenger2)).to.be.revertedWithCustomError(p.factory, "DisputeGameFactoryUnknownCommitment")
        .withArgs(disputeCommitment(jobId, p.challenger2.address, args));
      // Any other revealed value (salt, root, output leaf) is another commitment.
      for (const other of [{ ...args, salt: randomSalt() }, { ...args, challengerRoot: new DisputePlayer(Side.Challenger, p.challenger, model, liar).root }, { ...args, outputLeaf: args.salt }]) {
        await expect(open(p.challenger, other)).to.be.revertedWithCustomError(p.factory, "DisputeGameFactoryUnknownCommitment");
      }
      // The commitment's own reveal opens the game with its rank; it cannot be revealed again.
      const tx = open(p.challenger);
      await expect(tx).to.emit(p.factory, "DisputeOpened").withArgs(jobId, anyValue, p.challenger.address, args.challengerRoot, CHALLENGE_BOND, 1n);
      expect(await p.factory.commitmentInfo(mine)).to.deep.equal([0n, 0n]);
      await expect(open(p.challenger)).to.be.revertedWithCustomError(p.factory, "DisputeGameFactoryUnknownCommitment").withArgs(mine);
      const [game] = await p.factory.gamesOf(jobId);
      expect((await p.factory.gameRecord(game!)).rank).to.equal(1n);
      await expectConserved(p);
    });

    it("refuses a reveal in the commitment's own block, even as the next transaction", async function () {
      const { p, jobId } = await setup(model, liar);
      const args = new DisputePlayer(Side.Challenger, p.challenger, model, honest).openArgs(await submittedResult(p.jm, jobId));
      const mine = disputeCommitment(jobId, p.challenger.address, args);
      const provider = conn.ethers.provider;
      await provider.send("evm_setAutomine", [false]);
      try {
        const c = await p.factory.connect(p.challenger).commitDispute(mine);
        // In the block that holds the commitment, its reveal is too recent...
        const next = BigInt(await provider.getBlockNumber()) + 1n;
        await expect(p.factory.connect(p.challenger).openDispute.staticCall(jobId, openParams(args), { blockTag: "pending" }))
          .to.be.revertedWithCustomError(p.factory, "DisputeGameFactoryCommitmentTooRecent")
          .withArgs(mine, next);
        // ...and a reveal sent right behind it, mined in the same block, fails.
        const o = await p.factory.connect(p.challenger).openDispute(jobId, openParams(args), { gasLimit: 3_000_000n });
        await provider.send("evm_mine", []);
        const [rc, ro] = [await provider.getTransactionReceipt(c.hash), await provider.getTransactionReceipt(o.hash)];
        expect([rc!.blockNumber, rc!.status, ro!.blockNumber, ro!.status]).to.deep.equal([Number(next), 1, Number(next), 0]);
      } finally {
        await provider.send("evm_setAutomine", [true]);
      }
      // From the next block on, it opens.
      expect((await p.factory.commitmentInfo(mine))[0]).to.equal(1n);
      await p.factory.connect(p.challenger).openDispute(jobId, openParams(args));
      expect(await p.factory.gamesOf(jobId)).to.have.length(1);
    });

    it("ranks commitments over all jobs, in the order they are made", async function () {
      const { p, modelId, jobId } = await setup(model, liar);
      const other = await submitTrace(p, modelId, liar);
      const result = await submittedResult(p.jm, jobId);
      const ranks: bigint[] = [];
      for (const [who, job] of [[p.challenger2, other], [p.challenger, jobId], [p.challenger2, jobId]] as const) {
        const a = new DisputePlayer(Side.Challenger, who, model, honest).openArgs(job === jobId ? result : await submittedResult(p.jm, job));
        ranks.push((await commitDispute(p.factory, who, job, a)).rank);
      }
      expect(ranks).to.deep.equal([1n, 2n, 3n]);
    });
  });

  describe("padding", function () {
    /** A challenger whose chunk tree of layer 1 has a non-zero padding leaf (chunk 3 of 3). */
    class ForgedPadding extends DisputePlayer {
      private readonly forged = (() => {
        const leaves = chunkLeaves(canonicalBytes(this.prover.trace[1]!));
        const tensor = MerkleTree.from(Buffer.concat([leaves, Buffer.alloc(32, 0x42)]));
        const traceLeaves = this.prover.traceCommitment.tensors.map((t, i) => fromHex(i === 1 ? tensor.rootHex : t.root));
        return { tensor, trace: MerkleTree.from(traceLeaves) };
      })();
      protected override traceTree(): MerkleTree {
        return this.forged.trace;
      }
      protected override tensorTree(k: number): MerkleTree {
        return k === 1 ? this.forged.tensor : super.tensorTree(k);
      }
    }

    it("a non-zero padding chunk leaf is decided at once against its side", async function () {
      expect(honest[1]!.length).to.equal(600); // 3 chunks, the tree has 4 leaves
      const { p, jobId } = await setup(model, honest);
      // Its output is off too (a challenger must dispute the output); the first differing leaf is layer 1's.
      const forger = new ForgedPadding(Side.Challenger, p.challenger, model, cheat(honest, model.layers.length, 0, 1));
      const r = await playDispute(p, jobId, new DisputePlayer(Side.Defender, p.worker, model, honest), forger);
      expect(r.status).to.equal(GameStatus.DefenderWins);
      expect(r.moves[r.moves.length - 1]!.kind).to.equal("tensor");
      expect((await readGame(r.game)).layer).to.equal(1);
      await expectConserved(p);
    });
  });

  describe("access and governance", function () {
    it("a game is initialized once, by its factory; only games settle; the implementation is inert", async function () {
      const liar = lie(model, honest, 2, 0, 1);
      const { p, jobId } = await setup(model, liar);
      const challenger = new DisputePlayer(Side.Challenger, p.challenger, model, honest);
      const { game } = await openDispute(p.factory, p.challenger, jobId, challenger.openArgs(await submittedResult(p.jm, jobId)));
      const c = await game.config();
      const cfg = {
        jobId: c.jobId, defender: c.defender, challenger: c.challenger, graphRoot: c.graphRoot,
        inputCommitment: c.inputCommitment, outputCommitment: c.outputCommitment, defenderRoot: c.defenderRoot,
        challengerRoot: c.challengerRoot, numLayers: c.numLayers, moveTimeout: c.moveTimeout,
        moveTimeoutPerGame: c.moveTimeoutPerGame, maxMoveTimeout: c.maxMoveTimeout,
      };
      await expect(game.initialize(cfg, "0x" + "00".repeat(32), [])).to.be.revertedWithCustomError(game, "DisputeGameAlreadyInitialized");
      await expect(p.implementation.initialize(cfg, "0x" + "00".repeat(32), [])).to.be.revertedWithCustomError(game, "DisputeGameAlreadyInitialized");
      await expect(p.factory.connect(p.challenger).settle(GameStatus.ChallengerWins)).to.be.revertedWithCustomError(p.factory, "DisputeGameFactoryUnknownGame");
      await expect(game.connect(p.worker).step(Side.Defender, "0x")).to.be.revertedWithCustomError(game, "DisputeGameWrongLevel");
      await expect(game.connect(p.worker).postSum(1)).to.be.revertedWithCustomError(game, "DisputeGameWrongLevel");
    });

    it("only the owner sets the parameters, within bounds that keep disputes possible", async function () {
      const p = await loadFixture(deployDisputes);
      const params = {
        moveTimeout: MIN_MOVE_TIMEOUT,
        challengeBond: 1n,
        challengerRewardBps: 10_000n,
        defenderRewardBps: 0n,
        moveTimeoutPerGame: 0n,
        maxMoveTimeout: MIN_MOVE_TIMEOUT,
      };
      const DAYS_30 = 30n * 86400n;
      const MAX_BOND = 1_000_000n * WAD;
      expect(await p.factory.minMoveTimeout()).to.equal(MIN_MOVE_TIMEOUT);
      expect(await p.factory.MAX_MOVE_TIMEOUT()).to.equal(DAYS_30);
      expect(await p.factory.MAX_CHALLENGE_BOND()).to.equal(MAX_BOND);
      await expect(p.factory.connect(p.challenger).setParams(params)).to.be.revertedWithCustomError(p.factory, "OwnableUnauthorizedAccount");
      const invalid: [string, Partial<typeof params>][] = [
        ["moveTimeout", { moveTimeout: 0n }],
        ["moveTimeout", { moveTimeout: MIN_MOVE_TIMEOUT - 1n, maxMoveTimeout: MIN_MOVE_TIMEOUT }],
        ["maxMoveTimeout", { moveTimeout: 120n, maxMoveTimeout: 119n }],
        ["maxMoveTimeout", { maxMoveTimeout: DAYS_30 + 1n }],
        ["challengeBond", { challengeBond: 0n }],
        ["challengeBond", { challengeBond: MAX_BOND + 1n }],
        ["challengerRewardBps", { challengerRewardBps: 10_001n }],
        ["defenderRewardBps", { defenderRewardBps: 10_001n }],
      ];
      for (const [name, change] of invalid) {
        await expect(p.factory.setParams({ ...params, ...change }), JSON.stringify(change, (_, v) => (typeof v === "bigint" ? v.toString() : v)))
          .to.be.revertedWithCustomError(p.factory, "DisputeGameFactoryInvalidParameter")
          .withArgs(name);
      }
      // The bounds themselves are accepted.
      for (const ok of [params, { ...params, challengeBond: MAX_BOND, moveTimeout: DAYS_30, maxMoveTimeout: DAYS_30, moveTimeoutPerGame: 2n ** 32n - 1n }]) {
        await expect(p.factory.setParams(ok)).to.emit(p.factory, "ParamsSet");
        expect(await p.factory.params()).to.deep.equal([ok.moveTimeout, ok.challengeBond, ok.challengerRewardBps, ok.defenderRewardBps, ok.moveTimeoutPerGame, ok.maxMoveTimeout]);
      }
    });

    it("validates the constructor's minimum time per move and parameters", async function () {
      const p = await loadFixture(deployDisputes);
      const f = await conn.ethers.getContractFactory("DisputeGameFactory");
      const current = await p.factory.params();
      const params = {
        moveTimeout: current.moveTimeout,
        challengeBond: current.challengeBond,
        challengerRewardBps: current.challengerRewardBps,
        defenderRewardBps: current.defenderRewardBps,
        moveTimeoutPerGame: current.moveTimeoutPerGame,
        maxMoveTimeout: current.maxMoveTimeout,
      };
      const deploy = (min: bigint, ps = params) => f.deploy(p.token, p.jm, p.registry, p.staking, p.implementation, p.deployer.address, min, ps);
      for (const min of [0n, 30n * 86400n + 1n]) {
        await expect(deploy(min)).to.be.revertedWithCustomError(f, "DisputeGameFactoryInvalidParameter").withArgs("minMoveTimeout");
      }
      // The initial time per move obeys the deployment's own minimum.
      await expect(deploy(MOVE_TIMEOUT + 1n)).to.be.revertedWithCustomError(f, "DisputeGameFactoryInvalidParameter").withArgs("moveTimeout");
      await expect(deploy(MIN_MOVE_TIMEOUT, { ...params, challengeBond: 0n })).to.be.revertedWithCustomError(f, "DisputeGameFactoryInvalidParameter").withArgs("challengeBond");
      const ok = await deploy(MOVE_TIMEOUT);
      expect(await ok.minMoveTimeout()).to.equal(MOVE_TIMEOUT);
    });

    it("games keep the values they opened with; games opened after a change take the new ones", async function () {
      const liar = lie(model, honest, 2, 0, 1);
      const { p, jobId } = await setup(model, liar);
      const result = await submittedResult(p.jm, jobId);
      const first = await openDispute(p.factory, p.challenger, jobId, new DisputePlayer(Side.Challenger, p.challenger, model, honest).openArgs(result));
      const changed = {
        moveTimeout: 2n * MOVE_TIMEOUT,
        challengeBond: 2n * CHALLENGE_BOND,
        challengerRewardBps: 1_000n,
        defenderRewardBps: 9_000n,
        moveTimeoutPerGame: 0n,
        maxMoveTimeout: 2n * MOVE_TIMEOUT,
      };
      await p.factory.setParams(changed);
      const second = await openDispute(p.factory, p.challenger2, jobId, new DisputePlayer(Side.Challenger, p.challenger2, model, lie(model, honest, 3, 0, 1)).openArgs(result));
      const [r1, r2] = [await p.factory.gameRecord(await first.game.getAddress()), await p.factory.gameRecord(await second.game.getAddress())];
      expect([r1.bond, r1.challengerRewardBps, r1.defenderRewardBps]).to.deep.equal([CHALLENGE_BOND, CHALLENGER_REWARD_BPS, DEFENDER_REWARD_BPS]);
      expect([r2.bond, r2.challengerRewardBps, r2.defenderRewardBps]).to.deep.equal([changed.challengeBond, changed.challengerRewardBps, changed.defenderRewardBps]);
      // Time per move: the first game's own base and extension for the second game; the second's base, no extension.
      expect(await first.game.moveTime()).to.equal(MOVE_TIMEOUT + MOVE_TIMEOUT_PER_GAME);
      expect(await second.game.moveTime()).to.equal(2n * MOVE_TIMEOUT);
      await expectConserved(p);
    });
  });

  describe("the MNIST CNN (models/mnist-cnn.canonical.onnx) on held-out digits", function () {
    const cnn = mnistCnn();
    const truth = referenceTrace(cnn, mnistInput(cnn, 3));

    for (let k = 1; k <= cnn.layers.length; k++) {
      const l = cnn.layers[k - 1]!;
      it(`cheat at layer ${k} (${layerKindName(l.kind)}): worker slashed, requester refunded, challenger rewarded`, async function () {
        const n = truth[k]!.length;
        let next = (Math.floor(n / 2) + k) % n;
        const { trace: liar } = randomLie(cnn, truth, k, next, 1, () => (next = (next + 1) % n));
        const { p, jobId } = await setup(cnn, liar);
        const locked = (await lockOf(p.jm, jobId));
        const t0 = Date.now();
        const r = await playDispute(p, jobId, new DisputePlayer(Side.Defender, p.worker, cnn, liar), new DisputePlayer(Side.Challenger, p.challenger, cnn, truth));
        const ms = Date.now() - t0;
        expect(r.status).to.equal(GameStatus.ChallengerWins);
        expect(ms).to.be.lessThan(10_000);
        expect(await p.jm.balanceOf(p.requester.address)).to.equal(JOB_FEE);
        expect(await p.factory.balanceOf(p.challenger.address)).to.equal(CHALLENGE_BOND + (locked * CHALLENGER_REWARD_BPS) / 10_000n);
        const bound = txBound(cnn, k, truth[k]!.length);
        expect(r.txs.defender).to.be.at.most(bound);
        expect(r.txs.challenger + 2).to.be.at.most(bound);
        // Issue 10's bound: no dispute transaction, the commitment and the opening included, above 1M gas.
        expect(r.maxGas).to.be.lessThan(1_000_000n);
        expect(r.openGas).to.be.lessThan(1_000_000n);
        expect(r.commitGas).to.be.lessThan(1_000_000n);
        console.log(`      layer ${k}: ${r.txs.defender}+${r.txs.challenger + 2} tx (bound ${bound}), ${r.totalGas + r.openGas + r.commitGas} gas, max ${r.maxGas}, ${ms} ms`);
        await expectConserved(p);
      });
    }

    it("50 random cheats (digit, layer, element, error size incl. off-by-one) are each caught", async function () {
      this.timeout(300_000);
      const rng = new Rng(7);
      let consistentLies = 0;
      for (let i = 0; i < 50; i++) {
        const digitTruth = referenceTrace(cnn, mnistInput(cnn, 10 + i));
        const k = rng.int(1, cnn.layers.length);
        const e = rng.int(0, digitTruth[k]!.length - 1);
        const size = rng.pick([1, -1, 1, -1, 2, -3, 17, -250, 4096]);
        const { trace: liar, consistent } = randomLiar(cnn, digitTruth, k, e, size);
        if (consistent) consistentLies++;
        const { p, jobId } = await setup(cnn, liar);
        const r = await playDispute(
          p,
          jobId,
          new DisputePlayer(Side.Defender, p.worker, cnn, liar),
          new DisputePlayer(Side.Challenger, p.challenger, cnn, digitTruth),
        );
        expect(r.status, `cheat ${i}: layer ${k} element ${e} by ${size}`).to.equal(GameStatus.ChallengerWins);
        expect((await readGame(r.game)).layer, `cheat ${i}: the game lands on the lie`).to.equal(k);
        expect(r.maxGas).to.be.lessThan(1_000_000n);
        expect(r.openGas).to.be.lessThan(1_000_000n);
      }
      console.log(`      ${consistentLies} of 50 consistent (later layers recomputed), the others inconsistent`);
    });

    it("an honest MNIST result survives a challenge with a lie", async function () {
      const { p, jobId } = await setup(cnn, truth);
      const r = await playDispute(p, jobId, new DisputePlayer(Side.Defender, p.worker, cnn, truth), new DisputePlayer(Side.Challenger, p.challenger, cnn, lie(cnn, truth, 1, 100, -1)));
      expect(r.status).to.equal(GameStatus.DefenderWins);
      await expectConserved(p);
    });
  });
  describe("a wide MAXPOOL (a softmax's row maximum) is stepped as a running maximum", function () {
    // Scores [1, 4, 1, 24] → the row maximum over 24 elements, more than MAX_DIRECT_WINDOW (16): a
    // Direct step would open 24 chunks; the game bisects the running maximum instead.
    const b = new CanonicalModelBuilder([1, 4, 1, 24], [-100, 100]);
    b.maxpool({ kernel: [1, 24] });
    b.flatten();
    b.dense({ weight: new Rng(3).ints(4 * 3, -3, 3), units: 3, shift: 0, clip: [-1000, 1000] });
    const pool = parseCanonicalModel(b.build());
    const truth = referenceTrace(pool, randomInput(pool, 9));

    it("a cheat at the maximum loses after partial-sum rounds, every step a one-chunk read; a narrow window stays one Direct step", async function () {
      expect(gameReductionLength(pool.layers[0]!)).to.equal(24);
      const { trace: liar } = randomLiar(pool, truth, 1, 2, 7);
      const { p, jobId } = await setup(pool, liar);
      const r = await playDispute(p, jobId, new DisputePlayer(Side.Defender, p.worker, pool, liar), new DisputePlayer(Side.Challenger, p.challenger, pool, truth));
      expect(r.status).to.equal(GameStatus.ChallengerWins);
      const state = await readGame(r.game);
      expect(state.layer).to.equal(1);
      expect(state.reductionLength).to.equal(24);
      expect(r.moves.some((m) => m.level === Level.Accumulator)).to.equal(true);
      expect(r.maxGas).to.be.below(400_000n);
      await expectConserved(p);
      const narrow = new CanonicalModelBuilder([1, 4, 1, 16], [-100, 100]).maxpool({ kernel: [1, 16] }).build();
      expect(gameReductionLength(parseCanonicalModel(narrow).layers[0]!)).to.equal(0);
    });
  });

  describe("transformer kinds: MATMUL bisected like DENSE, PRODUCT, GATHER and CONST in one direct step", function () {
    const attention = attentionBlock();
    const truth = referenceTrace(attention, randomInput(attention, 5));
    for (let k = 1; k <= attention.layers.length; k++) {
      const l = attention.layers[k - 1]!;
      it(`layer ${k} (${layerKindName(l.kind)}): a cheat there loses, the game lands on it, within the transaction bound`, async function () {
        const n = truth[k]!.length;
        const { trace: liar } = randomLiar(attention, truth, k, (k * 29) % n, k % 2 === 0 ? -3 : 5);
        const { p, jobId } = await setup(attention, liar);
        const r = await playDispute(p, jobId, new DisputePlayer(Side.Defender, p.worker, attention, liar), new DisputePlayer(Side.Challenger, p.challenger, attention, truth));
        expect(r.status).to.equal(GameStatus.ChallengerWins);
        const state = await readGame(r.game);
        expect(state.layer).to.equal(k);
        // A MATMUL element is bisected over its K partial sums (or settled on the accumulators'
        // requantization); every other kind of this model but DENSE is one direct step.
        const reduced = r.moves.some((m) => m.level === Level.Accumulator);
        expect(reduced).to.equal(l.kind === LayerKind.MATMUL || l.kind === LayerKind.DENSE);
        // The liar's s_K is not the honest one: its partial sums are bisected down to one term.
        if (l.kind === LayerKind.MATMUL) expect(r.moves.filter((m) => m.level === Level.PartialSum).length).to.equal(2 * ceilLog2(l.params[MatMulParam.K]!));
        const bound = txBound(attention, k, truth[k]!.length);
        expect(r.txs.defender).to.be.at.most(bound);
        expect(r.txs.challenger + 2).to.be.at.most(bound);
        expect(r.maxGas).to.be.below(1_000_000n);
        await expectConserved(p);
      });
    }

    it("40 random cheats on the attention block (input, layer, element, error size) are each caught", async function () {
      this.timeout(120_000);
      const rng = new Rng(4242);
      for (let i = 0; i < 40; i++) {
        const t = referenceTrace(attention, randomInput(attention, 200 + i));
        const k = rng.int(1, attention.layers.length);
        const e = rng.int(0, t[k]!.length - 1);
        const size = rng.pick([1, -1, 2, -3, 17, -250, 4096]);
        const { trace: liar } = randomLiar(attention, t, k, e, size);
        const { p, jobId } = await setup(attention, liar);
        const r = await playDispute(p, jobId, new DisputePlayer(Side.Defender, p.worker, attention, liar), new DisputePlayer(Side.Challenger, p.challenger, attention, t));
        expect(r.status, `cheat ${i}: layer ${k} element ${e} by ${size}`).to.equal(GameStatus.ChallengerWins);
        expect((await readGame(r.game)).layer, `cheat ${i}: the game lands on the lie`).to.equal(k);
      }
    });

    it("an honest result survives a challenger lying at a MATMUL layer (bisected to one term)", async function () {
      const k = attention.layers.findIndex((l) => l.kind === LayerKind.MATMUL) + 1;
      const { p, jobId } = await setup(attention, truth);
      const liar = lie(attention, truth, k, 3, 1);
      const r = await playDispute(p, jobId, new DisputePlayer(Side.Defender, p.worker, attention, truth), new DisputePlayer(Side.Challenger, p.challenger, attention, liar));
      expect(r.status).to.equal(GameStatus.DefenderWins);
      expect((await readGame(r.game)).layer).to.equal(k);
      expect(r.moves.some((m) => m.level === Level.PartialSum)).to.equal(true);
      await expectConserved(p);
    });
  });
});

/** A small attention block (6 tokens, 2 heads of 4): see {@link sharedAttentionBlock}. */
function attentionBlock(): CanonicalModel {
  return sharedAttentionBlock(new Rng(11), {
    tokens: 6, heads: 2, headDim: 4, range: 20, projClip: 40, weight: 4, bias: 10,
    shifts: [2, 4, 5, 5], clips: [60, 100, 100], positionBias: 9,
  });
}
