/**
 * Node 22's built-in SQLite (`node:sqlite`), loaded without its one "SQLite is an experimental
 * feature" warning (every other warning still prints).
 */
import { mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import type { DatabaseSync as DatabaseSyncType } from "node:sqlite";

import { VeritensorError } from "../clients/errors.js";

export type Database = DatabaseSyncType;

let ctor: typeof DatabaseSyncType | undefined;

function filterSqliteWarning(): () => void {
  const emit = process.emitWarning;
  process.emitWarning = function (warning: string | Error, ...rest: unknown[]) {
    const text = typeof warning === "string" ? warning : warning.message;
    const type = typeof rest[0] === "string" ? rest[0] : (rest[0] as { type?: string } | undefined)?.type;
    if ((type === "ExperimentalWarning" || (warning as Error).name === "ExperimentalWarning") && /SQLite/i.test(text)) return;
    return (emit as (...a: unknown[]) => void).call(process, warning, ...rest);
  } as typeof process.emitWarning;
  return () => {
    process.emitWarning = emit;
  };
}

/** Opens (creating it if needed) the database file `path`; `:memory:` for a throwaway one. */
export function openDatabase(path: string): Database {
  if (ctor === undefined) {
    const restore = filterSqliteWarning();
    try {
      ctor = (createRequire(import.meta.url)("node:sqlite") as { DatabaseSync: typeof DatabaseSyncType }).DatabaseSync;
    } finally {
      restore();
    }
  }
  return new ctor(path);
}

/**
 * Opens (creating it and its folder if missing) the database file `file`, or fails with a message
 * that names it as `what` and says why: a folder without write permission, or a file in the way,
 * is the user's to fix (`give another --db`).
 */
export function openDatabaseFile(file: string, what: string): Database {
  try {
    if (file !== ":memory:") mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    return openDatabase(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const reason = code === "ERR_SQLITE_ERROR" ? (e as Error).message : (code ?? String(e));
    throw new VeritensorError(`cannot open ${what} ${file} (${reason}): give another --db`, { cause: e });
  }
}
