import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import {
  action,
  chainIdOf,
  connectProtocol,
  faucet,
  formatVtn,
  parseVtn,
  report,
  requireLocalChain,
  required,
  resolveAddress,
} from "../../offchain/cli/index.js";

interface Args {
  to: string | undefined;
  amount: string;
}

export default action(async ({ to, amount }: Args, hre: HardhatRuntimeEnvironment) => {
  const connection = await hre.network.getOrCreate();
  requireLocalChain({ chainId: await chainIdOf(connection), networkName: connection.networkName }, "token faucet");
  const p = await connectProtocol(connection, hre.config.paths.ignition);
  const receiver = await resolveAddress(connection, required(to, "--to"));
  const result = await faucet(p, receiver, parseVtn(amount));
  report(`Sent ${formatVtn(result.amount)} to ${result.to}`, [
    ["balance", formatVtn(result.balance)],
    ["tx", result.receipt.hash],
  ]);
  return result;
});
