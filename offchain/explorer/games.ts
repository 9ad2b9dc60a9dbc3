/**
 * A dispute game as the explorer shows it, from the game's and the factory's indexed events: every
 * move with both sides' clocks, the bisection level by level as it narrowed (trace nodes, the
 * layer, chunk-tree nodes, the element, the partial sums), the one-step check at the bottom decoded
 * from the step's calldata (the verifier's own index mapping, offchain/disputes/proofs.ts, names each
 * operand), and the bonds, slashes and payouts. Positions, levels and enums are read with the
 * clients (offchain/clients/disputes.ts, game-types.ts).
 */
import { AbiCoder, getBytes } from "ethers";

import { DisputeGame__factory } from "../../types/ethers-contracts/index.js";
import { REASONS, STATUS_NAMES, nextMoveText } from "../cli/disputes.js";
import { decodePosition, readGame } from "../clients/disputes.js";
import { GameStatus, Level, StepPhase } from "../clients/game-types.js";
import type { Protocol } from "../clients/protocol.js";
import { LAYER_TYPES } from "../commitments/graph.js";
import { STEP_PROOFS_TYPE, isSum, stepReads } from "../disputes/proofs.js";
import type { LayerKind } from "../model/layers.js";
import {
  AddConst, ConstConst, ConvConst, DenseConst, GatherConst, LayerKind as Kind, LutConst, MatMulConst, MulConst, ProductConst, layerKindName,
} from "../model/layers.js";
import type { CanonicalLayer } from "../model/types.js";
import type { DescentStep, GameDetail, GameSummary, Move, Operand, StepCheck, SumRound } from "./api.js";
import { INTERFACES } from "./catalog.js";
import type { EventRow, ExplorerDb } from "./database.js";
import { amount, at, receipts, transaction } from "./view.js";

type Row = Record<string, unknown>;
type SideName = "defender" | "challenger";

const sideName = (s: string | number): SideName => (Number(s) === 0 ? "defender" : "challenger");
const other = (s: SideName): SideName => (s === "defender" ? "challenger" : "defender");
const kindText = (k: number | null | undefined): string | undefined => (k === null || k === undefined || k === 0 ? undefined : layerKindName(k as LayerKind));

export function gameSummary(r: Row): GameSummary {
  return {
    game: r.game as string,
    job: Number(r.job_id),
    ...(r.defender ? { defender: r.defender as string } : {}),
    challenger: r.challenger as string,
    status: STATUS_NAMES[Number(r.status) as GameStatus],
    level: r.level as string,
    ...(r.layer !== null ? { layer: Number(r.layer) } : {}),
    ...(kindText(r.kind as number | null) ? { kind: kindText(r.kind as number) } : {}),
    ...(r.element !== null ? { element: Number(r.element) } : {}),
    ...(r.item !== null && r.item !== undefined ? { item: Number(r.item) } : {}),
    moves: Number(r.moves),
    opened: { block: Number(r.opened_block), tx: "", ...(r.opened_at !== null ? { time: Number(r.opened_at) } : {}) },
    ...(r.resolved_at !== null ? { resolvedAt: Number(r.resolved_at) } : {}),
  };
}

/** The descent of one level (trace or tensor) from its `ChildrenRevealed` events, in order. */
function descent(events: readonly EventRow[]): { steps: DescentStep[]; leaf?: number } {
  const steps: DescentStep[] = [];
  const byPosition = new Map<string, number>();
  for (const e of events) {
    const position = String(e.args.position);
    let i = byPosition.get(position);
    if (i === undefined) {
      const { depth, index } = decodePosition(BigInt(position));
      i = steps.push({ depth, index }) - 1;
      byPosition.set(position, i);
    }
    const children = { left: e.args.left as string, right: e.args.right as string };
    steps[i] = { ...steps[i]!, [sideName(e.args.side as string)]: children };
  }
  let leaf: number | undefined;
  for (const [i, s] of steps.entries()) {
    if (!s.defender || !s.challenger) continue;
    const went = s.defender.left !== s.challenger.left ? "left" : "right";
    steps[i] = { ...s, went };
    leaf = s.index * 2 + (went === "left" ? 0 : 1);
  }
  return { steps, ...(leaf !== undefined ? { leaf } : {}) };
}

