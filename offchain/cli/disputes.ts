/**
 * Disputes by hand: what the `dispute` tasks do, one function each, on top of the game client
 * (game.ts) and the player (player.ts). A side's trace comes from running the model file on the
 * job's input (checked against the registry first, offchain/cli/inference.ts): the
 * challenger's is the honest run, the worker's is what it committed (the honest run, or the run
 * forged with the same `--cheat` it submitted with). Every refusal says why and what to do; every
 * revert is decoded into a sentence (offchain/clients/revert.ts).
 */
import type { ContractTransactionReceipt, LogDescription, Signer } from "ethers";
import { ZeroAddress } from "ethers";

import type { CheatSpec, ComputedResult, Protocol, WithdrawResult } from "./index.js";
import {
  JobStatus,
  VeritensorError,
  addressNames,
  chainTime,
  computeJobResult,
  ensureFunds,
  explainFailure,
  formatBps,
  formatDuration,
  formatTime,
  formatVtn,
  getJob,
  jobStatusName,
  send,
  stakePosition,
} from "./index.js";
import type { Hex } from "../commitments/merkle.js";
import { layerKindName } from "../model/layers.js";
import type { LayerKind } from "../model/layers.js";
import { DisputeGame__factory } from "../../types/ethers-contracts/index.js";
import type { GameState, Move } from "../clients/disputes.js";
import { derivedSalt, disputeCommitment, openParams, readGame, sendMove, submittedResultOf } from "../clients/disputes.js";
import { GameStatus, LEVEL_NAMES, Level, Reason, Side } from "../clients/game-types.js";
import { DisputePlayer } from "../disputes/player.js";

// ------------------------------------------------------------------ words

export const SIDE_NAMES: Readonly<Record<Side, string>> = { 0: "defender", 1: "challenger" };

export const STATUS_NAMES: Readonly<Record<GameStatus, string>> = {
  0: "in progress",
  1: "challenger won",
  2: "defender won",
};

export const REASONS: Readonly<Record<number, string>> = {
  [Reason.Timeout]: "the side to move missed its deadline (timeout)",
  [Reason.InputLeaf]: "the first differing trace leaf is the input, which must equal the job's input commitment",
  [Reason.PaddingLeaf]: "the first differing trace leaf is padding past the last layer, which must be zero",
  [Reason.PaddingElement]: "the first differing element is chunk padding past the tensor's end, which must be zero",
  [Reason.OneStep]: "the one-step verifier computed the disputed value on-chain",
  [Reason.PaddingChunk]: "the tensor descent landed on a padding chunk, which must be zero",
  [Reason.InexactValue]:
    "the step starts from a value outside canonical/1's exact range (|v| < 2^24), or the model's own layer makes it impossible (an index outside its inputs, a table read outside its domain), which no valid model on a valid input reaches",
  [Reason.MalformedLayer]: "the disputed layer is malformed in the model itself (a layout, kind or param canonical/1 has not): the defender served a model nobody can compute",
};

/** What the side to move has to do next, in words. */
export function nextMoveText(s: GameState): string {
  const at = (depth: number) => `node ${s.position.index} at depth ${s.position.depth} of ${depth}`;
  const layer = `layer ${s.layer} (${kindName(s.kind)})`;
  switch (s.level) {
    case Level.Root:
      return `post its trace root, proven to end in the output it submitted, with the root's two children`;
    case Level.Trace:
      return `reveal its two children of trace ${at(s.traceDepth)}`;
    case Level.Tensor:
      return `reveal its two children of ${at(s.tensorDepth)} in the chunk tree of ${layer}'s output`;
    case Level.Chunk:
      return `reveal chunk ${s.position.index} of ${layer}'s output (1024 bytes)`;
    case Level.Accumulator:
      return `post its accumulator s_${s.reductionLength} of element ${s.element} of ${layer}`;
    case Level.PartialSum:
      return `post its partial sum s_${s.sumIndex} of element ${s.element} of ${layer} (s_${s.lo} agreed, s_${s.hi} disputed)`;
    case Level.Step:
      return `run the final step: the one-step verifier computes element ${s.element} of ${layer} on-chain`;
    default:
      return "nothing: the game is over";
  }
}

