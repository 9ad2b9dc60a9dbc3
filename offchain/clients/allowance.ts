/**
 * Before a contract pulls tokens: enough balance, and enough allowance (approved here unless the
 * caller said not to). Both fail with the numbers and the way out.
 */
import type { ContractTransactionReceipt, Signer } from "ethers";

import { VeritensorError } from "./errors.js";
import { formatVtn } from "./format.js";
import type { Protocol } from "./protocol.js";
import { addressNames, isLocalChain, send } from "./protocol.js";

export interface FundsCheck {
  /** The approval sent, when one was needed and allowed. */
  readonly approval?: ContractTransactionReceipt;
}

export async function ensureFunds(
  p: Protocol,
  owner: Signer,
  spender: string,
  amount: bigint,
  options: { approve: boolean; purpose: string },
): Promise<FundsCheck> {
  const address = await owner.getAddress();
  const balance = await p.token.balanceOf(address);
  if (balance < amount) {
    const hint = isLocalChain(p.chainId)
      ? ` (on a local network: \`npx hardhat token faucet --to ${address} --network ${p.networkName}\`)`
      : "";
    throw new VeritensorError(
      `token balance too low for ${options.purpose}: ${address} has ${formatVtn(balance)}, ${formatVtn(amount)} is needed${hint}`,
    );
  }
  const allowance = await p.token.allowance(address, spender);
  if (allowance >= amount) return {};
  const name = addressNames(p).get(spender.toLowerCase()) ?? spender;
  if (!options.approve) {
    throw new VeritensorError(
      `allowance too low for ${options.purpose}: ${name} may spend ${formatVtn(allowance)} of ${address}'s VTN, ` +
        `${formatVtn(amount)} is needed (approve it, or leave out --no-approve and the task approves it)`,
    );
  }
  const approval = await send(p, `approving ${formatVtn(amount)} for ${name}`, () =>
    p.token.connect(owner).approve(spender, amount),
  );
  return { approval };
}
