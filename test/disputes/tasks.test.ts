/**
 * Disputes by hand, through the tasks a user runs (hre.tasks…run): on the in-process network with
 * LocalProtocol, the MNIST CNN registered, a worker submits a wrong result with a consistent forged
 * trace (`job submit --run … --cheat`), a challenger runs `dispute open`, both sides alternate
 * `dispute move` to the end; an honest result cannot be disputed; `dispute timeout` waits for the
 * deadline. A runtime of its own (createHardhatRuntimeEnvironment) keeps this chain apart from the
 * other task tests, which share the default one.
 */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { expect } from "chai";
import { createHardhatRuntimeEnvironment } from "hardhat/hre";

import config from "../../hardhat.config.js";
import type { CloseResult, OpenResult, GameView, MoveResult, TimeoutResult } from "../../offchain/cli/disputes.js";
import { openDispute, submittedResultOf } from "../../offchain/clients/disputes.js";
import { GameStatus, Level, Side } from "../../offchain/clients/game-types.js";
import { DisputePlayer, playToEnd } from "../../offchain/disputes/player.js";
import { referenceTrace } from "../../offchain/runtime/reference.js";
import { lie } from "./fixtures.js";
import type { JobDetails } from "../../offchain/cli/index.js";
import { deployProtocol, jobTerms } from "../../offchain/cli/index.js";
import type { DisputeWithdrawResult } from "../../offchain/cli/disputes.js";
import { dir, rejection } from "../tasks/helpers.js";
import { mnistCnn, mnistInput } from "./models.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const hre = await createHardhatRuntimeEnvironment(config, {}, root);
const connection = await hre.network.getOrCreate();
const { ethers, networkHelpers } = connection;
const [, , worker, requester, challenger] = await ethers.getSigners();

const MODEL = path.join(root, "models", "mnist-cnn.canonical.onnx");
const CHEAT = "4:100"; // MAXPOOL output, element 100: the dense layer after it turns the lie into a wrong output
const VTN = 10n ** 18n;

const run = (name: string[], args: Record<string, unknown> = {}) => hre.tasks.getTask(name).run(args);
/** Runs `fn` and returns what it printed beside its result. */
const captured = async <T>(fn: () => Promise<T>): Promise<{ result: T; text: string }> => {
  const printed: string[] = [];
  const log = console.log;
  console.log = (...a: unknown[]) => printed.push(a.join(" "));
  try {
    return { result: (await fn()) as T, text: printed.join("\n") };
  } finally {
    console.log = log;
  }
};
const quiet = async <T>(fn: () => Promise<T>): Promise<T> => {
  const log = console.log;
  console.log = () => {};
  try {
    return (await fn()) as T;
  } finally {
    console.log = log;
  }
};

function writeInput(i: number): string {
  const file = path.join(dir, `mnist-${i}.json`);
  writeFileSync(file, JSON.stringify(Array.from(mnistInput(mnistCnn(), i))));
  return file;
}

/** Requests a job on the MNIST CNN (model 1) and has the worker claim it and submit (forged with `cheat`). */
async function job(input: string, cheat?: string): Promise<string> {
  const r = (await quiet(() =>
    run(["job", "request"], { model: "1", input, fee: "2", deadline: "10m", callbackGasLimit: 0, noApprove: false, from: "3" }),
  )) as { jobId: bigint };
  const id = String(r.jobId);
  await quiet(() => run(["job", "claim"], { job: id, from: "2" }));
  await quiet(() => run(["job", "submit"], { job: id, run: MODEL, cheat, from: "2" }));
  return id;
}

