import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";

import type { AssignmentDefaults } from "../defaults.js";
import type { StakingModule } from "./Staking.js";

/**
 * The worker roster (contracts/assignment/WorkerRoster.sol): the stake-weighted draw of each job's
 * claim slots. Owned by the deployer until Protocol hands it to the timelock; the job escrow that
 * uses it binds itself in the Jobs module (`bindEscrow`, once).
 */
export function buildAssignmentModule(d: AssignmentDefaults, staking: StakingModule) {
  return buildModule("Assignment", (m) => {
    const { staking: s } = m.useModule(staking);
    const workerRoster = m.contract("WorkerRoster", [
      s,
      m.getParameter("epochBlocks", d.epochBlocks),
      m.getAccount(0),
      {
        weightCap: m.getParameter("weightCap", d.weightCap),
        slotBlocks: m.getParameter("slotBlocks", d.slotBlocks),
        drawnSlots: m.getParameter("drawnSlots", d.drawnSlots),
      },
    ]);
    return { workerRoster };
  });
}

export type AssignmentModule = ReturnType<typeof buildAssignmentModule>;
