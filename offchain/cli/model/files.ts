/**
 * Reading the files users hand to the tasks, and writing the files they ask for, with errors that
 * name the file and the problem.
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";

import { VeritensorError } from "../../clients/errors.js";

export async function readBytes(file: string, what: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (e) {
    throw new VeritensorError(`cannot read ${what} ${file} (${(e as NodeJS.ErrnoException).code ?? String(e)})`, { cause: e });
  }
}

/** The usual reasons a write fails, in words. */
const WRITE_FAILURES: Record<string, string> = {
  EACCES: "permission denied",
  EPERM: "permission denied",
  EROFS: "read-only file system",
  ENOSPC: "no space left on the device",
  EISDIR: "it is a folder",
  ENOTDIR: "a part of its path is a file, not a folder",
  EEXIST: "a part of its path is a file, not a folder",
};

/**
 * Writes `data` to `file`, creating its missing parent folders first (like `mkdir -p`: users name
 * an output in a folder they have not made yet); any other failure names the file.
 */
export async function writeOutput(file: string, data: string | Uint8Array, what: string): Promise<void> {
  try {
    await mkdir(path.dirname(path.resolve(file)), { recursive: true });
    await writeFile(file, data);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const reason = code === undefined ? String(e) : WRITE_FAILURES[code] !== undefined ? `${code}: ${WRITE_FAILURES[code]}` : code;
    throw new VeritensorError(`cannot write ${what} ${file} (${reason})`, { cause: e });
  }
}

async function readJsonArray(file: string, what: string): Promise<unknown[]> {
  const text = (await readBytes(file, what)).toString("utf8");
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new VeritensorError(`${what} ${file} is not valid JSON: ${(e as Error).message}`, { cause: e });
  }
  if (!Array.isArray(value) || value.length === 0) throw new VeritensorError(`${what} ${file} must be a non-empty JSON array`);
  return value;
}

function flatNumbers(value: unknown, where: string): number[] {
  const flat = (Array.isArray(value) ? value.flat(Infinity) : [value]) as unknown[];
  if (flat.length === 0 || flat.some((v) => typeof v !== "number" || !Number.isFinite(v))) {
    throw new VeritensorError(`${where} must contain only finite numbers`);
  }
  return flat as number[];
}

/** One tensor: a JSON array of numbers, nested arrays allowed (read row-major). */
export async function readTensorJson(file: string, what: string): Promise<number[]> {
  return flatNumbers(await readJsonArray(file, what), `${what} ${file}`);
}

/** Several samples: a JSON array whose items are each one tensor (nested arrays allowed). */
export async function readSamplesJson(file: string, what: string): Promise<number[][]> {
  const items = await readJsonArray(file, what);
  if (!items.every((s) => Array.isArray(s))) {
    throw new VeritensorError(`${what} ${file} must be an array of samples, each an array of numbers`);
  }
  return items.map((s, i) => flatNumbers(s, `${what} ${file}, sample ${i + 1},`));
}
