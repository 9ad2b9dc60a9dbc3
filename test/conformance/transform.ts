/**
 * Turns one ONNX node test into batch-1, single-input float models the converter can take,
 * without changing what is tested:
 * - every graph input after the first becomes an initializer holding the test's data (that
 *   is how weights, biases, bounds and shapes appear in real models);
 * - elementwise ops, reductions, axis ops (Softmax, LayerNormalization) and data movement get a leading
 *   unit dimension ("lift": [3,4,5] → [1,3,4,5]); their non-negative axes, perms, pads, repeats and
 *   target shapes are shifted by it (Reshape's target gets a leading 1, which keeps 0 and -1 meaning the
 *   same dims); shape arithmetic inside an expanded test is left alone (liftNodes);
 * - a test with several outputs runs once per output;
 * - per-sample ops (Gemm/MatMul rows, Conv, pooling, BatchNormalization, Flatten with
 *   axis ≥ 1) with batch N > 1 run as N batch-1 cases ("split"), each compared with its
 *   slice of the expected output.
 */
import type { IAttributeProto, IModelProto, INodeProto, ITensorProto } from "../../offchain/model/onnx.js";
import { attrInt, attrInts, encodeModel, floatValueInfo, tensorDims, tensorValues } from "../../offchain/model/onnx.js";
import type { TestTensor } from "./testdata.js";
import { ElemType } from "./testdata.js";

export interface FloatRun {
  label: string;
  model: Uint8Array;
  input: Float32Array;
  expected: Float64Array;
}

const LIFT_OPS = new Set([
  "Relu", "Clip", "Add", "Sub", "Mul", "Div", "Reshape", "Constant", "MatMul",
  // The elementwise functions the converter lowers to a LUT.
  "Sigmoid", "Tanh", "Erf", "Gelu", "LeakyRelu", "HardSigmoid", "HardSwish", "Elu", "Selu", "Softplus", "Softsign", "Exp", "Log", "Neg", "Abs", "Sqrt", "Reciprocal", "Pow",
  // Reductions and the ops with an axis (non-negative axes shifted by the leading unit dimension).
  "ReduceMean", "ReduceSum", "ReduceMax", "Softmax", "LogSoftmax", "LayerNormalization", "Flatten",
  // Data movement: their axes, perms, pads, repeats and target shapes gain the leading unit dimension.
  "Transpose", "Concat", "Slice", "Split", "Gather", "GatherElements", "Expand", "Squeeze", "Unsqueeze", "Tile", "Pad",
  // Shape arithmetic inside expanded tests (on shapes, not lifted).
  "Shape", "Size", "Cast", "ConstantOfShape",
]);

/** An axis of the test's tensor, seen in the lifted one. */
const liftAxis = (a: number): number => (a >= 0 ? a + 1 : a);

function initializer(name: string, t: TestTensor, dims: readonly number[]): ITensorProto {
  if (t.dataType === ElemType.INT64) {
    const b = BigInt64Array.from(t.values, (v) => BigInt(v));
    return { name, dims: [...dims], dataType: ElemType.INT64, rawData: new Uint8Array(b.buffer) };
  }
  const f = Float32Array.from(t.values);
  return { name, dims: [...dims], dataType: ElemType.FLOAT, rawData: new Uint8Array(f.buffer) };
}

/** The test's graph with `nodes` (an expanded test keeps all its nodes), the output `out` of the test's outputs. */
function build(src: IModelProto, nodes: INodeProto[], x: { name: string; dims: number[] }, inits: ITensorProto[], out = 0): Uint8Array {
  const o = src.graph!.output![out]!;
  return encodeModel({
    irVersion: src.irVersion,
    opsetImport: src.opsetImport,
    graph: {
      name: "conformance",
      node: nodes,
      input: [floatValueInfo(x.name, x.dims)],
      output: [{ name: o.name, type: { tensorType: { elemType: ElemType.FLOAT } } }],
      initializer: inits,
    },
  });
}

const setAttr = (n: INodeProto, name: string, value: IAttributeProto): INodeProto => ({
  ...n,
  attribute: [...(n.attribute ?? []).filter((a) => a.name !== name), { ...value, name }],
});
const intAttr = (i: number): IAttributeProto => ({ type: 2, i });
const intsAttr = (ints: number[]): IAttributeProto => ({ type: 7, ints });

/** Default positive axes, which must be given explicitly once shifted. */
const DEFAULT_AXIS: Readonly<Record<string, (opset: number) => number | undefined>> = {
  Split: () => 0, Gather: () => 0, GatherElements: () => 0, Flatten: () => 1, Softmax: (o) => (o < 13 ? 1 : undefined), LogSoftmax: (o) => (o < 13 ? 1 : undefined), LayerNormalization: () => undefined, Concat: () => undefined,
};

