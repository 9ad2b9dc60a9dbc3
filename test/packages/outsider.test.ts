/**
 * The packages as an outsider meets them, from the README's "Integrate" section, block by block:
 * packs @veritensor/contracts and @veritensor/sdk (`npm pack`, which builds them), runs the
 * section's three install commands in a fresh folder outside the repository (the tarballs in place
 * of the package names, `--prefer-offline`: the versions are the repository's lock's, in npm's
 * cache after `npm ci`), writes its config, contract and script, compiles the contract against
 * @veritensor/contracts, and runs the script with plain `node` against `npx hardhat node` with the
 * protocol deployed, the MNIST CNN registered and a worker serving: a request from the backend and
 * one from the contract, each followed to its end through the SDK. A second script checks that plain
 * `node` imports the SDK and that a plain ethers Wallet approves then requests with the right nonces.
 */
import { spawn } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";

import { expect } from "chai";
import { HDNodeWallet } from "ethers";

import type { Proc, RpcNode } from "../nodes/harness.js";
import { BlockTicker, ROOT, hardhat, startRpcNode } from "../nodes/harness.js";
import type { Chain } from "../nodes/setup.js";
import { ACCOUNT, setUpChain, tearDownChain } from "../nodes/setup.js";

const require = createRequire(import.meta.url);
const MNEMONIC = "test test test test test test test test test test test junk";
const log = (line: string) => console.log(`      [outsider] ${line}`);

/**
 * This process's environment without Hardhat's own variables: `hardhat test` sets HARDHAT_CONFIG
 * and the other global options, which the app's Hardhat would take as its own (HHE22).
 */
function outsiderEnv(): Record<string, string> {
  return Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => !e[0].startsWith("HARDHAT_") && e[1] !== undefined));
}

/** Runs a command to completion (no shell unless `sh -c` is asked); fails with its output. */
function run(cmd: string, args: string[], cwd: string, env: Record<string, string> = {}, ms = 120_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env: { ...outsiderEnv(), ...env, FORCE_COLOR: "0", NO_COLOR: "1" }, stdio: ["ignore", "pipe", "pipe"], detached: true });
    let out = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString("utf8")));
    child.stderr.on("data", (c: Buffer) => (out += c.toString("utf8")));
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        child.kill("SIGKILL");
      }
    }, ms);
    child.on("error", (e) => (clearTimeout(timer), reject(e)));
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`${cmd} ${args.join(" ")} (in ${cwd}) failed (${code ?? signal}):\n${out.slice(-6000)}`));
    });
  });
}

/** The README's "Integrate" section: its console commands, and its code blocks by the file their first line names. */
async function integrateSection(): Promise<{ commands: string[]; files: Map<string, string> }> {
  const readme = await readFile(path.join(ROOT, "README.md"), "utf8");
  const start = readme.indexOf("\n## Integrate\n");
  expect(start, "README.md has an Integrate section").to.be.greaterThan(0);
  const end = readme.indexOf("\n## ", start + 5);
  const section = readme.slice(start, end);
  const commands: string[] = [];
  const files = new Map<string, string>();
  for (const m of section.matchAll(/```(\w+)\n([\s\S]*?)```/g)) {
    const [, lang, body] = m;
    if (lang === "console") {
      commands.push(...body!.split("\n").filter((l) => l.trim() !== ""));
      continue;
    }
    const named = /^\/\/ ([\w./-]+\.(?:ts|sol|mjs|js))[:\s]/.exec(body!);
    expect(named, `the ${lang} block of the Integrate section names its file on its first line`).to.not.equal(null);
    files.set(named![1]!, body!);
  }
  return { commands, files };
}

