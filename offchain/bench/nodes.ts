/**
 * The worker node end to end (offchain/worker: the class the `worker` task runs), one worker on the
 * in-process chain with the shipped MNIST CNN, LocalProtocol deployed by Ignition, a file-backed
 * SQLite store: how many jobs per second it sustains from request to withdrawal, how long a job
 * takes from request to a result ready to finalize (submitted; the challenge window then runs), and
 * its CPU time per job against plain inference (onnxruntime without trace or chain).
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

import type { Signer } from "ethers";

import { JobStatus, addStake, deployProtocol, minimumFee, modelFileFacts, registerModel, requestInference } from "../clients/index.js";
import { canonicalBytes } from "../commitments/tensor.js";
import { quantizeInput } from "../convert/evaluate.js";
import { loadDigits, toFloat } from "../convert/mnist.js";
import { parseCanonicalModel } from "../model/canonical.js";
import { CanonicalRunner } from "../runtime/runner.js";
import { Worker } from "../worker/worker.js";
import type { BenchContext, BenchSection } from "./section.js";

const VTN = 10n ** 18n;
const MODEL_FILE = "models/mnist-cnn.canonical.onnx";
const BATCH = 40;
const LATENCY_RUNS = 10;

const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function bench(ctx: BenchContext): Promise<string> {
  const root = process.cwd();
  const conn = await ctx.network.create({ network: "hardhat" });
  const { protocol: p } = await deployProtocol(conn, join(root, "ignition"));
  const signers = (await conn.ethers.getSigners()) as Signer[];
  const [, developer, workerSigner, requester] = signers;
  const facts = await modelFileFacts(join(root, MODEL_FILE));
  const { modelId } = await registerModel(p, developer!, { ...facts, price: VTN / 10n, contributors: [] });
  await addStake(p, workerSigner!, 5_000n * VTN, { serveModels: [modelId] });
  const params = await p.jobManager.params();
  const fee = minimumFee(VTN / 10n, params.protocolFeeBps) + VTN / 5n;

  const model = parseCanonicalModel(await readFile(join(root, MODEL_FILE)));
  const digits = loadDigits("heldout");
  const inputs = Array.from({ length: BATCH + LATENCY_RUNS }, (_, i) => canonicalBytes(quantizeInput(model, toFloat(digits.pixels[i * 13]!))));

  const dir = await mkdtemp(join(tmpdir(), "veritensor-bench-nodes-"));
  const worker = await Worker.create({
    protocol: p,
    signer: workerSigner!,
    db: join(dir, "worker.sqlite"),
    cacheDir: join(dir, "models"),
    log: () => {},
    pollMs: 0,
  });
  const request = async (input: Uint8Array) => (await requestInference(p, requester!, { modelId, input, fee, deadlineIn: 3600 })).jobId;
  const statusOf = async (id: bigint) => (await p.jobManager.getJob(id)).status;

  // Warm up: model fetch, hash check, onnxruntime session, one job through.
  await request(inputs[0]!);
  for (let i = 0; i < 3; i++) await worker.tick();

  // Latency: one job at a time, from the request to its result on chain (ready for the window).
  ctx.log(`  latency: ${LATENCY_RUNS} jobs one at a time`);
  const latencies: number[] = [];
  const ticksPer: number[] = [];
  for (let i = 0; i < LATENCY_RUNS; i++) {
    const t0 = performance.now();
    const id = await request(inputs[BATCH + i]!);
    let ticks = 0;
    while ((await statusOf(id)) !== JobStatus.Submitted) {
      await worker.tick();
      ticks++;
    }
    latencies.push(performance.now() - t0);
    ticksPer.push(ticks);
  }

  // Throughput: a batch requested up front, then the worker until every job is finalized and paid.
  ctx.log(`  throughput: a batch of ${BATCH} jobs`);
  await conn.networkHelpers.time.increase(Number(params.challengeWindow) + 1);
  for (let i = 0; i < 3; i++) await worker.tick(); // settle the latency jobs first
  const ids: bigint[] = [];
  for (let i = 0; i < BATCH; i++) ids.push(await request(inputs[i]!));
  const cpu0 = cpuMs();
  const t0 = performance.now();
  while (!(await Promise.all(ids.map(statusOf))).every((s) => s === JobStatus.Submitted)) await worker.tick();
  const submitMs = performance.now() - t0;
  const submitCpu = cpuMs() - cpu0;
  await conn.networkHelpers.time.increase(Number(params.challengeWindow) + 1);
  const t1 = performance.now();
  while (!(await Promise.all(ids.map(statusOf))).every((s) => s === JobStatus.Finalized)) await worker.tick();
  await worker.tick();
  const settleMs = performance.now() - t1;
  const totalCpu = cpuMs() - cpu0;
  const gas = worker.store.gasByAction();
  worker.close();
  await rm(dir, { recursive: true, force: true });

  // Plain inference: the same inputs through onnxruntime, no trace, no commitments, no chain.
  const runner = await CanonicalRunner.create(model);
  const ints = inputs.slice(0, BATCH).map((b) => new Int32Array(new Uint8Array(b).buffer));
  for (let i = 0; i < 5; i++) await runner.runPlain(ints[i]!);
  const c0 = cpuMs();
  const w0 = performance.now();
  for (const x of ints) await runner.runPlain(x);
  const plainCpu = (cpuMs() - c0) / BATCH;
  const plainWall = (performance.now() - w0) / BATCH;
  const c1 = cpuMs();
  for (const x of ints) await runner.runWithTrace(x);
  const traceCpu = (cpuMs() - c1) / BATCH;
  await runner.release();

  const perJobWall = (submitMs + settleMs) / BATCH;
  const fmt = (n: number, d = 1) => n.toFixed(d);
  const gasRows = [...gas].map(([what, g]) => `| ${what} | ${g.txs} | ${Math.round(Number(g.gas) / g.txs).toLocaleString("en-US")} |`);
  return [
    `One \`Worker\` (the class behind \`npx hardhat worker\`) on the in-process chain (EDR, automine), LocalProtocol`,
    `deployed by Ignition, the shipped MNIST CNN fetched by its \`file://\` URI and hash-checked, state in a file-backed`,
    `SQLite store (WAL, synchronous=FULL), every transaction through the write-ahead journal. The worker withdraws its`,
    `earnings whenever it has any. Single process, measured wall clock and \`process.cpuUsage()\`.`,
    "",
    "| measure | value |",
    "|---|---|",
    `| jobs per second, sustained (batch of ${BATCH}: claim, run, submit, finalize, withdraw; challenge window skipped by the clock) | **${fmt(BATCH / ((submitMs + settleMs) / 1000))}** |`,
    `| of which claim + run + submit | ${fmt(submitMs / BATCH)} ms per job |`,
    `| of which finalize + withdraw | ${fmt(settleMs / BATCH)} ms per job |`,
    `| request to result ready to finalize (submitted), one job at a time, median of ${LATENCY_RUNS} | **${fmt(median(latencies))} ms** (min ${fmt(Math.min(...latencies))}, max ${fmt(Math.max(...latencies))}; ${median(ticksPer)} worker pass(es)) |`,
    `| ... then the challenge window before it can be finalized | ${params.challengeWindow} s (LocalProtocol; 1 h in production) |`,
    `| worker CPU time per job, end to end (process total incl. the in-process chain) | ${fmt(totalCpu / BATCH)} ms |`,
    `| worker CPU time per job, claim + run + submit | ${fmt(submitCpu / BATCH)} ms |`,
    `| plain inference CPU time per job (onnxruntime, no trace, no chain) | ${fmt(plainCpu, 2)} ms (wall ${fmt(plainWall, 2)} ms) |`,
    `| inference with trace and commitments, CPU per job | ${fmt(traceCpu, 2)} ms |`,
    `| end-to-end CPU / plain inference CPU | ${fmt(totalCpu / BATCH / plainCpu, 0)}x |`,
    "",
    `Per job the chain work dominates: the CPU figures include the in-process EVM that executes every call and`,
    `transaction (${fmt(perJobWall)} ms of wall time per job in all). Gas per transaction the worker sent:`,
    "",
    "| transaction | count | gas each (mean) |",
    "|---|---|---|",
    ...gasRows,
  ].join("\n");
}

export const nodesSection: BenchSection = {
  id: "nodes",
  title: "Worker node: throughput, latency, CPU per job",
  run: bench,
};
