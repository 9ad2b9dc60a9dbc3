/**
 * Float-level simplifications before quantization. Each one removes a canonical layer and
 * its rounding:
 * - per-channel Mul/Add (and so BatchNormalization) fold into the preceding DENSE/CONV weights and
 *   bias, a bias or scale over the last axis (MatMul + Add) into the preceding DENSE, and LayerNorm's
 *   γ and β into the DENSEs that read the normalized tensor (through a GATHER that keeps the last axis,
 *   such as the class token's x[:, 0]);
 * - Relu/Clip fold into the preceding layer's clip bounds, a positive scalar Mul into a MATMUL or
 *   PRODUCT next to it (attention's dh^-0.5);
 * - a LUT of a LUT is one LUT (1/√ of LayerNorm's decomposed form), GATHERs and RESHAPEs in a row are
 *   one GATHER (reshape → transpose → reshape of attention heads, concat of a transposed tensor), a
 *   RESHAPE before a LUT (or a clip, or a MUL or ADD of one constant) moves after it to join them;
 * - softmax(x) · v becomes (exp · v) · (1/Σ exp): the normalization moves after the MATMUL, where
 *   its PRODUCT's rounding falls on the wider result instead of each probability.
 * What remains of elementwise constants becomes CONST + ADD / PRODUCT (`lowerConstants`).
 */
import type { Act, GatherNode, IrGraph, IrNode } from "./ir.js";
import { NO_ACT, nodeInputs, numel, renameInput } from "./ir.js";

function consumers(g: IrGraph): Map<string, IrNode[]> {
  const readers = new Map<string, IrNode[]>();
  for (const n of g.nodes) for (const t of new Set(nodeInputs(n))) readers.set(t, [...(readers.get(t) ?? []), n]);
  return readers;
}

/** ONNX ops lowered to several IR nodes: when they fold into each other, the op is named once. */
const MULTI_LAYER_OPS = new Set(["BatchNormalization", "Softmax", "LogSoftmax", "LayerNormalization"]);

const hasAct = (a: Act): boolean => a.lo !== -Infinity || a.hi !== Infinity;
const actOf = (n: IrNode): Act => ("act" in n ? n.act : NO_ACT);
const uniform = (c: Float64Array): boolean => c.every((v) => v === c[0]);

/** c[e] depends on e only through e mod D (a constant over the last axis, broadcast over the rows). */
function periodic(c: Float64Array, D: number): boolean {
  for (let e = D; e < c.length; e++) if (c[e] !== c[e % D]) return false;
  return true;
}

/** The gather keeps the last axis D: output element e reads input element with the same e mod D, never the 0. */
function keepsLastAxis(n: GatherNode, D: number, inputSize: number): boolean {
  if (n.xs.length !== 1 || n.outShape[n.outShape.length - 1] !== D || inputSize % D !== 0) return false;
  return n.idx.every((i, e) => i < inputSize && i % D === e % D);
}

const setOutShape = (n: IrNode, shape: readonly number[]): void => {
  (n as { outShape: readonly number[] }).outShape = [...shape];
};

class Folder {
  readers!: Map<string, IrNode[]>;
  producer!: Map<string, IrNode>;

  constructor(readonly g: IrGraph) {}

  refresh(): void {
    this.readers = consumers(this.g);
    this.producer = new Map(this.g.nodes.map((n) => [n.out, n]));
  }

  /** The producer of `t` if `t` feeds exactly one node and is not the graph output. */
  sole(t: string): IrNode | undefined {
    if (t === this.g.output || (this.readers.get(t) ?? []).length !== 1) return undefined;
    return this.producer.get(t);
  }

  remove(n: IrNode): void {
    this.g.nodes.splice(this.g.nodes.indexOf(n), 1);
  }

  /** Node `n` disappears into its producer `p`, which takes over its output. */
  absorb(p: IrNode, n: IrNode): void {
    // BatchNormalization arrives as a Mul and an Add from the same ONNX node: name it once.
    // So is any op lowered to several nodes (a Softmax is one op, however many layers it has).
    if (!(MULTI_LAYER_OPS.has(n.op) && p.op.split("+").includes(n.op))) p.op = `${p.op}+${n.op}`;
    p.out = n.out;
    this.remove(n);
  }

  once(): boolean {
    this.refresh();
    for (const n of [...this.g.nodes]) if (this.intoProducer(n) || this.forward(n) || this.movement(n) || this.deferSoftmax(n)) return true;
    return false;
  }

