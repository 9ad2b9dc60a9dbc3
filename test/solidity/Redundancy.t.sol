// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {console} from "hardhat/console.sol";

import {IJobManager} from "../../contracts/interfaces/IJobManager.sol";
import {IModelRegistry} from "../../contracts/interfaces/IModelRegistry.sol";
import {IRedundantRequests} from "../../contracts/interfaces/IRedundantRequests.sol";
import {IPullPayments} from "../../contracts/interfaces/IPullPayments.sol";
import {RedundantRequests} from "../../contracts/redundancy/RedundantRequests.sol";

import {Vm} from "./utils/Vm.sol";
import {Test} from "./utils/Test.sol";
import {TestData, Deployment, Deployer} from "./utils/Protocol.sol";

/**
 * @title RedundancyBase
 * @notice The protocol with the redundancy contract, a model, a requester and eight staked workers,
 * and the steps of a group's life, with the jobs' terms read back from the escrow's `JobRequested`
 * (the group's jobs share them). This contract owns the escrow (governance) and is its dispute manager.
 */
abstract contract RedundancyBase is Test {
    uint256 internal constant MIN_STAKE = 100 ether;
    address internal constant TREASURY = address(0x7EA5);
    address internal constant DEV = address(0xDE5);
    address internal constant REQUESTER = address(0x5E9);
    address internal constant STRANGER = address(0x57A9);
    uint96 internal constant PRICE = 1 ether;
    uint32 internal constant TRUE_OUTPUT = 42;
    uint256 internal constant WORKERS = 8;

    Deployment internal d;
    RedundantRequests internal rr;
    uint256 internal modelId;
    address[WORKERS] internal workers;
    mapping(uint256 groupId => IJobManager.JobTerms) internal _terms;
    mapping(uint32 value => bytes32) private _outs;

    function setUp() public virtual {
        d = Deployer.deploy(TREASURY, MIN_STAKE, 1 days);
        d.jobs.setDisputeManager(address(this));
        rr = new RedundantRequests(d.jobs);
        vm.prank(DEV);
        modelId = d.registry.registerModel(TestData.tinyModel(PRICE, 10_000, new IModelRegistry.Contributor[](0), 1));
        for (uint256 i = 0; i < WORKERS; ++i) {
            workers[i] = address(uint160(0x3000 + i));
            d.token.transfer(workers[i], 10_000 ether);
            vm.startPrank(workers[i]);
            d.token.approve(address(d.staking), type(uint256).max);
            d.staking.stake(10_000 ether);
            vm.stopPrank();
        }
        for (uint32 v = TRUE_OUTPUT; v < TRUE_OUTPUT + 10; ++v) _outs[v] = TestData.commitOneChunk(TestData.tensor4(v));
        d.token.transfer(REQUESTER, 1_000_000 ether);
        vm.prank(REQUESTER);
        d.token.approve(address(rr), type(uint256).max);
    }

    function _params(uint256 fee) internal view returns (IJobManager.RequestParams memory) {
        return TestData.request(modelId, TestData.tensor4(7), fee, block.timestamp + 2 hours);
    }

    /// @dev REQUESTER asks for `k` jobs at `fee` each, stating `value`; keeps the group's terms.
    function _request(uint256 k, uint256 fee, uint256 value) internal returns (uint256 groupId) {
        vm.recordLogs();
        vm.prank(REQUESTER);
        groupId = rr.request(_params(fee), k, value);
        Vm.Log[] memory logs = vm.getRecordedLogs();
        uint256 found;
        for (uint256 i = 0; i < logs.length; ++i) {
            if (logs[i].emitter != address(d.jobs) || logs[i].topics[0] != IJobManager.JobRequested.selector) continue;
            (IJobManager.JobTerms memory t, , ) = abi.decode(logs[i].data, (IJobManager.JobTerms, bytes, string));
            if (found == 0) _terms[groupId] = t;
            // Every job of the group has the same terms: one request, one block.
            assertEq(keccak256(abi.encode(t)), keccak256(abi.encode(_terms[groupId])), "the group's jobs differ in terms");
            ++found;
        }
        assertEq(found, k, "not k jobs requested");
    }

    function _job(uint256 groupId, uint256 i) internal view returns (uint256) {
        return rr.jobIds(groupId)[i];
    }

    /// @dev The output commitment of `value`, from a table filled in {setUp}: a storage read, not a
    /// call to the SHA-256 precompile, so that it can stand among the arguments of a call under
    /// `expectRevert` (which the first call made would consume).
    function _out(uint32 value) internal view returns (bytes32 commitment) {
        commitment = _outs[value];
        require(commitment != bytes32(0), "output outside the table");
    }

    /// @dev `worker` claims job `i` of the group and submits `value`.
    function _serve(uint256 groupId, uint256 i, address worker, uint32 value) internal {
        _claim(groupId, i, worker);
        _submit(groupId, i, worker, value);
    }

    function _claim(uint256 groupId, uint256 i, address worker) internal {
        uint256 jobId = _job(groupId, i);
        vm.prank(worker);
        d.jobs.claim(jobId, _terms[groupId]);
    }

    function _submit(uint256 groupId, uint256 i, address worker, uint32 value) internal {
        bytes memory output = TestData.tensor4(value);
        uint256 jobId = _job(groupId, i);
        bytes32 commitment = TestData.commitOneChunk(output);
        vm.prank(worker);
        d.jobs.submitResult(jobId, _terms[groupId], output, commitment);
    }

    /// @dev This contract, the dispute manager, proves job `i`'s result (`value`) wrong.
    function _reject(uint256 groupId, uint256 i, uint32 value, uint256 slash) internal {
        uint256 jobId = _job(groupId, i);
        d.jobs.freezeForDispute(jobId, _terms[groupId], _out(value));
        d.jobs.settleDispute(jobId, false, slash);
    }

    function _finalize(uint256 groupId, uint256 i, uint32 value) internal {
        d.jobs.finalize(_job(groupId, i), _terms[groupId], _out(value));
    }

    function _status(uint256 groupId) internal view returns (IRedundantRequests.GroupStatus) {
        return rr.getGroup(groupId).status;
    }

    /// @dev The least fee the escrow takes for the test model, plus `extra`.
    function _fee(uint256 extra) internal view returns (uint256) {
        return d.jobs.minimumFee(PRICE) + extra;
    }
}

