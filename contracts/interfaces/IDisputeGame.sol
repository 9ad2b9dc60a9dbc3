// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {GameConfig, GameStatus, Level, Reason, Side} from "../disputes/lib/Types.sol";
import {Position} from "../disputes/lib/Position.sol";

/**
 * @title IDisputeGame
 * @notice One dispute on one job result, played by its defender (the worker) and one challenger
 * down three bisections (trace, tensor, reduction) to one step the chain recomputes
 * (docs/DISPUTES.md). Every move is due `moveTimeout` after the previous one.
 */
interface IDisputeGame {
    /// @notice Emitted by {postRoot}: the defender bound itself to trace root `root`, whose leaf L is
    /// the output it submitted.
    /// @param root The defender's trace root.
    event RootPosted(bytes32 root);

    /// @notice Emitted by {postRoot}, {traceMove} and {tensorMove}: a side opened its two children of the node at
    /// the cursor.
    /// @param level The level played: Trace or Tensor.
    /// @param side The side that moved.
    /// @param position The cursor: the node opened, in the side's trace tree or chunk tree.
    /// @param left Its left child.
    /// @param right Its right child.
    event ChildrenRevealed(Level indexed level, Side indexed side, Position position, bytes32 left, bytes32 right);

    /// @notice Emitted by the challenger's {traceMove} that lands on a layer's trace leaf: the
    /// dispute goes on inside that layer's output.
    /// @param layer Trace index k of the layer (1..L).
    /// @param kind Its layer kind.
    /// @param length Length K of the reduction behind each output element (0: computed directly).
    /// @param numel Number of elements of its output.
    event LayerDisputed(uint256 layer, uint8 kind, uint256 length, uint256 numel);

    /// @notice Emitted by {defendChunk} and {challengeChunk}: a side revealed its chunk of the
    /// disputed layer's output at the cursor.
    /// @param side The side that revealed it.
    /// @param chunkIndex The chunk's index in the tensor.
    /// @param chunk Its 1024 bytes.
    event ChunkRevealed(Side indexed side, uint256 chunkIndex, bytes chunk);

    /// @notice Emitted by {challengeChunk}: the two sides' outputs of the disputed layer first differ
    /// at `element`.
    /// @param element Index of the first differing element in the layer's output.
    /// @param defenderValue The defender's value of it.
    /// @param challengerValue The challenger's value of it.
    event ElementDisputed(uint256 element, int256 defenderValue, int256 challengerValue);

    /// @notice Emitted by {postSum}: a side posted its partial sum s_index (index = length: the
    /// accumulator).
    /// @param side The side that posted it.
    /// @param index The partial-sum index ({sumIndex}).
    /// @param value The side's s_index.
    event SumPosted(Side indexed side, uint256 index, int256 value);

    /// @notice Emitted by {step} when the one-step verifier computed `truth` for the claims it was
    /// given; {GameResolved} follows.
    /// @param caller The account that ran the step.
    /// @param truth The true value of the disputed claim: the element itself (a direct kind, or the
    /// final map from the accumulator), or the partial sum s_hi (one reduction term).
    event Stepped(address indexed caller, int256 truth);

    /// @notice Emitted when the game ends: on a deciding move, {step} or {timeout}.
    /// @param status Who won.
    /// @param reason Why.
    event GameResolved(GameStatus status, Reason reason);

    /// @notice Factory only, once: starts the game, the defender to move. `outputLeaf` and
    /// `outputProof` open trace leaf L of the challenger's root: the challenger's output, which must
    /// differ from the job's (`config.outputCommitment`).
    function initialize(GameConfig calldata config, bytes32 outputLeaf, bytes32[] calldata outputProof) external;

    /// @notice Root level, the defender's first move: posts its trace root `root`, with `outputProof`
    /// proving that trace leaf L of it is the output commitment it submitted, and opens the root's two
    /// children (as {traceMove} would). From then on the root is fixed; the trace descent goes on.
    function postRoot(bytes32 root, bytes32[] calldata outputProof, bytes32 left, bytes32 right) external;

    /// @notice Trace level: the side to move opens its two children of the cursor. The
    /// challenger's move that lands on a layer (leaf 1..L) must carry that layer's graph leaf
    /// (`descriptor`, `graphProof`); any other move passes them empty.
    function traceMove(bytes32 left, bytes32 right, bytes calldata descriptor, bytes32[] calldata graphProof) external;

    /// @notice Tensor level: the side to move opens its two children of the cursor in its chunk tree.
    function tensorMove(bytes32 left, bytes32 right) external;

    /// @notice Chunk level, defender: reveals its 1024-byte chunk at the cursor.
    function defendChunk(bytes calldata chunk) external;

    /// @notice Chunk level, challenger: reveals its chunk beside the defender's (read from
    /// {ChunkRevealed}); the first differing element is fixed.
    function challengeChunk(bytes calldata defenderChunk, bytes calldata chunk) external;

    /// @notice Accumulator and partial-sum levels: the side to move posts its s_index
    /// (see {sumIndex}).
    function postSum(int64 value) external;

    /// @notice Step level, anyone: runs the one-step verifier on the narrowed claim and resolves.
    /// @param against The side whose trace root the input openings are proven against (both agree on
    /// every leaf a step reads; each side can only build proofs in its own tree).
    /// @param proofs `abi.encode(StepProofs)` for the step; when the disputed term is the first
    /// (s_1 from s_0), `abi.encode(bytes initialProofs, bytes reduceProofs)`.
    function step(Side against, bytes calldata proofs) external;

    /// @notice Anyone, once the side to move missed its deadline: that side loses.
    function timeout() external;

    /// @notice The side that must move next.
    function turn() external view returns (Side);

    /// @notice The last moment the side to move may move.
    function deadline() external view returns (uint256);

    /// @notice How the game ended (InProgress until then).
    function status() external view returns (GameStatus);

    /// @notice Seconds the side to move has for this move: the game's time per move, plus its
    /// extension for every further game opened on the same job, up to the game's ceiling. It only
    /// grows (games are never un-opened), so a deadline never moves earlier.
    function moveTime() external view returns (uint256);

    /// @notice The partial-sum index the next {postSum} is for.
    function sumIndex() external view returns (uint256);
}
