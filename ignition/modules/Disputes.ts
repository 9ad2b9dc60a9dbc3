import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";

import type { TimelockRole } from "./Governance.js";
import Governance, { roleHolder } from "./Governance.js";
import type { JobsModule } from "./Jobs.js";
import Jobs from "./Jobs.js";
import type { RegistryModule } from "./Registry.js";
import Registry from "./Registry.js";
import type { StakingModule } from "./Staking.js";
import Staking from "./Staking.js";
import type { TokenModule } from "./Token.js";
import Token from "./Token.js";

import type { DisputesDefaults } from "../defaults.js";
import { PRODUCTION } from "../defaults.js";

export interface DisputesDependencies {
  readonly token: TokenModule;
  readonly registry: RegistryModule;
  readonly staking: StakingModule;
  readonly jobs: JobsModule;
  /** The factory's owner: the timelock, or parameter `owner`. */
  readonly owner: TimelockRole;
}

/**
 * The dispute layer: the one-step verifier, the game implementation (cloned per dispute) and the
 * factory, owned by `owner` (the timelock) from the start and made the job escrow's dispute
 * manager. The escrow must still be owned by the deployer here: Protocol hands it to the timelock
 * afterwards.
 * The factory needs no staking operator role (the escrow slashes; the factory only reads stakes).
 */
export function buildDisputesModule(d: DisputesDefaults, deps: DisputesDependencies) {
  return buildModule("Disputes", (m) => {
    const { token } = m.useModule(deps.token);
    const { registry } = m.useModule(deps.registry);
    const { staking } = m.useModule(deps.staking);
    const { jobManager } = m.useModule(deps.jobs);
    const owner = roleHolder(m, deps.owner, "owner");
    const oneStepVerifier = m.contract("OneStepVerifier");
    const disputeGame = m.contract("DisputeGame", [oneStepVerifier]);
    const disputeGameFactory = m.contract("DisputeGameFactory", [
      token,
      jobManager,
      registry,
      staking,
      disputeGame,
      owner,
      m.getParameter("minMoveTimeout", d.minMoveTimeout),
      {
        moveTimeout: m.getParameter("moveTimeout", d.moveTimeout),
        challengeBond: m.getParameter("challengeBond", d.challengeBond),
        challengerRewardBps: m.getParameter("challengerRewardBps", d.challengerRewardBps),
        defenderRewardBps: m.getParameter("defenderRewardBps", d.defenderRewardBps),
        moveTimeoutPerGame: m.getParameter("moveTimeoutPerGame", d.moveTimeoutPerGame),
        maxMoveTimeout: m.getParameter("maxMoveTimeout", d.maxMoveTimeout),
      },
    ]);
    // Parameter version 2 of the escrow: every job is requested under this factory from now on.
    m.call(jobManager, "setDisputeManager", [disputeGameFactory], { id: "FactoryIsDisputeManager" });
    return { oneStepVerifier, disputeGame, disputeGameFactory };
  });
}

export type DisputesModule = ReturnType<typeof buildDisputesModule>;

export default buildDisputesModule(PRODUCTION.disputes, { token: Token, registry: Registry, staking: Staking, jobs: Jobs, owner: Governance });
