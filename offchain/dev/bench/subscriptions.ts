/**
 * Gas of subscriptions (contracts/subscriptions/SubscriptionManager.sol), measured on the in-process
 * network against the real deployment (LocalProtocol through Ignition), with the example subscriber
 * of docs/INTEGRATING.md (contracts/examples/SignalFeed.sol): one run from trigger to relayed result
 * (trigger, claim, submit, finalizeWithCallback), with what runs inside other contracts' frames shown
 * apart (the consumer's input read by the trigger, the relay and the consumer's own callback in the
 * finalization), on a 784-element input (the MNIST shape, read from the feed's storage) and on a
 * 4-element one; and the rest of a subscription's life: create, fund, settle a failed run, withdraw.
 */
import type { ContractTransactionReceipt, Signer } from "ethers";
import { id } from "ethers";

import { SignalFeed__factory } from "../../../types/ethers-contracts/index.js";
import type { SignalFeed } from "../../../types/ethers-contracts/index.js";
import {
  addStake,
  claimJob,
  deployProtocol,
  expireJob,
  finalizeJob,
  intsToBytes,
  registerModel,
  send,
  sendTrigger,
  settleRun,
  submitResult,
  withdrawKeeperRewards,
} from "../../cli/index.js";
import type { BenchContext, BenchSection } from "./section.js";

const VTN = 10n ** 18n;
const fmt = (n: bigint | number): string => n.toLocaleString("en-US");
const ints = (n: number, seed: number): Uint8Array => intsToBytes(Array.from({ length: n }, (_, i) => ((i * 7 + seed) % 255) - 127));

interface Row {
  readonly tx: string;
  readonly when: string;
  readonly gas: bigint;
}

/** One run from trigger to relayed result, with the frames of other contracts inside it. */
interface RunGas {
  readonly trigger: bigint;
  readonly claim: bigint;
  readonly submit: bigint;
  readonly finalize: bigint;
  /** The consumer's `subscriptionInput`, inside the trigger (a static call). */
  readonly input: bigint;
  /** The manager's `onInferenceResult` frame inside the finalization: the relay, the callback included. */
  readonly relay: bigint;
  /** The consumer's `onSubscriptionResult`, inside the relay. */
  readonly callback: bigint;
}

export interface SubscriptionGas {
  readonly rows: readonly Row[];
  /** Per input size: the first run (cold: the keeper's first reward, the feed's first signal) and a steady one. */
  readonly runs: readonly { readonly input: string; readonly first: RunGas; readonly steady: RunGas }[];
  readonly relayOverhead: bigint;
}

interface StructLog {
  readonly depth: number;
  readonly gas: number;
  readonly gasCost: number;
  readonly op: string;
  readonly stack?: string[];
}

/**
 * Gas used inside the frame that a CALL or STATICCALL at `depth` of transaction `hash` opened on
 * `callee`: what the frame was given minus what it returned, from the node's opcode trace.
 */
async function frameGas(provider: { send(method: string, params: unknown[]): Promise<unknown> }, hash: string, callee: string, depth: number): Promise<bigint> {
  const trace = (await provider.send("debug_traceTransaction", [hash, { disableStorage: true, disableMemory: true, disableStack: false }])) as {
    structLogs: StructLog[];
  };
  const logs = trace.structLogs;
  const target = BigInt(callee);
  for (let i = 0; i < logs.length - 1; i++) {
    const step = logs[i]!;
    if (step.depth !== depth || (step.op !== "CALL" && step.op !== "STATICCALL") || logs[i + 1]!.depth !== depth + 1) continue;
    const stack = step.stack ?? [];
    // CALL and STATICCALL both take (gas, address, …): the address is the stack's second word from the top.
    if (BigInt(stack[stack.length - 2] ?? "0x0") !== target) continue;
    const given = logs[i + 1]!.gas;
    let j = i + 1;
    while (j + 1 < logs.length && logs[j + 1]!.depth > depth) j++;
    const last = logs[j]!;
    return BigInt(given - (last.gas - last.gasCost));
  }
  throw new Error(`transaction ${hash} made no call to ${callee} at depth ${depth}`);
}