/**
 * @title RedundancyTest
 * @notice Requests, early confirmation, resolution after the windows, and their errors.
 */
contract RedundancyTest is RedundancyBase {
    function test_requestOpensKJobsOfOneInputAndPullsKFeesOnce() public {
        uint256 fee = _fee(1 ether);
        uint256 before = d.token.balanceOf(REQUESTER);
        uint256 escrowBefore = d.token.balanceOf(address(d.jobs));
        uint256 groupId = _request(3, fee, 0);
        assertEq(before - d.token.balanceOf(REQUESTER), 3 * fee, "not k fees paid");
        assertEq(d.token.balanceOf(address(d.jobs)) - escrowBefore, 3 * fee, "the fees are not in escrow");
        assertEq(d.token.balanceOf(address(rr)), 0, "fees left behind");

        IRedundantRequests.Group memory g = rr.getGroup(groupId);
        assertEq(g.requester, REQUESTER, "requester");
        assertEq(g.k, 3, "k");
        assertEq(g.fee, fee, "fee");
        assertTrue(g.status == IRedundantRequests.GroupStatus.Pending, "not pending");
        assertEq(rr.groupCount(), 1, "group count");
        uint256[] memory ids = rr.jobIds(groupId);
        for (uint256 i = 0; i < 3; ++i) {
            assertEq(ids[i], g.firstJobId + i, "not consecutive");
            // The escrow's job is an ordinary one, this contract its requester, no consumer.
            assertEq(d.jobs.getJob(ids[i]).commitment, d.jobs.termsHash(_terms[groupId]), "terms");
        }
        assertEq(_terms[groupId].requester, address(rr), "the contract is the requester");
        assertEq(_terms[groupId].consumer, address(0), "a consumer");
        assertEq(rr.confirmedOutput(groupId), bytes32(0), "an output before any result");
    }

    function test_requestRejectsBadRedundancyAndConsumers() public {
        IJobManager.RequestParams memory p = _params(_fee(0));
        vm.startPrank(REQUESTER);
        vm.expectRevert(abi.encodeWithSelector(IRedundantRequests.RedundantRequestsInvalidRedundancy.selector, 1, 5));
        rr.request(p, 1, 0);
        vm.expectRevert(abi.encodeWithSelector(IRedundantRequests.RedundantRequestsInvalidRedundancy.selector, 6, 5));
        rr.request(p, 6, 0);
        p.consumer = address(d.jobs);
        p.callbackGasLimit = 100_000;
        vm.expectRevert(abi.encodeWithSelector(IRedundantRequests.RedundantRequestsConsumerNotSupported.selector, address(d.jobs)));
        rr.request(p, 2, 0);
        vm.stopPrank();
        assertEq(rr.groupCount(), 0, "a group was made");
    }

    function test_valueMustBeCoveredByTheKLocksAndTheErrorSaysTheFee() public {
        // Default parameters: a lock of 1.5x the fee, at least 10 VTN.
        uint256 fee = _fee(0);
        uint256 lock = rr.lockFor(fee);
        assertEq(lock, 10 ether, "the minimum lock");
        uint256 value = 3 * lock + 1;
        uint256 needed = rr.feeToCover(3, value);
        vm.expectRevert(abi.encodeWithSelector(IRedundantRequests.RedundantRequestsValueNotCovered.selector, value, 3 * lock, needed));
        vm.prank(REQUESTER);
        rr.request(_params(fee), 3, value);
        // At the fee the error names, the locks cover it.
        uint256 groupId = _request(3, needed, value);
        assertGe(3 * uint256(_terms[groupId].lock), value, "not covered");
        assertEq(rr.getGroup(groupId).value, value, "value");
        assertEq(_terms[groupId].lock, rr.lockFor(needed), "lockFor is not the escrow's lock");
    }

    function testFuzz_feeToCoverIsTheLeastFee(uint256 k, uint256 value) public view {
        k = bound(k, 2, 5);
        value = bound(value, 0, 1e9 ether);
        uint256 fee = rr.feeToCover(k, value);
        assertGe(k * rr.lockFor(fee), value, "does not cover");
        if (fee != 0) assertLt(k * rr.lockFor(fee - 1), value, "not the least");
    }

    function test_confirmsEarlyWhenAllAgreeFromDistinctWorkers() public {
        uint256 groupId = _request(3, _fee(1 ether), 0);
        for (uint256 i = 0; i < 3; ++i) _serve(groupId, i, workers[i], TRUE_OUTPUT);
        vm.expectEmit(address(rr));
        emit IRedundantRequests.GroupConfirmed(groupId, _out(TRUE_OUTPUT));
        vm.prank(STRANGER);
        rr.confirm(groupId, _terms[groupId], _out(TRUE_OUTPUT));
        assertTrue(_status(groupId) == IRedundantRequests.GroupStatus.Confirmed, "not confirmed");
        assertEq(rr.confirmedOutput(groupId), _out(TRUE_OUTPUT), "output");
        // Early: every challenge window is still open.
        assertLt(block.timestamp, d.jobs.getJob(_job(groupId, 0)).timer, "not early");
        vm.expectRevert(
            abi.encodeWithSelector(IRedundantRequests.RedundantRequestsNotPending.selector, groupId, IRedundantRequests.GroupStatus.Confirmed)
        );
        rr.confirm(groupId, _terms[groupId], _out(TRUE_OUTPUT));
    }

    function test_confirmCountsAFinalizedJobAsAgreeing() public {
        uint256 groupId = _request(2, _fee(1 ether), 0);
        _serve(groupId, 0, workers[0], TRUE_OUTPUT);
        vm.warp(block.timestamp + 20 minutes);
        _serve(groupId, 1, workers[1], TRUE_OUTPUT);
        vm.warp(d.jobs.getJob(_job(groupId, 0)).timer);
        _finalize(groupId, 0, TRUE_OUTPUT);
        rr.confirm(groupId, _terms[groupId], _out(TRUE_OUTPUT));
        assertTrue(_status(groupId) == IRedundantRequests.GroupStatus.Confirmed, "not confirmed");
    }

    function test_confirmFailsWithNamedErrors() public {
        uint256 groupId = _request(3, _fee(1 ether), 0);
        bytes32 out = _out(TRUE_OUTPUT);
        IJobManager.JobTerms memory t = _terms[groupId];
        uint256 first = _job(groupId, 0);

        vm.expectRevert(abi.encodeWithSelector(IRedundantRequests.RedundantRequestsUnknownGroup.selector, 9));
        rr.confirm(9, t, out);
        // No result yet.
        vm.expectRevert(abi.encodeWithSelector(IRedundantRequests.RedundantRequestsNoResult.selector, first, IJobManager.JobStatus.Open));
        rr.confirm(groupId, t, out);
        _serve(groupId, 0, workers[0], TRUE_OUTPUT);
        _serve(groupId, 1, workers[1], TRUE_OUTPUT);
        _claim(groupId, 2, workers[2]);
        vm.expectRevert(abi.encodeWithSelector(IRedundantRequests.RedundantRequestsNoResult.selector, first + 2, IJobManager.JobStatus.Claimed));
        rr.confirm(groupId, t, out);
        // One disagrees.
        _submit(groupId, 2, workers[2], TRUE_OUTPUT + 1);
        vm.expectRevert(abi.encodeWithSelector(IRedundantRequests.RedundantRequestsResultMismatch.selector, first + 2));
        rr.confirm(groupId, t, out);
        // The dissenter's output, which the first two did not post.
        vm.expectRevert(abi.encodeWithSelector(IRedundantRequests.RedundantRequestsResultMismatch.selector, first));
        rr.confirm(groupId, t, _out(TRUE_OUTPUT + 1));
        // Terms that are not the group's.
        t.fee += 1;
        vm.expectRevert(abi.encodeWithSelector(IRedundantRequests.RedundantRequestsResultMismatch.selector, first));
        rr.confirm(groupId, t, out);
        assertTrue(_status(groupId) == IRedundantRequests.GroupStatus.Pending, "no longer pending");
    }

    function test_noEarlyFinalityWhileADisputeIsOpen() public {
        uint256 groupId = _request(2, _fee(1 ether), 0);
        _serve(groupId, 0, workers[0], TRUE_OUTPUT);
        _serve(groupId, 1, workers[1], TRUE_OUTPUT);
        uint256 second = _job(groupId, 1);
        d.jobs.freezeForDispute(second, _terms[groupId], _out(TRUE_OUTPUT));
        vm.expectRevert(abi.encodeWithSelector(IRedundantRequests.RedundantRequestsUnderDispute.selector, second, 1));
        rr.confirm(groupId, _terms[groupId], _out(TRUE_OUTPUT));
        // The dispute upholds the result: the group confirms.
        d.jobs.settleDispute(second, true, 0);
        rr.confirm(groupId, _terms[groupId], _out(TRUE_OUTPUT));
        assertTrue(_status(groupId) == IRedundantRequests.GroupStatus.Confirmed, "not confirmed");
    }

    /// @dev Attack: one worker claims two of the group's jobs (first-come claims allow it; with a
    /// roster each job is drawn alone and may draw it twice) and agrees with itself.
    function test_attack_workerHoldingTwoJobsCannotConfirmEarly() public {
        uint256 groupId = _request(3, _fee(1 ether), 0);
        _serve(groupId, 0, workers[0], TRUE_OUTPUT + 9);
        _serve(groupId, 1, workers[1], TRUE_OUTPUT + 9);
        _serve(groupId, 2, workers[0], TRUE_OUTPUT + 9);
        uint256 first = _job(groupId, 0);
        vm.expectRevert(
            abi.encodeWithSelector(IRedundantRequests.RedundantRequestsRepeatedWorker.selector, workers[0], first, first + 2)
        );
        rr.confirm(groupId, _terms[groupId], _out(TRUE_OUTPUT + 9));
        // The group waits for the windows: a verifier proves the output wrong meanwhile.
        for (uint256 i = 0; i < 3; ++i) _reject(groupId, i, TRUE_OUTPUT + 9, 5 ether);
        vm.expectRevert(abi.encodeWithSelector(IRedundantRequests.RedundantRequestsOutputRejected.selector, first));
        rr.resolve(groupId, _terms[groupId], _out(TRUE_OUTPUT + 9));
    }

    /// @dev Attack: copycats post the output another worker submitted, without running the model. On
    /// chain they are distinct workers with the same result: the group confirms. What protects the
    /// requester is that each copy stakes a full lock until its own window ends: when the copied
    /// output is wrong, a verifier's disputes slash every one of them (k locks, which the requester
    /// made cover its value), and the fees come back.
    function test_attack_copycatsAreIndistinguishableButStakeTheirLocks() public {
        uint256 fee = _fee(1 ether);
        uint256 value = 3 * rr.lockFor(fee);
        uint256 groupId = _request(3, fee, value);
        uint32 wrong = TRUE_OUTPUT + 1;
        _serve(groupId, 0, workers[0], wrong);
        // Workers 1 and 2 read the output from ResultSubmitted and post it as theirs.
        _serve(groupId, 1, workers[1], wrong);
        _serve(groupId, 2, workers[2], wrong);
        rr.confirm(groupId, _terms[groupId], _out(wrong));
        uint256 lock = _terms[groupId].lock;
        for (uint256 i = 0; i < 3; ++i) assertEq(d.staking.stakeOf(workers[i]).locked, lock, "the lock is not at risk");
        uint256 slashedBefore = d.token.balanceOf(address(this));
        for (uint256 i = 0; i < 3; ++i) _reject(groupId, i, wrong, lock);
        for (uint256 i = 0; i < 3; ++i) assertEq(d.staking.stakeOf(workers[i]).staked, 10_000 ether - lock, "not slashed");
        assertGe(d.token.balanceOf(address(this)) - slashedBefore, value, "the slashes do not cover the value");
        uint256 before = d.token.balanceOf(REQUESTER);
        assertEq(rr.settle(groupId), 3 * fee, "the fees are not owed back");
        vm.prank(REQUESTER);
        rr.withdraw();
        assertEq(d.token.balanceOf(REQUESTER) - before, 3 * fee, "the fees did not come back");
    }

    function test_disagreementIsDecidedByDisputesThenResolved() public {
        uint256 fee = _fee(1 ether);
        uint256 groupId = _request(3, fee, 0);
        _serve(groupId, 0, workers[0], TRUE_OUTPUT);
        _serve(groupId, 1, workers[1], TRUE_OUTPUT + 5);
        _serve(groupId, 2, workers[2], TRUE_OUTPUT);
        uint256 first = _job(groupId, 0);
        vm.expectRevert(abi.encodeWithSelector(IRedundantRequests.RedundantRequestsJobNotOver.selector, first, IJobManager.JobStatus.Submitted));
        rr.resolve(groupId, _terms[groupId], _out(TRUE_OUTPUT));
        _reject(groupId, 1, TRUE_OUTPUT + 5, 5 ether);
        vm.expectRevert(abi.encodeWithSelector(IRedundantRequests.RedundantRequestsNoResult.selector, first + 1, IJobManager.JobStatus.Rejected));
        rr.confirm(groupId, _terms[groupId], _out(TRUE_OUTPUT));
        vm.warp(d.jobs.getJob(first).timer);
        _finalize(groupId, 0, TRUE_OUTPUT);
        _finalize(groupId, 2, TRUE_OUTPUT);
        // The rejected output is not the finalized jobs'.
        vm.expectRevert(abi.encodeWithSelector(IRedundantRequests.RedundantRequestsResultMismatch.selector, first));
        rr.resolve(groupId, _terms[groupId], _out(TRUE_OUTPUT + 5));
        vm.expectEmit(address(rr));
        emit IRedundantRequests.GroupResolved(groupId, _out(TRUE_OUTPUT), 2);
        rr.resolve(groupId, _terms[groupId], _out(TRUE_OUTPUT));
        assertEq(rr.confirmedOutput(groupId), _out(TRUE_OUTPUT), "output");
        assertTrue(_status(groupId) == IRedundantRequests.GroupStatus.Resolved, "not resolved");
        // The rejected job's fee is the requester's.
        assertEq(rr.unsettled(groupId), fee, "unsettled");
        vm.expectEmit(address(rr));
        emit IRedundantRequests.JobSettled(groupId, first + 1, REQUESTER, IJobManager.JobStatus.Rejected, fee, 0);
        assertEq(rr.settle(groupId), fee, "settled");
        assertEq(rr.balanceOf(REQUESTER), fee, "not credited");
        vm.expectRevert(abi.encodeWithSelector(IRedundantRequests.RedundantRequestsNothingToSettle.selector, groupId));
        rr.settle(groupId);
    }

    function test_finalizedJobsThatDisagreeLeaveNoAnswer() public {
        uint256 groupId = _request(2, _fee(1 ether), 0);
        _serve(groupId, 0, workers[0], TRUE_OUTPUT);
        _serve(groupId, 1, workers[1], TRUE_OUTPUT + 1);
        // Nobody disputed: both finalize.
        vm.warp(d.jobs.getJob(_job(groupId, 0)).timer);
        _finalize(groupId, 0, TRUE_OUTPUT);
        _finalize(groupId, 1, TRUE_OUTPUT + 1);
        uint256 first = _job(groupId, 0);
        vm.expectRevert(abi.encodeWithSelector(IRedundantRequests.RedundantRequestsResultMismatch.selector, first + 1));
        rr.resolve(groupId, _terms[groupId], _out(TRUE_OUTPUT));
        vm.expectRevert(abi.encodeWithSelector(IRedundantRequests.RedundantRequestsResultMismatch.selector, first));
        rr.resolve(groupId, _terms[groupId], _out(TRUE_OUTPUT + 1));
    }

    function test_groupWithoutResultIsRefundedAndHasNoAnswer() public {
        uint256 fee = _fee(1 ether);
        uint256 groupId = _request(2, fee, 0);
        _claim(groupId, 0, workers[0]);
        vm.warp(_terms[groupId].deadline + 1);
        for (uint256 i = 0; i < 2; ++i) d.jobs.expire(_job(groupId, i), _terms[groupId]);
        vm.expectRevert(abi.encodeWithSelector(IRedundantRequests.RedundantRequestsNoFinalizedJob.selector, groupId));
        rr.resolve(groupId, _terms[groupId], _out(TRUE_OUTPUT));
        uint256 slash = d.jobs.timeoutSlashes(_job(groupId, 0));
        assertGe(slash, 1, "no timeout slash");
        uint256 before = d.token.balanceOf(REQUESTER);
        vm.prank(STRANGER);
        uint256 credited = rr.settle(groupId);
        assertEq(credited, 2 * fee + slash, "refunds and slash");
        vm.prank(REQUESTER);
        rr.withdraw();
        assertEq(d.token.balanceOf(REQUESTER) - before, 2 * fee + slash, "not back");
        assertEq(d.token.balanceOf(address(rr)), 0, "tokens left behind");
        assertEq(d.jobs.balanceOf(address(rr)), 0, "escrow balance left behind");
        vm.prank(REQUESTER);
        vm.expectRevert(abi.encodeWithSelector(IPullPayments.PullPaymentsNothingToWithdraw.selector, REQUESTER));
        rr.withdraw();
    }

    /// @dev Gas of the two new operations, as execution gas (no 21,000 base, no calldata).
    function test_gas() public {
        uint256 fee = _fee(1 ether);
        _request(3, fee, 0); // warm the counters, as in steady state
        IJobManager.RequestParams memory p = _params(fee);
        uint256 before = gasleft();
        vm.prank(REQUESTER);
        uint256 groupId = rr.request(p, 3, 0);
        uint256 requestGas = before - gasleft();
        _terms[groupId] = _terms[1];
        _terms[groupId].deadline = uint40(p.deadline);
        for (uint256 i = 0; i < 3; ++i) _serve(groupId, i, workers[i], TRUE_OUTPUT);
        IJobManager.JobTerms memory t = _terms[groupId];
        bytes32 out = _out(TRUE_OUTPUT);
        before = gasleft();
        rr.confirm(groupId, t, out);
        uint256 confirmGas = before - gasleft();
        console.log("request k=3:", requestGas, "confirm k=3:", confirmGas);
        // Regression bounds, not figures.
        assertLe(requestGas, 400_000, "request");
        assertLe(confirmGas, 60_000, "confirm");
    }
}

