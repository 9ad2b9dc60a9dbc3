/**
 * Gas of dispute games (contracts/disputes/), played by the library (offchain/disputes/player.ts)
 * on the in-process network: every kind of move, and whole disputes on the MNIST CNN and on the
 * MobileNet-shaped benchmark model (a cheat at a deep layer, so each dispute walks every level).
 * A result binds only its output (issue 11, lazy trace): the worker submits the output of its
 * forged trace (offchain/runtime/cheat.ts: the lie reaches the output), and posts that trace's root
 * as its first move in the dispute (`postRoot`: root, output proof, the root's two children).
 * The contracts are the production Protocol Ignition module's.
 */
import { readFile } from "node:fs/promises";

import type { Signer } from "ethers";
import { hexlify } from "ethers";

import type { DisputeGameFactory, JobManager, ModelRegistry, Staking, VeritensorToken } from "../../../types/ethers-contracts/index.js";
import { commitGraph } from "../../commitments/graph.js";
import { canonicalBytes, commitTensor } from "../../commitments/tensor.js";
import { cheatTrace } from "../../runtime/cheat.js";
import { quantizeInput } from "../../convert/evaluate.js";
import { loadDigits, toFloat } from "../../datasets/mnist.js";
import { mobileNetShaped } from "../../datasets/mobilenet.js";
import { requestedTerms } from "../../clients/job-events.js";
import { openDispute, submittedResult } from "../../clients/disputes.js";
import { GameStatus, LEVEL_NAMES, Level, Side } from "../../clients/game-types.js";
import type { MoveRecord } from "../../disputes/player.js";
import { DisputePlayer, playToEnd } from "../../disputes/player.js";
import type { CanonicalModel } from "../../model/canonical.js";
import { parseCanonicalModel } from "../../model/canonical.js";
import { layerKindName } from "../../model/layers.js";
import { referenceTrace } from "../../runtime/reference.js";
import { CanonicalRunner } from "../../runtime/runner.js";
import Protocol from "../../../ignition/modules/Protocol.js";
import type { BenchContext, BenchSection } from "./section.js";

/** No dispute transaction (commitment and opening included) may cost more (issue 10). */
export const MAX_TX_TARGET = 1_000_000n;
const VTN = 10n ** 18n;
const fmt = (n: bigint | number): string => n.toLocaleString("en-US");

interface Stack {
  readonly ethers: BenchConnection["ethers"];
  readonly time: BenchConnection["networkHelpers"]["time"];
  readonly token: VeritensorToken;
  readonly registry: ModelRegistry;
  readonly staking: Staking;
  readonly jm: JobManager;
  readonly factory: DisputeGameFactory;
  readonly worker: Signer;
  readonly requester: Signer;
  readonly challenger: Signer;
  readonly developer: Signer;
}

type BenchConnection = Awaited<ReturnType<BenchContext["network"]["create"]>>;

/**
 * The production wiring (the Protocol Ignition module: the factory is the escrow's dispute manager,
 * the timelock owns everything) with the production dispute parameters, and the escrow's windows
 * roomy enough for any dispute the benchmark plays.
 */
async function deploy(ctx: BenchContext): Promise<Stack> {
  const conn = await ctx.network.create({ network: "hardhat" });
  const { ethers } = conn;
  const [, developer, worker, requester, challenger] = await ethers.getSigners();
  const c = await conn.ignition.deploy(Protocol, {
    parameters: {
      Staking: { unbondingDelay: 7 * 24 * 3600 },
      Jobs: {
        minJobLock: 20n * VTN,
        challengeWindow: 24 * 3600,
        resultTimeout: 3600,
        maxCallbackGasLimit: 1_000_000,
        maxJobDuration: 7 * 24 * 3600,
      },
    },
  });
  const token = c.token as unknown as VeritensorToken;
  const registry = c.registry as unknown as ModelRegistry;
  const staking = c.staking as unknown as Staking;
  const jm = c.jobManager as unknown as JobManager;
  const factory = c.disputeGameFactory as unknown as DisputeGameFactory;
  for (const s of [worker!, requester!, challenger!]) {
    await token.transfer(s.address, 100_000n * VTN);
    await token.connect(s).approve(await staking.getAddress(), ethers.MaxUint256);
    await token.connect(s).approve(await factory.getAddress(), ethers.MaxUint256);
    await token.connect(s).approve(await jm.getAddress(), ethers.MaxUint256);
  }
  await staking.connect(worker!).stake(10_000n * VTN);
  await staking.connect(challenger!).stake(1_000n * VTN);
  return {
    ethers, time: conn.networkHelpers.time, token, registry, staking, jm, factory,
    worker: worker!, requester: requester!, challenger: challenger!, developer: developer!,
  };
}

