/** Files the task tests feed to the tasks: a tiny canonical model and tensors, in a temp dir. */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { CanonicalModelBuilder } from "../../offchain/model/build.js";

export const dir = mkdtempSync(path.join(tmpdir(), "veritensor-tasks-"));

/** y = clip(x · W, ±1000): input [1, 4], output [1, 2], one output unit worth 0.125. */
export function writeTinyModel(): string {
  const bytes = new CanonicalModelBuilder([1, 4], [-128, 127], { outputScale: 0.125 })
    .dense({ weight: [1, -1, 2, 0, 0, 1, -1, 3], units: 2, shift: 0, clip: [-1000, 1000] })
    .build();
  const file = path.join(dir, "tiny.onnx");
  writeFileSync(file, bytes);
  return file;
}

export function writeJson(name: string, value: unknown): string {
  const file = path.join(dir, name);
  writeFileSync(file, JSON.stringify(value));
  return file;
}

/** Runs `fn` and returns the message it rejects with (fails the test if it does not reject). */
export async function rejection(fn: () => Promise<unknown>): Promise<string> {
  try {
    await fn();
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error("expected a rejection");
}
