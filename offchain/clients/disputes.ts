/**
 * Typed client of a DisputeGame clone and its factory (contracts/disputes/): one read of the whole
 * game state, one function per move, and the opening of a dispute. Shared by the player, the tests,
 * the bench and (later) the worker and verifier daemons.
 */
import type { ContractTransactionReceipt, Signer } from "ethers";
import { AbiCoder, getBytes, hexlify, keccak256, randomBytes, solidityPacked } from "ethers";

import type { DisputeGame, DisputeGameFactory, JobManager } from "../../types/ethers-contracts/index.js";
import { DisputeGame__factory } from "../../types/ethers-contracts/index.js";
import { batchCommitment } from "../commitments/batch.js";
import { VeritensorError } from "./errors.js";
import { escrowSubmittedCommitments, jobTerms, requestedTerms, submittedCommitments } from "./job-events.js";
import type { Protocol } from "./protocol.js";
import type { JobTerms } from "./terms.js";
import { waitMined } from "./wait.js";
import type { Hex } from "../commitments/merkle.js";
import { GameStatus, Level, Side } from "./game-types.js";

/** A node of a descent, decoded from the contract's generalized index (root = 1). */
export interface TreePosition {
  readonly depth: number;
  readonly index: number;
}

export function decodePosition(g: bigint): TreePosition {
  const depth = g.toString(2).length - 1;
  return { depth, index: Number(g - (1n << BigInt(depth))) };
}

/** Everything a player needs to choose its move, read in one round of calls. */
export interface GameState {
  readonly address: string;
  readonly status: GameStatus;
  readonly level: Level;
  readonly turn: Side;
  readonly deadline: bigint;
  readonly position: TreePosition;
  readonly traceDepth: number;
  readonly tensorDepth: number;
  readonly defenderNode: Hex;
  readonly challengerNode: Hex;
  readonly defenderLeft: Hex;
  readonly defenderRight: Hex;
  readonly layer: number;
  readonly kind: number;
  readonly numel: number;
  readonly reductionLength: number;
  readonly element: number;
  readonly defenderValue: number;
  readonly challengerValue: number;
  readonly lo: number;
  readonly hi: number;
  readonly sumIndex: number;
  readonly defender: string;
  readonly challenger: string;
  readonly numLayers: number;
  /** The input commitment the game starts from (trace leaf 0): the job's, or its disputed item's in a batch. */
  readonly inputCommitment: Hex;
  /** The job's output commitment (trace leaf L of the defender's root); its disputed item's in a batch. */
  readonly outputCommitment: Hex;
  /** The defender's trace root: zero until its first move posts it. */
  readonly defenderRoot: Hex;
  readonly challengerRoot: Hex;
}

export function attachGame(address: string, runner: Signer): DisputeGame {
  return DisputeGame__factory.connect(address, runner);
}

export async function readGame(game: DisputeGame): Promise<GameState> {
  const [status, level, turn, deadline, position, traceDepth, tensorDepth, dn, cn, dl, dr, d, dv, cv, r, sumIndex, cfg] =
    await Promise.all([
      game.status(),
      game.level(),
      game.turn(),
      game.deadline(),
      game.position(),
      game.traceDepth(),
      game.tensorDepth(),
      game.defenderNode(),
      game.challengerNode(),
      game.defenderLeft(),
      game.defenderRight(),
      game.disputed(),
      game.defenderValue(),
      game.challengerValue(),
      game.reduction(),
      game.sumIndex(),
      game.config(),
    ]);
  return {
    address: await game.getAddress(),
    status: Number(status) as GameStatus,
    level: Number(level) as Level,
    turn: Number(turn) as Side,
    deadline,
    position: decodePosition(position),
    traceDepth: Number(traceDepth),
    tensorDepth: Number(tensorDepth),
    defenderNode: dn as Hex,
    challengerNode: cn as Hex,
    defenderLeft: dl as Hex,
    defenderRight: dr as Hex,
    layer: Number(d.index),
    kind: Number(d.kind),
    numel: Number(d.numel),
    reductionLength: Number(d.reduction),
    element: Number(d.element),
    defenderValue: Number(dv),
    challengerValue: Number(cv),
    lo: Number(r.lo),
    hi: Number(r.hi),
    sumIndex: Number(sumIndex),
    defender: cfg.defender,
    challenger: cfg.challenger,
    numLayers: Number(cfg.numLayers),
    inputCommitment: cfg.inputCommitment as Hex,
    outputCommitment: cfg.outputCommitment as Hex,
    defenderRoot: cfg.defenderRoot as Hex,
    challengerRoot: cfg.challengerRoot as Hex,
  };
}

