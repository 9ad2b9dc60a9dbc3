/**
 * Tensor files as users have them, for `model run`, `job request`, `job submit` and calibration:
 * - JSON: a flat array (no shape), nested arrays (the nesting is the shape), or
 *   `{ "shape": [...], "data": [...] }` (data flat or nested);
 * - NumPy `.npy` (format 1.0, 2.0 and 3.0; little-endian f4, f8, i4, i8, u1, i1; C order);
 * - ONNX TensorProto `.pb` (what ONNX test data sets hold; FLOAT, DOUBLE, INT32, INT64, INT8,
 *   UINT8, in raw_data or in the typed fields);
 * - `.bin`: canonical bytes, int32 little-endian (no shape).
 * The format comes from the NumPy magic, then the extension, else JSON. Every error names the file.
 */
import path from "node:path";

import { VeritensorError } from "../../clients/errors.js";
import { formatShape } from "../../clients/format.js";
import { ModelError } from "../../model/errors.js";
import type { ITensorProto } from "../../model/onnx.js";
import { decodeModel, onnx, tensorDims, valueInfoShape } from "../../model/onnx.js";
import { readBytes } from "./files.js";

export interface TensorFile {
  /** The values in row-major (C) order; float64 holds every supported type exactly. */
  readonly data: Float64Array;
  /** The shape the file states; undefined for a flat JSON array or a `.bin` file. */
  readonly shape?: readonly number[];
}

const NPY_MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]); // "\x93NUMPY"

/** Reads one tensor file; `what` says what it is for ("input file", "calibration file"). */
export async function readTensor(file: string, what: string): Promise<TensorFile> {
  return parseTensor(await readBytes(file, what), `${what} ${file}`, path.extname(file).toLowerCase());
}

type Format = "npy" | "pb" | "bin" | "json";

/** The NumPy magic decides first; then the extension; anything else is JSON. */
function formatOf(buf: Buffer, ext: string): Format {
  if (buf.subarray(0, NPY_MAGIC.length).equals(NPY_MAGIC) || ext === ".npy") return "npy";
  if (ext === ".pb" || ext === ".onnx") return "pb";
  return ext === ".bin" ? "bin" : "json";
}

/** Decodes a tensor file's bytes; `name` ("input file x.npy") starts every error. */
export function parseTensor(bytes: Uint8Array, name: string, ext = ""): TensorFile {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (formatOf(buf, ext)) {
    case "npy":
      return finite(parseNpy(buf, name), name);
    case "pb":
      return finite(parseTensorProto(buf, name), name);
    case "bin":
      return parseBin(buf, name);
    case "json":
      return parseJson(buf, name);
  }
}

/** Reads calibration samples: a JSON array of samples, or one tensor whose first dimension counts the samples. */
export async function readSamples(file: string, what: string): Promise<TensorFile[]> {
  const bytes = await readBytes(file, what);
  const name = `${what} ${file}`;
  const ext = path.extname(file).toLowerCase();
  if (formatOf(bytes, ext) === "json") {
    const value = jsonValue(bytes, name);
    if (Array.isArray(value)) {
      // Each item is one sample, flat or nested, as before `{shape, data}` files existed.
      if (value.length === 0 || !value.every((s) => Array.isArray(s))) {
        throw new VeritensorError(`${name} must be an array of samples, each an array of numbers`);
      }
      return value.map((s, i) => jsonArray(s as unknown[], `${name}, sample ${i + 1},`));
    }
  }
  const t = parseTensor(bytes, name, ext);
  if (t.shape === undefined || t.shape.length < 2) {
    throw new VeritensorError(
      `${name} has ${t.shape === undefined ? "no shape" : `shape ${formatShape(t.shape)}`}: ` +
        `its first dimension must count the samples (e.g. [16, 784] for 16 samples of 784 values)`,
    );
  }
  const [count, ...each] = t.shape;
  const size = t.data.length / count!;
  return Array.from({ length: count! }, (_, i) => ({ data: t.data.subarray(i * size, (i + 1) * size), shape: each }));
}

/**
 * Whether a file's shape fits a model input's: the same dimensions once leading 1s are dropped
 * from both, so a batch or channel of 1 may be left out ([28, 28] for [1, 1, 28, 28]) but the
 * layout may not change ([8, 8] for [1, 64]). A model's unknown (symbolic) dimension matches any size.
 */
export function shapeFits(shape: readonly number[], model: readonly (number | undefined)[]): boolean {
  // Leading unknown dimensions of the model are its batch, which runs as 1.
  const trim = <T>(s: readonly T[], one: (d: T) => boolean): T[] => {
    const first = s.findIndex((d) => !one(d));
    return first < 0 ? [] : s.slice(first);
  };
  const a = trim(shape, (d) => d === 1);
  const b = trim(model, (d) => d === 1 || d === undefined);
  return a.length === b.length && a.every((d, i) => b[i] === undefined || b[i] === d);
}