  /** Clamps, per-channel and last-axis constants, scalar gains and LUTs into the layer before. */
  intoProducer(n: IrNode): boolean {
    if (n.kind !== "mulc" && n.kind !== "addc" && n.kind !== "clamp" && n.kind !== "elemc" && n.kind !== "lut") return false;
    const p = this.sole(n.x);
    if (!p) return false;
    if (n.kind === "clamp") {
      if (!("act" in p) || p.kind === "clamp") return false;
      const lo = Math.max(p.act.lo, n.act.lo);
      const hi = Math.min(p.act.hi, n.act.hi);
      if (lo > hi) return false; // disjoint clips: keep both, the result is a constant anyway
      p.act = { lo, hi };
      this.absorb(p, n);
      return true;
    }
    if (n.kind === "lut") {
      if ((p.kind === "addc" || p.kind === "mulc") && uniform(p.c) && !hasAct(p.act)) {
        // A scalar Add or Mul before a LUT is part of its function.
        const f = n.fn.f;
        const c = p.c[0]!;
        const add = p.kind === "addc";
        (n as { fn: typeof n.fn }).fn = { name: `${p.op}+${n.fn.name}`, f: (v) => f(add ? v + c : v * c) };
        n.x = p.x;
        if (!n.op.split("+").includes(p.op)) n.op = `${p.op}+${n.op}`;
        this.remove(p);
        return true;
      }
      if (p.kind !== "lut") return false;
      const f = p.fn.f;
      const h = n.fn.f;
      const [pa, na] = [p.act, n.act];
      const clamp = (v: number, a: Act): number => Math.min(Math.max(v, a.lo), a.hi);
      (p as { fn: typeof p.fn }).fn = { name: `${p.fn.name}+${n.fn.name}`, f: (v) => h(clamp(f(v), pa)) };
      p.act = na;
      this.absorb(p, n);
      return true;
    }
    if (hasAct(n.act) || !("act" in p) || hasAct(p.act)) return false;
    if (n.kind === "mulc" && (p.kind === "matmul" || p.kind === "prod") && uniform(n.c) && n.c[0]! > 0) {
      p.gain *= n.c[0]!;
      this.absorb(p, n);
      return true;
    }
    if (p.kind !== "dense" && p.kind !== "conv") return false;
    // A per-channel constant is per unit only where the units are the channels ([1, M], CONV).
    let c: Float64Array;
    if (n.kind === "elemc") {
      if (p.kind !== "dense" || !periodic(n.c, p.M)) return false;
      c = n.c.subarray(0, p.M);
    } else {
      if (p.kind === "dense" && p.outShape.length > 2 && !uniform(n.c)) return false;
      c = p.kind === "dense" && p.outShape.length > 2 ? new Float64Array(p.M).fill(n.c[0]!) : n.c;
    }
    const mul = n.kind === "mulc" || (n.kind === "elemc" && n.mode === "mul");
    const per = p.kind === "dense" ? p.K : p.W.length / p.M;
    for (let m = 0; m < p.M; m++) {
      if (mul) {
        for (let k = m * per; k < (m + 1) * per; k++) p.W[k] = p.W[k]! * c[m]!;
        p.B[m] = p.B[m]! * c[m]!;
      } else p.B[m] = p.B[m]! + c[m]!;
    }
    this.absorb(p, n);
    return true;
  }

