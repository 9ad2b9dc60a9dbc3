// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IJobManager} from "../../../contracts/interfaces/IJobManager.sol";
import {IModelRegistry} from "../../../contracts/interfaces/IModelRegistry.sol";
import {IRedundantRequests} from "../../../contracts/interfaces/IRedundantRequests.sol";
import {RedundantRequests} from "../../../contracts/redundancy/RedundantRequests.sol";

import {Test} from "../utils/Test.sol";
import {Deployment, Deployer, TestData} from "../utils/Protocol.sol";
import {RedundancyHandler} from "./RedundancyHandler.sol";

/**
 * @title RedundancyInvariants
 * @notice Accounting invariants of the redundancy contract under random sequences of the handler's
 * actions: its tokens, with its escrow balance, are exactly what its groups are owed (the
 * requesters' pull balances, and what the escrow credited for jobs not yet settled); every token a
 * requester paid is a fee in flight, a fee paid out by a finalized job, or owed or returned to it;
 * a group's answer is only ever an output all its jobs (confirmed) or its finalized jobs (resolved) had.
 */
/// forge-config: default.invariant.runs = 48
/// forge-config: default.invariant.depth = 96
contract RedundancyInvariants is Test {
    address private constant TREASURY = address(0x7EA5);
    address private constant DEV = address(0xDE5);

    Deployment private d;
    RedundantRequests private rr;
    RedundancyHandler private handler;

    function setUp() public {
        d = Deployer.deploy(TREASURY, 100 ether, 1 days);
        rr = new RedundantRequests(d.jobs);
        vm.prank(DEV);
        uint256 modelId = d.registry.registerModel(TestData.tinyModel(1 ether, 10_000, new IModelRegistry.Contributor[](0), 1));
        address[] memory workers = new address[](4);
        for (uint256 i = 0; i < workers.length; ++i) {
            workers[i] = address(uint160(0xA000 + i));
            d.token.transfer(workers[i], 1_000_000 ether);
            vm.startPrank(workers[i]);
            d.token.approve(address(d.staking), type(uint256).max);
            d.staking.stake(1_000_000 ether);
            vm.stopPrank();
        }
        address[] memory requesters = new address[](3);
        for (uint256 i = 0; i < requesters.length; ++i) {
            requesters[i] = address(uint160(0xB000 + i));
            d.token.transfer(requesters[i], 1_000_000 ether);
            vm.prank(requesters[i]);
            d.token.approve(address(rr), type(uint256).max);
        }
        handler = new RedundancyHandler(d, rr, modelId, requesters, workers);
        d.jobs.setDisputeManager(address(handler));

        targetContract(address(handler));
        bytes4[] memory selectors = new bytes4[](14);
        selectors[0] = RedundancyHandler.request.selector;
        selectors[1] = RedundancyHandler.request.selector;
        selectors[2] = RedundancyHandler.serve.selector;
        selectors[3] = RedundancyHandler.serve.selector;
        selectors[4] = RedundancyHandler.serve.selector;
        selectors[5] = RedundancyHandler.claimOnly.selector;
        selectors[6] = RedundancyHandler.reject.selector;
        selectors[7] = RedundancyHandler.finalize.selector;
        selectors[8] = RedundancyHandler.expire.selector;
        selectors[9] = RedundancyHandler.warp.selector;
        selectors[10] = RedundancyHandler.confirm.selector;
        selectors[11] = RedundancyHandler.resolve.selector;
        selectors[12] = RedundancyHandler.settle.selector;
        selectors[13] = RedundancyHandler.withdraw.selector;
        targetSelector(FuzzSelector({addr: address(handler), selectors: selectors}));
    }

    /// @notice The contract's tokens plus its escrow balance equal what its groups are owed: the
    /// requesters' pull balances, plus what the escrow credited for jobs not yet settled (the fee of
    /// a refunded or rejected job, the timeout slashes of any job).
    function invariant_holdsExactlyWhatItOwes() public view {
        uint256 held = d.token.balanceOf(address(rr)) + d.jobs.balanceOf(address(rr));
        assertEq(held, _pullBalances() + _unsettledCredits(), "held != owed");
    }

    /// @notice Every token a requester paid in is a fee still in escrow, a fee a finalized job paid
    /// out, or owed or returned to a requester; timeout slashes come on top, to the requesters.
    function invariant_everyTokenAccounted() public view {
        uint256[] memory jobs = handler.jobs();
        uint256 inFlight;
        uint256 paidOut;
        uint256 slashes;
        uint256 refunds;
        for (uint256 i = 0; i < jobs.length; ++i) {
            IJobManager.JobStatus status = d.jobs.getJob(jobs[i]).status;
            uint256 fee = rr.getGroup(handler.groupOfJob(jobs[i])).fee;
            slashes += d.jobs.timeoutSlashes(jobs[i]);
            if (status == IJobManager.JobStatus.Finalized) paidOut += fee;
            else if (status == IJobManager.JobStatus.Refunded || status == IJobManager.JobStatus.Rejected) refunds += fee;
            else inFlight += fee;
        }
        assertEq(inFlight + paidOut + refunds, handler.ghostPaidIn(), "fees != paid in");
        // Refunds and slashes are owed (pending or credited) or were withdrawn.
        assertEq(refunds + slashes, _unsettledCredits() + _pullBalances() + handler.ghostWithdrawn(), "refunds and slashes not with the requesters");
    }

    /// @notice A group's answer is an output its jobs had: a confirmed group's jobs all carry it
    /// (whatever became of them later), a resolved group's finalized jobs carry it.
    function invariant_answersAreOutputsTheJobsHad() public view {
        uint256[] memory groups = handler.groups();
        for (uint256 i = 0; i < groups.length; ++i) {
            IRedundantRequests.Group memory g = rr.getGroup(groups[i]);
            if (g.status == IRedundantRequests.GroupStatus.Pending) {
                assertEq(g.outputCommitment, bytes32(0), "a pending group with an answer");
                continue;
            }
            bytes32 expected = d.jobs.resultHash(handler.termsOf(groups[i]), g.outputCommitment);
            uint256 finalized;
            for (uint256 j = 0; j < g.k; ++j) {
                IJobManager.Job memory job = d.jobs.getJob(g.firstJobId + j);
                if (job.status == IJobManager.JobStatus.Finalized) ++finalized;
                // Confirmed: every job posted it (a later rejection keeps the result hash). Resolved:
                // every finalized job has it.
                bool carries = job.status == IJobManager.JobStatus.Finalized || g.status == IRedundantRequests.GroupStatus.Confirmed;
                if (carries) assertEq(job.commitment, expected, "a job without the group's answer");
            }
            if (g.status == IRedundantRequests.GroupStatus.Resolved) assertGe(finalized, 1, "resolved without a finalized job");
        }
    }

    /// @notice No action the contract's rules allow failed.
    function invariant_noViolations() public view {
        assertEq(handler.violations(), 0, "violations");
    }

    function _pullBalances() private view returns (uint256 sum) {
        address[] memory requesters = handler.requesters();
        for (uint256 i = 0; i < requesters.length; ++i) sum += rr.balanceOf(requesters[i]);
    }

    function _unsettledCredits() private view returns (uint256 sum) {
        uint256[] memory jobs = handler.jobs();
        for (uint256 i = 0; i < jobs.length; ++i) {
            if (handler.isSettled(jobs[i])) continue;
            IJobManager.JobStatus status = d.jobs.getJob(jobs[i]).status;
            sum += d.jobs.timeoutSlashes(jobs[i]);
            if (status == IJobManager.JobStatus.Refunded || status == IJobManager.JobStatus.Rejected) {
                sum += rr.getGroup(handler.groupOfJob(jobs[i])).fee;
            }
        }
    }
}
