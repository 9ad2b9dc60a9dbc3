/**
 * The explorer's benchmark (`npx hardhat bench --only explorer`): how long indexing takes as the
 * chain grows to 10,000 jobs (each job's request, claim, submission, finalization and their stake
 * and balance events), one incremental pass on top, and how long each page takes to render with its
 * data in headless Chromium from the local server, on that chain and on the demo's (whose dispute
 * page walks a whole game). It also refreshes the screenshots of the job and dispute pages in docs/.
 */
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

import type { Signer } from "ethers";
import { ZeroAddress, hexlify } from "ethers";
import type { NetworkConnection } from "hardhat/types/network";

import type { Protocol } from "../../cli/index.js";
import { addStake, deployProtocol, faucet, registerModel, tensorCommitment, termsFromEvent } from "../../cli/index.js";
import { intsToBytes } from "../../clients/tensors.js";
import { ExplorerDb } from "../../explorer/database.js";
import { startExplorer } from "../../explorer/index.js";
import { Indexer } from "../../explorer/indexer.js";
import { runDemo } from "../demo/run.js";
import { haveChromium, launchChromium, loadPage, CHROMIUM, CHROMIUM_INSTALL } from "./browser.js";
import type { BenchContext, BenchSection } from "./section.js";

const VTN = 10n ** 18n;
const SIZES = [1_000, 3_000, 10_000];
/** Transactions per mined block while filling the chain (automine off). */
const PER_BLOCK = 20;

type Rpc = (method: string, params?: unknown[]) => Promise<unknown>;

interface Filled {
  readonly p: Protocol;
  readonly conn: NetworkConnection;
  readonly modelId: bigint;
  readonly worker: string;
  readonly requester: Signer;
  /** Adds jobs until the chain has `n`, each requested, claimed, submitted and finalized. */
  grow(n: number): Promise<void>;
}

