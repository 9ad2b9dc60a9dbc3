/**
 * The durable state of a worker or verifier: one SQLite file (WAL) per node. It records what the
 * node saw, claimed, computed and committed, every dispute it plays with what it needs to keep
 * playing (model, input, the cheat that shaped its trace), and a write-ahead log of transactions
 * (`intents`): a row is written before a transaction is sent, its nonce before it is signed and
 * its hash once the node has it. After a `kill -9`, the node settles every unfinished intent
 * against the chain (offchain/nodes/journal.ts) before deciding anything, so nothing is sent twice.
 */

import { VeritensorError } from "../clients/errors.js";
import type { Database } from "./sqlite.js";
import { openDatabaseFile } from "./sqlite.js";

/**
 * 2: the lazy trace (a job keeps the verifier's dispute root, a dispute its side's claim).
 * 3: a job keeps its claim's result due time (a schema-2 file is migrated in place: one column).
 * 4: a job keeps its batch size (schema-2 and -3 files are migrated in place: one column each).
 * The `audits` table (a worker's audits of others' results) is created in any file when it is
 * opened: a table added, nothing changed, so the version stays.
 */
export const SCHEMA_VERSION = 4;

/** The columns each older schema lacks, added in place when it is opened (rows leave them empty). */
const MIGRATIONS: Readonly<Record<string, readonly string[]>> = {
  "2": ["result_due INTEGER", "batch_size INTEGER"],
  "3": ["batch_size INTEGER"],
};

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS jobs (
  job_id INTEGER PRIMARY KEY,
  model_id INTEGER NOT NULL,
  stage TEXT NOT NULL,
  input BLOB,
  output BLOB,
  dispute_root TEXT,
  cheat TEXT,
  challenge_end INTEGER,
  result_due INTEGER,
  batch_size INTEGER,
  note TEXT,
  updated_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS jobs_stage ON jobs(stage);
CREATE TABLE IF NOT EXISTS disputes (
  game TEXT PRIMARY KEY,
  job_id INTEGER NOT NULL,
  side INTEGER NOT NULL,
  model_id INTEGER NOT NULL,
  input BLOB NOT NULL,
  cheat TEXT,
  claim TEXT NOT NULL,
  status TEXT NOT NULL,
  moves INTEGER NOT NULL DEFAULT 0,
  gas TEXT NOT NULL DEFAULT '0',
  outcome TEXT,
  updated_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS disputes_status ON disputes(status);
CREATE TABLE IF NOT EXISTS intents (
  key TEXT PRIMARY KEY,
  label TEXT NOT NULL,
  state TEXT NOT NULL,
  nonce INTEGER,
  tx_hash TEXT,
  gas_used TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS intents_state ON intents(state);
CREATE TABLE IF NOT EXISTS audits (
  job_id INTEGER PRIMARY KEY,
  model_id INTEGER NOT NULL,
  stage TEXT NOT NULL,
  worker TEXT NOT NULL,
  worker_output TEXT NOT NULL,
  submitted_block INTEGER NOT NULL,
  challenge_end INTEGER NOT NULL,
  our_output TEXT,
  slot_end INTEGER,
  note TEXT,
  updated_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS audits_stage ON audits(stage);
`;

/** Where a job stands for this node. */
export type JobStage =
  // worker
  | "seen" | "claimed" | "computed" | "submitted" | "finalized" | "rejected" | "lost"
  // verifier
  | "pending" | "agreed" | "disputed" | "missed"
  // both
  | "skipped";

export interface JobRow {
  readonly jobId: bigint;
  readonly modelId: bigint;
  readonly stage: JobStage;
  readonly input?: Uint8Array;
  /** The worker's output (written ahead of its submission); the verifier's copy of the submitted one. */
  readonly output?: Uint8Array;
  /** Verifier: the trace root it disputes the result with (written ahead of the commitment). */
  readonly disputeRoot?: string;
  /** JSON of the cheat that shaped the node's output or trace (--cheat), if any. */
  readonly cheat?: string;
  readonly challengeEnd?: bigint;
  /** Worker: when its claim's result is due (a submission reorganized away must be sent again by then). */
  readonly resultDue?: bigint;
  /**
   * Inputs the job carries, from its BatchRequested event (or its stored record): absent for a
   * single job. A batch's input and output are its items', concatenated.
   */
  readonly batchSize?: number;
  readonly note?: string;
}

/**
 * Where an audit of another worker's result stands for a worker (offchain/nodes/auditor.ts):
 * `pending` until its draw is read (after its seed block), then `unaudited`, `other` (drawn for
 * another auditor, until its slot ends), `theirs` (another auditor committed, or the slots passed), or ours: `computed` (our output written ahead of the
 * commitment), `committed`, then `passed` or `disputed` once revealed (`unrevealed` when the
 * challenge window closed first), `settled` once the job is; `skipped` when we could not audit it
 * in time (note says why).
 */
export type AuditStage = "pending" | "unaudited" | "other" | "theirs" | "computed" | "committed" | "passed" | "disputed" | "unrevealed" | "settled" | "skipped";

export interface AuditRow {
  readonly jobId: bigint;
  readonly modelId: bigint;
  readonly stage: AuditStage;
  /** The job's worker and its submitted output commitment (from ResultSubmitted). */
  readonly worker: string;
  readonly workerOutput: string;
  /** The block the result was submitted in (the draw's seed is the next block's hash). */
  readonly submittedBlock: bigint;
  readonly challengeEnd: bigint;
  /** Our own output commitment (written ahead of the audit commitment, which hides it). */
  readonly ourOutput?: string;
  /** `other`: the last block of the drawn auditor's slot (the draw is read again if it let it pass). */
  readonly slotEnd?: bigint;
  readonly note?: string;
}

export type DisputeStatus = "playing" | "won" | "lost";

export interface DisputeRow {
  readonly game: string;
  readonly jobId: bigint;
  /** Side of offchain/clients/disputes.ts: 0 defender, 1 challenger. */
  readonly side: number;
  readonly modelId: bigint;
  readonly input: Uint8Array;
  readonly cheat?: string;
  /**
   * What this side is bound to, checked against the trace it rebuilds (after a restart too): the
   * challenger's trace root (posted at opening); the defender's output commitment (its trace
   * root is posted by its first move, from the rebuilt trace).
   */
  readonly claim: string;
  readonly status: DisputeStatus;
  readonly moves: number;
  readonly gas: bigint;
  readonly outcome?: string;
}

/** A write-ahead record of one transaction. */
export type IntentState = "pending" | "sent" | "done" | "failed" | "dropped";

export interface IntentRow {
  readonly key: string;
  readonly label: string;
  readonly state: IntentState;
  readonly nonce?: number;
  readonly txHash?: string;
  readonly gasUsed?: bigint;
}

type Row = Record<string, unknown>;
const now = () => Date.now();
const big = (v: unknown): bigint | undefined => (v === null || v === undefined ? undefined : BigInt(v as number | string));
const str = (v: unknown): string | undefined => (v === null || v === undefined ? undefined : String(v));
const blob = (v: unknown): Uint8Array | undefined => (v === null || v === undefined ? undefined : new Uint8Array(v as Uint8Array));

function jobRow(r: Row): JobRow {
  return {
    jobId: BigInt(r.job_id as number),
    modelId: BigInt(r.model_id as number),
    stage: r.stage as JobStage,
    input: blob(r.input),
    output: blob(r.output),
    disputeRoot: str(r.dispute_root),
    cheat: str(r.cheat),
    challengeEnd: big(r.challenge_end),
    resultDue: big(r.result_due),
    batchSize: r.batch_size === null || r.batch_size === undefined ? undefined : Number(r.batch_size),
    note: str(r.note),
  };
}

function disputeRow(r: Row): DisputeRow {
  return {
    game: r.game as string,
    jobId: BigInt(r.job_id as number),
    side: Number(r.side),
    modelId: BigInt(r.model_id as number),
    input: new Uint8Array(r.input as Uint8Array),
    cheat: str(r.cheat),
    claim: r.claim as string,
    status: r.status as DisputeStatus,
    moves: Number(r.moves),
    gas: BigInt(r.gas as string),
    outcome: str(r.outcome),
  };
}

function auditRow(r: Row): AuditRow {
  return {
    jobId: BigInt(r.job_id as number),
    modelId: BigInt(r.model_id as number),
    stage: r.stage as AuditStage,
    worker: r.worker as string,
    workerOutput: r.worker_output as string,
    submittedBlock: BigInt(r.submitted_block as number),
    challengeEnd: BigInt(r.challenge_end as number),
    ourOutput: str(r.our_output),
    slotEnd: big(r.slot_end),
    note: str(r.note),
  };
}

function intentRow(r: Row): IntentRow {
  return {
    key: r.key as string,
    label: r.label as string,
    state: r.state as IntentState,
    nonce: r.nonce === null ? undefined : Number(r.nonce),
    txHash: str(r.tx_hash),
    gasUsed: big(r.gas_used),
  };
}

/** Identity of the deployment and account a store belongs to. */
export interface StoreIdentity {
  readonly role: "worker" | "verifier";
  readonly chainId: bigint;
  readonly escrow: string;
  readonly account: string;
}

export class NodeStore {
  readonly db: Database;
  readonly file: string;

  private constructor(db: Database, file: string) {
    this.db = db;
    this.file = file;
  }

  /**
   * Opens the store at `file` (created with its folder if missing). A store keeps one node's state
   * on one deployment: opening it for another role, chain, escrow or account fails with a message.
   */
  static open(file: string, identity?: StoreIdentity): NodeStore {
    const db = openDatabaseFile(file, "the state database");
    // NORMAL: a commit is written to the WAL without an fsync; the write-ahead points fsync (see durably).
    db.exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000;");
    db.exec(SCHEMA);
    const store = new NodeStore(db, file);
    const schema = store.meta("schema");
    if (schema === undefined) store.setMeta("schema", String(SCHEMA_VERSION));
    else if (MIGRATIONS[schema] !== undefined) {
      // Later schemas only add columns that older rows leave empty: migrate in place.
      for (const column of MIGRATIONS[schema]!) db.exec(`ALTER TABLE jobs ADD COLUMN ${column}`);
      store.setMeta("schema", String(SCHEMA_VERSION));
    } else if (schema !== String(SCHEMA_VERSION)) {
      store.close();
      throw new VeritensorError(
        `the state database ${file} has schema ${schema}, this version writes schema ${SCHEMA_VERSION} ` +
          `(a result no longer binds a trace root): finish its jobs with the version that wrote it, or give another --db`,
      );
    }
    if (identity) store.bind(identity);
    return store;
  }

  private bind(id: StoreIdentity): void {
    const want = `${id.role} ${id.account.toLowerCase()} on chain ${id.chainId}, escrow ${id.escrow.toLowerCase()}`;
    const have = this.meta("identity");
    if (have === undefined) this.setMeta("identity", want);
    else if (have !== want) {
      throw new VeritensorError(
        `the state database ${this.file} belongs to ${have}, not to ${want}: give another --db (or delete it if that deployment is gone)`,
      );
    }
  }

  close(): void {
    if (this.db.isOpen) this.db.close();
  }

  private readonly statements = new Map<string, ReturnType<Database["prepare"]>>();

  /** A prepared statement, compiled once per connection. */
  private stmt(sql: string): ReturnType<Database["prepare"]> {
    let st = this.statements.get(sql);
    if (!st) {
      st = this.db.prepare(sql);
      this.statements.set(sql, st);
    }
    return st;
  }

  /**
   * Runs `fn` with its commit flushed to disk (fsync) before returning. Most writes record what
   * already happened on chain: the database commits them to its write-ahead log without an fsync,
   * so a power cut may lose the last few, which is the same as a crash a moment earlier, and
   * recovery reads the chain again (the log keeps commits in order: a cut loses a suffix, never a
   * middle). The writes that must precede an action (a nonce before signing, a result before it
   * is submitted, a dispute's data before its moves) go through here, and an fsync of the log
   * also makes every commit before them durable.
   */
  private durably<T>(fn: () => T): T {
    this.db.exec("PRAGMA synchronous=FULL");
    try {
      return fn();
    } finally {
      this.db.exec("PRAGMA synchronous=NORMAL");
    }
  }

  /** Runs `fn` in one transaction. */
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
    const r = this.stmt("SELECT value FROM meta WHERE key = ?").get(key) as Row | undefined;
    return r === undefined ? undefined : (r.value as string);
  }

  setMeta(key: string, value: string): void {
    this.stmt("INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value").run(key, value);
  }

  // ---------------------------------------------------------------- jobs

  job(jobId: bigint): JobRow | undefined {
    const r = this.stmt("SELECT * FROM jobs WHERE job_id = ?").get(jobId) as Row | undefined;
    return r && jobRow(r);
  }

  jobsAt(...stages: JobStage[]): JobRow[] {
    const q = `SELECT * FROM jobs WHERE stage IN (${stages.map(() => "?").join(",")}) ORDER BY job_id`;
    return (this.stmt(q).all(...stages) as Row[]).map(jobRow);
  }

  allJobs(): JobRow[] {
    return (this.stmt("SELECT * FROM jobs ORDER BY job_id").all() as Row[]).map(jobRow);
  }

  /** Inserts the job if it is new; returns whether it was. */
  addJob(jobId: bigint, modelId: bigint, stage: JobStage): boolean {
    const r = this.stmt("INSERT INTO jobs(job_id, model_id, stage, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT(job_id) DO NOTHING")
      .run(jobId, modelId, stage, now());
    return Number(r.changes) > 0;
  }

  /** Updates the given fields of a job (undefined fields are left as they are). */
  updateJob(jobId: bigint, fields: Partial<Omit<JobRow, "jobId" | "modelId">>): void {
    const cols: string[] = [];
    const vals: (string | number | bigint | Uint8Array | null)[] = [];
    const set = (col: string, v: string | number | bigint | Uint8Array | undefined) => {
      if (v === undefined) return;
      cols.push(`${col} = ?`);
      vals.push(v);
    };
    set("stage", fields.stage);
    set("input", fields.input);
    set("output", fields.output);
    set("dispute_root", fields.disputeRoot);
    set("cheat", fields.cheat);
    set("challenge_end", fields.challengeEnd);
    set("result_due", fields.resultDue);
    set("batch_size", fields.batchSize);
    set("note", fields.note);
    cols.push("updated_at = ?");
    vals.push(now());
    const write = () => this.stmt(`UPDATE jobs SET ${cols.join(", ")} WHERE job_id = ?`).run(...vals, jobId);
    // Output, dispute root and cheat are written ahead of the submission or dispute that uses them.
    if (fields.output !== undefined || fields.disputeRoot !== undefined || fields.cheat !== undefined) this.durably(write);
    else write();
  }

  // ---------------------------------------------------------------- disputes

  dispute(game: string): DisputeRow | undefined {
    const r = this.stmt("SELECT * FROM disputes WHERE game = ?").get(game.toLowerCase()) as Row | undefined;
    return r && disputeRow(r);
  }

  disputesAt(status: DisputeStatus): DisputeRow[] {
    return (this.stmt("SELECT * FROM disputes WHERE status = ? ORDER BY job_id").all(status) as Row[]).map(disputeRow);
  }

  /** Whether any dispute on job `jobId` is recorded. */
  hasDisputeOn(jobId: bigint): boolean {
    return this.stmt("SELECT 1 FROM disputes WHERE job_id = ? LIMIT 1").get(jobId) !== undefined;
  }

  allDisputes(): DisputeRow[] {
    return (this.stmt("SELECT * FROM disputes ORDER BY job_id").all() as Row[]).map(disputeRow);
  }

  addDispute(d: Omit<DisputeRow, "status" | "moves" | "gas" | "outcome">): boolean {
    const r = this.durably(() =>
      this.stmt(
        "INSERT INTO disputes(game, job_id, side, model_id, input, cheat, claim, status, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'playing', ?) ON CONFLICT(game) DO NOTHING",
      ).run(d.game.toLowerCase(), d.jobId, d.side, d.modelId, d.input, d.cheat ?? null, d.claim, now()),
    );
    return Number(r.changes) > 0;
  }

  /** Counts one more move of this side (and its gas). */
  countMove(game: string, gasUsed: bigint): void {
    const row = this.dispute(game);
    if (!row) return;
    this.stmt("UPDATE disputes SET moves = moves + 1, gas = ?, updated_at = ? WHERE game = ?")
      .run((row.gas + gasUsed).toString(), now(), game.toLowerCase());
  }

  endDispute(game: string, status: DisputeStatus, outcome: string): void {
    this.stmt("UPDATE disputes SET status = ?, outcome = ?, updated_at = ? WHERE game = ?").run(status, outcome, now(), game.toLowerCase());
  }

  // ---------------------------------------------------------------- audits (of other workers' results)

  audit(jobId: bigint): AuditRow | undefined {
    const r = this.stmt("SELECT * FROM audits WHERE job_id = ?").get(jobId) as Row | undefined;
    return r && auditRow(r);
  }

  auditsAt(...stages: AuditStage[]): AuditRow[] {
    const q = `SELECT * FROM audits WHERE stage IN (${stages.map(() => "?").join(",")}) ORDER BY job_id`;
    return (this.stmt(q).all(...stages) as Row[]).map(auditRow);
  }

  allAudits(): AuditRow[] {
    return (this.stmt("SELECT * FROM audits ORDER BY job_id").all() as Row[]).map(auditRow);
  }

  /** Adds a submitted result to audit if it is new (its last submission wins, e.g. after a reorganization); returns whether it was. */
  addAudit(a: Omit<AuditRow, "stage" | "ourOutput" | "slotEnd" | "note">): boolean {
    const r = this.stmt(
      `INSERT INTO audits(job_id, model_id, stage, worker, worker_output, submitted_block, challenge_end, updated_at) VALUES (?, ?, 'pending', ?, ?, ?, ?, ?)
       ON CONFLICT(job_id) DO NOTHING`,
    ).run(a.jobId, a.modelId, a.worker, a.workerOutput, a.submittedBlock, a.challengeEnd, now());
    return Number(r.changes) > 0;
  }

  /** Updates the given fields of an audit; our output is written ahead of the commitment that hides it (fsync). */
  updateAudit(jobId: bigint, fields: Partial<Pick<AuditRow, "stage" | "ourOutput" | "slotEnd" | "note">>): void {
    const cols: string[] = [];
    const vals: (string | number | bigint | null)[] = [];
    const set = (col: string, v: string | bigint | undefined) => {
      if (v === undefined) return;
      cols.push(`${col} = ?`);
      vals.push(v);
    };
    set("stage", fields.stage);
    set("our_output", fields.ourOutput);
    set("slot_end", fields.slotEnd);
    set("note", fields.note);
    cols.push("updated_at = ?");
    vals.push(now());
    const write = () => this.stmt(`UPDATE audits SET ${cols.join(", ")} WHERE job_id = ?`).run(...vals, jobId);
    if (fields.ourOutput !== undefined) this.durably(write);
    else write();
  }

  // ---------------------------------------------------------------- intents (write-ahead log)

  intent(key: string): IntentRow | undefined {
    const r = this.stmt("SELECT * FROM intents WHERE key = ?").get(key) as Row | undefined;
    return r && intentRow(r);
  }

  /** Intents whose transaction may still be in flight (pending or sent). */
  openIntents(): IntentRow[] {
    return (this.stmt("SELECT * FROM intents WHERE state IN ('pending', 'sent') ORDER BY created_at").all() as Row[]).map(intentRow);
  }

  /** Records the intent to send `key` (before anything is signed). */
  beginIntent(key: string, label: string): void {
    this.stmt(
        `INSERT INTO intents(key, label, state, created_at, updated_at) VALUES (?, ?, 'pending', ?, ?)
         ON CONFLICT(key) DO UPDATE SET label = excluded.label, state = 'pending', nonce = NULL, tx_hash = NULL, updated_at = excluded.updated_at`,
      )
      .run(key, label, now(), now());
  }

  /** The nonce about to be used for `key` (before signing). */
  noteNonce(key: string, nonce: number): void {
    this.durably(() => this.stmt("UPDATE intents SET nonce = ?, updated_at = ? WHERE key = ?").run(nonce, now(), key));
  }

  /** The hash of the transaction sent for `key`. */
  noteSent(key: string, txHash: string): void {
    this.stmt("UPDATE intents SET state = 'sent', tx_hash = ?, updated_at = ? WHERE key = ?").run(txHash, now(), key);
  }

  finishIntent(key: string, state: "done" | "failed" | "dropped", gasUsed?: bigint): void {
    this.stmt("UPDATE intents SET state = ?, gas_used = COALESCE(?, gas_used), updated_at = ? WHERE key = ?")
      .run(state, gasUsed === undefined ? null : gasUsed.toString(), now(), key);
  }

  /** Gas of every mined transaction, by label prefix (the word before the first space). */
  gasByAction(): Map<string, { txs: number; gas: bigint }> {
    const out = new Map<string, { txs: number; gas: bigint }>();
    for (const r of this.stmt("SELECT label, gas_used FROM intents WHERE state = 'done' AND gas_used IS NOT NULL").all() as Row[]) {
      const what = String(r.label).split(" ")[0]!;
      const e = out.get(what) ?? { txs: 0, gas: 0n };
      out.set(what, { txs: e.txs + 1, gas: e.gas + BigInt(r.gas_used as string) });
    }
    return out;
  }
}
