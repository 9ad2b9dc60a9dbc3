import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";

import type { ProtocolDefaults } from "../defaults.js";
import { PRODUCTION } from "../defaults.js";
import { buildDisputesModule } from "./Disputes.js";
import { DEFAULT_ADMIN_ROLE, buildGovernanceModule } from "./Governance.js";
import { buildJobsModule } from "./Jobs.js";
import Registry from "./Registry.js";
import { buildStakingModule } from "./Staking.js";
import { buildTokenModule } from "./Token.js";

/**
 * The whole protocol, wired: the job escrow is Staking's one operator and the operator set is
 * sealed, protocol fees go to the timelock, the timelock owns Staking and JobManager, and the
 * deployer gives up its admin role on the timelock. After this module no single key controls
 * anything: changes go through a VTN vote and the timelock delay, and none of them can move stake
 * (no operator can be added) or reach a job already requested (parameters are versioned per job).
 */
export function buildProtocolModule(d: ProtocolDefaults) {
  const token = buildTokenModule(d.token);
  const staking = buildStakingModule(d.staking, token);
  const governance = buildGovernanceModule(d.governance, token);
  const jobs = buildJobsModule(d.jobs, { token, registry: Registry, staking, governance });
  const disputes = buildDisputesModule(d.disputes, { token, registry: Registry, staking, jobs, governance });

  return buildModule("Protocol", (m) => {
    const t = m.useModule(token);
    const r = m.useModule(Registry);
    const s = m.useModule(staking);
    const g = m.useModule(governance);
    const j = m.useModule(jobs);
    const x = m.useModule(disputes);

    const operator = m.call(s.staking, "setOperator", [j.jobManager, true], { id: "JobManagerIsOperator" });
    const sealed = m.call(s.staking, "sealOperators", [], { id: "StakingOperatorsSealed", after: [operator] });
    const stakingOwner = m.call(s.staking, "transferOwnership", [g.timelock], {
      id: "StakingOwnedByTimelock",
      after: [sealed],
    });
    const jobsOwner = m.call(j.jobManager, "transferOwnership", [g.timelock], { id: "JobManagerOwnedByTimelock", after: [disputes] });
    m.call(g.timelock, "renounceRole", [DEFAULT_ADMIN_ROLE, m.getAccount(0)], {
      id: "DeployerRenouncesTimelockAdmin",
      after: [stakingOwner, jobsOwner, governance],
    });

    return { ...t, ...r, ...s, ...g, ...j, ...x };
  });
}

export type ProtocolModule = ReturnType<typeof buildProtocolModule>;

export default buildProtocolModule(PRODUCTION);
