/**
 * The configuration variables a network needs (hardhat.config.ts: `configVariable("…")` for its URL
 * and deployer key), checked before connecting: Hardhat's own error (HHE7) names one variable and
 * not the keystore command, and the first of several only.
 */
import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { VeritensorError } from "../../offchain/cli/index.js";

/** A resolved configuration variable, as Hardhat keeps it in the resolved config. */
interface ResolvedVariable {
  readonly _type: "ResolvedConfigurationVariable";
  /** The variable's name (absent for a plain string in the config). */
  readonly name?: string;
  get(): Promise<string>;
}

function isVariable(value: unknown): value is ResolvedVariable {
  return typeof value === "object" && value !== null && (value as { _type?: unknown })._type === "ResolvedConfigurationVariable";
}

/** Every configuration variable inside a network's resolved config (its URL, accounts, mnemonic…). */
function variablesIn(value: unknown, found: ResolvedVariable[] = []): ResolvedVariable[] {
  if (isVariable(value)) {
    if (value.name !== undefined) found.push(value);
  } else if (Array.isArray(value)) {
    for (const item of value) variablesIn(item, found);
  } else if (typeof value === "object" && value !== null) {
    for (const item of Object.values(value)) variablesIn(item, found);
  }
  return found;
}

/**
 * Hardhat's "not found" errors for a configuration variable: HHE7 (neither an environment variable
 * nor in a keystore) and HHE50002 (under `hardhat test`, where only the development keystore is read).
 */
const NOT_FOUND = new Set([7, 50002]);

function isNotFound(e: unknown): boolean {
  return e instanceof Error && e.name === "HardhatError" && NOT_FOUND.has((e as Error & { number?: number }).number ?? -1);
}

/**
 * The names of the configuration variables of network `networkName` that are not set, in the
 * config's order. Reading a variable stored in the keystore asks for its password (once per
 * command); the value is kept for the connection that follows.
 */
export async function missingNetworkVariables(hre: Pick<HardhatRuntimeEnvironment, "config">, networkName: string): Promise<string[]> {
  const config = hre.config.networks[networkName];
  if (config === undefined) return [];
  const missing: string[] = [];
  for (const variable of variablesIn(config)) {
    try {
      await variable.get();
    } catch (e) {
      if (!isNotFound(e)) throw e;
      if (!missing.includes(variable.name!)) missing.push(variable.name!);
    }
  }
  return missing;
}

/**
 * Fails, naming each missing variable and the command that stores it, when the network given with
 * `--network` lacks one (the default network is the in-process one, which needs none).
 */
export async function requireNetworkVariables(hre: Pick<HardhatRuntimeEnvironment, "config" | "globalOptions">): Promise<void> {
  const network = hre.globalOptions.network;
  if (network === undefined) return;
  const missing = await missingNetworkVariables(hre, network);
  if (missing.length === 0) return;
  throw new VeritensorError(
    `network ${network} needs ${missing.length === 1 ? "the configuration variable" : "the configuration variables"} ${missing.join(", ")}, ` +
      `which ${missing.length === 1 ? "is" : "are"} not set. Store ${missing.length === 1 ? "it" : "each"} in the encrypted keystore:\n` +
      missing.map((name) => `  npx hardhat keystore set ${name}`).join("\n") +
      `\n(or set an environment variable of that name; docs/DEPLOYING.md walks through a testnet deployment)`,
  );
}
