/**
 * The worker roster (contracts/assignment/WorkerRoster.sol), when the escrow has one: the workers
 * serving each model, drawn by stake, slot by slot, to claim each job. Joining takes effect from the
 * next epoch. Without a roster (the escrow's `roster()` is zero) claims are first-come and none of
 * this applies.
 */
import type { ContractTransactionReceipt, Signer } from "ethers";
import { ZeroAddress } from "ethers";

import type { WorkerRoster } from "../../types/ethers-contracts/index.js";
import { WorkerRoster__factory } from "../../types/ethers-contracts/index.js";
import { VeritensorError } from "./errors.js";
import { formatVtn } from "./format.js";
import type { Protocol } from "./protocol.js";
import { read, send } from "./protocol.js";

/** The escrow's roster, read once per protocol object (the escrow's `roster` is immutable). */
const rosters = new WeakMap<Protocol, Promise<WorkerRoster | undefined>>();

/** The roster that assigns the escrow's claims, or undefined when claims are first-come. */
export function rosterOf(p: Protocol): Promise<WorkerRoster | undefined> {
  let hit = rosters.get(p);
  if (hit === undefined) {
    hit = read(p, "reading the escrow's worker roster", () => p.jobManager.roster()).then((address) =>
      address === ZeroAddress ? undefined : WorkerRoster__factory.connect(address, p.connection.ethers.provider),
    );
    rosters.set(p, hit);
  }
  return hit;
}

async function requireRoster(p: Protocol): Promise<WorkerRoster> {
  const roster = await rosterOf(p);
  if (roster === undefined) {
    throw new VeritensorError("this deployment's job escrow has no worker roster: claims are first-come, there is nothing to join");
  }
  return roster;
}

export interface RosterMember {
  /** Position in the model's roster (0: not a member). */
  readonly position: bigint;
  /** Weight in the current epoch. */
  readonly current: bigint;
  /** Weight from the next epoch on. */
  readonly next: bigint;
}

/** `worker`'s position and weights in `modelId`'s roster. */
export async function rosterMember(p: Protocol, modelId: bigint, worker: string): Promise<RosterMember> {
  const roster = await requireRoster(p);
  const [position, current, next] = await read(p, `reading ${worker}'s place in model ${modelId}'s roster`, () => roster.memberOf(modelId, worker));
  return { position, current, next };
}

/** A worker's place in a model's roster, with what it is measured against. */
export interface RosterStatus {
  readonly member: RosterMember;
  /** The model's total weight in the current epoch. */
  readonly totalWeight: bigint;
  readonly epoch: bigint;
  readonly epochBlocks: bigint;
  /** The highest weight of one account (weights are `min(staked, weightCap)`). */
  readonly weightCap: bigint;
  /** Whether the worker serves the model in Staking, and what it has staked (its weight from a join). */
  readonly serves: boolean;
  readonly staked: bigint;
  readonly minStake: bigint;
}

/** `worker`'s place in `modelId`'s roster, the model's total weight and the roster's epoch (model checked to exist). */
export async function rosterStatus(p: Protocol, modelId: bigint, worker: string): Promise<RosterStatus> {
  const roster = await requireRoster(p);
  await read(p, `reading model ${modelId}`, () => p.registry.getModel(modelId)); // unknown model N: …
  const [member, totalWeight, epoch, epochBlocks, params, serves, stake, minStake] = await Promise.all([
    rosterMember(p, modelId, worker),
    read(p, `reading model ${modelId}'s roster weight`, () => roster.totalWeight(modelId)),
    read(p, "reading the roster's epoch", () => roster.epoch()),
    read(p, "reading the roster's epoch length", () => roster.epochBlocks()),
    read(p, "reading the roster's parameters", () => roster.params()),
    read(p, `reading whether ${worker} serves model ${modelId}`, () => p.staking.servesModel(worker, modelId)),
    read(p, `reading ${worker}'s stake`, () => p.staking.stakeOf(worker)),
    read(p, "reading the minimum stake", () => p.staking.minStake()),
  ]);
  return { member, totalWeight, epoch, epochBlocks, weightCap: params.weightCap, serves, staked: stake.staked, minStake };
}

export interface RosterChange {
  readonly receipt: ContractTransactionReceipt;
  /** The member's weights after the change (the new one counts from `fromEpoch`). */
  readonly member: RosterMember;
  readonly fromEpoch: bigint;
}

