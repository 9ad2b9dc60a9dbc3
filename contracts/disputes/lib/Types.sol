// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

// Enums, structs and named constants of the dispute game (Optimism's `src/dispute/lib/Types.sol`
// layout). The value types with behaviour, `Clock` and `Position`, have their own files. The tensor
// chunk size (`CHUNK_BYTES`, `CHUNK_ELEMS`) belongs to the tensor format: libraries/TensorCommitment.sol.

/// @dev Largest magnitude (exclusive) of any value or partial sum of a canonical/1 computation
/// (docs/SEMANTICS.md, "Exactness rule"): a valid model on an input in its range never reaches it.
int256 constant EXACT_BOUND = 2 ** 24;

/// @notice How a game ended.
/// @custom:value InProgress Moves are still being played.
/// @custom:value ChallengerWins The defender's result is wrong: the job is rejected, the worker slashed.
/// @custom:value DefenderWins The challenge failed: the challenger's bond is forfeited.
enum GameStatus {
    InProgress,
    ChallengerWins,
    DefenderWins
}

/// @notice The two sides of a game.
enum Side {
    Defender,
    Challenger
}

/// @notice Where the game stands. Each level is a bisection in which the defender moves first.
/// @custom:value Root The defender's first move: it posts its trace root, proven to end in the output
/// it submitted, with the root's two children (the first trace move).
/// @custom:value Trace Descent of the two trace trees to the first disagreeing layer.
/// @custom:value Tensor Descent of the two chunk trees of that layer's output to the first disagreeing chunk.
/// @custom:value Chunk Both sides reveal their 1024-byte chunk; the first differing element is fixed.
/// @custom:value Accumulator DENSE/CONV/MATMUL: both sides post the full sum S_K of that element.
/// @custom:value PartialSum DENSE/CONV/MATMUL: bisection over the partial sums S_0..S_K.
/// @custom:value Step One step left for the one-step verifier; the challenger must have it run.
/// @custom:value Resolved The game is over (see {GameStatus}).
enum Level {
    Root,
    Trace,
    Tensor,
    Chunk,
    Accumulator,
    PartialSum,
    Step,
    Resolved
}

/// @notice Why a game ended; emitted with the resolution.
/// @custom:value Timeout The side to move missed its deadline.
/// @custom:value InputLeaf The first differing trace leaf is the input: it must equal the job's input commitment.
/// @custom:value PaddingLeaf The first differing trace leaf is padding beyond the last layer: it must be zero.
/// @custom:value PaddingElement The first differing element is chunk padding beyond the tensor: it must be zero.
/// @custom:value OneStep The one-step verifier computed the truth.
/// @custom:value PaddingChunk The first differing chunk leaf is beyond the tensor's chunks: it must be zero.
/// @custom:value InexactValue The step starts from a partial sum both sides agreed on (or the model's
/// bias) outside the exact range: no canonical/1 computation has it, so the defender's result is not one.
enum Reason {
    Timeout,
    InputLeaf,
    PaddingLeaf,
    PaddingElement,
    OneStep,
    PaddingChunk,
    InexactValue,
    MalformedLayer
}

/// @notice What a game is created with, fixed for its whole life.
/// @param jobId The disputed job.
/// @param defender The worker that submitted the result.
/// @param challenger The account that opened the dispute.
/// @param graphRoot The graph commitment of the job's model.
/// @param inputCommitment The job's input commitment (trace leaf 0 of both sides).
/// @param outputCommitment The job's output commitment: trace leaf L of the defender's root.
/// @param defenderRoot The defender's trace root R_w: zero at creation, posted by the defender's first
/// move ({IDisputeGame-postRoot}), then fixed.
/// @param challengerRoot The challenger's trace root R_c, fixed at creation; its leaf L differs from
/// `outputCommitment`.
/// @param numLayers L, the number of layers, from the model's graph header.
/// @param moveTimeout Seconds each side has for each move while the game is alone on its job.
/// @param moveTimeoutPerGame Seconds added to each move for every further game opened on the job.
/// @param maxMoveTimeout Ceiling of the time per move so extended.
struct GameConfig {
    uint256 jobId;
    address defender;
    address challenger;
    bytes32 graphRoot;
    bytes32 inputCommitment;
    bytes32 outputCommitment;
    bytes32 defenderRoot;
    bytes32 challengerRoot;
    uint32 numLayers;
    uint64 moveTimeout;
    uint32 moveTimeoutPerGame;
    uint64 maxMoveTimeout;
}

/// @notice The disputed layer, as fixed when the trace descent lands on it.
/// @param index Trace index k of the layer (1..L).
/// @param kind Its layer kind (1..13).
/// @param numel Number of elements of its output.
/// @param reduction Length K of the sum behind each output element (DENSE, CONV, MATMUL), else 0.
/// @param element The first element the two sides' outputs differ in (set at the chunk reveal).
struct Disputed {
    uint32 index;
    uint8 kind;
    uint64 numel;
    uint64 reduction;
    uint64 element;
}

/// @notice The reduction level's state: the agreed partial sum at `lo` and each side's at `hi`.
/// @param lo Index of the last agreed partial sum (S_lo).
/// @param hi Index of the first disputed partial sum (S_hi).
/// @param agreed S_lo, agreed by both sides (unused while `lo` is 0: S_0 = B[m] comes from the constants).
/// @param defenderHi The defender's S_hi.
/// @param challengerHi The challenger's S_hi.
/// @param pending The defender's S_mid (or accumulator), posted and awaiting the challenger's.
struct Reduction {
    uint64 lo;
    uint64 hi;
    int64 agreed;
    int64 defenderHi;
    int64 challengerHi;
    int64 pending;
}
