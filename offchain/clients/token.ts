/** Test tokens on local networks, and token balances. */
import type { ContractTransactionReceipt } from "ethers";

import { VeritensorError } from "./errors.js";
import { formatVtn } from "./format.js";
import type { Protocol } from "./protocol.js";
import { isLocalChain, resolveSigner, send } from "./protocol.js";

export interface FaucetResult {
  readonly to: string;
  readonly amount: bigint;
  readonly balance: bigint;
  readonly receipt: ContractTransactionReceipt;
}

/** Refuses anything but a local chain, with the reason. */
export function requireLocalChain(p: Pick<Protocol, "chainId" | "networkName">, what: string): void {
  if (!isLocalChain(p.chainId)) {
    throw new VeritensorError(
      `${what} works only on a local network (chain 31337: \`--network localhost\` or the in-process network); ` +
        `network ${p.networkName} is chain ${p.chainId}, where VTN comes from its holders`,
    );
  }
}

/**
 * Sends test tokens from the deployer (account 0, which holds the supply on a local chain: the
 * token has no mint function) to `to`.
 */
export async function faucet(p: Protocol, to: string, amount: bigint): Promise<FaucetResult> {
  requireLocalChain(p, "token faucet");
  if (amount <= 0n) throw new VeritensorError("the faucet amount must be greater than zero");
  const deployer = await resolveSigner(p.connection, "0");
  const available = await p.token.balanceOf(await deployer.getAddress());
  if (available < amount) {
    throw new VeritensorError(`the deployer has only ${formatVtn(available)} left to give, ${formatVtn(amount)} was asked`);
  }
  const receipt = await send(p, "sending test tokens", () => p.token.connect(deployer).transfer(to, amount));
  return { to, amount, balance: await p.token.balanceOf(to), receipt };
}