describe("tasks: disputes by hand", function () {
  this.timeout(120_000);
  let p: Awaited<ReturnType<typeof deployProtocol>>["protocol"];

  before(async function () {
    p = (await deployProtocol(connection, hre.config.paths.ignition)).protocol;
    await quiet(() => run(["model", "register"], { file: MODEL, price: "1", contributors: "", from: "1" }));
    await quiet(() => run(["stake", "add"], { amount: "200", serves: "1", noApprove: false, from: "2" }));
    await quiet(() => run(["stake", "add"], { amount: "100", serves: "", noApprove: false, from: "4" }));
  });

  it("a wrong result: dispute open, alternate dispute move to the end, worker slashed, requester refunded, challenger paid", async function () {
    const jobId = await job(writeInput(0), CHEAT);
    const workerStake = (await p.staking.stakeOf(worker!.address)).staked;
    const lock = (await jobTerms(p, BigInt(jobId))).lock;
    const tokensBefore = await p.token.balanceOf(challenger!.address);

    const { result: opened, text: openText } = await captured(
      async () => (await run(["dispute", "open"], { job: jobId, model: MODEL, noApprove: false, from: "4" })) as OpenResult,
    );
    // Committed first, then opened in a later block: the task prints the commitment's rank and gas.
    expect(opened.commit).to.not.equal(undefined);
    expect(opened.commit!.blockNumber).to.be.lessThan(opened.receipt.blockNumber);
    const [rank] = [(await p.disputes.gameRecord(opened.game)).rank];
    expect(opened.rank).to.equal(rank);
    expect(rank).to.be.greaterThan(0n);
    expect(openText).to.match(new RegExp(`^  commitment: +rank ${rank}$`, "m"));
    expect(openText).to.match(new RegExp(`^  commit tx: +${opened.commit!.hash}$`, "m"));
    expect(openText).to.match(/^ {2}commit gas: +[\d,]+$/m);
    expect(openText).to.match(new RegExp(`^  tx: +${opened.receipt.hash}$`, "m"));
    expect(opened.bond).to.equal(10n * VTN);
    expect(await p.token.balanceOf(challenger!.address)).to.equal(tokensBefore - opened.bond);
    const game = opened.game;

    // The defender moves first, posting its trace root: the challenger is told to wait, and why.
    expect(opened.view.state.level).to.equal(Level.Root);
    const early = await rejection(() => quiet(() => run(["dispute", "move"], { game, model: MODEL, from: "4" })));
    expect(early).to.match(/it is not your turn in game .*: you are the challenger, the defender \(0x[0-9a-fA-F]{40}\) must post its trace root, proven to end in the output it submitted/);
    // A worker that forgets its forged trace is told so before sending anything.
    const forgot = await rejection(() => quiet(() => run(["dispute", "move"], { game, model: MODEL, from: "2" })));
    expect(forgot).to.include("give the same --cheat");

    let view: GameView = opened.view;
    const moves: MoveResult[] = [];
    let lastText = "";
    while (view.state.status === GameStatus.InProgress) {
      const defender = view.state.turn === Side.Defender;
      const { result, text } = await captured(() =>
        run(["dispute", "move"], { game, model: MODEL, cheat: defender ? CHEAT : undefined, from: defender ? "2" : "4" }),
      );
      const r = result as MoveResult;
      moves.push(r);
      view = r.after;
      lastText = text;
      expect(moves.length).to.be.below(40);
    }
    // The deciding move says what the job's disputes paid, not only the game's own settlement.
    expect(lastText).to.match(/job's disputes: +closed: .* of the slash to the challenger of this game \(the first-committed winner\), .* burned/);
    // MAXPOOL layer 4 of 6 (1568 elements, 7 chunks): 3 trace + 3 tensor + chunk per side, and the step.
    expect(moves.filter((m) => m.side === Side.Defender)).to.have.length(7);
    expect(moves.filter((m) => m.side === Side.Challenger)).to.have.length(8);
    expect(moves[moves.length - 1]!.move.kind).to.equal("step");
    expect(view.state.status).to.equal(GameStatus.ChallengerWins);
    expect(view.outcome!.reason).to.include("one-step verifier");

    // Worker slashed (its whole lock), requester refunded (the whole fee), challenger credited bond + half the slash.
    // The bond comes back at settlement; the reward and the burn come when the job's disputes close,
    // here in the same transaction (a rejected job can take no further game).
    expect(view.outcome!.slashed).to.equal(lock);
    expect((await p.staking.stakeOf(worker!.address)).staked).to.equal(workerStake - lock);
    const j = await p.jobManager.getJob(BigInt(jobId));
    expect(j.status).to.equal(6n); // Rejected
    expect(await p.jobManager.balanceOf(requester!.address)).to.equal(2n * VTN);
    const credit = opened.bond + lock / 2n;
    expect(await p.disputes.balanceOf(challenger!.address)).to.equal(credit);
    expect(view.outcome!.burned).to.equal(0n);
    expect(view.outcome!.job).to.deep.equal({ closed: true, winnerGame: game, challengerReward: lock / 2n, defenderReward: 0n, burned: lock - lock / 2n });

    // job show tells what became of the lock, not just the amount the record keeps.
    const printed: string[] = [];
    const log = console.log;
    console.log = (...a: unknown[]) => printed.push(a.join(" "));
    let details: JobDetails;
    try {
      details = (await run(["job", "show"], { job: jobId })) as JobDetails;
    } finally {
      console.log = log;
    }
    expect(details.rejection!.slashed).to.equal(lock);
    expect(printed.join("\n")).to.match(/stake locked.* while the job ran: .* slashed \(result proven wrong\), .* released/);

    const shown = (await quiet(() => run(["dispute", "show"], { job: jobId }))) as GameView[];
    expect(shown.map((v) => v.address)).to.deep.equal([game]);
    expect(shown[0]!.outcome!.credits).to.deep.equal([
      { account: challenger!.address, amount: opened.bond },
      { account: challenger!.address, amount: lock / 2n },
    ]);
    const { text: showText } = await captured(() => run(["dispute", "show"], { game }));
    expect(showText).to.match(/job's disputes: +closed: .* of the slash to the challenger of this game \(the first-committed winner\), .* burned/);

    const over = await rejection(() => quiet(() => run(["dispute", "move"], { game, model: MODEL, from: "4" })));
    expect(over).to.include("is over: challenger won");
    const w = (await quiet(() => run(["dispute", "withdraw"], { from: "4" }))) as DisputeWithdrawResult;
    expect(w.amount).to.equal(credit);
    expect(await p.token.balanceOf(challenger!.address)).to.equal(tokensBefore - opened.bond + credit);
    const again = await rejection(() => quiet(() => run(["dispute", "withdraw"], { from: "4" })));
    expect(again).to.include("has no balance to withdraw in the dispute factory");
  });

  it("an honest result: dispute open refuses, nothing is sent", async function () {
    const jobId = await job(writeInput(1));
    const message = await rejection(() => quiet(() => run(["dispute", "open"], { job: jobId, model: MODEL, noApprove: false, from: "4" })));
    expect(message).to.include(`the result of job ${jobId} is correct: nothing to dispute`);
    expect(await p.disputes.gamesOf(BigInt(jobId))).to.deep.equal([]);
  });

  it("dispute timeout before the deadline explains when it expires; after it, the side to move loses", async function () {
    const jobId = await job(writeInput(2), "6:3");
    const opened = (await quiet(() => run(["dispute", "open"], { job: jobId, model: MODEL, noApprove: false, from: "4" }))) as OpenResult;
    const early = await rejection(() => quiet(() => run(["dispute", "timeout"], { game: opened.game, from: "4" })));
    expect(early).to.match(/the defender still has time: its move \(post its trace root, .*\) is due by .* UTC \(in (2 min|1 min( \d+ s)?|\d+ s)\)/);
    expect(early).to.include("`dispute timeout` works once that deadline has passed");

    await networkHelpers.time.increase(121);
    const late = await rejection(() => quiet(() => run(["dispute", "move"], { game: opened.game, model: MODEL, cheat: "6:3", from: "2" })));
    expect(late).to.include("you missed the deadline of your move");
    const t = (await quiet(() => run(["dispute", "timeout"], { game: opened.game, from: "0" }))) as TimeoutResult;
    expect(t.loser).to.equal(Side.Defender);
    expect(t.after.state.status).to.equal(GameStatus.ChallengerWins);
    expect(t.after.outcome!.reason).to.include("timeout");
  });

  it("dispute close pays the worker its share of a lost challenge once the window is over, and says why it cannot before", async function () {
    const model = mnistCnn();
    const jobId = await job(writeInput(3));
    const id = BigInt(jobId);
    const honest = referenceTrace(model, mnistInput(model, 3));
    // A challenger with a wrong trace of its own, ending in another output (the task would refuse
    // to open on a correct result).
    const liar = new DisputePlayer(Side.Challenger, challenger!, model, lie(model, honest, 2, 5, 1));
    await p.token.connect(challenger!).approve(p.addresses.disputeFactory, (await p.disputes.params()).challengeBond);
    const { game } = await openDispute(p.disputes, challenger!, id, liar.openArgs(await submittedResultOf(p, id)));
    const defender = new DisputePlayer(Side.Defender, worker!, model, honest);
    const r = await playToEnd(game, { defender, challenger: liar }, { advanceTo: (t) => networkHelpers.time.increaseTo(t) });
    expect(r.status).to.equal(GameStatus.DefenderWins);

    // The game ended inside the challenge window: another game could still open, so the worker's share waits.
    const early = await rejection(() => quiet(() => run(["dispute", "close"], { job: jobId, from: "0" })));
    expect(early).to.match(new RegExp(`the challenge window of job ${jobId} is open until .*: another game could still open`));
    const before = await p.disputes.balanceOf(worker!.address);

    await networkHelpers.time.increase(61);
    const { result, text } = await captured(() => run(["dispute", "close"], { job: jobId, from: "0" }));
    const closed = result as CloseResult;
    const share = (await p.disputes.params()).challengeBond / 2n;
    expect(closed.outcome.defenderReward).to.equal(share);
    expect(await p.disputes.balanceOf(worker!.address)).to.equal(before + share);
    expect(text).to.match(/paid: +closed: the result stood; the worker got 5\.0 VTN of the lost bonds/);

    const again = await rejection(() => quiet(() => run(["dispute", "close"], { job: jobId, from: "0" })));
    expect(again).to.include(`the disputes of job ${jobId} are already closed`);
    const none = await rejection(() => quiet(() => run(["dispute", "close"], { job: String(id + 1000n), from: "0" })));
    expect(none).to.include("has no dispute to close");
  });

  it("decodes the dispute contracts' errors into sentences", async function () {
    const { PROTOCOL_ERRORS, decodeRevert } = await import("../../offchain/cli/index.js");
    const data = PROTOCOL_ERRORS.encodeErrorResult("DisputeGameNotYourTurn", [challenger!.address, 0]);
    expect(decodeRevert({ data })).to.equal(
      `it is not the turn of ${challenger!.address}: the defender (the worker) moves next (or the account plays no side in this game)`,
    );
    const stake = PROTOCOL_ERRORS.encodeErrorResult("DisputeGameFactoryInsufficientStake", [challenger!.address, 5n * VTN, 100n * VTN]);
    expect(decodeRevert({ data: stake })).to.include("has 5.0 VTN staked; a challenger needs at least the minimum stake of 100.0 VTN");
    const step = PROTOCOL_ERRORS.encodeErrorResult("OneStepVerifierUnusedOpenings", [2n, 3n]);
    expect(decodeRevert({ data: step })).to.equal("the step reads 2 tensor openings, 3 given");
    // Commit, then reveal; the close of a job's disputes.
    const c = "0x" + "ab".repeat(32);
    const sentences: [string, unknown[], string][] = [
      ["DisputeGameFactoryUnknownCommitment", [c], `no unrevealed commitment ${c} of the sender`],
      ["DisputeGameFactoryCommitmentTooRecent", [c, 12n], "was made in block 12: it can be revealed from the next block on"],
      ["DisputeGameFactoryCommitmentExists", [c], "was already made (commitments are single-use)"],
      ["DisputeGameFactoryDisputesNotOver", [3n, 1n], "the disputes of job 3 cannot close yet: 1 game(s) still open"],
      ["DisputeGameFactoryNothingToClose", [3n], "job 3 has no disputes to close"],
      ["JobManagerNotDisputeManager", [challenger!.address], "is not the dispute manager of this job"],
      ["StakingOperatorsSealed", [], "the staking operators were fixed at deployment"],
      // Level and StepPhase by their contract values (Level.Root is 0, StepPhase.Reduce is 0).
      ["DisputeGameWrongLevel", [1n, 0n], "the root level"],
      ["DisputeGameWrongLevel", [7n, 6n], "the step level"],
      ["OneStepVerifierWrongPhase", [5n, 0n], "step phase Reduce does not fit layer kind 5"],
      ["OneStepVerifierWrongPhase", [1n, 2n], "step phase Direct does not fit layer kind 1"],
    ];
    for (const [name, args, text] of sentences) {
      expect(decodeRevert({ data: PROTOCOL_ERRORS.encodeErrorResult(name, args) }), name).to.include(text);
    }
  });
});
