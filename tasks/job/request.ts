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
  readTensorFile,
  report,
  requestInference,
  resolveSigner,
} from "../../offchain/cli/index.js";

interface Args {
  model: string | undefined;
  input: string | undefined;
  inputUri: string | undefined;
  inputCommitment: string | undefined;
  fee: string | undefined;
  deadline: string;
  consumer: string | undefined;
  callbackGasLimit: number;
  noApprove: boolean;
  from: string | undefined;
}

export default action(async (a: Args, hre: HardhatRuntimeEnvironment) => {
  const from = partyFrom(a.from, "job request moves funds (the fee)");
  const p = await openProtocol(hre);
  const requester = await resolveSigner(p.connection, from);
  const result = await requestInference(p, requester, {
    modelId: parseId(a.model, "--model"),
    input: a.input !== undefined ? await readTensorFile(a.input, "--input") : undefined,
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
    ["fee escrowed", `${formatVtn(result.fee)} (model ${formatVtn(result.quote.price)}, protocol ${formatVtn(result.protocolFee)}, worker ${formatVtn(result.fee - result.quote.price - result.protocolFee)})`],
    ["deadline", formatTime(result.deadline, await nextBlockTime(p))],
    ["input commitment", result.inputCommitment],
    ["approval tx", result.approval?.hash],
    ["tx", result.receipt.hash],
    ["gas used", formatGas(result.receipt.gasUsed)],
  ]);
  return result;
});
