// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @notice The move clock of a game: when the last move was made, and the base time per move.
/// @dev The deadline is the timestamp plus the game's time per move at the moment it is read
/// ({deadlineAfter}; `DisputeGame.moveTime` extends the base duration with the games on the job).
/// Bit layout (Optimism's `Clock` in `LibUDT.sol`, but one deadline per move, not a chess clock):
/// ┌────────────┬──────────────────────────────────────────────┐
/// │    Bits    │                    Value                     │
/// ├────────────┼──────────────────────────────────────────────┤
/// │ [0, 64)    │ Duration: base seconds for each move          │
/// │ [64, 128)  │ Timestamp: when the last move was made        │
/// └────────────┴──────────────────────────────────────────────┘
type Clock is uint128;

using LibClock for Clock global;

/// @title LibClock
/// @notice Builds and reads {Clock}s.
library LibClock {
    /// @notice A clock of `duration_` seconds per move, started at `timestamp_`.
    function wrap(uint64 duration_, uint64 timestamp_) internal pure returns (Clock clock_) {
        clock_ = Clock.wrap((uint128(timestamp_) << 64) | uint128(duration_));
    }

    /// @notice A clock of `duration_` seconds per move, started now.
    function start(uint64 duration_) internal view returns (Clock clock_) {
        clock_ = wrap(duration_, uint64(block.timestamp));
    }

    /// @notice The same clock restarted now: the next side gets its full duration.
    function restart(Clock self) internal view returns (Clock clock_) {
        clock_ = wrap(self.duration(), uint64(block.timestamp));
    }

    /// @notice The base seconds per move (a game alone on its job).
    function duration(Clock self) internal pure returns (uint64 duration_) {
        duration_ = uint64(Clock.unwrap(self));
    }

    /// @notice When the last move was made.
    function timestamp(Clock self) internal pure returns (uint64 timestamp_) {
        timestamp_ = uint64(Clock.unwrap(self) >> 64);
    }

    /// @notice The last moment the side to move may still move when this move may take `moveTime`
    /// seconds (a time per move that depends on more than the clock, such as the games on a job).
    function deadlineAfter(Clock self, uint256 moveTime) internal pure returns (uint256 deadline_) {
        deadline_ = uint256(self.timestamp()) + moveTime;
    }
}