/** The reduction level's rounds from `SumPosted`: the accumulators, then each bisection round. */
function reduction(events: readonly EventRow[], length: number): GameDetail["reduction"] {
  const rounds: SumRound[] = [];
  let lo = 0;
  let hi = length;
  let final: "Final" | "Reduce" | undefined;
  for (const e of events) {
    const index = Number(e.args.index);
    const side = sideName(e.args.side as string);
    let r = rounds[rounds.length - 1];
    if (!r || r.index !== index || (r.defender !== undefined && r.challenger !== undefined)) {
      r = { index };
      rounds.push(r);
    }
    const next: SumRound = { ...r, [side]: e.args.value as string };
    if (next.defender !== undefined && next.challenger !== undefined) {
      const agreed = next.defender === next.challenger;
      if (index === length && rounds.length === 1) {
        if (agreed) final = "Final";
        else [lo, hi] = [0, length];
      } else if (agreed) lo = index;
      else hi = index;
      rounds[rounds.length - 1] = { ...next, agreed, lo, hi };
    } else rounds[rounds.length - 1] = next;
  }
  if (final === undefined && hi === lo + 1) final = "Reduce";
  return { length, rounds, ...(final ? { final } : {}) };
}

/** Names of each kind's constants, by their index in the layout (offchain/model/layers.ts). */
const CONST_NAMES: Partial<Record<number, Readonly<Record<string, number>>>> = {
  [Kind.DENSE]: DenseConst,
  [Kind.CONV]: ConvConst,
  [Kind.ADD]: AddConst,
  [Kind.MUL]: MulConst,
  [Kind.LUT]: LutConst,
  [Kind.MATMUL]: MatMulConst,
  [Kind.PRODUCT]: ProductConst,
  [Kind.GATHER]: GatherConst,
  [Kind.CONST]: ConstConst,
};

const constName = (kind: number, c: number): string => Object.entries(CONST_NAMES[kind] ?? {}).find(([, i]) => i === c)?.[0] ?? `c${c}`;

const elementOf = (chunk: string, index: number): number => {
  const b = getBytes(chunk);
  const off = (index % 256) * 4;
  return off + 4 <= b.length ? new DataView(b.buffer, b.byteOffset).getInt32(off, true) : 0;
};

interface StepInputs {
  readonly stepped: EventRow;
  readonly element: number;
  readonly layerIndex: number;
  readonly reduction?: GameDetail["reduction"];
  readonly elementClaims?: { defender: string; challenger: string };
}

