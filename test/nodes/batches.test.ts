/**
 * Batch jobs served by the nodes (issue 14, deliverable 6), in process, on the shipped MNIST CNN:
 * a batch of three digits is claimed once, run input by input, submitted as the concatenation,
 * checked item by item and finalized with every item's output right; a worker that forges one item
 * is disputed on that item (the game holds its input and output), loses, and the whole batch is
 * rejected (the whole fee refunded, the worker slashed); a verifier that lies about one item
 * disputes it and loses to the worker's defence of that item, and the batch finalizes.
 */
import { expect } from "chai";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

import { JobStatus, jobDetails, requestBatch } from "../../offchain/cli/index.js";
import { describeGame, gameRows } from "../../offchain/cli/disputes.js";
import { attachGame, readGame } from "../../offchain/clients/disputes.js";
import { GameStatus } from "../../offchain/clients/game-types.js";
import { commitBatch, itemCommitments, splitItems } from "../../offchain/commitments/batch.js";
import { canonicalBytes } from "../../offchain/commitments/tensor.js";
import { canonicalRunners } from "../../offchain/nodes/runner-pool.js";
import { Verifier } from "../../offchain/nodes/verifier.js";
import type { WorkerOptions } from "../../offchain/nodes/worker.js";
import { Worker } from "../../offchain/nodes/worker.js";
import { computeOutput, intsOf } from "../../offchain/runtime/trace.js";
import { mnistCnn } from "../disputes/models.js";
import type { InProcessChain } from "./inprocess.js";
import { digitInputs, inProcessChain } from "./inprocess.js";

const VTN = 10n ** 18n;
const BATCH = 3;
const model = mnistCnn();
const nextInput = digitInputs(71);

