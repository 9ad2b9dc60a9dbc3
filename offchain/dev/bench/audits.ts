/**
 * Audits end to end (issue 18): honest workers on LocalAssignedProtocol (a worker roster and an
 * audit manager) on an in-process chain mined every second, serving MNIST CNN jobs. Each worker
 * audits the results drawn for it. Reported: the gas of an audit as the auditors' receipts give it
 * (commit, reveal, settle; the transactions' base cost included), and the share of jobs audited
 * against the rate the manager computes for them (its floor and the safety rule, on the job's terms).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

import type { Signer } from "ethers";

import { JobStatus, addStake, auditManagerOf, auditOf, deployProtocol, getJob, modelFileFacts, registerModel, requestInference } from "../../cli/index.js";
import { canonicalBytes } from "../../commitments/tensor.js";
import { quantizeInput } from "../../convert/evaluate.js";
import { loadDigits, toFloat } from "../../datasets/mnist.js";
import { parseCanonicalModel } from "../../model/canonical.js";
import { NodeStore } from "../../nodes/store.js";
import { Worker } from "../../nodes/worker.js";
import type { BenchContext, BenchSection } from "./section.js";
import { readFile } from "node:fs/promises";

const VTN = 10n ** 18n;
const MODEL_FILE = "models/mnist-cnn.canonical.onnx";
const JOBS = 60;
const EPOCH_BLOCKS = 20;
const STAKES = [2_000n, 2_000n, 2_000n].map((s) => s * VTN);

interface AuditRun {
  readonly jobs: number;
  readonly drawn: number;
  readonly audited: number;
  readonly rateBps: bigint;
  readonly gas: { commit: bigint[]; reveal: bigint[]; settle: bigint[] };
  readonly seconds: number;
}

async function run(ctx: BenchContext, root: string): Promise<AuditRun> {
  const conn = await ctx.network.create({ network: "hardhat", override: { initialDate: new Date() } });
  const parameters = { Assignment: { epochBlocks: EPOCH_BLOCKS, slotBlocks: 4, drawnSlots: 3 }, Jobs: { challengeWindow: 40 } };
  const { protocol: p } = await deployProtocol(conn, join(root, "ignition"), { assignment: true, parameters });
  const manager = await auditManagerOf(p);
  if (manager === undefined) throw new Error("LocalAssignedProtocol has no audit manager");
  const signers = (await conn.ethers.getSigners()) as Signer[];
  const [deployer, developer, requester] = [signers[0]!, signers[1]!, signers[3]!];
  await (await p.token.connect(deployer).approve(await manager.getAddress(), 100n * VTN)).wait();
  await (await manager.connect(deployer).fund(100n * VTN)).wait();
  const modelFile = join(root, MODEL_FILE);
  const facts = await modelFileFacts(modelFile);
  const model = parseCanonicalModel(await readFile(modelFile));
  const { modelId } = await registerModel(p, developer, { ...facts, price: VTN / 10n, contributors: [] });
  const dir = await mkdtemp(join(tmpdir(), "veritensor-bench-audits-"));
  const workers: Worker[] = [];
  try {
    for (const [i, stake] of STAKES.entries()) {
      const signer = signers[6 + i]!;
      await (await p.token.connect(deployer).transfer(await signer.getAddress(), stake + 50n * VTN)).wait();
      await addStake(p, signer, stake, { serveModels: [modelId] });
      workers.push(
        await Worker.create({
          protocol: p,
          signer,
          db: join(dir, `worker${i}.sqlite`),
          cacheDir: join(dir, "models"),
          log: () => {},
          pollMs: 100,
          models: [modelId],
          withdrawAt: null,
          keepSubscriptions: false,
        }),
      );
    }
    for (const w of workers) await w.tick();
    const fee = (await p.jobManager.minimumFee(VTN / 10n)) + VTN / 5n;
    await (await p.token.connect(requester).approve(p.addresses.jobManager, fee * BigInt(JOBS))).wait();
    const digits = loadDigits("heldout");
    const jobs: bigint[] = [];
    for (let i = 0; i < JOBS; i++) {
      const input = canonicalBytes(quantizeInput(model, toFloat(digits.pixels[(i * 29) % digits.labels.length]!)));
      jobs.push((await requestInference(p, requester, { modelId, input, fee, deadlineIn: 3600 })).jobId);
    }
    const rateBps = await manager.auditRate((await getJob(p, jobs[0]!)).terms);
    const head = await conn.ethers.provider.getBlockNumber();
    const target = (Math.floor(head / EPOCH_BLOCKS) + 1) * EPOCH_BLOCKS;
    await conn.provider.request({ method: "hardhat_mine", params: [`0x${(target - head).toString(16)}`] });
    await conn.provider.request({ method: "evm_setAutomine", params: [false] });
    await conn.provider.request({ method: "evm_setIntervalMining", params: [1000] });
    const stop = new AbortController();
    const running = workers.map((w) => w.run(stop.signal));
    const started = Date.now();
    try {
      for (;;) {
        const statuses = await Promise.all(jobs.map(async (id) => (await p.jobManager.getJob(id)).status));
        const audits = await Promise.all(jobs.map((id) => auditOf(p, id)));
        const open = audits.filter((a) => a.status !== 0n && !a.settled).length;
        if (statuses.every((s) => s === JobStatus.Finalized) && open === 0) break;
        if (Date.now() - started > 400_000) throw new Error(`audits bench: jobs not all finalized and audits settled after 400 s`);
        ctx.log(`    ${statuses.filter((s) => s === JobStatus.Finalized).length}/${JOBS} finalized, ${open} audits open`);
        await new Promise((resolve) => setTimeout(resolve, 5_000));
      }
    } finally {
      stop.abort();
      await Promise.allSettled(running);
    }
    const seconds = (Date.now() - started) / 1000;
    const audited = (await Promise.all(jobs.map((id) => auditOf(p, id)))).filter((a) => a.status !== 0n).length;
    // Drawn for audit (readable while the seed hash is, 256 blocks), whether or not a drawn auditor committed.
    const drawn = (await Promise.all(jobs.map(async (id) => (await manager.auditDraw(id, (await getJob(p, id)).terms)).audited))).filter(Boolean).length;
    const gas = { commit: [] as bigint[], reveal: [] as bigint[], settle: [] as bigint[] };
    for (const [k] of workers.entries()) {
      // The node closed its store when it stopped: its journal is read back from the file.
      const store = NodeStore.open(join(dir, `worker${k}.sqlite`));
      for (const i of store.db.prepare("SELECT key, gas_used FROM intents WHERE state = 'done' AND key LIKE 'audit-%'").all() as { key: string; gas_used: string | null }[]) {
        if (i.gas_used === null) continue;
        const kind = i.key.split(":")[0]!.slice("audit-".length) as keyof typeof gas;
        gas[kind]?.push(BigInt(i.gas_used));
      }
      store.close();
    }
    return { jobs: JOBS, drawn, audited, rateBps, gas, seconds };
  } finally {
    for (const w of workers) w.close();
    await rm(dir, { recursive: true, force: true });
  }
}

const mean = (v: readonly bigint[]): number => (v.length === 0 ? NaN : Number(v.reduce((a, b) => a + b, 0n)) / v.length);
const fmt = (n: number): string => (Number.isNaN(n) ? "–" : Math.round(n).toLocaleString("en-US"));

export const auditsSection: BenchSection = {
  id: "audits",
  title: "Audits",
  async run(ctx) {
    const r = await run(ctx, process.cwd());
    const commit = mean(r.gas.commit);
    const reveal = mean(r.gas.reveal);
    const settle = mean(r.gas.settle);
    const share = r.audited / r.jobs;
    // A binomial standard deviation of the share at the configured rate.
    const p = Number(r.rateBps) / 10_000;
    const sd = Math.sqrt((p * (1 - p)) / r.jobs);
    return [
      `${r.jobs} MNIST CNN jobs served by 3 honest workers of equal stake on LocalAssignedProtocol (an in-process chain`,
      `mined every second, challenge window 40 s, audit slots of 6 blocks), each worker auditing the results drawn for it. The gas is the`,
      `receipts' \`gasUsed\` of the auditors' own transactions (the base cost included), ${r.gas.commit.length} audits.`,
      "",
      "| what | value |",
      "|---|---:|",
      `| jobs drawn for audit | ${r.drawn} of ${r.jobs} (${((r.drawn / r.jobs) * 100).toFixed(1)}%) |`,
      `| jobs audited (a drawn auditor committed in its slot) | ${r.audited} of ${r.jobs} (${(share * 100).toFixed(1)}%) |`,
      `| configured rate for these jobs (\`auditRate\`: floor and safety rule) | ${(p * 100).toFixed(2)}% (± ${(sd * 100).toFixed(1)} points at ${r.jobs} jobs) |`,
      `| gas: commitAudit (mean) | ${fmt(commit)} |`,
      `| gas: revealAudit (mean) | ${fmt(reveal)} |`,
      `| gas: settleAudit (mean) | ${fmt(settle)} |`,
      `| gas per audit (commit + reveal + settle) | ${fmt(commit + reveal + settle)} |`,
      `| wall time (from the first block to the last settlement) | ${r.seconds.toFixed(0)} s |`,
    ].join("\n");
  },
};
