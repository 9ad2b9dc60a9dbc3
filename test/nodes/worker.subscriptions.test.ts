/**
 * A worker keeps subscriptions (offchain/nodes/subscriptions.ts): it triggers each due run of a
 * subscription to a model it serves, then claims, runs, submits and finalizes the run's job like any
 * other, and the finalization relays the result to the subscriber. Here SignalFeed (the example of
 * docs/INTEGRATING.md) subscribes to the shipped MNIST CNN and a worker serves three runs end to end,
 * each on the digit the feed held when the run was triggered; the feed then cancels the rest of its
 * schedule and takes the unused funds back. A worker whose rule would not claim a run's job does not
 * trigger it, and a run triggered by another keeper first is said plainly.
 */
import { expect } from "chai";
import type { Signer } from "ethers";
import { getBytes, hexlify } from "ethers";

import { readSubscription, scheduleOf } from "../../offchain/cli/index.js";
import { canonicalBytes } from "../../offchain/commitments/tensor.js";
import { loadDigits } from "../../offchain/datasets/mnist.js";
import { openNodeContext } from "../../offchain/nodes/node.js";
import { SubscriptionKeeper } from "../../offchain/nodes/subscriptions.js";
import type { WorkerOptions } from "../../offchain/nodes/worker.js";
import { Worker } from "../../offchain/nodes/worker.js";
import type { SignalFeed } from "../../types/ethers-contracts/index.js";
import { SignalFeed__factory } from "../../types/ethers-contracts/index.js";
import type { InProcessChain } from "./inprocess.js";
import { digitInputs, inProcessChain } from "./inprocess.js";

const VTN = 10n ** 18n;
const PERIOD = 300n;

