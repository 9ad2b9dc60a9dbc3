/** Protocol clients: typed contracts at their deployed addresses, and one function per action. */
export * from "./errors.js";
export * from "./format.js";
export * from "./deployment.js";
export * from "./protocol.js";
export * from "./revert.js";
export * from "./tensors.js";
export * from "./wait.js";
export * from "./deploy.js";
export * from "./allowance.js";
export * from "./token.js";
export * from "./models.js";
export * from "./staking.js";
export * from "./jobs.js";
export * from "./balance.js";
export * from "./disputes.js";
