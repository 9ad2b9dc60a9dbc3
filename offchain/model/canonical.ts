/**
 * Parse and validate a canonical/1 ONNX model into a typed CanonicalModel.
 *
 * Every layer is recognised by its node pattern (docs/SEMANTICS.md); anything else is
 * refused with a ModelError naming the node and op. Validation proves the exactness rule by
 * interval analysis, so a model that parses is one onnxruntime computes exactly.
 */
import { createHash } from "node:crypto";

import { ModelError } from "./errors.js";
import type { LayerKind } from "./layers.js";
import { EXACT_LIMIT, layerKindName } from "./layers.js";
import type { IGraphProto, INodeProto, ITensorProto } from "./onnx.js";
import { DataType, decodeModel, defaultOpset, nodeLabel, valueInfoElemType, valueInfoShape } from "./onnx.js";
import { isGatherFlatten, matchLayer } from "./patterns.js";
import { decimalToWad, WAD } from "./scales.js";
import type { Range } from "./intervals.js";
import { shapeStr } from "./shapes.js";
import type { CanonicalLayer, CanonicalModel, ParseContext } from "./types.js";
import { layerLabel } from "./types.js";

export type { CanonicalLayer, CanonicalModel, ConstTensor, ParseContext, TracedTensor } from "./types.js";
export { layerLabel } from "./types.js";

export const FORMAT_KEY = "veritensor.format";
export const FORMAT_VALUE = "canonical/1";
export const INPUT_RANGE_KEY = "veritensor.input.range";
export const INPUT_SCALE_KEY = "veritensor.input.scale";
export const OUTPUT_SCALE_KEY = "veritensor.output.scale";

export function sha256Hex(bytes: Uint8Array): string {
  return "0x" + createHash("sha256").update(bytes).digest("hex");
}

function parseMetadata(props: { key?: string | null; value?: string | null }[]) {
  const meta = new Map(props.map((p) => [p.key ?? "", p.value ?? ""]));
  const format = meta.get(FORMAT_KEY);
  if (format !== FORMAT_VALUE) {
    throw new ModelError(
      "NOT_CANONICAL",
      `model is not canonical: metadata ${FORMAT_KEY} is ${format === undefined ? "missing" : `"${format}"`}, expected "${FORMAT_VALUE}"`,
    );
  }
  const rangeStr = meta.get(INPUT_RANGE_KEY);
  const parts = (rangeStr ?? "").split(",").map((s) => s.trim());
  const lo = Number(parts[0]);
  const hi = Number(parts[1]);
  if (
    rangeStr === undefined ||
    parts.length !== 2 ||
    parts.some((p) => p === "") ||
    !Number.isInteger(lo) ||
    !Number.isInteger(hi) ||
    lo > hi ||
    Math.abs(lo) >= EXACT_LIMIT ||
    Math.abs(hi) >= EXACT_LIMIT
  ) {
    throw new ModelError(
      "NOT_CANONICAL",
      `metadata ${INPUT_RANGE_KEY} must be "lo,hi" with integers lo <= hi, |lo|,|hi| < 2^24; got ${rangeStr === undefined ? "nothing" : `"${rangeStr}"`}`,
    );
  }
  // The text is kept exactly as the registry's wad (scales.ts), the number for float arithmetic.
  const scale = (key: string): { value: number; wad: bigint } => {
    const s = meta.get(key);
    if (s === undefined) return { value: 1, wad: WAD };
    const value = Number(s);
    const wad = decimalToWad(s);
    if (!Number.isFinite(value) || value <= 0 || wad === undefined) {
      throw new ModelError("NOT_CANONICAL", `metadata ${key} must be a positive decimal number; got "${s}"`);
    }
    return { value, wad };
  };
  const input = scale(INPUT_SCALE_KEY);
  const output = scale(OUTPUT_SCALE_KEY);
  return {
    range: [lo, hi] as Range,
    inputScale: input.value,
    outputScale: output.value,
    inputScaleWad: input.wad,
    outputScaleWad: output.wad,
  };
}

function collectConstants(graph: IGraphProto): Map<string, ITensorProto> {
  const inits = new Map<string, ITensorProto>();
  for (const t of graph.initializer ?? []) inits.set(t.name ?? "", t);
  // Constant nodes are initializers spelled differently; treat them alike.
  (graph.node ?? []).forEach((n) => {
    if (n.opType !== "Constant") return;
    const t = (n.attribute ?? []).find((a) => a.name === "value")?.t;
    const out = n.output?.[0];
    if (!t || !out) {
      throw new ModelError("BAD_PATTERN", `Constant node "${n.name ?? ""}" must carry a tensor "value"`);
    }
    inits.set(out, { ...t, name: out });
  });
  return inits;
}

