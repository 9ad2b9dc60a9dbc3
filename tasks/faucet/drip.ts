import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { action, formatDuration, formatTime, formatVtn, openProtocol, report, resolveSigner } from "../../offchain/cli/index.js";
import { requireNetworkVariables } from "../protocol/network-variables.js";
import { drip, openFaucet } from "./faucet.js";

interface Args {
  from: string;
}

export default action(async ({ from }: Args, hre: HardhatRuntimeEnvironment) => {
  await requireNetworkVariables(hre);
  const p = await openProtocol(hre);
  const faucet = await openFaucet(p, hre.config.paths.ignition);
  const result = await drip(p, faucet, await resolveSigner(p.connection, from));
  report(`Dripped ${formatVtn(result.amount)} to ${result.account}`, [
    ["balance", formatVtn(result.balance)],
    ["next drip", `${formatTime(result.nextDripAt)} (every ${formatDuration(result.terms.period)})`],
    ["faucet", `${result.terms.address}: ${formatVtn(result.terms.dispensed)} of ${formatVtn(result.terms.cap)} handed out, ${formatVtn(result.terms.available)} left`],
    ["tx", result.receipt.hash],
  ]);
  return result;
});