/** Deploys the protocol, a worker, and per input size a model and a SignalFeed; runs subscriptions and records the gas. */
export async function measureSubscriptionGas(ctx: BenchContext): Promise<SubscriptionGas> {
  const connection = await ctx.network.create({ network: "hardhat" });
  const time = connection.networkHelpers.time;
  const provider = connection.ethers.provider;
  const { protocol: p } = await deployProtocol(connection, "ignition");
  // One keeper per feed, so that each feed's first run is also its keeper's first reward (a new balance).
  const [, developer, worker, owner, keeper, keeper2] = (await connection.ethers.getSigners()) as Signer[];
  const rows: Row[] = [];
  const add = (tx: string, when: string, r: ContractTransactionReceipt) => rows.push({ tx, when, gas: r.gasUsed });
  const window = Number((await p.jobManager.params()).challengeWindow);
  await addStake(p, worker!, 5_000n * VTN);

  const model = async (label: string, input: number[], output: number[]) =>
    (
      await registerModel(p, developer!, {
        uri: `ipfs://bafy-${label}`,
        contentHash: id(`content:${label}`),
        graphCommitment: id(`graph:${label}`),
        inputShape: input,
        outputShape: output,
        inputScaleWad: VTN / 255n,
        outputScaleWad: VTN / 1000n,
        price: VTN / 10n,
        contributors: [],
      })
    ).modelId;

  /** A funded SignalFeed on `modelId`, owned by `owner`, with features set. */
  const feedOn = async (modelId: bigint, inputElements: number, label: string): Promise<SignalFeed> => {
    const feed = await new SignalFeed__factory(owner!).deploy(p.addresses.subscriptions, modelId, await owner!.getAddress());
    await feed.waitForDeployment();
    await send(p, "funding the feed", () => p.token.connect(owner!).transfer(feed.getAddress(), 100n * VTN));
    add("SignalFeed.setFeatures", `${label}: the model's input into the feed's storage`, await send(p, "setting features", () => feed.setFeatures(ints(inputElements, 1))));
    return feed;
  };

  /** One run of subscription `subId` of `feed`: trigger, claim, submit, finalize; with the frames. */
  const run = async (feed: SignalFeed, subId: bigint, outputElements: number, seed: number, by: Signer): Promise<RunGas> => {
    const t = await sendTrigger(p, by, subId);
    const input = await frameGas(provider, t.receipt.hash, await feed.getAddress(), 1);
    const c = await claimJob(p, worker!, t.jobId);
    const s = await submitResult(p, worker!, t.jobId, ints(outputElements, seed));
    await time.increase(window + 1);
    const f = await finalizeJob(p, worker!, t.jobId);
    if (f.callback?.status !== "delivered") throw new Error(`the relay of job ${t.jobId} was ${f.callback?.status}`);
    const relay = await frameGas(provider, f.receipt.hash, p.addresses.subscriptions, 1);
    const callback = await frameGas(provider, f.receipt.hash, await feed.getAddress(), 2);
    return { trigger: t.receipt.gasUsed, claim: c.receipt.gasUsed, submit: s.receipt.gasUsed, finalize: f.receipt.gasUsed, input, relay, callback };
  };

  const period = 3600n;
  const runs: SubscriptionGas["runs"][number][] = [];
  for (const [label, inputElements, inputShape, by] of [
    ["784-element input (MNIST 1×1×28×28)", 784, [1, 1, 28, 28], keeper!],
    ["4-element input", 4, [1, 4], keeper2!],
  ] as const) {
    const modelId = await model(label, [...inputShape], [1, 10]);
    const feed = await feedOn(modelId, inputElements, label);
    const fee = (await p.subscriptions.minimumFeePerRun(modelId, await feed.CALLBACK_GAS())) + VTN / 5n;
    const created = await send(p, "subscribing", () => feed.subscribe(period, 10, fee, VTN / 100n));
    add("SignalFeed.subscribe", `${label}: approve + createSubscription (10 runs paid at once) + the feed's record`, created);
    const subId = await feed.subscriptionId();
    const first = await run(feed, subId, 10, 3, by);
    await time.increase(Number(period));
    const steady = await run(feed, subId, 10, 4, by);
    runs.push({ input: label, first, steady });
    for (const [when, g] of [["first run", first], ["steady run", steady]] as const) {
      add("trigger", `${label}, ${when}: input read (${fmt(g.input)} of it), request`, { gasUsed: g.trigger } as ContractTransactionReceipt);
      add("finalizeWithCallback", `${label}, ${when}: relay (${fmt(g.relay)}) with SignalFeed's callback (${fmt(g.callback)})`, {
        gasUsed: g.finalize,
      } as ContractTransactionReceipt);
    }
  }

  // The rest of a subscription's life, on the small model's feed.
  const smallModel = await model("small-life", [1, 4], [1, 10]);
  const feed = await feedOn(smallModel, 4, "4-element input");
  const fee = (await p.subscriptions.minimumFeePerRun(smallModel, await feed.CALLBACK_GAS())) + VTN / 5n;
  await send(p, "subscribing", () => feed.subscribe(period, 3, fee, VTN / 100n));
  const subId = await feed.subscriptionId();
  add("SignalFeed.fund", "approve + fund (top-up)", await send(p, "funding", () => feed.fund(subId, VTN)));
  add("SignalFeed.setFeePerRun", "the manager checks the least fee (a registry and an escrow read)", await send(p, "setting the fee", () => feed.setFeePerRun(subId, fee + 1n)));
  const failed = await sendTrigger(p, keeper!, subId);
  const terms = await p.jobManager.queryFilter(p.jobManager.filters.JobRequested(failed.jobId));
  await time.increaseTo(terms[0]!.args.terms.deadline + 1n);
  await expireJob(p, keeper!, failed.jobId);
  add("settleRun", "a refunded run's fee back into the subscription (its escrow balance withdrawn)", (await settleRun(p, keeper!, failed.jobId)).receipt);
  add("SignalFeed.cancel", "cancelSubscription", await send(p, "cancelling", () => feed.cancel(subId)));
  add(
    "SignalFeed.withdrawUnused",
    "the balance read, withdrawFunds (manager → feed), then feed → owner",
    await send(p, "withdrawing", () => feed.withdrawUnused(subId, owner!.getAddress())),
  );
  add("withdraw (keeper rewards)", "a keeper takes its rewards from the manager", (await withdrawKeeperRewards(p, keeper!)).receipt);

  return { rows, runs, relayOverhead: await p.subscriptions.RELAY_OVERHEAD() };
}