/** Refuses a tensor whose stated shape does not fit `model` (see {@link shapeFits}). */
export function checkShape(t: TensorFile, model: readonly (number | undefined)[], name: string, modelWhat: string): void {
  if (t.shape === undefined || shapeFits(t.shape, model)) return;
  const dims = `[${model.map((d) => (d === undefined ? "?" : String(d))).join(", ")}]`;
  throw new VeritensorError(
    `${name} has shape ${formatShape(t.shape)}, but ${modelWhat} has shape ${dims} ` +
      `(the shapes must agree, leading 1s aside)`,
  );
}

/**
 * The shape a float ONNX model declares for its input (the first graph input that is not an
 * initializer), or undefined when the file does not decode: the converter then says why.
 */
export function floatInputShape(floatBytes: Uint8Array): (number | undefined)[] | undefined {
  let graph;
  try {
    graph = decodeModel(floatBytes).graph!;
  } catch (e) {
    if (e instanceof ModelError) return undefined;
    throw e;
  }
  const inits = new Set((graph.initializer ?? []).map((t) => t.name));
  const input = (graph.input ?? []).find((i) => !inits.has(i.name));
  return input === undefined ? undefined : valueInfoShape(input);
}

/**
 * Calibration samples for a float model: read, each checked against the model's input shape (the
 * one `--input-shape` binds, when given).
 */
export async function readCalibration(file: string, floatBytes: Uint8Array, bound?: readonly number[]): Promise<number[][]> {
  const samples = await readSamples(file, "calibration file");
  const shape = bound ?? floatInputShape(floatBytes);
  return samples.map((s, i) => {
    if (shape !== undefined) checkShape(s, shape, `calibration file ${file}, sample ${i + 1},`, "the model's input");
    return Array.from(s.data);
  });
}

// ---------------------------------------------------------------- JSON

function jsonValue(bytes: Uint8Array, name: string): unknown {
  try {
    return JSON.parse(Buffer.from(bytes).toString("utf8"));
  } catch (e) {
    throw new VeritensorError(
      `${name} is not valid JSON (${(e as Error).message}); tensor files are JSON, NumPy .npy, ONNX TensorProto .pb or int32 .bin`,
      { cause: e },
    );
  }
}

function parseJson(bytes: Uint8Array, name: string): TensorFile {
  const value = jsonValue(bytes, name);
  if (Array.isArray(value)) return jsonArray(value, name);
  if (typeof value === "object" && value !== null && "shape" in value && "data" in value) {
    const { shape, data } = value as { shape: unknown; data: unknown };
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && (d as number) > 0)) {
      throw new VeritensorError(`${name}: "shape" must be an array of positive integers, e.g. [1, 28, 28]`);
    }
    if (!Array.isArray(data)) throw new VeritensorError(`${name}: "data" must be an array of numbers (flat or nested)`);
    const flat = jsonArray(data, name).data;
    const size = (shape as number[]).reduce((a, b) => a * b, 1);
    if (flat.length !== size) {
      throw new VeritensorError(`${name}: "shape" ${formatShape(shape as number[])} holds ${size} values, but "data" has ${flat.length}`);
    }
    return { data: flat, shape: shape as number[] };
  }
  throw new VeritensorError(`${name} must be a JSON array of numbers (nesting allowed) or an object with "shape" and "data"`);
}

const at = (pos: readonly number[]) => pos.map((i) => `[${i}]`).join("");

/** A JSON array: flat (no shape), or nested and rectangular (the nesting is the shape). */
function jsonArray(value: unknown[], name: string): TensorFile {
  if (value.length === 0) throw new VeritensorError(`${name} must be a non-empty JSON array`);
  const shape: number[] = [];
  for (let v: unknown = value; Array.isArray(v); v = v[0]) shape.push(v.length);
  const data = new Float64Array(shape.reduce((a, b) => a * b, 1));
  let k = 0;
  const walk = (v: unknown, pos: number[]): void => {
    const depth = pos.length;
    if (depth === shape.length) {
      if (Array.isArray(v)) throw new VeritensorError(`${name} is ragged: ${at(pos)} is an array, where ${at(pos.map(() => 0))} is a number`);
      if (typeof v !== "number" || !Number.isFinite(v)) {
        const where = shape.length === 1 && pos.length === 1 ? `element ${pos[0]}` : `the value at ${at(pos)}`;
        throw new VeritensorError(`${name} must contain only finite numbers: ${where} is ${JSON.stringify(v) ?? String(v)}`);
      }
      data[k++] = v;
      return;
    }
    if (!Array.isArray(v)) {
      throw new VeritensorError(`${name} is ragged: ${at(pos)} is ${JSON.stringify(v)}, where ${at(pos.map(() => 0))} is an array`);
    }
    if (v.length !== shape[depth]) {
      throw new VeritensorError(
        `${name} is ragged: the array at ${at(pos)} has ${v.length} items, but the one at ${at(pos.map(() => 0))} has ${shape[depth]}`,
      );
    }
    v.forEach((x, i) => walk(x, [...pos, i]));
  };
  walk(value, []);
  if (data.length === 0) throw new VeritensorError(`${name} holds an empty array`);
  return shape.length === 1 ? { data } : { data, shape };
}

