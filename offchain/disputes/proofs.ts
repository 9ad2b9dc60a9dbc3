/**
 * Calldata for the one-step verifier (contracts/interfaces/IOneStepVerifier.sol): the step
 * context and `abi.encode(StepProofs)` for one step of one output element, built from a model
 * and its trace. The index mapping below mirrors the per-kind libraries in
 * contracts/disputes/onestep/ (which element of which tensor each step reads, in which order);
 * the dispute player reuses it to answer a game, the tests check it against the chain.
 */
import { AbiCoder } from "ethers";

import { StepPhase } from "../clients/game-types.js";
import { commitGraph, encodeLayer, graphLeafProof } from "../commitments/graph.js";
import type { GraphCommitment } from "../commitments/graph.js";
import type { Hex } from "../commitments/merkle.js";
import { toHex } from "../commitments/merkle.js";
import { CHUNK_ELEMS, canonicalBytes, chunkOf, commitTensor } from "../commitments/tensor.js";
import type { TensorCommitment } from "../commitments/tensor.js";
import { commitTrace, traceLeafProof } from "../commitments/trace.js";
import type { TraceCommitment } from "../commitments/trace.js";
import type { CanonicalLayer, CanonicalModel } from "../model/canonical.js";
import { numel } from "../model/canonical.js";
import {
  AddConst, ConstConst, ConvConst, ConvParam, DenseConst, DenseParam, GatherConst, LayerKind, LutConst, LutParam,
  MatMulConst, MatMulParam, MaxPoolParam, MulConst, ProductConst,
} from "../model/layers.js";


/** MAXPOOL's running maximum of an empty window (below every value, |v| < 2^24). */
export const MAXPOOL_EMPTY = -(2 ** 24);

/** IOneStepVerifier's StepContext, as ethers encodes it. */
export interface StepContext {
  readonly graphRoot: Hex;
  readonly traceRoot: Hex;
  readonly layer: number;
  readonly element: number;
  readonly phase: StepPhase;
  readonly term: number;
}

export interface TensorOpening {
  readonly root: Hex;
  readonly rootProof: readonly Hex[];
  readonly chunk: Hex;
  readonly chunkProof: readonly Hex[];
}

export interface StepProofs {
  readonly descriptor: Hex;
  readonly graphProof: readonly Hex[];
  readonly openings: readonly TensorOpening[];
}

/** One element a step reads: of the layer's input `slot` or of its constant `c`. */
export type StepRead =
  | { readonly from: "input"; readonly slot: number; readonly index: number }
  | { readonly from: "constant"; readonly c: number; readonly index: number };

export const STEP_PROOFS_TYPE =
  "tuple(bytes descriptor, bytes32[] graphProof, tuple(bytes32 root, bytes32[] rootProof, bytes chunk, bytes32[] chunkProof)[] openings)";
const abi = AbiCoder.defaultAbiCoder();

/** `abi.encode(StepProofs)` as ethers would give it (kept for cross-checking {encodeStepProofs}). */
export function encodeStepProofsSlow(p: StepProofs): Hex {
  return abi.encode([STEP_PROOFS_TYPE], [p]) as Hex;
}

const word = (n: number): Buffer => {
  const b = Buffer.alloc(32);
  b.writeUIntBE(n, 26, 6);
  return b;
};
const hexBuf = (h: Hex): Buffer => Buffer.from(h.slice(2), "hex");
const encBytes = (h: Hex): Buffer => {
  const b = hexBuf(h);
  return Buffer.concat([word(b.length), b, Buffer.alloc((32 - (b.length % 32)) % 32)]);
};
const encWords = (ws: readonly Hex[]): Buffer => Buffer.concat([word(ws.length), ...ws.map(hexBuf)]);
/** A tuple of head words (static values or null for a dynamic field) and the dynamic tails, in order. */
function encTuple(fields: readonly (Buffer | { dyn: Buffer })[]): Buffer {
  const heads: Buffer[] = [];
  const tails: Buffer[] = [];
  let offset = fields.length * 32;
  for (const f of fields) {
    if (Buffer.isBuffer(f)) heads.push(f);
    else {
      heads.push(word(offset));
      tails.push(f.dyn);
      offset += f.dyn.length;
    }
  }
  return Buffer.concat([...heads, ...tails]);
}

