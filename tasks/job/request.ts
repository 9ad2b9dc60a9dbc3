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
  requestInference,
  resolveSigner,
  VeritensorError,
} from "../../offchain/cli/index.js";
import type { Protocol } from "../../offchain/cli/index.js";
import { checkShape, clampedNote, readTensor } from "../../offchain/cli/model/tensors.js";
import { canonicalBytes } from "../../offchain/commitments/tensor.js";
import { ModelSource } from "../../offchain/nodes/sources/models.js";

interface Args {
  model: string | undefined;
  input: string | undefined;
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
 * The `--input` file as canonical bytes: its shape (when it states one) checked against the
 * registered model's, and with `--real` quantized by the registered model's input scale (the
 * model is fetched by its URI and checked, as a worker does), counting the values clamped.
 */
async function inputBytes(p: Protocol, modelId: bigint, a: Args, root: string): Promise<{ bytes: Buffer; clamped?: string }> {
  const file = a.input!;
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

export default action(async (a: Args, hre: HardhatRuntimeEnvironment) => {
  const from = partyFrom(a.from, "job request moves funds (the fee)");
  if (a.real && a.input === undefined) throw new VeritensorError("--real quantizes the --input file; an input given by URI must hold canonical integers");
  const p = await openProtocol(hre);
  const requester = await resolveSigner(p.connection, from);
  const modelId = parseId(a.model, "--model");
  const input = a.input !== undefined ? await inputBytes(p, modelId, a, hre.config.paths.root) : undefined;
  const result = await requestInference(p, requester, {
    modelId,
    input: input?.bytes,
    inputUri: a.inputUri,
    inputCommitment: a.inputCommitment,
    fee: a.fee !== undefined ? parseVtn(a.fee, "--fee") : undefined,
    deadlineIn: parseDuration(a.deadline, "--deadline"),
    consumer: a.consumer,
    callbackGasLimit: a.callbackGasLimit === 0 ? undefined : a.callbackGasLimit,
    approve: !a.noApprove,
  });
  report(`Requested job ${result.jobId}`, [
    ["model", a.model],
    ["requester", await requester.getAddress()],
    [
      "fee escrowed",
      `${formatVtn(result.fee)} (model ${formatVtn(result.quote.price)}, protocol ${formatVtn(result.protocolFee)}, ` +
        `${result.callbackFee > 0n ? `callback ${formatVtn(result.callbackFee)} to the finalizer, ` : ""}` +
        `worker ${formatVtn(result.fee - result.quote.price - result.protocolFee - result.callbackFee)})`,
    ],
    ["deadline", formatTime(result.deadline, await nextBlockTime(p))],
    ["input commitment", result.inputCommitment],
    ["clamped by --real", input?.clamped],
    ["approval tx", result.approval?.hash],
    ["tx", result.receipt.hash],
    ["gas used", formatGas(result.receipt.gasUsed)],
  ]);
  return result;
});
