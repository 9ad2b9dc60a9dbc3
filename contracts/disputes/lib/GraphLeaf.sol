// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {MerkleProof} from "./MerkleProof.sol";
import {
    GraphLeafBadLayout,
    GraphLeafBadParam,
    GraphLeafInputNotEarlier,
    GraphLeafNotALayer,
    GraphLeafRootMismatch,
    GraphLeafUnknownKind,
    GraphLeafUnsupportedVersion
} from "./OneStepErrors.sol";

/// @notice A layer descriptor of the graph commitment (graph leaf k, k >= 1).
/// @dev `params` and `constants` follow offchain/model/layers.ts per kind.
struct Layer {
    /// The graph leaf / trace index k.
    uint256 index;
    uint8 kind;
    /// Trace indices read (0 = graph input, i = output of layer i); all below `index`.
    uint32[] inputs;
    /// Output shape [1, C, …], batch included.
    uint32[] outShape;
    int64[] params;
    /// Tensor commitments of the constants, in layout order.
    bytes32[] constants;
}

/// @notice The graph header (graph leaf 0).
struct Header {
    uint32 version;
    uint32[] inputShape;
    int64 inputLo;
    int64 inputHi;
    uint32 numLayers;
}

/**
 * @title GraphLeaf
 * @notice Verifies graph leaves against the graph commitment and decodes them:
 * `header = sha256(abi.encode(uint32 version=1, uint32[] inputShape, int64 inputLo, int64 inputHi, uint32 numLayers))`,
 * `layer_k = sha256(abi.encode(uint8 kind, uint32[] inputs, uint32[] outShape, int64[] params, bytes32[] constants))`.
 */
