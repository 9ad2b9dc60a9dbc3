/** Pull-payment balances in the job escrow: fees earned by workers, developers, contributors. */
import type { ContractTransactionReceipt, Signer } from "ethers";

import { VeritensorError } from "./errors.js";
import type { Protocol } from "./protocol.js";
import { send } from "./protocol.js";

export interface WithdrawResult {
  readonly amount: bigint;
  readonly tokenBalance: bigint;
  readonly receipt: ContractTransactionReceipt;
}

export async function withdrawBalance(p: Protocol, account: Signer): Promise<WithdrawResult> {
  const address = await account.getAddress();
  const amount = await p.jobManager.balanceOf(address);
  if (amount === 0n) {
    throw new VeritensorError(`${address} has no balance to withdraw in the job escrow (earnings arrive when jobs are finalized)`);
  }
  const receipt = await send(p, "withdrawing the balance", () => p.jobManager.connect(account).withdraw());
  return { amount, tokenBalance: await p.token.balanceOf(address), receipt };
}
