/**
 * The explorer's indexer (offchain/explorer/indexer.ts) on the in-process chain: incremental
 * windows of bounded size, blocks held back until they have the configured confirmations, a restart
 * that resumes from the file without reading anything twice, and reorganizations (taken back with
 * `evm_snapshot`/`evm_revert`, as the worker's reorganization tests do) rolled back to the fork
 * point and read again from the new chain.
 */
import { expect } from "chai";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

import hre from "hardhat";

import type { Protocol } from "../../offchain/cli/index.js";
import { buildParamChange, claimJob, delegateVotes, parseSetting, propose, requestInference } from "../../offchain/cli/index.js";
import type { RawLog } from "../../offchain/explorer/catalog.js";
import { INTERFACES, argsOf, decodeLog, sourceAddresses } from "../../offchain/explorer/catalog.js";
import { runDemo } from "../../offchain/dev/demo/run.js";
import { ExplorerDb } from "../../offchain/explorer/database.js";
import { Indexer } from "../../offchain/explorer/indexer.js";
import type { InProcessChain } from "../nodes/inprocess.js";
import { digitInputs, inProcessChain } from "../nodes/inprocess.js";

type Request = { method: string; params?: unknown[] };
type Eip1193 = { request(a: Request): Promise<unknown> };

/** Records the block ranges of every `eth_getLogs` the protocol's connection makes. */
function recordLogRanges(p: Protocol): { ranges: [number, number][]; stop: () => void } {
  const provider = p.connection.provider as unknown as Eip1193;
  const inner = provider.request.bind(provider);
  const ranges: [number, number][] = [];
  provider.request = async (args: Request) => {
    if (args.method === "eth_getLogs") {
      const f = args.params![0] as { fromBlock: string; toBlock: string };
      ranges.push([Number(f.fromBlock), Number(f.toBlock)]);
    }
    return inner(args);
  };
  return { ranges, stop: () => (provider.request = inner) };
}

const rpc = (p: Protocol, method: string, params: unknown[] = []) => (p.connection.provider as unknown as Eip1193).request({ method, params });
const head = async (p: Protocol) => p.connection.ethers.provider.getBlockNumber();
const jobRow = (db: ExplorerDb, id: bigint) => db.get("SELECT * FROM jobs WHERE job_id = ?", id);
const count = (db: ExplorerDb, where = "1") => Number(db.get(`SELECT COUNT(*) AS n FROM events WHERE ${where}`)!.n);

