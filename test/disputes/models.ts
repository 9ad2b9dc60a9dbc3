/**
 * Small canonical models for the dispute tests, one per layer kind, built with
 * CanonicalModelBuilder and parsed (so validated) like any shipped model.
 */
import { readFileSync } from "node:fs";

import { quantizeInput } from "../../offchain/convert/evaluate.js";
import { loadDigits, toFloat } from "../../offchain/datasets/mnist.js";
import { CanonicalModelBuilder } from "../../offchain/model/build.js";
import type { CanonicalModel } from "../../offchain/model/canonical.js";
import { parseCanonicalModel } from "../../offchain/model/canonical.js";
import { Rng } from "../runtime/helpers/random.js";

/**
 * Every kind in one model: conv(pad) → relu → maxpool → mul → add(const) → clip → lut →
 * add(two layers) → flatten → dense (a 600-element-wide dense input gives several chunks).
 * Input [1, 2, 10, 10] in [-8, 8].
 */
export function allKindsModel(seed = 7): CanonicalModel {
  const r = new Rng(seed);
  const b = new CanonicalModelBuilder([1, 2, 10, 10], [-8, 8]);
  b.conv({ weight: r.ints(6 * 2 * 3 * 3, -3, 3), bias: r.ints(6, -20, 20), outChannels: 6, kernel: [3, 3], pads: [1, 1, 1, 1], shift: 2, clip: [-60, 60] });
  b.relu();
  const relu = b.last;
  b.maxpool({ kernel: [2, 2], strides: [2, 2] });
  b.mul({ factor: r.ints(6, -3, 3), shift: 1, clip: [-50, 50] });
  b.add({ constant: r.ints(6, -5, 5), clip: [-40, 40] });
  b.clip({ lo: -30, hi: 30 });
  b.lut({ lo: -30, table: Array.from({ length: 61 }, (_, i) => (i * 7) % 23 - 11) });
  const lut = b.last;
  b.add({ other: lut, shift: 1, clip: [-20, 20], input: lut });
  b.flatten();
  b.dense({ weight: r.ints(150 * 10, -4, 4), units: 10, bias: r.ints(10, -30, 30), shift: 3, clip: [-100, 100] });
  void relu;
  return parseCanonicalModel(b.build());
}

/** A random input of `model`. */
export function randomInput(model: CanonicalModel, seed: number): Int32Array {
  const n = model.inputShape.reduce((a, d) => a * d, 1);
  return new Rng(seed).input(n, model.inputRange[0], model.inputRange[1]);
}

/** The shipped MNIST CNN (canonical). */
export function mnistCnn(): CanonicalModel {
  return parseCanonicalModel(readFileSync(new URL("../../models/mnist-cnn.canonical.onnx", import.meta.url)));
}

/** Held-out digit `i`, quantized as a client would. */
let heldOut: ReturnType<typeof loadDigits> | undefined;

export function mnistInput(model: CanonicalModel, i: number): Int32Array {
  heldOut ??= loadDigits("heldout");
  return quantizeInput(model, toFloat(heldOut.pixels[i]!));
}

/** Sizes, ranges and shifts of {@link attentionBlock}. */
export interface AttentionShape {
  readonly tokens: number;
  readonly heads: number;
  readonly headDim: number;
  /** The input's range [-range, range], and the projections' clip [-projClip, projClip]. */
  readonly range: number;
  readonly projClip: number;
  readonly weight: number;
  readonly bias: number;
  /** Shifts of the projections, the scores, the product and the weighted values. */
  readonly shifts: readonly [number, number, number, number];
  /** Clips of the scores (and the biased scores), the product and the weighted values. */
  readonly clips: readonly [number, number, number];
  /** The position bias (CONST) is drawn in [-positionBias, positionBias]. */
  readonly positionBias: number;
}

/**
 * One attention block with every transformer kind: rank-3 DENSE projections Q, K, V of a
 * [1, T, D] input, GATHERs splitting the heads (K transposed), MATMUL Q·Kᵀ, a CONST position bias
 * added, a PRODUCT, MATMUL weights·V, and a GATHER that merges the heads and concatenates the
 * block's input (two inputs).
 */
export function attentionBlock(r: Rng, a: AttentionShape): CanonicalModel {
  const T = a.tokens, H = a.heads, DH = a.headDim, D = H * DH;
  const [sProj, sScores, sProduct, sValues] = a.shifts;
  const [cScores, cProduct, cValues] = a.clips;
  const b = new CanonicalModelBuilder([1, T, D], [-a.range, a.range]);
  const proj = () => b.dense({ input: 0, weight: r.ints(D * D, -a.weight, a.weight), units: D, bias: r.ints(D, -a.bias, a.bias), shift: sProj, clip: [-a.projClip, a.projClip] }).last;
  const q = proj(), k = proj(), v = proj();
  // [1, T, D] -> [1, H, T, DH] (heads) and [1, H, DH, T] (K transposed).
  const heads = (x: number, transposed: boolean): number => {
    const index: number[] = [];
    for (let h = 0; h < H; h++) {
      if (transposed) for (let d = 0; d < DH; d++) for (let t = 0; t < T; t++) index.push(t * D + h * DH + d);
      else for (let t = 0; t < T; t++) for (let d = 0; d < DH; d++) index.push(t * D + h * DH + d);
    }
    return b.gather({ inputs: [x], index, outShape: transposed ? [1, H, DH, T] : [1, H, T, DH] }).last;
  };
  const qh = heads(q, false), kt = heads(k, true), vh = heads(v, false);
  const scores = b.matmul({ input: qh, other: kt, shift: sScores, clip: [-cScores, cScores] }).last;
  const pos = b.constant({ values: r.ints(H * T * T, -a.positionBias, a.positionBias), shape: [1, H, T, T] }).last;
  const biased = b.add({ input: scores, other: pos, shift: 0, clip: [-cScores, cScores] }).last;
  const weights = b.product({ input: biased, other: biased, shift: sProduct, clip: [0, cProduct] }).last;
  const attended = b.matmul({ input: weights, other: vh, shift: sValues, clip: [-cValues, cValues] }).last;
  // Merge the heads back to [1, T, D] and append the block's input: [1, T, 2D].
  const index: number[] = [];
  for (let t = 0; t < T; t++) {
    for (let h = 0; h < H; h++) for (let d = 0; d < DH; d++) index.push((h * T + t) * DH + d);
    for (let d = 0; d < D; d++) index.push(H * T * DH + t * D + d);
  }
  b.gather({ inputs: [attended, 0], index, outShape: [1, T, 2 * D] });
  return parseCanonicalModel(b.build());
}
