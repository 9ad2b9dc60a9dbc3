import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { action, report, required } from "../../offchain/cli/index.js";
import { asUserError } from "../../offchain/cli/model/errors.js";
import { readBytes, readSamplesJson, writeOutput } from "../../offchain/cli/model/files.js";
import { convertWithReport } from "../../offchain/cli/model/convert.js";

interface Args {
  in?: string;
  out?: string;
  calibration?: string;
}

export default action(async (args: Args, _hre: HardhatRuntimeEnvironment) => {
  const inPath = required(args.in, "--in");
  const outPath = required(args.out, "--out");
  const floatBytes = await readBytes(inPath, "float model");
  const calibration = args.calibration === undefined ? undefined : await readSamplesJson(args.calibration, "calibration file");
  const r = await asUserError(inPath, () => convertWithReport(floatBytes, calibration));
  await writeOutput(outPath, r.conversion.bytes, "the canonical model");
  report(`Converted ${inPath} -> ${outPath}`, [
    ["calibration", r.calibrationNote],
    ["layers", r.conversion.layers.length],
    ["input", `integers in [${r.conversion.inputRange.join(", ")}], scale ${r.conversion.inputScale}`],
    ["output scale", r.conversion.outputScale],
    ["stated error bound", `${r.conversion.errorBound.toPrecision(3)} (worst case, inputs inside the calibrated ranges)`],
    ["max |error| measured", r.accuracy.maxAbsError.toPrecision(3)],
    ["mean |error| measured", r.accuracy.meanAbsError.toPrecision(3)],
    ["top-1 agreement", `${(100 * r.accuracy.top1Agreement).toFixed(2)}%`],
  ]);
  console.log("\n    #  kind     from ONNX ops             range               weight bits");
  for (const l of r.conversion.layers) {
    console.log(
      `  ${String(l.index).padStart(3)}  ${l.kind.padEnd(8)} ${l.ops.padEnd(25)} ${`[${l.range[0]}, ${l.range[1]}]`.padEnd(19)} ${l.weightBits ?? "-"}`,
    );
  }
});
