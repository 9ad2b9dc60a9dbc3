// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {MerkleProofIndexOutOfRange} from "./OneStepErrors.sol";

/**
 * @title MerkleProof
 * @notice The one Merkle rule of docs/SEMANTICS.md: SHA-256, `node = sha256(left ‖ right)`, leaves
 * zero-padded to a power of two. A proof lists the siblings from the leaf level up; at level k the
 * running node is the right child iff bit k of the index is 1 (offchain/commitments/merkle.ts).
 */
library MerkleProof {
    /// @notice The root that `leaf` at `index` and its siblings `proof` lead to.
    /// @dev Reverts {MerkleProofIndexOutOfRange} unless index < 2^proof.length, so one proof
    /// proves one position. Uses the SHA-256 precompile on scratch space (0x00..0x3f).
    function root(bytes32 leaf, uint256 index, bytes32[] memory proof) internal view returns (bytes32 node) {
        uint256 depth = proof.length;
        // INVARIANT: the index fits the depth; bits above it would be silently ignored.
        if (depth < 256 && index >> depth != 0) revert MerkleProofIndexOutOfRange(index, depth);
        node = leaf;
        for (uint256 k = 0; k < depth; ++k) {
            bytes32 sibling = proof[k];
            bool right = (index >> k) & 1 == 1;
            assembly ("memory-safe") {
                switch right
                case 0 {
                    mstore(0x00, node)
                    mstore(0x20, sibling)
                }
                default {
                    mstore(0x00, sibling)
                    mstore(0x20, node)
                }
                if iszero(staticcall(gas(), 0x02, 0x00, 0x40, 0x00, 0x20)) { revert(0, 0) }
                node := mload(0x00)
            }
        }
    }
}