/** The one-step check: the op, the operands the step's proofs opened (named by the verifier's own mapping), the claims and the truth. */
async function stepCheck(p: Protocol, db: ExplorerDb, s: StepInputs): Promise<StepCheck> {
  const truth = String(s.stepped.args.truth);
  const red = s.reduction;
  const phase: StepCheck["phase"] = red === undefined || red.length === 0 ? "Direct" : red.final === "Final" ? "Final" : "Reduce";
  const last = red?.rounds[red.rounds.length - 1];
  const term = phase === "Reduce" ? (last?.lo ?? 0) : undefined;
  const hi = phase === "Reduce" ? (last?.hi ?? 0) : undefined;
  const hiRound = red?.rounds.find((r) => r.index === hi && r.agreed === false);
  const claim =
    phase === "Reduce" ? `partial sum s_${hi} of element ${s.element} of layer ${s.layerIndex}` : `element ${s.element} of layer ${s.layerIndex}`;
  const base = {
    phase,
    ...(term !== undefined ? { term } : {}),
    claim,
    ...(phase === "Reduce"
      ? { ...(hiRound?.defender ? { defenderValue: hiRound.defender } : {}), ...(hiRound?.challenger ? { challengerValue: hiRound.challenger } : {}) }
      : s.elementClaims
        ? { defenderValue: s.elementClaims.defender, challengerValue: s.elementClaims.challenger }
        : {}),
    truth,
    caller: String(s.stepped.args.caller).toLowerCase(),
    at: at(s.stepped),
  };
  const tx = await transaction(p, db, s.stepped.txHash, s.stepped.block);
  let parsed;
  try {
    parsed = tx ? INTERFACES.game.parseTransaction({ data: tx.input }) : null;
  } catch {
    parsed = null;
  }
  if (!parsed || parsed.name !== "step") {
    return { ...base, op: "?", operands: [], note: "the step was not sent as a direct call to the game: its proofs are not in the transaction's calldata" };
  }
  const against = sideName(Number(parsed.args[0] as bigint));
  const [proofs] = AbiCoder.defaultAbiCoder().decode([STEP_PROOFS_TYPE], parsed.args[1] as string);
  const [kindN, inputs, outShape, params] = AbiCoder.defaultAbiCoder().decode([...LAYER_TYPES], proofs.descriptor as string);
  const kind = Number(kindN) as LayerKind;
  const openings = (proofs.openings as { chunk: string }[]).map((o) => o.chunk);
  const first = openings[0] !== undefined ? elementOf(openings[0], kind === Kind.GATHER ? s.element : s.element) : 0;
  const layer = {
    index: s.layerIndex,
    kind,
    name: "",
    nodes: [],
    inputs: (inputs as bigint[]).map(Number),
    outShape: (outShape as bigint[]).map(Number),
    params: (params as bigint[]).map(Number),
    // GATHER's reads depend on its index table's element, opened first; nothing else reads a constant's values.
    constants: kind === Kind.GATHER ? [{ values: sparse(s.element, first) }] : [],
    outputName: "",
    range: [0, 0],
  } as unknown as CanonicalLayer;
  // LUT's table entry depends on the input element, opened first.
  const traceInputs = layer.inputs.map(() => sparse(s.element, first));
  const stepPhase = phase === "Direct" ? StepPhase.Direct : phase === "Final" ? StepPhase.Final : StepPhase.Reduce;
  let reads: ReturnType<typeof stepReads>;
  try {
    reads = stepReads(layer, s.element, stepPhase, term ?? 0, traceInputs);
  } catch {
    reads = [];
  }
  const operands: Operand[] = openings.map((chunk, i) => {
    const r = reads[i];
    if (!r) return { name: `opening ${i + 1}`, index: -1, value: "?" };
    const name =
      r.from === "input"
        ? `${layer.inputs.length > 1 ? ["a", "b", "c", "d"][r.slot] ?? `in${r.slot}` : "x"}[${r.index}] (trace leaf ${layer.inputs[r.slot]})`
        : `${constName(kind, r.c)}[${r.index}]`;
    return { name, index: r.index, value: String(elementOf(chunk, r.index)) };
  });
  let formula: string | undefined;
  const value = (i: number) => operands[i]?.value ?? "?";
  if (phase === "Reduce" && term !== undefined && hi !== undefined) {
    const agreed = term === 0 ? (kind === Kind.MATMUL ? "0" : kind === Kind.MAXPOOL ? String(-(2 ** 24)) : value(0)) : (red?.rounds.find((r) => r.index === term && r.agreed)?.defender ?? "?");
    const terms = operands.slice(term === 0 && (kind === Kind.DENSE || kind === Kind.CONV) ? 1 : 0);
    if (isSum(kind)) {
      formula = terms.length === 2
        ? `s_${hi} = s_${term} + ${terms[0]!.name.split(" ")[0]}·${terms[1]!.name.split(" ")[0]} = ${agreed} + ${terms[0]!.value}·${terms[1]!.value} = ${truth}`
        : `s_${hi} = s_${term} (a padded position adds nothing) = ${agreed}`;
    } else formula = `s_${hi} = max(s_${term}, ${terms[0]?.name.split(" ")[0] ?? "padding"}) = max(${agreed}, ${terms[0]?.value ?? "-"}) = ${truth}`;
  } else if (phase === "Final") {
    const acc = red?.rounds[0]?.defender ?? "?";
    formula = `y = requantize(s_${red?.length} = ${acc}, ${operands.map((o) => `${o.name.split(" ")[0]} = ${o.value}`).join(", ")}) = ${truth}`;
  } else {
    formula = `${layerKindName(kind)}(${operands.map((o) => `${o.name.split(" ")[0]} = ${o.value}`).join(", ")}) = ${truth}`;
  }
  return { ...base, op: layerKindName(kind), operands, formula, against };
}

