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