  /**
   * A constant over the last axis into the DENSEs that read its result (LayerNorm's γ and β: W·(x·γ + β)
   * = (W·diag γ)·x + W·β), or moved past a GATHER that keeps the last axis to get there; so does a scalar
   * MUL or ADD, and a per-channel one on [1, K]; a positive scalar MUL into the MATMUL or PRODUCT that
   * reads it.
   */
  forward(n: IrNode): boolean {
    if (n.kind !== "elemc" && n.kind !== "mulc") return false;
    if (hasAct(n.act) || n.out === this.g.output) return false;
    const readers = this.readers.get(n.out) ?? [];
    if (readers.length === 0) return false;
    if (n.kind === "mulc") {
      const r = readers[0]!;
      if (readers.length === 1 && (r.kind === "matmul" || r.kind === "prod") && r.a !== r.b && uniform(n.c) && n.c[0]! > 0) {
        r.gain *= n.c[0]!;
        renameInput(r, n.out, n.x);
        if (!r.op.split("+").includes(n.op)) r.op = `${r.op}+${n.op}`;
        this.remove(n);
        return true;
      }
    }
    const D = n.outShape[n.outShape.length - 1]!;
    // A constant per element of the last axis: the elementwise one when periodic, one value when uniform,
    // the per-channel one when the channels are the last axis ([1, K]).
    let perUnit: Float64Array | undefined;
    if (n.kind === "elemc") perUnit = periodic(n.c, D) ? n.c : undefined;
    else if (uniform(n.c)) perUnit = new Float64Array(D).fill(n.c[0]!);
    else if (n.outShape.length === 2) perUnit = n.c;
    if (!perUnit) return false;
    const mode = n.kind === "elemc" ? n.mode : n.kind === "mulc" ? "mul" : "add";
    if (n.kind !== "elemc") {
      // Only into DENSEs (below): per-channel MUL and ADD have their own layers otherwise.
      if (!readers.every((r) => r.kind === "dense" && r.K === D && r.x === n.out)) return false;
    }
    const g0 = readers[0]!;
    if (n.kind === "elemc" && readers.length === 1 && g0.kind === "gather" && keepsLastAxis(g0, D, n.c.length)) {
      // gather(x ∘ c) = gather(x) ∘ c': the constant moves after the gather, towards the DENSE.
      const pre = `${g0.out}::before_${n.mode}`;
      const moved: IrNode = {
        kind: "elemc", name: n.name, op: n.op, mode: n.mode, out: g0.out, outShape: g0.outShape, x: pre,
        c: Float64Array.from({ length: numel(g0.outShape) }, (_, e) => n.c[e % D]!), act: NO_ACT,
      };
      g0.out = pre;
      g0.xs = [n.x];
      this.g.nodes.splice(this.g.nodes.indexOf(g0) + 1, 0, moved);
      this.remove(n);
      return true;
    }
    if (!readers.every((r) => r.kind === "dense" && r.K === D && r.x === n.out)) return false;
    for (const r of readers) {
      if (r.kind !== "dense") continue;
      for (let m = 0; m < r.M; m++) {
        for (let k = 0; k < D; k++) {
          if (mode === "mul") r.W[m * D + k] = r.W[m * D + k]! * perUnit[k]!;
          else r.B[m] = r.B[m]! + r.W[m * D + k]! * perUnit[k]!;
        }
      }
      r.x = n.x;
      if (!(MULTI_LAYER_OPS.has(n.op) && r.op.split("+").includes(n.op))) r.op = `${n.op}+${r.op}`;
    }
    this.remove(n);
    return true;
  }

  /** GATHERs and RESHAPEs in a row: one GATHER (a RESHAPE is a view: a GATHER reads its input instead). */
  movement(n: IrNode): boolean {
    const elementwise = n.kind === "lut" || n.kind === "clamp" || ((n.kind === "mulc" || n.kind === "addc") && uniform(n.c));
    if (elementwise) {
      // f(reshape(x)) = reshape(f(x)) for a function of each element alone: the view moves on, to merge
      // with a GATHER or RESHAPE after.
      const p = this.sole(n.x);
      if (p?.kind !== "reshape") return false;
      if (n.kind === "mulc" || n.kind === "addc") n.c = new Float64Array(this.shape(p.x)[1]!).fill(n.c[0]!);
      const nodes = this.g.nodes;
      const [pi, ni] = [nodes.indexOf(p), nodes.indexOf(n)];
      const out = n.out;
      n.x = p.x;
      n.out = `${out}::unshaped`;
      setOutShape(n, this.shape(p.x));
      p.x = n.out;
      p.out = out;
      nodes[pi] = n;
      nodes[ni] = p;
      return true;
    }
    if (n.kind === "reshape") {
      const p = this.producer.get(n.x);
      if (p?.kind === "reshape") {
        n.x = p.x;
        return true;
      }
      if (p?.kind === "gather" && this.sole(n.x) === p) {
        setOutShape(p, n.outShape);
        this.absorb(p, n);
        return true;
      }
      return false;
    }
    if (n.kind !== "gather") return false;
    if (n.xs.length === 1 && n.idx.length === numel(this.shape(n.xs[0]!)) && n.idx.every((i, e) => i === e)) {
      // The identity (a Transpose undone by another): a view.
      const view: IrNode = { kind: "reshape", name: n.name, op: n.op, out: n.out, outShape: n.outShape, x: n.xs[0]! };
      this.g.nodes.splice(this.g.nodes.indexOf(n), 1, view);
      return true;
    }
    for (let k = 0; k < n.xs.length; k++) {
      const p = this.producer.get(n.xs[k]!);
      if (p?.kind === "reshape") {
        n.xs[k] = p.x;
        return true;
      }
      if (p?.kind === "gather" && this.sole(n.xs[k]!) === p) {
        this.compose(n, k, p);
        return true;
      }
    }
    return false;
  }

