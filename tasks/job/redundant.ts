import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import {
  action,
  formatGas,
  formatVtn,
  intsToBytes,
  openProtocol,
  parseDuration,
  parseId,
  parseVtn,
  partyFrom,
  report,
  requestRedundant,
  resolveSigner,
  VeritensorError,
} from "../../offchain/cli/index.js";
import { readTensor } from "../../offchain/cli/model/tensors.js";

interface Args {
  model: string | undefined;
  input: string | undefined;
  inputUri: string | undefined;
  inputCommitment: string | undefined;
  redundancy: number;
  value: string | undefined;
  fee: string | undefined;
  deadline: string;
  noApprove: boolean;
  from: string | undefined;
}

export default action(async (a: Args, hre: HardhatRuntimeEnvironment) => {
  const from = partyFrom(a.from, "job redundant moves funds (k fees)");
  const p = await openProtocol(hre);
  const requester = await resolveSigner(p.connection, from);
  const modelId = parseId(a.model, "--model");
  let input: Buffer | undefined;
  if (a.input !== undefined) {
    const tensor = await readTensor(a.input, "input file");
    const i = tensor.data.findIndex((v) => !Number.isInteger(v));
    if (i >= 0) throw new VeritensorError(`input file ${a.input}: element ${i} is ${tensor.data[i]}, not an integer (quantize it first)`);
    input = intsToBytes(Array.from(tensor.data), `input file ${a.input}`);
  }
  const result = await requestRedundant(p, requester, {
    modelId,
    ...(input !== undefined ? { input } : {}),
    ...(a.inputUri !== undefined ? { inputUri: a.inputUri } : {}),
    ...(a.inputCommitment !== undefined ? { inputCommitment: a.inputCommitment } : {}),
    k: a.redundancy,
    value: a.value !== undefined ? parseVtn(a.value, "--value") : 0n,
    ...(a.fee !== undefined ? { fee: parseVtn(a.fee, "--fee") } : {}),
    deadlineIn: parseDuration(a.deadline, "--deadline"),
    approve: !a.noApprove,
  });
  const k = BigInt(result.jobIds.length);
  report(`Requested group ${result.groupId}: ${k} jobs of one input`, [
    ["jobs", result.jobIds.join(", ")],
    ["requester", await requester.getAddress()],
    ["fees escrowed", `${formatVtn(result.fee * k)} (${k} × ${formatVtn(result.fee)})`],
    ["stake at risk", `${formatVtn(result.lock * k)} (${k} locks of ${formatVtn(result.lock)}) covers ${formatVtn(result.value)}`],
    ["input commitment", result.terms.inputCommitment],
    ["next", `when all ${k} results agree from distinct workers: npx hardhat job group --id ${result.groupId} --confirm`],
    ["approval tx", result.approval?.hash],
    ["tx", result.receipt.hash],
    ["gas used", formatGas(result.receipt.gasUsed)],
  ]);
  return result;
});
