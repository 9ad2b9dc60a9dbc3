/**
 * Two moments of issue 18's audits that lose money if mishandled, with the nodes driven pass by
 * pass (`tick()`) on a chain that mines each transaction in its own block (every result drawn for
 * audit, as in audits.test.ts):
 *
 *  - an auditor stopped (its endpoint cut off, as a crash stops it) around its audit commitment or
 *    its reveal, and restarted on the same SQLite file: it finds its commitment (its output from
 *    the store, its salt from its own signature), commits once and never twice, reveals in time,
 *    and is settled and paid, never charged the unrevealed audit's penalty; restarted once every
 *    slot has passed, it gives the audit up instead of sending, every pass, a commitment that can
 *    only fail; restarted once the challenge window has closed on its commitment, it sends no
 *    reveal, settles the audit (its miss penalty) and gets its lock back; stopped after revealing a
 *    mismatch, it finds its game and plays it to the win;
 *  - a verifier and an auditor disputing the same wrong result: two games (the verifier's, opened
 *    by commit-reveal through the factory, and the audit's, opened by `revealMismatch`), both played
 *    by the nodes; the result rejected once and the lock slashed once; the challenger's reward to
 *    the game committed first (the factory's rank rule), whichever that is; the auditor paid its
 *    audit reward and its bond back; every balance exact.
 *
 * The draws are random (block hashes): the auditor holds 3/4 of the model's stake and claims
 * nothing, so every job goes to the other worker, and each slot's draw (redrawn once if it falls on
 * that worker) is the auditor's with probability 15/16: a job the auditor audits in no slot (about
 * 1 in 4,000) is finished and the next one tried (at most 3).
 */
import { expect } from "chai";
import type { Signer } from "ethers";
import { hexlify, randomBytes } from "ethers";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

import type { Protocol } from "../../offchain/cli/index.js";
import { AuditStatus, JobStatus, addStake, auditCommitment, auditOf, commitAudit, getJob, requestInference } from "../../offchain/cli/index.js";
import { attachGame, readGame } from "../../offchain/clients/disputes.js";
import { GameStatus } from "../../offchain/clients/game-types.js";
import type { ProtocolNode } from "../../offchain/nodes/node.js";
import { canonicalRunners } from "../../offchain/nodes/runner-pool.js";
import { Verifier } from "../../offchain/nodes/verifier.js";
import type { Worker } from "../../offchain/nodes/worker.js";
import type { AuditedChain } from "./audits-setup.js";
import { VTN, auditedChain, mineToEpoch, stakedWorker, workerNode } from "./audits-setup.js";
import { digitInputs } from "./inprocess.js";

const EPOCH_BLOCKS = 100;
/**
 * Epochs of 100 blocks (a job's claim and audit fit in one, where the auditor's weight, taken out
 * for the claim slots it lets pass, is in force), claim slots of 2 blocks; a challenge window of
 * 5 minutes that the tests move past rather than wait out.
 */
const PARAMETERS = {
  Assignment: { epochBlocks: EPOCH_BLOCKS, slotBlocks: 2, drawnSlots: 3 },
  Jobs: { challengeWindow: 300 },
};
/** Jobs tried before a test gives up on the draw it needs. */
const MAX_JOBS = 3;

type Request = { method: string; params?: unknown[] };
type Eip1193 = { request(a: Request): Promise<unknown> };

/**
 * Cuts the chain off at `from`'s first transaction calling `selector`: `before` (instead of
 * sending it) or `after` (once it is sent and mined). From then on every request fails as an
 * unreachable endpoint's would, until `restore()`: the node stops where it was, with its store as
 * written so far, as a crash would leave it.
 */
function cutOffAt(p: Protocol, from: string, selector: string, when: "before" | "after") {
  const provider = p.connection.provider as unknown as Eip1193;
  const inner = provider.request.bind(provider);
  const state = { down: false };
  const unreachable = () => new Error("connect ECONNREFUSED 127.0.0.1:8545 (cut off by the test)");
  provider.request = async (args: Request) => {
    if (state.down) throw unreachable();
    const tx = args.method === "eth_sendTransaction" ? (args.params?.[0] as { from?: string; data?: string }) : undefined;
    if (tx?.from?.toLowerCase() === from.toLowerCase() && tx.data?.startsWith(selector)) {
      // The send itself goes through (when it does) before the cut: the provider's own requests for it pass.
      const sent = when === "after" ? await inner(args) : undefined;
      state.down = true;
      if (when === "before") throw unreachable();
      return sent;
    }
    return inner(args);
  };
  return {
    state,
    restore: () => {
      provider.request = inner;
    },
  };
}

/** The transactions `from` sent to `to` calling `selector` in blocks `fromBlock..` (mined, whatever their status). */
async function sentTxs(p: Protocol, fromBlock: number, from: string, to: string, selector: string): Promise<number> {
  const provider = p.connection.ethers.provider;
  const head = await provider.getBlockNumber();
  let n = 0;
  for (let b = fromBlock; b <= head; b++) {
    const block = await provider.getBlock(b, true);
    for (const tx of block?.prefetchedTransactions ?? []) {
      if (tx.from.toLowerCase() === from.toLowerCase() && tx.to?.toLowerCase() === to.toLowerCase() && tx.data.startsWith(selector)) n++;
    }
  }
  return n;
}