  /** n reads p's output as its input k: read p's inputs instead, through p's table. */
  compose(n: GatherNode, k: number, p: GatherNode): void {
    const sizes = (xs: readonly string[]): number[] => xs.map((t) => numel(this.shape(t)));
    const nSizes = sizes(n.xs);
    const pSizes = sizes(p.xs);
    const xs = [...n.xs.slice(0, k), ...p.xs, ...n.xs.slice(k + 1)];
    const nStart = nSizes.map((_, i) => nSizes.slice(0, i).reduce((a, b) => a + b, 0));
    const pTotal = pSizes.reduce((a, b) => a + b, 0);
    const nTotal = nSizes.reduce((a, b) => a + b, 0);
    const zero = nTotal - nSizes[k]! + pTotal;
    const idx = n.idx.map((i) => {
      if (i === nTotal) return zero;
      if (i < nStart[k]!) return i;
      if (i >= nStart[k]! + nSizes[k]!) return i - nSizes[k]! + pTotal;
      const j = p.idx[i - nStart[k]!]!;
      return j === pTotal ? zero : nStart[k]! + j;
    });
    n.xs = xs;
    n.idx = idx;
    if (!n.op.split("+").includes(p.op)) n.op = `${p.op}+${n.op}`;
    this.remove(p);
  }

  shape(t: string): readonly number[] {
    return t === this.g.input ? this.g.inputShape : this.producer.get(t)!.outShape;
  }

  /**
   * matmul(prod(E, rows(R)), V) = prod(matmul(E, V), rows'(R)), where rows(R) repeats R's element r over
   * row r: softmax's normalization after its product with v.
   */
  deferSoftmax(n: IrNode): boolean {
    if (n.kind !== "matmul") return false;
    const p = this.sole(n.a);
    if (p?.kind !== "prod" || hasAct(p.act) || p.a === p.b) return false;
    const x = this.sole(p.b);
    const K = n.K;
    if (x?.kind !== "gather" || x.xs.length !== 1 || !x.idx.every((i, e) => i === Math.floor(e / K))) return false;
    if (numel(this.shape(x.xs[0]!)) !== numel(p.outShape) / K) return false;
    const at = this.g.nodes.indexOf(n);
    const raw = `${n.out}::unnormalized`;
    const rows = `${n.out}::rows`;
    const M = n.M;
    const mm: IrNode = { ...n, out: raw, a: p.a, gain: n.gain * p.gain, act: NO_ACT };
    const ex: IrNode = { kind: "gather", name: x.name, op: x.op, out: rows, outShape: n.outShape, xs: [x.xs[0]!], idx: Int32Array.from({ length: numel(n.outShape) }, (_, e) => Math.floor(e / M)) };
    const prod: IrNode = { kind: "prod", name: p.name, op: `${p.op}+${n.op}`, out: n.out, outShape: n.outShape, a: raw, b: rows, gain: 1, act: n.act };
    this.g.nodes.splice(at, 1, mm, ex, prod);
    this.remove(p);
    this.remove(x);
    return true;
  }
}

/** Drop nodes the graph output does not depend on (a canonical model ends in its output). */
function prune(g: IrGraph): void {
  const live = new Set([g.output]);
  for (let i = g.nodes.length - 1; i >= 0; i--) {
    const n = g.nodes[i]!;
    if (live.has(n.out)) for (const t of nodeInputs(n)) live.add(t);
  }
  g.nodes = g.nodes.filter((n) => live.has(n.out));
}

/** Elementwise constants that did not fold: a CONST layer and an ADD or PRODUCT. */
export function lowerConstants(g: IrGraph): void {
  g.nodes = g.nodes.flatMap((n): IrNode[] => {
    if (n.kind !== "elemc") return [n];
    const c = `${n.out}::constant`;
    const cn: IrNode = { kind: "const", name: n.name, op: `${n.op} (constant)`, out: c, outShape: n.outShape, values: n.c };
    const base = { name: n.name, op: n.op, out: n.out, outShape: n.outShape, a: n.x, b: c, act: n.act };
    return [cn, n.mode === "add" ? { kind: "add", ...base } : { kind: "prod", ...base, gain: 1 }];
  });
}

export function foldGraph(g: IrGraph): IrGraph {
  prune(g);
  const f = new Folder(g);
  while (f.once()) prune(g);
  lowerConstants(g);
  prune(g);
  return g;
}

/** For tests: the output is computed by its last node (what foldGraph leaves). */
export const lastNode = (g: IrGraph): IrNode | undefined => g.nodes[g.nodes.length - 1];
export { keepsLastAxis, periodic };