function kindName(kind: number): string {
  return kind === 0 ? "?" : layerKindName(kind as LayerKind);
}

const short = (h: string): string => `${h.slice(0, 10)}…`;

/** One move, in words. */
export function moveText(m: Move): string {
  switch (m.kind) {
    case "root":
      return `trace root ${short(m.root)} (ends in the submitted output) and its children ${short(m.left)} ${short(m.right)}`;
    case "trace":
      return `trace children ${short(m.left)} ${short(m.right)}${m.descriptor !== "0x" ? " + the landing layer's descriptor" : ""}`;
    case "tensor":
      return `chunk-tree children ${short(m.left)} ${short(m.right)}`;
    case "defendChunk":
      return "the defender's chunk";
    case "challengeChunk":
      return "the challenger's chunk (beside the defender's)";
    case "sum":
      return `sum ${m.value}`;
    case "step":
      return `final step, proofs against the ${SIDE_NAMES[m.against]}'s trace (${(m.proofs.length - 2) / 2} bytes)`;
    case "timeout":
      return "timeout";
  }
}

// ------------------------------------------------------------------ reading a game

export interface GameOutcome {
  readonly status: GameStatus;
  readonly reason: string;
  /** Taken from the worker's locked stake (challenger wins). */
  readonly slashed: bigint;
  readonly burned: bigint;
  /** Pull balances credited in the factory for this game (its settlement, and the job's close if it won the reward). */
  readonly credits: readonly { readonly account: string; readonly amount: bigint }[];
  /**
   * The job's disputes as a whole: what the factory still holds for them (the slash, the worker's
   * shares of lost bonds) until every game has ended and no other can open, then what the close paid.
   */
  readonly job: JobDisputesOutcome;
}

/** What a job's disputes held, or paid when they closed (docs/DISPUTES.md "Closing a job's disputes"). */
export type JobDisputesOutcome =
  | { readonly closed: false; readonly slashed: bigint; readonly defenderRewards: bigint }
  | {
      readonly closed: true;
      /** The first-committed winning game, or zero when no game proved the result wrong. */
      readonly winnerGame: string;
      readonly challengerReward: bigint;
      readonly defenderReward: bigint;
      readonly burned: bigint;
    };

export interface GameView {
  readonly address: string;
  readonly jobId: bigint;
  readonly state: GameState;
  readonly defenderRoot: Hex;
  readonly challengerRoot: Hex;
  readonly bond: bigint;
  readonly challengerRewardBps: bigint;
  readonly defenderRewardBps: bigint;
  readonly moveTimeout: bigint;
  readonly settled: boolean;
  /** The worker's stake still locked for the job (its collateral). */
  readonly workerLock: bigint;
  readonly now: bigint;
  /** The side to move missed its deadline: anyone may call `timeout`. */
  readonly expired: boolean;
  /** Dispute balances (factory pull balances) of both sides. */
  readonly balances: { readonly defender: bigint; readonly challenger: bigint };
  readonly outcome?: GameOutcome;
  /** For a game on a batch job: the item it is about (from BatchItemDisputed) and the batch size. */
  readonly batchItem?: { readonly item: number; readonly of: number };
}

