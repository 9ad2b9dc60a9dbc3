import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";

import type { JobsModule } from "./Jobs.js";
import Jobs from "./Jobs.js";

/**
 * Redundancy k: the contract that requests k ordinary jobs of one input for a requester and makes
 * their agreed output final early (docs/INTEGRATING.md "Redundancy"). It has no owner and no
 * parameter; the token is the escrow's own.
 */
export function buildRedundancyModule(jobs: JobsModule) {
  return buildModule("Redundancy", (m) => {
    const { jobManager } = m.useModule(jobs);
    const redundantRequests = m.contract("RedundantRequests", [jobManager]);
    return { redundantRequests };
  });
}

export type RedundancyModule = ReturnType<typeof buildRedundancyModule>;

export default buildRedundancyModule(Jobs);
