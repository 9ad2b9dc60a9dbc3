/**
 * Issue 18's audits, end to end: workers on a deployment with a worker roster and an audit manager
 * (LocalAssignedProtocol), on an in-process chain mined every second, every result drawn for audit
 * (auditRateBps raised to 100% by the manager's owner). Honest results are audited, pass, and their
 * auditors are paid from the pool; a lazy auditor (commits, never reveals) is penalized at
 * settlement; a cheating worker is caught by an audit with no verifier running: the mismatch opens a
 * game, the nodes play it, the result is rejected and the cheater slashed. Balances are exact.
 */
import { expect } from "chai";
import type { Signer } from "ethers";

import type { Protocol } from "../../offchain/cli/index.js";
import { AuditStatus, auditOf, auditSummary, getJob, JobStatus, requestInference, settleAudit } from "../../offchain/cli/index.js";
import type { CheatChoice } from "../../offchain/cli/index.js";
import type { AuditMode } from "../../offchain/nodes/auditor.js";
import type { Worker } from "../../offchain/nodes/worker.js";
import type { AuditManager } from "../../types/ethers-contracts/index.js";
import { VTN, auditedChain, mineToEpoch, runUntil as runNodesUntil, stakedWorker } from "./audits-setup.js";
import { digitInputs } from "./inprocess.js";

const EPOCH_BLOCKS = 20;
/**
 * Epochs of 20 blocks, 3 claim slots of 4; a challenge window of 40 s (the audit slots, 3 of 6 blocks,
 * end 19 s after the submission, and the auditor commits only with 10 s left to reveal).
 */
const PARAMETERS = {
  Assignment: { epochBlocks: EPOCH_BLOCKS, slotBlocks: 4, drawnSlots: 3 },
  Jobs: { challengeWindow: 40 },
};

interface WorkerSpec {
  readonly name: string;
  readonly stake: bigint;
  readonly audits?: AuditMode;
  /** Lie at one node of every trace (`{}`: a random one; see offchain/runtime/cheat.ts). */
  readonly cheat?: CheatChoice;
}

interface Run {
  readonly p: Protocol;
  readonly manager: AuditManager;
  readonly workers: Worker[];
  readonly addresses: string[];
  readonly jobs: bigint[];
  readonly logs: string[][];
  readonly signers: Signer[];
}

async function setUp(specs: readonly WorkerSpec[], jobCount: number, stride: number): Promise<Run> {
  const c = await auditedChain(PARAMETERS);
  const { p, manager, signers, requester, modelId, fee } = c;
  const workers: Worker[] = [];
  const addresses: string[] = [];
  const logs: string[][] = [];
  for (const [i, spec] of specs.entries()) {
    const signer = signers[6 + i]!;
    const lines: string[] = [];
    logs.push(lines);
    addresses.push((await signer.getAddress()).toLowerCase());
    workers.push(
      await stakedWorker(c, signer, spec.stake, {
        name: spec.name,
        log: (l) => lines.push(l),
        ...(spec.audits ? { audits: spec.audits } : {}),
        ...(spec.cheat ? { cheat: spec.cheat } : {}),
      }),
    );
  }
  for (const w of workers) await w.tick(); // each joins the roster (its weight counts from the next epoch)
  await (await p.token.connect(requester).approve(p.addresses.jobManager, fee * BigInt(jobCount))).wait();
  const input = digitInputs(stride);
  const jobs: bigint[] = [];
  for (let i = 0; i < jobCount; i++) jobs.push((await requestInference(p, requester, { modelId, input: input(), fee, deadlineIn: 3600 })).jobId);
  // Start at an epoch's first block (every job drawn afresh, all weights in force), then a block a second.
  await mineToEpoch(p, EPOCH_BLOCKS);
  return { p, manager, workers, addresses, jobs, logs, signers };
}

/** Runs the workers until `done` holds or `limitMs` passes, on a chain mined every second. */
function runUntil(r: Run, what: string, done: () => Promise<boolean>, limitMs: number): Promise<void> {
  return runNodesUntil(r.p, r.workers, r.logs, what, done, limitMs);
}

