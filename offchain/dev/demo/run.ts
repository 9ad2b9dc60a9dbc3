/**
 * The end-to-end demo on the in-process network: deploy the protocol, register the shipped MNIST
 * classifier, stake an honest worker, a cheating worker and a verifier, request a batch of digits,
 * and let the three nodes (offchain/nodes/worker.ts, offchain/nodes/verifier.ts: the same classes the `worker` and
 * `verifier` tasks run) do their work tick by tick. The honest results are finalized and paid; the
 * cheat is caught, disputed move by move, and slashed. The demo advances the chain's clock past
 * each challenge window so the whole run takes seconds. It ends with a summary: jobs, results,
 * disputes and their moves, gas, and balances before and after.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

import type { NetworkConnection } from "hardhat/types/network";
import type { ContractTransactionReceipt, Signer } from "ethers";

import {
  JobStatus,
  addStake,
  deployProtocol,
  distributeModelEarnings,
  faucet,
  formatBps,
  formatVtn,
  modelFileFacts,
  registerModel,
  requestInference,
  withdrawBalance,
} from "../../cli/index.js";
import type { Protocol } from "../../cli/index.js";
import { canonicalBytes } from "../../commitments/tensor.js";
import { argmax, quantizeInput } from "../../convert/evaluate.js";
import { loadDigits, toFloat } from "../../datasets/mnist.js";
import { parseCanonicalModel } from "../../model/canonical.js";
import { readFile } from "node:fs/promises";
import { short } from "../../nodes/log.js";
import type { ProtocolNode } from "../../nodes/node.js";
import { intsOf } from "../../runtime/trace.js";
import { Verifier } from "../../nodes/verifier.js";
import { Worker } from "../../nodes/worker.js";

export interface DemoOptions {
  /** Number of digits to classify. */
  readonly jobs: number;
  /** How many of them the cheating worker claims (default 1). */
  readonly cheats?: number;
  /** Where models/ lives (the project root). */
  readonly root: string;
  readonly ignitionDir: string;
  readonly log?: (line: string) => void;
}

export interface DemoJob {
  readonly id: bigint;
  readonly label: number;
  readonly worker: "honest" | "cheater" | "-";
  readonly answer?: number;
  readonly status: string;
}

export interface DemoDispute {
  readonly jobId: bigint;
  readonly game: string;
  readonly winner: "worker" | "verifier";
  readonly workerMoves: number;
  readonly verifierMoves: number;
  readonly gas: bigint;
}

export interface DemoSummary {
  readonly jobs: number;
  readonly correct: number;
  readonly finalized: number;
  readonly rejected: number;
  readonly jobList: readonly DemoJob[];
  readonly disputes: readonly DemoDispute[];
  readonly gasByStep: ReadonlyMap<string, bigint>;
  readonly balances: ReadonlyMap<string, { before: bigint; after: bigint }>;
  readonly earnings: ReadonlyMap<string, bigint>;
  readonly seconds: number;
  /** The demo went as designed: every cheat rejected after a dispute the verifier won (its stake slashed), every honest job finalized with the right answer. */
  readonly asDesigned: boolean;
  /** The deployment the demo ran on (still there: `--explorer` shows it). */
  readonly protocol: Protocol;
  /** The actors' addresses (lower case) and their names in the demo. */
  readonly labels: ReadonlyMap<string, string>;
}

const MODEL_FILE = "models/mnist-cnn.canonical.onnx";
const PRICE = 10n ** 17n; // 0.1 VTN per inference to the model
const WORKER_PAY = 2n * 10n ** 17n; // 0.2 VTN on top, for the worker
const STAKE = 1_000n * 10n ** 18n;
const VERIFIER_STAKE = 200n * 10n ** 18n;

