/**
 * The protocol's contracts on one network, typed by TypeChain, at the addresses Ignition
 * recorded. Every task and daemon starts here:
 *
 *   const p = await openProtocol(hre);           // or connectProtocol(connection, ignitionDir)
 *   const job = await p.jobManager.getJob(1n);
 */
import type { ContractTransactionReceipt, ContractTransactionResponse, Signer } from "ethers";
import { isAddress } from "ethers";
import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";
import type { NetworkConnection } from "hardhat/types/network";

import type {
  DisputeGameFactory,
  JobManager,
  ModelRegistry,
  ProtocolTimelock,
  Staking,
  VeritensorGovernor,
  VeritensorToken,
} from "../../types/ethers-contracts/index.js";
import {
  DisputeGameFactory__factory,
  JobManager__factory,
  ModelRegistry__factory,
  ProtocolTimelock__factory,
  Staking__factory,
  VeritensorGovernor__factory,
  VeritensorToken__factory,
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
  ]);
}

/** Latest block time of the chain (what contracts compare deadlines with). */
export async function chainTime(p: Protocol): Promise<bigint> {
  const block = await p.connection.ethers.provider.getBlock("latest");
  return BigInt(block?.timestamp ?? Math.floor(Date.now() / 1000));
}

async function revertContext(p: Protocol): Promise<RevertContext> {
  return { names: addressNames(p), now: await chainTime(p).catch(() => 0n) };
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
