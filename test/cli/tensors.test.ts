/**
 * The one reader of tensor files (offchain/cli/model/tensors.ts): JSON (flat, nested, {shape, data}),
 * NumPy .npy and ONNX TensorProto .pb, with fixtures written byte by byte here, and the shape rule.
 */
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { expect } from "chai";

import type { ITensorProto } from "../../offchain/model/onnx.js";
import { onnx } from "../../offchain/model/onnx.js";
import type { TensorFile } from "../../offchain/cli/model/tensors.js";
import { bytes, npy } from "./npy.js";
import { checkShape, parseTensor, readCalibration, readSamples, readTensor, shapeFits } from "../../offchain/cli/model/tensors.js";

const pb = (t: ITensorProto) => Buffer.from(onnx.TensorProto.encode(onnx.TensorProto.create(t)).finish());

/** What parsing `data` as file `name` throws (fails the test if it does not). */
function refusal(data: Uint8Array | string, name: string): string {
  const ext = name.slice(name.lastIndexOf("."));
  try {
    parseTensor(typeof data === "string" ? Buffer.from(data) : data, `input file ${name}`, ext);
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error(`expected ${name} to be refused`);
}

const json = (value: unknown, name = "x.json") => parseTensor(Buffer.from(JSON.stringify(value)), `input file ${name}`, ".json");
const plain = (t: TensorFile) => ({ data: Array.from(t.data), shape: t.shape });

describe("tensor files (model run, job request, calibration)", function () {
  describe("JSON", function () {
    it("a flat array has no shape; nested arrays have their nesting as shape", function () {
      expect(plain(json([1, 2.5, -3]))).to.deep.equal({ data: [1, 2.5, -3], shape: undefined });
      expect(plain(json([[[1, 2, 3], [4, 5, 6]]]))).to.deep.equal({ data: [1, 2, 3, 4, 5, 6], shape: [1, 2, 3] });
    });

    it("refuses ragged arrays, naming the file and the position", function () {
      expect(refusal("[[1, 2], [3]]", "r.json")).to.equal(
        "input file r.json is ragged: the array at [1] has 1 items, but the one at [0] has 2",
      );
      expect(refusal("[[[1], [2]], [[3], [4, 5]]]", "r.json")).to.equal(
        "input file r.json is ragged: the array at [1][1] has 2 items, but the one at [0][0] has 1",
      );
      expect(refusal("[[1, 2], 3]", "r.json")).to.equal("input file r.json is ragged: [1] is 3, where [0] is an array");
      expect(refusal("[1, [2]]", "r.json")).to.equal("input file r.json is ragged: [1] is an array, where [0] is a number");
    });

    it("refuses non-numbers, empty arrays and other JSON, naming the file", function () {
      expect(refusal('[1, "x"]', "s.json")).to.equal('input file s.json must contain only finite numbers: element 1 is "x"');
      expect(refusal("[[1, null]]", "s.json")).to.equal("input file s.json must contain only finite numbers: the value at [0][1] is null");
      expect(refusal("[]", "s.json")).to.equal("input file s.json must be a non-empty JSON array");
      expect(refusal("[[]]", "s.json")).to.equal("input file s.json holds an empty array");
      expect(refusal('{"values": [1]}', "s.json")).to.match(/^input file s\.json must be a JSON array .* or an object with "shape" and "data"$/);
      expect(refusal("[1, 2", "s.json")).to.match(/^input file s\.json is not valid JSON \(.*\); tensor files are JSON, NumPy \.npy/);
    });

    it('reads {"shape", "data"} with flat or nested data, checking the count', function () {
      expect(plain(json({ shape: [2, 2], data: [1, 2, 3, 4] }))).to.deep.equal({ data: [1, 2, 3, 4], shape: [2, 2] });
      expect(plain(json({ shape: [1, 4], data: [[1, 2], [3, 4]] }))).to.deep.equal({ data: [1, 2, 3, 4], shape: [1, 4] });
      expect(refusal(JSON.stringify({ shape: [2, 3], data: [1, 2, 3, 4, 5] }), "sd.json")).to.equal(
        'input file sd.json: "shape" [2, 3] holds 6 values, but "data" has 5',
      );
      expect(refusal(JSON.stringify({ shape: [2, -3], data: [1] }), "sd.json")).to.match(/"shape" must be an array of positive integers/);
      expect(refusal(JSON.stringify({ shape: [2], data: "12" }), "sd.json")).to.match(/"data" must be an array of numbers/);
      expect(refusal(JSON.stringify({ shape: [2, 2], data: [[1, 2], [3]] }), "sd.json")).to.match(/is ragged: the array at \[1\]/);
    });
  });

  describe("NumPy .npy", function () {
    it("reads every supported dtype, in format 1.0, 2.0 and 3.0", function () {
      const cases: [string, ArrayBufferView, number[]][] = [
        ["<f4", new Float32Array([0.5, -1.25, 3, 4, 5, 6]), [0.5, -1.25, 3, 4, 5, 6]],
        ["<f8", new Float64Array([0.1, -2, 3, 4, 5, 1e-300]), [0.1, -2, 3, 4, 5, 1e-300]],
        ["<i4", new Int32Array([-7, 2 ** 31 - 1, 3, 4, 5, -(2 ** 31)]), [-7, 2 ** 31 - 1, 3, 4, 5, -(2 ** 31)]],
        ["<i8", new BigInt64Array([-7n, 2n ** 40n, 3n, 4n, 5n, 6n]), [-7, 2 ** 40, 3, 4, 5, 6]],
        ["|u1", new Uint8Array([0, 255, 3, 4, 5, 6]), [0, 255, 3, 4, 5, 6]],
        ["|i1", new Int8Array([-128, 127, 3, 4, 5, 6]), [-128, 127, 3, 4, 5, 6]],
      ];
      for (const major of [1, 2, 3]) {
        for (const [descr, array, values] of cases) {
          const t = parseTensor(npy(descr, [2, 3], bytes(array), { major }), "input file a.npy", ".npy");
          expect(plain(t), `${descr} v${major}`).to.deep.equal({ data: values, shape: [2, 3] });
        }
      }
      // A 1-D array and a scalar; the magic decides, whatever the extension.
      expect(plain(parseTensor(npy("<f4", [3], bytes(new Float32Array([1, 2, 3]))), "f", ".dat"))).to.deep.equal({ data: [1, 2, 3], shape: [3] });
      expect(plain(parseTensor(npy("<f8", [], bytes(new Float64Array([7]))), "f", ".npy"))).to.deep.equal({ data: [7], shape: [] });
    });

    it("refuses Fortran order, big-endian and other dtypes, and truncated files, saying what to do", function () {
      const f4 = bytes(new Float32Array([1, 2, 3, 4]));
      expect(refusal(npy("<f4", [2, 2], f4, { fortran: true }), "f.npy")).to.equal(
        "input file f.npy is in Fortran (column-major) order; save it in C order (np.save(f, np.ascontiguousarray(a)))",
      );
      expect(refusal(npy(">f4", [2, 2], f4), "b.npy")).to.match(/^input file b\.npy: NumPy dtype '>f4' is big-endian; save it little-endian/);
      expect(refusal(npy("<f2", [2, 4], f4), "h.npy")).to.equal(
        "input file h.npy: NumPy dtype '<f2' is not supported (supported: <f4 <f8 <i4 <i8 |u1 |i1)",
      );
      expect(refusal(npy("<f4", [2, 3], f4), "t.npy")).to.equal(
        "input file t.npy is truncated: 16 bytes of data, expected 24 for shape [2, 3] of '<f4'",
      );
      const whole = npy("<f4", [2, 2], f4);
      expect(refusal(whole.subarray(0, 40), "t.npy")).to.match(/^input file t\.npy is truncated: 40 bytes end inside the NumPy header$/);
      expect(refusal(whole.subarray(0, 8), "t.npy")).to.match(/is truncated: 8 bytes end inside the NumPy header$/);
      expect(refusal("[1, 2]", "j.npy")).to.match(/^input file j\.npy is not a NumPy file/);
      expect(refusal(npy("<f4", [2], bytes(new Float32Array([1, NaN]))), "n.npy")).to.equal(
        "input file n.npy must contain only finite numbers: element 1 is NaN",
      );
      expect(refusal(npy("<i8", [1], bytes(new BigInt64Array([2n ** 60n]))), "l.npy")).to.match(/element 0 \(1152921504606846976\) is beyond ±2\^53/);
    });
  });

  describe("ONNX TensorProto .pb", function () {
    it("reads FLOAT, DOUBLE, INT32, INT64, INT8 and UINT8, from raw_data and from the typed fields", function () {
      const dims = [1, 2, 2];
      const cases: [string, ITensorProto, number[]][] = [
        ["FLOAT raw", { dataType: 1, rawData: bytes(new Float32Array([0.5, 1, -2, 3])) }, [0.5, 1, -2, 3]],
        ["FLOAT typed", { dataType: 1, floatData: [0.5, 1, -2, 3] }, [0.5, 1, -2, 3]],
        ["DOUBLE raw", { dataType: 11, rawData: bytes(new Float64Array([0.1, 1, -2, 3])) }, [0.1, 1, -2, 3]],
        ["DOUBLE typed", { dataType: 11, doubleData: [0.1, 1, -2, 3] }, [0.1, 1, -2, 3]],
        ["INT32 raw", { dataType: 6, rawData: bytes(new Int32Array([-5, 1, 2, 3])) }, [-5, 1, 2, 3]],
        ["INT32 typed", { dataType: 6, int32Data: [-5, 1, 2, 3] }, [-5, 1, 2, 3]],
        ["INT64 raw", { dataType: 7, rawData: bytes(new BigInt64Array([-5n, 2n ** 40n, 2n, 3n])) }, [-5, 2 ** 40, 2, 3]],
        ["INT64 typed", { dataType: 7, int64Data: [-5, 2 ** 40, 2, 3] }, [-5, 2 ** 40, 2, 3]],
        ["INT8 raw", { dataType: 3, rawData: bytes(new Int8Array([-128, 127, 2, 3])) }, [-128, 127, 2, 3]],
        ["UINT8 raw", { dataType: 2, rawData: bytes(new Uint8Array([0, 255, 2, 3])) }, [0, 255, 2, 3]],
        ["UINT8 typed", { dataType: 2, int32Data: [0, 255, 2, 3] }, [0, 255, 2, 3]],
      ];
      for (const [what, t, values] of cases) {
        const parsed = parseTensor(pb({ ...t, dims, name: "input_0" }), "input file input_0.pb", ".pb");
        expect(plain(parsed), what).to.deep.equal({ data: values, shape: dims });
      }
    });

    it("refuses unsupported types, data of the wrong size and files that are not a TensorProto", function () {
      expect(refusal(pb({ dims: [2], dataType: 10, rawData: new Uint8Array(4) }), "h.pb")).to.equal(
        "input file h.pb: ONNX data type FLOAT16 is not supported (FLOAT, DOUBLE, INT32, INT64, INT8, UINT8 are)",
      );
      expect(refusal(pb({ dims: [2], dataType: 8, stringData: [Buffer.from("a"), Buffer.from("b")] }), "s.pb")).to.match(/data type STRING is not supported/);
      expect(refusal(pb({ dims: [2, 3], dataType: 1, rawData: bytes(new Float32Array(5)) }), "t.pb")).to.equal(
        "input file t.pb: raw_data holds 20 bytes, expected 24 for shape [2, 3] of FLOAT",
      );
      expect(refusal(pb({ dims: [2, 3], dataType: 6, int32Data: [1, 2] }), "t.pb")).to.equal(
        "input file t.pb: the tensor holds 2 values, expected 6 for shape [2, 3]",
      );
      const whole = pb({ dims: [1, 4], dataType: 1, rawData: bytes(new Float32Array([1, 2, 3, 4])) });
      expect(refusal(whole.subarray(0, whole.length - 3), "cut.pb")).to.match(/^input file cut\.pb is not an ONNX TensorProto \(malformed or truncated/);
      expect(refusal(pb({ dims: [2], dataType: 1, dataLocation: 1 }), "e.pb")).to.match(/external file, which is not supported/);
    });
  });

  it("reads .bin files as int32 little-endian bytes without a shape", function () {
    expect(plain(parseTensor(bytes(new Int32Array([1, -2, 3])), "o.bin", ".bin"))).to.deep.equal({ data: [1, -2, 3], shape: undefined });
    expect(refusal(new Uint8Array(6), "o.bin")).to.equal("input file o.bin has 6 bytes; a .bin tensor holds int32 little-endian elements");
  });

  describe("shapes", function () {
    it("a file's shape fits a model's up to leading 1s; the layout must be the same", function () {
      expect(shapeFits([1, 1, 28, 28], [1, 1, 28, 28])).to.equal(true);
      expect(shapeFits([28, 28], [1, 1, 28, 28])).to.equal(true);
      expect(shapeFits([1, 28, 28], [1, 1, 28, 28])).to.equal(true);
      expect(shapeFits([784], [1, 784])).to.equal(true);
      expect(shapeFits([1], [1, 1])).to.equal(true);
      expect(shapeFits([8, 8], [1, 64])).to.equal(false);
      expect(shapeFits([1, 784], [1, 1, 28, 28])).to.equal(false);
      expect(shapeFits([28, 28, 1], [1, 1, 28, 28])).to.equal(false);
      expect(shapeFits([2, 784], [1, 784])).to.equal(false);
      // Unknown (symbolic) model dimensions match anything; a leading one is the batch.
      expect(shapeFits([3, 48, 192], [undefined, 3, undefined, undefined])).to.equal(true);
      expect(shapeFits([1, 3, 48, 192], [undefined, 3, undefined, undefined])).to.equal(true);
      expect(shapeFits([4, 48, 192], [undefined, 3, undefined, undefined])).to.equal(false);
    });

    it("checkShape names both shapes; a tensor without a shape is left to the length check", function () {
      const square = json([[1, 2, 3, 4, 5, 6, 7, 8], [1, 2, 3, 4, 5, 6, 7, 8], [1, 2, 3, 4, 5, 6, 7, 8], [1, 2, 3, 4, 5, 6, 7, 8],
        [1, 2, 3, 4, 5, 6, 7, 8], [1, 2, 3, 4, 5, 6, 7, 8], [1, 2, 3, 4, 5, 6, 7, 8], [1, 2, 3, 4, 5, 6, 7, 8]]);
      expect(() => checkShape(square, [1, 64], "input file sq.json", "the model's input")).to.throw(
        "input file sq.json has shape [8, 8], but the model's input has shape [1, 64] (the shapes must agree, leading 1s aside)",
      );
      expect(() => checkShape({ data: square.data }, [1, 64], "input file sq.json", "the model's input")).to.not.throw();
    });
  });

  describe("files and calibration samples", function () {
    let dir: string;
    before(async () => {
      dir = await mkdtemp(join(tmpdir(), "vt-tensors-"));
    });

    it("readTensor chooses the format by content and extension, and names a missing file", async function () {
      const f = join(dir, "x.npy");
      await writeFile(f, npy("<i4", [2, 2], bytes(new Int32Array([1, 2, 3, 4]))));
      expect(plain(await readTensor(f, "input file"))).to.deep.equal({ data: [1, 2, 3, 4], shape: [2, 2] });
      const missing = join(dir, "nope.json");
      const error = await readTensor(missing, "input file").then(() => "", (e: Error) => e.message);
      expect(error).to.equal(`cannot read input file ${missing} (ENOENT)`);
    });

    it("a calibration file is a JSON array of samples, or a tensor whose first dimension counts them", async function () {
      const write = async (name: string, data: string | Uint8Array) => {
        await writeFile(join(dir, name), data);
        return join(dir, name);
      };
      const samples = async (name: string, data: string | Uint8Array) =>
        (await readSamples(await write(name, data), "calibration file")).map(plain);
      expect(await samples("a.json", "[[1, 2], [[3], [4]]]")).to.deep.equal([{ data: [1, 2], shape: undefined }, { data: [3, 4], shape: [2, 1] }]);
      expect(await samples("b.npy", npy("<f4", [3, 2], bytes(new Float32Array([1, 2, 3, 4, 5, 6]))))).to.deep.equal([
        { data: [1, 2], shape: [2] },
        { data: [3, 4], shape: [2] },
        { data: [5, 6], shape: [2] },
      ]);
      expect(await samples("c.json", JSON.stringify({ shape: [2, 1, 2], data: [1, 2, 3, 4] }))).to.deep.equal([
        { data: [1, 2], shape: [1, 2] },
        { data: [3, 4], shape: [1, 2] },
      ]);
      expect(await samples("d.pb", pb({ dims: [2, 2], dataType: 1, floatData: [1, 2, 3, 4] }))).to.deep.equal([
        { data: [1, 2], shape: [2] },
        { data: [3, 4], shape: [2] },
      ]);
      const flat = await write("e.json", '[1, "x"]');
      expect(await readSamples(flat, "calibration file").then(() => "", (e: Error) => e.message)).to.equal(
        `calibration file ${flat} must be an array of samples, each an array of numbers`,
      );
      const one = await write("f.npy", npy("<f4", [2], bytes(new Float32Array([1, 2]))));
      expect(await readSamples(one, "calibration file").then(() => "", (e: Error) => e.message)).to.equal(
        `calibration file ${one} has shape [2]: its first dimension must count the samples (e.g. [16, 784] for 16 samples of 784 values)`,
      );
    });

    it("calibration samples are checked against the float model's input shape", async function () {
      const floatBytes = await readFile("models/mnist-mlp.float.onnx");
      const good = join(dir, "good.npy");
      await writeFile(good, npy("<f4", [2, 784], bytes(new Float32Array(2 * 784).fill(0.5))));
      const read = await readCalibration(good, floatBytes);
      expect(read.map((s) => s.length)).to.deep.equal([784, 784]);
      expect(read[1]![783]).to.equal(0.5);
      const bad = join(dir, "bad.json");
      await writeFile(bad, JSON.stringify({ shape: [1, 8, 98], data: new Array(784).fill(0) }));
      const error = await readCalibration(bad, floatBytes).then(() => "", (e: Error) => e.message);
      expect(error).to.equal(
        `calibration file ${bad}, sample 1, has shape [8, 98], but the model's input has shape [1, 784] (the shapes must agree, leading 1s aside)`,
      );
      // An MNIST array of 28x28 images does not fit the MLP's flat [1, 784] either: reshape it first.
      await writeFile(bad, npy("<f4", [1, 28, 28], bytes(new Float32Array(784))));
      expect(await readCalibration(bad, floatBytes).then(() => "", (e: Error) => e.message)).to.match(/sample 1, has shape \[28, 28\], but the model's input has shape \[1, 784\]/);
    });
  });
});
