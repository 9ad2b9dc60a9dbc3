/**
 * What the tasks use: the protocol clients, and the glue that turns a task's options into calls
 * and its results into lines (option parsing, reports, running a job's model by hand).
 */
export * from "../clients/index.js";
export * from "./cli.js";
export * from "./inference.js";
export { exactCheat, formatCheat, parseCheat } from "../runtime/cheat.js";
export type { CheatChoice, CheatSpec } from "../runtime/cheat.js";
export { dequantizeWad, formatWad, WAD } from "../model/scales.js";
export * from "./governance.js";
export * from "./economics.js";
export * from "./subscriptions.js";
