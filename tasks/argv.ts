/**
 * A check of the command line before Hardhat parses it. Hardhat takes the token after an option
 * as its value even when that token is another option, so `stake add --from --amount 1` sets
 * `from` to "--amount" and then fails on the stray "1" (HHE506: not consumed by any task), which
 * says nothing about the real mistake. Hardhat 3 has no hook before parsing: hardhat.config.ts
 * calls this at load.
 */
import { ArgumentType } from "hardhat/types/arguments";
import type { TaskDefinition } from "hardhat/types/tasks";

/** Hardhat's global options that take a value (the others are flags or levels). */
export const GLOBAL_VALUE_OPTIONS: readonly string[] = ["--config", "--network", "--build-profile", "--gas-stats-json"];

/** What an option's value looks like, for the message; by name first, then by type. */
const HINTS: Record<string, string> = {
  from: "an account index or address",
  to: "an address or an account index",
};
const TYPE_HINTS: Partial<Record<ArgumentType, string>> = {
  [ArgumentType.INT]: "a whole number",
  [ArgumentType.BIGINT]: "a whole number",
  [ArgumentType.FLOAT]: "a number",
  [ArgumentType.FILE]: "a file path",
  [ArgumentType.FILE_WITHOUT_DEFAULT]: "a file path",
};

const kebab = (name: string) => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** The task that `words` (the command line's first non-option words) names: the longest id match. */
function namedTask(words: readonly string[], tasks: readonly TaskDefinition[]): TaskDefinition | undefined {
  let best: TaskDefinition | undefined;
  for (const t of tasks) {
    if (t.id.length <= words.length && t.id.every((w, i) => words[i] === w) && (best === undefined || t.id.length > best.id.length)) best = t;
  }
  return best;
}

/**
 * `argv` is process.argv.slice(2). When it names one of `tasks` and one of that task's options
 * that takes a value is followed by nothing or by another `--option`, returns a one-line message
 * saying so; otherwise undefined (Hardhat then parses as usual, and reports anything else).
 */
export function checkOptionValues(argv: readonly string[], tasks: readonly TaskDefinition[]): string | undefined {
  // --help shows the task's help whatever else is on the line: leave that to Hardhat.
  if (argv.includes("--help") || argv.includes("-h")) return undefined;

  // The task id: the first words that are neither options nor a global option's value.
  const words: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") return undefined;
    if (arg.startsWith("-")) {
      if (words.length > 0) break;
      if (!arg.includes("=") && GLOBAL_VALUE_OPTIONS.includes(arg)) i++;
      continue;
    }
    words.push(arg);
  }
  const task = namedTask(words, tasks);
  if (task === undefined || !("options" in task)) return undefined;

  const valued = new Map<string, string>();
  for (const o of Object.values(task.options)) {
    if (o.type === ArgumentType.FLAG) continue;
    valued.set(`--${kebab(o.name)}`, HINTS[o.name] ?? TYPE_HINTS[o.type] ?? "");
  }
  for (const [k, arg] of argv.entries()) {
    if (arg === "--") break;
    const hint = valued.get(arg);
    if (hint === undefined) continue;
    const next = argv[k + 1];
    if (next !== undefined && !next.startsWith("--")) continue;
    const what = hint === "" ? "a value" : `a value (${hint})`;
    return next === undefined
      ? `${arg} needs ${what}, but nothing follows it`
      : `${arg} needs ${what}, but it is followed by ${next}`;
  }
  return undefined;
}
