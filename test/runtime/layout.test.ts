/**
 * offchain/runtime/layout.ts: what onnxruntime runs for a canonical model (the portable layout
 * and the NCHWc layout) gives the reference interpreter's output and, in the traced session,
 * every layer output, bit for bit; and a deliberately wrong rewrite is caught by the same
 * comparison.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";

import { expect } from "chai";
import * as ort from "onnxruntime-node";

import { mobileNetShaped } from "../../offchain/datasets/mobilenet.js";
import { CanonicalModelBuilder } from "../../offchain/model/build.js";
import type { CanonicalModel } from "../../offchain/model/canonical.js";
import { parseCanonicalModel } from "../../offchain/model/canonical.js";
import { decodeModel } from "../../offchain/model/onnx.js";
import type { LayoutOptions } from "../../offchain/runtime/layout.js";
import { layoutModel, nchwcLayout } from "../../offchain/runtime/layout.js";
import { runReference } from "../../offchain/runtime/reference.js";
import type { RunnerOptions } from "../../offchain/runtime/runner.js";
import { CanonicalRunner } from "../../offchain/runtime/runner.js";
import { randomInput } from "./helpers/compare.js";
import { randomPipeline, randomTransformer } from "./helpers/models.js";
import { Rng } from "./helpers/random.js";

const LAYOUTS: NonNullable<RunnerOptions["layout"]>[] = ["portable", "nchwc"];

/** Random inputs with the extremes over-represented, plus all-lo, all-hi and alternating lo/hi. */
function inputs(model: CanonicalModel, r: Rng, random: number): Int32Array[] {
  const n = model.inputShape.reduce((a, b) => a * b, 1);
  const [lo, hi] = model.inputRange;
  return [
    new Int32Array(n).fill(lo),
    new Int32Array(n).fill(hi),
    Int32Array.from({ length: n }, (_, i) => (i % 2 ? hi : lo)),
    ...Array.from({ length: random }, () => randomInput(model, r)),
  ];
}

/** First difference between two layer lists, or undefined. */
function firstDiff(got: readonly ArrayLike<number>[], want: readonly Int32Array[], offset = 0): string | undefined {
  for (let l = 0; l < want.length; l++) {
    const g = got[l]!, w = want[l]!;
    if (g.length !== w.length) return `layer ${l + 1 + offset}: ${g.length} elements, expected ${w.length}`;
    for (let e = 0; e < w.length; e++) if (g[e] !== w[e]) return `layer ${l + 1 + offset} element ${e}: ${g[e]} vs reference ${w[e]}`;
  }
  return undefined;
}

/** Plain output and every traced layer output, per layout, against the reference. */
async function compare(name: string, model: CanonicalModel, xs: readonly Int32Array[]): Promise<void> {
  for (const layout of LAYOUTS) {
    const runner = await CanonicalRunner.create(model, { layout });
    try {
      for (const [k, x] of xs.entries()) {
        const ref = runReference(model, x);
        const out = await runner.run(x);
        const plain = firstDiff([out.output], [ref[ref.length - 1]!], ref.length - 1);
        expect(plain, `${name}, ${layout} layout, plain run, input ${k}: ${plain}`).to.equal(undefined);
        const traced = firstDiff(await runner.runLayers(x), ref);
        expect(traced, `${name}, ${layout} layout, traced run, input ${k}: ${traced}`).to.equal(undefined);
      }
    } finally {
      await runner.release();
    }
  }
}

/** Output of the model laid out with `bytes` (graph optimisation as the layout requires). */
async function runBytes(bytes: Uint8Array, model: CanonicalModel, x: Int32Array, optimized: boolean): Promise<Float32Array> {
  const s = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: optimized ? "disabled" : "all", logSeverityLevel: 3 });
  try {
    const res = await s.run({ [model.inputName]: new ort.Tensor("float32", Float32Array.from(x), [...model.inputShape]) });
    return res[model.outputName]!.data as Float32Array;
  } finally {
    await s.release();
  }
}

const opTypes = (bytes: Uint8Array): string[] => (decodeModel(bytes).graph!.node ?? []).map((n) => n.opType ?? "");

