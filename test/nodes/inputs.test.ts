/**
 * Jobs whose input is given by URI (`--input-uri` with its commitment): the worker fetches and
 * checks the input before it claims, the verifier before it re-runs, over file:// and http://.
 * Inputs that do not match the requester's commitment or the model's size are never claimed. Also:
 * --confirmations, and a batch's transactions sent together.
 */
import { expect } from "chai";
import type { Signer } from "ethers";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import type { Server } from "node:http";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

import type { Protocol } from "../../offchain/cli/index.js";
import { JobStatus, requestInference } from "../../offchain/cli/index.js";
import { tensorCommitment } from "../../offchain/clients/tensors.js";
import { computeTrace, intsOf } from "../../offchain/runtime/trace.js";
import { Verifier } from "../../offchain/nodes/verifier.js";
import { Worker } from "../../offchain/nodes/worker.js";
import { mnistCnn } from "../disputes/models.js";
import { inProcessChain, digitInputs } from "./inprocess.js";

describe("nodes in-process: inputs given by URI, confirmations, transactions sent together", function () {
  this.timeout(120_000);

  let dir: string;
  let server: Server;
  let httpBase: string;
  const served = new Map<string, Uint8Array>();
  let p: Protocol;
  let modelId: bigint;
  let fee: bigint;
  let requester: Signer;
  let workerSigner: Signer;
  let cheaterSigner: Signer;
  let verifierSigner: Signer;
  const model = mnistCnn();
  const nextInput = digitInputs(53);
  const logs: string[] = [];
  const log = (l: string) => logs.push(l);

  before(async function () {
    dir = await mkdtemp(join(tmpdir(), "veritensor-inputs-"));
    server = createServer((req, res) => {
      const body = served.get(req.url ?? "");
      if (!body) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { "content-type": "application/octet-stream", "content-length": String(body.length) });
      res.end(Buffer.from(body));
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    httpBase = `http://127.0.0.1:${(server.address() as { port: number }).port}`;

    ({ p, modelId, fee, requester, worker: workerSigner, cheater: cheaterSigner, verifier: verifierSigner } = await inProcessChain());
  });

  after(async function () {
    await new Promise<void>((r) => server.close(() => r()));
    await rm(dir, { recursive: true, force: true });
  });

  const node = async <T>(make: (o: { protocol: Protocol; db: string; cacheDir: string; log: (l: string) => void; pollMs: number }) => Promise<T>) =>
    make({ protocol: p, db: ":memory:", cacheDir: join(dir, "models"), log, pollMs: 0 });

  /** Requests a job whose input is at `uri`, committed to as the tensor commitment of `committed`. */
  const requestAt = async (uri: string, committed: Uint8Array) =>
    (await requestInference(p, requester, { modelId, inputUri: uri, inputCommitment: tensorCommitment(committed), fee, deadlineIn: 3600 })).jobId;

  const fileUri = async (name: string, bytes: Uint8Array) => {
    const file = join(dir, name);
    await writeFile(file, bytes);
    return pathToFileURL(file).href;
  };

  it("serves file:// and http:// inputs: claimed, run, submitted, checked by the verifier, finalized", async function () {
    const a = nextInput();
    const b = nextInput();
    served.set("/b.bin", b);
    const jobA = await requestAt(await fileUri("a.bin", a), a);
    const jobB = await requestAt(`${httpBase}/b.bin`, b);
    const worker = await node((o) => Worker.create({ ...o, signer: workerSigner, maxJobs: 2 }));
    const verifier = await node((o) => Verifier.create({ ...o, signer: verifierSigner }));
    for (let i = 0; i < 3; i++) await worker.tick();
    for (let i = 0; i < 2; i++) await verifier.tick();

    for (const [id, input] of [
      [jobA, a],
      [jobB, b],
    ] as const) {
      const job = await p.jobManager.getJob(id);
      expect(job.status, logs.join("\n")).to.equal(JobStatus.Submitted);
      const [submitted] = await p.jobManager.queryFilter(p.jobManager.filters.ResultSubmitted(id));
      const want = await computeTrace(model, intsOf(input));
      expect(submitted!.args.outputCommitment).to.equal(want.outputCommitment);
      expect(intsOf(Buffer.from(submitted!.args.output.slice(2), "hex"))).to.deep.equal(want.output);
      expect(verifier.store.job(id)?.stage, logs.join("\n")).to.equal("agreed");
    }

    await p.connection.networkHelpers.time.increase(Number((await p.jobManager.params()).challengeWindow) + 1);
    for (let i = 0; i < 2; i++) await worker.tick();
    expect((await p.jobManager.getJob(jobA)).status).to.equal(JobStatus.Finalized);
    expect((await p.jobManager.getJob(jobB)).status).to.equal(JobStatus.Finalized);
    worker.close();
    verifier.close();
  });

  it("never claims an input that does not match its commitment or the model's size", async function () {
    const committed = nextInput();
    const other = nextInput();
    const mismatch = await requestAt(await fileUri("other.bin", other), committed);
    const short = nextInput();
    const tooShort = await requestAt(await fileUri("short.bin", short.slice(0, 400)), short);
    const worker = await node((o) => Worker.create({ ...o, signer: workerSigner }));
    const lockedBefore = (await p.staking.stakeOf(await workerSigner.getAddress())).locked;
    for (let i = 0; i < 2; i++) await worker.tick();

    expect((await p.jobManager.getJob(mismatch)).status).to.equal(JobStatus.Open);
    expect((await p.jobManager.getJob(tooShort)).status).to.equal(JobStatus.Open);
    expect(worker.store.job(mismatch)?.stage).to.equal("skipped");
    expect(worker.store.job(mismatch)?.note).to.match(/has tensor commitment 0x[0-9a-f]{64}, but the job committed to/);
    expect(worker.store.job(tooShort)?.note).to.match(/is 400 bytes; the model takes 784 elements \(3136 bytes\)/);
    expect((await p.staking.stakeOf(await workerSigner.getAddress())).locked).to.equal(lockedBefore);
    worker.close();
  });

  it("waits for an unreachable input and claims the job once it can be fetched", async function () {
    const input = nextInput();
    const job = await requestAt(`${httpBase}/later.bin`, input);
    const worker = await node((o) => Worker.create({ ...o, signer: workerSigner }));
    for (let i = 0; i < 2; i++) await worker.tick();
    expect((await p.jobManager.getJob(job)).status).to.equal(JobStatus.Open);
    expect(worker.store.job(job)?.stage).to.equal("seen");
    expect(logs.filter((l) => l.includes(`job ${job}: its input is unreachable`))).to.have.length(1);

    served.set("/later.bin", input);
    for (let i = 0; i < 2; i++) await worker.tick();
    expect((await p.jobManager.getJob(job)).status).to.equal(JobStatus.Submitted);
    worker.close();
  });

  it("a cheat on a URI job is caught: the verifier fetches the input, disputes and wins", async function () {
    const input = nextInput();
    const job = await requestAt(await fileUri("cheat.bin", input), input);
    const cheater = await node((o) => Worker.create({ ...o, signer: cheaterSigner, cheat: {}, maxJobs: 1 }));
    const verifier = await node((o) => Verifier.create({ ...o, signer: verifierSigner }));
    for (let i = 0; i < 3; i++) await cheater.tick();
    expect((await p.jobManager.getJob(job)).status, logs.join("\n")).to.equal(JobStatus.Submitted);
    for (let i = 0; i < 200 && (await p.jobManager.getJob(job)).status === JobStatus.Submitted; i++) {
      await verifier.tick();
      await cheater.tick();
    }
    expect((await p.jobManager.getJob(job)).status, logs.slice(-30).join("\n")).to.equal(JobStatus.Rejected);
    await verifier.tick(); // sees its game ended
    expect(verifier.store.allDisputes().map((d) => d.status)).to.deep.equal(["won"]);
    cheater.close();
    verifier.close();
  });

  it("with --confirmations 2 a worker acts on a request only once its block has a block on top", async function () {
    const input = nextInput();
    const job = await requestAt(await fileUri("confirm.bin", input), input);
    const worker = await node((o) => Worker.create({ ...o, signer: workerSigner, confirmations: 2 }));
    await worker.tick();
    expect(worker.store.job(job)).to.equal(undefined); // its block is the latest: not seen yet
    await p.connection.networkHelpers.mine(1);
    // Its transactions wait for 2 confirmations too: blocks keep coming, as on a live chain.
    const blocks = setInterval(() => void p.connection.networkHelpers.mine(1), 50);
    try {
      for (let i = 0; i < 3; i++) await worker.tick();
    } finally {
      clearInterval(blocks);
    }
    expect((await p.jobManager.getJob(job)).status, logs.slice(-10).join("\n")).to.equal(JobStatus.Submitted);
    worker.close();
  });

  it("sends a batch's claims together, then its results together, without waiting for each to be mined", async function () {
    const ids: bigint[] = [];
    for (let i = 0; i < 3; i++) {
      const x = nextInput();
      ids.push(await requestAt(await fileUri(`batch-${i}.bin`, x), x));
    }
    const worker = await node((o) => Worker.create({ ...o, signer: workerSigner }));
    const me = (await workerSigner.getAddress()).toLowerCase();
    const rpc = (method: string, params: unknown[] = []) => p.connection.provider.request({ method, params });
    /** Waits until `n` of the worker's transactions sit in the mempool together, then mines them in one block. */
    const mineWhenPending = async (n: number) => {
      for (let i = 0; i < 200; i++) {
        const block = (await rpc("eth_getBlockByNumber", ["pending", true])) as { transactions: { from: string }[] };
        if (block.transactions.filter((t) => t.from.toLowerCase() === me).length >= n) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      const pending = (await rpc("eth_getBlockByNumber", ["pending", true])) as { transactions: { from: string }[] };
      await rpc("evm_mine");
      return pending.transactions.filter((t) => t.from.toLowerCase() === me).length;
    };
    await rpc("evm_setAutomine", [false]);
    try {
      const pass = worker.tick();
      expect(await mineWhenPending(3)).to.equal(3); // three claims in one block
      expect(await mineWhenPending(3)).to.equal(3); // three results in the next
      await pass;
    } finally {
      await rpc("evm_setAutomine", [true]);
    }
    for (const id of ids) expect((await p.jobManager.getJob(id)).status, logs.slice(-10).join("\n")).to.equal(JobStatus.Submitted);
    worker.close();
  });
});
