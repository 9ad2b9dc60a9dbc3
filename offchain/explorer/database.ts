/**
 * The explorer's index: one SQLite file (`node:sqlite`, as the nodes use, offchain/nodes/sqlite.ts).
 *
 * - `events` holds every kept event (offchain/explorer/catalog.ts) with its block, transaction and
 *   the entities it is about; `event_accounts` the accounts it names. They are the source of truth.
 * - `blocks` holds the hash and time of every block the index has read events from, and of the last
 *   block of every window read: a hash that no longer matches the chain's means a reorganization.
 * - `jobs` and `games` are derived from the events (one row per job or game, for lists and filters):
 *   each row is recomputed from its entity's events whenever one of them is added or removed, so a
 *   rollback to a fork point leaves exactly what indexing the new chain from there gives.
 * - `tx_cache` keeps what pages fetch from the chain on first view (receipts, step calldata), with
 *   the block they belong to, so a rollback drops it too.
 */

import { VeritensorError } from "../clients/errors.js";
import type { Database } from "../nodes/sqlite.js";
import { openDatabaseFile } from "../nodes/sqlite.js";
import type { Args, DecodedEvent, Source } from "./catalog.js";

/**
 * 1: the first schema. 2: batches (`jobs.batch_size`, `games.item`, from BatchRequested and
 * BatchItemDisputed) and the subscription manager's events. 3: the audit manager's and the
 * redundancy contract's events (`events.grp`, a redundancy group's id; `jobs.group_id`).
 */
export const SCHEMA_VERSION = 3;