/** The whole of game `address`: state, bonds, clock, and how it ended. */
export async function describeGame(p: Protocol, address: string): Promise<GameView> {
  const provider = p.connection.ethers.provider;
  if (!/^0x[0-9a-fA-F]{40}$/.test(address)) throw new VeritensorError(`--game "${address}" is not an address`);
  const record = await p.disputes.gameRecord(address);
  if (record.challenger === ZeroAddress) {
    throw new VeritensorError(`${address} is not a dispute game of this deployment (\`dispute show --job N\` lists a job's games)`);
  }
  const game = DisputeGame__factory.connect(address, provider);
  const [state, config, now, job] = await Promise.all([readGame(game), game.config(), chainTime(p), getJob(p, record.jobId)]);
  const [named] = job.batchSize > 1n ? await p.disputes.queryFilter(p.disputes.filters.BatchItemDisputed(record.jobId, address)) : [];
  const [defenderBalance, challengerBalance] = await Promise.all([
    p.disputes.balanceOf(state.defender),
    p.disputes.balanceOf(state.challenger),
  ]);
  let outcome: GameOutcome | undefined;
  if (state.status !== GameStatus.InProgress) {
    const [resolved] = await game.queryFilter(game.filters.GameResolved());
    const [settled] = await p.disputes.queryFilter(p.disputes.filters.DisputeSettled(record.jobId, address));
    const credits = await p.disputes.queryFilter(p.disputes.filters.BalanceCredited(undefined, address));
    const held = await p.disputes.jobDisputes(record.jobId);
    const [closed] = held.closed ? await p.disputes.queryFilter(p.disputes.filters.DisputesClosed(record.jobId)) : [];
    outcome = {
      status: state.status,
      reason: resolved ? (REASONS[Number(resolved.args.reason)] ?? `reason ${resolved.args.reason}`) : "unknown",
      slashed: settled?.args.slashed ?? 0n,
      burned: settled?.args.burned ?? 0n,
      credits: credits.map((c) => ({ account: c.args.account, amount: c.args.amount })),
      job: closed
        ? {
            closed: true,
            winnerGame: closed.args.winnerGame,
            challengerReward: closed.args.challengerReward,
            defenderReward: closed.args.defenderReward,
            burned: closed.args.burned,
          }
        : { closed: false, slashed: held.slashed, defenderRewards: held.defenderRewards },
    };
  }
  return {
    address,
    jobId: record.jobId,
    state,
    defenderRoot: config.defenderRoot as Hex,
    challengerRoot: config.challengerRoot as Hex,
    bond: record.bond,
    challengerRewardBps: record.challengerRewardBps,
    defenderRewardBps: record.defenderRewardBps,
    moveTimeout: await game.moveTime(),
    settled: record.settled,
    workerLock: job.lockedStake,
    now,
    expired: state.status === GameStatus.InProgress && now > state.deadline,
    balances: { defender: defenderBalance, challenger: challengerBalance },
    ...(outcome ? { outcome } : {}),
    ...(named ? { batchItem: { item: Number(named.args.item), of: Number(job.batchSize) } } : {}),
  };
}

/** Every game opened on job `jobId`, oldest first. */
export async function describeJobGames(p: Protocol, jobId: bigint): Promise<GameView[]> {
  const job = await getJob(p, jobId);
  if (job.status === JobStatus.None) throw new VeritensorError(`unknown job ${jobId}: no job has that id`);
  const games = await p.disputes.gamesOf(jobId);
  return Promise.all(games.map((g) => describeGame(p, g)));
}

/** Rows of `key: value` describing `v`, for `report`. */
export function gameRows(v: GameView): [string, string | undefined][] {
  const s = v.state;
  const names = addressNamesOf(v);
  const rows: [string, string | undefined][] = [
    ["job", String(v.jobId)],
    ["batch item", v.batchItem ? `${v.batchItem.item} of the job's ${v.batchItem.of} inputs (the game is about its input and output; it settles the whole batch)` : undefined],
    ["defender", `${s.defender} (the worker; collateral: its locked stake${v.workerLock > 0n ? `, ${formatVtn(v.workerLock)}` : ""})`],
    ["challenger", `${s.challenger} (bond ${formatVtn(v.bond)})`],
    [
      "trace roots",
      `defender ${BigInt(v.defenderRoot) === 0n ? "not posted yet (its first move)" : short(v.defenderRoot)}, challenger ${short(v.challengerRoot)}`,
    ],
    ["rewards", `challenger ${formatBps(v.challengerRewardBps)} of the slash, defender ${formatBps(v.defenderRewardBps)} of the bond; the rest is burned`],
  ];
  if (v.outcome === undefined) {
    rows.push(
      ["level", levelText(s)],
      ["cursor", cursorText(s)],
      ["turn", `${SIDE_NAMES[s.turn]} (${names[s.turn]}): ${nextMoveText(s)}`],
      [
        "deadline",
        `${formatTime(s.deadline, v.now)}${v.expired ? `, missed: anyone may now run \`dispute timeout --game ${v.address}\`` : ""}; ${formatDuration(v.moveTimeout)} per move`,
      ],
    );
  } else {
    const o = v.outcome;
    rows.push(
      ["ended at", s.layer > 0 ? `${levelText(s).replace(/^resolved, /, "")}, element ${s.element}` : "the opening"],
      ["why", o.reason],
      ["slashed", o.slashed > 0n ? `${formatVtn(o.slashed)} of the worker's stake` : undefined],
      ["burned", formatVtn(o.burned)],
      ["credited", o.credits.length === 0 ? "nobody" : o.credits.map((c) => `${formatVtn(c.amount)} to ${c.account}`).join(", ")],
      ["job's disputes", jobDisputesText(o.job, v.address)],
    );
  }
  rows.push([
    "dispute balances",
    `defender ${formatVtn(v.balances.defender)}, challenger ${formatVtn(v.balances.challenger)} (\`dispute withdraw\`)`,
  ]);
  return rows;
}

