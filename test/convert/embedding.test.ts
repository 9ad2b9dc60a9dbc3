/**
 * Converter: Gather as an embedding lookup. Gather(E, ids) of a constant table E [V, D] by token ids
 * (the graph input, int64 / int32, or float cast to int64) is a MUL (ids·D), a GATHER (broadcast over D),
 * a CONST (d = 0..D − 1), an ADD (the flat index, exact at scale 1) and ONE LUT holding E flattened:
 * checked against onnxruntime's float model on random ids, parsed, and run bit for bit alike by
 * onnxruntime and the reference interpreter on the canonical file; a table larger than the LUT limit is
 * refused by name with its numbers. GatherElements with constant indices: one GATHER.
 */
import { expect } from "chai";

import { ConvertError, convertModel } from "../../offchain/convert/index.js";
import type { ConversionResult } from "../../offchain/convert/index.js";
import type { INodeProto, ITensorProto } from "../../offchain/model/onnx.js";
import { checkConversion } from "./check.js";
import { floatModel, int64, node, rand, tensor } from "./float-model.js";

const numel = (s: number[]): number => s.reduce((a, b) => a * b, 1);
const kinds = (c: ConversionResult): string[] => c.layers.map((l) => l.kind);

/** Random token ids in 0..V − 1 (as numbers: the calibration and test inputs). */
function ids(seed: number, count: number, shape: number[], V: number): Float32Array[] {
  const r = rand(seed);
  return Array.from({ length: count }, () => Float32Array.from(r(numel(shape), 0, V), (v) => Math.min(Math.floor(v), V - 1)));
}

const check = (bytes: Uint8Array, conv: ConversionResult, inputs: Float32Array[]): Promise<number> => checkConversion(bytes, conv, inputs);

