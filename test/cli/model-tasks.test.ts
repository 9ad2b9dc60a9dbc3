import { readFile, writeFile, mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { expect } from "chai";
import hre from "hardhat";

import { commitGraph } from "../../offchain/commitments/graph.js";
import { parseCanonicalModel } from "../../offchain/model/canonical.js";
import { runReference } from "../../offchain/runtime/reference.js";
import { convertWithReport } from "../../offchain/cli/model/convert.js";
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

  it("convert turns the float MLP into a canonical model that agrees with it on its calibration data", async () => {
    const floatBytes = await readFile("models/mnist-mlp.float.onnx");
    const calibration = Array.from({ length: 16 }, (_, k) => Array.from({ length: 784 }, (_, i) => ((i * (k + 3)) % 17) / 16));
    const r = await convertWithReport(floatBytes, calibration);
    expect(r.accuracy.samples).to.equal(16);
    expect(r.accuracy.maxAbsError).to.be.at.most(r.conversion.errorBound);
    expect(parseCanonicalModel(r.conversion.bytes).layers).to.have.length(2);
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
