/**
 * Inference benchmarks: the price of the trace commitment (every layer output fetched,
 * converted to canonical int32 and hashed into the trace root) against plain onnxruntime
 * `session.run` of the same canonical model, measured in one run, interleaved, so that the
 * ratio survives a noisy shared machine. Plus the MNIST models' accuracy on held-out digits.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import os from "node:os";

import { argmax, quantizeInput, runFloat } from "../convert/evaluate.js";
import { loadDigits, toFloat } from "../convert/mnist.js";
import { mobileNetShaped } from "../convert/mobilenet.js";
import { parseCanonicalModel } from "../model/canonical.js";
import type { CanonicalModel } from "../model/canonical.js";
import { CanonicalRunner } from "../runtime/runner.js";
import type { BenchSection } from "./section.js";

interface Case {
  readonly name: string;
  readonly model: CanonicalModel;
  readonly note: string;
  readonly iterations: number;
}

interface Timing {
  readonly plain: number;
  readonly traced: number;
  readonly inference: number;
  readonly commit: number;
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

async function time(c: Case, threads: number): Promise<Timing> {
  const runner = await CanonicalRunner.create(c.model, { intraOpNumThreads: threads });
  try {
    const inputs = Array.from({ length: 4 }, (_, i) => randomInput(c.model, 1000 + i));
    const floats = inputs.map((x) => Float32Array.from(x));
    // Warm both sessions (allocations, kernel selection) before measuring.
    await runner.runPlainRaw(floats[0]!);
    await runner.runWithTrace(inputs[0]!);
    const plain: number[] = [];
    const traced: number[] = [];
    const inference: number[] = [];
    const commit: number[] = [];
    for (let i = 0; i < c.iterations; i++) {
      const k = i % inputs.length;
      const t0 = performance.now();
      await runner.runPlainRaw(floats[k]!);
      plain.push(performance.now() - t0);
      const t1 = performance.now();
      const r = await runner.runWithTrace(inputs[k]!);
      traced.push(performance.now() - t1);
      inference.push(r.timings.inferenceMs);
      commit.push(r.timings.commitMs);
    }
    return { plain: median(plain), traced: median(traced), inference: median(inference), commit: median(commit) };
  } finally {
    await runner.release();
  }
}

async function accuracyRows(root: string): Promise<string[]> {
  const digits = loadDigits("heldout");
  const images = digits.pixels.map(toFloat);
  const rows: string[] = [];
  for (const name of ["mlp", "cnn"] as const) {
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
    rows.push(`| MNIST ${name.toUpperCase()} | ${images.length} | ${pct(floatHits)} | ${pct(canonHits)} | ${pct(agree)} |`);
  }
  return rows;
}

export const inferenceSection: BenchSection = {
  id: "inference",
  title: "Inference: trace commitment overhead and accuracy",
  async run(ctx) {
    const root = process.cwd();
    ctx.log("  generating the MobileNet-shaped model (seed 1)…");
    const mobile = mobileNetShaped({ seed: 1, width: 0.75, resolution: 224, classes: 1000 });
    const cases: Case[] = [
      {
        name: "MNIST CNN",
        model: parseCanonicalModel(await readFile(join(root, "models", "mnist-cnn.canonical.onnx"))),
        note: "models/mnist-cnn.canonical.onnx",
        iterations: 200,
      },
      {
        name: "MobileNet-shaped",
        model: parseCanonicalModel(mobile.bytes),
        note: `seed 1, ${(mobile.macs / 1e6).toFixed(0)}M MACs, ${(mobile.params / 1e6).toFixed(2)}M parameters, ${mobile.layers} layers`,
        iterations: 12,
      },
    ];
    const lines = [
      "Median wall time per inference, batch 1, plain `session.run` of the canonical file (final output only)",
      "against `runWithTrace` (every layer output fetched, checked to be integers, committed: one SHA-256 per",
      "KiB chunk, Merkle trees, trace root), interleaved in one run on the same inputs.",
      `Machine: ${os.cpus()[0]?.model ?? "unknown CPU"}, ${os.cpus().length} cores.`,
      "",
      "| model | threads | plain run (ms) | traced run (ms) | of which inference with all outputs (ms) | of which commitments (ms) | ratio traced / plain |",
      "|---|---:|---:|---:|---:|---:|---:|",
    ];
    for (const c of cases) {
      for (const threads of [1, 2]) {
        ctx.log(`  ${c.name}, ${threads} thread(s), ${c.iterations} iterations…`);
        const t = await time(c, threads);
        lines.push(
          `| ${c.name} | ${threads} | ${t.plain.toFixed(2)} | ${t.traced.toFixed(2)} | ${t.inference.toFixed(2)} | ` +
            `${t.commit.toFixed(2)} | **${(t.traced / t.plain).toFixed(2)}x** |`,
        );
      }
    }
    lines.push("", ...cases.map((c) => `- ${c.name}: ${c.note}`), "- Target: at most 1.5x on the MobileNet-shaped model.");
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
