import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";

import { PRODUCTION } from "../../defaults.js";
import { buildDisputesModule } from "../Disputes.js";
import Governance from "../Governance.js";
import { buildJobsModule } from "../Jobs.js";
import { escrowIsStakingOperator, handOverToTimelock } from "../Protocol.js";
import { buildRedundancyModule } from "../Redundancy.js";
import Registry from "../Registry.js";
import Staking from "../Staking.js";
import { buildSubscriptionsModule } from "../Subscriptions.js";
import Token from "../Token.js";

/*
 * The protocol as the TypeScript tests deploy it (test/contracts/fixtures.ts,
 * test/disputes/fixtures.ts), from the same builders as Protocol. The tests act in the roles
 * production gives the timelock or the dispute factory, so those are plain accounts given as
 * module parameters: the treasury (`Jobs.treasury`), the dispute manager (`Jobs.disputeManager`,
 * where there is no dispute layer) and the factory's owner (`Disputes.owner`). The deployer keeps Staking and the escrow (tests call
 * the governance setters directly) and Staking's operators stay open. Every value comes from the
 * fixtures' parameters; the production defaults only fill what a fixture leaves out.
 */

/** The escrow module; `disputeManagerParameter`: appoint the signer `Jobs.disputeManager` names. */
function testJobs(disputeManagerParameter: boolean) {
  return buildJobsModule(PRODUCTION.jobs, { token: Token, registry: Registry, staking: Staking, treasury: "parameter", disputeManagerParameter });
}

/**
 * Token, registry, staking and the escrow as Staking's operator, all owned by the deployer, and the
 * subscription manager and the redundancy contract on that escrow.
 */
function testProtocol(jobs: ReturnType<typeof testJobs>) {
  const subscriptions = buildSubscriptionsModule(jobs);
  const redundancy = buildRedundancyModule(jobs);
  return buildModule("TestProtocol", (m) => {
    const t = m.useModule(Token);
    const r = m.useModule(Registry);
    const s = m.useModule(Staking);
    const j = m.useModule(jobs);
    const u = m.useModule(subscriptions);
    const rd = m.useModule(redundancy);
    escrowIsStakingOperator(m, { ...s, ...j });
    return { ...t, ...r, ...s, ...j, ...u, ...rd };
  });
}

/** The protocol without dispute layer: the signer `Jobs.disputeManager` names judges disputes. */
const TestProtocol = testProtocol(testJobs(true));

export default TestProtocol;

/**
 * The protocol with its dispute layer, the factory appointed as the escrow's dispute manager (the
 * one appointment the escrow allows: parameter version 2), as Protocol deploys it.
 */
export const TestDisputes = (() => {
  const jobs = testJobs(false);
  const disputes = buildDisputesModule(PRODUCTION.disputes, { token: Token, registry: Registry, staking: Staking, jobs, owner: "parameter" });
  const base = testProtocol(jobs);
  return buildModule("TestDisputes", (m) => {
    const p = m.useModule(base);
    const x = m.useModule(disputes);
    return { ...p, ...x };
  });
})();

/** TestProtocol owned by the timelock of a VTN-voting governor, as Protocol hands it over. */
export const TestGovernance = buildModule("TestGovernance", (m) => {
  const p = m.useModule(TestProtocol);
  const g = m.useModule(Governance);
  handOverToTimelock(m, p, Governance, { staking: [TestProtocol], jobManager: [TestProtocol] });
  return { ...p, ...g };
});