/** What the job's disputes held or paid, in words. */
function jobDisputesText(j: JobDisputesOutcome, game: string): string {
  if (!j.closed) {
    return (
      `open (games still open, or the challenge window is): the factory holds ${formatVtn(j.slashed)} of slash and ` +
      `${formatVtn(j.defenderRewards)} for the worker, paid when they close (\`closeDisputes\`, anyone, once no game can open)`
    );
  }
  if (j.winnerGame === ZeroAddress) return `closed: the result stood; the worker got ${formatVtn(j.defenderReward)} of the lost bonds`;
  const who = j.winnerGame.toLowerCase() === game.toLowerCase() ? "this game (the first-committed winner)" : `game ${j.winnerGame} (the first-committed winner)`;
  return `closed: ${formatVtn(j.challengerReward)} of the slash to the challenger of ${who}, ${formatVtn(j.burned)} burned`;
}

export function gameTitle(v: GameView): string {
  const s = v.state;
  return `Dispute game ${v.address}: ${STATUS_NAMES[s.status]}${v.outcome === undefined && v.expired ? " (deadline missed)" : ""}`;
}

function addressNamesOf(v: GameView): Record<Side, string> {
  return { 0: v.state.defender, 1: v.state.challenger };
}

function levelText(s: GameState): string {
  const layer = s.layer > 0 ? `, layer ${s.layer} (${kindName(s.kind)}, ${s.numel} elements${s.reductionLength > 0 ? `, sums of ${s.reductionLength} terms` : ""})` : "";
  return `${LEVEL_NAMES[s.level]}${layer}`;
}

function cursorText(s: GameState): string | undefined {
  switch (s.level) {
    case Level.Trace:
      return `trace node ${s.position.index} at depth ${s.position.depth} of ${s.traceDepth}`;
    case Level.Tensor:
    case Level.Chunk:
      return `chunk-tree node ${s.position.index} at depth ${s.position.depth} of ${s.tensorDepth}`;
    case Level.Accumulator:
      return `element ${s.element}: defender ${s.defenderValue}, challenger ${s.challengerValue}`;
    case Level.PartialSum:
      return `element ${s.element}: partial sums s_${s.lo} agreed, s_${s.hi} disputed`;
    case Level.Step:
      return s.reductionLength === 0
        ? `element ${s.element}: defender ${s.defenderValue}, challenger ${s.challengerValue}`
        : s.lo === s.hi
          ? `element ${s.element}: agreed accumulator, the requantization is disputed`
          : `element ${s.element}: term ${s.lo} (s_${s.hi} from s_${s.lo})`;
    default:
      return undefined;
  }
}

// ------------------------------------------------------------------ opening

