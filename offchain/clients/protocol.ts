/**
 * The protocol's contracts on one network, typed by TypeChain, at the addresses Ignition
 * recorded. Every task and daemon starts here:
 *
 *   const p = await openProtocol(hre);           // or connectProtocol(connection, ignitionDir)
 *   const job = await p.jobManager.getJob(1n);
 */
import type { ContractTransactionReceipt, ContractTransactionResponse, Signer } from "ethers";
import { ZeroAddress, isAddress } from "ethers";
import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";
import type { NetworkConnection } from "hardhat/types/network";

import type {
  AuditManager,
  DisputeGameFactory,
  JobManager,
  ModelRegistry,
  ProtocolTimelock,
  RedundantRequests,
  Staking,
  SubscriptionManager,
  VeritensorGovernor,
  VeritensorToken,
  WorkerRoster,
} from "../../types/ethers-contracts/index.js";
import {
  AuditManager__factory,
  DisputeGameFactory__factory,
  JobManager__factory,
  ModelRegistry__factory,
  ProtocolTimelock__factory,
  RedundantRequests__factory,
  Staking__factory,
  SubscriptionManager__factory,
  VeritensorGovernor__factory,
  VeritensorToken__factory,
  WorkerRoster__factory,
} from "../../types/ethers-contracts/index.js";
import type { ProtocolAddresses } from "./deployment.js";
import { LOCAL_CHAIN_ID, deploymentDir, readDeployment, rememberedDeployment } from "./deployment.js";
import { VeritensorError } from "./errors.js";
import type { RevertContext } from "./revert.js";
import { explainFailure } from "./revert.js";
import { waitMined } from "./wait.js";

export interface Protocol {
  readonly connection: NetworkConnection;
  readonly networkName: string;
  readonly chainId: bigint;
  readonly addresses: ProtocolAddresses;
  readonly token: VeritensorToken;
  readonly registry: ModelRegistry;
  readonly staking: Staking;
  readonly jobManager: JobManager;
  readonly timelock: ProtocolTimelock;
  readonly governor: VeritensorGovernor;
  readonly disputes: DisputeGameFactory;
  readonly subscriptions: SubscriptionManager;
  /** The worker roster that assigns claims, per the address book (undefined: first-come claims). */
  readonly roster: WorkerRoster | undefined;
  /** The audit manager, per the address book (undefined: results are not audited). */
  readonly audits: AuditManager | undefined;
  /** The redundancy contract, per the address book (undefined: not deployed). */
  readonly redundancy: RedundantRequests | undefined;
}

/**
 * Whether the chain is a local development chain (the in-process network or `npx hardhat node`):
 * chain id 31337. A fork of a public network keeps that network's id and is not local.
 */
export function isLocalChain(chainId: bigint): boolean {
  return chainId === LOCAL_CHAIN_ID;
}

export async function chainIdOf(connection: NetworkConnection): Promise<bigint> {
  try {
    return (await connection.ethers.provider.getNetwork()).chainId;
  } catch (e) {
    return explainFailure(e, `connecting to network ${connection.networkName}`);
  }
}

/** The protocol's typed contracts at `addresses`, read through `connection`'s provider. */
export function attachProtocol(connection: NetworkConnection, chainId: bigint, addresses: ProtocolAddresses): Protocol {
  const runner = connection.ethers.provider;
  return {
    connection,
    networkName: connection.networkName,
    chainId,
    addresses,
    token: VeritensorToken__factory.connect(addresses.token, runner),
    registry: ModelRegistry__factory.connect(addresses.registry, runner),
    staking: Staking__factory.connect(addresses.staking, runner),
    jobManager: JobManager__factory.connect(addresses.jobManager, runner),
    timelock: ProtocolTimelock__factory.connect(addresses.timelock, runner),
    governor: VeritensorGovernor__factory.connect(addresses.governor, runner),
    disputes: DisputeGameFactory__factory.connect(addresses.disputeFactory, runner),
    subscriptions: SubscriptionManager__factory.connect(addresses.subscriptions, runner),
    roster: addresses.roster !== undefined && addresses.roster !== ZeroAddress ? WorkerRoster__factory.connect(addresses.roster, runner) : undefined,
    audits:
      addresses.auditManager !== undefined && addresses.auditManager !== ZeroAddress
        ? AuditManager__factory.connect(addresses.auditManager, runner)
        : undefined,
    redundancy:
      addresses.redundancy !== undefined && addresses.redundancy !== ZeroAddress
        ? RedundantRequests__factory.connect(addresses.redundancy, runner)
        : undefined,
  };
}

