// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @notice Which part of one output element's computation a step checks.
/// @dev DENSE, CONV and MATMUL elements are reductions, the sequence s_0, s_1, …, s_L, y with s_0
/// read from the constants (DENSE/CONV: the bias B[m]; MATMUL: 0, nothing read; MAXPOOL, which may
/// be stepped the same way over its window or checked Direct: the empty-window value -2^24):
///  - `Reduce`: s_{j+1} from the agreed s_j and term j (DENSE/CONV: s_j + x·w; MATMUL: s_j + a·b, both
///    operands layer outputs; MAXPOOL: max(s_j, x); a padded CONV/MAXPOOL position leaves s_j
///    unchanged). At j = 0 the step starts from s_0 itself, so nobody ever claims s_0;
///  - `Final`:  y from the agreed s_L (DENSE/CONV/MATMUL: clip(s_L >> s, lo, hi), s per unit or
///    channel for DENSE/CONV; MAXPOOL: s_L).
/// MAXPOOL, ADD, MUL, RELU, CLIP, RESHAPE, LUT, PRODUCT, GATHER and CONST are `Direct`: y from its
/// inputs and constants (a MAXPOOL reads every in-range element of its window, at most KH·KW
/// openings; a GATHER its index and at most one input element; a CONST one constant element).
enum StepPhase {
    Reduce,
    Final,
    Direct
}

/// @notice What the game has narrowed the dispute to.
/// @param graphRoot The model's graph commitment.
/// @param traceRoot A trace commitment whose leaves 0..layer-1 both parties agree on.
/// @param layer The disputed layer k (graph leaf k, trace leaf k), k >= 1.
/// @param element The disputed element e of layer k's output (row-major).
/// @param phase Which step (see {StepPhase}).
/// @param term The reduction index j (`Reduce` only; ignored otherwise).
struct StepContext {
    bytes32 graphRoot;
    bytes32 traceRoot;
    uint32 layer;
    uint64 element;
    StepPhase phase;
    uint64 term;
}

/// @notice One opened tensor element: a 1024-byte chunk proven against a tensor commitment.
/// @param root The tensor commitment. For a layer input it is trace leaf `inputs[slot]`, proven
/// by `rootProof` against `traceRoot`; for a constant it is ignored (the graph leaf names it).
/// @param rootProof Siblings of the trace leaf, leaf level first (empty for a constant).
/// @param chunk Chunk ⌊index / 256⌋ of the tensor's canonical bytes (1024 bytes).
/// @param chunkProof Siblings of that chunk's leaf in the tensor tree, leaf level first.
struct TensorOpening {
    bytes32 root;
    bytes32[] rootProof;
    bytes chunk;
    bytes32[] chunkProof;
}

/// @notice Everything a step proves, ABI-encoded as the `proofs` argument of {IOneStepVerifier-step}.
/// @param descriptor `abi.encode(uint8 kind, uint32[] inputs, uint32[] outShape, int64[] params,
/// bytes32[] constants)`, the preimage of graph leaf `layer`.
/// @param graphProof Siblings of graph leaf `layer`, leaf level first.
/// @param openings One opening per element the step reads, in the order of the kind's library
/// (contracts/disputes/onestep/*Step.sol); offchain/disputes/proofs.ts builds them.
struct StepProofs {
    bytes descriptor;
    bytes32[] graphProof;
    TensorOpening[] openings;
}

/**
 * @title IOneStepVerifier
 * @notice The whole contract between the dispute game and the on-chain recomputation of one
 * element of one layer (docs/SEMANTICS.md). The game narrows a disagreement to one element e of
 * one layer k (and, for a long reduction, to one term j), then asks the verifier what the honest
 * value is and compares it with the claim. The verifier never sees bonds, clocks or positions.
 * @dev All values are exact integers in int256. Inputs are proven against `traceRoot` (only leaves
 * before k are read), constants against the tensor commitments in graph leaf k, and graph leaf k
 * against `graphRoot`. Gas is one term's: a few 1024-byte chunks and log-depth proofs, whatever
 * the model's size.
 */
interface IOneStepVerifier {
    /// @notice The honest value after one step of element `ctx.element` of layer `ctx.layer`: the
    /// game's one call, whatever the layer kind and the phase.
    /// @dev Reverts with a named error (contracts/disputes/lib/OneStepErrors.sol) when a proof fails,
    /// the phase does not fit the kind or an index is out of range. A step that would start from a
    /// value outside canonical/1's exact range |v| < 2^24 (an agreed `pre`, or s_0 read from the
    /// constants) does not revert: it returns `exact = false`, because no canonical computation
    /// reaches such a value and the game must still be able to end (docs/DISPUTES.md, guarantee 6).
    /// @param ctx What the dispute has been narrowed to.
    /// @param pre The agreed value before the step: s_j for `Reduce` with j > 0, s_L for `Final`;
    /// ignored by `Reduce` at j = 0 and by `Direct`.
    /// @param proofs `abi.encode(StepProofs)`: for `Reduce` at j = 0 the openings that read s_0 come
    /// first, then those of term 0.
    /// @return exact False when the step would start from a value outside the exact range, or when
    /// the model's own committed layer makes it impossible (malformed params, an index table pointing
    /// outside its inputs, a table read outside its domain); `post` is then 0 and means nothing.
    /// @return post s_{j+1} (`Reduce`) or the output element y (`Final`, `Direct`).
    function step(StepContext calldata ctx, int256 pre, bytes calldata proofs)
        external
        view
        returns (bool exact, int256 post);

    /// @notice The shape of the computation of one element of layer `layer`, read from its proven
    /// graph leaf: the game bisects over s_0..s_L with L = `length`.
    /// @param graphRoot The model's graph commitment.
    /// @param layer The layer k (>= 1).
    /// @param descriptor The preimage of graph leaf k.
    /// @param graphProof Siblings of graph leaf k, leaf level first.
    /// @return kind The layer kind (offchain/model/layers.ts), or 0 when the proven leaf is malformed
    /// (a layout, kind or param canonical/1 has not): the game then rules against the defender.
    /// @return length L, the number of Reduce terms, for DENSE and MATMUL (K), CONV ((C/group)·KH·KW)
    /// and a MAXPOOL whose window holds more than 16 elements (KH·KW, a running maximum); 0 for the
    /// Direct kinds, a MAXPOOL of at most 16 included.
    /// @return numel The number of elements of the layer's output.
    function reductionLength(bytes32 graphRoot, uint256 layer, bytes calldata descriptor, bytes32[] calldata graphProof)
        external
        view
        returns (uint8 kind, uint256 length, uint256 numel);
}
