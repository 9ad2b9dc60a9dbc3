/**
 * `npx hardhat node` as a child process on a free port, for benchmarks that must measure the
 * nodes against a real JSON-RPC endpoint (chain work in another process, over HTTP) rather than
 * the in-process network. The end-to-end tests have a fuller harness (test/nodes/harness.ts).
 */
import type { ChildProcess } from "node:child_process";
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import path from "node:path";

import { VeritensorError } from "../../clients/errors.js";

const require = createRequire(import.meta.url);

/** A TCP port nobody listens on right now (127.0.0.1). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Whether a JSON-RPC endpoint answers `eth_chainId` within a second. */
export async function rpcAnswers(url: string): Promise<boolean> {
  try {
    const r = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
      signal: AbortSignal.timeout(1000),
    });
    return r.ok;
  } catch {
    return false;
  }
}

export interface LocalNode {
  readonly url: string;
  readonly pid: number;
  /** CPU time (user + system, ms) the node process has used so far (Linux /proc), if readable. */
  cpuMs(): Promise<number | undefined>;
  stop(): Promise<void>;
}

/** Starts `npx hardhat node` (automine) in `root` on a free port and waits until it answers. */
export async function startHardhatNode(root: string, timeoutMs = 60_000): Promise<LocalNode> {
  const port = await freePort();
  const cli = path.join(path.dirname(require.resolve("hardhat/package.json")), "dist/src/cli.js");
  const child: ChildProcess = spawn(process.execPath, [cli, "node", "--port", String(port)], {
    cwd: root,
    env: { ...process.env, FORCE_COLOR: "0", NO_COLOR: "1" },
    stdio: ["ignore", "ignore", "pipe"],
    detached: true,
  });
  let stderr = "";
  child.stderr!.on("data", (c: Buffer) => (stderr = (stderr + c.toString("utf8")).slice(-4000)));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  let gone = false;
  void exited.then(() => (gone = true));
  const kill = (signal: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, signal);
    } catch {
      child.kill(signal);
    }
  };
  const stop = async () => {
    if (gone) return;
    kill("SIGTERM");
    const t = setTimeout(() => kill("SIGKILL"), 10_000);
    await exited;
    clearTimeout(t);
  };
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + timeoutMs;
  while (!(await rpcAnswers(url))) {
    if (gone || Date.now() > deadline) {
      await stop();
      throw new VeritensorError(`npx hardhat node did not answer on ${url}:\n${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return { url, pid: child.pid!, cpuMs: () => processCpuMs(child.pid!), stop };
}

/** utime + stime of a process from /proc/<pid>/stat, in ms (undefined off Linux). */
async function processCpuMs(pid: number): Promise<number | undefined> {
  try {
    const { readFile } = await import("node:fs/promises");
    const stat = await readFile(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name (which may contain spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15)
    return (ticks * 1000) / 100; // USER_HZ is 100 on Linux
  } catch {
    return undefined;
  }
}
