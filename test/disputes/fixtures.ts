/**
 * Fixtures of the dispute tests: the protocol (test/contracts/fixtures.ts) plus the one-step
 * verifier, the game implementation and the factory as the escrow's dispute manager, deployed by
 * Ignition (`TestDisputes`, ignition/modules/testing/TestProtocol.ts); and a job of a real
 * canonical model whose worker submits the output of its (honest or cheating) trace.
 * A result binds no trace (issue 11, lazy trace): the worker posts its trace root as its first
 * move in a dispute, proven to end in the output it submitted. So a liar's trace must end in a
 * wrong output ({@link lie}); a correct output is a correct result, whatever trace is behind it.
 */
import { expect } from "chai";
import { hexlify } from "ethers";

import { commitTensor } from "../../offchain/commitments/tensor.js";
import { commitGraph } from "../../offchain/commitments/graph.js";
import { canonicalBytes } from "../../offchain/commitments/tensor.js";
import type { DisputeGame, DisputeGameFactory, OneStepVerifier } from "../../types/ethers-contracts/index.js";
import { TestDisputes } from "../../ignition/modules/testing/TestProtocol.js";
import type { CanonicalModel } from "../../offchain/model/canonical.js";
import { requestedTerms } from "../../offchain/clients/job-events.js";
import { openDispute, submittedResult } from "../../offchain/clients/disputes.js";
import { cheatTrace } from "../../offchain/runtime/cheat.js";
import type { PlayResult } from "../../offchain/disputes/player.js";
import type { DisputePlayer } from "../../offchain/disputes/player.js";
import { playToEnd } from "../../offchain/disputes/player.js";
import type { Connection, Protocol, Signer } from "../contracts/fixtures.js";
import { MIN_STAKE, SUPPLY, WAD, WORKER_STAKE, actors, bareProtocol, protocolParameters } from "../contracts/fixtures.js";

export const MOVE_TIMEOUT = 3600n;
export const MOVE_TIMEOUT_PER_GAME = 600n;
export const MAX_MOVE_TIMEOUT = 24n * 3600n;
/** The shortest time per move the factory lets governance set. */
export const MIN_MOVE_TIMEOUT = 60n;
export const CHALLENGE_BOND = 100n * WAD;
export const CHALLENGER_REWARD_BPS = 5_000n;
export const DEFENDER_REWARD_BPS = 5_000n;
export const JOB_FEE = 25n * WAD;

export interface DisputeProtocol extends Omit<Protocol, "modelId"> {
  verifier: OneStepVerifier;
  implementation: DisputeGame;
  factory: DisputeGameFactory;
  challenger: Signer;
  challenger2: Signer;
}

export function disputeFixtures(conn: Connection) {
  const { ethers } = conn;

  /** The bare protocol with the dispute layer (ignition/modules/testing/TestProtocol.ts), owned by the deployer; a staked worker and two staked challengers. */
  async function deployDisputes(): Promise<DisputeProtocol> {
    const a = await actors(conn);
    const c = await conn.ignition.deploy(TestDisputes, {
      parameters: {
        ...protocolParameters(a),
        Disputes: {
          owner: a.deployer.address,
          minMoveTimeout: MIN_MOVE_TIMEOUT,
          moveTimeout: MOVE_TIMEOUT,
          challengeBond: CHALLENGE_BOND,
          challengerRewardBps: CHALLENGER_REWARD_BPS,
          defenderRewardBps: DEFENDER_REWARD_BPS,
          moveTimeoutPerGame: MOVE_TIMEOUT_PER_GAME,
          maxMoveTimeout: MAX_MOVE_TIMEOUT,
        },
      },
    });
    const p = await bareProtocol(conn, a, c);
    const factory = c.disputeGameFactory as unknown as DisputeGameFactory;
    const challenger = p.other;
    const challenger2 = p.operator;
    await p.token.connect(p.requester).approve(await p.jm.getAddress(), ethers.MaxUint256);
    for (const s of [p.worker, challenger, challenger2]) {
      await p.token.connect(s).approve(await p.staking.getAddress(), ethers.MaxUint256);
      await p.token.connect(s).approve(await factory.getAddress(), ethers.MaxUint256);
    }
    await p.staking.connect(p.worker).stake(WORKER_STAKE);
    await p.staking.connect(challenger).stake(MIN_STAKE);
    await p.staking.connect(challenger2).stake(MIN_STAKE);
    return {
      ...p,
      verifier: c.oneStepVerifier as unknown as OneStepVerifier,
      implementation: c.disputeGame as unknown as DisputeGame,
      factory,
      challenger,
      challenger2,
    };
  }

  return { deployDisputes };
}

