/**
 * Subscriptions from TypeScript (issue 14, deliverable 5): the manager deployed with the protocol,
 * the SignalFeed example of docs/INTEGRATING.md doing what the guide says (pay once, each run reads
 * the features of its time, the signal follows, a refused run is skipped and its funds come back),
 * the events an indexer reads, and the clients (offchain/clients/subscriptions.ts) that the tasks
 * and the keeper use. The Solidity tests (test/solidity/Subscriptions.t.sol, the invariants) cover
 * hostile consumers and every token path in depth.
 */
import { anyValue } from "@nomicfoundation/hardhat-ethers-chai-matchers/withArgs";
import { expect } from "chai";
import type { BytesLike } from "ethers";
import { MaxUint256, ZeroAddress, getBytes } from "ethers";
import { network } from "hardhat";

import type { Protocol as Clients } from "../../offchain/cli/index.js";
import {
  RunState,
  attachProtocol,
  deployProtocol as deployWithIgnition,
  readSubscription,
  scheduleOf,
  settleRun,
  subscriptionRuns,
  triggerRun,
} from "../../offchain/cli/index.js";
import type { SignalFeed, SubscriptionManager, TestSubscriber } from "../../types/ethers-contracts/index.js";
import {
  OUTPUT_SCALE_WAD,
  SAMPLE_INPUT,
  Status,
  WAD,
  callbackArgs,
  claimJob,
  digitScores,
  endChallengeWindow,
  expectEscrowConserved,
  int32Bytes,
  protocolFixtures,
  sampleInput,
  submitJob,
  termsOf,
} from "./fixtures.js";
import type { Protocol } from "./fixtures.js";

const conn = await network.create();
const { ethers, networkHelpers } = conn;
const { deployProtocol } = protocolFixtures(conn);

const HOUR = 3600n;
const REWARD = WAD / 100n;

interface Fixture {
  p: Protocol;
  mgr: SubscriptionManager;
  feed: SignalFeed;
  c: Clients;
  /** The least fee per run for the feed's callback gas, plus 1 VTN for the worker. */
  fee: bigint;
}

/** The protocol, a manager on its escrow, a SignalFeed owned by the deployer and funded with 100 VTN. */
async function withFeed(): Promise<Fixture> {
  const p = await deployProtocol();
  const mgr = (await ethers.deployContract("SubscriptionManager", [await p.jm.getAddress()])) as unknown as SubscriptionManager;
  const feed = (await ethers.deployContract("SignalFeed", [await mgr.getAddress(), p.modelId, p.deployer.address])) as unknown as SignalFeed;
  await p.token.transfer(await feed.getAddress(), 100n * WAD);
  const address = (x: { getAddress(): Promise<string> }) => x.getAddress();
  const c = attachProtocol(conn, (await ethers.provider.getNetwork()).chainId, {
    token: await address(p.token),
    registry: await address(p.registry),
    staking: await address(p.staking),
    jobManager: await address(p.jm),
    timelock: ZeroAddress,
    governor: ZeroAddress,
    disputeFactory: ZeroAddress,
    subscriptions: await address(mgr),
  });
  const fee = (await mgr.minimumFeePerRun(p.modelId, await feed.CALLBACK_GAS())) + WAD;
  return { p, mgr, feed, c, fee };
}

const features = (seed: number) => int32Bytes(sampleInput(600, seed));

/** Serves job `jobId` with `scores` as its output and finalizes it (the relay runs inside). */
async function serve(p: Protocol, jobId: bigint, scores: number[]) {
  await claimJob(p, jobId);
  await submitJob(p, jobId, int32Bytes(scores));
}

async function finalize(p: Protocol, jobId: bigint) {
  await endChallengeWindow(p, jobId);
  return p.jm.connect(p.other).finalizeWithCallback(jobId, ...(await callbackArgs(p, jobId)));
}

/** The input bytes of job `jobId`, from its JobRequested. */
async function inputOf(p: Protocol, jobId: bigint): Promise<string> {
  const [e] = await p.jm.queryFilter(p.jm.filters.JobRequested(jobId), 0);
  return e!.args.input;
}

const same = (a: BytesLike, b: BytesLike) => expect(getBytes(a)).to.deep.equal(getBytes(b));

