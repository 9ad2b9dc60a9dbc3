/**
 * The verifier's restart recovery (offchain/nodes/verifier.ts, journal.ts, store.ts), in process:
 * a verifier cut off from the chain at each point of opening a dispute (after writing what it
 * will open with, after sending its commitment, after sending its opening, with its opening still
 * in the mempool) and restarted on the same store settles what it sent, opens the dispute exactly
 * once, and plays it to the end; one restarted mid-game rebuilds its trace (a lie included) from
 * the store, and refuses to play a trace that does not match what it entered the dispute with.
 *
 * "Cut off" stands for a crash: every request after (or instead of) the chosen transaction fails
 * as an unreachable endpoint does, so the node stops where it was, with its store as written so far.
 */
import { expect } from "chai";
import type { Signer } from "ethers";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

import type { Protocol } from "../../offchain/cli/index.js";
import { JobStatus, requestInference } from "../../offchain/cli/index.js";
import { Side } from "../../offchain/clients/game-types.js";
import { canonicalRunners } from "../../offchain/nodes/runner-pool.js";
import type { VerifierOptions } from "../../offchain/nodes/verifier.js";
import { Verifier } from "../../offchain/nodes/verifier.js";
import { Worker } from "../../offchain/nodes/worker.js";
import { rejection } from "../tasks/helpers.js";
import { inProcessChain, digitInputs } from "./inprocess.js";

type Request = { method: string; params?: unknown[] };
type Eip1193 = { request(a: Request): Promise<unknown> };

/**
 * Cuts `from` off from the chain at its first transaction calling `selector`: `before` (instead of
 * sending it), `after` (once it is sent and mined), or `mempool` (sent while the chain does not
 * mine: it waits in the mempool). From then on every request fails as an unreachable endpoint's
 * would, until `restore()`.
 */
function cutOffAt(p: Protocol, from: string, selector: string, when: "before" | "after" | "mempool") {
  const provider = p.connection.provider as unknown as Eip1193;
  const inner = provider.request.bind(provider);
  const state = { down: false, sent: undefined as string | undefined };
  const unreachable = () => new Error("connect ECONNREFUSED 127.0.0.1:8545 (cut off by the test)");
  provider.request = async (args: Request) => {
    if (state.down) throw unreachable();
    const tx = args.method === "eth_sendTransaction" ? (args.params?.[0] as { from?: string; data?: string }) : undefined;
    if (tx?.from?.toLowerCase() === from.toLowerCase() && tx.data?.startsWith(selector)) {
      if (when === "before") {
        state.down = true;
        throw unreachable();
      }
      if (when === "mempool") await inner({ method: "evm_setAutomine", params: [false] });
      state.sent = (await inner(args)) as string;
      state.down = true;
      return state.sent;
    }
    return inner(args);
  };
  return {
    state,
    restore: () => {
      provider.request = inner;
    },
  };
}