/** The defender's chunk as revealed in its {ChunkRevealed} event (the challenger needs it). */
export async function revealedDefenderChunk(game: DisputeGame): Promise<Hex> {
  const logs = await game.queryFilter(game.filters.ChunkRevealed(Side.Defender));
  const last = logs[logs.length - 1];
  if (!last) throw new Error("the defender has not revealed its chunk yet");
  return last.args.chunk as Hex;
}

/** One move, as a player computes it. */
export type Move =
  | { readonly kind: "root"; readonly root: Hex; readonly outputProof: readonly Hex[]; readonly left: Hex; readonly right: Hex }
  | { readonly kind: "trace"; readonly left: Hex; readonly right: Hex; readonly descriptor: Hex; readonly graphProof: readonly Hex[] }
  | { readonly kind: "tensor"; readonly left: Hex; readonly right: Hex }
  | { readonly kind: "defendChunk"; readonly chunk: Hex }
  | { readonly kind: "challengeChunk"; readonly defenderChunk: Hex; readonly chunk: Hex }
  | { readonly kind: "sum"; readonly value: number }
  | { readonly kind: "step"; readonly against: Side; readonly proofs: Hex }
  | { readonly kind: "timeout" };

export type MoveKind = Move["kind"];

/** Sends `move` from `signer`; returns the mined receipt. */
export async function sendMove(game: DisputeGame, signer: Signer, move: Move): Promise<ContractTransactionReceipt> {
  const g = game.connect(signer);
  let tx;
  switch (move.kind) {
    case "root":
      tx = await g.postRoot(move.root, [...move.outputProof], move.left, move.right);
      break;
    case "trace":
      tx = await g.traceMove(move.left, move.right, move.descriptor, [...move.graphProof]);
      break;
    case "tensor":
      tx = await g.tensorMove(move.left, move.right);
      break;
    case "defendChunk":
      tx = await g.defendChunk(move.chunk);
      break;
    case "challengeChunk":
      tx = await g.challengeChunk(move.defenderChunk, move.chunk);
      break;
    case "sum":
      tx = await g.postSum(move.value);
      break;
    case "step":
      tx = await g.step(move.against, move.proofs);
      break;
    case "timeout":
      tx = await g.timeout();
      break;
  }
  const receipt = await waitMined(tx);
  if (!receipt) throw new Error(`move ${move.kind} was not mined`);
  return receipt;
}

/**
 * A job's result as its worker submitted it (the output commitment: no trace is bound until a
 * dispute), with the job's terms. The escrow stores only a hash of both; they come from the job's
 * JobRequested and ResultSubmitted events. For one item of a batch ({@link itemOfBatch}), the
 * input and output commitments are the item's, and `batch` says which item and opens the job's.
 */
export interface SubmittedResult {
  readonly inputCommitment: Hex;
  readonly outputCommitment: Hex;
  readonly terms: JobTerms;
  readonly batch?: BatchItem;
}

