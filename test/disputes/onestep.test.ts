/**
 * One-step verifier: differential tests against the TypeScript reference interpreter.
 *
 * For every layer kind, random canonical models (built with CanonicalModelBuilder, validated by
 * parseCanonicalModel) and random inputs; the trace comes from referenceTrace. For each random
 * (layer, input, element[, term]) case the chain must return:
 *  - Direct kinds: exactly evalLayer's output element;
 *  - DENSE/CONV/MATMUL (and MAXPOOL stepped): s_0, then s_{j+1} from s_j at a random term j, and from
 *    s_L the reference output element (a wrong s_L, i.e. a wrong term order or index mapping,
 *    would miss the reference); on a subset the whole element is recomputed on-chain.
 * Cases run in batches through contracts/test/OneStepHarness.sol (one eth_call per batch).
 */
import { expect } from "chai";
import { AbiCoder } from "ethers";
import type { Contract } from "ethers";
import { network } from "hardhat";

import { LAYER_TYPES, encodeHeader, encodeLayer, graphLeafProof } from "../../offchain/commitments/graph.js";
import type { Hex } from "../../offchain/commitments/merkle.js";
import { MerkleTree, fromHex, sha256, toHex } from "../../offchain/commitments/merkle.js";
import { canonicalBytes, chunkOf, commitTensor } from "../../offchain/commitments/tensor.js";
import type { StepContext } from "../../offchain/disputes/proofs.js";
import type { StepPhase as StepPhaseT } from "../../offchain/clients/game-types.js";
import { MAXPOOL_EMPTY, StepProver, encodeStepProofs, encodeStepProofsSlow, gatherSource, isSum, reductionLength } from "../../offchain/disputes/proofs.js";
import { StepPhase } from "../../offchain/clients/game-types.js";
import { CanonicalModelBuilder } from "../../offchain/model/build.js";
import type { CanonicalLayer, CanonicalModel } from "../../offchain/model/canonical.js";
import { numel, parseCanonicalModel } from "../../offchain/model/canonical.js";
import { DenseConst, DenseParam, GatherConst, LayerKind, MatMulParam, layerKindName } from "../../offchain/model/layers.js";
import { evalLayer, referenceTrace } from "../../offchain/runtime/reference.js";
import { Rng } from "../runtime/helpers/random.js";
import { attentionBlock } from "./models.js";

const { ethers } = await network.create();

/** Random (layer, input, element[, term]) cases per kind. */
const CASES_PER_KIND = 1000;
const CASES_PER_MODEL = 25;
/** Whole elements recomputed on-chain (Initial, every term, Final) per reduction kind. */
const FULL_ELEMENTS = 20;
/** Calldata per eth_call (a call's gas, calldata floor included, must stay below 2^24). */
const BATCH_BYTES = 240_000;

interface Built {
  readonly model: CanonicalModel;
  readonly input: Int32Array;
  /** The layer under test. */
  readonly k: number;
}

type Gen = (rng: Rng) => Built;

function finish(b: CanonicalModelBuilder, rng: Rng, range: readonly [number, number]): Built {
  const model = parseCanonicalModel(b.build());
  const n = numel(model.inputShape);
  return { model, input: rng.input(n, range[0], range[1]), k: model.layers.length };
}

const shift = (rng: Rng, n: number, max: number): number | number[] => (rng.bool() ? rng.int(0, max) : rng.ints(n, 0, max));
function clipPair(rng: Rng): [number, number] {
  if (rng.bool(0.2)) return [-(2 ** 23), 2 ** 23];
  const lo = rng.int(-300, 20);
  return [lo, lo + rng.int(0, 400)];
}
/** [1, C, H, W] or [1, N]. */
function randomShape(rng: Rng, maxElems = 1400): number[] {
  if (rng.bool(0.4)) return [1, rng.int(1, maxElems)];
  const C = rng.int(1, 8);
  const H = rng.int(1, 14);
  return [1, C, H, rng.int(1, Math.max(1, Math.floor(maxElems / (C * H))))];
}
/** Optionally a RELU or CLIP first, so the layer under test reads trace leaf 1 instead of 0. */
function prefix(b: CanonicalModelBuilder, rng: Rng): void {
  if (rng.bool(0.3)) b.relu();
  else if (rng.bool(0.2)) b.clip({ lo: -20, hi: 50 });
}

