/**
 * Why a float model cannot be converted. `node` and `op` always name the culprit so a
 * user can find it in Netron or in the exporter's code. An error about the whole model (an
 * already-canonical file, the list of unsupported ops) is phrased as such.
 */
export type ConvertErrorCode =
  | "UNSUPPORTED_OP" // an op the converter has no canonical lowering for
  | "UNSUPPORTED_ATTR" // a supported op with an attribute value it cannot express (dilations, ceil_mode, 3-D)
  | "SHAPE" // dynamic, missing or non-batch-1 shapes
  | "NOT_CONSTANT" // an operand that must be a constant (weights, factors) is computed
  | "CALIBRATION" // no or unusable calibration data
  | "SCALE" // no exact requantization exists (scales of an Add cannot be matched)
  | "ALREADY_CANONICAL"; // the file is a canonical model already

export class ConvertError extends Error {
  readonly code: ConvertErrorCode;
  readonly node: string;
  readonly op: string;
  constructor(code: ConvertErrorCode, node: string, op: string, message: string, scope: "node" | "model" = "node") {
    super(scope === "model" ? `cannot convert this model: ${message}` : `cannot convert node "${node}" (${op}): ${message}`);
    this.name = "ConvertError";
    this.code = code;
    this.node = node;
    this.op = op;
  }
}

/** A node whose op has no canonical lowering. */
export interface UnsupportedNode {
  readonly node: string;
  /** The op, with its domain when that is not the default one (`com.microsoft.FusedConv`). */
  readonly op: string;
}

/** Node names shown per op; the rest are counted. */
const NAMES_PER_OP = 3;

/** `LSTM (node "the_lstm"); ReduceMean (2 nodes: "/ln1/ReduceMean", "/ln2/ReduceMean")`: each op once, with its nodes. */
export function describeUnsupported(nodes: readonly UnsupportedNode[]): string {
  const byOp = new Map<string, string[]>();
  for (const n of nodes) byOp.set(n.op, [...(byOp.get(n.op) ?? []), n.node]);
  return [...byOp.entries()]
    .map(([op, names]) => {
      const shown = names.slice(0, NAMES_PER_OP).map((n) => `"${n}"`).join(", ");
      const more = names.length > NAMES_PER_OP ? ` and ${names.length - NAMES_PER_OP} more` : "";
      return `${op} (${names.length === 1 ? "node" : `${names.length} nodes:`} ${shown}${more})`;
    })
    .join("; ");
}

/**
 * Every unsupported op of a model at once, each with the nodes that use it, so that a user learns
 * the whole list before fixing anything else (a shape, say). `node` and `op` name the first culprit.
 */
export class UnsupportedOpsError extends ConvertError {
  readonly nodes: readonly UnsupportedNode[];
  constructor(nodes: readonly UnsupportedNode[], supported: readonly string[], shapeOps: readonly string[] = []) {
    const ops = new Set(nodes.map((n) => n.op)).size;
    const first = nodes[0] ?? { node: "", op: "" };
    const onConstants = shapeOps.length > 0 ? `; on constants and shapes only: ${shapeOps.join(", ")}` : "";
    const message = `it uses ${ops} op${ops === 1 ? "" : "s"} with no canonical lowering: ${describeUnsupported(nodes)}. Supported ops: ${supported.join(", ")}${onConstants}`;
    super("UNSUPPORTED_OP", first.node, first.op, message, "model");
    this.name = "UnsupportedOpsError";
    this.nodes = nodes;
  }
}
