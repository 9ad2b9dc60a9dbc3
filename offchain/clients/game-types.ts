/**
 * The dispute contracts' enums (contracts/disputes/lib/Types.sol, IOneStepVerifier's StepPhase) as
 * numbers and in words: one home for every off-chain reader, from the revert decoder up to the CLI.
 */

/** GameStatus of contracts/disputes/lib/Types.sol. */
export const GameStatus = { InProgress: 0, ChallengerWins: 1, DefenderWins: 2 } as const;
export type GameStatus = (typeof GameStatus)[keyof typeof GameStatus];

/** Side of contracts/disputes/lib/Types.sol. */
export const Side = { Defender: 0, Challenger: 1 } as const;
export type Side = (typeof Side)[keyof typeof Side];

/** Level of contracts/disputes/lib/Types.sol. */
export const Level = { Root: 0, Trace: 1, Tensor: 2, Chunk: 3, Accumulator: 4, PartialSum: 5, Step: 6, Resolved: 7 } as const;
export type Level = (typeof Level)[keyof typeof Level];

/** Reason of contracts/disputes/lib/Types.sol. */
export const Reason = {
  Timeout: 0,
  InputLeaf: 1,
  PaddingLeaf: 2,
  PaddingElement: 3,
  OneStep: 4,
  PaddingChunk: 5,
  InexactValue: 6,
  MalformedLayer: 7,
} as const;

/** Level in words, as logs and error sentences name it. */
export const LEVEL_NAMES: Readonly<Record<Level, string>> = {
  0: "root",
  1: "trace",
  2: "tensor",
  3: "chunk",
  4: "accumulator",
  5: "partial-sum",
  6: "step",
  7: "resolved",
};

/** StepPhase of contracts/interfaces/IOneStepVerifier.sol (`Reduce` at term 0 starts from s_0, which the verifier reads itself). */
export const StepPhase = { Reduce: 0, Final: 1, Direct: 2 } as const;
export type StepPhase = (typeof StepPhase)[keyof typeof StepPhase];

export const STEP_PHASE_NAMES: Readonly<Record<StepPhase, string>> = { 0: "Reduce", 1: "Final", 2: "Direct" };