/** An Int32Array of `n + 1` zeros with `value` at `n` (the one element a step's index mapping reads). */
function sparse(n: number, value: number): Int32Array {
  const a = new Int32Array(n + 1);
  a[n] = value;
  return a;
}

/** Clock values fixed at opening, read once from the game (then cached with its opening block). */
async function clockOf(p: Protocol, db: ExplorerDb, game: string, block: number): Promise<GameDetail["clock"]> {
  const key = `c:${game}`;
  const hit = db.cached<GameDetail["clock"]>(key);
  if (hit) return hit;
  const cfg = await DisputeGame__factory.connect(game, p.connection.ethers.provider).config();
  const clock = { moveTimeout: Number(cfg.moveTimeout), perGame: Number(cfg.moveTimeoutPerGame), max: Number(cfg.maxMoveTimeout) };
  db.cache(key, block, clock);
  return clock;
}

/** The game at `address` with everything the page shows, or undefined when the index has no such game. */
export async function gameDetail(p: Protocol, db: ExplorerDb, address: string): Promise<GameDetail | undefined> {
  const game = address.toLowerCase();
  const row = db.get("SELECT * FROM games WHERE game = ?", game);
  if (!row) return undefined;
  const summary = gameSummary(row);
  const evs = db.events("e.game = ?", game);
  const jobEvents = db.events("e.job_id = ? AND e.source IN ('disputes', 'jobManager')", BigInt(summary.job));
  const opened = evs.find((e) => e.name === "DisputeOpened")!;
  const clock = await clockOf(p, db, game, opened.block);
  const openings = jobEvents.filter((e) => e.name === "DisputeOpened" && e.source === "disputes").map((e) => e.block);
  const moveTime = (block: number) => {
    const g = openings.filter((b) => b <= block).length;
    return Math.min(clock.moveTimeout + clock.perGame * Math.max(0, g - 1), clock.max);
  };
  const gameEvents = evs.filter((e) => e.source === "game");
  const committed = db.events("e.source = 'disputes' AND e.name = 'DisputeCommitted' AND json_extract(e.args, '$.rank') = ?", String(opened.args.rank));

  // Moves: the opening, then one per transaction to the game.
  const txs = new Map<string, number>([[opened.txHash, opened.block], ...committed.map((c) => [c.txHash, c.block] as [string, number])]);
  for (const e of gameEvents) txs.set(e.txHash, e.block);
  const facts = await receipts(p, db, txs);
  const moves: Move[] = [];
  for (const c of committed) {
    moves.push({ n: 0, side: "challenger", what: `committed to its claim (commitment rank ${c.args.rank}; revealed in a later block)`, at: at(c), from: String(c.args.committer).toLowerCase(), ...(facts.get(c.txHash) ? { gasUsed: facts.get(c.txHash)!.gasUsed } : {}) });
  }
  moves.push({
    n: moves.length,
    side: "challenger",
    what: `opened the dispute: trace root ${short(opened.args.challengerRoot as string)}, bond ${amount(opened.args.bond as string).text}`,
    at: at(opened),
    from: String(opened.args.challenger).toLowerCase(),
    ...(facts.get(opened.txHash) ? { gasUsed: facts.get(opened.txHash)!.gasUsed } : {}),
    nextSide: "defender",
    ...(opened.time !== undefined ? { nextDeadline: opened.time + moveTime(opened.block) } : {}),
  });
  let previous = opened.time;
  const groups = new Map<string, EventRow[]>();
  for (const e of gameEvents) groups.set(e.txHash, [...(groups.get(e.txHash) ?? []), e]);
  let expected: SideName = "defender";
  for (const [tx, group] of groups) {
    const g0 = group[0]!;
    const byName = (n: string) => group.find((e) => e.name === n);
    const parts: string[] = [];
    let side: Move["side"] = expected;
    const root = byName("RootPosted");
    if (root) parts.push(`posted its trace root ${short(root.args.root as string)} (proven to end in the submitted output)`);
    for (const c of group.filter((e) => e.name === "ChildrenRevealed")) {
      side = sideName(c.args.side as string);
      const { depth, index } = decodePosition(BigInt(c.args.position as string));
      parts.push(`revealed its children of ${Number(c.args.level) === Level.Trace ? "trace" : "chunk-tree"} node ${index} at depth ${depth}`);
    }
    const landed = byName("LayerDisputed");
    if (landed) {
      parts.push(`landed on layer ${landed.args.layer} (${kindText(Number(landed.args.kind))}, ${landed.args.numel} elements${Number(landed.args.length) > 0 ? `, sums of ${landed.args.length} terms` : ""})`);
    }
    for (const c of group.filter((e) => e.name === "ChunkRevealed")) {
      side = sideName(c.args.side as string);
      parts.push(`revealed chunk ${c.args.chunkIndex}`);
    }
    const el = byName("ElementDisputed");
    if (el) parts.push(`first differing element ${el.args.element}: defender ${el.args.defenderValue}, challenger ${el.args.challengerValue}`);
    for (const sp of group.filter((e) => e.name === "SumPosted")) {
      side = sideName(sp.args.side as string);
      parts.push(`posted s_${sp.args.index} = ${sp.args.value}`);
    }
    const stepped = byName("Stepped");
    if (stepped) {
      side = "challenger";
      parts.push(`ran the one-step check: the verifier computed ${stepped.args.truth}`);
    }
    const resolved = byName("GameResolved");
    if (resolved && parts.length === 0) {
      side = "anyone";
      parts.push(`timed out the ${expected}, which missed its deadline`);
    }
    if (resolved) parts.push(`game over: ${STATUS_NAMES[Number(resolved.args.status) as GameStatus]} (${REASONS[Number(resolved.args.reason)] ?? `reason ${resolved.args.reason}`})`);
    const allowed = moveTime(g0.block);
    const mover: SideName = side === "anyone" ? expected : side;
    expected = other(mover);
    const f = facts.get(tx);
    moves.push({
      n: moves.length,
      side,
      what: parts.join("; "),
      at: at(g0),
      ...(f ? { from: f.from, gasUsed: f.gasUsed } : {}),
      ...(previous !== undefined && g0.time !== undefined ? { used: g0.time - previous, allowed } : {}),
      ...(!resolved && g0.time !== undefined ? { nextSide: expected, nextDeadline: g0.time + moveTime(g0.block) } : {}),
    });
    previous = g0.time;
  }

  // The bisection, level by level.
  const numLayers = await numLayersOf(p, db, game, opened.block);
  const traceDepth = Math.ceil(Math.log2(numLayers + 1));
  const trace = descent(gameEvents.filter((e) => e.name === "ChildrenRevealed" && Number(e.args.level) === Level.Trace));
  const landed = gameEvents.find((e) => e.name === "LayerDisputed");
  const layer = landed
    ? { index: Number(landed.args.layer), kind: kindText(Number(landed.args.kind))!, numel: Number(landed.args.numel), reduction: Number(landed.args.length) }
    : undefined;
  const tensorEvents = gameEvents.filter((e) => e.name === "ChildrenRevealed" && Number(e.args.level) === Level.Tensor);
  const chunks = gameEvents.filter((e) => e.name === "ChunkRevealed");
  const tensorDescent = descent(tensorEvents);
  const tensor = layer
    ? { depth: Math.ceil(Math.log2(Math.max(1, Math.ceil(layer.numel / 256)))), steps: tensorDescent.steps, ...(chunks[0] ? { chunk: Number(chunks[0].args.chunkIndex) } : {}) }
    : undefined;
  const el = gameEvents.find((e) => e.name === "ElementDisputed");
  let element: GameDetail["disputedElement"];
  if (el) {
    const e = Number(el.args.element);
    const d = chunks.find((c) => Number(c.args.side) === 0)?.args.chunk as string | undefined;
    const c = chunks.find((c) => Number(c.args.side) === 1)?.args.chunk as string | undefined;
    const around = [];
    for (let i = Math.max(e - 3, e - (e % 256)); i <= Math.min(e + 3, e - (e % 256) + 255); i++) {
      if (d && c) around.push({ index: i, defender: elementOf(d, i), challenger: elementOf(c, i) });
    }
    element = { index: e, defenderValue: String(el.args.defenderValue), challengerValue: String(el.args.challengerValue), around };
  }
  const red = layer && layer.reduction > 0 ? reduction(gameEvents.filter((e) => e.name === "SumPosted"), layer.reduction) : undefined;
  const stepped = gameEvents.find((e) => e.name === "Stepped");
  const step =
    stepped && layer && element
      ? await stepCheck(p, db, {
          stepped,
          element: element.index,
          layerIndex: layer.index,
          ...(red ? { reduction: red } : {}),
          elementClaims: { defender: element.defenderValue, challenger: element.challengerValue },
        })
      : undefined;

  // Money: the bond, the slash and burn of the settlement, the credits, and the close of the job's disputes.
  const settled = evs.find((e) => e.source === "disputes" && e.name === "DisputeSettled");
  const credits = evs.filter((e) => e.source === "disputes" && e.name === "BalanceCredited");
  const closed = jobEvents.find((e) => e.source === "disputes" && e.name === "DisputesClosed");
  const resolved = gameEvents.find((e) => e.name === "GameResolved");
  const rejected = resolved ? jobEvents.find((e) => e.name === "JobRejected" && e.txHash === resolved.txHash) : undefined;
  let live: GameDetail["live"];
  if (Number(row.status) === GameStatus.InProgress) {
    try {
      const s = await readGame(DisputeGame__factory.connect(game, p.connection.ethers.provider));
      const now = (await p.connection.ethers.provider.getBlock("latest"))!.timestamp;
      live = { turn: sideName(s.turn), deadline: Number(s.deadline), now, next: nextMoveText(s) };
    } catch {
      live = undefined;
    }
  }
  const root = gameEvents.find((e) => e.name === "RootPosted");
  return {
    ...summary,
    batchSize: Number(db.get("SELECT batch_size FROM jobs WHERE job_id = ?", BigInt(summary.job))?.batch_size ?? 1),
    opened: at(opened),
    statusCode: Number(row.status),
    ...(row.reason !== null ? { reason: REASONS[Number(row.reason)] ?? `reason ${row.reason}` } : {}),
    bond: amount(opened.args.bond as string),
    rank: Number(opened.args.rank),
    roots: { ...(root ? { defender: root.args.root as string } : {}), challenger: opened.args.challengerRoot as string },
    clock,
    ...(live ? { live } : {}),
    timeline: moves,
    trace: { depth: traceDepth, numLayers, steps: trace.steps, ...(trace.leaf !== undefined ? { leaf: trace.leaf } : {}) },
    ...(layer ? { disputedLayer: layer } : {}),
    ...(tensor ? { tensor } : {}),
    ...(element ? { disputedElement: element } : {}),
    ...(red ? { reduction: red } : {}),
    ...(step ? { step } : {}),
    money: {
      ...(settled ? { slashed: amount(settled.args.slashed as string), burned: amount(settled.args.burned as string) } : {}),
      credits: credits.map((c) => ({ account: String(c.args.account).toLowerCase(), amount: amount(c.args.amount as string), at: at(c) })),
      ...(closed
        ? {
            closed: {
              winnerGame: String(closed.args.winnerGame).toLowerCase(),
              challengerReward: amount(closed.args.challengerReward as string),
              defenderReward: amount(closed.args.defenderReward as string),
              burned: amount(closed.args.burned as string),
              at: at(closed),
            },
          }
        : {}),
      ...(rejected ? { refunded: amount(rejected.args.refunded as string) } : {}),
    },
  };
}

async function numLayersOf(p: Protocol, db: ExplorerDb, game: string, block: number): Promise<number> {
  const key = `l:${game}`;
  const hit = db.cached<number>(key);
  if (hit !== undefined) return hit;
  const n = Number((await DisputeGame__factory.connect(game, p.connection.ethers.provider).config()).numLayers);
  db.cache(key, block, n);
  return n;
}

const short = (h: string): string => `${h.slice(0, 10)}…`;