describe("packages: an outsider's project (npm pack, install, compile, plain node against a local node)", function () {
  this.timeout(240_000);

  let work: string | undefined;
  let rpc: RpcNode | undefined;
  let chain: Chain | undefined;
  let worker: Proc | undefined;
  const ticker: BlockTicker[] = [];

  after(async function () {
    for (const t of ticker) t.stop();
    await worker?.stop();
    await rpc?.proc.stop();
    await tearDownChain(chain);
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("installs the packed packages in a fresh project, compiles a consumer against them, and drives requests to their callback through the SDK", async function () {
    const started = Date.now();
    const at = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;
    work = await mkdtemp(path.join(tmpdir(), "veritensor-outsider-"));
    expect(path.relative(ROOT, work).startsWith(".."), `${work} is outside the repository`).to.equal(true);
    const tarballs = path.join(work, "tarballs");
    const app = path.join(work, "app");
    await mkdir(tarballs);
    await mkdir(app);

    // 1. npm pack builds each package (prepack) from the repository's contracts/ and artifacts/.
    for (const pkg of ["contracts", "sdk"]) {
      await run("npm", ["pack", "--pack-destination", tarballs], path.join(ROOT, "packages", pkg));
    }
    const contractsTgz = path.join(tarballs, "veritensor-contracts-0.1.0.tgz");
    const sdkTgz = path.join(tarballs, "veritensor-sdk-0.1.0.tgz");
    log(`${at()}: packed ${path.basename(contractsTgz)} and ${path.basename(sdkTgz)}`);

    // 2. The README's three commands, the tarballs in place of the names, at the lock's versions.
    const { commands, files } = await integrateSection();
    expect(commands).to.have.length(3);
    const lock = JSON.parse(await readFile(path.join(ROOT, "package-lock.json"), "utf8")) as { packages: Record<string, { version: string }> };
    for (const [, name, version] of commands.join(" ").matchAll(/(@?[\w./-]+)@(\d+\.\d+\.\d+)/g)) {
      expect(version, `the README pins ${name} at the repository's locked version`).to.equal(lock.packages[`node_modules/${name}`]?.version);
    }
    for (const command of commands) {
      const local = command
        .replace("@veritensor/contracts", contractsTgz)
        .replace("@veritensor/sdk", sdkTgz)
        .replace(/npm install /, "npm install --prefer-offline --no-audit --no-fund ");
      await run("sh", ["-c", local], app);
    }
    const manifest = JSON.parse(await readFile(path.join(app, "package.json"), "utf8")) as { dependencies: Record<string, string> };
    expect(Object.keys(manifest.dependencies)).to.include.members(["@veritensor/contracts", "@veritensor/sdk", "ethers", "@openzeppelin/contracts"]);
    log(`${at()}: installed (${commands.length} commands)`);

    // 3. The config and the contract, compiled against @veritensor/contracts with the app's own Hardhat (on this Node 22).
    for (const [file, body] of files) {
      await mkdir(path.dirname(path.join(app, file)), { recursive: true });
      await writeFile(path.join(app, file), body);
    }
    expect([...files.keys()].sort()).to.deep.equal(["contracts/DigitAsker.sol", "hardhat.config.ts", "request.mjs"]);
    const appHardhat = path.join(app, "node_modules", "hardhat", "dist", "src", "cli.js");
    await run(process.execPath, [appHardhat, "build"], app);
    const artifact = JSON.parse(await readFile(path.join(app, "artifacts/contracts/DigitAsker.sol/DigitAsker.json"), "utf8")) as { abi: { name?: string }[] };
    expect(artifact.abi.map((f) => f.name)).to.include.members(["ask", "onInferenceResult", "settleFailedJob", "digit"]);
    log(`${at()}: compiled DigitAsker against @veritensor/contracts`);

    // 4. A local node with the protocol deployed, the MNIST CNN registered (model 1), a worker serving it.
    rpc = await startRpcNode("hardhat");
    chain = await setUpChain(rpc.url);
    const t = new BlockTicker(rpc.url, 500);
    ticker.push(t);
    t.start();
    worker = hardhat("worker", ["worker", "--network", "localhost", "--from", String(ACCOUNT.worker), "--db", path.join(work, "worker.sqlite"), "--cache-dir", path.join(work, "models"), "--poll", "250", "--models", String(chain.modelId)], chain.env);
    log(`${at()}: node ${rpc.url}, protocol deployed, model ${chain.modelId} registered, worker started`);

    const deployment = path.join(chain.ignitionDir, "deployments", "chain-31337", "deployed_addresses.json");
    const requester = HDNodeWallet.fromPhrase(MNEMONIC, undefined, `m/44'/60'/0'/0/${ACCOUNT.requester}`);
    const env = {
      RPC_URL: rpc.url,
      PRIVATE_KEY: requester.privateKey,
      DEPLOYMENT: deployment,
      MODEL_ID: String(chain.modelId),
      INPUT: path.join(ROOT, "test/tasks/fixtures/digit-7.json"),
    };

    // 5. Plain node imports the SDK, and a plain Wallet approves then requests twice without a nonce clash.
    await writeFile(
      path.join(app, "nonces.mjs"),
      `import { JsonRpcProvider, Wallet } from "ethers";
import * as sdk from "@veritensor/sdk";
const { Veritensor, encodeTensor } = sdk;
for (const name of ["Veritensor", "VeritensorError", "TimeoutError", "encodeTensor", "decodeTensor", "dequantize", "JOB_MANAGER_ABI"]) {
  if (!(name in sdk)) throw new Error("the SDK does not export " + name);
}
const wallet = new Wallet(process.env.PRIVATE_KEY, new JsonRpcProvider(process.env.RPC_URL));
const vt = await Veritensor.connect(wallet, { deployment: process.env.DEPLOYMENT });
const input = encodeTensor(JSON.parse((await import("node:fs")).readFileSync(process.env.INPUT, "utf8")));
await vt.send("clearing the allowance", (o) => vt.token.approve(vt.addresses.jobManager, 0n, o));
const a = await vt.requestInference({ modelId: BigInt(process.env.MODEL_ID), input });
const b = await vt.requestInference({ modelId: BigInt(process.env.MODEL_ID), input });
const bad = await vt.requestInference({ modelId: 999n, input }).catch((e) => e);
console.log(JSON.stringify({ a: String(a.jobId), approvedA: a.approvalHash !== undefined, b: String(b.jobId), badCode: bad.code, badMessage: bad.message }));
`,
    );
    const nonces = JSON.parse((await run(process.execPath, ["nonces.mjs"], app, env)).trim().split("\n").at(-1)!) as Record<string, unknown>;
    expect(nonces.approvedA).to.equal(true);
    expect(BigInt(nonces.b as string)).to.equal(BigInt(nonces.a as string) + 1n);
    expect(nonces.badCode).to.equal("UNKNOWN_MODEL");
    expect(nonces.badMessage).to.match(/unknown model 999/);
    log(`${at()}: plain node imported the SDK; a plain Wallet approved and requested jobs ${nonces.a} and ${nonces.b}`);

    // 6. The README's script, with plain node: a job from the backend, then one from the contract, each to its end.
    const out = await run(process.execPath, ["request.mjs"], app, env, 150_000);
    log(`${at()}: request.mjs ran:\n${out.trim().replace(/^/gm, "        ")}`);
    const backend = /job (\d+): digit (\d+), scores/.exec(out);
    expect(backend, out).to.not.equal(null);
    const backendJob = backend![1]!;
    for (const step of ["requested", "claimed", "submitted", "finalized"]) expect(out).to.contain(`job ${backendJob}: ${step}`);
    expect(backend![2]).to.equal("7"); // digit-7.json is a 7
    const viaContract = /job (\d+): callback (\w+), the contract's digit (\d+)/.exec(out);
    expect(viaContract, out).to.not.equal(null);
    expect(viaContract![2]).to.equal("delivered");
    expect(viaContract![3]).to.equal("7");
    expect(Date.now() - started).to.be.lessThan(180_000);
  });
});
