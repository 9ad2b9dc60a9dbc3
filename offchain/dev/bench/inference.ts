/**
 * Inference benchmarks (issue 11): in one interleaved run on the same inputs, for the MNIST
 * CNN and the MobileNet-shaped model, plain onnxruntime on the float model, plain runs of the
 * canonical model (the file as is, the portable layout, the NCHWc layout the runner uses), the
 * worker's and the verifier's per-job cost (`run`) and the dispute-time trace
 * (`runWithTrace`); then where the canonical graph's extra time goes (onnxruntime's per-node
 * profile); plus the MNIST models' accuracy on held-out digits.
 */
import { mkdtemp, readFile, readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import os from "node:os";

import * as ort from "onnxruntime-node";

import { argmax, quantizeInput, runFloat } from "../../convert/evaluate.js";
import { loadDigits, toFloat } from "../../datasets/mnist.js";
import { floatTwin, mobileNetShaped } from "../../datasets/mobilenet.js";
import { tensorRoot } from "../../commitments/tensor.js";
import { parseCanonicalModel } from "../../model/canonical.js";
import type { CanonicalModel } from "../../model/canonical.js";
import { decodeModel } from "../../model/onnx.js";
import { layoutModel, nchwcLayout } from "../../runtime/layout.js";
import { CanonicalRunner } from "../../runtime/runner.js";
import type { BenchSection } from "./section.js";

interface Case {
  readonly name: string;
  readonly model: CanonicalModel;
  readonly floatBytes: Uint8Array;
  readonly note: string;
  readonly iterations: number;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};

/** Seeded inputs in the model's declared input range. */
function randomInput(model: CanonicalModel, seed: number): Int32Array {
  const [lo, hi] = model.inputRange;
  const n = model.inputShape.reduce((a, b) => a * b, 1);
  const out = new Int32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = lo + (s % (hi - lo + 1));
  }
  return out;
}

const SESSION: ort.InferenceSession.SessionOptions = { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: "sequential", logSeverityLevel: 3 };

const ROWS = ["float", "file", "portable", "nchwc", "run", "runKnown", "verify", "trace"] as const;
type Row = (typeof ROWS)[number];

/** Every measured path, interleaved per iteration on the same inputs; medians in ms. */
type Measured = Record<Row, number> & { inputCommitment: number };

async function measure(c: Case): Promise<Measured> {
  const inputs = Array.from({ length: 4 }, (_, i) => randomInput(c.model, 1000 + i));
  const floats = inputs.map((x) => Float32Array.from(x));
  const floatInputs = inputs.map((x) => Float32Array.from(x, (v) => v * c.model.inputScale));
  const fl = await ort.InferenceSession.create(c.floatBytes, { ...SESSION, graphOptimizationLevel: "all" });
  const floatIn = fl.inputNames[0]!;
  const file = await CanonicalRunner.create(c.model, { layout: "file" });
  const portable = await CanonicalRunner.create(c.model, { layout: "portable" });
  const worker = await CanonicalRunner.create(c.model);
  const verifier = await CanonicalRunner.create(c.model);
  try {
    const known = inputs.map((x) => tensorRoot(x));
    const claimed = await Promise.all(inputs.map(async (x) => (await worker.run(x)).outputCommitment));
    const steps: Record<Row, (k: number) => Promise<unknown>> = {
      float: (k) => fl.run({ [floatIn]: new ort.Tensor("float32", floatInputs[k]!, [...c.model.inputShape]) }),
      file: (k) => file.runPlainRaw(floats[k]!),
      portable: (k) => portable.runPlainRaw(floats[k]!),
      nchwc: (k) => worker.runPlainRaw(floats[k]!),
      run: (k) => worker.run(inputs[k]!),
      runKnown: (k) => worker.run(inputs[k]!, undefined, { inputCommitment: known[k]! }),
      verify: async (k) => {
        const r = await verifier.run(inputs[k]!, undefined, { inputCommitment: known[k]! });
        if (r.outputCommitment !== claimed[k]) throw new Error("the verifier disagrees with the worker");
      },
      trace: (k) => worker.runWithTrace(inputs[k]!),
    };
    for (const row of ROWS) await steps[row](0); // warm every session
    const times = Object.fromEntries(ROWS.map((r) => [r, [] as number[]])) as Record<Row, number[]>;
    const commit: number[] = [];
    for (let i = 0; i < c.iterations; i++) {
      const k = i % inputs.length;
      // Rotate the order every iteration, so that no path always runs right after the same one
      // (a path that allocates leaves its garbage to whichever runs next).
      const order = [...ROWS.slice(i % ROWS.length), ...ROWS.slice(0, i % ROWS.length)];
      for (const row of order) {
        const t = performance.now();
        await steps[row](k);
        times[row].push(performance.now() - t);
      }
      const t = performance.now();
      tensorRoot(inputs[k]!);
      commit.push(performance.now() - t);
    }
    return { ...(Object.fromEntries(ROWS.map((r) => [r, median(times[r])])) as Record<Row, number>), inputCommitment: median(commit) };
  } finally {
    await fl.release();
    for (const r of [file, portable, worker, verifier]) await r.release();
  }
}

