/**
 * Issue 18's target, end to end: workers with different stakes serve one model on a deployment
 * with a worker roster (LocalAssignedProtocol), on an in-process chain mined every second. Each
 * worker joins the roster, then claims only the jobs drawn for it (or open to all): no claim
 * reverts, each worker's share of the claims follows its stake, and a worker's chain reads per job
 * do not grow with the number of workers.
 */
import { expect } from "chai";
import type { Signer } from "ethers";
import { ZeroAddress } from "ethers";
import hre from "hardhat";
import { tmpdir } from "node:os";
import { join } from "node:path";

import type { Protocol } from "../../offchain/cli/index.js";
import {
  addStake,
  deployProtocol,
  describeAssignment,
  getJob,
  jobAssignee,
  modelFileFacts,
  registerModel,
  requestInference,
} from "../../offchain/cli/index.js";
import { Worker } from "../../offchain/nodes/worker.js";
import { PRODUCTION } from "../../ignition/defaults.js";
import { WorkerRoster__factory } from "../../types/ethers-contracts/index.js";
import ProtocolModule from "../../ignition/modules/Protocol.js";
import { digitInputs } from "./inprocess.js";

const VTN = 10n ** 18n;
/** Test parameters: epochs of 20 blocks, 3 drawn slots of 4 blocks (12 blocks), then open to all. */
const EPOCH_BLOCKS = 20;
const ASSIGNMENT = { Assignment: { epochBlocks: EPOCH_BLOCKS, slotBlocks: 4, drawnSlots: 3 } };

interface Run {
  readonly p: Protocol;
  readonly workers: Worker[];
  readonly addresses: string[];
  readonly stakes: bigint[];
  readonly jobs: bigint[];
  readonly modelId: bigint;
  readonly logs: string[][];
  /** Block from which the workers ran with interval mining. */
  readonly startBlock: number;
}

async function setUp(stakes: readonly bigint[], jobCount: number, stride: number): Promise<Run> {
  const conn = await hre.network.create({ override: { initialDate: new Date() } });
  const p = (await deployProtocol(conn, hre.config.paths.ignition, { assignment: true, parameters: ASSIGNMENT })).protocol;
  expect(p.addresses.roster, "LocalAssignedProtocol records its roster").to.be.a("string");
  expect(await p.jobManager.roster()).to.equal(p.addresses.roster);
  const signers = (await conn.ethers.getSigners()) as Signer[];
  const [deployer, developer, requester] = [signers[0]!, signers[1]!, signers[3]!];
  const facts = await modelFileFacts(join(hre.config.paths.root, "models/mnist-cnn.canonical.onnx"));
  const modelId = (await registerModel(p, developer, { ...facts, price: VTN / 10n, contributors: [] })).modelId;

  const workers: Worker[] = [];
  const addresses: string[] = [];
  const logs: string[][] = [];
  for (const [i, stake] of stakes.entries()) {
    const signer = signers[6 + i]!;
    await (await p.token.connect(deployer).transfer(await signer.getAddress(), stake)).wait();
    await addStake(p, signer, stake, { serveModels: [modelId] });
    const lines: string[] = [];
    logs.push(lines);
    addresses.push((await signer.getAddress()).toLowerCase());
    workers.push(
      await Worker.create({
        protocol: p,
        signer,
        db: ":memory:",
        cacheDir: join(tmpdir(), "veritensor-assignment-models"),
        log: (l) => lines.push(l),
        pollMs: 100,
        models: [modelId],
        withdrawAt: null,
        keepSubscriptions: false,
        name: `worker${i + 1}`,
      }),
    );
  }

  // Each worker joins the roster in its first pass; the weights count from the next epoch.
  for (const w of workers) await w.tick();
  const fee = (await p.jobManager.minimumFee(VTN / 10n)) + VTN / 5n;
  await (await p.token.connect(requester).approve(p.addresses.jobManager, fee * BigInt(jobCount))).wait();
  const input = digitInputs(stride);
  const jobs: bigint[] = [];
  for (let i = 0; i < jobCount; i++) {
    jobs.push((await requestInference(p, requester, { modelId, input: input(), fee, deadlineIn: 3600 })).jobId);
  }
  // Start the workers at the first block of an epoch: every job is drawn afresh in it (seed: the
  // block after), with all the weights in force, and its drawn slots lie ahead.
  const head = await conn.ethers.provider.getBlockNumber();
  const target = (Math.floor(head / EPOCH_BLOCKS) + 1) * EPOCH_BLOCKS;
  await conn.provider.request({ method: "hardhat_mine", params: [`0x${(target - head).toString(16)}`] });
  await conn.provider.request({ method: "evm_setAutomine", params: [false] });
  await conn.provider.request({ method: "evm_setIntervalMining", params: [1000] });
  return { p, workers, addresses, stakes: [...stakes], jobs, modelId, logs, startBlock: target };
}

