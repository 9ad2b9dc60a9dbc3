/**
 * The one error type that protocol clients throw for a problem the user can fix (a wrong
 * network, an unknown model, a fee too low...): the SDK's (packages/sdk/src/errors.ts), so that
 * the tasks' errors carry the same stable `code` as an integrator's. Its message is a complete
 * sentence meant to be shown as is, with long hex cut; tasks turn it into a Hardhat error without
 * a stack trace. `cause` keeps the original error (a revert, an RPC failure) for --show-stack-traces.
 */
export { VeritensorError, ensure } from "../../packages/sdk/src/errors.js";
export type { VeritensorErrorCode } from "../../packages/sdk/src/errors.js";
