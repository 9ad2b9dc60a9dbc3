// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IDisputeGame} from "../interfaces/IDisputeGame.sol";
import {IDisputeGameFactory} from "../interfaces/IDisputeGameFactory.sol";
import {IOneStepVerifier, StepContext, StepPhase} from "../interfaces/IOneStepVerifier.sol";
import {CHUNK_BYTES, CHUNK_ELEMS} from "../libraries/TensorCommitment.sol";
import {Clock, LibClock} from "./lib/Clock.sol";
import {LibPosition, Position} from "./lib/Position.sol";
import {MerkleProof} from "./lib/MerkleProof.sol";
import {
    Disputed,
    GameConfig,
    GameStatus,
    Level,
    Reason,
    Reduction,
    Side
} from "./lib/Types.sol";
import {
    DisputeGameAlreadyInitialized,
    DisputeGameAlreadyResolved,
    DisputeGameChildrenMismatch,
    DisputeGameChunkLength,
    DisputeGameChunkMismatch,
    DisputeGameChunksEqual,
    DisputeGameClockExpired,
    DisputeGameClockNotExpired,
    DisputeGameLayerDescriptor,
    DisputeGameNotFactory,
    DisputeGameNotYourTurn,
    DisputeGameOutputNotDisputed,
    DisputeGameOutputProofMismatch,
    DisputeGameWrongLevel
} from "./lib/DisputeErrors.sol";

/**
 * @title DisputeGame
 * @notice One dispute on one job result (docs/DISPUTES.md). The challenger opens it with its trace
 * root, whose output differs from the job's; the defender (the worker) answers with its own trace
 * root, proven to end in the output it submitted (the trace is committed only now, in a dispute).
 * Then they alternate, defender first, down three bisections:
 *  1. trace: the two trace trees, to the first layer k whose outputs differ;
 *  2. tensor: the two chunk trees of layer k's output, to the first differing chunk, then both
 *     chunks, to the first differing element e;
 *  3. reduction (DENSE, CONV, MATMUL): both accumulators s_L, then the partial sums s_0..s_L, to
 *     one term.
 * The one-step verifier then computes the honest value of the narrowed claim, and the side whose
 * claim differs loses (the defender when both do). A side that misses a move's deadline loses.
 * @dev Deployed once as an implementation; the factory clones it per dispute (OZ `Clones`) and
 * calls {initialize}. The verifier is an immutable of the implementation, shared by every clone.
 */
