/**
 * The test-VTN faucet (contracts/token/TestnetFaucet.sol): deployed by `protocol deploy` on test
 * networks only, found again through Ignition's addresses (`Faucet#TestnetFaucet`), and dripped
 * from by `faucet drip`. Each refusal the contract would revert with is checked first and said in
 * words (when the account may drip again, what the cap leaves).
 */
import { readFile } from "node:fs/promises";
import path from "node:path";

import type { ContractTransactionReceipt, Signer } from "ethers";
import type { NetworkConnection } from "hardhat/types/network";

import FaucetModule, { TEST_CHAINS, isTestChain } from "../../ignition/modules/Faucet.js";
import type { Protocol } from "../../offchain/cli/index.js";
import { VeritensorError, chainIdOf, deploymentDir, formatDuration, formatTime, formatVtn, nextBlockTime, send } from "../../offchain/cli/index.js";
import type { TestnetFaucet } from "../../types/ethers-contracts/index.js";
import { TestnetFaucet__factory } from "../../types/ethers-contracts/index.js";

/** Ignition future id of the faucet. */
export const FAUCET_FUTURE_ID = "Faucet#TestnetFaucet";

/** Refuses anything but a known test network, naming them. */
export function requireTestChain(chainId: bigint, networkName: string, what: string): void {
  if (isTestChain(chainId)) return;
  const known = [...TEST_CHAINS].map(([id, name]) => `${id} ${name}`).join(", ");
  throw new VeritensorError(
    `${what}: the faucet gives VTN away and exists only on test networks (chain ids ${known}); network ${networkName} is chain ${chainId}`,
  );
}

/** Faucets deployed on an in-process network, which keeps no deployment folder (per connection). */
const inMemory = new WeakMap<object, string>();

export interface FaucetTerms {
  readonly address: string;
  readonly dripAmount: bigint;
  readonly period: bigint;
  readonly cap: bigint;
  readonly dispensed: bigint;
  /** The lower of what the cap leaves and the faucet's balance. */
  readonly available: bigint;
}

export async function faucetTerms(faucet: TestnetFaucet): Promise<FaucetTerms> {
  const [dripAmount, period, cap, dispensed, available] = await Promise.all([
    faucet.dripAmount(),
    faucet.period(),
    faucet.cap(),
    faucet.dispensed(),
    faucet.available(),
  ]);
  return { address: await faucet.getAddress(), dripAmount, period, cap, dispensed, available };
}

/**
 * Deploys the faucet on the token `token` (module `Faucet`, parameters from `parameters`, into the
 * chain's Ignition deployment next to the protocol's), test networks only. Deploying again with
 * the same parameters finds the existing one.
 */
export async function deployFaucet(
  connection: NetworkConnection,
  token: string,
  parameters: Record<string, unknown> = {},
): Promise<FaucetTerms> {
  const chainId = await chainIdOf(connection);
  requireTestChain(chainId, connection.networkName, "not deploying a faucet");
  let faucet;
  try {
    ({ faucet } = await connection.ignition.deploy(FaucetModule, {
      displayUi: false,
      parameters: { Faucet: { ...parameters, token } } as never,
    }));
  } catch (e) {
    throw new VeritensorError(`deploying the faucet on network ${connection.networkName} failed: ${(e as Error).message}`, { cause: e });
  }
  const address = await faucet.getAddress();
  inMemory.set(connection, address);
  return faucetTerms(TestnetFaucet__factory.connect(address, connection.ethers.provider));
}

/** The faucet of `p`'s deployment, or an error saying how to get one. */
export async function openFaucet(p: Protocol, ignitionDir: string): Promise<TestnetFaucet> {
  requireTestChain(p.chainId, p.networkName, "faucet");
  let address = inMemory.get(p.connection);
  if (address === undefined && p.connection.networkConfig.type !== "edr-simulated") {
    const file = path.join(deploymentDir(ignitionDir, p.chainId), "deployed_addresses.json");
    try {
      address = (JSON.parse(await readFile(file, "utf8")) as Record<string, string>)[FAUCET_FUTURE_ID];
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw new VeritensorError(`cannot read ${file}: ${(e as Error).message}`, { cause: e });
    }
  }
  if (address === undefined || (await p.connection.ethers.provider.getCode(address)) === "0x") {
    throw new VeritensorError(
      `no faucet is deployed with the protocol on network ${p.networkName} (chain ${p.chainId}): ` +
        `\`npx hardhat protocol deploy --network ${p.networkName}\` deploys one on test networks (unless --no-faucet)`,
    );
  }
  return TestnetFaucet__factory.connect(address, p.connection.ethers.provider);
}

export interface DripResult {
  readonly account: string;
  readonly amount: bigint;
  readonly balance: bigint;
  readonly nextDripAt: bigint;
  readonly terms: FaucetTerms;
  readonly receipt: ContractTransactionReceipt;
}

/** Drips to `signer`'s account, after checking each reason the faucet would refuse. */
export async function drip(p: Protocol, faucet: TestnetFaucet, signer: Signer): Promise<DripResult> {
  const account = await signer.getAddress();
  const [terms, next, now] = await Promise.all([faucetTerms(faucet), faucet.nextDripAt(account), nextBlockTime(p)]);
  if (now < next) {
    throw new VeritensorError(
      `${account} had its ${formatVtn(terms.dripAmount)} from the faucet less than ${formatDuration(terms.period)} ago: ` +
        `it may drip again at ${formatTime(next, now)}`,
    );
  }
  if (terms.dispensed + terms.dripAmount > terms.cap) {
    throw new VeritensorError(`the faucet has handed out ${formatVtn(terms.dispensed)} of its cap of ${formatVtn(terms.cap)}: nothing is left to drip`);
  }
  if (terms.available < terms.dripAmount) {
    throw new VeritensorError(
      `the faucet holds ${formatVtn(terms.available)}, less than one drip (${formatVtn(terms.dripAmount)}): ` +
        `it needs a token transfer (anyone may send VTN to ${terms.address})`,
    );
  }
  const receipt = await send(p, "dripping from the faucet", () => faucet.connect(signer).drip());
  const [balance, nextDripAt] = await Promise.all([p.token.balanceOf(account), faucet.nextDripAt(account)]);
  return { account, amount: terms.dripAmount, balance, nextDripAt, terms: await faucetTerms(faucet), receipt };
}
