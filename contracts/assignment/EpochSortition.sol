// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @dev Positions of a sortition tree: 1 to {CAPACITY}. A power of two, so that the last node of
/// the Fenwick tree covers every position (the total is one read) and a draw reads
/// log2(CAPACITY) + 1 nodes. Doubling it costs a draw one more read.
uint256 constant CAPACITY = 256;

/**
 * @title EpochSortition
 * @notice Weighted random drawing over at most {CAPACITY} positions, whose weights change only at
 * epoch boundaries: a change made during epoch `e` takes effect in epoch `e + 1`, so every draw in
 * an epoch sees the weights fixed when that epoch began. A draw whose randomness comes from a block
 * after the epoch began cannot be steered by changing weights (nobody knew the randomness when the
 * weights of that epoch were last changeable).
 * @dev A Fenwick (binary indexed) tree: node `i` holds the sum of the weights of positions
 * `(i - lowbit(i), i]`. Each node keeps two values, the one in force and the one from `nextEpoch`
 * on, in one storage slot, and rolls the second into the first the first time it is written in a
 * later epoch. Only the current epoch's values can be read: a draw must happen in the epoch whose
 * weights it uses. Weights are token amounts below 2^96.
 */
library EpochSortition {
    /// @dev One node (one storage slot): `next` is in force from epoch `nextEpoch` on, `current` before.
    struct Node {
        uint96 current;
        uint96 next;
        uint64 nextEpoch;
    }

    struct Tree {
        Node[CAPACITY + 1] nodes;
    }

    /// @dev `position` is not in 1..CAPACITY.
    error EpochSortitionInvalidPosition(uint256 position);

    /// @dev A draw from a tree whose weights are all zero in the epoch.
    error EpochSortitionEmpty();

    /// @notice Adds `increase` to, and takes `decrease` from, the weight of `position`, from epoch
    /// `epoch + 1` on (`epoch` is the current one). The caller keeps the weight itself in range:
    /// it never takes away more than the position holds.
    function update(Tree storage tree, uint256 position, uint256 increase, uint256 decrease, uint256 epoch) internal {
        if (position == 0 || position > CAPACITY) revert EpochSortitionInvalidPosition(position);
        uint64 effective = uint64(epoch + 1);
        for (uint256 i = position; i <= CAPACITY; i += i & (~i + 1)) {
            Node memory n = tree.nodes[i];
            // The value from `nextEpoch` on is in force now: it becomes the current one.
            if (n.nextEpoch <= epoch) n.current = n.next;
            n.next = uint96(uint256(n.next) + increase - decrease);
            n.nextEpoch = effective;
            tree.nodes[i] = n;
        }
    }

    /// @notice The total weight in force in `epoch` (the current one).
    function total(Tree storage tree, uint256 epoch) internal view returns (uint256) {
        return _value(tree.nodes[CAPACITY], epoch);
    }

    /// @notice The position whose weight covers `point` (0 <= point < total): position p is drawn
    /// when the weights before it sum to at most `point` and with it to more. A position of weight
    /// zero is never drawn. Reads log2(CAPACITY) + 1 nodes.
    function find(Tree storage tree, uint256 point, uint256 epoch) internal view returns (uint256 position) {
        if (point >= total(tree, epoch)) revert EpochSortitionEmpty();
        for (uint256 step = CAPACITY; step != 0; step >>= 1) {
            uint256 candidate = position + step;
            if (candidate > CAPACITY) continue;
            uint256 sum = _value(tree.nodes[candidate], epoch);
            if (sum <= point) {
                position = candidate;
                point -= sum;
            }
        }
        return position + 1;
    }

    /// @notice The weight of `position` in force in `epoch` (the current one) and from the next epoch
    /// on. (Prefix sums: log2(CAPACITY) reads each; for views and tests, not for the draw.)
    function weightOf(Tree storage tree, uint256 position, uint256 epoch) internal view returns (uint256 current, uint256 next) {
        if (position == 0 || position > CAPACITY) revert EpochSortitionInvalidPosition(position);
        return (
            _prefix(tree, position, epoch) - _prefix(tree, position - 1, epoch),
            _prefix(tree, position, epoch + 1) - _prefix(tree, position - 1, epoch + 1)
        );
    }

    function _prefix(Tree storage tree, uint256 position, uint256 epoch) private view returns (uint256 sum) {
        for (uint256 i = position; i != 0; i -= i & (~i + 1)) sum += _value(tree.nodes[i], epoch);
    }

    /// @dev A node's value in force in `epoch` (one storage read: the caller copies the node).
    function _value(Node memory n, uint256 epoch) private pure returns (uint256) {
        return epoch >= n.nextEpoch ? n.next : n.current;
    }
}