/**
 * Passes by hand: `nodes()` tick in turn, round after round, until `done` holds (at most `max`
 * rounds); a round in which nobody sent anything mines a block, so that slots and draws move on.
 */
async function roundsUntil(p: Protocol, nodes: () => readonly ProtocolNode[], what: string, done: () => Promise<boolean>, logs: () => string, max = 300): Promise<void> {
  const provider = p.connection.ethers.provider;
  for (let i = 0; i < max; i++) {
    if (await done()) return;
    const before = await provider.getBlockNumber();
    for (const n of nodes()) await n.tick();
    if ((await provider.getBlockNumber()) === before) await p.connection.provider.request({ method: "hardhat_mine", params: ["0x1"] });
  }
  if (await done()) return;
  throw new Error(`${what}: not done after ${max} rounds\n${logs()}`);
}

/** Moves the chain's clock `seconds` on (a challenge window passed without waiting for it). */
async function moveTime(p: Protocol, seconds: number): Promise<void> {
  await p.connection.provider.request({ method: "evm_increaseTime", params: [seconds] });
  await p.connection.provider.request({ method: "hardhat_mine", params: ["0x1"] });
}

/** Starts the next job at an epoch's first half (its claim and audit in the same epoch). */
async function requestJob(c: AuditedChain, input: () => Uint8Array): Promise<{ id: bigint; block: number }> {
  const head = await c.p.connection.ethers.provider.getBlockNumber();
  if (head % EPOCH_BLOCKS > EPOCH_BLOCKS / 2) await mineToEpoch(c.p, EPOCH_BLOCKS);
  await (await c.p.token.connect(c.requester).approve(c.p.addresses.jobManager, c.fee)).wait();
  const r = await requestInference(c.p, c.requester, { modelId: c.modelId, input: input(), fee: c.fee, deadlineIn: 3600 });
  return { id: r.jobId, block: r.receipt.blockNumber };
}

/** Whether the auditor's store says the audit of `id` will not be its own (not drawn, another's, or too late). */
function notOurs(w: Worker, id: bigint): boolean {
  const a = w.store.audit(id);
  return a !== undefined && ["unaudited", "theirs", "skipped"].includes(a.stage);
}

/** The auditor's node options: on its store file `db` (reopened as after a crash), claiming nothing, so every job is the worker's. */
const auditorOn = (db: string, log: (line: string) => void) => ({ name: "auditor", db, maxJobs: 0, log });

