/**
 * Deploys the protocol with Ignition: `LocalProtocol` (short windows, test tokens for accounts
 * 1..5) on a local chain, `Protocol` anywhere else. On a local node that was restarted the old
 * deployment folder describes contracts that no longer exist; it is set aside first.
 */
import { rm } from "node:fs/promises";
import path from "node:path";

import type { NetworkConnection } from "hardhat/types/network";

import LocalProtocol, { LocalAssignedProtocol } from "../../ignition/modules/LocalProtocol.js";
import Protocol from "../../ignition/modules/Protocol.js";
import type { ProtocolAddresses } from "./deployment.js";
import { deploymentDir, readDeployment, rememberDeployment } from "./deployment.js";
import { VeritensorError } from "./errors.js";
import type { Protocol as ProtocolClient } from "./protocol.js";
import { attachProtocol, chainIdOf, isLocalChain } from "./protocol.js";

export interface DeployOptions {
  /** Forget any previous deployment on this chain and deploy anew. */
  readonly reset?: boolean;
  /** Show Ignition's progress output. */
  readonly displayUi?: boolean;
  /** Ignition module parameters (keyed by module id), e.g. `{ Jobs: { challengeWindow: 600 } }`. */
  readonly parameters?: Record<string, Record<string, unknown>>;
  /**
   * Ignition deployment id: the deployment is kept in `deployments/<id>` instead of the chain's
   * folder that the tasks read (benchmarks and tools that must not replace the user's deployment).
   */
  readonly deploymentId?: string;
  /**
   * Local chains only: deploy LocalAssignedProtocol, with a worker roster drawing who claims each
   * job (the default local deployment keeps first-come claims). Public networks always have one.
   */
  readonly assignment?: boolean;
}

export interface DeployResult {
  readonly protocol: ProtocolClient;
  readonly module: "LocalProtocol" | "LocalAssignedProtocol" | "Protocol";
  /** Where Ignition keeps the deployment (undefined for the in-process network). */
  readonly deploymentDir: string | undefined;
  /** Notes for the user (e.g. a stale local deployment that was set aside). */
  readonly notes: readonly string[];
}

export async function deployProtocol(
  connection: NetworkConnection,
  ignitionDir: string,
  options: DeployOptions = {},
): Promise<DeployResult> {
  const chainId = await chainIdOf(connection);
  const local = isLocalChain(chainId);
  const inProcess = connection.networkConfig.type === "edr-simulated";
  const dir = inProcess
    ? undefined
    : options.deploymentId !== undefined
      ? path.join(ignitionDir, "deployments", options.deploymentId)
      : deploymentDir(ignitionDir, chainId);
  const notes: string[] = [];

  if (dir !== undefined) {
    if (options.reset) {
      await rm(dir, { recursive: true, force: true });
      notes.push(`removed the previous deployment in ${dir} (--reset)`);
    } else if (local && options.deploymentId === undefined) {
      const previous = await readDeployment(ignitionDir, chainId);
      const gone = previous !== undefined && (await connection.ethers.provider.getCode(previous.jobManager)) === "0x";
      if (gone) {
        await rm(dir, { recursive: true, force: true });
        notes.push(`the deployment recorded in ${dir} is not on this node (restarted?): deploying anew`);
      }
    }
  }

  const module = !local ? Protocol : options.assignment ? LocalAssignedProtocol : LocalProtocol;
  let contracts;
  try {
    contracts = await connection.ignition.deploy(module, {
      displayUi: options.displayUi ?? false,
      parameters: options.parameters as never,
      ...(options.deploymentId !== undefined ? { deploymentId: options.deploymentId } : {}),
    });
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    throw new VeritensorError(
      `deploying ${module.id} on network ${connection.networkName} failed: ${message}` +
        (dir !== undefined ? `\n(to start over: \`npx hardhat protocol deploy --network ${connection.networkName} --reset\`)` : ""),
      { cause: e },
    );
  }

  const addresses: ProtocolAddresses = {
    token: await contracts.token.getAddress(),
    registry: await contracts.registry.getAddress(),
    staking: await contracts.staking.getAddress(),
    jobManager: await contracts.jobManager.getAddress(),
    timelock: await contracts.timelock.getAddress(),
    governor: await contracts.governor.getAddress(),
    disputeFactory: await contracts.disputeGameFactory.getAddress(),
    subscriptions: await contracts.subscriptionManager.getAddress(),
    ...("workerRoster" in contracts ? { roster: await (contracts.workerRoster as { getAddress(): Promise<string> }).getAddress() } : {}),
    ...("auditManager" in contracts ? { auditManager: await (contracts.auditManager as { getAddress(): Promise<string> }).getAddress() } : {}),
    redundancy: await contracts.redundantRequests.getAddress(),
  };
  rememberDeployment(connection, addresses);
  return {
    protocol: attachProtocol(connection, chainId, addresses),
    module: module.id as DeployResult["module"],
    deploymentDir: dir,
    notes,
  };
}