/** Runs the workers until every job is submitted (or `limitMs` passes); returns the claimers and claim receipts. */
async function runUntilSubmitted(r: Run, limitMs: number) {
  const stop = new AbortController();
  const running = r.workers.map((w) => w.run(stop.signal));
  const started = Date.now();
  let seen: number[] = [];
  try {
    for (;;) {
      const submitted = r.workers.reduce((n, w) => n + w.store.jobsAt("submitted").length, 0);
      if (submitted >= r.jobs.length) {
        seen = r.workers.map((w) => w.store.allJobs().length);
        break;
      }
      if (Date.now() - started > limitMs) {
        throw new Error(`only ${submitted} of ${r.jobs.length} jobs submitted after ${limitMs} ms\n${r.logs.map((l) => l.slice(-15).join("\n")).join("\n---\n")}`);
      }
      await new Promise((done) => setTimeout(done, 250));
    }
  } finally {
    stop.abort();
    await Promise.allSettled(running);
  }
  const provider = r.p.connection.ethers.provider;
  await r.p.connection.provider.request({ method: "evm_setIntervalMining", params: [0] });
  await r.p.connection.provider.request({ method: "evm_setAutomine", params: [true] });
  const claimers = new Map<bigint, string>();
  const claimed = r.p.jobManager.filters.JobClaimed();
  for (const e of await r.p.jobManager.queryFilter(claimed, r.startBlock)) claimers.set(e.args.jobId, e.args.worker.toLowerCase());
  // Every claim transaction sent to the escrow since the workers started, with its receipt.
  const selector = r.p.jobManager.interface.getFunction("claim")!.selector;
  const head = await provider.getBlockNumber();
  const receipts = [];
  for (let b = r.startBlock; b <= head; b++) {
    const block = await provider.getBlock(b, true);
    for (const tx of block?.prefetchedTransactions ?? []) {
      if (tx.to?.toLowerCase() !== r.p.addresses.jobManager.toLowerCase() || !tx.data.startsWith(selector)) continue;
      receipts.push((await provider.getTransactionReceipt(tx.hash))!);
    }
  }
  // A worker's chain reads to decide its claims, per job it saw.
  const reads = r.workers.map((w, i) => (w.claimCounters.jobReads + w.claimCounters.assignmentReads) / seen[i]!);
  // The invariant behind it: each open job costs a worker, per pass, one job read and at most one
  // assignment read, whoever else serves the model.
  for (const w of r.workers) expect(w.claimCounters.assignmentReads).to.be.at.most(w.claimCounters.jobReads);
  return { claimers, receipts, reads };
}