describe("SubscriptionManager", function () {
  this.timeout(120_000);

  it("is deployed with the protocol, on its escrow, token and registry, with no owner", async function () {
    const { protocol: c } = await deployWithIgnition(await network.create(), "ignition");
    const mgr = c.subscriptions;
    expect(await mgr.jobManager()).to.equal(c.addresses.jobManager);
    expect(await mgr.token()).to.equal(c.addresses.token);
    expect(await mgr.registry()).to.equal(c.addresses.registry);
    expect(mgr.interface.fragments.some((f) => f.type === "function" && "name" in f && ["owner", "transferOwnership"].includes(String(f.name)))).to.equal(false);
    expect(await c.token.allowance(c.addresses.subscriptions, c.addresses.jobManager)).to.equal(MaxUint256);
    expect(await mgr.subscriptionCount()).to.equal(0n);
  });

  describe("SignalFeed (docs/INTEGRATING.md)", function () {
    it("pays once for a schedule; each run reads the features of its time; a refused run is skipped and its funds come back", async function () {
      const { p, mgr, feed, c, fee } = await networkHelpers.loadFixture(withFeed);
      const [mgrAddress, feedAddress] = [await mgr.getAddress(), await feed.getAddress()];
      const cost = fee + REWARD;
      await feed.setFeatures(features(1));
      await expect(feed.subscribe(HOUR, 3, fee, REWARD))
        .to.emit(mgr, "SubscriptionCreated")
        .withArgs(1n, feedAddress, p.modelId, HOUR, 3n, anyValue, fee, REWARD, 60_000n)
        .and.to.emit(mgr, "SubscriptionFunded")
        .withArgs(1n, feedAddress, 3n * cost, 3n * cost)
        .and.to.emit(feed, "Subscribed")
        .withArgs(1n, HOUR, 3n, 3n * cost);
      expect(await feed.subscriptionId()).to.equal(1n);
      expect(await p.token.balanceOf(feedAddress)).to.equal(100n * WAD - 3n * cost);

      // Run 0: a keeper triggers it, with the feed's features as input.
      await expect(mgr.connect(p.worker2).trigger(1n))
        .to.emit(mgr, "RunTriggered")
        .withArgs(1n, 0n, 1n, p.worker2.address, fee, REWARD, 0n);
      const terms = await termsOf(p, 1n);
      expect([terms.requester, terms.consumer, terms.fee]).to.deep.equal([mgrAddress, mgrAddress, fee]);
      expect(terms.callbackGasLimit).to.equal(await mgr.relayGas(60_000n, 10n));
      same(await inputOf(p, 1n), features(1));
      await feed.setFeatures(features(2)); // after the trigger: run 0 keeps the features it read
      await serve(p, 1n, digitScores(3));
      await expect(finalize(p, 1n))
        .to.emit(feed, "SignalUpdated")
        .withArgs(1n, 0n, 1n, 3n, 1000n * OUTPUT_SCALE_WAD, true)
        .and.to.emit(mgr, "ResultRelayed")
        .withArgs(1n, 0n, 1n)
        .and.to.emit(p.jm, "CallbackDelivered");
      expect(await feed.latest()).to.deep.equal([1n, 0n, 3n, 1000n * OUTPUT_SCALE_WAD]);

      // Run 1 (the window took the hour): the new features.
      const second = await triggerRun(c, p.worker2, 1n);
      expect([second.run, second.jobId, second.skipped]).to.deep.equal([1n, 2n, 0n]);
      same(await inputOf(p, 2n), features(2));
      await serve(p, 2n, digitScores(8));
      await finalize(p, 2n);
      expect((await feed.latest()).index).to.equal(8n);

      // Run 2: the owner cleared the features, so the feed refuses the run: nothing is paid, and
      // once its interval has passed it is skipped for good.
      await feed.clearFeatures();
      await expect(mgr.trigger(1n)).to.be.revertedWithCustomError(mgr, "SubscriptionManagerInputFailed");
      const refused = await triggerRun(c, p.worker2, 1n).catch((e: Error) => e.message);
      expect(refused).to.match(/refused the input of run 2: the feed has no features: its owner must set them/);
      await networkHelpers.time.increase(HOUR);
      const s = await readSubscription(c, 1n);
      const sched = scheduleOf(s, BigInt(await networkHelpers.time.latest()));
      expect([sched.done, sched.skipped, sched.remaining, sched.finished]).to.deep.equal([2n, 1n, 0n, true]);
      expect(s.balance).to.equal(cost);

      // The unused run's funds go back to whoever the owner names.
      const before = await p.token.balanceOf(p.other.address);
      await expect(feed.withdrawUnused(1n, p.other.address))
        .to.emit(mgr, "FundsWithdrawn")
        .withArgs(1n, feedAddress, cost, 0n);
      expect((await p.token.balanceOf(p.other.address)) - before).to.equal(cost);
      // Keepers took a reward per trigger; the books of the escrow and the manager hold.
      expect(await mgr.balanceOf(p.worker2.address)).to.equal(2n * REWARD);
      expect(await p.token.balanceOf(mgrAddress)).to.equal(2n * REWARD);
      await expectEscrowConserved(p, [mgrAddress, feedAddress]);

      const runs = await subscriptionRuns(c, 1n);
      expect(runs.map((r) => [r.run, r.jobId, r.fate])).to.deep.equal([
        [0n, 1n, "delivered"],
        [1n, 2n, "delivered"],
      ]);
    });

    it("keeps the newest run's signal when results arrive out of order", async function () {
      const { p, mgr, feed, fee } = await networkHelpers.loadFixture(withFeed);
      await feed.setFeatures(features(3));
      await feed.subscribe(600n, 2, fee, 0n);
      await mgr.trigger(1n);
      await serve(p, 1n, digitScores(1));
      await networkHelpers.time.increase(600n);
      await mgr.trigger(1n);
      await serve(p, 2n, digitScores(2));
      // Run 1 first (its window ends later; wait it out), then run 0.
      await endChallengeWindow(p, 2n);
      await p.jm.finalizeWithCallback(2n, ...(await callbackArgs(p, 2n)));
      await expect(p.jm.finalizeWithCallback(1n, ...(await callbackArgs(p, 1n))))
        .to.emit(feed, "SignalUpdated")
        .withArgs(1n, 0n, 1n, 1n, 1000n * OUTPUT_SCALE_WAD, false);
      expect((await feed.latest()).run).to.equal(1n);
      expect((await feed.latest()).index).to.equal(2n);
    });

    it("only its owner drives it, and only the manager hands it results", async function () {
      const { p, mgr, feed, fee } = await networkHelpers.loadFixture(withFeed);
      const as = feed.connect(p.other);
      for (const call of [
        () => as.setFeatures(features(1)),
        () => as.clearFeatures(),
        () => as.subscribe(HOUR, 1, fee, 0n),
        () => as.fund(1n, 1n),
        () => as.setFeePerRun(1n, fee),
        () => as.cancel(1n),
        () => as.withdrawUnused(1n, p.other.address),
        () => as.withdrawTokens(p.other.address, 1n),
      ]) {
        await expect(call()).to.be.revertedWithCustomError(feed, "OwnableUnauthorizedAccount").withArgs(p.other.address);
      }
      await expect(feed.setFeatures(SAMPLE_INPUT.slice(0, 10))).to.be.revertedWithCustomError(feed, "SignalFeedBadFeatures").withArgs(4n, 2400n);
      await expect(feed.connect(p.other).onSubscriptionResult(1n, 0n, 1n, "0x"))
        .to.be.revertedWithCustomError(feed, "SubscriptionConsumerOnlyManager")
        .withArgs(p.other.address);
      await expect(feed.subscriptionInput(7n, 0n)).to.be.revertedWithCustomError(feed, "SubscriptionConsumerUnknownSubscription").withArgs(7n);
      // The manager's own consumer check: the feed's subscription is the feed's alone.
      await feed.setFeatures(features(1));
      await feed.subscribe(HOUR, 1, fee, 0n);
      const tester = (await ethers.deployContract("TestSubscriber", [await mgr.getAddress()])) as unknown as TestSubscriber;
      await expect(tester.cancel(1n))
        .to.be.revertedWithCustomError(mgr, "SubscriptionManagerNotConsumer")
        .withArgs(1n, await tester.getAddress());
    });
  });

  describe("runs that fail", function () {
    it("settles an expired run's fee back into its subscription (the client says what happened)", async function () {
      const { p, mgr, feed, c, fee } = await networkHelpers.loadFixture(withFeed);
      await feed.setFeatures(features(1));
      await feed.subscribe(HOUR, 2, fee, REWARD);
      const { jobId } = await triggerRun(c, p.worker2, 1n);
      const balance = (await readSubscription(c, 1n)).balance;
      const early = await settleRun(c, p.other, jobId).catch((e: Error) => e.message);
      expect(early).to.match(/job 1 is Open: it has not failed \(refunded or rejected\)/);
      // Nobody serves it: past its deadline (the escrow's longest duration) it is refunded.
      const terms = await termsOf(p, jobId);
      await networkHelpers.time.increaseTo(terms.deadline + 1n);
      await p.jm.expire(jobId, terms);
      expect((await subscriptionRuns(c, 1n))[0]!.fate).to.equal("failed: refunded, to settle");
      const settled = await settleRun(c, p.other, jobId);
      expect([settled.status, settled.refund]).to.deep.equal([Status.Refunded, fee]);
      expect((await readSubscription(c, 1n)).balance).to.equal(balance + fee);
      expect((await mgr.getRun(jobId)).state).to.equal(RunState.Settled);
      expect((await subscriptionRuns(c, 1n))[0]!.fate).to.equal("settled back (refunded)");
      const again = await settleRun(c, p.other, jobId).catch((e: Error) => e.message);
      expect(again).to.match(/already settled: nothing to settle/);
      await expectEscrowConserved(p, [await mgr.getAddress(), await feed.getAddress()]);
    });

    it("records a failed relay; the consumer retries it with the job's terms and output from the events", async function () {
      const { p, mgr, c, fee } = await networkHelpers.loadFixture(withFeed);
      const tester = (await ethers.deployContract("TestSubscriber", [await mgr.getAddress()])) as unknown as TestSubscriber;
      await p.token.transfer(await tester.getAddress(), 100n * WAD);
      await tester.setInput(SAMPLE_INPUT);
      await tester.setModes(0, 1); // honest input, reverting result
      const gas = 100_000n;
      const least = await mgr.minimumFeePerRun(p.modelId, gas);
      await tester.subscribe(p.modelId, HOUR, 1, least, 0n, gas, least);
      await mgr.trigger(1n);
      await serve(p, 1n, digitScores(4));
      await expect(finalize(p, 1n)).to.emit(mgr, "RelayFailed");
      expect((await p.jm.getJob(1n)).status).to.equal(Status.Finalized);
      expect((await subscriptionRuns(c, 1n))[0]!.fate).to.equal("relay failed (the consumer may retry it)");
      await tester.setModes(0, 0);
      const [terms, output] = await callbackArgs(p, 1n);
      await expect(tester.retry(1n, terms, output)).to.emit(mgr, "ResultRelayed").withArgs(1n, 0n, 1n);
      expect(await tester.deliveries(1n, 0n)).to.equal(1n);
      expect(fee).to.be.greaterThan(least);
    });
  });

  describe("fees and clients", function () {
    it("says which fee a run needs after governance raises the protocol fee, and runs go on once the consumer pays it", async function () {
      const { p, mgr, feed, c, fee } = await networkHelpers.loadFixture(withFeed);
      await feed.setFeatures(features(1));
      await feed.subscribe(HOUR, 3, fee, REWARD);
      await p.jm.connect(p.deployer).setParams({ ...p.params, protocolFeeBps: 2_000n });
      const needed = await mgr.minimumFeePerRun(p.modelId, await feed.CALLBACK_GAS());
      expect(needed).to.be.greaterThan(fee);
      await expect(mgr.trigger(1n)).to.be.revertedWithCustomError(mgr, "SubscriptionManagerFeeTooLow").withArgs(1n, fee, needed);
      const message = await triggerRun(c, p.worker2, 1n).catch((e: Error) => e.message);
      expect(message).to.include(`the fee per run of subscription 1`);
      expect(message).to.include("no longer covers a run's job: the least fee is now");
      await expect(feed.setFeePerRun(1n, needed)).to.emit(mgr, "FeePerRunSet").withArgs(1n, needed);
      await feed.fund(1n, 3n * (needed - fee));
      const run = await triggerRun(c, p.worker2, 1n);
      expect(run.fee).to.equal(needed);
    });

    it("reads a schedule: due, already triggered, the next due time, cancelled", async function () {
      const { p, mgr, feed, c, fee } = await networkHelpers.loadFixture(withFeed);
      await feed.setFeatures(features(1));
      await feed.subscribe(HOUR, 4, fee, REWARD);
      const now = async () => BigInt(await networkHelpers.time.latest());
      let s = await readSubscription(c, 1n);
      expect(scheduleOf(s, await now()).dueNow).to.equal(true);
      expect(await mgr.isDue(1n)).to.equal(true);
      await triggerRun(c, p.worker2, 1n);
      s = await readSubscription(c, 1n);
      const sched = scheduleOf(s, await now());
      expect([sched.dueNow, sched.done, sched.next]).to.deep.equal([false, 1n, { run: 1n, at: s.start + HOUR }]);
      expect(await mgr.nextDue(1n)).to.deep.equal([1n, s.start + HOUR]);
      const early = await triggerRun(c, p.worker2, 1n).catch((e: Error) => e.message);
      expect(early).to.match(/run 0 of subscription 1 was already triggered; run 1 is due at .* \(in 59 min/);
      await networkHelpers.time.increase(2n * HOUR); // run 1 passes untriggered; run 2 is due
      s = await readSubscription(c, 1n);
      expect(scheduleOf(s, await now())).to.include({ current: 2n, done: 1n, skipped: 1n, remaining: 2n, dueNow: true });
      await expect(feed.cancel(1n)).to.emit(mgr, "SubscriptionCancelled").withArgs(1n, 2n);
      s = await readSubscription(c, 1n);
      expect(scheduleOf(s, await now())).to.include({ remaining: 0n, cancelledRuns: 3n, dueNow: false, finished: true });
      const cancelled = await triggerRun(c, p.worker2, 1n).catch((e: Error) => e.message);
      expect(cancelled).to.match(/subscription 1 was cancelled by its consumer/);
      expect(await mgr.nextDue(1n)).to.deep.equal([4n, 0n]);
    });
  });
});
