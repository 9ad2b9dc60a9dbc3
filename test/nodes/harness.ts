/**
 * Real processes for the end-to-end tests: a JSON-RPC node (`npx hardhat node` or anvil) on a
 * free port, the `worker`/`verifier` tasks as separate OS processes pointed at it through
 * VERITENSOR_RPC_URL, and an HTTP proxy in front of the node that can go away and come back.
 * Every process started here is registered and killed by `killAll()` (call it in `after`).
 */
import type { ChildProcess } from "node:child_process";
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import type { Server } from "node:http";
import { createServer } from "node:http";
import { createHash } from "node:crypto";
import { readFile, readdir, stat } from "node:fs/promises";
import path from "node:path";

import { freePort, rpcAnswers } from "../../offchain/dev/devnet/local-node.js";

const require = createRequire(import.meta.url);
export const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), "../..");
const HARDHAT_CLI = path.join(path.dirname(require.resolve("hardhat/package.json")), "dist/src/cli.js");

const live = new Set<Proc>();

export { freePort };

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A child process with its output kept, line by line. */
export class Proc {
  readonly name: string;
  readonly child: ChildProcess;
  readonly lines: string[] = [];
  exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private readonly exited: Promise<void>;
  private waiters: (() => void)[] = [];

  constructor(name: string, cmd: string, args: string[], env: Record<string, string> = {}) {
    this.name = name;
    this.child = spawn(cmd, args, {
      cwd: ROOT,
      env: { ...process.env, ...env, FORCE_COLOR: "0", NO_COLOR: "1" },
      stdio: ["ignore", "pipe", "pipe"],
      // Its own process group: kill() reaches any child it starts (an npm bin wrapper's binary).
      detached: true,
    });
    live.add(this);
    const take = (chunk: Buffer) => {
      for (const l of chunk.toString("utf8").split("\n")) if (l.trim() !== "") this.lines.push(l);
      if (process.env.VERITENSOR_E2E_VERBOSE && !/node|anvil/.test(this.name)) process.stderr.write(chunk.toString("utf8").replace(/^/gm, `[${this.name}] `));
      for (const w of this.waiters.splice(0)) w();
    };
    this.child.stdout!.on("data", take);
    this.child.stderr!.on("data", take);
    this.exited = new Promise((resolve) =>
      this.child.on("exit", (code, signal) => {
        this.exit = { code, signal };
        live.delete(this);
        for (const w of this.waiters.splice(0)) w();
        resolve();
      }),
    );
  }

  get output(): string {
    return this.lines.join("\n");
  }

