/**
 * The end-to-end demo on the in-process network: deploy the protocol, register the shipped
 * MNIST classifier, stake a worker, request a batch of digits, let the worker claim, run the
 * canonical model with its trace commitment and submit, wait out the challenge window,
 * finalize and withdraw everyone's earnings. Every step prints what happened.
 *
 * The worker here is driven in-process by the same client functions as the tasks; the
 * verifier and the dispute game are not part of the demo yet (see the README's status).
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";

import type { NetworkConnection } from "hardhat/types/network";
import type { ContractTransactionReceipt, Signer } from "ethers";

import {
  addStake,
  bytesToInts,
  claimJob,
  deployProtocol,
  distributeModelEarnings,
  faucet,
  finalizeJob,
  formatBps,
  formatVtn,
  jobDetails,
  minimumFee,
  modelFileFacts,
  registerModel,
  requestInference,
  submitResult,
  withdrawBalance,
} from "../clients/index.js";
import type { Protocol } from "../clients/index.js";
import { argmax, quantizeInput } from "../convert/evaluate.js";
import { loadDigits, toFloat } from "../convert/mnist.js";
import { canonicalBytes } from "../commitments/tensor.js";
import { loadCanonicalModel, runWithTrace } from "../runtime/inference.js";

export interface DemoOptions {
  /** Number of digits to classify. */
  readonly jobs: number;
  /** Where models/ lives (the project root). */
  readonly root: string;
  readonly ignitionDir: string;
  readonly log?: (line: string) => void;
}

export interface DemoSummary {
  readonly jobs: number;
  readonly correct: number;
  readonly gasByStep: ReadonlyMap<string, bigint>;
  readonly earnings: ReadonlyMap<string, bigint>;
}

const MODEL_FILE = "models/mnist-cnn.canonical.onnx";
const PRICE = 10n ** 17n; // 0.1 VTN per inference to the model
const WORKER_PAY = 2n * 10n ** 17n; // 0.2 VTN on top, for the worker
const STAKE = 1_000n * 10n ** 18n;

