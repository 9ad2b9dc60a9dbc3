/** What `model inspect` shows: layers, shapes, parameter count and commitments of a canonical file. */
import type { CanonicalModel } from "../../model/canonical.js";
import { numel, parseCanonicalModel } from "../../model/canonical.js";
import { LayerKind } from "../../model/layers.js";
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
