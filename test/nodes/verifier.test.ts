/**
 * The verifier keeps up with many workers (issue 11, part 4), in process:
 *   - it re-runs pending results concurrently, as many at once as its pool has runners (observed
 *     with instrumented runners: a run waits until a second one has started, which only a
 *     verifier that checks jobs concurrently ever does; never more than the pool at once);
 *   - the worker and the verifier follow the chain with one block poll, not a receipt poll per
 *     transaction: on a chain that mines a block a second, the JSON-RPC calls per job are counted
 *     through the connection's provider and bounded.
 */
import { expect } from "chai";
import type { Signer } from "ethers";
import { MaxUint256 } from "ethers";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { JobStatus, requestInference } from "../../offchain/cli/index.js";
import type { InputLike } from "../../offchain/runtime/input.js";
import type { OutputRun, RunnerFactory } from "../../offchain/nodes/runner-pool.js";
import { RunnerPool, canonicalRunners, eachLimited } from "../../offchain/nodes/runner-pool.js";
import { Verifier } from "../../offchain/nodes/verifier.js";
import { Worker } from "../../offchain/nodes/worker.js";
import { mnistCnn } from "../disputes/models.js";
import type { InProcessChain } from "./inprocess.js";
import { inProcessChain, digitInputs } from "./inprocess.js";

const model = mnistCnn();
const nextInput = digitInputs(53);

/**
 * Real runners, instrumented: how many runs are in progress at once (the peak), and each run
 * held until `together` runs are in progress (or `holdMs` passes: then it goes on alone and the
 * peak shows it).
 */
function instrumented(together: number, holdMs = 5_000) {
  const state = { inFlight: 0, peak: 0, runs: 0, alone: 0 };
  let waiting: (() => void)[] = [];
  const factory: RunnerFactory = async (m, options) => {
    const real = await canonicalRunners(m, options);
    return {
      async run(input: InputLike): Promise<OutputRun> {
        state.inFlight++;
        state.runs++;
        state.peak = Math.max(state.peak, state.inFlight);
        try {
          if (state.inFlight >= together) {
            for (const go of waiting.splice(0)) go();
          } else {
            await new Promise<void>((resolve) => {
              const t = setTimeout(() => {
                state.alone++;
                waiting = waiting.filter((w) => w !== go);
                resolve();
              }, holdMs);
              const go = () => {
                clearTimeout(t);
                resolve();
              };
              waiting.push(go);
            });
          }
          return await real.run(input);
        } finally {
          state.inFlight--;
        }
      },
      release: () => real.release(),
    };
  };
  return { state, factory };
}

