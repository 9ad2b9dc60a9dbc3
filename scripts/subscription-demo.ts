/**
 * docs/INTEGRATING.md, "Subscriptions": a consumer contract that pays once for a schedule, live.
 *
 *   npx hardhat run --network localhost scripts/subscription-demo.ts
 *
 * With the protocol deployed (`npx hardhat protocol deploy --network localhost`), a digit model
 * registered, and a worker serving it (the worker keeps subscriptions: it triggers their due runs),
 * it deploys `contracts/examples/SignalFeed.sol` owned by account 3, funds it from account 3, sets
 * its features to a held-out MNIST digit and subscribes to RUNS runs every PERIOD seconds, paid at
 * once. It then plays the owner while the worker serves the schedule:
 *   - after run 0 is triggered, the features become another digit (run 1 reads them);
 *   - after run 1 is triggered, the owner clears the features: the feed refuses run 2, which the
 *     keeper cannot trigger and which is skipped once its interval passes (its funds stay);
 *   - then the features become a third digit for run 3.
 * It waits for every result (each relayed to the feed's `onSubscriptionResult` when the worker
 * finalizes the run's job), prints each signal against the digit's label, takes the unused funds
 * back (`withdrawUnused`), and lists the subscription's events as an indexer sees them.
 *
 * Environment (all optional):
 *   MODEL=1        the model id (a 784-pixel input, ten scores out)
 *   FUND=2         VTN account 3 sends the feed first
 *   FEE=0.3        VTN each run's job pays (at least `minimumFeePerRun`, 0.19 VTN for a 0.1 VTN model)
 *   REWARD=0.01    VTN paid to whoever triggers each run
 *   PERIOD=30      seconds between runs
 *   DIGITS=7,2,1   the labels of the three digits the feed shows, in turn
 *   TIMEOUT=900    seconds to wait for the whole schedule
 */
import hre, { network } from "hardhat";
import { formatUnits } from "ethers";

import { connectProtocol, formatFields, formatGas, formatVtn, parseVtn, readSubscription, scheduleOf } from "../offchain/clients/index.js";
import { canonicalBytes } from "../offchain/commitments/tensor.js";
import { loadDigits } from "../offchain/datasets/mnist.js";
import { SignalFeed__factory } from "../types/ethers-contracts/index.js";

const conn = await network.getOrCreate();
const p = await connectProtocol(conn, hre.config.paths.ignition);
const owner = (await conn.ethers.getSigners())[3]!;
const modelId = BigInt(process.env.MODEL ?? "1");
const period = BigInt(process.env.PERIOD ?? "30");
const RUNS = 4;
const clock = () => new Date().toISOString().slice(11, 19);
const log = (line: string) => console.log(`${clock()} ${line}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const deadline = Date.now() + Number(process.env.TIMEOUT ?? "900") * 1000;

/** Polls `check` every second until it returns a value (fails after TIMEOUT). */
async function until<T>(what: string, check: () => Promise<T | undefined>): Promise<T> {
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: is a worker running for model ${modelId}?`);
    await sleep(1000);
  }
}

// Three held-out digits with the labels asked for.
const digits = loadDigits("heldout");
const labels = (process.env.DIGITS ?? "7,2,1").split(",").map(Number);
const images = labels.map((label) => {
  const i = digits.labels.indexOf(label);
  if (i < 0) throw new Error(`no held-out digit ${label}`);
  return { label, bytes: canonicalBytes(Int32Array.from(digits.pixels[i]!)) };
});

// 1. Deploy the feed, owned by account 3, and fund it.
const deployed = await new SignalFeed__factory(owner).deploy(p.addresses.subscriptions, modelId, owner.address);
const deployReceipt = await deployed.deploymentTransaction()!.wait();
const feed = SignalFeed__factory.connect(await deployed.getAddress(), owner);
const feedAddress = await feed.getAddress();
log(`deployed SignalFeed at ${feedAddress} (gas ${formatGas(deployReceipt!.gasUsed)})`);
const callbackGas = await feed.CALLBACK_GAS();
console.log(
  formatFields([
    ["  owner", await feed.owner()],
    ["  model", `${modelId} (input ${await feed.inputBytes()} bytes, ${await feed.outputElements()} outputs)`],
    ["  output scale", `${formatUnits(await feed.outputScaleWad(), 18)} (read from the registry at construction)`],
    ["  callback gas", `${callbackGas}`],
  ]),
);
const fund = parseVtn(process.env.FUND ?? "2", "FUND");
await (await p.token.connect(owner).transfer(feedAddress, fund)).wait();
log(`account 3 sent the feed ${formatVtn(fund)}`);