// ---------------------------------------------------------------- binary formats

function finite(t: TensorFile, name: string): TensorFile {
  const i = t.data.findIndex((v) => !Number.isFinite(v));
  if (i >= 0) throw new VeritensorError(`${name} must contain only finite numbers: element ${i} is ${t.data[i]}`);
  if (t.data.length === 0) throw new VeritensorError(`${name} holds no values`);
  return t;
}

function parseBin(buf: Buffer, name: string): TensorFile {
  if (buf.length === 0 || buf.length % 4 !== 0) {
    throw new VeritensorError(`${name} has ${buf.length} bytes; a .bin tensor holds int32 little-endian elements`);
  }
  return { data: Float64Array.from({ length: buf.length / 4 }, (_, i) => buf.readInt32LE(i * 4)) };
}

const SAFE = Number.MAX_SAFE_INTEGER;

/** int64 to number, refusing what float64 cannot hold exactly. */
function int64(v: bigint, name: string, i: number): number {
  if (v > BigInt(SAFE) || v < -BigInt(SAFE)) throw new VeritensorError(`${name}: element ${i} (${v}) is beyond ±2^53, which cannot be read exactly`);
  return Number(v);
}

/** NumPy dtype strings we read, little-endian (1-byte types have no byte order: "|"). */
const NPY_TYPES: Record<string, { size: number; get: (b: Buffer, o: number) => number | bigint }> = {
  f4: { size: 4, get: (b, o) => b.readFloatLE(o) },
  f8: { size: 8, get: (b, o) => b.readDoubleLE(o) },
  i4: { size: 4, get: (b, o) => b.readInt32LE(o) },
  i8: { size: 8, get: (b, o) => b.readBigInt64LE(o) },
  u1: { size: 1, get: (b, o) => b.readUInt8(o) },
  i1: { size: 1, get: (b, o) => b.readInt8(o) },
};

function parseNpy(buf: Buffer, name: string): TensorFile {
  if (!buf.subarray(0, NPY_MAGIC.length).equals(NPY_MAGIC)) {
    throw new VeritensorError(`${name} is not a NumPy file: it does not start with the magic "\\x93NUMPY"`);
  }
  const major = buf[6];
  const wide = major === 2 || major === 3;
  if (major !== 1 && !wide) throw new VeritensorError(`${name}: NumPy format version ${major}.${buf[7]} is not supported (1.0, 2.0 and 3.0 are)`);
  const start = wide ? 12 : 10;
  if (buf.length < start) throw new VeritensorError(`${name} is truncated: ${buf.length} bytes end inside the NumPy header`);
  const headerLength = wide ? buf.readUInt32LE(8) : buf.readUInt16LE(8);
  if (buf.length < start + headerLength) throw new VeritensorError(`${name} is truncated: ${buf.length} bytes end inside the NumPy header`);
  const header = buf.subarray(start, start + headerLength).toString(major === 3 ? "utf8" : "latin1");
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const dims = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || dims === undefined) {
    throw new VeritensorError(`${name}: the NumPy header ${JSON.stringify(header.trim())} lacks descr, fortran_order or shape`);
  }
  if (fortran === "True") {
    throw new VeritensorError(`${name} is in Fortran (column-major) order; save it in C order (np.save(f, np.ascontiguousarray(a)))`);
  }
  const order = descr[0];
  const type = NPY_TYPES[descr.slice(1)];
  if (type === undefined || (order !== "<" && order !== "|" && !(order === ">" && type.size === 1))) {
    const why = order === ">" && type !== undefined ? "is big-endian; save it little-endian (a.astype(a.dtype.newbyteorder('<')))" : "is not supported";
    throw new VeritensorError(`${name}: NumPy dtype '${descr}' ${why} (supported: <f4 <f8 <i4 <i8 |u1 |i1)`);
  }
  const shape = dims.split(",").map((d) => d.trim()).filter((d) => d !== "").map(Number);
  if (shape.some((d) => !Number.isInteger(d) || d < 0)) throw new VeritensorError(`${name}: NumPy shape (${dims}) is not a shape`);
  const n = shape.reduce((a, b) => a * b, 1);
  const body = buf.subarray(start + headerLength);
  if (body.length !== n * type.size) {
    throw new VeritensorError(
      `${name} ${body.length < n * type.size ? "is truncated" : "has trailing bytes"}: ${body.length} bytes of data, ` +
        `expected ${n * type.size} for shape ${formatShape(shape)} of '${descr}'`,
    );
  }
  const data = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const v = type.get(body, i * type.size);
    data[i] = typeof v === "bigint" ? int64(v, name, i) : v;
  }
  return { data, shape };
}

