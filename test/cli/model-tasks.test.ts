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
import { CanonicalModelBuilder } from "../../offchain/model/build.js";
import { bytes, npy } from "./npy.js";

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
    expect(convertOptions({ outputHeadroom: "1.5", activationHeadroom: "2" })).to.deep.equal({ outputHeadroom: 1.5, activationHeadroom: 2 });
    expect(() => convertOptions({ outputHeadroom: "0.5" })).to.throw("--output-headroom 0.5: give a number from 1 (no headroom) to 1024, e.g. 2 for one bit");
    expect(() => convertOptions({ activationHeadroom: "2x" })).to.throw("--activation-headroom 2x: give a number from 1");
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

  /** Runs `model run` with console output captured: the lines it printed and the warnings. */
  async function runModel(args: Record<string, unknown>): Promise<{ out: string; warnings: string[] }> {
    const lines: string[] = [];
    const warnings: string[] = [];
    const { log, warn } = console;
    console.log = (...a: unknown[]) => void lines.push(a.join(" "));
    console.warn = (...a: unknown[]) => void warnings.push(a.join(" "));
    try {
      await hre.tasks.getTask(["model", "run"]).run({ real: false, ...args });
    } finally {
      Object.assign(console, { log, warn });
    }
    return { out: lines.join("\n"), warnings };
  }

  it("run reads a NumPy .npy and a {shape, data} JSON input, with their shapes checked", async function () {
    const digit = Array.from({ length: 784 }, (_, i) => (i * 53) % 256);
    const model = parseCanonicalModel(await readFile(CNN));
    const expected = runReference(model, Int32Array.from(digit)).at(-1)!;
    const npyFile = join(dir, "digit.npy");
    await writeFile(npyFile, npy("|u1", [28, 28], Uint8Array.from(digit)));
    const shaped = join(dir, "digit.json");
    await writeFile(shaped, JSON.stringify({ shape: [1, 1, 28, 28], data: digit }));
    for (const input of [npyFile, shaped]) {
      const { out } = await runModel({ model: CNN, input });
      expect(out, input).to.match(new RegExp(`^  output: +\\[${Array.from(expected).join(", ")}\\]`, "m"));
    }
    // A flat {shape} of the right size but another layout is refused, naming both shapes.
    await writeFile(shaped, JSON.stringify({ shape: [1, 784], data: digit }));
    expect(await rejection(runModel({ model: CNN, input: shaped }))).to.equal(
      `input file ${shaped} has shape [1, 784], but the input of ${CNN} has shape [1, 1, 28, 28] (the shapes must agree, leading 1s aside)`,
    );
  });

  it("run refuses an 8x8 array on a [1, 64] model, naming both shapes, and runs the same values flat", async function () {
    const wide = join(dir, "wide.onnx");
    await writeFile(wide, new CanonicalModelBuilder([1, 64], [-128, 127]).dense({ weight: Array.from({ length: 128 }, (_, i) => (i % 5) - 2), units: 2, shift: 0, clip: [-10000, 10000] }).build());
    const rows = Array.from({ length: 8 }, (_, r) => Array.from({ length: 8 }, (_, c) => r - c));
    const square = join(dir, "square.json");
    await writeFile(square, JSON.stringify(rows));
    expect(await rejection(runModel({ model: wide, input: square }))).to.equal(
      `input file ${square} has shape [8, 8], but the input of ${wide} has shape [1, 64] (the shapes must agree, leading 1s aside)`,
    );
    await writeFile(square, JSON.stringify(rows.flat()));
    expect((await runModel({ model: wide, input: square })).out).to.match(/trace root:\s+0x[0-9a-f]{64}/);
  });

  it("run --real counts the values it clamps to the input range, and warns when there are any", async function () {
    // The CNN's input: integers [0, 255] at scale 1/255, so real values in [0, 1].
    const real = Array.from({ length: 784 }, (_, i) => (i % 7) / 7);
    real[3] = 1.5;
    real[10] = -0.2;
    real[700] = 40;
    const file = join(dir, "real.json");
    await writeFile(file, JSON.stringify({ shape: [28, 28], data: real }));
    const clamped = await runModel({ model: CNN, input: file, real: true });
    expect(clamped.out).to.match(/^  clamped by --real: +3 of 784 values \(outside the real range \[0, 1\] of the model's input\)$/m);
    expect(clamped.warnings).to.deep.equal(["Warning: 3 of 784 input values lie outside the real range [0, 1] of the model's input and were clamped to it"]);
    // The clamped values run as the range's ends.
    const model = parseCanonicalModel(await readFile(CNN));
    const ends = real.map((v) => Math.min(Math.max(v, 0), 1));
    const expected = runReference(model, Int32Array.from(ends, (v) => Math.round(v * 255))).at(-1)!;
    expect(clamped.out).to.contain(`[${Array.from(expected).join(", ")}]`);

    await writeFile(file, JSON.stringify(ends));
    const inside = await runModel({ model: CNN, input: file, real: true });
    expect(inside.out).to.match(/^  clamped by --real: +0 of 784 values/m);
    expect(inside.warnings).to.deep.equal([]);
    // Without --real, no such line.
    await writeFile(file, JSON.stringify(ends.map((v) => Math.round(v * 255))));
    expect((await runModel({ model: CNN, input: file })).out).to.not.contain("clamped");
  });

  it("run counts the outputs at their clip bounds (saturated), and warns when there are any", async function () {
    // Layer 1 clips y = x to [-5, 5], layer 2 clips y = 2x to [-8, 8].
    const model = join(dir, "clipped.onnx");
    await writeFile(
      model,
      new CanonicalModelBuilder([1, 2], [-10, 10])
        .dense({ weight: [1, 0, 0, 1], units: 2, shift: 0, clip: [-5, 5] })
        .dense({ weight: [2, 0, 0, 2], units: 2, shift: 0, clip: [-8, 8] })
        .build(),
    );
    const input = join(dir, "clipped.json");
    await writeFile(input, "[7, 3]");
    const cut = await runModel({ model, input });
    expect(cut.out).to.match(/^  output: +\[8, 6\] \(2 integers\)$/m);
    expect(cut.out).to.match(/^  saturated outputs: +1 of 2 \(at the clip bounds \[-8, 8\]\)$/m);
    expect(cut.out).to.match(/^  saturated in hidden layers: +layer 1: 1 of 2$/m);
    expect(cut.warnings).to.deep.equal([
      "Warning: saturated outputs 1 of 2 (at the clip bounds [-8, 8]): their real values may lie beyond (a converted model's stated error bound does not hold for this input)",
    ]);
    await writeFile(input, "[2, -1]");
    const calm = await runModel({ model, input });
    expect(calm.out).to.match(/^  saturated outputs: +0 of 2 \(at the clip bounds \[-8, 8\]\)$/m);
    expect(calm.out).to.match(/^  saturated in hidden layers: +none$/m);
    expect(calm.warnings).to.deep.equal([]);
  });

  it("convert reads calibration samples from a .npy file whose first dimension counts them", async function () {
    this.timeout(120_000);
    const file = join(dir, "calibration.npy");
    const values = Float32Array.from({ length: 8 * 784 }, (_, i) => ((i * 7) % 17) / 16);
    await writeFile(file, npy("<f4", [8, 784], bytes(values)));
    const out = join(dir, "mlp.canonical.onnx");
    const lines: string[] = [];
    const log = console.log;
    console.log = (...a: unknown[]) => void lines.push(a.join(" "));
    try {
      await hre.tasks.getTask(["model", "convert"]).run({ in: "models/mnist-mlp.float.onnx", out, calibration: file });
    } finally {
      console.log = log;
    }
    expect(lines.join("\n")).to.match(/calibration: +8 samples from the calibration file/);
    expect(lines.join("\n")).to.match(/output scale: +[0-9.e-]+ \(range \[-32767, 32767\], 2x the calibrated magnitude: headroom for inputs beyond the calibration\)/);
    expect(parseCanonicalModel(await readFile(out)).layers).to.have.length(2);
  });
});
