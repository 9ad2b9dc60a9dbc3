/** Reading the files users hand to the model tasks, with errors that name the file and the problem. */
import { readFile } from "node:fs/promises";

import { VeritensorError } from "../clients/errors.js";

export async function readBytes(file: string, what: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (e) {
    throw new VeritensorError(`cannot read ${what} ${file} (${(e as NodeJS.ErrnoException).code ?? String(e)})`, { cause: e });
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
