/**
 * Every way a model can be refused. Callers branch on `code`; people read `message`,
 * which always names the node, layer or bound at fault.
 */
export type ModelErrorCode =
  | "MALFORMED" // bytes are not a decodable ONNX ModelProto (truncated, garbage)
  | "NO_GRAPH" // ModelProto without a graph
  | "OPSET" // missing or unsupported opset import
  | "NOT_CANONICAL" // metadata does not declare canonical/1, or is inconsistent
  | "UNSUPPORTED_OP" // an op outside the canonical set
  | "BAD_PATTERN" // a supported op used outside its canonical node pattern
  | "SHAPE" // shapes missing, dynamic or inconsistent
  | "NOT_INTEGER" // an initializer that is not integer-valued (or |v| >= 2^24)
  | "BAD_SHIFT" // an S value that is not 2^-s with integer 0 <= s <= 24
  | "EXACTNESS" // interval analysis cannot prove partial sums < 2^24
  | "LUT_RANGE"; // LUT input not provably inside the table

export class ModelError extends Error {
  readonly code: ModelErrorCode;
  constructor(code: ModelErrorCode, message: string) {
    super(message);
    this.name = "ModelError";
    this.code = code;
  }
}

/** Errors about a job input (shape, length, range), raised before anything runs. */
export type InputErrorCode = "INPUT_LENGTH" | "INPUT_SHAPE" | "INPUT_RANGE" | "INPUT_NOT_INTEGER";

export class InputError extends Error {
  readonly code: InputErrorCode;
  constructor(code: InputErrorCode, message: string) {
    super(message);
    this.name = "InputError";
    this.code = code;
  }
}
