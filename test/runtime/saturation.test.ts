/** Saturation counts: output elements at their layer's clip bounds, on crafted models and inputs. */
import { expect } from "chai";

import { CanonicalModelBuilder } from "../../offchain/model/build.js";
import { parseCanonicalModel } from "../../offchain/model/canonical.js";
import { runReference } from "../../offchain/runtime/reference.js";
import { clipBounds, countSaturated, saturationNote, traceSaturation } from "../../offchain/runtime/saturation.js";

/** y = x (two units, identity weights) clipped to [-5, 5], then ReLU, then a reshape, then a LUT. */
const model = parseCanonicalModel(
  new CanonicalModelBuilder([1, 2], [-10, 10])
    .dense({ weight: [1, 0, 0, 1], units: 2, shift: 0, clip: [-5, 5] })
    .dense({ weight: [1, 0, 0, 1], units: 2, shift: 0, clip: [0, 5] })
    .relu()
    .reshape({ shape: [1, 2, 1] })
    .lut({ lo: 0, table: [0, 1, 2, 3, 4, 5] })
    .build(),
);

describe("runtime: saturation counts", function () {
  it("counts the elements at the clip bounds, and none when nothing reaches them", function () {
    const out = runReference(model, [7, -9]);
    expect(Array.from(out[0]!)).to.deep.equal([5, -5]);
    expect(countSaturated(model, out[0]!, 1)).to.deep.equal({ layer: 1, saturated: 2, total: 2, bounds: [-5, 5] });
    expect(saturationNote(model, countSaturated(model, out[0]!, 1))).to.equal("2 of 2 (at the clip bounds [-5, 5])");
    const calm = runReference(model, [4, -3]);
    expect(countSaturated(model, calm[0]!, 1).saturated).to.equal(0);
  });

  it("does not count a lower bound of 0 (ReLU's), and follows RELU and RESHAPE to the bounds of their producer", function () {
    // Layer 2 clips [5, -5] to [5, 0]: the 5 is cut, the 0 is what a ReLU gives.
    const out = runReference(model, [7, -9]);
    expect(Array.from(out[1]!)).to.deep.equal([5, 0]);
    expect(clipBounds(model, 3)).to.deep.equal([0, 5]);
    expect(clipBounds(model, 4)).to.deep.equal([0, 5]);
    expect(traceSaturation(model, out).map((s) => s.saturated)).to.deep.equal([2, 1, 1, 1, 0]);
    expect(saturationNote(model, countSaturated(model, out[3]!, 4))).to.equal("1 of 2 (at the clip bound 5; a 0 is ReLU's, not counted)");
  });

  it("does not count an upper bound of 0 (a softmax's x − max, whose row maxima are exactly 0)", function () {
    // ADD of x and −max(x) broadcast, clipped to [-50, 0]: each row's maximum gives 0, a cut value -50.
    const b = new CanonicalModelBuilder([1, 2, 1, 3], [-100, 100]);
    b.maxpool({ kernel: [1, 3] });
    b.mul({ factor: -1, shift: 0, clip: [-100, 100] });
    b.gather({ inputs: [2], index: [0, 0, 0, 1, 1, 1], outShape: [1, 2, 1, 3] });
    b.add({ input: 0, other: 3, shift: 0, clip: [-50, 0] });
    const m = parseCanonicalModel(b.build());
    const out = runReference(m, [5, 1, -90, 7, 7, 2]);
    expect(Array.from(out[3]!)).to.deep.equal([0, -4, -50, 0, 0, -5]);
    const s = countSaturated(m, out[3]!, 4);
    expect(s.saturated).to.equal(1);
    expect(saturationNote(m, s)).to.equal("1 of 6 (at the clip bound -50; a 0 is a row maximum's (x − max), not counted)");
  });

  it("counts nothing where values come from a table (LUT) or the graph input", function () {
    const out = runReference(model, [7, -9]);
    const s = countSaturated(model, out[4]!);
    expect(s).to.deep.equal({ layer: 5, saturated: 0, total: 2, bounds: undefined });
    expect(saturationNote(model, s)).to.match(/^none counted \(layer 5, LUT: /);
    expect(clipBounds(model, 0)).to.equal(undefined);
  });

  it("MATMUL and PRODUCT count at their own clip bounds; GATHER follows its inputs' producers when they agree; CONST counts nothing", function () {
    const m = parseCanonicalModel(
      new CanonicalModelBuilder([1, 2, 2], [-10, 10])
        .dense({ weight: [1, 0, 0, 1], units: 2, shift: 0, clip: [-5, 5], name: "tok" })
        .gather({ inputs: [1], index: [2, 3], outShape: [1, 2], name: "last" })
        .constant({ values: [5, 1], shape: [1, 2], name: "c" })
        .gather({ inputs: [1, 3], index: [0, 4], outShape: [1, 2], name: "mixed" })
        .product({ input: 2, other: 2, shift: 0, clip: [0, 9], name: "sq" })
        .matmul({ input: 1, other: 1, shift: 0, clip: [-7, 7], name: "mm" })
        .build(),
    );
    expect([1, 2, 3, 4, 5, 6].map((i) => clipBounds(m, i))).to.deep.equal([[-5, 5], [-5, 5], undefined, undefined, [0, 9], [-7, 7]]);
    // x = [[9, -1], [2, -8]] → tok [[5, -1], [2, -5]]; last [2, -5]; sq [4, 25 → 9]; mm = tok·tok = [[23, 0], [0, 23]] → [7, 0, 0, 7].
    const out = runReference(m, [9, -1, 2, -8]);
    expect(Array.from(out[5]!)).to.deep.equal([7, 0, 0, 7]);
    expect(traceSaturation(m, out).map((s) => s.saturated)).to.deep.equal([2, 1, 0, 0, 1, 2]);
    expect(saturationNote(m, countSaturated(m, out[3]!, 4))).to.match(/^none counted \(layer 4, GATHER: its values come from layers with different clip bounds/);
    expect(saturationNote(m, countSaturated(m, out[2]!, 3))).to.match(/^none counted \(layer 3, CONST: /);
  });
});
