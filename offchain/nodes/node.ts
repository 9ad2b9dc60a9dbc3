/**
 * What the worker and the verifier share: the protocol client, a managed signer, the SQLite store
 * and its write-ahead journal, the model source, the event cursor, the loop, and the playing of
 * disputes (either side) move by move from the store. A node is a class with `tick()` (one pass:
 * settle open intents, read new events, act, play, collect) and `run(signal)` (tick until aborted),
 * used in-process by the demo and tests and from the `worker`/`verifier` tasks.
 */
import path from "node:path";

import type { Signer } from "ethers";
import { getBytes } from "ethers";

import type { Protocol } from "../clients/index.js";
import type { ChainClock } from "../clients/index.js";
import { VeritensorError, formatVtn, newestEvents, nextBlockTimeAt, readChainClock, rememberTerms, termsFromEvent, waitMined } from "../clients/index.js";
import type { DisputeGame } from "../../types/ethers-contracts/index.js";
import { attachGame, readGame, sendMove } from "../clients/disputes.js";
import { GameStatus, LEVEL_NAMES, Level, Side } from "../clients/game-types.js";
import { DisputePlayer } from "../disputes/player.js";
import { ModelSource } from "./sources/models.js";
import { InputError, fetchInput } from "./sources/inputs.js";
import type { DisputeRow, JobRow, StoreIdentity } from "./store.js";
import { NodeStore } from "./store.js";
import type { CheatSpec } from "../runtime/cheat.js";
import { Journal } from "./journal.js";
import type { LogSink, Logger } from "./log.js";
import { createLogger, short } from "./log.js";
import { runLoop } from "./loop.js";
import type { GasSettings } from "./signer.js";
import { ManagedSigner } from "./signer.js";
import { computeTrace, intsOf } from "../runtime/trace.js";
import { isTransient } from "./transient.js";

/**
 * A job's input: its bytes, or where to fetch them and what they must be (see
 * ProtocolNode.inputSourceOf); a batch's holds its `items` inputs, concatenated.
 */
export type InputSource =
  | { readonly input: Uint8Array }
  | { readonly uri: string; readonly commitment: string; readonly bytes: number; readonly ipfsGateway?: string; readonly items: number };

export interface NodeOptions {
  readonly protocol: Protocol;
  readonly signer: Signer;
  /** SQLite state file (default `.veritensor/<role>-<chain>-<account>.sqlite` under `root`). */
  readonly db?: string;
  /** Project root for default paths (default: the working directory). */
  readonly root?: string;
  /** Verified model files (default `.veritensor/models` under `root`). */
  readonly cacheDir?: string;
  readonly ipfsGateway?: string;
  readonly gas?: GasSettings;
  /** Confirmations to wait for each transaction, and for a block before its events are read (default 1). */
  readonly confirmations?: number;
  /** Pause between ticks in `run` (ms, default 1000). */
  readonly pollMs?: number;
  /** First block to read events from on a new store (default 0). */
  readonly fromBlock?: number;
  /** Log line sink (default console.log). */
  readonly log?: LogSink;
  /** Name in log lines (default the role). */
  readonly name?: string;
}

/** The fields of a `JobRequested` event a node indexes (as ethers decodes them). */
export interface RequestedJob {
  readonly jobId: bigint;
  readonly modelId: bigint;
  readonly input: string;
  readonly inputURI: string;
  readonly terms: Parameters<typeof termsFromEvent>[0];
}

export interface NodeContext {
  readonly role: "worker" | "verifier";
  readonly p: Protocol;
  readonly signer: ManagedSigner;
  readonly address: string;
  readonly store: NodeStore;
  readonly journal: Journal;
  readonly log: Logger;
  readonly models: ModelSource;
}

/** The inputs job `job` carries: its batch size, 1 for a single job. */
export function batchSizeOf(job: JobRow): number {
  return job.batchSize ?? 1;
}

export function defaultDbPath(root: string, role: string, chainId: bigint, address: string): string {
  return path.join(root, ".veritensor", `${role}-${chainId}-${address.slice(2, 10).toLowerCase()}.sqlite`);
}