describe("inference: the layout onnxruntime runs == reference interpreter", function () {
  this.timeout(300_000);
  const root = process.cwd();
  const load = async (file: string): Promise<CanonicalModel> => parseCanonicalModel(await readFile(join(root, "models", file)));
  // A MobileNet-shaped model at a small resolution: the same layer kinds and clip ranges.
  const mobile = parseCanonicalModel(mobileNetShaped({ seed: 7, width: 0.25, resolution: 64, classes: 10 }).bytes);

  it("MNIST CNN: plain output and every layer output, both layouts", async () => {
    const m = await load("mnist-cnn.canonical.onnx");
    await compare("MNIST CNN", m, inputs(m, new Rng(0x1a70), 12));
  });

  it("MNIST MLP: plain output and every layer output, both layouts", async () => {
    const m = await load("mnist-mlp.canonical.onnx");
    await compare("MNIST MLP", m, inputs(m, new Rng(0x1a71), 12));
  });

  it("MobileNet-shaped (64×64, width 0.25): plain output and every layer output, both layouts", async () => {
    await compare("MobileNet-shaped", mobile, inputs(mobile, new Rng(0x1a72), 6));
  });

  it("random pipelines (conv, relu, add, mul, pool, flatten, dense, lut, clip, reshape), both layouts", async () => {
    const r = new Rng(0x1a73);
    for (let i = 0; i < 12; i++) {
      const p = randomPipeline(r);
      const m = parseCanonicalModel(p.bytes);
      await compare(p.desc, m, inputs(m, r, 3));
    }
  });

  it("random transformer blocks (dense over tokens, gather, matmul, product, const), both layouts", async () => {
    const r = new Rng(0x1a74);
    for (let i = 0; i < 12; i++) {
      const p = randomTransformer(r);
      const m = parseCanonicalModel(p.bytes);
      await compare(p.desc, m, inputs(m, r, 3));
    }
  });

  it("a Floor sinks through a one-input GATHER that keeps fewer elements (rewrite 4), not in the traced graph", async () => {
    const r = new Rng(0x1a75);
    const m = parseCanonicalModel(
      new CanonicalModelBuilder([1, 4, 3], [-128, 127])
        .dense({ weight: r.ints(9, -9, 9), units: 3, bias: r.ints(3, -50, 50), shift: 3, clip: [-128, 127], name: "tok" })
        .gather({ inputs: [1], index: [0, 1, 2], outShape: [1, 3], name: "first" })
        .dense({ weight: r.ints(6, -9, 9), units: 2, shift: 2, clip: [-128, 127], name: "cls" })
        .build(),
    );
    const plain = opTypes(layoutModel(m));
    expect(plain.indexOf("Floor"), plain.join(" ")).to.be.greaterThan(plain.indexOf("Gather"));
    const traced = opTypes(layoutModel(m, { trace: true }));
    expect(traced.indexOf("Floor"), traced.join(" ")).to.be.below(traced.indexOf("Gather"));
    await compare("first-token slice", m, inputs(m, r, 8));
    const xs = inputs(m, r, 8);
    let bad = 0;
    const broken = layoutModel(m, { broken: "skip-owed-floor" });
    for (const x of xs) {
      const ref = runReference(m, x).pop()!;
      const got = await runBytes(broken, m, x, false);
      for (let e = 0; e < ref.length; e++) if (got[e] !== ref[e]) bad++;
    }
    expect(bad, "the unfloored slice is caught").to.be.greaterThan(0);
  });

  it("the layouts are the rewrites they claim: folded scales, Clip before Floor, integer rounding in NCHWc", async () => {
    const portable = opTypes(layoutModel(mobile));
    expect(portable.filter((o) => o === "Mul"), "scales folded into the weights (rewrite 1)").to.have.length(0);
    expect(portable.indexOf("Clip")).to.be.below(portable.indexOf("Floor"));
    // The last conv's Floor moves past the global MaxPool (rewrite 4), not in the traced graph.
    const plainFloor = portable.indexOf("Floor", portable.lastIndexOf("Conv"));
    expect(portable.indexOf("MaxPool")).to.be.below(plainFloor);
    const traced = opTypes(layoutModel(mobile, { trace: true }));
    expect(traced.indexOf("Floor", traced.lastIndexOf("Conv"))).to.be.below(traced.indexOf("MaxPool"));
    const nchwc = await nchwcLayout(mobile, ort);
    expect(nchwc.optimized, "onnxruntime kept every placeholder").to.equal(true);
    const ops = opTypes(nchwc.bytes);
    expect(ops.filter((o) => o === "QuantizeLinear").length, "rounding layers (rewrite 5)").to.be.greaterThan(0);
    expect(ops.filter((o) => o === "QuantizeLinear").length).to.equal(ops.filter((o) => o === "DequantizeLinear").length);
  });

  it("the canonical file, its hash and its layers are untouched by the layout", async () => {
    const m = await load("mnist-cnn.canonical.onnx");
    const before = Buffer.from(m.bytes).toString("hex");
    layoutModel(m);
    await nchwcLayout(m, ort, { trace: true });
    expect(Buffer.from(m.bytes).toString("hex")).to.equal(before);
    expect(parseCanonicalModel(m.bytes).contentHash).to.equal(m.contentHash);
  });

  describe("a wrong rewrite is caught by the same comparison", () => {
    async function mismatches(model: CanonicalModel, options: LayoutOptions, nchwc: boolean, xs: readonly Int32Array[]): Promise<number> {
      const laid = nchwc ? await nchwcLayout(model, ort, options) : { bytes: layoutModel(model, options), optimized: false };
      let bad = 0;
      for (const x of xs) {
        const ref = runReference(model, x).pop()!;
        const got = await runBytes(laid.bytes, model, x, laid.optimized);
        for (let e = 0; e < ref.length; e++) if (got[e] !== ref[e]) bad++;
      }
      return bad;
    }

    it("a consumer reading a sunk Floor's input unfloored (rewrite 4) is caught on the MNIST CNN", async () => {
      const m = await load("mnist-cnn.canonical.onnx");
      const xs = inputs(m, new Rng(0xbad1), 5);
      expect(await mismatches(m, {}, false, xs), "the correct layout").to.equal(0);
      expect(await mismatches(m, { broken: "skip-owed-floor" }, false, xs)).to.be.greaterThan(0);
    });

    it("rounding without the half-unit bias (rewrite 5: ties round to even) is caught on the MobileNet-shaped model", async () => {
      const xs = inputs(mobile, new Rng(0xbad2), 3);
      expect(await mismatches(mobile, {}, true, xs), "the correct layout").to.equal(0);
      expect(await mismatches(mobile, { broken: "half-bias" }, true, xs)).to.be.greaterThan(0);
    });
  });
});
