/**
 * The explorer in a real browser: Debian's chromium, headless, driven by playwright-core, against the
 * demo's chain (offchain/dev/demo/run.ts, run in-process: honest jobs finalized, a cheat disputed to
 * the one step and slashed). Each page is opened and what it shows is checked against the chain, read
 * with the clients; the dispute is followed from its job to the one-step check; a new job appears
 * without a reload (server-sent events); an unknown job is a 404 that says so; the page fetches
 * nothing from anywhere but the explorer. Page load times are printed, not asserted (the machine is
 * shared): `npx hardhat bench --only explorer` writes them to BENCHMARKS.md.
 *
 * Without chromium the suite is one line, unless CI=true: CI installs it (.ci/run), so there a
 * missing browser fails.
 */
import { expect } from "chai";
import hre from "hardhat";
import type { Page } from "playwright-core";

import type { Protocol } from "../../offchain/cli/index.js";
import { JobStatus, formatVtn, jobDetails, requestInference, votingPower } from "../../offchain/cli/index.js";
import { bytesToInts } from "../../offchain/clients/tensors.js";
import { readGame } from "../../offchain/clients/disputes.js";
import { GameStatus } from "../../offchain/clients/game-types.js";
import { DisputeGame__factory } from "../../types/ethers-contracts/index.js";
import type { Chromium } from "../../offchain/dev/bench/browser.js";
import { CHROMIUM, CHROMIUM_INSTALL, haveChromium, launchChromium, loadPage } from "../../offchain/dev/bench/browser.js";
import type { DemoSummary } from "../../offchain/dev/demo/run.js";
import { runDemo } from "../../offchain/dev/demo/run.js";
import type { RunningExplorer } from "../../offchain/explorer/index.js";
import { startExplorer } from "../../offchain/explorer/index.js";
import { layerKindName } from "../../offchain/model/layers.js";
import type { LayerKind } from "../../offchain/model/layers.js";
import { digitInputs } from "../nodes/inprocess.js";

/** CI must run the browser tests; a developer's machine may lack chromium (CI=true is what CI sets). */
function browserRequired(env: NodeJS.ProcessEnv = process.env): boolean {
  const ci = (env.CI ?? "").trim().toLowerCase();
  return ci !== "" && ci !== "0" && ci !== "false";
}

const STATUS_NAMES: Record<string, string> = {
  [String(JobStatus.Finalized)]: "finalized",
  [String(JobStatus.Rejected)]: "rejected",
  [String(JobStatus.Submitted)]: "submitted",
  [String(JobStatus.Open)]: "open",
};

