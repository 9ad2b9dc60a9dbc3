/** Scales as the registry holds them: the metadata's decimal text in 18-decimal fixed point. */
import { expect } from "chai";

import { CanonicalModelBuilder } from "../../offchain/model/build.js";
import { parseCanonicalModel } from "../../offchain/model/canonical.js";
import { decimalToWad, dequantizeWad, formatWad, WAD } from "../../offchain/model/scales.js";

describe("model: scales in 18-decimal fixed point", function () {
  it("reads decimal text exactly, in every spelling", function () {
    expect(decimalToWad("1")).to.equal(WAD);
    expect(decimalToWad("0.00392156862745098")).to.equal(3_921_568_627_450_980n);
    expect(decimalToWad("2.5e-7")).to.equal(250_000_000_000n);
    expect(decimalToWad("25E-8")).to.equal(250_000_000_000n);
    expect(decimalToWad(".5")).to.equal(5n * 10n ** 17n);
    expect(decimalToWad("3.")).to.equal(3n * WAD);
    expect(decimalToWad("+1e3")).to.equal(1000n * WAD);
    expect(decimalToWad(" 0.000000000000000001 ")).to.equal(1n);
    expect(decimalToWad("0")).to.equal(0n);
  });

  it("rounds to the nearest 1e-18, halves up, where a float product would not", function () {
    // The MNIST CNN's output scale has 19 decimals.
    expect(decimalToWad("0.0009958812965962802")).to.equal(995_881_296_596_280n);
    expect(decimalToWad("0.0000000000000000015")).to.equal(2n);
    expect(decimalToWad("0.00000000000000000149999")).to.equal(1n);
    expect(decimalToWad("4.9e-19")).to.equal(0n);
    expect(decimalToWad("5e-19")).to.equal(1n);
    // 1/255 as the MNIST models write it: the float product rounds to ...981, the text says ...980.
    expect(decimalToWad("0.00392156862745098")).to.equal(3_921_568_627_450_980n);
    expect(BigInt(Math.round(0.00392156862745098 * 1e18))).to.equal(3_921_568_627_450_981n);
  });

  it("refuses text that is not a non-negative decimal", function () {
    for (const t of ["", ".", "e5", "0x10", "-1", "Infinity", "NaN", "1e", "1e99999", "1,5", "1 2"]) {
      expect(decimalToWad(t), t).to.equal(undefined);
    }
  });

  it("formats a wad exactly, without trailing zeros", function () {
    expect(formatWad(3_921_568_627_450_980n)).to.equal("0.00392156862745098");
    expect(formatWad(WAD)).to.equal("1");
    expect(formatWad(1n)).to.equal("0.000000000000000001");
    expect(formatWad(-1_500_000_000_000_000_000n)).to.equal("-1.5");
    expect(formatWad(2n ** 96n - 1n)).to.equal("79228162514.264337593543950335");
    for (const text of ["0.00392156862745098", "123.456", "0.000000000000000007"]) expect(formatWad(decimalToWad(text)!)).to.equal(text);
  });

  it("dequantizes integers by a wad (4 significant digits, for reports)", function () {
    expect(dequantizeWad([1, 14, -3, 0], WAD / 8n)).to.deep.equal([0.125, 1.75, -0.375, 0]);
    expect(dequantizeWad([2 ** 31 - 1], 2n ** 128n - 1n)).to.deep.equal([7.308e29]);
  });

  it("the canonical parser gives each model its scales' wads, from the metadata's text", function () {
    const model = (opts: { inputScale?: number; outputScale?: number }) =>
      parseCanonicalModel(new CanonicalModelBuilder([1, 2], [0, 255], opts).dense({ weight: [1, 1], units: 1, shift: 0, clip: [-1000, 1000] }).build());
    const m = model({ inputScale: 1 / 255, outputScale: 0.0009958812965962802 });
    expect([m.inputScaleWad, m.outputScaleWad]).to.deep.equal([3_921_568_627_450_980n, 995_881_296_596_280n]);
    expect(m.outputScale).to.equal(0.0009958812965962802);
    const d = model({});
    expect([d.inputScaleWad, d.outputScaleWad]).to.deep.equal([WAD, WAD]);
  });
});
