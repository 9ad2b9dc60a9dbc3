/**
 * ONNX's own backend node tests (Debian package libonnx-testdata) for every op of the
 * converter's supported set. Integer tests must match the canonical kernels exactly; float
 * tests go through the converter and must stay within its stated error bound
 * (docs/CONVERTER.md). Cases listed in expectations.ts must be refused by the converter;
 * every other case must pass.
 *
 *   npx hardhat test mocha test/conformance/onnx-node-tests.ts
 */
import { expect } from "chai";

import { ConvertError } from "../../offchain/convert/index.js";
import { CASE_COUNT, CASE_PATTERN, INTEGER_CASES, NOT_EXPRESSIBLE, SKIPS } from "./expectations.js";
import { convertCase, runFloatCase } from "./float-cases.js";
import { runIntegerCase } from "./integer-cases.js";
import { dataRequired, haveTestData, INSTALL_COMMAND, listCases, loadCase, MISSING_MESSAGE } from "./testdata.js";

type Row = { name: string; status: "passed" | "skipped" | "failed"; detail: string };

// The data is a Debian package: a developer's machine may not have it, and then the suite is one
// line, not a failure. CI (CI=true) installs it, so there missing data fails like any case.
if (!haveTestData() && !dataRequired()) {
  console.log(`ONNX conformance suite not run: its ${CASE_COUNT} cases need the test data, \`${INSTALL_COMMAND}\``);
} else describe("ONNX backend node tests (libonnx-testdata)", function () {
  this.timeout(60_000);
  const rows: Row[] = [];

  it("finds the test data", function () {
    expect(haveTestData(), MISSING_MESSAGE).to.equal(true);
  });

  const cases = haveTestData() ? listCases(CASE_PATTERN) : [];

  it(`selects the ${CASE_COUNT} cases in scope`, function () {
    expect(cases.length, "CASE_COUNT in expectations.ts is what the bare-machine line reports").to.equal(CASE_COUNT);
  });

  it("covers every op of the supported set", function () {
    expect(haveTestData(), MISSING_MESSAGE).to.equal(true);
    const ops = ["conv", "gemm", "matmul", "add", "mul", "relu", "clip", "maxpool", "flatten", "reshape", "sigmoid", "tanh"];
    const lutOps = ["erf", "leakyrelu", "hardsigmoid", "hardswish", "elu", "selu", "softplus", "softsign", "exp", "neg", "abs", "sqrt", "reciprocal", "pow", "reduce_mean", "reduce_sum"];
    const moveOps = [
      "reduce_max", "softmax", "logsoftmax", "layer_normalization", "transpose", "concat", "slice", "split", "gather", "gather_elements", "expand", "squeeze", "unsqueeze", "tile",
      "constant_pad", "edge_pad", "reflect_pad", "convtranspose", "resize", "upsample", "depthtospace", "spacetodepth",
    ];
    for (const op of [...ops, ...lutOps, ...moveOps]) {
      expect(cases.some((c) => c.startsWith(`test_${op}`)), `no node test for ${op}`).to.equal(true);
    }
  });

  for (const name of cases) {
    it(name, async function () {
      const c = loadCase(name);
      try {
        const skip = SKIPS[name];
        if (skip !== undefined) {
          // A listed skip must really be refused, naming the node and op.
          let refusal: unknown;
          try {
            convertCase(c);
          } catch (e) {
            refusal = e;
          }
          if (!INTEGER_CASES.has(name) && !NOT_EXPRESSIBLE.has(name) && !(refusal instanceof ConvertError)) {
            throw new Error(`listed as skipped (${skip}) but the converter ${refusal ? `failed with ${String(refusal)}` : "accepted it"}`);
          }
          rows.push({ name, status: "skipped", detail: skip });
          this.skip();
        }
        if (INTEGER_CASES.has(name)) {
          rows.push({ name, status: "passed", detail: await runIntegerCase(c) });
          return;
        }
        const r = await runFloatCase(c);
        rows.push({ name, status: "passed", detail: `${r.runs} run(s), max error ${r.maxError.toPrecision(3)} <= bound ${r.bound.toPrecision(3)}` });
      } catch (e) {
        // mocha's skip is an exception too; only real failures are recorded as such.
        if (e instanceof Error && e.constructor.name === "Pending") throw e;
        if (!rows.some((r) => r.name === name)) rows.push({ name, status: "failed", detail: e instanceof Error ? e.message : String(e) });
        throw e;
      }
    });
  }

  after(function () {
    const count = (s: Row["status"]) => rows.filter((r) => r.status === s).length;
    const lines = [
      "",
      `ONNX node tests: ${count("passed")} passed, ${count("skipped")} skipped, ${count("failed")} failed (of ${cases.length})`,
      ...rows.map((r) => `  ${r.status.padEnd(7)} ${r.name}: ${r.detail}`),
    ];
    console.log(lines.join("\n"));
  });
});
