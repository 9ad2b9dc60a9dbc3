/**
 * Layer kinds of format canonical/1 and the layout of each kind's `params` and
 * `constants`, exactly as they enter the graph-commitment leaf
 * `sha256(abi.encode(uint8 kind, uint32[] inputs, uint32[] outShape, int64[] params, bytes32[] constants))`.
 * The on-chain one-step checker reads the same layouts; docs/SEMANTICS.md repeats them.
 *
 * Conventions shared by all kinds:
 * - every tensor has shape [1, C, ...] (batch 1, rank >= 2); the channel of an element is
 *   its index along axis 1;
 * - per-channel constants are committed expanded to one value per channel even when the
 *   ONNX file stores a scalar (the checker never has to know how the file spelled it);
 * - shifts are committed as the int32 exponents `s` (S = 2^-s), never as floats.
 */
export const LayerKind = {
  DENSE: 1,
  CONV: 2,
  ADD: 3,
  MUL: 4,
  RELU: 5,
  CLIP: 6,
  MAXPOOL: 7,
  RESHAPE: 8,
  LUT: 9,
  MATMUL: 10,
  PRODUCT: 11,
  GATHER: 12,
  CONST: 13,
} as const;
export type LayerKind = (typeof LayerKind)[keyof typeof LayerKind];

export const LAYER_KIND_NAMES: Readonly<Record<LayerKind, string>> = {
  1: "DENSE",
  2: "CONV",
  3: "ADD",
  4: "MUL",
  5: "RELU",
  6: "CLIP",
  7: "MAXPOOL",
  8: "RESHAPE",
  9: "LUT",
  10: "MATMUL",
  11: "PRODUCT",
  12: "GATHER",
  13: "CONST",
};

export function layerKindName(kind: LayerKind): string {
  return LAYER_KIND_NAMES[kind];
}

/**
 * Index of each param, per kind (params are int64 in the leaf).
 *
 * DENSE applies to the last axis: input [1, R..., K], output [1, R..., M] (rank >= 2; the rows R
 * are 1 for a [1, K] input). Output element e is row r = floor(e / M), unit m = e mod M, and reads
 * x[r*K + j]; its per-unit constants B and s are indexed by m (the last axis), not by axis 1.
 */
export const DenseParam = { K: 0, M: 1, LO: 2, HI: 3 } as const;
/** DENSE constants: W as [M, K] (row m = weights of output m, contiguous), B [M], S [M]. */
export const DenseConst = { W: 0, B: 1, S: 2 } as const;

export const ConvParam = {
  C: 0, H: 1, W: 2, M: 3, KH: 4, KW: 5, SY: 6, SX: 7,
  PT: 8, PL: 9, PB: 10, PR: 11, GROUP: 12, LO: 13, HI: 14,
} as const;
/** CONV constants: W as [M, C/group, KH, KW] (ONNX order), B [M], S [M]. */
export const ConvConst = { W: 0, B: 1, S: 2 } as const;

export const AddParam = { LO: 0, HI: 1 } as const;
/**
 * ADD constants: S [1] always first; when the second operand is a constant (inputs has
 * one entry) it follows as B [C], one value per channel.
 */
export const AddConst = { S: 0, B: 1 } as const;

export const MulParam = { LO: 0, HI: 1 } as const;
/** MUL constants: S [C] and the factor C [C], both expanded per channel. */
export const MulConst = { S: 0, C: 1 } as const;

/** RELU: no params, no constants. RESHAPE: none either (outShape says it all). */
export const ClipParam = { LO: 0, HI: 1 } as const;

export const MaxPoolParam = {
  C: 0, H: 1, W: 2, KH: 3, KW: 4, SY: 5, SX: 6, PT: 7, PL: 8, PB: 9, PR: 10,
} as const;

/** LUT: params [lo, hi]; constants [T] with T.length = hi - lo + 1, output = T[x - lo]. */
export const LutParam = { LO: 0, HI: 1 } as const;
export const LutConst = { T: 0 } as const;

/**
 * MATMUL: the product of two layer outputs, batched over the leading axes (attention).
 * inputs [a, b] with a [1, G..., N, K], b [1, G..., K, M], output [1, G..., N, M] (rank >= 3, the
 * same G... on all three). y[g,n,m] = clip((sum_{j<K} a[g,n,j]*b[g,j,m]) >> s, lo, hi): a reduction
 * of length K from s_0 = 0. Term j reads a[(g*N + n)*K + j] and b[(g*K + j)*M + m].
 */
export const MatMulParam = { N: 0, K: 1, M: 2, LO: 3, HI: 4 } as const;
/** MATMUL constants: the shift s [1]. */
export const MatMulConst = { S: 0 } as const;

/**
 * PRODUCT: elementwise product of two layer outputs of the output's shape (inputs [a, b], which
 * may be the same tensor): y[e] = clip((a[e]*b[e]) >> s, lo, hi).
 */
export const ProductParam = { LO: 0, HI: 1 } as const;
/** PRODUCT constants: the shift s [1]. */
export const ProductConst = { S: 0 } as const;

/**
 * GATHER: data movement (Transpose, Slice, Concat, Split, Expand, Pad with zeros, Gather on
 * constant indices, nearest Resize, ...). inputs [t_0, ..., t_{I-1}] (I >= 1); params are their
 * element counts [n_0, ..., n_{I-1}] (so the param count is the input count). With v the
 * concatenation of the inputs' elements (row-major, in `inputs` order) and Z = sum n_i:
 * y[e] = idx[e] == Z ? 0 : v[idx[e]], where idx [numel(out)] is an integer constant in [0, Z].
 */
export const GatherConst = { IDX: 0 } as const;

/** CONST: a layer with no inputs whose output is its constant: y[e] = C[e], C [numel(out)]. */
export const ConstConst = { C: 0 } as const;

/** Number of params per kind (checked when a leaf is built); GATHER has one per input (-1 here). */
export const PARAM_COUNT: Readonly<Record<LayerKind, number>> = {
  1: 4,
  2: 15,
  3: 2,
  4: 2,
  5: 0,
  6: 2,
  7: 11,
  8: 0,
  9: 2,
  10: 5,
  11: 2,
  12: -1,
  13: 0,
};

/** Largest magnitude (exclusive) of any committed value and any partial sum. */
export const EXACT_LIMIT = 2 ** 24;
/** Largest shift exponent s in S = 2^-s. */
export const MAX_SHIFT = 24;