export async function openNodeContext(role: "worker" | "verifier", o: NodeOptions): Promise<NodeContext> {
  const p = o.protocol;
  const root = o.root ?? process.cwd();
  const signer = new ManagedSigner(o.signer, o.gas);
  const address = await signer.getAddress();
  const log = createLogger(o.name ?? role, o.log);
  const identity: StoreIdentity = { role, chainId: p.chainId, escrow: p.addresses.jobManager, account: address };
  const db = o.db ?? defaultDbPath(root, role, p.chainId, address);
  const store = NodeStore.open(db, identity);
  if (store.meta("cursor") === undefined && o.fromBlock !== undefined) store.setMeta("cursor", String(o.fromBlock - 1));
  const journal = new Journal(store, signer, log, o.confirmations ?? 1);
  const models = new ModelSource(p, { cacheDir: o.cacheDir ?? path.join(root, ".veritensor", "models"), ipfsGateway: o.ipfsGateway }, (m, url) =>
    log.info(`model ${m.modelId}: ${m.model.layers.length} layers, sha256 checked, from ${m.origin} (${url})`),
  );
  return { role, p, signer, address, store, journal, log, models };
}

/** Counters of one node since it started (the store keeps the full history). */
export interface NodeCounters {
  ticks: number;
  txs: number;
}

export abstract class ProtocolNode {
  readonly ctx: NodeContext;
  readonly pollMs: number;
  readonly counters: NodeCounters = { ticks: 0, txs: 0 };
  private readonly players = new Map<string, DisputePlayer>();
  private stopped = false;

  protected constructor(ctx: NodeContext, o: NodeOptions) {
    this.ctx = ctx;
    this.pollMs = o.pollMs ?? 1000;
  }

  get p(): Protocol {
    return this.ctx.p;
  }
  get store(): NodeStore {
    return this.ctx.store;
  }
  get log(): Logger {
    return this.ctx.log;
  }
  get address(): string {
    return this.ctx.address;
  }

  /** One pass. Endpoint failures propagate (the loop backs off); a failing item is logged and retried next tick. */
  async tick(): Promise<void> {
    this.counters.ticks++;
    const waiting = await this.ctx.journal.reconcile();
    if (waiting > 0) {
      this.log.info(`${waiting} transaction(s) still waiting to be mined; acting once they are`);
      return;
    }
    await this.scanEvents();
    await this.work();
    for (const row of this.store.disputesAt("playing")) await this.attempt(`game ${short(row.game)}`, () => this.playDispute(row));
    await this.attempt("collecting earnings", () => this.collect());
  }

  /** Ticks every `pollMs` until `signal` aborts, then closes the store. */
  async run(signal?: AbortSignal): Promise<void> {
    this.log.info(`${this.ctx.role} ${this.address} on ${this.p.networkName} (chain ${this.p.chainId}), state in ${this.store.file}`);
    try {
      await runLoop(() => this.tick(), { pollMs: this.pollMs, signal, log: this.log });
    } finally {
      this.close();
    }
  }

  close(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.ctx.signer.stopReplacing();
    this.store.close();
  }

  /**
   * The chain's clock as read at the start of this pass: its head and the time its next block will
   * carry. Decisions that only need to know whether a time has come (a deadline passed, a window
   * closed) use it rather than asking the endpoint again: a pass is short, and the contract checks
   * the exact time anyway (a transaction sent a block early fails its gas estimate, is logged, and
   * is tried again next pass).
   */
  protected clock: ChainClock | undefined;

  protected get head(): ChainClock["head"] | undefined {
    return this.clock?.head;
  }

  /**
   * At least the timestamp a block mined now will carry (see {@link nextBlockTimeAt}): the chain's
   * own clock, which may lag or lead the wall clock, moved on by the wall-clock time since the read.
   * A transaction is due when the contract's check passes at this time.
   */
  protected nextBlockTime(): bigint {
    if (this.clock) return nextBlockTimeAt(this.clock);
    return BigInt(Math.floor(Date.now() / 1000));
  }

