/**
 * The `sub` tasks on an in-process network of their own: a SignalFeed subscribes to a small model
 * for three runs; `sub list` and `sub show` say where it stands, `sub trigger` triggers a due run
 * (and refuses one already triggered), a run skipped by a late keeper and a run nobody served show
 * in `sub show` with their fate, `sub settle` returns the failed run's fee, `sub withdraw` pays the
 * keeper's rewards. Each action module runs with a runtime whose network is this file's connection.
 */
import { expect } from "chai";
import hre, { network } from "hardhat";
import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import type { Protocol, RunRecord, SubscriptionInfo, TriggerResult } from "../../offchain/cli/index.js";
import { addStake, claimJob, deployProtocol, expireJob, finalizeJob, intsToBytes, jobTerms, registerModel, submitResult } from "../../offchain/cli/index.js";
import { SignalFeed__factory } from "../../types/ethers-contracts/index.js";
import type { SignalFeed } from "../../types/ethers-contracts/index.js";
import { rejection } from "./helpers.js";

const connection = await network.create();
const { ethers, networkHelpers } = connection;
const signers = await ethers.getSigners();
const VTN = 10n ** 18n;
const PERIOD = 600n;

const scoped = Object.create(hre, {
  network: { value: Object.create(hre.network, { getOrCreate: { value: async () => connection } }) },
}) as HardhatRuntimeEnvironment;

type Action = (args: Record<string, unknown>, hre: HardhatRuntimeEnvironment) => Promise<unknown>;
/** Runs task `sub <name>` (its action module) with `args` on this file's network; returns its result and printed lines. */
async function sub<T>(name: string, args: Record<string, unknown>): Promise<{ result: T; text: string }> {
  expect(hre.tasks.getTask(["sub", name]).id).to.deep.equal(["sub", name]);
  const action = ((await import(`../../tasks/sub/${name}.js`)) as { default: Action }).default;
  const log = console.log;
  const lines: string[] = [];
  console.log = (...a: unknown[]) => void lines.push(a.join(" "));
  try {
    return { result: (await action(args, scoped)) as T, text: lines.join("\n") };
  } finally {
    console.log = log;
  }
}

