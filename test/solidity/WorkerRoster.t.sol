// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {VeritensorToken} from "../../contracts/token/VeritensorToken.sol";
import {Staking} from "../../contracts/staking/Staking.sol";
import {IWorkerRoster} from "../../contracts/interfaces/IWorkerRoster.sol";
import {WorkerRoster} from "../../contracts/assignment/WorkerRoster.sol";
import {CAPACITY, EpochSortition} from "../../contracts/assignment/EpochSortition.sol";

import {Test} from "./utils/Test.sol";

/// @dev The library over one tree in storage, with a plain array of the weights beside it to check against.
contract SortitionHarness {
    using EpochSortition for EpochSortition.Tree;

    EpochSortition.Tree private tree;

    function update(uint256 position, uint256 increase, uint256 decrease, uint256 epoch) external {
        tree.update(position, increase, decrease, epoch);
    }

    function total(uint256 epoch) external view returns (uint256) {
        return tree.total(epoch);
    }

    function find(uint256 point, uint256 epoch) external view returns (uint256) {
        return tree.find(point, epoch);
    }

    function weightOf(uint256 position, uint256 epoch) external view returns (uint256, uint256) {
        return tree.weightOf(position, epoch);
    }
}

/**
 * @title WorkerRosterTest
 * @notice The stake-weighted draw of issue 18: the sortition tree agrees with a linear scan in every
 * epoch; weight changes wait for the next epoch (so a worker that sees the seed cannot steer the
 * draw); shares over many draws follow stakes; the cap bounds one account and splitting gains
 * nothing; the slots of a job's assignment; positions join, leave and are reclaimed.
 */