const statuses = async (r: Run) => Promise.all(r.jobs.map(async (id) => (await getJob(r.p, id)).status));

describe("nodes: audits drawn after submission, run by the workers (issue 18)", function () {
  this.timeout(240_000);

  it("honest results are audited, pass and are paid from the pool; a lazy auditor is penalized at settlement", async function () {
    const r = await setUp(
      [
        { name: "honest1", stake: 2_000n * VTN },
        { name: "honest2", stake: 2_000n * VTN },
        { name: "lazy", stake: 3_000n * VTN, audits: "commit-only" },
      ],
      // The lazy auditor audits a job with probability about 0.31 (the job is an honest worker's,
      // 4/7, and the draw, redrawn once off the worker, is the lazy one's, 0.55): with 20 jobs it
      // audits none in about 1 run of 1,900 (with 14, 1 of 200).
      20,
      13,
    );
    const [, , lazy] = r.addresses;
    const tokensBefore = await Promise.all(r.addresses.map((a) => r.p.token.balanceOf(a)));
    const stakesBefore = await Promise.all(r.addresses.map((a) => r.p.staking.stakeOf(a)));
    const poolBefore = await r.manager.pool();
    const params = await r.manager.params();
    // Done when every job is finalized and every audit an honest auditor committed is settled and withdrawn.
    await runUntil(
      r,
      "20 jobs finalized, their honest audits settled",
      async () => {
        if (!(await statuses(r)).every((s) => s === JobStatus.Finalized)) return false;
        const audits = await Promise.all(r.jobs.map((id) => auditOf(r.p, id)));
        // A job nobody committed to audit (every slot's draw empty or let pass) has nothing to settle.
        const committed = audits.filter((a) => a.status !== AuditStatus.None && a.status !== AuditStatus.Missed);
        const honestOpen = committed.filter((a) => a.auditor.toLowerCase() !== lazy && !a.settled);
        const owed = await Promise.all(r.addresses.slice(0, 2).map((a) => r.manager.balanceOf(a)));
        return honestOpen.length === 0 && owed.every((o) => o === 0n);
      },
      150_000,
    );
    // The lazy auditor's commitments are settled by anyone once the job is: its penalty.
    const lazyJobs: bigint[] = [];
    for (const id of r.jobs) {
      const a = await auditOf(r.p, id);
      if (a.auditor.toLowerCase() === lazy) {
        expect(a.status, `job ${id}: the lazy auditor committed and never revealed`).to.equal(AuditStatus.Committed);
        lazyJobs.push(id);
        await settleAudit(r.p, r.signers[0]!, id);
      }
    }
    const audits = await Promise.all(r.jobs.map((id) => auditOf(r.p, id)));
    // Every job drawn (all are, at 100%) was audited by a worker other than its own, unless every
    // slot's draw fell on its worker (then nobody could audit it).
    for (const [i, id] of r.jobs.entries()) {
      const job = await getJob(r.p, id);
      if (audits[i]!.status === AuditStatus.None || audits[i]!.status === AuditStatus.Missed) {
        expect((await r.manager.auditDraw(id, job.terms)).over, `job ${id}: unaudited only once its slots are over`).to.equal(true);
        continue;
      }
      expect(audits[i]!.auditor.toLowerCase(), `job ${id}: never its own worker`).to.not.equal(job.worker.toLowerCase());
      expect(audits[i]!.settled, `job ${id}: audit settled`).to.equal(true);
      expect(audits[i]!.status).to.equal(audits[i]!.auditor.toLowerCase() === lazy ? AuditStatus.Committed : AuditStatus.Passed);
    }
    const passedBy = r.addresses.map((a) => audits.filter((x) => x.auditor.toLowerCase() === a).length);
    expect(passedBy[0]! + passedBy[1]!, "honest audits").to.be.greaterThan(0);
    expect(lazyJobs.length, "the lazy auditor (3/7 of the stake) was drawn at least once").to.be.greaterThan(0);
    const lock = (await getJob(r.p, r.jobs[0]!)).lock;
    const penalty = (lock * params.auditMissPenaltyBps) / 10_000n;
    // The pool: the audit share of each fee in (fee × auditFeeBps, rounded down), a reward out per
    // honest audit, the lazy penalties in.
    const { auditFeeBps } = await r.p.jobManager.params();
    expect(auditFeeBps, "the deployment takes an audit share of fees").to.be.greaterThan(0n);
    let feeShares = 0n;
    for (const id of r.jobs) {
      const job = await getJob(r.p, id);
      const share = (job.fee * auditFeeBps) / 10_000n;
      expect((await r.p.jobManager.feeSplit(job.terms)).auditFee).to.equal(share);
      feeShares += share;
    }
    const honestAudits = passedBy[0]! + passedBy[1]!;
    // A drawn auditor that let its slot pass (a pass too slow for a 4-block slot on a busy CPU) is
    // charged the miss penalty by the next commit: counted from its AuditMissed events.
    const missed = (await r.manager.queryFilter(r.manager.filters.AuditMissed(), 0)).map((e) => ({ who: e.args.auditor.toLowerCase(), penalty: e.args.penalty }));
    const missedBy = (a: string) => missed.filter((m) => m.who === a).reduce((t, m) => t + m.penalty, 0n);
    const missedAll = missed.reduce((t, m) => t + m.penalty, 0n);
    expect(await r.manager.pool()).to.equal(poolBefore + feeShares - params.auditReward * BigInt(honestAudits) + penalty * BigInt(lazyJobs.length) + missedAll);
    // Each honest auditor got exactly its rewards (withdrawn to its wallet: escrow earnings are not withdrawn here).
    for (const i of [0, 1]) {
      expect((await r.p.token.balanceOf(r.addresses[i]!)) - tokensBefore[i]!, `${r.addresses[i]}'s audit rewards`).to.equal(params.auditReward * BigInt(passedBy[i]!));
      expect((await r.p.staking.stakeOf(r.addresses[i]!)).staked).to.equal(stakesBefore[i]!.staked - missedBy(r.addresses[i]!));
    }
    // The lazy auditor lost the miss penalty per unrevealed audit, and got nothing.
    expect((await r.p.staking.stakeOf(lazy!)).staked).to.equal(stakesBefore[2]!.staked - penalty * BigInt(lazyJobs.length) - missedBy(lazy!));
    expect(await r.p.token.balanceOf(lazy!)).to.equal(tokensBefore[2]!);
    console.log(`      audits: ${passedBy.join(", ")} by honest1, honest2, lazy; ${lazyJobs.length} unrevealed, penalty ${penalty} wei each; ${missed.length} missed slot(s)`);
    // The nodes said so in words, and `job show` has an audit line.
    const said = r.logs.flat().join("\n");
    expect(said).to.match(/audited by us \(slot \d\): ran model/);
    expect(said).to.match(/audited by us, our output agrees, revealed/);
    expect(said).to.match(/audit drawn for 0x[0-9a-fA-F]{4}…[0-9a-fA-F]{4} \(slot \d, until block \d+\), not us|not us/);
    expect(await auditSummary(r.p, { jobId: r.jobs[0]!, ...(await getJob(r.p, r.jobs[0]!)) })).to.match(/^audited \(rate 100% \(10000 bps\)\) by 0x[0-9a-fA-F]{40}: (passed|committed).*; settled: /);
    // Reads: one audit draw per result of another worker, and another only after a slot that ended
    // with no commitment (at most one per slot, and one to learn that the last has passed), whatever
    // the number of workers. (An auditor whose output came after its slot, when another had
    // committed in the next, once read the draw and sent its commitment again every pass.)
    for (const [i, w] of r.workers.entries()) {
      for (const [id, n] of w.auditor.drawReadsOf) expect(n, `${r.addresses[i]}: draw reads for job ${id}`).to.be.at.most(Number(params.auditSlots) + 1);
      expect(r.logs[i]!.join("\n"), "no commitment sent for an audit that had one").to.not.match(/audit already has a commitment/);
    }
    console.log(`      draw reads / results of others: ${r.workers.map((w) => `${w.auditor.counters.drawReads}/${w.auditor.counters.results}`).join(", ")}`);
  });

  it("a cheating worker is caught by an audit with no verifier running: the game is played, the result rejected and slashed", async function () {
    // The cheater holds 60% of the stake, so it is drawn for most jobs; an auditor is drawn among
    // the other two (the draw is redrawn once if it falls on the worker, and each of 3 slots draws).
    const r = await setUp(
      [
        { name: "cheater", stake: 3_000n * VTN, cheat: {} },
        { name: "auditor", stake: 1_000n * VTN },
        { name: "auditor2", stake: 1_000n * VTN },
      ],
      // A job is the cheater's and audited by an honest worker with probability about 0.57: with 8
      // jobs, no catch in about 1 run of 1,000.
      8,
      17,
    );
    const [cheater] = r.addresses as [string];
    const honests = r.addresses.slice(1);
    const honestTokens = await Promise.all(honests.map((a) => r.p.token.balanceOf(a)));
    const cheaterStake = (await r.p.staking.stakeOf(cheater)).staked;
    const params = await r.manager.params();
    const dparams = await r.p.disputes.params();
    await runUntil(
      r,
      "every job rejected or finalized, its audit settled",
      async () => {
        const s = await statuses(r);
        if (!s.every((x) => x === JobStatus.Rejected || x === JobStatus.Finalized)) return false;
        const audits = await Promise.all(r.jobs.map((id) => auditOf(r.p, id)));
        if (!audits.every((a) => a.settled || a.status === AuditStatus.None || a.status === AuditStatus.Missed)) return false;
        const owed = await Promise.all(honests.map(async (h) => (await r.manager.balanceOf(h)) + (await r.p.disputes.balanceOf(h))));
        return owed.every((o) => o === 0n);
      },
      200_000,
    );
    let caught = 0n;
    let slashed = 0n;
    const paid = honests.map(() => 0n);
    for (const id of r.jobs) {
      const job = await getJob(r.p, id);
      const a = await auditOf(r.p, id);
      if (job.worker.toLowerCase() !== cheater) {
        expect(job.status, `job ${id}: an honest result stands`).to.equal(JobStatus.Finalized);
        const k = honests.indexOf(a.auditor.toLowerCase());
        if (k >= 0) paid[k] = paid[k]! + params.auditReward; // an honest audit of an honest result
        continue;
      }
      if (a.status === AuditStatus.None || a.status === AuditStatus.Missed) {
        // No auditor in any slot, and no verifier: the wrong result goes through (what audits deter, not prevent).
        expect(job.status).to.equal(JobStatus.Finalized);
        continue;
      }
      caught++;
      expect(job.status, `job ${id}: the cheater's result is rejected`).to.equal(JobStatus.Rejected);
      expect(a.status).to.equal(AuditStatus.Mismatch);
      expect(a.game, `job ${id}: the mismatch opened a game`).to.not.equal("0x0000000000000000000000000000000000000000");
      slashed += job.lock;
      // The auditor: its bond back, the challenger's share of the slashed lock, and the audit reward.
      const k = honests.indexOf(a.auditor.toLowerCase());
      paid[k] = paid[k]! + (job.lock * dparams.challengerRewardBps) / 10_000n + params.auditReward;
    }
    expect(caught, "a cheated result (60% of the stake) was audited").to.be.greaterThan(0n);
    const missed = (await r.manager.queryFilter(r.manager.filters.AuditMissed(), 0)).filter((e) => e.args.auditor.toLowerCase() === cheater);
    expect((await r.p.staking.stakeOf(cheater)).staked).to.equal(cheaterStake - slashed - missed.reduce((t, e) => t + e.args.penalty, 0n));
    for (const [k, h] of honests.entries()) {
      // Exactly what its audits earned: catches (bond back, the challenger's share, the reward) and passes.
      expect((await r.p.token.balanceOf(h)) - honestTokens[k]!, `${h}: what its audits earned`).to.equal(paid[k]!);
    }
    console.log(`      ${caught} cheated result(s) caught by audits, ${slashed} wei slashed`);
    const said = r.logs.flat().join("\n");
    expect(said).to.match(/audited by us, our output DIFFERS from the worker's: revealed as a mismatch, dispute opened/);
    expect(said).to.match(/WON \(challenger wins\)/);
  });
});
