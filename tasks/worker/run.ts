import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { VeritensorError, action, parseVtn } from "../../offchain/cli/index.js";

/** A gas amount: a non-negative integer. */
function parseGas(s: string, option: string): bigint {
  if (!/^\d+$/.test(s.trim())) throw new VeritensorError(`${option} ${s}: give a whole amount of gas, e.g. 200000`);
  return BigInt(s.trim());
}
import type { NodeTaskArgs } from "../../offchain/cli/nodes.js";
import { nodeOptionsFromArgs, runUntilSignal } from "../../offchain/cli/nodes.js";
import { Worker } from "../../offchain/nodes/worker.js";
import type { AuditMode } from "../../offchain/nodes/auditor.js";

interface Args extends NodeTaskArgs {
  minFee: string | undefined;
  maxCallbackGas: string | undefined;
  callbackGasPrice: string | undefined;
  maxJobs: number;
  noWithdraw: boolean;
  noKeeper: boolean;
  audits: string | undefined;
}

const AUDIT_MODES: readonly AuditMode[] = ["on", "off", "commit-only"];

function parseAudits(s: string | undefined): AuditMode | undefined {
  if (s === undefined) return undefined;
  const mode = s.trim() as AuditMode;
  if (!AUDIT_MODES.includes(mode)) throw new VeritensorError(`--audits ${s}: give on, off or commit-only`);
  return mode;
}

export default action(async (a: Args, hre: HardhatRuntimeEnvironment) => {
  const { node, models, cheat } = await nodeOptionsFromArgs(a, hre, "worker");
  const worker = await Worker.create({
    ...node,
    models,
    cheat,
    minFee: a.minFee === undefined ? undefined : parseVtn(a.minFee, "--min-fee"),
    maxCallbackGas: a.maxCallbackGas === undefined ? undefined : parseGas(a.maxCallbackGas, "--max-callback-gas"),
    callbackGasPrice: a.callbackGasPrice === undefined ? undefined : parseVtn(a.callbackGasPrice, "--callback-gas-price"),
    maxJobs: a.maxJobs > 0 ? a.maxJobs : undefined,
    withdrawAt: a.noWithdraw ? null : undefined,
    keepSubscriptions: !a.noKeeper,
    audits: parseAudits(a.audits),
  });
  await runUntilSignal(worker);
});
