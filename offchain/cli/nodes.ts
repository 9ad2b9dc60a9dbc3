/**
 * What the `worker` and `verifier` tasks share: parsing their options into node options, and
 * running a node until SIGINT/SIGTERM (the current step finishes, the store closes; a second
 * signal exits at once).
 */
import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { VeritensorError, openProtocol, parseVtn, partyFrom, resolveSigner } from "./index.js";
import { sleep } from "../nodes/loop.js";
import type { NodeOptions, ProtocolNode } from "../nodes/node.js";
import { isTransient } from "../nodes/transient.js";
import type { CheatChoice } from "../runtime/cheat.js";
import { parseCheat } from "../runtime/cheat.js";

/** Options common to both node tasks, as Hardhat passes them. */
export interface NodeTaskArgs {
  from: string | undefined;
  models: string | undefined;
  db: string | undefined;
  cacheDir: string | undefined;
  ipfsGateway: string | undefined;
  poll: number;
  confirmations: number;
  maxFeeGwei: string | undefined;
  priorityFeeGwei: string | undefined;
  gasMultiplier: string | undefined;
  replaceAfter: number;
  fromBlock: number;
  cheat: string | undefined;
}

/** `"1,2"` -> [1n, 2n]; undefined when not given. */
export function parseModelList(text: string | undefined): bigint[] | undefined {
  if (text === undefined || text.trim() === "") return undefined;
  return text.split(",").map((t) => {
    const s = t.trim();
    if (!/^\d+$/.test(s) || BigInt(s) === 0n) throw new VeritensorError(`--models: "${s}" is not a model id (1, 2, 3…)`);
    return BigInt(s);
  });
}

function positive(text: string | undefined, option: string): number | undefined {
  if (text === undefined || text.trim() === "") return undefined;
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) throw new VeritensorError(`${option} "${text}" is not a positive number`);
  return n;
}

export interface ParsedNodeArgs {
  readonly node: NodeOptions;
  readonly models?: bigint[];
  readonly cheat?: CheatChoice;
}

/** What each node does with its account, for the message when --from is missing. */
const ACTS_AS = {
  worker: "worker claims jobs with the sender's stake and earns their fees",
  verifier: "verifier posts dispute bonds from the sender and earns the rewards",
} as const;

export async function nodeOptionsFromArgs(
  a: NodeTaskArgs,
  hre: HardhatRuntimeEnvironment,
  role: keyof typeof ACTS_AS,
): Promise<ParsedNodeArgs> {
  const from = partyFrom(a.from, ACTS_AS[role]);
  if (!Number.isInteger(a.poll) || a.poll < 0) throw new VeritensorError(`--poll ${a.poll}: give milliseconds (0 or more)`);
  if (!Number.isInteger(a.confirmations) || a.confirmations < 1) throw new VeritensorError(`--confirmations ${a.confirmations}: give 1 or more`);
  if (!Number.isInteger(a.replaceAfter) || a.replaceAfter < 0) throw new VeritensorError(`--replace-after ${a.replaceAfter}: give seconds (0 or more; 0 never replaces)`);
  const protocol = await openWithRetry(hre);
  const signer = await resolveSigner(protocol.connection, from);
  return {
    node: {
      protocol,
      signer,
      root: hre.config.paths.root,
      db: a.db,
      cacheDir: a.cacheDir,
      ipfsGateway: a.ipfsGateway,
      pollMs: a.poll,
      confirmations: a.confirmations,
      fromBlock: a.fromBlock > 0 ? a.fromBlock : undefined,
      gas: {
        maxFeeGwei: positive(a.maxFeeGwei, "--max-fee-gwei"),
        priorityFeeGwei: positive(a.priorityFeeGwei, "--priority-fee-gwei"),
        gasLimitMultiplier: positive(a.gasMultiplier, "--gas-multiplier"),
        replaceAfterMs: a.replaceAfter * 1000,
      },
    },
    models: parseModelList(a.models),
    cheat: a.cheat === undefined ? undefined : parseCheat(a.cheat),
  };
}

export { parseVtn };

/** `openProtocol`, retried with backoff (for up to `patienceMs`) while the endpoint is unreachable. */
export async function openWithRetry(hre: HardhatRuntimeEnvironment, patienceMs = 120_000): Promise<Awaited<ReturnType<typeof openProtocol>>> {
  const started = Date.now();
  let delay = 500;
  for (;;) {
    try {
      return await openProtocol(hre);
    } catch (e) {
      if (!isTransient(e) || Date.now() - started > patienceMs) throw e;
      console.log(`! the endpoint of network ${hre.globalOptions.network ?? "default"} is unreachable; retrying in ${(delay / 1000).toFixed(1)} s`);
      await sleep(delay);
      delay = Math.min(15_000, delay * 2);
    }
  }
}

/** Runs `node` until SIGINT or SIGTERM; the current tick completes and the store is closed. */
export async function runUntilSignal(node: ProtocolNode): Promise<void> {
  const controller = new AbortController();
  const stop = (signal: NodeJS.Signals) => {
    if (controller.signal.aborted) {
      node.log.warn(`${signal} again: exiting now`);
      process.exit(130);
    }
    node.log.info(`${signal}: stopping after the current step (state is saved; a restart resumes)`);
    controller.abort();
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  try {
    await node.run(controller.signal);
    node.log.info(`stopped after ${node.counters.ticks} pass(es) and ${node.counters.txs} transaction(s)`);
  } finally {
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
  }
}