  /** New events since the cursor, in ranges. */
  private async scanEvents(): Promise<void> {
    // One call when the head has not moved since the last pass (the clock read then still holds).
    this.clock = await readChainClock(this.p, this.clock);
    const block = this.clock.head;
    // Events are acted on once their block has the configured confirmations, so that a shallow
    // reorganization cannot show the node a request or a result that then disappears.
    const latest = block.number - (this.ctx.journal.confirmations - 1);
    let from = Number(this.store.meta("cursor") ?? "-1") + 1;
    while (from <= latest) {
      const to = Math.min(latest, from + 4999);
      await this.onEvents(from, to);
      this.store.setMeta("cursor", String(to));
      from = to + 1;
    }
  }

  /** Where the inputs of URI jobs are, from their JobRequested events (read again after a restart). */
  private readonly inputUris = new Map<bigint, { uri: string; commitment: string }>();

  /**
   * Indexes one `JobRequested` event: its terms are remembered (every later call takes them back),
   * and a job this node `wants` is added to the store with its inline input, or its input's URI
   * noted. Returns whether the job is new to the store.
   */
  protected indexRequest(e: RequestedJob, wants: boolean): boolean {
    const { jobId, modelId, input, inputURI, terms } = e;
    rememberTerms(this.p, jobId, termsFromEvent(terms));
    if (!wants || !this.store.addJob(jobId, modelId, "seen")) return false;
    if (inputURI !== "") this.noteInputUri(jobId, inputURI, terms.inputCommitment);
    else this.store.updateJob(jobId, { input: getBytes(input) });
    return true;
  }

  /**
   * Indexes one `BatchRequested` event (it follows its job's `JobRequested` in the same
   * transaction, so in the same scan): a job this node keeps carries `batchSize` inputs.
   */
  protected indexBatch(jobId: bigint, batchSize: bigint): void {
    if (this.store.job(jobId) !== undefined) this.store.updateJob(jobId, { batchSize: Number(batchSize) });
  }

  /** Notes a job's input URI and commitment as its JobRequested event gives them. */
  protected noteInputUri(jobId: bigint, uri: string, commitment: string): void {
    this.inputUris.set(jobId, { uri, commitment });
  }

  /** Input size of each model, in elements (fixed at registration). */
  private readonly inputElements = new Map<bigint, Promise<bigint>>();

  private inputElementsOf(modelId: bigint): Promise<bigint> {
    let n = this.inputElements.get(modelId);
    if (!n) {
      n = this.p.registry.elements(modelId).then(([inputs]) => inputs);
      n.catch(() => this.inputElements.delete(modelId));
      this.inputElements.set(modelId, n);
    }
    return n;
  }

  /**
   * Where a job's input is: its bytes (inline, or fetched and kept before), or its URI and
   * committed tensor commitment with the size the model takes (4 bytes per element, per item).
   */
  protected async inputSourceOf(job: JobRow): Promise<InputSource> {
    if (job.input !== undefined && job.input.length > 0) return { input: job.input };
    let at = this.inputUris.get(job.jobId);
    if (!at) {
      const jm = this.p.jobManager;
      const [e] = await newestEvents(this.p, (from, to) => jm.queryFilter(jm.filters.JobRequested(job.jobId), from, to));
      if (!e) throw new InputError("unreachable", `job ${job.jobId}: its JobRequested event was not found`);
      at = { uri: e.args.inputURI, commitment: e.args.terms.inputCommitment };
      this.inputUris.set(job.jobId, at);
    }
    const inputElements = await this.inputElementsOf(job.modelId);
    const items = batchSizeOf(job);
    return { uri: at.uri, commitment: at.commitment, bytes: Number(inputElements) * 4 * items, ipfsGateway: this.ctx.models.options.ipfsGateway, items };
  }

  /**
   * A job's input: inline from the store, or fetched from its URI and checked against its size
   * and committed tensor commitment (then kept in the store like an inline one, unless `keep` is
   * false: a verifier keeps an input only for a job it disputes, since rewriting a row that holds
   * a large input costs more than the rest of a check). Throws an InputError saying whether a
   * later try may succeed.
   */
  protected async inputOf(job: JobRow, keep = true): Promise<Uint8Array> {
    const src = await this.inputSourceOf(job);
    if ("input" in src) return src.input;
    const bytes = await fetchInput(src.uri, src.commitment, src.bytes, { ipfsGateway: src.ipfsGateway, items: src.items });
    if (keep) {
      this.store.updateJob(job.jobId, { input: bytes });
      this.inputUris.delete(job.jobId);
    }
    return bytes;
  }

