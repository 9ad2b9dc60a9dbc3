/**
 * The transformer kinds of canonical/1 (docs/SEMANTICS.md, offchain/model/layers.ts): DENSE over the
 * last axis of any rank, MATMUL, PRODUCT, GATHER and CONST. What the parser commits for each (params,
 * constants, ranges), what the reference computes on hand-checked examples, and every refusal.
 */
import { expect } from "chai";

import { encodeLayer, layerLeaf, paramCount } from "../../offchain/commitments/graph.js";
import { CanonicalModelBuilder } from "../../offchain/model/build.js";
import { parseCanonicalModel } from "../../offchain/model/canonical.js";
import type { CanonicalLayer } from "../../offchain/model/canonical.js";
import { ModelError } from "../../offchain/model/errors.js";
import type { ModelErrorCode } from "../../offchain/model/errors.js";
import { LayerKind } from "../../offchain/model/layers.js";
import { DataType, decodeModel, encodeModel } from "../../offchain/model/onnx.js";
import type { IModelProto } from "../../offchain/model/onnx.js";
import { runReference } from "../../offchain/runtime/reference.js";
import { transposeIndex } from "../runtime/helpers/models.js";

const LIM = 2 ** 24 - 1;

function expectModelError(f: () => unknown, code: ModelErrorCode, message: RegExp | string): void {
  try {
    f();
  } catch (e) {
    expect(e, String(e)).to.be.instanceOf(ModelError);
    const err = e as ModelError;
    expect(err.code, err.message).to.equal(code);
    if (typeof message === "string") expect(err.message).to.include(message);
    else expect(err.message).to.match(message);
    return;
  }
  expect.fail(`expected ModelError ${code}`);
}

function edit(bytes: Uint8Array, f: (m: IModelProto) => void): Uint8Array {
  const m = decodeModel(bytes);
  f(m);
  return encodeModel(m);
}

const ints = (a: ArrayLike<number>): number[] => Array.from(a);
const ops = (bytes: Uint8Array): string[] => (decodeModel(bytes).graph!.node ?? []).map((n) => n.opType ?? "");

