/**
 * A dispute player: plays EITHER side of a DisputeGame (docs/DISPUTES.md) from a model, the job
 * input and that side's own trace, honest or not. Each call to {DisputePlayer.move} computes the
 * side's move for the current game state: the defender's trace root with its output proof (its
 * first move: a result binds no trace until disputed), its children at the cursor (trace, then tensor level),
 * its chunk, its accumulator and partial sums, and the final-step proofs (through the one-step
 * prover in proofs.ts). {playToEnd} runs both sides in one process (tests, bench); the worker and
 * verifier daemons call {DisputePlayer.move} for their own side only.
 *
 * A side whose trace holds a wrong value plays consistently with its lie: its partial sums are
 * the honest ones except the last, which it sets so that its claimed value follows from it.
 */
import type { ContractTransactionReceipt, Signer } from "ethers";

import type { DisputeGame } from "../../types/ethers-contracts/index.js";
import { encodeHeader, graphLeafProof } from "../commitments/graph.js";
import type { Hex, MerkleTree } from "../commitments/merkle.js";
import { toHex } from "../commitments/merkle.js";
import { canonicalBytes, chunkOf } from "../commitments/tensor.js";
import type { CanonicalModel } from "../model/canonical.js";
import { ConvConst, ConvParam, DenseConst, DenseParam, LayerKind, MatMulConst, MatMulParam } from "../model/layers.js";
import type { GameState, Move, MoveKind, OpenArgs, SubmittedResult } from "../clients/disputes.js";
import { randomSalt, readGame, revealedDefenderChunk, sendMove } from "../clients/disputes.js";
import { GameStatus, Level, Side } from "../clients/game-types.js";
import { StepProver, isSum } from "./proofs.js";
import { StepPhase } from "../clients/game-types.js";


/** How a side plays. */
export interface Strategy {
  /** Stop moving at this level (the side then loses by timeout). */
  readonly stallAt?: Level;
}

export class DisputePlayer {
  readonly side: Side;
  readonly signer: Signer;
  readonly prover: StepProver;
  readonly strategy: Strategy;
  private readonly sums = new Map<string, number[]>();

  /**
   * @param trace The side's own trace [input, out_1, …, out_L] (honest or not).
   */
  constructor(side: Side, signer: Signer, model: CanonicalModel, trace: readonly Int32Array[], strategy: Strategy = {}) {
    this.side = side;
    this.signer = signer;
    this.prover = new StepProver(model, trace);
    this.strategy = strategy;
  }

  get model(): CanonicalModel {
    return this.prover.model;
  }

  /** The side's trace root. */
  get root(): Hex {
    return this.traceTree().rootHex;
  }

  /** The side's trace tree (a test may forge one). */
  protected traceTree(): MerkleTree {
    return this.prover.traceCommitment.tree;
  }

  /** The side's chunk tree of trace tensor `k` (a test may forge one). */
  protected tensorTree(k: number): MerkleTree {
    return this.prover.traceCommitment.tensors[k]!.tree;
  }

  /** The side's output commitment (trace leaf L). */
  get outputCommitment(): Hex {
    const t = this.prover.traceCommitment.tensors;
    return t[t.length - 1]!.root;
  }

  /** Merkle proof of trace leaf L (the output) in the side's trace tree. */
  outputProof(): Hex[] {
    return this.traceTree().proofHex(this.model.layers.length);
  }

  /**
   * Whether a challenger holding this trace has a case against a result: its output differs from
   * the submitted one (a correct output is a correct result, whatever trace the worker would post).
   */
  disputes(result: SubmittedResult): boolean {
    return result.outputCommitment.toLowerCase() !== this.outputCommitment.toLowerCase();
  }

  /**
   * The challenger's arguments to `openDispute` against the submitted `result`, its commitment
   * hidden with `salt` (a fresh random one by default; nodes derive theirs, see `derivedSalt`).
   */
  openArgs(result: SubmittedResult, salt: Hex = randomSalt()): OpenArgs {
    const g = this.prover.graph;
    const L = this.model.layers.length;
    return {
      result,
      challengerRoot: this.root,
      header: encodeHeader(this.model),
      headerProof: graphLeafProof(g, 0),
      outputLeaf: toHex(this.traceTree().leaf(L)),
      outputProof: this.outputProof(),
      salt,
    };
  }

