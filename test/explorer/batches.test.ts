/**
 * The explorer on batch jobs and subscription runs, in process on the shipped MNIST CNN: a batch of two digits whose
 * worker forges item 1 is disputed on that item by the verifier; the index keeps `BatchRequested`
 * and `BatchItemDisputed`, the job's page gives its batch size and each item's input and output
 * (with its own tensor commitment), and the dispute's page names the item. An index of the first
 * schema (which kept neither event) is dropped and rebuilt. A SignalFeed's subscription run is
 * shown on its job's page as run 0 of subscription 1, and on the subscriptions page.
 */
import { expect } from "chai";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { JobStatus, requestBatch, triggerRun } from "../../offchain/cli/index.js";
import hre from "hardhat";

import { itemCommitments } from "../../offchain/commitments/batch.js";
import { haveChromium, launchChromium, loadPage } from "../../offchain/dev/bench/browser.js";
import type { RawLog } from "../../offchain/explorer/catalog.js";
import { INTERFACES, argsOf, decodeLog, sourceAddresses } from "../../offchain/explorer/catalog.js";
import { ExplorerDb } from "../../offchain/explorer/database.js";
import { startExplorer } from "../../offchain/explorer/index.js";
import { Indexer } from "../../offchain/explorer/indexer.js";
import { ExplorerQueries } from "../../offchain/explorer/queries.js";
import { canonicalRunners } from "../../offchain/nodes/runner-pool.js";
import { Verifier } from "../../offchain/nodes/verifier.js";
import { Worker } from "../../offchain/nodes/worker.js";
import { bytesToInts } from "../../offchain/clients/tensors.js";
import { SignalFeed__factory } from "../../types/ethers-contracts/index.js";
import type { InProcessChain } from "../nodes/inprocess.js";
import { digitInputs, inProcessChain } from "../nodes/inprocess.js";

const VTN = 10n ** 18n;
const nextInput = digitInputs(93);