describe("nodes: the verifier's restart recovery", function () {
  this.timeout(120_000);

  let dir: string;
  let p: Protocol;
  let modelId: bigint;
  let fee: bigint;
  let requester: Signer;
  let workerSigner: Signer;
  let cheaterSigner: Signer;
  let verifierSigner: Signer;
  let me: string;
  const nextInput = digitInputs(89);
  let logs: string[] = [];
  const log = (l: string) => logs.push(l);
  const recent = () => logs.slice(-30).join("\n");
  let dbs = 0;

  before(async function () {
    dir = await mkdtemp(join(tmpdir(), "veritensor-recovery-"));
    ({ p, modelId, fee, requester, worker: workerSigner, cheater: cheaterSigner, verifier: verifierSigner } = await inProcessChain());
    me = await verifierSigner.getAddress();
  });
  beforeEach(function () {
    logs = [];
  });
  after(async function () {
    await rm(dir, { recursive: true, force: true });
  });

  const head = () => p.connection.ethers.provider.getBlockNumber();
  const selector = (name: "commitDispute" | "openDispute") => p.disputes.interface.getFunction(name)!.selector;

  /** A verifier on the store `db` that reads the chain from `fromBlock` (its runs in this thread). */
  const verifier = (db: string, fromBlock: number, extra: Partial<VerifierOptions> = {}) =>
    Verifier.create({ protocol: p, signer: verifierSigner, db, cacheDir: join(dir, "models"), log, pollMs: 0, fromBlock, parallel: 1, runners: canonicalRunners, ...extra });
  const freshDb = () => join(dir, `verifier-${++dbs}.sqlite`);

  /** A job answered by `who` (the cheater: a wrong result; the worker: a right one), Submitted; returns its id, first block and node. */
  async function answered(who: "cheater" | "worker"): Promise<{ id: bigint; from: number; node: Worker }> {
    const from = (await head()) + 1;
    const id = (await requestInference(p, requester, { modelId, input: nextInput(), fee, deadlineIn: 3600 })).jobId;
    const signer = who === "cheater" ? cheaterSigner : workerSigner;
    const node = await Worker.create({ protocol: p, signer, db: ":memory:", cacheDir: join(dir, "models"), log, pollMs: 0, fromBlock: from, maxJobs: 1, ...(who === "cheater" ? { cheat: {} } : {}) });
    for (let i = 0; i < 3 && (await p.jobManager.getJob(id)).status !== JobStatus.Submitted; i++) await node.tick();
    expect((await p.jobManager.getJob(id)).status, recent()).to.equal(JobStatus.Submitted);
    return { id, from, node };
  }

  /** The verifier's commitments since block `from`, and the games opened on job `id`. */
  async function onChain(id: bigint, from: number) {
    const commits = await p.disputes.queryFilter(p.disputes.filters.DisputeCommitted(undefined, me), from);
    const opened = await p.disputes.queryFilter(p.disputes.filters.DisputeOpened(id));
    return { commits, opened };
  }

  /** Ticks both until the verifier's game on job `id` is settled, then the verifier once more (it records the outcome). */
  async function playOut(id: bigint, v: Verifier, w: Worker): Promise<void> {
    const settled = async () => {
      const games = await p.disputes.gamesOf(id);
      return games.length > 0 && (await p.disputes.gameRecord(games[0]!)).settled;
    };
    for (let i = 0; i < 200 && !(await settled()); i++) {
      await v.tick();
      await w.tick();
    }
    await v.tick();
  }

  /** Runs the first verifier until it is cut off at `selector`/`when`; returns its store's file. */
  async function crashAt(from: number, name: "commitDispute" | "openDispute", when: "before" | "after" | "mempool"): Promise<{ db: string; sent?: string }> {
    const db = freshDb();
    const first = await verifier(db, from);
    const cut = cutOffAt(p, me, selector(name), when);
    try {
      expect(await rejection(() => first.tick())).to.match(/ECONNREFUSED/);
      expect(cut.state.down, `the verifier never reached ${name}:\n${recent()}`).to.equal(true);
    } finally {
      cut.restore();
      first.close();
    }
    return { db, sent: cut.state.sent };
  }

  it("stopped after writing what it will open with, before sending its commitment: the intent is dropped, and it commits and opens once", async function () {
    const { id, from, node: cheater } = await answered("cheater");
    const { db } = await crashAt(from, "commitDispute", "before");
    expect((await onChain(id, from)).commits, "nothing was committed").to.have.length(0);

    const v = await verifier(db, from);
    expect(v.store.job(id)?.disputeRoot, "the trace root was written ahead").to.match(/^0x[0-9a-f]{64}$/);
    expect(v.store.intent(`commit:${id}`)?.state).to.equal("pending");
    await v.tick();
    expect(recent()).to.include(`recovered commit to a dispute on job ${id}: it never reached the chain; deciding again`);
    const { commits, opened } = await onChain(id, from);
    expect(commits, recent()).to.have.length(1);
    expect(opened).to.have.length(1);
    expect(opened[0]!.args.rank).to.equal(commits[0]!.args.rank);
    expect(v.store.job(id)?.stage).to.equal("disputed");

    await playOut(id, v, cheater);
    expect((await p.jobManager.getJob(id)).status, recent()).to.equal(JobStatus.Rejected);
    expect(v.store.dispute(opened[0]!.args.game)?.status).to.equal("won");
    v.close();
    cheater.close();
  });

  it("stopped after sending its commitment: the commitment is found on chain and opened, never sent twice", async function () {
    const { id, from, node: cheater } = await answered("cheater");
    const { db, sent } = await crashAt(from, "commitDispute", "after");
    const before = await onChain(id, from);
    expect(before.commits).to.have.length(1);
    expect(before.opened).to.have.length(0);

    const v = await verifier(db, from);
    expect(v.store.intent(`commit:${id}`)).to.include({ state: "sent", txHash: sent });
    await v.tick();
    expect(recent()).to.include(`recovered commit to a dispute on job ${id}: it reached the chain`);
    expect(v.store.intent(`commit:${id}`)?.state).to.equal("done");
    const { commits, opened } = await onChain(id, from);
    expect(commits, "no second commitment").to.have.length(1);
    expect(opened, recent()).to.have.length(1);
    expect(opened[0]!.args.rank).to.equal(before.commits[0]!.args.rank);
    expect(opened[0]!.args.challenger).to.equal(me);

    await playOut(id, v, cheater);
    expect((await p.jobManager.getJob(id)).status, recent()).to.equal(JobStatus.Rejected);
    expect(v.store.dispute(opened[0]!.args.game)?.status).to.equal("won");
    v.close();
    cheater.close();
  });

  it("stopped after sending its opening: the game is found on chain and played from the store, never opened twice", async function () {
    const { id, from, node: cheater } = await answered("cheater");
    const { db } = await crashAt(from, "openDispute", "after");
    const { commits, opened } = await onChain(id, from);
    expect(commits).to.have.length(1);
    expect(opened).to.have.length(1);
    const game = opened[0]!.args.game;

    const v = await verifier(db, from);
    const root = v.store.job(id)!.disputeRoot!;
    expect(v.store.job(id)?.stage, "the first run never saw its game").to.equal("pending");
    expect(v.store.dispute(game)).to.equal(undefined);
    await v.tick();
    expect(recent()).to.include(`recovered open dispute job ${id}: it reached the chain`);
    expect(recent()).to.include(`job ${id}: our dispute (game`);
    expect(recent()).to.include("is on chain (recovered)");
    // Tracked again with what the first run wrote ahead, its trace rebuilt from that.
    expect(v.store.dispute(game)).to.include({ jobId: id, side: Side.Challenger, claim: root, status: "playing" });
    expect(v.store.job(id)?.stage).to.equal("disputed");
    expect(recent()).to.match(new RegExp(`job ${id}, game .*: trace rebuilt for the dispute`));
    const after = await onChain(id, from);
    expect(after.commits, "no second commitment").to.have.length(1);
    expect(after.opened, "no second game").to.have.length(1);

    await playOut(id, v, cheater);
    expect((await p.jobManager.getJob(id)).status, recent()).to.equal(JobStatus.Rejected);
    expect(v.store.dispute(game)?.status).to.equal("won");
    v.close();
    cheater.close();
  });

  it("stopped with its opening in the mempool: it waits for it, sends nothing, then plays the game it opened", async function () {
    const { id, from, node: cheater } = await answered("cheater");
    const conn = p.connection;
    try {
      const { db, sent } = await crashAt(from, "openDispute", "mempool");
      expect(sent).to.match(/^0x/);
      expect(await conn.ethers.provider.getTransactionReceipt(sent!)).to.equal(null);

      const v = await verifier(db, from);
      const nonce = await conn.ethers.provider.getTransactionCount(me, "pending");
      for (let i = 0; i < 2; i++) await v.tick();
      expect(recent()).to.include("1 transaction(s) still waiting to be mined; acting once they are");
      expect(await conn.ethers.provider.getTransactionCount(me, "pending"), "nothing else sent").to.equal(nonce);
      expect(v.store.intent(`open:${id}`)?.state).to.equal("sent");
      expect(v.store.job(id)?.stage).to.equal("pending");

      await conn.provider.request({ method: "evm_setAutomine", params: [true] });
      await conn.provider.request({ method: "evm_mine", params: [] });
      expect((await conn.ethers.provider.getTransactionReceipt(sent!))?.status).to.equal(1);
      await v.tick();
      expect(v.store.intent(`open:${id}`)?.state).to.equal("done");
      expect(v.store.job(id)?.stage, recent()).to.equal("disputed");
      const { commits, opened } = await onChain(id, from);
      expect(commits).to.have.length(1);
      expect(opened).to.have.length(1);

      await playOut(id, v, cheater);
      expect((await p.jobManager.getJob(id)).status, recent()).to.equal(JobStatus.Rejected);
      expect(v.store.dispute(opened[0]!.args.game)?.status).to.equal("won");
      v.close();
    } finally {
      await conn.provider.request({ method: "evm_setAutomine", params: [true] });
      cheater.close();
    }
  });

  it("a lying verifier restarted mid-game (without --cheat) rebuilds its lie from the store and plays it to the end", async function () {
    const { id, from, node: worker } = await answered("worker");
    const db = freshDb();
    const liar = await verifier(db, from, { cheat: {} });
    await liar.tick();
    const [game] = await p.disputes.gamesOf(id);
    expect(game, recent()).to.not.equal(undefined);
    const cheat = liar.store.job(id)!.cheat!;
    expect(JSON.parse(cheat)).to.have.keys("layer", "element", "delta");
    expect(liar.store.dispute(game!)).to.include({ cheat, status: "playing" });
    // A few moves each, then the liar stops (its player, in memory, is gone).
    for (let i = 0; i < 3; i++) {
      await worker.tick();
      await liar.tick();
    }
    const moves = liar.store.dispute(game!)!.moves;
    expect(moves, recent()).to.be.greaterThan(0);
    liar.close();

    logs = [];
    const again = await verifier(db, from);
    await playOut(id, again, worker);
    expect(logs.join("\n")).to.match(new RegExp(`job ${id}, game .*: trace rebuilt for the dispute`));
    expect(logs.join("\n")).to.not.include("the dispute was entered with");
    expect(again.store.dispute(game!)!.moves, "it kept moving after the restart").to.be.greaterThan(moves);
    // The honest worker wins against the lie, played consistently to the end (no timeout of the liar).
    expect((await p.jobManager.getJob(id)).status, recent()).to.equal(JobStatus.Submitted);
    expect(again.store.dispute(game!)).to.include({ status: "lost", outcome: "defender wins" });
    again.close();
    worker.close();
  });

  it("restarted on a store whose dispute does not match the trace it rebuilds, it makes no move and says why", async function () {
    const { id, from, node: cheater } = await answered("cheater");
    const db = freshDb();
    const first = await verifier(db, from);
    await first.tick();
    const [game] = await p.disputes.gamesOf(id);
    expect(game, recent()).to.not.equal(undefined);
    const claim = first.store.dispute(game!)!.claim;
    first.close();
    await cheater.tick(); // the defender posts its root: the challenger's turn

    const again = await verifier(db, from);
    const wrong = "0x" + "ab".repeat(32);
    again.store.db.prepare("UPDATE disputes SET claim = ? WHERE game = ?").run(wrong, game!.toLowerCase());
    const nonce = await p.connection.ethers.provider.getTransactionCount(me, "latest");
    logs = [];
    await again.tick();
    expect(recent()).to.include(`job ${id}: the rebuilt trace has root ${claim}, the dispute was entered with ${wrong}`);
    expect(await p.connection.ethers.provider.getTransactionCount(me, "latest"), "no move sent").to.equal(nonce);
    expect(again.store.dispute(game!)).to.include({ status: "playing", moves: 0 });
    again.close();
    cheater.close();
  });
});
