import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { action, exactCheat, formatGas, openProtocol, partyFrom, parseCheat, report, required, resolveSigner } from "../../offchain/cli/index.js";
import { LEVEL_NAMES } from "../../offchain/clients/game-types.js";
import { SIDE_NAMES, gameRows, gameTitle, moveText, playNextMove } from "../../offchain/cli/disputes.js";

interface Args {
  game: string | undefined;
  model: string | undefined;
  cheat: string | undefined;
  from: string | undefined;
}

export default action(async (a: Args, hre: HardhatRuntimeEnvironment) => {
  const from = partyFrom(a.from, "dispute move plays the sender's side of the game");
  const p = await openProtocol(hre);
  const signer = await resolveSigner(p.connection, from);
  const cheat = a.cheat !== undefined ? exactCheat(parseCheat(a.cheat)) : undefined;
  const r = await playNextMove(p, signer, required(a.game, "--game"), required(a.model, "--model"), cheat ? { cheat } : {});
  // The game's fixed data (sides, bonds, rewards) is in `dispute show`; here what changed.
  const changed = new Set(["level", "cursor", "turn", "deadline", "ended at", "why", "slashed", "burned", "credited", "job's disputes"]);
  report(`Played the ${SIDE_NAMES[r.side]}'s ${LEVEL_NAMES[r.before.state.level]} move: ${moveText(r.move)}`, [
    ["gas used", formatGas(r.receipt.gasUsed)],
    ["game", gameTitle(r.after).replace(/^Dispute game \S+: /, "")],
    ...gameRows(r.after).filter(([key]) => changed.has(key)),
  ]);
  return r;
});
