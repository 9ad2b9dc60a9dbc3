import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";

const VTN = 10n ** 18n;

/**
 * Chains where a faucet may be deployed: the local chain and the public test networks the project
 * configures or names (hardhat.config.ts). Anywhere else VTN has value and `protocol deploy` refuses
 * to give it away.
 */
export const TEST_CHAINS: ReadonlyMap<bigint, string> = new Map([
  [31_337n, "local (Hardhat, anvil)"],
  [11_155_111n, "Sepolia"],
  [84_532n, "Base Sepolia"],
  [11_155_420n, "OP Sepolia"],
]);

export function isTestChain(chainId: bigint): boolean {
  return TEST_CHAINS.has(chainId);
}

/** Default faucet terms: 1,000 VTN a day per account (ten times the testnet minimum stake), 10 million in all. */
export const FAUCET_DEFAULTS = {
  dripAmount: 1_000n * VTN,
  /** Seconds. */
  period: 24 * 3600,
  cap: 10_000_000n * VTN,
  /** What the deployer sends the faucet at deployment (anyone may send more later). */
  funding: 10_000_000n * VTN,
} as const;

/**
 * The test-VTN faucet (contracts/token/TestnetFaucet.sol) on the token at parameter `token`, funded
 * by a transfer from the deployer (account 0, which holds the supply after a deployment). Only for
 * test networks: `protocol deploy` deploys it there (it passes `token`) and refuses it elsewhere.
 * Parameters under module id `Faucet`: token, dripAmount, period, cap, funding.
 */
export default buildModule("Faucet", (m) => {
  const token = m.contractAt("VeritensorToken", m.getParameter<string>("token"), { id: "Token" });
  const faucet = m.contract("TestnetFaucet", [
    token,
    m.getParameter("dripAmount", FAUCET_DEFAULTS.dripAmount),
    m.getParameter("period", FAUCET_DEFAULTS.period),
    m.getParameter("cap", FAUCET_DEFAULTS.cap),
  ]);
  m.call(token, "transfer", [faucet, m.getParameter("funding", FAUCET_DEFAULTS.funding)], { id: "FundFaucet" });
  return { faucet };
});
