/**
 * The worker and the verifier as real OS processes (`npx hardhat worker|verifier --network
 * localhost`, VERITENSOR_RPC_URL pointing at a `npx hardhat node` on a free port): the honest flow,
 * a cheat caught and slashed, each side killed with SIGKILL mid-dispute and restarted (it still
 * wins), crashes right after a claim and right after a submit, and the RPC endpoint going away and
 * coming back. Processes are killed in `after` hooks whatever happens.
 */
import { mkdtempSync } from "node:fs";
import { readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";

import { expect } from "chai";

import { JobStatus } from "../../offchain/cli/index.js";
import { attachGame, readGame } from "../../offchain/clients/disputes.js";
import { GameStatus } from "../../offchain/clients/game-types.js";
import type { Proc, RpcNode } from "./harness.js";
import { BlockTicker, FlakyProxy, ROOT, USER_LOCAL_DEPLOYMENT, folderSnapshot, hardhat, killAll, startRpcNode } from "./harness.js";
import type { Chain } from "./setup.js";
import { ACCOUNT, requestDigits, setUpChain, submissions, tearDownChain, until } from "./setup.js";

const dir = mkdtempSync(path.join(tmpdir(), "veritensor-e2e-"));
const db = (name: string) => path.join(dir, `${name}.sqlite`);
const cache = path.join(dir, "models");

/** `npx hardhat worker|verifier` against the chain (or `url`). */
function startNode(c: Chain, role: "worker" | "verifier", from: number, dbName: string, extra: string[] = [], env: Record<string, string> = {}): Proc {
  return hardhat(`${role}:${dbName}`, [role, "--network", "localhost", "--from", String(from), "--db", db(dbName), "--cache-dir", cache, "--poll", "250", ...extra], {
    ...c.env,
    ...env,
  });
}

const status = async (c: Chain, id: bigint) => (await c.p.jobManager.getJob(id)).status;
const allStatus = (c: Chain, ids: bigint[], s: bigint) => async () => (await Promise.all(ids.map((id) => status(c, id)))).every((x) => x === s);

async function gameOf(c: Chain, jobId: bigint) {
  const [g] = await c.p.disputes.gamesOf(jobId);
  return g === undefined ? undefined : readGame(attachGame(g, c.signers[0]!));
}

describe("nodes end to end: worker and verifier processes on `npx hardhat node`", function () {
  this.timeout(180_000);
  let node: RpcNode;
  let c: Chain;
  let ticker: BlockTicker;

  // The user's own local deployment (ignition/deployments/chain-31337) before the tests: it must not change.
  let userDeploymentBefore: string | undefined;

  before(async function () {
    userDeploymentBefore = await folderSnapshot(USER_LOCAL_DEPLOYMENT);
    node = await startRpcNode("hardhat");
    c = await setUpChain(node.url);
    ticker = new BlockTicker(node.url);
    ticker.start();
  });

  after(async function () {
    ticker?.stop();
    await killAll();
    await tearDownChain(c);
    await rm(dir, { recursive: true, force: true });
  });

  afterEach(async function () {
    await killAll([node.proc]);
  });

  it("honest flow: jobs claimed, run, submitted, checked, finalized, earnings withdrawn", async function () {
    const worker = startNode(c, "worker", ACCOUNT.worker, "honest-worker", ["--models", String(c.modelId)]);
    const verifier = startNode(c, "verifier", ACCOUNT.verifier, "honest-verifier");
    const ids = await requestDigits(c, 3);
    await until("3 jobs finalized", allStatus(c, ids, JobStatus.Finalized), 90_000);
    await worker.waitFor(/withdrew .* of earnings from the escrow/, 20_000);
    for (const id of ids) {
      expect(await submissions(c, id)).to.equal(1);
      await verifier.waitFor(new RegExp(`job ${id}: result checks out`), 10_000);
    }
    // The worker withdraws whenever it has earnings; a finalization after its first withdrawal
    // credits it again, so wait for the escrow balance to come back to zero.
    const workerAddress = await c.signers[ACCOUNT.worker]!.getAddress();
    await until("the worker's earnings withdrawn", async () => (await c.p.jobManager.balanceOf(workerAddress)) === 0n, 30_000);
    // Graceful shutdown: SIGTERM finishes the pass and closes the store.
    await worker.stop("SIGTERM");
    expect(worker.output).to.match(/SIGTERM: stopping after the current step/);
    expect(worker.exit?.code).to.equal(0);
  });

  it("a cheating worker is caught by the verifier, disputed to the end and slashed", async function () {
    const cheater = startNode(c, "worker", ACCOUNT.cheater, "cheater", ["--cheat", "random"]);
    const verifier = startNode(c, "verifier", ACCOUNT.verifier, "verifier-b");
    const address = await c.signers[ACCOUNT.cheater]!.getAddress();
    const staked = (await c.p.staking.stakeOf(address)).staked;
    const [id] = await requestDigits(c, 1);
    await until("the cheat rejected", async () => (await status(c, id!)) === JobStatus.Rejected, 90_000);
    expect((await gameOf(c, id!))!.status).to.equal(GameStatus.ChallengerWins);
    expect((await c.p.staking.stakeOf(address)).staked).to.be.lessThan(staked);
    await verifier.waitFor(/WON \(challenger wins\)/, 20_000);
    await verifier.waitFor(/withdrew .* from the dispute factory/, 20_000);
    await cheater.waitFor(/REJECTED/, 20_000);
  });

  it("an honest worker killed with SIGKILL mid-dispute restarts from its store and still wins", async function () {
    const liar = startNode(c, "verifier", ACCOUNT.developer, "lying-verifier", ["--cheat", "random"]);
    const worker = startNode(c, "worker", ACCOUNT.worker, "worker-c");
    const [id] = await requestDigits(c, 1);
    await worker.waitFor(new RegExp(`job ${id}, game .*: defending`), 60_000);
    worker.kill("SIGKILL");
    await worker.wait();
    const mid = await gameOf(c, id!);
    expect(mid!.status).to.equal(GameStatus.InProgress);
    const again = startNode(c, "worker", ACCOUNT.worker, "worker-c");
    await until("the defence won", async () => (await gameOf(c, id!))!.status === GameStatus.DefenderWins, 90_000);
    await again.waitFor(/WON \(defender wins\)/, 20_000);
    await until("the job finalized", async () => (await status(c, id!)) === JobStatus.Finalized, 60_000);
    expect(await submissions(c, id!)).to.equal(1);
    await liar.waitFor(/lost \(defender wins\)/, 20_000);
  });

  it("a verifier killed with SIGKILL mid-dispute restarts from its store and still wins", async function () {
    const cheater = startNode(c, "worker", ACCOUNT.cheater, "cheater-d", ["--cheat", "random"]);
    const verifier = startNode(c, "verifier", ACCOUNT.verifier, "verifier-d");
    const [id] = await requestDigits(c, 1);
    await verifier.waitFor(new RegExp(`job ${id}, game .*: challenging`), 60_000);
    verifier.kill("SIGKILL");
    await verifier.wait();
    expect((await gameOf(c, id!))!.status).to.equal(GameStatus.InProgress);
    const again = startNode(c, "verifier", ACCOUNT.verifier, "verifier-d");
    await until("the cheat rejected", async () => (await status(c, id!)) === JobStatus.Rejected, 90_000);
    await again.waitFor(/WON \(challenger wins\)/, 20_000);
    expect((await c.p.disputes.gamesOf(id!)).length).to.equal(1);
    void cheater;
  });

  it("a worker killed right after sending a claim, then right after sending a submit, resumes without sending twice", async function () {
    const first = startNode(c, "worker", ACCOUNT.worker, "worker-e", [], { VERITENSOR_CRASH_AFTER_SEND: "claim:" });
    const [id] = await requestDigits(c, 1);
    await first.wait();
    expect(first.exit?.signal).to.equal("SIGKILL");
    const second = startNode(c, "worker", ACCOUNT.worker, "worker-e", [], { VERITENSOR_CRASH_AFTER_SEND: "submit:" });
    await second.wait();
    expect(second.exit?.signal).to.equal("SIGKILL");
    expect(second.output).to.match(/recovered claim job/);
    const third = startNode(c, "worker", ACCOUNT.worker, "worker-e");
    await third.waitFor(/recovered submit job/, 30_000);
    await until("the job finalized", async () => (await status(c, id!)) === JobStatus.Finalized, 60_000);
    expect(await submissions(c, id!)).to.equal(1);
    expect((await c.p.jobManager.queryFilter(c.p.jobManager.filters.JobClaimed(id!), 0)).length).to.equal(1);
  });

  it("the RPC endpoint goes away and comes back: retries with backoff, no crash, nothing sent twice", async function () {
    const proxy = new FlakyProxy(node.url);
    await proxy.up();
    const env = { VERITENSOR_RPC_URL: proxy.url };
    const worker = startNode(c, "worker", ACCOUNT.worker, "worker-f", [], env);
    const verifier = startNode(c, "verifier", ACCOUNT.verifier, "verifier-f", [], env);
    await worker.waitFor(/worker .* on localhost/, 60_000);
    await verifier.waitFor(/verifier .* on localhost/, 60_000);
    const ids = await requestDigits(c, 3);
    await worker.waitFor(new RegExp(`job ${ids[0]}: claimed`), 30_000);
    await proxy.down();
    await worker.waitFor(/retrying with backoff/, 20_000);
    await new Promise((r) => setTimeout(r, 3000));
    await proxy.up();
    await worker.waitFor(/the endpoint is back/, 30_000);
    await until("3 jobs finalized", allStatus(c, ids, JobStatus.Finalized), 90_000);
    for (const id of ids) expect(await submissions(c, id)).to.equal(1);
    expect(worker.exit).to.equal(undefined);
    expect(verifier.exit).to.equal(undefined);
    await proxy.down();
  });

  it("deploys into its own folder and leaves the user's local deployment (ignition/deployments/chain-31337) as it was", async function () {
    expect(c.env.VERITENSOR_IGNITION_DIR).to.equal(c.ignitionDir);
    expect(path.relative(ROOT, c.ignitionDir).startsWith("..")).to.equal(true);
    const recorded = await readFile(path.join(c.ignitionDir, "deployments", "chain-31337", "deployed_addresses.json"), "utf8");
    expect(recorded).to.contain(c.p.addresses.jobManager);
    expect(await folderSnapshot(USER_LOCAL_DEPLOYMENT)).to.equal(userDeploymentBefore);
  });
});