export interface OpenResult {
  readonly jobId: bigint;
  readonly game: string;
  readonly view: GameView;
  readonly bond: bigint;
  readonly run: ComputedResult;
  /** The rank of the challenger's commitment (the lowest-ranked winning game earns the reward). */
  readonly rank: bigint;
  /** The commitment's transaction (absent when it was already on chain). */
  readonly commit?: ContractTransactionReceipt;
  readonly receipt: ContractTransactionReceipt;
  readonly approval?: ContractTransactionReceipt;
}

/**
 * Re-runs job `jobId` with `modelFile` (checked against the registry) and, if the result the
 * worker submitted differs from that run, commits to a dispute from `challenger` and opens it in
 * the next block with the bond (approved if needed and allowed).
 */
export async function challengeJob(
  p: Protocol,
  challenger: Signer,
  jobId: bigint,
  modelFile: string,
  options: { approve: boolean },
): Promise<OpenResult> {
  const address = await challenger.getAddress();
  const job = await getJob(p, jobId);
  if (job.status === JobStatus.None) throw new VeritensorError(`unknown job ${jobId}: no job has that id`);
  if (job.status !== JobStatus.Submitted) {
    throw new VeritensorError(
      `job ${jobId} is ${jobStatusName(job.status)}: only a submitted result can be disputed, within its challenge window`,
    );
  }
  const now = await chainTime(p);
  if (now >= job.timer) {
    throw new VeritensorError(`the challenge window of job ${jobId} closed at ${formatTime(job.timer, now)}: it can no longer be disputed`);
  }
  if (job.worker.toLowerCase() === address.toLowerCase()) {
    throw new VeritensorError(`${address} is the worker of job ${jobId}: a worker cannot dispute its own result`);
  }
  const run = await computeJobResult(p, jobId, modelFile);
  const result = await submittedResultOf(p, jobId);
  const player = new DisputePlayer(Side.Challenger, challenger, run.model, run.trace);
  if (!player.disputes(result)) {
    throw new VeritensorError(
      `the result of job ${jobId} is correct: nothing to dispute (running ${modelFile} gives the same output, ${player.outputCommitment})`,
    );
  }
  const [stake, params] = await Promise.all([stakePosition(p, address), p.disputes.params()]);
  if (stake.staked < stake.minStake) {
    throw new VeritensorError(
      `${address} has ${formatVtn(stake.staked)} staked; a challenger needs at least the minimum stake of ${formatVtn(stake.minStake)} ` +
        `(\`npx hardhat stake add --from ${address} --amount ${formatVtn(stake.minStake - stake.staked).replace(/ VTN$/, "").replaceAll(",", "")} --network ${p.networkName}\`)`,
    );
  }
  const bond = params.challengeBond;
  const funds = await ensureFunds(p, challenger, p.addresses.disputeFactory, bond, {
    approve: options.approve,
    purpose: "the challenge bond",
  });
  // The salt comes from the challenger's own signature: a second run after a failed opening finds
  // the same commitment on chain and opens it, keeping its rank.
  const args = player.openArgs(result, await derivedSalt(challenger, p.addresses.disputeFactory, jobId, player.root));
  const commitment = disputeCommitment(jobId, address, args);
  let commit: ContractTransactionReceipt | undefined;
  if ((await p.disputes.commitmentInfo(commitment))[0] === 0n) {
    commit = await send(p, `committing to a dispute on job ${jobId}`, () => p.disputes.connect(challenger).commitDispute(commitment));
  }
  const [rank] = await p.disputes.commitmentInfo(commitment);
  const receipt = await send(p, `opening a dispute on job ${jobId}`, () =>
    p.disputes.connect(challenger).openDispute(jobId, openParams(args)),
  );
  const opened = receipt.logs
    .filter((l) => l.address.toLowerCase() === p.addresses.disputeFactory.toLowerCase())
    .map((l) => p.disputes.interface.parseLog(l))
    .find((e): e is LogDescription => e !== null && e.name === "DisputeOpened");
  if (!opened) throw new VeritensorError(`opening a dispute on job ${jobId}: no DisputeOpened event in ${receipt.hash}`);
  const game = String(opened.args.game);
  return {
    jobId,
    game,
    view: await describeGame(p, game),
    bond,
    run,
    rank,
    ...(commit ? { commit } : {}),
    receipt,
    ...(funds.approval ? { approval: funds.approval } : {}),
  };
}

