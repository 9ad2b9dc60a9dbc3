import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { action, formatVtn, listSubscriptions, nextBlockTime, openProtocol, scheduleOf, subscriptionState } from "../../offchain/cli/index.js";

interface Args {
  due: boolean;
}

export default action(async (a: Args, hre: HardhatRuntimeEnvironment) => {
  const p = await openProtocol(hre);
  const [all, now] = await Promise.all([listSubscriptions(p), nextBlockTime(p)]);
  const shown = all.map((s) => ({ s, sched: scheduleOf(s, now) })).filter((x) => !a.due || x.sched.dueNow);
  if (shown.length === 0) {
    console.log(a.due ? "No subscription has a run due now." : `No subscription yet on the subscription manager ${p.addresses.subscriptions}.`);
    return [];
  }
  console.log(`${a.due ? "Subscriptions with a run due now" : "Subscriptions"} (manager ${p.addresses.subscriptions}):`);
  for (const { s, sched } of shown) {
    const next = sched.next ? `next run ${sched.next.run}` : "no next run";
    console.log(
      `  #${s.id}  ${subscriptionState(s, sched)}  consumer ${s.consumer}  model ${s.modelId}  ` +
        `${sched.done}/${s.runs} triggered, ${sched.skipped} skipped  balance ${formatVtn(s.balance)}  ${next}`,
    );
  }
  return shown.map((x) => x.s);
});
