import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";
import type { Future, IgnitionModule, IgnitionModuleBuilder, NamedArtifactContractDeploymentFuture } from "@nomicfoundation/ignition-core";

import type { ProtocolDefaults } from "../defaults.js";
import { PRODUCTION } from "../defaults.js";
import { buildAssignmentModule } from "./Assignment.js";
import { buildAuditsModule } from "./Audits.js";
import { buildDisputesModule } from "./Disputes.js";
import type { GovernanceModule } from "./Governance.js";
import { DEFAULT_ADMIN_ROLE, buildGovernanceModule } from "./Governance.js";
import { buildJobsModule } from "./Jobs.js";
import { buildRedundancyModule } from "./Redundancy.js";
import Registry from "./Registry.js";
import { buildStakingModule } from "./Staking.js";
import { buildSubscriptionsModule } from "./Subscriptions.js";
import { buildTokenModule } from "./Token.js";

interface Escrow {
  readonly staking: NamedArtifactContractDeploymentFuture<"Staking">;
  readonly jobManager: NamedArtifactContractDeploymentFuture<"JobManager">;
  /** The worker roster, when claims are assigned. */
  readonly workerRoster?: NamedArtifactContractDeploymentFuture<"WorkerRoster">;
  /** The audit manager, when results are audited. */
  readonly auditManager?: NamedArtifactContractDeploymentFuture<"AuditManager">;
}

/**
 * Makes the job escrow a Staking operator (it locks and slashes the stake behind each job), and the
 * audit manager when there is one (it locks and slashes auditors' stakes). Returns the calls.
 */
export function escrowIsStakingOperator(m: IgnitionModuleBuilder, c: Escrow) {
  const escrow = m.call(c.staking, "setOperator", [c.jobManager, true], { id: "JobManagerIsOperator" });
  if (c.auditManager === undefined) return [escrow];
  return [escrow, m.call(c.staking, "setOperator", [c.auditManager, true], { id: "AuditManagerIsOperator" })];
}

/**
 * Hands Staking and the escrow to the timelock of `governance`, then the deployer renounces its
 * admin role on the timelock. `after` holds what the deployer must still do as owner of each.
 */
export function handOverToTimelock(
  m: IgnitionModuleBuilder,
  c: Escrow,
  governance: GovernanceModule,
  after: { readonly staking: (Future | IgnitionModule)[]; readonly jobManager: (Future | IgnitionModule)[] },
) {
  const { timelock } = m.useModule(governance);
  const stakingOwner = m.call(c.staking, "transferOwnership", [timelock], { id: "StakingOwnedByTimelock", after: after.staking });
  const jobsOwner = m.call(c.jobManager, "transferOwnership", [timelock], { id: "JobManagerOwnedByTimelock", after: after.jobManager });
  // The roster is bound to the escrow (Jobs) before the deployer lets it go.
  const rosterOwner =
    c.workerRoster !== undefined
      ? [m.call(c.workerRoster, "transferOwnership", [timelock], { id: "WorkerRosterOwnedByTimelock", after: after.jobManager })]
      : [];
  // The audit manager is bound to the escrow (Jobs) before the deployer lets it go.
  const auditsOwner =
    c.auditManager !== undefined
      ? [m.call(c.auditManager, "transferOwnership", [timelock], { id: "AuditManagerOwnedByTimelock", after: after.jobManager })]
      : [];
  m.call(timelock, "renounceRole", [DEFAULT_ADMIN_ROLE, m.getAccount(0)], {
    id: "DeployerRenouncesTimelockAdmin",
    after: [stakingOwner, jobsOwner, ...rosterOwner, ...auditsOwner, governance],
  });
}

/**
 * The whole protocol, wired: the job escrow is Staking's one operator and the operator set is
 * sealed, the subscription manager and the redundancy contract (no owner) request their jobs from the escrow, protocol fees go to the timelock, the timelock owns Staking and JobManager, and the
 * deployer gives up its admin role on the timelock. With `d.assignment`, a worker roster draws who
 * may claim each job (bound to the escrow, owned by the timelock); without it claims are first-come.
 * With `d.audits` too, an audit manager (a Staking operator, bound to the escrow, owned by the
 * timelock) audits results at random, paid from the audit share of every fee. After this module no single key controls
 * anything: changes go through a VTN vote and the timelock delay, and none of them can move stake
 * (no operator can be added) or reach a job already requested (parameters are versioned per job).
 */
export function buildProtocolModule(d: ProtocolDefaults) {
  const token = buildTokenModule(d.token);
  const staking = buildStakingModule(d.staking, token);
  const governance = buildGovernanceModule(d.governance, token, staking);
  const assignment = d.assignment !== undefined ? buildAssignmentModule(d.assignment, staking) : undefined;
  // Audits draw their auditors from the roster: no roster, no audits.
  const audits = d.audits !== undefined && assignment !== undefined ? buildAuditsModule(d.audits, token, staking) : undefined;
  const jobs = buildJobsModule(d.jobs, {
    token,
    registry: Registry,
    staking,
    treasury: governance,
    ...(assignment ? { assignment } : {}),
    ...(audits ? { audits } : {}),
  });
  const disputes = buildDisputesModule(d.disputes, { token, registry: Registry, staking, jobs, owner: governance });
  const subscriptions = buildSubscriptionsModule(jobs);
  const redundancy = buildRedundancyModule(jobs);

  return buildModule("Protocol", (m) => {
    const t = m.useModule(token);
    const r = m.useModule(Registry);
    const s = m.useModule(staking);
    const g = m.useModule(governance);
    const j = m.useModule(jobs);
    const x = m.useModule(disputes);
    const u = m.useModule(subscriptions);
    const rd = m.useModule(redundancy);
    const a = assignment !== undefined ? m.useModule(assignment) : {};
    const au = audits !== undefined ? m.useModule(audits) : {};

    const escrow = { ...s, ...j, ...a, ...au };
    const operators = escrowIsStakingOperator(m, escrow);
    const sealed = m.call(s.staking, "sealOperators", [], { id: "StakingOperatorsSealed", after: operators });
    // The factory becomes the escrow's dispute manager (in Disputes) while the deployer owns it.
    handOverToTimelock(m, escrow, governance, { staking: [sealed], jobManager: [disputes] });

    return { ...t, ...r, ...s, ...g, ...j, ...x, ...u, ...rd, ...a, ...au };
  });
}

export type ProtocolModule = ReturnType<typeof buildProtocolModule>;

export default buildProtocolModule(PRODUCTION);