contract DisputeGame is IDisputeGame {
    // ---------------------------------------------------------------- storage

    /// @notice The one-step verifier the final step runs.
    IOneStepVerifier public immutable VERIFIER;

    /// @notice The factory that created the game; it settles the result.
    address public factory;

    /// @notice The game's fixed data: job, sides, roots, model, clock duration.
    GameConfig public config;

    /// @notice How the game ended (InProgress until then).
    GameStatus public status;

    /// @notice The level being played.
    Level public level;

    /// @notice The side to move.
    Side public turn;

    /// @notice The move clock: restarted by every move.
    Clock public clock;

    /// @notice The cursor of the trace or tensor descent (a node where the sides' trees differ).
    Position public position;

    /// @notice Depth of the trace trees: ceil(log2(L + 1)).
    uint8 public traceDepth;

    /// @notice Depth of the disputed layer's chunk trees: ceil(log2(chunks)).
    uint8 public tensorDepth;

    /// @notice The defender's node at the cursor (a trace node, then a tensor node, then a chunk leaf).
    bytes32 public defenderNode;

    /// @notice The challenger's node at the cursor; always differs from {defenderNode}.
    bytes32 public challengerNode;

    /// @notice The defender's children of the cursor, posted and awaiting the challenger's.
    bytes32 public defenderLeft;

    /// @notice See {defenderLeft}.
    bytes32 public defenderRight;

    /// @notice The disputed layer and element.
    Disputed public disputed;

    /// @notice The defender's value of the disputed element.
    int64 public defenderValue;

    /// @notice The challenger's value of the disputed element.
    int64 public challengerValue;

    /// @notice The reduction level's state.
    Reduction public reduction;

    // ---------------------------------------------------------------- construction

    /// @param verifier The one-step verifier every clone uses.
    constructor(IOneStepVerifier verifier) {
        VERIFIER = verifier;
        // INVARIANT: the implementation itself can never be played.
        factory = address(this);
    }

    /// @inheritdoc IDisputeGame
    function initialize(GameConfig calldata config_, bytes32 outputLeaf, bytes32[] calldata outputProof) external {
        // INVARIANT: a clone is initialized once, by the factory that cloned it.
        if (factory != address(0)) revert DisputeGameAlreadyInitialized();
        factory = msg.sender;
        config = config_;
        clock = LibClock.start(config_.moveTimeout);
        position = LibPosition.ROOT;
        uint8 depth = _ceilLog2(uint256(config_.numLayers) + 1);
        traceDepth = depth;
        challengerNode = config_.challengerRoot;
        // INVARIANT: the defender's root is posted by its first move, never given at creation.
        config.defenderRoot = bytes32(0);
        // INVARIANT: the challenger disputes the output: its own trace ends in another tensor.
        _checkOutputProof(config_.challengerRoot, outputLeaf, config_.numLayers, depth, outputProof);
        if (outputLeaf == config_.outputCommitment) revert DisputeGameOutputNotDisputed(outputLeaf);
    }

    // ---------------------------------------------------------------- level 0: root

    /// @inheritdoc IDisputeGame
    function postRoot(bytes32 root, bytes32[] calldata outputProof, bytes32 left, bytes32 right) external {
        _beginMove(Level.Root);
        GameConfig storage c = config;
        // INVARIANT: the defender's trace ends in exactly the output it submitted; from here on the
        // root cannot change, so every intermediate tensor is fixed too.
        _checkOutputProof(root, c.outputCommitment, c.numLayers, traceDepth, outputProof);
        c.defenderRoot = root;
        defenderNode = root;
        emit RootPosted(root);
        // The first trace move, played in the same transaction (the defender moves first there too).
        _checkChildren(root, left, right);
        emit ChildrenRevealed(Level.Trace, Side.Defender, position, left, right);
        _holdDefenderChildren(left, right);
        level = Level.Trace;
    }

    // ---------------------------------------------------------------- level 1: trace

    /// @inheritdoc IDisputeGame
    function traceMove(bytes32 left, bytes32 right, bytes calldata descriptor, bytes32[] calldata graphProof) external {
        Side side = _beginMove(Level.Trace);
        // INVARIANT: the children open the side's own node at the cursor.
        _checkChildren(side == Side.Defender ? defenderNode : challengerNode, left, right);
        emit ChildrenRevealed(Level.Trace, side, position, left, right);

        if (side == Side.Defender) {
            _holdDefenderChildren(left, right);
            if (descriptor.length != 0) revert DisputeGameLayerDescriptor(0, descriptor.length);
            return;
        }
        Position next = _descend(left, right);
        if (next.depth() < traceDepth) {
            if (descriptor.length != 0) revert DisputeGameLayerDescriptor(0, descriptor.length);
            return;
        }

        // The descent is on leaf k: both sides' leaves before k are equal, leaf k differs.
        uint256 k = next.indexAtDepth();
        GameConfig storage c = config;
        if (k == 0) {
            // INVARIANT: leaf 0 must be the job's input commitment.
            _noDescriptor(k, descriptor);
            _resolve(defenderNode == c.inputCommitment ? GameStatus.DefenderWins : GameStatus.ChallengerWins, Reason.InputLeaf);
            return;
        }
        if (k > c.numLayers) {
            // INVARIANT: a leaf beyond the last layer must be the zero padding.
            _noDescriptor(k, descriptor);
            _resolve(defenderNode == bytes32(0) ? GameStatus.DefenderWins : GameStatus.ChallengerWins, Reason.PaddingLeaf);
            return;
        }
        // INVARIANT: the landing move opens layer k of the model's graph (the verifier proves it).
        if (descriptor.length == 0) revert DisputeGameLayerDescriptor(k, 0);
        (uint8 kind, uint256 length, uint256 numel) = VERIFIER.reductionLength(c.graphRoot, k, descriptor, graphProof);
        // INVARIANT: a layer the model commits malformed (kind 0) cannot be computed: the defender,
        // who chose to serve the model, loses, instead of the game stalling on a layer no step can check.
        if (kind == 0) {
            _resolve(GameStatus.ChallengerWins, Reason.MalformedLayer);
            return;
        }
        disputed = Disputed({index: uint32(k), kind: kind, numel: uint64(numel), reduction: uint64(length), element: 0});
        emit LayerDisputed(k, kind, length, numel);

        // The sides' nodes are now their tensor commitments of layer k's output.
        uint8 depth = _ceilLog2((numel + CHUNK_ELEMS - 1) / CHUNK_ELEMS);
        tensorDepth = depth;
        position = LibPosition.ROOT;
        level = depth == 0 ? Level.Chunk : Level.Tensor;
    }

    // ---------------------------------------------------------------- level 2: tensor

    /// @inheritdoc IDisputeGame
    function tensorMove(bytes32 left, bytes32 right) external {
        Side side = _beginMove(Level.Tensor);
        // INVARIANT: the children open the side's own node of its chunk tree.
        _checkChildren(side == Side.Defender ? defenderNode : challengerNode, left, right);
        emit ChildrenRevealed(Level.Tensor, side, position, left, right);

        if (side == Side.Defender) {
            _holdDefenderChildren(left, right);
            return;
        }
        Position next = _descend(left, right);
        if (next.depth() < tensorDepth) return;
        // The descent is on a chunk leaf: both sides' chunks before it are equal.
        uint256 chunkIndex = next.indexAtDepth();
        if (chunkIndex * CHUNK_ELEMS >= disputed.numel) {
            // INVARIANT: a chunk leaf beyond the tensor's chunks is the zero padding of the tree
            // (it has no preimage, so it can never be revealed: it is decided here).
            _resolve(defenderNode == bytes32(0) ? GameStatus.DefenderWins : GameStatus.ChallengerWins, Reason.PaddingChunk);
            return;
        }
        level = Level.Chunk;
    }

    /// @inheritdoc IDisputeGame
    function defendChunk(bytes calldata chunk) external {
        Side side = _beginMove(Level.Chunk);
        // INVARIANT: only the defender reveals through this entry (it moves first at every level).
        if (side != Side.Defender) revert DisputeGameNotYourTurn(msg.sender, Side.Challenger);
        _checkChunk(defenderNode, chunk);
        emit ChunkRevealed(Side.Defender, position.indexAtDepth(), chunk);
    }

    /// @inheritdoc IDisputeGame
    function challengeChunk(bytes calldata defenderChunk, bytes calldata chunk) external {
        Side side = _beginMove(Level.Chunk);
        if (side != Side.Challenger) revert DisputeGameNotYourTurn(msg.sender, Side.Challenger);
        // INVARIANT: both chunks open their side's chunk leaf.
        _checkChunk(defenderNode, defenderChunk);
        _checkChunk(challengerNode, chunk);
        uint256 chunkIndex = position.indexAtDepth();
        emit ChunkRevealed(Side.Challenger, chunkIndex, chunk);

        // INVARIANT: the chunks differ (their leaves do), so a first differing element exists.
        uint256 offset = _firstDifference(defenderChunk, chunk);
        uint256 e = chunkIndex * CHUNK_ELEMS + offset;
        int64 vw = _int32At(defenderChunk, offset);
        int64 vc = _int32At(chunk, offset);
        emit ElementDisputed(e, vw, vc);

        Disputed storage d = disputed;
        if (e >= d.numel) {
            // INVARIANT: chunk padding beyond the tensor must be zero.
            _resolve(vw == 0 ? GameStatus.DefenderWins : GameStatus.ChallengerWins, Reason.PaddingElement);
            return;
        }
        d.element = uint64(e);
        defenderValue = vw;
        challengerValue = vc;
        if (d.reduction == 0) {
            _enterStep();
        } else {
            level = Level.Accumulator;
        }
    }

    // ---------------------------------------------------------------- level 3: reduction

    /// @inheritdoc IDisputeGame
    function postSum(int64 value) external {
        Level at = level;
        if (at != Level.Accumulator && at != Level.PartialSum) revert DisputeGameWrongLevel(Level.PartialSum, at);
        Side side = _beginMove(at);
        uint256 index = sumIndex();
        emit SumPosted(side, index, value);

        Reduction storage r = reduction;
        if (side == Side.Defender) {
            r.pending = value;
            return;
        }
        int64 defenderSum = r.pending;
        if (at == Level.Accumulator) {
            uint64 length = disputed.reduction;
            if (defenderSum == value) {
                // INVARIANT: equal accumulators put the dispute in the final map y = f(s_L).
                r.lo = length;
                r.hi = length;
                r.agreed = value;
                _enterStep();
                return;
            }
            r.lo = 0;
            r.hi = length;
            r.defenderHi = defenderSum;
            r.challengerHi = value;
        } else if (defenderSum == value) {
            // INVARIANT: s_lo stays agreed, s_hi stays disputed.
            r.lo = uint64(index);
            r.agreed = value;
        } else {
            r.hi = uint64(index);
            r.defenderHi = defenderSum;
            r.challengerHi = value;
        }
        if (r.hi - r.lo == 1) _enterStep();
        else level = Level.PartialSum;
    }

    // ---------------------------------------------------------------- final step

    /// @inheritdoc IDisputeGame
    function step(Side against, bytes calldata proofs) external {
        _requireInProgress();
        if (level != Level.Step) revert DisputeGameWrongLevel(Level.Step, level);
        // INVARIANT: the step is a move like any other: once its deadline has passed only {timeout}
        // is left (anyone may run the step, but not after the challenger's time to have it run).
        uint256 due = _deadline();
        if (block.timestamp > due) revert DisputeGameClockExpired(due);
        Disputed memory d = disputed;
        Reduction memory r = reduction;
        // Leaves before k are equal in both trace trees (the descent went right only past equal left
        // subtrees), so inputs proven against either root are the agreed ones; each side can only
        // build proofs against its own tree.
        StepContext memory ctx = StepContext({
            graphRoot: config.graphRoot,
            traceRoot: against == Side.Defender ? config.defenderRoot : config.challengerRoot,
            layer: d.index,
            element: d.element,
            phase: StepPhase.Direct,
            term: 0
        });
        // A direct kind: y from the layer's inputs. Equal accumulators: y = f(s_L). Otherwise one
        // term: s_hi from the agreed s_lo (the verifier reads s_0 itself from the constants).
        int256 pre;
        int256 defenderClaim = defenderValue;
        if (d.reduction != 0) {
            pre = r.agreed;
            if (r.lo == r.hi) {
                ctx.phase = StepPhase.Final;
            } else {
                ctx.phase = StepPhase.Reduce;
                ctx.term = r.lo;
                defenderClaim = r.defenderHi;
            }
        }
        (bool exact, int256 truth) = VERIFIER.step(ctx, pre, proofs);
        if (!exact) return _resolveInexact();
        emit Stepped(msg.sender, truth);
        // INVARIANT: the defender loses whenever its claim is not the truth, whatever the challenger claimed.
        _resolve(defenderClaim == truth ? GameStatus.DefenderWins : GameStatus.ChallengerWins, Reason.OneStep);
    }

    /// @inheritdoc IDisputeGame
    function timeout() external {
        _requireInProgress();
        // INVARIANT: only a missed deadline ends the game this way.
        uint256 due = _deadline();
        if (block.timestamp <= due) revert DisputeGameClockNotExpired(due);
        _resolve(turn == Side.Defender ? GameStatus.ChallengerWins : GameStatus.DefenderWins, Reason.Timeout);
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc IDisputeGame
    function deadline() external view returns (uint256) {
        return _deadline();
    }

    /// @inheritdoc IDisputeGame
    function moveTime() public view returns (uint256) {
        GameConfig storage c = config;
        uint256 others = IDisputeGameFactory(factory).gamesOpened(c.jobId) - 1;
        uint256 t = uint256(c.moveTimeout) + uint256(c.moveTimeoutPerGame) * others;
        uint256 ceiling = c.maxMoveTimeout;
        return t < ceiling ? t : ceiling;
    }

    /// @inheritdoc IDisputeGame
    function sumIndex() public view returns (uint256) {
        if (level == Level.Accumulator) return disputed.reduction;
        Reduction storage r = reduction;
        return (uint256(r.lo) + uint256(r.hi)) / 2;
    }

    // ---------------------------------------------------------------- internals

    /// @dev The common preamble of a move at `expected`: the game is on, at that level, the caller is
    /// the side to move and within its deadline. Hands the turn over and restarts the clock.
    function _beginMove(Level expected) private returns (Side side) {
        _requireInProgress();
        if (level != expected) revert DisputeGameWrongLevel(expected, level);
        side = turn;
        // INVARIANT: only the side to move plays, each with its own account.
        address mover = side == Side.Defender ? config.defender : config.challenger;
        if (msg.sender != mover) revert DisputeGameNotYourTurn(msg.sender, side);
        Clock c = clock;
        // INVARIANT: a late move is no move; only {timeout} is left.
        uint256 due = c.deadlineAfter(moveTime());
        if (block.timestamp > due) revert DisputeGameClockExpired(due);
        clock = c.restart();
        turn = side == Side.Defender ? Side.Challenger : Side.Defender;
    }

    /// @dev The last moment the side to move may move.
    function _deadline() private view returns (uint256) {
        return clock.deadlineAfter(moveTime());
    }

    function _requireInProgress() private view {
        if (status != GameStatus.InProgress) revert DisputeGameAlreadyResolved();
    }

    function _checkChildren(bytes32 node, bytes32 left, bytes32 right) private pure {
        bytes32 computed = sha256(abi.encodePacked(left, right));
        if (computed != node) revert DisputeGameChildrenMismatch(node, computed);
    }

    function _holdDefenderChildren(bytes32 left, bytes32 right) private {
        defenderLeft = left;
        defenderRight = right;
    }

    /// @dev The challenger has opened its children: the cursor moves to the left child if the left
    /// children differ, else to the right one (which then must differ, as the parents do).
    function _descend(bytes32 left, bytes32 right) private returns (Position next) {
        bool goRight = defenderLeft == left;
        next = position.move(goRight);
        position = next;
        defenderNode = goRight ? defenderRight : defenderLeft;
        challengerNode = goRight ? right : left;
    }

    /// @dev Reverts unless `outputProof` opens trace leaf L (`leaf`, at index `numLayers`) of `root`,
    /// at the trace tree's depth.
    function _checkOutputProof(
        bytes32 root,
        bytes32 leaf,
        uint32 numLayers,
        uint8 depth,
        bytes32[] calldata outputProof
    ) private view {
        if (outputProof.length != depth) revert DisputeGameOutputProofMismatch(root, bytes32(0));
        bytes32 computed = MerkleProof.root(leaf, numLayers, outputProof);
        if (computed != root) revert DisputeGameOutputProofMismatch(root, computed);
    }

    function _noDescriptor(uint256 k, bytes calldata descriptor) private pure {
        if (descriptor.length != 0) revert DisputeGameLayerDescriptor(k, descriptor.length);
    }

    function _checkChunk(bytes32 leaf, bytes calldata chunk) private pure {
        if (chunk.length != CHUNK_BYTES) revert DisputeGameChunkLength(chunk.length);
        bytes32 computed = sha256(chunk);
        if (computed != leaf) revert DisputeGameChunkMismatch(leaf, computed);
    }

    /// @dev Element offset (0..255) of the first int32 where the chunks differ.
    function _firstDifference(bytes calldata a, bytes calldata b) private pure returns (uint256) {
        for (uint256 w = 0; w < CHUNK_BYTES; w += 32) {
            if (bytes32(a[w:w + 32]) == bytes32(b[w:w + 32])) continue;
            for (uint256 i = w; i < w + 32; i += 4) {
                if (bytes4(a[i:i + 4]) != bytes4(b[i:i + 4])) return i / 4;
            }
        }
        revert DisputeGameChunksEqual();
    }

    /// @dev The int32 little-endian value of element `offset` of a chunk.
    function _int32At(bytes calldata chunk, uint256 offset) private pure returns (int64) {
        uint256 i = offset * 4;
        uint32 u = uint32(uint8(chunk[i])) | (uint32(uint8(chunk[i + 1])) << 8) | (uint32(uint8(chunk[i + 2])) << 16)
            | (uint32(uint8(chunk[i + 3])) << 24);
        return int64(int32(u));
    }

    /// @dev The verifier found that the step would start from a value outside the exact range, which
    /// no canonical/1 computation produces: the defender's result is not a canonical
    /// one (an invalid model, or an input outside its range), so it loses. An honest defender never
    /// gets here: its agreed values are its own, all in range. This keeps every registered model,
    /// valid or not, provable wrong: a step never reverts for want of range.
    function _resolveInexact() private {
        _resolve(GameStatus.ChallengerWins, Reason.InexactValue);
    }

    /// @dev The last level: the challenger, who claims the result is wrong, must have the step run.
    function _enterStep() private {
        level = Level.Step;
        turn = Side.Challenger;
    }

    /// @dev Ends the game and has the factory settle it.
    function _resolve(GameStatus s, Reason reason) private {
        status = s;
        level = Level.Resolved;
        emit GameResolved(s, reason);
        IDisputeGameFactory(factory).settle(s);
    }

    function _ceilLog2(uint256 n) private pure returns (uint8 d) {
        while ((uint256(1) << d) < n) ++d;
    }
}
