import { readFile } from "node:fs/promises";
import path from "node:path";

import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { action, deployProtocol, formatBps, formatDuration, formatVtn, report, VeritensorError } from "../../offchain/cli/index.js";

interface Args {
  reset: boolean;
  assignment: boolean;
  parameters: string | undefined;
}

async function readParameters(file: string | undefined): Promise<Record<string, Record<string, unknown>> | undefined> {
  if (file === undefined) return undefined;
  try {
    return JSON.parse(await readFile(file, "utf8")) as Record<string, Record<string, unknown>>;
  } catch (e) {
    throw new VeritensorError(`cannot read the parameters file ${file}: ${(e as Error).message}`, { cause: e });
  }
}

export default action(async ({ reset, assignment, parameters }: Args, hre: HardhatRuntimeEnvironment) => {
  const connection = await hre.network.getOrCreate();
  console.log(`Deploying the protocol on network ${connection.networkName}…`);
  const result = await deployProtocol(connection, hre.config.paths.ignition, {
    reset,
    assignment,
    parameters: await readParameters(parameters),
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