  /** Whether this side must act in `state` (the step is the challenger's to have run). */
  mustMove(state: GameState): boolean {
    if (state.status !== GameStatus.InProgress) return false;
    return state.turn === this.side;
  }

  /** Whether the strategy makes the side stop at `state`. */
  stalls(state: GameState): boolean {
    return this.strategy.stallAt === state.level;
  }

  /** The side's move in `state` (it must be its turn). */
  async move(state: GameState, game: DisputeGame): Promise<Move> {
    switch (state.level) {
      case Level.Root: {
        // The defender's first move: its trace root, bound to its output, and the root's children.
        const { left, right } = this.children(this.traceTree(), state.traceDepth, state);
        return { kind: "root", root: this.root, outputProof: this.outputProof(), left, right };
      }
      case Level.Trace:
        return this.traceMove(state);
      case Level.Tensor: {
        const { left, right } = this.children(this.tensorTree(state.layer), state.tensorDepth, state);
        return { kind: "tensor", left, right };
      }
      case Level.Chunk: {
        const chunk = this.chunk(state);
        if (this.side === Side.Defender) return { kind: "defendChunk", chunk };
        return { kind: "challengeChunk", defenderChunk: await revealedDefenderChunk(game), chunk };
      }
      case Level.Accumulator:
      case Level.PartialSum:
        return { kind: "sum", value: this.sumsOf(state.layer, state.element)[state.sumIndex]! };
      case Level.Step:
        return { kind: "step", against: this.side, proofs: this.stepProofs(state) };
      default:
        throw new Error(`no move at level ${state.level}`);
    }
  }

  private traceMove(state: GameState): Move {
    const { left, right } = this.children(this.traceTree(), state.traceDepth, state);
    const none = { descriptor: "0x" as Hex, graphProof: [] as Hex[] };
    if (this.side === Side.Defender || state.position.depth + 1 < state.traceDepth) return { kind: "trace", left, right, ...none };
    // The challenger's landing move opens the layer it lands on, if it is one.
    const k = 2 * state.position.index + (state.defenderLeft.toLowerCase() === left.toLowerCase() ? 1 : 0);
    if (k < 1 || k > state.numLayers) return { kind: "trace", left, right, ...none };
    return { kind: "trace", left, right, ...this.prover.descriptor(k) };
  }

  private children(tree: { levels: readonly Buffer[]; depth: number }, depth: number, state: GameState): { left: Hex; right: Hex } {
    if (tree.depth !== depth) throw new Error(`tree of depth ${tree.depth}, the game says ${depth}`);
    const level = tree.levels[depth - state.position.depth - 1]!;
    const i = 2 * state.position.index;
    return { left: toHex(level.subarray(i * 32, i * 32 + 32)), right: toHex(level.subarray(i * 32 + 32, i * 32 + 64)) };
  }

  private chunk(state: GameState): Hex {
    return toHex(chunkOf(canonicalBytes(this.prover.trace[state.layer]!), state.position.index));
  }

  /** s_0..s_L as this side claims them: honest, except s_L when its value of the element is a lie. */
  sumsOf(k: number, e: number): number[] {
    const key = `${k}:${e}`;
    const hit = this.sums.get(key);
    if (hit) return hit;
    const s = this.prover.partialSums(k, e);
    const layer = this.prover.layer(k);
    const claimed = this.prover.trace[k]![e]!;
    if (!isSum(layer.kind)) return s;
    const truth = requantize(layer, e, s[s.length - 1]!);
    if (claimed !== truth) s[s.length - 1] = claimed * 2 ** shiftOf(layer, e);
    this.sums.set(key, s);
    return s;
  }

  private stepProofs(state: GameState): Hex {
    const p = this.prover;
    const k = state.layer;
    const e = state.element;
    if (state.reductionLength === 0) return p.proofs(k, e, StepPhase.Direct);
    if (state.lo === state.hi) return p.proofs(k, e, StepPhase.Final);
    return p.proofs(k, e, StepPhase.Reduce, state.lo);
  }
}

