/**
 * The explorer's indexer: follows the protocol's events into the index (offchain/explorer/database.ts)
 * incrementally, as the nodes read theirs (offchain/nodes/node.ts): from a cursor, in bounded
 * windows of blocks, and only blocks with the configured confirmations.
 *
 * Reorganizations: every window is read between two reads of its last block's header, and kept only
 * if that header did not change meanwhile, so the window's events all belong to the chain that ends in
 * that block; its hash is stored with those of the blocks holding events. Each pass first compares the
 * stored hash of the cursor block with the chain's: a reorganization that replaced any indexed block
 * also changed that one. On a mismatch the indexer walks back through the stored hashes to the newest
 * block the chain still has, removes everything above it (derived rows are recomputed), and reads on
 * from there. A restart resumes from the cursor in the file, after the same check.
 */
import type { Protocol } from "../clients/protocol.js";
import { LOG_WINDOW, escrowFirstBlock } from "../clients/job-events.js";
import type { DecodedEvent, RawLog, Source } from "./catalog.js";
import { decodeLog, sourceAddresses } from "./catalog.js";
import type { ExplorerDb, Touched } from "./database.js";
import { emptyTouched } from "./database.js";

export interface IndexerOptions {
  readonly protocol: Protocol;
  readonly db: ExplorerDb;
  /** Confirmations a block needs before its events are indexed (1: the head itself). */
  readonly confirmations?: number;
  /** Blocks per `eth_getLogs` call (default the clients' LOG_WINDOW, 10,000); halved while an endpoint refuses. */
  readonly window?: number;
  /** First block to read on a new index (default: the escrow's deployment block). */
  readonly fromBlock?: number;
  readonly log?: (line: string) => void;
  /** Called after each window is committed, and after a rollback, with what changed. */
  readonly onChange?: (change: IndexChange) => void;
}

export interface IndexChange {
  readonly touched: Touched;
  /** The last block indexed. */
  readonly cursor: number;
  /** Set when the change is a rollback to this block. */
  readonly rolledBackTo?: number;
}

export interface SyncResult {
  readonly head: number;
  readonly cursor: number;
  readonly events: number;
  readonly windows: number;
  /** The fork point rolled back to in this pass, if there was a reorganization. */
  readonly reorgTo?: number;
}

interface Header {
  readonly hash: string;
  readonly time: number;
}

/** Game clone addresses per `eth_getLogs` call. */
const GAMES_PER_CALL = 100;

export class Indexer {
  readonly p: Protocol;
  readonly db: ExplorerDb;
  readonly confirmations: number;
  private window: number;
  private readonly maxWindow: number;
  private readonly fromBlock?: number;
  private readonly log: (line: string) => void;
  private readonly onChange?: (change: IndexChange) => void;
  private readonly sources: Map<string, Source>;

  constructor(o: IndexerOptions) {
    this.p = o.protocol;
    this.db = o.db;
    this.confirmations = Math.max(1, o.confirmations ?? 1);
    this.maxWindow = this.window = Math.max(1, o.window ?? LOG_WINDOW);
    this.fromBlock = o.fromBlock;
    this.log = o.log ?? (() => {});
    this.onChange = o.onChange;
    this.sources = sourceAddresses(this.p.addresses);
  }

  private rpc<T>(method: string, params: unknown[]): Promise<T> {
    return this.p.connection.provider.request({ method, params }) as Promise<T>;
  }

  private async header(n: number): Promise<Header | undefined> {
    const b = await this.rpc<{ hash: string; timestamp: string } | null>("eth_getBlockByNumber", [`0x${n.toString(16)}`, false]);
    return b ? { hash: b.hash.toLowerCase(), time: Number(b.timestamp) } : undefined;
  }

  private getLogs(addresses: readonly string[], from: number, to: number): Promise<RawLog[]> {
    return this.rpc<RawLog[]>("eth_getLogs", [{ address: addresses, fromBlock: `0x${from.toString(16)}`, toBlock: `0x${to.toString(16)}` }]);
  }

  /** The first block a new index reads. */
  private async startBlock(): Promise<number> {
    if (this.fromBlock !== undefined) return this.fromBlock;
    return escrowFirstBlock(this.p);
  }

  private queue: Promise<unknown> = Promise.resolve();

  /**
   * One pass: the reorganization check, then every confirmed window after the cursor. Passes never
   * overlap: a call while one runs waits for it, then makes its own.
   */
  sync(): Promise<SyncResult> {
    const next = this.queue.then(() => this.pass(), () => this.pass());
    this.queue = next.catch(() => undefined);
    return next;
  }

  private optionalChecked = false;

  /**
   * The escrow names its audit manager (immutable): its events are read even when the address book
   * does not name it. Once per indexer, before the first window.
   */
  private async addEscrowAuditManager(): Promise<void> {
    if (this.optionalChecked) return;
    const a = (await this.p.jobManager.auditManager()).toLowerCase();
    if (BigInt(a) !== 0n && !this.sources.has(a)) this.sources.set(a, "audits");
    this.optionalChecked = true;
  }

