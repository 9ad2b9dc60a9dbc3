// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IJobManager} from "../../contracts/interfaces/IJobManager.sol";
import {IModelRegistry} from "../../contracts/interfaces/IModelRegistry.sol";
import {IWorkerRoster} from "../../contracts/interfaces/IWorkerRoster.sol";

import {Test} from "./utils/Test.sol";
import {TestData, Terms, Deployment, Deployer} from "./utils/Protocol.sol";

/**
 * @title AssignmentTest
 * @notice Claims through the roster (issue 18): in each drawn slot only the drawn worker can claim
 * (every other claim reverts before anything moves), the next slot's worker may claim when the first
 * lets its slot pass and the one that missed leaves the draws, the job is open to all after the drawn
 * slots, a reopened job is drawn again, and over many jobs each worker claims about its stake share.
 * Before: the first claim to be mined won, so every worker that saw an open job sent a claim and all
 * but one reverted.
 */
contract AssignmentTest is Test {
    uint256 private constant MIN_STAKE = 100 ether;
    uint256 private constant EPOCH_BLOCKS = 1_000;
    uint32 private constant SLOT_BLOCKS = 4;
    uint32 private constant DRAWN_SLOTS = 3;
    uint256 private constant FEE = 20 ether;
    address private constant TREASURY = address(0x7EA5);
    address private constant REQUESTER = address(0x4E0);

    Deployment private d;
    uint256 private modelId;
    address[] private workers;

    function setUp() public {
        d = Deployer.deployAssigned(TREASURY, MIN_STAKE, 1 days, EPOCH_BLOCKS, IWorkerRoster.Params(1_000_000 ether, SLOT_BLOCKS, DRAWN_SLOTS));
        modelId = d.registry.registerModel(TestData.tinyModel(1 ether, 10_000, new IModelRegistry.Contributor[](0), 1));
        d.token.transfer(REQUESTER, 1_000_000 ether);
        vm.prank(REQUESTER);
        d.token.approve(address(d.jobs), type(uint256).max);
        // Stakes 1:2:3:4 (tens of thousands of VTN: room for hundreds of 30-VTN locks), all serving the model.
        for (uint256 i = 0; i < 4; ++i) {
            address w = address(uint160(0xA000 + i));
            workers.push(w);
            uint256 amount = (i + 1) * 10_000 ether;
            d.token.transfer(w, amount);
            vm.startPrank(w);
            d.token.approve(address(d.staking), amount);
            d.staking.stake(amount);
            d.staking.setModelServed(modelId, true);
            d.roster.join(modelId);
            vm.stopPrank();
        }
        // The weights are in force from the next epoch.
        vm.roll((block.number / EPOCH_BLOCKS + 1) * EPOCH_BLOCKS + 1);
    }

    /// @notice In every drawn slot, every worker but the drawn one is refused (WorkerRosterNotAssigned,
    /// naming the drawn worker and the slot's end); the drawn one claims.
    function testFuzz_onlyTheDrawnWorkerClaimsInItsSlot(uint256 wait, uint256 skip) public {
        vm.roll(block.number + bound(skip, 0, 50));
        (uint256 jobId, IJobManager.JobTerms memory t) = _request();
        uint256 requested = block.number;
        vm.roll(requested + 2 + bound(wait, 0, SLOT_BLOCKS * DRAWN_SLOTS - 1));
        IWorkerRoster.Assignment memory a = d.roster.assignee(modelId, jobId, requested);
        assertFalse(a.open, "open during the drawn slots");
        for (uint256 i = 0; i < workers.length; ++i) {
            if (workers[i] == a.worker) continue;
            vm.expectRevert(abi.encodeWithSelector(IWorkerRoster.WorkerRosterNotAssigned.selector, jobId, workers[i], a.worker, a.slotEnd));
            vm.prank(workers[i]);
            d.jobs.claim(jobId, t);
        }
        vm.prank(a.worker);
        d.jobs.claim(jobId, t);
        assertEq(d.jobs.getJob(jobId).worker, a.worker, "claimed by another");
    }

    /// @notice Nobody may claim before the job's seed block is mined (not even the worker that will be drawn).
    function test_noClaimBeforeTheSeedBlock() public {
        (uint256 jobId, IJobManager.JobTerms memory t) = _request();
        for (uint256 i = 0; i < workers.length; ++i) {
            vm.expectRevert(abi.encodeWithSelector(IWorkerRoster.WorkerRosterNotAssigned.selector, jobId, workers[i], address(0), block.number + 1 + SLOT_BLOCKS));
            vm.prank(workers[i]);
            d.jobs.claim(jobId, t);
        }
    }

    /// @notice The drawn worker of slot 0 lets its slot pass: slot 1's worker claims, and the one that
    /// missed leaves the draws from the next epoch (SlotMissed); after the drawn slots anyone claims.
    function test_fallbackToTheNextSlotAndThenToAll() public {
        // A job whose slot-0 and slot-1 workers differ (the draws are deterministic: the first such job).
        uint256 jobId;
        IJobManager.JobTerms memory t;
        uint256 requested;
        address first;
        IWorkerRoster.Assignment memory second;
        for (uint256 attempt = 0; attempt < 20 && second.worker == first; ++attempt) {
            (jobId, t) = _request();
            requested = block.number;
            vm.roll(requested + 2);
            first = d.roster.assignee(modelId, jobId, requested).worker;
            vm.roll(requested + 2 + SLOT_BLOCKS);
            second = d.roster.assignee(modelId, jobId, requested);
        }
        assertTrue(second.worker != first, "no job with two different drawn workers in 20");
        assertEq(second.slot, 1, "not slot 1");
        // Slot 0's worker is too late now.
        vm.expectRevert(abi.encodeWithSelector(IWorkerRoster.WorkerRosterNotAssigned.selector, jobId, first, second.worker, second.slotEnd));
        vm.prank(first);
        d.jobs.claim(jobId, t);
        vm.prank(second.worker);
        d.jobs.claim(jobId, t);
        (, uint256 now_, uint256 next) = d.roster.memberOf(modelId, first);
        assertTrue(now_ != 0, "benched within the epoch");
        assertEq(next, 0, "the worker that missed its slot is still drawn next epoch");
        (, , next) = d.roster.memberOf(modelId, second.worker);
        assertTrue(next != 0, "the claimer was benched");

        // A second job, left through all its drawn slots: open to every worker.
        (uint256 other, IJobManager.JobTerms memory u) = _request();
        vm.roll(block.number + 2 + SLOT_BLOCKS * DRAWN_SLOTS);
        IWorkerRoster.Assignment memory a = d.roster.assignee(modelId, other, block.number - 2 - SLOT_BLOCKS * DRAWN_SLOTS);
        assertTrue(a.open, "not open after the drawn slots");
        address anyone = workers[workers.length - 1] == second.worker ? workers[0] : workers[workers.length - 1];
        vm.prank(anyone);
        d.jobs.claim(other, u);
        assertEq(d.jobs.getJob(other).worker, anyone, "the open claim failed");
    }

    /// @notice A worker that times out reopens the job, which is drawn again from the reopening block.
    function test_aReopenedJobIsDrawnAgain() public {
        (uint256 jobId, IJobManager.JobTerms memory t) = _request();
        vm.roll(block.number + 2);
        address drawn = d.roster.assignee(modelId, jobId, block.number - 2).worker;
        vm.prank(drawn);
        d.jobs.claim(jobId, t);
        vm.warp(block.timestamp + 31 minutes);
        d.jobs.expire(jobId, t);
        IJobManager.Job memory j = d.jobs.getJob(jobId);
        assertTrue(j.status == IJobManager.JobStatus.Open, "not reopened");
        assertEq(j.timer, block.number, "the reopened job keeps its old seed block");
        vm.roll(block.number + 2);
        IWorkerRoster.Assignment memory a = d.roster.assignee(modelId, jobId, j.timer);
        assertEq(a.seedBlock, j.timer + 1, "seed after the reopening");
        vm.prank(a.worker);
        d.jobs.claim(jobId, t);
    }

    /// @notice Over 400 jobs, each claimed by its slot-0 worker, each worker's share is within ±25% of
    /// its stake share (1:2:3:4).
    function test_claimsFollowStakes() public {
        uint256[4] memory claims;
        uint256 jobs = 400;
        for (uint256 n = 0; n < jobs; ++n) {
            (uint256 jobId, IJobManager.JobTerms memory t) = _request();
            vm.roll(block.number + 2);
            address drawn = d.roster.assignee(modelId, jobId, block.number - 2).worker;
            vm.prank(drawn);
            d.jobs.claim(jobId, t);
            for (uint256 i = 0; i < 4; ++i) if (drawn == workers[i]) claims[i] += 1;
        }
        for (uint256 i = 0; i < 4; ++i) {
            uint256 expected = (jobs * (i + 1)) / 10;
            assertGe(claims[i] * 4, expected * 3, "a worker claimed below 75% of its stake share");
            assertLe(claims[i] * 4, expected * 5, "a worker claimed above 125% of its stake share");
        }
    }

    function _request() private returns (uint256 jobId, IJobManager.JobTerms memory t) {
        IJobManager.RequestParams memory p = TestData.request(modelId, TestData.tensor4(7), FEE, block.timestamp + 1 hours);
        t = Terms.expected(d.jobs, d.registry, REQUESTER, p);
        vm.prank(REQUESTER);
        jobId = d.jobs.requestInference(p);
    }
}
