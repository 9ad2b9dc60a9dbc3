/**
 * Converter: LogSoftmax, x − max − log Σ exp(x − max): softmax's shifted exps and their sum, then a LUT
 * −log s, a GATHER broadcasting it over the row and an ADD; over the last axis, a middle axis (GATHERs
 * moving it last and back) and opset 11's flattened axes; its decomposed form (ReduceMax, Sub, Exp,
 * ReduceSum, Log, Sub) through the generic rules. Each against onnxruntime's float op, parsed, and run bit
 * for bit alike by onnxruntime and the reference interpreter.
 */
import { expect } from "chai";

import { ConvertError, convertModel } from "../../offchain/convert/index.js";
import type { ConversionResult } from "../../offchain/convert/index.js";
import type { INodeProto, ITensorProto } from "../../offchain/model/onnx.js";
import { checkConversion } from "./check.js";
import { floatModel, int64, node, rand } from "./float-model.js";

const r = rand(77);
const numel = (s: number[]): number => s.reduce((a, b) => a * b, 1);
const kinds = (c: ConversionResult): string[] => c.layers.map((l) => l.kind);

async function convertAndCheck(shape: number[], nodes: INodeProto[], inits: ITensorProto[], opset = 13, tolerance = 0.05): Promise<ConversionResult> {
  const bytes = floatModel(shape, nodes, inits, "y", opset);
  const inputs = Array.from({ length: 8 }, () => r(numel(shape), -4, 4));
  const conv = convertModel(bytes, { calibration: inputs });
  await checkConversion(bytes, conv, inputs, { tolerance });
  return conv;
}

describe("convert: LogSoftmax", function () {
  this.timeout(60_000);
  const LAYERS = ["RESHAPE", "MAXPOOL", "MUL", "GATHER", "ADD", "LUT", "RESHAPE", "CONV", "LUT", "GATHER", "ADD", "RESHAPE"];

  it("over the last axis of [1, 3, 10]: softmax's shifted exps and sum, a LUT −log s, GATHER, ADD", async function () {
    const conv = await convertAndCheck([1, 3, 10], [node("LogSoftmax", ["x"], "y", "lsm")], []);
    expect(kinds(conv)).to.deep.equal(LAYERS);
    expect(conv.layers.map((l) => l.ops)).to.satisfy((ops: string[]) => ops.every((o) => o.startsWith("LogSoftmax")));
  });

  it("a classifier's [1, 10] (axis −1), a middle axis (GATHERs), opset 11's flattened axes", async function () {
    await convertAndCheck([1, 10], [node("LogSoftmax", ["x"], "y", "lsm", { axis: -1 })], []);
    const mid = await convertAndCheck([1, 4, 3, 5], [node("LogSoftmax", ["x"], "y", "lsm", { axis: 2 })], []);
    expect(kinds(mid)[0]).to.equal("GATHER");
    expect(kinds(mid)[kinds(mid).length - 1]).to.equal("GATHER");
    await convertAndCheck([1, 3, 4], [node("LogSoftmax", ["x"], "y", "lsm")], [], 11);
  });

  it("decomposed (ReduceMax, Sub, Exp, ReduceSum, Log, Sub): Log is a LUT, within the same tolerance", async function () {
    await convertAndCheck(
      [1, 3, 6],
      [
        node("ReduceMax", ["x"], "m", "max", { axes: [-1], keepdims: 1 }),
        node("Sub", ["x", "m"], "d", "sub"),
        node("Exp", ["d"], "e", "exp"),
        node("ReduceSum", ["e", "last"], "s", "sum", { keepdims: 1 }),
        node("Log", ["s"], "l", "log"),
        node("Sub", ["d", "l"], "y", "sub2"),
      ],
      [int64("last", [1], [-1])],
    );
  });

  it("refuses the batch axis by name", function () {
    expect(() => convertModel(floatModel([1, 4], [node("LogSoftmax", ["x"], "y", "lsm", { axis: 0 })], [], "y"), { calibration: [r(4)] })).to.throw(
      ConvertError,
      /node "lsm" \(LogSoftmax\): axis 0/,
    );
  });
});
