/**
 * The nodes and the dispute rules of issue 10, in process: the verifier commits to its claim and
 * opens it in a later block (the game takes the commitment's rank); a verifier that restarts
 * between its commitment and its opening finds its commitment on chain (the salt is derived from
 * its own signature) and opens that one, keeping its rank; an honest worker closes the disputes of
 * a job it defended before it finalizes, and is credited its share of the lost bond.
 */
import { expect } from "chai";
import type { Signer } from "ethers";
import { id as keccakText } from "ethers";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

import type { Protocol } from "../../offchain/cli/index.js";
import { JobStatus, requestInference } from "../../offchain/cli/index.js";
import type { Hex } from "../../offchain/commitments/merkle.js";
import { canonicalBytes } from "../../offchain/commitments/tensor.js";
import { quantizeInput } from "../../offchain/convert/evaluate.js";
import { loadDigits, toFloat } from "../../offchain/datasets/mnist.js";
import { commitDispute, derivedSalt, submittedResultOf } from "../../offchain/clients/disputes.js";
import { GameStatus, Side } from "../../offchain/clients/game-types.js";
import { DisputePlayer } from "../../offchain/disputes/player.js";
import { computeTrace, intsOf } from "../../offchain/runtime/trace.js";
import { Verifier } from "../../offchain/nodes/verifier.js";
import { Worker } from "../../offchain/nodes/worker.js";
import { mnistCnn } from "../disputes/models.js";
import { inProcessChain, digitInputs } from "./inprocess.js";

