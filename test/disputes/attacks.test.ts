/**
 * Attacks on the dispute layer (issue 10, dispute security), each played with the real game, the
 * real factory and the real model players (offchain/disputes/player.ts) on the model with every
 * layer kind. Each test says why it fails on the contracts from before issue 10:
 *  - the cartel: 256 colluding games on a rogue worker's wrong result (past the old cap of 255);
 *  - the copycat: a mirror of the honest challenger's game that front-runs the last step;
 *  - a dispute manager replaced by governance while a game is in play;
 *  - a step sent after its deadline;
 *  - governance changing the escrow's parameters while a job is in flight.
 */
import { anyValue } from "@nomicfoundation/hardhat-ethers-chai-matchers/withArgs";
import { expect } from "chai";
import type { ContractTransactionReceipt, LogDescription } from "ethers";
import { ZeroAddress, ZeroHash, parseUnits } from "ethers";
import { network } from "hardhat";

import type { DisputeGame, DisputeGameFactory } from "../../types/ethers-contracts/index.js";
import { requestedTerms } from "../../offchain/clients/job-events.js";
import { canonicalBytes, commitTensor } from "../../offchain/commitments/tensor.js";
import type { Hex } from "../../offchain/commitments/merkle.js";
import type { GameState, OpenArgs } from "../../offchain/clients/disputes.js";
import { disputeCommitment, openDispute, openParams, randomSalt, readGame, revealDispute, sendMove, submittedResult } from "../../offchain/clients/disputes.js";
import { GameStatus, Level, Reason, Side } from "../../offchain/clients/game-types.js";
import { DisputePlayer, playToEnd } from "../../offchain/disputes/player.js";
import { referenceTrace } from "../../offchain/runtime/reference.js";
import { CHALLENGE_WINDOW, MIN_CHALLENGE_WINDOW, RESULT_TIMEOUT, Status } from "../contracts/fixtures.js";
import type { DisputeProtocol } from "./fixtures.js";
import {
  CHALLENGE_BOND,
  CHALLENGER_REWARD_BPS,
  DEFENDER_REWARD_BPS,
  JOB_FEE,
  MAX_MOVE_TIMEOUT,
  MIN_MOVE_TIMEOUT,
  MOVE_TIMEOUT,
  MOVE_TIMEOUT_PER_GAME,
  disputeFixtures,
  expectDisputesConserved,
  lie,
  lockOf,
  registerModel,
  submitTrace,
} from "./fixtures.js";
import { allKindsModel, randomInput } from "./models.js";

const conn = await network.create();
const { ethers } = conn;
const { deployDisputes } = disputeFixtures(conn);
const { loadFixture, time, takeSnapshot } = conn.networkHelpers;
const advanceTo = (t: bigint) => time.increaseTo(t);

const model = allKindsModel();
const honest = referenceTrace(model, randomInput(model, 1));
/**
 * A CONV cheat, every later layer recomputed from it so that the output is wrong (a result binds
 * only its output: issue 11): its game goes through every level (root, trace, tensor, chunk, sums)
 * down to the step.
 */
const liar = lie(model, honest, 1, 17, 1);
const reward = (lock: bigint) => (lock * CHALLENGER_REWARD_BPS) / 10_000n;
const SHARE = (CHALLENGE_BOND * DEFENDER_REWARD_BPS) / 10_000n;

async function setup(workerTrace: readonly Int32Array[]) {
  const p = await loadFixture(deployDisputes);
  const modelId = await registerModel(p, model);
  const jobId = await submitTrace(p, modelId, workerTrace);
  return { p, modelId, jobId };
}

type Players = { defender: DisputePlayer; challenger: DisputePlayer };

