/**
 * Facade for workers, verifiers and scripts: one cached runner per model, run plainly (a job's
 * output) or with a trace (a dispute).
 */
import type { CanonicalModel } from "../model/canonical.js";
import type { InputLike } from "./input.js";
import type { RunHints, RunResult, RunnerOptions, TraceResult } from "./runner.js";
import { CanonicalRunner } from "./runner.js";

export type { CanonicalModel } from "../model/canonical.js";
export type { RunResult, RunnerOptions, TraceResult } from "./runner.js";

const runners = new WeakMap<CanonicalModel, Map<string, Promise<CanonicalRunner>>>();

/** A cached runner per (model, options); create it once, reuse it for every job. */
export function runnerFor(model: CanonicalModel, options: RunnerOptions = {}): Promise<CanonicalRunner> {
  const key = JSON.stringify(options);
  let m = runners.get(model);
  if (!m) runners.set(model, (m = new Map()));
  let r = m.get(key);
  if (!r) m.set(key, (r = CanonicalRunner.create(model, options)));
  return r;
}

/** The happy path: the output and its commitment, no trace (see CanonicalRunner.run). */
export async function runOutput(model: CanonicalModel, input: InputLike, options: RunnerOptions = {}, hints: RunHints = {}): Promise<RunResult> {
  return (await runnerFor(model, options)).run(input, undefined, hints);
}

/** A dispute: every layer output and the trace commitment (see CanonicalRunner.runWithTrace). */
export async function runWithTrace(model: CanonicalModel, input: InputLike, options: RunnerOptions = {}): Promise<TraceResult> {
  return (await runnerFor(model, options)).runWithTrace(input);
}
