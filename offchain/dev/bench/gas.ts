/**
 * Gas of every lifecycle transaction, measured on the in-process network against the real
 * deployment (LocalProtocol through Ignition) and driven by the same client functions as the
 * tasks. Storage warmth changes costs (a zero slot costs 20,000 gas to set, a non-zero one
 * 2,900), so first-time and steady-state cases are both measured.
 */
import type { ContractTransactionReceipt, Signer } from "ethers";
import { id } from "ethers";
import { readFile } from "node:fs/promises";
import { join } from "node:path";

import { DigitOracle__factory } from "../../../types/ethers-contracts/index.js";
import type { Protocol } from "../../cli/index.js";
import {
  addStake,
  claimJob,
  deployProtocol,
  distributeModelEarnings,
  expireJob,
  finalizeJob,
  quoteFee,
  intsToBytes,
  registerModel,
  requestInference,
  requestUnstake,
  send,
  submitResult,
  withdrawBalance,
  withdrawStake,
} from "../../cli/index.js";
import type { BenchContext, BenchSection } from "./section.js";

/**
 * Target of issue 11: request + claim + submit + finalize of one job without callback, in steady
 * state (it was 300,000 before the lazy trace).
 */
export const HAPPY_PATH_TARGET = 285_000n;
/**
 * Target of issue 14: a consumer job from request to callback (request through the consumer,
 * claim, submit, finalizeWithCallback), the callback's own gas excluded.
 */
export const CONSUMER_JOB_TARGET = 400_000n;
const VTN = 10n ** 18n;

interface Row {
  readonly tx: string;
  readonly when: string;
  readonly gas: bigint;
}

export const fmt = (n: bigint): string => n.toLocaleString("en-US");
/** `n` int32 elements from -127 to 127 (most bytes non-zero: dense calldata), varied by `seed`. */
export const ints = (n: number, seed: number): Buffer => intsToBytes(Array.from({ length: n }, (_, i) => ((i * 7 + seed) % 255) - 127));

export interface GasMeasurements {
  readonly rows: readonly Row[];
  readonly happyFirst: readonly Row[];
  readonly happySteady: readonly Row[];
  /** The consumer job: request (through DigitOracle), claim, submit, finalizeWithCallback (its table is left out without it). */
  readonly consumer?: readonly Row[];
  /** Gas the consumer's callback itself used (inside finalizeWithCallback). */
  readonly callbackGas?: bigint;
  /** What the contracts were compiled for and the hardfork the network ran them on (see {@link evmOf}). */
  readonly evm?: EvmFacts;
}

/**
 * The EVM behind the figures. The two can differ: solc compiles for the `evmVersion` of the build
 * (hardhat.config.ts), while the in-process network (EDR) runs its own hardfork, by default the
 * latest (a later one than the compile target: the opcodes are the target's, the gas schedule the
 * network's).
 */
export interface EvmFacts {
  /** The build's `evmVersion` (solc's default when the build names none). */
  readonly compiledFor: string;
  /** Optimizer runs of the build (undefined: optimizer off). */
  readonly optimizerRuns?: number;
  /** The hardfork the in-process network runs. */
  readonly runOn: string;
}

/**
 * The compile target and optimizer of the deployed escrow's build (from its artifact's build info,
 * under `artifactsDir`) and the hardfork of `networkConfig`.
 */
export async function evmOf(networkConfig: { type: string; hardfork?: string }, artifactsDir = "artifacts"): Promise<EvmFacts> {
  const artifact = JSON.parse(await readFile(join(artifactsDir, "contracts/jobs/JobManager.sol/JobManager.json"), "utf8")) as { buildInfoId: string };
  const info = JSON.parse(await readFile(join(artifactsDir, "build-info", `${artifact.buildInfoId}.json`), "utf8")) as {
    input: { settings: { evmVersion?: string; optimizer?: { enabled?: boolean; runs?: number } } };
  };
  const { evmVersion, optimizer } = info.input.settings;
  return {
    compiledFor: evmVersion ?? "solc's default",
    optimizerRuns: optimizer?.enabled === true ? (optimizer.runs ?? 200) : undefined,
    runOn: networkConfig.type === "edr-simulated" && networkConfig.hardfork !== undefined ? networkConfig.hardfork : "unknown",
  };
}

