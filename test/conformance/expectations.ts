/**
 * Which ONNX node tests are in scope, and why some of them are skipped. A skipped case must
 * really be refused by the converter (so this list cannot silently hide a regression), and
 * every case not listed must pass.
 */

/** Node tests of the ops the converter supports (and their integer variants). */
export const CASE_PATTERN =
  /^test_(basic_conv_with|conv_with|gemm_|matmul_|add|sub|mul|div|relu$|clip|maxpool_|globalmaxpool|averagepool_|globalaveragepool|flatten_|reshape_|sigmoid|tanh|batchnorm_|leakyrelu|hardsigmoid|hardswish|elu$|elu_|selu|softplus|softsign|erf$|exp$|exp_example|neg$|neg_example|abs$|sqrt|reciprocal|pow(?!_types_float32_uint)|reduce_(mean|sum)_(?!square)|reduce_max_|softmax_|logsoftmax_|transpose_|concat_|slice|split_|gather_(0|1|2d|negative)|gather_elements_|expand_|squeeze|unsqueeze_|tile|(constant|edge|reflect)_pad$|layer_normalization_|convtranspose|resize_|upsample_|depthtospace|spacetodepth)/;

/**
 * How many node tests CASE_PATTERN selects in the data (libonnx-testdata 1.12). Checked against
 * the data whenever it is there, so the count a bare machine prints cannot go stale.
 */
export const CASE_COUNT = 336;

