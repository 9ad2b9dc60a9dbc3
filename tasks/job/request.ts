import path from "node:path";

import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import {
  action,
  formatGas,
  nextBlockTime,
  formatTime,
  formatVtn,
  openProtocol,
  parseDuration,
  parseId,
  parseVtn,
  partyFrom,
  getModel,
  intsToBytes,
  report,
  requestBatch,
  requestInference,
  resolveSigner,
  VeritensorError,
} from "../../offchain/cli/index.js";
import type { Protocol, RequestResult } from "../../offchain/cli/index.js";
import { checkShape, clampedNote, readTensor } from "../../offchain/cli/model/tensors.js";
import { canonicalBytes } from "../../offchain/commitments/tensor.js";
import { ModelSource } from "../../offchain/nodes/sources/models.js";

interface Args {
  model: string | undefined;
  input: string | undefined;
  inputs: string | undefined;
  real: boolean;
  cacheDir: string | undefined;
  ipfsGateway: string | undefined;
  inputUri: string | undefined;
  inputCommitment: string | undefined;
  fee: string | undefined;
  deadline: string;
  consumer: string | undefined;
  callbackGasLimit: number;
  noApprove: boolean;
  from: string | undefined;
}

/**
 * An input file as canonical bytes: its shape (when it states one) checked against the registered
 * model's, and with `--real` quantized by the registered model's input scale (the model is fetched
 * by its URI and checked, as a worker does), counting the values clamped.
 */
async function inputBytes(p: Protocol, modelId: bigint, a: Args, root: string, file: string): Promise<{ bytes: Buffer; clamped?: string }> {
  const tensor = await readTensor(file, "input file");
  checkShape(tensor, (await getModel(p, modelId)).inputShape.map(Number), `input file ${file}`, `model ${modelId}'s input`);
  if (!a.real) {
    const i = tensor.data.findIndex((v) => !Number.isInteger(v));
    if (i >= 0) throw new VeritensorError(`input file ${file}: element ${i} is ${tensor.data[i]}, not an integer (give --real to quantize real values)`);
    return { bytes: intsToBytes(Array.from(tensor.data), `input file ${file}`) };
  }
  const { model } = await new ModelSource(p, { cacheDir: a.cacheDir ?? path.join(root, ".veritensor", "models"), ipfsGateway: a.ipfsGateway }).get(modelId);
  // onnxruntime loads only when real values are quantized (evaluate.ts imports it).
  const { quantizeInputCounted } = await import("../../offchain/convert/evaluate.js");
  const q = quantizeInputCounted(model, tensor.data);
  return { bytes: canonicalBytes(q.values), clamped: clampedNote(model, q.clamped, q.values.length) };
}

/** The `--inputs` list: comma-separated files, resolved from the working directory. */
function inputFiles(list: string): string[] {
  const files = list.split(",").map((f) => f.trim());
  if (files.some((f) => f === "")) throw new VeritensorError(`--inputs "${list}": give files separated by commas, without empty entries`);
  return files.map((f) => path.resolve(f));
}

export default action(async (a: Args, hre: HardhatRuntimeEnvironment) => {
  const from = partyFrom(a.from, "job request moves funds (the fee)");
  if (a.input !== undefined && a.inputs !== undefined) throw new VeritensorError("give --input (one input) or --inputs (a batch), not both");
  if (a.real && a.input === undefined && a.inputs === undefined) {
    throw new VeritensorError("--real quantizes the --input file; an input given by URI must hold canonical integers");
  }
  const p = await openProtocol(hre);
  const requester = await resolveSigner(p.connection, from);
  const modelId = parseId(a.model, "--model");
  const root = hre.config.paths.root;
  const files = a.inputs !== undefined ? inputFiles(a.inputs) : a.input !== undefined ? [a.input] : [];
  const inputs = [];
  for (const file of files) inputs.push(await inputBytes(p, modelId, a, root, file));
  const common = {
    modelId,
    fee: a.fee !== undefined ? parseVtn(a.fee, "--fee") : undefined,
    deadlineIn: parseDuration(a.deadline, "--deadline"),
    consumer: a.consumer,
    callbackGasLimit: a.callbackGasLimit === 0 ? undefined : a.callbackGasLimit,
    approve: !a.noApprove,
  };
  const result: RequestResult =
    a.inputs !== undefined
      ? await requestBatch(p, requester, { ...common, inputs: inputs.map((i) => i.bytes) })
      : await requestInference(p, requester, { ...common, input: inputs[0]?.bytes, inputUri: a.inputUri, inputCommitment: a.inputCommitment });
  const clamped = inputs.map((i, k) => (i.clamped === undefined ? undefined : inputs.length === 1 ? i.clamped : `input ${k}: ${i.clamped}`));
  const batch = result.batchSize > 1n;
  report(`Requested ${batch ? `batch job ${result.jobId} of ${result.batchSize} inputs` : `job ${result.jobId}`}`, [
    ["model", a.model],
    ["requester", await requester.getAddress()],
    ["batch size", batch ? `${result.batchSize} inputs, settled as one job (docs/PROTOCOL.md "Batches")` : undefined],
    [
      "fee escrowed",
      `${formatVtn(result.fee)} (model ${formatVtn(result.quote.modelFee)}${batch ? ` = ${result.batchSize} × ${formatVtn(result.quote.price)}` : ""}, ` +
        `protocol ${formatVtn(result.protocolFee)}, ` +
        `${result.callbackFee > 0n ? `callback ${formatVtn(result.callbackFee)} to the finalizer, ` : ""}` +
        `worker ${formatVtn(result.fee - result.quote.modelFee - result.protocolFee - result.callbackFee)})`,
    ],
    ["deadline", formatTime(result.deadline, await nextBlockTime(p))],
    [batch ? "input commitment (batch)" : "input commitment", result.inputCommitment],
    ["clamped by --real", clamped.some((c) => c !== undefined) ? clamped.filter((c) => c !== undefined).join("; ") : undefined],
    ["approval tx", result.approval?.hash],
    ["tx", result.receipt.hash],
    ["gas used", formatGas(result.receipt.gasUsed)],
  ]);
  return result;
});