export async function runDemo(connection: NetworkConnection, o: DemoOptions): Promise<DemoSummary> {
  const started = Date.now();
  const log = o.log ?? ((line: string) => console.log(line));
  const cheats = Math.min(o.cheats ?? 1, o.jobs);
  const gas = new Map<string, bigint>();
  const tally = (step: string, r: ContractTransactionReceipt | undefined): void => {
    if (r) gas.set(step, (gas.get(step) ?? 0n) + r.gasUsed);
  };
  const STEPS = 7;
  const step = (n: number, text: string): void => log(`\n[${n}/${STEPS}] ${text}`);

  step(1, "Deploying the protocol (Ignition, LocalProtocol) on the in-process chain");
  const { protocol: p } = await deployProtocol(connection, o.ignitionDir);
  const signers = (await connection.ethers.getSigners()) as Signer[];
  const [, developer, worker, requester, contributor, cheater, verifier] = signers;
  const actors = new Map<string, Signer>([
    ["developer", developer!],
    ["data contributor", contributor!],
    ["honest worker", worker!],
    ["cheating worker", cheater!],
    ["verifier", verifier!],
    ["requester", requester!],
  ]);
  const params = await p.jobManager.params();
  const dparams = await p.disputes.params();
  log(`      escrow ${p.addresses.jobManager}, dispute factory ${p.addresses.disputeFactory}`);
  log(
    `      challenge window ${params.challengeWindow} s, protocol fee ${formatBps(params.protocolFeeBps)}, ` +
      `dispute bond ${formatVtn(dparams.challengeBond)}, ${dparams.moveTimeout} s per move`,
  );

  step(2, `Registering the MNIST CNN (${MODEL_FILE}) with a 90/10 developer/contributor split`);
  const facts = await modelFileFacts(join(o.root, MODEL_FILE));
  const registered = await registerModel(p, developer!, {
    ...facts,
    price: PRICE,
    contributors: [{ account: await contributor!.getAddress(), bps: 1000 }],
  });
  tally("register model", registered.receipt);
  const modelId = registered.modelId;
  log(`      model ${modelId}: ${facts.uri}`);
  log(`      sha256 ${short(facts.contentHash)}, graph commitment ${short(facts.graphCommitment)}, ${facts.layers} layers`);

  step(3, `Staking: honest worker and cheating worker ${formatVtn(STAKE)} each (serving model ${modelId}), verifier ${formatVtn(VERIFIER_STAKE)}`);
  for (const [who, amount, serve] of [
    [worker!, STAKE, true],
    [cheater!, STAKE, true],
    [verifier!, VERIFIER_STAKE, false],
  ] as const) {
    await ensureTokens(p, await who.getAddress(), amount + 100n * 10n ** 18n);
    const r = await addStake(p, who, amount, { serveModels: serve ? [modelId] : [] });
    tally("stake", r.receipt);
  }
  const balancesBefore = await balances(p, actors);

  const dir = await mkdtemp(join(tmpdir(), "veritensor-demo-"));
  const common = { protocol: p, root: o.root, cacheDir: join(dir, "models"), log, pollMs: 0 };
  const honestNode = await Worker.create({ ...common, signer: worker!, db: ":memory:", name: "worker" });
  const cheatNode = await Worker.create({ ...common, signer: cheater!, db: ":memory:", name: "cheater", cheat: {}, maxJobs: cheats });
  const verifierNode = await Verifier.create({ ...common, signer: verifier!, db: ":memory:", name: "verifier" });
  const nodes: ProtocolNode[] = [cheatNode, honestNode, verifierNode];

  const model = parseCanonicalModel(await readFile(join(o.root, MODEL_FILE)));
  const digits = loadDigits("heldout");
  const picks = Array.from({ length: o.jobs }, (_, i) => Math.floor((i * digits.labels.length) / o.jobs) + 7);

  step(4, `The requester asks for ${o.jobs} held-out digits (fee = minimum for the price + ${formatVtn(WORKER_PAY)} for the worker)`);
  const fee = (await p.jobManager.minimumFee(PRICE)) + WORKER_PAY;
  await ensureTokens(p, await requester!.getAddress(), fee * BigInt(o.jobs));
  const labels = new Map<bigint, number>();
  for (const i of picks) {
    const input = canonicalBytes(quantizeInput(model, toFloat(digits.pixels[i]!)));
    const r = await requestInference(p, requester!, { modelId, input, fee, deadlineIn: 3600 });
    tally("request", r.receipt);
    labels.set(r.jobId, digits.labels[i]!);
    log(`      job ${r.jobId}: an image of the digit ${digits.labels[i]}, fee ${formatVtn(fee)} escrowed`);
  }

  step(5, `The nodes run: the cheating worker takes ${cheats} job(s), the honest worker the rest, the verifier re-runs every result`);
  const jobIds = [...labels.keys()];
  const settled = async () => {
    for (const id of jobIds) {
      const s = (await p.jobManager.getJob(id)).status;
      if (s !== JobStatus.Finalized && s !== JobStatus.Rejected) return false;
    }
    return true;
  };
  let advanced = 0;
  for (let round = 0; round < 2000; round++) {
    for (const n of nodes) await n.tick();
    if ((await settled()) && verifierNode.store.disputesAt("playing").length === 0 && honestNode.store.disputesAt("playing").length === 0) {
      // One more pass so that every node sees the end and withdraws.
      for (const n of nodes) await n.tick();
      break;
    }
    const allChecked =
      verifierNode.store.jobsAt("seen", "pending").length === 0 &&
      honestNode.store.jobsAt("seen", "claimed", "computed").length + cheatNode.store.jobsAt("claimed", "computed").length === 0;
    const playing = verifierNode.store.disputesAt("playing").length + cheatNode.store.disputesAt("playing").length;
    if (allChecked && playing === 0 && advanced < 3) {
      advanced++;
      log(`      (the demo advances the chain's clock ${Number(params.challengeWindow) + 1} s, past the challenge windows)`);
      await connection.networkHelpers.time.increase(Number(params.challengeWindow) + 1);
    }
  }

  step(6, "Model earnings are split among developer and contributor, protocol fees go to the treasury; everyone withdraws");
  if ((await p.jobManager.modelEarnings(modelId)) > 0n || (await p.jobManager.protocolFees(modelId)) > 0n) {
    const distributed = await distributeModelEarnings(p, requester!, modelId);
    tally("distribute model earnings", distributed.receipt);
    log(
      `      ${formatVtn(distributed.amount)} of model revenue credited to its payees, ${formatVtn(distributed.protocolFees)} of protocol fees to the treasury`,
    );
  }
  const earnings = new Map<string, bigint>();
  for (const name of ["developer", "data contributor", "requester"]) {
    const s = actors.get(name)!;
    if ((await p.jobManager.balanceOf(await s.getAddress())) === 0n) continue;
    const w = await withdrawBalance(p, s);
    tally("withdraw", w.receipt);
    earnings.set(name, w.amount);
  }
  earnings.set("treasury (held for governance)", await p.jobManager.balanceOf(params.treasury));
  const balancesAfter = new Map(
    [...(await balances(p, actors))].map(([who, b]) => [who, { before: balancesBefore.get(who)!.before, after: b.after }] as const),
  );

  step(7, "Summary");
  const jobList: DemoJob[] = [];
  for (const id of jobIds) {
    const rec = await p.jobManager.getJob(id);
    const who = rec.worker.toLowerCase();
    const role = who === (await worker!.getAddress()).toLowerCase() ? "honest" : who === (await cheater!.getAddress()).toLowerCase() ? "cheater" : "-";
    const row = (role === "honest" ? honestNode : cheatNode).store.job(id);
    const answer = row?.output ? argmax(intsOf(row.output)) : undefined;
    jobList.push({ id, label: labels.get(id)!, worker: role, answer, status: rec.status === JobStatus.Finalized ? "finalized" : rec.status === JobStatus.Rejected ? "rejected" : String(rec.status) });
  }
  const disputes: DemoDispute[] = [];
  for (const d of verifierNode.store.allDisputes()) {
    const w = [honestNode, cheatNode].map((n) => n.store.dispute(d.game)).find((x) => x !== undefined);
    disputes.push({
      jobId: d.jobId,
      game: d.game,
      winner: d.status === "won" ? "verifier" : "worker",
      workerMoves: w?.moves ?? 0,
      verifierMoves: d.moves,
      gas: d.gas + (w?.gas ?? 0n),
    });
  }
  const nodeGas = new Map<string, bigint>();
  for (const [name, n] of [["worker", honestNode], ["cheater", cheatNode], ["verifier", verifierNode]] as const) {
    for (const [what, g] of n.store.gasByAction()) nodeGas.set(`${name}: ${what}`, (nodeGas.get(`${name}: ${what}`) ?? 0n) + g.gas);
  }
  for (const n of nodes) n.close();
  await rm(dir, { recursive: true, force: true });

  const correct = jobList.filter((j) => j.status === "finalized" && j.answer === j.label).length;
  const finalized = jobList.filter((j) => j.status === "finalized").length;
  const rejected = jobList.filter((j) => j.status === "rejected").length;
  log(`  jobs      ${jobList.length} requested: ${finalized} finalized (${correct} answered correctly), ${rejected} rejected`);
  for (const j of jobList) {
    log(`    job ${j.id}: a ${j.label}, ${j.worker} worker answered ${j.answer ?? "-"}, ${j.status}`);
  }
  log(`  disputes  ${disputes.length}`);
  for (const d of disputes) {
    log(
      `    job ${d.jobId}, game ${short(d.game)}: ${d.winner} won; worker ${d.workerMoves} move(s), verifier ${d.verifierMoves} (incl. opening), ${d.gas.toLocaleString("en-US")} gas`,
    );
  }
  log("  balances (wallet + stake), before the jobs -> after");
  for (const [who, b] of balancesAfter) {
    const before = b.before;
    const diff = b.after - before;
    log(`    ${who.padEnd(18)} ${formatVtn(before).padStart(16)} -> ${formatVtn(b.after).padStart(16)}  (${diff >= 0n ? "+" : "-"}${formatVtn(diff >= 0n ? diff : -diff)})`);
  }
  log(
    `    ${"treasury".padEnd(18)} ${formatVtn(earnings.get("treasury (held for governance)") ?? 0n)} of protocol fees credited to it in the escrow (the timelock withdraws it by a governance vote)`,
  );
  log("  gas (all transactions of each kind)");
  for (const [what, used] of [...gas, ...nodeGas]) log(`    ${what.padEnd(32)} ${used.toLocaleString("en-US")}`);
  const seconds = (Date.now() - started) / 1000;
  log(`  done in ${seconds.toFixed(1)} s of wall time`);
  // The last line says whether the network did its job; CI (.ci/run) checks for it.
  const cheatJobs = jobList.filter((j) => j.worker === "cheater");
  const slashed = balancesBefore.get("cheating worker")!.before - balancesAfter.get("cheating worker")!.after;
  const asDesigned =
    cheatJobs.length === cheats &&
    cheatJobs.every((j) => j.status === "rejected") &&
    disputes.length === cheats &&
    disputes.every((d) => d.winner === "verifier") &&
    slashed > 0n &&
    correct === jobList.length - cheats;
  log(
    asDesigned
      ? `result: the cheat was caught and slashed (${formatVtn(slashed)} of the cheating worker's stake); ${correct} honest job(s) finalized with the right answer`
      : `result: NOT as designed: ${rejected} job(s) rejected, ${disputes.filter((d) => d.winner === "verifier").length} dispute(s) won by the verifier, ${correct} of ${jobList.length - cheats} honest job(s) answered correctly`,
  );
  const merged = new Map([...gas, ...nodeGas]);
  const names = new Map<string, string>();
  for (const [name, s] of actors) names.set((await s.getAddress()).toLowerCase(), name);
  return { jobs: jobList.length, correct, finalized, rejected, jobList, disputes, gasByStep: merged, balances: balancesAfter, earnings, seconds, asDesigned, protocol: p, labels: names };
}

/** Wallet + staked tokens of each actor. */
async function balances(p: Protocol, actors: ReadonlyMap<string, Signer>): Promise<Map<string, { before: bigint; after: bigint }>> {
  const out = new Map<string, { before: bigint; after: bigint }>();
  for (const [name, s] of actors) {
    const a = await s.getAddress();
    const v = (await p.token.balanceOf(a)) + (await p.staking.stakeOf(a)).staked;
    out.set(name, { before: v, after: v });
  }
  return out;
}

/** Tops `account` up from the local faucet (the deployer's test tokens) when it holds too little. */
async function ensureTokens(p: Protocol, account: string, amount: bigint): Promise<void> {
  const balance = await p.token.balanceOf(account);
  if (balance < amount) await faucet(p, account, amount - balance);
}
