/**
 * Elementwise functions of one tensor, lowered to one LUT layer.
 *
 * A canonical LUT layer maps each integer of its input's range to a table entry, so any real
 * function of one real value is exact to the table's rounding, whatever it computes. The
 * converter uses that twice:
 *  - every unary activation ONNX defines (LeakyRelu, HardSigmoid, HardSwish, Gelu, Erf, Elu, …)
 *    is a LUT of its own;
 *  - a subgraph of elementwise ops that reads one tensor and scalar constants only, and whose
 *    intermediate tensors nobody else reads, is one function of that tensor: the GELU that
 *    PyTorch exports as `x · 0.5 · (1 + Erf(x / √2))`, its tanh form with `Pow(x, 3)`, HardSwish
 *    as `x · Clip(x + 3, 0, 6) / 6`. It becomes one LUT, however many nodes it has, and however
 *    often it multiplies the tensor by a function of itself (which no other canonical layer can).
 * Relu, Clip and Add/Sub/Mul/Div by a constant keep their own lowerings when they stand alone
 * (a clip fused into the layer before, a per-channel ADD or MUL); inside such a subgraph they are
 * part of its function.
 */
import type { INodeProto } from "../model/onnx.js";
import { attrFloat, attrString, isForeign, nodeLabel } from "../model/onnx.js";

/** A real function of one real value, evaluated in float64 to fill a LUT table. */
export interface ElementwiseFn {
  /** The ONNX ops it computes, e.g. `Div+Erf+Add+Mul+Mul`. */
  readonly name: string;
  readonly f: (v: number) => number;
}

/** erf(x) to double precision (JavaScript has none): its Taylor series below 2.5, erfc's continued fraction above. */
export function erf(x: number): number {
  const a = Math.abs(x);
  if (a < 2.5) {
    // erf(x) = 2/√π · Σ (-1)^n x^(2n+1) / (n! (2n+1))
    let term = a;
    let sum = a;
    for (let n = 1; n < 80; n++) {
      term *= (-a * a) / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum;
  }
  if (a > 6) return Math.sign(x);
  // erfc(a) = exp(-a²)/√π · 1/(a + 1/2/(a + 1/(a + 3/2/(a + …)))), by Lentz's method.
  const tiny = 1e-300;
  let f = a;
  let C = a;
  let D = 0;
  for (let n = 1; n < 200; n++) {
    const an = n / 2;
    D = a + an * D;
    D = Math.abs(D) < tiny ? tiny : D;
    C = a + an / C;
    C = Math.abs(C) < tiny ? tiny : C;
    D = 1 / D;
    const delta = C * D;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  const erfc = Math.exp(-a * a) / Math.sqrt(Math.PI) / f;
  return Math.sign(x) * (1 - erfc);
}

const geluErf = (v: number): number => 0.5 * v * (1 + erf(v / Math.SQRT2));
const geluTanh = (v: number): number => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v)));

/** Unary ops that only a LUT can lower, by their ONNX definition (attribute defaults included). */
const LUT_OPS: Readonly<Record<string, (n: INodeProto) => (v: number) => number>> = {
  Sigmoid: () => (v) => 1 / (1 + Math.exp(-v)),
  Tanh: () => Math.tanh,
  Erf: () => erf,
  Gelu: (n) => {
    const approximate = attrString(n, "approximate") ?? "none";
    if (approximate !== "none" && approximate !== "tanh") throw new ElementwiseError(`approximate "${approximate}" (ONNX defines "none" and "tanh")`);
    return approximate === "tanh" ? geluTanh : geluErf;
  },
  LeakyRelu: (n) => {
    const alpha = attrFloat(n, "alpha", 0.01);
    return (v) => (v >= 0 ? v : alpha * v);
  },
  HardSigmoid: (n) => {
    const alpha = attrFloat(n, "alpha", 0.2);
    const beta = attrFloat(n, "beta", 0.5);
    return (v) => Math.max(0, Math.min(1, alpha * v + beta));
  },
  HardSwish: () => (v) => v * Math.max(0, Math.min(1, v / 6 + 0.5)),
  Elu: (n) => {
    const alpha = attrFloat(n, "alpha", 1);
    return (v) => (v > 0 ? v : alpha * Math.expm1(v));
  },
  Selu: (n) => {
    const alpha = attrFloat(n, "alpha", 1.67326319217681884765625);
    const gamma = attrFloat(n, "gamma", 1.05070102214813232421875);
    return (v) => (v > 0 ? gamma * v : gamma * alpha * Math.expm1(v));
  },
  Softplus: () => (v) => Math.max(v, 0) + Math.log1p(Math.exp(-Math.abs(v))),
  Softsign: () => (v) => v / (1 + Math.abs(v)),
  Exp: () => Math.exp,
  Log: () => Math.log,
  Neg: () => (v) => -v,
  Abs: () => Math.abs,
  Sqrt: () => Math.sqrt,
  Reciprocal: () => (v) => 1 / v,
};

