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
