/**
 * Float-level simplifications before quantization. Each one removes a canonical layer and
 * its rounding: per-channel Mul/Add (and so BatchNormalization) fold into the preceding
 * DENSE/CONV weights and bias, and Relu/Clip fold into the preceding layer's clip bounds.
 */
import type { Act, IrGraph, IrNode } from "./ir.js";
import { nodeInputs } from "./ir.js";

function consumerCounts(g: IrGraph): Map<string, number> {
  const counts = new Map<string, number>([[g.output, 1]]);
  for (const n of g.nodes) for (const t of nodeInputs(n)) counts.set(t, (counts.get(t) ?? 0) + 1);
  return counts;
}

/** The producer of `t` if `t` feeds exactly one node and is not the graph output. */
function soleProducer(g: IrGraph, counts: Map<string, number>, t: string): IrNode | undefined {
  if (t === g.output || counts.get(t) !== 1) return undefined;
  return g.nodes.find((n) => n.out === t);
}

const hasAct = (a: Act): boolean => a.lo !== -Infinity || a.hi !== Infinity;

/** Fold one node into its producer; returns true when something changed. */
function foldOnce(g: IrGraph): boolean {
  const counts = consumerCounts(g);
  for (let i = 0; i < g.nodes.length; i++) {
    const n = g.nodes[i]!;
    if (n.kind !== "mulc" && n.kind !== "addc" && n.kind !== "clamp") continue;
    const p = soleProducer(g, counts, n.x);
    if (!p) continue;
    if (n.kind === "clamp") {
      if (p.kind === "clamp" || p.kind === "maxpool" || p.kind === "reshape") continue;
      const lo = Math.max(p.act.lo, n.act.lo);
      const hi = Math.min(p.act.hi, n.act.hi);
      if (lo > hi) continue; // disjoint clips: keep both, the result is a constant anyway
      p.act = { lo, hi };
    } else {
      if ((p.kind !== "dense" && p.kind !== "conv") || hasAct(p.act) || hasAct(n.act)) continue;
      const per = p.kind === "dense" ? p.K : p.W.length / p.M;
      for (let m = 0; m < p.M; m++) {
        if (n.kind === "mulc") {
          for (let k = m * per; k < (m + 1) * per; k++) p.W[k] = p.W[k]! * n.c[m]!;
          p.B[m] = p.B[m]! * n.c[m]!;
        } else p.B[m] = p.B[m]! + n.c[m]!;
      }
    }
    // BatchNormalization arrives as a Mul and an Add from the same ONNX node: name it once.
    if (!(n.op === "BatchNormalization" && p.op.endsWith("+BatchNormalization"))) p.op = `${p.op}+${n.op}`;
    p.out = n.out;
    g.nodes.splice(i, 1);
    return true;
  }
  return false;
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

export function foldGraph(g: IrGraph): IrGraph {
  prune(g);
  while (foldOnce(g));
  return g;
}
