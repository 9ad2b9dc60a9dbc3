import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { action, delegateVotes, formatVtn, openProtocol, report, resolveAddress, resolveSigner } from "../../offchain/cli/index.js";

interface Args {
  to: string | undefined;
  from: string;
}

export default action(async (a: Args, hre: HardhatRuntimeEnvironment) => {
  const p = await openProtocol(hre);
  const signer = await resolveSigner(p.connection, a.from);
  const self = await signer.getAddress();
  const to = a.to === undefined || a.to.trim() === "" ? self : await resolveAddress(p.connection, a.to.trim());
  const r = await delegateVotes(p, signer, to);
  report(`${r.delegator} delegates its votes to ${r.delegatee === self ? "itself" : r.delegatee}`, [
    ["balance delegated", formatVtn(r.balance)],
    ["votes of the delegate", `${formatVtn(r.votes)} (they count in proposals whose snapshot is after block ${r.receipt.blockNumber - 1})`],
    ["tx", r.receipt.hash],
  ]);
  return r;
});
