// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {Votes} from "@openzeppelin/contracts/governance/utils/Votes.sol";

import {IStaking} from "../interfaces/IStaking.sol";

/**
 * @title Staking
 * @notice Holds stakes; operators (job escrow, disputes) lock, unlock and slash them.
 * @dev The owner is the governance timelock. It sets the minimum stake (at most `MAX_MIN_STAKE`,
 * so that it can never shut every challenger out) and the unbonding delay; it has no function
 * that moves a staker's tokens. The operators, the only contracts that lock, unlock and slash,
 * are fixed at deployment: the deployer appoints them and then seals the set ({sealOperators}),
 * before it hands ownership to the timelock. No later owner can appoint an operator that would
 * reach anyone's stake, nor revoke one and strand the stake it has locked.
 * Invariant, for every staker: `locked <= staked`, and this contract's token balance equals the
 * sum of `staked + unbonding`.
 *
 * Staked votes: the tokens this contract holds are never delegated on the token, so they count for
 * nobody there. Instead this contract is itself an ERC-5805 votes source (OpenZeppelin `Votes`):
 * an account's voting units are its `staked + unbonding` tokens, checkpointed when tokens enter
 * ({stake}) or leave ({withdraw}, {slash}) in the same transaction as the token transfer, so that
 * at any timepoint a token counts either in the wallet (token votes) or in the stake (these votes),
 * never both. {lock}, {unlock} and {requestUnstake} leave the units unchanged, and write no
 * checkpoint. A staker's votes go to itself until it delegates them ({delegate}, independent of
 * its delegation on the token); the Governor adds both sources at a proposal's snapshot. The
 * clock is the token's: block numbers (Votes' default, as ERC20Votes').
 */
