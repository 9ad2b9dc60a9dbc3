/** The synthetic MobileNet-shaped benchmark model: valid canonical/1, the advertised size, live activations. */
import { expect } from "chai";

import { mobileNetShaped } from "../../offchain/datasets/mobilenet.js";
import { parseCanonicalModel } from "../../offchain/model/canonical.js";
import { runReference } from "../../offchain/runtime/reference.js";
import { CanonicalRunner } from "../../offchain/runtime/runner.js";

describe("convert: MobileNet-shaped synthetic model", function () {
  this.timeout(60_000);

  it("has ~300M MACs and ~3M params at the defaults and passes the exactness validator", function () {
    const m = mobileNetShaped({ seed: 1, width: 0.75, resolution: 224, classes: 1000 });
    expect(m.macs).to.be.within(280e6, 360e6);
    expect(m.params).to.be.within(2.4e6, 3.2e6);
    const model = parseCanonicalModel(m.bytes);
    expect(model.layers.map((l) => l.name).slice(-3)).to.deep.equal(["global_maxpool", "flatten", "classifier"]);
  });

  it("is reproducible from the seed", function () {
    const a = mobileNetShaped({ seed: 3, width: 0.25, resolution: 32, classes: 10 });
    const b = mobileNetShaped({ seed: 3, width: 0.25, resolution: 32, classes: 10 });
    expect(Buffer.from(a.bytes).equals(Buffer.from(b.bytes))).to.equal(true);
  });

  it("keeps activations alive (not all zero, not all saturated) and runs bit-exactly", async function () {
    const m = mobileNetShaped({ seed: 2, width: 0.25, resolution: 64, classes: 10 });
    const model = parseCanonicalModel(m.bytes);
    const x = Int32Array.from({ length: 3 * 64 * 64 }, (_, i) => (i * 7919) % 256);
    const runner = await CanonicalRunner.create(model);
    try {
      const outs = await runner.runLayers(x);
      const ref = runReference(model, x);
      outs.forEach((o, i) => {
        expect(Array.from(o)).to.deep.equal(Array.from(ref[i]!));
        const zeros = o.filter((v) => v === 0).length / o.length;
        const sat = o.filter((v) => v === 255).length / o.length;
        expect(zeros, `layer ${i + 1} all zero`).to.be.lessThan(0.95);
        expect(sat, `layer ${i + 1} saturated`).to.be.lessThan(0.2);
      });
    } finally {
      await runner.release();
    }
  });
});