/** ONNX TensorProto data types by number, for the ones we read and for naming the others. */
const ONNX_TYPES = [
  "UNDEFINED", "FLOAT", "UINT8", "INT8", "UINT16", "INT16", "INT32", "INT64", "STRING",
  "BOOL", "FLOAT16", "DOUBLE", "UINT32", "UINT64", "COMPLEX64", "COMPLEX128", "BFLOAT16",
];
/** Element width in raw_data, and the typed field otherwise (INT8/UINT8 live in int32_data). */
const PB_READ: Record<number, { size: number; raw: (b: Buffer, o: number) => number | bigint; field: keyof ITensorProto }> = {
  1: { size: 4, raw: (b, o) => b.readFloatLE(o), field: "floatData" },
  11: { size: 8, raw: (b, o) => b.readDoubleLE(o), field: "doubleData" },
  6: { size: 4, raw: (b, o) => b.readInt32LE(o), field: "int32Data" },
  7: { size: 8, raw: (b, o) => b.readBigInt64LE(o), field: "int64Data" },
  3: { size: 1, raw: (b, o) => b.readInt8(o), field: "int32Data" },
  2: { size: 1, raw: (b, o) => b.readUInt8(o), field: "int32Data" },
};

function parseTensorProto(buf: Buffer, name: string): TensorFile {
  let t: ITensorProto;
  try {
    t = onnx.TensorProto.decode(buf);
  } catch (e) {
    throw new VeritensorError(`${name} is not an ONNX TensorProto (malformed or truncated: ${(e as Error).message})`, { cause: e });
  }
  if (t.dataLocation === 1 || (t.externalData && t.externalData.length > 0)) {
    throw new VeritensorError(`${name}: the tensor's data is in an external file, which is not supported`);
  }
  const dt = t.dataType ?? 0;
  const read = PB_READ[dt];
  if (read === undefined) {
    throw new VeritensorError(
      `${name}: ONNX data type ${ONNX_TYPES[dt] ?? dt} is not supported (FLOAT, DOUBLE, INT32, INT64, INT8, UINT8 are)`,
    );
  }
  const shape = tensorDims(t);
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float64Array(n);
  const raw = t.rawData && t.rawData.length > 0 ? Buffer.from(t.rawData.buffer, t.rawData.byteOffset, t.rawData.byteLength) : undefined;
  if (raw) {
    if (raw.length !== n * read.size) {
      throw new VeritensorError(`${name}: raw_data holds ${raw.length} bytes, expected ${n * read.size} for shape ${formatShape(shape)} of ${ONNX_TYPES[dt]}`);
    }
    for (let i = 0; i < n; i++) {
      const v = read.raw(raw, i * read.size);
      data[i] = typeof v === "bigint" ? int64(v, name, i) : v;
    }
    return { data, shape };
  }
  const typed = (t[read.field] ?? []) as ArrayLike<number | { toString(): string }>;
  if (typed.length !== n) {
    throw new VeritensorError(`${name}: the tensor holds ${typed.length} values, expected ${n} for shape ${formatShape(shape)}`);
  }
  for (let i = 0; i < n; i++) {
    const v = typed[i]!;
    data[i] = typeof v === "number" ? v : int64(BigInt(v.toString()), name, i);
  }
  return { data, shape };
}

// ---------------------------------------------------------------- real values (--real)

/**
 * The report value for the inputs `--real` clamped to the model's input range; a warning on stderr
 * too when any were, since the model then runs on other values than the file holds.
 */
export function clampedNote(m: { inputScale: number; inputRange: readonly [number, number] }, clamped: number, total: number): string {
  const [lo, hi] = m.inputRange.map((v) => Number((v * m.inputScale).toPrecision(4)));
  const range = `the real range [${lo}, ${hi}] of the model's input`;
  if (clamped > 0) console.warn(`Warning: ${clamped} of ${total} input values lie outside ${range} and were clamped to it`);
  return `${clamped} of ${total} values (outside ${range})`;
}