  /** Waits until a line matches `re` (or the process exits, or `ms` pass). */
  async waitFor(re: RegExp, ms = 60_000, from = 0): Promise<string> {
    const deadline = Date.now() + ms;
    for (;;) {
      const hit = this.lines.slice(from).find((l) => re.test(l));
      if (hit) return hit;
      if (this.exit) throw new Error(`${this.name} exited (${JSON.stringify(this.exit)}) before printing ${re}:\n${this.tail()}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${this.name} did not print ${re} within ${ms} ms:\n${this.tail()}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, Math.min(left, 500));
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  tail(n = 40): string {
    return this.lines.slice(-n).join("\n");
  }

  count(re: RegExp): number {
    return this.lines.filter((l) => re.test(l)).length;
  }

  kill(signal: NodeJS.Signals = "SIGTERM"): void {
    if (this.exit || this.child.pid === undefined) return;
    try {
      process.kill(-this.child.pid, signal);
    } catch {
      this.child.kill(signal);
    }
  }

  async stop(signal: NodeJS.Signals = "SIGTERM", ms = 15_000): Promise<void> {
    this.kill(signal);
    const t = setTimeout(() => this.kill("SIGKILL"), ms);
    await this.exited;
    clearTimeout(t);
  }

  wait(): Promise<void> {
    return this.exited;
  }
}

/** `npx hardhat <args>` as its own process (Node 22: this process's binary). */
export function hardhat(name: string, args: string[], env: Record<string, string> = {}): Proc {
  return new Proc(name, process.execPath, [HARDHAT_CLI, ...args], env);
}

/** Runs a hardhat task to completion; fails with its output if it fails. */
export async function runTask(args: string[], env: Record<string, string>, ms = 120_000): Promise<string> {
  const p = hardhat(args.slice(0, 2).join(" "), args, env);
  const t = setTimeout(() => p.kill("SIGKILL"), ms);
  await p.wait();
  clearTimeout(t);
  if (p.exit?.code !== 0) throw new Error(`npx hardhat ${args.join(" ")} failed (${JSON.stringify(p.exit)}):\n${p.tail()}`);
  return p.output;
}

/** The user's own deployment on a local node, which the tests must never touch. */
export const USER_LOCAL_DEPLOYMENT = path.join(ROOT, "ignition", "deployments", "chain-31337");

/**
 * What a folder holds, file by file (path, size, modification time, sha256 of the contents), or
 * undefined when it does not exist: two equal snapshots mean nothing in it was written.
 */
export async function folderSnapshot(dir: string): Promise<string | undefined> {
  let names: string[];
  try {
    names = (await readdir(dir, { recursive: true })).sort();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
  const lines = [`. ${(await stat(dir)).mtimeMs}`];
  for (const name of names) {
    const file = path.join(dir, name);
    const s = await stat(file);
    const hash = s.isFile() ? createHash("sha256").update(await readFile(file)).digest("hex") : "dir";
    lines.push(`${name} ${s.size} ${s.mtimeMs} ${hash}`);
  }
  return lines.join("\n");
}

/** anvil's native binary from its npm platform package (not the Node wrapper in node_modules/.bin). */
function anvilBinary(): string {
  const arch = process.arch === "x64" ? "amd64" : process.arch;
  try {
    return path.join(path.dirname(require.resolve(`@foundry-rs/anvil-${process.platform}-${arch}/package.json`)), "bin", "anvil");
  } catch {
    return path.join(ROOT, "node_modules/.bin/anvil");
  }
}

export interface RpcNode {
  readonly url: string;
  readonly proc: Proc;
}

/** A JSON-RPC node on a free port: `npx hardhat node`, or anvil (npm @foundry-rs/anvil). */
export async function startRpcNode(kind: "hardhat" | "anvil" = "hardhat"): Promise<RpcNode> {
  const port = await freePort();
  const proc =
    kind === "hardhat"
      ? hardhat("hardhat node", ["node", "--port", String(port)])
      : new Proc("anvil", anvilBinary(), ["--port", String(port), "--silent", "--gas-limit", "60000000"]);
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  while (!(await rpcAnswers(url))) {
    if (proc.exit) throw new Error(`${kind} node exited:\n${proc.tail()}`);
    if (Date.now() > deadline) throw new Error(`${kind} node did not answer on ${url}:\n${proc.tail()}`);
    await sleep(200);
  }
  return { url, proc };
}

/**
 * Mines an empty block every `ms` like a chain with a block time. A local node mining only on
 * transactions stamps blocks one second apart when they come faster than one per second, so its
 * clock runs ahead of the wall clock; blocks on a timer keep challenge windows and move clocks
 * moving while the nodes are idle (each block moves the chain's clock by at least one second).
 */
export class BlockTicker {
  private timer: NodeJS.Timeout | undefined;

  constructor(readonly url: string, readonly ms = 500) {}

  start(): void {
    this.timer ??= setInterval(() => {
      fetch(this.url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "evm_mine", params: [] }),
      }).catch(() => undefined);
    }, this.ms);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}

/** An HTTP JSON-RPC proxy that can be taken down (connections refused) and brought back on the same port. */
export class FlakyProxy {
  readonly target: string;
  port = 0;
  private server: Server | undefined;

  constructor(target: string) {
    this.target = target;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async up(): Promise<void> {
    if (this.port === 0) this.port = await freePort();
    const server = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      try {
        const r = await fetch(this.target, { method: "POST", headers: { "content-type": "application/json" }, body: Buffer.concat(chunks) });
        res.writeHead(r.status, { "content-type": "application/json" });
        res.end(Buffer.from(await r.arrayBuffer()));
      } catch {
        res.destroy();
      }
    });
    await new Promise<void>((resolve) => server.listen(this.port, "127.0.0.1", resolve));
    this.server = server;
  }

  async down(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}

/** Kills every process the harness started (SIGKILL) but those in `keep`, and waits for them. */
export async function killAll(keep: readonly Proc[] = []): Promise<void> {
  const procs = [...live].filter((p) => !keep.includes(p));
  for (const p of procs) p.kill("SIGKILL");
  await Promise.all(procs.map((p) => p.wait()));
}
