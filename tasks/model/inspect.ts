import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { action, formatShape, report, required } from "../../offchain/cli/index.js";
import { asUserError } from "../../offchain/cli/model/errors.js";
import { readBytes } from "../../offchain/cli/model/files.js";
import type { TensorInfo } from "../../offchain/cli/model/inspect.js";
import { inspectFloatModel, inspectModel, isCanonicalFile } from "../../offchain/cli/model/inspect.js";
import { describeUnsupported } from "../../offchain/convert/errors.js";

interface Args {
  file?: string;
}

export default action(async ({ file }: Args, _hre: HardhatRuntimeEnvironment) => {
  const path = required(file, "--file");
  const bytes = await readBytes(path, "model file");
  if (!(await asUserError(path, () => isCanonicalFile(bytes)))) return showFloatModel(path, bytes);
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

const tensorText = (t: TensorInfo): string => `${t.name} ${t.shape ? `[${t.shape.join(",")}]` : "(no shape)"} ${t.type}`;

/** A float file: what it is, whether the converter takes its ops, and the command that converts it. */
async function showFloatModel(path: string, bytes: Uint8Array): Promise<void> {
  const f = await asUserError(path, () => inspectFloatModel(bytes));
  const dynamic = f.inputs.flatMap((i) => (i.shape ?? []).filter((d) => typeof d === "string"));
  const out = path.replace(/(\.float)?(\.onnx)?$/, ".canonical.onnx");
  report(`Float ONNX model ${path}: not canonical, so the network cannot run it as it is`, [
    ["inputs", f.inputs.map(tensorText).join("; ") || "(none)"],
    ["outputs", f.outputs.map(tensorText).join("; ") || "(none)"],
    ["opset", f.opset ?? "(no default-domain opset)"],
    ...(f.producer ? [["producer", f.producer] as [string, string]] : []),
    ["nodes", `${f.nodes}: ${f.ops.map(([op, n]) => `${op} ×${n}`).join(", ")}`],
    ["ops the converter takes", f.unsupported.length === 0 ? "all of them" : `not all: ${describeUnsupported(f.unsupported)}`],
    ...(dynamic.length > 0 ? [["dynamic dimensions", `${[...new Set(dynamic)].join(", ")}: bind them when converting, with --input-shape (batch 1 first)`] as [string, string]] : []),
    ["convert it", `npx hardhat model convert --in ${path} --out ${out} --calibration <samples.json>`],
  ]);
}