/**
 * The test's nodes on the input lifted to [1, ...dims]: every axis, perm, pad, repeat and target shape that
 * refers to a lifted tensor is shifted by the leading unit dimension (constant arguments are rewritten under
 * new names, so that a constant read for two purposes stays right for both); tensors computed from shapes
 * (Shape, Size) and the 2-D view a Flatten makes are not lifted and keep their meaning.
 */
function liftNodes(src: IModelProto, x: TestTensor, xName: string, consts: Map<string, TestTensor>): { nodes: INodeProto[]; extra: Map<string, { t: TestTensor; dims: number[] }> } {
  const opset = Number((src.opsetImport ?? []).find((o) => !o.domain)?.version ?? 13);
  const rank = x.dims.length;
  const lifted = new Set([xName]);
  const extra = new Map<string, { t: TestTensor; dims: number[] }>();
  const rewrite = (name: string, f: (v: number[]) => number[], dims?: (v: number[]) => number[]): string => {
    const t = consts.get(name);
    if (!t) throw new Error(`the harness cannot lift: "${name}" is not a constant`);
    const values = f(Array.from(t.values));
    const nn = `${name}__lifted${extra.size}`;
    extra.set(nn, { t: { ...t, values: Float64Array.from(values) }, dims: dims ? dims(t.dims) : [values.length] });
    return nn;
  };
  const constOf = (values: number[]): string => {
    const nn = `__lift_const${extra.size}`;
    extra.set(nn, { t: { name: nn, dataType: ElemType.INT64, dims: [values.length], values: Float64Array.from(values) }, dims: [values.length] });
    return nn;
  };
  const shiftAll = (v: number[]) => v.map(liftAxis);
  const nodes = (src.graph!.node ?? []).map((n0) => {
    let n = n0;
    const op = n.opType ?? "";
    const ins = [...(n.input ?? [])];
    const onLifted = op === "Concat" ? ins.some((t) => lifted.has(t)) : lifted.has(ins[0] ?? "");
    const liftOut = onLifted && op !== "Flatten" && op !== "Shape" && op !== "Size";
    if (onLifted || (op !== "Shape" && op !== "Size" && ins.some((t) => lifted.has(t)))) {
      if (liftOut || ins.slice(1).some((t) => lifted.has(t))) for (const o of n.output ?? []) lifted.add(o);
    }
    if (!onLifted) return n;
    if (op in DEFAULT_AXIS) {
      const a = (n.attribute ?? []).find((t) => t.name === "axis");
      const given = a ? Number(a.i) : DEFAULT_AXIS[op]!(opset);
      if (given !== undefined && given >= 0) n = setAttr(n, "axis", intAttr(given + 1));
    }
    switch (op) {
      case "Transpose": {
        const perm = attrInts(n, "perm") ?? Array.from({ length: rank }, (_, k) => rank - 1 - k);
        n = setAttr(n, "perm", intsAttr([0, ...perm.map((p) => p + 1)]));
        break;
      }
      case "ReduceMax": case "ReduceMean": case "ReduceSum": {
        const fromInput = op === "ReduceSum" ? opset >= 13 : opset >= 18;
        const all = Array.from({ length: rank }, (_, k) => k + 1);
        if (fromInput) {
          if (ins[1]) ins[1] = rewrite(ins[1], shiftAll);
          else if (attrInt(n, "noop_with_empty_axes", 0) === 0) ins[1] = constOf(all);
        } else {
          const axes = attrInts(n, "axes");
          n = setAttr(n, "axes", intsAttr(axes ? axes.map(liftAxis) : all));
        }
        break;
      }
      case "Slice":
        if (ins[3]) ins[3] = rewrite(ins[3], shiftAll);
        else ins[3] = constOf(Array.from(consts.get(ins[1]!)!.values, (_, k) => k + 1));
        break;
      case "Squeeze": case "Unsqueeze":
        if (opset >= 13 ? ins[1] : attrInts(n, "axes")) {
          if (opset >= 13) ins[1] = rewrite(ins[1]!, shiftAll);
          else n = setAttr(n, "axes", intsAttr(attrInts(n, "axes")!.map(liftAxis)));
        } else if (op === "Squeeze" && ins[0] === xName) {
          const ones = x.dims.flatMap((d, k) => (d === 1 ? [k + 1] : []));
          if (opset >= 13) ins[1] = constOf(ones);
          else n = setAttr(n, "axes", intsAttr(ones));
        }
        break;
      case "Tile": ins[1] = rewrite(ins[1]!, (v) => [1, ...v]); break;
      case "Expand": case "Reshape": ins[1] = rewrite(ins[1]!, (v) => [1, ...v]); break;
      case "Pad":
        if (opset < 11) {
          const p = attrInts(n, "pads") ?? [];
          n = setAttr(n, "pads", intsAttr([0, ...p.slice(0, p.length / 2), 0, ...p.slice(p.length / 2)]));
        } else if (ins[3]) ins[3] = rewrite(ins[3], shiftAll);
        else ins[1] = rewrite(ins[1]!, (p) => [0, ...p.slice(0, p.length / 2), 0, ...p.slice(p.length / 2)]);
        break;
      default:
        // Data operands of the input's rank (a bias, a second matrix, a concatenated tensor) gain the unit dimension.
        for (let k = op === "Concat" ? 0 : 1; k < ins.length; k++) {
          const t = consts.get(ins[k]!);
          if (t && t.dims.length === rank && op !== "Gather" && op !== "Split") ins[k] = rewrite(ins[k]!, (v) => v, (d) => [1, ...d]);
        }
    }
    return { ...n, input: ins };
  });
  return { nodes, extra };
}