/** Plays `game` with both players until `stop(state)` holds or the game ends; returns that state. */
async function playUntil(game: DisputeGame, players: Players, stop: (s: GameState) => boolean): Promise<GameState> {
  for (let i = 0; i < 400; i++) {
    const s = await readGame(game);
    if (s.status !== GameStatus.InProgress || stop(s)) return s;
    const mover = s.turn === Side.Defender ? players.defender : players.challenger;
    await sendMove(game, mover.signer, await mover.move(s, game));
  }
  throw new Error("the game did not reach the state asked for within 400 moves");
}

/** The factory's events of one kind, oldest first. */
async function disputesClosed(factory: DisputeGameFactory, jobId: bigint) {
  return factory.queryFilter(factory.filters.DisputesClosed(jobId));
}

/** The game events of `receipt`, decoded. */
function gameEvents(game: DisputeGame, receipt: ContractTransactionReceipt): LogDescription[] {
  return receipt.logs
    .filter((l) => l.address.toLowerCase() === receipt.to!.toLowerCase())
    .map((l) => game.interface.parseLog(l))
    .filter((l): l is LogDescription => l !== null);
}

/**
 * A copycat: it runs no model and holds no trace. It opens with the honest challenger's root (read
 * from `DisputeOpened`) and plays its own game by mirroring each move of the honest challenger
 * from that game's events (`ChildrenRevealed`, `ChunkRevealed`, `SumPosted`); what an event does
 * not carry (the landing move's layer descriptor, the step's proofs) it copies from the honest
 * transaction, public like everything sent.
 */
class Copycat {
  constructor(
    readonly original: DisputeGame,
    readonly own: DisputeGame,
  ) {}

  /** Mirrors the honest challenger's move of `receipt`, made in state `s` of the original game. */
  async mirror(s: GameState, receipt: ContractTransactionReceipt): Promise<ContractTransactionReceipt> {
    const events = gameEvents(this.original, receipt);
    const mine = (name: string) => {
      const e = events.find((l) => l.name === name && Number(l.args.side ?? Side.Challenger) === Side.Challenger);
      if (!e) throw new Error(`the honest move emitted no ${name}`);
      return e;
    };
    let tx;
    switch (s.level) {
      case Level.Trace: {
        const c = mine("ChildrenRevealed");
        const call = this.original.interface.parseTransaction(await ethers.provider.getTransaction(receipt.hash).then((t) => t!))!;
        tx = await this.own.traceMove(c.args.left, c.args.right, call.args.descriptor, [...call.args.graphProof]);
        break;
      }
      case Level.Tensor: {
        const c = mine("ChildrenRevealed");
        tx = await this.own.tensorMove(c.args.left, c.args.right);
        break;
      }
      case Level.Chunk: {
        const chunk = mine("ChunkRevealed").args.chunk as string;
        // The defender's chunk of its own game (the worker defends both alike).
        const revealed = await this.own.queryFilter(this.own.filters.ChunkRevealed(Side.Defender));
        tx = await this.own.challengeChunk(revealed[revealed.length - 1]!.args.chunk, chunk);
        break;
      }
      case Level.Accumulator:
      case Level.PartialSum:
        tx = await this.own.postSum(mine("SumPosted").args.value);
        break;
      default:
        throw new Error(`the copycat cannot mirror a move at level ${s.level}`);
    }
    return (await tx.wait())!;
  }
}

