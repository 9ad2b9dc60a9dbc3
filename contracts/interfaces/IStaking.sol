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

    /// @notice Emitted by {stake} when a staker adds tokens to its stake.
    /// @param staker The staker.
    /// @param amount Tokens added.
    /// @param totalStaked Its stake after it (`staked`).
    event Staked(address indexed staker, uint256 amount, uint256 totalStaked);

    /// @notice Emitted by {requestUnstake} when free stake moves into unbonding; the delay restarts
    /// for all the staker's unbonding tokens.
    /// @param staker The staker.
    /// @param amount Stake moved into unbonding.
    /// @param totalUnbonding All its unbonding tokens now.
    /// @param unbondingEnd When they can be withdrawn.
    event UnstakeRequested(address indexed staker, uint256 amount, uint256 totalUnbonding, uint256 unbondingEnd);

    /// @notice Emitted by {withdraw} when a staker takes back its unbonded tokens.
    /// @param staker The staker.
    /// @param amount All its unbonding tokens, sent to it.
    event Withdrawn(address indexed staker, uint256 amount);

    /// @notice Emitted by {lock} when an operator locks free stake (a job claim).
    /// @param staker The staker.
    /// @param operator The operator that locked it (the job escrow).
    /// @param amount Stake locked.
    /// @param totalLocked The staker's locked stake after it.
    event StakeLocked(address indexed staker, address indexed operator, uint256 amount, uint256 totalLocked);

    /// @notice Emitted by {unlock} when an operator releases locked stake (a job settled, or the part
    /// of a lock not slashed).
    /// @param staker The staker.
    /// @param operator The operator that unlocked it (the job escrow).
    /// @param amount Stake unlocked.
    /// @param totalLocked The staker's locked stake after it.
    event StakeUnlocked(address indexed staker, address indexed operator, uint256 amount, uint256 totalLocked);

    /// @notice Emitted by {slash} when an operator takes locked stake from a staker and sends it away.
    /// @param staker The staker slashed.
    /// @param operator The operator that slashed it (the job escrow).
    /// @param amount Stake taken, from both `locked` and `staked`.
    /// @param to Where the tokens went: the job escrow for a missed result time (it credits the
    /// requester), the job's dispute manager for a rejected result.
    event StakeSlashed(address indexed staker, address indexed operator, uint256 amount, address indexed to);

    /// @notice Emitted by {setModelServed} when a staker declares that it serves, or stops serving, a
    /// model.
    /// @param staker The staker.
    /// @param modelId The model.
    /// @param served Whether it serves the model now.
    event ModelServed(address indexed staker, uint256 indexed modelId, bool served);

    /// @notice Emitted when the deployer allows or revokes an operator, before the operator set is
    /// sealed.
    /// @param operator The operator.
    /// @param allowed Whether it may now lock, unlock and slash.
    event OperatorSet(address indexed operator, bool allowed);

    /// @notice Emitted once, at deployment, when the operator set becomes final.
    event OperatorsSealed();

    /// @notice Emitted when the minimum stake is set (at deployment, then by governance).
    /// @param minStake The new minimum total stake needed to lock any stake or to open a dispute.
    event MinStakeSet(uint256 minStake);

    /// @notice Emitted when the unbonding delay is set (at deployment, then by governance); requests
    /// already made keep their end time.
    /// @param delay The new delay, in seconds, between an unstake request and its withdrawal.
    event UnbondingDelaySet(uint256 delay);

    /// @dev The amount to stake or to unstake is zero.
    error StakingZeroAmount();

    /// @dev The staker's free stake (staked, not locked) is below the amount to lock or to unstake.
    /// @param staker The staker.
    /// @param available Its free stake.
    /// @param needed The amount asked for.
    error StakingInsufficientFreeStake(address staker, uint256 available, uint256 needed);

    /// @dev The staker's total stake is below the minimum needed to lock any (to back a job).
    /// @param staker The staker.
    /// @param staked Its total stake.
    /// @param minStake The minimum stake.
    error StakingBelowMinimum(address staker, uint256 staked, uint256 minStake);

    /// @dev Nothing is unbonding for the staker.
    /// @param staker The staker (the caller).
    error StakingNothingToWithdraw(address staker);

    /// @dev The staker's unbonding tokens cannot be withdrawn yet.
    /// @param staker The staker (the caller).
    /// @param unbondingEnd When they can be withdrawn.
    error StakingStillUnbonding(address staker, uint256 unbondingEnd);

    /// @dev Only operators lock, unlock and slash.
    /// @param caller The account that called.
    error StakingNotOperator(address caller);

    /// @dev The staker's locked stake is below the amount to unlock or to slash.
    /// @param staker The staker.
    /// @param locked Its locked stake.
    /// @param amount The amount to unlock or to slash.
    error StakingInsufficientLocked(address staker, uint256 locked, uint256 amount);

    /// @dev A governed parameter is out of its allowed range: a minimum stake above `MAX_MIN_STAKE`,
    /// or an unbonding delay above `MAX_UNBONDING_DELAY` (the same shape as the escrow's and the
    /// dispute factory's invalid-parameter errors).
    /// @param name The parameter: `minStake` or `unbondingDelay`.
    error StakingInvalidParameter(string name);

    /// @dev The operator set is sealed: the operators were fixed at deployment, and the set cannot
    /// change or be sealed again.
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