/** Float runs for one data set of a single-node test. */
export function floatRuns(src: IModelProto, set: { inputs: TestTensor[]; outputs: TestTensor[] }): FloatRun[] {
  const node = src.graph!.node![0]!;
  const op = node.opType ?? "";
  const names = (src.graph!.input ?? []).map((i) => i.name ?? "");
  const x = set.inputs[0]!;
  const consts = set.inputs.slice(1).map((t, k) => ({ name: names[k + 1]!, t }));
  const axis = attrInt(node, "axis", 1);
  const flattenAxis0 = op === "Flatten" && (axis === 0 || axis === -x.dims.length);
  const needs = x.dims.length < 2 || x.dims[0] !== 1;

  // A Flatten alone is lifted only at axis 0 (its other forms are per sample: split below).
  const liftable = (src.graph!.node ?? []).every((n) => LIFT_OPS.has(n.opType ?? "")) && (op !== "Flatten" || (src.graph!.node ?? []).length > 1);
  const outputs = (src.graph!.output ?? []).map((_, k) => k);
  if (needs && (liftable || flattenAxis0)) {
    const constMap = new Map(consts.map(({ name, t }) => [name, t] as const));
    for (const n of src.graph!.node ?? []) {
      const t = n.opType === "Constant" ? (n.attribute ?? []).find((a) => a.name === "value")?.t : undefined;
      if (t) constMap.set(n.output![0]!, { name: n.output![0]!, dataType: t.dataType ?? 1, dims: tensorDims(t), values: tensorValues(t, "Constant") });
    }
    const { nodes, extra } = liftNodes(src, x, names[0]!, constMap);
    const inits = [
      ...consts.map(({ name, t }) => initializer(name, t, t.dims)),
      ...[...extra].map(([name, e]) => initializer(name, e.t, e.dims)),
    ];
    return outputs.map((k) => ({
      label: `lifted to batch 1${outputs.length > 1 ? `, output ${k}` : ""}`,
      model: build(src, nodes, { name: names[0]!, dims: [1, ...x.dims] }, inits, k),
      input: Float32Array.from(x.values),
      expected: set.outputs[k]!.values,
    }));
  }

  const N = x.dims[0]!;
  const transA = op === "Gemm" && attrInt(node, "transA", 0) === 1;
  if (needs && x.dims.length >= 2 && N > 1 && !transA) {
    const runs: FloatRun[] = [];
    const xs = x.values.length / N;
    for (let i = 0; i < N; i++) {
      // Constants with the batch as leading dim (Gemm's C of shape [N, M]) are split too.
      const inits = consts.map(({ name, t }) => {
        if (t.dims.length === 2 && t.dims[0] === N && op === "Gemm") {
          const m = t.dims[1]!;
          return initializer(name, { ...t, values: t.values.slice(i * m, (i + 1) * m) }, [1, m]);
        }
        return initializer(name, t, t.dims);
      });
      for (const k of outputs) {
        const yk = set.outputs[k]!;
        const ys = yk.values.length / N;
        runs.push({
          label: `batch element ${i}${outputs.length > 1 ? `, output ${k}` : ""}`,
          model: build(src, src.graph!.node ?? [], { name: names[0]!, dims: [1, ...x.dims.slice(1)] }, inits, k),
          input: Float32Array.from(x.values.subarray(i * xs, (i + 1) * xs)),
          expected: yk.values.slice(i * ys, (i + 1) * ys),
        });
      }
    }
    return runs;
  }
  const inits = consts.map(({ name, t }) => initializer(name, t, t.dims));
  return outputs.map((k) => ({
    label: `as is${outputs.length > 1 ? `, output ${k}` : ""}`,
    model: build(src, src.graph!.node ?? [], { name: names[0]!, dims: x.dims }, inits, k),
    input: Float32Array.from(x.values),
    expected: set.outputs[k]!.values,
  }));
}
