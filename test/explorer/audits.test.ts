/**
 * The explorer on a deployment with audits and redundancy (LocalAssignedProtocol: a worker roster,
 * an audit manager, every result drawn for audit by the Ignition parameter `Audits.auditRateBps`
 * = 100%), driven in process through the clients (no worker nodes, so every step is deterministic):
 * - job A: audited, the auditor's output agrees (passed), finalized, the audit settled with its reward;
 * - job B: forged by its worker; the auditor reveals a mismatch, which opens a dispute game;
 * - job C: no drawn auditor commits; the missed slots are reported and penalized;
 * - group 1 (k = 2): two distinct workers agree, confirmed early; group 2: resolved after the windows.
 * The index decodes every new event as ethers does, the API's fee split is the escrow's `feeSplit`,
 * the audits, the pool and the groups agree with the chain, and the pages show them in a browser.
 */
import { expect } from "chai";
import type { Signer } from "ethers";
import { MaxUint256, ZeroAddress, hexlify, randomBytes } from "ethers";
import hre from "hardhat";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

import type { Protocol } from "../../offchain/cli/index.js";
import {
  addStake,
  auditCommitment,
  auditDraw,
  auditManagerOf,
  claimJob,
  commitAudit,
  confirmGroup,
  deployProtocol,
  finalizeJob,
  formatVtn,
  getJob,
  jobAssignee,
  joinRoster,
  modelFileFacts,
  registerModel,
  reportMissedAudit,
  requestInference,
  requestRedundant,
  resolveGroup,
  revealAudit,
  revealMismatch,
  settleAudit,
  settleGroup,
  submitResult,
  submittedResultOf,
  withdrawAuditBalance,
} from "../../offchain/cli/index.js";
import { Side } from "../../offchain/clients/game-types.js";
import { canonicalBytes } from "../../offchain/commitments/tensor.js";
import { haveChromium, launchChromium, loadPage } from "../../offchain/dev/bench/browser.js";
import { DisputePlayer } from "../../offchain/disputes/player.js";
import type { RawLog } from "../../offchain/explorer/catalog.js";
import { INTERFACES, argsOf, decodeLog, sourceAddresses } from "../../offchain/explorer/catalog.js";
import { ExplorerDb } from "../../offchain/explorer/database.js";
import { startExplorer } from "../../offchain/explorer/index.js";
import { Indexer } from "../../offchain/explorer/indexer.js";
import { ExplorerQueries } from "../../offchain/explorer/queries.js";
import { computeOutput, computeTrace, intsOf } from "../../offchain/runtime/trace.js";
import type { AuditManager } from "../../types/ethers-contracts/index.js";
import { mnistCnn } from "../disputes/models.js";
import { digitInputs } from "../nodes/inprocess.js";

const VTN = 10n ** 18n;
/** Short claim and audit slots; a 5-minute window that every audit step fits in (blocks here are a second apart). */
const PARAMETERS = {
  Assignment: { epochBlocks: 10, slotBlocks: 2, drawnSlots: 2 },
  Audits: { auditRateBps: 10_000, auditSlotBlocks: 3, auditSlots: 2 },
  Jobs: { challengeWindow: 300 },
};

/** CI must run the browser tests (.ci/run installs chromium); a developer's machine may lack it. */
const browserRequired = (): boolean => !["", "0", "false"].includes((process.env.CI ?? "").trim().toLowerCase());