export interface Dispute {
  readonly name: string;
  /** The game ended before the descent reached a layer (the defender never posted its root). */
  readonly noRoot: boolean;
  readonly layer: number;
  readonly kind: string;
  readonly moves: readonly MoveRecord[];
  readonly openGas: bigint;
  readonly commitGas: bigint;
  readonly txs: { defender: number; challenger: number };
  readonly totalGas: bigint;
  readonly maxGas: bigint;
  readonly seconds: number;
}

/** Variant: the defender stalls at a level (the challenger times it out); at Level.Root it never
 * posts its trace root at all. */
interface Variant {
  readonly stallAt?: Level;
}

/**
 * The worker's forged trace: +1 at (`layer`, `element`) (escalated until the lie reaches the
 * output, offchain/runtime/cheat.ts) and every later layer recomputed from it; the next elements
 * are tried if the later layers absorb every lie at this one.
 */
function forged(model: CanonicalModel, truth: readonly Int32Array[], layer: number, element: number): { trace: Int32Array[]; element: number } {
  const n = truth[layer]!.length;
  for (let i = 0; i < 64; i++) {
    const e = (element + i) % n;
    try {
      return { trace: cheatTrace(model, truth, { layer, element: e, delta: 1 }), element: e };
    } catch {
      // Absorbed (or out of a later layer's range) at this element: try the next one.
    }
  }
  throw new Error(`no lie at layer ${layer} near element ${element} reaches the output`);
}

/** Registers `model`, submits a job whose trace lies at (`layer`, `element`), and plays the dispute. */
async function dispute(s: Stack, name: string, model: CanonicalModel, truth: readonly Int32Array[], layer: number, element: number, v: Variant = {}): Promise<Dispute> {
  const last = model.layers[model.layers.length - 1]!;
  await s.registry.connect(s.developer).registerModel({
    contentHash: model.contentHash, graphCommitment: commitGraph(model).root, uri: `ipfs://${name}`,
    inputShape: [...model.inputShape], outputShape: [...last.outShape], inputScaleWad: model.inputScaleWad,
    outputScaleWad: model.outputScaleWad, price: VTN, developerBps: 10_000, contributors: [],
  });
  const modelId = await s.registry.modelCount();
  const liar = forged(model, truth, layer, element).trace;
  const now = BigInt(await s.time.latest());
  await s.jm.connect(s.requester).requestInference({
    modelId, input: hexlify(canonicalBytes(truth[0]!)), inputURI: "", inputCommitment: "0x" + "00".repeat(32),
    fee: 10n * VTN, deadline: now + 24n * 3600n, consumer: "0x" + "00".repeat(20), callbackGasLimit: 0,
  });
  const jobId = await s.jm.jobCount();
  const terms = await requestedTerms(s.jm, jobId);
  await s.jm.connect(s.worker).claim(jobId, terms);
  const defender = new DisputePlayer(Side.Defender, s.worker, model, liar, v.stallAt === undefined ? {} : { stallAt: v.stallAt });
  // The result is the output alone; the trace root is posted only if a dispute opens.
  const out = liar[liar.length - 1]!;
  await s.jm.connect(s.worker).submitResult(jobId, terms, hexlify(canonicalBytes(out)), commitTensor(out).root);

  const started = Date.now();
  const challenger = new DisputePlayer(Side.Challenger, s.challenger, model, truth);
  const { game, receipt, commit } = await openDispute(s.factory, s.challenger, jobId, challenger.openArgs(await submittedResult(s.jm, jobId)));
  const commitGas = commit?.gasUsed ?? 0n;
  const r = await playToEnd(game, { defender, challenger }, { advanceTo: (t) => s.time.increaseTo(t) });
  if (r.status !== GameStatus.ChallengerWins) throw new Error(`${name}: the cheat at layer ${layer} was not caught`);
  const maxGas = [receipt.gasUsed, commitGas, r.maxGas].reduce((a, b) => (b > a ? b : a));
  const noRoot = v.stallAt === Level.Root;
  return {
    name: noRoot ? `${name}, defender never posts its root` : v.stallAt !== undefined ? `${name}, defender stalls at ${LEVEL_NAMES[v.stallAt]}` : name,
    layer, kind: layerKindName(model.layers[layer - 1]!.kind), moves: r.moves, openGas: receipt.gasUsed, commitGas,
    noRoot,
    txs: { defender: r.txs.defender, challenger: r.txs.challenger + 2 }, totalGas: r.totalGas + receipt.gasUsed + commitGas, maxGas,
    seconds: (Date.now() - started) / 1000,
  };
}

