/**
 * The pieces under the nodes, in-process: the SQLite store, the write-ahead journal settling
 * intents after a crash (mined, in flight, never sent), the managed signer's nonces with several
 * transactions in flight, and model fetching (file, http, ipfs gateway, hash check, cache).
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";

import { expect } from "chai";
import { network } from "hardhat";

import { sha256Hex } from "../../offchain/model/canonical.js";
import { fetchModel, resolveModelUri } from "../../offchain/nodes/sources/fetch.js";
import { Journal } from "../../offchain/nodes/journal.js";
import { createLogger } from "../../offchain/nodes/log.js";
import { ManagedSigner } from "../../offchain/nodes/signer.js";
import { isTransient } from "../../offchain/nodes/transient.js";
import { openDatabase } from "../../offchain/nodes/sqlite.js";
import { NodeStore } from "../../offchain/nodes/store.js";

const conn = await network.create();
const [a, b] = await conn.ethers.getSigners();
const dir = mkdtempSync(path.join(tmpdir(), "veritensor-store-"));
const quiet = createLogger("test", () => {});

function journal(file = ":memory:") {
  const store = NodeStore.open(file);
  const signer = new ManagedSigner(a!);
  return { store, signer, journal: new Journal(store, signer, quiet) };
}

describe("nodes: store, journal, signer, model fetching", function () {
  it("keeps jobs and disputes across a reopen, and refuses another identity", function () {
    const file = path.join(dir, "s.sqlite");
    const id = { role: "worker" as const, chainId: 31337n, escrow: "0x" + "11".repeat(20), account: "0x" + "22".repeat(20) };
    const s = NodeStore.open(file, id);
    expect(s.addJob(7n, 1n, "seen")).to.equal(true);
    expect(s.addJob(7n, 1n, "seen")).to.equal(false);
    s.updateJob(7n, { stage: "computed", output: new Uint8Array([1, 2, 3, 4]), disputeRoot: "0xab" });
    s.addDispute({ game: "0xAbC", jobId: 7n, side: 0, modelId: 1n, input: new Uint8Array([9]), claim: "0xcd" });
    s.countMove("0xabc", 1000n);
    s.close();
    const again = NodeStore.open(file, id);
    expect(again.job(7n)).to.include({ stage: "computed", disputeRoot: "0xab" });
    expect([...again.job(7n)!.output!]).to.deep.equal([1, 2, 3, 4]);
    expect(again.dispute("0xabc")).to.include({ moves: 1, gas: 1000n, status: "playing", claim: "0xcd" });
    again.close();
    expect(() => NodeStore.open(file, { ...id, role: "verifier" })).to.throw(/belongs to worker/);
  });

  it("refuses a state file of another schema version, naming it (a schema-1 file bound trace roots)", function () {
    const file = path.join(dir, "old.sqlite");
    const s = NodeStore.open(file);
    s.setMeta("schema", "1");
    s.close();
    expect(() => NodeStore.open(file)).to.throw(/has schema 1, this version writes schema 4/);
  });

  it("migrates a schema-2 state file in place: its jobs are kept, and they gain the result due time and the batch size", function () {
    const file = path.join(dir, "schema2.sqlite");
    // A schema-2 file, as the previous version wrote it: no result_due column.
    const db = openDatabase(file);
    db.exec(`CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE jobs (job_id INTEGER PRIMARY KEY, model_id INTEGER NOT NULL, stage TEXT NOT NULL, input BLOB, output BLOB,
        dispute_root TEXT, cheat TEXT, challenge_end INTEGER, note TEXT, updated_at INTEGER NOT NULL);
      INSERT INTO meta VALUES ('schema', '2');
      INSERT INTO jobs (job_id, model_id, stage, challenge_end, updated_at) VALUES (7, 1, 'submitted', 1000, 0);`);
    db.close();
    const s = NodeStore.open(file);
    expect(s.meta("schema")).to.equal("4");
    expect(s.job(7n)).to.include({ stage: "submitted", challengeEnd: 1000n, resultDue: undefined, batchSize: undefined });
    s.updateJob(7n, { resultDue: 900n, batchSize: 3 });
    expect(s.job(7n)).to.include({ resultDue: 900n, batchSize: 3 });
    s.close();
    // Opened again: already schema 4, nothing to migrate.
    const again = NodeStore.open(file);
    expect(again.job(7n)).to.include({ resultDue: 900n, batchSize: 3 });
    again.close();
  });

  it("migrates a schema-3 state file in place: its jobs are kept, and they gain the batch size (none: single jobs)", function () {
    const file = path.join(dir, "schema3.sqlite");
    const db = openDatabase(file);
    db.exec(`CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE jobs (job_id INTEGER PRIMARY KEY, model_id INTEGER NOT NULL, stage TEXT NOT NULL, input BLOB, output BLOB,
        dispute_root TEXT, cheat TEXT, challenge_end INTEGER, result_due INTEGER, note TEXT, updated_at INTEGER NOT NULL);
      INSERT INTO meta VALUES ('schema', '3');
      INSERT INTO jobs (job_id, model_id, stage, result_due, updated_at) VALUES (8, 1, 'claimed', 700, 0);`);
    db.close();
    const s = NodeStore.open(file);
    expect(s.meta("schema")).to.equal("4");
    expect(s.job(8n)).to.include({ stage: "claimed", resultDue: 700n, batchSize: undefined });
    s.close();
  });

  it("records a transaction's nonce, hash and gas, and settles intents left open by a crash", async function () {
    const { store, signer, journal: j } = journal();
    const to = await b!.getAddress();
    await j.perform("pay:1", "pay 1 wei", async () => (await signer.sendTransaction({ to, value: 1n })).wait());
    expect(store.intent("pay:1")).to.include({ state: "done", gasUsed: 21000n });

    // Sent, then the process died before the receipt: the hash finds it mined.
    const sent = await signer.sendTransaction({ to, value: 1n });
    store.beginIntent("pay:2", "pay again");
    store.noteNonce("pay:2", sent.nonce);
    store.noteSent("pay:2", sent.hash);
    // About to sign when the process died (nonce written, nothing sent): the nonce is still free.
    const free = await conn.ethers.provider.getTransactionCount(await signer.getAddress(), "pending");
    store.beginIntent("pay:3", "pay never sent");
    store.noteNonce("pay:3", free);
    // Nonce written, then the transaction went out but its hash was never recorded: nonce used.
    store.beginIntent("pay:4", "pay sent, hash lost");
    store.noteNonce("pay:4", sent.nonce);
    expect(await j.reconcile()).to.equal(0);
    expect(store.intent("pay:2")!.state).to.equal("done");
    expect(store.intent("pay:3")!.state).to.equal("dropped");
    expect(store.intent("pay:4")!.state).to.equal("done");
    expect(j.inFlight("pay:3")).to.equal(false);
  });

  it("assigns nonces in order with several transactions in flight", async function () {
    const { signer, journal: j } = journal();
    const to = await b!.getAddress();
    const before = await conn.ethers.provider.getTransactionCount(await signer.getAddress());
    const receipts = await Promise.all(
      [1, 2, 3, 4, 5].map((i) => j.perform(`many:${i}`, `pay ${i}`, async () => (await signer.sendTransaction({ to, value: BigInt(i) })).wait())),
    );
    expect(receipts.every((r) => r?.status === 1)).to.equal(true);
    expect(await conn.ethers.provider.getTransactionCount(await signer.getAddress())).to.equal(before + 5);
    // Someone else used the account meanwhile: the next send resyncs and still goes through.
    await (await a!.sendTransaction({ to, value: 1n })).wait();
    await j.perform("after", "pay after", async () => (await signer.sendTransaction({ to, value: 1n })).wait());
  });

  it("tells endpoint failures from other errors", function () {
    expect(isTransient(new Error("connect ECONNREFUSED 127.0.0.1:8545"))).to.equal(true);
    expect(isTransient(new Error("x", { cause: new Error("socket hang up") }))).to.equal(true);
    expect(isTransient(new Error("execution reverted: JobManagerWrongStatus"))).to.equal(false);
    expect(isTransient(new Error("server response 503 Service Unavailable"))).to.equal(true);
    // A revert is never the endpoint's fault, whatever numbers its arguments hold (a timestamp
    // ending in 503 once made a "window still open" revert look like an HTTP 503).
    const revert = Object.assign(new Error("reverted with custom error 'JobManagerChallengeWindowOpen(2, 1795571503)'"), {
      data: "0x8a1c3f2e0000000000000000000000000000000000000000000000000000000000000002",
    });
    expect(isTransient(new Error("finalizing job 2 failed: the window is open", { cause: revert }))).to.equal(false);
    expect(isTransient(new Error("job 7 failed at 1795571503 (timestamp)"))).to.equal(false);
  });

  it("fetches models by file, http and ipfs URIs, checks the hash and caches by it", async function () {
    const bytes = Buffer.from("not really a model, but bytes with a hash");
    const hash = sha256Hex(bytes);
    const file = path.join(dir, "m.onnx");
    writeFileSync(file, bytes);
    const cacheDir = path.join(dir, "cache");
    expect((await fetchModel(pathToFileURL(file).href, hash, { cacheDir })).origin).to.equal("file");
    expect((await fetchModel(pathToFileURL(file).href, hash, { cacheDir })).origin).to.equal("cache");
    const server = createServer((req, res) => {
      if (req.url === "/ipfs/bafyModel/m.onnx" || req.url === "/m.onnx") res.end(bytes);
      else res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    try {
      const fresh = path.join(dir, "cache2");
      expect((await fetchModel(`${base}/m.onnx`, hash, { cacheDir: fresh })).origin).to.equal("http");
      const fresh3 = path.join(dir, "cache3");
      expect((await fetchModel("ipfs://bafyModel/m.onnx", hash, { cacheDir: fresh3, ipfsGateway: base })).origin).to.equal("ipfs");
      await fetchModel(`${base}/m.onnx`, "0x" + "00".repeat(32), { cacheDir: path.join(dir, "cache4") }).then(
        () => expect.fail("a wrong hash was accepted"),
        (e: Error) => expect(e.message).to.match(/refusing to run it/),
      );
    } finally {
      server.close();
    }
    expect(() => resolveModelUri("ipfs://x")).to.throw(/--ipfs-gateway/);
    expect(() => resolveModelUri("ftp://x")).to.throw(/unsupported scheme/);
  });
});
