/**
 * onnxruntime vs the reference interpreter, per layer kind, on random models and random
 * inputs: zero mismatches allowed, and 1 vs 2 intra-op threads must agree bit for bit.
 */
import { expect } from "chai";

import { LAYER_KIND_NAMES, LayerKind } from "../../offchain/model/layers.js";
import { compareModel, emptyStats } from "./helpers/compare.js";
import type { CompareStats } from "./helpers/compare.js";
import { GENERATORS, randomConv, randomDense, randomPipeline } from "./helpers/models.js";
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
});