describe("nodes: an auditor restarted around its commitment and reveal (issue 18)", function () {
  this.timeout(180_000);

  let dir: string;
  let c: AuditedChain;
  let db: string;
  let worker: Worker;
  let auditor: Worker;
  let auditorSigner: Signer;
  let me: string;
  let managerAddress: string;
  const input = digitInputs(23);
  let logs: string[] = [];
  const recent = () => logs.slice(-40).join("\n");
  const log = (l: string) => logs.push(l);
  let restartLog: string[] = [];

  const logBoth = (l: string) => {
    log(l);
    restartLog.push(l);
  };
  /** The auditor's node on its store file, opened again (as after a crash). */
  const openAuditor = () => workerNode(c, auditorSigner, auditorOn(db, logBoth));

  before(async function () {
    dir = await mkdtemp(join(tmpdir(), "veritensor-audit-recovery-"));
    db = join(dir, "auditor.sqlite");
    c = await auditedChain(PARAMETERS, { auditSlotBlocks: 6n });
    managerAddress = await c.manager.getAddress();
    worker = await stakedWorker(c, c.signers[6]!, 1_000n * VTN, { name: "worker", log });
    auditorSigner = c.signers[7]!;
    me = (await auditorSigner.getAddress()).toLowerCase();
    auditor = await stakedWorker(c, auditorSigner, 3_000n * VTN, auditorOn(db, logBoth));
    for (const n of [worker, auditor]) await n.tick(); // each joins the roster (weights from the next epoch)
    await mineToEpoch(c.p, EPOCH_BLOCKS);
  });
  beforeEach(function () {
    logs = [];
    restartLog = [];
  });
  after(async function () {
    worker?.close();
    auditor?.close();
    await rm(dir, { recursive: true, force: true });
  });

  /**
   * Runs jobs (at most {@link MAX_JOBS}) until the auditor is stopped at its first `fn` transaction
   * (`when`), as a crash stops it; returns that job. The node is left stopped, its store as written.
   */
  async function stoppedAt(fn: "commitAudit" | "revealAudit", when: "before" | "after"): Promise<bigint> {
    const selector = c.manager.interface.getFunction(fn)!.selector;
    for (let tries = 0; tries < MAX_JOBS; tries++) {
      const job = await requestJob(c, input);
      const cut = cutOffAt(c.p, me, selector, when);
      try {
        await roundsUntil(c.p, () => [worker, auditor], `job ${job.id}: the auditor reaching ${fn}`, async () => cut.state.down || notOurs(auditor, job.id), recent, 60);
      } catch (e) {
        // The cut-off stops the auditor's pass (and the round) with an endpoint failure.
        if (!cut.state.down) throw e;
      } finally {
        cut.restore();
      }
      if (cut.state.down) return job.id;
      console.log(`      job ${job.id}: not audited by the auditor (${auditor.store.audit(job.id)?.stage}); trying another`);
    }
    return expect.fail(`the auditor was drawn for none of ${MAX_JOBS} jobs:\n${recent()}`);
  }

  /**
   * Runs jobs until the auditor is stopped at its first `fn` transaction (`when`), restarts it on
   * its store, and plays the audit to its settlement and the reward's withdrawal. Returns the job,
   * the first block of the test and the restarted node's log.
   */
  async function crashAndRestart(fn: "commitAudit" | "revealAudit", when: "before" | "after", inspect: (id: bigint, store: Worker["store"]) => Promise<void>) {
    const startBlock = (await c.p.connection.ethers.provider.getBlockNumber()) + 1;
    const tokens = await c.p.token.balanceOf(me);
    const stake = await c.p.staking.stakeOf(me);
    const reward = (await c.manager.params()).auditReward;
    const id = await stoppedAt(fn, when);
    auditor.close();
    restartLog = [];
    auditor = await openAuditor();
    // What the stopped node left in its file (read before the new one's first pass).
    await inspect(id, auditor.store);
    // The restarted node reveals (in time: the window is still open) ...
    await roundsUntil(c.p, () => [worker, auditor], `job ${id}: revealed after the restart`, async () => (await auditOf(c.p, id)).status === AuditStatus.Passed, recent, 20);
    // ... and once the window has passed the job is finalized, the audit settled and its reward withdrawn.
    await moveTime(c.p, PARAMETERS.Jobs.challengeWindow);
    await roundsUntil(
      c.p,
      () => [worker, auditor],
      `job ${id}: finalized, its audit settled and paid`,
      async () => (await getJob(c.p, id)).status === JobStatus.Finalized && (await auditOf(c.p, id)).settled && (await c.manager.balanceOf(me)) === 0n,
      recent,
      20,
    );
    const a = await auditOf(c.p, id);
    expect(a.auditor.toLowerCase()).to.equal(me);
    expect(a.status, "passed, not left unrevealed").to.equal(AuditStatus.Passed);
    const settled = (await c.manager.queryFilter(c.manager.filters.AuditSettled(id))).map((e) => e.args);
    expect(settled.length).to.equal(1);
    expect(settled[0]!.reward, "the audit's reward").to.equal(reward);
    expect(settled[0]!.slashed, "no penalty").to.equal(0n);
    // Exactly the reward in its wallet; its stake whole and unlocked again; never charged as a silent auditor.
    expect((await c.p.token.balanceOf(me)) - tokens).to.equal(reward);
    const after = await c.p.staking.stakeOf(me);
    expect(after.staked).to.equal(stake.staked);
    expect(after.locked).to.equal(stake.locked);
    expect(await c.manager.queryFilter(c.manager.filters.AuditMissed(undefined, me), startBlock)).to.have.length(0);
    // One commitment and one reveal, each sent once.
    for (const f of ["commitAudit", "revealAudit"] as const) {
      expect(await sentTxs(c.p, startBlock, me, managerAddress, c.manager.interface.getFunction(f)!.selector), `${f} transactions`).to.equal(1);
    }
    // Nothing run again: the output came from the store, the salt from our signature; no pass failed.
    const said = restartLog.join("\n");
    expect(said).to.not.match(/audited by us \(slot/);
    expect(said).to.not.match(new RegExp(`audit of job ${id}: `));
    expect(said).to.match(new RegExp(`job ${id}: finalized; our audit settled \\(passed`));
    return { id: id, said };
  }

  it("stopped after computing, before its commitment left: on restart it commits once, reveals, is settled and paid", async function () {
    const { id, said } = await crashAndRestart("commitAudit", "before", async (id, store) => {
      const a = store.audit(id)!;
      expect(a.stage, "the output was written ahead of the commitment").to.equal("computed");
      expect(a.ourOutput).to.equal(a.workerOutput);
      expect(store.intent(`audit-commit:${id}`)?.txHash, "the commitment never left").to.equal(undefined);
      expect((await auditOf(c.p, id)).status, "nothing on chain yet").to.equal(AuditStatus.None);
    });
    expect(said).to.match(new RegExp(`recovered audit-commit job ${id}: it never reached the chain`));
    expect(said).to.match(new RegExp(`job ${id}: committed to our audit output`));
  });

  it("stopped after computing, restarted once every audit slot has passed: it sends nothing and lets the audit go", async function () {
    const selector = c.manager.interface.getFunction("commitAudit")!.selector;
    const startBlock = (await c.p.connection.ethers.provider.getBlockNumber()) + 1;
    const stake = await c.p.staking.stakeOf(me);
    const id = await stoppedAt("commitAudit", "before");
    auditor.close();
    // Down for longer than the audit slots last (3 of 6 blocks).
    const { auditSlots, auditSlotBlocks } = await c.manager.params();
    await c.p.connection.provider.request({ method: "hardhat_mine", params: [`0x${(auditSlots * auditSlotBlocks + 1n).toString(16)}`] });
    expect((await c.manager.auditDraw(id, (await getJob(c.p, id)).terms)).over).to.equal(true);
    restartLog = [];
    auditor = await openAuditor();
    for (let i = 0; i < 5; i++) {
      await worker.tick();
      await auditor.tick();
    }
    expect(auditor.store.audit(id)!.stage, restartLog.join("\n")).to.be.oneOf(["theirs", "skipped"]);
    expect(await sentTxs(c.p, startBlock, me, managerAddress, selector), "no commitment sent").to.equal(0);
    // It used to send the commitment again every pass (each failing: "every audit slot of job N has passed") until the window closed.
    expect(restartLog.join("\n"), "no failing pass").to.not.match(new RegExp(`audit of job ${id}: `));
    expect(restartLog.join("\n")).to.match(new RegExp(`job ${id}: every audit slot has passed before our commitment was sent`));
    expect((await auditOf(c.p, id)).status).to.equal(AuditStatus.None);
    expect((await c.p.staking.stakeOf(me)).locked).to.equal(stake.locked);
  });

  it("stopped after its commitment was mined, restarted once the challenge window has closed: it sends no reveal, settles its penalty and its lock is released", async function () {
    const reveal = c.manager.interface.getFunction("revealAudit")!.selector;
    const startBlock = (await c.p.connection.ethers.provider.getBlockNumber()) + 1;
    const stake = await c.p.staking.stakeOf(me);
    const id = await stoppedAt("commitAudit", "after");
    auditor.close();
    expect((await auditOf(c.p, id)).status, "the commitment is on chain").to.equal(AuditStatus.Committed);
    // Down until the job's challenge window has closed.
    await moveTime(c.p, PARAMETERS.Jobs.challengeWindow);
    restartLog = [];
    auditor = await openAuditor();
    await roundsUntil(c.p, () => [worker, auditor], `job ${id}: finalized, its audit settled`, async () => (await auditOf(c.p, id)).settled, recent, 20);
    const said = restartLog.join("\n");
    expect(said).to.match(new RegExp(`job ${id}: the challenge window closed before our audit was revealed`));
    expect(said).to.match(new RegExp(`job ${id}: finalized; our audit settled \\(committed, not revealed\\): [0-9.]+ VTN of our lock SLASHED`));
    // It used to send the reveal again every pass, each failing, and leave its lock locked.
    expect(said, "no failing pass").to.not.match(new RegExp(`audit of job ${id}: `));
    expect(await sentTxs(c.p, startBlock, me, managerAddress, reveal), "no reveal sent").to.equal(0);
    const lock = (await getJob(c.p, id)).lock;
    const penalty = (lock * (await c.manager.params()).auditMissPenaltyBps) / 10_000n;
    const settled = (await c.manager.queryFilter(c.manager.filters.AuditSettled(id))).map((e) => e.args);
    expect(settled.length).to.equal(1);
    expect(settled[0]!.slashed, "the unrevealed commitment's penalty").to.equal(penalty);
    const after = await c.p.staking.stakeOf(me);
    expect(after.locked, "its lock released").to.equal(stake.locked);
    expect(after.staked).to.equal(stake.staked - penalty);
  });

  it("stopped after its commitment was mined, before recording it or revealing: on restart it finds it, reveals, is settled and paid", async function () {
    const { id, said } = await crashAndRestart("commitAudit", "after", async (id, store) => {
      const a = store.audit(id)!;
      expect(a.stage).to.equal("computed");
      expect(store.intent(`audit-commit:${id}`)?.state, "sent, its receipt not recorded").to.be.oneOf(["pending", "sent"]);
      expect((await auditOf(c.p, id)).status, "the commitment is on chain").to.equal(AuditStatus.Committed);
    });
    expect(said).to.match(new RegExp(`recovered audit-commit job ${id}: it reached the chain`));
    expect(said).to.match(new RegExp(`job ${id}: our audit commitment is on chain \\(recovered\\)`));
    expect(said).to.match(new RegExp(`job ${id}: audited by us, our output agrees, revealed`));
  });

  it("stopped after its reveal was mined, before recording it: on restart it finds it, is settled and paid", async function () {
    const { id, said } = await crashAndRestart("revealAudit", "after", async (id, store) => {
      const a = store.audit(id)!;
      expect(a.stage).to.equal("committed");
      expect(store.intent(`audit-reveal:${id}`)?.state, "sent, its receipt not recorded").to.be.oneOf(["pending", "sent"]);
      expect((await auditOf(c.p, id)).status, "the reveal is on chain").to.equal(AuditStatus.Passed);
    });
    expect(said).to.match(new RegExp(`job ${id}: our audit reveal is on chain \\(recovered\\)`));
  });
});

describe("nodes: a verifier and an auditor disputing the same wrong result (issue 18)", function () {
  this.timeout(240_000);

  let dir: string;
  let c: AuditedChain;
  let cheater: Worker;
  let auditor: Worker;
  let auditorDb: string;
  let verifierSigner: Signer;
  const input = digitInputs(29);
  let logs: string[] = [];
  const recent = () => logs.slice(-60).join("\n");
  const log = (l: string) => logs.push(l);
  let who: { cheater: string; auditor: string; verifier: string; requester: string };

  before(async function () {
    dir = await mkdtemp(join(tmpdir(), "veritensor-audit-disputes-"));
    auditorDb = join(dir, "auditor.sqlite");
    c = await auditedChain(PARAMETERS, { auditSlotBlocks: 6n });
    cheater = await stakedWorker(c, c.signers[6]!, 1_000n * VTN, { name: "cheater", cheat: {}, log });
    // The auditor claims nothing: every job is the cheater's, and the auditor (3/4 of the stake) audits it.
    auditor = await stakedWorker(c, c.signers[7]!, 3_000n * VTN, { name: "auditor", maxJobs: 0, db: auditorDb, log });
    verifierSigner = c.signers[8]!;
    await (await c.p.token.connect(c.deployer).transfer(await verifierSigner.getAddress(), 250n * VTN)).wait();
    await addStake(c.p, verifierSigner, 200n * VTN);
    who = {
      cheater: cheater.address.toLowerCase(),
      auditor: auditor.address.toLowerCase(),
      verifier: (await verifierSigner.getAddress()).toLowerCase(),
      requester: (await c.requester.getAddress()).toLowerCase(),
    };
    for (const n of [cheater, auditor]) await n.tick(); // each joins the roster (weights from the next epoch)
    await mineToEpoch(c.p, EPOCH_BLOCKS);
  });
  beforeEach(function () {
    logs = [];
  });
  after(async function () {
    cheater?.close();
    auditor?.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** A verifier node watching from block `from` (in this thread, one runner). */
  const verifierFrom = (from: number) =>
    Verifier.create({ protocol: c.p, signer: verifierSigner, db: ":memory:", cacheDir: join(tmpdir(), "veritensor-audits-models"), log, pollMs: 0, fromBlock: from, parallel: 1, runners: canonicalRunners, name: "verifier" });

  /** Every balance the two games and the audit can move. */
  async function balances() {
    const p = c.p;
    const of = async (a: string) => ({
      tokens: await p.token.balanceOf(a),
      escrow: await p.jobManager.balanceOf(a),
      factory: await p.disputes.balanceOf(a),
      audits: await c.manager.balanceOf(a),
      stake: await p.staking.stakeOf(a),
    });
    return {
      cheater: await of(who.cheater),
      auditor: await of(who.auditor),
      verifier: await of(who.verifier),
      requester: await of(who.requester),
      pool: await c.manager.pool(),
      supply: await p.token.totalSupply(),
    };
  }

  /** Whether job `id`'s games have all ended and paid out, and the verifier and the auditor withdrew what they were owed. */
  async function allSettled(id: bigint, games: number): Promise<boolean> {
    const p = c.p;
    if ((await getJob(p, id)).status !== JobStatus.Rejected) return false;
    const opened = await p.disputes.gamesOf(id);
    if (opened.length !== games || !(await p.disputes.jobDisputes(id)).closed) return false;
    const a = await auditOf(p, id);
    if (a.status !== AuditStatus.None && a.status !== AuditStatus.Missed && !a.settled) return false;
    for (const x of [who.auditor, who.verifier]) {
      if ((await p.disputes.balanceOf(x)) !== 0n || (await c.manager.balanceOf(x)) !== 0n) return false;
    }
    return true;
  }

  /**
   * Runs cheated jobs until one is audited by the auditor, with the verifier running from the
   * submission (`verifierStarts` "at once") or started only once the audit's game is open; plays
   * both games out and checks every rule and balance.
   */
  async function disputedByBoth(verifierStarts: "at once" | "after the audit's game") {
    const p = c.p;
    let verifier: Verifier | undefined;
    const nodes = () => [cheater, auditor, ...(verifier ? [verifier] : [])];
    try {
      for (let tries = 0; tries < MAX_JOBS; tries++) {
        const before = await balances();
        const job = await requestJob(c, input);
        const id = job.id;
        if (verifierStarts === "at once") verifier = await verifierFrom(job.block);
        await roundsUntil(p, nodes, `job ${id}: audited`, async () => (await auditOf(p, id)).status === AuditStatus.Mismatch || notOurs(auditor, id), recent, 60);
        if ((await auditOf(p, id)).status !== AuditStatus.Mismatch) {
          // Not audited by the auditor in any slot: the verifier alone disputes it; finish it and try another.
          console.log(`      job ${id}: not audited by the auditor (${auditor.store.audit(id)?.stage}); trying another`);
          verifier ??= await verifierFrom(job.block);
          await roundsUntil(p, nodes, `job ${id}: disputed by the verifier alone`, () => allSettled(id, 1), recent);
          verifier.close();
          verifier = undefined;
          continue;
        }
        verifier ??= await verifierFrom(job.block);
        await roundsUntil(p, nodes, `job ${id}: both games played out and paid`, () => allSettled(id, 2), recent);
        await check(id, before);
        return;
      }
      expect.fail(`the auditor audited none of ${MAX_JOBS} cheated jobs:\n${recent()}`);
    } finally {
      verifier?.close();
    }
  }

  async function check(id: bigint, before: Awaited<ReturnType<typeof balances>>): Promise<void> {
    const p = c.p;
    const after = await balances();
    const job = await getJob(p, id);
    const lock = job.lock;
    const audit = await auditOf(p, id);
    const { auditReward } = await c.manager.params();
    const { challengerRewardBps } = await p.disputes.params();
    // Two games, one each, both won by their challenger.
    const games = await p.disputes.gamesOf(id);
    const records = await Promise.all(games.map((g) => p.disputes.gameRecord(g)));
    const challengers = records.map((r) => r.challenger.toLowerCase());
    expect(challengers).to.have.members([who.verifier, who.auditor]);
    expect(audit.auditor.toLowerCase()).to.equal(who.auditor);
    expect(audit.status).to.equal(AuditStatus.Mismatch);
    expect(audit.game.toLowerCase(), "the audit's game is the auditor's").to.equal(games[challengers.indexOf(who.auditor)]!.toLowerCase());
    for (const g of games) expect((await readGame(attachGame(g, c.deployer))).status, `game ${g}`).to.equal(GameStatus.ChallengerWins);
    // Rejected once, slashed once (the second game to end slashes nothing).
    const from = Number((await p.jobManager.queryFilter(p.jobManager.filters.JobRequested(id)))[0]!.blockNumber);
    expect(await p.jobManager.queryFilter(p.jobManager.filters.JobRejected(id), from)).to.have.length(1);
    const slashes = await p.staking.queryFilter(p.staking.filters.StakeSlashed(who.cheater), from);
    expect(slashes.map((e) => e.args.amount)).to.deep.equal([lock]);
    // The reward goes to the game committed first (the lowest rank), whichever it is.
    const first = records[0]!.rank < records[1]!.rank ? 0 : 1;
    const winner = challengers[first]!;
    const closed = (await p.disputes.queryFilter(p.disputes.filters.DisputesClosed(id), from)).map((e) => e.args);
    expect(closed).to.have.length(1);
    expect(closed[0]!.winnerGame.toLowerCase(), "the first-committed game earns the reward").to.equal(games[first]!.toLowerCase());
    const reward = (lock * challengerRewardBps) / 10_000n;
    expect(closed[0]!.challengerReward).to.equal(reward);
    expect(closed[0]!.burned, "the rest of the slash is burned").to.equal(lock - reward);
    // Exact balances. The auditor: its bond back, the audit's reward, the challenger's reward if first; its stake whole.
    const rewardOf = (x: string) => (winner === x ? reward : 0n);
    expect(after.auditor.tokens - before.auditor.tokens, "the auditor's wallet").to.equal(auditReward + rewardOf(who.auditor));
    expect(after.auditor.stake.staked).to.equal(before.auditor.stake.staked);
    expect(after.auditor.stake.locked).to.equal(before.auditor.stake.locked);
    // The verifier: its bond back, and the challenger's reward if first.
    expect(after.verifier.tokens - before.verifier.tokens, "the verifier's wallet").to.equal(rewardOf(who.verifier));
    expect(after.verifier.stake.staked).to.equal(before.verifier.stake.staked);
    // The cheater: its lock slashed, once; nothing earned.
    expect(before.cheater.stake.staked - after.cheater.stake.staked).to.equal(lock);
    expect(after.cheater.stake.locked).to.equal(before.cheater.stake.locked);
    expect(after.cheater.tokens).to.equal(before.cheater.tokens);
    expect(after.cheater.escrow).to.equal(before.cheater.escrow);
    // The requester: its fee refunded in the escrow.
    expect(before.requester.tokens - after.requester.tokens).to.equal(job.fee);
    expect(after.requester.escrow - before.requester.escrow).to.equal(job.fee);
    // The pool paid the audit's reward (a rejected fee funds nothing); the rest of the slash is burned.
    expect(before.pool - after.pool).to.equal(auditReward);
    expect(before.supply - after.supply).to.equal(lock - reward);
    for (const x of [after.auditor, after.verifier]) expect(x.factory + x.audits, "everything withdrawn").to.equal(0n);
    const said = logs.join("\n");
    expect(said).to.match(new RegExp(`job ${id}: audited by us, our output DIFFERS from the worker's: revealed as a mismatch, dispute opened`));
    expect(said).to.match(new RegExp(`job ${id}: dispute opened, game`));
    expect(said).to.match(new RegExp(`job ${id}: rejected; our audit settled \\(mismatch`));
    console.log(`      job ${id}: ranks ${records.map((r, i) => `${challengers[i] === who.auditor ? "auditor" : "verifier"} ${r.rank}`).join(", ")}; reward ${reward} wei to the ${winner === who.auditor ? "auditor" : "verifier"}`);
  }

  it("the verifier running from the submission: two games, rejected and slashed once, the reward to the first committed, the audit paid", async function () {
    await disputedByBoth("at once");
  });

  it("the verifier started once the audit's game is open: the same rules, whoever ranks first", async function () {
    await disputedByBoth("after the audit's game");
  });

  it("the auditor stopped after its mismatch was revealed (the game opened), restarted on its file: it finds its game, plays it and is paid", async function () {
    const p = c.p;
    const selector = c.manager.interface.getFunction("revealMismatch")!.selector;
    const { auditReward } = await c.manager.params();
    const { challengerRewardBps } = await p.disputes.params();
    for (let tries = 0; tries < MAX_JOBS; tries++) {
      const before = await balances();
      const job = await requestJob(c, input);
      const id = job.id;
      const cut = cutOffAt(p, who.auditor, selector, "after");
      try {
        await roundsUntil(p, () => [cheater, auditor], `job ${id}: the auditor revealing a mismatch`, async () => cut.state.down || notOurs(auditor, id), recent, 60);
      } catch (e) {
        if (!cut.state.down) throw e;
      } finally {
        cut.restore();
      }
      if (!cut.state.down) {
        // Not audited by the auditor, and no verifier runs: the wrong result stands (audits deter, they do not prevent).
        console.log(`      job ${id}: not audited by the auditor (${auditor.store.audit(id)?.stage}); trying another`);
        continue;
      }
      auditor.close();
      auditor = await workerNode(c, c.signers[7]!, { name: "auditor", maxJobs: 0, db: auditorDb, log });
      expect(auditor.store.audit(id)!.stage, "stopped before recording its reveal").to.equal("committed");
      const audit = await auditOf(p, id);
      expect(audit.status).to.equal(AuditStatus.Mismatch);
      expect(audit.game, "the mismatch opened a game").to.not.equal("0x0000000000000000000000000000000000000000");
      const restarted = logs.length;
      await roundsUntil(p, () => [cheater, auditor], `job ${id}: the audit's game played out and paid`, () => allSettled(id, 1), recent);
      const said = logs.slice(restarted).join("\n");
      expect(said).to.match(new RegExp(`job ${id}: our audit's dispute \\(game 0x[0-9a-fA-F]{6}…[0-9a-fA-F]{4}\\) is on chain \\(recovered\\)`));
      expect(said).to.match(/WON \(challenger wins\)/);
      expect((await readGame(attachGame(audit.game, c.deployer))).status).to.equal(GameStatus.ChallengerWins);
      const after = await balances();
      const lock = (await getJob(p, id)).lock;
      // Its bond back, the challenger's reward (the only game) and the audit's reward; its stake whole.
      expect(after.auditor.tokens - before.auditor.tokens).to.equal(auditReward + (lock * challengerRewardBps) / 10_000n);
      expect(after.auditor.stake.staked).to.equal(before.auditor.stake.staked);
      expect(after.auditor.stake.locked).to.equal(before.auditor.stake.locked);
      expect(before.cheater.stake.staked - after.cheater.stake.staked).to.equal(lock);
      return;
    }
    expect.fail(`the auditor audited none of ${MAX_JOBS} cheated jobs:\n${recent()}`);
  });
});

/**
 * An auditor whose commitment comes after another auditor's: drawn for a slot, it computes its
 * output, but before its commitment reaches the chain the slot passes and the auditor drawn for a
 * later slot commits (a slow run on a busy machine; in CI it took longer than a 6-block slot). An
 * audit takes one commitment, so the late one can only fail: the node lets the audit go, once,
 * whether it learns of the other commitment from its send (the manager's AuditManagerAlreadyCommitted)
 * or from its event scan after a restart. It used to keep the output "computed" and send the
 * commitment again every pass, reading the draw each time, until its slots ran out.
 *
 * The draws are random: the auditor and the rival hold equal stakes, so a later slot is the
 * rival's about half the time; jobs are tried until one is (at most 12: all failing about 1 run
 * in 4,000).
 */
describe("nodes: an auditor whose commitment comes after another auditor's (issue 18)", function () {
  this.timeout(180_000);
  const TRIES = 12;

  let dir: string;
  let c: AuditedChain;
  let db: string;
  let worker: Worker;
  let auditor: Worker;
  let rival: Worker;
  let auditorSigner: Signer;
  let rivalSigner: Signer;
  let me: string;
  let managerAddress: string;
  const input = digitInputs(31);
  let logs: string[] = [];
  const recent = () => logs.slice(-40).join("\n");
  const log = (l: string) => logs.push(l);
  let restartLog: string[] = [];

  const logBoth = (l: string) => {
    log(l);
    restartLog.push(l);
  };
  /** The auditor's node on its store file, opened again (as after a crash). */
  const openAuditor = () => workerNode(c, auditorSigner, auditorOn(db, logBoth));

  before(async function () {
    dir = await mkdtemp(join(tmpdir(), "veritensor-audit-late-"));
    db = join(dir, "auditor.sqlite");
    c = await auditedChain(PARAMETERS, { auditSlotBlocks: 6n });
    managerAddress = await c.manager.getAddress();
    // The worker claims every job; the auditor and the rival claim nothing and are drawn for its audits.
    worker = await stakedWorker(c, c.signers[6]!, 1_000n * VTN, { name: "worker", log });
    auditorSigner = c.signers[7]!;
    me = (await auditorSigner.getAddress()).toLowerCase();
    auditor = await stakedWorker(c, auditorSigner, 2_000n * VTN, auditorOn(db, logBoth));
    // The rival's node keeps its roster place; its commitments are sent by the test (below).
    rivalSigner = c.signers[8]!;
    rival = await stakedWorker(c, rivalSigner, 2_000n * VTN, { name: "rival", maxJobs: 0, audits: "off", log });
    for (const n of [worker, auditor, rival]) await n.tick(); // each joins the roster (weights from the next epoch)
    await mineToEpoch(c.p, EPOCH_BLOCKS);
  });
  beforeEach(function () {
    logs = [];
    restartLog = [];
  });
  after(async function () {
    for (const n of [worker, auditor, rival]) n?.close();
    await rm(dir, { recursive: true, force: true });
  });

  /**
   * Holds the auditor's first commitment (its gas estimate or its send, whichever comes first) and,
   * meanwhile, mines on to the first later slot drawn for the rival, whose commitment is then mined.
   * Then the held request goes on (`send`) or fails as an unreachable endpoint (`crash`, and always
   * when no later slot is the rival's).
   */
  function overtake(mode: "send" | "crash") {
    const provider = c.p.connection.provider as unknown as Eip1193;
    const inner = provider.request.bind(provider);
    const selector = c.manager.interface.getFunction("commitAudit")!.selector;
    const state = { fired: false, overtaken: undefined as bigint | undefined, down: false };
    const unreachable = () => new Error("connect ECONNREFUSED 127.0.0.1:8545 (cut off by the test)");
    const mine = (blocks: bigint) => inner({ method: "hardhat_mine", params: [`0x${blocks.toString(16)}`] });
    const rivalCommits = async (data: string): Promise<boolean> => {
      const [id, , workerOutput] = c.manager.interface.decodeFunctionData("commitAudit", data) as unknown as [bigint, unknown, string];
      const { terms } = await getJob(c.p, id);
      const rivalAddress = (await rivalSigner.getAddress()).toLowerCase();
      for (;;) {
        const head = BigInt(await c.p.connection.ethers.provider.getBlockNumber());
        const d = await c.manager.auditDraw(id, terms);
        if (d.over) return false;
        if (d.auditor.toLowerCase() === rivalAddress && d.slotEnd > head) {
          const salt = hexlify(randomBytes(32));
          await commitAudit(c.p, rivalSigner, id, terms, workerOutput, auditCommitment(id, rivalAddress, workerOutput, salt));
          state.overtaken = id;
          return true;
        }
        await mine(d.slotEnd - head + 1n);
      }
    };
    provider.request = async (args: Request) => {
      if (state.down) throw unreachable();
      const tx = args.method === "eth_sendTransaction" || args.method === "eth_estimateGas" ? (args.params?.[0] as { from?: string; data?: string }) : undefined;
      if (!state.fired && tx?.from?.toLowerCase() === me && tx.data?.startsWith(selector)) {
        state.fired = true;
        const overtaken = await rivalCommits(tx.data);
        if (mode === "crash" || !overtaken) {
          state.down = true;
          throw unreachable();
        }
      }
      return inner(args);
    };
    return {
      state,
      restore: () => {
        provider.request = inner;
      },
    };
  }

  /** Runs jobs until the rival's commitment overtakes the auditor's; returns the job and the first block of the test. */
  async function overtaken(mode: "send" | "crash"): Promise<{ id: bigint; startBlock: number }> {
    const startBlock = (await c.p.connection.ethers.provider.getBlockNumber()) + 1;
    for (let tries = 0; tries < TRIES; tries++) {
      const job = await requestJob(c, input);
      const hook = overtake(mode);
      try {
        await roundsUntil(c.p, () => [worker, auditor, rival], `job ${job.id}: the auditor reaching commitAudit`, async () => hook.state.fired || notOurs(auditor, job.id), recent, 60);
      } catch (e) {
        if (!hook.state.down) throw e;
      } finally {
        hook.restore();
      }
      if (hook.state.overtaken === job.id) return { id: job.id, startBlock };
      if (hook.state.down) {
        // No later slot was the rival's: the auditor stopped at its commitment; it restarts and the next job is tried.
        auditor.close();
        auditor = await openAuditor();
      }
      // Its audit is left to end however it ends; the next job starts from a quiet auditor.
      await moveTime(c.p, PARAMETERS.Jobs.challengeWindow);
      await roundsUntil(c.p, () => [worker, auditor, rival], `job ${job.id}: finalized`, async () => (await getJob(c.p, job.id)).status === JobStatus.Finalized, recent, 20);
    }
    return expect.fail(`no later audit slot was the rival's in ${TRIES} jobs:\n${recent()}`);
  }

  /** After a few more passes: the audit let go for good, no commitment of ours ever sent, no failing pass. */
  async function lettingGo(id: bigint, startBlock: number, said: () => string): Promise<void> {
    const reads = auditor.auditor.drawReadsOf.get(id) ?? 0;
    for (let i = 0; i < 5; i++) {
      for (const n of [worker, auditor, rival]) await n.tick();
      await c.p.connection.provider.request({ method: "hardhat_mine", params: ["0x1"] });
    }
    const a = auditor.store.audit(id)!;
    expect(a.stage, said()).to.equal("theirs");
    expect(a.note?.toLowerCase()).to.include((await rivalSigner.getAddress()).toLowerCase().slice(0, 6));
    expect(auditor.auditor.drawReadsOf.get(id) ?? 0, "no draw read once it is let go").to.equal(reads);
    const selector = c.manager.interface.getFunction("commitAudit")!.selector;
    expect(await sentTxs(c.p, startBlock, me, managerAddress, selector), "no commitment of ours sent").to.equal(0);
    expect(said(), "no failing pass").to.not.match(new RegExp(`audit of job ${id}: `));
    expect(said(), "never a commitment sent for an audit that had one").to.not.match(/audit already has a commitment/);
    const record = await auditOf(c.p, id);
    expect(record.auditor.toLowerCase()).to.equal((await rivalSigner.getAddress()).toLowerCase());
    expect(record.status).to.equal(AuditStatus.Committed);
  }

  it("told by its send (the audit already has a commitment): it lets the audit go, once", async function () {
    const { id, startBlock } = await overtaken("send");
    const said = () => logs.join("\n");
    expect(said(), recent()).to.match(new RegExp(`job ${id}: our audit commitment came too late: 0x[0-9a-fA-F]{6}…[0-9a-fA-F]{4} committed first, in its own slot; letting the audit go`));
    await lettingGo(id, startBlock, said);
  });

  it("restarted after the other commitment was mined: its event scan lets the audit go, with nothing sent", async function () {
    const { id, startBlock } = await overtaken("crash");
    auditor.close();
    restartLog = [];
    auditor = await openAuditor();
    expect(auditor.store.audit(id)!.stage, "stopped with its output computed").to.equal("computed");
    await lettingGo(id, startBlock, () => restartLog.join("\n"));
    expect(auditor.auditor.drawReadsOf.get(id) ?? 0, "the draw not even read: the scan told it").to.equal(0);
  });
});
