/**
 * onnxruntime vs the reference interpreter, per layer kind, on random models and random
 * inputs: zero mismatches allowed, and 1 vs 2 intra-op threads must agree bit for bit.
 */
import { expect } from "chai";

import * as ort from "onnxruntime-node";

import { CanonicalModelBuilder } from "../../offchain/model/build.js";
import { parseCanonicalModel } from "../../offchain/model/canonical.js";
import { ModelError } from "../../offchain/model/errors.js";
import { LAYER_KIND_NAMES, LayerKind } from "../../offchain/model/layers.js";
import { compareModel, emptyStats } from "./helpers/compare.js";
import type { CompareStats } from "./helpers/compare.js";
import { GENERATORS, randomConv, randomDense, randomPipeline, randomTransformer } from "./helpers/models.js";
import { Rng } from "./helpers/random.js";

const MODELS_PER_KIND = 40;
const INPUTS_PER_MODEL = 25; // 1000 random inputs per kind

function report(name: string, s: CompareStats): void {
  console.log(
    `      ${name}: ${s.models} models, ${s.inputs} inputs, ${s.elements} elements, ` +
      `${s.refMismatches} ref mismatches, ${s.threadMismatches} thread mismatches`,
  );
}

describe("inference: onnxruntime == reference interpreter", function () {
  this.timeout(120_000);

  for (const kind of Object.values(LayerKind)) {
    const name = LAYER_KIND_NAMES[kind];
    it(`${name}: ${MODELS_PER_KIND * INPUTS_PER_MODEL} random inputs over ${MODELS_PER_KIND} random models`, async () => {
      const r = new Rng(0x5eed0000 + kind);
      const stats = emptyStats();
      for (let m = 0; m < MODELS_PER_KIND; m++) {
        const model = GENERATORS[kind](r);
        await compareModel(model.bytes, model.desc, INPUTS_PER_MODEL, r, stats);
      }
      report(name, stats);
      expect(stats.firstFailure, stats.firstFailure).to.equal(undefined);
      expect(stats.inputs).to.be.at.least(1000);
      expect(stats.refMismatches).to.equal(0);
      expect(stats.threadMismatches).to.equal(0);
    });
  }

  it("large DENSE/CONV (multi-threaded kernels, sums near 2^24)", async () => {
    const r = new Rng(0x1a76e);
    const stats = emptyStats();
    for (let m = 0; m < 4; m++) {
      const d = randomDense(r, true);
      await compareModel(d.bytes, d.desc, 5, r, stats);
      const c = randomConv(r, true);
      await compareModel(c.bytes, c.desc, 3, r, stats);
    }
    report("large", stats);
    expect(stats.firstFailure, stats.firstFailure).to.equal(undefined);
  });

  it("multi-layer pipelines (conv, relu, add, mul, pool, flatten, dense, lut, clip, reshape)", async () => {
    const r = new Rng(0x919e);
    const stats = emptyStats();
    for (let m = 0; m < 30; m++) {
      const p = randomPipeline(r);
      await compareModel(p.bytes, p.desc, 10, r, stats);
    }
    report("pipelines", stats);
    expect(stats.firstFailure, stats.firstFailure).to.equal(undefined);
  });

  it("transformer blocks (const, add, dense over tokens, gather, matmul, lut, product)", async () => {
    const r = new Rng(0x7f0e);
    const stats = emptyStats();
    for (let m = 0; m < 30; m++) {
      const p = randomTransformer(r);
      await compareModel(p.bytes, p.desc, 10, r, stats);
    }
    report("transformers", stats);
    expect(stats.firstFailure, stats.firstFailure).to.equal(undefined);
    expect(stats.inputs).to.equal(300);
  });

  it("negative control: past 2^24 float32 is not exact, and the validator refuses the model", async () => {
    // 16777215 + 4 = 16777219 exactly, but float32 rounds it to 16777220: >> 1 gives 8388610, not 8388609.
    const bytes = new CanonicalModelBuilder([1, 2], [0, 2 ** 24 - 1])
      .dense({ weight: [1, 1], units: 1, shift: 1, clip: [-(2 ** 24 - 1), 2 ** 24 - 1], name: "over" })
      .build();
    expect(() => parseCanonicalModel(bytes)).to.throw(ModelError, /exactness bound violated in layer 1 \(DENSE "over"\)/);
    const session = await ort.InferenceSession.create(bytes);
    const out = await session.run({ input: new ort.Tensor("float32", Float32Array.from([2 ** 24 - 1, 4]), [1, 2]) });
    await session.release();
    expect((out["over/out"]!.data as Float32Array)[0]).to.equal(8388610);
    expect(Math.floor((2 ** 24 - 1 + 4) / 2)).to.equal(8388609);
  });
});
