/**
 * Integer-typed node tests, checked bit for bit against the canonical semantics: through
 * the reference kernels always, and through onnxruntime (the runner) when the layer has a
 * single input and so can be a whole canonical model.
 */
import type { CanonicalLayer } from "../../offchain/model/canonical.js";
import { parseCanonicalModel } from "../../offchain/model/canonical.js";
import { CanonicalModelBuilder } from "../../offchain/model/build.js";
import { LayerKind } from "../../offchain/model/layers.js";
import { attrInts } from "../../offchain/model/onnx.js";
import { evalLayer, runReference } from "../../offchain/runtime/reference.js";
import { CanonicalRunner } from "../../offchain/runtime/runner.js";
import type { NodeTestCase, TestTensor } from "./testdata.js";
import { ElemType } from "./testdata.js";

const typeRange = (t: TestTensor): [number, number] => (t.dataType === ElemType.INT8 ? [-128, 127] : [0, 255]);
const lift = (dims: number[]): number[] => (dims.length >= 2 && dims[0] === 1 ? dims : [1, ...dims]);
const ints = (t: TestTensor): Int32Array => Int32Array.from(t.values);

function sameInts(got: Int32Array, want: Int32Array, what: string): void {
  if (got.length !== want.length) throw new Error(`${what}: ${got.length} elements, expected ${want.length}`);
  for (let i = 0; i < got.length; i++) {
    if (got[i] !== want[i]) throw new Error(`${what}: element ${i} is ${got[i]}, expected ${want[i]}`);
  }
}

/** Runs a one-layer canonical model through the reference and the runner; both must match. */
async function viaModel(bytes: Uint8Array, x: Int32Array, want: Int32Array): Promise<void> {
  const model = parseCanonicalModel(bytes);
  const ref = runReference(model, x);
  sameInts(ref[ref.length - 1]!, want, "reference interpreter");
  const runner = await CanonicalRunner.create(model);
  try {
    sameInts((await runner.runLayers(x))[0]!, want, "onnxruntime runner");
  } finally {
    await runner.release();
  }
}

/** Returns a description of what was checked; throws on any mismatch. */
export async function runIntegerCase(c: NodeTestCase): Promise<string> {
  const node = c.model.graph!.node![0]!;
  const op = node.opType;
  for (const set of c.sets) {
    const x = set.inputs[0]!;
    const want = ints(set.outputs[0]!);
    const [lo, hi] = typeRange(x);
    const shape = lift(x.dims);
    if (op === "Add") {
      // Two tensors: the ADD kernel (shift 0, clip to the type's range) on both operands.
      const layer: CanonicalLayer = {
        index: 2, kind: LayerKind.ADD, name: c.name, nodes: [c.name], inputs: [0, 1], outShape: shape,
        params: [lo, hi], constants: [{ values: Int32Array.of(0), shape: [1] }], outputName: "y", range: [lo, hi],
      };
      sameInts(evalLayer(layer, [ints(x), ints(set.inputs[1]!)]), want, "reference ADD kernel");
    } else if (op === "Clip") {
      // Missing bounds default to the type's limits, as in ONNX.
      const names = (c.model.graph!.input ?? []).map((i) => i.name);
      const bound = (k: number, dflt: number): number => {
        const idx = names.indexOf(node.input?.[k] ?? "\u0000");
        return idx > 0 ? set.inputs[idx]!.values[0]! : dflt;
      };
      const b = new CanonicalModelBuilder(shape, [lo, hi]).clip({ lo: bound(1, lo), hi: bound(2, hi) });
      await viaModel(b.build(), ints(x), want);
    } else if (op === "MaxPool") {
      const k = attrInts(node, "kernel_shape") as [number, number];
      const pads = (attrInts(node, "pads") ?? [0, 0, 0, 0]) as [number, number, number, number];
      const strides = (attrInts(node, "strides") ?? [1, 1]) as [number, number];
      const b = new CanonicalModelBuilder(shape, [lo, hi]).maxpool({ kernel: k, strides, pads });
      await viaModel(b.build(), ints(x), want);
    } else throw new Error(`no integer check for op ${op}`);
  }
  return op === "Add" ? "exact (reference kernel)" : "exact (reference + onnxruntime)";
}
