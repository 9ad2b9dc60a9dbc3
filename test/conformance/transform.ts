/**
 * Turns one ONNX node test into batch-1, single-input float models the converter can take,
 * without changing what is tested:
 * - every graph input after the first becomes an initializer holding the test's data (that
 *   is how weights, biases, bounds and shapes appear in real models);
 * - elementwise ops and Reshape get a leading unit dimension ("lift": [3,4,5] → [1,3,4,5],
 *   Reshape's target gets a leading 1, which keeps 0 and -1 meaning the same dims);
 * - per-sample ops (Gemm/MatMul rows, Conv, pooling, BatchNormalization, Flatten with
 *   axis ≥ 1) with batch N > 1 run as N batch-1 cases ("split"), each compared with its
 *   slice of the expected output.
 */
import type { IModelProto, INodeProto, ITensorProto } from "../../offchain/model/onnx.js";
import { attrInt, encodeModel, floatValueInfo } from "../../offchain/model/onnx.js";
import type { TestTensor } from "./testdata.js";
import { ElemType } from "./testdata.js";

export interface FloatRun {
  label: string;
  model: Uint8Array;
  input: Float32Array;
  expected: Float64Array;
}

const LIFT_OPS = new Set([
  "Relu", "Clip", "Add", "Sub", "Mul", "Div", "Reshape", "Constant",
  // The elementwise functions the converter lowers to a LUT.
  "Sigmoid", "Tanh", "Erf", "Gelu", "LeakyRelu", "HardSigmoid", "HardSwish", "Elu", "Selu", "Softplus", "Softsign", "Exp", "Neg", "Abs", "Sqrt", "Reciprocal", "Pow",
  // Reductions, their non-negative axes shifted by the leading unit dimension.
  "ReduceMean", "ReduceSum",
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

/** The test's graph with `node` in place of its first node (an expanded test keeps all its nodes). */
function build(src: IModelProto, node: INodeProto, x: { name: string; dims: number[] }, inits: ITensorProto[]): Uint8Array {
  return encodeModel({
    irVersion: src.irVersion,
    opsetImport: src.opsetImport,
    graph: {
      name: "conformance",
      node: [node, ...(src.graph!.node ?? []).slice(1)],
      input: [floatValueInfo(x.name, x.dims)],
      output: (src.graph?.output ?? []).map((o) => ({ name: o.name, type: { tensorType: { elemType: ElemType.FLOAT } } })),
      initializer: inits,
    },
  });
}

/** Float runs for one data set of a single-node test. */
export function floatRuns(src: IModelProto, set: { inputs: TestTensor[]; outputs: TestTensor[] }): FloatRun[] {
  const node = src.graph!.node![0]!;
  const op = node.opType ?? "";
  const names = (src.graph!.input ?? []).map((i) => i.name ?? "");
  const x = set.inputs[0]!;
  const y = set.outputs[0]!;
  const consts = set.inputs.slice(1).map((t, k) => ({ name: names[k + 1]!, t }));
  const axis = attrInt(node, "axis", 1);
  const flattenAxis0 = op === "Flatten" && (axis === 0 || axis === -x.dims.length);
  const needs = x.dims.length < 2 || x.dims[0] !== 1;

  const liftable = (src.graph!.node ?? []).every((n) => LIFT_OPS.has(n.opType ?? ""));
  if (needs && (liftable || flattenAxis0)) {
    let n = node;
    if (op === "Flatten" && axis >= 0) {
      n = { ...node, attribute: (node.attribute ?? []).map((a) => (a.name === "axis" ? { ...a, i: axis + 1 } : a)) };
    }
    if (op === "ReduceMean" || op === "ReduceSum") {
      n = { ...node, attribute: (node.attribute ?? []).map((a) => (a.name === "axes" ? { ...a, ints: (a.ints ?? []).map((v) => liftAxis(Number(v))) } : a)) };
    }
    const inits = consts.map(({ name, t }) => {
      if (op === "Reshape") return initializer(name, { ...t, values: Float64Array.of(1, ...t.values) }, [t.values.length + 1]);
      if (op === "ReduceSum") return initializer(name, { ...t, values: t.values.map(liftAxis) }, t.dims);
      return initializer(name, t, t.dims.length === x.dims.length ? [1, ...t.dims] : t.dims);
    });
    const model = build(src, n, { name: names[0]!, dims: [1, ...x.dims] }, inits);
    return [{ label: "lifted to batch 1", model, input: Float32Array.from(x.values), expected: y.values }];
  }

  const N = x.dims[0]!;
  const transA = op === "Gemm" && attrInt(node, "transA", 0) === 1;
  if (needs && x.dims.length >= 2 && N > 1 && !transA) {
    const runs: FloatRun[] = [];
    const xs = x.values.length / N;
    const ys = y.values.length / N;
    for (let i = 0; i < N; i++) {
      // Constants with the batch as leading dim (Gemm's C of shape [N, M]) are split too.
      const inits = consts.map(({ name, t }) => {
        if (t.dims.length === 2 && t.dims[0] === N && op === "Gemm") {
          const m = t.dims[1]!;
          return initializer(name, { ...t, values: t.values.slice(i * m, (i + 1) * m) }, [1, m]);
        }
        return initializer(name, t, t.dims);
      });
      const model = build(src, node, { name: names[0]!, dims: [1, ...x.dims.slice(1)] }, inits);
      runs.push({
        label: `batch element ${i}`,
        model,
        input: Float32Array.from(x.values.subarray(i * xs, (i + 1) * xs)),
        expected: y.values.slice(i * ys, (i + 1) * ys),
      });
    }
    return runs;
  }
  const inits = consts.map(({ name, t }) => initializer(name, t, t.dims));
  return [{ label: "as is", model: build(src, node, { name: names[0]!, dims: x.dims }, inits), input: Float32Array.from(x.values), expected: y.values }];
}
