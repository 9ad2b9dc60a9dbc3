import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { isTestChain } from "../../ignition/modules/Faucet.js";

import {
  action,
  chainIdOf,
  connectProtocol,
  faucet,
  formatVtn,
  isLocalChain,
  parseVtn,
  report,
  requireLocalChain,
  required,
  resolveAddress,
  VeritensorError,
} from "../../offchain/cli/index.js";

interface Args {
  to: string | undefined;
  amount: string;
}

export default action(async ({ to, amount }: Args, hre: HardhatRuntimeEnvironment) => {
  const connection = await hre.network.getOrCreate();
  const chainId = await chainIdOf(connection);
  // On a public test network the deployer's tokens are not for the asking: the faucet contract is.
  if (!isLocalChain(chainId) && isTestChain(chainId)) {
    throw new VeritensorError(
      `token faucet sends from the deployer, on a local network only; on network ${connection.networkName} (chain ${chainId}) ` +
        `get test VTN from the faucet contract: \`npx hardhat faucet drip --network ${connection.networkName} --from <account>\``,
    );
  }
  requireLocalChain({ chainId, networkName: connection.networkName }, "token faucet");
  const p = await connectProtocol(connection, hre.config.paths.ignition);
  const receiver = await resolveAddress(connection, required(to, "--to"));
  const result = await faucet(p, receiver, parseVtn(amount));
  report(`Sent ${formatVtn(result.amount)} to ${result.to}`, [
    ["balance", formatVtn(result.balance)],
    ["tx", result.receipt.hash],
  ]);
  return result;
});
