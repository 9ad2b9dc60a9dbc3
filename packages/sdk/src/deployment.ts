/**
 * Where the protocol is: its contracts' addresses by role, from an address book entry
 * (@veritensor/contracts' deployments/<chainId>.json, built into the SDK), from Ignition's
 * `deployed_addresses.json` of a deployment of your own, or given directly.
 */
import { isAddress } from "ethers";

import { ADDRESS_BOOK } from "./address-book.js";
import { VeritensorError } from "./errors.js";

/** The protocol's contracts by role. Only `jobManager` is needed to request; the rest is read from it when absent. */
export interface ProtocolAddresses {
  readonly jobManager: string;
  readonly token?: string;
  readonly registry?: string;
  readonly staking?: string;
  readonly timelock?: string;
  readonly governor?: string;
  readonly disputeFactory?: string;
  readonly subscriptions?: string;
  readonly roster?: string;
  /** The audit manager, on a deployment with audits. */
  readonly auditManager?: string;
  /** The redundancy contract (k jobs of one input). */
  readonly redundancy?: string;
}

/** One official deployment, as in @veritensor/contracts' deployments/<chainId>.json. */
export interface AddressBookEntry {
  readonly chainId: number;
  /** The network's name, e.g. "sepolia". */
  readonly network: string;
  readonly contracts: ProtocolAddresses;
  /** The block of the first contract's deployment: where to start reading events. */
  readonly startBlock?: number;
}

/**
 * Ignition future id (module id # contract name) of each role, as the repository's ignition/modules
 * name them: the keys of `deployed_addresses.json`. The one list: offchain/clients/deployment.ts
 * takes its keys from here.
 */
export const FUTURE_IDS: Readonly<Record<keyof ProtocolAddresses, string>> = {
  token: "Token#VeritensorToken",
  registry: "Registry#ModelRegistry",
  staking: "Staking#Staking",
  jobManager: "Jobs#JobManager",
  timelock: "Governance#ProtocolTimelock",
  governor: "Governance#VeritensorGovernor",
  disputeFactory: "Disputes#DisputeGameFactory",
  subscriptions: "Subscriptions#SubscriptionManager",
  roster: "Assignment#WorkerRoster",
  auditManager: "Audits#AuditManager",
  redundancy: "Redundancy#RedundantRequests",
};

/** Roles from the contents of an Ignition `deployed_addresses.json`. */
export function addressesFromIgnition(recorded: Readonly<Record<string, string>>, source = "the deployment"): ProtocolAddresses {
  const out: Record<string, string> = {};
  for (const [role, id] of Object.entries(FUTURE_IDS)) {
    const a = recorded[id];
    if (a !== undefined) out[role] = a;
  }
  if (out.jobManager === undefined) {
    throw new VeritensorError(`${source} has no ${FUTURE_IDS.jobManager}: is it a Veritensor deployment (npx hardhat protocol deploy)?`, {
      code: "NOT_DEPLOYED",
    });
  }
  return checkAddresses(out as unknown as ProtocolAddresses, source);
}

/** Refuses anything that is not an address, naming the role. */
export function checkAddresses(a: ProtocolAddresses, source = "the addresses"): ProtocolAddresses {
  for (const [role, value] of Object.entries(a)) {
    if (value !== undefined && !isAddress(value)) {
      throw new VeritensorError(`${source}: ${role} is "${value}", not an address`, { code: "INVALID_ARGUMENT" });
    }
  }
  return a;
}

/** Reads Ignition's `deployed_addresses.json` (Node only), e.g. ignition/deployments/chain-31337/deployed_addresses.json. */
export async function readDeploymentFile(file: string): Promise<ProtocolAddresses> {
  const { readFile } = await import("node:fs/promises");
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (e) {
    throw new VeritensorError(`cannot read the deployment file ${file}: ${(e as Error).message}`, { cause: e, code: "NOT_DEPLOYED" });
  }
  let recorded: Record<string, string>;
  try {
    recorded = JSON.parse(text) as Record<string, string>;
  } catch (e) {
    throw new VeritensorError(`${file} is not JSON: ${(e as Error).message}`, { cause: e, code: "INVALID_ARGUMENT" });
  }
  return addressesFromIgnition(recorded, file);
}

/** The official deployments known to this version of the SDK. */
export function addressBook(): Readonly<Record<string, AddressBookEntry>> {
  return ADDRESS_BOOK;
}

/** The official deployment on `chainId`; fails with NOT_DEPLOYED when there is none. */
export function officialDeployment(chainId: bigint | number): AddressBookEntry {
  const entry = ADDRESS_BOOK[String(chainId)];
  if (!entry) {
    const known = Object.values(ADDRESS_BOOK).map((e) => `${e.network} (${e.chainId})`);
    throw new VeritensorError(
      `no official Veritensor deployment on chain ${chainId} in this SDK's address book ` +
        `(${known.length === 0 ? "it holds none yet" : `it knows ${known.join(", ")}`}): pass the addresses, or a deployment file`,
      { code: "NOT_DEPLOYED" },
    );
  }
  return entry;
}
