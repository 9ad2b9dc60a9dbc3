import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { action, formatGas, formatVtn, openProtocol, parseId, partyFrom, report, resolveSigner, triggerRun } from "../../offchain/cli/index.js";

interface Args {
  id: string | undefined;
  from: string | undefined;
}

export default action(async (a: Args, hre: HardhatRuntimeEnvironment) => {
  const p = await openProtocol(hre);
  const id = parseId(a.id, "--id");
  const keeper = await resolveSigner(p.connection, partyFrom(a.from, "triggering a run pays the gas and earns the keeper reward"));
  const t = await triggerRun(p, keeper, id);
  report(`Triggered run ${t.run} of subscription ${id}: job ${t.jobId}`, [
    ["skipped before it", t.skipped > 0n ? `${t.skipped} run(s) (their intervals passed untriggered; their funds stayed)` : undefined],
    ["job fee", `${formatVtn(t.fee)} (paid from the subscription's balance)`],
    ["keeper reward", `${formatVtn(t.keeperReward)} (credited in the subscription manager: \`sub withdraw\` pays it out)`],
    ["tx", t.receipt.hash],
    ["gas used", formatGas(t.receipt.gasUsed)],
  ]);
  console.log(`The job is an ordinary consumer job: \`npx hardhat job show --job ${t.jobId}\` follows it; a worker claims and serves it.`);
  return t;
});
