// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {CHUNK_BYTES} from "../../libraries/TensorCommitment.sol";
import {MerkleProof} from "./MerkleProof.sol";
import {
    TensorProofChunkLength,
    TensorProofChunkMismatch,
    TensorProofElementOutOfRange,
    TensorProofValueMismatch
} from "./OneStepErrors.sol";

/**
 * @title TensorProof
 * @notice Opens one element of a committed tensor (docs/SEMANTICS.md): canonical bytes are int32
 * little-endian, cut into 1024-byte chunks of 256 elements, leaf = sha256(chunk). Element `e` lies in
 * chunk ⌊e / 256⌋ at byte offset (e mod 256)·4.
 */
library TensorProof {
    /// @notice log2 of the elements per chunk (`CHUNK_ELEMS` = 256).
    uint256 internal constant CHUNK_ELEMS_LOG2 = 8;

    /// @notice The chunk holding element `element`.
    function chunkIndex(uint256 element) internal pure returns (uint256) {
        return element >> CHUNK_ELEMS_LOG2;
    }

    /// @notice The byte offset of element `element` inside its chunk.
    function byteOffset(uint256 element) internal pure returns (uint256) {
        return (element & 255) * 4;
    }

    /// @notice Element `element` of the tensor committed as `root` with `numel` elements.
    /// @dev Reverts {TensorProofElementOutOfRange} (the zero padding of the last chunk is not an
    /// element), {TensorProofChunkLength} or {TensorProofChunkMismatch}.
    function read(bytes32 root, uint256 element, uint256 numel, bytes memory chunk, bytes32[] memory proof)
        internal
        view
        returns (int256)
    {
        // INVARIANT: only real elements are opened; the padding of the last chunk reads as nothing.
        if (element >= numel) revert TensorProofElementOutOfRange(element, numel);
        if (chunk.length != CHUNK_BYTES) revert TensorProofChunkLength(chunk.length);
        uint256 ci = chunkIndex(element);
        bytes32 computed = MerkleProof.root(sha256(chunk), ci, proof);
        if (computed != root) revert TensorProofChunkMismatch(root, ci, computed);
        return valueAt(chunk, byteOffset(element));
    }

    /// @notice Like {read}, and also requires the element to equal `claimed`.
    /// @dev Reverts {TensorProofValueMismatch} when the chunk holds another value.
    function check(bytes32 root, uint256 element, uint256 numel, int256 claimed, bytes memory chunk, bytes32[] memory proof)
        internal
        view
    {
        int256 actual = read(root, element, numel, chunk, proof);
        if (actual != claimed) revert TensorProofValueMismatch(element, claimed, actual);
    }

    /// @notice The int32 little-endian value at byte `offset` of `chunk` (offset + 4 <= length).
    function valueAt(bytes memory chunk, uint256 offset) internal pure returns (int256 v) {
        uint256 w;
        assembly ("memory-safe") {
            // Top 4 bytes of the word at the offset: b0 b1 b2 b3, b0 least significant.
            w := shr(224, mload(add(add(chunk, 0x20), offset)))
        }
        uint256 le = ((w & 0xff) << 24) | ((w & 0xff00) << 8) | ((w >> 8) & 0xff00) | (w >> 24);
        v = int256(int32(uint32(le)));
    }
}
