/**
 * A cheating worker's trace, for demos and tests: one element of one layer's output is off, and
 * every later layer is recomputed from the lie with the reference semantics, so the trace is
 * consistent everywhere except at that one node (the dispute must find it there). The lie must
 * reach the output: a correct output is a correct result, whatever the trace behind it, so a lie
 * the later layers absorb (a small change floored away by a requantization, a non-maximum in a
 * pool) is no cheat at all. The lie grows (×1, ×16, ×256, ×4096, each way) until it does.
 */
import { commitTrace } from "../commitments/trace.js";
import type { Hex } from "../commitments/merkle.js";
import type { CanonicalModel } from "../model/canonical.js";
import { numel } from "../model/canonical.js";
import { evalLayer } from "./reference.js";
import { VeritensorError } from "../clients/errors.js";

/**
 * Which node lies: trace tensor `layer` (1..L), element `element`, off by `delta`; in a batch job,
 * only in the trace of item `item` (0 when absent): the other items are answered honestly.
 */
export interface CheatSpec {
  readonly layer: number;
  readonly element: number;
  readonly delta: number;
  readonly item?: number;
}

/**
 * What `--cheat` says, on every task: `random`, or `LAYER[:ELEMENT[:DELTA]]`, either followed by
 * `@ITEM` to lie in one item of a batch job; a missing part is chosen at random by the nodes
 * ({@link chooseCheat}); by hand every part but DELTA must be given ({@link exactCheat}), so that
 * `job submit` and `dispute move` build the same lie.
 */
export type CheatChoice = { readonly layer?: number; readonly element?: number; readonly delta?: number; readonly item?: number };

/** The one grammar of `--cheat`: `random` or `LAYER[:ELEMENT[:DELTA]]` (DELTA default +1), then `@ITEM` or nothing. */
export function parseCheat(text: string, option = "--cheat"): CheatChoice {
  const [what, at, ...rest] = text.trim().split("@");
  const item = at === undefined ? {} : { item: parseItem(at, text, option) };
  if (rest.length > 0) throw new VeritensorError(`${option} "${text}" names more than one item`);
  const t = what!.trim();
  if (t === "random") return item;
  const m = /^(\d+)(?::(\d+))?(?::(-?\d+))?$/.exec(t);
  if (!m) throw new VeritensorError(`${option} "${text}" is not random or LAYER[:ELEMENT[:DELTA]], with @ITEM or not (examples: random, 6, 4:100, 6:3:-5, 4:100@2)`);
  const layer = Number(m[1]);
  if (layer < 1) throw new VeritensorError(`${option}: layers are numbered from 1 (0 is the input)`);
  const delta = m[3] === undefined ? undefined : Number(m[3]);
  if (delta === 0) throw new VeritensorError(`${option}: a delta of 0 changes nothing`);
  return { layer, ...(m[2] === undefined ? {} : { element: Number(m[2]) }), ...(delta === undefined ? {} : { delta }), ...item };
}

/** The item after `@` in a `--cheat`: a batch item, numbered from 0. */
function parseItem(text: string, whole: string, option: string): number {
  if (!/^\d+$/.test(text.trim())) throw new VeritensorError(`${option} "${whole}": the item after @ is a batch item number (0, 1, …)`);
  return Number(text.trim());
}

/** The cheat of a by-hand task: layer and element given (DELTA defaults to +1). */
export function exactCheat(c: CheatChoice, option = "--cheat"): CheatSpec {
  if (c.layer === undefined || c.element === undefined) {
    throw new VeritensorError(
      `${option}: by hand, give LAYER:ELEMENT[:DELTA] (for example 4:100), the same to \`job submit\` and \`dispute move\`, so that both build the same lie`,
    );
  }
  return { layer: c.layer, element: c.element, delta: c.delta ?? 1, ...(c.item === undefined ? {} : { item: c.item }) };
}

export function formatCheat(c: CheatSpec): string {
  const item = c.item === undefined ? "" : `item ${c.item}, `;
  return `${item}layer ${c.layer}, element ${c.element} off by ${c.delta > 0 ? "+" : ""}${c.delta}`;
}