describe("explorer: audits and redundancy groups", function () {
  this.timeout(300_000);
  let p: Protocol;
  let manager: AuditManager;
  let modelId: bigint;
  let deployer: Signer;
  let workers: Signer[];
  const addr = new Map<string, Signer>();
  const ids = { a: 0n, b: 0n, c: 0n, g1: [] as bigint[], g2: [] as bigint[], group1: 0n, group2: 0n };
  let auditorA = "";
  let auditorB = "";

  const mine = (n = 1) => p.connection.networkHelpers.mine(n);
  const zero = (a: string) => a === ZeroAddress;

  /** Claims `jobId` as its drawn worker (or any but `avoid` once it is open to all), mining blocks until one may. */
  async function claimDrawn(jobId: bigint, avoid?: string): Promise<Signer> {
    for (let i = 0; i < 80; i++) {
      const job = await getJob(p, jobId);
      const a = await jobAssignee(p, modelId, jobId, job.timer);
      // The claim is mined in the next block: it must still be in the slot (or the open phase) read,
      // and in the same epoch (each epoch draws the open jobs afresh).
      const next = (await p.connection.ethers.provider.getBlockNumber()) + 1;
      const inTime = next % PARAMETERS.Assignment.epochBlocks !== 0 && (a.open || a.slotEnd >= BigInt(next));
      const who = !inTime ? undefined : a.open ? [...addr.keys()].find((x) => x !== avoid) : zero(a.worker) || a.worker.toLowerCase() === avoid ? undefined : a.worker.toLowerCase();
      if (who !== undefined) {
        await claimJob(p, addr.get(who)!, jobId);
        return addr.get(who)!;
      }
      await mine();
    }
    throw new Error(`job ${jobId}: nobody could claim it`);
  }

  /** The auditor drawn for `jobId`'s current slot, mining blocks until the seed block is mined. */
  async function drawnAuditor(jobId: bigint): Promise<Signer> {
    for (let i = 0; i < 10; i++) {
      const d = await auditDraw(p, jobId, (await getJob(p, jobId)).terms);
      if (d.over) break;
      if (!zero(d.auditor)) return addr.get(d.auditor.toLowerCase())!;
      await mine();
    }
    throw new Error(`job ${jobId}: no auditor drawn`);
  }

  before(async function () {
    const conn = await hre.network.create();
    p = (await deployProtocol(conn, hre.config.paths.ignition, { assignment: true, parameters: PARAMETERS })).protocol;
    manager = (await auditManagerOf(p))!;
    const signers = (await conn.ethers.getSigners()) as Signer[];
    deployer = signers[0]!;
    const [developer, requester] = [signers[1]!, signers[3]!];
    workers = [signers[2]!, signers[4]!, signers[5]!];
    // A gift to the pool, so that rewards are paid before fee shares come in.
    await (await p.token.connect(deployer).approve(await manager.getAddress(), 5n * VTN)).wait();
    await (await manager.connect(deployer).fund(5n * VTN)).wait();
    const facts = await modelFileFacts(join(hre.config.paths.root, "models/mnist-cnn.canonical.onnx"));
    modelId = (await registerModel(p, developer, { ...facts, price: VTN / 10n, contributors: [] })).modelId;
    for (const w of workers) {
      addr.set((await w.getAddress()).toLowerCase(), w);
      await addStake(p, w, 1_000n * VTN, { serveModels: [modelId] });
      await joinRoster(p, w, modelId);
      // A mismatch opens a dispute with the auditor's bond.
      await (await p.token.connect(w).approve(p.addresses.disputeFactory, MaxUint256)).wait();
    }
    await mine(PARAMETERS.Assignment.epochBlocks); // the weights count from the next epoch
    const model = mnistCnn();
    const input = digitInputs(41);
    const fee = (await p.jobManager.minimumFee(VTN / 10n)) + VTN / 5n;
    const request = async () => (await requestInference(p, requester, { modelId, input: input(), fee, deadlineIn: 3600 })).jobId;
    const inputOf = async (jobId: bigint) => {
      const [e] = await p.jobManager.queryFilter(p.jobManager.filters.JobRequested(jobId), 0);
      return Uint8Array.from(Buffer.from(e!.args.input.slice(2), "hex"));
    };
    const honest = async (jobId: bigint) => computeOutput(model, intsOf(await inputOf(jobId)));

    // Job A: audited, passed.
    ids.a = await request();
    const workerA = await claimDrawn(ids.a);
    const outA = await honest(ids.a);
    await submitResult(p, workerA, ids.a, canonicalBytes(outA.output));
    const audA = await drawnAuditor(ids.a);
    auditorA = (await audA.getAddress()).toLowerCase();
    const saltA = hexlify(randomBytes(32)) as `0x${string}`;
    await commitAudit(p, audA, ids.a, (await getJob(p, ids.a)).terms, outA.outputCommitment, auditCommitment(ids.a, auditorA, outA.outputCommitment, saltA));
    await revealAudit(p, audA, ids.a, outA.outputCommitment, saltA);

    // Job B: a forged output; the auditor's mismatch opens a game.
    ids.b = await request();
    const workerB = await claimDrawn(ids.b);
    const inputB = await inputOf(ids.b);
    const trace = await computeTrace(model, intsOf(inputB));
    const forged = Int32Array.from(trace.output);
    forged[0] = forged[0]! + 1000;
    await submitResult(p, workerB, ids.b, canonicalBytes(forged));
    const audB = await drawnAuditor(ids.b);
    auditorB = (await audB.getAddress()).toLowerCase();
    const saltB = hexlify(randomBytes(32)) as `0x${string}`;
    const forgedCommitment = (await submittedResultOf(p, ids.b)).outputCommitment;
    await commitAudit(p, audB, ids.b, (await getJob(p, ids.b)).terms, forgedCommitment, auditCommitment(ids.b, auditorB, trace.outputCommitment, saltB));
    const player = new DisputePlayer(Side.Challenger, audB, model, trace.trace);
    const mismatch = await revealMismatch(p, audB, ids.b, trace.outputCommitment, saltB, player.openArgs(await submittedResultOf(p, ids.b), saltB));
    expect(mismatch.game, "the mismatch opened a game").to.not.equal(undefined);

    // Job C: nobody commits; once every slot has passed, the silent auditors are reported.
    ids.c = await request();
    const workerC = await claimDrawn(ids.c);
    const outC = await honest(ids.c);
    const subC = await submitResult(p, workerC, ids.c, canonicalBytes(outC.output));
    await mine(PARAMETERS.Audits.auditSlots * PARAMETERS.Audits.auditSlotBlocks + 2);
    await reportMissedAudit(p, deployer, ids.c, (await getJob(p, ids.c)).terms, subC.outputCommitment);

    // Group 1: two distinct workers agree, confirmed early. Group 2: left to the windows, then resolved.
    for (const which of ["g1", "g2"] as const) {
      const g = await requestRedundant(p, requester, { modelId, input: input(), k: 2, deadlineIn: 3600 });
      ids[which] = [...g.jobIds];
      if (which === "g1") ids.group1 = g.groupId;
      else ids.group2 = g.groupId;
      const first = await claimDrawn(g.jobIds[0]!);
      const second = await claimDrawn(g.jobIds[1]!, which === "g1" ? (await first.getAddress()).toLowerCase() : undefined);
      const out = await honest(g.jobIds[0]!);
      await submitResult(p, first, g.jobIds[0]!, canonicalBytes(out.output));
      await submitResult(p, second, g.jobIds[1]!, canonicalBytes(out.output));
    }
    await confirmGroup(p, deployer, ids.group1);

    // The windows pass: A, C and the groups' jobs finalize (B is frozen by its game).
    await conn.provider.request({ method: "evm_increaseTime", params: [PARAMETERS.Jobs.challengeWindow + 1] });
    await mine();
    for (const id of [ids.a, ids.c, ...ids.g1, ...ids.g2]) await finalizeJob(p, deployer, id);
    await settleAudit(p, deployer, ids.a);
    await withdrawAuditBalance(p, audA);
    await (await manager.connect(deployer).collect()).wait();
    await resolveGroup(p, deployer, ids.group2);
    await settleGroup(p, deployer, ids.group1);
    await settleGroup(p, deployer, ids.group2);
  });

  it("decodes every audit manager and redundancy event as ethers does", async function () {
    const sources = sourceAddresses(p.addresses);
    expect([...sources.values()]).to.include.members(["audits", "redundancy"]);
    const logs = (await p.connection.provider.request({ method: "eth_getLogs", params: [{ fromBlock: "0x0", toBlock: "latest" }] })) as RawLog[];
    const seen = new Set<string>();
    for (const log of logs) {
      const source = sources.get(log.address.toLowerCase());
      const fast = source && decodeLog(log, source);
      if (!source || !fast) continue;
      expect(fast.args, `${source}.${fast.name}`).to.deep.equal(argsOf(INTERFACES[source].parseLog({ topics: [...log.topics], data: log.data })!));
      seen.add(`${source}.${fast.name}`);
    }
    const audits = ["AuditCommitted", "AuditPassed", "AuditMismatch", "AuditMissed", "AuditSettled", "PoolFunded", "ParamsSet", "EscrowBound", "BalanceCredited", "BalanceWithdrawn"];
    const redundancy = ["GroupRequested", "GroupConfirmed", "GroupResolved", "JobSettled"];
    for (const name of [...audits.map((n) => `audits.${n}`), ...redundancy.map((n) => `redundancy.${n}`)]) expect(seen.has(name), name).to.equal(true);
  });

  it("the API: fee splits as the escrow's feeSplit, each audit, the pool, an auditor's record and both groups, as on chain", async function () {
    const db = ExplorerDb.open(":memory:", { chainId: p.chainId, escrow: p.addresses.jobManager });
    await new Indexer({ protocol: p, db }).sync();
    const q = new ExplorerQueries({ protocol: p, db, confirmations: 1 });
    const { auditFeeBps } = await p.jobManager.params();
    expect(auditFeeBps, "the deployment takes an audit share").to.be.greaterThan(0n);

    for (const id of [ids.a, ids.b, ids.c, ...ids.g1, ...ids.g2]) {
      const job = await q.job(String(id));
      const terms = (await getJob(p, id)).terms;
      const [protocolFee, auditFee] = await p.jobManager.feeSplit(terms);
      expect(job.protocolFee.wei, `job ${id}: protocol fee`).to.equal(protocolFee.toString());
      expect(job.auditFee!.wei, `job ${id}: audit share`).to.equal(auditFee.toString());
      expect(job.auditFeeBps).to.equal(Number(auditFeeBps));
      const workerPart = terms.fee - terms.modelFee - protocolFee - auditFee;
      expect(job.workerPart.wei, `job ${id}: worker part, net of the audit share`).to.equal(workerPart.toString());
      if (job.status === "finalized") {
        expect(job.payout!.worker.wei, `job ${id}: paid as shown`).to.equal(workerPart.toString());
        expect(job.payout!.audit!.wei).to.equal(auditFee.toString());
      }
      expect(job.audit, `job ${id}: audit shown`).to.not.equal(undefined);
      expect(job.audit!.rateBps).to.equal(10_000);
    }

    // The model's protocol fees are the treasury's parts alone, not the audit pool's shares.
    let treasury = 0n;
    for (const id of [ids.a, ids.c, ...ids.g1, ...ids.g2]) treasury += (await p.jobManager.feeSplit((await getJob(p, id)).terms))[0];
    expect((await q.model(String(modelId))).earnings.protocolFees.wei).to.equal(treasury.toString());

    const a = (await q.job(String(ids.a))).audit!;
    const recA = await manager.auditOf(ids.a);
    const [settledA] = await manager.queryFilter(manager.filters.AuditSettled(ids.a), 0);
    expect(a).to.deep.include({ status: "passed", drawn: true, auditor: auditorA, slot: Number(recA.slot), settled: true });
    expect(a.reward!.wei).to.equal(settledA!.args.reward.toString());
    expect(BigInt(a.reward!.wei)).to.equal((await manager.params()).auditReward);
    expect(a.slashed!.wei).to.equal("0");
    expect(a.text).to.match(/^audited \(rate 100% \(10000 bps\)\) by 0x[0-9a-f]{40} in slot \d: passed/);

    const jobB = await q.job(String(ids.b));
    const [gameB] = await p.disputes.gamesOf(ids.b);
    expect(jobB.audit).to.deep.include({ status: "mismatch", auditor: auditorB, game: gameB!.toLowerCase(), settled: false });
    expect(jobB.disputes.map((g) => g.game)).to.deep.equal([gameB!.toLowerCase()]);
    expect(jobB.disputes[0]!.challenger).to.equal(auditorB);
    expect(jobB.timeline.map((e) => e.name)).to.include.members(["AuditCommitted", "AuditMismatch", "DisputeOpened"]);

    const c = (await q.job(String(ids.c))).audit!;
    const missedC = await manager.queryFilter(manager.filters.AuditMissed(ids.c), 0);
    expect(c.status).to.equal("missed");
    expect(c.drawn).to.equal(true);
    expect(missedC.length).to.be.greaterThan(0);
    expect(c.missed.map((m) => [m.auditor, m.slot, m.penalty.wei])).to.deep.equal(missedC.map((e) => [e.args.auditor.toLowerCase(), Number(e.args.slot), e.args.penalty.toString()]));

    // The groups: siblings, workers, outputs, and how each was decided.
    const g1 = (await q.job(String(ids.g1[1]))).group!;
    expect(g1).to.deep.include({ id: Number(ids.group1), k: 2, status: "confirmed", output: await p.redundancy!.confirmedOutput(ids.group1) });
    expect(g1.jobs.map((j) => j.id)).to.deep.equal(ids.g1.map(Number));
    const workersG1 = await Promise.all(ids.g1.map(async (id) => (await getJob(p, id)).worker.toLowerCase()));
    expect(g1.jobs.map((j) => j.worker)).to.deep.equal(workersG1);
    expect(new Set(workersG1).size, "distinct workers").to.equal(2);
    expect(g1.jobs.every((j) => j.outputCommitment === g1.output)).to.equal(true);
    expect(g1.settled.map((s) => s.job)).to.deep.equal(ids.g1.map(Number));
    const g2 = (await q.job(String(ids.g2[0]))).group!;
    expect(g2).to.deep.include({ id: Number(ids.group2), status: "resolved", finalizedJobs: 2, output: await p.redundancy!.confirmedOutput(ids.group2) });
    expect((await q.job(String(ids.a))).group).to.equal(undefined);
    expect((await q.job(String(ids.g1[0]))).timeline.map((e) => e.name)).to.include.members(["GroupRequested", "GroupConfirmed"]);

    // The pool: its in, out and balance agree with the manager's pool().
    const view = await q.audits();
    expect(view.enabled).to.equal(true);
    expect(view.pool!.balance.wei, "pool balance").to.equal((await manager.pool()).toString());
    expect(view.pool!.rewards.wei).to.equal(settledA!.args.reward.toString());
    expect(view.pool!.penalties.wei).to.equal(
      (await manager.queryFilter(manager.filters.AuditMissed(), 0)).reduce((t, e) => t + e.args.penalty, 0n).toString(),
    );
    expect(view.pool!.uncollected.wei, "collected after the last finalization").to.equal("0");
    expect(view.audits.map((x) => x.job).sort()).to.deep.equal(
      (await manager.queryFilter(manager.filters.AuditCommitted(), 0)).map((e) => Number(e.args.jobId)).sort(),
    );
    expect(view.groups.map((g) => g.id)).to.deep.equal([Number(ids.group2), Number(ids.group1)]);

    // The auditor's page: its audits and outcomes, its reward credited and withdrawn.
    const acc = q.account(auditorA);
    expect(acc.roles).to.include("auditor");
    const passed = acc.audits.find((x) => x.job === Number(ids.a))!;
    expect(passed).to.deep.include({ status: "passed", settled: true });
    expect(acc.credits.audits.wei).to.equal(settledA!.args.reward.toString());
    const missedByA = missedC.filter((e) => e.args.auditor.toLowerCase() === auditorA).length;
    expect(acc.missedAudits.filter((m) => m.job === Number(ids.c)).length).to.equal(missedByA);
    db.close();
  });

  it("an index of schema 2 (without these events) is dropped and rebuilt from the chain", async function () {
    const dir = await mkdtemp(join(tmpdir(), "veritensor-explorer-audits-"));
    try {
      const file = join(dir, "old.sqlite");
      let db = ExplorerDb.open(file);
      await new Indexer({ protocol: p, db }).sync();
      db.setMeta("schema", "2");
      db.close();
      db = ExplorerDb.open(file);
      expect(db.cursor()).to.equal(undefined);
      expect(Number(db.get("SELECT COUNT(*) AS n FROM events")!.n)).to.equal(0);
      await new Indexer({ protocol: p, db }).sync();
      expect(Number(db.get("SELECT group_id FROM jobs WHERE job_id = ?", ids.g1[0]!)!.group_id)).to.equal(Number(ids.group1));
      expect(Number(db.get("SELECT COUNT(*) AS n FROM events WHERE source = 'audits'")!.n)).to.be.greaterThan(0);
      db.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("the server and a browser: the job page's audit line and fee split, the game a mismatch opened, the group, the audits page", async function () {
    if (!haveChromium()) {
      if (browserRequired()) throw new Error("CI=true and chromium is missing: .ci/run installs it");
      this.skip();
    }
    const explorer = await startExplorer({ protocol: p, root: hre.config.paths.root, db: ":memory:", port: 0, confirmations: 1, pollMs: 200, log: () => {} });
    const chromium = await launchChromium();
    try {
      // The JSON API, as the app reads it.
      const api = (await (await fetch(`${explorer.url}api/audits`)).json()) as { pool: { balance: { wei: string } } };
      expect(api.pool.balance.wei).to.equal((await manager.pool()).toString());
      expect((await fetch(`${explorer.url}audits`)).status).to.equal(200);

      const page = await chromium.context.newPage();
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(e.message));
      await loadPage(page, `${explorer.url}jobs/${ids.a}`);
      const [, auditFee] = await p.jobManager.feeSplit((await getJob(p, ids.a)).terms);
      expect(await page.locator('[data-field="fee-split"]').innerText()).to.contain(`audit pool ${formatVtn(auditFee)}`);
      const line = page.locator('[data-field="audit"]');
      expect(await line.getAttribute("data-audit-status")).to.equal("passed");
      expect(await line.innerText()).to.match(/audited by 0x[0-9a-f]{8}…[0-9a-f]{4}.* in slot \d: passed; settled: reward /);

      await loadPage(page, `${explorer.url}jobs/${ids.b}`);
      const [gameB] = await p.disputes.gamesOf(ids.b);
      expect(await page.locator('[data-field="audit"]').getAttribute("data-audit-status")).to.equal("mismatch");
      await page.locator(`[data-field="audit"] a[href="/disputes/${gameB!.toLowerCase()}"]`).click();
      await page.waitForSelector('[data-loaded] h1:has-text("Dispute")');

      await loadPage(page, `${explorer.url}jobs/${ids.g1[0]}`);
      expect(await page.locator('[data-field="group-status"]').innerText()).to.contain("confirmed early");
      expect(await page.locator("[data-group-job]").count()).to.equal(2);
      for (const id of ids.g1) {
        const worker = (await getJob(p, id)).worker.toLowerCase();
        expect(await page.locator(`[data-group-job="${id}"] a.addr span.mono`).first().getAttribute("title")).to.equal(worker);
      }

      await loadPage(page, `${explorer.url}audits`);
      expect(await page.locator('[data-field="pool-balance"]').innerText()).to.contain(formatVtn(await manager.pool()));
      expect(await page.locator("[data-list=audits] [data-audit]").count()).to.equal((await manager.queryFilter(manager.filters.AuditCommitted(), 0)).length);
      expect(await page.locator(`[data-list=missed] [data-missed="${ids.c}"]`).count()).to.be.greaterThan(0);
      expect(await page.locator("[data-group]").count()).to.equal(2);

      await loadPage(page, `${explorer.url}accounts/${auditorA}`);
      expect(await page.locator(`[data-list=audits] [data-audit="${ids.a}"]`).innerText()).to.contain("passed");
      expect(errors).to.deep.equal([]);
    } finally {
      await chromium.close();
      await explorer.stop();
    }
  });
});
