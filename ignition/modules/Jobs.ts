import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";

import type { JobsDefaults } from "../defaults.js";
import { PRODUCTION } from "../defaults.js";
import type { GovernanceModule } from "./Governance.js";
import Governance from "./Governance.js";
import type { RegistryModule } from "./Registry.js";
import Registry from "./Registry.js";
import type { StakingModule } from "./Staking.js";
import Staking from "./Staking.js";
import type { TokenModule } from "./Token.js";
import Token from "./Token.js";

export interface JobsDependencies {
  readonly token: TokenModule;
  readonly registry: RegistryModule;
  readonly staking: StakingModule;
  readonly governance: GovernanceModule;
}

/** The job escrow. Protocol fees go to the timelock (the treasury governance controls). */
export function buildJobsModule(d: JobsDefaults, deps: JobsDependencies) {
  return buildModule("Jobs", (m) => {
    const { token } = m.useModule(deps.token);
    const { registry } = m.useModule(deps.registry);
    const { staking } = m.useModule(deps.staking);
    const { timelock } = m.useModule(deps.governance);
    const jobManager = m.contract("JobManager", [
      token,
      registry,
      staking,
      m.getAccount(0),
      m.getParameter("minChallengeWindow", d.minChallengeWindow),
      {
        protocolFeeBps: m.getParameter("protocolFeeBps", d.protocolFeeBps),
        minJobLock: m.getParameter("minJobLock", d.minJobLock),
        stakeRatioBps: m.getParameter("stakeRatioBps", d.stakeRatioBps),
        timeoutSlashBps: m.getParameter("timeoutSlashBps", d.timeoutSlashBps),
        paused: false,
        treasury: timelock,
        challengeWindow: m.getParameter("challengeWindow", d.challengeWindow),
        resultTimeout: m.getParameter("resultTimeout", d.resultTimeout),
        maxCallbackGasLimit: m.getParameter("maxCallbackGasLimit", d.maxCallbackGasLimit),
        maxJobDuration: m.getParameter("maxJobDuration", d.maxJobDuration),
      },
    ]);
    return { jobManager };
  });
}

export type JobsModule = ReturnType<typeof buildJobsModule>;

export default buildJobsModule(PRODUCTION.jobs, { token: Token, registry: Registry, staking: Staking, governance: Governance });
