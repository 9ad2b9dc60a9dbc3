/**
 * Whether a worker can earn anything: a stake of at least the minimum (every claim locks stake, and
 * Staking refuses a lock below it) and at least one model it declared in Staking that it serves
 * (the worker claims only those). A worker missing either runs quietly and claims nothing, which on
 * a testnet looks like a network with no jobs; this says so at start-up and again every few minutes
 * while it lasts, with the command that fixes it, and once more when it is fixed.
 */
import type { Protocol } from "../clients/index.js";
import { LOG_WINDOW, escrowFirstBlock, formatVtn } from "../clients/index.js";
import type { Logger } from "./log.js";

/** How often a worker that cannot claim says so again (ms). */
export const READINESS_EVERY_MS = 5 * 60_000;

export interface ReadinessOptions {
  readonly p: Protocol;
  /** The worker's account. */
  readonly address: string;
  /** The worker's `--models` (undefined: every model the account declared in Staking). */
  readonly models?: readonly bigint[];
  readonly log: Logger;
  /** Wall-clock milliseconds (tests pass a fake clock). */
  readonly now?: () => number;
  readonly everyMs?: number;
}

export interface ReadinessState {
  readonly staked: bigint;
  readonly minStake: bigint;
  /** Models the worker serves: declared in Staking (and among `--models` when given), ascending. */
  readonly served: readonly bigint[];
  /** What keeps it from claiming, one sentence each; empty when it can claim. */
  readonly problems: readonly string[];
}

export class WorkerReadiness {
  private readonly o: ReadinessOptions;
  private readonly now: () => number;
  private readonly everyMs: number;
  /** When the state was last read (undefined: never). */
  private checkedAt: number | undefined;
  private ready: boolean | undefined;
  /** Models declared served, from `ModelServed` events read up to block `scannedTo`. */
  private readonly declared = new Set<bigint>();
  private scannedTo: number | undefined;

  constructor(o: ReadinessOptions) {
    this.o = o;
    this.now = o.now ?? Date.now;
    this.everyMs = o.everyMs ?? READINESS_EVERY_MS;
  }

  /**
   * At start-up and then every `everyMs`: reads the stake and the served models and logs each
   * problem (a warning), or "ready" the first time and when the problems are gone. Returns the
   * state it read, undefined when it is not time yet.
   */
  async check(): Promise<ReadinessState | undefined> {
    const now = this.now();
    if (this.checkedAt !== undefined && now - this.checkedAt < this.everyMs) return undefined;
    this.checkedAt = now;
    const state = await this.read();
    const { log } = this.o;
    if (state.problems.length > 0) {
      for (const problem of state.problems) log.warn(`cannot claim jobs: ${problem}`);
      this.ready = false;
    } else if (this.ready !== true) {
      log.info(
        `${this.ready === false ? "ready now" : "ready"}: ${formatVtn(state.staked)} staked (minimum ${formatVtn(state.minStake)}), ` +
          `serving model${state.served.length === 1 ? "" : "s"} ${state.served.join(", ")}`,
      );
      this.ready = true;
    }
    return state;
  }

  /** The stake, the minimum and the served models as the chain has them now. */
  async read(): Promise<ReadinessState> {
    const { p, address, models } = this.o;
    const [stake, minStake, served] = await Promise.all([p.staking.stakeOf(address), p.staking.minStake(), this.servedModels()]);
    const network = `--network ${p.networkName} --from ${address}`;
    const problems: string[] = [];
    if (stake.staked < minStake) {
      const missing = minStake - stake.staked;
      problems.push(
        (stake.staked === 0n ? "no stake" : `${formatVtn(stake.staked)} staked`) +
          `, below the minimum stake of ${formatVtn(minStake)} that every claim needs: ` +
          `\`npx hardhat stake add ${network} --amount ${formatVtn(missing).replace(/,| VTN/g, "")}\``,
      );
    }
    if (served.length === 0) {
      const given = models !== undefined && models.length > 0;
      problems.push(
        (given
          ? `none of the models given with --models (${models.join(", ")}) is declared served by this account in Staking`
          : "this account serves no model (none declared in Staking)") +
          // Under the minimum, one command stakes and declares; staked, declaring alone is enough.
          (stake.staked < minStake
            ? `: \`npx hardhat stake add ${network} --amount <VTN> --serves ${given ? models[0] : "<model id>"}\``
            : `: \`npx hardhat stake serve ${network} --models ${given ? models.join(",") : "<model id>"}\``),
      );
    }
    return { staked: stake.staked, minStake, served, problems };
  }

  /**
   * With `--models`: those the account declared served. Without: every model whose latest
   * `ModelServed` for the account says served, read from the escrow's deployment block once and
   * then only from the last block read (in windows: public endpoints cap `eth_getLogs`).
   */
  private async servedModels(): Promise<bigint[]> {
    const { p, address, models } = this.o;
    if (models !== undefined && models.length > 0) {
      const serves = await Promise.all(models.map((m) => p.staking.servesModel(address, m)));
      return models.filter((_, i) => serves[i]);
    }
    const head = await p.connection.ethers.provider.getBlockNumber();
    const from = this.scannedTo !== undefined ? this.scannedTo + 1 : await escrowFirstBlock(p);
    const filter = p.staking.filters.ModelServed(address);
    for (let start = from; start <= head; start += LOG_WINDOW) {
      for (const e of await p.staking.queryFilter(filter, start, Math.min(head, start + LOG_WINDOW - 1))) {
        if (e.args.served) this.declared.add(e.args.modelId);
        else this.declared.delete(e.args.modelId);
      }
    }
    this.scannedTo = Math.max(head, from - 1);
    return [...this.declared].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }
}
