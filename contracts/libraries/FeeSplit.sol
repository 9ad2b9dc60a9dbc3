// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @dev Basis points in a whole (100%): the denominator of every `*Bps` rate and share in the
/// protocol. The one definition; contracts import it from here.
uint256 constant BPS = 10_000;

/**
 * @title FeeSplit
 * @notice Basis-point shares, rounded down. Callers give the rounding remainder to one named
 * party (the model developer, the slashed worker), so a split always sums exactly to its total.
 */
library FeeSplit {
    /// @notice `amount * bps / 10000`, rounded down. Exact for any `amount` below 2^240.
    function share(uint256 amount, uint256 bps) internal pure returns (uint256) {
        return (amount * bps) / BPS;
    }
}
