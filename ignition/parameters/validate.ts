/**
 * Ignition module parameters files (`--parameters file.json`, keyed by module id), read the way
 * `npx hardhat ignition deploy` reads them ("1000n" is a bigint) and checked against the parameters
 * the modules declare. Ignition itself ignores a key no module reads, so a misspelt
 * `"challengWindow"` would deploy a public network with the default: here it is an error.
 */
import type { IgnitionModule } from "@nomicfoundation/ignition-core";

/** A parameters file's content: module id -> parameter name -> value. */
export type ModuleParameters = Record<string, Record<string, unknown>>;

/** What a module declares: module id -> parameter name -> its default (undefined: required). */
export type DeclaredParameters = Map<string, Map<string, unknown>>;

interface ParameterValue {
  readonly type: "MODULE_PARAMETER";
  readonly moduleId: string;
  readonly name: string;
  readonly defaultValue: unknown;
}

function isParameter(value: unknown): value is ParameterValue {
  return typeof value === "object" && value !== null && (value as { type?: unknown }).type === "MODULE_PARAMETER";
}

/** Parameters anywhere inside a future's arguments (nested structs and arrays included). */
function collect(value: unknown, into: DeclaredParameters, seen: Set<unknown>): void {
  if (typeof value !== "object" || value === null || seen.has(value)) return;
  seen.add(value);
  if (isParameter(value)) {
    let names = into.get(value.moduleId);
    if (!names) into.set(value.moduleId, (names = new Map()));
    names.set(value.name, value.defaultValue);
    return;
  }
  for (const [key, item] of Object.entries(value)) {
    // A future's module and dependencies lead to other futures, reached through the module walk.
    if (key === "module" || key === "dependencies") continue;
    collect(item, into, seen);
  }
}

/** The parameters that `modules` and their submodules read, by module id. */
export function declaredParameters(...modules: IgnitionModule[]): DeclaredParameters {
  const into: DeclaredParameters = new Map();
  const seen = new Set<unknown>();
  const visited = new Set<IgnitionModule>();
  const walk = (m: IgnitionModule) => {
    if (visited.has(m)) return;
    visited.add(m);
    for (const future of m.futures) collect(future, into, seen);
    for (const sub of m.submodules) walk(sub);
  };
  modules.forEach(walk);
  return into;
}

/** Whether `value` fits a parameter whose default is `defaultValue` (as Ignition and ethers take it). */
function fits(value: unknown, defaultValue: unknown): boolean {
  if (typeof defaultValue === "bigint") {
    return typeof value === "bigint" || (typeof value === "number" && Number.isSafeInteger(value)) || (typeof value === "string" && /^\d+$/.test(value));
  }
  if (typeof defaultValue === "number") return typeof value === "number" && Number.isSafeInteger(value);
  if (defaultValue === undefined) return typeof value === "string" || typeof value === "number" || typeof value === "bigint";
  return typeof value === typeof defaultValue;
}

/**
 * The problems of `parameters` against what `declared` reads: unknown module ids, unknown names
 * (with the names that module does read), values of the wrong kind. Empty when it is fine.
 */
export function parameterProblems(parameters: ModuleParameters, declared: DeclaredParameters): string[] {
  const problems: string[] = [];
  for (const [moduleId, values] of Object.entries(parameters)) {
    const names = declared.get(moduleId);
    if (names === undefined) {
      problems.push(`no module "${moduleId}" reads parameters (modules: ${[...declared.keys()].sort().join(", ")})`);
      continue;
    }
    if (typeof values !== "object" || values === null || Array.isArray(values)) {
      problems.push(`${moduleId}: expected an object of parameters`);
      continue;
    }
    for (const [name, value] of Object.entries(values)) {
      if (!names.has(name)) {
        problems.push(`${moduleId}.${name} is not a parameter of module ${moduleId} (it has: ${[...names.keys()].sort().join(", ")})`);
      } else if (!fits(value, names.get(name))) {
        problems.push(`${moduleId}.${name}: ${JSON.stringify(typeof value === "bigint" ? `${value}n` : value)} is not a ${typeof names.get(name) === "bigint" ? "whole number (write large ones as \"123n\")" : "whole number"}`);
      }
    }
  }
  return problems;
}

/**
 * Parses a parameters file as Ignition does: "123n" strings become bigints; a plain number above
 * 2^53 (which JSON would round) is refused with its key.
 */
export function parseParameters(text: string): ModuleParameters {
  const parsed: unknown = JSON.parse(text, (key, value: unknown) => {
    if (typeof value === "string" && /^\d+n$/.test(value)) return BigInt(value.slice(0, -1));
    if (typeof value === "number" && !Number.isSafeInteger(value) && Number.isInteger(value)) {
      throw new Error(`"${key}": ${value} is above 2^53 and would be rounded: write it as a string with an n, e.g. "${BigInt(value)}n"`);
    }
    return value;
  });
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new Error("expected an object keyed by module id");
  return parsed as ModuleParameters;
}