describe("nodes: the worker keeps subscriptions", function () {
  this.timeout(180_000);

  /** A SignalFeed owned by the chain's requester on the MNIST CNN, funded with 10 VTN. */
  async function feedOn(c: InProcessChain): Promise<SignalFeed> {
    const factory = new SignalFeed__factory(c.requester);
    const feed = await factory.deploy(c.p.addresses.subscriptions, c.modelId, await c.requester.getAddress());
    await feed.waitForDeployment();
    await (await c.p.token.connect(c.requester).transfer(await feed.getAddress(), 10n * VTN)).wait();
    return feed;
  }

  function worker(c: InProcessChain, lines: string[], o: Partial<WorkerOptions> = {}, signer: Signer = c.worker): Promise<Worker> {
    return Worker.create({ protocol: c.p, signer, db: ":memory:", cacheDir: "/tmp/veritensor-subscription-models", log: (l) => lines.push(l), pollMs: 0, ...o });
  }

  const time = (c: InProcessChain) => c.p.connection.networkHelpers.time;

  it("serves three runs end to end; the feed gets each result, then cancels and takes its unused funds back", async function () {
    const c = await inProcessChain();
    const feed = await feedOn(c);
    const next = digitInputs(41);
    const fee = (await c.p.subscriptions.minimumFeePerRun(c.modelId, await feed.CALLBACK_GAS())) + VTN / 5n;
    const reward = VTN / 100n;
    await (await feed.setFeatures(next())).wait();
    await (await feed.subscribe(PERIOD, 4, fee, reward)).wait();
    const id = await feed.subscriptionId();
    const start = (await readSubscription(c.p, id)).start;

    const lines: string[] = [];
    const w = await worker(c, lines);
    try {
      const inputs: string[] = [];
      for (let run = 0n; run < 3n; run++) {
        inputs.push(hexlify(await feedInput(feed)));
        await w.tick(); // triggers run `run`
        await w.tick(); // claims, runs and submits its job
        const job = (await c.p.subscriptions.queryFilter(c.p.subscriptions.filters.RunTriggered(id, run)))[0]!.args.jobId;
        expect((await c.p.jobManager.getJob(job)).status).to.equal(3n, lines.join("\n")); // Submitted
        // The job's input is the features the feed held at the trigger.
        const [requested] = await c.p.jobManager.queryFilter(c.p.jobManager.filters.JobRequested(job));
        expect(requested!.args.input).to.equal(inputs[Number(run)]);
        await (await feed.setFeatures(next())).wait(); // the next run's features
        await time(c).increase(Number((await c.p.jobManager.params()).challengeWindow) + 1);
        await w.tick(); // finalizes: the relay hands the feed the result
        expect((await c.p.jobManager.getJob(job)).status).to.equal(4n, lines.join("\n")); // Finalized
        const [signal] = await feed.queryFilter(feed.filters.SignalUpdated(id, run));
        expect(signal, `run ${run}: no signal\n${lines.join("\n")}`).to.not.equal(undefined);
        expect(signal!.args.jobId).to.equal(job);
        expect((await feed.latest()).run).to.equal(run);
        await time(c).increaseTo(start + (run + 1n) * PERIOD);
      }
      expect(lines.some((l) => l.includes(`subscription ${id}: run 0 triggered, job`)), lines.join("\n")).to.equal(true);
      expect(lines.some((l) => l.includes("callback delivered")), lines.join("\n")).to.equal(true);

      // Three results in: the feed stops its schedule and takes the fourth run's funds back.
      await (await feed.cancel(id)).wait();
      const owner = await c.requester.getAddress();
      const before = await c.p.token.balanceOf(owner);
      await (await feed.withdrawUnused(id, owner)).wait();
      expect((await c.p.token.balanceOf(owner)) - before).to.equal(fee + reward);
      const s = await readSubscription(c.p, id);
      expect(scheduleOf(s, BigInt(await time(c).latest()))).to.include({ done: 3n, skipped: 0n, cancelledRuns: 1n, remaining: 0n });
      expect(s.balance).to.equal(0n);
      // The worker took its keeper rewards out of the manager with its earnings.
      await w.tick();
      expect(await c.p.subscriptions.balanceOf(await c.worker.getAddress())).to.equal(0n);
      expect(lines.some((l) => l.includes("of keeper rewards from the subscription manager")), lines.join("\n")).to.equal(true);
    } finally {
      w.close();
    }
  });

  it("does not trigger a run its worker would not claim, and says plainly when another keeper was first", async function () {
    const c = await inProcessChain();
    const feed = await feedOn(c);
    const least = await c.p.subscriptions.minimumFeePerRun(c.modelId, await feed.CALLBACK_GAS());
    await (await feed.setFeatures(canonicalBytes(Int32Array.from(loadDigits("heldout").pixels[3]!)))).wait();
    await (await feed.subscribe(PERIOD, 2, least, 0n)).wait();
    const id = await feed.subscriptionId();

    // Its fee is below this worker's --min-fee: no trigger, and the reason, once.
    const picky: string[] = [];
    const w1 = await worker(c, picky, { minFee: least + 1n });
    try {
      await w1.tick();
      await w1.tick();
    } finally {
      w1.close();
    }
    expect(picky.filter((l) => l.includes(`subscription ${id}: run 0 is due; not triggering it: its fee per run`) && l.includes("below --min-fee")).length, picky.join("\n")).to.equal(1);
    expect((await readSubscription(c.p, id)).triggered).to.equal(0n);

    // The keeper alone, racing another keeper (the verifier's account): the other trigger lands
    // between this keeper's reading (the run is due) and its own transaction, which fails. That is
    // said plainly, as an ordinary line, not as a warning.
    const lines: string[] = [];
    const ctx = await openNodeContext("worker", { protocol: c.p, signer: c.worker, db: ":memory:", log: (l) => lines.push(l) });
    const chainNow = BigInt(await time(c).latest()) + 1n;
    // A store whose scan has reached the head: the keeper reads the subscriptions before it once.
    ctx.store.setMeta("cursor", String(await c.p.connection.ethers.provider.getBlockNumber()));
    const keeper = new SubscriptionKeeper({
      ctx,
      now: () => chainNow,
      headBlock: () => undefined,
      serves: async () => true,
      perform: async (_key, _label, fn) => {
        await (await c.p.subscriptions.connect(c.verifier).trigger(id)).wait();
        return fn();
      },
      rule: { maxCallbackGas: 500_000n },
      withdrawAt: null,
    });
    try {
      await keeper.tick();
    } finally {
      ctx.store.close();
    }
    expect(lines.some((l) => l.includes(`subscription ${id}: run 0 not triggered: another keeper triggered it first`)), lines.join("\n")).to.equal(true);
    expect(lines.filter((l) => l.includes("! ")), lines.join("\n")).to.deep.equal([]);
    const [run] = await c.p.subscriptions.queryFilter(c.p.subscriptions.filters.RunTriggered(id, 0n));
    expect(run!.args.keeper).to.equal(await c.verifier.getAddress());
  });
});

/** The input the feed would give now (its features), as the manager reads it. */
async function feedInput(feed: SignalFeed): Promise<Uint8Array> {
  return getBytes(await feed.subscriptionInput(await feed.subscriptionId(), 0n));
}
