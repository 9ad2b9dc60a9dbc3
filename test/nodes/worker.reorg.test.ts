/**
 * The worker when the chain reorganizes (offchain/nodes/worker.ts, node.ts), in process: blocks
 * it has acted on are taken back with `evm_snapshot`/`evm_revert`, as a reorganization that drops
 * them would. A submission that disappears is sent again (the same output, from the store); a claim
 * that disappears, before or after its submission, is decided again; a job claimed by another
 * worker on the new chain is left alone; with `confirmations` > 1, a request in a block that is
 * then reorganized away is never indexed, and the request that replaces it is.
 */
import { expect } from "chai";
import type { Signer } from "ethers";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

import type { Protocol } from "../../offchain/cli/index.js";
import { JobStatus, claimJob, requestInference, tensorCommitment } from "../../offchain/cli/index.js";
import type { WorkerOptions } from "../../offchain/nodes/worker.js";
import { Worker } from "../../offchain/nodes/worker.js";
import { mnistCnn } from "../disputes/models.js";
import { rejection } from "../tasks/helpers.js";
import { inProcessChain, digitInputs } from "./inprocess.js";

type Request = { method: string; params?: unknown[] };
type Eip1193 = { request(a: Request): Promise<unknown> };

/**
 * An `evm_snapshot` taken just before `me` sends its first transaction calling `fn` of the escrow
 * (the chain as it was then); `revert` takes the chain back to it, as a reorganization would.
 */
function snapshotBeforeSend(p: Protocol, me: string, fn: "claim" | "submitResult") {
  const provider = p.connection.provider as unknown as Eip1193;
  const inner = provider.request.bind(provider);
  const selector = p.jobManager.interface.getFunction(fn)!.selector;
  const taken: { id?: string } = {};
  provider.request = async (args: Request) => {
    const tx = args.method === "eth_sendTransaction" ? (args.params?.[0] as { from?: string; data?: string }) : undefined;
    if (taken.id === undefined && tx?.from?.toLowerCase() === me.toLowerCase() && tx.data?.startsWith(selector)) {
      taken.id = (await inner({ method: "evm_snapshot", params: [] })) as string;
    }
    return inner(args);
  };
  return {
    /** Takes the chain back to the snapshot (the blocks since are gone) and stops watching. */
    revert: async () => {
      provider.request = inner;
      expect(taken.id, `no ${fn} was sent`).to.not.equal(undefined);
      expect(await provider.request({ method: "evm_revert", params: [taken.id] })).to.equal(true);
    },
    stop: () => {
      provider.request = inner;
    },
  };
}

