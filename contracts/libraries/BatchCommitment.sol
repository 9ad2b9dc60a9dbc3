// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {TensorCommitment} from "./TensorCommitment.sol";

/**
 * @title BatchCommitment
 * @notice The commitment to the items of a batch job (docs/SEMANTICS.md "Batch commitment"): for one
 * item, the item's own tensor commitment; for more, `keccak256(abi.encodePacked(itemCommitments))`,
 * the items' tensor commitments in order. A batch's input commitment is that of its items' inputs,
 * its output commitment that of its items' outputs; a dispute names one item and opens the lists.
 * @dev One item commits exactly as a single job does, so a batch of one is a single job. keccak256
 * over the list (not a Merkle tree): a dispute passes the whole list (at most `MAX_BATCH_SIZE`
 * words), which costs less than a proof and needs no tree on either side.
 */
library BatchCommitment {
    /// @notice The batch commitment of `items` tensors of equal length, concatenated in `data` (the
    /// caller checks that `data.length` is `items` times an item's length; `items` is at least 1).
    function root(bytes calldata data, uint256 items) internal view returns (bytes32) {
        if (items == 1) return TensorCommitment.root(data);
        uint256 itemBytes = data.length / items;
        bytes32[] memory commitments = new bytes32[](items);
        for (uint256 i = 0; i < items; ++i) {
            uint256 start = i * itemBytes;
            // The tensor commitment allocates nothing: every item hashes in the same scratch memory.
            commitments[i] = TensorCommitment.root(data[start:start + itemBytes]);
        }
        return keccak256(abi.encodePacked(commitments));
    }

    /// @notice The batch commitment of the item commitments `itemCommitments` (at least one).
    function ofItems(bytes32[] calldata itemCommitments) internal pure returns (bytes32) {
        if (itemCommitments.length == 1) return itemCommitments[0];
        return keccak256(abi.encodePacked(itemCommitments));
    }
}