  private async pass(): Promise<SyncResult> {
    await this.addEscrowAuditManager();
    const head = Number(await this.rpc<string>("eth_blockNumber", []));
    const target = head - (this.confirmations - 1);
    let cursor = this.db.cursor();
    let reorgTo: number | undefined;
    if (cursor === undefined) {
      cursor = (await this.startBlock()) - 1;
      this.db.setMeta("start", String(cursor + 1));
      this.db.setMeta("cursor", String(cursor));
    } else {
      const stored = this.db.blockHash(cursor);
      if (stored !== undefined && (await this.header(cursor))?.hash !== stored) {
        reorgTo = await this.forkPoint(cursor);
        const touched = this.db.transaction(() => this.db.rollbackTo(reorgTo!));
        this.log(`reorganization: block ${cursor} is no longer ${stored.slice(0, 10)}…; rolled back to block ${reorgTo} (the newest block the chain still has)`);
        cursor = reorgTo;
        this.onChange?.({ touched, cursor, rolledBackTo: reorgTo });
      }
    }
    let events = 0;
    let windows = 0;
    while (cursor < target) {
      const from = cursor + 1;
      const to = Math.min(target, from + this.window - 1);
      const read = await this.readWindow(from, to);
      if (read === "retry") continue;
      const touched = emptyTouched();
      this.db.transaction(() => {
        for (const [n, h] of read.blocks) this.db.putBlock(n, h.hash, h.time);
        for (const e of read.events) this.db.addEvent(e, touched);
        this.db.derive(touched);
        for (const id of touched.jobs) {
          const m = this.db.get("SELECT model_id FROM jobs WHERE job_id = ?", id)?.model_id;
          if (m !== undefined && m !== null) touched.models.add(BigInt(m as number));
        }
        this.db.setMeta("cursor", String(to));
      });
      cursor = to;
      events += read.events.length;
      windows++;
      if (read.events.length > 0) this.onChange?.({ touched, cursor });
    }
    this.db.setMeta("head", String(head));
    return { head, cursor, events, windows, ...(reorgTo !== undefined ? { reorgTo } : {}) };
  }

  /**
   * The events of blocks `from`..`to` and the headers of their blocks (and of `to`), or "retry"
   * when the chain changed under the read or the endpoint refused the range (then halved).
   */
  private async readWindow(from: number, to: number): Promise<{ events: DecodedEvent[]; blocks: Map<number, Header> } | "retry"> {
    const before = await this.header(to);
    if (!before) return "retry";
    let logs: RawLog[];
    try {
      logs = await this.getLogs([...this.sources.keys()], from, to);
    } catch (e) {
      if (this.window === 1) throw e;
      this.window = Math.max(1, Math.floor(this.window / 2));
      this.log(`eth_getLogs over ${to - from + 1} blocks failed (${(e as Error).message.split("\n")[0]}); reading ${this.window} blocks per call`);
      return "retry";
    }
    const events: DecodedEvent[] = [];
    const opened: string[] = [];
    for (const l of logs) {
      if (l.removed) continue;
      const e = decodeLog(l, this.sources.get(l.address.toLowerCase())!);
      if (!e) continue;
      events.push(e);
      if (e.source === "disputes" && e.name === "DisputeOpened") opened.push(e.keys.game!);
    }
    const games = [...new Set([...this.db.liveGames(), ...opened])];
    for (let i = 0; i < games.length; i += GAMES_PER_CALL) {
      for (const l of await this.getLogs(games.slice(i, i + GAMES_PER_CALL), from, to)) {
        if (l.removed) continue;
        const e = decodeLog(l, "game");
        if (e) {
          events.push(e);
          logs.push(l);
        }
      }
    }
    const after = await this.header(to);
    if (after?.hash !== before.hash) return "retry";
    events.sort((a, b) => a.block - b.block || a.logIndex - b.logIndex);
    const blocks = new Map<number, Header>([[to, before]]);
    const missing = new Set<number>();
    for (const l of logs) {
      const n = Number(l.blockNumber);
      if (blocks.has(n)) continue;
      if (l.blockTimestamp !== undefined) blocks.set(n, { hash: l.blockHash.toLowerCase(), time: Number(l.blockTimestamp) });
      else missing.add(n);
    }
    // Endpoints that leave the time out of their logs: one header per block with events.
    const list = [...missing];
    for (let i = 0; i < list.length; i += 32) {
      const got = await Promise.all(list.slice(i, i + 32).map((n) => this.header(n)));
      got.forEach((h, j) => {
        if (h) blocks.set(list[i + j]!, h);
      });
    }
    if (this.window < this.maxWindow) this.window = Math.min(this.maxWindow, this.window * 2);
    return { events, blocks };
  }

  /** The newest stored block at or below `from` that the chain still has (the start block − 1 if none). */
  private async forkPoint(from: number): Promise<number> {
    let below = from;
    for (;;) {
      const batch = this.db.blocksDownFrom(below, 32);
      if (batch.length === 0) return Number(this.db.meta("start") ?? "0") - 1;
      const chain = await Promise.all(batch.map((b) => this.header(b.number)));
      const i = batch.findIndex((b, j) => chain[j]?.hash === b.hash);
      if (i >= 0) return batch[i]!.number;
      below = batch[batch.length - 1]!.number - 1;
    }
  }

  /** Syncs every `pollMs` until `signal` aborts; endpoint failures are logged once per outage and retried. */
  async run(signal: AbortSignal, pollMs = 1000): Promise<void> {
    let failing = false;
    while (!signal.aborted) {
      try {
        await this.sync();
        if (failing) this.log("the endpoint answers again");
        failing = false;
      } catch (e) {
        if (signal.aborted) break;
        if (!failing) this.log(`indexing paused: ${(e as Error).message.split("\n")[0]} (retrying)`);
        failing = true;
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, failing ? Math.max(pollMs, 2000) : pollMs);
        signal.addEventListener("abort", () => {
          clearTimeout(t);
          resolve();
        }, { once: true });
      });
    }
  }
}
