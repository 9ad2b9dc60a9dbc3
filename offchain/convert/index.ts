/**
 * Float ONNX → canonical/1 converter (docs/CONVERTER.md).
 *
 *   const r = convertModel(floatBytes, { calibration: inputs });
 *   r.bytes        // canonical ONNX file, validated by parseCanonicalModel
 *   r.errorBound   // stated worst-case |dequantized − float| per output element
 *   await measureAccuracy(floatBytes, r, inputs)
 */
import type { CanonicalModel } from "../model/canonical.js";
import { parseCanonicalModel } from "../model/canonical.js";
import { calibrate } from "./calibrate.js";
import { emitModel } from "./emit.js";
import { foldGraph } from "./fold.js";
import { loadFloatModel } from "./load.js";
import type { LayerInfo, PlanOptions } from "./plan.js";
import { planModel } from "./plan.js";

export { ConvertError, UnsupportedOpsError } from "./errors.js";
export type { ConvertErrorCode, UnsupportedNode } from "./errors.js";
export type { LayerInfo, PlanOptions } from "./plan.js";
export { SHAPE_OPS, SUPPORTED_OPS } from "./load.js";
export type { LoadOptions } from "./load.js";
export { measureAccuracy, quantizeInput, dequantizeOutput } from "./evaluate.js";
export type { AccuracyReport } from "./evaluate.js";

export interface ConvertOptions extends Partial<PlanOptions> {
  /** Float inputs (each the graph input's size, row-major) that fix the activation ranges. */
  calibration: readonly ArrayLike<number>[];
  /** Graph name written into the canonical file. */
  graphName?: string;
  /** The input's shape, binding the dimensions the file leaves dynamic (`--input-shape`). */
  inputShape?: readonly number[];
  /** The input's name, when the user named it with its shape (checked against the file). */
  inputName?: string;
}

export interface ConversionResult {
  /** The canonical/1 ONNX file. */
  readonly bytes: Uint8Array;
  /** The file parsed and validated (exactness proven). */
  readonly model: CanonicalModel;
  readonly inputScale: number;
  readonly inputRange: readonly [number, number];
  readonly outputScale: number;
  /**
   * Worst-case |outputScale·q − float output| for every output element, for inputs whose
   * activations stay inside the calibrated ranges (always true for calibration inputs).
   */
  readonly errorBound: number;
  readonly layers: readonly LayerInfo[];
}

export const DEFAULT_OPTIONS: PlanOptions = {
  activationBits: 8, wideBits: 13, lutInputBits: 12, outputBits: 16, outputHeadroom: 2, activationHeadroom: 1, maxWeightBits: 16, maxLutSize: 65536,
};

/** Convert a float32 ONNX model; throws ConvertError naming the node and op it cannot convert. */
export function convertModel(floatBytes: Uint8Array, options: ConvertOptions): ConversionResult {
  const o: PlanOptions = {
    activationBits: options.activationBits ?? DEFAULT_OPTIONS.activationBits,
    wideBits: options.wideBits ?? DEFAULT_OPTIONS.wideBits,
    lutInputBits: options.lutInputBits ?? DEFAULT_OPTIONS.lutInputBits,
    outputBits: options.outputBits ?? DEFAULT_OPTIONS.outputBits,
    outputHeadroom: options.outputHeadroom ?? DEFAULT_OPTIONS.outputHeadroom,
    activationHeadroom: options.activationHeadroom ?? DEFAULT_OPTIONS.activationHeadroom,
    maxWeightBits: options.maxWeightBits ?? DEFAULT_OPTIONS.maxWeightBits,
    maxLutSize: options.maxLutSize ?? DEFAULT_OPTIONS.maxLutSize,
    ...(options.input ? { input: options.input } : {}),
  };
  const graph = foldGraph(loadFloatModel(floatBytes, options));
  const ranges = calibrate(graph, options.calibration);
  const plan = planModel(graph, ranges, o);
  const bytes = emitModel(plan, options.graphName ?? "veritensor_converted");
  const model = parseCanonicalModel(bytes);
  return {
    bytes,
    model,
    inputScale: plan.inputScale,
    inputRange: plan.inputRange,
    outputScale: plan.outputScale,
    errorBound: plan.errorBound,
    layers: plan.layers.map((l) => l.info),
  };
}
