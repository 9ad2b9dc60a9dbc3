/**
 * Access to ONNX's backend node tests as installed by Debian's libonnx-testdata:
 * <root>/<case>/model.onnx and <root>/<case>/test_data_set_<n>/{input,output}_<k>.pb.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

import type { IModelProto, ITensorProto } from "../../offchain/model/onnx.js";
import { decodeModel, onnx, tensorDims, tensorValues } from "../../offchain/model/onnx.js";

export const NODE_TESTS_DIR = process.env.ONNX_NODE_TESTS ?? "/usr/share/libonnx-testdata/data/node";

/** The one command that gets the data (Debian/Ubuntu; .ci/run does this). */
export const INSTALL_COMMAND = "sudo apt-get install libonnx-testdata";

export const MISSING_MESSAGE =
  `ONNX backend node tests not found at ${NODE_TESTS_DIR}. Install them with ` +
  `\`${INSTALL_COMMAND}\`, or point ONNX_NODE_TESTS at a copy of onnx/backend/test/data/node.`;

export function haveTestData(): boolean {
  return existsSync(NODE_TESTS_DIR);
}

/** CI must run every case; a developer's machine may lack the data (CI=true is what CI sets). */
export function dataRequired(env: NodeJS.ProcessEnv = process.env): boolean {
  const ci = (env.CI ?? "").trim().toLowerCase();
  return ci !== "" && ci !== "0" && ci !== "false";
}

/** ONNX TensorProto element types used by the node tests we run. */
export const ElemType = { FLOAT: 1, UINT8: 2, INT8: 3, INT32: 6, INT64: 7, BOOL: 9, DOUBLE: 11 } as const;

export interface TestTensor {
  name: string;
  dataType: number;
  dims: number[];
  values: Float64Array;
}

export interface NodeTestCase {
  name: string;
  model: IModelProto;
  /** Data sets, each with inputs and expected outputs in graph order. */
  sets: { inputs: TestTensor[]; outputs: TestTensor[] }[];
}

export function listCases(pattern: RegExp): string[] {
  if (!existsSync(NODE_TESTS_DIR)) throw new Error(MISSING_MESSAGE);
  return readdirSync(NODE_TESTS_DIR)
    .filter((d) => pattern.test(d))
    .sort();
}

function readTensor(path: string): TestTensor {
  const t: ITensorProto = onnx.TensorProto.decode(readFileSync(path));
  const dims = tensorDims(t);
  const dt = t.dataType ?? 0;
  let values: Float64Array;
  if (dt === ElemType.UINT8 || dt === ElemType.INT8 || dt === ElemType.BOOL) {
    // 8-bit types: raw bytes, or int32_data when written without raw_data.
    const n = dims.reduce((a, b) => a * b, 1);
    const raw = t.rawData && t.rawData.length > 0 ? t.rawData : undefined;
    values = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const v = raw ? raw[i]! : Number(t.int32Data?.[i] ?? 0);
      values[i] = dt === ElemType.INT8 && v > 127 ? v - 256 : v;
    }
  } else values = tensorValues(t, path);
  return { name: t.name ?? "", dataType: dt, dims, values };
}

export function loadCase(name: string): NodeTestCase {
  const dir = join(NODE_TESTS_DIR, name);
  const model = decodeModel(readFileSync(join(dir, "model.onnx")));
  const sets = readdirSync(dir)
    .filter((d) => d.startsWith("test_data_set_"))
    .sort()
    .map((d) => {
      const files = readdirSync(join(dir, d));
      const pick = (prefix: string) =>
        files
          .filter((f) => f.startsWith(prefix) && f.endsWith(".pb"))
          .sort((a, b) => Number(a.slice(prefix.length, -3)) - Number(b.slice(prefix.length, -3)))
          .map((f) => readTensor(join(dir, d, f)));
      return { inputs: pick("input_"), outputs: pick("output_") };
    });
  return { name, model, sets };
}