async function changed(p: Protocol, roster: WorkerRoster, modelId: bigint, worker: string, receipt: ContractTransactionReceipt): Promise<RosterChange> {
  const [member, epoch] = await Promise.all([rosterMember(p, modelId, worker), roster.epoch({ blockTag: receipt.blockNumber })]);
  return { receipt, member, fromEpoch: epoch + 1n };
}

/**
 * Joins `modelId`'s roster (or sets the signer's weight there to its stake now), from the next
 * epoch on. The signer must serve the model in Staking and hold the minimum stake: both are checked
 * first, for a precise message.
 */
export async function joinRoster(p: Protocol, worker: Signer, modelId: bigint): Promise<RosterChange> {
  const roster = await requireRoster(p);
  const address = await worker.getAddress();
  const [serves, stake, minStake] = await Promise.all([p.staking.servesModel(address, modelId), p.staking.stakeOf(address), p.staking.minStake()]);
  if (!serves) throw new VeritensorError(`${address} does not serve model ${modelId} (declare it with \`npx hardhat stake serve --models ${modelId}\`) and cannot join its roster`);
  if (stake.staked < minStake) {
    throw new VeritensorError(`${address} has ${formatVtn(stake.staked)} staked, below the minimum of ${formatVtn(minStake)}: it cannot join model ${modelId}'s roster`);
  }
  const receipt = await send(p, `joining model ${modelId}'s roster`, () => roster.connect(worker).join(modelId));
  return changed(p, roster, modelId, address, receipt);
}

/** Leaves `modelId`'s draws from the next epoch on (the position is kept until reclaimed). */
export async function leaveRoster(p: Protocol, worker: Signer, modelId: bigint): Promise<RosterChange> {
  const roster = await requireRoster(p);
  const address = await worker.getAddress();
  const receipt = await send(p, `leaving model ${modelId}'s roster`, () => roster.connect(worker).leave(modelId));
  return changed(p, roster, modelId, address, receipt);
}

/** Sets `worker`'s weight in `modelId`'s roster to what its stake gives now (anyone may send it). */
export async function refreshRoster(p: Protocol, sender: Signer, worker: string, modelId: bigint): Promise<RosterChange> {
  const roster = await requireRoster(p);
  const receipt = await send(p, `refreshing ${worker}'s weight in model ${modelId}'s roster`, () => roster.connect(sender).refresh(worker, modelId));
  return changed(p, roster, modelId, worker, receipt);
}

export interface Assignment {
  /** The worker drawn for the current slot (zero address when none is, e.g. before the seed block). */
  readonly worker: string;
  /** Every worker may claim (the drawn slots are over, or nobody serves the model). */
  readonly open: boolean;
  readonly slot: bigint;
  readonly seedBlock: bigint;
  /** The last block of the current slot. */
  readonly slotEnd: bigint;
  /** The block the assignment was read at. */
  readonly atBlock: bigint;
}

/**
 * Who may claim job `jobId` of model `modelId`, requested (or reopened) in block `requestBlock`
 * (an Open job's `timer`), as of block `atBlock` (default: the latest). One call.
 */
export async function jobAssignee(p: Protocol, modelId: bigint, jobId: bigint, requestBlock: bigint, atBlock?: number): Promise<Assignment> {
  const roster = await requireRoster(p);
  const block = atBlock ?? (await p.connection.ethers.provider.getBlockNumber());
  const a = await read(p, `reading who may claim job ${jobId}`, () => roster.assignee(modelId, jobId, requestBlock, { blockTag: block }));
  return { worker: a.worker, open: a.open, slot: a.slot, seedBlock: a.seedBlock, slotEnd: a.slotEnd, atBlock: BigInt(block) };
}

/** An assignment in words: `open to every worker`, or `0x… (slot 1, until block 42)`. */
export function describeAssignment(a: Assignment): string {
  if (a.open) return `open to every worker (the ${a.slot} drawn slot(s) are over)`;
  if (a.worker === ZeroAddress) return `not drawn yet: the draw's seed is block ${a.seedBlock} (the first slot lasts until block ${a.slotEnd})`;
  return `${a.worker} (slot ${a.slot}, until block ${a.slotEnd})`;
}
