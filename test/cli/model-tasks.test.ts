import { readFile, writeFile, mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { expect } from "chai";
import hre from "hardhat";

import { commitGraph } from "../../offchain/commitments/graph.js";
import { parseCanonicalModel } from "../../offchain/model/canonical.js";
import { runReference } from "../../offchain/runtime/reference.js";
import { convertOptions, convertWithReport, splitSamples } from "../../offchain/cli/model/convert.js";
import { inspectModel } from "../../offchain/cli/model/inspect.js";
import { readSamplesJson, readTensorJson } from "../../offchain/cli/model/files.js";

const CNN = "models/mnist-cnn.canonical.onnx";

/** The message `promise` rejects with (fails the test if it resolves). */
async function rejection(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, "expected a rejection").to.be.instanceOf(Error);
  return (error as Error).message;
}

describe("model tasks (inspect, run, convert)", function () {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "vt-model-"));
  });

  it("inspect summarizes the shipped CNN: layers, parameters, commitments", async () => {
    const bytes = await readFile(CNN);
    const s = inspectModel(bytes);
    expect(s.layers.map((l) => l.kind)).to.deep.equal(["CONV", "MAXPOOL", "CONV", "MAXPOOL", "RESHAPE", "DENSE"]);
    // conv1 16x1x3x3 + 16 bias + 16 shifts; the parameter count is the sum of committed constants.
    const model = parseCanonicalModel(bytes);
    const expected = model.layers.reduce((n, l) => n + l.constants.reduce((m, c) => m + c.values.length, 0), 0);
    expect(s.parameters).to.equal(expected);
    expect(s.graphCommitment).to.equal(commitGraph(model).root);
    expect(s.contentHash).to.match(/^0x[0-9a-f]{64}$/);
  });

  it("run prints the reference interpreter's output and a trace root, and rejects a wrong-size input", async () => {
    const input = Array.from({ length: 784 }, (_, i) => (i * 37) % 256);
    const file = join(dir, "input.json");
    await writeFile(file, JSON.stringify(input));
    const model = parseCanonicalModel(await readFile(CNN));
    const reference = runReference(model, Int32Array.from(input));
    const lines: string[] = [];
    const log = console.log;
    console.log = (...a: unknown[]) => void lines.push(a.join(" "));
    try {
      await hre.tasks.getTask(["model", "run"]).run({ model: CNN, input: file });
    } finally {
      console.log = log;
    }
    const out = reference[reference.length - 1]!;
    expect(lines.join("\n")).to.contain(`[${Array.from(out).join(", ")}]`);
    expect(lines.join("\n")).to.match(/trace root:\s+0x[0-9a-f]{64}/);

    await writeFile(file, "[1, 2, 3]");
    expect(await rejection(hre.tasks.getTask(["model", "run"]).run({ model: CNN, input: file }))).to.match(/has 3 elements, expected 784/);
  });

  it("inspect refuses a file that is not ONNX, naming the file", async () => {
    const file = join(dir, "garbage.onnx");
    await writeFile(file, Buffer.from("definitely not a protobuf model file"));
    expect(await rejection(hre.tasks.getTask(["model", "inspect"]).run({ file }))).to.match(/garbage\.onnx: malformed or truncated/);
  });

  it("convert turns the float MLP into a canonical model, measured on samples held out of calibration", async () => {
    const floatBytes = await readFile("models/mnist-mlp.float.onnx");
    const calibration = Array.from({ length: 16 }, (_, k) => Array.from({ length: 784 }, (_, i) => ((i * (k + 3)) % 17) / 16));
    const r = await convertWithReport(floatBytes, calibration);
    // Every fifth sample (4, 9, 14) measures; the other 13 fix the ranges.
    expect(r.calibrationAccuracy.samples).to.equal(13);
    expect(r.heldOut?.samples).to.equal(3);
    expect(r.calibrationNote).to.equal("13 samples from the calibration file; 3 more held out to measure the result");
    // On its own calibration data the stated bound holds by construction.
    expect(r.calibrationAccuracy.maxAbsError).to.be.at.most(r.conversion.errorBound);
    expect(parseCanonicalModel(r.conversion.bytes).layers).to.have.length(2);
    // Too few samples to spare any: all calibrate, and the report says so.
    const few = await convertWithReport(floatBytes, calibration.slice(0, 4));
    expect(few.heldOut).to.equal(undefined);
    expect(few.calibrationNote).to.contain("too few to hold any out");
  });

  it("convert takes the converter's options from the command line and refuses bad ones by name", async () => {
    expect(splitSamples([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])).to.deep.equal({ calibrate: [0, 1, 2, 3, 5, 6, 7, 8], heldOut: [4, 9] });
    expect(convertOptions({ activationBits: "6", outputBits: "12", inputScale: "0.5", inputRange: "0,255" })).to.deep.equal({
      activationBits: 6, outputBits: 12, input: { scale: 0.5, lo: 0, hi: 255 },
    });
    expect(() => convertOptions({ activationBits: "40" })).to.throw("--activation-bits 40: give an integer from 2 to 16");
    expect(() => convertOptions({ outputBits: "8.5" })).to.throw("--output-bits 8.5: give an integer from 2 to 24");
    expect(() => convertOptions({ inputScale: "0.5" })).to.throw(/--input-scale and --input-range go together/);
    expect(() => convertOptions({ inputScale: "-1", inputRange: "0,1" })).to.throw("--input-scale -1: give a positive number");
    expect(() => convertOptions({ inputScale: "1", inputRange: "5,5" })).to.throw(/--input-range 5,5: give two integers lo,hi with lo < hi/);
    // The options reach the converter: a fixed input quantization is the one the file declares.
    const floatBytes = await readFile("models/mnist-mlp.float.onnx");
    const calibration = Array.from({ length: 4 }, (_, k) => Array.from({ length: 784 }, (_, i) => ((i * (k + 3)) % 17) / 16));
    const r = await convertWithReport(floatBytes, calibration, convertOptions({ inputScale: String(1 / 255), inputRange: "0,255", outputBits: "12" }));
    expect(r.conversion.inputScale).to.equal(1 / 255);
    expect(r.conversion.inputRange).to.deep.equal([0, 255]);
    const out = r.conversion.model.layers[r.conversion.model.layers.length - 1]!.range;
    expect(Math.max(-out[0], out[1])).to.be.at.most(2 ** 11);
  });

  it("reads tensors and samples from JSON, refusing non-numbers", async () => {
    const one = join(dir, "one.json");
    await writeFile(one, "[[1, 2], [3, 4]]");
    expect(await readTensorJson(one, "input file")).to.deep.equal([1, 2, 3, 4]);
    expect(await readSamplesJson(one, "calibration file")).to.deep.equal([[1, 2], [3, 4]]);
    await writeFile(one, '[1, "x"]');
    expect(await rejection(readTensorJson(one, "input file"))).to.match(/only finite numbers/);
    expect(await rejection(readSamplesJson(one, "calibration file"))).to.match(/array of samples/);
  });
});
