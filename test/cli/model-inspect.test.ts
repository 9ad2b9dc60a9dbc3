/** `model inspect` on float files and `model convert` refusals: what a user learns first. */
import { access, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { expect } from "chai";
import hre from "hardhat";

import { encodeModel } from "../../offchain/model/onnx.js";
import { node, tensor } from "../convert/float-model.js";

/** The lines a task prints. */
async function printed(run: () => Promise<unknown>): Promise<string> {
  const lines: string[] = [];
  const log = console.log;
  console.log = (...a: unknown[]) => void lines.push(a.join(" "));
  try {
    await run();
  } finally {
    console.log = log;
  }
  return lines.join("\n");
}

/** The message `promise` rejects with (fails the test if it resolves). */
async function rejection(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, "expected a rejection").to.be.instanceOf(Error);
  return (error as Error).message;
}

/** An exported-looking model: an LSTM and an Einsum (neither lowered) behind a dynamic input. */
function unseenModel(): Uint8Array {
  return encodeModel({
    irVersion: 8,
    producerName: "pytorch",
    producerVersion: "2.5",
    opsetImport: [{ domain: "", version: 17 }],
    graph: {
      name: "unseen",
      node: [
        node("LSTM", ["x", "w", "r"], "h", "the_lstm"),
        node("Einsum", ["h"], "m", "/attn/Einsum"),
        node("Relu", ["m"], "y", "relu"),
      ],
      initializer: [tensor("w", [1, 16, 4], new Float32Array(64)), tensor("r", [1, 16, 4], new Float32Array(64))],
      input: [{ name: "x", type: { tensorType: { elemType: 1, shape: { dim: [{ dimParam: "batch" }, { dimValue: 3 }, { dimParam: "time" }] } } } }],
      output: [{ name: "y", type: { tensorType: { elemType: 1 } } }],
    },
  });
}

describe("cli: model inspect on float files, model convert refusals", function () {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "vt-inspect-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("inspect on a float model says it is one, that its ops convert, and how to convert it", async () => {
    const out = await printed(() => hre.tasks.getTask(["model", "inspect"]).run({ file: "models/mnist-cnn.float.onnx" }));
    expect(out).to.contain("Float ONNX model models/mnist-cnn.float.onnx: not canonical");
    expect(out).to.match(/ops the converter takes:\s+all of them/);
    expect(out).to.match(/nodes:\s+\d+: .*Conv ×2/);
    expect(out).to.contain("npx hardhat model convert --in models/mnist-cnn.float.onnx --out models/mnist-cnn.canonical.onnx");
    // No layer table: that is for canonical files.
    expect(out).to.not.contain("graph commitment");
  });

  it("inspect on an unconvertible float model lists its unsupported ops and its dynamic dimensions", async () => {
    const file = join(dir, "unseen.onnx");
    await writeFile(file, unseenModel());
    const out = await printed(() => hre.tasks.getTask(["model", "inspect"]).run({ file }));
    expect(out).to.match(/inputs:\s+x \[batch,3,time\] float32/);
    expect(out).to.match(/producer:\s+pytorch 2\.5/);
    expect(out).to.contain('not all: LSTM (node "the_lstm"); Einsum (node "/attn/Einsum")');
    expect(out).to.match(/dynamic dimensions:\s+batch, time/);
  });

  it("inspect on a canonical model still shows its layers and commitments", async () => {
    const out = await printed(() => hre.tasks.getTask(["model", "inspect"]).run({ file: "models/mnist-cnn.canonical.onnx" }));
    expect(out).to.contain("Canonical model models/mnist-cnn.canonical.onnx");
    expect(out).to.match(/graph commitment:\s+0x[0-9a-f]{64}/);
  });

  it("convert names every unsupported op before the dynamic shape", async () => {
    const file = join(dir, "unseen.onnx");
    await writeFile(file, unseenModel());
    const message = await rejection(hre.tasks.getTask(["model", "convert"]).run({ in: file, out: join(dir, "out.onnx") }));
    expect(message).to.contain(`${file}: cannot convert this model: it uses 2 ops with no canonical lowering: LSTM (node "the_lstm"); Einsum (node "/attn/Einsum")`);
  });

  it("convert reports its accuracy on held-out samples, and checks its options before reading anything", async function () {
    this.timeout(120_000);
    const out = join(dir, "mlp.onnx");
    const text = await printed(() => hre.tasks.getTask(["model", "convert"]).run({ in: "models/mnist-mlp.float.onnx", out, activationBits: "7", wideBits: "7" }));
    expect(text).to.match(/calibration:\s+64 samples seeded uniform \[0, 1\) inputs .*; 16 more held out to measure the result/);
    expect(text).to.match(/top-1 agreement on 16 held-out samples:\s+\d+\.\d\d%/);
    expect(text).to.match(/max \|error\| on the calibration samples:/);
    // 7-bit activations (and wide tensors): hidden ranges within ±63 (or 0..127).
    expect(text).to.match(/\[0, 127\]|\[-63, 63\]/);
    const message = await rejection(hre.tasks.getTask(["model", "convert"]).run({ in: join(dir, "missing.onnx"), out, inputRange: "0,255" }));
    expect(message).to.match(/^--input-scale and --input-range go together/);
  });

  it("convert binds a dynamic input with --input-shape, and says how when it is missing", async function () {
    this.timeout(60_000);
    const file = join(dir, "dynamic.onnx");
    await writeFile(
      file,
      encodeModel({
        irVersion: 8,
        opsetImport: [{ domain: "", version: 17 }],
        graph: {
          name: "dynamic",
          node: [node("Conv", ["x", "w"], "c", "conv", { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }), node("Relu", ["c"], "a", "relu"), node("Flatten", ["a"], "f", "flat"), node("Gemm", ["f", "w2"], "y", "fc", { transB: 1 })],
          initializer: [tensor("w", [2, 3, 3, 3], new Float32Array(54).map((_, i) => Math.sin(i))), tensor("w2", [4, 32], new Float32Array(128).map((_, i) => Math.cos(i)))],
          input: [{ name: "x", type: { tensorType: { elemType: 1, shape: { dim: [{ dimParam: "batch" }, { dimValue: 3 }, { dimParam: "h" }, { dimParam: "w" }] } } } }],
          output: [{ name: "y", type: { tensorType: { elemType: 1 } } }],
        },
      }),
    );
    const out = join(dir, "dynamic.canonical.onnx");
    expect(await rejection(hre.tasks.getTask(["model", "convert"]).run({ in: file, out }))).to.contain("bind its dynamic dimensions with --input-shape");
    const text = await printed(() => hre.tasks.getTask(["model", "convert"]).run({ in: file, out, inputShape: "x=1,3,4,4" }));
    expect(text).to.contain(`Converted ${file} -> ${out}`);
    const inspected = await printed(() => hre.tasks.getTask(["model", "inspect"]).run({ file: out }));
    expect(inspected).to.match(/input:\s+\S+ \[1, 3, 4, 4\]/);
  });

  it("convert on a canonical file says it needs no conversion, and writes nothing", async () => {
    const out = join(dir, "again.onnx");
    const message = await rejection(hre.tasks.getTask(["model", "convert"]).run({ in: "models/mnist-cnn.canonical.onnx", out }));
    expect(message).to.match(/mnist-cnn\.canonical\.onnx: cannot convert this model: it is a canonical model already/);
    expect(await rejection(access(out))).to.match(/ENOENT/);
  });
});