/** A chain with a tiny model (4 inputs, 2 outputs) and a worker; jobs are added in bulk, many per block. */
export async function jobChain(ctx: BenchContext, root: string): Promise<Filled> {
  const conn = await ctx.network.create();
  const { protocol: p } = await deployProtocol(conn, join(root, "ignition"));
  const signers = (await conn.ethers.getSigners()) as Signer[];
  const [developer, worker, requester] = [signers[1]!, signers[2]!, signers[3]!];
  const modelId = (
    await registerModel(p, developer, {
      contentHash: `0x${"11".repeat(32)}`,
      graphCommitment: `0x${"22".repeat(32)}`,
      uri: "file:///bench/tiny.onnx",
      inputShape: [1, 4],
      outputShape: [1, 2],
      inputScaleWad: 10n ** 16n,
      outputScaleWad: 10n ** 15n,
      price: VTN / 1000n,
      contributors: [],
    })
  ).modelId;
  const workerAddress = await worker.getAddress();
  await faucet(p, workerAddress, 50_000n * VTN);
  await addStake(p, worker, 20_000n * VTN, { serveModels: [modelId] });
  const requesterAddress = await requester.getAddress();
  const fee = (await p.jobManager.minimumFee(VTN / 1000n)) + VTN / 1000n;
  await faucet(p, requesterAddress, fee * 20_000n);
  await (await p.token.connect(requester).approve(p.addresses.jobManager, fee * 20_000n)).wait();
  const rpc: Rpc = (method, params = []) => conn.provider.request({ method, params });
  const jm = p.jobManager.interface;
  const to = p.addresses.jobManager;
  const finalizer = await signers[0]!.getAddress();
  const window = Number((await p.jobManager.params()).challengeWindow);
  const output = intsToBytes([7, -3]);
  const outputCommitment = tensorCommitment(output);

  /** Sends `calls` with automine off, PER_BLOCK per block; returns the blocks mined. */
  const sendAll = async (calls: readonly { from: string; data: string; gas: number }[]): Promise<[number, number]> => {
    const first = Number(await rpc("eth_blockNumber")) + 1;
    await rpc("evm_setAutomine", [false]);
    try {
      for (let i = 0; i < calls.length; i += PER_BLOCK) {
        for (const c of calls.slice(i, i + PER_BLOCK)) await rpc("eth_sendTransaction", [{ from: c.from, to, data: c.data, gas: `0x${c.gas.toString(16)}` }]);
        await rpc("evm_mine");
      }
    } finally {
      await rpc("evm_setAutomine", [true]);
    }
    return [first, Number(await rpc("eth_blockNumber"))];
  };

  let count = Number(await p.jobManager.jobCount());
  /** Requests, claims and submits `add` jobs; returns them (claims and submissions follow within the result timeout). */
  const serve = async (add: number) => {
    // Within the escrow's longest job duration (a day locally).
    const deadline = (await conn.ethers.provider.getBlock("latest"))!.timestamp + 20 * 3600;
    const requests = Array.from({ length: add }, (_, i) => ({
      from: requesterAddress,
      gas: 400_000,
      data: jm.encodeFunctionData("requestInference", [
        {
          modelId,
          input: hexlify(intsToBytes([count + i, 1, 2, 3])),
          inputURI: "",
          inputCommitment: `0x${"00".repeat(32)}`,
          fee,
          deadline,
          consumer: ZeroAddress,
          callbackGasLimit: 0,
        },
      ]),
    }));
    const [from, toBlock] = await sendAll(requests);
    const events = await p.jobManager.queryFilter(p.jobManager.filters.JobRequested(), from, toBlock);
    if (events.length !== add) throw new Error(`bench: ${events.length} of ${add} requests were mined`);
    const jobs = events.map((e) => ({ id: e.args.jobId, terms: termsFromEvent(e.args.terms) }));
    await sendAll(jobs.map((j) => ({ from: workerAddress, gas: 200_000, data: jm.encodeFunctionData("claim", [j.id, j.terms]) })));
    await sendAll(jobs.map((j) => ({ from: workerAddress, gas: 250_000, data: jm.encodeFunctionData("submitResult", [j.id, j.terms, output, outputCommitment]) })));
    count += add;
    return jobs;
  };
  const grow = async (n: number) => {
    const served = [];
    // Chunks of 1,000: every block moves the chain's clock by a second at least, and a claim's
    // result is due 5 minutes after it.
    while (count < n) served.push(...(await serve(Math.min(1000, n - count))));
    if (served.length === 0) return;
    await conn.networkHelpers.time.increase(window + 1);
    await sendAll(served.map((j) => ({ from: finalizer, gas: 250_000, data: jm.encodeFunctionData("finalize", [j.id, j.terms, outputCommitment]) })));
    const status = await p.jobManager.getJob(BigInt(n));
    if (Number(status.status) !== 4) throw new Error(`bench: job ${n} is not finalized (status ${status.status})`);
  };
  return { p, conn, modelId, worker: workerAddress.toLowerCase(), requester, grow };
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

interface PageTiming {
  readonly page: string;
  readonly cold: number;
  readonly warm: number;
}

/** Each page loaded once (cold: the server's first view of it) then `warm` times; ms to render with data. */
async function timePages(url: string, pages: readonly [string, string][], warm = 5, shots: ReadonlyMap<string, string> = new Map()): Promise<PageTiming[]> {
  const chromium = await launchChromium();
  try {
    const page = await chromium.context.newPage();
    const out: PageTiming[] = [];
    for (const [name, path] of pages) {
      const cold = (await loadPage(page, url + path.replace(/^\//, ""))).ms;
      const times: number[] = [];
      for (let i = 0; i < warm; i++) times.push((await loadPage(page, url + path.replace(/^\//, ""))).ms);
      const shot = shots.get(name);
      if (shot) await page.screenshot({ path: shot, fullPage: true });
      out.push({ page: name, cold, warm: median(times) });
    }
    return out;
  } finally {
    await chromium.close();
  }
}

const fmt = (ms: number): string => `${ms.toFixed(0)} ms`;

export const explorerSection: BenchSection = {
  id: "explorer",
  title: "Explorer",
  async run(ctx: BenchContext): Promise<string> {
    const root = process.cwd();
    if (!haveChromium()) throw new Error(`the explorer benchmark measures pages in Chromium, which is not at ${CHROMIUM}: ${CHROMIUM_INSTALL}`);
    const dir = await mkdtemp(join(tmpdir(), "veritensor-bench-explorer-"));
    try {
      // 1. Indexing as the chain grows.
      ctx.log("  filling a chain with jobs (automine off, many per block)…");
      const chain = await jobChain(ctx, root);
      const rows: string[] = [];
      let last: { file: string; jobs: number } | undefined;
      for (const n of SIZES) {
        const started = Date.now();
        await chain.grow(n);
        ctx.log(`  ${n} jobs on chain (${((Date.now() - started) / 1000).toFixed(0)} s to make)`);
        const file = join(dir, `index-${n}.sqlite`);
        const db = ExplorerDb.open(file, { chainId: chain.p.chainId, escrow: chain.p.addresses.jobManager });
        const t0 = performance.now();
        const r = await new Indexer({ protocol: chain.p, db }).sync();
        const ms = performance.now() - t0;
        const blocks = r.cursor - Number(db.meta("start")) + 1;
        db.close();
        const size = (await stat(file)).size;
        rows.push(`| ${n.toLocaleString("en-US")} | ${r.events.toLocaleString("en-US")} | ${blocks.toLocaleString("en-US")} | ${(ms / 1000).toFixed(2)} s | ${Math.round(r.events / (ms / 1000)).toLocaleString("en-US")} | ${(size / 2 ** 20).toFixed(1)} MiB |`);
        ctx.log(`  indexed ${r.events} events of ${n} jobs in ${(ms / 1000).toFixed(2)} s`);
        last = { file, jobs: n };
      }
      // One more job on top of the 10,000-job index: a live pass.
      await chain.grow(last!.jobs + 1);
      const db = ExplorerDb.open(last!.file, { chainId: chain.p.chainId, escrow: chain.p.addresses.jobManager });
      const t1 = performance.now();
      const inc = await new Indexer({ protocol: chain.p, db }).sync();
      const incMs = performance.now() - t1;
      db.close();

      // 2. Pages on the 10,000-job chain.
      ctx.log("  pages on the 10,000-job chain…");
      const big = await startExplorer({ protocol: chain.p, root, db: last!.file, port: 0, log: () => {} });
      let bigPages: PageTiming[];
      try {
        bigPages = await timePages(big.url, [
          ["overview", "/"],
          ["jobs (latest 50 of 10,001)", "/jobs"],
          ["finalized jobs, filtered", "/jobs?status=finalized"],
          ["one job", "/jobs/5000"],
          ["model (10,001 jobs)", `/models/${chain.modelId}`],
          ["workers and challengers", "/accounts"],
          ["the worker (10,001 jobs)", `/accounts/${chain.worker}`],
          ["governance", "/governance"],
        ]);
      } finally {
        await big.stop();
      }

      // 3. Pages on the demo's chain: the dispute, its job; and the screenshots.
      ctx.log("  the demo's chain…");
      const demoConn = await ctx.network.create();
      const s = await runDemo(demoConn, { jobs: 6, root, ignitionDir: join(root, "ignition"), log: () => {} });
      const demo = await startExplorer({ protocol: s.protocol, root, db: ":memory:", port: 0, labels: s.labels, log: () => {} });
      let demoPages: PageTiming[];
      try {
        const rejected = s.jobList.find((j) => j.status === "rejected")!;
        const [game] = await s.protocol.disputes.gamesOf(rejected.id);
        demoPages = await timePages(
          demo.url,
          [
            ["overview", "/"],
            ["the disputed job", `/jobs/${rejected.id}`],
            ["the dispute, move by move to the one step", `/disputes/${game!.toLowerCase()}`],
            ["model", "/models/1"],
            ["workers and challengers", "/accounts"],
            ["governance", "/governance"],
          ],
          5,
          new Map([
            ["the disputed job", join(root, "docs", "explorer-job.png")],
            ["the dispute, move by move to the one step", join(root, "docs", "explorer-dispute.png")],
          ]),
        );
      } finally {
        await demo.stop();
      }
      const pageTable = (t: readonly PageTiming[]) => [
        "| page | first view | then (median of 5) |",
        "|---|---:|---:|",
        ...t.map((x) => `| ${x.page} | ${fmt(x.cold)} | ${fmt(x.warm)} |`),
      ];
      const worst = Math.max(...[...bigPages, ...demoPages].map((x) => x.warm));
      return [
        "Indexing (`offchain/explorer/indexer.ts`) from scratch into a SQLite file, in-process chain, windows of 10,000 blocks. Each job is",
        "requested, claimed, submitted and finalized (7 events: JobRequested, JobClaimed, StakeLocked, ResultSubmitted, JobFinalized,",
        `BalanceCredited, StakeUnlocked), ${PER_BLOCK} transactions per block; the setup (deployment, registration, stake) adds a few events.`,
        "",
        "| jobs | events | blocks | index time | events/s | index file |",
        "|---:|---:|---:|---:|---:|---:|",
        ...rows,
        "",
        `One new job on the 10,000-job index: an incremental pass of ${inc.events} events in ${fmt(incMs)}.`,
        "Indexing time grows linearly with the events: each is decoded and inserted once, and each job's derived row is recomputed",
        "once per window that touches it; a window costs one `eth_getLogs` and two header reads (block times come with the logs).",
        "",
        "Pages in headless Chromium (Debian's, through playwright-core) from the local server: time from navigation start to the page",
        "rendered with its data, as the app records it. The first view of a job or dispute page also fetches its receipts (and the step's",
        "calldata) from the chain and caches them in the index; the first page of a run also starts the browser's script engine.",
        "",
        "On the 10,000-job chain:",
        "",
        ...pageTable(bigPages),
        "",
        "On the demo's chain (6 jobs, one disputed to the one step):",
        "",
        ...pageTable(demoPages),
        "",
        `Slowest page after its first view: ${fmt(worst)} (target 300 ms).`,
      ].join("\n");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
};