// ------------------------------------------------------------------ moving

export interface MoveResult {
  readonly side: Side;
  readonly move: Move;
  readonly before: GameView;
  readonly after: GameView;
  readonly receipt: ContractTransactionReceipt;
}

/** The side `address` plays in `v`, or an error saying it plays none. */
export function sideOf(v: GameView, address: string): Side {
  const a = address.toLowerCase();
  if (a === v.state.defender.toLowerCase()) return Side.Defender;
  if (a === v.state.challenger.toLowerCase()) return Side.Challenger;
  throw new VeritensorError(
    `${address} plays no side in game ${v.address}: the defender is ${v.state.defender}, the challenger ${v.state.challenger} (use --from)`,
  );
}

function overText(v: GameView): string {
  return `game ${v.address} is over: ${STATUS_NAMES[v.state.status]} (${v.outcome?.reason ?? "settled"})`;
}

/**
 * Plays the next move of `signer`'s side in game `address`. The side's trace is the run of
 * `modelFile` on the job's input, forged with `cheat` for a worker that submitted a forged one;
 * it must hash to the root the side committed in the game.
 */
export async function playNextMove(
  p: Protocol,
  signer: Signer,
  address: string,
  modelFile: string,
  options: { cheat?: CheatSpec } = {},
): Promise<MoveResult> {
  const before = await describeGame(p, address);
  const s = before.state;
  if (s.status !== GameStatus.InProgress) throw new VeritensorError(`${overText(before)}; nothing left to play`);
  const me = await signer.getAddress();
  const side = sideOf(before, me);
  if (s.turn !== side) {
    const other = SIDE_NAMES[s.turn];
    const wait = before.expired
      ? `its deadline passed at ${formatTime(s.deadline, before.now)}: end the game with \`dispute timeout --game ${address}\` (the ${other} loses)`
      : `it has until ${formatTime(s.deadline, before.now)}; if it misses that, \`dispute timeout --game ${address}\` ends the game in your favour`;
    throw new VeritensorError(
      `it is not your turn in game ${address}: you are the ${SIDE_NAMES[side]}, the ${other} (${s.turn === Side.Defender ? s.defender : s.challenger}) must ${nextMoveText(s)}; ${wait}`,
    );
  }
  if (before.expired) {
    throw new VeritensorError(
      `you missed the deadline of your move in game ${address} (${formatTime(s.deadline, before.now)}): ` +
        `a late move is refused, the game can only end by \`dispute timeout\`, which the ${SIDE_NAMES[side]} loses`,
    );
  }
  const run = await computeJobResult(p, before.jobId, modelFile, options.cheat ? { cheat: options.cheat } : {});
  const player = new DisputePlayer(side, signer, run.model, run.trace);
  // The defender's trace must end in the output it submitted (its root is posted by its first move,
  // then fixed); the challenger's must be the root it opened the game with.
  const hint =
    side === Side.Defender
      ? "the worker defends the output it submitted: if it submitted with `job submit --run … --cheat X`, give the same --cheat X"
      : "the challenger plays the trace it opened the dispute with: run the same model file, without --cheat";
  if (side === Side.Defender && player.outputCommitment.toLowerCase() !== s.outputCommitment.toLowerCase()) {
    throw new VeritensorError(
      `your trace ends in output ${player.outputCommitment}, not in the output submitted for job ${before.jobId} (${s.outputCommitment}): ${hint}`,
    );
  }
  const committed = side === Side.Defender ? before.defenderRoot : before.challengerRoot;
  if (BigInt(committed) !== 0n && player.root.toLowerCase() !== committed.toLowerCase()) {
    throw new VeritensorError(
      `your trace root ${player.root} is not the one the ${SIDE_NAMES[side]} committed in game ${address} (${committed}): ${hint}`,
    );
  }
  const game = DisputeGame__factory.connect(address, signer);
  const move = await player.move(s, game);
  let receipt: ContractTransactionReceipt;
  try {
    receipt = await sendMove(game, signer, move);
  } catch (e) {
    return explainFailure(e, `playing the ${SIDE_NAMES[side]}'s ${LEVEL_NAMES[s.level]} move`, {
      names: addressNames(p),
      now: await chainTime(p),
    });
  }
  return { side, move, before, after: await describeGame(p, address), receipt };
}