describe("model: the transformer kinds", () => {
  describe("DENSE over the last axis", () => {
    // x [1, 2, 3] (two rows of K = 3), W [K, M] = [[1, 0], [2, -1], [0, 3]], B = [10, -1].
    const W = [1, 0, 2, -1, 0, 3];
    const build = (transB: boolean) =>
      new CanonicalModelBuilder([1, 2, 3], [-100, 100])
        .dense({ weight: transB ? [1, 2, 0, 0, -1, 3] : W, units: 2, transB, bias: [10, -1], shift: [0, 1], clip: [-1000, 1000], name: "tok" })
        .build();

    it("a rank-3 input is MatMul(x, W[K, M]) → Add(·, B), applied to every row", () => {
      const bytes = build(false);
      expect(ops(bytes)).to.deep.equal(["MatMul", "Add", "Mul", "Floor", "Clip"]);
      const m = parseCanonicalModel(bytes);
      const l = m.layers[0]!;
      expect(l.kind).to.equal(LayerKind.DENSE);
      expect(l.outShape).to.deep.equal([1, 2, 2]);
      expect(l.params).to.deep.equal([3, 2, -1000, 1000]);
      // Committed as [M, K], whatever the file spells.
      expect(ints(l.constants[0]!.values)).to.deep.equal([1, 2, 0, 0, -1, 3]);
      expect(ints(l.constants[1]!.values)).to.deep.equal([10, -1]);
      expect(ints(l.constants[2]!.values)).to.deep.equal([0, 1]);
      // Row 0 x = [1, 2, 3]: (10 + 1 + 4) >> 0 = 15, (-1 - 2 + 9) >> 1 = 3; row 1 x = [-1, 0, 5]: 9, (-1 + 15) >> 1 = 7.
      expect(ints(runReference(m, [1, 2, 3, -1, 0, 5]).pop()!)).to.deep.equal([15, 3, 9, 7]);
    });

    it("transB gives the same layer (the builder transposes the weight to [K, M])", () => {
      const a = parseCanonicalModel(build(false)).layers[0]!;
      const b = parseCanonicalModel(build(true)).layers[0]!;
      expect(layerLeaf(b)).to.equal(layerLeaf(a));
    });

    it("a [1, K] input stays a Gemm, with the leaf it always had", () => {
      const bytes = new CanonicalModelBuilder([1, 3], [-100, 100])
        .dense({ weight: W, units: 2, bias: [10, -1], shift: [0, 1], clip: [-1000, 1000], name: "tok" })
        .build();
      expect(ops(bytes)[0]).to.equal("Gemm");
      const l = parseCanonicalModel(bytes).layers[0]!;
      expect(l.outShape).to.deep.equal([1, 2]);
      // The leaf of a rank-3 DENSE differs only by its outShape.
      const r3 = parseCanonicalModel(build(false)).layers[0]!;
      expect(layerLeaf({ ...r3, inputs: l.inputs, outShape: l.outShape })).to.equal(layerLeaf(l));
    });

    it("per-unit constants follow the last axis; S or B per axis 1 is refused", () => {
      const bytes = new CanonicalModelBuilder([1, 4, 3], [-10, 10])
        .dense({ weight: new Array(6).fill(1), units: 2, shift: 0, clip: [-100, 100], name: "tok" })
        .build();
      const perAxis1 = edit(bytes, (m) => {
        const S = m.graph!.initializer!.find((t) => t.name === "tok/S")!;
        S.dims = [4, 1];
        S.rawData = new Uint8Array(new Float32Array(4).fill(1).buffer);
      });
      expectModelError(() => parseCanonicalModel(perAxis1), "BAD_PATTERN", /S "tok\/S".*\[4,1\].*one value per unit \(the last axis\)/);
    });

    it("refusals: W not [K, M], no Add, exactness naming the layer", () => {
      const bytes = new CanonicalModelBuilder([1, 2, 3], [-100, 100])
        .dense({ weight: W, units: 2, shift: 0, clip: [-1000, 1000], name: "tok" })
        .build();
      const wrongW = edit(bytes, (m) => (m.graph!.initializer!.find((t) => t.name === "tok/W")!.dims = [2, 3]));
      expectModelError(() => parseCanonicalModel(wrongW), "SHAPE", /MatMul at node "tok": W "tok\/W" has shape \[2,3\].*K = 3/);
      const noAdd = edit(bytes, (m) => {
        const g = m.graph!;
        g.node = g.node!.filter((n) => n.name !== "tok/bias");
        g.node.find((n) => n.name === "tok/mul")!.input![0] = "tok/mm";
      });
      expectModelError(() => parseCanonicalModel(noAdd), "BAD_PATTERN", /MatMul at node "tok" must be followed only by Add/);
      const big = new CanonicalModelBuilder([1, 5, 2], [-2048, 2047])
        .dense({ weight: [4096, 0, 4097, 0], units: 2, shift: 0, clip: [-100, 100], name: "fat" })
        .build();
      expectModelError(() => parseCanonicalModel(big), "EXACTNESS", /layer 1 \(DENSE "fat"\).*output channel 0.*16779264/);
    });
  });

  describe("MATMUL", () => {
    // a = x [1, 2, 2, 3] (G = 2, N = 2, K = 3), b = its transpose [1, 2, 3, 2] (M = 2): a·aᵀ per group.
    const xs = [1, 2, 3, 4, 5, 6, -1, 0, 1, 2, -2, 0];
    const model = () => {
      const t = transposeIndex([1, 2, 2, 3], [0, 1, 3, 2]);
      return new CanonicalModelBuilder([1, 2, 2, 3], [-10, 10])
        .gather({ inputs: [0], index: t.index, outShape: t.outShape, name: "xT" })
        .matmul({ input: 0, other: 1, shift: 1, clip: [-20, 20], name: "qk" });
    };

    it("params N, K, M, lo, hi and the shift; the reference computes a·b per group", () => {
      const m = parseCanonicalModel(model().build());
      const l = m.layers[1]!;
      expect(l.kind).to.equal(LayerKind.MATMUL);
      expect(l.inputs).to.deep.equal([0, 1]);
      expect(l.outShape).to.deep.equal([1, 2, 2, 2]);
      expect(l.params).to.deep.equal([2, 3, 2, -20, 20]);
      expect(ints(l.constants[0]!.values)).to.deep.equal([1]);
      expect(l.range).to.deep.equal([-20, 20]);
      // Group 0: [[14, 32], [32, 77]] >> 1 = [[7, 16], [16, 38 → 20]]; group 1: [[2, -2], [-2, 8]] >> 1.
      expect(ints(runReference(m, xs).pop()!)).to.deep.equal([7, 16, 16, 20, 1, -1, -1, 4]);
    });

    it("the same tensor twice (x·x, square x)", () => {
      const m = parseCanonicalModel(
        new CanonicalModelBuilder([1, 2, 2], [-5, 5]).matmul({ input: 0, other: 0, shift: 0, clip: [-100, 100], name: "sq" }).build(),
      );
      expect(m.layers[0]!.inputs).to.deep.equal([0, 0]);
      // [[1, 2], [3, 4]]² = [[7, 10], [15, 22]]
      expect(ints(runReference(m, [1, 2, 3, 4]).pop()!)).to.deep.equal([7, 10, 15, 22]);
    });

    it("K·max|a|·max|b| < 2^24: the edge is accepted, one past it refused naming the layer", () => {
      // K = 4, |a| <= 2048, |b| <= 2047: 4·2048·2047 = 16769024 < 2^24; with |b| up to 2048, 16777216.
      const build = (bmax: number) =>
        new CanonicalModelBuilder([1, 1, 4], [-2048, 2047])
          .constant({ values: [bmax, -bmax, 1, 0], shape: [1, 4, 1], name: "b" })
          .matmul({ input: 0, other: 1, shift: 0, clip: [-LIM, LIM], name: "attn" })
          .build();
      expect(parseCanonicalModel(build(2047)).layers[1]!.range).to.deep.equal([-4 * 2048 * 2047, 4 * 2048 * 2047]);
      expectModelError(() => parseCanonicalModel(build(2048)), "EXACTNESS", /layer 2 \(MATMUL "attn"\).*16777216/);
    });

    it("mismatched shapes are refused naming the layer", () => {
      const k = new CanonicalModelBuilder([1, 2, 3], [-1, 1])
        .constant({ values: new Array(8).fill(1), shape: [1, 4, 2], name: "b" })
        .matmul({ input: 0, other: 1, shift: 0, clip: [-9, 9], name: "bad" })
        .build();
      expectModelError(() => parseCanonicalModel(k), "SHAPE", /layer 2 \(MATMUL "bad"\): operands have shapes \[1,2,3\] and \[1,4,2\]/);
      const g = new CanonicalModelBuilder([1, 2, 2, 3], [-1, 1])
        .constant({ values: new Array(18).fill(1), shape: [1, 3, 3, 2], name: "b" })
        .matmul({ input: 0, other: 1, shift: 0, clip: [-9, 9], name: "groups" })
        .build();
      expectModelError(() => parseCanonicalModel(g), "SHAPE", /MATMUL "groups".*same leading axes/);
      const rank2 = new CanonicalModelBuilder([1, 3], [-1, 1])
        .constant({ values: [1, 1, 1], shape: [3, 1], name: "b" })
        .build();
      // A CONST must itself be [1, ...]; and a rank-2 MATMUL is refused.
      expectModelError(() => parseCanonicalModel(rank2), "SHAPE", /CONST "b"\) has output shape \[3,1\]/);
      const r2 = new CanonicalModelBuilder([1, 1], [-1, 1]).matmul({ input: 0, other: 0, shift: 0, clip: [-9, 9], name: "flat" }).build();
      expectModelError(() => parseCanonicalModel(r2), "SHAPE", /MATMUL "flat".*rank >= 3/);
    });

    it("MatMul(W, x) with a constant first operand is refused", () => {
      const bytes = new CanonicalModelBuilder([1, 2, 3], [-1, 1])
        .dense({ weight: new Array(6).fill(1), units: 2, shift: 0, clip: [-9, 9], name: "tok" })
        .build();
      const swapped = edit(bytes, (m) => (m.graph!.node![0]!.input = ["tok/W", "input"]));
      expectModelError(() => parseCanonicalModel(swapped), "BAD_PATTERN", /first operand "tok\/W" must be a layer output/);
    });
  });

  describe("PRODUCT", () => {
    it("Mul of two layer outputs is a PRODUCT (a Mul by a constant stays MUL)", () => {
      const m = parseCanonicalModel(
        new CanonicalModelBuilder([1, 4], [-10, 10])
          .relu({ name: "r" })
          .product({ input: 0, other: 1, shift: 1, clip: [-30, 30], name: "gate" })
          .mul({ factor: 3, shift: 0, clip: [-100, 100], name: "m" })
          .build(),
      );
      expect(m.layers.map((l) => l.kind)).to.deep.equal([LayerKind.RELU, LayerKind.PRODUCT, LayerKind.MUL]);
      const l = m.layers[1]!;
      expect(l.inputs).to.deep.equal([0, 1]);
      expect(l.params).to.deep.equal([-30, 30]);
      expect(ints(l.constants[0]!.values)).to.deep.equal([1]);
      // Intervals do not know x·relu(x) >= 0: [-10, 10]·[0, 10] = [-100, 100] >> 1, clipped to 30.
      expect(l.range).to.deep.equal([-30, 30]);
      expect(ints(runReference(m, [-3, 3, 7, 10]).slice(1, 2)[0]!)).to.deep.equal([0, 4, 24, 30]);
    });

    it("the same tensor twice is a square: its range starts at 0", () => {
      const m = parseCanonicalModel(
        new CanonicalModelBuilder([1, 3], [-7, 5]).product({ input: 0, other: 0, shift: 0, clip: [-100, 100], name: "sq" }).build(),
      );
      expect(m.layers[0]!.inputs).to.deep.equal([0, 0]);
      expect(m.layers[0]!.range).to.deep.equal([0, 49]);
      expect(ints(runReference(m, [-7, 0, 5]).pop()!)).to.deep.equal([49, 0, 25]);
      // Two different tensors: the corner products [-35, 25] >> 2 = [-9, 6] (floor).
      const n = parseCanonicalModel(
        new CanonicalModelBuilder([1, 2], [-7, 5])
          .relu()
          .product({ input: 0, other: 1, shift: 2, clip: [-100, 100], name: "p" })
          .build(),
      );
      expect(n.layers[1]!.range).to.deep.equal([-9, 6]);
      expect(ints(runReference(n, [-3, 5]).pop()!)).to.deep.equal([0, 6]);
    });

    it("exactness: 4096·4096 = 2^24 is refused, 4095·4096 accepted", () => {
      const build = (lo: number) =>
        new CanonicalModelBuilder([1, 2], [lo, 4095])
          .constant({ values: [4096, -4096], shape: [1, 2], name: "c" })
          .product({ input: 0, other: 1, shift: 0, clip: [-LIM, LIM], name: "gate" })
          .build();
      expect(parseCanonicalModel(build(-4095)).layers[1]!.range).to.deep.equal([-4095 * 4096, 4095 * 4096]);
      expectModelError(() => parseCanonicalModel(build(-4096)), "EXACTNESS", /layer 2 \(PRODUCT "gate"\).*16777216/);
    });

    it("operands of different shapes are refused naming the layer", () => {
      const bytes = new CanonicalModelBuilder([1, 4], [-1, 1])
        .constant({ values: [1, 2], shape: [1, 2], name: "c" })
        .product({ input: 0, other: 1, shift: 0, clip: [-9, 9], name: "p" })
        .build();
      expectModelError(() => parseCanonicalModel(bytes), "SHAPE", /layer 2 \(PRODUCT "p"\): operands have shapes \[1,4\] and \[1,2\]/);
    });
  });

  describe("GATHER", () => {
    // x [1, 2, 3], c [1, 2]: v = [x0..x5, c0, c1, 0].
    const build = (index: number[], outShape: number[]) =>
      new CanonicalModelBuilder([1, 2, 3], [-50, 50])
        .constant({ values: [100, -100], shape: [1, 2], name: "c" })
        .gather({ inputs: [0, 1], index, outShape, name: "mix" })
        .build();

    it("params are the inputs' sizes, the index table is committed as is, index Σn reads 0", () => {
      const bytes = build([5, 6, 8, 0, 7, 8], [1, 3, 2]);
      expect(ops(bytes)).to.deep.equal(["Identity", "Reshape", "Reshape", "Concat", "Gather", "Reshape"]);
      const m = parseCanonicalModel(bytes);
      const l = m.layers[1]!;
      expect(l.kind).to.equal(LayerKind.GATHER);
      expect(l.name).to.equal("mix");
      expect(l.inputs).to.deep.equal([0, 1]);
      expect(l.params).to.deep.equal([6, 2]);
      expect(paramCount(l)).to.equal(2);
      expect(ints(l.constants[0]!.values)).to.deep.equal([5, 6, 8, 0, 7, 8]);
      expect(l.outShape).to.deep.equal([1, 3, 2]);
      // The union of the inputs' ranges, and 0 (some index is Σn): [-100, 100].
      expect(l.range).to.deep.equal([-100, 100]);
      expect(ints(runReference(m, [1, 2, 3, 4, 5, 6]).pop()!)).to.deep.equal([6, 100, 0, 1, -100, 0]);
      expect(() => encodeLayer(l)).to.not.throw();
    });

    it("a GATHER with one param per input is what the graph commitment accepts", () => {
      const l = parseCanonicalModel(build([0], [1, 1])).layers[1]!;
      const wrong: CanonicalLayer = { ...l, params: [6] };
      expect(() => encodeLayer(wrong)).to.throw(/2 needs|needs 2/);
      expect(() => encodeLayer({ ...l, params: [6, 2, 0] })).to.throw(/needs 2/);
    });

    it("the range adds 0 only when some index reads the zero", () => {
      const m = parseCanonicalModel(
        new CanonicalModelBuilder([1, 2], [3, 9]).gather({ inputs: [0], index: [1, 0, 1], outShape: [1, 3], name: "g" }).build(),
      );
      expect(m.layers[0]!.range).to.deep.equal([3, 9]);
      const z = parseCanonicalModel(
        new CanonicalModelBuilder([1, 2], [3, 9]).gather({ inputs: [0], index: [1, 2], outShape: [1, 2], name: "g" }).build(),
      );
      expect(z.layers[0]!.range).to.deep.equal([0, 9]);
    });

    it("an index outside [0, Σn] is refused naming the layer", () => {
      expectModelError(() => parseCanonicalModel(build([9], [1, 1])), "SHAPE", /layer 2 \(GATHER "mix"\): index 9 at position 0 .*outside \[0, 8\]/);
      expectModelError(() => parseCanonicalModel(build([0, -1], [1, 2])), "SHAPE", /layer 2 \(GATHER "mix"\): index -1 at position 1/);
    });

    it("a flatten that is not the whole input (params not the input's size) is refused", () => {
      const bytes = edit(build([0], [1, 1]), (m) => {
        const g = m.graph!;
        g.initializer!.push({ name: "five", dims: [1], dataType: DataType.INT64, rawData: new Uint8Array(BigInt64Array.of(5n).buffer) });
        g.node!.find((n) => n.name === "mix/flat0")!.input![1] = "five";
      });
      expectModelError(() => parseCanonicalModel(bytes), "SHAPE", /Reshape at node "mix\/flat0": cannot reshape \[1,2,3\] to \[5\]/);
    });

    it("the pattern's other parts: Z = [0] last, int64 indices, axis 0, the final Reshape", () => {
      const good = build([0, 1], [1, 2]);
      const zOne = edit(good, (m) => (m.graph!.initializer!.find((t) => t.name === "mix/Z")!.rawData = new Uint8Array(Float32Array.of(1).buffer)));
      expectModelError(() => parseCanonicalModel(zOne), "BAD_PATTERN", /Z "mix\/Z" must be \[0\]/);
      const noZ = edit(good, (m) => (m.graph!.node!.find((n) => n.name === "mix")!.input = ["mix/flat0", "mix/flat1"]));
      expectModelError(() => parseCanonicalModel(noZ), "BAD_PATTERN", /last operand must be the initializer Z/);
      const floatIdx = edit(good, (m) => {
        const t = m.graph!.initializer!.find((x) => x.name === "mix/idx")!;
        t.dataType = DataType.FLOAT;
        t.rawData = new Uint8Array(Float32Array.of(0, 1).buffer);
      });
      expectModelError(() => parseCanonicalModel(floatIdx), "BAD_PATTERN", /indices "mix\/idx" must be int64/);
      const axis1 = edit(good, (m) => (m.graph!.node!.find((n) => n.name === "mix/gather")!.attribute = [{ name: "axis", type: 2, i: 1 }]));
      expectModelError(() => parseCanonicalModel(axis1), "BAD_PATTERN", /Gather at node "mix\/gather": axis must be 0/);
      const noReshape = edit(good, (m) => {
        const g = m.graph!;
        g.node = g.node!.filter((n) => n.name !== "mix/reshape");
      });
      expectModelError(() => parseCanonicalModel(noReshape), "BAD_PATTERN", /Gather at node "mix\/gather" must be followed only by Reshape/);
      const rank1 = edit(good, (m) => {
        const t = m.graph!.initializer!.find((x) => x.name === "mix/shape")!;
        t.dims = [1];
        t.rawData = new Uint8Array(BigInt64Array.of(2n).buffer);
      });
      expectModelError(() => parseCanonicalModel(rank1), "SHAPE", /GATHER "mix"\) has output shape \[2\]/);
    });

    it("a Concat operand that is not a flattened layer output is refused", () => {
      const bytes = edit(build([0, 1], [1, 2]), (m) => {
        const g = m.graph!;
        g.initializer!.push({ name: "k", dims: [2], dataType: DataType.FLOAT, rawData: new Uint8Array(Float32Array.of(1, 2).buffer) });
        g.node!.find((n) => n.name === "mix")!.input = ["mix/flat0", "k", "mix/Z"];
        g.node = g.node!.filter((n) => n.name !== "mix/flat1");
      });
      expectModelError(() => parseCanonicalModel(bytes), "BAD_PATTERN", /operand "k" must be the output of a Reshape\(t, \[-1\]\)/);
    });

    it("the same input twice, and inputs produced after other layers' nodes", () => {
      const m = parseCanonicalModel(
        new CanonicalModelBuilder([1, 2], [-5, 5])
          .relu({ name: "r" })
          .gather({ inputs: [1, 0, 1], index: [0, 3, 5, 6], outShape: [1, 2, 2], name: "g" })
          .build(),
      );
      expect(m.layers[1]!.inputs).to.deep.equal([1, 0, 1]);
      expect(m.layers[1]!.params).to.deep.equal([2, 2, 2]);
      expect(ints(runReference(m, [-3, 4]).pop()!)).to.deep.equal([0, 4, 4, 0]);
      // The flatten of x placed first, before the Relu: the GATHER is still matched at its Concat.
      const early = edit(m.bytes, (p) => {
        const g = p.graph!;
        const f = g.node!.find((n) => n.name === "g/flat1")!;
        g.node = [f, ...g.node!.filter((n) => n !== f)];
      });
      const e = parseCanonicalModel(early);
      expect(e.layers.map((l) => [l.kind, l.inputs])).to.deep.equal([[LayerKind.RELU, [0]], [LayerKind.GATHER, [1, 0, 1]]]);
      expect(ints(runReference(e, [-3, 4]).pop()!)).to.deep.equal([0, 4, 4, 0]);
    });
  });

  describe("CONST", () => {
    it("Identity(C): no inputs, C in row-major order, its range is [min C, max C]", () => {
      const m = parseCanonicalModel(
        new CanonicalModelBuilder([1, 2], [-5, 5])
          .constant({ values: [3, -4, 7, 0], shape: [1, 2, 2], name: "pos" })
          .build(),
      );
      const l = m.layers[0]!;
      expect(l.kind).to.equal(LayerKind.CONST);
      expect(l.inputs).to.deep.equal([]);
      expect(l.params).to.deep.equal([]);
      expect(paramCount(l)).to.equal(0);
      expect(l.outShape).to.deep.equal([1, 2, 2]);
      expect(ints(l.constants[0]!.values)).to.deep.equal([3, -4, 7, 0]);
      expect(l.constants[0]!.shape).to.deep.equal([4]);
      expect(l.range).to.deep.equal([-4, 7]);
      expect(ints(runReference(m, [1, 1]).pop()!)).to.deep.equal([3, -4, 7, 0]);
    });

    it("Identity of a layer output, a non-integer C or |C| >= 2^24 is refused", () => {
      const bytes = new CanonicalModelBuilder([1, 2], [-5, 5]).relu({ name: "r" }).custom({ opType: "Identity", name: "id", outShape: [1, 2] }).build();
      expectModelError(() => parseCanonicalModel(bytes), "BAD_PATTERN", /Identity at node "id": a CONST layer is Identity\(C\) of an initializer C/);
      const half = new CanonicalModelBuilder([1, 2], [-5, 5]).constant({ values: [0.5, 1], shape: [1, 2], name: "c" }).build();
      expectModelError(() => parseCanonicalModel(half), "NOT_INTEGER", /initializer "c\/C".*0.5/);
      const big = new CanonicalModelBuilder([1, 2], [-5, 5]).constant({ values: [2 ** 24, 1], shape: [1, 2], name: "c" }).build();
      expectModelError(() => parseCanonicalModel(big), "NOT_INTEGER", /initializer "c\/C"/);
    });
  });

  it("ADD and MUL keep their meaning next to the new kinds", () => {
    const m = parseCanonicalModel(
      new CanonicalModelBuilder([1, 2, 2], [-10, 10])
        .constant({ values: [1, 2, 3, 4], shape: [1, 2, 2], name: "pos" })
        .add({ input: 0, other: 1, shift: 0, clip: [-100, 100], name: "embed" })
        .mul({ factor: [2, -1], shift: 1, clip: [-100, 100], name: "scale" })
        .build(),
    );
    expect(m.layers.map((l) => l.kind)).to.deep.equal([LayerKind.CONST, LayerKind.ADD, LayerKind.MUL]);
    expect(m.layers[1]!.inputs).to.deep.equal([0, 1]);
    // x + pos = [2, 4, 6, 8]; · [2, 2, -1, -1] per channel >> 1 = [2, 4, -3, -4].
    expect(ints(runReference(m, [1, 2, 3, 4]).pop()!)).to.deep.equal([2, 4, -3, -4]);
  });

  it("every kind has a param count the graph commitment knows", () => {
    for (const kind of Object.values(LayerKind)) {
      const n = paramCount({ kind, inputs: [0, 1, 2] });
      expect(n, `kind ${kind}`).to.be.at.least(0);
    }
    expect(paramCount({ kind: LayerKind.GATHER, inputs: [0, 1, 2] })).to.equal(3);
  });
});