describe("nodes: a verifier that keeps up with many workers", function () {
  this.timeout(180_000);
  let dir: string;

  before(async function () {
    dir = await mkdtemp(join(tmpdir(), "veritensor-verifier-"));
  });
  after(async function () {
    await rm(dir, { recursive: true, force: true });
  });

  /** `n` jobs requested, claimed, run and submitted by the honest worker (pending for a verifier). */
  async function submitted(c: InProcessChain, n: number): Promise<bigint[]> {
    const ids: bigint[] = [];
    for (let i = 0; i < n; i++) ids.push((await requestInference(c.p, c.requester, { modelId: c.modelId, input: nextInput(), fee: c.fee, deadlineIn: 3600 })).jobId);
    const worker = await Worker.create({ protocol: c.p, signer: c.worker, db: ":memory:", cacheDir: join(dir, "models"), log: () => {}, pollMs: 0 });
    for (let i = 0; i < 5 && !(await allAt(c, ids, JobStatus.Submitted)); i++) await worker.tick();
    worker.close();
    expect(await allAt(c, ids, JobStatus.Submitted)).to.equal(true);
    return ids;
  }

  const allAt = async (c: InProcessChain, ids: bigint[], s: bigint) => (await Promise.all(ids.map(async (id) => (await c.p.jobManager.getJob(id)).status))).every((x) => x === s);

  it("the runner pool opens at most its size, and a run waits for a free runner", async function () {
    const opened: number[] = [];
    let active = 0;
    let peak = 0;
    const pool = new RunnerPool(model, 2, async () => {
      opened.push(opened.length);
      return {
        async run() {
          active++;
          peak = Math.max(peak, active);
          await new Promise((r) => setTimeout(r, 20));
          active--;
          return {} as OutputRun;
        },
        release: async () => undefined,
      };
    });
    await eachLimited([1, 2, 3, 4, 5, 6], 6, () => pool.use((r) => r.run(new Int32Array())));
    expect(opened).to.have.length(2);
    expect(peak).to.equal(2);
    await pool.close();
    expect(() => new RunnerPool(model, 0)).to.throw(RangeError);
  });

  it("with a pool of 2, pending results are re-run two at a time (and one at a time with a pool of 1)", async function () {
    const c = await inProcessChain();
    const ids = await submitted(c, 4);
    for (const parallel of [2, 1]) {
      const { state, factory } = instrumented(parallel);
      const lines: string[] = [];
      const verifier = await Verifier.create({
        protocol: c.p,
        signer: c.verifier,
        db: ":memory:",
        cacheDir: join(dir, "models"),
        log: (l) => lines.push(l),
        pollMs: 0,
        parallel,
        runners: factory,
      });
      expect(verifier.parallel).to.equal(parallel);
      await verifier.tick();
      const log = lines.join("\n");
      for (const id of ids) expect(log).to.match(new RegExp(`job ${id}: result checks out`));
      expect(state.runs, log).to.equal(ids.length);
      // Every run found a partner (none ran alone after waiting), and none beyond the pool.
      expect(state.alone, log).to.equal(0);
      expect(state.peak, log).to.equal(parallel);
      verifier.close();
    }
  });

  it("a chain with a block a second: at most 15 JSON-RPC calls per job for the worker, and a few for the verifier", async function () {
    const c = await inProcessChain();
    const BATCH = 24;
    // Requests go out together, as in the nodes benchmark: one allowance for all of them first.
    await (await c.p.token.connect(c.requester).approve(c.p.addresses.jobManager, MaxUint256)).wait();
    const conn = c.p.connection;
    await conn.provider.request({ method: "evm_setAutomine", params: [false] });
    await conn.provider.request({ method: "evm_setIntervalMining", params: [1000] });
    // Every request through the connection's provider is counted, by whoever sends it.
    const provider = conn.provider as unknown as { request: (a: { method: string }) => Promise<unknown> };
    const inner = provider.request.bind(provider);
    const byMethod = new Map<string, number>();
    let calls = 0;
    provider.request = (args: { method: string }) => {
      calls++;
      byMethod.set(args.method, (byMethod.get(args.method) ?? 0) + 1);
      return inner(args);
    };
    const breakdown = () => [...byMethod].sort((a, b) => b[1] - a[1]).map(([m, n]) => `${m}: ${n}`).join(", ");
    try {
      const o = (signer: Signer, name: string) => ({ protocol: c.p, signer, db: join(dir, `${name}.sqlite`), cacheDir: join(dir, "models"), log: () => {}, pollMs: 0 });
      const worker = await Worker.create(o(c.worker, "rpc-worker"));
      const verifier = await Verifier.create({ ...o(c.verifier, "rpc-verifier"), parallel: 2 });
      const requests = Array.from({ length: BATCH }, () => nextInput());
      const ids = (await Promise.all(requests.map((input) => requestInference(c.p, c.requester, { modelId: c.modelId, input, fee: c.fee, deadlineIn: 3600 })))).map((r) => r.jobId);
      for (let i = 0; i < 3; i++) await verifier.tick(); // its warm-up: the model, the requests seen

      // The worker alone: claim, run, submit every job; then (window skipped) finalize and withdraw.
      byMethod.clear();
      let before = calls;
      const stage = (id: bigint) => worker.store.job(id)?.stage;
      while (!ids.every((id) => stage(id) === "submitted")) await worker.tick();
      const params = await c.p.jobManager.params();
      const submitCalls = calls - before;
      // The verifier alone: every result checked (the window is still open).
      byMethod.clear();
      before = calls;
      while (!ids.every((id) => verifier.store.job(id)?.stage === "agreed")) await verifier.tick();
      const verifierCalls = calls - before;
      const verifierBreakdown = breakdown();
      await conn.networkHelpers.time.increase(Number(params.challengeWindow) + 1);
      byMethod.clear();
      before = calls;
      while (!ids.every((id) => stage(id) === "finalized")) await worker.tick();
      await worker.tick(); // withdraws
      const workerPerJob = (submitCalls + calls - before) / BATCH;
      const verifierPerJob = verifierCalls / BATCH;
      worker.close();
      verifier.close();
      expect(await allAt(c, ids, JobStatus.Finalized)).to.equal(true);
      // Today about 12 for the worker (3 transactions of 3 calls each: gas estimate, send, receipt;
      // its reads) and under 1 for the verifier (the events tell it what it needs): the bounds
      // catch a doubling. Before the shared block poll the worker made 70 to 105.
      expect(workerPerJob, `worker: ${workerPerJob} calls per job (${breakdown()})`).to.be.at.most(15);
      expect(verifierPerJob, `verifier: ${verifierPerJob} calls per job (${verifierBreakdown})`).to.be.at.most(4);
    } finally {
      provider.request = inner;
      await conn.provider.request({ method: "evm_setIntervalMining", params: [0] });
      await conn.provider.request({ method: "evm_setAutomine", params: [true] });
    }
  });
});