contract WorkerRosterTest is Test {
    uint256 private constant SUPPLY = 1_000_000_000 ether;
    uint256 private constant MIN_STAKE = 100 ether;
    uint256 private constant EPOCH_BLOCKS = 100;
    uint256 private constant MODEL = 7;
    uint96 private constant CAP = 10_000 ether;
    uint32 private constant SLOT_BLOCKS = 5;
    uint32 private constant DRAWN_SLOTS = 3;

    VeritensorToken private token;
    Staking private staking;
    WorkerRoster private roster;

    function setUp() public {
        token = new VeritensorToken(address(this), SUPPLY);
        staking = new Staking(token, address(this), MIN_STAKE, 1 days);
        roster = new WorkerRoster(staking, EPOCH_BLOCKS, address(this), IWorkerRoster.Params(CAP, SLOT_BLOCKS, DRAWN_SLOTS));
        vm.roll(EPOCH_BLOCKS * 10);
    }

    // ------------------------------------------------------------ the tree

    /// @notice After random changes over several epochs, the tree answers as a linear scan of the
    /// weights in force: the total, every position's weight now and next, and the position drawn for
    /// random points (never one of weight zero).
    function testFuzz_treeAgreesWithALinearScan(uint256 seed) public {
        SortitionHarness h = new SortitionHarness();
        uint256[CAPACITY + 1] memory current;
        uint256[CAPACITY + 1] memory next;
        uint256 epoch = 1;
        for (uint256 round = 0; round < 40; ++round) {
            uint256 r = uint256(keccak256(abi.encode(seed, round)));
            if (r % 5 == 0) {
                // A new epoch: what was scheduled is in force.
                epoch += 1 + ((r >> 8) % 3);
                for (uint256 p = 1; p <= CAPACITY; ++p) current[p] = next[p];
            }
            uint256 position = 1 + ((r >> 16) % 24) * ((r >> 40) % 2 == 0 ? 1 : 10);
            if (position > CAPACITY) position = CAPACITY;
            uint256 weight = (r >> 64) % 4 == 0 ? 0 : ((r >> 80) % 1_000) * 1 ether;
            uint256 before = next[position];
            h.update(position, weight > before ? weight - before : 0, before > weight ? before - weight : 0, epoch);
            next[position] = weight;

            _checkTree(h, current, next, position, epoch, r);
        }
    }

    function _checkTree(
        SortitionHarness h,
        uint256[CAPACITY + 1] memory current,
        uint256[CAPACITY + 1] memory next,
        uint256 position,
        uint256 epoch,
        uint256 r
    ) private view {
        uint256 sum;
        for (uint256 p = 1; p <= CAPACITY; ++p) sum += current[p];
        assertEq(h.total(epoch), sum, "total != sum of the weights in force");
        (uint256 now_, uint256 later) = h.weightOf(position, epoch);
        assertEq(now_, current[position], "weight now");
        assertEq(later, next[position], "weight next");
        if (sum == 0) return;
        for (uint256 k = 0; k < 4; ++k) {
            uint256 point = uint256(keccak256(abi.encode(r, k))) % sum;
            assertEq(h.find(point, epoch), _linearFind(current, point), "drawn position != linear scan");
        }
    }

    /// @dev The position whose weight covers `point`, by a scan from the first.
    function _linearFind(uint256[CAPACITY + 1] memory weights, uint256 point) private pure returns (uint256) {
        uint256 acc;
        for (uint256 p = 1; p <= CAPACITY; ++p) {
            acc += weights[p];
            if (acc > point) return p;
        }
        return 0;
    }

    // ------------------------------------------------------------ shares and weights

    /// @notice Over 3,000 draws, each of five workers staked 1:2:3:4:5 is drawn within ±10% of its
    /// stake share (the seeds are fixed: the result is the same on every run).
    function test_drawSharesFollowStakes() public {
        address[5] memory workers;
        uint256[5] memory wins;
        for (uint256 i = 0; i < 5; ++i) {
            workers[i] = address(uint160(0xA000 + i));
            _join(workers[i], (i + 1) * 1_000 ether);
        }
        _nextEpoch();
        uint256 draws = 3_000;
        for (uint256 j = 0; j < draws; ++j) {
            address drawn = roster.draw(MODEL, keccak256(abi.encode("draw", j)));
            for (uint256 i = 0; i < 5; ++i) if (drawn == workers[i]) wins[i] += 1;
        }
        for (uint256 i = 0; i < 5; ++i) {
            uint256 expected = (draws * (i + 1)) / 15;
            assertGe(wins[i] * 10, expected * 9, "drawn below 90% of its stake share");
            assertLe(wins[i] * 10, expected * 11, "drawn above 110% of its stake share");
        }
    }

    /// @notice A stake above the cap weighs the cap; the same stake split over accounts below the
    /// cap weighs its sum: splitting never weighs more than the stake.
    function test_capBoundsOneAccountAndSplittingGainsNothing() public {
        address whale = address(0xB1);
        _join(whale, 4 * uint256(CAP));
        address[4] memory parts = [address(0xB2), address(0xB3), address(0xB4), address(0xB5)];
        for (uint256 i = 0; i < 4; ++i) _join(parts[i], CAP);
        _nextEpoch();
        (, uint256 whaleWeight, ) = roster.memberOf(MODEL, whale);
        assertEq(whaleWeight, CAP, "a stake above the cap weighs more than the cap");
        assertEq(roster.totalWeight(MODEL), 5 * uint256(CAP), "total");
        // The four parts together: 4 caps for 4 caps of stake, no more.
        uint256 split;
        for (uint256 i = 0; i < 4; ++i) {
            (, uint256 w, ) = roster.memberOf(MODEL, parts[i]);
            split += w;
        }
        assertEq(split, 4 * uint256(CAP), "splitting changed the weight of the stake");
    }

    // ------------------------------------------------------------ steering

    /// @notice A worker that sees the seed of a job's draw and raises its weight (a top-up and a
    /// refresh), or a rival that drops out, changes nothing in this epoch's draw: the change is in
    /// force from the next epoch, when the job is drawn again with a new seed.
    /// Without the epoch buffer (a weight in force at once) the same moves would shift every draw.
    function test_weightChangesWaitForTheNextEpoch() public {
        address a = address(0xC1);
        address b = address(0xC2);
        _join(a, 1_000 ether);
        _join(b, 1_000 ether);
        _nextEpoch();
        uint256 requestBlock = block.number;
        vm.roll(block.number + 2);
        address[] memory before = _drawsOver(40);

        _stake(a, 8_000 ether);
        roster.refresh(a, MODEL);
        vm.prank(b);
        roster.leave(MODEL);
        assertEq(roster.totalWeight(MODEL), 2_000 ether, "the total changed in the epoch");
        address[] memory afterMoves = _drawsOver(40);
        for (uint256 i = 0; i < before.length; ++i) assertEq(afterMoves[i], before[i], "a draw moved within the epoch");
        (, uint256 now_, uint256 next) = roster.memberOf(MODEL, a);
        assertEq(now_, 1_000 ether, "in force now");
        assertEq(next, 9_000 ether, "from the next epoch");

        _nextEpoch();
        assertEq(roster.totalWeight(MODEL), 9_000 ether, "next epoch's total");
        IWorkerRoster.Assignment memory x = roster.assignee(MODEL, 1, requestBlock);
        assertEq(x.seedBlock, (block.number / EPOCH_BLOCKS) * EPOCH_BLOCKS + 1, "a new epoch draws with a new seed");
    }

    // ------------------------------------------------------------ slots

    /// @notice A job waits for its seed block; each slot has one drawn worker (a member), for
    /// `slotBlocks` blocks; after `drawnSlots` slots it is open to everyone; a roster without weight
    /// leaves it open at once.
    function test_assignmentSlots() public {
        uint256 requestBlock = block.number;
        IWorkerRoster.Assignment memory x = roster.assignee(MODEL, 1, requestBlock);
        assertTrue(x.open, "a model nobody serves is not open");

        address a = address(0xD1);
        address b = address(0xD2);
        _join(a, 1_000 ether);
        _join(b, 3_000 ether);
        _nextEpoch();
        requestBlock = block.number;
        x = roster.assignee(MODEL, 1, requestBlock);
        assertEq(x.worker, address(0), "drawn before its seed block was mined");
        assertFalse(x.open, "open before its seed block");
        assertEq(x.seedBlock, requestBlock + 1, "seed block");

        for (uint256 slot = 0; slot < DRAWN_SLOTS; ++slot) {
            vm.roll(requestBlock + 2 + slot * SLOT_BLOCKS);
            x = roster.assignee(MODEL, 1, requestBlock);
            assertEq(x.slot, slot, "slot");
            assertFalse(x.open, "open during a drawn slot");
            assertTrue(x.worker == a || x.worker == b, "drawn a non-member");
            assertEq(x.slotEnd, requestBlock + 1 + (slot + 1) * SLOT_BLOCKS, "slot end");
            vm.roll(x.slotEnd);
            assertEq(roster.assignee(MODEL, 1, requestBlock).slot, slot, "the slot's last block is in it");
        }
        vm.roll(requestBlock + 2 + DRAWN_SLOTS * SLOT_BLOCKS);
        x = roster.assignee(MODEL, 1, requestBlock);
        assertTrue(x.open, "not open after the drawn slots");
        assertEq(x.worker, address(0), "a worker named while open");
    }

    // ------------------------------------------------------------ membership

    /// @notice Joining needs the model served and the minimum stake; leaving keeps the position until
    /// the weight is zero now and next; reclaim frees it for the next joiner.
    function test_joinLeaveReclaim() public {
        address a = address(0xE1);
        vm.expectRevert(abi.encodeWithSelector(IWorkerRoster.WorkerRosterNotServing.selector, a, MODEL));
        vm.prank(a);
        roster.join(MODEL);
        vm.prank(a);
        staking.setModelServed(MODEL, true);
        vm.expectRevert(abi.encodeWithSelector(IWorkerRoster.WorkerRosterInsufficientStake.selector, a, 0, MIN_STAKE));
        vm.prank(a);
        roster.join(MODEL);

        _join(a, 1_000 ether);
        (uint256 position, , ) = roster.memberOf(MODEL, a);
        assertEq(position, 1, "first position");
        _nextEpoch();
        vm.prank(a);
        roster.leave(MODEL);
        vm.expectRevert(abi.encodeWithSelector(IWorkerRoster.WorkerRosterPositionInUse.selector, a, 1_000 ether, 0));
        roster.reclaim(MODEL, a);
        _nextEpoch();
        roster.reclaim(MODEL, a);
        (position, , ) = roster.memberOf(MODEL, a);
        assertEq(position, 0, "still a member");
        vm.expectRevert(abi.encodeWithSelector(IWorkerRoster.WorkerRosterNotMember.selector, a, MODEL));
        roster.refresh(a, MODEL);

        address b = address(0xE2);
        _join(b, 1_000 ether);
        (position, , ) = roster.memberOf(MODEL, b);
        assertEq(position, 1, "the freed position was not reused");
    }

    /// @notice Anyone can lower a member's weight once its stake no longer backs it (it stopped
    /// serving the model), so draws do not keep landing on it.
    function test_refreshFollowsTheStake() public {
        address a = address(0xF1);
        _join(a, 2_000 ether);
        vm.prank(a);
        staking.setModelServed(MODEL, false);
        vm.prank(address(0xBEEF));
        roster.refresh(a, MODEL);
        (, , uint256 next) = roster.memberOf(MODEL, a);
        assertEq(next, 0, "a member that stopped serving keeps its weight");
    }

    /// @notice Parameters that would leave a drawn slot without a readable seed, or no time to claim,
    /// are refused.
    function test_paramsBounds() public {
        vm.expectRevert(abi.encodeWithSelector(IWorkerRoster.WorkerRosterInvalidParameter.selector, "drawnSlots"));
        roster.setParams(IWorkerRoster.Params(CAP, 64, 4));
        vm.expectRevert(abi.encodeWithSelector(IWorkerRoster.WorkerRosterInvalidParameter.selector, "slotBlocks"));
        roster.setParams(IWorkerRoster.Params(CAP, 0, 4));
        vm.expectRevert(abi.encodeWithSelector(IWorkerRoster.WorkerRosterInvalidParameter.selector, "weightCap"));
        roster.setParams(IWorkerRoster.Params(0, 5, 4));
        roster.setParams(IWorkerRoster.Params(CAP, 85, 3));
        assertEq(roster.params().slotBlocks, 85, "the bound itself refused");
    }

    // ------------------------------------------------------------ helpers

    function _stake(address who, uint256 amount) private {
        token.transfer(who, amount);
        vm.startPrank(who);
        token.approve(address(staking), amount);
        staking.stake(amount);
        vm.stopPrank();
    }

    function _join(address who, uint256 amount) private {
        _stake(who, amount);
        vm.startPrank(who);
        staking.setModelServed(MODEL, true);
        roster.join(MODEL);
        vm.stopPrank();
    }

    function _nextEpoch() private {
        vm.roll((block.number / EPOCH_BLOCKS + 1) * EPOCH_BLOCKS);
    }

    function _drawsOver(uint256 n) private view returns (address[] memory drawn) {
        drawn = new address[](n);
        for (uint256 i = 0; i < n; ++i) drawn[i] = roster.draw(MODEL, keccak256(abi.encode("steer", i)));
    }
}