const GENERATORS: Record<LayerKind, Gen> = {
  [LayerKind.DENSE]: (rng) => {
    const K = rng.bool(0.3) ? rng.int(257, 1500) : rng.int(1, 256);
    const M = rng.int(1, 9);
    // [1, K], or rows over the last axis: [1, R, K] or [1, R1, R2, K].
    const rows = rng.bool(0.5) ? [] : rng.bool(0.6) ? [rng.int(1, 6)] : [rng.int(1, 3), rng.int(1, 3)];
    const range: [number, number] = [-128, 127];
    const b = new CanonicalModelBuilder([1, ...rows, K], range);
    prefix(b, rng);
    const a = Math.max(1, Math.min(127, Math.floor(1.6e7 / (K * 128))));
    b.dense({
      weight: rng.ints(K * M, -a, a), units: M, transB: rng.bool(), bias: rng.bool(0.8) ? rng.ints(M, -5000, 5000) : undefined,
      shift: shift(rng, M, 14), clip: clipPair(rng),
    });
    return finish(b, rng, range);
  },
  [LayerKind.CONV]: (rng) => {
    const depthwise = rng.bool(0.3);
    const G = depthwise ? rng.int(1, 6) : rng.int(1, 3);
    const CG = depthwise ? 1 : rng.int(1, 3);
    const C = G * CG;
    const M = G * (depthwise ? rng.int(1, 2) : rng.int(1, 3));
    const H = rng.int(1, 16), W = rng.int(1, 16);
    const pads: [number, number, number, number] = rng.bool(0.7) ? [rng.int(0, 2), rng.int(0, 2), rng.int(0, 2), rng.int(0, 2)] : [0, 0, 0, 0];
    const KH = rng.int(1, Math.min(5, H + pads[0] + pads[2]));
    const KW = rng.int(1, Math.min(5, W + pads[1] + pads[3]));
    const range: [number, number] = [-64, 63];
    const b = new CanonicalModelBuilder([1, C, H, W], range);
    prefix(b, rng);
    b.conv({
      weight: rng.ints(M * CG * KH * KW, -127, 127), outChannels: M, kernel: [KH, KW], group: G,
      strides: [rng.int(1, 3), rng.int(1, 3)], pads, bias: rng.bool(0.8) ? rng.ints(M, -3000, 3000) : undefined,
      shift: shift(rng, M, 12), clip: clipPair(rng),
    });
    return finish(b, rng, range);
  },
  [LayerKind.ADD]: (rng) => {
    const shape = randomShape(rng);
    const range: [number, number] = [-1000, 1000];
    const b = new CanonicalModelBuilder(shape, range);
    const s = rng.int(0, 4);
    if (rng.bool()) {
      b.relu();
      const [x, y] = rng.bool() ? [0, 1] : [1, 0];
      b.add({ input: x, other: y, shift: s, clip: clipPair(rng) });
    } else {
      prefix(b, rng);
      const constant = rng.bool() ? rng.int(-5000, 5000) : rng.ints(shape[1]!, -5000, 5000);
      b.add({ constant, shift: s, clip: clipPair(rng) });
    }
    return finish(b, rng, range);
  },
  [LayerKind.MUL]: (rng) => {
    const shape = randomShape(rng);
    const range: [number, number] = [-1000, 1000];
    const b = new CanonicalModelBuilder(shape, range);
    prefix(b, rng);
    const C = shape[1]!;
    b.mul({ factor: rng.bool() ? rng.int(-300, 300) : rng.ints(C, -300, 300), shift: shift(rng, C, 10), clip: clipPair(rng) });
    return finish(b, rng, range);
  },
  [LayerKind.RELU]: (rng) => {
    const range: [number, number] = [-(2 ** 23), 2 ** 23];
    const b = new CanonicalModelBuilder(randomShape(rng), range);
    if (rng.bool(0.3)) b.clip({ lo: -1000, hi: 1000 });
    b.relu();
    return finish(b, rng, range);
  },
  [LayerKind.CLIP]: (rng) => {
    const range: [number, number] = [-5000, 5000];
    const b = new CanonicalModelBuilder(randomShape(rng), range);
    if (rng.bool(0.3)) b.relu();
    const [lo, hi] = clipPair(rng);
    b.clip({ lo, hi });
    return finish(b, rng, range);
  },
  [LayerKind.MAXPOOL]: (rng) => {
    const C = rng.int(1, 6), H = rng.int(1, 16), W = rng.int(1, 16);
    const KH = rng.int(1, Math.min(7, H)), KW = rng.int(1, Math.min(7, W));
    const pads: [number, number, number, number] = rng.bool(0.6)
      ? [rng.int(0, KH - 1), rng.int(0, KW - 1), rng.int(0, KH - 1), rng.int(0, KW - 1)]
      : [0, 0, 0, 0];
    const range: [number, number] = [-(2 ** 20), 2 ** 20];
    const b = new CanonicalModelBuilder([1, C, H, W], range);
    prefix(b, rng);
    b.maxpool({ kernel: [KH, KW], strides: [rng.int(1, 3), rng.int(1, 3)], pads });
    return finish(b, rng, range);
  },
  [LayerKind.RESHAPE]: (rng) => {
    const C = rng.int(1, 6), H = rng.int(1, 12), W = rng.int(1, 20);
    const range: [number, number] = [-(2 ** 23), 2 ** 23];
    const b = new CanonicalModelBuilder([1, C, H, W], range);
    prefix(b, rng);
    if (rng.bool()) b.flatten({ axis: 1 });
    else b.reshape({ shape: [1, C * H, -1] });
    return finish(b, rng, range);
  },
  [LayerKind.LUT]: (rng) => {
    const lo = rng.int(-300, 10);
    const len = rng.int(1, 600);
    const range: [number, number] = [lo, lo + len - 1];
    const b = new CanonicalModelBuilder(randomShape(rng), range);
    b.lut({ lo, table: rng.ints(len, -(2 ** 20), 2 ** 20) });
    return finish(b, rng, range);
  },
  [LayerKind.MATMUL]: (rng) => {
    // a [1, G..., N, K] (the input, or a RELU/CLIP of it) times b [1, G..., K, M]: a CONST layer,
    // a's transpose (a GATHER, M = N: attention's Q·Kᵀ), or a itself (N = K = M).
    const lead = rng.pick([[], [rng.int(1, 3)], [rng.int(1, 2), rng.int(1, 3)]]);
    const mode = rng.pick(["const", "transpose", "same"] as const);
    const K = rng.bool(0.15) ? rng.int(65, 300) : rng.int(1, 64);
    const N = mode === "same" ? K : rng.int(1, 10);
    const M = mode === "same" ? K : mode === "transpose" ? N : rng.int(1, 10);
    const G = numel(lead);
    const ma = Math.max(1, Math.min(1000, Math.floor(Math.sqrt(1.6e7 / K))));
    const range: [number, number] = [-ma, ma];
    const b = new CanonicalModelBuilder([1, ...lead, N, K], range);
    prefix(b, rng);
    const a = b.last;
    if (mode === "const") {
      const mb = Math.max(1, Math.min(2 ** 20, Math.floor(1.6e7 / (K * ma))));
      b.constant({ values: rng.ints(G * K * M, -mb, mb), shape: [1, ...lead, K, M] });
    } else if (mode === "transpose") {
      const index: number[] = [];
      for (let g = 0; g < G; g++) for (let j = 0; j < K; j++) for (let n = 0; n < N; n++) index.push((g * N + n) * K + j);
      b.gather({ inputs: [a], index, outShape: [1, ...lead, K, N] });
    }
    b.matmul({ input: a, other: b.last, shift: rng.int(0, 14), clip: clipPair(rng) });
    return finish(b, rng, range);
  },
  [LayerKind.PRODUCT]: (rng) => {
    const shape = rng.bool(0.3) ? [1, rng.int(1, 6), rng.int(1, 40), rng.int(1, 8)] : randomShape(rng);
    const range: [number, number] = [-4000, 4000];
    const b = new CanonicalModelBuilder(shape, range);
    // Two layers (either order), or one layer squared.
    if (rng.bool()) {
      b.relu();
      const [x, y] = rng.bool() ? [0, 1] : [1, 0];
      b.product({ input: x, other: y, shift: rng.int(0, 14), clip: clipPair(rng) });
    } else {
      prefix(b, rng);
      b.product({ other: b.last, shift: rng.int(0, 14), clip: clipPair(rng) });
    }
    return finish(b, rng, range);
  },
  [LayerKind.GATHER]: (rng) => {
    // Up to three sources (the input, a RELU of it, a CONST layer), named in any order, maybe
    // twice; random indices into their concatenation, the appended zero (Σ n_i) among them.
    const range: [number, number] = [-(2 ** 23), 2 ** 23];
    const b = new CanonicalModelBuilder(randomShape(rng, 700), range);
    const sources = [0];
    if (rng.bool(0.6)) sources.push(b.relu().last);
    if (rng.bool(0.5)) {
      const n = rng.int(1, 600);
      sources.push(b.constant({ values: rng.ints(n, -(2 ** 23), 2 ** 23), shape: rng.bool() ? [1, n] : [1, 1, n] }).last);
    }
    const inputs = Array.from({ length: rng.int(1, 3) }, () => rng.pick(sources));
    const total = inputs.reduce((z, t) => z + numel(b.shapeOf(t)), 0);
    const outShape = rng.bool(0.5) ? [1, rng.int(1, 1200)] : [1, rng.int(1, 8), rng.int(1, 12), rng.int(1, 12)];
    const zeros = rng.bool(0.5) ? 0.1 : 0;
    const index = Array.from({ length: numel(outShape) }, () => (rng.bool(zeros) ? total : rng.int(0, total)));
    b.gather({ inputs, index, outShape });
    return finish(b, rng, range);
  },
  [LayerKind.CONST]: (rng) => {
    const range: [number, number] = [-100, 100];
    const b = new CanonicalModelBuilder(randomShape(rng, 300), range);
    prefix(b, rng);
    const shape = randomShape(rng);
    const lim = rng.bool(0.2) ? 2 ** 24 - 1 : 1000;
    b.constant({ values: rng.ints(numel(shape), -lim, lim), shape });
    return finish(b, rng, range);
  },
};

