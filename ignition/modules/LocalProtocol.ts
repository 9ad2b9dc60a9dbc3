import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";

import { LOCAL, LOCAL_FUNDING } from "../defaults.js";
import { buildProtocolModule } from "./Protocol.js";

const protocol = buildProtocolModule(LOCAL);

/**
 * The protocol for a local chain (`npx hardhat node`, the in-process network): short challenge,
 * result and unbonding windows, and test tokens sent from the deployer (which holds the whole
 * supply) to accounts 1..5 so that each can play a role (developer, worker, requester...).
 */
export default buildModule("LocalProtocol", (m) => {
  const contracts = m.useModule(protocol);
  const amount = m.getParameter("fundAmount", LOCAL_FUNDING.fundAmount);
  for (let i = 1; i <= LOCAL_FUNDING.fundedAccounts; i++) {
    m.call(contracts.token, "transfer", [m.getAccount(i), amount], { id: `FundAccount${i}` });
  }
  return contracts;
});