/**
 * The protocol as deployed on `connection`'s network: in memory for the in-process network,
 * from Ignition's deployment folder otherwise. Fails with the command to run when it is not
 * deployed there (or when the recorded deployment is gone, as after restarting `hardhat node`).
 */
export async function connectProtocol(connection: NetworkConnection, ignitionDir: string): Promise<Protocol> {
  const chainId = await chainIdOf(connection);
  const deployCommand = `run \`npx hardhat protocol deploy --network ${connection.networkName}\` first`;
  const addresses = rememberedDeployment(connection) ?? (connection.networkConfig.type === "edr-simulated"
    ? undefined
    : await readDeployment(ignitionDir, chainId));
  if (addresses === undefined) {
    const where = connection.networkConfig.type === "edr-simulated"
      ? "the in-process network starts empty on every command: use `--network localhost` with `npx hardhat node` running"
      : `no deployment in ${deploymentDir(ignitionDir, chainId)}`;
    throw new VeritensorError(
      `the protocol is not deployed on network ${connection.networkName} (chain ${chainId}): ${deployCommand} (${where})`,
    );
  }
  const code = await connection.ethers.provider.getCode(addresses.jobManager);
  if (code === "0x") {
    throw new VeritensorError(
      `the deployment recorded for chain ${chainId} is not on network ${connection.networkName} ` +
        `(was the node restarted?): ${deployCommand}`,
    );
  }
  return attachProtocol(connection, chainId, addresses);
}

/** `connectProtocol` on the network the task runs on (`--network`). */
export async function openProtocol(hre: HardhatRuntimeEnvironment): Promise<Protocol> {
  const connection = await hre.network.getOrCreate();
  return connectProtocol(connection, hre.config.paths.ignition);
}

/**
 * The signer for `from`: an account index ("0", "3") among the network's accounts, or one of
 * their addresses. Defaults to account 0.
 */
export async function resolveSigner(connection: NetworkConnection, from: string | undefined): Promise<Signer> {
  const signers = await connection.ethers.getSigners();
  const spec = (from ?? "").trim() || "0";
  if (/^\d+$/.test(spec)) {
    const signer = signers[Number(spec)];
    if (!signer) {
      throw new VeritensorError(`account #${spec} does not exist on network ${connection.networkName} (it has ${signers.length})`);
    }
    return signer;
  }
  if (!isAddress(spec)) throw new VeritensorError(`"${spec}" is neither an account index nor an address`);
  const signer = signers.find((s) => s.address.toLowerCase() === spec.toLowerCase());
  if (!signer) {
    throw new VeritensorError(`${spec} is not one of the accounts configured for network ${connection.networkName}`);
  }
  return signer;
}

/** An address from an account index ("2") or an address. */
export async function resolveAddress(connection: NetworkConnection, who: string): Promise<string> {
  if (isAddress(who)) return who;
  return (await resolveSigner(connection, who)).getAddress();
}

/** Names for the protocol's addresses in messages. */
export function addressNames(p: Protocol): Map<string, string> {
  return new Map([
    [p.addresses.token.toLowerCase(), "the VTN token"],
    [p.addresses.registry.toLowerCase(), "the model registry"],
    [p.addresses.staking.toLowerCase(), "the staking contract"],
    [p.addresses.jobManager.toLowerCase(), "the job escrow"],
    [p.addresses.timelock.toLowerCase(), "the governance timelock"],
    [p.addresses.governor.toLowerCase(), "the governor"],
    [p.addresses.disputeFactory.toLowerCase(), "the dispute factory"],
    [p.addresses.subscriptions.toLowerCase(), "the subscription manager"],
    ...(p.addresses.redundancy !== undefined ? [[p.addresses.redundancy.toLowerCase(), "the redundancy contract"] as [string, string]] : []),
  ]);
}

/** Latest block time of the chain (what contracts compare deadlines with). */
export async function chainTime(p: Protocol): Promise<bigint> {
  const block = await p.connection.ethers.provider.getBlock("latest");
  return BigInt(block?.timestamp ?? Math.floor(Date.now() / 1000));
}

