import { readFile } from "node:fs/promises";
import path from "node:path";

import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import FaucetModule, { isTestChain } from "../../ignition/modules/Faucet.js";
import LocalProtocol, { LocalAssignedProtocol } from "../../ignition/modules/LocalProtocol.js";
import Protocol from "../../ignition/modules/Protocol.js";
import type { ModuleParameters } from "../../ignition/parameters/validate.js";
import { declaredParameters, parameterProblems, parseParameters } from "../../ignition/parameters/validate.js";
import { action, chainIdOf, deployProtocol, formatBps, formatDuration, formatVtn, report, VeritensorError } from "../../offchain/cli/index.js";
import { deployFaucet, requireTestChain } from "../faucet/faucet.js";
import { requireNetworkVariables } from "./network-variables.js";

interface Args {
  reset: boolean;
  assignment: boolean;
  noFaucet: boolean;
  parameters: string | undefined;
}

/** The file's parameters, every key checked against what the modules `protocol deploy` may deploy read. */
async function readParameters(file: string | undefined): Promise<ModuleParameters | undefined> {
  if (file === undefined) return undefined;
  let parsed: ModuleParameters;
  try {
    parsed = parseParameters(await readFile(file, "utf8"));
  } catch (e) {
    throw new VeritensorError(`cannot read the parameters file ${file}: ${(e as Error).message}`, { cause: e });
  }
  const problems = parameterProblems(parsed, declaredParameters(Protocol, LocalProtocol, LocalAssignedProtocol, FaucetModule));
  if (parsed.Faucet?.token !== undefined) problems.push("Faucet.token: the faucet is always on the deployment's own token; remove it");
  if (problems.length > 0) throw new VeritensorError(`the parameters file ${file} is not right:\n  ${problems.join("\n  ")}`);
  return parsed;
}

export default action(async ({ reset, assignment, noFaucet, parameters: file }: Args, hre: HardhatRuntimeEnvironment) => {
  await requireNetworkVariables(hre);
  const parameters = await readParameters(file);
  const connection = await hre.network.getOrCreate();
  const chainId = await chainIdOf(connection);
  // Before anything is sent: a faucet section means the file was meant for a test network.
  if (parameters?.Faucet !== undefined && !noFaucet) requireTestChain(chainId, connection.networkName, `the parameters file ${file} configures a faucet`);
  console.log(`Deploying the protocol on network ${connection.networkName}…`);
  const result = await deployProtocol(connection, hre.config.paths.ignition, {
    reset,
    assignment,
    parameters,
  });
  for (const note of result.notes) console.log(`note: ${note}`);
  const { protocol: p } = result;
  const [params, minStake, unbonding, supply] = await Promise.all([
    p.jobManager.params(),
    p.staking.minStake(),
    p.staking.unbondingDelay(),
    p.token.totalSupply(),
  ]);
  report(`Deployed ${result.module} on ${p.networkName} (chain ${p.chainId})`, [
    ["VeritensorToken", p.addresses.token],
    ["ModelRegistry", p.addresses.registry],
    ["Staking", p.addresses.staking],
    ["JobManager", p.addresses.jobManager],
    ["ProtocolTimelock", p.addresses.timelock],
    ["VeritensorGovernor", p.addresses.governor],
    ["DisputeGameFactory", p.addresses.disputeFactory],
    ["SubscriptionManager", `${p.addresses.subscriptions} (no owner)`],
    ["WorkerRoster", p.addresses.roster ?? "none: claims are first-come (--assignment deploys one locally)"],
    ["AuditManager", p.addresses.auditManager ?? "none: results are not audited (--assignment deploys audits locally)"],
    ["owner of Staking, JobManager", "the timelock (governed by VTN votes)"],
    ["total supply", formatVtn(supply)],
    ["protocol fee", `${formatBps(params.protocolFeeBps)} of each job's fee`],
    ["audit pool share", `${formatBps(params.auditFeeBps)} of each job's fee`],
    ["minimum stake", formatVtn(minStake)],
    ["challenge window", formatDuration(params.challengeWindow)],
    ["result timeout", formatDuration(params.resultTimeout)],
    ["unbonding delay", formatDuration(unbonding)],
    [
      "addresses saved in",
      result.deploymentDir !== undefined
        ? path.relative(process.cwd(), result.deploymentDir)
        : "nothing: the in-process chain ends with this command, and the contracts with it",
    ],
  ]);
  if (isTestChain(chainId) && !noFaucet) {
    const faucet = await deployFaucet(connection, p.addresses.token, parameters?.Faucet);
    report("Test-VTN faucet (`npx hardhat faucet drip`)", [
      ["TestnetFaucet", faucet.address],
      ["per drip", `${formatVtn(faucet.dripAmount)} per account every ${formatDuration(faucet.period)}`],
      ["cap", `${formatVtn(faucet.cap)} in all, ${formatVtn(faucet.available)} left`],
    ]);
  } else {
    console.log(noFaucet ? "No faucet (--no-faucet)." : `No faucet: chain ${chainId} is not a test network.`);
  }
  if (result.module !== "Protocol") {
    const signers = await connection.ethers.getSigners();
    const funded = await Promise.all(signers.slice(1, 6).map(async (s) => [s.address, await p.token.balanceOf(s.address)] as const));
    report("Test tokens", funded.map(([a, b], i) => [`account #${i + 1} ${a}`, formatVtn(b)]));
  }
  // A first-time user deploys without --network and then wonders why the next command finds nothing.
  if (result.deploymentDir === undefined) {
    console.log(
      "\nTo deploy to a chain that persists, run `npx hardhat node` in another terminal, then `npx hardhat protocol deploy --network localhost`.",
    );
  }
  return result;
});
