import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { action, addStake, formatVtn, openProtocol, partyFrom, parseId, parseVtn, report, required, resolveSigner } from "../../offchain/cli/index.js";

interface Args {
  amount: string | undefined;
  serves: string;
  noApprove: boolean;
  from: string | undefined;
}

export default action(async (a: Args, hre: HardhatRuntimeEnvironment) => {
  const from = partyFrom(a.from, "stake add moves funds");
  const p = await openProtocol(hre);
  const staker = await resolveSigner(p.connection, from);
  const serves = a.serves.split(",").map((s) => s.trim()).filter(Boolean).map((s) => parseId(s, "--serves"));
  const result = await addStake(p, staker, parseVtn(required(a.amount, "--amount"), "--amount"), {
    approve: !a.noApprove,
    serveModels: serves,
  });
  const s = result.position;
  report(`Staked ${formatVtn(parseVtn(a.amount!))} from ${await staker.getAddress()}`, [
    ["staked", formatVtn(s.staked)],
    ["locked", formatVtn(s.locked)],
    ["free", formatVtn(s.free)],
    ["minimum stake", `${formatVtn(s.minStake)}${s.staked >= s.minStake ? " (met)" : " (not met yet: cannot claim jobs)"}`],
    ["serves models", serves.length > 0 ? serves.join(", ") : undefined],
    ["approval tx", result.approval?.hash],
    ["tx", result.receipt.hash],
  ]);
  return result;
});
