import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";

import type { StakingDefaults } from "../defaults.js";
import { PRODUCTION } from "../defaults.js";
import type { TokenModule } from "./Token.js";
import Token from "./Token.js";

/**
 * Staking, owned by the deployer until Protocol has made the job escrow an operator and handed
 * ownership to the timelock.
 */
export function buildStakingModule(d: StakingDefaults, tokenModule: TokenModule) {
  return buildModule("Staking", (m) => {
    const { token } = m.useModule(tokenModule);
    const staking = m.contract("Staking", [
      token,
      m.getAccount(0),
      m.getParameter("minStake", d.minStake),
      m.getParameter("unbondingDelay", d.unbondingDelay),
    ]);
    return { staking };
  });
}

export type StakingModule = ReturnType<typeof buildStakingModule>;

export default buildStakingModule(PRODUCTION.staking, Token);
