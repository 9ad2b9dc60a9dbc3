/**
 * The explorer: an indexer following the protocol's events into SQLite, and a small HTTP server
 * with the JSON API and the bundled app (live updates by server-sent events). `startExplorer` runs
 * both until `stop()`: the `explorer` task, the demo's `--explorer` and the tests use it.
 */
import path from "node:path";

import type { Protocol } from "../clients/protocol.js";
import { ExplorerDb } from "./database.js";
import { ensureBundle, defaultBundleDir } from "./bundle.js";
import { Indexer } from "./indexer.js";
import { ExplorerQueries } from "./queries.js";
import { ExplorerServer } from "./server.js";

export { ExplorerDb } from "./database.js";
export { Indexer } from "./indexer.js";
export { ExplorerQueries, QueryError } from "./queries.js";
export { ExplorerServer } from "./server.js";
export { ensureBundle, defaultBundleDir } from "./bundle.js";

export interface ExplorerOptions {
  readonly protocol: Protocol;
  /** The project root (the bundle goes to dist/explorer there, the default index to .veritensor). */
  readonly root: string;
  /** SQLite index (default `.veritensor/explorer-<chain>-<escrow>.sqlite` under root; `:memory:` for a throwaway one). */
  readonly db?: string;
  readonly host?: string;
  readonly port?: number;
  readonly confirmations?: number;
  /** ms between indexing passes (default 1000). */
  readonly pollMs?: number;
  readonly fromBlock?: number;
  /** Names for known accounts (the demo's actors). */
  readonly labels?: ReadonlyMap<string, string>;
  readonly bundleDir?: string;
  readonly log?: (line: string) => void;
}

export interface RunningExplorer {
  readonly url: string;
  readonly db: ExplorerDb;
  readonly indexer: Indexer;
  readonly queries: ExplorerQueries;
  readonly server: ExplorerServer;
  /** Indexes up to the confirmed head now (the loop does it every poll). */
  sync(): Promise<void>;
  stop(): Promise<void>;
}

export function defaultIndexPath(root: string, p: Protocol): string {
  return path.join(root, ".veritensor", `explorer-${p.chainId}-${p.addresses.jobManager.slice(2, 10).toLowerCase()}.sqlite`);
}

/** Builds the app if needed, opens the index, indexes to the head, serves, and keeps indexing. */
export async function startExplorer(o: ExplorerOptions): Promise<RunningExplorer> {
  const log = o.log ?? ((line: string) => console.log(line));
  const bundle = await ensureBundle(o.bundleDir ?? defaultBundleDir(o.root));
  if (bundle.built) log(`explorer: built the app (${(bundle.bytes / 1024).toFixed(0)} KiB) in ${bundle.ms} ms into ${bundle.dir}`);
  const p = o.protocol;
  const db = ExplorerDb.open(o.db ?? defaultIndexPath(o.root, p), { chainId: p.chainId, escrow: p.addresses.jobManager });
  const confirmations = o.confirmations ?? 1;
  const queries = new ExplorerQueries({ protocol: p, db, confirmations, ...(o.labels ? { labels: o.labels } : {}) });
  const server = new ExplorerServer({ queries, bundleDir: bundle.dir, log });
  const indexer = new Indexer({
    protocol: p,
    db,
    confirmations,
    ...(o.fromBlock !== undefined ? { fromBlock: o.fromBlock } : {}),
    log: (line) => log(`explorer: ${line}`),
    onChange: (change) => server.notify(change),
  });
  const started = Date.now();
  const first = await indexer.sync();
  log(`explorer: indexed ${first.events} event(s) up to block ${first.cursor} in ${((Date.now() - started) / 1000).toFixed(1)} s (index ${db.file})`);
  const url = await server.listen(o.port ?? 0, o.host ?? "127.0.0.1");
  const abort = new AbortController();
  const loop = indexer.run(abort.signal, o.pollMs ?? 1000);
  let stopped = false;
  return {
    url,
    db,
    indexer,
    queries,
    server,
    sync: async () => {
      await indexer.sync();
    },
    stop: async () => {
      if (stopped) return;
      stopped = true;
      abort.abort();
      await loop;
      await server.close();
      db.close();
    },
  };
}

/** Keeps `explorer` running until SIGINT or SIGTERM, then stops it (a second signal exits at once). */
export async function serveUntilSignal(explorer: RunningExplorer, log: (line: string) => void = (l) => console.log(l)): Promise<void> {
  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) process.exit(130);
      stopping = true;
      log(`explorer: ${signal}: stopping`);
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      resolve();
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
  await explorer.stop();
}
