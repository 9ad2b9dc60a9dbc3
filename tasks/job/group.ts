import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import {
  action,
  confirmGroup,
  formatGas,
  formatVtn,
  groupStatusName,
  jobStatusName,
  openProtocol,
  parseId,
  readGroup,
  report,
  resolveGroup,
  resolveSigner,
  settleGroup,
} from "../../offchain/cli/index.js";

interface Args {
  id: string | undefined;
  confirm: boolean;
  resolve: boolean;
  settle: boolean;
  from: string;
}

export default action(async (a: Args, hre: HardhatRuntimeEnvironment) => {
  const p = await openProtocol(hre);
  const groupId = parseId(a.id, "--id");
  const sent: [string, string][] = [];
  if (a.confirm || a.resolve || a.settle) {
    const caller = await resolveSigner(p.connection, a.from);
    if (a.confirm) {
      const r = await confirmGroup(p, caller, groupId);
      sent.push(["confirm tx", `${r.receipt.hash} (gas ${formatGas(r.receipt.gasUsed)})`]);
    }
    if (a.resolve) {
      const r = await resolveGroup(p, caller, groupId);
      sent.push(["resolve tx", `${r.receipt.hash} (gas ${formatGas(r.receipt.gasUsed)})`]);
    }
    if (a.settle) {
      const r = await settleGroup(p, caller, groupId);
      sent.push(["settle tx", `${r.receipt.hash}: ${formatVtn(r.credited)} credited (gas ${formatGas(r.receipt.gasUsed)})`]);
    }
  }
  const g = await readGroup(p, groupId);
  const jobs = g.jobs.map((j, i): [string, string] => [
    `job ${j.jobId}`,
    `${jobStatusName(j.status)}` +
      (j.worker !== "0x0000000000000000000000000000000000000000" ? `, worker ${j.worker}` : "") +
      (j.outputCommitment !== undefined ? `, output ${j.outputCommitment}` : "") +
      (j.openDisputes > 0n ? `, ${j.openDisputes} dispute(s) open` : "") +
      (g.settled[i] ? ", settled" : ""),
  ]);
  report(`Group ${groupId}: ${groupStatusName(g.status)}`, [
    ["requester", g.requester],
    ["redundancy", `${g.k} jobs, ${formatVtn(g.fee)} each`],
    ["stake at risk", `${g.k} locks of ${formatVtn(g.terms.lock)} cover ${formatVtn(g.value)}`],
    ...jobs,
    ["output", g.output ?? (g.confirmable.ok ? `not confirmed yet; confirmable with ${g.confirmable.output} (--confirm)` : `none yet: ${g.confirmable.reason}`)],
    ["owed to the requester", g.unsettled > 0n ? `${formatVtn(g.unsettled)} to settle (--settle)` : undefined],
    ["requester's balance", g.requesterBalance > 0n ? `${formatVtn(g.requesterBalance)} (withdraw() on the redundancy contract)` : undefined],
    ...sent,
  ]);
  return g;
});
