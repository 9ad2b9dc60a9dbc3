/**
 * What `model inspect` shows: for a canonical file its layers, shapes, parameter count and
 * commitments; for an ordinary (float) ONNX file what it is, which of its ops the converter takes,
 * and the command that converts it.
 */
import type { UnsupportedNode } from "../../convert/errors.js";
import { unsupportedNodes } from "../../convert/load.js";
import type { CanonicalModel } from "../../model/canonical.js";
import { FORMAT_KEY, numel, parseCanonicalModel } from "../../model/canonical.js";
import { LayerKind } from "../../model/layers.js";
import type { IValueInfoProto } from "../../model/onnx.js";
import { decodeModel, opLabel, toNumber } from "../../model/onnx.js";
import { commitGraph } from "../../commitments/graph.js";

export interface LayerSummary {
  readonly index: number;
  readonly kind: string;
  readonly name: string;
  readonly inputs: readonly number[];
  readonly outShape: readonly number[];
  readonly parameters: number;
  readonly range: readonly [number, number];
}

export interface ModelSummary {
  readonly model: CanonicalModel;
  readonly contentHash: string;
  readonly graphCommitment: string;
  readonly parameters: number;
  readonly layers: readonly LayerSummary[];
}

const kindName = new Map<number, string>(Object.entries(LayerKind).map(([name, value]) => [value as number, name]));

/** Parses and validates `bytes` (throws ModelError naming what is wrong) and summarizes it. */
export function inspectModel(bytes: Uint8Array): ModelSummary {
  const model = parseCanonicalModel(bytes);
  const layers = model.layers.map((l) => ({
    index: l.index,
    kind: kindName.get(l.kind) ?? String(l.kind),
    name: l.name,
    inputs: l.inputs,
    outShape: l.outShape,
    parameters: l.constants.reduce((sum, c) => sum + numel(c.shape), 0),
    range: l.range,
  }));
  return {
    model,
    contentHash: model.contentHash,
    graphCommitment: commitGraph(model).root,
    parameters: layers.reduce((sum, l) => sum + l.parameters, 0),
    layers,
  };
}

/** One graph input or output of a float model: symbolic dimensions by name, unknown ones as "?". */
export interface TensorInfo {
  readonly name: string;
  readonly shape: readonly (number | string)[] | undefined;
  readonly type: string;
}

export interface FloatModelSummary {
  /** The default-domain opset the file imports (undefined when it imports none). */
  readonly opset: number | undefined;
  readonly producer: string;
  /** Graph inputs that are not initializers. */
  readonly inputs: readonly TensorInfo[];
  readonly outputs: readonly TensorInfo[];
  readonly nodes: number;
  /** Each op and how many nodes use it, most used first. */
  readonly ops: readonly (readonly [string, number])[];
  /** Nodes whose op the converter cannot lower, in graph order. */
  readonly unsupported: readonly UnsupportedNode[];
}

const ELEM_TYPES: Readonly<Record<number, string>> = {
  1: "float32", 2: "uint8", 3: "int8", 5: "int16", 6: "int32", 7: "int64", 9: "bool", 10: "float16", 11: "float64", 16: "bfloat16",
};

function tensorInfo(v: IValueInfoProto): TensorInfo {
  const t = v.type?.tensorType;
  const dims = t?.shape?.dim;
  return {
    name: v.name ?? "",
    shape: dims?.map((d) => (d.dimParam ? d.dimParam : toNumber(d.dimValue) > 0 ? toNumber(d.dimValue) : "?")),
    type: ELEM_TYPES[t?.elemType ?? 0] ?? `type ${t?.elemType ?? "?"}`,
  };
}

/** Whether an ONNX file declares itself canonical (its metadata names the format). */
export function isCanonicalFile(bytes: Uint8Array): boolean {
  return (decodeModel(bytes).metadataProps ?? []).some((p) => p.key === FORMAT_KEY);
}

/** What an ordinary ONNX file holds, as far as converting it goes. Throws ModelError if it is not ONNX. */
export function inspectFloatModel(bytes: Uint8Array): FloatModelSummary {
  const proto = decodeModel(bytes);
  const graph = proto.graph!;
  const initializers = new Set((graph.initializer ?? []).map((t) => t.name ?? ""));
  const counts = new Map<string, number>();
  for (const n of graph.node ?? []) {
    const op = opLabel(n);
    counts.set(op, (counts.get(op) ?? 0) + 1);
  }
  const imp = (proto.opsetImport ?? []).find((o) => !o.domain || o.domain === "ai.onnx");
  return {
    opset: imp ? toNumber(imp.version) : undefined,
    producer: [proto.producerName, proto.producerVersion].filter((x) => x).join(" "),
    inputs: (graph.input ?? []).filter((i) => !initializers.has(i.name ?? "")).map(tensorInfo),
    outputs: (graph.output ?? []).map(tensorInfo),
    nodes: graph.node?.length ?? 0,
    ops: [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])),
    unsupported: unsupportedNodes(graph.node ?? [], initializers),
  };
}