if (!haveChromium() && !browserRequired()) {
  console.log(`Explorer browser tests not run: they need Debian's chromium at ${CHROMIUM}, \`${CHROMIUM_INSTALL}\``);
} else describe("explorer in a browser, on the demo's chain", function () {
  this.timeout(180_000);
  let s: DemoSummary;
  let p: Protocol;
  let explorer: RunningExplorer;
  let chromium: Chromium;
  let page: Page;
  const errors: string[] = [];
  const foreign: string[] = [];
  const loads: [string, number][] = [];

  before(async function () {
    expect(haveChromium(), `chromium not found at ${CHROMIUM}: ${CHROMIUM_INSTALL}`).to.equal(true);
    const connection = await hre.network.create();
    s = await runDemo(connection, { jobs: 4, root: hre.config.paths.root, ignitionDir: hre.config.paths.ignition, log: () => {} });
    expect(s.asDesigned).to.equal(true);
    p = s.protocol;
    explorer = await startExplorer({ protocol: p, root: hre.config.paths.root, db: ":memory:", port: 0, pollMs: 200, labels: s.labels, log: () => {} });
    chromium = await launchChromium();
    page = await chromium.context.newPage();
    page.on("pageerror", (e) => errors.push(e.message));
    page.on("console", (m) => {
      if (m.type() === "error" && !/status of 404/.test(m.text())) errors.push(m.text());
    });
    page.on("request", (r) => {
      if (!r.url().startsWith(explorer.url) && !r.url().startsWith("data:")) foreign.push(r.url());
    });
  });

  after(async function () {
    await chromium?.close();
    await explorer?.stop();
    if (loads.length > 0) console.log(`      page loads (ms, render with data): ${loads.map(([k, v]) => `${k} ${v.toFixed(0)}`).join(", ")}`);
  });

  afterEach(function () {
    expect(errors, "errors in the page").to.deep.equal([]);
    expect(foreign, "requests to anywhere but the explorer").to.deep.equal([]);
  });

  const open = async (path: string, name = path) => {
    const r = await loadPage(page, explorer.url + path.replace(/^\//, ""));
    loads.push([name, r.ms]);
    return r;
  };
  const text = (selector: string) => page.locator(selector).first().innerText();
  const row = (name: string) => text(`[data-row="${name}"] td`);

  it("overview: the index is at the chain's head and counts its jobs and disputes", async function () {
    await open("/", "overview");
    expect(await text('[data-field="cursor"]')).to.contain(`block ${await p.connection.ethers.provider.getBlockNumber()}`);
    expect(await row("jobs")).to.equal(String(await p.jobManager.jobCount()));
    expect(await row("disputes")).to.equal("1");
  });

  it("jobs: each job's status, fee, worker, output class, timeline and gas are the chain's", async function () {
    const count = Number(await p.jobManager.jobCount());
    for (let id = 1; id <= count; id++) {
      const d = await jobDetails(p, BigInt(id));
      await open(`/jobs/${id}`, `job ${id}`);
      expect(await text("h1")).to.contain(`Job ${id}`).and.to.contain(STATUS_NAMES[String(d.job.status)]!);
      expect(await row("fee")).to.contain(formatVtn(d.job.fee));
      expect(await page.locator(`[data-row="worker"] a[href="/accounts/${d.job.worker.toLowerCase()}"]`).count()).to.equal(1);
      const out = bytesToInts(d.output!);
      expect(await text('[data-field="argmax"]')).to.equal(String(out.indexOf(Math.max(...out))));
      expect(await page.locator('[data-tensor="input"] canvas').count(), "the digit drawn").to.equal(1);
      expect(await page.locator('[data-event="JobRequested"]').count()).to.equal(1);
      expect(await page.locator(`[data-event="${d.job.status === JobStatus.Finalized ? "JobFinalized" : "JobRejected"}"]`).count()).to.equal(1);
      // The request's gas, from its receipt.
      const [requested] = await p.jobManager.queryFilter(p.jobManager.filters.JobRequested(BigInt(id)));
      const receipt = await requested!.getTransactionReceipt();
      expect(await text('[data-event="JobRequested"] .gas')).to.contain(`${receipt.gasUsed.toLocaleString("en-US")} gas`);
      expect(await text('[data-field="callback"]')).to.contain("none");
    }
  });

  it("models: jobs served, and what the developer and the contributor earned", async function () {
    await open("/models/1", "model");
    const credited = async (who: string) => {
      const events = await p.jobManager.queryFilter(p.jobManager.filters.BalanceCredited(who, 0n));
      return events.reduce((sum, e) => sum + e.args.amount, 0n);
    };
    const model = await p.registry.getModel(1n);
    expect(await text('[data-payee="developer"] td:nth-child(4)')).to.equal(formatVtn(await credited(model.owner)));
    expect(await text('[data-payee="contributor"] td:nth-child(4)')).to.equal(formatVtn(await credited(model.contributors[0]!.account)));
    expect(await text('[data-payee="contributor"] td:nth-child(3)')).to.equal("10.00%");
    expect(await row("not yet distributed")).to.equal(formatVtn(await p.jobManager.modelEarnings(1n)));
    expect(await row("jobs")).to.equal(`${await p.jobManager.jobCount()} requested`);
    expect(await row("input")).to.contain(`shape [${model.inputShape.join(", ")}]`);
  });

  it("workers and challengers: stake (free and locked), slashes, disputes won and lost", async function () {
    await open("/accounts", "accounts");
    for (const [address, name] of s.labels) {
      if (!["honest worker", "cheating worker", "verifier"].includes(name)) continue;
      const stake = await p.staking.stakeOf(address);
      const cells = page.locator(`[data-account="${address}"] td`);
      expect(await cells.nth(2).innerText(), `${name} staked`).to.equal(formatVtn(stake.staked));
      expect(await cells.nth(3).innerText(), `${name} locked`).to.equal(formatVtn(stake.locked));
      expect(await cells.nth(4).innerText(), `${name} free`).to.equal(formatVtn(stake.staked - stake.locked));
      const wonLost = name === "verifier" ? "1 / 0" : name === "cheating worker" ? "0 / 1" : "0 / 0";
      expect(await cells.nth(8).innerText(), `${name} disputes`).to.equal(wonLost);
    }
    const cheater = [...s.labels].find(([, n]) => n === "cheating worker")![0];
    await open(`/accounts/${cheater}`, "account");
    const slashed = (await p.staking.queryFilter(p.staking.filters.StakeSlashed(cheater))).reduce((sum, e) => sum + e.args.amount, 0n);
    expect(await text('[data-field="slashed"]')).to.contain(formatVtn(slashed)).and.to.contain("1 slash(es)");
  });

  it("disputes: from the rejected job to the one-step check, every level as the chain has it", async function () {
    const job = s.jobList.find((j) => j.status === "rejected")!;
    await open(`/jobs/${job.id}`, "rejected job");
    const [address] = await p.disputes.gamesOf(job.id);
    const game = DisputeGame__factory.connect(address!, p.connection.ethers.provider);
    const state = await readGame(game);
    expect(state.status).to.equal(GameStatus.ChallengerWins);
    // Follow the link from the job to its game.
    await page.locator(`[data-game="${address!.toLowerCase()}"] a[href^="/disputes/"]`).click();
    await page.waitForSelector('[data-list="moves"]');
    expect(page.url()).to.equal(`${explorer.url}disputes/${address!.toLowerCase()}`);
    expect(await text("h1")).to.contain(`job ${job.id}`).and.to.contain("challenger won");

    // Every move: the commitment, the opening, then one row per transaction to the game.
    const logs = await p.connection.ethers.provider.getLogs({ address, fromBlock: 0 });
    const moves = new Set(logs.map((l) => l.transactionHash)).size + 2;
    expect(await page.locator('[data-list="moves"] tbody tr').count()).to.equal(moves);
    expect(await text('[data-move="2"] td:nth-child(2)')).to.equal("defender");
    expect(await text('[data-move="2"]')).to.contain("posted its trace root");

    // The trace level lands on the disputed layer; the element and both claims; the step.
    expect(await text('[data-field="trace-leaf"]')).to.contain(`trace leaf ${state.layer}`).and.to.contain(layerKindName(state.kind as LayerKind));
    expect(await page.locator('[data-list="trace"] tbody tr').count()).to.equal(state.traceDepth);
    const element = await text('[data-field="element"]');
    expect(element).to.contain(`First differing element: ${state.element}`);
    expect(element).to.contain(`defender claims ${state.defenderValue}`).and.to.contain(`challenger ${state.challengerValue}`);
    const sums = await game.queryFilter(game.filters.SumPosted());
    if (state.reductionLength > 0) expect(await page.locator('[data-list="reduction"] tbody tr').count()).to.equal(sums.length / 2);
    const [stepped] = await game.queryFilter(game.filters.Stepped());
    expect(await text('[data-field="truth"]')).to.equal(String(stepped!.args.truth));
    expect(await text('[data-field="op"]')).to.contain(layerKindName(state.kind as LayerKind));
    expect(await page.locator("[data-operand]").count()).to.be.greaterThan(0);
    expect(await text('[data-field="formula"]')).to.contain(`= ${stepped!.args.truth}`);
    const claims = [await text('[data-field="defender-value"]'), await text('[data-field="challenger-value"]')];
    expect(claims[0], "the two claims differ").to.not.equal(claims[1]);
    expect(claims, "the challenger's is the truth").to.include(String(stepped!.args.truth));

    const [settled] = await p.disputes.queryFilter(p.disputes.filters.DisputeSettled(job.id));
    expect(await text('[data-field="slashed"]')).to.equal(formatVtn(settled!.args.slashed));
  });

  it("governance: the parameters in force and gov power's figures", async function () {
    await open("/governance", "governance");
    const power = await votingPower(p);
    const rows = page.locator('[data-list="votes"] tbody tr');
    expect(await rows.count()).to.equal(Math.min(10, power.votes.holders.length));
    expect(await rows.first().locator("td").nth(2).innerText()).to.equal(formatVtn(power.votes.holders[0]!.amount));
    expect(await row("nakamoto votes")).to.equal(String(power.votes.majority));
    expect(await row("nakamoto stake")).to.equal(String(power.stake.majority));
    expect(await row("top-10 share")).to.equal(`${(Number(power.votes.top10Bps) / 100).toFixed(2)}% of the votes`);
    expect(await text('[data-param="jobs.challengeWindow"] td:nth-child(2)')).to.contain(`(${(await p.jobManager.params()).challengeWindow} s)`);
  });

  it("an unknown job is a 404 page that says so; bad input is a 400", async function () {
    const r = await open("/jobs/99", "404");
    expect(r.status).to.equal(404);
    expect(await text(".notfound")).to.contain("job 99 does not exist").and.to.contain("ids 1 to 4");
    expect((await fetch(`${explorer.url}api/jobs/abc`)).status).to.equal(400);
    expect((await fetch(`${explorer.url}nowhere`)).status).to.equal(404);
  });

  it("live: a job requested now appears on the open page without a reload", async function () {
    await open("/jobs?status=open", "jobs");
    expect(await text('[data-field="live"]')).to.contain("live");
    const requester = (await p.connection.ethers.getSigners())[3]!;
    const fee = (await p.jobManager.minimumFee(10n ** 17n)) + 10n ** 17n;
    const { jobId } = await requestInference(p, requester, { modelId: 1n, input: digitInputs(11)(), fee, deadlineIn: 3600 });
    await page.waitForSelector(`[data-job="${jobId}"]`, { timeout: 20_000 });
    expect(await text(`[data-job="${jobId}"] .tag`)).to.equal("open");
  });
});
