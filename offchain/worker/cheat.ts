/**
 * A cheating worker's trace, for demos and tests: one element of one layer's output is off, and
 * every later layer is recomputed from the lie with the reference semantics, so the trace is
 * consistent everywhere except at that one node (the dispute must find it there).
 */
import { commitTrace } from "../commitments/trace.js";
import type { Hex } from "../commitments/merkle.js";
import type { CanonicalModel } from "../model/canonical.js";
import { numel } from "../model/canonical.js";
import { evalLayer } from "../runtime/reference.js";
import { VeritensorError } from "../clients/errors.js";

/** Which node lies: trace tensor `layer` (1..L), element `element`, off by `delta`. */
export interface CheatSpec {
  readonly layer: number;
  readonly element: number;
  readonly delta: number;
}

/** What `--cheat` accepts: `random`, `LAYER` (random element) or `LAYER:ELEMENT`. */
export type CheatChoice = { readonly layer?: number; readonly element?: number };

export function parseCheat(text: string): CheatChoice {
  const t = text.trim();
  if (t === "" || t === "random") return {};
  const m = /^(\d+)(?::(\d+))?$/.exec(t);
  if (!m) throw new VeritensorError(`--cheat "${text}": give random, a layer (3) or layer:element (3:17)`);
  return { layer: Number(m[1]), element: m[2] === undefined ? undefined : Number(m[2]) };
}

/** A concrete cheat for `model` from a choice (random parts drawn from `random`). */
export function chooseCheat(model: CanonicalModel, choice: CheatChoice, random: () => number = Math.random): CheatSpec {
  const L = model.layers.length;
  const layer = choice.layer ?? 1 + Math.floor(random() * L);
  if (layer < 1 || layer > L) throw new VeritensorError(`--cheat: layer ${layer} is not one of 1..${L}`);
  const n = numel(model.layers[layer - 1]!.outShape);
  const element = choice.element ?? Math.floor(random() * n);
  if (element >= n) throw new VeritensorError(`--cheat: layer ${layer} has ${n} elements, no element ${element}`);
  return { layer, element, delta: 1 };
}

/** `honest` with the cheat applied and every later layer recomputed from it. */
export function cheatTrace(model: CanonicalModel, honest: readonly Int32Array[], c: CheatSpec): Int32Array[] {
  for (const delta of [c.delta, -c.delta]) {
    const t: Int32Array[] = honest.map((x) => x.slice());
    t[c.layer]![c.element] = t[c.layer]![c.element]! + delta;
    try {
      for (let k = c.layer + 1; k <= model.layers.length; k++) {
        const layer = model.layers[k - 1]!;
        t[k] = evalLayer(layer, layer.inputs.map((i) => t[i]!));
      }
      return t;
    } catch {
      // The lie left a later layer's input range (a LUT); lie the other way.
    }
  }
  throw new VeritensorError(`cannot cheat at layer ${c.layer}, element ${c.element}: both directions leave a later layer's range`);
}

export function traceRootOf(trace: readonly Int32Array[]): Hex {
  return commitTrace(trace).root;
}