describe("explorer: the indexer", function () {
  this.timeout(120_000);
  let c: InProcessChain;
  let dir: string;
  const input = digitInputs(7);

  before(async function () {
    c = await inProcessChain();
    dir = await mkdtemp(join(tmpdir(), "veritensor-explorer-"));
  });
  after(async function () {
    await rm(dir, { recursive: true, force: true });
  });

  it("reads the deployment's events in windows of at most `window` blocks, from the escrow's deployment block", async function () {
    await requestInference(c.p, c.requester, { modelId: c.modelId, input: input(), fee: c.fee, deadlineIn: 3600 });
    const db = ExplorerDb.open(":memory:", { chainId: c.p.chainId, escrow: c.p.addresses.jobManager });
    const rec = recordLogRanges(c.p);
    try {
      const r = await new Indexer({ protocol: c.p, db, window: 7 }).sync();
      expect(r.cursor).to.equal(await head(c.p));
      expect(Math.max(...rec.ranges.map(([a, b]) => b - a + 1))).to.be.at.most(7);
      expect(rec.ranges[0]![0]).to.equal(Number(await c.p.jobManager.deploymentBlock()));
    } finally {
      rec.stop();
    }
    // The registration, the stakes and the request are in, with their entities.
    expect(count(db, "name = 'ModelRegistered'")).to.equal(1);
    expect(count(db, "name = 'Staked'")).to.equal(3);
    const job = jobRow(db, 1n)!;
    expect(job.status).to.equal("open");
    expect(job.requester).to.equal((await c.requester.getAddress()).toLowerCase());
    expect(job.fee).to.equal(c.fee.toString());
    expect(job.requested_at).to.be.a("number");
    db.close();
  });

  it("holds back blocks until they have the configured confirmations", async function () {
    const db = ExplorerDb.open(":memory:");
    const ix = new Indexer({ protocol: c.p, db, confirmations: 3 });
    await ix.sync();
    const { jobId } = await requestInference(c.p, c.requester, { modelId: c.modelId, input: input(), fee: c.fee, deadlineIn: 3600 });
    expect((await ix.sync()).cursor).to.equal((await head(c.p)) - 2);
    expect(jobRow(db, jobId)).to.equal(undefined);
    await c.p.connection.networkHelpers.mine(1);
    await ix.sync();
    expect(jobRow(db, jobId)).to.equal(undefined);
    await c.p.connection.networkHelpers.mine(1);
    await ix.sync();
    expect(jobRow(db, jobId)!.status).to.equal("open");
    db.close();
  });

  it("resumes after a restart from the cursor in its file, reading no block twice", async function () {
    const file = join(dir, "restart.sqlite");
    let db = ExplorerDb.open(file, { chainId: c.p.chainId, escrow: c.p.addresses.jobManager });
    await new Indexer({ protocol: c.p, db }).sync();
    const events = count(db);
    const cursor = db.cursor()!;
    db.close();
    const { jobId } = await requestInference(c.p, c.requester, { modelId: c.modelId, input: input(), fee: c.fee, deadlineIn: 3600 });
    await claimJob(c.p, c.worker, jobId);
    db = ExplorerDb.open(file, { chainId: c.p.chainId, escrow: c.p.addresses.jobManager });
    const rec = recordLogRanges(c.p);
    try {
      await new Indexer({ protocol: c.p, db }).sync();
    } finally {
      rec.stop();
    }
    expect(Math.min(...rec.ranges.map(([a]) => a))).to.equal(cursor + 1);
    expect(jobRow(db, jobId)!.status).to.equal("claimed");
    expect(jobRow(db, jobId)!.worker).to.equal((await c.worker.getAddress()).toLowerCase());
    // Request, claim and the stake lock: three new events, none twice.
    expect(count(db)).to.equal(events + 3);
    db.close();
    // Another deployment's index is refused with both named.
    expect(() => ExplorerDb.open(file, { chainId: 1n, escrow: c.p.addresses.jobManager })).to.throw(/belongs to chain 31337, escrow 0x[0-9a-f]{40}, not to chain 1/);
  });

  it("rolls back to the fork point when indexed blocks are reorganized away, and indexes the new chain", async function () {
    const db = ExplorerDb.open(":memory:");
    const lines: string[] = [];
    const changes: number[] = [];
    const ix = new Indexer({ protocol: c.p, db, log: (l) => lines.push(l), onChange: (ch) => ch.rolledBackTo !== undefined && changes.push(ch.rolledBackTo) });
    await ix.sync();
    const fork = await head(c.p);
    const snapshot = (await rpc(c.p, "evm_snapshot")) as string;
    const old = await requestInference(c.p, c.requester, { modelId: c.modelId, input: input(), fee: c.fee, deadlineIn: 3600 });
    await claimJob(c.p, c.worker, old.jobId);
    await c.p.connection.networkHelpers.mine(3);
    await ix.sync();
    expect(jobRow(db, old.jobId)!.status).to.equal("claimed");
    const oldTx = old.receipt.hash.toLowerCase();
    expect(count(db, `tx_hash = '${oldTx}'`)).to.equal(1);

    // The reorganization: the blocks after `fork` are replaced by a chain where the same job id is
    // requested with another fee and nobody claims it, and which is longer than the old one.
    expect(await rpc(c.p, "evm_revert", [snapshot])).to.equal(true);
    await c.p.connection.networkHelpers.mine(2);
    const replacement = await requestInference(c.p, c.requester, { modelId: c.modelId, input: input(), fee: c.fee + 1n, deadlineIn: 3600 });
    expect(replacement.jobId).to.equal(old.jobId);
    await c.p.connection.networkHelpers.mine(5);
    const r = await ix.sync();
    expect(r.reorgTo).to.equal(fork);
    expect(changes).to.deep.equal([fork]);
    expect(lines.join("\n")).to.match(new RegExp(`reorganization: block \\d+ is no longer 0x[0-9a-f]{8}…; rolled back to block ${fork}`));
    const job = jobRow(db, old.jobId)!;
    expect(job.status).to.equal("open");
    expect(job.worker).to.equal(null);
    expect(job.fee).to.equal((c.fee + 1n).toString());
    expect(count(db, `tx_hash = '${oldTx}'`)).to.equal(0);
    expect(count(db, "name = 'JobClaimed' AND job_id = " + old.jobId)).to.equal(0);
    // Every stored hash is the chain's.
    for (const b of db.blocksDownFrom(r.cursor, 1_000)) {
      expect((await c.p.connection.ethers.provider.getBlock(b.number))!.hash!.toLowerCase(), `block ${b.number}`).to.equal(b.hash);
    }
    db.close();
  });

  it("decodes every kept event as ethers does: the demo's jobs and dispute, and a governance proposal", async function () {
    const connection = await hre.network.create();
    const demo = await runDemo(connection, { jobs: 2, root: hre.config.paths.root, ignitionDir: hre.config.paths.ignition, log: () => {} });
    const p = demo.protocol;
    const [deployer] = await connection.ethers.getSigners();
    await delegateVotes(p, deployer!, await deployer!.getAddress());
    const change = await buildParamChange(p, [parseSetting("jobs.challengeWindow=2h"), parseSetting("staking.minStake=500")]);
    await propose(p, deployer!, change.actions, "Challenge window 2 h, minimum stake 500 VTN");
    const sources = sourceAddresses(p.addresses);
    const [game] = await p.disputes.gamesOf(1n);
    const logs = (await connection.provider.request({ method: "eth_getLogs", params: [{ fromBlock: "0x0", toBlock: "latest" }] })) as RawLog[];
    const seen = new Set<string>();
    for (const log of logs) {
      const source = sources.get(log.address.toLowerCase()) ?? (log.address.toLowerCase() === game?.toLowerCase() ? "game" : undefined);
      if (!source) continue;
      const fast = decodeLog(log, source);
      if (!fast) continue;
      const reference = argsOf(INTERFACES[source].parseLog({ topics: [...log.topics], data: log.data })!);
      expect(fast.args, `${source}.${fast.name}`).to.deep.equal(reference);
      seen.add(`${source}.${fast.name}`);
    }
    for (const name of ["jobManager.JobRequested", "registry.ModelSplitSet", "game.ChildrenRevealed", "game.GameResolved", "governor.ProposalCreated", "disputes.DisputeOpened"]) {
      expect(seen.has(name), name).to.equal(true);
    }
  });
});
