import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { action, nextBlockTime, formatTime, formatVtn, openProtocol, parseVtn, report, required, requestUnstake, resolveSigner } from "../../offchain/clients/index.js";

interface Args {
  amount: string | undefined;
  from: string;
}

export default action(async (a: Args, hre: HardhatRuntimeEnvironment) => {
  const p = await openProtocol(hre);
  const staker = await resolveSigner(p.connection, a.from);
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