function parseInput(graph: IGraphProto, inits: ReadonlyMap<string, ITensorProto>) {
  const inputs = (graph.input ?? []).filter((v) => !inits.has(v.name ?? ""));
  if (inputs.length !== 1) {
    throw new ModelError("SHAPE", `a canonical model has exactly one graph input; this one has ${inputs.length}`);
  }
  const v = inputs[0]!;
  const name = v.name ?? "";
  if (valueInfoElemType(v) !== DataType.FLOAT) {
    throw new ModelError("SHAPE", `graph input "${name}" must be float32 (elem type 1); got ${valueInfoElemType(v)}`);
  }
  const shape = valueInfoShape(v);
  if (!shape || shape.some((d) => d === undefined) || shape.length < 2 || shape[0] !== 1) {
    throw new ModelError(
      "SHAPE",
      `graph input "${name}" has unresolvable shape ${shape ? shapeStr(shape) : "(none)"}; a static shape [1, ...] of rank >= 2 is required`,
    );
  }
  return { name, shape: shape as number[] };
}

/** Parse, pattern-match and validate a canonical/1 ONNX file. Throws ModelError. */
export function parseCanonicalModel(bytes: Uint8Array): CanonicalModel {
  const proto = decodeModel(bytes);
  const graph = proto.graph!;
  const opset = defaultOpset(proto);
  const meta = parseMetadata(proto.metadataProps ?? []);
  const inits = collectConstants(graph);
  const input = parseInput(graph, inits);

  const nodes = graph.node ?? [];
  const consumers = new Map<string, number[]>();
  nodes.forEach((n, i) => {
    for (const name of n.input ?? []) {
      if (!name) continue;
      const list = consumers.get(name) ?? [];
      if (!list.includes(i)) list.push(i);
      consumers.set(name, list);
    }
  });
  const outputs = graph.output ?? [];
  if (outputs.length !== 1) {
    throw new ModelError("SHAPE", `a canonical model has exactly one graph output; this one has ${outputs.length}`);
  }
  const ctx: ParseContext = {
    nodes,
    inits,
    consumers,
    graphOutputs: new Set(outputs.map((o) => o.name ?? "")),
    traced: new Map([[input.name, { index: 0, shape: input.shape, range: meta.range }]]),
    used: nodes.map((n) => n.opType === "Constant"),
    nextIndex: 1,
  };

  const layers: CanonicalLayer[] = [];
  for (let i = 0; i < nodes.length; i++) {
    if (ctx.used[i]) continue;
    const node = nodes[i]!;
    if (node.domain && node.domain !== "ai.onnx") {
      throw new ModelError(
        "UNSUPPORTED_OP",
        `unsupported op "${node.opType}" (domain "${node.domain}") at node "${nodeLabel(node, i)}"`,
      );
    }
    // A GATHER's Reshape(t, [-1]) nodes are claimed by its Concat, matched when the parser reaches it.
    if (isGatherFlatten(ctx, i)) continue;
    const layer = matchLayer(ctx, i);
    if (layer.outShape.length < 2 || layer.outShape[0] !== 1) {
      throw new ModelError(
        "SHAPE",
        `${layerLabel(layer.index, layer.kind, layer.name)} has output shape ${shapeStr(layer.outShape)}; canonical tensors have shape [1, ...] of rank >= 2`,
      );
    }
    if (ctx.traced.has(layer.outputName)) {
      throw new ModelError("BAD_PATTERN", `tensor "${layer.outputName}" is produced twice`);
    }
    ctx.traced.set(layer.outputName, { index: layer.index, shape: layer.outShape, range: layer.range });
    layers.push(layer);
    ctx.nextIndex++;
  }
  const left = ctx.used.findIndex((u) => !u);
  if (left >= 0) {
    throw new ModelError("BAD_PATTERN", `node "${nodeLabel(nodes[left]!, left)}" (${nodes[left]!.opType}) belongs to no layer pattern`);
  }
  if (layers.length === 0) throw new ModelError("SHAPE", "a canonical model has at least one layer");
  const last = layers[layers.length - 1]!;
  const outName = outputs[0]!.name ?? "";
  if (outName !== last.outputName) {
    throw new ModelError(
      "SHAPE",
      `the graph output "${outName}" must be the output of the last layer ("${last.outputName}")`,
    );
  }
  return {
    bytes,
    contentHash: sha256Hex(bytes),
    opset,
    inputName: input.name,
    inputShape: input.shape,
    inputRange: meta.range,
    inputScale: meta.inputScale,
    outputScale: meta.outputScale,
    inputScaleWad: meta.inputScaleWad,
    outputScaleWad: meta.outputScaleWad,
    layers,
    outputName: outName,
  };
}

/** Number of elements of a shape. */
export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}
