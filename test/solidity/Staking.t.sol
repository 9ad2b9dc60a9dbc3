// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {VeritensorToken} from "../../contracts/token/VeritensorToken.sol";
import {Staking} from "../../contracts/staking/Staking.sol";
import {IStaking} from "../../contracts/interfaces/IStaking.sol";

import {Test} from "./utils/Test.sol";

/// @notice Lock / unlock / slash / unstake bounds of Staking, with this contract as operator; the
/// operator set sealed at deployment and the capped minimum stake.
contract StakingTest is Test {
    uint256 private constant SUPPLY = 1_000_000_000 ether;
    uint256 private constant MIN_STAKE = 100 ether;
    uint256 private constant DELAY = 7 days;

    VeritensorToken private token;
    Staking private staking;
    address private constant STAKER = address(0xA11CE);
    address private constant SINK = address(0x5117);

    function setUp() public {
        token = new VeritensorToken(address(this), SUPPLY);
        staking = new Staking(token, address(this), MIN_STAKE, DELAY);
        staking.setOperator(address(this), true);
        token.transfer(STAKER, SUPPLY / 2);
        vm.prank(STAKER);
        token.approve(address(staking), type(uint256).max);
    }

    function _stake(uint256 amount) private {
        vm.prank(STAKER);
        staking.stake(amount);
    }

    function _info() private view returns (IStaking.StakeInfo memory) {
        return staking.stakeOf(STAKER);
    }

    function _checkBacking() private view {
        IStaking.StakeInfo memory s = _info();
        assertLe(s.locked, s.staked, "locked > staked");
        assertEq(token.balanceOf(address(staking)), uint256(s.staked) + s.unbonding, "balance != staked + unbonding");
    }

    function testFuzz_lockNeverExceedsFreeStake(uint256 stakeAmount, uint256 first, uint256 second) public {
        stakeAmount = bound(stakeAmount, MIN_STAKE, SUPPLY / 2);
        _stake(stakeAmount);
        first = bound(first, 0, stakeAmount);
        staking.lock(STAKER, first);
        assertEq(staking.freeStake(STAKER), stakeAmount - first, "free after lock");

        second = bound(second, 0, SUPPLY);
        uint256 free = stakeAmount - first;
        if (second > free) {
            vm.expectRevert(
                abi.encodeWithSelector(IStaking.StakingInsufficientFreeStake.selector, STAKER, free, second)
            );
            staking.lock(STAKER, second);
            assertEq(_info().locked, first, "a failed lock changed the lock");
        } else {
            staking.lock(STAKER, second);
            assertEq(_info().locked, first + second, "lock does not add up");
        }
        _checkBacking();
    }

    function testFuzz_lockBelowMinimumReverts(uint256 stakeAmount, uint256 amount) public {
        stakeAmount = bound(stakeAmount, 1, MIN_STAKE - 1);
        _stake(stakeAmount);
        amount = bound(amount, 0, stakeAmount);
        vm.expectRevert(
            abi.encodeWithSelector(IStaking.StakingBelowMinimum.selector, STAKER, stakeAmount, MIN_STAKE)
        );
        staking.lock(STAKER, amount);
    }

    function testFuzz_unlockBoundedByLocked(uint256 stakeAmount, uint256 lockAmount, uint256 unlockAmount) public {
        stakeAmount = bound(stakeAmount, MIN_STAKE, SUPPLY / 2);
        lockAmount = bound(lockAmount, 0, stakeAmount);
        _stake(stakeAmount);
        staking.lock(STAKER, lockAmount);
        unlockAmount = bound(unlockAmount, 0, type(uint128).max);
        if (unlockAmount > lockAmount) {
            vm.expectRevert(
                abi.encodeWithSelector(IStaking.StakingInsufficientLocked.selector, STAKER, lockAmount, unlockAmount)
            );
            staking.unlock(STAKER, unlockAmount);
        } else {
            staking.unlock(STAKER, unlockAmount);
            assertEq(_info().locked, lockAmount - unlockAmount, "unlock does not subtract");
            assertEq(_info().staked, stakeAmount, "unlock changed the stake");
        }
        _checkBacking();
    }

    /// @notice A slash moves exactly `amount` from the staker's stake (and lock) to `to`.
    function testFuzz_slashMovesExactlyTheAmount(
        uint256 stakeAmount,
        uint256 lockAmount,
        uint256 slashAmount,
        uint256 unbondAmount
    ) public {
        stakeAmount = bound(stakeAmount, MIN_STAKE, SUPPLY / 2);
        lockAmount = bound(lockAmount, 0, stakeAmount);
        _stake(stakeAmount);
        staking.lock(STAKER, lockAmount);
        // Some stake unbonding too: a slash must not touch it.
        unbondAmount = bound(unbondAmount, 0, stakeAmount - lockAmount);
        if (unbondAmount != 0) {
            vm.prank(STAKER);
            staking.requestUnstake(unbondAmount);
        }
        slashAmount = bound(slashAmount, 0, type(uint128).max);

        uint256 sinkBefore = token.balanceOf(SINK);
        uint256 stakingBefore = token.balanceOf(address(staking));
        if (slashAmount > lockAmount) {
            vm.expectRevert(
                abi.encodeWithSelector(IStaking.StakingInsufficientLocked.selector, STAKER, lockAmount, slashAmount)
            );
            staking.slash(STAKER, slashAmount, SINK);
            return;
        }
        staking.slash(STAKER, slashAmount, SINK);
        IStaking.StakeInfo memory s = _info();
        assertEq(token.balanceOf(SINK) - sinkBefore, slashAmount, "recipient got != slash");
        assertEq(stakingBefore - token.balanceOf(address(staking)), slashAmount, "staking lost != slash");
        assertEq(s.staked, stakeAmount - unbondAmount - slashAmount, "stake not reduced by the slash");
        assertEq(s.locked, lockAmount - slashAmount, "lock not reduced by the slash");
        assertEq(s.unbonding, unbondAmount, "slash touched unbonding stake");
        _checkBacking();
    }

    function testFuzz_unstakeCannotTouchLockedStake(uint256 stakeAmount, uint256 lockAmount, uint256 amount) public {
        stakeAmount = bound(stakeAmount, MIN_STAKE, SUPPLY / 2);
        lockAmount = bound(lockAmount, 0, stakeAmount);
        _stake(stakeAmount);
        staking.lock(STAKER, lockAmount);
        amount = bound(amount, 1, SUPPLY);
        uint256 free = stakeAmount - lockAmount;
        vm.prank(STAKER);
        if (amount > free) {
            vm.expectRevert(
                abi.encodeWithSelector(IStaking.StakingInsufficientFreeStake.selector, STAKER, free, amount)
            );
            staking.requestUnstake(amount);
        } else {
            staking.requestUnstake(amount);
            assertEq(_info().staked, stakeAmount - amount, "staked");
            assertEq(_info().unbonding, amount, "unbonding");
        }
        _checkBacking();
    }

    /// @notice A withdrawal pays exactly the unbonding amount, once, and never before the delay.
    function testFuzz_withdrawPaysUnbondingOnceAfterDelay(
        uint256 stakeAmount,
        uint256 amount,
        uint256 wait
    ) public {
        stakeAmount = bound(stakeAmount, 1, SUPPLY / 2);
        amount = bound(amount, 1, stakeAmount);
        _stake(stakeAmount);
        vm.prank(STAKER);
        staking.requestUnstake(amount);
        uint256 end = block.timestamp + DELAY;
        wait = bound(wait, 0, 2 * DELAY);
        vm.warp(block.timestamp + wait);

        uint256 before = token.balanceOf(STAKER);
        if (block.timestamp < end) {
            vm.expectRevert(abi.encodeWithSelector(IStaking.StakingStillUnbonding.selector, STAKER, end));
            vm.prank(STAKER);
            staking.withdraw();
            assertEq(token.balanceOf(STAKER), before, "paid while unbonding");
            return;
        }
        vm.prank(STAKER);
        staking.withdraw();
        assertEq(token.balanceOf(STAKER) - before, amount, "withdrawal != unbonding");
        vm.expectRevert(abi.encodeWithSelector(IStaking.StakingNothingToWithdraw.selector, STAKER));
        vm.prank(STAKER);
        staking.withdraw();
        _checkBacking();
    }

    /// @notice Only operators lock, unlock and slash.
    function testFuzz_onlyOperators(address caller, uint256 amount) public {
        vm.assume(caller != address(this));
        _stake(MIN_STAKE);
        staking.lock(STAKER, MIN_STAKE);
        amount = bound(amount, 0, MIN_STAKE);
        vm.prank(caller);
        vm.expectRevert(abi.encodeWithSelector(IStaking.StakingNotOperator.selector, caller));
        staking.slash(STAKER, amount, caller);
        vm.prank(caller);
        vm.expectRevert(abi.encodeWithSelector(IStaking.StakingNotOperator.selector, caller));
        staking.unlock(STAKER, amount);
        vm.prank(caller);
        vm.expectRevert(abi.encodeWithSelector(IStaking.StakingNotOperator.selector, caller));
        staking.lock(STAKER, 0);
    }

    // ------------------------------------------------------------ governance bounds

    /// @notice Once sealed, the operator set is final: no owner appoints or revokes an operator (or
    /// seals again), and the sealed operators keep working.
    /// Before: the owner (the timelock) could appoint an operator at any time, one that could then
    /// slash any locked stake to itself, or revoke the escrow and strand every lock it holds.
    function test_operatorsSealedForGood() public {
        assertFalse(staking.operatorsSealed(), "sealed at deployment");
        address intruder = address(0xBAD);
        vm.prank(intruder);
        vm.expectRevert();
        staking.sealOperators();
        staking.sealOperators();
        assertTrue(staking.operatorsSealed(), "not sealed");
        vm.expectRevert(IStaking.StakingOperatorsSealed.selector);
        staking.setOperator(intruder, true);
        vm.expectRevert(IStaking.StakingOperatorsSealed.selector);
        staking.setOperator(address(this), false);
        vm.expectRevert(IStaking.StakingOperatorsSealed.selector);
        staking.sealOperators();
        assertFalse(staking.isOperator(intruder), "an operator was appointed after the seal");

        _stake(MIN_STAKE);
        staking.lock(STAKER, MIN_STAKE);
        staking.slash(STAKER, 1 ether, SINK);
        staking.unlock(STAKER, MIN_STAKE - 1 ether);
        assertEq(_info().locked, 0, "the sealed operator no longer works");
        _checkBacking();
    }

    /// @notice The minimum stake (what a challenger needs) is capped at MAX_MIN_STAKE, at deployment
    /// and after: a higher one is refused and leaves it unchanged.
    /// Before: any minimum up to 2^96 - 1 was accepted, so a vote could price every challenger out.
    function testFuzz_minStakeIsCapped(uint256 value) public {
        uint256 cap = staking.MAX_MIN_STAKE();
        assertEq(cap, 1_000_000 ether, "cap");
        value = bound(value, 0, 2 * cap);
        if (value > cap) {
            vm.expectRevert(abi.encodeWithSelector(IStaking.StakingInvalidParameter.selector, "minStake"));
            staking.setMinStake(value);
            assertEq(staking.minStake(), MIN_STAKE, "a refused minimum changed it");
            vm.expectRevert(abi.encodeWithSelector(IStaking.StakingInvalidParameter.selector, "minStake"));
            new Staking(token, address(this), value, DELAY);
        } else {
            staking.setMinStake(value);
            assertEq(staking.minStake(), value, "minimum not set");
        }
        staking.setMinStake(cap);
        assertEq(staking.minStake(), cap, "the cap itself refused");
    }
}
