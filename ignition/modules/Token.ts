import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";

import type { TokenDefaults } from "../defaults.js";
import { PRODUCTION } from "../defaults.js";

/** The VTN token. The whole fixed supply is minted to the deployer (account 0). */
export function buildTokenModule(d: TokenDefaults) {
  return buildModule("Token", (m) => {
    const token = m.contract("VeritensorToken", [m.getAccount(0), m.getParameter("supply", d.supply)]);
    return { token };
  });
}

export type TokenModule = ReturnType<typeof buildTokenModule>;

export default buildTokenModule(PRODUCTION.token);