export const SKIPS: Readonly<Record<string, string>> = {
  test_div_uint8: "integer Div truncates toward zero; the harness can only hand the converter a float Div, which it converts to something else",
  test_gemm_all_attributes: "transA=1: the activation would be a column, canonical DENSE reads [1, K]",
  test_gemm_transposeA: "transA=1: the activation would be a column, canonical DENSE reads [1, K]",
  test_convtranspose_1d: "1-D ConvTranspose (the converter lowers 2-D only)",
  test_convtranspose_3d: "3-D ConvTranspose (the converter lowers 2-D only)",
  test_convtranspose_dilations: "ConvTranspose dilations 2 (dilations must be 1)",
  test_resize_downsample_scales_cubic: "Resize cubic: its weights are no fixed pattern a GATHER and one CONV can carry (only nearest, and linear upsampling by integers)",
  test_resize_downsample_scales_cubic_A_n0p5_exclude_outside: "Resize cubic (only nearest, and linear upsampling by integers)",
  test_resize_downsample_scales_cubic_align_corners: "Resize cubic (only nearest, and linear upsampling by integers)",
  test_resize_downsample_sizes_cubic: "Resize cubic (only nearest, and linear upsampling by integers)",
  test_resize_upsample_scales_cubic: "Resize cubic (only nearest, and linear upsampling by integers)",
  test_resize_upsample_scales_cubic_A_n0p5_exclude_outside: "Resize cubic (only nearest, and linear upsampling by integers)",
  test_resize_upsample_scales_cubic_align_corners: "Resize cubic (only nearest, and linear upsampling by integers)",
  test_resize_upsample_scales_cubic_asymmetric: "Resize cubic (only nearest, and linear upsampling by integers)",
  test_resize_upsample_sizes_cubic: "Resize cubic (only nearest, and linear upsampling by integers)",
  test_resize_downsample_scales_linear: "Resize linear downsampling (scale 0.6): the taps' weights vary along the output, no fixed-weight convolution",
  test_resize_downsample_sizes_linear_pytorch_half_pixel: "Resize linear downsampling (4 → 3, 4 → 1): no fixed-weight convolution",
  test_resize_downsample_scales_linear_align_corners: "Resize linear align_corners: the weights vary along the output, no fixed-weight convolution",
  test_resize_upsample_scales_linear_align_corners: "Resize linear align_corners: the weights vary along the output, no fixed-weight convolution",
  test_resize_tf_crop_and_resize: "Resize linear tf_crop_and_resize (and extrapolation_value 10): the weights vary along the output",
  test_slice_start_out_of_bounds: "empty output ([20, 0, 5])",
  test_split_zero_size_splits: "empty tensors (input [0])",
  test_squeeze: "squeezes the batch axis: the output [3, 4, 5] has no batch of 1",
  test_layer_normalization_2d_axis1_expanded: "the expanded form flattens X to [R, D] with R > 1 rows (a batch of rows; the op itself converts)",
  test_layer_normalization_2d_axis_negative_1_expanded: "the expanded form flattens X to [R, D] with R > 1 rows (a batch of rows; the op itself converts)",
  test_layer_normalization_3d_axis1_epsilon_expanded: "the expanded form flattens X to [R, D] with R > 1 rows (a batch of rows; the op itself converts)",
  test_layer_normalization_3d_axis2_epsilon_expanded: "the expanded form flattens X to [R, D] with R > 1 rows (a batch of rows; the op itself converts)",
  test_layer_normalization_3d_axis_negative_1_epsilon_expanded: "the expanded form flattens X to [R, D] with R > 1 rows (a batch of rows; the op itself converts)",
  test_layer_normalization_3d_axis_negative_2_epsilon_expanded: "the expanded form flattens X to [R, D] with R > 1 rows (a batch of rows; the op itself converts)",
  test_layer_normalization_4d_axis1_expanded: "the expanded form flattens X to [R, D] with R > 1 rows (a batch of rows; the op itself converts)",
  test_layer_normalization_4d_axis2_expanded: "the expanded form flattens X to [R, D] with R > 1 rows (a batch of rows; the op itself converts)",
  test_layer_normalization_4d_axis3_expanded: "the expanded form flattens X to [R, D] with R > 1 rows (a batch of rows; the op itself converts)",
  test_layer_normalization_4d_axis_negative_1_expanded: "the expanded form flattens X to [R, D] with R > 1 rows (a batch of rows; the op itself converts)",
  test_layer_normalization_4d_axis_negative_2_expanded: "the expanded form flattens X to [R, D] with R > 1 rows (a batch of rows; the op itself converts)",
  test_layer_normalization_4d_axis_negative_3_expanded: "the expanded form flattens X to [R, D] with R > 1 rows (a batch of rows; the op itself converts)",
  test_layer_normalization_default_axis_expanded: "the expanded form flattens X to [R, D] with R > 1 rows (a batch of rows; the op itself converts)",
  test_maxpool_1d_default: "1-D pooling",
  test_maxpool_3d_default: "3-D pooling",
  test_maxpool_2d_ceil: "ceil_mode=1 adds partial windows",
  test_maxpool_2d_dilations: "dilations unsupported",
  test_maxpool_with_argmax_2d_precomputed_pads: "Indices output",
  test_maxpool_with_argmax_2d_precomputed_strides: "Indices output",
  test_averagepool_1d_default: "1-D pooling",
  test_averagepool_3d_default: "3-D pooling",
  test_averagepool_2d_ceil: "ceil_mode=1 adds partial windows",
  test_averagepool_2d_pads: "count_include_pad=0 with padding: the divisor varies per window",
  test_averagepool_2d_precomputed_pads: "count_include_pad=0 with padding: the divisor varies per window",
  test_averagepool_2d_precomputed_same_upper: "count_include_pad=0 with (auto) padding",
  test_averagepool_2d_same_lower: "count_include_pad=0 with (auto) padding",
  test_averagepool_2d_same_upper: "count_include_pad=0 with (auto) padding",
  test_batchnorm_epsilon_training_mode: "training_mode=1",
  test_batchnorm_example_training_mode: "training_mode=1",
  test_flatten_axis2: "output [6, 20]: its first dimension is not a batch of 1",
  test_flatten_axis3: "output [24, 5]: its first dimension is not a batch of 1",
  test_flatten_negative_axis1: "output [24, 5]: its first dimension is not a batch of 1",
  test_flatten_negative_axis2: "output [6, 20]: its first dimension is not a batch of 1",
  test_reshape_allowzero_reordered: "empty tensor (a 0 dimension)",
  test_pow: "the exponent is a second full tensor: only Pow by a scalar constant is a function of one tensor (a LUT)",
  test_pow_bcast_array: "the exponent is an array broadcast along the last axis, not a scalar constant",
  test_pow_example: "the exponent is an array, not a scalar constant",
  test_pow_types_float: "the exponent is an array, not a scalar constant",
  test_pow_types_float32_int32: "the exponent is an array, not a scalar constant",
  test_pow_types_float32_int64: "the exponent is an array, not a scalar constant",
  test_pow_types_int: "integer Pow is not a canonical op, and the exponent is an array",
  test_pow_types_int32_float32: "integer Pow is not a canonical op, and the exponent is an array",
  test_pow_types_int32_int32: "integer Pow is not a canonical op, and the exponent is an array",
  test_pow_types_int64_float32: "integer Pow is not a canonical op, and the exponent is an array",
  test_pow_types_int64_int64: "integer Pow is not a canonical op, and the exponent is an array",
};

/**
 * Integer-typed tests that the canonical semantics covers exactly; they run through the
 * reference kernels (and onnxruntime when the layer has one input) and must match bit for
 * bit. The rest of the integer tests are in SKIPS.
 */
export const INTEGER_CASES: ReadonlySet<string> = new Set([
  "test_add_uint8",
  "test_clip_default_int8_inbounds",
  "test_clip_default_int8_max",
  "test_clip_default_int8_min",
  "test_maxpool_2d_uint8",
]);

/**
 * Skips the converter accepts, because the harness cannot state them to it: the case's integer
 * meaning is not the float op the harness builds. Only these are exempt from "a skip must be
 * refused".
 */
export const NOT_EXPRESSIBLE: ReadonlySet<string> = new Set(["test_div_uint8"]);
