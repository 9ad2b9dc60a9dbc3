/** A benchmark section: one part of BENCHMARKS.md, produced by one command. */
import type { NetworkManager } from "hardhat/types/network";

/** What sections may use; most need nothing, the gas section opens an in-process network. */
export interface BenchContext {
  readonly network: NetworkManager;
  /** Progress lines for the terminal (not the report). */
  readonly log: (line: string) => void;
}

export interface BenchSection {
  /** Short id used by `npx hardhat bench --only <id>`. */
  readonly id: string;
  readonly title: string;
  /** Markdown body of the section (without its title). */
  run(ctx: BenchContext): Promise<string>;
}