/** "(EDR running `osaka`; contracts compiled for `cancun`, optimizer 1000 runs)", or the plain label without facts. */
function evmLabel(evm: EvmFacts | undefined): string {
  if (evm === undefined) return "(EDR)";
  const optimizer = evm.optimizerRuns === undefined ? "optimizer off" : `optimizer ${evm.optimizerRuns} runs`;
  return `(EDR running the \`${evm.runOn}\` hardfork; contracts compiled for \`${evm.compiledFor}\`, ${optimizer})`;
}

interface StructLog {
  readonly depth: number;
  readonly gas: number;
  readonly gasCost: number;
  readonly op: string;
}

/**
 * Gas used inside the one call frame at depth 2 that transaction `hash` made to `callee` (the
 * consumer's callback): what it was given minus what it returned, from the node's opcode trace.
 */
async function calleeGas(provider: { send(method: string, params: unknown[]): Promise<unknown> }, hash: string, callee: string): Promise<bigint> {
  const trace = (await provider.send("debug_traceTransaction", [hash, { disableStorage: true, disableMemory: true, disableStack: false }])) as {
    structLogs: (StructLog & { stack?: string[] })[];
  };
  const logs = trace.structLogs;
  const target = BigInt(callee);
  for (let i = 0; i < logs.length - 1; i++) {
    const step = logs[i]!;
    // A CALL from the escrow (depth 1) whose next step runs at depth 2: its address is the stack's second word from the top.
    if (step.depth !== 1 || step.op !== "CALL" || logs[i + 1]!.depth !== 2) continue;
    const stack = step.stack ?? [];
    if (BigInt(stack[stack.length - 2] ?? "0x0") !== target) continue;
    const given = logs[i + 1]!.gas;
    let j = i + 1;
    while (j + 1 < logs.length && logs[j + 1]!.depth >= 2) j++;
    const last = logs[j]!;
    return BigInt(given - (last.gas - last.gasCost));
  }
  throw new Error(`transaction ${hash} made no call to ${callee}`);
}

