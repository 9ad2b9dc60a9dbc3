/**
 * The benchmark sections and the runner behind `npm run bench`. To add a section, write a module
 * exporting a BenchSection and list it in SECTIONS.
 */
import { readFile } from "node:fs/promises";

import { VeritensorError } from "../../clients/errors.js";
import { writeOutput } from "../../cli/model/files.js";
import { auditsSection } from "./audits.js";
import { batchesSection } from "./batches.js";
import { disputesSection } from "./disputes.js";
import { economicsSection } from "./economics.js";
import { explorerSection } from "./explorer.js";
import { gasSection } from "./gas.js";
import { inferenceSection } from "./inference.js";
import { nodesSection } from "./nodes.js";
import { onestepSection } from "./onestep.js";
import { block, merge } from "./report.js";
import { subscriptionsSection } from "./subscriptions.js";
import type { BenchContext, BenchSection } from "./section.js";

export type { BenchContext, BenchSection } from "./section.js";

export const SECTIONS: readonly BenchSection[] = [gasSection, batchesSection, subscriptionsSection, inferenceSection, disputesSection, onestepSection, nodesSection, auditsSection, economicsSection, explorerSection];

export interface BenchOptions {
  /** Run only this section (the others keep their previous text in the file). */
  readonly only?: string;
  /** Output file. */
  readonly out: string;
  /** The sections to choose from, in the report's order (default SECTIONS; tests pass their own). */
  readonly sections?: readonly BenchSection[];
}

export async function runBenchmarks(ctx: BenchContext, options: BenchOptions): Promise<string> {
  const sections = options.sections ?? SECTIONS;
  const chosen = options.only === undefined ? sections : sections.filter((s) => s.id === options.only);
  if (chosen.length === 0) {
    throw new VeritensorError(`no benchmark section "${options.only}"; sections: ${sections.map((s) => s.id).join(", ")}`);
  }
  const fresh = new Map<string, string>();
  for (const section of chosen) {
    ctx.log(`▸ ${section.title}`);
    const started = Date.now();
    fresh.set(section.id, block(section, await section.run(ctx)));
    ctx.log(`  done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
  const previous = await readFile(options.out, "utf8").catch(() => undefined);
  const text = merge(previous, fresh, sections.map((s) => s.id));
  await writeOutput(options.out, text, "the benchmark report");
  return text;
}
