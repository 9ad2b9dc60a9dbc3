/**
 * Float node tests through the converter: calibrate on the test's own input, convert, run
 * the canonical model with the runner (cross-checked against the reference interpreter),
 * dequantize, and compare with ONNX's expected output within the converter's stated bound.
 */
import type { ConversionResult } from "../../offchain/convert/index.js";
import { convertModel, dequantizeOutput, quantizeInput } from "../../offchain/convert/index.js";
import { runReference } from "../../offchain/runtime/reference.js";
import { CanonicalRunner } from "../../offchain/runtime/runner.js";
import type { NodeTestCase } from "./testdata.js";
import type { FloatRun } from "./transform.js";
import { floatRuns } from "./transform.js";

export interface FloatOutcome {
  runs: number;
  /** Largest |dequantized − expected| seen, and the bound it was checked against. */
  maxError: number;
  bound: number;
}

/** float32 rounding in the expected outputs themselves (they are float32 computations). */
const slack = (v: number): number => 1e-5 * (1 + Math.abs(v));

/** All runs of a case, converted (throws ConvertError when the converter refuses). */
export function convertCase(c: NodeTestCase): { run: FloatRun; conv: ConversionResult }[] {
  return c.sets.flatMap((set) => floatRuns(c.model, set)).map((run) => ({ run, conv: convertModel(run.model, { calibration: [run.input] }) }));
}

export async function runFloatCase(c: NodeTestCase): Promise<FloatOutcome> {
  const out: FloatOutcome = { runs: 0, maxError: 0, bound: 0 };
  for (const { run, conv } of convertCase(c)) {
    const x = quantizeInput(conv, run.input);
    const runner = await CanonicalRunner.create(conv.model);
    let got: Int32Array;
    try {
      const layers = await runner.runLayers(x);
      got = layers[layers.length - 1]!;
    } finally {
      await runner.release();
    }
    const ref = runReference(conv.model, x);
    const refOut = ref[ref.length - 1]!;
    if (refOut.some((v, i) => v !== got[i])) throw new Error(`${run.label}: onnxruntime and the reference interpreter disagree`);
    if (got.length !== run.expected.length) throw new Error(`${run.label}: ${got.length} outputs, expected ${run.expected.length}`);
    const deq = dequantizeOutput(conv, got);
    deq.forEach((v, i) => {
      const e = Math.abs(v - run.expected[i]!);
      out.maxError = Math.max(out.maxError, e);
      if (e > conv.errorBound + slack(run.expected[i]!)) {
        throw new Error(`${run.label}: element ${i} is ${v}, expected ${run.expected[i]} (error ${e} > stated bound ${conv.errorBound})`);
      }
    });
    out.bound = Math.max(out.bound, conv.errorBound);
    out.runs++;
  }
  return out;
}
