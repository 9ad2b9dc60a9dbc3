/** Output shapes of the canonical layers, shared by the parser, the builder and the reference. */

/** Spatial output size of a conv/pool window (ceil_mode = 0, dilation 1). */
export function windowOut(size: number, kernel: number, stride: number, padBegin: number, padEnd: number): number {
  return Math.floor((size + padBegin + padEnd - kernel) / stride) + 1;
}

/** ONNX Flatten(axis): [prod(shape[:axis]), prod(shape[axis:])]. */
export function flattenShape(shape: readonly number[], axis: number): number[] {
  const a = axis < 0 ? axis + shape.length : axis;
  const head = shape.slice(0, a).reduce((x, y) => x * y, 1);
  const tail = shape.slice(a).reduce((x, y) => x * y, 1);
  return [head, tail];
}

/**
 * ONNX Reshape(shape) with allowzero = 0: 0 copies the input dim, one -1 is inferred.
 * Returns undefined when the target cannot be resolved to the same element count.
 */
export function reshapeShape(shape: readonly number[], target: readonly number[]): number[] | undefined {
  const size = shape.reduce((x, y) => x * y, 1);
  const out = target.map((d, i) => (d === 0 ? shape[i] : d));
  if (out.some((d) => d === undefined || d < -1)) return undefined;
  const dims = out as number[];
  const neg = dims.filter((d) => d === -1).length;
  if (neg > 1) return undefined;
  const known = dims.filter((d) => d !== -1).reduce((x, y) => x * y, 1);
  if (neg === 1) {
    if (known === 0 || size % known !== 0) return undefined;
    return dims.map((d) => (d === -1 ? size / known : d));
  }
  return known === size ? dims : undefined;
}

/**
 * Output shape of MATMUL: a [1, G..., N, K] times b [1, G..., K, M] is [1, G..., N, M]; both of the
 * same rank >= 3 with the same leading axes (no broadcasting). Undefined when they do not fit.
 */
export function matmulShape(a: readonly number[], b: readonly number[]): number[] | undefined {
  const r = a.length;
  if (r < 3 || b.length !== r || a[0] !== 1 || b[0] !== 1) return undefined;
  for (let k = 0; k < r - 2; k++) if (a[k] !== b[k]) return undefined;
  if (a[r - 1] !== b[r - 2]) return undefined;
  return [...a.slice(0, r - 1), b[r - 1]!];
}

export function shapeStr(s: readonly (number | undefined)[]): string {
  return `[${s.map((d) => (d === undefined ? "?" : String(d))).join(",")}]`;
}