// ------------------------------------------------------------------ timeout and withdraw

export interface TimeoutResult {
  readonly loser: Side;
  readonly before: GameView;
  readonly after: GameView;
  readonly receipt: ContractTransactionReceipt;
}

/** Ends game `address` because the side to move missed its deadline (anyone may). */
export async function timeoutGame(p: Protocol, caller: Signer, address: string): Promise<TimeoutResult> {
  const before = await describeGame(p, address);
  const s = before.state;
  if (s.status !== GameStatus.InProgress) throw new VeritensorError(`${overText(before)}; there is nothing to time out`);
  if (!before.expired) {
    throw new VeritensorError(
      `the ${SIDE_NAMES[s.turn]} still has time: its move (${nextMoveText(s)}) is due by ${formatTime(s.deadline, before.now)}; ` +
        `\`dispute timeout\` works once that deadline has passed`,
    );
  }
  const receipt = await send(p, `timing out game ${address}`, () => DisputeGame__factory.connect(address, caller).timeout());
  return { loser: s.turn, before, after: await describeGame(p, address), receipt };
}

export interface CloseResult {
  readonly jobId: bigint;
  readonly outcome: Extract<JobDisputesOutcome, { closed: true }>;
  readonly receipt: ContractTransactionReceipt;
}

/**
 * Closes job `jobId`'s disputes (anyone may): pays what the factory held for them, the reward to
 * the first-committed winner or the worker's shares of lost bonds, once no game is open on the job
 * and none can open any more. Usually the last settlement does it; this is for the case where the
 * last game ended while the challenge window was still open.
 */
export async function closeJobDisputes(p: Protocol, caller: Signer, jobId: bigint): Promise<CloseResult> {
  const held = await p.disputes.jobDisputes(jobId);
  if (held.gamesOpened === 0n) throw new VeritensorError(`job ${jobId} has no dispute to close: no game was ever opened on it`);
  if (held.closed) throw new VeritensorError(`the disputes of job ${jobId} are already closed (\`dispute show --job ${jobId}\` says what they paid)`);
  if (held.gamesOpen > 0n) {
    throw new VeritensorError(`job ${jobId} still has ${held.gamesOpen} game(s) in play: its disputes close when the last one ends`);
  }
  const job = await getJob(p, jobId);
  const now = await chainTime(p);
  if (job.status === JobStatus.Submitted && now < job.timer) {
    throw new VeritensorError(
      `the challenge window of job ${jobId} is open until ${formatTime(job.timer, now)}: another game could still open, so its disputes close after that`,
    );
  }
  const receipt = await send(p, `closing the disputes of job ${jobId}`, () => p.disputes.connect(caller).closeDisputes(jobId));
  const closed = receipt.logs
    .filter((l) => l.address.toLowerCase() === p.addresses.disputeFactory.toLowerCase())
    .map((l) => p.disputes.interface.parseLog(l))
    .find((e): e is LogDescription => e !== null && e.name === "DisputesClosed");
  if (!closed) throw new VeritensorError(`closing the disputes of job ${jobId}: no DisputesClosed event in ${receipt.hash}`);
  return {
    jobId,
    outcome: {
      closed: true,
      winnerGame: String(closed.args.winnerGame),
      challengerReward: closed.args.challengerReward as bigint,
      defenderReward: closed.args.defenderReward as bigint,
      burned: closed.args.burned as bigint,
    },
    receipt,
  };
}

/** What the close of a job's disputes paid, in words (for `dispute close`). */
export function closeText(o: CloseResult["outcome"]): string {
  return jobDisputesText(o, ZeroAddress);
}

/** What `dispute withdraw` returns (the same as any pull-payment withdrawal). */
export type DisputeWithdrawResult = WithdrawResult;