describe("nodes: the worker when blocks it acted on are reorganized away", function () {
  this.timeout(120_000);

  let dir: string;
  let p: Protocol;
  let modelId: bigint;
  let fee: bigint;
  let requester: Signer;
  let workerSigner: Signer;
  let otherSigner: Signer;
  let me: string;
  let window: number;
  const model = mnistCnn();
  const nextInput = digitInputs(97);
  let logs: string[] = [];
  const log = (l: string) => logs.push(l);
  const recent = () => logs.slice(-30).join("\n");

  before(async function () {
    dir = await mkdtemp(join(tmpdir(), "veritensor-reorg-"));
    ({ p, modelId, fee, requester, worker: workerSigner, cheater: otherSigner } = await inProcessChain());
    me = await workerSigner.getAddress();
    window = Number((await p.jobManager.params()).challengeWindow);
  });
  beforeEach(function () {
    logs = [];
  });
  after(async function () {
    await rm(dir, { recursive: true, force: true });
  });

  const rpc = (method: string, params: unknown[] = []) => p.connection.provider.request({ method, params });
  const head = () => p.connection.ethers.provider.getBlockNumber();
  const status = async (id: bigint) => (await p.jobManager.getJob(id)).status;
  const worker = (fromBlock: number, extra: Partial<WorkerOptions> = {}) =>
    Worker.create({ protocol: p, signer: workerSigner, db: ":memory:", cacheDir: join(dir, "models"), log, pollMs: 0, fromBlock, ...extra });
  const request = async (input = nextInput()) => (await requestInference(p, requester, { modelId, input, fee, deadlineIn: 3600 })).jobId;
  const submissions = async (id: bigint) => p.jobManager.queryFilter(p.jobManager.filters.ResultSubmitted(id), 0);

  /** Ticks `w` until `done` holds (at most `n` passes); fails with the log if it never does. */
  async function tickUntil(w: Worker, what: string, done: () => Promise<boolean>, n = 6): Promise<void> {
    for (let i = 0; i < n && !(await done()); i++) await w.tick();
    expect(await done(), `${what}:\n${recent()}`).to.equal(true);
  }

  function snapshotBefore(fn: "claim" | "submitResult") {
    return snapshotBeforeSend(p, me, fn);
  }

  it("its submission is reorganized away: once the window is over it sends the same output again (no re-run), then finalizes", async function () {
    const from = (await head()) + 1;
    const id = await request();
    const w = await worker(from);
    const snap = snapshotBefore("submitResult");
    try {
      await tickUntil(w, "submitted", async () => (await status(id)) === JobStatus.Submitted);
    } finally {
      snap.stop();
    }
    const [first] = await submissions(id);
    const output = w.store.job(id)!.output!;
    expect(first!.args.outputCommitment).to.equal(tensorCommitment(output));
    await snap.revert();
    expect(await status(id), "the claim stayed, the submission is gone").to.equal(JobStatus.Claimed);
    expect(await submissions(id)).to.have.length(0);
    expect(w.store.job(id)?.stage).to.equal("submitted");

    // The worker waits out the window it recorded; the result is still due (resultTimeout > window).
    await p.connection.networkHelpers.time.increase(window + 1);
    logs = [];
    await tickUntil(w, "submitted again", async () => (await status(id)) === JobStatus.Submitted);
    expect(recent()).to.include(`job ${id}: our submitted result is gone from the chain (reorganized?); submitting it again`);
    expect(recent(), "the output came from the store, not from a new run").to.not.include(`job ${id}: ran model`);
    const again = await submissions(id);
    expect(again).to.have.length(1);
    expect(again[0]!.args.outputCommitment).to.equal(first!.args.outputCommitment);
    expect(again[0]!.args.worker).to.equal(me);

    await p.connection.networkHelpers.time.increase(window + 1);
    await tickUntil(w, "finalized", async () => (await status(id)) === JobStatus.Finalized);
    expect(w.store.job(id)?.stage).to.equal("finalized");
    w.close();
  });

  it("its claim and submission are reorganized away: the job is Open again, and it decides, claims and serves it again", async function () {
    const from = (await head()) + 1;
    const id = await request();
    const w = await worker(from);
    const snap = snapshotBefore("claim");
    try {
      await tickUntil(w, "submitted", async () => (await status(id)) === JobStatus.Submitted);
    } finally {
      snap.stop();
    }
    await snap.revert();
    expect(await status(id)).to.equal(JobStatus.Open);

    await p.connection.networkHelpers.time.increase(window + 1);
    logs = [];
    await tickUntil(w, "claimed and submitted again", async () => (await status(id)) === JobStatus.Submitted);
    expect(recent()).to.include(`job ${id}: our claim is gone from the chain (reorganized?); deciding again`);
    expect((await p.jobManager.getJob(id)).worker).to.equal(me);
    expect(await submissions(id)).to.have.length(1);
    expect(w.store.job(id)?.stage).to.equal("submitted");
    w.close();
  });

  it("its claim and submission are reorganized away and another worker claims the job on the new chain: it leaves the job alone", async function () {
    const from = (await head()) + 1;
    const id = await request();
    const w = await worker(from);
    const snap = snapshotBefore("claim");
    try {
      await tickUntil(w, "submitted", async () => (await status(id)) === JobStatus.Submitted);
    } finally {
      snap.stop();
    }
    await snap.revert();
    await claimJob(p, otherSigner, id);

    await p.connection.networkHelpers.time.increase(window + 1);
    const nonce = await p.connection.ethers.provider.getTransactionCount(me, "latest");
    logs = [];
    for (let i = 0; i < 3; i++) await w.tick();
    expect(recent()).to.include(`job ${id}: our claim is gone from the chain (reorganized?); deciding again`);
    expect(w.store.job(id)).to.include({ stage: "skipped", note: `Claimed by ${await otherSigner.getAddress()}` });
    expect(await p.connection.ethers.provider.getTransactionCount(me, "latest"), "nothing sent for the job").to.equal(nonce);
    expect((await p.jobManager.getJob(id)).worker).to.equal(await otherSigner.getAddress());
    w.close();
  });

  it("its claim is reorganized away before it submitted: it decides again and claims the Open job (not given up as lost)", async function () {
    const from = (await head()) + 1;
    const id = await request();
    const w = await worker(from);
    // The claim goes through; the submission's send fails (the endpoint is away) and the pass ends.
    const provider = p.connection.provider as unknown as Eip1193;
    const inner = provider.request.bind(provider);
    const submit = p.jobManager.interface.getFunction("submitResult")!.selector;
    const claim = p.jobManager.interface.getFunction("claim")!.selector;
    let snapshot: string | undefined;
    provider.request = async (args: Request) => {
      const tx = args.method === "eth_sendTransaction" ? (args.params?.[0] as { from?: string; data?: string }) : undefined;
      if (tx?.from?.toLowerCase() === me.toLowerCase() && tx.data?.startsWith(claim)) snapshot ??= (await inner({ method: "evm_snapshot", params: [] })) as string;
      if (tx?.from?.toLowerCase() === me.toLowerCase() && tx.data?.startsWith(submit)) throw new Error("connect ECONNREFUSED 127.0.0.1:8545 (cut off by the test)");
      return inner(args);
    };
    try {
      expect(await rejection(() => w.tick())).to.match(new RegExp(`submitting the result of job ${id} failed`));
    } finally {
      provider.request = inner;
    }
    expect(await status(id)).to.equal(JobStatus.Claimed);
    expect(w.store.job(id)?.stage, recent()).to.equal("computed");
    expect(await rpc("evm_revert", [snapshot])).to.equal(true);
    expect(await status(id)).to.equal(JobStatus.Open);

    logs = [];
    await tickUntil(w, "claimed and submitted again", async () => (await status(id)) === JobStatus.Submitted);
    expect(recent()).to.include(`job ${id}: our claim is gone from the chain (reorganized?); deciding again`);
    expect((await p.jobManager.getJob(id)).worker).to.equal(me);
    expect(w.store.job(id)?.stage).to.equal("submitted");
    w.close();
  });

  it("with 2 confirmations, a request in a block then reorganized away is never indexed; the one that replaces it (same id) is", async function () {
    const from = (await head()) + 1;
    const w = await worker(from, { confirmations: 2, maxJobs: 0, withdrawAt: null });
    await w.tick();
    const snapshot = await rpc("evm_snapshot");
    const gone = nextInput();
    const id = await request(gone);
    await w.tick();
    expect(w.store.job(id), "not indexed at 1 confirmation").to.equal(undefined);
    expect(await rpc("evm_revert", [snapshot])).to.equal(true);

    // The new chain: another request takes the same id (and block), then a block confirms it.
    const kept = nextInput();
    expect(await request(kept)).to.equal(id);
    await w.tick();
    expect(w.store.job(id)).to.equal(undefined);
    await rpc("evm_mine");
    await w.tick();
    const row = w.store.job(id);
    expect(row, recent()).to.not.equal(undefined);
    expect([...row!.input!]).to.deep.equal([...kept]);
    expect(row!.stage).to.equal("seen");
    w.close();
  });
});