describe("nodes in-process: commit, then open; closing a job's disputes", function () {
  this.timeout(120_000);

  let dir: string;
  let p: Protocol;
  let modelId: bigint;
  let fee: bigint;
  let requester: Signer;
  let workerSigner: Signer;
  let cheaterSigner: Signer;
  let verifierSigner: Signer;
  const model = mnistCnn();
  const digits = loadDigits("heldout");
  const nextInput = digitInputs(71);
  const logs: string[] = [];
  const log = (l: string) => logs.push(l);

  before(async function () {
    dir = await mkdtemp(join(tmpdir(), "veritensor-commit-"));
    ({ p, modelId, fee, requester, worker: workerSigner, cheater: cheaterSigner, verifier: verifierSigner } = await inProcessChain());
  });

  after(async function () {
    await rm(dir, { recursive: true, force: true });
  });

  const node = async <T>(make: (o: { protocol: Protocol; db: string; cacheDir: string; log: (l: string) => void; pollMs: number }) => Promise<T>) =>
    make({ protocol: p, db: ":memory:", cacheDir: join(dir, "models"), log, pollMs: 0 });

  /** A job the cheater claims and answers with a wrong result; returns its id and input. */
  async function cheatedJob(): Promise<{ id: bigint; input: Uint8Array; cheater: Worker }> {
    const input = nextInput();
    const id = (await requestInference(p, requester, { modelId, input, fee, deadlineIn: 3600 })).jobId;
    const cheater = await node((o) => Worker.create({ ...o, signer: cheaterSigner, cheat: {}, maxJobs: 1 }));
    for (let i = 0; i < 3 && (await p.jobManager.getJob(id)).status !== JobStatus.Submitted; i++) await cheater.tick();
    expect((await p.jobManager.getJob(id)).status, logs.slice(-10).join("\n")).to.equal(JobStatus.Submitted);
    return { id, input, cheater };
  }

  /** Ticks both nodes until job `id` is no longer Submitted. */
  async function playOut(id: bigint, a: { tick(): Promise<unknown> }, b: { tick(): Promise<unknown> }) {
    for (let i = 0; i < 200 && (await p.jobManager.getJob(id)).status === JobStatus.Submitted; i++) {
      await a.tick();
      await b.tick();
    }
  }

  const verifierCommits = async (from?: number) => {
    const me = await verifierSigner.getAddress();
    return p.disputes.queryFilter(p.disputes.filters.DisputeCommitted(undefined, me), from ?? 0);
  };

  it("the verifier commits in one block and opens in a later one; its game has the commitment's rank", async function () {
    const { id, cheater } = await cheatedJob();
    const start = await p.connection.ethers.provider.getBlockNumber();
    const verifier = await node((o) => Verifier.create({ ...o, signer: verifierSigner }));
    await verifier.tick();
    const commits = await verifierCommits(start);
    expect(commits, logs.slice(-10).join("\n")).to.have.length(1);
    const [opened] = await p.disputes.queryFilter(p.disputes.filters.DisputeOpened(id));
    expect(opened!.blockNumber).to.be.greaterThan(commits[0]!.blockNumber);
    expect(opened!.args.rank).to.equal(commits[0]!.args.rank);
    expect((await p.disputes.gameRecord(opened!.args.game)).rank).to.equal(commits[0]!.args.rank);
    expect(logs.some((l) => l.includes(`job ${id}: committed to the dispute (rank ${commits[0]!.args.rank})`))).to.equal(true);
    // The store records both intents, each done once.
    expect(verifier.store.intent(`commit:${id}`)?.state).to.equal("done");
    expect(verifier.store.intent(`open:${id}`)?.state).to.equal("done");

    await playOut(id, verifier, cheater);
    expect((await p.jobManager.getJob(id)).status, logs.slice(-30).join("\n")).to.equal(JobStatus.Rejected);
    // A rejected job takes no further game: its disputes closed in the deciding move, the verifier
    // (the first-committed winner) got the reward.
    const [closed] = await p.disputes.queryFilter(p.disputes.filters.DisputesClosed(id));
    expect(closed!.args.winnerGame).to.equal(opened!.args.game);
    expect(closed!.args.challengerReward).to.be.greaterThan(0n);
    verifier.close();
    cheater.close();
  });

  it("a verifier restarted between its commitment and its opening opens that commitment, keeping its rank", async function () {
    const { id, input, cheater } = await cheatedJob();
    // What the verifier's last run sent before it died: its own commitment, salt from its signature.
    const t = await computeTrace(model, intsOf(input));
    const player = new DisputePlayer(Side.Challenger, verifierSigner, model, t.trace);
    const result = await submittedResultOf(p, id);
    expect(player.disputes(result)).to.equal(true);
    const args = player.openArgs(result, await derivedSalt(verifierSigner, p.addresses.disputeFactory, id, t.root as Hex));
    const start = await p.connection.ethers.provider.getBlockNumber();
    const { rank, receipt } = await commitDispute(p.disputes, verifierSigner, id, args);
    expect(receipt).to.not.equal(undefined);
    // Someone commits after it (a copycat that saw nothing yet): a later rank.
    const later = await p.disputes.connect(requester).commitDispute.staticCall(keccakText("someone else's claim"));
    await p.disputes.connect(requester).commitDispute(keccakText("someone else's claim"));
    expect(later).to.be.greaterThan(rank);

    // The restarted verifier (a fresh store: the worst case) re-derives the same salt and commitment.
    const verifier = await node((o) => Verifier.create({ ...o, signer: verifierSigner }));
    await verifier.tick();
    expect(await verifierCommits(start), "no second commitment").to.have.length(1);
    const [opened] = await p.disputes.queryFilter(p.disputes.filters.DisputeOpened(id));
    expect(opened, logs.slice(-10).join("\n")).to.not.equal(undefined);
    expect(opened!.args.challenger).to.equal(await verifierSigner.getAddress());
    expect(opened!.args.rank).to.equal(rank);
    expect(logs.some((l) => l.includes(`job ${id}: committed to the dispute (rank ${rank})`))).to.equal(true);

    await playOut(id, verifier, cheater);
    expect((await p.jobManager.getJob(id)).status, logs.slice(-30).join("\n")).to.equal(JobStatus.Rejected);
    verifier.close();
    cheater.close();
  });

  it("an honest worker closes the disputes it won once the window is over, then finalizes: its share of the lost bond is paid", async function () {
    const input = nextInput();
    const id = (await requestInference(p, requester, { modelId, input, fee, deadlineIn: 3600 })).jobId;
    const worker = await node((o) => Worker.create({ ...o, signer: workerSigner, maxJobs: 1 }));
    const liar = await node((o) => Verifier.create({ ...o, signer: verifierSigner, cheat: {} }));
    for (let i = 0; i < 3 && (await p.jobManager.getJob(id)).status !== JobStatus.Submitted; i++) await worker.tick();
    await liar.tick();
    const [game] = await p.disputes.gamesOf(id);
    expect(game, logs.slice(-10).join("\n")).to.not.equal(undefined);
    for (let i = 0; i < 200 && (await p.disputes.gameRecord(game!)).settled === false; i++) {
      await worker.tick();
      await liar.tick();
    }
    const record = await p.disputes.gameRecord(game!);
    expect(record.settled).to.equal(true);
    const settled = await p.disputes.queryFilter(p.disputes.filters.DisputeSettled(id, game));
    expect(Number(settled[0]!.args.status)).to.equal(GameStatus.DefenderWins);
    // Held while the window is open: another game could still prove the result wrong.
    const share = (record.bond * record.defenderRewardBps) / 10_000n;
    expect((await p.disputes.jobDisputes(id)).defenderRewards).to.equal(share);
    expect((await p.disputes.jobDisputes(id)).closed).to.equal(false);

    await p.connection.networkHelpers.time.increaseTo((await p.jobManager.getJob(id)).timer);
    const me = await workerSigner.getAddress();
    for (let i = 0; i < 3 && (await p.jobManager.getJob(id)).status !== JobStatus.Finalized; i++) await worker.tick();
    expect((await p.jobManager.getJob(id)).status, logs.slice(-10).join("\n")).to.equal(JobStatus.Finalized);
    const [closed] = await p.disputes.queryFilter(p.disputes.filters.DisputesClosed(id));
    expect([...closed!.args]).to.deep.equal([id, "0x0000000000000000000000000000000000000000", 0n, share, 0n]);
    const closedTx = await closed!.getTransaction();
    expect(closedTx.from).to.equal(me);
    expect(worker.store.intent(`close-disputes:${id}`)?.state).to.equal("done");
    // Closed before the finalization, in an earlier transaction.
    const [finalized] = await p.jobManager.queryFilter(p.jobManager.filters.JobFinalized(id));
    expect(finalized!.blockNumber).to.be.greaterThan(closed!.blockNumber);
    expect(logs.some((l) => l.includes(`job ${id}: its 1 dispute(s) closed`))).to.equal(true);
    worker.close();
    liar.close();
  });

  it("a worker does not claim a job whose input is outside the model's declared range (the run would fail and the timeout slash it)", async function () {
    const bad = quantizeInput(model, toFloat(digits.pixels[3]!));
    bad[17] = model.inputRange[1] + 1;
    const job = (await requestInference(p, requester, { modelId, input: canonicalBytes(bad), fee, deadlineIn: 3600 })).jobId;
    const worker = await node((o) => Worker.create({ ...o, signer: workerSigner }));
    for (let i = 0; i < 3; i++) await worker.tick();
    expect((await p.jobManager.getJob(job)).status).to.equal(JobStatus.Open);
    expect(worker.store.job(job)?.stage).to.equal("skipped");
    expect(worker.store.job(job)?.note).to.include("outside the declared range");
    worker.close();
  });

  // The escrow's dispute manager is appointed once, at deployment; a worker whose address book names
  // another dispute factory (a wrong or forged book) would lock stake under a judge it does not know.
  it("a worker claims only jobs judged by the dispute factory its address book names", async function () {
    const foreign = (await requestInference(p, requester, { modelId, input: nextInput(), fee, deadlineIn: 3600 })).jobId;
    const misled: Protocol = { ...p, addresses: { ...p.addresses, disputeFactory: await requester.getAddress() } };
    const worker = await Worker.create({ protocol: misled, db: ":memory:", cacheDir: join(dir, "models"), log, pollMs: 0, signer: workerSigner });
    for (let i = 0; i < 3; i++) await worker.tick();
    // The escrow's manager could slash the lock a claim takes: the job is left alone, and said why.
    expect((await p.jobManager.getJob(foreign)).status).to.equal(JobStatus.Open);
    expect(worker.store.job(foreign)?.stage).to.equal("skipped");
    expect(worker.store.job(foreign)?.note).to.include(p.addresses.disputeFactory);
    worker.close();
  });
});