/** The chain's clock as read at one moment: its head, and the time its next block will carry. */
export interface ChainClock {
  readonly head: { readonly number: number; readonly timestamp: bigint; readonly hash?: string | null };
  /** The timestamp the next block will carry, as the endpoint foresees it at `readAt`. */
  readonly next: bigint;
  /** Wall-clock time of the read, in milliseconds. */
  readonly readAt: number;
}

/**
 * Reads the head and the pending block together. A chain's clock need not follow the wall clock:
 * a local node stamps an idle chain's next block with the wall clock plus its own offset, which is
 * negative on a Hardhat chain created a while after Hardhat started (its genesis date is taken then)
 * and positive after blocks in quick succession or a time jump. The pending block says which: it is
 * what the endpoint would mine now. An endpoint without one falls back to the later of the head's
 * time + 1 and the wall clock.
 *
 * Given the clock read before (`previous`), a head that has not moved costs one call: the
 * previous clock still holds, moved on by the wall clock (see {@link nextBlockTimeAt}).
 */
export async function readChainClock(p: Protocol, previous?: ChainClock): Promise<ChainClock> {
  const provider = p.connection.ethers.provider;
  const readAt = Date.now();
  if (previous?.head.hash) {
    const block = await provider.getBlock("latest");
    if (!block) throw new VeritensorError("the endpoint returned no latest block");
    if (block.hash === previous.head.hash) return previous;
    return clockFrom(block, await pendingBlock(p), readAt);
  }
  const [block, pending] = await Promise.all([provider.getBlock("latest"), pendingBlock(p)]);
  if (!block) throw new VeritensorError("the endpoint returned no latest block");
  return clockFrom(block, pending, readAt);
}

type PendingBlock = { parentHash?: string; timestamp?: string } | null;

function pendingBlock(p: Protocol): Promise<PendingBlock> {
  return p.connection.ethers.provider.send("eth_getBlockByNumber", ["pending", false]).catch(() => null) as Promise<PendingBlock>;
}

function clockFrom(block: { number: number; timestamp: number; hash: string | null }, pending: PendingBlock, readAt: number): ChainClock {
  const head = { number: block.number, timestamp: BigInt(block.timestamp), hash: block.hash };
  const wall = BigInt(Math.floor(readAt / 1000));
  let next = head.timestamp + 1n > wall ? head.timestamp + 1n : wall;
  // Only a block on top of this head counts (a pending block has no number): some endpoints answer
  // "pending" with the head itself, and a block may have been mined between the two reads.
  if (pending?.timestamp !== undefined && block.hash !== null && pending.parentHash === block.hash) {
    const foreseen = BigInt(pending.timestamp);
    next = foreseen > head.timestamp ? foreseen : head.timestamp;
  }
  return { head, next, readAt };
}

/** The timestamp the next block will carry, as far as the endpoint can tell (see {@link readChainClock}). */
export async function nextBlockTime(p: Protocol): Promise<bigint> {
  return (await readChainClock(p)).next;
}

/**
 * At least the time a block mined at wall-clock time `atMs` will carry, by `clock`. A chain that was
 * behind the wall clock keeps its lag; one that was ahead may have been ahead only by blocks in
 * quick succession, so it is assumed to stay where it was until the wall clock catches up.
 */
export function nextBlockTimeAt(clock: ChainClock, atMs = Date.now()): bigint {
  const readAt = BigInt(Math.floor(clock.readAt / 1000));
  const lag = clock.next < readAt ? clock.next - readAt : 0n;
  const following = BigInt(Math.floor(atMs / 1000)) + lag;
  return following > clock.next ? following : clock.next;
}

async function revertContext(p: Protocol): Promise<RevertContext> {
  return { names: addressNames(p), now: await nextBlockTime(p).catch(() => 0n) };
}

/** Runs a read, turning a revert into a readable VeritensorError about `action`. */
export async function read<T>(p: Protocol, action: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    return explainFailure(e, action, await revertContext(p));
  }
}

/**
 * Sends a transaction and waits for its receipt. A revert (at gas estimation or on-chain)
 * becomes a VeritensorError that says why, in words.
 */
export async function send(
  p: Protocol,
  action: string,
  fn: () => Promise<ContractTransactionResponse>,
): Promise<ContractTransactionReceipt> {
  try {
    const tx = await fn();
    const receipt = await waitMined(tx);
    if (receipt === null) throw new VeritensorError(`${action}: the transaction was dropped`);
    return receipt;
  } catch (e) {
    return explainFailure(e, action, await revertContext(p));
  }
}