/** The honest trace [input, out_1, …, out_L]: onnxruntime, or the reference interpreter if it fails. */
async function traceOf(model: CanonicalModel, input: Int32Array, log: (line: string) => void): Promise<Int32Array[]> {
  try {
    const runner = await CanonicalRunner.create(model);
    try {
      const r = await runner.runWithTrace(input);
      return [r.input, ...r.layerOutputs];
    } finally {
      await runner.release();
    }
  } catch (e) {
    log(`  onnxruntime failed (${(e as Error).message}); using the reference interpreter`);
    return referenceTrace(model, input);
  }
}

function seededInput(model: CanonicalModel, seed: number): Int32Array {
  const [lo, hi] = model.inputRange;
  const n = model.inputShape.reduce((a, b) => a * b, 1);
  const out = new Int32Array(n);
  let x = seed >>> 0;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    out[i] = lo + (x % (hi - lo + 1));
  }
  return out;
}

/** The deepest layer of `kind` (or the deepest reduction), for a dispute that walks every level. */
function deepest(model: CanonicalModel, kinds: readonly number[]): number {
  for (let k = model.layers.length; k >= 1; k--) if (kinds.includes(model.layers[k - 1]!.kind)) return k;
  return model.layers.length;
}

export async function measureDisputes(ctx: BenchContext): Promise<Dispute[]> {
  const s = await deploy(ctx);
  const results: Dispute[] = [];

  const cnn = parseCanonicalModel(await readFile(new URL("../../../models/mnist-cnn.canonical.onnx", import.meta.url)));
  const digit = quantizeInput(cnn, toFloat(loadDigits("heldout").pixels[0]!));
  const cnnTrace = await traceOf(cnn, digit, ctx.log);
  for (let k = 1; k <= cnn.layers.length; k++) {
    const e = Math.floor(cnnTrace[k]!.length * 0.7);
    ctx.log(`  MNIST CNN, cheat at layer ${k}`);
    results.push(await dispute(s, "MNIST CNN", cnn, cnnTrace, k, e));
  }
  ctx.log("  MNIST CNN, timeouts (the defender stalls; the defender never posts its root)");
  results.push(await dispute(s, "MNIST CNN", cnn, cnnTrace, 1, 100, { stallAt: Level.PartialSum }));
  results.push(await dispute(s, "MNIST CNN", cnn, cnnTrace, cnn.layers.length, 3, { stallAt: Level.Root }));

  const mobile = parseCanonicalModel(mobileNetShaped({ seed: 1, width: 0.75, resolution: 224, classes: 1000 }).bytes);
  ctx.log(`  MobileNet-shaped: ${mobile.layers.length} layers, running the trace`);
  const mobileTrace = await traceOf(mobile, seededInput(mobile, 7), ctx.log);
  // The first CONV (the largest output: deepest chunk tree), the CONV with the most work, the final DENSE.
  let widest = 1;
  for (let k = 1; k <= mobile.layers.length; k++) {
    const l = mobile.layers[k - 1]!;
    const w = mobile.layers[widest - 1]!;
    if (l.kind === 2 && mobileTrace[k]!.length * (l.params[0]! / l.params[12]!) >= mobileTrace[widest]!.length * (w.kind === 2 ? w.params[0]! / w.params[12]! : 0)) widest = k;
  }
  for (const k of [1, widest, deepest(mobile, [1])]) {
    ctx.log(`  MobileNet-shaped, cheat at layer ${k}`);
    results.push(await dispute(s, "MobileNet-shaped", mobile, mobileTrace, k, Math.floor(mobileTrace[k]!.length * 0.7)));
  }
  return results;
}

