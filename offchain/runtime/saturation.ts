/**
 * Saturation: output elements that sit at their layer's clip bound, where a real computation may
 * have gone further and been cut. The converter's stated error bound holds only while nothing
 * saturates, so a run says how many did (`model run`, the worker's log).
 *
 * A bound of 0 does not count: the converter starts a range at 0 only where the calibration saw no
 * negative value, which is what a ReLU leaves, and ends one at 0 only where it saw no positive one,
 * which is what a softmax's x − max leaves (every row's maximum gives exactly 0); a 0 there is the
 * float model's value too.
 * Other bounds a fused activation set (ReLU6's 6) do count: the canonical file does not say which
 * bound came from an activation.
 */
import type { CanonicalModel } from "../model/canonical.js";
import { layerKindName, LayerKind } from "../model/layers.js";
import { ConvParam, DenseParam, MatMulParam, ProductParam } from "../model/layers.js";

export interface Saturation {
  /** Trace index of the layer (1-based). */
  readonly layer: number;
  /** Elements at a counted clip bound. */
  readonly saturated: number;
  readonly total: number;
  /**
   * The clip bounds the values were cut at (a pass-through layer's are its producer's), or
   * undefined when the values come from a table or the graph input: nothing to count there.
   */
  readonly bounds: readonly [number, number] | undefined;
}

/**
 * The clip bounds of layer `index`'s values, following RELU, MAXPOOL, RESHAPE and GATHER to their
 * producers (a GATHER of several inputs only when they all have the same bounds).
 */
export function clipBounds(model: CanonicalModel, index: number): readonly [number, number] | undefined {
  if (index === 0) return undefined;
  const l = model.layers[index - 1]!;
  const p = l.params;
  switch (l.kind) {
    case LayerKind.DENSE: return [p[DenseParam.LO]!, p[DenseParam.HI]!];
    case LayerKind.CONV: return [p[ConvParam.LO]!, p[ConvParam.HI]!];
    case LayerKind.ADD: case LayerKind.MUL: case LayerKind.CLIP: return [p[0]!, p[1]!];
    case LayerKind.MAXPOOL: case LayerKind.RESHAPE: return clipBounds(model, l.inputs[0]!);
    case LayerKind.RELU: {
      const b = clipBounds(model, l.inputs[0]!);
      return b && [Math.max(b[0], 0), Math.max(b[1], 0)];
    }
    case LayerKind.MATMUL: return [p[MatMulParam.LO]!, p[MatMulParam.HI]!];
    case LayerKind.PRODUCT: return [p[ProductParam.LO]!, p[ProductParam.HI]!];
    case LayerKind.GATHER: {
      const all = l.inputs.map((i) => clipBounds(model, i));
      const b = all[0];
      return b && all.every((c) => c !== undefined && c[0] === b[0] && c[1] === b[1]) ? b : undefined;
    }
    case LayerKind.LUT: case LayerKind.CONST: return undefined;
  }
}

/** Counts the elements of layer `layer`'s output (default: the graph output) at its clip bounds: one pass. */
export function countSaturated(model: CanonicalModel, values: ArrayLike<number>, layer = model.layers.length): Saturation {
  const bounds = clipBounds(model, layer);
  let saturated = 0;
  if (bounds) {
    const lo = bounds[0] === 0 ? -Infinity : bounds[0];
    const hi = bounds[1] === 0 ? Infinity : bounds[1];
    for (let i = 0; i < values.length; i++) if (values[i] === lo || values[i] === hi) saturated++;
  }
  return { layer, saturated, total: values.length, bounds };
}

/** Every layer's count, from the layers' outputs (element i = output of layer i + 1, as a traced run gives them). */
export function traceSaturation(model: CanonicalModel, layerOutputs: readonly ArrayLike<number>[]): Saturation[] {
  return model.layers.map((l) => countSaturated(model, layerOutputs[l.index - 1]!, l.index));
}

/** "N of M (at the clip bounds [lo, hi])", in words for a report line or a log. */
export function saturationNote(model: CanonicalModel, s: Saturation): string {
  if (s.bounds === undefined) {
    const l = model.layers[s.layer - 1]!;
    const why = l.kind === LayerKind.GATHER
      ? "its values come from layers with different clip bounds, from a table, a constant or the input"
      : "its values come from a table, a constant or the input, with no clip bounds";
    return `none counted (layer ${s.layer}, ${layerKindName(l.kind)}: ${why})`;
  }
  const where =
    s.bounds[0] === 0
      ? `at the clip bound ${s.bounds[1]}; a 0 is ReLU's, not counted`
      : s.bounds[1] === 0
        ? `at the clip bound ${s.bounds[0]}; a 0 is a row maximum's (x − max), not counted`
        : `at the clip bounds [${s.bounds.join(", ")}]`;
  return `${s.saturated} of ${s.total} (${where})`;
}