/** Runs the whole lifecycle once and records the gas of each transaction. */
export async function measureGas(ctx: BenchContext): Promise<GasMeasurements> {
  const connection = await ctx.network.create({ network: "hardhat" });
  const time = connection.networkHelpers.time;
  const { protocol: p } = await deployProtocol(connection, "ignition");
  const [, developer, worker, requester, contributor] = (await connection.ethers.getSigners()) as Signer[];
  const rows: Row[] = [];
  const add = (tx: string, when: string, r: ContractTransactionReceipt | undefined) => {
    if (r) rows.push({ tx, when, gas: r.gasUsed });
  };
  const params = await p.jobManager.params();

  // Models.
  const contributors = [{ account: await contributor!.getAddress(), bps: 2000 }];
  const spec = (label: string, input: number[], output: number[]) => ({
    uri: `ipfs://bafy-${label}`,
    contentHash: id(`content:${label}`),
    graphCommitment: id(`graph:${label}`),
    inputShape: input,
    outputShape: output,
    // 1/255 and 1/1000: 18-decimal fixed point, as the registry holds scales.
    inputScaleWad: VTN / 255n,
    outputScaleWad: VTN / 1000n,
    price: VTN,
    contributors,
  });
  const small = await registerModel(p, developer!, spec("small", [1, 4], [1, 2]));
  add("register model", "first model (counter 0 → 1), 1 contributor", small.receipt);
  const mnist = await registerModel(p, developer!, spec("mnist", [1, 1, 28, 28], [1, 10]));
  add("register model", "next model, 1 contributor", mnist.receipt);

  // Stake.
  const staked = await addStake(p, worker!, 5_000n * VTN);
  add("approve (token)", "worker approves the staking contract", staked.approval);
  add("stake", "first stake of a worker", staked.receipt);
  add("stake", "top-up", (await addStake(p, worker!, 1_000n * VTN)).receipt);

  const deadlineIn = 3600;
  const smallInput = ints(4, 1);
  // The worker's pay is what the fee leaves above the minimum (the model price after the protocol fee).
  const jobFee = (await quoteFee(p, small.modelId)).minimum + VTN;
  const request = (modelId: bigint, input: Uint8Array) =>
    requestInference(p, requester!, { modelId, input, deadlineIn, fee: jobFee });

  // Job 1: the first job ever (cold counters, empty escrow balance).
  const r1 = await request(small.modelId, smallInput);
  add("approve (token)", "requester approves the job escrow", r1.approval);
  add("request", "first job, 4-element input", r1.receipt);
  const c1 = await claimJob(p, worker!, r1.jobId);
  add("claim", "first claim of the worker", c1.receipt);
  const s1 = await submitResult(p, worker!, r1.jobId, ints(2, 3));
  add("submit", "2-element output", s1.receipt);

  // Job 2 and the MNIST-sized job: steady state (while job 1 is still in its window).
  const r2 = await request(small.modelId, ints(4, 2));
  add("request", "steady state, 4-element input", r2.receipt);
  const c2 = await claimJob(p, worker!, r2.jobId);
  add("claim", "steady state (worker already has a lock)", c2.receipt);
  const s2 = await submitResult(p, worker!, r2.jobId, ints(2, 4));
  add("submit", "steady state, 2-element output", s2.receipt);
  const r3 = await request(mnist.modelId, ints(784, 5));
  add("request", "784-element input (MNIST 1×1×28×28, 3,136 bytes)", r3.receipt);
  const c3 = await claimJob(p, worker!, r3.jobId);
  const s3 = await submitResult(p, worker!, r3.jobId, ints(10, 6));
  add("submit", "10-element output (MNIST scores)", s3.receipt);

  await time.increase(Number(params.challengeWindow) + 1);
  const f1 = await finalizeJob(p, requester!, r1.jobId);
  add("finalize", "first payout: the worker's balance and the model's accruals (price and protocol fee) 0 → x", f1.receipt);
  const f2 = await finalizeJob(p, requester!, r2.jobId);
  add("finalize", "steady state: balances and the model's earnings already non-zero", f2.receipt);
  await finalizeJob(p, requester!, r3.jobId);

  // Callback: DigitOracle (owned by the requester, who asks) asks the MNIST model and receives the
  // digit. Its fee covers the callback fee of its 100,000 callback gas; the worker finalizes (it
  // pays the callback's gas and is credited the callback fee).
  const oracle = await new DigitOracle__factory(developer!).deploy(p.addresses.jobManager, mnist.modelId, await requester!.getAddress());
  await oracle.waitForDeployment();
  const oracleAddress = await oracle.getAddress();
  await send(p, "funding the oracle", () => p.token.connect(requester!).transfer(oracleAddress, 100n * VTN));
  const deadline = BigInt(await time.latest()) + 3600n;
  const callbackGasLimit = await oracle.CALLBACK_GAS();
  const consumerFee = (await quoteFee(p, mnist.modelId, callbackGasLimit)).minimum + VTN;
  const ask = await send(p, "asking the oracle", () => oracle.connect(requester!).ask(ints(784, 7), consumerFee, deadline));
  add("request (via consumer)", `DigitOracle.ask: approve + request, 784-element input, callback ${fmt(callbackGasLimit)} gas`, ask);
  const jobCb = await p.jobManager.jobCount();
  const cCb = await claimJob(p, worker!, jobCb);
  add("claim", "job with consumer", cCb.receipt);
  const sCb = await submitResult(p, worker!, jobCb, ints(10, 8));
  add("submit", "job with consumer, 10-element output (not stored: the finalizer passes it back)", sCb.receipt);
  await time.increase(Number(params.challengeWindow) + 1);
  const fCb = await finalizeJob(p, worker!, jobCb);
  const callbackGas = await calleeGas(connection.ethers.provider, fCb.receipt.hash, oracleAddress);
  add(
    "finalizeWithCallback",
    `by the worker, with the output bytes; callback ${fCb.callback?.status ?? "none"} (DigitOracle stores the digit and its real score, one slot: ${fmt(callbackGas)} of it)`,
    fCb.receipt,
  );

  // Model revenue: accrued per model at finalize, split among the payees on demand.
  add(
    "distribute model earnings",
    "first: 2 jobs accrued, treasury, developer and contributor balances 0 → x",
    (await distributeModelEarnings(p, requester!, mnist.modelId)).receipt,
  );
  add(
    "distribute model earnings",
    "steady: 2 jobs accrued, treasury, developer and contributor balances already non-zero",
    (await distributeModelEarnings(p, requester!, small.modelId)).receipt,
  );

  // Withdrawals.
  add("withdraw balance", "worker takes its earnings", (await withdrawBalance(p, worker!)).receipt);
  add("withdraw balance", "developer takes the model's distributed revenue", (await withdrawBalance(p, developer!)).receipt);

  // Expire paths.
  const open = await request(small.modelId, smallInput);
  await time.increase(deadlineIn + 1);
  add("expire", "open job past its deadline: refund", (await expireJob(p, requester!, open.jobId)).receipt);
  const late = await request(small.modelId, smallInput);
  await claimJob(p, worker!, late.jobId);
  await time.increase(Number(params.resultTimeout) + 1);
  add("expire", "worker late, deadline not passed: slash + reopen", (await expireJob(p, requester!, late.jobId)).receipt);
  await claimJob(p, worker!, late.jobId);
  await time.increase(deadlineIn + 1);
  add("expire", "worker late, deadline passed: slash + refund", (await expireJob(p, requester!, late.jobId)).receipt);

  // Unstake.
  add("unstake (request)", "start unbonding", (await requestUnstake(p, worker!, 1_000n * VTN)).receipt);
  await time.increase(Number(await p.staking.unbondingDelay()) + 1);
  add("unstake (withdraw)", "after the unbonding delay", (await withdrawStake(p, worker!)).receipt);

  return {
    rows,
    happyFirst: [r1.receipt, c1.receipt, s1.receipt, f1.receipt].map((r, i) => ({ tx: ["request", "claim", "submit", "finalize"][i]!, when: "first job", gas: r.gasUsed })),
    happySteady: [r2.receipt, c2.receipt, s2.receipt, f2.receipt].map((r, i) => ({ tx: ["request", "claim", "submit", "finalize"][i]!, when: "steady", gas: r.gasUsed })),
    consumer: [ask, cCb.receipt, sCb.receipt, fCb.receipt].map((r, i) => ({
      tx: ["request (DigitOracle.ask)", "claim", "submit", "finalizeWithCallback"][i]!,
      when: "consumer job",
      gas: r!.gasUsed,
    })),
    callbackGas,
    evm: await evmOf(connection.networkConfig),
  };
}

