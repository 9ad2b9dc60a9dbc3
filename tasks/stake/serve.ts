import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { action, openProtocol, parseId, partyFrom, report, required, resolveSigner, setModelsServed } from "../../offchain/cli/index.js";

interface Args {
  models: string | undefined;
  stop: boolean;
  from: string | undefined;
}

export default action(async (a: Args, hre: HardhatRuntimeEnvironment) => {
  const from = partyFrom(a.from, "stake serve declares what the sender serves");
  const ids = required(a.models, "--models")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => parseId(s, "--models"));
  const p = await openProtocol(hre);
  const staker = await resolveSigner(p.connection, from);
  const result = await setModelsServed(p, staker, ids, !a.stop);
  const address = await staker.getAddress();
  const unchanged = ids.filter((id) => !result.changed.includes(id));
  report(a.stop ? `${address} no longer serves model(s) ${ids.join(", ")}` : `${address} serves model(s) ${ids.join(", ")}`, [
    ["changed", result.changed.length > 0 ? result.changed.join(", ") : "nothing: already so"],
    ["already so", unchanged.length > 0 && result.changed.length > 0 ? unchanged.join(", ") : undefined],
    ["roster", a.stop ? "a roster drops a member that no longer serves its model at the next `refresh` (anyone may send it)" : "to be drawn for jobs on a deployment with a worker roster: `npx hardhat stake roster --model <id> --join` (a running worker joins by itself)"],
    ...result.receipts.map((r, i) => [`tx (model ${result.changed[i]})`, r.hash] as [string, string]),
  ]);
  return result;
});
