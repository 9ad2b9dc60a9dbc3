/**
 * The one check of a conversion the converter tests share: the canonical file parses, its output is
 * within the stated bound of onnxruntime's float output on every input (and within `tolerance` when
 * one is given), and onnxruntime runs it bit for bit like the reference interpreter on a few inputs.
 */
import { expect } from "chai";

import { measureAccuracy, quantizeInput } from "../../offchain/convert/index.js";
import type { ConversionResult } from "../../offchain/convert/index.js";
import { parseCanonicalModel } from "../../offchain/model/canonical.js";
import { runReference } from "../../offchain/runtime/reference.js";
import { CanonicalRunner } from "../../offchain/runtime/runner.js";

export interface CheckOptions {
  /** A measured tolerance the error must also stay within. */
  readonly tolerance?: number;
  /**
   * Whether the stated bound is checked too (default true). A deep model's worst-case bound can be
   * astronomically loose, so a test may judge it by its tolerance alone.
   */
  readonly bound?: boolean;
}

/** Returns the largest absolute error against the float model. */
export async function checkConversion(bytes: Uint8Array, conv: ConversionResult, inputs: readonly Float32Array[], o: CheckOptions = {}): Promise<number> {
  parseCanonicalModel(conv.bytes);
  const acc = await measureAccuracy(bytes, conv, inputs);
  if (o.bound ?? true) expect(acc.maxAbsError, `max error ${acc.maxAbsError} vs bound ${conv.errorBound}`).to.be.at.most(conv.errorBound);
  if (o.tolerance !== undefined) expect(acc.maxAbsError, `max error ${acc.maxAbsError} vs tolerance ${o.tolerance}`).to.be.at.most(o.tolerance);
  const runner = await CanonicalRunner.create(conv.model);
  try {
    for (const input of inputs.slice(0, 3)) {
      const x = quantizeInput(conv, input);
      const ort = await runner.runLayers(x);
      const ref = runReference(conv.model, x);
      ort.forEach((out, i) => expect(Array.from(out), `layer ${i + 1}`).to.deep.equal(Array.from(ref[i]!)));
    }
  } finally {
    await runner.release();
  }
  return acc.maxAbsError;
}
