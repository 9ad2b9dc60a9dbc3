/**
 * Thin, typed access to ONNX protobufs through onnx-proto (protobufjs generated code).
 * Decoding errors become ModelError so callers see one error type for every bad file.
 */
import onnxProto from "onnx-proto";

import { ModelError } from "./errors.js";

export const onnx = onnxProto.onnx;
export type ModelProto = onnxProto.onnx.ModelProto;
export type IModelProto = onnxProto.onnx.IModelProto;
export type IGraphProto = onnxProto.onnx.IGraphProto;
export type INodeProto = onnxProto.onnx.INodeProto;
export type ITensorProto = onnxProto.onnx.ITensorProto;
export type IValueInfoProto = onnxProto.onnx.IValueInfoProto;
export type IAttributeProto = onnxProto.onnx.IAttributeProto;

export const DataType = {
  FLOAT: 1,
  INT32: 6,
  INT64: 7,
  DOUBLE: 11,
} as const;

/** Opset range of the default domain that canonical/1 accepts (patterns were checked for it). */
export const MIN_OPSET = 13;
export const MAX_OPSET = 21;
/** What the builder emits. */
export const BUILD_OPSET = 17;
export const BUILD_IR_VERSION = 8;

type LongLike = number | { toNumber(): number } | { toString(): string };

/** protobufjs gives int64 as number or Long; every value we read is far below 2^53. */
export function toNumber(v: LongLike | null | undefined): number {
  if (v === null || v === undefined) return 0;
  if (typeof v === "number") return v;
  if ("toNumber" in v && typeof v.toNumber === "function") return v.toNumber();
  return Number(v.toString());
}

export function decodeModel(bytes: Uint8Array): ModelProto {
  if (bytes.length === 0) throw new ModelError("MALFORMED", "malformed ONNX file: it is empty");
  let model: ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new ModelError("MALFORMED", `malformed or truncated ONNX file (${bytes.length} bytes): ${why}`);
  }
  if (!model.graph) throw new ModelError("NO_GRAPH", "ONNX model has no graph");
  return model;
}

export function encodeModel(model: IModelProto): Uint8Array {
  return onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish();
}

/** Version of the default ("" / "ai.onnx") opset; throws OPSET when missing or outside the range. */
export function defaultOpset(model: IModelProto): number {
  const imp = (model.opsetImport ?? []).find((o) => !o.domain || o.domain === "ai.onnx");
  if (!imp) throw new ModelError("OPSET", "ONNX model imports no default-domain opset");
  const v = toNumber(imp.version);
  if (v < MIN_OPSET || v > MAX_OPSET) {
    throw new ModelError("OPSET", `unsupported opset ${v} (canonical/1 accepts ${MIN_OPSET}..${MAX_OPSET})`);
  }
  return v;
}

export function tensorDims(t: ITensorProto): number[] {
  return (t.dims ?? []).map((d) => toNumber(d));
}

export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/**
 * Numeric values of an initializer as float64 (exact for float32 and for int64 < 2^53).
 * Supports FLOAT, DOUBLE, INT32, INT64 in typed fields or raw_data; refuses external data.
 */
export function tensorValues(t: ITensorProto, where: string): Float64Array {
  if (t.dataLocation === 1 || (t.externalData && t.externalData.length > 0)) {
    throw new ModelError("MALFORMED", `initializer "${t.name}" (${where}) uses external data, which is not supported`);
  }
  const n = sizeOf(tensorDims(t));
  const raw = t.rawData && t.rawData.length > 0 ? t.rawData : null;
  const out = new Float64Array(n);
  const dt = t.dataType ?? 0;
  const view = raw ? new DataView(raw.buffer, raw.byteOffset, raw.byteLength) : null;
  const width = dt === DataType.FLOAT || dt === DataType.INT32 ? 4 : dt === DataType.INT64 || dt === DataType.DOUBLE ? 8 : 0;
  if (width === 0) {
    throw new ModelError("MALFORMED", `initializer "${t.name}" (${where}) has unsupported data type ${dt}`);
  }
  if (view) {
    if (view.byteLength !== n * width) {
      throw new ModelError(
        "MALFORMED",
        `initializer "${t.name}" (${where}) holds ${view.byteLength} bytes, expected ${n * width}`,
      );
    }
    for (let i = 0; i < n; i++) {
      if (dt === DataType.FLOAT) out[i] = view.getFloat32(i * 4, true);
      else if (dt === DataType.INT32) out[i] = view.getInt32(i * 4, true);
      else if (dt === DataType.DOUBLE) out[i] = view.getFloat64(i * 8, true);
      else out[i] = Number(view.getBigInt64(i * 8, true));
    }
    return out;
  }
  const src: ArrayLike<LongLike> =
    dt === DataType.FLOAT
      ? (t.floatData ?? [])
      : dt === DataType.DOUBLE
        ? (t.doubleData ?? [])
        : dt === DataType.INT32
          ? (t.int32Data ?? [])
          : (t.int64Data ?? []);
  if (src.length !== n) {
    throw new ModelError("MALFORMED", `initializer "${t.name}" (${where}) holds ${src.length} values, expected ${n}`);
  }
  for (let i = 0; i < n; i++) out[i] = toNumber(src[i]);
  return out;
}

export function findAttr(node: INodeProto, name: string): IAttributeProto | undefined {
  return (node.attribute ?? []).find((a) => a.name === name);
}

export function attrInt(node: INodeProto, name: string, dflt: number): number {
  const a = findAttr(node, name);
  return a ? toNumber(a.i) : dflt;
}

export function attrFloat(node: INodeProto, name: string, dflt: number): number {
  const a = findAttr(node, name);
  return a ? (a.f ?? 0) : dflt;
}

export function attrInts(node: INodeProto, name: string): number[] | undefined {
  const a = findAttr(node, name);
  return a ? (a.ints ?? []).map((v) => toNumber(v)) : undefined;
}

export function attrString(node: INodeProto, name: string): string | undefined {
  const a = findAttr(node, name);
  return a?.s ? Buffer.from(a.s).toString("utf8") : undefined;
}

/** Static shape of a value info; undefined entries mark dynamic/unknown dims. */
export function valueInfoShape(v: IValueInfoProto): (number | undefined)[] | undefined {
  const dims = v.type?.tensorType?.shape?.dim;
  if (!dims) return undefined;
  return dims.map((d) => {
    const x = toNumber(d.dimValue);
    return d.dimParam || x <= 0 ? undefined : x;
  });
}

export function valueInfoElemType(v: IValueInfoProto): number {
  return v.type?.tensorType?.elemType ?? 0;
}

/** A float32 tensor value info with a static shape (used for the graph outputs we add). */
export function floatValueInfo(name: string, shape: readonly number[]): IValueInfoProto {
  return {
    name,
    type: { tensorType: { elemType: DataType.FLOAT, shape: { dim: shape.map((d) => ({ dimValue: d })) } } },
  };
}

/** An op of another domain than ONNX's default one (a vendor's fused op, say). */
export function isForeign(n: INodeProto): boolean {
  return (n.domain ?? "") !== "" && n.domain !== "ai.onnx";
}

/** The op as messages name it: with its domain when that is not the default one (`com.microsoft.FusedConv`). */
export function opLabel(n: INodeProto): string {
  return isForeign(n) ? `${n.domain}.${n.opType ?? "?"}` : (n.opType ?? "?");
}

export function nodeLabel(node: INodeProto, index: number): string {
  return node.name ? node.name : `#${index}`;
}