  /** Jobs whose input could not be fetched yet (logged once each). */
  private readonly inputFailures = new Set<bigint>();

  /**
   * The job's input, or undefined once the reason is dealt with (see {@link inputFailed}).
   * `doing` and `retrying` word the log lines; `keep` as for {@link inputOf}.
   */
  protected async usableInput(job: JobRow, doing: string, retrying: string, keep = true): Promise<Uint8Array | undefined> {
    try {
      return await this.inputOf(job, keep);
    } catch (e) {
      this.inputFailed(job, e, doing, retrying);
      return undefined;
    }
  }

  /**
   * Deals with an input that could not be had (rethrows anything but an InputError): one that can
   * never be used (wrong size, wrong commitment, bad URI) skips the job with a note; an unreachable
   * one is logged once and left for a later pass.
   */
  protected inputFailed(job: JobRow, e: unknown, doing: string, retrying: string): void {
    if (!(e instanceof InputError)) throw e;
    if (e.kind === "invalid") {
      this.store.updateJob(job.jobId, { stage: "skipped", note: e.message });
      this.log.warn(`job ${job.jobId}: not ${doing} it: ${e.message}`);
    } else if (!this.inputFailures.has(job.jobId)) {
      this.inputFailures.add(job.jobId);
      this.log.warn(`job ${job.jobId}: its input is unreachable for now (${e.message}); ${retrying}`);
    }
  }

  /** Reads the events of blocks `from..to` into the store. */
  protected abstract onEvents(from: number, to: number): Promise<void>;

  /** The role's own work (claim, run, submit, finalize / re-run, open). */
  protected abstract work(): Promise<void>;

  /** Runs `fn`; an error other than an endpoint failure is logged and left for the next tick. */
  protected async attempt(what: string, fn: () => Promise<void>): Promise<boolean> {
    try {
      await fn();
      return true;
    } catch (e) {
      if (isTransient(e)) throw e;
      this.log.warn(`${what}: ${(e as Error).message?.split("\n")[0] ?? String(e)}`);
      return false;
    }
  }

  /** Sends through the journal and counts it. */
  protected async perform<T>(key: string, label: string, fn: () => Promise<T>): Promise<T> {
    const out = await this.ctx.journal.perform(key, label, fn);
    this.counters.txs++;
    return out;
  }

  // ---------------------------------------------------------------- disputes

  /**
   * Records a dispute this node plays, with what it needs to keep playing after a restart: the
   * model, the input and the cheat rebuild its trace; `claim` is what that trace must match (the
   * challenger's trace root, the defender's output commitment).
   */
  protected trackDispute(
    d: { game: string; jobId: bigint; side: Side; modelId: bigint; input: Uint8Array; cheat?: CheatSpec; claim: string },
    player?: DisputePlayer,
  ): boolean {
    // A node that has just built the trace (the verifier, to open) hands its player over: no rebuild.
    if (player) this.players.set(d.game.toLowerCase(), player);
    return this.store.addDispute({ ...d, cheat: d.cheat ? JSON.stringify(d.cheat) : undefined });
  }

  private async playerFor(row: DisputeRow): Promise<DisputePlayer> {
    const hit = this.players.get(row.game.toLowerCase());
    if (hit) return hit;
    const { model } = await this.ctx.models.get(row.modelId);
    const cheat = row.cheat ? (JSON.parse(row.cheat) as CheatSpec) : undefined;
    // The trace is built only now, for the dispute (the happy path ran the plain model).
    const t = await computeTrace(model, intsOf(row.input), { cheat });
    const rebuilt = row.side === Side.Defender ? t.outputCommitment : t.root;
    if (rebuilt.toLowerCase() !== row.claim.toLowerCase()) {
      const what = row.side === Side.Defender ? "ends in output" : "has root";
      throw new VeritensorError(`job ${row.jobId}: the rebuilt trace ${what} ${rebuilt}, the dispute was entered with ${row.claim}`);
    }
    this.log.info(`job ${row.jobId}, game ${short(row.game)}: trace rebuilt for the dispute in ${t.ms.toFixed(1)} ms (root ${short(t.root)})`);
    const player = new DisputePlayer(row.side as Side, this.ctx.signer, model, t.trace);
    this.players.set(row.game.toLowerCase(), player);
    return player;
  }