contract Staking is IStaking, Ownable, Votes {
    using SafeERC20 for IERC20;
    using SafeCast for uint256;

    /// @notice Longest unbonding delay governance may set.
    uint256 public constant MAX_UNBONDING_DELAY = 90 days;
    /// @notice Highest minimum stake governance may set (1,000,000 tokens of 18 decimals): a
    /// challenger needs the minimum stake, so an unbounded one could disable disputes.
    uint256 public constant MAX_MIN_STAKE = 1_000_000 ether;

    /// @notice The protocol token.
    IERC20 public immutable token;
    /// @inheritdoc IStaking
    uint256 public minStake;
    /// @notice Seconds between an unstake request and the withdrawal.
    uint256 public unbondingDelay;

    mapping(address staker => StakeInfo) private _stakes;
    mapping(address operator => bool) public isOperator;
    /// @notice Whether the operator set is final (it is from deployment on).
    bool public operatorsSealed;
    mapping(address staker => mapping(uint256 modelId => bool)) private _serves;

    modifier onlyOperator() {
        if (!isOperator[msg.sender]) revert StakingNotOperator(msg.sender);
        _;
    }

    constructor(
        IERC20 token_,
        address owner_,
        uint256 minStake_,
        uint256 unbondingDelay_
    ) Ownable(owner_) EIP712("Veritensor Staking", "1") {
        token = token_;
        _setMinStake(minStake_);
        _setUnbondingDelay(unbondingDelay_);
    }

    // ---------------------------------------------------------------- stakers

    /// @inheritdoc IStaking
    function stake(uint256 amount) external {
        if (amount == 0) revert StakingZeroAmount();
        StakeInfo storage info = _stakes[msg.sender];
        uint96 total = info.staked + amount.toUint96();
        info.staked = total;
        emit Staked(msg.sender, amount, total);
        _transferVotingUnits(address(0), msg.sender, amount);
        token.safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @inheritdoc IStaking
    function requestUnstake(uint256 amount) external {
        if (amount == 0) revert StakingZeroAmount();
        StakeInfo storage info = _stakes[msg.sender];
        uint256 free = info.staked - info.locked;
        if (amount > free) revert StakingInsufficientFreeStake(msg.sender, free, amount);
        uint96 amount96 = uint96(amount);
        info.staked -= amount96;
        info.unbonding += amount96;
        uint40 end = (block.timestamp + unbondingDelay).toUint40();
        info.unbondingEnd = end;
        emit UnstakeRequested(msg.sender, amount, info.unbonding, end);
    }

    /// @inheritdoc IStaking
    function withdraw() external {
        StakeInfo storage info = _stakes[msg.sender];
        uint256 amount = info.unbonding;
        if (amount == 0) revert StakingNothingToWithdraw(msg.sender);
        if (block.timestamp < info.unbondingEnd) revert StakingStillUnbonding(msg.sender, info.unbondingEnd);
        info.unbonding = 0;
        info.unbondingEnd = 0;
        emit Withdrawn(msg.sender, amount);
        _transferVotingUnits(msg.sender, address(0), amount);
        token.safeTransfer(msg.sender, amount);
    }

    /// @inheritdoc IStaking
    function setModelServed(uint256 modelId, bool served) external {
        _serves[msg.sender][modelId] = served;
        emit ModelServed(msg.sender, modelId, served);
    }

    // ---------------------------------------------------------------- operators

    /// @inheritdoc IStaking
    function lock(address staker, uint256 amount) external onlyOperator {
        StakeInfo storage info = _stakes[staker];
        uint256 staked = info.staked;
        if (staked < minStake) revert StakingBelowMinimum(staker, staked, minStake);
        uint256 free = staked - info.locked;
        if (amount > free) revert StakingInsufficientFreeStake(staker, free, amount);
        uint96 locked = info.locked + uint96(amount);
        info.locked = locked;
        emit StakeLocked(staker, msg.sender, amount, locked);
    }

    /// @inheritdoc IStaking
    function unlock(address staker, uint256 amount) external onlyOperator {
        StakeInfo storage info = _stakes[staker];
        uint96 locked = info.locked;
        if (amount > locked) revert StakingInsufficientLocked(staker, locked, amount);
        locked -= uint96(amount);
        info.locked = locked;
        emit StakeUnlocked(staker, msg.sender, amount, locked);
    }

    /// @inheritdoc IStaking
    function slash(address staker, uint256 amount, address to) external onlyOperator {
        StakeInfo storage info = _stakes[staker];
        uint96 locked = info.locked;
        if (amount > locked) revert StakingInsufficientLocked(staker, locked, amount);
        uint96 amount96 = uint96(amount);
        info.locked = locked - amount96;
        info.staked -= amount96;
        emit StakeSlashed(staker, msg.sender, amount, to);
        // The slashed tokens leave the stake, and their votes with them (their new holder, the
        // escrow or a dispute, delegates nothing).
        _transferVotingUnits(staker, address(0), amount);
        token.safeTransfer(to, amount);
    }

    // ---------------------------------------------------------------- governance

    /// @notice Deployment only: allows or revokes an operator (the job escrow), until {sealOperators}.
    function setOperator(address operator, bool allowed) external onlyOwner {
        if (operatorsSealed) revert StakingOperatorsSealed();
        isOperator[operator] = allowed;
        emit OperatorSet(operator, allowed);
    }

    /// @notice Deployment only: makes the operator set final. Called before ownership goes to the
    /// timelock, so that governance never holds a key to anyone's stake.
    function sealOperators() external onlyOwner {
        if (operatorsSealed) revert StakingOperatorsSealed();
        operatorsSealed = true;
        emit OperatorsSealed();
    }

    /// @notice Sets the minimum total stake needed to lock any.
    function setMinStake(uint256 minStake_) external onlyOwner {
        _setMinStake(minStake_);
    }

    /// @notice Sets the unbonding delay (at most `MAX_UNBONDING_DELAY`). Requests already made keep
    /// their end time.
    function setUnbondingDelay(uint256 delay) external onlyOwner {
        _setUnbondingDelay(delay);
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc IStaking
    function stakeOf(address staker) external view returns (StakeInfo memory) {
        return _stakes[staker];
    }

    /// @inheritdoc IStaking
    function freeStake(address staker) external view returns (uint256) {
        StakeInfo storage info = _stakes[staker];
        return info.staked - info.locked;
    }

    /// @inheritdoc IStaking
    function servesModel(address staker, uint256 modelId) external view returns (bool) {
        return _serves[staker][modelId];
    }

    /// @notice Who votes with `account`'s staked and unbonding tokens: the account itself until it
    /// delegates them to another.
    function delegates(address account) public view override returns (address) {
        address delegatee = super.delegates(account);
        return delegatee == address(0) ? account : delegatee;
    }

    /// @dev Delegating to the zero address gives the votes back to the account itself (staked votes
    /// are never silenced by default; one undelegates by delegating to oneself).
    function _delegate(address account, address delegatee) internal override {
        super._delegate(account, delegatee == address(0) ? account : delegatee);
    }

    /// @dev Voting units: the tokens an account has in this contract, staked (locked or not) and
    /// unbonding. They change only when tokens enter or leave.
    function _getVotingUnits(address account) internal view override returns (uint256) {
        StakeInfo storage info = _stakes[account];
        return uint256(info.staked) + info.unbonding;
    }

    function _setMinStake(uint256 minStake_) private {
        if (minStake_ > MAX_MIN_STAKE) revert StakingInvalidParameter("minStake");
        minStake = minStake_;
        emit MinStakeSet(minStake_);
    }

    function _setUnbondingDelay(uint256 delay) private {
        if (delay > MAX_UNBONDING_DELAY) revert StakingInvalidParameter("unbondingDelay");
        unbondingDelay = delay;
        emit UnbondingDelaySet(delay);
    }
}