function verdict(total: bigint, target = HAPPY_PATH_TARGET): string {
  return total <= target
    ? `within the ${fmt(target)} target (${fmt(target - total)} to spare)`
    : `**over** the ${fmt(target)} target by ${fmt(total - target)}`;
}

/** The consumer job's table and what it shows. */
function consumerMarkdown(consumer: readonly Row[], callbackGas: bigint): string[] {
  const consumerTotal = consumer.reduce((s, r) => s + r.gas, 0n);
  return [
    "### A consumer job from request to callback (DigitOracle on the MNIST-shaped model)",
    "",
    "| request (DigitOracle.ask) | claim | submit | finalizeWithCallback | total | the callback itself | total without the callback | vs target |",
    "|---:|---:|---:|---:|---:|---:|---:|---|",
    `| ${consumer.map((r) => fmt(r.gas)).join(" | ")} | ${fmt(consumerTotal)} | ${fmt(callbackGas)} | **${fmt(consumerTotal - callbackGas)}** | ${verdict(consumerTotal - callbackGas, CONSUMER_JOB_TARGET)} |`,
    "",
    "The request goes through the consumer (`DigitOracle.ask`: the owner check, its approval of the fee, the escrow's",
    "request with a 784-element inline input and the consumer checks, its own record of the pending job, ≈ 39,000 more",
    "than the same request sent directly without consumer, of which 22,100 is the consumer's new `pending` slot). The",
    "output is not stored for the callback: the submission costs what a plain job's does (it cost 67,000 more when the",
    "output was stored), and `finalizeWithCallback` takes the 40 output bytes back as calldata, checks them against the",
    "job's result (one SHA-256) and passes them on. The worker finalizes: it pays the callback's gas and is credited the",
    "job's callback fee (100,000 gas × `callbackFeePerGas`) in the same credit as its own part (a third party finalizing",
    "is credited it separately: one more storage read, of the job's parameter version, and one more balance written and",
    "event). The callback itself is the gas used inside the consumer's frame (from the node's opcode trace): DigitOracle",
    "reads the ten scores, stores the digit and its real score in one new slot, emits its event and clears its `pending`",
    "record (whose refund lowers the finalization's total).",
    "",
  ];
}