/** What a case exercises, for the kinds whose generators must reach several paths. */
function tags(l: CanonicalLayer, e: number): string[] {
  const t: string[] = [];
  if (l.kind === LayerKind.DENSE && e >= l.params[DenseParam.M]!) t.push("a row after the first");
  if (l.kind === LayerKind.MATMUL) {
    if (numel(l.outShape) > l.params[MatMulParam.N]! * l.params[MatMulParam.M]!) t.push("G > 1");
    if (l.inputs[0] === l.inputs[1]) t.push("a times a");
    if (l.params[MatMulParam.K]! > 64) t.push("K > 64");
  }
  if (l.kind === LayerKind.PRODUCT && l.inputs[0] === l.inputs[1]) t.push("a times a");
  if (l.kind === LayerKind.GATHER) {
    const src = gatherSource(l, e);
    t.push(src === null ? "the appended zero" : src.slot > 0 ? "an input after the first" : "input 0");
  }
  return t;
}

const REQUIRED_TAGS: Partial<Record<LayerKind, string[]>> = {
  [LayerKind.DENSE]: ["a row after the first"],
  [LayerKind.MATMUL]: ["G > 1", "a times a", "K > 64"],
  [LayerKind.PRODUCT]: ["a times a"],
  [LayerKind.GATHER]: ["the appended zero", "an input after the first", "input 0"],
};

interface Case {
  readonly ctx: StepContext;
  readonly pre: bigint;
  readonly proofs: Hex;
  readonly expected: number;
  readonly label: string;
  /** Take `pre` from the previous case's on-chain result (whole elements computed on-chain). */
  readonly chained?: boolean;
}

/** 32-byte big-endian two's-complement word. */
function word(v: bigint | number): Buffer {
  const x = BigInt.asUintN(256, BigInt(v));
  return Buffer.from(x.toString(16).padStart(64, "0"), "hex");
}

/** Calldata of OneStepHarness.runPacked, built by hand (ethers' coder is slow on big `bytes`). */
function packCases(harness: Contract, cases: readonly Case[]): string {
  const parts: Buffer[] = [word(cases.length)];
  for (const c of cases) {
    const proofs = Buffer.from(c.proofs.slice(2), "hex");
    parts.push(
      Buffer.from(c.ctx.graphRoot.slice(2), "hex"), Buffer.from(c.ctx.traceRoot.slice(2), "hex"),
      word(c.ctx.layer), word(c.ctx.element), word(c.ctx.phase), word(c.ctx.term), word(c.pre), word(c.chained ? 1 : 0),
      word(proofs.length), proofs, Buffer.alloc((32 - (proofs.length % 32)) % 32),
    );
  }
  const packed = Buffer.concat(parts);
  const selector = harness.interface.getFunction("runPacked")!.selector;
  return selector + Buffer.concat([word(32), word(packed.length), packed, Buffer.alloc((32 - (packed.length % 32)) % 32)]).toString("hex");
}

async function runCases(harness: Contract, cases: readonly Case[]): Promise<string[]> {
  const mismatches: string[] = [];
  const to = await harness.getAddress();
  for (let i = 0; i < cases.length; ) {
    let end = i;
    // A chained case stays in the batch of the case it continues.
    for (let bytes = 0; end < cases.length && (end === i || cases[end]!.chained || bytes + cases[end]!.proofs.length / 2 <= BATCH_BYTES); end++) {
      bytes += cases[end]!.proofs.length / 2;
    }
    const batch = cases.slice(i, end);
    i = end;
    const ret = (await ethers.provider.send("eth_call", [{ to, data: packCases(harness, batch) }, "latest"])) as string;
    const [out, ok, exact, errors] = harness.interface.decodeFunctionResult("runPacked", ret) as unknown as [bigint[], boolean[], boolean[], string[]];
    batch.forEach((c, j) => {
      if (!ok[j]) mismatches.push(`${c.label}: reverted ${errors[j]}`);
      else if (!exact[j]) mismatches.push(`${c.label}: the verifier found its start outside the exact range`);
      else if (out[j] !== BigInt(c.expected)) mismatches.push(`${c.label}: chain ${out[j]} != reference ${c.expected}`);
    });
  }
  return mismatches;
}

