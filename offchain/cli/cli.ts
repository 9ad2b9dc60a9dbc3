/**
 * What task actions share: turning VeritensorErrors into Hardhat errors (a clean message, no
 * stack trace), parsing ids and printing records.
 */
import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";
import { HardhatPluginError } from "hardhat/plugins";

import { VeritensorError } from "../clients/errors.js";
import { formatFields } from "../clients/format.js";

export const PLUGIN_ID = "veritensor";

/**
 * Wraps a task action: a VeritensorError (wrong network, unknown model, fee too low…) becomes a
 * HardhatPluginError, which Hardhat prints as one readable line and exit code 1.
 */
export function action<A>(fn: (args: A, hre: HardhatRuntimeEnvironment) => Promise<unknown>) {
  return async (args: A, hre: HardhatRuntimeEnvironment): Promise<unknown> => {
    try {
      return await fn(args, hre);
    } catch (e) {
      if (VeritensorError.is(e)) throw new HardhatPluginError(PLUGIN_ID, e.message, e);
      throw e;
    }
  };
}

/** A required option's value, or an error naming the option. */
export function required(value: string | undefined, option: string): string {
  if (value === undefined || value.trim() === "") throw new VeritensorError(`${option} is required`);
  return value.trim();
}

/**
 * The `--from` of a task where the sender is a party (it pays, stakes, earns…), which has no
 * default: `why` says what the task does with the account, e.g. "stake add moves funds".
 */
export function partyFrom(from: string | undefined, why: string): string {
  if (from === undefined || from.trim() === "") {
    throw new VeritensorError(
      `${why}: say which account acts with --from (an account index such as 1, or an address); account 0 is the deployer, which holds the local supply`,
    );
  }
  return from.trim();
}

/** A model or job id: a positive integer. */
export function parseId(value: string | undefined, option: string): bigint {
  const text = required(value, option);
  if (!/^\d+$/.test(text) || BigInt(text) === 0n) throw new VeritensorError(`${option} "${text}" is not an id (1, 2, 3…)`);
  return BigInt(text);
}

/** Prints a title and its fields as aligned `key: value` lines. */
export function report(title: string, rows: Parameters<typeof formatFields>[0]): void {
  console.log(title);
  const body = formatFields(rows);
  if (body !== "") console.log(body.replace(/^/gm, "  "));
}