export function gasMarkdown(m: GasMeasurements): string {
  const sum = (rs: readonly Row[]) => rs.reduce((s, r) => s + r.gas, 0n);
  const first = sum(m.happyFirst);
  const steady = sum(m.happySteady);
  const consumerLines = m.consumer && m.callbackGas !== undefined ? consumerMarkdown(m.consumer, m.callbackGas) : [];
  const dominant = [...m.happyFirst].sort((a, b) => Number(b.gas - a.gas))[0]!;
  const lines = [
    `Every transaction of a job's life, measured on the in-process network ${evmLabel(m.evm)}`,
    "against the Ignition deployment (`LocalProtocol`), sent by the same client functions as the tasks.",
    "Gas is the transaction's total (`gasUsed`, including the 21,000 base and calldata).",
    "",
    "### Happy path of one job without callback (request + claim + submit + finalize)",
    "",
    "| | request | claim | submit | finalize | total | vs target |",
    "|---|---:|---:|---:|---:|---:|---|",
    `| first job (cold storage) | ${m.happyFirst.map((r) => fmt(r.gas)).join(" | ")} | **${fmt(first)}** | (the target is for the steady state) |`,
    `| steady state | ${m.happySteady.map((r) => fmt(r.gas)).join(" | ")} | **${fmt(steady)}** | ${verdict(steady)} |`,
    "",
    `Largest share of the first job: ${dominant.tx} (${fmt(dominant.gas)}, ${Math.round((Number(dominant.gas) * 100) / Number(first))}%).`,
    "The requester's one-time `approve` of the fee is listed below and not counted (an allowance can cover many jobs).",
    "",
    "Where the steady-state gas goes: 4 × 21,000 transaction base cost; two new storage slots per job, both written",
    "by the request (status/timer/worker, and the hash of the job's terms, later of terms and output commitment: no",
    "trace root, which is posted only in a dispute) at 22,100 each;",
    "the fee's `transferFrom` (VTN is ERC20Votes: two balances, the allowance and both parties' delegates) ≈ 19,000;",
    "the stake lock and unlock in `Staking` (operator check, minimum stake, the staker's slot, an event each)",
    "≈ 26,000; one registry read at request ≈ 5,000; at finalize, the worker's balance and the model's accruals",
    "(its price and the protocol fee, one slot: the treasury is paid when the model's earnings are distributed)",
    "5,000 each; the terms passed back as calldata to claim, submit and finalize (12 words) and hashed, ≈ 3,000 each.",
    "A claim, a submission and a settlement only rewrite the job's slots (docs/PROTOCOL.md, \"Storage and gas\").",
    "",
    ...consumerLines,
    "### Every transaction",
    "",
    "| transaction | case | gas |",
    "|---|---|---:|",
    ...m.rows.map((r) => `| ${r.tx} | ${r.when} | ${fmt(r.gas)} |`),
  ];
  return lines.join("\n");
}

export const gasSection: BenchSection = {
  id: "gas",
  title: "Gas of the job lifecycle",
  async run(ctx: BenchContext): Promise<string> {
    return gasMarkdown(await measureGas(ctx));
  },
};

