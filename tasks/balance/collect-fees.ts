import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { action, collectProtocolFees, formatVtn, openProtocol, parseId, report, resolveSigner } from "../../offchain/clients/index.js";

interface Args {
  paramsVersion: string | undefined;
  from: string;
}

export default action(async ({ paramsVersion, from }: Args, hre: HardhatRuntimeEnvironment) => {
  const p = await openProtocol(hre);
  const v = paramsVersion === undefined ? undefined : Number(parseId(paramsVersion, "--params-version"));
  const caller = await resolveSigner(p.connection, from);
  const result = await collectProtocolFees(p, caller, v);
  report(`Collected ${formatVtn(result.amount)} of protocol fees (parameter version ${result.version})`, [
    ["credited", `${result.treasury} (the version's treasury; it withdraws with \`balance withdraw\`)`],
    ["tx", result.receipt.hash],
  ]);
  return result;
});
