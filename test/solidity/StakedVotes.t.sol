// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC5805} from "@openzeppelin/contracts/interfaces/IERC5805.sol";

import {VeritensorToken} from "../../contracts/token/VeritensorToken.sol";
import {Staking} from "../../contracts/staking/Staking.sol";
import {IStaking} from "../../contracts/interfaces/IStaking.sol";
import {VeritensorGovernor} from "../../contracts/governance/VeritensorGovernor.sol";
import {ProtocolTimelock} from "../../contracts/governance/ProtocolTimelock.sol";

import {Test} from "./utils/Test.sol";

/// @dev A votes source on a timestamp clock: the Governor must refuse to add it to a block-number token.
contract TimestampClock {
    function CLOCK_MODE() external pure returns (string memory) {
        return "mode=timestamp";
    }
}

/**
 * @notice Staked votes never count twice: random walks of transfers, stakes, unstakes, withdrawals,
 * slashes, burns and delegations (on the token and in Staking), one or more per block; then, at
 * every block of the walk, the votes of all accounts from both sources sum to at most the token's
 * supply at that block, the Governor's votes of each account are that sum, and Staking's votes sum
 * to its recorded total.
 */
contract StakedVotesTest is Test {
    uint256 private constant SUPPLY = 1_000_000_000 ether;
    uint256 private constant N = 4;
    uint256 private constant STEPS = 40;
    address private constant SINK = address(0x5117);

    VeritensorToken private token;
    Staking private staking;
    VeritensorGovernor private governor;
    address[N] private actors = [address(0xA1), address(0xA2), address(0xA3), address(0xA4)];
    uint256[] private timepoints;

    function setUp() public {
        token = new VeritensorToken(address(this), SUPPLY);
        staking = new Staking(token, address(this), 0, 1 days);
        staking.setOperator(address(this), true);
        ProtocolTimelock timelock = new ProtocolTimelock(0, new address[](0), new address[](0), address(this));
        governor = new VeritensorGovernor(token, staking, timelock, 1, 20, 0, 4);
        for (uint256 i = 0; i < N; ++i) {
            token.transfer(actors[i], SUPPLY / 8);
            vm.prank(actors[i]);
            token.approve(address(staking), type(uint256).max);
        }
    }

    function test_clocksAgree() public view {
        assertEq(keccak256(bytes(staking.CLOCK_MODE())), keccak256(bytes(token.CLOCK_MODE())), "clock modes");
        assertEq(staking.clock(), token.clock(), "clocks");
        assertEq(address(governor.stakedVotes()), address(staking), "staked votes source");
    }

    function test_governorRefusesASourceOnAnotherClock() public {
        ProtocolTimelock timelock = new ProtocolTimelock(0, new address[](0), new address[](0), address(this));
        IERC5805 other = IERC5805(address(new TimestampClock()));
        vm.expectRevert(
            abi.encodeWithSelector(
                VeritensorGovernor.VeritensorGovernorClockMismatch.selector,
                "mode=blocknumber&from=default",
                "mode=timestamp"
            )
        );
        new VeritensorGovernor(token, other, timelock, 1, 20, 0, 4);
    }

    function testFuzz_votesNeverCountTwice(uint256 seed) public {
        for (uint256 step = 0; step < STEPS; ++step) {
            uint256 r = uint256(keccak256(abi.encode(seed, step)));
            _act(r);
            if ((r >> 200) % 3 != 0) {
                timepoints.push(block.number);
                vm.roll(block.number + 1);
                vm.warp(block.timestamp + 12 hours);
            }
        }
        timepoints.push(block.number);
        vm.roll(block.number + 1);
        for (uint256 k = 0; k < timepoints.length; ++k) _check(timepoints[k]);
        // Now: Staking's recorded total is its balance (every token in it is some staker's).
        assertEq(staking.getPastTotalSupply(block.number - 1), token.balanceOf(address(staking)), "staking total != balance");
    }

    function _act(uint256 r) private {
        address a = actors[r % N];
        address b = actors[(r >> 8) % N];
        uint256 amount = (r >> 16) % (SUPPLY / 16);
        IStaking.StakeInfo memory s = staking.stakeOf(a);
        uint256 action = (r >> 96) % 8;
        vm.startPrank(a);
        if (action == 0) {
            uint256 bal = token.balanceOf(a);
            if (bal > 0) token.transfer(b, amount % bal);
        } else if (action == 1) {
            uint256 bal = token.balanceOf(a);
            if (bal > 0) staking.stake(amount % bal + 1 > bal ? bal : amount % bal + 1);
        } else if (action == 2) {
            uint256 free = s.staked - s.locked;
            if (free > 0) staking.requestUnstake(amount % free + 1);
        } else if (action == 3) {
            if (s.unbonding > 0) {
                vm.warp(s.unbondingEnd);
                staking.withdraw();
            }
        } else if (action == 4) {
            vm.stopPrank();
            uint256 free = s.staked - s.locked;
            if (free > 0) {
                uint256 lock = amount % free + 1;
                staking.lock(a, lock);
                staking.slash(a, lock / 2, SINK);
                staking.unlock(a, lock - lock / 2);
            }
            vm.startPrank(a);
        } else if (action == 5) {
            token.delegate(b);
        } else if (action == 6) {
            staking.delegate((r >> 104) % 5 == 0 ? address(0) : b);
        } else {
            uint256 bal = token.balanceOf(a);
            if (bal > 0) token.burn(amount % bal);
        }
        vm.stopPrank();
    }

    function _check(uint256 t) private view {
        uint256 sum;
        uint256 stakedSum;
        for (uint256 i = 0; i < N; ++i) {
            uint256 wallet = token.getPastVotes(actors[i], t);
            uint256 staked = staking.getPastVotes(actors[i], t);
            assertEq(governor.getVotes(actors[i], t), wallet + staked, "governor votes != wallet + staked");
            sum += wallet + staked;
            stakedSum += staked;
        }
        assertEq(token.getPastVotes(address(staking), t), 0, "staking's own tokens vote");
        assertEq(stakedSum, staking.getPastTotalSupply(t), "staked votes != staking total");
        assertLe(sum, token.getPastTotalSupply(t), "votes exceed supply");
    }
}
