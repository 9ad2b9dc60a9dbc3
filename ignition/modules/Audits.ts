import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";

import type { AuditsDefaults } from "../defaults.js";
import type { StakingModule } from "./Staking.js";
import type { TokenModule } from "./Token.js";

/**
 * The audit manager (contracts/audits/AuditManager.sol): the audit pool and each job's audit. Owned
 * by the deployer until Protocol hands it to the timelock; the escrow, deployed with its address,
 * is bound in the Jobs module (`bindEscrow`, once), and Protocol makes it a Staking operator before
 * the operator set is sealed (it locks and slashes auditors' stakes).
 */
export function buildAuditsModule(d: AuditsDefaults, token: TokenModule, staking: StakingModule) {
  return buildModule("Audits", (m) => {
    const { token: t } = m.useModule(token);
    const { staking: s } = m.useModule(staking);
    const auditManager = m.contract("AuditManager", [
      t,
      s,
      m.getAccount(0),
      {
        auditReward: m.getParameter("auditReward", d.auditReward),
        auditRateBps: m.getParameter("auditRateBps", d.auditRateBps),
        auditSafetyBps: m.getParameter("auditSafetyBps", d.auditSafetyBps),
        auditMissPenaltyBps: m.getParameter("auditMissPenaltyBps", d.auditMissPenaltyBps),
        auditSlotBlocks: m.getParameter("auditSlotBlocks", d.auditSlotBlocks),
        auditSlots: m.getParameter("auditSlots", d.auditSlots),
      },
    ]);
    return { auditManager };
  });
}

export type AuditsModule = ReturnType<typeof buildAuditsModule>;
