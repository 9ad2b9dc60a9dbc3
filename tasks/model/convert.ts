import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { action, report, required } from "../../offchain/cli/index.js";
import { DEFAULT_OPTIONS } from "../../offchain/convert/index.js";
import { asUserError } from "../../offchain/cli/model/errors.js";
import { readBytes, writeOutput } from "../../offchain/cli/model/files.js";
import { readCalibration } from "../../offchain/cli/model/tensors.js";
import type { ConvertArgs } from "../../offchain/cli/model/convert.js";
import { convertOptions, convertWithReport } from "../../offchain/cli/model/convert.js";

interface Args extends ConvertArgs {
  in?: string;
  out?: string;
  calibration?: string;
}

const pct = (x: number): string => `${(100 * x).toFixed(2)}%`;

export default action(async (args: Args, _hre: HardhatRuntimeEnvironment) => {
  const inPath = required(args.in, "--in");
  const outPath = required(args.out, "--out");
  const options = convertOptions(args);
  const floatBytes = await readBytes(inPath, "float model");
  const calibration = args.calibration === undefined ? undefined : await readCalibration(args.calibration, floatBytes, options.inputShape);
  const r = await asUserError(inPath, () => convertWithReport(floatBytes, calibration, options));
  await writeOutput(outPath, r.conversion.bytes, "the canonical model");
  const held = r.heldOut;
  const measured = held ?? r.calibrationAccuracy;
  const on = held ? `on ${held.samples} held-out samples` : `on the ${r.calibrationAccuracy.samples} calibration samples (none held out)`;
  report(`Converted ${inPath} -> ${outPath}`, [
    ["calibration", r.calibrationNote],
    ["layers", r.conversion.layers.length],
    ["input", `integers in [${r.conversion.inputRange.join(", ")}], scale ${r.conversion.inputScale}`],
    [
      "output scale",
      `${r.conversion.outputScale} (range [${r.conversion.layers.at(-1)!.range.join(", ")}], ${options.outputHeadroom ?? DEFAULT_OPTIONS.outputHeadroom}x the calibrated magnitude: headroom for inputs beyond the calibration)`,
    ],
    ["stated error bound", `${r.conversion.errorBound.toPrecision(3)} (worst case, for inputs whose activations stay inside the calibrated ranges)`],
    [`max |error| ${on}`, measured.maxAbsError.toPrecision(3)],
    [`mean |error| ${on}`, measured.meanAbsError.toPrecision(3)],
    [`top-1 agreement ${on}`, pct(measured.top1Agreement)],
    [`within the stated bound ${on}`, pct(measured.withinBound)],
    ...(held ? [["max |error| on the calibration samples", r.calibrationAccuracy.maxAbsError.toPrecision(3)] as [string, string]] : []),
  ]);
  console.log("\n    #  kind     from ONNX ops             range               weight bits");
  for (const l of r.conversion.layers) {
    console.log(
      `  ${String(l.index).padStart(3)}  ${l.kind.padEnd(8)} ${l.ops.padEnd(25)} ${`[${l.range[0]}, ${l.range[1]}]`.padEnd(19)} ${l.weightBits ?? "-"}`,
    );
  }
});
