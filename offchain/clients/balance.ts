/**
 * Pull-payment balances in the job escrow: fees earned by workers, developers, contributors, and
 * what each model's jobs accrue (the model's earnings, the protocol fees) until distributed to the
 * model's payees and the treasury.
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

/** The pull-payment holders: the job escrow, the dispute factory and the subscription manager (same `balanceOf`/`withdraw`). */
const PAYERS = {
  escrow: {
    contract: (p: Protocol) => p.jobManager,
    label: "withdrawing the balance",
    none: "in the job escrow (earnings arrive when jobs are finalized; a model's revenue once its earnings are distributed)",
  },
  disputes: {
    contract: (p: Protocol) => p.disputes,
    label: "withdrawing the dispute balance",
    none: "in the dispute factory (bonds and rewards are credited when a game is settled)",
  },
  subscriptions: {
    contract: (p: Protocol) => p.subscriptions,
    label: "withdrawing the keeper rewards",
    none: "in the subscription manager (a keeper reward is credited for each run triggered)",
  },
} as const;

/** Withdraws `account`'s whole pull balance from `from`, refusing (in words) when there is none. */
async function withdrawPull(p: Protocol, account: Signer, from: keyof typeof PAYERS): Promise<WithdrawResult> {
  const payer = PAYERS[from];
  const address = await account.getAddress();
  const amount = await payer.contract(p).balanceOf(address);
  if (amount === 0n) throw new VeritensorError(`${address} has no balance to withdraw ${payer.none}`);
  const receipt = await send(p, payer.label, () => payer.contract(p).connect(account).withdraw());
  return { amount, tokenBalance: await p.token.balanceOf(address), receipt };
}

/** Withdraws `account`'s balance in the job escrow (worker fees, model revenue, refunds). */
export function withdrawBalance(p: Protocol, account: Signer): Promise<WithdrawResult> {
  return withdrawPull(p, account, "escrow");
}

/** Withdraws `account`'s balance in the dispute factory (returned bonds, rewards). */
export function withdrawDisputeBalance(p: Protocol, account: Signer): Promise<WithdrawResult> {
  return withdrawPull(p, account, "disputes");
}

/** Withdraws `account`'s keeper rewards from the subscription manager (one per run it triggered). */
export function withdrawKeeperRewards(p: Protocol, account: Signer): Promise<WithdrawResult> {
  return withdrawPull(p, account, "subscriptions");
}

export interface DistributeResult {
  readonly modelId: bigint;
  /** Everything the model had earned (its price from every finalized job). */
  readonly amount: bigint;
  /** The protocol fees of the same jobs, credited to the treasury (0 if none had accrued). */
  readonly protocolFees: bigint;
  /** What each account was credited, in the order of the escrow's events (treasury, contributors, then the owner). */
  readonly credits: readonly { readonly account: string; readonly amount: bigint }[];
  readonly receipt: ContractTransactionReceipt;
}

/**
 * Splits the earnings model `modelId` accrued (its price from every finalized job) among its
 * payees' pull balances. Anyone may call it; the payees then withdraw as usual.
 */
export async function distributeModelEarnings(p: Protocol, caller: Signer, modelId: bigint): Promise<DistributeResult> {
  const [accrued, fees] = await Promise.all([p.jobManager.modelEarnings(modelId), p.jobManager.protocolFees(modelId)]);
  if (accrued === 0n && fees === 0n) {
    throw new VeritensorError(`model ${modelId} has no accrued earnings to distribute (they accrue when its jobs are finalized)`);
  }
  const receipt = await send(p, `distributing the earnings of model ${modelId}`, () =>
    p.jobManager.connect(caller).distributeModelEarnings(modelId),
  );
  const escrow = p.addresses.jobManager.toLowerCase();
  let amount = 0n;
  let protocolFees = 0n;
  const credits: { account: string; amount: bigint }[] = [];
  for (const log of receipt.logs) {
    if (log.address.toLowerCase() !== escrow) continue;
    const e = p.jobManager.interface.parseLog(log);
    if (e?.name === "ModelEarningsDistributed") amount = e.args.amount as bigint;
    if (e?.name === "ProtocolFeesCollected") protocolFees = e.args.amount as bigint;
    if (e?.name === "BalanceCredited") credits.push({ account: e.args.account as string, amount: e.args.amount as bigint });
  }
  return { modelId, amount, protocolFees, credits, receipt };
}