/**
 * `abi.encode(StepProofs)`, the `proofs` argument of IOneStepVerifier.step. Written out by hand:
 * ethers' coder is slow on large `bytes` and a MAXPOOL window opens up to 49 chunks.
 */
export function encodeStepProofs(p: StepProofs): Hex {
  const openings = p.openings.map((o) =>
    encTuple([hexBuf(o.root), { dyn: encWords(o.rootProof) }, { dyn: encBytes(o.chunk) }, { dyn: encWords(o.chunkProof) }]),
  );
  const list = Buffer.concat([word(openings.length), encTuple(openings.map((dyn) => ({ dyn })))]);
  const body = encTuple([{ dyn: encBytes(p.descriptor) }, { dyn: encWords(p.graphProof) }, { dyn: list }]);
  return `0x${Buffer.concat([word(32), body]).toString("hex")}`;
}

/** DENSE, CONV and MATMUL: elements are long sums, stepped term by term. */
export function isSum(kind: LayerKind): boolean {
  return kind === LayerKind.DENSE || kind === LayerKind.CONV || kind === LayerKind.MATMUL;
}

const P = (l: CanonicalLayer, i: number): number => l.params[i]!;

/** Largest MAXPOOL window checked in one Direct step (OneStepVerifier.MAX_DIRECT_WINDOW). */
export const MAX_DIRECT_WINDOW = 16;

/**
 * The reduction the dispute game bisects for an element of `l` (OneStepVerifier.reductionLength):
 * the sums, and a MAXPOOL wider than MAX_DIRECT_WINDOW as a running maximum; 0 for a Direct step.
 */
export function gameReductionLength(l: CanonicalLayer): number {
  if (isSum(l.kind)) return reductionLength(l);
  if (l.kind === LayerKind.MAXPOOL && reductionLength(l) > MAX_DIRECT_WINDOW) return reductionLength(l);
  return 0;
}

/** Reduce terms of one element: K (DENSE, MATMUL), (C/group)·KH·KW (CONV), KH·KW (MAXPOOL, if stepped); else 0. */
export function reductionLength(l: CanonicalLayer): number {
  switch (l.kind) {
    case LayerKind.DENSE:
      return P(l, DenseParam.K);
    case LayerKind.MATMUL:
      return P(l, MatMulParam.K);
    case LayerKind.CONV:
      return (P(l, ConvParam.C) / P(l, ConvParam.GROUP)) * P(l, ConvParam.KH) * P(l, ConvParam.KW);
    case LayerKind.MAXPOOL:
      return P(l, MaxPoolParam.KH) * P(l, MaxPoolParam.KW);
    default:
      return 0;
  }
}

/** Channel (axis 1) of output element e. */
export function channelOf(shape: readonly number[], e: number): number {
  return Math.floor(e / numel(shape.slice(2))) % shape[1]!;
}

/** DENSE term j of output element e: unit m (B, s), input element (row ⌊e / M⌋) and weight element (DenseStep.termIndices). */
export function denseTerm(l: CanonicalLayer, e: number, j: number): { m: number; x: number; w: number } {
  const K = P(l, DenseParam.K), M = P(l, DenseParam.M);
  const m = e % M;
  return { m, x: Math.floor(e / M) * K + j, w: m * K + j };
}

/** MATMUL term j of output element e: the elements of a (input 0) and b (input 1) it reads (MatMulStep.termIndices). */
export function matmulTerm(l: CanonicalLayer, e: number, j: number): { a: number; b: number } {
  const N = P(l, MatMulParam.N), K = P(l, MatMulParam.K), M = P(l, MatMulParam.M);
  const g = Math.floor(e / (N * M));
  const n = Math.floor(e / M) % N;
  return { a: (g * N + n) * K + j, b: (g * K + j) * M + (e % M) };
}