describe("tasks: sub", function () {
  let p: Protocol;
  let feed: SignalFeed;
  let fee: bigint;
  const reward = VTN / 100n;

  before(async function () {
    p = (await deployProtocol(connection, "ignition")).protocol;
    const { modelId } = await registerModel(p, signers[1]!, {
      uri: "ipfs://tiny",
      contentHash: `0x${"11".repeat(32)}`,
      graphCommitment: `0x${"22".repeat(32)}`,
      inputShape: [1, 4],
      outputShape: [1, 2],
      inputScaleWad: VTN,
      outputScaleWad: VTN / 8n,
      price: VTN / 10n,
      contributors: [],
    });
    await addStake(p, signers[2]!, 500n * VTN, { serveModels: [modelId] });
    feed = await new SignalFeed__factory(signers[3]!).deploy(p.addresses.subscriptions, modelId, signers[3]!.address);
    await feed.waitForDeployment();
    await (await p.token.connect(signers[3]!).transfer(await feed.getAddress(), 10n * VTN)).wait();
    await (await feed.setFeatures(intsToBytes([1, 2, 3, 4]))).wait();
    fee = (await p.subscriptions.minimumFeePerRun(modelId, await feed.CALLBACK_GAS())) + VTN / 10n;
    await (await feed.subscribe(PERIOD, 3, fee, reward)).wait();
  });

  it("sub list: every subscription, and --due those with a run due now", async function () {
    const { result, text } = await sub<SubscriptionInfo[]>("list", { due: false });
    expect(result.map((s) => s.id)).to.deep.equal([1n]);
    expect(text).to.include(`#1  run due now  consumer ${await feed.getAddress()}  model 1  0/3 triggered, 0 skipped  balance `);
    expect((await sub<SubscriptionInfo[]>("list", { due: true })).result).to.have.length(1);
  });

  it("sub trigger: needs --from, triggers the due run, refuses it twice", async function () {
    expect(await rejection(() => sub("trigger", { id: "1", from: undefined }))).to.include("say which account acts with --from");
    const { result, text } = await sub<TriggerResult>("trigger", { id: "1", from: "4" });
    expect([result.run, result.jobId]).to.deep.equal([0n, 1n]);
    expect(text).to.include("Triggered run 0 of subscription 1: job 1");
    expect(text).to.include("`sub withdraw` pays it out");
    const again = await rejection(() => sub("trigger", { id: "1", from: "4" }));
    expect(again).to.match(/run 0 of subscription 1 was already triggered; run 1 is due at .* \(in (9|10) min/);
  });

  it("sub show: the schedule, where it stands, and each run's job and fate", async function () {
    await claimJob(p, signers[2]!, 1n);
    await submitResult(p, signers[2]!, 1n, intsToBytes([5, -3]));
    await networkHelpers.time.increase(Number((await p.jobManager.params()).challengeWindow) + 1);
    await finalizeJob(p, signers[2]!, 1n);
    const { result, text } = await sub<{ runs: RunRecord[] }>("show", { id: "1" });
    expect(result.runs.map((r) => r.fate)).to.deep.equal(["delivered"]);
    expect(text).to.match(/^Subscription 1: active$/m);
    expect(text).to.match(/^  schedule: +3 run\(s\) every 10 min, from .* to /m);
    expect(text).to.match(/^  runs: +1 triggered, 0 skipped, 2 remaining$/m);
    expect(text).to.match(/^  next due: +run 1, at .* \(in /m);
    expect(text).to.match(/^  balance: +.* \(pays 2 run\(s\) at /m);
    expect(text).to.match(/^  callback gas: +60,000 for the consumer \(each run's job asks [\d,]+ with the relay's own\)$/m);
    expect(text).to.match(/^  run 0: job 1, triggered in block \d+ by 0x[0-9a-fA-F]{40}, fee .*: delivered$/m);
    const [signal] = await feed.queryFilter(feed.filters.SignalUpdated(1n, 0n));
    expect(signal!.args.index).to.equal(0n); // 5 > -3
  });

  it("a late keeper skips a run; a run nobody serves is refunded and `sub settle` returns its fee", async function () {
    const start = (await p.subscriptions.getSubscription(1n)).start;
    await networkHelpers.time.increaseTo(start + 2n * PERIOD); // run 1's interval passed untriggered
    const { result, text } = await sub<TriggerResult>("trigger", { id: "1", from: "4" });
    expect([result.run, result.skipped]).to.deep.equal([2n, 1n]);
    expect(text).to.include("1 run(s) (their intervals passed untriggered; their funds stayed)");
    await networkHelpers.time.increaseTo((await jobTerms(p, result.jobId)).deadline + 1n);
    await expireJob(p, signers[0]!, result.jobId);
    let shown = (await sub<{ runs: RunRecord[] }>("show", { id: "1" })).text;
    expect(shown).to.match(/^Subscription 1: finished$/m);
    expect(shown).to.match(/^  runs: +2 triggered, 1 skipped, 0 remaining$/m);
    expect(shown).to.match(/^  run 2: job 2, .*\(1 skipped before it\), fee .*: failed: refunded, to settle$/m);
    const before = (await p.subscriptions.getSubscription(1n)).balance;
    const settled = await sub<{ refund: bigint }>("settle", { job: "2", from: "5" });
    expect(settled.result.refund).to.equal(fee);
    expect(settled.text).to.include("Settled run 2 of subscription 1 (job 2, Refunded)");
    expect((await p.subscriptions.getSubscription(1n)).balance).to.equal(before + fee);
    shown = (await sub<{ runs: RunRecord[] }>("show", { id: "1" })).text;
    expect(shown).to.match(/: settled back \(refunded\)$/m);
    // A finalized run has no fee to return, only what its workers' timeouts paid (none here), once.
    const collected = await sub<{ refund: bigint; slashes: bigint }>("settle", { job: "1", from: "5" });
    expect([collected.result.refund, collected.result.slashes]).to.deep.equal([0n, 0n]);
    expect(collected.text).to.include("Settled run 0 of subscription 1 (job 1, Finalized)");
    expect(await rejection(() => sub("settle", { job: "1", from: "5" }))).to.include(
      "run 0 of subscription 1 (job 1) was finalized (its result relayed) and its slashes collected: nothing to settle",
    );
  });

  it("sub withdraw pays the keeper its rewards; unknown ids are said so", async function () {
    const { result } = await sub<{ amount: bigint }>("withdraw", { from: "4" });
    expect(result.amount).to.equal(2n * reward);
    expect(await rejection(() => sub("withdraw", { from: "4" }))).to.include("has no balance to withdraw in the subscription manager");
    expect(await rejection(() => sub("show", { id: "9" }))).to.include("unknown subscription 9");
    expect(await rejection(() => sub("settle", { job: "77", from: "5" }))).to.include("job 77 is no run of a subscription");
  });
});
