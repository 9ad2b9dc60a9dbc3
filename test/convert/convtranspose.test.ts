/**
 * Converter: ConvTranspose (a zero-inserting GATHER and a CONV with the flipped kernel), Resize / Upsample
 * (nearest: a GATHER; linear at integer upsampling factors: an edge GATHER and a fixed-weight CONV),
 * DepthToSpace / SpaceToDepth and Pad edge / reflect / wrap (GATHERs), each in a small float model checked
 * against onnxruntime's float result within the stated bound, parsed back by parseCanonicalModel and run
 * bit for bit alike by onnxruntime and the reference interpreter; what is not supported, refused by name.
 */
import { expect } from "chai";

import { ConvertError, convertModel } from "../../offchain/convert/index.js";
import type { ConversionResult } from "../../offchain/convert/index.js";
import { linearKernel, nearestMap, padMap } from "../../offchain/convert/resample.js";
import { parseCanonicalModel } from "../../offchain/model/canonical.js";
import type { INodeProto, ITensorProto } from "../../offchain/model/onnx.js";
import type { Attr } from "./float-model.js";
import { checkConversion } from "./check.js";
import { floatModel, int64, node, rand, tensor } from "./float-model.js";

const r = rand(41);
const numel = (s: number[]): number => s.reduce((a, b) => a * b, 1);
const calib = (n: number, shape: number[]): Float32Array[] => Array.from({ length: n }, () => r(numel(shape)));
const kinds = (c: ConversionResult): string[] => c.layers.map((l) => l.kind);

const check = (bytes: Uint8Array, conv: ConversionResult, inputs: Float32Array[]): Promise<number> => checkConversion(bytes, conv, inputs);

async function convertAndCheck(shape: number[], nodes: INodeProto[], inits: ITensorProto[], opset = 13): Promise<{ conv: ConversionResult; err: number }> {
  const bytes = floatModel(shape, nodes, inits, "y", opset);
  const inputs = calib(8, shape);
  const conv = convertModel(bytes, { calibration: inputs });
  return { conv, err: await check(bytes, conv, inputs) };
}

function refusal(shape: number[], nodes: INodeProto[], inits: ITensorProto[], opset = 13): ConvertError {
  try {
    convertModel(floatModel(shape, nodes, inits, "y", opset), { calibration: calib(2, shape) });
  } catch (e) {
    expect(e).to.be.instanceOf(ConvertError);
    return e as ConvertError;
  }
  throw new Error("converted");
}

