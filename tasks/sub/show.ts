import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import {
  action,
  nextBlockTime,
  openProtocol,
  parseId,
  readSubscription,
  report,
  runLines,
  scheduleOf,
  subscriptionRows,
  subscriptionRuns,
  subscriptionState,
} from "../../offchain/cli/index.js";

interface Args {
  id: string | undefined;
}

export default action(async (a: Args, hre: HardhatRuntimeEnvironment) => {
  const p = await openProtocol(hre);
  const id = parseId(a.id, "--id");
  const [s, now] = await Promise.all([readSubscription(p, id), nextBlockTime(p)]);
  const runs = await subscriptionRuns(p, id);
  report(`Subscription ${id}: ${subscriptionState(s, scheduleOf(s, now))}`, await subscriptionRows(p, s, now));
  console.log(runs.length === 0 ? "No run triggered yet." : "Runs:");
  for (const line of runLines(runs)) console.log(`  ${line}`);
  return { subscription: s, runs };
});