describe("dispute attacks (issue 10)", function () {
  // Before issue 10 the escrow counted open disputes in a uint8 and refused the 256th
  // (JobManagerDisputeCount): a cartel of the rogue worker and a colluding challenger filled the slots
  // with games it then lost on purpose, the honest challenger's openDispute reverted, and the wrong
  // result finalized. Now each game is backed by its own bond, there is no cap, and the time per
  // move grows with the games on the job (up to maxMoveTimeout) so the defender can answer them all.
  it("the cartel: 256 colluding games on a wrong result (past the old cap) do not shut the honest challenger out; they pay the rogue worker nothing", async function () {
    this.timeout(600_000);
    const started = Date.now();
    const { p, jobId } = await setup(liar);
    const locked = await lockOf(p.jm, jobId);
    const staked = (await p.staking.stakeOf(p.worker.address)).staked;
    const result = await submittedResult(p.jm, jobId);
    const defender = new DisputePlayer(Side.Defender, p.worker, model, liar);
    // The colluder's claim is a lie of its own (another output); it never plays it. Each game its own salt.
    const colluder = new DisputePlayer(Side.Challenger, p.challenger2, model, lie(model, honest, 2, 0, 5));
    const CARTEL = 256;
    const claims = Array.from({ length: CARTEL }, () => colluder.openArgs(result));
    for (const a of claims) await p.factory.connect(p.challenger2).commitDispute(disputeCommitment(jobId, p.challenger2.address, a));
    const cartel: DisputeGame[] = [];
    for (const a of claims) cartel.push((await revealDispute(p.factory, p.challenger2, jobId, a)).game);
    expect((await p.jm.getJob(jobId)).openDisputes).to.equal(BigInt(CARTEL));
    const opening = Date.now() - started;

    // The honest challenger commits after the whole cartel, opens game 257 all the same, and plays it.
    const honestPlayer = new DisputePlayer(Side.Challenger, p.challenger, model, honest);
    const h = await openDispute(p.factory, p.challenger, jobId, honestPlayer.openArgs(result));
    expect((await p.jm.getJob(jobId)).openDisputes).to.equal(BigInt(CARTEL + 1));
    expect(await p.factory.gamesOpened(jobId)).to.equal(BigInt(CARTEL + 1));
    // Every game's time per move grew with the burst, up to the ceiling.
    expect(MOVE_TIMEOUT + MOVE_TIMEOUT_PER_GAME * BigInt(CARTEL)).to.be.greaterThan(MAX_MOVE_TIMEOUT);
    for (const g of [h.game, cartel[0]!, cartel[CARTEL - 1]!]) expect(await g.moveTime()).to.equal(MAX_MOVE_TIMEOUT);

    // The worker answers the first move of every cartel game (its part of the deal: it posts its
    // root), so that the cartel's stall, not its own, ends them: they are meant to end DefenderWins.
    const first = await defender.move(await readGame(cartel[0]!), cartel[0]!);
    expect(first.kind).to.equal("root");
    for (const g of cartel) await sendMove(g, p.worker, first);

    const r = await playToEnd(h.game, { defender, challenger: honestPlayer }, { advanceTo });
    expect(r.status).to.equal(GameStatus.ChallengerWins);
    expect((await p.jm.getJob(jobId)).status).to.equal(Status.Rejected);
    expect(await p.jm.balanceOf(p.requester.address)).to.equal(JOB_FEE);
    expect((await p.staking.stakeOf(p.worker.address)).staked).to.equal(staked - locked);
    // The slash is held while the cartel's games are open; the honest challenger has its bond back.
    const held = await p.factory.jobDisputes(jobId);
    expect([held.gamesOpen, held.slashed, held.closed, held.bestGame]).to.deep.equal([BigInt(CARTEL), locked, false, await h.game.getAddress()]);
    expect(await p.factory.balanceOf(p.challenger.address)).to.equal(CHALLENGE_BOND);

    // The cartel stalls; once its deadlines pass, anyone times its games out: the defender wins each.
    let latest = 0n;
    for (const g of cartel) {
      const d = await g.deadline();
      if (d > latest) latest = d;
    }
    await time.increaseTo(latest + 1n);
    for (const g of cartel) await g.connect(p.requester).timeout();
    for (const g of [cartel[0]!, cartel[CARTEL - 1]!]) expect((await readGame(g)).status).to.equal(GameStatus.DefenderWins);
    const settled = await p.factory.queryFilter(p.factory.filters.DisputeSettled(jobId));
    expect(settled.filter((e) => Number(e.args.status) === GameStatus.DefenderWins)).to.have.length(CARTEL);

    // The last one closed the job's disputes: the honest challenger (the only winner) gets the
    // reward; the rest of the slash and the worker's 256 shares of the cartel's bonds are burned.
    const [closed] = await disputesClosed(p.factory, jobId);
    expect([...closed!.args]).to.deep.equal([jobId, await h.game.getAddress(), reward(locked), 0n, locked - reward(locked) + BigInt(CARTEL) * SHARE]);
    expect(await p.factory.balanceOf(p.worker.address)).to.equal(0n);
    expect(await p.factory.balanceOf(p.challenger2.address)).to.equal(0n);
    expect(await p.factory.balanceOf(p.challenger.address)).to.equal(CHALLENGE_BOND + reward(locked));
    expect((await p.jm.getJob(jobId)).openDisputes).to.equal(0n);
    await expectDisputesConserved(p);
    console.log(`      ${CARTEL} cartel games opened in ${(opening / 1000).toFixed(1)} s; whole test ${((Date.now() - started) / 1000).toFixed(1)} s`);
  });

  // Before issue 10 the first winning game took the whole reward and there was no commitment: a
  // copycat that mirrored the honest challenger's game and front-ran its last step settled first,
  // was paid bond + reward, and the honest challenger got only its bond back. Now a dispute opens
  // only as the reveal of a commitment made in an earlier block, and the reward goes to the winning
  // game committed first: the copy of a revealed claim is always committed after it.
  it("the copycat: a mirror of the honest game that front-runs the last step settles first, yet the honest challenger gets the reward and the copycat only its bond", async function () {
    const { p, jobId } = await setup(liar);
    const locked = await lockOf(p.jm, jobId);
    const result = await submittedResult(p.jm, jobId);
    const defender = new DisputePlayer(Side.Defender, p.worker, model, liar);
    const honestPlayer = new DisputePlayer(Side.Challenger, p.challenger, model, honest);
    const h = await openDispute(p.factory, p.challenger, jobId, honestPlayer.openArgs(result));

    // The copycat reads the opening: the root from DisputeOpened, the graph header and the root's
    // output leaf and proof from its calldata.
    const [opened] = await p.factory.queryFilter(p.factory.filters.DisputeOpened(jobId, await h.game.getAddress()));
    const openCall = p.factory.interface.parseTransaction((await ethers.provider.getTransaction(opened!.transactionHash))!)!;
    const copyArgs: OpenArgs = {
      result,
      challengerRoot: opened!.args.challengerRoot as Hex,
      header: openCall.args.o.header as Hex,
      headerProof: [...openCall.args.o.headerProof] as Hex[],
      outputLeaf: openCall.args.o.outputLeaf as Hex,
      outputProof: [...openCall.args.o.outputProof] as Hex[],
      salt: randomSalt(),
    };
    const c = await openDispute(p.factory, p.challenger2, jobId, copyArgs);
    const [honestRank, copyRank] = [(await p.factory.gameRecord(await h.game.getAddress())).rank, (await p.factory.gameRecord(await c.game.getAddress())).rank];
    expect(copyRank).to.be.greaterThan(honestRank);
    const copycat = new Copycat(h.game, c.game.connect(p.challenger2));

    // The worker defends both games alike; the copycat mirrors every honest move, down to the step.
    let mirrored = 0;
    for (let i = 0; i < 400; i++) {
      const s = await readGame(h.game);
      expect(s.status).to.equal(GameStatus.InProgress);
      if (s.level === Level.Step) break;
      if (s.turn === Side.Defender) {
        await sendMove(h.game, p.worker, await defender.move(s, h.game));
        await sendMove(c.game, p.worker, await defender.move(await readGame(c.game), c.game));
        continue;
      }
      const receipt = await sendMove(h.game, p.challenger, await honestPlayer.move(s, h.game));
      await copycat.mirror(s, receipt);
      mirrored++;
    }
    const [hs, cs] = [await readGame(h.game), await readGame(c.game)];
    expect([cs.level, cs.turn, cs.layer, cs.element, cs.lo, cs.hi]).to.deep.equal([hs.level, hs.turn, hs.layer, hs.element, hs.lo, hs.hi]);
    expect(mirrored).to.be.greaterThan(5);

    // The honest challenger sends its step; the copycat sees it pending and sends the same proofs to
    // its own game with a higher tip: both land in the next block, the copycat's first.
    const step = await honestPlayer.move(hs, h.game);
    expect(step.kind).to.equal("step");
    const provider = ethers.provider;
    const fees = (tip: string) => ({ gasLimit: 3_000_000n, maxFeePerGas: parseUnits("100", "gwei"), maxPriorityFeePerGas: parseUnits(tip, "gwei") });
    await provider.send("evm_setAutomine", [false]);
    let honestHash: string;
    let copyHash: string;
    try {
      if (step.kind !== "step") throw new Error("unreachable");
      honestHash = (await h.game.connect(p.challenger).step(step.against, step.proofs, fees("1"))).hash;
      const seen = h.game.interface.parseTransaction((await provider.getTransaction(honestHash))!)!;
      copyHash = (await c.game.connect(p.challenger2).step(seen.args.against, seen.args.proofs, fees("50"))).hash;
      await provider.send("evm_mine", []);
    } finally {
      await provider.send("evm_setAutomine", [true]);
    }
    const [rh, rc] = [(await provider.getTransactionReceipt(honestHash))!, (await provider.getTransactionReceipt(copyHash))!];
    expect([rh.status, rc.status, rh.blockNumber]).to.deep.equal([1, 1, rc.blockNumber]);
    expect(rc.index).to.be.lessThan(rh.index);

    // The copycat's game settled first: it rejected the job and slashed the worker (held)...
    const settled = await p.factory.queryFilter(p.factory.filters.DisputeSettled(jobId));
    expect(settled.map((e) => [e.args.game, Number(e.args.status), e.args.slashed])).to.deep.equal([
      [await c.game.getAddress(), GameStatus.ChallengerWins, locked],
      [await h.game.getAddress(), GameStatus.ChallengerWins, 0n],
    ]);
    expect((await p.jm.getJob(jobId)).status).to.equal(Status.Rejected);
    expect(await p.jm.balanceOf(p.requester.address)).to.equal(JOB_FEE);
    // ...but the reward goes to the game committed first: the honest one.
    const [closed] = await disputesClosed(p.factory, jobId);
    expect([...closed!.args]).to.deep.equal([jobId, await h.game.getAddress(), reward(locked), 0n, locked - reward(locked)]);
    expect(await p.factory.balanceOf(p.challenger.address)).to.equal(CHALLENGE_BOND + reward(locked));
    expect(await p.factory.balanceOf(p.challenger2.address)).to.equal(CHALLENGE_BOND);
    await expectDisputesConserved(p);
  });

  // Before issue 10 the escrow had a single dispute manager, which governance could replace under a
  // game in play; issue 10 gave each parameter version its own manager, and governance could still
  // appoint any contract as the manager of jobs requested later, able to slash the locks of the
  // workers that claimed them. Now the manager is appointed once, at deployment.
  it("governance cannot appoint another dispute manager mid-game: the new factory is refused and cannot touch the job, the appointed one settles it", async function () {
    const { p, jobId } = await setup(liar);
    const locked = await lockOf(p.jm, jobId);
    const appointed = p.factory;
    const result = await submittedResult(p.jm, jobId);
    const defender = new DisputePlayer(Side.Defender, p.worker, model, liar);
    const honestPlayer = new DisputePlayer(Side.Challenger, p.challenger, model, honest);
    const h = await openDispute(appointed, p.challenger, jobId, honestPlayer.openArgs(result));
    await playUntil(h.game, { defender, challenger: honestPlayer }, (s) => s.level === Level.Tensor);

    // Anyone, governance included, can deploy another factory against this escrow.
    const params = await appointed.params();
    const fresh = (await ethers.deployContract("DisputeGameFactory", [
      await p.token.getAddress(),
      await p.jm.getAddress(),
      await p.registry.getAddress(),
      await p.staking.getAddress(),
      await p.implementation.getAddress(),
      p.deployer.address,
      MIN_MOVE_TIMEOUT,
      {
        moveTimeout: params.moveTimeout,
        challengeBond: params.challengeBond,
        challengerRewardBps: params.challengerRewardBps,
        defenderRewardBps: params.defenderRewardBps,
        moveTimeoutPerGame: params.moveTimeoutPerGame,
        maxMoveTimeout: params.maxMoveTimeout,
      },
    ])) as unknown as DisputeGameFactory;
    const freshAddress = await fresh.getAddress();
    // (Versions: 1 the constructor's, 2 the factory's appointment.)
    expect((await requestedTerms(p.jm, jobId)).paramsVersion).to.equal(2n);
    await expect(p.jm.setDisputeManager(freshAddress))
      .to.be.revertedWithCustomError(p.jm, "JobManagerDisputeManagerSealed")
      .withArgs(await appointed.getAddress());
    expect([await p.jm.disputeManager(), await p.jm.paramsVersion()]).to.deep.equal([await appointed.getAddress(), 2n]);
    for (const s of [p.challenger, p.challenger2]) await p.token.connect(s).approve(freshAddress, ethers.MaxUint256);

    // The other factory can neither open a game on the job (the escrow refuses its freeze)...
    const copyArgs = new DisputePlayer(Side.Challenger, p.challenger2, model, honest).openArgs(result);
    await fresh.connect(p.challenger2).commitDispute(disputeCommitment(jobId, p.challenger2.address, copyArgs));
    await expect(fresh.connect(p.challenger2).openDispute(jobId, openParams(copyArgs)))
      .to.be.revertedWithCustomError(p.jm, "JobManagerNotDisputeManager")
      .withArgs(freshAddress);
    // ...nor settle it.
    const asFresh = await ethers.getImpersonatedSigner(freshAddress);
    await conn.networkHelpers.setBalance(freshAddress, 10n ** 18n);
    await expect(p.jm.connect(asFresh).settleDispute(jobId, false, locked))
      .to.be.revertedWithCustomError(p.jm, "JobManagerNotDisputeManager")
      .withArgs(freshAddress);

    // The game in play ends and the appointed factory settles the job: slash, refund, reward.
    const r = await playToEnd(h.game, { defender, challenger: honestPlayer }, { advanceTo });
    expect(r.status).to.equal(GameStatus.ChallengerWins);
    expect((await p.jm.getJob(jobId)).status).to.equal(Status.Rejected);
    expect(await p.jm.balanceOf(p.requester.address)).to.equal(JOB_FEE);
    const [slash] = await p.staking.queryFilter(p.staking.filters.StakeSlashed(p.worker.address));
    expect([slash!.args.amount, slash!.args.to]).to.deep.equal([locked, await appointed.getAddress()]);
    expect(await appointed.balanceOf(p.challenger.address)).to.equal(CHALLENGE_BOND + reward(locked));
    expect(await fresh.balanceOf(p.challenger.address)).to.equal(0n);
    await expectDisputesConserved(p);
  });

  // Before issue 10 the step ignored the clock: after its deadline the challenger could still run
  // it (racing the timeout), so a deadline bound every move but the one that decides the game.
  it("a step after its deadline reverts: only the timeout is left, and it ends the game against the side that had to step", async function () {
    const { p, jobId } = await setup(liar);
    const defender = new DisputePlayer(Side.Defender, p.worker, model, liar);
    const honestPlayer = new DisputePlayer(Side.Challenger, p.challenger, model, honest);
    const { game } = await openDispute(p.factory, p.challenger, jobId, honestPlayer.openArgs(await submittedResult(p.jm, jobId)));
    const s = await playUntil(game, { defender, challenger: honestPlayer }, (x) => x.level === Level.Step);
    expect([s.status, s.level, s.turn]).to.deep.equal([GameStatus.InProgress, Level.Step, Side.Challenger]);
    const step = await honestPlayer.move(s, game);
    if (step.kind !== "step") throw new Error(`expected the step, got ${step.kind}`);

    // At the deadline itself the step still counts (and anyone may run it).
    const before = await takeSnapshot();
    await time.setNextBlockTimestamp(s.deadline);
    await game.connect(p.requester).step(step.against, step.proofs);
    expect((await readGame(game)).status).to.equal(GameStatus.ChallengerWins);
    await before.restore();

    // One second later it is refused, from the challenger and from anyone.
    await time.setNextBlockTimestamp(s.deadline + 1n);
    await expect(game.connect(p.challenger).step(step.against, step.proofs, { gasLimit: 3_000_000n }))
      .to.be.revertedWithCustomError(game, "DisputeGameClockExpired")
      .withArgs(s.deadline);
    await expect(game.connect(p.requester).step(step.against, step.proofs, { gasLimit: 3_000_000n }))
      .to.be.revertedWithCustomError(game, "DisputeGameClockExpired")
      .withArgs(s.deadline);
    // The timeout ends the game: the challenger, who had to step, loses.
    await expect(game.connect(p.requester).timeout()).to.emit(game, "GameResolved").withArgs(GameStatus.DefenderWins, Reason.Timeout);
    await expect(game.connect(p.challenger).step(step.against, step.proofs)).to.be.revertedWithCustomError(game, "DisputeGameAlreadyResolved");
    expect((await p.jm.getJob(jobId)).status).to.equal(Status.Submitted);
    // The job's challenge window is over by now: no other game can open, so the timeout closed the
    // job's disputes too, and the worker was credited its share of the bond.
    expect((await p.jm.getJob(jobId)).timer).to.be.lessThanOrEqual(BigInt(await time.latest()));
    const [closed] = await disputesClosed(p.factory, jobId);
    expect([...closed!.args]).to.deep.equal([jobId, ZeroAddress, 0n, SHARE, 0n]);
    expect(await p.factory.balanceOf(p.worker.address)).to.equal(SHARE);
    await expectDisputesConserved(p);
  });

  // Before issue 10 a job read the escrow's current parameters when it needed them: a vote that
  // shortened the challenge window cut the window of results already submitted (the dispute below
  // reverted JobManagerChallengeWindowClosed and the wrong result finalized), a higher timeout slash took
  // more of a late worker's lock than its terms said, and a new treasury took the protocol fee of
  // jobs requested before it. Now a job reads the parameter version of its request.
  it("governance changing the challenge window, result timeout, timeout slash and treasury mid-job reaches none of the jobs already requested", async function () {
    const p = await loadFixture(deployDisputes);
    const modelId = await registerModel(p, model);
    const request = async () => {
      const now = BigInt(await time.latest());
      await p.jm.connect(p.requester).requestInference({
        modelId,
        input: ethers.hexlify(canonicalBytes(honest[0]!)),
        inputURI: "",
        inputCommitment: ZeroHash,
        fee: JOB_FEE,
        deadline: now + 24n * 3600n,
        consumer: ZeroAddress,
        callbackGasLimit: 0n,
      });
      return p.jm.jobCount();
    };
    const submit = async (jobId: bigint, trace: readonly Int32Array[]) => {
      const out = trace[trace.length - 1]!;
      await p.jm.connect(p.worker).submitResult(jobId, await requestedTerms(p.jm, jobId), ethers.hexlify(canonicalBytes(out)), commitTensor(out).root);
    };
    const [cheated, late, fine] = [await request(), await request(), await request()];
    const old = await p.jm.params();

    // Governance: the shortest window, a longer result timeout, the whole lock on a timeout, another treasury.
    const treasury = p.contributor1.address;
    await p.jm.setParams({
      minJobLock: old.minJobLock,
      stakeRatioBps: old.stakeRatioBps,
      protocolFeeBps: old.protocolFeeBps,
      timeoutSlashBps: 10_000n,
      paused: old.paused,
      challengeWindow: MIN_CHALLENGE_WINDOW,
      resultTimeout: 2n * RESULT_TIMEOUT,
      maxJobDuration: old.maxJobDuration,
      treasury,
      maxCallbackGasLimit: old.maxCallbackGasLimit,
      callbackFeePerGas: old.callbackFeePerGas,
      auditFeeBps: old.auditFeeBps,
    });
    expect(await p.jm.paramsVersion()).to.equal(3n);
    for (const id of [cheated, late, fine]) expect((await requestedTerms(p.jm, id)).paramsVersion).to.equal(2n);

    // The wrong result, claimed and submitted after the vote: its window is still the hour of its terms.
    await p.jm.connect(p.worker).claim(cheated, await requestedTerms(p.jm, cheated));
    expect((await p.jm.getJob(cheated)).timer).to.equal(BigInt(await time.latest()) + RESULT_TIMEOUT);
    await submit(cheated, liar);
    const end = BigInt(await time.latest()) + CHALLENGE_WINDOW;
    expect((await p.jm.getJob(cheated)).timer).to.equal(end);
    await time.increase(MIN_CHALLENGE_WINDOW + 1n); // past the new window
    const honestPlayer = new DisputePlayer(Side.Challenger, p.challenger, model, honest);
    const h = await openDispute(p.factory, p.challenger, cheated, honestPlayer.openArgs(await submittedResult(p.jm, cheated)));
    const r = await playToEnd(h.game, { defender: new DisputePlayer(Side.Defender, p.worker, model, liar), challenger: honestPlayer }, { advanceTo });
    expect(r.status).to.equal(GameStatus.ChallengerWins);
    expect((await p.jm.getJob(cheated)).status).to.equal(Status.Rejected);

    // The late worker: due at its terms' result timeout, slashed at its terms' rate (half, not all).
    const lateTerms = await requestedTerms(p.jm, late);
    await p.jm.connect(p.worker).claim(late, lateTerms);
    const due = (await p.jm.getJob(late)).timer;
    expect(due).to.equal(BigInt(await time.latest()) + RESULT_TIMEOUT);
    await time.increaseTo(due + 1n);
    const slashed = (lateTerms.lock * 5_000n) / 10_000n;
    await expect(p.jm.expire(late, lateTerms)).to.emit(p.jm, "WorkerTimedOut").withArgs(late, p.worker.address, slashed);

    // The honest job keeps its terms' protocol fee rate; the fee accrues to the model and, as
    // governance's own revenue, goes to the treasury in force when the model's accruals are paid.
    await p.jm.connect(p.worker).claim(fine, await requestedTerms(p.jm, fine));
    await submit(fine, honest);
    await time.increaseTo((await p.jm.getJob(fine)).timer);
    const [fineTerms, fineResult] = [await requestedTerms(p.jm, fine), await submittedResult(p.jm, fine)];
    const protocolFee = (JOB_FEE * fineTerms.protocolFeeBps) / 10_000n;
    await expect(p.jm.finalize(fine, fineTerms, fineResult.outputCommitment))
      .to.emit(p.jm, "JobFinalized")
      .withArgs(fine, p.worker.address, anyValue, anyValue, protocolFee);
    expect(await p.jm.protocolFees(fineTerms.modelId)).to.equal(protocolFee);
    await expect(p.jm.distributeModelEarnings(fineTerms.modelId))
      .to.emit(p.jm, "ProtocolFeesCollected")
      .withArgs(fineTerms.modelId, treasury, protocolFee);
    await expectDisputesConserved(p);
  });
});
