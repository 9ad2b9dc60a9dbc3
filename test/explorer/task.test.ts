/**
 * `npx hardhat explorer --network localhost` as a real process against `npx hardhat node` on a free
 * port (the nodes' e2e harness): it prints its URL, serves the index of the deployment, follows new
 * jobs, resumes from its index file after a restart, and stops on SIGINT. The in-process network is
 * refused with what to do instead.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";

import { expect } from "chai";

import type { Proc, RpcNode } from "../nodes/harness.js";
import { freePort, hardhat, killAll, runTask, startRpcNode } from "../nodes/harness.js";
import type { Chain } from "../nodes/setup.js";
import { requestDigits, setUpChain, tearDownChain, until } from "../nodes/setup.js";

describe("explorer task: `npx hardhat explorer --network localhost` as a process", function () {
  this.timeout(180_000);
  let node: RpcNode;
  let c: Chain;
  let dir: string;

  before(async function () {
    dir = await mkdtemp(path.join(tmpdir(), "veritensor-explorer-task-"));
    node = await startRpcNode("hardhat");
    c = await setUpChain(node.url);
  });

  after(async function () {
    await killAll();
    await tearDownChain(c);
    await rm(dir, { recursive: true, force: true });
  });

  const start = async (port: number): Promise<{ proc: Proc; url: string }> => {
    const proc = hardhat("explorer", ["explorer", "--network", "localhost", "--port", String(port), "--db", path.join(dir, "index.sqlite"), "--poll", "200"], c.env);
    const line = await proc.waitFor(/Explorer of localhost \(chain 31337\) at (http:\/\/127\.0\.0\.1:\d+\/)/, 120_000);
    return { proc, url: /(http:\/\/127\.0\.0\.1:\d+\/)/.exec(line)![1]! };
  };
  const jobs = async (url: string) => ((await (await fetch(`${url}api/jobs`)).json()) as { total: number }).total;

  it("serves the deployment's index, follows new jobs, and resumes from its index after a restart", async function () {
    const [first] = await requestDigits(c, 1);
    const port = await freePort();
    let { proc, url } = await start(port);
    expect(url).to.equal(`http://127.0.0.1:${port}/`);
    expect(await jobs(url)).to.equal(1);
    const page = await fetch(`${url}jobs/${first}`);
    expect(page.status).to.equal(200);
    expect(await page.text()).to.contain('<script type="module" src="/assets/app.js">');
    expect((await fetch(`${url}assets/app.js`)).status).to.equal(200);
    await requestDigits(c, 1);
    await until("the new job indexed", async () => (await jobs(url)) === 2, 30_000);
    await proc.stop("SIGINT");
    expect(proc.output).to.match(/explorer: SIGINT: stopping/);
    expect(proc.exit?.code).to.equal(0);

    await requestDigits(c, 1);
    ({ proc, url } = await start(0));
    // The restart read only what came after its cursor: one request (and its approval's block).
    expect(proc.output).to.match(/explorer: indexed 1 event\(s\) up to block \d+/);
    expect(await jobs(url)).to.equal(3);
    await proc.stop("SIGINT");
  });

  it("refuses the in-process network, saying what to run instead", async function () {
    const out = await runTask(["explorer"], {}).catch((e: Error) => e.message);
    expect(out).to.match(/nothing to explore: use `--network localhost` with `npx hardhat node` running, or `npm run demo -- --explorer`/);
  });
});
