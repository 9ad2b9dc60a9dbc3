import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";

/** The model registry. It has no admin: each model belongs to whoever registered it. */
const RegistryModule = buildModule("Registry", (m) => {
  const registry = m.contract("ModelRegistry");
  return { registry };
});

export type RegistryModule = typeof RegistryModule;

export default RegistryModule;