describe("nodes: stake-weighted assignment of claims (worker roster)", function () {
  this.timeout(240_000);

  const reads: number[][] = [];

  it("Protocol deploys the roster with the production parameters, bound to the escrow and owned by the timelock", async function () {
    const conn = await hre.network.create();
    const c = await conn.ignition.deploy(ProtocolModule);
    const address = await c.jobManager.roster();
    expect(address).to.not.equal(ZeroAddress);
    const roster = WorkerRoster__factory.connect(address, conn.ethers.provider);
    expect(await roster.escrow()).to.equal(await c.jobManager.getAddress());
    expect(await roster.owner()).to.equal(await c.timelock.getAddress());
    expect(await roster.epochBlocks()).to.equal(BigInt(PRODUCTION.assignment!.epochBlocks));
    const params = await roster.params();
    expect([params.weightCap, params.slotBlocks, params.drawnSlots]).to.deep.equal([
      PRODUCTION.assignment!.weightCap,
      BigInt(PRODUCTION.assignment!.slotBlocks),
      BigInt(PRODUCTION.assignment!.drawnSlots),
    ]);
  });

  it("5 workers, 100 jobs, 1-second blocks: no claim reverts, shares follow stakes", async function () {
    // Shares 10%, 15%, 20%, 25%, 30%.
    const stakes = [1_000n, 1_500n, 2_000n, 2_500n, 3_000n].map((s) => s * VTN);
    const r = await setUp(stakes, 100, 7);
    const { claimers, receipts, reads: perJob } = await runUntilSubmitted(r, 150_000);

    const reverted = receipts.filter((x) => x.status !== 1);
    // On a failure, what each reverted claim was and what the workers said of its job.
    const why: string[] = [];
    for (const x of reverted) {
      const tx = (await r.p.connection.ethers.provider.getTransaction(x.hash))!;
      const [id] = r.p.jobManager.interface.decodeFunctionData("claim", tx.data);
      why.push(`claim of job ${id} by ${tx.from} reverted in block ${x.blockNumber} (gas limit ${tx.gasLimit}, used ${x.gasUsed})`);
      for (const l of r.logs) why.push(...l.filter((line) => line.includes(`job ${id}:`)));
    }
    expect(reverted, `claim transactions that reverted\n${why.join("\n")}`).to.have.length(0);
    expect(r.workers.map((w) => w.claimCounters.claimsFailed), "the nodes' failed claims").to.deep.equal([0, 0, 0, 0, 0]);
    expect(claimers.size, "every job claimed").to.equal(100);

    const total = stakes.reduce((a, b) => a + b, 0n);
    const counts = r.addresses.map((a) => [...claimers.values()].filter((c) => c === a).length);
    const expected = stakes.map((s) => (100 * Number(s)) / Number(total));
    const deviation = counts.map((c, i) => (c - expected[i]!) / expected[i]!);
    const gas = receipts.map((x) => Number(x.gasUsed));
    console.log(
      `      claims per worker ${counts.join(", ")} (expected ${expected.join(", ")}; deviation ${deviation.map((d) => `${(d * 100).toFixed(0)}%`).join(", ")}); ` +
        `claim gas through the roster: mean ${Math.round(gas.reduce((a, b) => a + b, 0) / gas.length)}, max ${Math.max(...gas)}; ` +
        `reads per job ${perJob.map((x) => x.toFixed(2)).join(", ")}`,
    );
    // 100 draws are too few for ±25% of each share (a 10% share is 10 ± 3 claims): each count is
    // held within 4 standard deviations of its binomial expectation (a failure about 1 run in 3,000).
    counts.forEach((c, i) => {
      const p = Number(stakes[i]!) / Number(total);
      expect(Math.abs(c - 100 * p), `worker ${i + 1}: ${c} claims, ${100 * p} expected`).to.be.at.most(4 * Math.sqrt(100 * p * (1 - p)));
    });
    reads.push(perJob);

    // The draw itself, sampled widely: 3,000 jobs drawn in the current epoch (one view call each)
    // give each worker its stake share within ±25% (4.6 standard deviations for the 10% share).
    const roster = r.p.roster!;
    const n = 3000;
    const requestBlock = BigInt(await r.p.connection.ethers.provider.getBlockNumber());
    await r.p.connection.provider.request({ method: "hardhat_mine", params: ["0x2"] });
    const drawn = new Map<string, number>();
    for (let i = 0; i < n; i++) {
      const a = await roster.assignee(r.modelId, 1_000_000n + BigInt(i), requestBlock);
      drawn.set(a.worker.toLowerCase(), (drawn.get(a.worker.toLowerCase()) ?? 0) + 1);
    }
    const shares = r.addresses.map((a) => (drawn.get(a) ?? 0) / n);
    console.log(`      ${n} draws: shares ${shares.map((s) => `${(s * 100).toFixed(1)}%`).join(", ")} for stake shares 10%, 15%, 20%, 25%, 30%`);
    shares.forEach((s, i) => {
      const p = Number(stakes[i]!) / Number(total);
      expect(Math.abs(s - p) / p, `worker ${i + 1}: drawn ${s}, stake share ${p}`).to.be.at.most(0.25);
    });
  });

  it("a worker's reads per job do not grow with the number of workers (2 workers against 5)", async function () {
    expect(reads, "the 5-worker run ran first").to.have.length(1);
    const r = await setUp([2_000n * VTN, 3_000n * VTN], 40, 11);
    // What `job show` prints of an Open job's assignment.
    const first = await getJob(r.p, r.jobs[0]!);
    expect(describeAssignment(await jobAssignee(r.p, r.modelId, r.jobs[0]!, first.timer))).to.match(/^not drawn yet: the draw's seed is block \d+|^0x[0-9a-fA-F]{40} \(slot \d, until block \d+\)$/);
    const { receipts, reads: two } = await runUntilSubmitted(r, 90_000);
    expect(receipts.filter((x) => x.status !== 1)).to.have.length(0);
    const five = reads[0]!;
    const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
    console.log(`      reads per job seen: 2 workers ${two.map((x) => x.toFixed(2)).join(", ")}; 5 workers ${five.map((x) => x.toFixed(2)).join(", ")}`);
    // Reads per job follow the passes a job stays open (the block time over the pass time), not the
    // number of workers: with 5 workers sharing the CPU a pass is slower, so fewer reads per job.
    expect(mean(five)).to.be.at.most(mean(two) * 1.5 + 1);
  });
});