/** Kernel time per op type (ms per run), from onnxruntime's profiler, and node counts. */
async function profile(bytes: Uint8Array, shape: readonly number[], input: Float32Array, runs: number, optimized: boolean): Promise<Map<string, { ms: number; nodes: number }>> {
  const dir = await mkdtemp(join(os.tmpdir(), "veritensor-profile-"));
  try {
    const s = await ort.InferenceSession.create(bytes, {
      ...SESSION,
      graphOptimizationLevel: optimized ? "disabled" : "all",
      enableProfiling: true,
      profileFilePrefix: join(dir, "p"),
      optimizedModelFilePath: join(dir, "optimized.onnx"),
    });
    const feeds = { [s.inputNames[0]!]: new ort.Tensor("float32", input, [...shape]) };
    for (let i = 0; i < runs; i++) await s.run(feeds);
    s.endProfiling();
    await s.release();
    const file = (await readdir(dir)).find((f) => f.startsWith("p") && f.endsWith(".json"))!;
    const events = JSON.parse(await readFile(join(dir, file), "utf8")) as { cat: string; name: string; dur: number; args: { op_name?: string } }[];
    const nodes = new Map<string, number>();
    for (const n of decodeModel(await readFile(join(dir, "optimized.onnx"))).graph!.node ?? []) nodes.set(n.opType!, (nodes.get(n.opType!) ?? 0) + 1);
    const out = new Map<string, { ms: number; nodes: number }>();
    for (const e of events) {
      if (e.cat !== "Node" || !e.name.endsWith("_kernel_time") || !e.args.op_name) continue;
      const op = e.args.op_name;
      const cur = out.get(op) ?? { ms: 0, nodes: nodes.get(op) ?? 0 };
      cur.ms += e.dur / 1000 / runs;
      out.set(op, cur);
    }
    return out;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Where the canonical graph's extra time goes: per-op kernel time, float vs file vs layouts. */
async function whereLines(c: Case): Promise<string[]> {
  const x = Float32Array.from(randomInput(c.model, 1000));
  const runs = 30;
  const nchwc = await nchwcLayout(c.model, ort);
  const cols = [
    ["float model", await profile(c.floatBytes, c.model.inputShape, Float32Array.from(x, (v) => v * c.model.inputScale), runs, false)],
    ["canonical file", await profile(c.model.bytes, c.model.inputShape, x, runs, false)],
    ["portable layout", await profile(layoutModel(c.model), c.model.inputShape, x, runs, false)],
    ["NCHWc layout", await profile(nchwc.bytes, c.model.inputShape, x, runs, nchwc.optimized)],
  ] as const;
  const ops = [...new Set(cols.flatMap(([, m]) => [...m.keys()]))];
  const total = (m: Map<string, { ms: number }>): number => [...m.values()].reduce((a, b) => a + b.ms, 0);
  ops.sort((a, b) => Math.max(...cols.map(([, m]) => m.get(b)?.ms ?? 0)) - Math.max(...cols.map(([, m]) => m.get(a)?.ms ?? 0)));
  const cell = (m: Map<string, { ms: number; nodes: number }>, op: string): string => {
    const v = m.get(op);
    return v ? `${v.ms.toFixed(2)} (${v.nodes})` : "—";
  };
  return [
    "",
    `### Where the ${c.name} canonical graph's time goes`,
    "",
    `onnxruntime's per-node profiler, one thread, mean kernel time per run over ${runs} runs, summed per op type of the ` +
      "graph onnxruntime actually executes (after its own optimisations; node counts in parentheses). Conv and MaxPool run on " +
      "channel-blocked (NCHWc) tensors where onnxruntime could keep them blocked; ReorderInput/ReorderOutput are the " +
      "conversions in and out of that layout.",
    "",
    `| op | ${cols.map(([n]) => n).join(" | ")} |`,
    `|---|${cols.map(() => "---:").join("|")}|`,
    ...ops.map((op) => `| ${op} | ${cols.map(([, m]) => cell(m, op)).join(" | ")} |`),
    `| **total kernel time** | ${cols.map(([, m]) => `**${total(m).toFixed(2)}**`).join(" | ")} |`,
  ];
}

async function accuracyRows(root: string): Promise<string[]> {
  const digits = loadDigits("heldout");
  const images = digits.pixels.map(toFloat);
  const rows: string[] = [];
  for (const name of ["mlp", "cnn", "vit"] as const) {
    const floatBytes = await readFile(join(root, "models", `mnist-${name}.float.onnx`));
    const model = parseCanonicalModel(await readFile(join(root, "models", `mnist-${name}.canonical.onnx`)));
    const floatOut = await runFloat(floatBytes, images);
    const runner = await CanonicalRunner.create(model);
    let floatHits = 0;
    let canonHits = 0;
    let agree = 0;
    try {
      for (let i = 0; i < images.length; i++) {
        const canon = argmax(await runner.runPlain(quantizeInput(model, images[i]!)));
        const fl = argmax(floatOut[i]!);
        if (fl === digits.labels[i]) floatHits++;
        if (canon === digits.labels[i]) canonHits++;
        if (canon === fl) agree++;
      }
    } finally {
      await runner.release();
    }
    const pct = (n: number): string => `${((100 * n) / images.length).toFixed(2)}%`;
    rows.push(`| MNIST ${name === "vit" ? "ViT" : name.toUpperCase()} | ${images.length} | ${pct(floatHits)} | ${pct(canonHits)} | ${pct(agree)} |`);
  }
  return rows;
}

export const inferenceSection: BenchSection = {
  id: "inference",
  title: "Inference: float vs canonical, the happy path and the dispute-time trace; accuracy",
  async run(ctx) {
    const root = process.cwd();
    ctx.log("  generating the MobileNet-shaped model (seed 1) and its float twin…");
    const mobile = mobileNetShaped({ seed: 1, width: 0.75, resolution: 224, classes: 1000 });
    const mobileModel = parseCanonicalModel(mobile.bytes);
    const cnn = parseCanonicalModel(await readFile(join(root, "models", "mnist-cnn.canonical.onnx")));
    const cases: Case[] = [
      {
        name: "MNIST CNN",
        model: cnn,
        floatBytes: await readFile(join(root, "models", "mnist-cnn.float.onnx")),
        note: "models/mnist-cnn.canonical.onnx against the float model it was converted from, models/mnist-cnn.float.onnx",
        iterations: 400,
      },
      {
        name: "MNIST ViT",
        model: parseCanonicalModel(await readFile(join(root, "models", "mnist-vit.canonical.onnx"))),
        floatBytes: await readFile(join(root, "models", "mnist-vit.float.onnx")),
        note:
          "models/mnist-vit.canonical.onnx against the float model torch exported, models/mnist-vit.float.onnx " +
          "(scripts/train-vit.py; attention, Softmax, LayerNorm and GELU lowered onto MATMUL, PRODUCT, GATHER, CONST and LUT layers)",
        iterations: 100,
      },
      {
        name: "MobileNet-shaped",
        model: mobileModel,
        floatBytes: floatTwin(mobileModel),
        note:
          `seed 1, ${(mobile.macs / 1e6).toFixed(0)}M MACs, ${(mobile.params / 1e6).toFixed(2)}M parameters, ${mobile.layers} layers, ` +
          "against its float twin (`floatTwin` in offchain/datasets/mobilenet.ts: the same architecture in float, Conv → Relu, " +
          "weights = the canonical integers × 2^-s)",
        iterations: 40,
      },
    ];
    const results: Measured[] = [];
    for (const c of cases) {
      ctx.log(`  ${c.name}, ${c.iterations} interleaved iterations…`);
      results.push(await measure(c));
    }
    const f = (ms: number): string => (ms < 1 ? ms.toFixed(3) : ms.toFixed(2));
    const x = (a: number, b: number): string => `${(a / b).toFixed(2)}x`;
    const row = (label: string, pick: (r: Measured) => number, base: (r: Measured) => number, baseName: string): string =>
      `| ${label} | ${results.map((r) => `${f(pick(r))} | ${x(pick(r), base(r))} ${baseName}`).join(" | ")} |`;
    const mob = results[results.length - 1]!;
    const plainRatio = mob.nchwc / mob.float;
    // What the worker node does per job: `run` with the input commitment of the job's terms.
    const runRatio = mob.runKnown / mob.nchwc;
    const lines = [
      "Median wall time per inference, batch 1, one onnxruntime thread, all paths interleaved in one run on the same " +
        `seeded inputs (so the ratios survive a noisy shared machine). Machine: ${os.cpus()[0]?.model ?? "unknown CPU"}, ${os.cpus().length} cores; ` +
        `load average (1 min) at the end: ${os.loadavg()[0]!.toFixed(1)}.`,
      "",
      `| path | ${cases.map((c) => `${c.name} (ms) | ratio`).join(" | ")} |`,
      `|---|${cases.map(() => "---:|---:").join("|")}|`,
      row("plain onnxruntime, float model", (r) => r.float, (r) => r.float, "float"),
      row("plain run, canonical file as is", (r) => r.file, (r) => r.float, "float"),
      row("plain run, portable layout (rewrites 1–4)", (r) => r.portable, (r) => r.float, "float"),
      row("**plain run, NCHWc layout (what the runner runs)**", (r) => r.nchwc, (r) => r.float, "float"),
      row("`run` hashing the input too (run + int32 check + output and input commitments)", (r) => r.run, (r) => r.nchwc, "plain"),
      row("**worker per job: `run` with the terms' input commitment (run + int32 check + output commitment)**", (r) => r.runKnown, (r) => r.nchwc, "plain"),
      row("verifier per job: `run` + compare output commitments", (r) => r.verify, (r) => r.nchwc, "plain"),
      row("dispute only: `runWithTrace` (every layer output, trace root)", (r) => r.trace, (r) => r.nchwc, "plain"),
      "",
      ...cases.map((c) => `- ${c.name}: ${c.note}.`),
      "- Ratios: the plain runs against the float model; the per-job costs against the plain run of the NCHWc layout. " +
        "The verifier's per-job cost is the worker's call (`run` on the job's input) plus one comparison of 32-byte " +
        "commitments: essentially the same work; both sides know the input commitment from the chain.",
      "- On the MNIST CNN a plain run takes a few hundredths of a millisecond, so `run`'s fixed costs (input validation, " +
        "the input tensor, two SHA-256 commitments, one call into onnxruntime's binding) show as a ratio; the targets are " +
        "set on the MobileNet-shaped model.",
      `- Input commitment alone (\`tensorRoot\` of the job input): ${results.map((r, i) => `${cases[i]!.name} ${f(r.inputCommitment)} ms`).join(", ")}. ` +
        "`run` computes it unless the caller passes it in; the worker node passes the one in the job's terms (its input " +
        "is the escrow-committed calldata, or fetched bytes checked against that commitment), so it never hashes the input.",
      "",
      "Targets (MobileNet-shaped model):",
      `- canonical plain run ≤ 1.3x plain onnxruntime on the float model: **${plainRatio.toFixed(2)}x, ${plainRatio <= 1.3 ? "met" : "not met"}** ` +
        `(the file as is: ${x(mob.file, mob.float)}).`,
      `- worker per-job inference (\`run\` as the worker calls it) ≤ 1.10x the plain run of the canonical model: **${runRatio.toFixed(2)}x, ${runRatio <= 1.1 ? "met" : "not met"}** ` +
        `(${x(mob.run, mob.nchwc)} if it also hashed the input).`,
      "",
      "What each rewrite buys (offchain/runtime/layout.ts; every one bit-identical to the reference interpreter, " +
        "test/runtime/layout.test.ts): the portable layout folds the 2^-s scales into the weights, clips before the " +
        "Floor (the Clip fuses into the Conv), drops Floors at s = 0 and moves a Floor past a following pool/reshape. " +
        "onnxruntime already folded Conv+Mul itself, so on the MobileNet-shaped model this buys little: every layer still " +
        "leaves onnxruntime's channel-blocked (NCHWc) layout for its Floor and comes back (ReorderOutput, Floor, ReorderInput " +
        "per layer, see below). The NCHWc layout removes those reorders (onnxruntime lays out a graph with placeholders, " +
        "the placeholders become the real elementwise ops) and replaces the Floor, onnxruntime's slowest elementwise kernel " +
        "here, by QuantizeLinear → DequantizeLinear (round to nearest after a half-unit bias shift, exact by the bound it " +
        "checks per channel) wherever a CONV clips to [0, 255] or [-128, 127].",
      "",
      "The trace is built only in disputes now (the happy path hashes the output alone), so its cost no longer decides " +
        "the per-job price; what remains of it is onnxruntime fetching every layer output (each a fresh JS buffer, every " +
        "activation kept alive) plus converting and hashing about 15.7 MB of int32 on the MobileNet-shaped model.",
    ];
    for (const c of cases) {
      ctx.log(`  profiling ${c.name}…`);
      lines.push(...(await whereLines(c)));
    }
    ctx.log("  accuracy on the held-out digits…");
    lines.push(
      "",
      "### MNIST accuracy on held-out digits",
      "",
      "Held out: sample i of each digit's file in the `mnist` package when i % 5 == 4 (never used in training).",
      "",
      "| model | digits | float | canonical | canonical agrees with float |",
      "|---|---:|---:|---:|---:|",
      ...(await accuracyRows(root)),
    );
    return lines.join("\n");
  },
};