export function subscriptionMarkdown(m: SubscriptionGas): string {
  const total = (g: RunGas) => g.trigger + g.claim + g.submit + g.finalize;
  const runRow = (label: string, when: string, g: RunGas) =>
    `| ${label}, ${when} | ${fmt(g.trigger)} | ${fmt(g.claim)} | ${fmt(g.submit)} | ${fmt(g.finalize)} | **${fmt(total(g))}** | ${fmt(g.input)} | ${fmt(g.relay - g.callback)} | ${fmt(g.callback)} | ${fmt(total(g) - g.callback)} |`;
  const lines = [
    "One subscription run from trigger to relayed result, measured on the in-process network against the Ignition",
    "deployment (`LocalProtocol`), with the example subscriber `SignalFeed` (contracts/examples/SignalFeed.sol) on a",
    "model with ten outputs. Gas is each transaction's total (`gasUsed`); the frames of other contracts inside a",
    "transaction come from the node's opcode trace.",
    "",
    "### One run (trigger + claim + submit + finalizeWithCallback)",
    "",
    "| input, run | trigger | claim | submit | finalizeWithCallback | total | of the trigger: the input read | of the finalization: the relay's own | the consumer's callback | total without the callback |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ...m.runs.flatMap((r) => [runRow(r.input, "first run", r.first), runRow(r.input, "steady run", r.steady)]),
    "",
    "- **The trigger** replaces a consumer's request (`DigitOracle.ask` in the gas section's consumer job): the manager reads the",
    "  subscription (three slots), the model's sizes, and the consumer's input in a static call (for the MNIST shape,",
    "  the feed's 98 storage slots of features at 2,100 gas each: most of the difference between the input sizes), requests",
    "  the job with the input inline, pays the keeper its reward (a new pull balance on a keeper's first run) and records",
    "  the run (one new slot). A consumer with a large input can keep it where it is cheaper to read (the code of a data",
    "  contract costs 3 gas a word to copy, against 2,100 a storage slot).",
    "- The first run's finalization also writes slots that later runs only update (the feed's signal, the worker's balance,",
    "  the model's accruals).",
    "- **Claim and submit** are an ordinary consumer job's.",
    `- **The finalization** runs the relay inside the escrow's callback: the manager's own part (its run record, the`,
    `  consumer's address, the call, the event) is the "relay's own" column; each run's job asks for the consumer's`,
    `  callback gas, its 1/63 margin and \`RELAY_OVERHEAD\` (${fmt(m.relayOverhead)}) on top, paid to the finalizer as the callback fee.`,
    "- A subscription paid once is not cheaper per run than asking each time: it replaces the owner's transaction with",
    "  a keeper's (and its reward), and moves the input into the consumer's storage. What it buys is the schedule: no",
    "  owner online, runs that cannot be replayed late, and unused funds back.",
    "",
    "### Every transaction",
    "",
    "| transaction | case | gas |",
    "|---|---|---:|",
    ...m.rows.map((r) => `| ${r.tx} | ${r.when} | ${fmt(r.gas)} |`),
  ];
  return lines.join("\n");
}

export const subscriptionsSection: BenchSection = {
  id: "subscriptions",
  title: "Gas of subscriptions",
  async run(ctx: BenchContext): Promise<string> {
    return subscriptionMarkdown(await measureSubscriptionGas(ctx));
  },
};
