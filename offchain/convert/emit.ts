/** Writes a Plan as a canonical/1 ONNX file through the shared CanonicalModelBuilder. */
import { CanonicalModelBuilder } from "../model/build.js";
import type { Plan } from "./plan.js";

export function emitModel(plan: Plan, graphName: string): Uint8Array {
  const b = new CanonicalModelBuilder(plan.inputShape, plan.inputRange, {
    inputScale: plan.inputScale,
    outputScale: plan.outputScale,
    graphName,
  });
  for (const { plan: l, name } of plan.layers) {
    if (l.kind === "gather") {
      b.gather({ name, inputs: l.inputs, index: l.index, outShape: l.outShape });
      continue;
    }
    if (l.kind === "const") {
      b.constant({ name, values: l.values, shape: l.shape });
      continue;
    }
    const o = { input: l.input, name };
    switch (l.kind) {
      case "dense":
        b.dense({ ...o, weight: l.weight, units: l.units, transB: true, bias: l.bias, shift: l.shift, clip: l.clip });
        break;
      case "conv":
        b.conv({
          ...o, weight: l.weight, outChannels: l.outChannels, kernel: l.kernel, strides: l.strides, pads: l.pads,
          group: l.group, bias: l.bias, shift: l.shift, clip: l.clip,
        });
        break;
      case "add":
        b.add({ ...o, shift: l.shift, clip: l.clip, ...(l.other !== undefined ? { other: l.other } : { constant: l.constant! }) });
        break;
      case "mul":
        b.mul({ ...o, factor: l.factor, shift: l.shift, clip: l.clip });
        break;
      case "relu":
        b.relu(o);
        break;
      case "clip":
        b.clip({ ...o, lo: l.lo, hi: l.hi });
        break;
      case "maxpool":
        b.maxpool({ ...o, kernel: l.kernel, strides: l.strides, pads: l.pads });
        break;
      case "reshape":
        b.reshape({ ...o, shape: l.shape });
        break;
      case "lut":
        b.lut({ ...o, lo: l.lo, table: l.table });
        break;
      case "matmul":
        b.matmul({ ...o, other: l.other, shift: l.shift, clip: l.clip });
        break;
      case "product":
        b.product({ ...o, other: l.other, shift: l.shift, clip: l.clip });
        break;
    }
  }
  return b.build();
}
