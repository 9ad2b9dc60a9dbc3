/**
 * What the task tests share: the files they feed to the tasks (a tiny canonical model and tensors,
 * in a temp dir), the tasks' printed lines, and a task `hre` on a network of a test's own.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import hre from "hardhat";
import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";
import type { NetworkConnection } from "hardhat/types/network";

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

/** Runs `fn` with console.log captured: its result and the lines it printed. */
export async function captured<T>(fn: () => Promise<T>): Promise<{ result: T; lines: string[] }> {
  const log = console.log;
  const lines: string[] = [];
  console.log = (...a: unknown[]) => void lines.push(a.join(" "));
  try {
    return { result: await fn(), lines };
  } finally {
    console.log = log;
  }
}

/**
 * A stand-in for a task's `hre` whose network is `connection` (the tasks call
 * `hre.network.getOrCreate()`): the tasks' default network is shared with other test files.
 */
export function hreOn(connection: NetworkConnection, network?: string): HardhatRuntimeEnvironment {
  return { ...hre, config: hre.config, globalOptions: { ...hre.globalOptions, network }, network: { ...hre.network, getOrCreate: async () => connection } } as HardhatRuntimeEnvironment;
}
