/**
 * The honest flow again on anvil (npm @foundry-rs/anvil), a second, independent node
 * implementation: the same tasks as separate processes, pointed at it through VERITENSOR_RPC_URL.
 */
import { mkdtempSync } from "node:fs";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";

import { expect } from "chai";

import { JobStatus } from "../../offchain/cli/index.js";
import type { RpcNode } from "./harness.js";
import { BlockTicker, USER_LOCAL_DEPLOYMENT, folderSnapshot, hardhat, killAll, startRpcNode } from "./harness.js";
import type { Chain } from "./setup.js";
import { ACCOUNT, requestDigits, setUpChain, submissions, tearDownChain, until } from "./setup.js";

describe("nodes end to end on anvil: the honest flow", function () {
  this.timeout(180_000);
  const dir = mkdtempSync(path.join(tmpdir(), "veritensor-anvil-"));
  let node: RpcNode;
  let c: Chain;
  let ticker: BlockTicker;
  let userDeploymentBefore: string | undefined;

  before(async function () {
    userDeploymentBefore = await folderSnapshot(USER_LOCAL_DEPLOYMENT);
    node = await startRpcNode("anvil");
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

  it("jobs claimed, run, submitted, checked by the verifier, finalized, earnings withdrawn", async function () {
    const common = ["--network", "localhost", "--cache-dir", path.join(dir, "models"), "--poll", "250"];
    const worker = hardhat("worker", ["worker", ...common, "--from", String(ACCOUNT.worker), "--db", path.join(dir, "w.sqlite")], c.env);
    const verifier = hardhat("verifier", ["verifier", ...common, "--from", String(ACCOUNT.verifier), "--db", path.join(dir, "v.sqlite")], c.env);
    const ids = await requestDigits(c, 2);
    await until("2 jobs finalized", async () => {
      for (const id of ids) if ((await c.p.jobManager.getJob(id)).status !== JobStatus.Finalized) return false;
      return true;
    }, 90_000);
    for (const id of ids) {
      expect(await submissions(c, id)).to.equal(1);
      await verifier.waitFor(new RegExp(`job ${id}: result checks out`), 15_000);
    }
    await worker.waitFor(/withdrew .* of earnings from the escrow/, 20_000);
    await worker.stop("SIGINT");
    expect(worker.output).to.match(/SIGINT: stopping after the current step/);
  });

  it("leaves the user's local deployment (ignition/deployments/chain-31337) as it was", async function () {
    expect(await folderSnapshot(USER_LOCAL_DEPLOYMENT)).to.equal(userDeploymentBefore);
  });
});