type SumLayer = { kind: number; params: readonly number[]; outShape: readonly number[]; constants: readonly { values: Int32Array }[] };

/** The shift of element e of a DENSE (per unit m = e mod M), MATMUL (one) or CONV (per channel) layer. */
function shiftOf(layer: SumLayer, e: number): number {
  if (layer.kind === LayerKind.DENSE) return layer.constants[DenseConst.S]!.values[e % layer.params[DenseParam.M]!]!;
  if (layer.kind === LayerKind.MATMUL) return layer.constants[MatMulConst.S]!.values[0]!;
  const m = Math.floor(e / (layer.outShape[2]! * layer.outShape[3]!));
  return layer.constants[ConvConst.S]!.values[m]!;
}

/** y = clip(s_K >> s, lo, hi) of a DENSE, CONV or MATMUL element. */
function requantize(layer: SumLayer, e: number, acc: number): number {
  const [LO, HI] = layer.kind === LayerKind.DENSE ? [DenseParam.LO, DenseParam.HI]
    : layer.kind === LayerKind.MATMUL ? [MatMulParam.LO, MatMulParam.HI] : [ConvParam.LO, ConvParam.HI];
  const v = Math.floor(acc / 2 ** shiftOf(layer, e));
  return Math.min(Math.max(v, layer.params[LO]!), layer.params[HI]!);
}

// ------------------------------------------------------------------ both sides in one process

/** One sent transaction of a game. */
export interface MoveRecord {
  readonly side: Side;
  readonly kind: MoveKind;
  readonly level: Level;
  readonly gasUsed: bigint;
}

export interface PlayResult {
  readonly status: GameStatus;
  readonly moves: readonly MoveRecord[];
  /** Transactions sent by each side (a timeout call counts for the side that sends it). */
  readonly txs: Readonly<Record<"defender" | "challenger", number>>;
  readonly totalGas: bigint;
  readonly maxGas: bigint;
}

export interface PlayOptions {
  /** Moves time past `deadline` (tests: networkHelpers.time.increaseTo). */
  readonly advanceTo: (timestamp: bigint) => Promise<void>;
  /** Safety bound on the number of moves. */
  readonly maxMoves?: number;
}

/**
 * Plays `game` to its end with both sides: each moves in turn; a side that stalls is timed out by
 * the other once its deadline has passed.
 */
export async function playToEnd(
  game: DisputeGame,
  players: { defender: DisputePlayer; challenger: DisputePlayer },
  opts: PlayOptions,
): Promise<PlayResult> {
  const moves: MoveRecord[] = [];
  const record = (side: Side, kind: MoveKind, level: Level, r: ContractTransactionReceipt) =>
    moves.push({ side, kind, level, gasUsed: r.gasUsed });
  const limit = opts.maxMoves ?? 400;
  for (let i = 0; i < limit; i++) {
    const state = await readGame(game);
    if (state.status !== GameStatus.InProgress) return summarize(state.status, moves);
    const mover = state.turn === Side.Defender ? players.defender : players.challenger;
    const other = mover === players.defender ? players.challenger : players.defender;
    if (mover.stalls(state)) {
      await opts.advanceTo(state.deadline + 1n);
      const r = await sendMove(game, other.signer, { kind: "timeout" });
      record(other.side, "timeout", state.level, r);
      continue;
    }
    const move = await mover.move(state, game);
    record(mover.side, move.kind, state.level, await sendMove(game, mover.signer, move));
  }
  throw new Error(`the game did not end within ${limit} moves`);
}

function summarize(status: GameStatus, moves: readonly MoveRecord[]): PlayResult {
  let totalGas = 0n;
  let maxGas = 0n;
  for (const m of moves) {
    totalGas += m.gasUsed;
    if (m.gasUsed > maxGas) maxGas = m.gasUsed;
  }
  return {
    status,
    moves,
    txs: {
      defender: moves.filter((m) => m.side === Side.Defender).length,
      challenger: moves.filter((m) => m.side === Side.Challenger).length,
    },
    totalGas,
    maxGas,
  };
}
