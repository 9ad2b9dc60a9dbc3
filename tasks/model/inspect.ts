import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { action, formatShape, report, required } from "../../offchain/cli/index.js";
import { asUserError } from "../../offchain/cli/model/errors.js";
import { readBytes } from "../../offchain/cli/model/files.js";
import { inspectModel } from "../../offchain/cli/model/inspect.js";

interface Args {
  file?: string;
}

export default action(async ({ file }: Args, _hre: HardhatRuntimeEnvironment) => {
  const path = required(file, "--file");
  const bytes = await readBytes(path, "model file");
  const s = await asUserError(path, () => inspectModel(bytes));
  report(`Canonical model ${path}`, [
    ["input", `${s.model.inputName} ${formatShape(s.model.inputShape)}, integers in [${s.model.inputRange.join(", ")}], scale ${s.model.inputScale}`],
    ["output", `${s.model.outputName}, scale ${s.model.outputScale}`],
    ["layers", s.layers.length],
    ["parameters", s.parameters.toLocaleString("en-US")],
    ["content hash", s.contentHash],
    ["graph commitment", s.graphCommitment],
  ]);
  console.log("\n    #  kind     output shape       range                params  reads  name");
  for (const l of s.layers) {
    console.log(
      `  ${String(l.index).padStart(3)}  ${l.kind.padEnd(8)} ${formatShape(l.outShape).padEnd(18)} ` +
        `${`[${l.range[0]}, ${l.range[1]}]`.padEnd(19)} ${String(l.parameters).padStart(8)}  ${l.inputs.join(",").padEnd(5)}  ${l.name}`,
    );
  }
});