/**
 * GATHER output element e: the input slot and element it copies, or null when it reads nothing
 * more than its index: the appended zero (index Σ n_i), or an index outside [0, Σ n_i], on which
 * the chain reverts GatherStepIndexOutOfRange after reading it (the validator refuses such models).
 */
export function gatherSource(l: CanonicalLayer, e: number): { slot: number; index: number } | null {
  const idx = l.constants[GatherConst.IDX]!.values[e]!;
  if (idx < 0) return null;
  let offset = 0;
  for (let slot = 0; slot < l.params.length; slot++) {
    if (idx < offset + l.params[slot]!) return { slot, index: idx - offset };
    offset += l.params[slot]!;
  }
  return null;
}

/** CONV term t of output element e: input element (or padding) and weight element (ConvStep.termIndices). */
export function convTerm(l: CanonicalLayer, e: number, t: number): { padded: boolean; x: number; w: number } {
  const [C, H, W, M, KH, KW, SY, SX, PT, PL] = l.params as number[];
  const G = P(l, ConvParam.GROUP);
  const OH = l.outShape[2]!, OW = l.outShape[3]!;
  const CG = C! / G, taps = KH! * KW!;
  const m = Math.floor(e / (OH * OW));
  const w = m * CG * taps + t;
  const y = (Math.floor(e / OW) % OH) * SY! + (Math.floor(t / KW!) % KH!) - PT!;
  const x = (e % OW) * SX! + (t % KW!) - PL!;
  if (y < 0 || y >= H! || x < 0 || x >= W!) return { padded: true, x: 0, w };
  const ch = Math.floor(m / (M! / G)) * CG + Math.floor(t / taps);
  return { padded: false, x: (ch * H! + y) * W! + x, w };
}

/** MAXPOOL window position t of output element e: input element, unless padding (MaxPoolStep.termIndex). */
export function poolTerm(l: CanonicalLayer, e: number, t: number): { padded: boolean; x: number } {
  const [, H, W, , KW, SY, SX, PT, PL] = l.params as number[];
  const OH = l.outShape[2]!, OW = l.outShape[3]!;
  const c = Math.floor(e / (OH * OW));
  const y = (Math.floor(e / OW) % OH) * SY! + Math.floor(t / KW!) - PT!;
  const x = (e % OW) * SX! + (t % KW!) - PL!;
  if (y < 0 || y >= H! || x < 0 || x >= W!) return { padded: true, x: 0 };
  return { padded: false, x: (c * H! + y) * W! + x };
}

/**
 * The elements one step reads, in the order the verifier consumes openings. `inputs[k]` is the
 * trace tensor of `layer.inputs[k]` (LUT's table index depends on the input value, GATHER's input
 * and element on its index table). A `Reduce` step at term 0 first reads s_0 (DENSE/CONV: the
 * bias; MATMUL: nothing, s_0 is 0; MAXPOOL: nothing, s_0 is EMPTY).
 */
