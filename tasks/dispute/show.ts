import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { VeritensorError, action, openProtocol, parseId, report } from "../../offchain/cli/index.js";
import { describeGame, describeJobGames, gameRows, gameTitle } from "../../offchain/cli/disputes.js";

interface Args {
  job: string | undefined;
  game: string | undefined;
}

export default action(async (a: Args, hre: HardhatRuntimeEnvironment) => {
  if ((a.job === undefined) === (a.game === undefined)) throw new VeritensorError("give either --job N or --game ADDRESS");
  const p = await openProtocol(hre);
  const views = a.game !== undefined ? [await describeGame(p, a.game.trim())] : await describeJobGames(p, parseId(a.job, "--job"));
  if (views.length === 0) console.log(`Job ${a.job} has no dispute games.`);
  for (const v of views) report(gameTitle(v), gameRows(v));
  return views;
});