describe("OneStepVerifier", function () {
  let verifier: Contract;
  let harness: Contract;

  before(async function () {
    verifier = (await ethers.deployContract("OneStepVerifier")) as unknown as Contract;
    harness = (await ethers.deployContract("OneStepHarness", [await verifier.getAddress()])) as unknown as Contract;
  });

  describe("differential: chain vs reference interpreter, every kind", function () {
    const kinds = Object.values(LayerKind) as LayerKind[];
    for (const kind of kinds) {
      it(`${layerKindName(kind)}: ${CASES_PER_KIND} random (layer, input, element${isSum(kind) || kind === LayerKind.MAXPOOL ? ", term" : ""}) cases, zero mismatches`, async function () {
        this.timeout(120_000);
        const rng = new Rng(0x5eed0000 + kind);
        const cases: Case[] = [];
        const full: { prover: StepProver; k: number; e: number; y: number }[] = [];
        let n = 0;
        let padded = 0;
        const covered = new Set<string>();
        while (n < CASES_PER_KIND) {
          const { model, input, k } = GENERATORS[kind](rng);
          const trace = referenceTrace(model, input);
          const prover = new StepProver(model, trace);
          const layer = prover.layer(k);
          // The reference output, recomputed by evalLayer from the layer's own inputs.
          const y = evalLayer(layer, prover.inputsOf(k));
          expect(Array.from(y)).to.deep.equal(Array.from(trace[k]!));
          // The hand-written encoder agrees with ethers' ABI coder.
          const sample = prover.proofs(k, 0, prover.directPhase(k));
          expect(sample).to.equal(encodeStepProofsSlow({ ...prover.descriptor(k), openings: prover.openings(k, 0, prover.directPhase(k)) }));
          for (let c = 0; c < CASES_PER_MODEL && n < CASES_PER_KIND; c++, n++) {
            const e = rng.bool(0.1) ? rng.pick([0, y.length - 1]) : rng.int(0, y.length - 1);
            const label = `${layerKindName(kind)} case ${n} (params ${layer.params.join(",")}, shape ${layer.outShape.join("x")}, e ${e})`;
            for (const t of tags(layer, e)) covered.add(t);
            if (kind === LayerKind.MAXPOOL || !isSum(kind)) {
              cases.push({ ctx: prover.context(k, e, StepPhase.Direct), pre: 0n, proofs: prover.proofs(k, e, StepPhase.Direct), expected: y[e]!, label });
            }
            if (isSum(kind) || kind === LayerKind.MAXPOOL) {
              const s = prover.partialSums(k, e);
              const L = reductionLength(layer);
              const j = rng.bool(0.1) ? rng.pick([0, L - 1]) : rng.int(0, L - 1);
              if (s[j + 1] === s[j]) padded++;
              const step = (phase: StepPhaseT, pre: number, expected: number, term = 0): Case => ({
                ctx: prover.context(k, e, phase, term), pre: BigInt(pre), proofs: prover.proofs(k, e, phase, term), expected, label: `${label} phase ${phase} j ${term}`,
              });
              // Term 0 starts from s_0, which the verifier reads from the constants itself.
              cases.push(step(StepPhase.Reduce, 0, s[1]!, 0));
              cases.push(step(StepPhase.Reduce, s[j]!, s[j + 1]!, j));
              cases.push(step(StepPhase.Final, s[L]!, y[e]!));
              if (full.length < FULL_ELEMENTS && L <= 64 && c === 0) full.push({ prover, k, e, y: y[e]! });
            }
          }
        }
        const mismatches = await runCases(harness, cases);
        expect(mismatches.slice(0, 10)).to.deep.equal([]);
        expect(cases.length).to.be.at.least(CASES_PER_KIND);
        if (kind === LayerKind.CONV || kind === LayerKind.MAXPOOL) expect(padded).to.be.greaterThan(0);
        for (const t of REQUIRED_TAGS[kind] ?? []) expect(covered.has(t), `some ${layerKindName(kind)} case reads ${t}`).to.equal(true);
        if (kind === LayerKind.MATMUL) expect(full.length).to.equal(FULL_ELEMENTS);

        // Whole elements recomputed on-chain: every term from term 0 (which reads s_0 itself), then
        // Final, each step's `pre` the chain's own previous result, so s_0..s_L never leave the chain.
        const chains: Case[] = [];
        for (const f of full) {
          const L = reductionLength(f.prover.layer(f.k));
          const s = f.prover.partialSums(f.k, f.e);
          const at = (phase: StepPhaseT, term: number, expected: number, chained: boolean): Case => ({
            ctx: f.prover.context(f.k, f.e, phase, term), pre: 0n, proofs: f.prover.proofs(f.k, f.e, phase, term), expected, chained,
            label: `whole element ${f.e} of layer ${f.k}, phase ${phase} term ${term}`,
          });
          for (let j = 0; j < L; j++) chains.push(at(StepPhase.Reduce, j, s[j + 1]!, j > 0));
          chains.push(at(StepPhase.Final, 0, f.y, true));
        }
        expect(await runCases(harness, chains)).to.deep.equal([]);
      });
    }
  });

  describe("negative: every broken proof reverts with its named error", function () {
    // input [1,1,6,6] -> CONV (padding 1) -> RELU -> MAXPOOL -> FLATTEN -> DENSE -> LUT
    const rng = new Rng(42);
    const b = new CanonicalModelBuilder([1, 1, 6, 6], [-10, 10]);
    b.conv({ weight: rng.ints(2 * 9, -5, 5), outChannels: 2, kernel: [3, 3], pads: [1, 1, 1, 1], shift: [1, 2], clip: [-100, 100] });
    b.relu();
    b.maxpool({ kernel: [2, 2], strides: [2, 2] });
    b.flatten();
    b.dense({ weight: rng.ints(18 * 3, -3, 3), units: 3, bias: [1, 2, 3], shift: 1, clip: [-20, 20] });
    b.lut({ lo: -20, table: Array.from({ length: 41 }, (_, i) => i * i - 7) });
    const model = parseCanonicalModel(b.build());
    const trace = referenceTrace(model, rng.input(36, -10, 10));
    const prover = new StepProver(model, trace);
    const DENSE = 5, RELU = 2, LUT = 6, CONV = 1;

    const stepOf = (ctx: StepContext, pre: bigint | number, proofs: Hex) => verifier.getFunction("step").staticCall(ctx, pre, proofs) as Promise<[boolean, bigint]>;
    /** The step without the malformed-model rule: the errors the rule turns into `exact = false`. */
    const strictStep = (ctx: StepContext, pre: bigint | number, proofs: Hex) => verifier.getFunction("strictStep").staticCall(ctx, pre, proofs);
    /** The step's value, which must be exact. */
    const step = async (ctx: StepContext, pre: bigint | number, proofs: Hex): Promise<bigint> => {
      const [exact, post] = await stepOf(ctx, pre, proofs);
      expect(exact, "the step was not exact").to.equal(true);
      return post;
    };
    const withOpenings = (k: number, e: number, phase: StepPhaseT, term: number, edit: (o: ReturnType<StepProver["openings"]>) => ReturnType<StepProver["openings"]>): Hex =>
      encodeStepProofs({ ...prover.descriptor(k), openings: edit(prover.openings(k, e, phase, term)) });
    const flip = (h: Hex): Hex => (h.slice(0, -1) + (h.endsWith("0") ? "1" : "0")) as Hex;

    it("honest steps pass (baseline for the cases below)", async function () {
      expect(await step(prover.context(RELU, 3, StepPhase.Direct), 0, prover.proofs(RELU, 3, StepPhase.Direct))).to.equal(BigInt(trace[RELU]![3]!));
      const s = prover.partialSums(DENSE, 1);
      expect(await step(prover.context(DENSE, 1, StepPhase.Reduce, 4), s[4]!, prover.proofs(DENSE, 1, StepPhase.Reduce, 4))).to.equal(BigInt(s[5]!));
      const [kind, length, n] = (await verifier.getFunction("reductionLength").staticCall(prover.graph.root, DENSE, prover.descriptor(DENSE).descriptor, prover.descriptor(DENSE).graphProof)) as [bigint, bigint, bigint];
      expect([kind, length, n]).to.deep.equal([1n, 18n, 3n]);
      const pool = (await verifier.getFunction("reductionLength").staticCall(prover.graph.root, 3, prover.descriptor(3).descriptor, prover.descriptor(3).graphProof)) as [bigint, bigint, bigint];
      expect(pool[1]).to.equal(0n);
    });

    it("wrong chunk proof -> TensorProofChunkMismatch", async function () {
      const proofs = withOpenings(DENSE, 1, StepPhase.Reduce, 4, (o) => [o[0]!, { ...o[1]!, chunkProof: o[1]!.chunkProof.length ? [flip(o[1]!.chunkProof[0]!)] : [] , chunk: flip(o[1]!.chunk) }]);
      await expect(step(prover.context(DENSE, 1, StepPhase.Reduce, 4), 0, proofs)).to.be.revertedWithCustomError(verifier, "TensorProofChunkMismatch");
    });

    it("wrong trace-leaf proof -> OneStepVerifierTraceLeafMismatch", async function () {
      const proofs = withOpenings(RELU, 0, StepPhase.Direct, 0, (o) => [{ ...o[0]!, rootProof: [flip(o[0]!.rootProof[0]!), ...o[0]!.rootProof.slice(1)] }]);
      await expect(step(prover.context(RELU, 0, StepPhase.Direct), 0, proofs)).to.be.revertedWithCustomError(verifier, "OneStepVerifierTraceLeafMismatch");
    });

    it("an agreed trace root other than the one the inputs belong to -> OneStepVerifierTraceLeafMismatch", async function () {
      const ctx = { ...prover.context(RELU, 0, StepPhase.Direct), traceRoot: flip(prover.traceCommitment.root) };
      await expect(step(ctx, 0, prover.proofs(RELU, 0, StepPhase.Direct))).to.be.revertedWithCustomError(verifier, "OneStepVerifierTraceLeafMismatch");
    });

    it("wrong index: the opening of another element's chunk, an element or term out of range", async function () {
      // Layer 1 (CONV) output has 72 elements, one chunk; use a 300-element tensor for chunks.
      const big = Int32Array.from({ length: 600 }, (_, i) => i - 300);
      const c = commitTensor(big);
      const bytes = canonicalBytes(big);
      const chunk1 = toHex(chunkOf(bytes, 1));
      // Element 10 lives in chunk 0: chunk 1 with its own proof is the wrong opening.
      await expect(harness.getFunction("readElement").staticCall(c.root, 10, 600, chunk1, c.tree.proofHex(1))).to.be.revertedWithCustomError(harness, "TensorProofChunkMismatch");
      expect(await harness.getFunction("readElement").staticCall(c.root, 266, 600, chunk1, c.tree.proofHex(1))).to.equal(-34n);
      await expect(harness.getFunction("readElement").staticCall(c.root, 266, 600, chunk1.slice(0, -2), c.tree.proofHex(1))).to.be.revertedWithCustomError(harness, "TensorProofChunkLength").withArgs(1023);
      // Index that does not fit the proof's depth.
      await expect(harness.getFunction("merkleRoot").staticCall(c.tree.leaf(0), 4, c.tree.proofHex(0))).to.be.revertedWithCustomError(harness, "MerkleProofIndexOutOfRange").withArgs(4, 2);
      await expect(step(prover.context(DENSE, 3, StepPhase.Final), 0, prover.proofs(DENSE, 2, StepPhase.Final))).to.be.revertedWithCustomError(verifier, "OneStepVerifierElementOutOfRange").withArgs(3, 3);
      await expect(step(prover.context(DENSE, 0, StepPhase.Reduce, 18), 0, prover.proofs(DENSE, 0, StepPhase.Reduce, 17))).to.be.revertedWithCustomError(verifier, "OneStepVerifierTermOutOfRange").withArgs(18, 18);
      // Openings are positions, not claims: element 0's proofs serve element 1 when both lie in the
      // same chunks, and the verifier still reads element 1's values.
      const s = prover.partialSums(DENSE, 1);
      expect(await step(prover.context(DENSE, 1, StepPhase.Reduce, 2), s[2]!, prover.proofs(DENSE, 0, StepPhase.Reduce, 2))).to.equal(BigInt(s[3]!));
    });

    it("a value that is not in the chunk -> TensorProofValueMismatch / TensorProofElementOutOfRange", async function () {
      const t = trace[DENSE]!; // 3 elements: chunk 0 holds them and 253 zero-padding elements
      const c = commitTensor(t);
      const chunk = toHex(chunkOf(canonicalBytes(t), 0));
      await harness.getFunction("checkElement").staticCall(c.root, 2, 3, t[2]!, chunk, []);
      await expect(harness.getFunction("checkElement").staticCall(c.root, 2, 3, t[2]! + 1, chunk, [])).to.be.revertedWithCustomError(harness, "TensorProofValueMismatch").withArgs(2, t[2]! + 1, t[2]!);
      await expect(harness.getFunction("checkElement").staticCall(c.root, 3, 3, 0, chunk, [])).to.be.revertedWithCustomError(harness, "TensorProofElementOutOfRange").withArgs(3, 3);
      // An opening of another tensor with the right chunk index.
      const other = toHex(chunkOf(canonicalBytes(trace[LUT]!), 0));
      await expect(harness.getFunction("readElement").staticCall(c.root, 0, 3, other, [])).to.be.revertedWithCustomError(harness, "TensorProofChunkMismatch");
    });

    it("a graph leaf of another layer -> GraphLeafRootMismatch", async function () {
      const other = prover.descriptor(RELU);
      const proofs = encodeStepProofs({ descriptor: other.descriptor, graphProof: prover.descriptor(DENSE).graphProof, openings: prover.openings(DENSE, 0, StepPhase.Final) });
      await expect(step(prover.context(DENSE, 0, StepPhase.Final), 0, proofs)).to.be.revertedWithCustomError(verifier, "GraphLeafRootMismatch");
      // The right descriptor and proof of layer 2 used as layer 5.
      const proofs2 = encodeStepProofs({ ...other, openings: [] });
      await expect(step(prover.context(DENSE, 0, StepPhase.Final), 0, proofs2)).to.be.revertedWithCustomError(verifier, "GraphLeafRootMismatch");
      await expect(step(prover.context(0, 0, StepPhase.Direct), 0, prover.proofs(RELU, 0, StepPhase.Direct))).to.be.revertedWithCustomError(verifier, "GraphLeafNotALayer").withArgs(0);
      // The header leaf decodes and checks.
      const header = (await harness.getFunction("header").staticCall(prover.graph.root, encodeHeader(model), graphLeafProof(prover.graph, 0))) as { numLayers: bigint; inputLo: bigint };
      expect(header.numLayers).to.equal(6n);
      expect(header.inputLo).to.equal(-10n);
      const decoded = (await harness.getFunction("layer").staticCall(prover.graph.root, CONV, encodeLayer(model.layers[0]!), graphLeafProof(prover.graph, CONV))) as { kind: bigint; params: bigint[] };
      expect(decoded.kind).to.equal(2n);
      expect(decoded.params.map(Number)).to.deep.equal(model.layers[0]!.params);
    });

    it("a wrong constant opening -> TensorProofChunkMismatch", async function () {
      // B's chunk (term 0's first read) opened where s is read (same shape, other tensor).
      const proofs = withOpenings(DENSE, 1, StepPhase.Final, 0, () => prover.openings(DENSE, 1, StepPhase.Reduce, 0).slice(0, 1));
      await expect(step(prover.context(DENSE, 1, StepPhase.Final), 0, proofs)).to.be.revertedWithCustomError(verifier, "TensorProofChunkMismatch");
    });

    it("wrong phase, missing and extra openings, LUT domain", async function () {
      await expect(step(prover.context(RELU, 0, StepPhase.Reduce), 0, prover.proofs(RELU, 0, StepPhase.Direct))).to.be.revertedWithCustomError(verifier, "OneStepVerifierWrongPhase").withArgs(5, StepPhase.Reduce);
      await expect(step(prover.context(DENSE, 0, StepPhase.Direct), 0, prover.proofs(DENSE, 0, StepPhase.Final))).to.be.revertedWithCustomError(verifier, "OneStepVerifierWrongPhase").withArgs(1, StepPhase.Direct);
      expect(await step(prover.context(3, 0, StepPhase.Reduce, 0), MAXPOOL_EMPTY, prover.proofs(3, 0, StepPhase.Reduce, 0))).to.equal(BigInt(trace[2]![0]!));
      // A window of padding only (an agreed s_L that never left its start) is no canonical pooling:
      // reported as not exact, so the defender that agreed to it loses; the strict entry reverts.
      expect(await stepOf(prover.context(3, 0, StepPhase.Final), MAXPOOL_EMPTY, prover.proofs(3, 0, StepPhase.Final))).to.deep.equal([false, 0n]);
      await expect(strictStep(prover.context(3, 0, StepPhase.Final), MAXPOOL_EMPTY, prover.proofs(3, 0, StepPhase.Final))).to.be.revertedWithCustomError(verifier, "OneStepVerifierEmptyWindow").withArgs(0);
      // Term 0 reads B[m], x[0] and W[m, 0]: three openings, in that order.
      await expect(step(prover.context(DENSE, 0, StepPhase.Reduce, 0), 0, withOpenings(DENSE, 0, StepPhase.Reduce, 0, (o) => o.slice(0, 2)))).to.be.revertedWithCustomError(verifier, "OneStepVerifierMissingOpening").withArgs(3, 2);
      await expect(step(prover.context(DENSE, 0, StepPhase.Reduce, 0), 0, withOpenings(DENSE, 0, StepPhase.Reduce, 0, (o) => [...o, o[0]!]))).to.be.revertedWithCustomError(verifier, "OneStepVerifierUnusedOpenings").withArgs(3, 4);
      await expect(step(prover.context(DENSE, 0, StepPhase.Reduce, 1), 0, withOpenings(DENSE, 0, StepPhase.Reduce, 1, (o) => [...o, o[0]!]))).to.be.revertedWithCustomError(verifier, "OneStepVerifierUnusedOpenings").withArgs(2, 3);
      // A trace whose LUT input leaves the table's domain (the validator refuses such models; the
      // chain must still refuse to read outside the table): both traces agree on that input, so the
      // step is reported as not exact and the defender loses; the strict entry reverts.
      const bad = trace.map((t) => t.slice());
      bad[5]![0] = 21;
      const badProver = new StepProver(model, bad);
      const proofs = encodeStepProofs({ ...badProver.descriptor(LUT), openings: [badProver.openings(RELU, 0, StepPhase.Direct)[0]!].map((o) => ({ ...o, ...openingOf(badProver, 5, 0) })) });
      expect(await stepOf(badProver.context(LUT, 0, StepPhase.Direct), 0, proofs)).to.deep.equal([false, 0n]);
      await expect(strictStep(badProver.context(LUT, 0, StepPhase.Direct), 0, proofs)).to.be.revertedWithCustomError(verifier, "OneStepVerifierLutDomain").withArgs(21, -20, 20);
    });

    it("a step from outside the exact range is reported, not reverted; s_0 is never the caller's", async function () {
      const s = prover.partialSums(DENSE, 1);
      // An agreed s_j or s_L outside |v| < 2^24 (both bounds exclusive).
      for (const pre of [2n ** 24n, -(2n ** 24n), 2n ** 40n]) {
        expect(await stepOf(prover.context(DENSE, 1, StepPhase.Reduce, 4), pre, prover.proofs(DENSE, 1, StepPhase.Reduce, 4))).to.deep.equal([false, 0n]);
        expect(await stepOf(prover.context(DENSE, 1, StepPhase.Final), pre, prover.proofs(DENSE, 1, StepPhase.Final))).to.deep.equal([false, 0n]);
      }
      // Just inside: exact (the helper checks it).
      await step(prover.context(DENSE, 1, StepPhase.Reduce, 4), 2n ** 24n - 1n, prover.proofs(DENSE, 1, StepPhase.Reduce, 4));
      // Term 0 reads s_0 from the constants: whatever `pre` a caller passes, the result is s_1.
      for (const pre of [0n, 2n ** 24n, -123n]) {
        expect(await step(prover.context(DENSE, 1, StepPhase.Reduce, 0), pre, prover.proofs(DENSE, 1, StepPhase.Reduce, 0))).to.equal(BigInt(s[1]!));
      }
      // A registered model whose bias is outside the range (the registry cannot refuse it): the
      // step from s_0 is reported as not exact, so the game can still end.
      const inexact = parseCanonicalModel(b.build());
      inexact.layers[DENSE - 1]!.constants[DenseConst.B]!.values[1] = 2 ** 24;
      const inexactProver = new StepProver(inexact, trace);
      expect(await stepOf(inexactProver.context(DENSE, 1, StepPhase.Reduce, 0), 0, inexactProver.proofs(DENSE, 1, StepPhase.Reduce, 0))).to.deep.equal([false, 0n]);
      // The same model's other elements, whose biases are in range, step as before.
      expect(await step(inexactProver.context(DENSE, 0, StepPhase.Reduce, 0), 0, inexactProver.proofs(DENSE, 0, StepPhase.Reduce, 0))).to.equal(BigInt(prover.partialSums(DENSE, 0)[1]!));
    });
  });

  describe("gas of one step, transformer kinds on attention-sized tensors", function () {
    it("every step of DENSE over rows, MATMUL, PRODUCT, GATHER and CONST is well below 1,000,000 gas", async function () {
      this.timeout(300_000);
      const { model, trace } = attentionModel();
      const prover = new StepProver(model, trace);
      const rows: string[] = [];
      let max = 0n;
      for (const l of model.layers) {
        const k = l.index;
        const e = Math.floor((numel(l.outShape) * 2) / 3) + 1;
        const s = isSum(l.kind) ? prover.partialSums(k, e) : [];
        const L = reductionLength(l);
        const steps: { phase: StepPhaseT; term: number; pre: number; name: string }[] = isSum(l.kind)
          ? [
              { phase: StepPhase.Reduce, term: 0, pre: 0, name: "Reduce j=0" },
              { phase: StepPhase.Reduce, term: L >> 1, pre: s[L >> 1]!, name: `Reduce j=${L >> 1}` },
              { phase: StepPhase.Final, term: 0, pre: s[L]!, name: "Final" },
            ]
          : [{ phase: StepPhase.Direct, term: 0, pre: 0, name: "Direct" }];
        for (const st of steps) {
          const ctx = prover.context(k, e, st.phase, st.term);
          const proofs = prover.proofs(k, e, st.phase, st.term);
          const [exec, exact, out] = (await harness.getFunction("gasOf").staticCall({ ctx, pre: st.pre, proofs })) as [bigint, boolean, bigint];
          expect(exact).to.equal(true);
          expect(out).to.equal(BigInt(st.phase === StepPhase.Reduce ? s[st.term + 1]! : trace[k]![e]!));
          const tx = await verifier.getFunction("step").estimateGas(ctx, st.pre, proofs);
          if (tx > max) max = tx;
          const openings = prover.openings(k, e, st.phase, st.term).length;
          rows.push(`${String(k).padStart(6)}  ${layerKindName(l.kind).padEnd(8)} ${l.outShape.join("x").padEnd(12)} ${st.name.padEnd(12)} ${String(openings).padStart(8)} ${exec.toLocaleString("en-US").padStart(10)} ${tx.toLocaleString("en-US").padStart(12)}`);
          expect(tx).to.be.below(1_000_000n);
        }
      }
      console.log(`      layer  kind     output       step         openings  execution  transaction\n${rows.join("\n")}\n      largest transaction: ${max.toLocaleString("en-US")} gas`);
    });
  });

  describe("refusals of the transformer kinds", function () {
    // input [1, 2, 3, 4] -> RELU (1) -> GATHER [1, 2, 4, 3] of both (2) -> MATMUL (3) -> PRODUCT (4) -> CONST (5)
    const rng = new Rng(7);
    const b = new CanonicalModelBuilder([1, 2, 3, 4], [-30, 30]);
    b.relu();
    // Element 7 reads the appended zero (index Σ n_i = 48).
    const index = Array.from({ length: 24 }, (_, i) => (i === 7 ? 48 : (i * 7) % 48));
    b.gather({ inputs: [0, 1], index, outShape: [1, 2, 4, 3] });
    b.matmul({ input: 1, other: 2, shift: 2, clip: [-500, 500] });
    b.product({ other: 3, shift: 3, clip: [-900, 900] });
    b.constant({ values: rng.ints(6, -9, 9), shape: [1, 6] });
    const model = parseCanonicalModel(b.build());
    const trace = referenceTrace(model, rng.input(24, -30, 30));
    const prover = new StepProver(model, trace);
    const GATHER = 2, MATMUL = 3, PRODUCT = 4, CONST = 5;
    const stepOf = (p: StepProver, ctx: StepContext, pre: bigint | number, proofs: Hex) =>
      verifier.getFunction("step").staticCall(ctx, pre, proofs) as Promise<[boolean, bigint]>;

    it("a GATHER index outside [0, Σ n_i] is a malformed model: the step reports it not exact, so the defender loses (GatherStepIndexOutOfRange from the strict entry)", async function () {
      expect(await stepOf(prover, prover.context(GATHER, 7, StepPhase.Direct), 0, prover.proofs(GATHER, 7, StepPhase.Direct))).to.deep.equal([true, 0n]);
      for (const bad of [49, -1, 2 ** 23]) {
        const broken = parseCanonicalModel(b.build());
        broken.layers[GATHER - 1]!.constants[GatherConst.IDX]!.values[5] = bad;
        const p = new StepProver(broken, trace);
        expect(await stepOf(p, p.context(GATHER, 5, StepPhase.Direct), 0, p.proofs(GATHER, 5, StepPhase.Direct))).to.deep.equal([false, 0n]);
        await expect(verifier.getFunction("strictStep").staticCall(p.context(GATHER, 5, StepPhase.Direct), 0, p.proofs(GATHER, 5, StepPhase.Direct)))
          .to.be.revertedWithCustomError(verifier, "GatherStepIndexOutOfRange").withArgs(5, bad, 48);
        // A proof error on the same step still reverts: the rule never covers the prover's mistakes.
        const wrongLeaf = encodeStepProofs({ ...p.descriptor(MATMUL), openings: p.openings(GATHER, 5, StepPhase.Direct) });
        await expect(stepOf(p, p.context(GATHER, 5, StepPhase.Direct), 0, wrongLeaf)).to.be.revertedWithCustomError(verifier, "GraphLeafRootMismatch");
        // The other elements of the same layer still step.
        expect((await stepOf(p, p.context(GATHER, 6, StepPhase.Direct), 0, p.proofs(GATHER, 6, StepPhase.Direct)))[1]).to.equal(BigInt(trace[GATHER]![6]!));
      }
    });

    it("MATMUL is stepped term by term, PRODUCT, GATHER and CONST directly: other phases -> OneStepVerifierWrongPhase", async function () {
      await expect(stepOf(prover, prover.context(MATMUL, 0, StepPhase.Direct), 0, prover.proofs(MATMUL, 0, StepPhase.Final))).to.be.revertedWithCustomError(verifier, "OneStepVerifierWrongPhase").withArgs(10, StepPhase.Direct);
      for (const [k, kind] of [[PRODUCT, 11], [GATHER, 12], [CONST, 13]] as const) {
        for (const phase of [StepPhase.Reduce, StepPhase.Final]) {
          await expect(stepOf(prover, prover.context(k, 0, phase), 0, prover.proofs(k, 0, StepPhase.Direct))).to.be.revertedWithCustomError(verifier, "OneStepVerifierWrongPhase").withArgs(kind, phase);
        }
      }
      const d = prover.descriptor(MATMUL);
      expect(await verifier.getFunction("reductionLength").staticCall(prover.graph.root, MATMUL, d.descriptor, d.graphProof)).to.deep.equal([10n, 4n, 18n]);
      for (const k of [PRODUCT, GATHER, CONST]) {
        const dk = prover.descriptor(k);
        expect((await verifier.getFunction("reductionLength").staticCall(prover.graph.root, k, dk.descriptor, dk.graphProof))[1]).to.equal(0n);
      }
      await expect(stepOf(prover, prover.context(MATMUL, 0, StepPhase.Reduce, 4), 0, prover.proofs(MATMUL, 0, StepPhase.Reduce, 3))).to.be.revertedWithCustomError(verifier, "OneStepVerifierTermOutOfRange").withArgs(4, 4);
    });

    it("MATMUL: s_0 = 0 whatever the caller passes; a start outside the exact range is reported; b read from input 1", async function () {
      const s = prover.partialSums(MATMUL, 17);
      expect(s[0]).to.equal(0);
      for (const pre of [0n, 2n ** 24n, -123n]) {
        expect(await stepOf(prover, prover.context(MATMUL, 17, StepPhase.Reduce, 0), pre, prover.proofs(MATMUL, 17, StepPhase.Reduce, 0))).to.deep.equal([true, BigInt(s[1]!)]);
      }
      for (const pre of [2n ** 24n, -(2n ** 24n)]) {
        expect(await stepOf(prover, prover.context(MATMUL, 17, StepPhase.Reduce, 2), pre, prover.proofs(MATMUL, 17, StepPhase.Reduce, 2))).to.deep.equal([false, 0n]);
        expect(await stepOf(prover, prover.context(MATMUL, 17, StepPhase.Final), pre, prover.proofs(MATMUL, 17, StepPhase.Final))).to.deep.equal([false, 0n]);
      }
      // Term j reads a (input 0) then b (input 1): the openings swapped fail the trace-leaf proof.
      const o = prover.openings(MATMUL, 17, StepPhase.Reduce, 2);
      const swapped = encodeStepProofs({ ...prover.descriptor(MATMUL), openings: [o[1]!, o[0]!] });
      await expect(stepOf(prover, prover.context(MATMUL, 17, StepPhase.Reduce, 2), s[2]!, swapped)).to.be.revertedWithCustomError(verifier, "OneStepVerifierTraceLeafMismatch");
      // The trace leaves do not depend on the kind: a PRODUCT of layer 3 with itself opens leaf 3 twice.
      expect(prover.openings(PRODUCT, 2, StepPhase.Direct).slice(0, 2).map((x) => x.root)).to.deep.equal([prover.traceCommitment.tensors[3]!.root, prover.traceCommitment.tensors[3]!.root]);
    });
  });

  describe("layouts of the transformer kinds (GraphLeaf)", function () {
    const ZERO = `0x${"00".repeat(32)}` as Hex;
    /** Layer 1 of a two-leaf graph (leaf 0 stands for a header), its descriptor built by hand. */
    const leaf = (kind: number, inputs: number[], outShape: number[], params: number[], constants: number) => {
      const descriptor = AbiCoder.defaultAbiCoder().encode(LAYER_TYPES, [kind, inputs, outShape, params, new Array<Hex>(constants).fill(ZERO)]) as Hex;
      const tree = MerkleTree.from([Buffer.alloc(32, 1), sha256(fromHex(descriptor))]);
      return harness.getFunction("layer").staticCall(tree.rootHex, 1, descriptor, tree.proofHex(1)) as Promise<{ kind: bigint; params: bigint[] }>;
    };
    const badLayout = (p: Promise<unknown>, kind: number, what: number, count: number, expected: number) =>
      expect(p).to.be.revertedWithCustomError(harness, "GraphLeafBadLayout").withArgs(1, kind, what, count, expected);

    it("MATMUL: two inputs (possibly the same leaf), N, K, M, lo, hi, one shift, rank >= 3", async function () {
      expect((await leaf(10, [0, 0], [1, 2, 3], [2, 4, 3, -5, 5], 1)).kind).to.equal(10n);
      await leaf(10, [0, 0], [1, 2, 2, 3, 3], [3, 4, 3, -5, 5], 1);
      await badLayout(leaf(10, [0, 0], [1, 6], [2, 4, 3, -5, 5], 1), 10, 3, 2, 3);
      await badLayout(leaf(10, [0], [1, 2, 3], [2, 4, 3, -5, 5], 1), 10, 1, 1, 2);
      await badLayout(leaf(10, [0, 0], [1, 2, 3], [2, 4, 3, -5], 1), 10, 0, 4, 5);
      await badLayout(leaf(10, [0, 0], [1, 2, 3], [2, 4, 3, -5, 5], 0), 10, 2, 0, 1);
    });

    it("PRODUCT: two inputs, lo, hi, one shift", async function () {
      await leaf(11, [0, 0], [1, 7], [-5, 5], 1);
      await badLayout(leaf(11, [0], [1, 7], [-5, 5], 1), 11, 1, 1, 2);
      await badLayout(leaf(11, [0, 0, 0], [1, 7], [-5, 5], 1), 11, 1, 3, 2);
      await badLayout(leaf(11, [0, 0], [1, 7], [-5, 5], 2), 11, 2, 2, 1);
    });

    it("GATHER: one param per input, at least one input, the index table", async function () {
      expect((await leaf(12, [0], [1, 3], [9], 1)).params).to.deep.equal([9n]);
      await leaf(12, [0, 0, 0], [1, 2, 2], [9, 9, 9], 1);
      await badLayout(leaf(12, [0, 0], [1, 3], [9], 1), 12, 0, 1, 2);
      await badLayout(leaf(12, [0], [1, 3], [9, 9], 1), 12, 0, 2, 1);
      await badLayout(leaf(12, [], [1, 3], [], 1), 12, 1, 0, 1);
      await badLayout(leaf(12, [0], [1, 3], [9], 0), 12, 2, 0, 1);
      await expect(leaf(12, [0, 1], [1, 3], [9, 9], 1)).to.be.revertedWithCustomError(harness, "GraphLeafInputNotEarlier").withArgs(1, 1);
    });

    it("CONST: no input, no param, its values", async function () {
      await leaf(13, [], [1, 4, 4], [], 1);
      await badLayout(leaf(13, [0], [1, 4], [], 1), 13, 1, 1, 0);
      await badLayout(leaf(13, [], [1, 4], [1], 1), 13, 0, 1, 0);
      await badLayout(leaf(13, [], [1, 4], [], 0), 13, 2, 0, 1);
    });

    it("a malformed leaf proven against its graph root: the verifier reports kind 0 and an inexact step (the game rules against the defender); a wrong proof still reverts", async function () {
      const malformed: [number, number[], number[], number[], number][] = [
        [14, [0], [1, 4], [], 0], // unknown kind
        [12, [0, 0], [1, 3], [9], 1], // GATHER: one param for two inputs
        [2, [0], [1, 2, 4], new Array<number>(15).fill(1), 3], // CONV of rank 3
      ];
      for (const [kind, inputs, outShape, params, constants] of malformed) {
        const descriptor = AbiCoder.defaultAbiCoder().encode(LAYER_TYPES, [kind, inputs, outShape, params, new Array<Hex>(constants).fill(ZERO)]) as Hex;
        const tree = MerkleTree.from([Buffer.alloc(32, 1), sha256(fromHex(descriptor))]);
        expect(await verifier.getFunction("reductionLength").staticCall(tree.rootHex, 1, descriptor, tree.proofHex(1))).to.deep.equal([0n, 0n, 0n]);
        const ctx = { graphRoot: tree.rootHex, traceRoot: ZERO, layer: 1, element: 0, phase: StepPhase.Direct, term: 0 };
        const proofs = encodeStepProofs({ descriptor, graphProof: tree.proofHex(1), openings: [] });
        expect(await verifier.getFunction("step").staticCall(ctx, 0, proofs)).to.deep.equal([false, 0n]);
        // The same leaf with a proof that does not lead to the root is the prover's error: it reverts.
        const wrong = [flipHex(tree.proofHex(1)[0]!)];
        await expect(verifier.getFunction("reductionLength").staticCall(tree.rootHex, 1, descriptor, wrong)).to.be.revertedWithCustomError(verifier, "GraphLeafRootMismatch");
        await expect(verifier.getFunction("step").staticCall(ctx, 0, encodeStepProofs({ descriptor, graphProof: wrong, openings: [] }))).to.be.revertedWithCustomError(verifier, "GraphLeafRootMismatch");
      }
    });

    it("the kinds before them keep their layouts; 14 is unknown", async function () {
      await leaf(3, [0, 0], [1, 4], [-5, 5], 1);
      await leaf(3, [0], [1, 4], [-5, 5], 2);
      await badLayout(leaf(3, [0], [1, 4], [-5, 5], 1), 3, 2, 1, 2);
      await leaf(1, [0], [1, 2, 4], [3, 4, -5, 5], 3);
      await badLayout(leaf(2, [0], [1, 2, 4], new Array<number>(15).fill(1), 3), 2, 3, 3, 4);
      await expect(leaf(14, [0], [1, 4], [], 0)).to.be.revertedWithCustomError(harness, "GraphLeafUnknownKind").withArgs(1, 14);
      await expect(leaf(0, [0], [1, 4], [], 0)).to.be.revertedWithCustomError(harness, "GraphLeafUnknownKind").withArgs(1, 0);
    });
  });
});