describe("nodes: batch jobs", function () {
  this.timeout(300_000);
  let dir: string;
  let logs: string[] = [];
  const log = (l: string) => logs.push(l);
  const recent = () => logs.slice(-40).join("\n");

  before(async function () {
    dir = await mkdtemp(join(tmpdir(), "veritensor-batches-"));
  });
  beforeEach(function () {
    logs = [];
  });
  after(async function () {
    await rm(dir, { recursive: true, force: true });
  });

  const worker = (c: InProcessChain, who: "worker" | "cheater", o: Partial<WorkerOptions> = {}) =>
    Worker.create({ protocol: c.p, signer: c[who], db: ":memory:", cacheDir: join(dir, "models"), log, pollMs: 0, withdrawAt: null, ...o });
  const verifier = (c: InProcessChain, cheat?: { item: number }) =>
    Verifier.create({ protocol: c.p, signer: c.verifier, db: ":memory:", cacheDir: join(dir, "models"), log, pollMs: 0, parallel: 1, runners: canonicalRunners, ...(cheat ? { cheat } : {}) });

  /** A batch of three digits, requested with 0.2 VTN for the worker above its least fee; returns its id and inputs. */
  async function batch(c: InProcessChain): Promise<{ id: bigint; inputs: Uint8Array[] }> {
    const inputs = Array.from({ length: BATCH }, () => nextInput());
    const price = (await c.p.registry.pricing(c.modelId)).price;
    const fee = (await c.p.jobManager.minimumFee(price * BigInt(BATCH))) + VTN / 5n;
    const r = await requestBatch(c.p, c.requester, { modelId: c.modelId, inputs, fee, deadlineIn: 3600 });
    expect(r.batchSize).to.equal(BigInt(BATCH));
    return { id: r.jobId, inputs };
  }

  const status = async (c: InProcessChain, id: bigint) => (await c.p.jobManager.getJob(id)).status;

  /** Ticks the nodes (in order) until job `id` is in status `want`. */
  async function until(c: InProcessChain, id: bigint, want: bigint, nodes: (Worker | Verifier)[], rounds = 300): Promise<void> {
    for (let i = 0; i < rounds && (await status(c, id)) !== want; i++) for (const n of nodes) await n.tick();
    expect(await status(c, id), recent()).to.equal(want);
  }

  const passChallengeWindow = async (c: InProcessChain) =>
    c.p.connection.networkHelpers.time.increase(Number((await c.p.jobManager.params()).challengeWindow) + 1);

  /** The game opened on job `id`, with the item its BatchItemDisputed names. */
  async function itemGame(c: InProcessChain, id: bigint) {
    const [opened] = await c.p.disputes.queryFilter(c.p.disputes.filters.DisputeOpened(id));
    const [named] = await c.p.disputes.queryFilter(c.p.disputes.filters.BatchItemDisputed(id));
    expect(named?.args.game).to.equal(opened!.args.game);
    return { game: await readGame(attachGame(opened!.args.game, c.verifier)), item: Number(named!.args.item) };
  }

  it("an honest batch of 3 is claimed once, run input by input, checked and finalized with every item's output right", async function () {
    const c = await inProcessChain();
    const { id, inputs } = await batch(c);
    const w = await worker(c, "worker");
    const v = await verifier(c);
    await until(c, id, JobStatus.Submitted, [w]);
    await v.tick();
    expect(logs.join("\n")).to.include(`job ${id}: result of its ${BATCH} inputs checks out`);
    await passChallengeWindow(c);
    await until(c, id, JobStatus.Finalized, [w]);

    const d = await jobDetails(c.p, id);
    expect(d.job.batchSize).to.equal(BigInt(BATCH));
    const outputs = splitItems(d.output!, BATCH);
    for (const [i, input] of inputs.entries()) {
      const expected = await computeOutput(model, intsOf(input));
      expect(Buffer.from(outputs[i]!).equals(canonicalBytes(expected.output)), `item ${i}'s output`).to.equal(true);
    }
    const jm = c.p.jobManager;
    expect(await jm.queryFilter(jm.filters.JobClaimed(id))).to.have.length(1);
    expect(await jm.queryFilter(jm.filters.ResultSubmitted(id))).to.have.length(1);
    expect(await jm.isFinalOutput(id, d.job.terms, d.output!)).to.equal(true);
    w.close();
    v.close();
  });

  it("a batch by URI is fetched whole, checked against its batch commitment, served and checked; one whose items are out of order is never claimed", async function () {
    const c = await inProcessChain();
    const inputs = [nextInput(), nextInput()];
    const bytes = Buffer.concat(inputs);
    const price = (await c.p.registry.pricing(c.modelId)).price;
    const fee = (await c.p.jobManager.minimumFee(price * 2n)) + VTN / 5n;
    const request = async (name: string, content: Uint8Array) => {
      const file = join(dir, name);
      await writeFile(file, content);
      const inputUri = pathToFileURL(file).href;
      return (await requestBatch(c.p, c.requester, { modelId: c.modelId, inputUri, inputCommitment: commitBatch(bytes, 2), batchSize: 2, fee, deadlineIn: 3600 })).jobId;
    };
    const good = await request("batch.bin", bytes);
    const swapped = await request("swapped.bin", Buffer.concat([inputs[1]!, inputs[0]!]));
    const w = await worker(c, "worker");
    const v = await verifier(c);
    await until(c, good, JobStatus.Submitted, [w]);
    await v.tick();
    expect(logs.join("\n")).to.include(`job ${good}: result of its 2 inputs checks out`);
    expect(await status(c, swapped)).to.equal(JobStatus.Open);
    expect(w.store.job(swapped)?.note).to.match(/has batch commitment 0x[0-9a-f]{64}, but the job committed to/);
    const [submitted] = await c.p.jobManager.queryFilter(c.p.jobManager.filters.ResultSubmitted(good));
    const outputs = splitItems(Buffer.from(submitted!.args.output.slice(2), "hex"), 2);
    for (const [i, input] of inputs.entries()) {
      expect(Buffer.from(outputs[i]!).equals(canonicalBytes((await computeOutput(model, intsOf(input))).output)), `item ${i}`).to.equal(true);
    }
    w.close();
    v.close();
  });

  it("a worker that forges one item of a batch of 3 is disputed on that item; the batch is rejected and the worker slashed", async function () {
    const c = await inProcessChain();
    const { id, inputs } = await batch(c);
    const cheater = await worker(c, "cheater", { cheat: { item: 1 } });
    const v = await verifier(c);
    const address = await c.cheater.getAddress();
    const requester = await c.requester.getAddress();
    const staked = (await c.p.staking.stakeOf(address)).staked;
    const fee = (await jobDetails(c.p, id)).job.fee;
    await until(c, id, JobStatus.Submitted, [cheater]);
    expect(logs.join("\n")).to.match(/CHEATING at item 1, layer/);
    await until(c, id, JobStatus.Rejected, [v, cheater]);

    const { game, item } = await itemGame(c, id);
    expect(item).to.equal(1);
    expect(game.inputCommitment).to.equal(itemCommitments(Buffer.concat(inputs), BATCH)[1]);
    expect(game.status).to.equal(GameStatus.ChallengerWins);
    expect(logs.join("\n")).to.include(`job ${id}: MISMATCH`);
    expect(logs.join("\n")).to.include("(item 1 differs)");
    expect(await c.p.jobManager.balanceOf(requester)).to.equal(fee);
    expect((await c.p.staking.stakeOf(address)).staked).to.be.lessThan(staked);
    // `dispute show` names the item.
    const view = await describeGame(c.p, game.address);
    expect(view.batchItem).to.deep.equal({ item: 1, of: BATCH });
    expect(gameRows(view)).to.deep.include(["batch item", `1 of the job's ${BATCH} inputs (the game is about its input and output; it settles the whole batch)`]);
    cheater.close();
    v.close();
  });

  it("a verifier that lies about one item loses to the worker's defence of that item, and the batch finalizes", async function () {
    const c = await inProcessChain();
    const { id } = await batch(c);
    const w = await worker(c, "worker");
    const liar = await verifier(c, { item: 2 });
    await until(c, id, JobStatus.Submitted, [w]);
    const settled = async () => {
      const games = await c.p.disputes.gamesOf(id);
      return games.length > 0 && (await c.p.disputes.gameRecord(games[0]!)).settled;
    };
    for (let i = 0; i < 300 && !(await settled()); i++) {
      await liar.tick();
      await w.tick();
    }
    const { game, item } = await itemGame(c, id);
    expect(item).to.equal(2);
    expect(game.status, recent()).to.equal(GameStatus.DefenderWins);
    expect(logs.join("\n")).to.match(new RegExp(`job ${id} \\(item 2 of its ${BATCH}\\): DISPUTED`));
    await passChallengeWindow(c);
    await until(c, id, JobStatus.Finalized, [w]);
    w.close();
    liar.close();
  });
});