/** The unary ops lowered to a LUT (each alone, or inside a fused subgraph). */
export const LUT_OP_NAMES: readonly string[] = [...Object.keys(LUT_OPS), "Pow"];

/** The attributes each of them takes (any other is refused by name). */
export const LUT_OP_ATTRS: Readonly<Record<string, readonly string[]>> = {
  LeakyRelu: ["alpha"],
  HardSigmoid: ["alpha", "beta"],
  Elu: ["alpha"],
  Selu: ["alpha", "gamma"],
  Gelu: ["approximate"],
};

/** Ops with cheaper lowerings of their own, fused only inside a subgraph that needs a LUT anyway. */
const CHEAP_OPS = new Set(["Relu", "Clip", "Add", "Sub", "Mul", "Div"]);
const BINARY_OPS = new Set(["Add", "Sub", "Mul", "Div", "Pow"]);

/** The scalar value of a constant tensor (undefined when `name` is no constant, or not a scalar). */
export type ScalarOf = (name: string) => number | undefined;

/** Why one node's function cannot be built; `node` is its index in the graph when known. */
export class ElementwiseError extends Error {
  constructor(
    message: string,
    readonly node?: number,
  ) {
    super(message);
  }
}

/** The attributes a fusable op may carry (any other is refused by name). */
export function attributesOf(op: string, opset: number): readonly string[] {
  return LUT_OP_ATTRS[op] ?? (op === "Clip" && opset < 11 ? ["min", "max"] : []);
}

/** The function of a unary LUT op standing alone; `exponent` is Pow's constant exponent. */
export function unaryFunction(n: INodeProto, scalar: ScalarOf): (v: number) => number {
  const op = n.opType ?? "";
  if (op === "Pow") {
    const e = scalar((n.input ?? [])[1] ?? "");
    if (e === undefined) throw new ElementwiseError("the exponent must be a scalar constant");
    return (v) => Math.pow(v, e);
  }
  const make = LUT_OPS[op];
  if (!make) throw new ElementwiseError(`op "${op}" is not an elementwise function`);
  return make(n);
}

/** One fused subgraph: a function of `root` computed by `nodes`, read outside only as `output`. */
export interface ElementwiseGroup {
  readonly root: string;
  readonly output: string;
  /** Indices into the graph's node list, in graph order. */
  readonly nodes: readonly number[];
  readonly fn: ElementwiseFn;
}

type Operand = { readonly tensor: string } | { readonly value: number };

/** The operands of a fusable node (undefined when it is not one: a per-channel constant, say). */
function operands(n: INodeProto, scalar: ScalarOf, opset: number): Operand[] | undefined {
  const op = n.opType ?? "";
  if (isForeign(n)) return undefined;
  if ((n.output ?? []).filter((o) => o).length !== 1) return undefined;
  const ins = (n.input ?? []).filter((i, k, all) => i !== "" || k < all.length - 1);
  if (op === "Clip") {
    if (opset < 11) return ins.length === 1 ? [{ tensor: ins[0]! }] : undefined;
    // min and max are optional scalar constants ("" when left out).
    const bounds = ins.slice(1).filter((b) => b !== "");
    if (bounds.some((b) => scalar(b) === undefined)) return undefined;
    return [{ tensor: ins[0]! }];
  }
  if (op === "Pow") {
    const e = scalar(ins[1] ?? "");
    return e === undefined ? undefined : [{ tensor: ins[0]! }];
  }
  if (BINARY_OPS.has(op)) {
    if (ins.length !== 2) return undefined;
    return ins.map((i) => {
      const s = scalar(i);
      return s === undefined ? { tensor: i } : { value: s };
    });
  }
  if (op === "Relu" || LUT_OPS[op]) return ins.length === 1 ? [{ tensor: ins[0]! }] : undefined;
  return undefined;
}

/** One node's float64 semantics on its operands' values. */
function stepFunction(n: INodeProto, scalar: ScalarOf, opset: number): (a: number, b: number) => number {
  const op = n.opType ?? "";
  switch (op) {
    case "Add": return (a, b) => a + b;
    case "Sub": return (a, b) => a - b;
    case "Mul": return (a, b) => a * b;
    case "Div": return (a, b) => a / b;
    case "Relu": return (a) => Math.max(a, 0);
    case "Clip": {
      const ins = n.input ?? [];
      const lo = opset < 11 ? attrFloat(n, "min", -Infinity) : ins[1] ? scalar(ins[1])! : -Infinity;
      const hi = opset < 11 ? attrFloat(n, "max", Infinity) : ins[2] ? scalar(ins[2])! : Infinity;
      return (a) => Math.min(Math.max(a, lo), hi);
    }
    default: {
      const f = unaryFunction(n, scalar);
      return (a) => f(a);
    }
  }
}