export function stepReads(l: CanonicalLayer, e: number, phase: StepPhase, term: number, inputs: readonly Int32Array[]): StepRead[] {
  const input = (index: number, slot = 0): StepRead => ({ from: "input", slot, index });
  const constant = (c: number, index: number): StepRead => ({ from: "constant", c, index });
  const ch = channelOf(l.outShape, e);
  switch (l.kind) {
    case LayerKind.DENSE: {
      const t = denseTerm(l, e, term);
      if (phase === StepPhase.Final) return [constant(DenseConst.S, t.m)];
      const initial = term === 0 ? [constant(DenseConst.B, t.m)] : [];
      return [...initial, input(t.x), constant(DenseConst.W, t.w)];
    }
    case LayerKind.MATMUL: {
      if (phase === StepPhase.Final) return [constant(MatMulConst.S, 0)];
      const t = matmulTerm(l, e, term);
      return [input(t.a, 0), input(t.b, 1)];
    }
    case LayerKind.CONV: {
      const m = Math.floor(e / (l.outShape[2]! * l.outShape[3]!));
      if (phase === StepPhase.Final) return [constant(ConvConst.S, m)];
      const initial = term === 0 ? [constant(ConvConst.B, m)] : [];
      const t = convTerm(l, e, term);
      return t.padded ? initial : [...initial, input(t.x), constant(ConvConst.W, t.w)];
    }
    case LayerKind.MAXPOOL: {
      if (phase === StepPhase.Reduce) {
        const t = poolTerm(l, e, term);
        return t.padded ? [] : [input(t.x)];
      }
      if (phase !== StepPhase.Direct) return [];
      const reads: StepRead[] = [];
      for (let t = 0; t < reductionLength(l); t++) {
        const p = poolTerm(l, e, t);
        if (!p.padded) reads.push(input(p.x));
      }
      return reads;
    }
    case LayerKind.ADD:
      return l.inputs.length === 2
        ? [input(e, 0), input(e, 1), constant(AddConst.S, 0)]
        : [input(e), constant(AddConst.B, ch), constant(AddConst.S, 0)];
    case LayerKind.MUL:
      return [input(e), constant(MulConst.S, ch), constant(MulConst.C, ch)];
    case LayerKind.LUT:
      return [input(e), constant(LutConst.T, inputs[0]![e]! - P(l, LutParam.LO))];
    case LayerKind.PRODUCT:
      return [input(e, 0), input(e, 1), constant(ProductConst.S, 0)];
    case LayerKind.GATHER: {
      const src = gatherSource(l, e);
      return src ? [constant(GatherConst.IDX, e), input(src.index, src.slot)] : [constant(GatherConst.IDX, e)];
    }
    case LayerKind.CONST:
      return [constant(ConstConst.C, e)];
    default: // RELU, CLIP, RESHAPE
      return [input(e)];
  }
}

/**
 * The partial results s_0..s_L of element e of a DENSE, CONV or MATMUL layer (or a stepped
 * MAXPOOL), in the verifier's term order; y follows from s_L by the Final step.
 */
export function partialSums(l: CanonicalLayer, e: number, inputs: readonly Int32Array[]): number[] {
  const x = inputs[0]!;
  const L = reductionLength(l);
  const s: number[] = [];
  if (l.kind === LayerKind.DENSE) {
    const W = l.constants[DenseConst.W]!.values;
    s.push(l.constants[DenseConst.B]!.values[denseTerm(l, e, 0).m]!);
    for (let j = 0; j < L; j++) {
      const t = denseTerm(l, e, j);
      s.push(s[j]! + x[t.x]! * W[t.w]!);
    }
  } else if (l.kind === LayerKind.MATMUL) {
    const b = inputs[1]!;
    s.push(0);
    for (let j = 0; j < L; j++) {
      const t = matmulTerm(l, e, j);
      s.push(s[j]! + x[t.a]! * b[t.b]!);
    }
  } else if (l.kind === LayerKind.CONV) {
    const W = l.constants[ConvConst.W]!.values;
    s.push(l.constants[ConvConst.B]!.values[Math.floor(e / (l.outShape[2]! * l.outShape[3]!))]!);
    for (let j = 0; j < L; j++) {
      const t = convTerm(l, e, j);
      s.push(t.padded ? s[j]! : s[j]! + x[t.x]! * W[t.w]!);
    }
  } else if (l.kind === LayerKind.MAXPOOL) {
    s.push(MAXPOOL_EMPTY);
    for (let j = 0; j < L; j++) {
      const t = poolTerm(l, e, j);
      s.push(t.padded ? s[j]! : Math.max(s[j]!, x[t.x]!));
    }
  } else {
    throw new Error(`layer ${l.index} (kind ${l.kind}) is not a reduction`);
  }
  return s;
}

/** Reads the 1024-byte chunks and Merkle paths of one committed tensor. */
class OpenTensor {
  private readonly bytes: Buffer;
  readonly commitment: TensorCommitment;
  private readonly cache = new Map<number, { chunk: Hex; proof: Hex[] }>();

  constructor(values: Int32Array) {
    this.bytes = canonicalBytes(values);
    this.commitment = commitTensor(values);
  }

