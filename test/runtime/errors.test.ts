/** Every refusal path: bad files, non-canonical graphs, bound violations, bad inputs. */
import { expect } from "chai";

import { CanonicalModelBuilder } from "../../offchain/model/build.js";
import { parseCanonicalModel } from "../../offchain/model/canonical.js";
import { InputError, ModelError } from "../../offchain/model/errors.js";
import type { ModelErrorCode } from "../../offchain/model/errors.js";
import { decodeModel, encodeModel } from "../../offchain/model/onnx.js";
import type { IModelProto } from "../../offchain/model/onnx.js";
import { runReference } from "../../offchain/runtime/reference.js";
import { CanonicalRunner } from "../../offchain/runtime/runner.js";

function expectModelError(f: () => unknown, code: ModelErrorCode, message?: RegExp | string): ModelError {
  try {
    f();
  } catch (e) {
    expect(e, String(e)).to.be.instanceOf(ModelError);
    const err = e as ModelError;
    expect(err.code, err.message).to.equal(code);
    if (typeof message === "string") expect(err.message).to.include(message);
    else if (message) expect(err.message).to.match(message);
    return err;
  }
  expect.fail(`expected ModelError ${code}`);
}

const small = (): CanonicalModelBuilder =>
  new CanonicalModelBuilder([1, 1, 4, 4], [-128, 127])
    .conv({ weight: new Array(2 * 9).fill(1), outChannels: 2, kernel: [3, 3], shift: 2, clip: [-128, 127], name: "c1" })
    .relu({ name: "r1" })
    .flatten({ name: "f1" })
    .dense({ weight: new Array(8 * 3).fill(2), units: 3, shift: 4, clip: [-128, 127], name: "fc1" });

/** Decode, edit, re-encode. */
function edit(bytes: Uint8Array, f: (m: IModelProto) => void): Uint8Array {
  const m = decodeModel(bytes);
  f(m);
  return encodeModel(m);
}