/** The item of a batch a dispute is about, with the lists that open the job's batch commitments. */
export interface BatchItem {
  /** The item (0 to the batch size − 1). */
  readonly item: number;
  /** Every item's input tensor commitment: their batch commitment is the terms' input commitment. */
  readonly inputItems: readonly Hex[];
  /** Every item's submitted output tensor commitment: their batch commitment is the job's output commitment. */
  readonly outputItems: readonly Hex[];
  /** The job's output commitment, as submitted (the batch commitment of `outputItems`). */
  readonly outputCommitment: Hex;
}

/**
 * Item `item` of a batch job's submitted `result`: its input and output commitments from the item
 * lists, which must open the job's (the terms' input commitment, the submitted output commitment),
 * as the dispute factory will check.
 */
export function itemOfBatch(result: SubmittedResult, item: number, inputItems: readonly Hex[], outputItems: readonly Hex[]): SubmittedResult {
  if (!Number.isInteger(item) || item < 0 || item >= inputItems.length || inputItems.length !== outputItems.length) {
    throw new VeritensorError(`item ${item} is not one of the batch's ${inputItems.length} items (with ${outputItems.length} outputs)`);
  }
  const inputs = batchCommitment(inputItems);
  if (inputs !== result.terms.inputCommitment.toLowerCase()) {
    throw new VeritensorError(`the batch's input items commit to ${inputs}, the job to ${result.terms.inputCommitment}`);
  }
  const outputs = batchCommitment(outputItems);
  if (outputs !== result.outputCommitment.toLowerCase()) {
    throw new VeritensorError(`the batch's output items commit to ${outputs}, the submitted result to ${result.outputCommitment}`);
  }
  return {
    inputCommitment: inputItems[item]!,
    outputCommitment: outputItems[item]!,
    terms: result.terms,
    batch: { item, inputItems: [...inputItems], outputItems: [...outputItems], outputCommitment: result.outputCommitment },
  };
}

/**
 * Job `jobId`'s submitted result and terms, from the escrow's events searched back from the head
 * in windows (what nodes and tasks use on any network; see `newestEvents`).
 */
export async function submittedResultOf(p: Protocol, jobId: bigint): Promise<SubmittedResult> {
  const [terms, r] = await Promise.all([jobTerms(p, jobId), submittedCommitments(p, jobId)]);
  return { inputCommitment: terms.inputCommitment as Hex, outputCommitment: r.outputCommitment as Hex, terms };
}

/** {@link submittedResultOf} on a bare escrow contract, for callers without a {@link Protocol} (contract tests, the dispute bench). */
export async function submittedResult(jobManager: JobManager, jobId: bigint): Promise<SubmittedResult> {
  const [terms, r] = await Promise.all([requestedTerms(jobManager, jobId), escrowSubmittedCommitments(jobManager, jobId)]);
  return { inputCommitment: terms.inputCommitment as Hex, outputCommitment: r.outputCommitment as Hex, terms };
}

/** What opening a dispute needs besides the job id (the challenger computes it, see player.ts). */
export interface OpenArgs {
  readonly result: SubmittedResult;
  readonly challengerRoot: Hex;
  readonly header: Hex;
  readonly headerProof: readonly Hex[];
  /** Trace leaf L of `challengerRoot`: the challenger's output commitment (must differ from the job's). */
  readonly outputLeaf: Hex;
  /** Its Merkle proof against `challengerRoot`. */
  readonly outputProof: readonly Hex[];
  /** The secret the challenger's commitment hides its claim with (revealed when it opens). */
  readonly salt: Hex;
}

/** A fresh secret for a dispute commitment. */
export function randomSalt(): Hex {
  return hexlify(randomBytes(32)) as Hex;
}

/**
 * The salt `signer` uses for its claim on `jobId`: a hash of its own signature over the claim, so
 * that nobody else can compute it before the reveal, and a restarted node finds the same one
 * without storing it (ECDSA signatures here are deterministic, RFC 6979).
 */
