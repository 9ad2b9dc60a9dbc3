import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { action, buildCall, describeAction, openProtocol, propose, report, required, resolveSigner, targetAddress } from "../../offchain/cli/index.js";

interface Args {
  target: string | undefined;
  signature: string | undefined;
  description: string | undefined;
  value: string;
  dryRun: boolean;
  from: string;
  args: string[];
}

export default action(async (a: Args, hre: HardhatRuntimeEnvironment) => {
  const p = await openProtocol(hre);
  const target = targetAddress(p, required(a.target, "--target"));
  const call = buildCall(target, required(a.signature, "--signature"), a.args, BigInt(a.value));
  const description = required(a.description, "--description");
  console.log(`Action: ${describeAction(p, call)}`);
  console.log(`  target ${call.target}, value ${call.value}, calldata ${call.calldata}`);
  if (a.dryRun) return { action: call, description };
  const proposer = await resolveSigner(p.connection, a.from);
  const r = await propose(p, proposer, [call], description);
  report(`Proposal #${r.proposal.index} made by ${await proposer.getAddress()}`, [
    ["id", String(r.id)],
    ["description", description],
    ["voting", `opens after block ${r.snapshot} (the snapshot), closes at block ${r.deadline}`],
    ["tx", r.receipt.hash],
  ]);
  return { action: call, ...r, description };
});
