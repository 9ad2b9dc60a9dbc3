// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/**
 * @title IStaking
 * @notice Stakes of compute providers and verifiers: the collateral behind every claimed job and
 * every dispute.
 * @dev A staker's tokens are in one of three states: free (usable to back a job or a dispute),
 * locked (backing one, and slashable), or unbonding (on their way out, no longer usable).
 * Only operators (the job escrow and the dispute contracts, set by governance) lock, unlock
 * and slash.
 */
interface IStaking {
    /// @notice A staker's position. `staked` includes `locked`; `unbonding` is outside `staked`.
    struct StakeInfo {
        uint96 staked;
        uint96 locked;
        uint96 unbonding;
        uint40 unbondingEnd;
    }

    event Staked(address indexed staker, uint256 amount, uint256 totalStaked);
    event UnstakeRequested(address indexed staker, uint256 amount, uint256 totalUnbonding, uint256 unbondingEnd);
    event Withdrawn(address indexed staker, uint256 amount);
    event StakeLocked(address indexed staker, address indexed operator, uint256 amount, uint256 totalLocked);
    event StakeUnlocked(address indexed staker, address indexed operator, uint256 amount, uint256 totalLocked);
    event StakeSlashed(address indexed staker, address indexed operator, uint256 amount, address indexed to);
    event ModelServed(address indexed staker, uint256 indexed modelId, bool served);
    event OperatorSet(address indexed operator, bool allowed);
    /// @notice The operator set became final (at deployment).
    event OperatorsSealed();
    event MinStakeSet(uint256 minStake);
    event UnbondingDelaySet(uint256 delay);

    /// @dev The amount is zero.
    error StakingZeroAmount();
    /// @dev `staker` has `available` free stake but `needed` was asked for.
    error StakingInsufficientFreeStake(address staker, uint256 available, uint256 needed);
    /// @dev `staker` has `staked` in total, below the minimum `minStake` needed to back work.
    error StakingBelowMinimum(address staker, uint256 staked, uint256 minStake);
    /// @dev Nothing is unbonding for `staker`.
    error StakingNothingToWithdraw(address staker);
    /// @dev The unbonding period of `staker` ends at `unbondingEnd`.
    error StakingStillUnbonding(address staker, uint256 unbondingEnd);
    /// @dev `caller` is not an operator.
    error StakingNotOperator(address caller);
    /// @dev `staker` has only `locked` locked, below the `amount` to unlock or slash.
    error StakingInsufficientLocked(address staker, uint256 locked, uint256 amount);
    /// @dev A governed parameter is out of its allowed range.
    error StakingInvalidParameter();
    /// @dev The operator set is sealed: operators were fixed at deployment.
    error StakingOperatorsSealed();

    /// @notice Adds `amount` tokens (approved beforehand) to the caller's stake.
    function stake(uint256 amount) external;

    /// @notice Moves `amount` of free stake into unbonding; it can be withdrawn after the unbonding
    /// delay. A second request adds to the first and restarts the delay.
    function requestUnstake(uint256 amount) external;

    /// @notice Sends the caller's unbonded tokens back, once the unbonding delay is over.
    function withdraw() external;

    /// @notice Declares that the caller serves (or stops serving) `modelId`. A hint for requesters
    /// and dashboards; it does not restrict claims.
    function setModelServed(uint256 modelId, bool served) external;

    /// @notice Operator only: locks `amount` of `staker`'s free stake.
    function lock(address staker, uint256 amount) external;

    /// @notice Operator only: releases `amount` of `staker`'s locked stake.
    function unlock(address staker, uint256 amount) external;

    /// @notice Operator only: takes `amount` from `staker`'s locked stake and sends it to `to`.
    function slash(address staker, uint256 amount, address to) external;

    /// @notice `staker`'s position.
    function stakeOf(address staker) external view returns (StakeInfo memory);

    /// @notice Total stake a staker must have to lock any (to claim a job) or to open a dispute.
    function minStake() external view returns (uint256);

    /// @notice Stake that `staker` can still lock.
    function freeStake(address staker) external view returns (uint256);

    /// @notice Whether `staker` declared it serves `modelId`.
    function servesModel(address staker, uint256 modelId) external view returns (bool);
}