  open(index: number): { chunk: Hex; proof: Hex[] } {
    const ci = Math.floor(index / CHUNK_ELEMS);
    let hit = this.cache.get(ci);
    if (!hit) {
      hit = { chunk: toHex(chunkOf(this.bytes, ci)), proof: this.commitment.tree.proofHex(ci) };
      this.cache.set(ci, hit);
    }
    return hit;
  }
}

/**
 * Builds step contexts and proofs for one model and one trace [input, out_1, …, out_n]. Steps
 * about layer k only read trace leaves before k, so the trace may be either party's as long as
 * those leaves are the agreed ones.
 */
export class StepProver {
  readonly model: CanonicalModel;
  readonly trace: readonly Int32Array[];
  readonly graph: GraphCommitment;
  readonly traceCommitment: TraceCommitment;
  private readonly tensors = new Map<number, OpenTensor>();
  private readonly constants = new Map<string, OpenTensor>();

  constructor(model: CanonicalModel, trace: readonly Int32Array[]) {
    if (trace.length !== model.layers.length + 1) {
      throw new Error(`a trace of ${model.layers.length} layers has ${model.layers.length + 1} tensors; got ${trace.length}`);
    }
    this.model = model;
    this.trace = trace;
    this.graph = commitGraph(model);
    this.traceCommitment = commitTrace(trace);
  }

  layer(k: number): CanonicalLayer {
    const l = this.model.layers[k - 1];
    if (!l) throw new Error(`no layer ${k} (the model has ${this.model.layers.length})`);
    return l;
  }

  /** The trace tensors layer k reads. */
  inputsOf(k: number): Int32Array[] {
    return this.layer(k).inputs.map((i) => this.trace[i]!);
  }

  /** The preimage of graph leaf k and its proof. */
  descriptor(k: number): { descriptor: Hex; graphProof: Hex[] } {
    return { descriptor: encodeLayer(this.layer(k), this.graph.constants[k - 1]), graphProof: graphLeafProof(this.graph, k) };
  }

  context(k: number, element: number, phase: StepPhase, term = 0): StepContext {
    return { graphRoot: this.graph.root, traceRoot: this.traceCommitment.root, layer: k, element, phase, term };
  }

  /** The phase that ends the check of an element in a game: Final after a reduction, else Direct. */
  directPhase(k: number): StepPhase {
    return gameReductionLength(this.layer(k)) > 0 ? StepPhase.Final : StepPhase.Direct;
  }

  /** The openings of one step, in the verifier's order. */
  openings(k: number, element: number, phase: StepPhase, term = 0): TensorOpening[] {
    const l = this.layer(k);
    return stepReads(l, element, phase, term, this.inputsOf(k)).map((r) => {
      if (r.from === "input") {
        const t = l.inputs[r.slot]!;
        const { chunk, proof } = this.tensor(t).open(r.index);
        return { root: this.traceCommitment.tensors[t]!.root, rootProof: traceLeafProof(this.traceCommitment, t), chunk, chunkProof: proof };
      }
      const c = this.constant(k, r.c);
      const { chunk, proof } = c.open(r.index);
      return { root: c.commitment.root, rootProof: [], chunk, chunkProof: proof };
    });
  }

  /** `proofs` argument of IOneStepVerifier.step. */
  proofs(k: number, element: number, phase: StepPhase, term = 0): Hex {
    return encodeStepProofs({ ...this.descriptor(k), openings: this.openings(k, element, phase, term) });
  }

  /** s_0..s_L of element e of layer k (DENSE, CONV, MATMUL or a stepped MAXPOOL). */
  partialSums(k: number, element: number): number[] {
    return partialSums(this.layer(k), element, this.inputsOf(k));
  }

  private tensor(t: number): OpenTensor {
    let o = this.tensors.get(t);
    if (!o) {
      o = new OpenTensor(this.trace[t]!);
      this.tensors.set(t, o);
    }
    return o;
  }

  private constant(k: number, c: number): OpenTensor {
    const key = `${k}:${c}`;
    let o = this.constants.get(key);
    if (!o) {
      o = new OpenTensor(this.layer(k).constants[c]!.values);
      this.constants.set(key, o);
    }
    return o;
  }
}
