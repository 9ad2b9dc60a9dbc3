import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";

import type { ProtocolDefaults } from "../defaults.js";
import { LOCAL, LOCAL_ASSIGNMENT, LOCAL_FUNDING } from "../defaults.js";
import { buildProtocolModule } from "./Protocol.js";

/** The local protocol on `defaults`, with test tokens for accounts 1..5. */
function buildLocalProtocolModule(id: string, defaults: ProtocolDefaults) {
  const protocol = buildProtocolModule(defaults);
  return buildModule(id, (m) => {
    const contracts = m.useModule(protocol);
    const amount = m.getParameter("fundAmount", LOCAL_FUNDING.fundAmount);
    for (let i = 1; i <= LOCAL_FUNDING.fundedAccounts; i++) {
      m.call(contracts.token, "transfer", [m.getAccount(i), amount], { id: `FundAccount${i}` });
    }
    return contracts;
  });
}

/**
 * The protocol for a local chain (`npx hardhat node`, the in-process network): short challenge,
 * result and unbonding windows, and test tokens sent from the deployer (which holds the whole
 * supply) to accounts 1..5 so that each can play a role (developer, worker, requester...). Claims
 * are first-come (no worker roster), and there are no audits (no audit share of fees).
 */
export default buildLocalProtocolModule("LocalProtocol", LOCAL);

/**
 * LocalProtocol with a worker roster (`protocol deploy --assignment`): each job's claim slots are
 * drawn by stake among the workers that joined its model's roster (epochs of 10 blocks, 3 slots of
 * 3 blocks, then open to all), and results are audited at random (3 audit slots of 4 blocks; 2% of
 * each fee to the audit pool). Parameters go under module ids `Assignment` and `Audits`.
 */
export const LocalAssignedProtocol = buildLocalProtocolModule("LocalAssignedProtocol", LOCAL_ASSIGNMENT);
