/**
 * Pull-payment balances in the job escrow: fees earned by workers, developers, contributors, the
 * per-model earnings that reach developers and contributors once distributed, and the protocol
 * fees that reach each parameter version's treasury once collected.
 */
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
    throw new VeritensorError(`${address} has no balance to withdraw in the job escrow (earnings arrive when jobs are finalized; a model's revenue once its earnings are distributed)`);
  }
  const receipt = await send(p, "withdrawing the balance", () => p.jobManager.connect(account).withdraw());
  return { amount, tokenBalance: await p.token.balanceOf(address), receipt };
}

export interface DistributeResult {
  readonly modelId: bigint;
  /** Everything the model had accrued. */
  readonly amount: bigint;
  /** What each payee was credited, in the order of the escrow's events (contributors, then the owner). */
  readonly credits: readonly { readonly account: string; readonly amount: bigint }[];
  readonly receipt: ContractTransactionReceipt;
}

/**
 * Splits the earnings model `modelId` accrued (its price from every finalized job) among its
 * payees' pull balances. Anyone may call it; the payees then withdraw as usual.
 */
export async function distributeModelEarnings(p: Protocol, caller: Signer, modelId: bigint): Promise<DistributeResult> {
  const accrued = await p.jobManager.modelEarnings(modelId);
  if (accrued === 0n) {
    throw new VeritensorError(`model ${modelId} has no accrued earnings to distribute (they accrue when its jobs are finalized)`);
  }
  const receipt = await send(p, `distributing the earnings of model ${modelId}`, () =>
    p.jobManager.connect(caller).distributeModelEarnings(modelId),
  );
  const escrow = p.addresses.jobManager.toLowerCase();
  let amount = 0n;
  const credits: { account: string; amount: bigint }[] = [];
  for (const log of receipt.logs) {
    if (log.address.toLowerCase() !== escrow) continue;
    const e = p.jobManager.interface.parseLog(log);
    if (e?.name === "ModelEarningsDistributed") amount = e.args.amount as bigint;
    if (e?.name === "BalanceCredited") credits.push({ account: e.args.account as string, amount: e.args.amount as bigint });
  }
  return { modelId, amount, credits, receipt };
}

export interface CollectResult {
  readonly version: number;
  readonly treasury: string;
  /** Everything the version's jobs had accrued. */
  readonly amount: bigint;
  readonly receipt: ContractTransactionReceipt;
}

/**
 * Credits the protocol fees accrued by the jobs of parameter version `version` (the current one by
 * default) to that version's treasury, as a pull balance. Anyone may call it.
 */
export async function collectProtocolFees(p: Protocol, caller: Signer, version?: number): Promise<CollectResult> {
  const current = Number(await p.jobManager.paramsVersion());
  const v = version ?? current;
  if (!Number.isInteger(v) || v < 1 || v > current) {
    throw new VeritensorError(`parameter version ${v} does not exist: the escrow has versions 1 to ${current}`);
  }
  const accrued = await p.jobManager.protocolFees(v);
  if (accrued === 0n) {
    throw new VeritensorError(`no protocol fees have accrued under parameter version ${v} since the last collection (they accrue when its jobs are finalized)`);
  }
  const receipt = await send(p, `collecting the protocol fees of parameter version ${v}`, () =>
    p.jobManager.connect(caller).collectProtocolFees(v),
  );
  const escrow = p.addresses.jobManager.toLowerCase();
  for (const log of receipt.logs) {
    if (log.address.toLowerCase() !== escrow) continue;
    const e = p.jobManager.interface.parseLog(log);
    if (e?.name === "ProtocolFeesCollected") return { version: v, treasury: e.args.treasury as string, amount: e.args.amount as bigint, receipt };
  }
  throw new VeritensorError(`collecting the protocol fees of version ${v}: no ProtocolFeesCollected event in ${receipt.hash}`);
}