describe("explorer: batch jobs and subscription runs", function () {
  this.timeout(300_000);
  let c: InProcessChain;
  let dir: string;
  let id: bigint;
  let inputs: Uint8Array[];
  let runJob: bigint;
  let feed: string;
  const logs: string[] = [];

  before(async function () {
    c = await inProcessChain();
    dir = await mkdtemp(join(tmpdir(), "veritensor-explorer-batches-"));
    inputs = [nextInput(), nextInput()];
    const price = (await c.p.registry.pricing(c.modelId)).price;
    const fee = (await c.p.jobManager.minimumFee(price * 2n)) + VTN / 5n;
    id = (await requestBatch(c.p, c.requester, { modelId: c.modelId, inputs, fee, deadlineIn: 3600 })).jobId;
    const log = (l: string) => logs.push(l);
    const cheater = await Worker.create({ protocol: c.p, signer: c.cheater, db: ":memory:", cacheDir: join(dir, "models"), log, pollMs: 0, withdrawAt: null, cheat: { item: 1 } });
    const verifier = await Verifier.create({ protocol: c.p, signer: c.verifier, db: ":memory:", cacheDir: join(dir, "models"), log, pollMs: 0, parallel: 1, runners: canonicalRunners });
    try {
      const status = async () => (await c.p.jobManager.getJob(id)).status;
      for (let i = 0; i < 100 && (await status()) !== JobStatus.Submitted; i++) await cheater.tick();
      // The verifier opens the dispute (the game need not end for the page to name its item).
      for (let i = 0; i < 100 && (await c.p.disputes.gamesOf(id)).length === 0; i++) await verifier.tick();
      expect((await c.p.disputes.gamesOf(id)).length, logs.slice(-20).join("\n")).to.equal(1);
    } finally {
      cheater.close();
      verifier.close();
    }
    // A subscription of two runs, its first run triggered by a keeper.
    const signalFeed = await new SignalFeed__factory(c.requester).deploy(c.p.addresses.subscriptions, c.modelId, await c.requester.getAddress());
    await signalFeed.waitForDeployment();
    feed = (await signalFeed.getAddress()).toLowerCase();
    await (await c.p.token.connect(c.requester).transfer(feed, 5n * VTN)).wait();
    await (await signalFeed.setFeatures(nextInput())).wait();
    const feePerRun = (await c.p.subscriptions.minimumFeePerRun(c.modelId, await signalFeed.CALLBACK_GAS())) + VTN / 10n;
    await (await signalFeed.subscribe(600, 2, feePerRun, VTN / 100n)).wait();
    const run = await triggerRun(c.p, c.verifier, 1n);
    expect(run.run).to.equal(0n);
    runJob = run.jobId;
  });
  after(async function () {
    await rm(dir, { recursive: true, force: true });
  });

  it("shows a batch's size, each item's input and output, the item a game is about, and a run's subscription", async function () {
    const db = ExplorerDb.open(":memory:");
    await new Indexer({ protocol: c.p, db }).sync();
    expect(Number(db.get("SELECT COUNT(*) AS n FROM events WHERE name = 'BatchRequested'")!.n)).to.equal(1);
    expect(Number(db.get("SELECT COUNT(*) AS n FROM events WHERE name = 'BatchItemDisputed'")!.n)).to.equal(1);
    const q = new ExplorerQueries({ protocol: c.p, db, confirmations: 0 });

    const list = q.jobs({});
    expect(list.jobs.find((j) => j.id === Number(id))!.batchSize).to.equal(2);
    const job = await q.job(String(id));
    expect(job.batchSize).to.equal(2);
    expect(job.items).to.have.length(2);
    const commitments = itemCommitments(Buffer.concat(inputs), 2);
    for (const [i, item] of job.items!.entries()) {
      expect(item.input!.values, `item ${i}'s input`).to.deep.equal(bytesToInts(inputs[i]!));
      expect(item.input!.count).to.equal(28 * 28);
      expect(item.input!.commitment).to.equal(commitments[i]);
      // Decoded with the model's scale: the real values are the integers times it.
      expect(item.input!.real.some((v) => v !== 0)).to.equal(true);
      expect(item.output!.count, `item ${i}'s output`).to.equal(10);
      expect(item.output!.argmax).to.be.a("number");
    }
    expect(job.output!.count).to.equal(20);
    expect(job.timeline.map((e) => e.name)).to.include.members(["BatchRequested", "BatchItemDisputed"]);
    expect(job.timeline.find((e) => e.name === "BatchItemDisputed")!.text).to.match(/is about item 1 of the batch/);

    const [game] = job.disputes;
    expect(game!.item).to.equal(1);
    const detail = await q.dispute(game!.game);
    expect(detail.item).to.equal(1);
    expect(detail.batchSize).to.equal(2);
    expect(q.disputes().find((g) => g.game === game!.game)!.item).to.equal(1);
    expect(job.subscription).to.equal(undefined);

    // The subscription's run.
    const runDetail = await q.job(String(runJob));
    expect(runDetail.batchSize).to.equal(1);
    expect(runDetail.items).to.equal(undefined);
    expect(runDetail.subscription).to.deep.equal({ id: 1, run: 0, runs: 2, consumer: feed, keeper: (await c.verifier.getAddress()).toLowerCase() });
    expect(runDetail.timeline.find((e) => e.name === "RunTriggered")!.text).to.match(/^run 0 of subscription 1, triggered by/);
    const [sub] = q.subscriptions();
    expect(sub).to.deep.include({ id: 1, consumer: feed, model: Number(c.modelId), period: 600, runs: 2, cancelled: false });
    expect(sub!.triggered).to.deep.equal([{ run: 0, job: Number(runJob) }]);
    db.close();
  });

  it("in a browser (when chromium is there): the job's page draws each item, the dispute's names its item, a run names its subscription", async function () {
    if (!haveChromium()) this.skip();
    const explorer = await startExplorer({ protocol: c.p, root: hre.config.paths.root, db: ":memory:", port: 0, confirmations: 0, pollMs: 200, log: () => {} });
    const chromium = await launchChromium();
    try {
      const page = await chromium.context.newPage();
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(e.message));
      await loadPage(page, `${explorer.url}jobs/${id}`);
      expect(await page.locator('[data-row="batch size"] td').first().innerText()).to.contain("2 inputs");
      expect(await page.locator("[data-item]").count()).to.equal(2);
      expect(await page.locator('[data-item] [data-tensor="input"] canvas').count(), "each item's digit drawn").to.equal(2);
      expect(await page.locator('[data-item] [data-field="argmax"]').count()).to.equal(2);
      expect(await page.locator('[data-item="1"] h2').innerText()).to.contain("disputed");
      const [game] = await c.p.disputes.gamesOf(id);
      await loadPage(page, `${explorer.url}disputes/${game!.toLowerCase()}`);
      expect(await page.locator('[data-row="batch item"] td').first().innerText()).to.contain("item 1 of the job's 2");
      await loadPage(page, `${explorer.url}jobs/${runJob}`);
      expect(await page.locator('[data-field="subscription"]').innerText()).to.contain("run 0 of subscription 1");
      expect(await page.locator("[data-item]").count()).to.equal(0);
      await loadPage(page, `${explorer.url}subscriptions`);
      expect(await page.locator('[data-subscription="1"] [data-field="runs"]').innerText()).to.equal(`run 0: job ${runJob}`);
      expect(errors).to.deep.equal([]);
    } finally {
      await chromium.close();
      await explorer.stop();
    }
  });

  it("decodes the batch and subscription events as ethers does", async function () {
    const sources = sourceAddresses(c.p.addresses);
    const logs = (await c.p.connection.provider.request({ method: "eth_getLogs", params: [{ fromBlock: "0x0", toBlock: "latest" }] })) as RawLog[];
    const seen = new Set<string>();
    for (const log of logs) {
      const source = sources.get(log.address.toLowerCase());
      const fast = source && decodeLog(log, source);
      if (!source || !fast) continue;
      expect(fast.args, `${source}.${fast.name}`).to.deep.equal(argsOf(INTERFACES[source].parseLog({ topics: [...log.topics], data: log.data })!));
      seen.add(`${source}.${fast.name}`);
    }
    for (const name of ["jobManager.BatchRequested", "disputes.BatchItemDisputed", "subscriptions.SubscriptionCreated", "subscriptions.SubscriptionFunded", "subscriptions.RunTriggered"]) {
      expect(seen.has(name), name).to.equal(true);
    }
  });

  it("an index of the first schema (without the batch events) is dropped and rebuilt from the chain", async function () {
    const file = join(dir, "old.sqlite");
    let db = ExplorerDb.open(file);
    await new Indexer({ protocol: c.p, db }).sync();
    db.setMeta("schema", "1");
    db.close();
    db = ExplorerDb.open(file);
    expect(db.cursor()).to.equal(undefined);
    expect(Number(db.get("SELECT COUNT(*) AS n FROM events")!.n)).to.equal(0);
    await new Indexer({ protocol: c.p, db }).sync();
    expect(Number(db.get("SELECT batch_size FROM jobs WHERE job_id = ?", id)!.batch_size)).to.equal(2);
    db.close();
  });
});
