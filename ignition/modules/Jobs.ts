import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";

import type { JobsDefaults } from "../defaults.js";
import { PRODUCTION } from "../defaults.js";
import type { AssignmentModule } from "./Assignment.js";
import type { AuditsModule } from "./Audits.js";
import type { TimelockRole } from "./Governance.js";
import Governance, { roleHolder } from "./Governance.js";
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
  /** Who receives protocol fees: the timelock (the treasury governance controls), or parameter `treasury`. */
  readonly treasury: TimelockRole;
  /**
   * Tests only: make the address in parameter `disputeManager` the dispute manager (parameter
   * version 2), a plain signer that freezes and settles jobs itself. It is done here so that a
   * Disputes module on this escrow makes its factory the manager after it. Production leaves the
   * manager to the Disputes module alone.
   */
  readonly disputeManagerParameter?: boolean;
  /**
   * The worker roster that assigns claims (the escrow binds itself to it); without one, claims are
   * first-come (the roster argument is the zero address).
   */
  readonly assignment?: AssignmentModule;
  /**
   * The audit manager, credited the audit share (`auditFeeBps`) of every finalized fee (it binds
   * itself to the escrow here); without one, no audits and an audit share of 0. Needs `assignment`.
   */
  readonly audits?: AuditsModule;
}

/** The job escrow, owned by the deployer until Protocol hands it to the timelock. */
export function buildJobsModule(d: JobsDefaults, deps: JobsDependencies) {
  return buildModule("Jobs", (m) => {
    const { token } = m.useModule(deps.token);
    const { registry } = m.useModule(deps.registry);
    const { staking } = m.useModule(deps.staking);
    const treasury = roleHolder(m, deps.treasury, "treasury");
    const roster = deps.assignment !== undefined ? m.useModule(deps.assignment).workerRoster : undefined;
    const auditManager = deps.audits !== undefined ? m.useModule(deps.audits).auditManager : undefined;
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
        treasury,
        challengeWindow: m.getParameter("challengeWindow", d.challengeWindow),
        resultTimeout: m.getParameter("resultTimeout", d.resultTimeout),
        maxCallbackGasLimit: m.getParameter("maxCallbackGasLimit", d.maxCallbackGasLimit),
        callbackFeePerGas: m.getParameter("callbackFeePerGas", d.callbackFeePerGas),
        maxJobDuration: m.getParameter("maxJobDuration", d.maxJobDuration),
        // The escrow refuses an audit share without audit manager.
        auditFeeBps: auditManager !== undefined ? m.getParameter("auditFeeBps", d.auditFeeBps) : 0,
      },
      // Without a roster, first-come claims.
      roster ?? "0x0000000000000000000000000000000000000000",
      // Without an audit manager, no audits.
      auditManager ?? "0x0000000000000000000000000000000000000000",
    ]);
    if (auditManager !== undefined) m.call(auditManager, "bindEscrow", [jobManager], { id: "AuditManagerBoundToJobManager" });
    if (roster !== undefined) m.call(roster, "bindEscrow", [jobManager], { id: "RosterBoundToJobManager" });
    if (deps.disputeManagerParameter) {
      m.call(jobManager, "setDisputeManager", [m.getParameter<string>("disputeManager")], { id: "DisputeManagerFromParameter" });
    }
    return { jobManager };
  });
}

export type JobsModule = ReturnType<typeof buildJobsModule>;

export default buildJobsModule(PRODUCTION.jobs, { token: Token, registry: Registry, staking: Staking, treasury: Governance });