/** Registers `model` (price 1 VTN) and returns its id. */
export async function registerModel(p: DisputeProtocol, model: CanonicalModel): Promise<bigint> {
  const last = model.layers[model.layers.length - 1]!;
  await p.registry.connect(p.developer).registerModel({
    contentHash: model.contentHash,
    graphCommitment: commitGraph(model).root,
    uri: "ipfs://model",
    inputShape: [...model.inputShape],
    outputShape: [...last.outShape],
    inputScaleWad: model.inputScaleWad,
    outputScaleWad: model.outputScaleWad,
    price: WAD,
    developerBps: 10_000,
    contributors: [],
  });
  return p.registry.modelCount();
}

/**
 * Requests a job on `modelId` with `trace`'s input, has the worker claim it and submit `trace`'s
 * output (or `opts.outputOverride`): the output and its commitment, no trace root.
 */
export async function submitTrace(
  p: DisputeProtocol,
  modelId: bigint,
  trace: readonly Int32Array[],
  opts: { outputOverride?: Int32Array } = {},
): Promise<bigint> {
  const now = BigInt(await p.conn.networkHelpers.time.latest());
  await p.jm.connect(p.requester).requestInference({
    modelId,
    input: hexlify(canonicalBytes(trace[0]!)),
    inputURI: "",
    inputCommitment: "0x" + "00".repeat(32),
    fee: JOB_FEE,
    deadline: now + 24n * 3600n,
    consumer: "0x" + "00".repeat(20),
    callbackGasLimit: 0n,
  });
  const jobId = await p.jm.jobCount();
  const terms = await requestedTerms(p.jm, jobId);
  await p.jm.connect(p.worker).claim(jobId, terms);
  const output = opts.outputOverride ?? trace[trace.length - 1]!;
  await p.jm.connect(p.worker).submitResult(jobId, terms, hexlify(canonicalBytes(output)), commitTensor(output).root);
  return jobId;
}

/**
 * A copy of `trace` whose layer `k` has element `e` off by `delta`, nothing else changed: an
 * INCONSISTENT trace (the later layers do not follow from the lie). Its output is the honest one
 * unless `k` is the last layer, so on its own it disputes nothing; tests use it where the point is
 * a trace that differs only inside (see {@link lie} for a liar whose output is wrong).
 */
export function cheat(trace: readonly Int32Array[], k: number, e: number, delta: number): Int32Array[] {
  const out = trace.map((t) => t.slice());
  out[k]![e] = out[k]![e]! + delta;
  return out;
}

/**
 * A consistent liar (offchain/runtime/cheat.ts): `honest` with layer `k`, element `e` off by
 * `delta` (escalated ×16, ×256, ×4096 either way until the output changes, unless `exact`) and
 * every later layer recomputed from the lie. Its output differs from the honest one; its first
 * differing trace leaf is `k`.
 */
export function lie(model: CanonicalModel, honest: readonly Int32Array[], k: number, e: number, delta: number, o: { exact?: boolean } = {}): Int32Array[] {
  const t = cheatTrace(model, honest, { layer: k, element: e, delta }, o);
  expect(sameTensor(t[t.length - 1]!, honest[honest.length - 1]!), `the lie at layer ${k}, element ${e} reaches the output`).to.equal(false);
  for (let j = 0; j < k; j++) expect(sameTensor(t[j]!, honest[j]!), `layer ${j} before the lie at ${k} is honest`).to.equal(true);
  expect(sameTensor(t[k]!, honest[k]!)).to.equal(false);
  return t;
}

/**
 * Like {@link lie} for a random cheat: when every lie at (`k`, `e`) is absorbed before the output
 * (a zero weight, a non-maximum in a pool, a clipped value), `next()` draws another element of the
 * same layer, up to 50 times. Returns the liar and the element it lies at.
 */
export function randomLie(
  model: CanonicalModel,
  honest: readonly Int32Array[],
  k: number,
  e: number,
  delta: number,
  next: () => number,
): { trace: Int32Array[]; element: number } {
  let element = e;
  for (let i = 0; i < 50; i++) {
    try {
      return { trace: lie(model, honest, k, element, delta), element };
    } catch (err) {
      if (!(err as Error).message.includes("cannot cheat")) throw err;
      element = next();
    }
  }
  throw new Error(`no element of layer ${k} reaches the output`);
}