/** Schemas an index is dropped and rebuilt from (their events are a subset of this version's). */
const REBUILT: readonly string[] = ["1", "2"];
const TABLES = ["meta", "blocks", "events", "event_accounts", "jobs", "games", "tx_cache"] as const;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS blocks (number INTEGER PRIMARY KEY, hash TEXT NOT NULL, time INTEGER);
CREATE TABLE IF NOT EXISTS events (
  block INTEGER NOT NULL,
  log_index INTEGER NOT NULL,
  tx_hash TEXT NOT NULL,
  tx_index INTEGER NOT NULL,
  address TEXT NOT NULL,
  source TEXT NOT NULL,
  name TEXT NOT NULL,
  job_id INTEGER,
  model_id INTEGER,
  game TEXT,
  proposal TEXT,
  grp INTEGER,
  args TEXT NOT NULL,
  PRIMARY KEY (block, log_index)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS events_group ON events(grp) WHERE grp IS NOT NULL;
CREATE INDEX IF NOT EXISTS events_job ON events(job_id) WHERE job_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS events_model ON events(model_id) WHERE model_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS events_game ON events(game) WHERE game IS NOT NULL;
CREATE INDEX IF NOT EXISTS events_proposal ON events(proposal) WHERE proposal IS NOT NULL;
CREATE INDEX IF NOT EXISTS events_name ON events(source, name);
CREATE INDEX IF NOT EXISTS events_tx ON events(tx_hash);
CREATE TABLE IF NOT EXISTS event_accounts (
  account TEXT NOT NULL,
  block INTEGER NOT NULL,
  log_index INTEGER NOT NULL,
  PRIMARY KEY (account, block, log_index)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS event_accounts_block ON event_accounts(block);
CREATE TABLE IF NOT EXISTS jobs (
  job_id INTEGER PRIMARY KEY,
  model_id INTEGER NOT NULL,
  requester TEXT NOT NULL,
  worker TEXT,
  status TEXT NOT NULL,
  fee TEXT NOT NULL,
  model_fee TEXT NOT NULL,
  worker_fee TEXT,
  lock TEXT NOT NULL,
  deadline INTEGER NOT NULL,
  consumer TEXT,
  callback TEXT,
  requested_block INTEGER NOT NULL,
  requested_at INTEGER,
  claimed_at INTEGER,
  submitted_at INTEGER,
  challenge_end INTEGER,
  settled_at INTEGER,
  games INTEGER NOT NULL DEFAULT 0,
  open_disputes INTEGER NOT NULL DEFAULT 0,
  last_block INTEGER NOT NULL,
  batch_size INTEGER NOT NULL DEFAULT 1,
  group_id INTEGER
);
CREATE INDEX IF NOT EXISTS jobs_model ON jobs(model_id, status);
CREATE INDEX IF NOT EXISTS jobs_worker ON jobs(worker, status);
CREATE INDEX IF NOT EXISTS jobs_requester ON jobs(requester);
CREATE INDEX IF NOT EXISTS jobs_status ON jobs(status);
CREATE INDEX IF NOT EXISTS jobs_group ON jobs(group_id) WHERE group_id IS NOT NULL;
CREATE TABLE IF NOT EXISTS games (
  game TEXT PRIMARY KEY,
  job_id INTEGER NOT NULL,
  defender TEXT,
  challenger TEXT NOT NULL,
  status INTEGER NOT NULL,
  reason INTEGER,
  level TEXT NOT NULL,
  layer INTEGER,
  kind INTEGER,
  element INTEGER,
  bond TEXT NOT NULL,
  rank INTEGER NOT NULL,
  slashed TEXT,
  burned TEXT,
  moves INTEGER NOT NULL,
  opened_block INTEGER NOT NULL,
  opened_at INTEGER,
  resolved_at INTEGER,
  item INTEGER
);
CREATE INDEX IF NOT EXISTS games_job ON games(job_id);
CREATE INDEX IF NOT EXISTS games_defender ON games(defender);
CREATE INDEX IF NOT EXISTS games_challenger ON games(challenger);
CREATE TABLE IF NOT EXISTS tx_cache (tx_hash TEXT PRIMARY KEY, block INTEGER NOT NULL, value TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS tx_cache_block ON tx_cache(block);
`;

/** An event row as stored. */
export interface EventRow {
  readonly block: number;
  readonly logIndex: number;
  readonly txHash: string;
  readonly address: string;
  readonly source: Source;
  readonly name: string;
  readonly jobId?: bigint;
  readonly modelId?: bigint;
  readonly game?: string;
  /** A redundancy group's id. */
  readonly group?: bigint;
  readonly args: Args;
  /** The block's timestamp (seconds), when known. */
  readonly time?: number;
}

/** What a deployment and chain an index belongs to. */
export interface IndexIdentity {
  readonly chainId: bigint;
  readonly escrow: string;
}

/** Entities whose derived rows changed (and pages showing them may need a refresh). */
export interface Touched {
  readonly jobs: Set<bigint>;
  readonly games: Set<string>;
  readonly models: Set<bigint>;
  readonly accounts: Set<string>;
  readonly proposals: Set<string>;
}

export const emptyTouched = (): Touched => ({ jobs: new Set(), games: new Set(), models: new Set(), accounts: new Set(), proposals: new Set() });

type Row = Record<string, unknown>;
type SqlValue = string | number | bigint | null | Uint8Array;

const eventRow = (r: Row): EventRow => ({
  block: Number(r.block),
  logIndex: Number(r.log_index),
  txHash: r.tx_hash as string,
  address: r.address as string,
  source: r.source as Source,
  name: r.name as string,
  ...(r.job_id === null || r.job_id === undefined ? {} : { jobId: BigInt(r.job_id as number) }),
  ...(r.model_id === null || r.model_id === undefined ? {} : { modelId: BigInt(r.model_id as number) }),
  ...(r.game === null || r.game === undefined ? {} : { game: r.game as string }),
  ...(r.grp === null || r.grp === undefined ? {} : { group: BigInt(r.grp as number) }),
  args: JSON.parse(r.args as string) as Args,
  ...(r.time === null || r.time === undefined ? {} : { time: Number(r.time) }),
});

/** Game levels in the order a game passes them, by the event that shows it entered one. */
const LEVEL_OF_EVENT: Readonly<Record<string, string>> = {
  RootPosted: "trace",
  LayerDisputed: "tensor",
  ElementDisputed: "element",
};

export class ExplorerDb {
  readonly db: Database;
  readonly file: string;
  private readonly statements = new Map<string, ReturnType<Database["prepare"]>>();

  private constructor(db: Database, file: string) {
    this.db = db;
    this.file = file;
  }

  /**
   * Opens (creating) the index at `file` for one deployment on one chain: an index of another
   * chain or escrow is refused with both named (give another --db, or delete it).
   */
  static open(file: string, identity?: IndexIdentity): ExplorerDb {
    const db = openDatabaseFile(file, "the explorer's index");
    // The index is rebuilt from the chain at will: no fsync per commit.
    db.exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000; PRAGMA temp_store=MEMORY;");
    db.exec(SCHEMA);
    const x = new ExplorerDb(db, file);
    const schema = x.meta("schema");
    if (schema === undefined) x.setMeta("schema", String(SCHEMA_VERSION));
    else if (REBUILT.includes(schema)) {
      // An older index lacks events this version keeps (batches, subscriptions): start it
      // again from the deployment block (it is rebuilt from the chain).
      db.exec(`${TABLES.map((t) => `DROP TABLE IF EXISTS ${t};`).join(" ")}`);
      db.exec(SCHEMA);
      x.setMeta("schema", String(SCHEMA_VERSION));
    } else if (schema !== String(SCHEMA_VERSION)) {
      x.close();
      throw new VeritensorError(`the explorer's index ${file} has schema ${schema}, this version writes ${SCHEMA_VERSION}: delete it (it is rebuilt from the chain) or give another --db`);
    }
    if (identity) {
      const want = `chain ${identity.chainId}, escrow ${identity.escrow.toLowerCase()}`;
      const have = x.meta("identity");
      if (have === undefined) x.setMeta("identity", want);
      else if (have !== want) {
        x.close();
        throw new VeritensorError(`the explorer's index ${file} belongs to ${have}, not to ${want}: give another --db (or delete it: it is rebuilt from the chain)`);
      }
    }
    return x;
  }

  close(): void {
    if (this.db.isOpen) this.db.close();
  }

  /** A prepared statement, compiled once per connection. */
  stmt(sql: string): ReturnType<Database["prepare"]> {
    let st = this.statements.get(sql);
    if (!st) {
      st = this.db.prepare(sql);
      this.statements.set(sql, st);
    }
    return st;
  }

  all(sql: string, ...params: SqlValue[]): Row[] {
    return this.stmt(sql).all(...params) as Row[];
  }

  get(sql: string, ...params: SqlValue[]): Row | undefined {
    return this.stmt(sql).get(...params) as Row | undefined;
  }

  transaction<T>(fn: () => T): T {
    this.db.exec("BEGIN IMMEDIATE");
    try {
      const out = fn();
      this.db.exec("COMMIT");
      return out;
    } catch (e) {
      this.db.exec("ROLLBACK");
      throw e;
    }
  }

  // ---------------------------------------------------------------- meta

  meta(key: string): string | undefined {
    const r = this.get("SELECT value FROM meta WHERE key = ?", key);
    return r === undefined ? undefined : (r.value as string);
  }

  setMeta(key: string, value: string): void {
    this.stmt("INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value").run(key, value);
  }

  /** The last block indexed (every event up to it is in), or undefined before the first window. */
  cursor(): number | undefined {
    const c = this.meta("cursor");
    return c === undefined ? undefined : Number(c);
  }

  // ---------------------------------------------------------------- blocks

  blockHash(n: number): string | undefined {
    return this.get("SELECT hash FROM blocks WHERE number = ?", n)?.hash as string | undefined;
  }

  /** Stored blocks at or below `n`, newest first (the candidates for a fork point). */
  blocksDownFrom(n: number, limit: number): { number: number; hash: string }[] {
    return this.all("SELECT number, hash FROM blocks WHERE number <= ? ORDER BY number DESC LIMIT ?", n, limit).map((r) => ({
      number: Number(r.number),
      hash: r.hash as string,
    }));
  }

  putBlock(n: number, hash: string, time: number | undefined): void {
    this.stmt("INSERT INTO blocks(number, hash, time) VALUES (?, ?, ?) ON CONFLICT(number) DO UPDATE SET hash = excluded.hash, time = COALESCE(excluded.time, blocks.time)")
      .run(n, hash.toLowerCase(), time ?? null);
  }

  // ---------------------------------------------------------------- events

  /** Adds a window's events (in one transaction with the cursor, see the indexer). */
  addEvent(e: DecodedEvent, touched: Touched): void {
    const k = e.keys;
    this.stmt(
      `INSERT INTO events(block, log_index, tx_hash, tx_index, address, source, name, job_id, model_id, game, proposal, grp, args)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
    ).run(e.block, e.logIndex, e.txHash, e.txIndex, e.address, e.source, e.name, k.job ?? null, k.model ?? null, k.game ?? null, k.proposal ?? null, k.group ?? null, JSON.stringify(e.args));
    for (const a of new Set(k.accounts ?? [])) {
      this.stmt("INSERT INTO event_accounts(account, block, log_index) VALUES (?, ?, ?) ON CONFLICT DO NOTHING").run(a, e.block, e.logIndex);
      touched.accounts.add(a);
    }
    if (k.job !== undefined) touched.jobs.add(k.job);
    if (k.game !== undefined) touched.games.add(k.game);
    if (k.model !== undefined) touched.models.add(k.model);
    if (k.proposal !== undefined) touched.proposals.add(k.proposal);
  }

  /**
   * Removes everything above block `fork` (a reorganization replaced those blocks): events, their
   * accounts, block hashes and cached chain reads; the derived rows of what they touched are
   * recomputed from the events that remain. Returns what was touched.
   */
  rollbackTo(fork: number): Touched {
    const touched = emptyTouched();
    for (const r of this.all("SELECT job_id, model_id, game, proposal FROM events WHERE block > ?", fork)) {
      if (r.job_id !== null) touched.jobs.add(BigInt(r.job_id as number));
      if (r.model_id !== null) touched.models.add(BigInt(r.model_id as number));
      if (r.game !== null) touched.games.add(r.game as string);
      if (r.proposal !== null) touched.proposals.add(r.proposal as string);
    }
    for (const r of this.all("SELECT DISTINCT account FROM event_accounts WHERE block > ?", fork)) touched.accounts.add(r.account as string);
    this.stmt("DELETE FROM events WHERE block > ?").run(fork);
    this.stmt("DELETE FROM event_accounts WHERE block > ?").run(fork);
    this.stmt("DELETE FROM blocks WHERE number > ?").run(fork);
    this.stmt("DELETE FROM tx_cache WHERE block > ?").run(fork);
    this.derive(touched);
    this.setMeta("cursor", String(fork));
    return touched;
  }

  /** Events matching `where` (SQL over the `events` table, aliased `e`), oldest first, with their block times. */
  events(where: string, ...params: SqlValue[]): EventRow[] {
    return this.all(
      `SELECT e.*, b.time FROM events e LEFT JOIN blocks b ON b.number = e.block WHERE ${where} ORDER BY e.block, e.log_index`,
      ...params,
    ).map(eventRow);
  }

  /** The newest `limit` events matching `where` (as for {@link events}), newest first. */
  latestEvents(where: string, limit: number, ...params: SqlValue[]): EventRow[] {
    return this.all(
      `SELECT e.*, b.time FROM events e LEFT JOIN blocks b ON b.number = e.block WHERE ${where} ORDER BY e.block DESC, e.log_index DESC LIMIT ?`,
      ...params,
      limit,
    ).map(eventRow);
  }

  /** Events that name `account`, of the given sources (all when none given), oldest first. */
  accountEvents(account: string, sources: readonly Source[] = []): EventRow[] {
    const filter = sources.length === 0 ? "" : ` AND e.source IN (${sources.map(() => "?").join(",")})`;
    return this.all(
      `SELECT e.*, b.time FROM event_accounts a JOIN events e ON e.block = a.block AND e.log_index = a.log_index
       LEFT JOIN blocks b ON b.number = e.block WHERE a.account = ?${filter} ORDER BY e.block, e.log_index`,
      account.toLowerCase(),
      ...sources,
    ).map(eventRow);
  }

  /** Dispute games whose `GameResolved` is not indexed yet: the clones whose logs are still read. */
  liveGames(): string[] {
    return this.all(
      `SELECT o.game FROM events o WHERE o.source = 'disputes' AND o.name = 'DisputeOpened'
       AND NOT EXISTS (SELECT 1 FROM events r WHERE r.game = o.game AND r.source = 'game' AND r.name = 'GameResolved')`,
    ).map((r) => r.game as string);
  }

  // ---------------------------------------------------------------- cached chain reads

  cached<T>(key: string): T | undefined {
    const r = this.get("SELECT value FROM tx_cache WHERE tx_hash = ?", key);
    return r === undefined ? undefined : (JSON.parse(r.value as string) as T);
  }

  cache(key: string, block: number, value: unknown): void {
    this.stmt("INSERT INTO tx_cache(tx_hash, block, value) VALUES (?, ?, ?) ON CONFLICT(tx_hash) DO UPDATE SET value = excluded.value")
      .run(key, block, JSON.stringify(value));
  }

  // ---------------------------------------------------------------- derived rows

  /** Recomputes the derived rows of the touched jobs and games (games after jobs: a game's defender is its job's worker). */
  derive(t: Touched): void {
    for (const id of t.jobs) this.deriveJob(id);
    for (const g of t.games) this.deriveGame(g);
  }

  private deriveJob(jobId: bigint): void {
    const evs = this.events("e.job_id = ?", jobId);
    const req = evs.find((e) => e.source === "jobManager" && e.name === "JobRequested");
    if (!req) {
      this.stmt("DELETE FROM jobs WHERE job_id = ?").run(jobId);
      return;
    }
    const terms = req.args.terms as Args;
    let status = "open";
    let worker: string | null = null;
    let workerFee: string | null = null;
    let claimedAt: number | null = null;
    let submittedAt: number | null = null;
    let challengeEnd: number | null = null;
    let settledAt: number | null = null;
    let games = 0;
    let open = 0;
    let batchSize = 1;
    const consumer = BigInt(terms.consumer as string) === 0n ? null : (terms.consumer as string).toLowerCase();
    let callback: string | null = consumer ? "pending" : null;
    for (const e of evs) {
      const a = e.args;
      if (e.source === "disputes") {
        if (e.name === "DisputeOpened") games++;
        continue;
      }
      if (e.source !== "jobManager") continue;
      switch (e.name) {
        case "BatchRequested":
          batchSize = Number(a.batchSize);
          break;
        case "JobClaimed":
          status = "claimed";
          worker = (a.worker as string).toLowerCase();
          claimedAt = e.time ?? null;
          break;
        case "ResultSubmitted":
          status = "submitted";
          submittedAt = e.time ?? null;
          challengeEnd = Number(a.challengeEnd);
          break;
        case "JobFrozen":
          open = Number(a.openDisputes);
          break;
        case "DisputeSettled":
          open = Number(a.openDisputes);
          break;
        case "JobFinalized":
          status = "finalized";
          workerFee = a.workerFee as string;
          settledAt = e.time ?? null;
          break;
        case "JobRejected":
          status = "rejected";
          settledAt = e.time ?? null;
          break;
        case "JobCancelled":
          status = "cancelled";
          settledAt = e.time ?? null;
          break;
        case "WorkerTimedOut":
          worker = null;
          break;
        case "JobReopened":
          status = "open";
          break;
        case "JobRefunded":
          if (status !== "cancelled") status = "refunded";
          settledAt = e.time ?? null;
          break;
        case "CallbackDelivered":
          callback = "delivered";
          break;
        case "CallbackFailed":
          callback = "failed";
          break;
      }
    }
    const last = evs[evs.length - 1]!;
    // A redundancy group's jobs are requested in the transaction that emits its GroupRequested.
    const group = this.get("SELECT grp FROM events WHERE tx_hash = ? AND source = 'redundancy' AND name = 'GroupRequested'", req.txHash)?.grp;
    this.stmt(
      `INSERT INTO jobs(job_id, model_id, requester, worker, status, fee, model_fee, worker_fee, lock, deadline, consumer, callback,
         requested_block, requested_at, claimed_at, submitted_at, challenge_end, settled_at, games, open_disputes, last_block, batch_size, group_id)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT(job_id) DO UPDATE SET model_id = excluded.model_id, requester = excluded.requester, worker = excluded.worker,
         status = excluded.status, fee = excluded.fee, model_fee = excluded.model_fee, worker_fee = excluded.worker_fee,
         lock = excluded.lock, deadline = excluded.deadline, consumer = excluded.consumer, callback = excluded.callback,
         requested_block = excluded.requested_block, requested_at = excluded.requested_at, claimed_at = excluded.claimed_at,
         submitted_at = excluded.submitted_at, challenge_end = excluded.challenge_end, settled_at = excluded.settled_at,
         games = excluded.games, open_disputes = excluded.open_disputes, last_block = excluded.last_block, batch_size = excluded.batch_size,
         group_id = excluded.group_id`,
    ).run(
      jobId,
      BigInt(terms.modelId as string),
      (terms.requester as string).toLowerCase(),
      worker,
      status,
      terms.fee as string,
      terms.modelFee as string,
      workerFee,
      terms.lock as string,
      Number(terms.deadline),
      consumer,
      callback,
      req.block,
      req.time ?? null,
      claimedAt,
      submittedAt,
      challengeEnd,
      settledAt,
      games,
      open,
      last.block,
      batchSize,
      group === undefined || group === null ? null : (group as number),
    );
  }

  private deriveGame(game: string): void {
    const evs = this.events("e.game = ?", game);
    const opened = evs.find((e) => e.source === "disputes" && e.name === "DisputeOpened");
    if (!opened) {
      this.stmt("DELETE FROM games WHERE game = ?").run(game);
      return;
    }
    const jobId = BigInt(opened.args.jobId as string);
    const defender = (this.get("SELECT worker FROM jobs WHERE job_id = ?", jobId)?.worker as string | null | undefined) ?? null;
    let status = 0;
    let reason: number | null = null;
    let level = "root";
    let layer: number | null = null;
    let kind: number | null = null;
    let element: number | null = null;
    let slashed: string | null = null;
    let burned: string | null = null;
    let resolvedAt: number | null = null;
    let item: number | null = null;
    const moves = new Set<string>();
    for (const e of evs) {
      const a = e.args;
      if (e.source === "game") {
        moves.add(e.txHash);
        const next = LEVEL_OF_EVENT[e.name];
        if (next) level = next;
        if (e.name === "LayerDisputed") {
          layer = Number(a.layer);
          kind = Number(a.kind);
        } else if (e.name === "ElementDisputed") element = Number(a.element);
        else if (e.name === "SumPosted") level = "reduction";
        else if (e.name === "Stepped") level = "step";
        else if (e.name === "GameResolved") {
          status = Number(a.status);
          reason = Number(a.reason);
          level = "resolved";
          resolvedAt = e.time ?? null;
        }
      } else if (e.source === "disputes" && e.name === "DisputeSettled") {
        slashed = a.slashed as string;
        burned = a.burned as string;
      } else if (e.source === "disputes" && e.name === "BatchItemDisputed") item = Number(a.item);
    }
    this.stmt(
      `INSERT INTO games(game, job_id, defender, challenger, status, reason, level, layer, kind, element, bond, rank, slashed, burned, moves,
         opened_block, opened_at, resolved_at, item) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT(game) DO UPDATE SET job_id = excluded.job_id, defender = excluded.defender, challenger = excluded.challenger,
         status = excluded.status, reason = excluded.reason, level = excluded.level, layer = excluded.layer, kind = excluded.kind,
         element = excluded.element, bond = excluded.bond, rank = excluded.rank, slashed = excluded.slashed, burned = excluded.burned,
         moves = excluded.moves, opened_block = excluded.opened_block, opened_at = excluded.opened_at, resolved_at = excluded.resolved_at, item = excluded.item`,
    ).run(
      game,
      jobId,
      defender,
      (opened.args.challenger as string).toLowerCase(),
      status,
      reason,
      level,
      layer,
      kind,
      element,
      opened.args.bond as string,
      Number(opened.args.rank),
      slashed,
      burned,
      moves.size,
      opened.block,
      opened.time ?? null,
      resolvedAt,
      item,
    );
  }
}
