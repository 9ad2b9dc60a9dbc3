import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { action, nextBlockTime, formatTime, formatVtn, openProtocol, partyFrom, parseVtn, report, required, requestUnstake, resolveSigner } from "../../offchain/cli/index.js";

interface Args {
  amount: string | undefined;
  from: string | undefined;
}

export default action(async (a: Args, hre: HardhatRuntimeEnvironment) => {
  const from = partyFrom(a.from, "stake unstake unbonds the sender's stake");
  const p = await openProtocol(hre);
  const staker = await resolveSigner(p.connection, from);
  const amount = parseVtn(required(a.amount, "--amount"), "--amount");
  const result = await requestUnstake(p, staker, amount);
  const s = result.position;
  report(`Unbonding ${formatVtn(amount)} of ${await staker.getAddress()}`, [
    ["still staked", formatVtn(s.staked)],
    ["unbonding", formatVtn(s.unbonding)],
    ["withdrawable from", formatTime(s.unbondingEnd, await nextBlockTime(p))],
    ["tx", result.receipt.hash],
  ]);
  return result;
});