/** `h` with its last hex digit changed. */
function flipHex(h: Hex): Hex {
  return (h.slice(0, -1) + (h.endsWith("0") ? "1" : "0")) as Hex;
}

/** An opening of element `e` of trace tensor `t` (root, trace proof, chunk, chunk proof). */
function openingOf(p: StepProver, t: number, e: number) {
  const values = p.trace[t]!;
  const c = commitTensor(values);
  const ci = Math.floor(e / 256);
  return {
    root: c.root,
    rootProof: p.traceCommitment.tree.proofHex(t),
    chunk: toHex(chunkOf(canonicalBytes(values), ci)),
    chunkProof: c.tree.proofHex(ci),
  };
}

/**
 * One attention block at GPT-2-small-like tensor sizes (128 tokens, 4 heads of 16, 64 features):
 * rank-3 DENSE projections, GATHERs that split the heads and transpose K, MATMUL Q·Kᵀ (K = 16),
 * a CONST position bias added, a PRODUCT, MATMUL weights·V (K = 128), and a GATHER that merges the
 * heads and concatenates the block's input (two inputs).
 */
function attentionModel(): { model: CanonicalModel; trace: Int32Array[] } {
  const rng = new Rng(0xa77e);
  const T = 128, D = 64;
  const model = attentionBlock(rng, {
    tokens: T, heads: 4, headDim: 16, range: 127, projClip: 127, weight: 3, bias: 200,
    shifts: [5, 7, 7, 7], clips: [127, 127, 127], positionBias: 20,
  });
  return { model, trace: referenceTrace(model, rng.input(T * D, -127, 127)) };
}
