/**
 * What the audits node tests share (test/nodes/audits.test.ts, audits.recovery.test.ts): a fresh
 * in-process chain with LocalAssignedProtocol (a worker roster and an audit manager), every result
 * drawn for audit (the rate raised to 100% by the manager's owner), the pool seeded, the MNIST CNN
 * registered; staked workers; and the two ways of driving them: their run loops on a chain mined
 * every second (`runUntil`), or passes by hand on a chain that mines each transaction (`Rounds`).
 */
import { expect } from "chai";
import type { Signer } from "ethers";
import hre from "hardhat";
import { tmpdir } from "node:os";
import { join } from "node:path";

import type { Protocol } from "../../offchain/cli/index.js";
import { addStake, auditManagerOf, deployProtocol, modelFileFacts, registerModel } from "../../offchain/cli/index.js";
import type { AuditParams } from "../../offchain/clients/audits.js";
import type { ProtocolNode } from "../../offchain/nodes/node.js";
import type { WorkerOptions } from "../../offchain/nodes/worker.js";
import { Worker } from "../../offchain/nodes/worker.js";
import type { AuditManager } from "../../types/ethers-contracts/index.js";

export const VTN = 10n ** 18n;

/** Where the audits tests keep verified model files. */
export const MODEL_CACHE = join(tmpdir(), "veritensor-audits-models");

export interface AuditedChain {
  readonly p: Protocol;
  readonly manager: AuditManager;
  readonly modelId: bigint;
  /** The minimum fee plus 0.2 VTN for the worker. */
  readonly fee: bigint;
  readonly signers: Signer[];
  /** Account 0: holds the local supply. */
  readonly deployer: Signer;
  readonly requester: Signer;
}

/** Runs `fn` as the audit manager's owner (the timelock on this deployment: impersonated). */
export async function asOwner(p: Protocol, manager: AuditManager, fn: (owner: Signer) => Promise<unknown>): Promise<void> {
  const owner = await manager.owner();
  const provider = p.connection.provider;
  await provider.request({ method: "hardhat_impersonateAccount", params: [owner] });
  await provider.request({ method: "hardhat_setBalance", params: [owner, "0x56BC75E2D63100000"] });
  await fn(await p.connection.ethers.getSigner(owner));
  await provider.request({ method: "hardhat_stopImpersonatingAccount", params: [owner] });
}

/**
 * LocalAssignedProtocol on a fresh in-process chain with Ignition `parameters`, every result drawn
 * for audit (and the audit parameters in `audits` changed too), the pool seeded with 20 VTN by the
 * deployer, and the MNIST CNN registered (price 0.1 VTN).
 */
export async function auditedChain(parameters: Record<string, Record<string, unknown>>, audits: Partial<AuditParams> = {}): Promise<AuditedChain> {
  const conn = await hre.network.create({ override: { initialDate: new Date() } });
  const p = (await deployProtocol(conn, hre.config.paths.ignition, { assignment: true, parameters })).protocol;
  const manager = (await auditManagerOf(p))!;
  expect(manager, "LocalAssignedProtocol deploys an audit manager").to.not.equal(undefined);
  // Every result audited: the floor raised to 100% by the manager's owner.
  await asOwner(p, manager, async (owner) => {
    const q = await manager.params();
    const params = {
      auditReward: audits.auditReward ?? q.auditReward,
      auditRateBps: audits.auditRateBps ?? 10_000n,
      auditSafetyBps: audits.auditSafetyBps ?? q.auditSafetyBps,
      auditMissPenaltyBps: audits.auditMissPenaltyBps ?? q.auditMissPenaltyBps,
      auditSlotBlocks: audits.auditSlotBlocks ?? q.auditSlotBlocks,
      auditSlots: audits.auditSlots ?? q.auditSlots,
    };
    await (await manager.connect(owner).setParams(params)).wait();
  });
  const signers = (await conn.ethers.getSigners()) as Signer[];
  const [deployer, developer, requester] = [signers[0]!, signers[1]!, signers[3]!];
  // The pool pays rewards from what it holds: seeded by a donor (the deployer).
  await (await p.token.connect(deployer).approve(await manager.getAddress(), 20n * VTN)).wait();
  await (await manager.connect(deployer).fund(20n * VTN)).wait();
  const facts = await modelFileFacts(join(hre.config.paths.root, "models/mnist-cnn.canonical.onnx"));
  const modelId = (await registerModel(p, developer, { ...facts, price: VTN / 10n, contributors: [] })).modelId;
  const fee = (await p.jobManager.minimumFee(VTN / 10n)) + VTN / 5n;
  return { p, manager, modelId, fee, signers, deployer, requester };
}

/**
 * Stakes `stake` for `signer` on the chain's model (with 50 VTN more in its wallet for dispute
 * bonds: an auditor's mismatch posts one) and starts a worker node for it (in memory unless `o.db`
 * says otherwise; escrow earnings left in the escrow, no subscriptions).
 */
export async function stakedWorker(c: AuditedChain, signer: Signer, stake: bigint, o: Partial<WorkerOptions> & { name: string; log: (line: string) => void }): Promise<Worker> {
  await (await c.p.token.connect(c.deployer).transfer(await signer.getAddress(), stake + 50n * VTN)).wait();
  await addStake(c.p, signer, stake, { serveModels: [c.modelId] });
  return workerNode(c, signer, o);
}

/** A worker node for `signer` (already staked) on the chain's model, with the defaults of {@link stakedWorker}. */
export function workerNode(c: AuditedChain, signer: Signer, o: Partial<WorkerOptions> & { name: string; log: (line: string) => void }): Promise<Worker> {
  return Worker.create({
    protocol: c.p,
    signer,
    db: ":memory:",
    cacheDir: MODEL_CACHE,
    pollMs: 100,
    models: [c.modelId],
    withdrawAt: null,
    keepSubscriptions: false,
    ...o,
  });
}

/** Mines up to the first block of the next epoch of `epochBlocks` blocks (every weight of the epoch before in force). */
export async function mineToEpoch(p: Protocol, epochBlocks: number): Promise<void> {
  const head = await p.connection.ethers.provider.getBlockNumber();
  const target = (Math.floor(head / epochBlocks) + 1) * epochBlocks;
  await p.connection.provider.request({ method: "hardhat_mine", params: [`0x${(target - head).toString(16)}`] });
}

/**
 * Runs `nodes` until `done` holds (checked every 500 ms) or `limitMs` passes, on a chain mining a
 * block a second; then stops them and mines on demand again. `logs` are shown if it times out.
 */
export async function runUntil(p: Protocol, nodes: readonly ProtocolNode[], logs: readonly string[][], what: string, done: () => Promise<boolean>, limitMs: number): Promise<void> {
  const provider = p.connection.provider;
  await provider.request({ method: "evm_setAutomine", params: [false] });
  await provider.request({ method: "evm_setIntervalMining", params: [1000] });
  const stop = new AbortController();
  const running = nodes.map((n) => n.run(stop.signal));
  const started = Date.now();
  try {
    while (!(await done())) {
      if (Date.now() - started > limitMs) {
        throw new Error(`${what}: not done after ${limitMs} ms\n${logs.map((l) => l.slice(-25).join("\n")).join("\n---\n")}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  } finally {
    stop.abort();
    await Promise.allSettled(running);
    await provider.request({ method: "evm_setIntervalMining", params: [0] });
    await provider.request({ method: "evm_setAutomine", params: [true] });
  }
}