/**
 * A concrete cheat for `model` from a choice (random parts drawn from `random`). For a batch of
 * `items` inputs the lie sits in one item: the chosen one, or one drawn at random.
 */
export function chooseCheat(model: CanonicalModel, choice: CheatChoice, random: () => number = Math.random, items = 1): CheatSpec {
  const L = model.layers.length;
  const layer = choice.layer ?? 1 + Math.floor(random() * L);
  if (layer < 1 || layer > L) throw new VeritensorError(`--cheat: layer ${layer} is not one of 1..${L}`);
  const n = numel(model.layers[layer - 1]!.outShape);
  const element = choice.element ?? Math.floor(random() * n);
  if (element >= n) throw new VeritensorError(`--cheat: layer ${layer} has ${n} elements, no element ${element}`);
  const spec = { layer, element, delta: choice.delta ?? 1 };
  if (choice.item === undefined && items === 1) return spec;
  const item = choice.item ?? Math.floor(random() * items);
  if (item >= items) throw new VeritensorError(`--cheat: the job has ${items} item(s), no item ${item}`);
  return { ...spec, item };
}

/** The cheat of item `item` of a batch: `cheat` without its item when it lies there, else none. */
export function cheatOfItem(cheat: CheatSpec | undefined, item: number): CheatSpec | undefined {
  if (cheat === undefined || (cheat.item ?? 0) !== item) return undefined;
  return { layer: cheat.layer, element: cheat.element, delta: cheat.delta };
}

/** Factors the lie is scaled by, in order, until it changes the output. */
const ESCALATION = [1, -1, 16, -16, 256, -256, 4096, -4096];

/**
 * `honest` with the cheat applied and every later layer recomputed from it; its output differs
 * from the honest one (deterministic: the same cheat always gives the same trace). `exact` (the
 * manual `--cheat LAYER:ELEMENT:DELTA`) lies by exactly `delta` or fails saying why.
 */
export function cheatTrace(model: CanonicalModel, honest: readonly Int32Array[], c: CheatSpec, o: { exact?: boolean } = {}): Int32Array[] {
  const L = model.layers.length;
  if (c.layer < 1 || c.layer > L) throw new VeritensorError(`--cheat: the model has layers 1..${L}, there is no layer ${c.layer}`);
  const numel = honest[c.layer]!.length;
  if (c.element < 0 || c.element >= numel) {
    throw new VeritensorError(`--cheat: layer ${c.layer} has ${numel} elements, there is no element ${c.element}`);
  }
  let outOfRange = 0;
  const factors = o.exact ? [1] : ESCALATION;
  for (const factor of factors) {
    const t: Int32Array[] = honest.map((x) => x.slice());
    t[c.layer]![c.element] = t[c.layer]![c.element]! + c.delta * factor;
    try {
      for (let k = c.layer + 1; k <= L; k++) {
        const layer = model.layers[k - 1]!;
        t[k] = evalLayer(layer, layer.inputs.map((i) => t[i]!));
      }
    } catch (e) {
      // The lie left a later layer's input range (a LUT); try the next size or direction.
      if (o.exact) throw new VeritensorError(`cannot cheat at layer ${c.layer}, element ${c.element} by ${c.delta}: ${(e as Error).message}`);
      outOfRange++;
      continue;
    }
    if (!sameTensor(t[L]!, honest[L]!)) return t;
  }
  if (o.exact) {
    throw new VeritensorError(
      `a lie of ${c.delta} at layer ${c.layer}, element ${c.element} does not reach the output (the later layers absorb it), ` +
        `so the result would still be correct and nobody could dispute it: try a larger DELTA or another element`,
    );
  }
  const why =
    outOfRange === factors.length
      ? "every lie tried there leaves a later layer's input range"
      : outOfRange > 0
        ? "the later layers absorb every lie tried there, or it leaves a later layer's input range"
        : "the later layers absorb every lie tried there (the output stays correct)";
  throw new VeritensorError(`cannot cheat at layer ${c.layer}, element ${c.element}: ${why}; choose another element`);
}

function sameTensor(a: Int32Array, b: Int32Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function traceRootOf(trace: readonly Int32Array[]): Hex {
  return commitTrace(trace).root;
}