  /** One step of one dispute: end it, move, or time the other side out. */
  private async playDispute(row: DisputeRow): Promise<void> {
    const game: DisputeGame = attachGame(row.game, this.ctx.signer);
    const state = await readGame(game);
    const role = row.side === Side.Defender ? "defending" : "challenging";
    if (state.status !== GameStatus.InProgress) {
      const won = (state.status === GameStatus.DefenderWins) === (row.side === Side.Defender);
      const outcome = state.status === GameStatus.DefenderWins ? "defender wins" : "challenger wins";
      this.store.endDispute(row.game, won ? "won" : "lost", outcome);
      this.players.delete(row.game.toLowerCase());
      this.log.info(`job ${row.jobId}, game ${short(row.game)}: ${won ? "WON" : "lost"} (${outcome}) after ${row.moves} move(s) of ours, ${row.gas.toLocaleString("en-US")} gas`);
      await this.onDisputeEnded(row, won);
      return;
    }
    // The contract compares with the time of the block that will carry our move.
    const now = this.nextBlockTime();
    const player = await this.playerFor(row);
    if (!player.mustMove(state)) {
      if (now > state.deadline) {
        const key = `timeout:${row.game}`;
        if (this.ctx.journal.inFlight(key)) return;
        await this.perform(key, `timeout game ${short(row.game)}`, () => sendMove(game, this.ctx.signer, { kind: "timeout" }));
        this.log.info(`job ${row.jobId}, game ${short(row.game)}: the other side missed its ${LEVEL_NAMES[state.level]} move; timed it out`);
      }
      return;
    }
    if (player.stalls(state)) return;
    const key = `move:${row.game}:${state.level}:${state.position.depth}.${state.position.index}:${state.sumIndex}:${state.turn}`;
    const prior = this.store.intent(key);
    if (prior?.state === "done" || (prior && this.ctx.journal.inFlight(key))) return;
    const move = await player.move(state, game);
    const receipt = await this.perform(key, `move ${LEVEL_NAMES[state.level]} ${move.kind} game ${short(row.game)}`, () =>
      sendMove(game, this.ctx.signer, move),
    );
    this.store.countMove(row.game, receipt.gasUsed);
    // The root move is the first trace move (it opens the root's children).
    const depthOf = { [Level.Root]: state.traceDepth, [Level.Trace]: state.traceDepth, [Level.Tensor]: state.tensorDepth } as Partial<Record<Level, number>>;
    const of = depthOf[state.level];
    const at = of === undefined ? "" : ` ${state.position.depth + 1}/${of}`;
    this.log.info(
      `job ${row.jobId}, game ${short(row.game)}: ${role}, ${LEVEL_NAMES[state.level]} level${at}: ${move.kind} (${receipt.gasUsed.toLocaleString("en-US")} gas)`,
    );
  }

  /** Called once when a dispute of this node has ended. */
  protected async onDisputeEnded(_row: DisputeRow, _won: boolean): Promise<void> {}

  /** The head at which the dispute factory's balance was last read. */
  private factoryReadAt: number | undefined;

  /**
   * Withdraws what the dispute factory owes this node (bonds back, rewards). Only games credit it,
   * so the balance is read once at start, then once per new block while this node has disputes.
   */
  protected async collectFromFactory(): Promise<void> {
    const head = this.head?.number;
    if (this.factoryReadAt !== undefined && (head === this.factoryReadAt || this.store.allDisputes().length === 0)) return;
    const owed = await this.p.disputes.balanceOf(this.address);
    this.factoryReadAt = head;
    if (owed === 0n) return;
    const block = this.head?.number ?? (await this.p.connection.ethers.provider.getBlockNumber());
    await this.perform(`withdraw-factory:${block}`, `withdraw ${formatVtn(owed)} from the dispute factory`, async () => {
      const tx = await this.p.disputes.connect(this.ctx.signer).withdraw();
      return waitMined(tx);
    });
    this.log.info(`withdrew ${formatVtn(owed)} from the dispute factory (bonds and rewards)`);
  }

  protected abstract collect(): Promise<void>;
}
