// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {OneStepVerifierBadShift} from "../lib/OneStepErrors.sol";

/**
 * @title Requant
 * @notice The requantization shared by DENSE, CONV, ADD, MUL, MATMUL and PRODUCT:
 * `clip(acc >> s, lo, hi)`, where `>>` is the arithmetic shift (floor division by 2^s) and
 * 0 <= s <= 24.
 */
library Requant {
    /// @notice Largest shift exponent (S = 2^-s).
    int256 internal constant MAX_SHIFT = 24;

    /// @notice clip(acc >> s, lo, hi). Reverts {OneStepVerifierBadShift} unless 0 <= s <= 24.
    function requant(int256 acc, int256 s, int256 lo, int256 hi) internal pure returns (int256) {
        if (s < 0 || s > MAX_SHIFT) revert OneStepVerifierBadShift(s);
        // Signed `>>` rounds towards negative infinity: floor(acc / 2^s).
        return clip(acc >> uint256(s), lo, hi);
    }

    /// @notice min(max(v, lo), hi).
    function clip(int256 v, int256 lo, int256 hi) internal pure returns (int256) {
        return v < lo ? lo : v > hi ? hi : v;
    }
}