describe("nodes: the worker when its submission is reorganized away with the production windows (the window outlasts the result time)", function () {
  this.timeout(120_000);

  it("reads its submission back shortly before the result is due and sends it again in time, where it used to wait out the window and be timed out", async function () {
    const dir = await mkdtemp(join(tmpdir(), "veritensor-due-"));
    // As in production, the challenge window (here 600 s) is longer than the result time (180 s).
    const c = await inProcessChain({ Jobs: { challengeWindow: 600, resultTimeout: 180 } });
    const me = await c.worker.getAddress();
    const inputs = digitInputs(101);
    const lines: string[] = [];
    const w = await Worker.create({ protocol: c.p, signer: c.worker, db: ":memory:", cacheDir: join(dir, "models"), log: (l) => lines.push(l), pollMs: 0 });
    try {
      const id = (await requestInference(c.p, c.requester, { modelId: c.modelId, input: inputs(), fee: c.fee, deadlineIn: 3600 })).jobId;
      const status = async () => (await c.p.jobManager.getJob(id)).status;
      const snap = snapshotBeforeSend(c.p, me, "submitResult");
      try {
        for (let i = 0; i < 6 && (await status()) !== JobStatus.Submitted; i++) await w.tick();
      } finally {
        snap.stop();
      }
      expect(await status(), lines.join("\n")).to.equal(JobStatus.Submitted);
      const due = w.store.job(id)!.resultDue!;
      expect(due, "the claim's result due time is stored").to.be.a("bigint");
      await snap.revert();
      expect(await status(), "the submission is gone, the claim stayed").to.equal(JobStatus.Claimed);
      // Still well before the due time: nothing is read back yet.
      await w.tick();
      expect(await status()).to.equal(JobStatus.Claimed);
      // In the last minute before the result is due, the worker looks and sends it again.
      await c.p.connection.networkHelpers.time.increaseTo(due - 45n);
      for (let i = 0; i < 4 && (await status()) !== JobStatus.Submitted; i++) await w.tick();
      expect(await status(), lines.join("\n")).to.equal(JobStatus.Submitted);
      expect(lines.join("\n")).to.include(`job ${id}: our submitted result is gone from the chain (reorganized?), and the result is due`);
      expect(BigInt(await c.p.connection.networkHelpers.time.latest())).to.be.lessThan(due);
    } finally {
      w.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