export const disputesSection: BenchSection = {
  id: "disputes",
  title: "Disputes: gas per move and per dispute",
  async run(ctx) {
    return disputesMarkdown(await measureDisputes(ctx));
  },
};

/** The section's text from measured disputes (per move kind, per dispute, the largest transaction against MAX_TX_TARGET). */
export function disputesMarkdown(results: readonly Dispute[]): string {
  const perKind = new Map<string, { n: number; sum: bigint; max: bigint }>();
  const note = (key: string, gas: bigint) => {
    const e = perKind.get(key) ?? { n: 0, sum: 0n, max: 0n };
    perKind.set(key, { n: e.n + 1, sum: e.sum + gas, max: gas > e.max ? gas : e.max });
  };
  const ROOT_MOVE = "postRoot: root + output proof + children (root, defender)";
  for (const r of results) {
    note("commitDispute (the commitment, a block before opening)", r.commitGas);
    note("openDispute (with the challenger's output proof)", r.openGas);
    for (const m of r.moves) {
      note(m.kind === "root" ? ROOT_MOVE : `${m.kind} (${LEVEL_NAMES[m.level]}, ${m.side === Side.Defender ? "defender" : "challenger"})`, m.gasUsed);
    }
  }
  const moveRows = [...perKind.entries()].map(([k, v]) => `| ${k} | ${v.n} | ${fmt(v.sum / BigInt(v.n))} | ${fmt(v.max)} |`);
  const disputeRows = results.map(
    (r) => `| ${r.name} | ${r.noRoot ? "none (no root posted)" : `${r.layer} (${r.kind})`} | ${r.txs.defender} + ${r.txs.challenger} | ${fmt(r.totalGas)} | ${fmt(r.maxGas)} | ${r.seconds.toFixed(1)} s |`,
  );
  const largest = results.reduce((a, r) => (r.maxGas > a ? r.maxGas : a), 0n);
  const root = perKind.get(ROOT_MOVE);
  if (!root) throw new Error("no dispute posted a root");
  return [
    "Measured on the in-process network; the library plays both sides (a worker lying at one element",
    "by +1, or by ×16, ×256, … until the lie reaches the output, every later layer recomputed from it;",
    "an honest challenger). A result binds only its output (issue 11, lazy trace): the challenger opens",
    "with its trace root and the Merkle proof of that root's output leaf (which must differ from the",
    "submitted output), and the defender's first move, `postRoot`, posts its trace root with the Merkle",
    "proof that the root's leaf L is the output commitment it submitted, and the root's two children",
    `(its first trace move, in the same transaction): ${fmt(root.sum / BigInt(root.n))} gas on average, ${fmt(root.max)} at most.`,
    "Transactions per side: defender + challenger (the challenger's include `commitDispute` and `openDispute`;",
    "a timeout counts for the side that sends it). The step's gas depends on the kind and on how many chunks it opens.",
    "The deciding transaction (landing move, chunk reveal, step, timeout) also settles the job and",
    "pays out (escrow `settleDispute`, slash, burn, credits), about 100,000 gas of its total.",
    "",
    "| move (level, side) | count | mean gas | max gas |",
    "|---|---:|---:|---:|",
    ...moveRows,
    "",
    "| model | disputed layer | tx (defender + challenger) | total gas | largest tx | wall time |",
    "|---|---|---:|---:|---:|---:|",
    ...disputeRows,
    "",
    `Largest single transaction: ${fmt(largest)} gas (target: none above ${fmt(MAX_TX_TARGET)}: ${largest <= MAX_TX_TARGET ? "met" : "MISSED"}).`,
  ].join("\n");
}
