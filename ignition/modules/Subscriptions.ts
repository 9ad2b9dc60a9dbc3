import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";

import type { JobsModule } from "./Jobs.js";
import Jobs from "./Jobs.js";

/**
 * The subscription manager: schedules of runs paid once by consumer contracts and triggered by
 * keepers, each run a job of the escrow. It has no owner and no parameter; the token and the
 * registry are the escrow's own.
 */
export function buildSubscriptionsModule(jobs: JobsModule) {
  return buildModule("Subscriptions", (m) => {
    const { jobManager } = m.useModule(jobs);
    const subscriptionManager = m.contract("SubscriptionManager", [jobManager]);
    return { subscriptionManager };
  });
}

export type SubscriptionsModule = ReturnType<typeof buildSubscriptionsModule>;

export default buildSubscriptionsModule(Jobs);