/**
 * @title RedundancyAccountingTest
 * @notice Every token a group's requester pays leaves to the right party, over random outcomes per
 * job: served and finalized, served wrong and rejected, timed out and served again, timed out after
 * the deadline and refunded, never claimed and refunded; with settlements at random moments.
 */
contract RedundancyAccountingTest is RedundancyBase {
    uint8 private constant FINALIZED = 0;
    uint8 private constant REJECTED = 1;
    uint8 private constant TIMED_OUT_THEN_SERVED = 2;
    uint8 private constant TIMED_OUT_REFUNDED = 3;
    uint8 private constant NEVER_CLAIMED = 4;

    uint256 private _owed;
    uint256 private _settledSoFar;

    function testFuzz_everyTokenLeavesToTheRightParty(uint256 k, uint256 seed, uint96 extra, uint96 rejectSlash) public {
        k = bound(k, 2, 5);
        uint256 fee = _fee(bound(extra, 0, 100 ether));
        uint256 groupId = _request(k, fee, 0);
        IJobManager.JobTerms memory t = _terms[groupId];
        uint256 timeoutSlash = (uint256(t.lock) * d.jobs.params().timeoutSlashBps) / 10_000;
        uint256 requesterBefore = d.token.balanceOf(REQUESTER) + k * fee;
        uint8[] memory outcome = new uint8[](k);
        for (uint256 i = 0; i < k; ++i) outcome[i] = uint8(uint256(keccak256(abi.encode(seed, i))) % 5);

        // t0: claims (worker i on job i) and submissions; wrong results are rejected at once.
        for (uint256 i = 0; i < k; ++i) {
            if (outcome[i] == NEVER_CLAIMED) continue;
            _claim(groupId, i, workers[i]);
            if (outcome[i] == FINALIZED) _submit(groupId, i, workers[i], TRUE_OUTPUT);
            if (outcome[i] == REJECTED) {
                _submit(groupId, i, workers[i], TRUE_OUTPUT + 1);
                _reject(groupId, i, TRUE_OUTPUT + 1, bound(rejectSlash, 0, t.lock));
                _owed += fee;
            }
        }
        _maybeSettle(groupId, seed, 1);
        // t0 + 31 min: the late workers time out before the deadline; others serve their jobs again.
        vm.warp(block.timestamp + 31 minutes);
        for (uint256 i = 0; i < k; ++i) {
            if (outcome[i] != TIMED_OUT_THEN_SERVED) continue;
            d.jobs.expire(_job(groupId, i), t);
            _owed += timeoutSlash;
            _serve(groupId, i, workers[i + 3], TRUE_OUTPUT);
        }
        _maybeSettle(groupId, seed, 2);
        // After the deadline: the rest expire, every window is over, the results finalize.
        vm.warp(uint256(t.deadline) + 1);
        for (uint256 i = 0; i < k; ++i) {
            if (outcome[i] == TIMED_OUT_REFUNDED) {
                d.jobs.expire(_job(groupId, i), t);
                _owed += fee + timeoutSlash;
            } else if (outcome[i] == NEVER_CLAIMED) {
                d.jobs.expire(_job(groupId, i), t);
                _owed += fee;
            } else if (outcome[i] != REJECTED) {
                _finalize(groupId, i, TRUE_OUTPUT);
            }
        }
        assertEq(rr.unsettled(groupId) + _settledSoFar, _owed, "unsettled view");
        if (rr.unsettled(groupId) != 0 || rr.getGroup(groupId).settled != (1 << k) - 1) _settledSoFar += rr.settle(groupId);
        assertEq(_settledSoFar, _owed, "credited is not what the escrow returned");
        assertEq(rr.getGroup(groupId).settled, (1 << k) - 1, "not every job settled");
        if (_owed != 0) {
            vm.prank(REQUESTER);
            rr.withdraw();
        }
        // The requester paid k fees and got back exactly the refunds and slashes; nothing stays here.
        assertEq(d.token.balanceOf(REQUESTER), requesterBefore - k * fee + _owed, "requester");
        assertEq(d.token.balanceOf(address(rr)), 0, "tokens stuck in the contract");
        assertEq(d.jobs.balanceOf(address(rr)), 0, "tokens stuck in the escrow");
        assertEq(rr.balanceOf(REQUESTER), 0, "balance left");
    }

    function _maybeSettle(uint256 groupId, uint256 seed, uint256 phase) private {
        if (uint256(keccak256(abi.encode(seed, "settle", phase))) % 2 == 0) return;
        if (rr.unsettled(groupId) == 0) {
            // Nothing newly over with credits; a job may still be newly over (finalized: no credit).
            try rr.settle(groupId) returns (uint256 credited) {
                _settledSoFar += credited;
            } catch {}
            return;
        }
        _settledSoFar += rr.settle(groupId);
    }
}
