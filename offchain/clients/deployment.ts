/**
 * Where the protocol lives on a network. Ignition writes the addresses of a deployment to
 * `ignition/deployments/chain-<id>/deployed_addresses.json`; the in-process network leaves no
 * folder, so its deployments are remembered in memory, per connection, for the life of the process.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";

import { FUTURE_IDS as SDK_FUTURE_IDS } from "../../packages/sdk/src/deployment.js";
import { VeritensorError } from "./errors.js";

/** The protocol's contracts, by role. */
export interface ProtocolAddresses {
  readonly token: string;
  readonly registry: string;
  readonly staking: string;
  readonly jobManager: string;
  readonly timelock: string;
  readonly governor: string;
  readonly disputeFactory: string;
  readonly subscriptions: string;
  /** The worker roster that assigns claims; absent when claims are first-come (no roster deployed). */
  readonly roster?: string;
  /** The audit manager (random audits paid from the audit pool); absent when results are not audited. */
  readonly auditManager?: string;
  /** The redundancy contract (k jobs of one input, final early when they agree); absent in older deployments. */
  readonly redundancy?: string;
}

/** Contracts every deployment has (the roster, the audit manager and the redundancy contract are optional). */
type RequiredRole = Exclude<keyof ProtocolAddresses, "roster" | "auditManager" | "redundancy">;

/**
 * Ignition future id of each contract every deployment has (module id # contract name), as in
 * ignition/modules/; the one list is the SDK's (packages/sdk/src/deployment.ts), which integrators'
 * backends read deployments with.
 */
export const FUTURE_IDS: Readonly<Record<RequiredRole, string>> = {
  token: SDK_FUTURE_IDS.token,
  registry: SDK_FUTURE_IDS.registry,
  staking: SDK_FUTURE_IDS.staking,
  jobManager: SDK_FUTURE_IDS.jobManager,
  timelock: SDK_FUTURE_IDS.timelock,
  governor: SDK_FUTURE_IDS.governor,
  disputeFactory: SDK_FUTURE_IDS.disputeFactory,
  subscriptions: SDK_FUTURE_IDS.subscriptions,
};

/** Ignition future id of the worker roster, when the deployment has one. */
export const ROSTER_FUTURE_ID = SDK_FUTURE_IDS.roster;

/** Ignition future id of the audit manager, when the deployment has one. */
export const AUDIT_MANAGER_FUTURE_ID = SDK_FUTURE_IDS.auditManager;

/** Ignition future id of the redundancy contract, when the deployment has one. */
export const REDUNDANCY_FUTURE_ID = SDK_FUTURE_IDS.redundancy;

export const LOCAL_CHAIN_ID = 31337n;

export function deploymentDir(ignitionDir: string, chainId: bigint): string {
  return path.join(ignitionDir, "deployments", `chain-${chainId}`);
}

const inMemory = new WeakMap<object, ProtocolAddresses>();

/** Remembers a deployment on an in-process network (keyed by its connection object). */
export function rememberDeployment(connection: object, addresses: ProtocolAddresses): void {
  inMemory.set(connection, addresses);
}

export function rememberedDeployment(connection: object): ProtocolAddresses | undefined {
  return inMemory.get(connection);
}

/** The addresses Ignition recorded for `chainId`, or undefined when there is no complete deployment. */
export async function readDeployment(ignitionDir: string, chainId: bigint): Promise<ProtocolAddresses | undefined> {
  const file = path.join(deploymentDir(ignitionDir, chainId), "deployed_addresses.json");
  let recorded: Record<string, string>;
  try {
    recorded = JSON.parse(await readFile(file, "utf8")) as Record<string, string>;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new VeritensorError(`cannot read ${file}: ${(e as Error).message}`, { cause: e });
  }
  const entries = Object.entries(FUTURE_IDS).map(([role, id]) => [role, recorded[id]] as const);
  if (entries.some(([, address]) => address === undefined)) return undefined;
  const roster = recorded[ROSTER_FUTURE_ID];
  const auditManager = recorded[AUDIT_MANAGER_FUTURE_ID];
  const redundancy = recorded[REDUNDANCY_FUTURE_ID];
  return {
    ...(Object.fromEntries(entries) as unknown as ProtocolAddresses),
    ...(roster !== undefined ? { roster } : {}),
    ...(auditManager !== undefined ? { auditManager } : {}),
    ...(redundancy !== undefined ? { redundancy } : {}),
  };
}