library GraphLeaf {
    uint8 internal constant DENSE = 1;
    uint8 internal constant CONV = 2;
    uint8 internal constant ADD = 3;
    uint8 internal constant MUL = 4;
    uint8 internal constant RELU = 5;
    uint8 internal constant CLIP = 6;
    uint8 internal constant MAXPOOL = 7;
    uint8 internal constant RESHAPE = 8;
    uint8 internal constant LUT = 9;
    uint8 internal constant MATMUL = 10;
    uint8 internal constant PRODUCT = 11;
    uint8 internal constant GATHER = 12;
    uint8 internal constant CONST = 13;

    /// @notice Layer `index` of the graph committed as `graphRoot`, proven and checked for layout.
    /// @dev Reverts {GraphLeafNotALayer}, {GraphLeafRootMismatch}, {GraphLeafUnknownKind},
    /// {GraphLeafBadLayout} or {GraphLeafInputNotEarlier}.
    function layer(bytes32 graphRoot, uint256 index, bytes memory descriptor, bytes32[] memory proof)
        internal
        view
        returns (Layer memory l)
    {
        if (index == 0) revert GraphLeafNotALayer(index);
        bytes32 computed = MerkleProof.root(sha256(descriptor), index, proof);
        // INVARIANT: the descriptor is exactly the committed leaf k (a padding leaf, bytes32(0),
        // has no preimage, so k is also a real layer).
        if (computed != graphRoot) revert GraphLeafRootMismatch(graphRoot, index, computed);
        l.index = index;
        (l.kind, l.inputs, l.outShape, l.params, l.constants) =
            abi.decode(descriptor, (uint8, uint32[], uint32[], int64[], bytes32[]));
        _checkLayout(l);
    }

    /// @notice The header (leaf 0) of the graph committed as `graphRoot`.
    /// @dev Reverts {GraphLeafRootMismatch} or {GraphLeafUnsupportedVersion}.
    function header(bytes32 graphRoot, bytes memory descriptor, bytes32[] memory proof)
        internal
        view
        returns (Header memory h)
    {
        bytes32 computed = MerkleProof.root(sha256(descriptor), 0, proof);
        if (computed != graphRoot) revert GraphLeafRootMismatch(graphRoot, 0, computed);
        (h.version, h.inputShape, h.inputLo, h.inputHi, h.numLayers) =
            abi.decode(descriptor, (uint32, uint32[], int64, int64, uint32));
        if (h.version != 1) revert GraphLeafUnsupportedVersion(h.version);
    }

    /// @notice Param `i` as a signed integer.
    function param(Layer memory l, uint256 i) internal pure returns (int256) {
        return int256(l.params[i]);
    }

    /// @notice Param `i` as a size (reverts {GraphLeafBadParam} when negative).
    function dim(Layer memory l, uint256 i) internal pure returns (uint256) {
        int256 v = l.params[i];
        if (v < 0) revert GraphLeafBadParam(l.index, i, v);
        return uint256(v);
    }

    /// @notice Param `i` as a divisor (reverts {GraphLeafBadParam} unless positive).
    function positive(Layer memory l, uint256 i) internal pure returns (uint256) {
        int256 v = l.params[i];
        if (v <= 0) revert GraphLeafBadParam(l.index, i, v);
        return uint256(v);
    }

    /// @notice Number of elements of the layer's output.
    function numel(Layer memory l) internal pure returns (uint256 n) {
        n = 1;
        for (uint256 i = 0; i < l.outShape.length; ++i) n *= l.outShape[i];
    }

    /// @notice Channel (index along axis 1) of output element `e`; for [1, N] every element is
    /// its own channel.
    function channelOf(Layer memory l, uint256 e) internal pure returns (uint256) {
        uint256 inner = 1;
        for (uint256 i = 2; i < l.outShape.length; ++i) inner *= l.outShape[i];
        return (e / inner) % l.outShape[1];
    }

    /// @notice Number of channels (axis 1) of the output.
    function channels(Layer memory l) internal pure returns (uint256) {
        return l.outShape[1];
    }

    /// @dev Params, inputs and constants counts per kind (offchain/model/layers.ts PARAM_COUNT),
    /// rank >= 2 (exactly 4 for CONV/MAXPOOL, >= 3 for MATMUL), every input earlier than the layer.
    function _checkLayout(Layer memory l) private pure {
        uint256 k = l.kind;
        if (k < DENSE || k > CONST) revert GraphLeafUnknownKind(l.index, k);
        // Packed per kind 1..13, one byte each: params, constants, inputs (ADD: with a constant
        // operand; GATHER: the counts of no input, which the inputs check refuses, since a GATHER's
        // params and inputs are one per input, set below).
        uint256 nParams = uint8(bytes13(0x040f020200020b000205020000)[k - 1]);
        uint256 nConsts = uint8(bytes13(0x03030202000000000101010101)[k - 1]);
        uint256 nInputs = uint8(bytes13(0x01010101010101010102020100)[k - 1]);
        if (k == ADD && l.inputs.length == 2) (nInputs, nConsts) = (2, 1);
        if (k == GATHER && l.inputs.length != 0) {
            // One param per input (its element count), at least one input.
            (nInputs, nParams) = (l.inputs.length, l.inputs.length);
        }
        if (l.params.length != nParams) revert GraphLeafBadLayout(l.index, k, 0, l.params.length, nParams);
        if (l.inputs.length != nInputs) revert GraphLeafBadLayout(l.index, k, 1, l.inputs.length, nInputs);
        if (l.constants.length != nConsts) revert GraphLeafBadLayout(l.index, k, 2, l.constants.length, nConsts);
        uint256 rank = (k == CONV || k == MAXPOOL) ? 4 : k == MATMUL ? 3 : 2;
        if (l.outShape.length < rank || (rank == 4 && l.outShape.length != 4)) {
            revert GraphLeafBadLayout(l.index, k, 3, l.outShape.length, rank);
        }
        for (uint256 i = 0; i < l.inputs.length; ++i) {
            // INVARIANT: a layer reads only earlier trace leaves, the ones the dispute has agreed.
            if (l.inputs[i] >= l.index) revert GraphLeafInputNotEarlier(l.index, l.inputs[i]);
        }
    }
}