describe("convert: Gather as an embedding lookup", function () {
  this.timeout(60_000);
  const w = rand(5);
  const V = 50;
  const D = 8;
  const M = 4;
  const inits = (): ITensorProto[] => [tensor("E", [V, D], w(V * D)), tensor("W", [D, M], w(D * M)), tensor("B", [M], w(M))];
  const lookupThenLinear = (ids: string): INodeProto[] => [
    node("Gather", ["E", ids], "e", "embed"),
    node("MatMul", ["e", "W"], "h", "proj"),
    node("Add", ["h", "B"], "y", "bias"),
  ];

  it("int64 ids [1, T] → Gather → Linear: MUL, GATHER, CONST, ADD, LUT (the table), DENSE; within the bound of onnxruntime", async function () {
    const shape = [1, 6];
    const bytes = floatModel(shape, lookupThenLinear("x"), inits(), "y", 13, 7);
    const inputs = ids(11, 12, shape, V);
    const conv = convertModel(bytes, { calibration: inputs });
    expect(kinds(conv)).to.deep.equal(["MUL", "GATHER", "CONST", "ADD", "LUT", "DENSE"]);
    expect(conv.inputScale).to.equal(1);
    expect(conv.inputRange).to.deep.equal([0, V - 1]);
    // The LUT's table is E flattened: V·D entries over the flat index 0..V·D − 1.
    const lut = conv.model.layers[4]!;
    expect(lut.params.slice(0, 2).map((p) => p + 0)).to.deep.equal([0, V * D - 1]);
    expect(lut.constants[0]!.values.length).to.equal(V * D);
    // The lookup itself errs by the table's rounding only (half a unit); the Linear adds its own.
    expect(conv.layers[4]!.errorBound).to.equal(conv.layers[4]!.scale / 2);
    await check(bytes, conv, ids(12, 10, shape, V));
  });

  it("the lookup alone is the float table to half a unit, every id (0 and V − 1 included)", async function () {
    const shape = [1, V];
    const bytes = floatModel(shape, [node("Gather", ["E", "x"], "y", "embed")], [tensor("E", [V, D], w(V * D))], "y", 13, 7);
    const all = [Float32Array.from({ length: V }, (_, i) => i), Float32Array.from({ length: V }, (_, i) => V - 1 - i)];
    const conv = convertModel(bytes, { calibration: all });
    const err = await check(bytes, conv, all);
    expect(err).to.be.at.most(conv.outputScale / 2 + 1e-9);
  });

  it("float ids cast to int64, ids [1, B, T] and a table [V, D1, D2]; int32 ids", async function () {
    const shape = [1, 2, 3];
    const bytes = floatModel(shape, [node("Cast", ["x"], "xi", "cast", { to: 7 }), ...lookupThenLinear("xi")], inits(), "y");
    const inputs = ids(13, 8, shape, V);
    const conv = convertModel(bytes, { calibration: inputs });
    expect(conv.inputScale).to.equal(1);
    await check(bytes, conv, inputs);

    const E3 = tensor("E", [V, 2, 3], w(V * 6));
    const b3 = floatModel([1, 4], [node("Gather", ["E", "x"], "y", "embed")], [E3], "y", 13, 6);
    const in3 = ids(14, 6, [1, 4], V);
    const c3 = convertModel(b3, { calibration: in3 });
    expect(c3.model.layers[c3.model.layers.length - 1]!.outShape).to.deep.equal([1, 4, 2, 3]);
    await check(b3, c3, in3);
  });

  it("ids through a Reshape, D = 1 (a clip and the LUT)", async function () {
    const bytes = floatModel(
      [1, 2, 3],
      [node("Reshape", ["x", "shape"], "xr", "flat"), node("Gather", ["E", "xr"], "y", "embed")],
      [int64("shape", [2], [1, 6]), tensor("E", [V, 1], w(V))],
      "y", 13, 7,
    );
    const inputs = ids(15, 6, [1, 2, 3], V);
    const conv = convertModel(bytes, { calibration: inputs });
    expect(kinds(conv)).to.not.include("MUL");
    await check(bytes, conv, inputs);
  });

  it("refuses a table larger than the LUT limit, by name with the numbers; and real-valued indices", function () {
    const big = floatModel([1, 4], [node("Gather", ["E", "x"], "y", "embed")], [tensor("E", [1000, 80], new Float32Array(80_000))], "y", 13, 7);
    let err: unknown;
    try {
      convertModel(big, { calibration: ids(1, 2, [1, 4], 1000) });
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(ConvertError);
    expect((err as ConvertError).message).to.match(/node "embed" \(Gather\).*embedding table of 1000×80 = 80000 entries exceeds the LUT size limit maxLutSize \(65536\)/);
    // The same table with a larger limit converts.
    const conv = convertModel(big, { calibration: ids(1, 2, [1, 4], 1000), maxLutSize: 80_000 });
    expect(kinds(conv)).to.include("LUT");
    const real = floatModel([1, 4], [node("Relu", ["x"], "r", "relu"), node("Cast", ["r"], "ri", "cast", { to: 7 }), node("Gather", ["E", "ri"], "y", "embed")], [tensor("E", [V, D], w(V * D))], "y");
    expect(() => convertModel(real, { calibration: ids(1, 2, [1, 4], V) })).to.throw(ConvertError, /\(Cast\).*to=7/);
  });

  it("refuses token ids at another input scale", function () {
    const bytes = floatModel([1, 3], lookupThenLinear("x"), inits(), "y", 13, 7);
    expect(() => convertModel(bytes, { calibration: ids(1, 2, [1, 3], V), input: { scale: 0.5, lo: 0, hi: 100 } })).to.throw(ConvertError, /token ids must be exact integers at scale 1/);
  });
});

describe("convert: GatherElements with constant indices", function () {
  this.timeout(60_000);
  const r = rand(21);

  it("along the last axis and a middle one (negative indices too): one GATHER, the float values moved exactly", async function () {
    const shape = [1, 3, 4];
    for (const [axis, dims, values] of [
      [2, [1, 3, 2], [0, 3, 1, 1, 2, -1]],
      [1, [1, 2, 4], [2, 0, 1, -3, 0, 0, 2, 1]],
    ] as [number, number[], number[]][]) {
      const bytes = floatModel(shape, [node("GatherElements", ["x", "I"], "y", "ge", { axis })], [int64("I", dims, values)], "y");
      const inputs = Array.from({ length: 4 }, () => r(12));
      const conv = convertModel(bytes, { calibration: inputs });
      expect(kinds(conv)).to.deep.equal(["GATHER"]);
      await check(bytes, conv, inputs);
    }
  });

  it("after a Relu on a computed tensor, and refuses computed indices by name", async function () {
    const bytes = floatModel([1, 2, 3], [node("Relu", ["x"], "h", "relu"), node("GatherElements", ["h", "I"], "y", "ge", { axis: 2 })], [int64("I", [1, 2, 3], [2, 1, 0, 0, 0, 1])], "y");
    const inputs = Array.from({ length: 4 }, () => r(6));
    await check(bytes, convertModel(bytes, { calibration: inputs }), inputs);
    const computed = floatModel(
      [1, 2, 2],
      [node("Cast", ["x"], "xi", "cast", { to: 7 }), node("GatherElements", ["D", "xi"], "y", "ge", { axis: 1 })],
      [tensor("D", [1, 2, 2], [1, 2, 3, 4])],
      "y",
    );
    expect(() => convertModel(computed, { calibration: [r(4)] })).to.throw(ConvertError, /node "ge" \(GatherElements\): indices "x" must be a constant/);
  });
});