export async function derivedSalt(signer: Signer, factory: string, jobId: bigint, challengerRoot: Hex): Promise<Hex> {
  const claim = solidityPacked(["string", "address", "uint256", "bytes32"], ["veritensor dispute salt", factory, jobId, challengerRoot]);
  return keccak256(await signer.signMessage(getBytes(claim))) as Hex;
}

/** The commitment `challenger` makes before opening with `a` (`commitmentOf` on the factory). */
export function disputeCommitment(jobId: bigint, challenger: string, a: OpenArgs): Hex {
  return keccak256(
    AbiCoder.defaultAbiCoder().encode(
      ["uint256", "address", "bytes32", "bytes32", "bytes32"],
      [jobId, challenger, a.challengerRoot, a.outputLeaf, a.salt],
    ),
  ) as Hex;
}

/**
 * Commits `signer` to the claim `a` on `jobId`, unless that commitment is already on chain (a node
 * that restarts after committing); returns the commitment's rank and the receipt if it sent one.
 */
export async function commitDispute(
  factory: DisputeGameFactory,
  signer: Signer,
  jobId: bigint,
  a: OpenArgs,
): Promise<{ commitment: Hex; rank: bigint; receipt?: ContractTransactionReceipt }> {
  const commitment = disputeCommitment(jobId, await signer.getAddress(), a);
  const [known] = await factory.commitmentInfo(commitment);
  if (known !== 0n) return { commitment, rank: known };
  const receipt = await waitMined(await factory.connect(signer).commitDispute(commitment));
  if (!receipt) throw new Error("commitDispute was not mined");
  const [rank] = await factory.commitmentInfo(commitment);
  return { commitment, rank, receipt };
}

/**
 * The factory's `OpenParams` tuple for `a`: for an item of a batch, the job's output commitment
 * with the item and both lists (the game is configured with the item's commitments); for a single
 * job, item 0 and no lists.
 */
export function openParams(a: OpenArgs) {
  const { terms, batch } = a.result;
  return {
    terms,
    outputCommitment: batch?.outputCommitment ?? a.result.outputCommitment,
    challengerRoot: a.challengerRoot,
    header: a.header,
    headerProof: [...a.headerProof],
    outputLeaf: a.outputLeaf,
    outputProof: [...a.outputProof],
    salt: a.salt,
    item: batch?.item ?? 0,
    inputItems: [...(batch?.inputItems ?? [])],
    outputItems: [...(batch?.outputItems ?? [])],
  };
}

/**
 * Opens a dispute on `jobId` from `signer` (stake and bond allowance in place): commits to the claim
 * (unless already committed), then reveals it in a later block (the commitment's block is sealed
 * once its receipt is in). Returns the game, the opening's receipt and the commitment's.
 */
export async function openDispute(
  factory: DisputeGameFactory,
  signer: Signer,
  jobId: bigint,
  a: OpenArgs,
): Promise<{ game: DisputeGame; receipt: ContractTransactionReceipt; commit?: ContractTransactionReceipt }> {
  const committed = await commitDispute(factory, signer, jobId, a);
  const opened = await revealDispute(factory, signer, jobId, a);
  return { ...opened, ...(committed.receipt ? { commit: committed.receipt } : {}) };
}

/** Opens the dispute `signer` committed to with `a` (see {@link commitDispute}); returns the game. */
export async function revealDispute(
  factory: DisputeGameFactory,
  signer: Signer,
  jobId: bigint,
  a: OpenArgs,
): Promise<{ game: DisputeGame; receipt: ContractTransactionReceipt }> {
  const tx = await factory
    .connect(signer)
    .openDispute(jobId, openParams(a));
  const receipt = await waitMined(tx);
  if (!receipt) throw new Error("openDispute was not mined");
  const opened = receipt.logs
    .map((l) => {
      try {
        return factory.interface.parseLog(l);
      } catch {
        return null;
      }
    })
    .find((e) => e?.name === "DisputeOpened");
  if (!opened) throw new Error("no DisputeOpened event");
  return { game: attachGame(opened.args.game as string, signer), receipt };
}
