import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import {
  action,
  distributeModelEarnings,
  formatVtn,
  openProtocol,
  parseId,
  report,
  resolveSigner,
} from "../../offchain/cli/index.js";

interface Args {
  model: string | undefined;
  from: string;
}

export default action(async ({ model, from }: Args, hre: HardhatRuntimeEnvironment) => {
  const p = await openProtocol(hre);
  const modelId = parseId(model, "--model");
  const caller = await resolveSigner(p.connection, from);
  const result = await distributeModelEarnings(p, caller, modelId);
  report(`Distributed ${formatVtn(result.amount)} of model ${modelId}'s earnings`, [
    ["protocol fees", result.protocolFees > 0n ? `${formatVtn(result.protocolFees)} to the treasury` : "none accrued"],
    ...result.credits.map((c) => [`credited ${c.account}`, formatVtn(c.amount)] as const),
    ["tx", result.receipt.hash],
  ]);
  return result;
});
