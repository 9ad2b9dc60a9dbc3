/**
 * The chain side of the end-to-end tests, driven from the test process through the clients:
 * deploy LocalProtocol on a spawned node (short challenge window), register the shipped MNIST CNN,
 * stake the roles, request digits, read jobs back.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";

import type { NetworkConnection } from "hardhat/types/network";
import hre from "hardhat";
import type { Signer } from "ethers";

import type { Protocol } from "../../offchain/cli/index.js";
import { addStake, attachProtocol, chainIdOf, modelFileFacts, registerModel, requestInference } from "../../offchain/cli/index.js";
import { readDeployment } from "../../offchain/clients/deployment.js";
import { canonicalBytes } from "../../offchain/commitments/tensor.js";
import { quantizeInput } from "../../offchain/convert/evaluate.js";
import { loadDigits, toFloat } from "../../offchain/datasets/mnist.js";
import type { CanonicalModel } from "../../offchain/model/canonical.js";
import { mnistCnn } from "../disputes/models.js";
import { ROOT, runTask } from "./harness.js";

/** Accounts of the node (same mnemonic on hardhat node and anvil). */
export const ACCOUNT = { developer: 1, worker: 2, requester: 3, cheater: 4, verifier: 5 } as const;
export const CHALLENGE_WINDOW = 12;
const VTN = 10n ** 18n;

export interface Chain {
  readonly conn: NetworkConnection;
  readonly p: Protocol;
  readonly signers: Signer[];
  readonly modelId: bigint;
  readonly model: CanonicalModel;
  readonly env: Record<string, string>;
  /** The Ignition folder the deployment was written to (VERITENSOR_IGNITION_DIR of the tasks). */
  readonly ignitionDir: string;
}

/**
 * Deploys LocalProtocol on the node at `url` with the `protocol deploy` task, into a throw-away
 * Ignition folder (VERITENSOR_IGNITION_DIR, passed on to every task the tests start), so that the
 * user's own local deployment (ignition/deployments/chain-31337) is never touched.
 */
export async function setUpChain(url: string): Promise<Chain> {
  const ignitionDir = await mkdtemp(path.join(tmpdir(), "veritensor-e2e-ignition-"));
  const parameters = path.join(ignitionDir, "parameters.json");
  await writeFile(parameters, JSON.stringify({ Jobs: { challengeWindow: CHALLENGE_WINDOW } }));
  const env = { VERITENSOR_RPC_URL: url, VERITENSOR_IGNITION_DIR: ignitionDir };
  await runTask(["protocol", "deploy", "--network", "localhost", "--parameters", parameters], env);
  const conn = await hre.network.create({ network: "localhost", override: { url } });
  const chainId = await chainIdOf(conn);
  const addresses = await readDeployment(ignitionDir, chainId);
  if (!addresses) throw new Error(`protocol deploy left no deployment in ${ignitionDir}`);
  const p = attachProtocol(conn, chainId, addresses);
  const signers = (await conn.ethers.getSigners()) as Signer[];
  const facts = await modelFileFacts(`${ROOT}/models/mnist-cnn.canonical.onnx`);
  const { modelId } = await registerModel(p, signers[ACCOUNT.developer]!, { ...facts, price: VTN / 10n, contributors: [] });
  await addStake(p, signers[ACCOUNT.worker]!, 500n * VTN, { serveModels: [modelId] });
  await addStake(p, signers[ACCOUNT.cheater]!, 500n * VTN, { serveModels: [modelId] });
  await addStake(p, signers[ACCOUNT.verifier]!, 200n * VTN);
  // The developer doubles as a lying verifier (challenges honest results) in the defence scenarios.
  await addStake(p, signers[ACCOUNT.developer]!, 200n * VTN);
  return { conn, p, signers, modelId, model: mnistCnn(), env, ignitionDir };
}

/** Removes the chain's throw-away Ignition folder. */
export async function tearDownChain(c: Chain | undefined): Promise<void> {
  if (c) await rm(c.ignitionDir, { recursive: true, force: true });
}

let digit = 0;

/** Requests `n` held-out digits from the requester; returns the job ids. */
export async function requestDigits(c: Chain, n: number): Promise<bigint[]> {
  const digits = loadDigits("heldout");
  const fee = (await c.p.jobManager.minimumFee(VTN / 10n)) + VTN / 5n;
  const ids: bigint[] = [];
  for (let i = 0; i < n; i++) {
    const input = canonicalBytes(quantizeInput(c.model, toFloat(digits.pixels[(digit++ * 37) % digits.labels.length]!)));
    const r = await requestInference(c.p, c.signers[ACCOUNT.requester]!, { modelId: c.modelId, input, fee, deadlineIn: 3600 });
    ids.push(r.jobId);
  }
  return ids;
}

/** Polls until `pred` holds (or fails after `ms`). */
export async function until(what: string, pred: () => Promise<boolean>, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await pred())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** How many ResultSubmitted events job `jobId` has (a double submission would show as 2). */
export async function submissions(c: Chain, jobId: bigint): Promise<number> {
  return (await c.p.jobManager.queryFilter(c.p.jobManager.filters.ResultSubmitted(jobId), 0)).length;
}
