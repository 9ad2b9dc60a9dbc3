/** The one check of a model file against the registry (nodes and tasks both call it). */
import { readFileSync } from "node:fs";

import { expect } from "chai";

import { checkModelBytes } from "../../offchain/clients/models.js";
import { commitGraph } from "../../offchain/commitments/graph.js";
import { parseCanonicalModel, sha256Hex } from "../../offchain/model/canonical.js";

const bytes = readFileSync("models/mnist-cnn.canonical.onnx");
const parsed = parseCanonicalModel(bytes);
const record = {
  contentHash: sha256Hex(bytes),
  graphCommitment: commitGraph(parsed).root,
  inputScaleWad: parsed.inputScaleWad,
  outputScaleWad: parsed.outputScaleWad,
};

describe("clients: checkModelBytes", function () {
  it("accepts the registered file and returns it parsed", function () {
    const model = checkModelBytes(3n, record, bytes, "cnn.onnx");
    expect(model.contentHash).to.equal(record.contentHash);
    expect(model.layers.length).to.be.greaterThan(0);
  });

  it("refuses other bytes, naming the file, the model and both hashes", function () {
    const other = Uint8Array.from(bytes);
    other[other.length - 1] ^= 1;
    expect(() => checkModelBytes(3n, record, other, "cnn.onnx")).to.throw(
      new RegExp(`cnn.onnx is not model 3: its sha256 is ${sha256Hex(other)}, the registry says ${record.contentHash}`),
    );
  });

  it("refuses a file whose graph commitment is not the registered one", function () {
    const wrong = { ...record, graphCommitment: "0x" + "11".repeat(32) };
    expect(() => checkModelBytes(3n, wrong, bytes, "cnn.onnx")).to.throw(/the graph commitment of cnn.onnx \(0x[0-9a-f]{64}\) is not model 3's/);
  });

  it("refuses a file whose scales are not the registered ones (the registry cannot check them)", function () {
    // The file's metadata: 0.00392156862745098 in, 0.0009958812965962802 out (rounded to 1e-18).
    expect([record.inputScaleWad, record.outputScaleWad]).to.deep.equal([3_921_568_627_450_980n, 995_881_296_596_280n]);
    expect(() => checkModelBytes(3n, { ...record, outputScaleWad: record.outputScaleWad + 1n }, bytes, "cnn.onnx")).to.throw(
      "the output scale of cnn.onnx (0.00099588129659628) is not model 3's (0.000995881296596281): contracts would read its results wrongly, refusing to run it",
    );
    expect(() => checkModelBytes(3n, { ...record, inputScaleWad: 10n ** 18n }, bytes, "cnn.onnx")).to.throw(
      /the input scale of cnn.onnx \(0.00392156862745098\) is not model 3's \(1\)/,
    );
  });

  it("refuses bytes that are not a canonical/1 model, with the parser's reason", function () {
    const junk = new TextEncoder().encode("not onnx");
    expect(() => checkModelBytes(3n, { ...record, contentHash: sha256Hex(junk) }, junk, "junk.onnx")).to.throw(/junk.onnx \(model 3\) is not a canonical\/1 model: /);
  });
});