describe("inference: errors", function () {
  this.timeout(60_000);
  const good = small().build();

  it("a valid model parses", () => {
    const m = parseCanonicalModel(good);
    expect(m.layers.map((l) => l.kind)).to.deep.equal([2, 5, 8, 1]);
    expect(m.contentHash).to.match(/^0x[0-9a-f]{64}$/);
  });

  describe("malformed files", () => {
    it("empty, garbage and truncated files give ModelError (never another error)", () => {
      expectModelError(() => parseCanonicalModel(new Uint8Array()), "MALFORMED", "empty");
      expectModelError(() => parseCanonicalModel(Buffer.from("this is not an onnx file at all")), "MALFORMED", /malformed or truncated/);
      expectModelError(() => parseCanonicalModel(good.subarray(0, Math.floor(good.length / 2))), "MALFORMED", /truncated/);
      // Every cut point: whatever part survives decoding, the parser names a problem.
      let malformed = 0;
      for (let cut = 1; cut < good.length; cut += 3) {
        try {
          parseCanonicalModel(good.subarray(0, cut));
          expect.fail(`truncated at ${cut} bytes but parsed`);
        } catch (e) {
          expect(e, `cut ${cut}: ${String(e)}`).to.be.instanceOf(ModelError);
          if ((e as ModelError).code === "MALFORMED") malformed++;
        }
      }
      expect(malformed).to.be.greaterThan(0);
    });

    it("missing graph", () => {
      expectModelError(() => parseCanonicalModel(encodeModel({ irVersion: 8, opsetImport: [{ domain: "", version: 17 }] })), "NO_GRAPH", "no graph");
    });

    it("unsupported or missing opset", () => {
      const old = edit(good, (m) => (m.opsetImport = [{ domain: "", version: 9 }]));
      expectModelError(() => parseCanonicalModel(old), "OPSET", "unsupported opset 9");
      const none = edit(good, (m) => (m.opsetImport = [{ domain: "ai.onnx.ml", version: 3 }]));
      expectModelError(() => parseCanonicalModel(none), "OPSET", /no default-domain opset/);
    });

    it("missing or wrong canonical metadata", () => {
      const plain = edit(good, (m) => (m.metadataProps = []));
      expectModelError(() => parseCanonicalModel(plain), "NOT_CANONICAL", /veritensor.format is missing/);
      const range = edit(good, (m) => (m.metadataProps = [{ key: "veritensor.format", value: "canonical/1" }, { key: "veritensor.input.range", value: "5,1" }]));
      expectModelError(() => parseCanonicalModel(range), "NOT_CANONICAL", /veritensor.input.range/);
      // A scale must be decimal text, the form its registered wad is computed from (Number() takes hex).
      const hex = edit(good, (m) => (m.metadataProps = m.metadataProps!.map((p) => (p.key === "veritensor.output.scale" ? { ...p, value: "0x10" } : p))));
      expectModelError(() => parseCanonicalModel(hex), "NOT_CANONICAL", 'metadata veritensor.output.scale must be a positive decimal number; got "0x10"');
    });
  });

  describe("graphs outside canonical/1", () => {
    it("unsupported op names the op and the node", () => {
      const bytes = small().custom({ opType: "Softmax", name: "sm1", outShape: [1, 3] }).build();
      expectModelError(() => parseCanonicalModel(bytes), "UNSUPPORTED_OP", 'unsupported op "Softmax" at node "sm1"');
    });

    it("a supported op outside its pattern names the node", () => {
      const bytes = small().custom({ opType: "Floor", name: "lonely_floor", outShape: [1, 3] }).build();
      expectModelError(() => parseCanonicalModel(bytes), "BAD_PATTERN", /"Floor" at node "lonely_floor"/);
      // Gemm without the requantization tail.
      const noTail = edit(good, (m) => {
        const g = m.graph!;
        g.node = g.node!.filter((n) => !n.name!.startsWith("fc1/"));
        g.node!.find((n) => n.name === "fc1")!.output = ["fc1/out"];
      });
      expectModelError(() => parseCanonicalModel(noTail), "BAD_PATTERN", /Gemm at node "fc1" .*pattern DENSE: Gemm → Mul/);
    });

    it("dynamic input shape is unresolvable", () => {
      const dyn = edit(good, (m) => {
        m.graph!.input![0]!.type!.tensorType!.shape!.dim![0] = { dimParam: "N" };
      });
      expectModelError(() => parseCanonicalModel(dyn), "SHAPE", /unresolvable shape \[\?,1,4,4\]/);
    });

    it("a tensor read before it is produced is unresolvable", () => {
      const bad = edit(good, (m) => {
        m.graph!.node!.find((n) => n.name === "r1")!.input = ["nowhere"];
      });
      expectModelError(() => parseCanonicalModel(bad), "SHAPE", /Relu at node "r1" reads "nowhere"/);
    });

    it("non-integer weights name the initializer", () => {
      const bytes = new CanonicalModelBuilder([1, 2], [0, 3])
        .dense({ weight: [1, 0.5], units: 1, shift: 0, clip: [0, 10], name: "fc" })
        .build();
      expectModelError(() => parseCanonicalModel(bytes), "NOT_INTEGER", /initializer "fc\/W".*0.5/);
    });

    it("S not a power of two 2^-s with 0 <= s <= 24", () => {
      for (const shift of [25, 1.5, -1]) {
        const bytes = new CanonicalModelBuilder([1, 2], [0, 3])
          .dense({ weight: [1, 2], units: 1, shift, clip: [0, 10], name: "fc" })
          .build();
        expectModelError(() => parseCanonicalModel(bytes), "BAD_SHIFT", /S "fc\/S".*2\^-s/);
      }
    });

    it("graph output must be the last layer's output", () => {
      const bytes = edit(good, (m) => (m.graph!.output![0]!.name = "r1/out"));
      expectModelError(() => parseCanonicalModel(bytes), "SHAPE", /graph output "r1\/out" must be the output of the last layer/);
    });
  });

  describe("exactness rule", () => {
    it("DENSE bound violation names the layer, the channel and the bound", () => {
      // (4096 + 4097) · 2048 = 16779264 >= 2^24 on channel 0
      const bytes = new CanonicalModelBuilder([1, 2], [-2048, 2047])
        .dense({ weight: [4096, 4097, 4096, 0], units: 2, transB: true, shift: 0, clip: [-100, 100], name: "fc_big" })
        .build();
      expectModelError(() => parseCanonicalModel(bytes), "EXACTNESS", /layer 1 \(DENSE "fc_big"\).*output channel 0.*16779264/);
    });

    it("just below the bound is accepted", () => {
      const w = Math.floor((2 ** 24 - 1) / 2048);
      const bytes = new CanonicalModelBuilder([1, 1], [-2048, 2047])
        .dense({ weight: [w], units: 1, shift: 0, clip: [-(2 ** 24 - 1), 2 ** 24 - 1], name: "edge" })
        .build();
      expect(parseCanonicalModel(bytes).layers[0]!.range).to.deep.equal([-w * 2048, w * 2047]);
    });

    it("CONV, ADD and MUL violations name their layer", () => {
      const conv = new CanonicalModelBuilder([1, 1, 3, 3], [-(2 ** 20), 2 ** 20])
        .relu()
        .conv({ weight: new Array(9).fill(2), outChannels: 1, kernel: [3, 3], shift: 0, clip: [0, 1], name: "c_big" })
        .build();
      expectModelError(() => parseCanonicalModel(conv), "EXACTNESS", /layer 2 \(CONV "c_big"\)/);
      const add = new CanonicalModelBuilder([1, 4], [-(2 ** 23), 2 ** 23])
        .add({ other: 0, shift: 1, clip: [0, 1], name: "a_big" })
        .build();
      expectModelError(() => parseCanonicalModel(add), "EXACTNESS", /layer 1 \(ADD "a_big"\).*16777216/);
      const mul = new CanonicalModelBuilder([1, 2], [-1000, 1000])
        .mul({ factor: [3, 20000], shift: 0, clip: [0, 1], name: "m_big" })
        .build();
      expectModelError(() => parseCanonicalModel(mul), "EXACTNESS", /layer 1 \(MUL "m_big"\).*channel 1.*20000000/);
    });

    it("LUT input outside the table names the layer and both ranges", () => {
      const bytes = new CanonicalModelBuilder([1, 3], [-300, 300]).lut({ lo: -256, table: new Array(512).fill(1), name: "sig" }).build();
      expectModelError(() => parseCanonicalModel(bytes), "LUT_RANGE", /layer 1 \(LUT "sig"\): input range \[-300, 300\].*\[-256, 255\]/);
    });
  });

  describe("job inputs", () => {
    const model = parseCanonicalModel(good);
    let runner: CanonicalRunner;
    before(async () => (runner = await CanonicalRunner.create(model)));
    after(async () => runner.release());

    async function expectInputError(p: Promise<unknown>, code: string, msg: RegExp): Promise<void> {
      try {
        await p;
      } catch (e) {
        expect(e, String(e)).to.be.instanceOf(InputError);
        expect((e as InputError).code).to.equal(code);
        expect((e as Error).message).to.match(msg);
        return;
      }
      expect.fail(`expected InputError ${code}`);
    }

    it("wrong length, wrong shape, out of range, non-integer", async () => {
      await expectInputError(runner.runWithTrace(new Int32Array(15)), "INPUT_LENGTH", /15 elements, expected 16 \(shape \[1,1,4,4\]\)/);
      await expectInputError(runner.runLayers(new Int32Array(16), [1, 16]), "INPUT_SHAPE", /shape \[1,16\], expected \[1,1,4,4\]/);
      const x = new Int32Array(16);
      x[5] = 128;
      await expectInputError(runner.runWithTrace(x), "INPUT_RANGE", /element 5 is 128, outside the declared range \[-128, 127\]/);
      await expectInputError(runner.runPlain(Float32Array.from({ length: 16 }, () => 0.25)), "INPUT_NOT_INTEGER", /element 0 is 0.25/);
      expect(() => runReference(model, new Int32Array(3))).to.throw(InputError, /3 elements, expected 16/);
    });
  });
});