// 2. Quote and subscribe: RUNS runs every PERIOD seconds, paid at once.
const [price, , , outputElements] = await p.registry.pricing(modelId);
const least = await p.subscriptions.minimumFeePerRun(modelId, callbackGas);
const jobGas = await p.subscriptions.relayGas(callbackGas, outputElements);
const params = await p.jobManager.params();
const fee = parseVtn(process.env.FEE ?? "0.3", "FEE");
const reward = parseVtn(process.env.REWARD ?? "0.01", "REWARD");
console.log(
  formatFields([
    ["  model price", formatVtn(price)],
    ["  job callback gas", `${jobGas} (the feed's ${callbackGas}, its 1/63 and the relay's ${await p.subscriptions.RELAY_OVERHEAD()} and output words)`],
    ["  callback fee", `${formatVtn(jobGas * params.callbackFeePerGas)} (${jobGas} gas × ${params.callbackFeePerGas} wei)`],
    ["  least fee/run", `${formatVtn(least)} (minimumFeePerRun: price + callback fee after the ${params.protocolFeeBps} bps protocol fee)`],
    ["  fee per run", formatVtn(fee)],
    ["  keeper reward", formatVtn(reward)],
  ]),
);
await (await feed.setFeatures(images[0]!.bytes)).wait();
log(`features: a held-out ${images[0]!.label}`);
const subTx = await feed.subscribe(period, RUNS, fee, reward);
const subReceipt = await subTx.wait();
const id = await feed.subscriptionId();
const s0 = await readSubscription(p, id);
log(`subscribed: subscription ${id}, ${RUNS} runs every ${period} s, ${formatVtn(s0.balance)} paid at once (SignalFeed.subscribe, gas ${formatGas(subReceipt!.gasUsed)})`);
console.log(formatFields([["  feed balance", formatVtn(await p.token.balanceOf(feedAddress))]]));

// 3. Play the owner while the worker serves the schedule.
const triggered = async (run: bigint) => {
  const [e] = await p.subscriptions.queryFilter(p.subscriptions.filters.RunTriggered(id, run), subReceipt!.blockNumber);
  return e;
};
const announce = async (run: bigint) => {
  const e = await until(`run ${run} to be triggered`, () => triggered(run));
  log(`run ${run} triggered by ${e.args.keeper}: job ${e.args.jobId} (block ${e.blockNumber})`);
  return e.args.jobId;
};
const jobs = new Map<bigint, { jobId: bigint; label: number }>();
jobs.set(0n, { jobId: await announce(0n), label: images[0]!.label });
await (await feed.setFeatures(images[1]!.bytes)).wait();
log(`features: a held-out ${images[1]!.label}`);
jobs.set(1n, { jobId: await announce(1n), label: images[1]!.label });
await (await feed.clearFeatures()).wait();
log("features cleared: the feed refuses run 2 until new ones are set");
const start = s0.start;
await until("run 2's interval to pass", async () => {
  const head = await conn.ethers.provider.getBlock("latest");
  return BigInt(head!.timestamp) >= start + 3n * period ? true : undefined;
});
log(`run 2's interval is over (${await triggered(2n) ? "it was triggered" : "never triggered: skipped"})`);
await (await feed.setFeatures(images[2]!.bytes)).wait();
log(`features: a held-out ${images[2]!.label}`);
jobs.set(3n, { jobId: await announce(3n), label: images[2]!.label });

// 4. Every result, as the feed received it.
log("waiting for the results (each job's challenge window, then the worker's finalization relays it)…");
for (const [run, { jobId, label }] of jobs) {
  const e = await until(`the result of run ${run}`, async () => (await feed.queryFilter(feed.filters.SignalUpdated(id, run)))[0]);
  log(
    `run ${run} (job ${jobId}, a ${label}): SignalUpdated digit ${e.args.index}, value ${formatUnits(e.args.valueWad, 18)}` +
      `${e.args.newest ? "" : " (older than the signal: kept out of it)"} (block ${e.blockNumber})`,
  );
}
const latest = await feed.latest();
console.log(formatFields([["  latest signal", `subscription ${latest.subscriptionId}, run ${latest.run}: digit ${latest.index}, value ${formatUnits(latest.valueWad, 18)}`]]));

// 5. The schedule is over: where it stands, and the unused funds back.
const head = await conn.ethers.provider.getBlock("latest");
const s = await readSubscription(p, id);
const sched = scheduleOf(s, BigInt(head!.timestamp));
console.log(
  formatFields([
    ["  runs", `${sched.done} triggered, ${sched.skipped} skipped, ${sched.remaining} remaining`],
    ["  balance", `${formatVtn(s.balance)} (the skipped run's fee and keeper reward)`],
  ]),
);
const before = await p.token.balanceOf(owner.address);
const w = await (await feed.withdrawUnused(id, owner.address)).wait();
log(`withdrew the unused ${formatVtn((await p.token.balanceOf(owner.address)) - before)} to the owner (SignalFeed.withdrawUnused, gas ${formatGas(w!.gasUsed)})`);

// 6. What an indexer sees: the subscription's events on the manager, and the feed's.
log(`events of subscription ${id}:`);
const logs = await conn.ethers.provider.getLogs({ address: [p.addresses.subscriptions, feedAddress], fromBlock: subReceipt!.blockNumber });
for (const entry of logs) {
  const fromFeed = entry.address.toLowerCase() === feedAddress.toLowerCase();
  const event = (fromFeed ? feed : p.subscriptions).interface.parseLog(entry);
  // The manager's events of this subscription (not the keepers' withdrawals), and every one of the feed's.
  if (event === null || (!fromFeed && event.args.subscriptionId !== id)) continue;
  const args = event.fragment.inputs
    .filter((input) => input.name !== "subscriptionId")
    .map((input) => `${input.name}=${input.type.startsWith("bytes") ? `${String(event.args[input.name]).slice(0, 10)}…` : event.args[input.name]}`);
  console.log(`  block ${entry.blockNumber}  ${fromFeed ? "SignalFeed" : "SubscriptionManager"}.${event.name}(${args.join(", ")})`);
}