describe("convert: ConvTranspose, Resize, DepthToSpace, SpaceToDepth, Pad modes", function () {
  this.timeout(60_000);

  describe("ConvTranspose", function () {
    const cases: { what: string; x: number[]; w: number[]; attrs: Record<string, Attr>; bias?: boolean }[] = [
      { what: "stride 1, no pads", x: [1, 2, 4, 5], w: [2, 3, 3, 3], attrs: {} },
      { what: "stride 2, pads 1, bias", x: [1, 3, 4, 4], w: [3, 4, 3, 3], attrs: { strides: [2, 2], pads: [1, 1, 1, 1] }, bias: true },
      { what: "strides 3×2, uneven pads, output_padding", x: [1, 2, 3, 4], w: [2, 2, 3, 2], attrs: { strides: [3, 2], pads: [0, 1, 2, 0], output_padding: [1, 1] }, bias: true },
      { what: "output_shape (pads derived)", x: [1, 1, 3, 3], w: [1, 2, 3, 3], attrs: { strides: [3, 2], output_shape: [10, 8] } },
      { what: "pads larger than k − 1 (the GATHER crops)", x: [1, 2, 5, 5], w: [2, 2, 2, 2], attrs: { strides: [2, 2], pads: [2, 2, 2, 2] } },
      { what: "grouped (group 2), 4×4 kernel stride 2 (a learned 2× upsampler)", x: [1, 4, 3, 3], w: [4, 3, 4, 4], attrs: { strides: [2, 2], pads: [1, 1, 1, 1], group: 2 }, bias: true },
      { what: "depthwise (group = channels)", x: [1, 3, 4, 4], w: [3, 1, 2, 2], attrs: { strides: [2, 2], group: 3 } },
    ];
    for (const c of cases) {
      it(`${c.what}: a GATHER and a CONV, within the bound of onnxruntime's float ConvTranspose`, async function () {
        const w = rand(7);
        const group = (c.attrs.group as number | undefined) ?? 1;
        const M = c.w[1]! * group;
        const inits = [tensor("W", c.w, w(numel(c.w), -0.5, 0.5)), ...(c.bias ? [tensor("B", [M], w(M))] : [])];
        const { conv } = await convertAndCheck(c.x, [node("ConvTranspose", ["x", "W", ...(c.bias ? ["B"] : [])], "y", "up", c.attrs)], inits);
        expect(kinds(conv)).to.deep.equal(["GATHER", "CONV"]);
      });
    }

    it("after a Conv+Relu, and followed by one: the zero-inserting GATHER reads the 0 of a non-negative group", async function () {
      const w = rand(9);
      const { conv } = await convertAndCheck(
        [1, 2, 6, 6],
        [
          node("Conv", ["x", "W1"], "h", "down", { strides: [2, 2], pads: [1, 1, 1, 1] }),
          node("Relu", ["h"], "hr", "relu"),
          node("ConvTranspose", ["hr", "W2", "B2"], "u", "up", { strides: [2, 2], pads: [1, 1, 1, 1], output_padding: [1, 1] }),
          node("Conv", ["u", "W3"], "y", "head", { pads: [1, 1, 1, 1] }),
        ],
        [tensor("W1", [4, 2, 3, 3], w(72, -0.4, 0.4)), tensor("W2", [4, 3, 3, 3], w(108, -0.4, 0.4)), tensor("B2", [3], w(3)), tensor("W3", [2, 3, 3, 3], w(54, -0.4, 0.4))],
      );
      expect(kinds(conv)).to.deep.equal(["CONV", "GATHER", "CONV", "CONV"]);
    });

    it("refuses dilations, 1-D and 3-D by name", function () {
      const w = rand(3);
      expect(refusal([1, 1, 3, 3], [node("ConvTranspose", ["x", "W"], "y", "up", { dilations: [2, 2] })], [tensor("W", [1, 1, 2, 2], w(4))]).message).to.match(
        /node "up" \(ConvTranspose\).*dilations/,
      );
      expect(refusal([1, 1, 3], [node("ConvTranspose", ["x", "W"], "y", "up")], [tensor("W", [1, 2, 3], w(6))]).message).to.match(/\(ConvTranspose\).*2-D/);
      expect(refusal([1, 1, 3, 4, 5], [node("ConvTranspose", ["x", "W"], "y", "up")], [tensor("W", [1, 2, 3, 3, 3], w(54))]).code).to.equal("UNSUPPORTED_ATTR");
    });
  });

  describe("Resize", function () {
    const scales = (name: string, v: number[]): ITensorProto => tensor(name, [v.length], v);
    const nearestCases: { what: string; x: number[]; attrs: Record<string, Attr>; scales?: number[]; sizes?: number[] }[] = [
      { what: "scales 2×3 (half_pixel, round_prefer_floor)", x: [1, 2, 3, 3], attrs: { mode: "nearest" }, scales: [1, 1, 2, 3] },
      { what: "sizes 7×8", x: [1, 1, 3, 3], attrs: { mode: "nearest" }, sizes: [1, 1, 7, 8] },
      { what: "downsampling sizes 3×2, tf_half_pixel_for_nn", x: [1, 2, 5, 4], attrs: { mode: "nearest", coordinate_transformation_mode: "tf_half_pixel_for_nn" }, sizes: [1, 2, 3, 2] },
      { what: "align_corners, floor", x: [1, 1, 4, 4], attrs: { mode: "nearest", coordinate_transformation_mode: "align_corners", nearest_mode: "floor" }, sizes: [1, 1, 8, 7] },
      { what: "asymmetric, round_prefer_ceil", x: [1, 1, 4, 4], attrs: { mode: "nearest", coordinate_transformation_mode: "asymmetric", nearest_mode: "round_prefer_ceil" }, sizes: [1, 1, 8, 8] },
      { what: "half_pixel, ceil", x: [1, 2, 4, 4], attrs: { mode: "nearest", nearest_mode: "ceil" }, sizes: [1, 2, 8, 8] },
      { what: "pytorch_half_pixel on [1, N, D] tokens", x: [1, 3, 5], attrs: { mode: "nearest", coordinate_transformation_mode: "pytorch_half_pixel" }, sizes: [1, 6, 5] },
    ];
    for (const c of nearestCases) {
      it(`nearest, ${c.what}: one GATHER, exact (within half an input unit)`, async function () {
        const inits = c.scales ? [scales("s", c.scales)] : [int64("sz", [c.sizes!.length], c.sizes!)];
        const ins = c.scales ? ["x", "", "s"] : ["x", "", "", "sz"];
        const { conv } = await convertAndCheck(c.x, [node("Resize", ins, "y", "resize", c.attrs)], inits);
        expect(kinds(conv)).to.deep.equal(["GATHER"]);
      });
    }

    it("nearest index maps follow the operator's formulas", function () {
      const a = (n: number, m: number, scale = m / n) => ({ n, m, scale, roiStart: 0, roiEnd: 1 });
      expect(Array.from(nearestMap(a(2, 4), "half_pixel", "round_prefer_floor"))).to.deep.equal([0, 0, 1, 1]);
      expect(Array.from(nearestMap(a(4, 8), "align_corners", "floor"))).to.deep.equal([0, 0, 0, 1, 1, 2, 2, 3]);
      expect(Array.from(nearestMap(a(4, 8), "asymmetric", "round_prefer_ceil"))).to.deep.equal([0, 1, 1, 2, 2, 3, 3, 3]);
      expect(Array.from(nearestMap(a(4, 8), "half_pixel", "ceil"))).to.deep.equal([0, 1, 1, 2, 2, 3, 3, 3]);
      expect(Array.from(nearestMap({ n: 4, m: 3, scale: 0.75, roiStart: 0.4, roiEnd: 1.2 }, "tf_crop_and_resize", "round_prefer_floor"))).to.deep.equal([1, 2, -1]);
    });

    it("linear, ×2 half_pixel: the edge GATHER and the zero insertion fold into one GATHER, then a depthwise CONV of the bilinear kernel", async function () {
      const { conv } = await convertAndCheck([1, 2, 3, 4], [node("Resize", ["x", "", "s"], "y", "resize", { mode: "linear" })], [scales("s", [1, 1, 2, 2])]);
      expect(kinds(conv)).to.deep.equal(["GATHER", "CONV"]);
      expect(Array.from(linearKernel({ n: 3, m: 6, scale: 2, roiStart: 0, roiEnd: 1 }, "half_pixel") as Float64Array)).to.deep.equal([0, 0.25, 0.75, 0.75, 0.25, 0]); // the bilinear [1, 3, 3, 1] / 4
    });

    it("linear, ×3 by ×2 asymmetric (sizes), and pytorch_half_pixel ×4", async function () {
      await convertAndCheck([1, 1, 3, 3], [node("Resize", ["x", "", "", "sz"], "y", "resize", { mode: "linear", coordinate_transformation_mode: "asymmetric" })], [int64("sz", [4], [1, 1, 9, 6])]);
      await convertAndCheck([1, 2, 2, 3], [node("Resize", ["x", "", "s"], "y", "resize", { mode: "linear", coordinate_transformation_mode: "pytorch_half_pixel" })], [scales("s", [1, 1, 4, 4])]);
    });

    it("Upsample (opset 9) nearest and linear", async function () {
      const n = await convertAndCheck([1, 2, 2, 3], [node("Upsample", ["x", "s"], "y", "up", { mode: "nearest" })], [scales("s", [1, 1, 2, 3])], 9);
      expect(kinds(n.conv)).to.deep.equal(["GATHER"]);
      await convertAndCheck([1, 2, 2, 3], [node("Upsample", ["x", "s"], "y", "up", { mode: "linear" })], [scales("s", [1, 1, 2, 2])], 9);
    });

    it("refuses cubic, linear downsampling, linear align_corners and non-integer factors by name", function () {
      const s = (v: number[]) => [scales("s", v)];
      const one = (attrs: Record<string, Attr>, v: number[]) => refusal([1, 1, 4, 4], [node("Resize", ["x", "", "s"], "y", "rs", attrs)], s(v)).message;
      expect(one({ mode: "cubic" }, [1, 1, 2, 2])).to.match(/node "rs" \(Resize\).*mode cubic/);
      expect(one({ mode: "linear" }, [1, 1, 0.5, 0.5])).to.match(/downsampling/);
      expect(one({ mode: "linear", coordinate_transformation_mode: "align_corners" }, [1, 1, 2, 2])).to.match(/align_corners/);
      expect(one({ mode: "linear" }, [1, 1, 1.5, 1.5])).to.match(/integer/);
    });
  });

  describe("DepthToSpace, SpaceToDepth, Pad edge / reflect / wrap", function () {
    for (const mode of ["DCR", "CRD"]) {
      it(`DepthToSpace ${mode}: one GATHER`, async function () {
        const { conv } = await convertAndCheck([1, 8, 2, 3], [node("DepthToSpace", ["x"], "y", "d2s", { blocksize: 2, mode })], []);
        expect(kinds(conv)).to.deep.equal(["GATHER"]);
      });
    }

    it("SpaceToDepth: one GATHER; DepthToSpace DCR after it is the identity (a RESHAPE)", async function () {
      const { conv } = await convertAndCheck([1, 2, 4, 6], [node("SpaceToDepth", ["x"], "y", "s2d", { blocksize: 2 })], []);
      expect(kinds(conv)).to.deep.equal(["GATHER"]);
      const both = await convertAndCheck([1, 2, 4, 6], [node("SpaceToDepth", ["x"], "t", "s2d", { blocksize: 2 }), node("DepthToSpace", ["t"], "y", "d2s", { blocksize: 2 })], []);
      expect(kinds(both.conv)).to.deep.equal(["RESHAPE"]);
    });

    for (const mode of ["edge", "reflect"]) {
      it(`Pad ${mode}: one GATHER`, async function () {
        const { conv } = await convertAndCheck([1, 2, 4, 5], [node("Pad", ["x", "p"], "y", "pad", { mode })], [int64("p", [8], [0, 0, 1, 2, 0, 0, 2, 1])]);
        expect(kinds(conv)).to.deep.equal(["GATHER"]);
      });
    }

    it("Pad constant with a value other than 0: ADD −c, GATHER, ADD c", async function () {
      const { conv } = await convertAndCheck([1, 2, 3, 4], [node("Pad", ["x", "p", "c"], "y", "pad", { mode: "constant" })], [int64("p", [8], [0, 0, 1, 0, 0, 0, 1, 2]), tensor("c", [], [0.75])]);
      expect(kinds(conv)).to.deep.equal(["ADD", "GATHER", "ADD"]);
    });

    it("Pad maps: edge, reflect (no repeated edge), wrap (opset 19)", function () {
      expect(Array.from(padMap(4, 2, 1, "edge"))).to.deep.equal([0, 0, 0, 1, 2, 3, 3]);
      expect(Array.from(padMap(4, 2, 2, "reflect"))).to.deep.equal([2, 1, 0, 1, 2, 3, 2, 1]);
      expect(Array.from(padMap(3, 2, 2, "wrap"))).to.deep.equal([1, 2, 0, 1, 2, 0, 1]);
    });
  });
});
