// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @notice A node of a binary Merkle tree, as a generalized index: the root is 1, the children of
/// `g` are `2g` and `2g + 1` (Optimism's `Position` in `LibPosition.sol`).
/// @dev Bit layout: the highest set bit marks the depth, the bits below it are the index at that
/// depth, read from the root (bit `depth - 1` chooses at the first level).
/// ┌────────────┬─────────────────────────────────────────────────────┐
/// │    Bits    │                        Value                        │
/// ├────────────┼─────────────────────────────────────────────────────┤
/// │ [0, d)     │ index at depth d (0 = leftmost node of the level)    │
/// │ d          │ 1 (the depth marker)                                │
/// └────────────┴─────────────────────────────────────────────────────┘
/// Depths up to 64 are enough for every tree of a game (trace leaves < 2^32, chunks < 2^40).
type Position is uint128;

using LibPosition for Position global;

/// @title LibPosition
/// @notice Builds and reads {Position}s.
library LibPosition {
    /// @notice The root of a tree.
    Position internal constant ROOT = Position.wrap(1);

    /// @notice The node at `depth` and `indexAtDepth`.
    function wrap(uint8 depth_, uint64 indexAtDepth_) internal pure returns (Position position_) {
        position_ = Position.wrap((uint128(1) << depth_) | uint128(indexAtDepth_));
    }

    /// @notice Distance from the root (0 for the root).
    function depth(Position self) internal pure returns (uint8 depth_) {
        uint128 g = Position.unwrap(self);
        while (g > 1) {
            g >>= 1;
            ++depth_;
        }
    }

    /// @notice Index among the nodes of its depth, from the left: a leaf's index when `self` is a leaf.
    function indexAtDepth(Position self) internal pure returns (uint64 index_) {
        index_ = uint64(Position.unwrap(self) ^ (uint128(1) << self.depth()));
    }

    /// @notice The child to the left (`right == false`) or to the right.
    function move(Position self, bool right) internal pure returns (Position child_) {
        child_ = Position.wrap((Position.unwrap(self) << 1) | (right ? 1 : 0));
    }

    /// @notice The parent (the root's parent is 0, an invalid position).
    function parent(Position self) internal pure returns (Position parent_) {
        parent_ = Position.wrap(Position.unwrap(self) >> 1);
    }
}