/**
 * The subgraphs to fuse into one LUT each: elementwise nodes that read, through each other, one
 * tensor (the root) and scalar constants only, with one tensor read outside them, and that need a
 * LUT anyway (an op only a LUT lowers, or a product of the root with a function of itself).
 * Subgraphs that fail a condition are left to the nodes' own lowerings.
 */
export function elementwiseGroups(nodes: readonly INodeProto[], scalar: ScalarOf, opset: number, graphOutputs: ReadonlySet<string>): ElementwiseGroup[] {
  const rootOf = new Map<string, string>();
  const members = new Map<string, number[]>();
  nodes.forEach((n, i) => {
    const ops = operands(n, scalar, opset);
    if (!ops) return;
    const roots = new Set(ops.flatMap((o) => ("tensor" in o ? [rootOf.get(o.tensor) ?? o.tensor] : [])));
    if (roots.size !== 1) return;
    const root = [...roots][0]!;
    rootOf.set((n.output ?? []).find((o) => o)!, root);
    members.set(root, [...(members.get(root) ?? []), i]);
  });

  const readers = new Map<string, Set<number>>();
  nodes.forEach((n, i) => (n.input ?? []).forEach((t) => readers.set(t, (readers.get(t) ?? new Set()).add(i))));
  const groups: ElementwiseGroup[] = [];
  for (const [root, idx] of members) {
    const inGroup = new Set(idx);
    const outOf = (i: number): string => (nodes[i]!.output ?? []).find((o) => o)!;
    const escaping = idx.filter((i) => graphOutputs.has(outOf(i)) || [...(readers.get(outOf(i)) ?? [])].some((r) => !inGroup.has(r)));
    if (escaping.length !== 1) continue;
    const output = outOf(escaping[0]!);
    // Only what the output needs (a member nobody reads would be dead code: leave it alone).
    const needed = new Set<number>();
    const visit = (i: number): void => {
      if (needed.has(i)) return;
      needed.add(i);
      for (const t of nodes[i]!.input ?? []) for (const j of idx) if (outOf(j) === t) visit(j);
    };
    visit(escaping[0]!);
    if (needed.size !== idx.length) continue;
    const needsLut = idx.some((i) => {
      const n = nodes[i]!;
      const tensors = (operands(n, scalar, opset) ?? []).filter((o) => "tensor" in o).length;
      return !CHEAP_OPS.has(n.opType ?? "") || tensors === 2;
    });
    if (!needsLut) continue;
    groups.push({ root, output, nodes: idx, fn: compile(nodes, idx, root, output, scalar, opset) });
  }
  return groups;
}

/** The subgraph as one function: each node once, in graph order, on float64 values. */
function compile(nodes: readonly INodeProto[], idx: readonly number[], root: string, output: string, scalar: ScalarOf, opset: number): ElementwiseFn {
  const slot = new Map<string, number>([[root, 0]]);
  const steps = idx.map((i) => {
    const n = nodes[i]!;
    const ops = operands(n, scalar, opset)!;
    const read = ops.map((o) => ("tensor" in o ? { slot: slot.get(o.tensor)! } : { value: o.value }));
    slot.set((n.output ?? []).find((o) => o)!, slot.size);
    try {
      return { f: stepFunction(n, scalar, opset), read };
    } catch (e) {
      throw e instanceof ElementwiseError ? new ElementwiseError(e.message, i) : e;
    }
  });
  const out = slot.get(output)!;
  const values = new Float64Array(slot.size);
  const arg = (r: { slot: number } | { value: number }): number => ("slot" in r ? values[r.slot]! : r.value);
  return {
    name: idx.map((i) => nodes[i]!.opType ?? "?").join("+"),
    f: (v) => {
      values[0] = v;
      steps.forEach((s, k) => (values[k + 1] = s.f(arg(s.read[0]!), s.read[1] === undefined ? NaN : arg(s.read[1]))));
      return values[out]!;
    },
  };
}

/** The label of the node that computes a group's output (its LUT layer is named after it). */
export function groupLabel(nodes: readonly INodeProto[], g: ElementwiseGroup): string {
  const i = g.nodes[g.nodes.length - 1]!;
  return nodeLabel(nodes[i]!, i);
}

/**
 * Largest slope of `f` on [a, b], from `samples` secants, with 1% to spare: the LUT's error
 * bound multiplies its input's error by it. Exact for piecewise-linear functions, a hair under
 * the true supremum for smooth ones (the margin covers it). Points where `f` is not finite (just
 * outside the table's domain, e.g. Sqrt below 0) are left out.
 */
export function lipschitzOn(f: (v: number) => number, a: number, b: number, samples: number): number {
  if (!(b > a)) return 0;
  const h = (b - a) / samples;
  let worst = 0;
  let prev = f(a);
  for (let k = 1; k <= samples; k++) {
    const y = f(a + h * k);
    if (Number.isFinite(y) && Number.isFinite(prev)) worst = Math.max(worst, Math.abs(y - prev) / h);
    prev = y;
  }
  return worst * 1.01;
}
