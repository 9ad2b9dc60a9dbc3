import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { action, buildParamChange, openProtocol, parseSetting, propose, report, required, resolveSigner } from "../../offchain/cli/index.js";

interface Args {
  set: string | undefined;
  description: string | undefined;
  dryRun: boolean;
  from: string;
}

export default action(async (a: Args, hre: HardhatRuntimeEnvironment) => {
  const settings = required(a.set, "--set").split(/[,;]/).map((s) => s.trim()).filter(Boolean).map(parseSetting);
  const p = await openProtocol(hre);
  const change = await buildParamChange(p, settings);
  const description = a.description?.trim() || `Set ${change.changes.join("; ")}`;
  console.log("Changes:");
  for (const c of change.changes) console.log(`  ${c}`);
  console.log("Actions (executed by the timelock):");
  for (const [i, x] of change.actions.entries()) console.log(`  ${i + 1}. target ${x.target}, value ${x.value}, calldata ${x.calldata}`);
  if (a.dryRun) return { ...change, description };
  const proposer = await resolveSigner(p.connection, a.from);
  const r = await propose(p, proposer, change.actions, description);
  report(`Proposal #${r.proposal.index} made by ${await proposer.getAddress()}`, [
    ["id", String(r.id)],
    ["description", description],
    ["voting", `opens after block ${r.snapshot} (the snapshot), closes at block ${r.deadline}`],
    ["tx", r.receipt.hash],
  ]);
  return { ...change, ...r, description };
});
