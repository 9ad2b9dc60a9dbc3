import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";
import type { IgnitionModuleBuilder } from "@nomicfoundation/ignition-core";
import { ZeroAddress, id } from "ethers";

import type { GovernanceDefaults } from "../defaults.js";
import { PRODUCTION } from "../defaults.js";
import type { StakingModule } from "./Staking.js";
import Staking from "./Staking.js";
import type { TokenModule } from "./Token.js";
import Token from "./Token.js";

export const PROPOSER_ROLE = id("PROPOSER_ROLE");
export const CANCELLER_ROLE = id("CANCELLER_ROLE");
export const DEFAULT_ADMIN_ROLE = `0x${"00".repeat(32)}`;

/**
 * The timelock (future owner of the protocol) and the VTN governor. The governor is the only
 * proposer and canceller; anyone may execute a proposal once its delay is over. The governor counts
 * votes from the token and from Staking (staked and unbonding VTN keep their votes). The deployer is
 * still the timelock's admin here: Protocol renounces that role once everything is wired.
 */
export function buildGovernanceModule(d: GovernanceDefaults, tokenModule: TokenModule, stakingModule: StakingModule) {
  return buildModule("Governance", (m) => {
    const { token } = m.useModule(tokenModule);
    const { staking } = m.useModule(stakingModule);
    const deployer = m.getAccount(0);
    const timelock = m.contract("ProtocolTimelock", [
      m.getParameter("timelockDelay", d.timelockDelay),
      [],
      [ZeroAddress],
      deployer,
    ]);
    const governor = m.contract("VeritensorGovernor", [
      token,
      staking,
      timelock,
      m.getParameter("votingDelay", d.votingDelay),
      m.getParameter("votingPeriod", d.votingPeriod),
      m.getParameter("proposalThreshold", d.proposalThreshold),
      m.getParameter("quorumPercent", d.quorumPercent),
    ]);
    m.call(timelock, "grantRole", [PROPOSER_ROLE, governor], { id: "GrantProposer" });
    m.call(timelock, "grantRole", [CANCELLER_ROLE, governor], { id: "GrantCanceller" });
    return { timelock, governor };
  });
}

export type GovernanceModule = ReturnType<typeof buildGovernanceModule>;

/**
 * Who holds a role that the protocol gives the timelock (the treasury, the dispute factory's
 * ownership): the timelock of a governance module, or "parameter": the address given as a module
 * parameter, for the tests (ignition/modules/testing/), which act in that role from a plain signer.
 */
export type TimelockRole = GovernanceModule | "parameter";

/** The holder of `role` inside module `m`; `parameter` names the module parameter. */
export function roleHolder(m: IgnitionModuleBuilder, role: TimelockRole, parameter: string) {
  return role === "parameter" ? m.getParameter<string>(parameter) : m.useModule(role).timelock;
}

export default buildGovernanceModule(PRODUCTION.governance, Token, Staking);