export async function runDemo(connection: NetworkConnection, o: DemoOptions): Promise<DemoSummary> {
  const log = o.log ?? ((line: string) => console.log(line));
  const gas = new Map<string, bigint>();
  const tally = (step: string, r: ContractTransactionReceipt | undefined): void => {
    if (r) gas.set(step, (gas.get(step) ?? 0n) + r.gasUsed);
  };
  const step = (n: number, text: string): void => log(`\n[${n}/7] ${text}`);

  step(1, "Deploying the protocol (Ignition, LocalProtocol) on the in-process chain");
  const { protocol: p } = await deployProtocol(connection, o.ignitionDir);
  const [, developer, contributor, worker, requester] = (await connection.ethers.getSigners()) as Signer[];
  const names = new Map<string, string>();
  for (const [name, s] of [["developer", developer], ["data contributor", contributor], ["worker", worker], ["requester", requester]] as const) {
    names.set(name, await s!.getAddress());
  }
  const params = await p.jobManager.params();
  log(`      token ${p.addresses.token}, escrow ${p.addresses.jobManager}`);
  log(`      challenge window ${params.challengeWindow} s, protocol fee ${formatBps(params.protocolFeeBps)} of each job's fee`);

  step(2, `Registering the MNIST CNN (${MODEL_FILE}) with a 90/10 developer/contributor split`);
  const facts = await modelFileFacts(join(o.root, MODEL_FILE));
  const registered = await registerModel(p, developer!, {
    ...facts,
    price: PRICE,
    contributors: [{ account: names.get("data contributor")!, bps: 1000 }],
  });
  tally("register model", registered.receipt);
  const modelId = registered.modelId;
  log(`      model ${modelId}: sha256 ${facts.contentHash.slice(0, 18)}…, graph ${facts.graphCommitment.slice(0, 18)}…, ${facts.layers} layers`);

  step(3, `The worker stakes ${formatVtn(STAKE)} and declares it serves model ${modelId}`);
  await ensureTokens(p, names.get("worker")!, STAKE);
  const staked = await addStake(p, worker!, STAKE, { serveModels: [modelId] });
  tally("stake", staked.receipt);

  const bytes = await readFile(join(o.root, MODEL_FILE));
  const model = loadCanonicalModel(bytes);
  const digits = loadDigits("heldout");
  const picks = Array.from({ length: o.jobs }, (_, i) => Math.floor((i * digits.labels.length) / o.jobs) + 7);

  step(4, `The requester asks for ${o.jobs} held-out digits (fee = minimum for the price + worker pay)`);
  // The minimum fee leaves exactly the model price after the protocol fee; the rest pays the worker.
  const fee = minimumFee(PRICE, params.protocolFeeBps) + WORKER_PAY;
  await ensureTokens(p, names.get("requester")!, fee * BigInt(o.jobs));
  const jobs: { id: bigint; label: number }[] = [];
  for (const i of picks) {
    const input = canonicalBytes(quantizeInput(model, toFloat(digits.pixels[i]!)));
    const r = await requestInference(p, requester!, { modelId, input, fee, deadlineIn: 3600 });
    tally("request", r.receipt);
    jobs.push({ id: r.jobId, label: digits.labels[i]! });
    log(`      job ${r.jobId}: image of a ${digits.labels[i]}, fee ${formatVtn(fee)} escrowed`);
  }

  step(5, "The worker claims each job, runs the canonical model with its trace, and submits");
  const predictions = new Map<bigint, number>();
  for (const job of jobs) {
    const claimed = await claimJob(p, worker!, job.id);
    tally("claim", claimed.receipt);
    const details = await p.jobManager.getJob(job.id);
    const { input } = await jobDetails(p, job.id);
    if (input === undefined) throw new Error(`job ${job.id} has no inline input`);
    const result = await runWithTrace(model, bytesToInts(input));
    const submitted = await submitResult(p, worker!, job.id, canonicalBytes(result.output), result.traceRoot);
    tally("submit", submitted.receipt);
    const digit = argmax(result.output);
    predictions.set(job.id, digit);
    log(
      `      job ${job.id}: locked ${formatVtn(details.lockedStake)}, answered ${digit} ` +
        `(${result.timings.inferenceMs.toFixed(1)} ms inference + ${result.timings.commitMs.toFixed(1)} ms commitments), ` +
        `trace ${result.traceRoot.slice(0, 14)}…`,
    );
  }

  step(6, `Waiting out the ${params.challengeWindow} s challenge window, then finalizing`);
  await connection.networkHelpers.time.increase(Number(params.challengeWindow) + 1);
  for (const job of jobs) {
    const f = await finalizeJob(p, requester!, job.id);
    tally("finalize", f.receipt);
  }
  log(`      ${jobs.length} jobs finalized: fees credited to worker and treasury, model revenue accrued to model ${modelId}`);

  step(7, "The model's earnings are split among developer and contributor; everyone withdraws");
  const distributed = await distributeModelEarnings(p, requester!, modelId);
  tally("distribute model earnings", distributed.receipt);
  log(`      ${formatVtn(distributed.amount)} of model revenue credited to ${distributed.credits.length} payees`);
  const earnings = new Map<string, bigint>();
  for (const name of ["worker", "developer", "data contributor"]) {
    const signer = { worker, developer, "data contributor": contributor }[name]!;
    const w = await withdrawBalance(p, signer!);
    tally("withdraw", w.receipt);
    earnings.set(name, w.amount);
  }
  const treasury = await p.jobManager.balanceOf(params.treasury);
  earnings.set("treasury (held for governance)", treasury);

  const correct = jobs.filter((j) => predictions.get(j.id) === j.label).length;
  log("\nSummary");
  log(`  jobs             ${jobs.length} requested, ${jobs.length} finalized, ${correct} answered correctly`);
  for (const job of jobs) log(`    job ${job.id}: label ${job.label}, answer ${predictions.get(job.id)}`);
  log("  earnings");
  for (const [who, amount] of earnings) log(`    ${who.padEnd(32)} ${formatVtn(amount)}`);
  log("  gas (all transactions of each kind)");
  for (const [what, used] of gas) log(`    ${what.padEnd(32)} ${used.toLocaleString("en-US")}`);
  log("  not shown yet: verifiers re-running results and the dispute game (tracked as separate work)");
  return { jobs: jobs.length, correct, gasByStep: gas, earnings };
}

/** Tops `account` up from the local faucet (the deployer's test tokens) when it holds too little. */
async function ensureTokens(p: Protocol, account: string, amount: bigint): Promise<void> {
  const balance = await p.token.balanceOf(account);
  if (balance < amount) await faucet(p, account, amount - balance);
}
