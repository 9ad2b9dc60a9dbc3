import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { action, formatGas, openProtocol, report, required, resolveSigner } from "../../offchain/cli/index.js";
import { SIDE_NAMES, gameRows, gameTitle, timeoutGame } from "../../offchain/cli/disputes.js";

interface Args {
  game: string | undefined;
  from: string;
}

export default action(async (a: Args, hre: HardhatRuntimeEnvironment) => {
  const p = await openProtocol(hre);
  const caller = await resolveSigner(p.connection, a.from);
  const r = await timeoutGame(p, caller, required(a.game, "--game"));
  report(`Timed out the ${SIDE_NAMES[r.loser]}`, [
    ["tx", r.receipt.hash],
    ["gas used", formatGas(r.receipt.gasUsed)],
  ]);
  report(gameTitle(r.after), gameRows(r.after).slice(1));
  return r;
});
