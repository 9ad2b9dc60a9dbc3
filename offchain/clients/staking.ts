/** Stakes: add, request an unstake, withdraw after the unbonding delay. */
import type { ContractTransactionReceipt, Signer } from "ethers";

import { ensureFunds } from "./allowance.js";
import { VeritensorError } from "./errors.js";
import { formatTime, formatVtn } from "./format.js";
import type { Protocol } from "./protocol.js";
import { nextBlockTime, read, send } from "./protocol.js";

export interface StakePosition {
  readonly staked: bigint;
  readonly locked: bigint;
  readonly free: bigint;
  readonly unbonding: bigint;
  readonly unbondingEnd: bigint;
  readonly minStake: bigint;
}

export async function stakePosition(p: Protocol, staker: string): Promise<StakePosition> {
  const [info, minStake] = await Promise.all([p.staking.stakeOf(staker), p.staking.minStake()]);
  return {
    staked: info.staked,
    locked: info.locked,
    free: info.staked - info.locked,
    unbonding: info.unbonding,
    unbondingEnd: info.unbondingEnd,
    minStake,
  };
}

export interface StakeResult {
  readonly receipt: ContractTransactionReceipt;
  readonly approval?: ContractTransactionReceipt;
  readonly position: StakePosition;
}

/** Adds `amount` to the signer's stake (approving it first unless `approve` is false). */
export async function addStake(
  p: Protocol,
  staker: Signer,
  amount: bigint,
  options: { approve?: boolean; serveModels?: readonly bigint[] } = {},
): Promise<StakeResult> {
  if (amount <= 0n) throw new VeritensorError("the stake amount must be greater than zero");
  const { approval } = await ensureFunds(p, staker, p.addresses.staking, amount, {
    approve: options.approve ?? true,
    purpose: `staking ${formatVtn(amount)}`,
  });
  const receipt = await send(p, `staking ${formatVtn(amount)}`, () => p.staking.connect(staker).stake(amount));
  for (const modelId of options.serveModels ?? []) {
    await send(p, `declaring that you serve model ${modelId}`, () => p.staking.connect(staker).setModelServed(modelId, true));
  }
  return { receipt, approval, position: await stakePosition(p, await staker.getAddress()) };
}

export interface ServeResult {
  /** The models whose flag this call changed (a model already as asked is left alone). */
  readonly changed: readonly bigint[];
  readonly receipts: readonly ContractTransactionReceipt[];
}

/**
 * Declares that the signer serves (`served`) or no longer serves each of `modelIds` in Staking: a
 * hint for requesters, and what a worker roster requires of its members. One transaction per
 * model whose flag changes; an unknown model is refused before anything is sent.
 */
export async function setModelsServed(p: Protocol, staker: Signer, modelIds: readonly bigint[], served: boolean): Promise<ServeResult> {
  if (modelIds.length === 0) throw new VeritensorError("no model given: name the models with --models, e.g. --models 1,2");
  const address = await staker.getAddress();
  const todo: bigint[] = [];
  for (const modelId of new Set(modelIds)) {
    await read(p, `reading model ${modelId}`, () => p.registry.getModel(modelId)); // unknown model N: …
    if ((await read(p, `reading whether ${address} serves model ${modelId}`, () => p.staking.servesModel(address, modelId))) !== served) todo.push(modelId);
  }
  const receipts: ContractTransactionReceipt[] = [];
  for (const modelId of todo) {
    const what = served ? `declaring that you serve model ${modelId}` : `declaring that you no longer serve model ${modelId}`;
    receipts.push(await send(p, what, () => p.staking.connect(staker).setModelServed(modelId, served)));
  }
  return { changed: todo, receipts };
}

export interface UnstakeResult {
  readonly receipt: ContractTransactionReceipt;
  readonly position: StakePosition;
}

/** Moves `amount` of free stake into unbonding. */
export async function requestUnstake(p: Protocol, staker: Signer, amount: bigint): Promise<UnstakeResult> {
  if (amount <= 0n) throw new VeritensorError("the amount to unstake must be greater than zero");
  const address = await staker.getAddress();
  const before = await stakePosition(p, address);
  if (amount > before.free) {
    throw new VeritensorError(
      `only ${formatVtn(before.free)} of ${address}'s stake is free (${formatVtn(before.locked)} is locked by claimed jobs); ` +
        `cannot unstake ${formatVtn(amount)}`,
    );
  }
  const receipt = await send(p, `unstaking ${formatVtn(amount)}`, () => p.staking.connect(staker).requestUnstake(amount));
  return { receipt, position: await stakePosition(p, address) };
}

export interface WithdrawStakeResult {
  readonly amount: bigint;
  readonly receipt: ContractTransactionReceipt;
}

/** Withdraws what finished unbonding. */
export async function withdrawStake(p: Protocol, staker: Signer): Promise<WithdrawStakeResult> {
  const address = await staker.getAddress();
  const position = await stakePosition(p, address);
  if (position.unbonding === 0n) {
    throw new VeritensorError(`${address} has nothing unbonding: request it with \`stake unstake --amount …\` first`);
  }
  const next = await nextBlockTime(p);
  if (next < position.unbondingEnd) {
    throw new VeritensorError(
      `${formatVtn(position.unbonding)} is unbonding until ${formatTime(position.unbondingEnd, next)}; withdraw after that`,
    );
  }
  const receipt = await send(p, "withdrawing unbonded stake", () => p.staking.connect(staker).withdraw());
  return { amount: position.unbonding, receipt };
}
