/**
 * Why a float model cannot be converted. `node` and `op` always name the culprit so a
 * user can find it in Netron or in the exporter's code.
 */
export type ConvertErrorCode =
  | "UNSUPPORTED_OP" // an op the converter has no canonical lowering for
  | "UNSUPPORTED_ATTR" // a supported op with an attribute value it cannot express (dilations, ceil_mode, 3-D)
  | "SHAPE" // dynamic, missing or non-batch-1 shapes
  | "NOT_CONSTANT" // an operand that must be a constant (weights, factors) is computed
  | "CALIBRATION" // no or unusable calibration data
  | "SCALE"; // no exact requantization exists (scales of an Add cannot be matched)

export class ConvertError extends Error {
  readonly code: ConvertErrorCode;
  readonly node: string;
  readonly op: string;
  constructor(code: ConvertErrorCode, node: string, op: string, message: string) {
    super(`cannot convert node "${node}" (${op}): ${message}`);
    this.name = "ConvertError";
    this.code = code;
    this.node = node;
    this.op = op;
  }
}