/**
 * A random cheat at (`k`, `e`) by `delta`: the consistent liar of {@link lie} when the lie (or a
 * larger one) reaches the output without leaving a later layer's range; otherwise (a LUT after it
 * refuses the value, or every size is absorbed) the lie stays exactly where it was drawn, the later
 * layers stay honest and the output is made wrong too (an inconsistent trace that still disputes
 * nothing but layer `k` first). Either way the first differing trace leaf is `k`.
 */
export function randomLiar(
  model: CanonicalModel,
  honest: readonly Int32Array[],
  k: number,
  e: number,
  delta: number,
): { trace: Int32Array[]; consistent: boolean } {
  try {
    return { trace: lie(model, honest, k, e, delta), consistent: true };
  } catch (err) {
    if (!(err as Error).message.includes("cannot cheat")) throw err;
  }
  const trace = cheat(honest, k, e, delta);
  const L = trace.length - 1;
  if (k !== L) trace[L]![0] = trace[L]![0]! + 1;
  return { trace, consistent: false };
}

export function sameTensor(a: Int32Array, b: Int32Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Opens a dispute as `challenger` (commit, then reveal) and plays it to the end with both players. */
export async function playDispute(
  p: DisputeProtocol,
  jobId: bigint,
  defender: DisputePlayer,
  challenger: DisputePlayer,
): Promise<PlayResult & { game: DisputeGame; openGas: bigint; commitGas: bigint }> {
  // Two transactions: commitDispute, then openDispute in a later block.
  const { game, receipt, commit } = await openDispute(p.factory, challenger.signer, jobId, challenger.openArgs(await submittedResult(p.jm, jobId)));
  const result = await playToEnd(game, { defender, challenger }, {
    advanceTo: (t) => p.conn.networkHelpers.time.increaseTo(t),
  });
  return { ...result, game, openGas: receipt.gasUsed, commitGas: commit?.gasUsed ?? 0n };
}

/** The terms and submitted output commitment `finalize` takes after `jobId` (from the escrow's events). */
export async function finalizeArgs(jm: DisputeProtocol["jm"], jobId: bigint) {
  const r = await submittedResult(jm, jobId);
  return [r.terms, r.outputCommitment] as const;
}

/** The stake a claim of `jobId` locks (fixed in its terms). */
export async function lockOf(jm: DisputeProtocol["jm"], jobId: bigint): Promise<bigint> {
  return (await requestedTerms(jm, jobId)).lock;
}

/**
 * Every token of the supply is in a wallet, a contract, or was burned by the factory; the factory
 * holds exactly the bonds of unsettled games, the slashes and defender shares held for jobs whose
 * disputes are not closed, plus its balances (docs/DISPUTES.md "Settlement and money").
 */
export async function expectDisputesConserved(p: DisputeProtocol): Promise<void> {
  const holders = new Set<string>((await p.conn.ethers.getSigners()).map((s) => s.address));
  for (const c of [p.jm, p.staking, p.factory]) holders.add(await c.getAddress());
  let sum = 0n;
  for (const h of holders) sum += await p.token.balanceOf(h);
  // Burns happen at each settlement (the lost bond's burned share) and when a job's disputes close
  // (the rest of the slash, and the worker's shares of bonds it won on a result proven wrong).
  const burned =
    (await p.factory.queryFilter(p.factory.filters.DisputeSettled())).reduce((a, e) => a + e.args.burned, 0n) +
    (await p.factory.queryFilter(p.factory.filters.DisputesClosed())).reduce((a, e) => a + e.args.burned, 0n);
  expect(sum + burned).to.equal(SUPPLY);
  expect(await p.token.totalSupply()).to.equal(SUPPLY - burned);
  let owed = 0n;
  for (const h of holders) owed += await p.factory.balanceOf(h);
  const jobs = new Set<bigint>();
  for (const e of await p.factory.queryFilter(p.factory.filters.DisputeOpened())) {
    jobs.add(e.args.jobId);
    if (!(await p.factory.gameRecord(e.args.game)).settled) owed += e.args.bond;
  }
  for (const jobId of jobs) {
    const j = await p.factory.jobDisputes(jobId);
    if (j.closed) expect([j.slashed, j.defenderRewards, j.gamesOpen]).to.deep.equal([0n, 0n, 0n]);
    owed += j.slashed + j.defenderRewards;
  }
  expect(await p.token.balanceOf(await p.factory.getAddress())).to.equal(owed);
}
