/** Tiny float32 ONNX models built in tests, plus seeded random data. */
import type { IAttributeProto, INodeProto, ITensorProto } from "../../offchain/model/onnx.js";
import { encodeModel, floatValueInfo } from "../../offchain/model/onnx.js";

export type Attr = number | number[] | string;

export function node(opType: string, inputs: string[], output: string, name: string, attrs: Record<string, Attr> = {}): INodeProto {
  const attribute: IAttributeProto[] = Object.entries(attrs).map(([k, v]) =>
    typeof v === "number"
      ? Number.isInteger(v) ? { name: k, type: 2, i: v } : { name: k, type: 1, f: v }
      : typeof v === "string"
        ? { name: k, type: 3, s: Buffer.from(v) }
        : { name: k, type: 7, ints: v },
  );
  return { opType, input: inputs, output: [output], name, attribute };
}

export function tensor(name: string, dims: number[], values: ArrayLike<number>): ITensorProto {
  const f = Float32Array.from(values);
  return { name, dims, dataType: 1, rawData: new Uint8Array(f.buffer) };
}

/** `inputType`: the input's ONNX element type (1 float; 7 int64 or 6 int32 for token ids). */
export function floatModel(inputShape: number[], nodes: INodeProto[], inits: ITensorProto[], output: string, opset = 13, inputType = 1): Uint8Array {
  const x = floatValueInfo("x", inputShape);
  x.type!.tensorType!.elemType = inputType;
  return encodeModel({
    irVersion: 7,
    opsetImport: [{ domain: "", version: opset }],
    graph: {
      name: "test",
      node: nodes,
      initializer: inits,
      input: [x],
      output: [{ name: output, type: { tensorType: { elemType: 1 } } }],
    },
  });
}

/** Deterministic uniform values in [lo, hi). */
export function rand(seed: number): (n: number, lo?: number, hi?: number) => Float32Array {
  let s = seed >>> 0 || 1;
  const next = (): number => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 2 ** 32;
  };
  return (n, lo = -1, hi = 1) => Float32Array.from({ length: n }, () => lo + (hi - lo) * next());
}

/** An int64 initializer (shapes, axes, indices, pads). */
export function int64(name: string, dims: number[], values: number[]): ITensorProto {
  const b = BigInt64Array.from(values, (v) => BigInt(v));
  return { name, dims, dataType: 7, rawData: new Uint8Array(b.buffer) };
}
