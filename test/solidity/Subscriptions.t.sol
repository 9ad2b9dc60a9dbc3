// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IJobManager} from "../../contracts/interfaces/IJobManager.sol";
import {IModelRegistry} from "../../contracts/interfaces/IModelRegistry.sol";
import {ISubscriptionManager} from "../../contracts/interfaces/ISubscriptionManager.sol";
import {SubscriptionManager} from "../../contracts/subscriptions/SubscriptionManager.sol";
import {TestSubscriber} from "../../contracts/test/TestSubscriber.sol";

import {Vm} from "./utils/Vm.sol";
import {Test} from "./utils/Test.sol";
import {TestData, Deployment, Deployer} from "./utils/Protocol.sol";

/**
 * @title SubscriptionsBase
 * @notice The protocol with a subscription manager, a model, a staked worker and two funded test
 * subscribers, and the steps of a run's life (trigger, claim and submit, finalize with the
 * callback) with the terms read back from the escrow's `JobRequested`. This contract owns the
 * escrow and staking (governance) and is the dispute manager.
 */
abstract contract SubscriptionsBase is Test {
    uint256 internal constant MIN_STAKE = 100 ether;
    address internal constant TREASURY = address(0x7EA5);
    address internal constant DEV = address(0xDE5);
    address internal constant WORKER = address(0x3012);
    address internal constant KEEPER = address(0x6EE9);
    address internal constant FINALIZER = address(0xF1A1);
    uint32 internal constant CB_GAS = 200_000;
    uint96 internal constant PRICE = 1 ether;
    uint96 internal constant REWARD = 0.01 ether;

    Deployment internal d;
    SubscriptionManager internal mgr;
    uint256 internal modelId;
    TestSubscriber internal a;
    TestSubscriber internal b;
    mapping(uint256 jobId => IJobManager.JobTerms) internal _terms;
    mapping(uint256 jobId => bytes) internal _outputs;

    function setUp() public virtual {
        d = Deployer.deploy(TREASURY, MIN_STAKE, 1 days);
        // This contract judges the runs' disputes (the escrow's one appointment).
        d.jobs.setDisputeManager(address(this));
        mgr = new SubscriptionManager(d.jobs);
        vm.prank(DEV);
        modelId = d.registry.registerModel(TestData.tinyModel(PRICE, 10_000, new IModelRegistry.Contributor[](0), 1));
        d.token.transfer(WORKER, 100_000 ether);
        vm.startPrank(WORKER);
        d.token.approve(address(d.staking), type(uint256).max);
        d.staking.stake(50_000 ether);
        vm.stopPrank();
        a = _subscriber();
        b = _subscriber();
    }

    function _subscriber() internal returns (TestSubscriber s) {
        s = new TestSubscriber(mgr);
        d.token.transfer(address(s), 10_000 ether);
        s.setInput(TestData.tensor4(7));
    }

    /// @dev The least fee per run of the test model, plus 0.5 VTN for the worker.
    function _fee() internal view returns (uint96) {
        return uint96(mgr.minimumFeePerRun(modelId, CB_GAS) + 0.5 ether);
    }

    function _create(TestSubscriber s, uint32 period, uint32 runs) internal returns (uint256 id) {
        return _createWith(s, period, runs, CB_GAS);
    }

    function _createWith(TestSubscriber s, uint32 period, uint32 runs, uint32 gas) internal returns (uint256 id) {
        uint96 fee = uint96(mgr.minimumFeePerRun(modelId, gas) + 0.5 ether);
        id = s.subscribe(modelId, period, runs, fee, REWARD, gas, uint256(runs) * (fee + REWARD));
    }

    /// @dev Triggers as KEEPER and keeps the job's terms (from its JobRequested).
    function _trigger(uint256 id) internal returns (uint256 jobId) {
        vm.recordLogs();
        vm.prank(KEEPER);
        jobId = mgr.trigger(id);
        _keepTerms(jobId);
    }

    function _keepTerms(uint256 jobId) internal {
        Vm.Log[] memory logs = vm.getRecordedLogs();
        for (uint256 i = 0; i < logs.length; ++i) {
            if (logs[i].emitter != address(d.jobs) || logs[i].topics[0] != IJobManager.JobRequested.selector) continue;
            if (uint256(logs[i].topics[1]) != jobId) continue;
            (IJobManager.JobTerms memory t, , ) = abi.decode(logs[i].data, (IJobManager.JobTerms, bytes, string));
            _terms[jobId] = t;
            return;
        }
        fail("no JobRequested for the triggered job");
    }

    /// @dev The worker claims and submits `value` as the output.
    function _serve(uint256 jobId, uint32 value) internal {
        bytes memory output = TestData.tensor4(value);
        vm.startPrank(WORKER);
        d.jobs.claim(jobId, _terms[jobId]);
        d.jobs.submitResult(jobId, _terms[jobId], output, TestData.commitOneChunk(output));
        vm.stopPrank();
        _outputs[jobId] = output;
    }

    /// @dev After the challenge window, FINALIZER finalizes with the output (the relay runs inside).
    function _finalize(uint256 jobId) internal {
        vm.warp(d.jobs.getJob(jobId).timer);
        vm.prank(FINALIZER);
        d.jobs.finalizeWithCallback(jobId, _terms[jobId], _outputs[jobId]);
    }

    function _state(uint256 jobId) internal view returns (ISubscriptionManager.RunState) {
        return mgr.getRun(jobId).state;
    }

    /// @dev The manager's books: its tokens cover every subscription balance and keeper balance
    /// (`ids` are all the subscriptions; `keepers` every account that triggered).
    function _assertBooks(uint256[] memory ids, address[] memory keepers) internal view {
        uint256 owed;
        for (uint256 i = 0; i < ids.length; ++i) owed += mgr.getSubscription(ids[i]).balance;
        for (uint256 i = 0; i < keepers.length; ++i) owed += mgr.balanceOf(keepers[i]);
        assertGe(d.token.balanceOf(address(mgr)), owed, "the manager holds less than it owes");
    }

    function _ids(uint256 x) internal pure returns (uint256[] memory r) {
        r = new uint256[](1);
        r[0] = x;
    }

    function _ids(uint256 x, uint256 y) internal pure returns (uint256[] memory r) {
        r = new uint256[](2);
        (r[0], r[1]) = (x, y);
    }

    function _keepers() internal view returns (address[] memory r) {
        r = new address[](2);
        (r[0], r[1]) = (KEEPER, address(this));
    }
}

/**
 * @notice Subscriptions (issue 14, deliverable 5): pay once, runs triggered when due and never
 * replayed, results relayed, failed runs settled back, unused funds withdrawn; every token path
 * conserves tokens; fee changes mid-subscription; access control.
 */
contract SubscriptionsTest is SubscriptionsBase {
    // ------------------------------------------------------------ the life of a subscription

    function test_paysOnceAndServesEveryRun() public {
        uint256 id = _create(a, 1 hours, 3);
        uint96 fee = _fee();
        assertEq(mgr.getSubscription(id).balance, 3 * (uint256(fee) + REWARD), "the deposit pays all three runs");
        for (uint256 r = 0; r < 3; ++r) {
            assertTrue(mgr.isDue(id), "the run is due");
            uint256 jobId = _trigger(id);
            assertFalse(mgr.isDue(id), "one run per interval");
            assertEq(_terms[jobId].requester, address(mgr), "the manager requests");
            assertEq(_terms[jobId].consumer, address(mgr), "and is the job's consumer");
            assertEq(_terms[jobId].callbackGasLimit, mgr.relayGas(CB_GAS, 1), "with the relay's gas");
            assertEq(_terms[jobId].fee, fee, "the run's fee");
            ISubscriptionManager.Run memory run = mgr.getRun(jobId);
            assertEq(run.subscriptionId, id, "the run's subscription");
            assertEq(run.run, r, "the run's index");
            _serve(jobId, uint32(40 + r));
            _finalize(jobId);
            assertEq(uint256(_state(jobId)), uint256(ISubscriptionManager.RunState.Delivered), "relayed");
            assertEq(a.deliveries(id, r), 1, "the consumer got the run's result once");
            assertEq(a.lastOutputHash(), keccak256(TestData.tensor4(uint32(40 + r))), "the run's output");
        }
        ISubscriptionManager.Subscription memory s = mgr.getSubscription(id);
        assertEq(s.balance, 0, "all paid");
        assertEq(s.triggered, 3, "three runs");
        assertEq(mgr.balanceOf(KEEPER), 3 * uint256(REWARD), "three keeper rewards");
        vm.prank(KEEPER);
        mgr.withdraw();
        assertEq(d.token.balanceOf(KEEPER), 3 * uint256(REWARD), "the keeper took them");
        assertEq(d.token.balanceOf(address(mgr)), 0, "nothing left in the manager");
        vm.expectRevert(abi.encodeWithSelector(ISubscriptionManager.SubscriptionManagerFinished.selector, id, 3));
        mgr.trigger(id);
    }

    function test_lateKeeperSkipsPastRunsAndNeverReplaysThem() public {
        uint256 id = _create(a, 100, 5);
        uint256 start = block.timestamp;
        vm.warp(start + 250); // runs 0 and 1 passed without a trigger
        vm.recordLogs();
        uint256 jobId = mgr.trigger(id);
        _keepTerms(jobId);
        assertEq(mgr.getRun(jobId).run, 2, "the run of the current interval");
        ISubscriptionManager.Subscription memory s = mgr.getSubscription(id);
        assertEq(s.nextRun, 3, "runs 0-2 are behind");
        assertEq(s.triggered, 1, "one triggered, two skipped");
        assertEq(s.balance, 4 * (uint256(_fee()) + REWARD), "the skipped runs' funds stay");
        (uint256 next, uint256 dueAt) = mgr.nextDue(id);
        assertEq(next, 3, "run 3 next");
        assertEq(dueAt, start + 300, "at the start of its interval");
        vm.expectRevert(abi.encodeWithSelector(ISubscriptionManager.SubscriptionManagerNotDue.selector, id, 3, start + 300));
        mgr.trigger(id);
        vm.warp(start + 10_000); // long after the schedule
        vm.expectRevert(abi.encodeWithSelector(ISubscriptionManager.SubscriptionManagerFinished.selector, id, 5));
        mgr.trigger(id);
        (next, dueAt) = mgr.nextDue(id);
        assertEq(next, 5, "none left");
        assertEq(dueAt, 0, "none due");
        // Everything but the one run's cost comes back.
        uint256 before = d.token.balanceOf(address(a));
        a.withdraw(id, 4 * (uint256(_fee()) + REWARD));
        assertEq(d.token.balanceOf(address(a)) - before, 4 * (uint256(_fee()) + REWARD), "unused funds back");
    }

    /// @notice Whatever the period, the run count and the keepers' timing: a run is triggered only
    /// in its own interval, at most once, in order, and only runs of the schedule.
    function testFuzz_scheduleNeverReplays(uint32 period, uint8 runs, uint256 seed) public {
        period = uint32(bound(period, 1, 30 days));
        runs = uint8(bound(runs, 1, 12));
        uint96 fee = _fee();
        uint256 id = a.subscribe(modelId, period, runs, fee, REWARD, CB_GAS, uint256(runs) * (fee + REWARD));
        uint256 start = block.timestamp;
        uint256 lastRun = type(uint256).max;
        uint256 triggered;
        for (uint256 i = 0; i < 24; ++i) {
            seed = uint256(keccak256(abi.encode(seed, i)));
            // Mostly within a period or two, sometimes a long jump, sometimes no time at all.
            uint256 step = seed % 4 == 0 ? 0 : (seed >> 8) % (uint256(period) * 3);
            vm.warp(block.timestamp + step);
            uint256 current = (block.timestamp - start) / period;
            bool due = current < runs && (lastRun == type(uint256).max || current > lastRun);
            assertEq(mgr.isDue(id) ? 1 : 0, due ? 1 : 0, "isDue says what trigger does");
            try mgr.trigger(id) returns (uint256 jobId) {
                assertTrue(due, "a trigger outside a due interval");
                assertEq(mgr.getRun(jobId).run, current, "the run of the current interval");
                lastRun = current;
                ++triggered;
            } catch {
                assertFalse(due, "a due run refused");
            }
        }
        ISubscriptionManager.Subscription memory s = mgr.getSubscription(id);
        assertEq(s.triggered, triggered, "triggered count");
        assertLe(triggered, runs, "never more runs than the schedule");
        assertEq(s.balance, (uint256(runs) - triggered) * (uint256(fee) + REWARD), "each trigger paid one run");
    }

    // ------------------------------------------------------------ conservation

    /// @notice Every path that moves tokens (deposit, top-up, trigger, refund, withdrawal, keeper
    /// withdrawal) conserves them: what one account loses another gains, and the manager's books
    /// hold at every step.
    function testFuzz_everyTokenPathConserves(uint96 extra, uint96 topUp, uint96 take, uint96 reward) public {
        extra = uint96(bound(extra, 0, 100 ether));
        topUp = uint96(bound(topUp, 1, 100 ether));
        reward = uint96(bound(reward, 0, 1 ether));
        uint96 fee = _fee();
        address[] memory holders = new address[](7);
        (holders[0], holders[1], holders[2], holders[3]) = (address(mgr), address(d.jobs), address(a), KEEPER);
        (holders[4], holders[5], holders[6]) = (address(this), address(d.staking), WORKER);
        uint256 total = _sum(holders);

        // Deposit: the consumer pays the manager.
        uint256 deposit = 2 * (uint256(fee) + reward) + extra;
        uint256 aBefore = d.token.balanceOf(address(a));
        uint256 id = a.subscribe(modelId, 1 hours, 3, fee, reward, CB_GAS, deposit);
        assertEq(aBefore - d.token.balanceOf(address(a)), deposit, "the deposit left the consumer");
        assertEq(d.token.balanceOf(address(mgr)), deposit, "and reached the manager");
        _check(total, holders, id);

        // Top-up by anyone (this contract).
        d.token.approve(address(mgr), topUp);
        mgr.fund(id, topUp);
        assertEq(mgr.getSubscription(id).balance, deposit + topUp, "topped up");
        _check(total, holders, id);

        // Trigger: the fee to the escrow, the reward to the keeper's pull balance.
        uint256 escrowBefore = d.token.balanceOf(address(d.jobs));
        uint256 jobId = _trigger(id);
        assertEq(d.token.balanceOf(address(d.jobs)) - escrowBefore, fee, "the fee is escrowed");
        assertEq(mgr.balanceOf(KEEPER), reward, "the keeper is owed its reward");
        assertEq(mgr.getSubscription(id).balance, deposit + topUp - fee - reward, "the run is paid from the balance");
        _check(total, holders, id);

        // Refund: nobody claims the job; after its deadline it is refunded and settled back.
        vm.warp(_terms[jobId].deadline + 1);
        d.jobs.expire(jobId, _terms[jobId]);
        mgr.settleRun(jobId);
        assertEq(mgr.getSubscription(id).balance, deposit + topUp - reward, "the fee is back");
        assertEq(d.jobs.balanceOf(address(mgr)), 0, "taken from the escrow at once");
        _check(total, holders, id);

        // Withdrawal by the consumer, at any time, up to the balance.
        uint256 balance = mgr.getSubscription(id).balance;
        take = uint96(bound(take, 1, balance));
        aBefore = d.token.balanceOf(address(a));
        a.withdraw(id, take);
        assertEq(d.token.balanceOf(address(a)) - aBefore, take, "withdrawn to the consumer");
        _check(total, holders, id);
        vm.expectRevert(abi.encodeWithSelector(ISubscriptionManager.SubscriptionManagerInsufficientBalance.selector, id, balance - take, balance - take + 1));
        a.withdraw(id, balance - take + 1);

        // The keeper's reward.
        if (reward != 0) {
            vm.prank(KEEPER);
            mgr.withdraw();
            assertEq(d.token.balanceOf(KEEPER), reward, "the keeper took its reward");
        }
        _check(total, holders, id);
        assertEq(d.token.balanceOf(address(mgr)), mgr.getSubscription(id).balance, "exactly the balance is left");
    }

    function _sum(address[] memory holders) private view returns (uint256 s) {
        for (uint256 i = 0; i < holders.length; ++i) s += d.token.balanceOf(holders[i]);
    }

    function _check(uint256 total, address[] memory holders, uint256 id) private view {
        assertEq(_sum(holders), total, "tokens appeared or vanished");
        _assertBooks(_ids(id), _keepers());
    }

    // ------------------------------------------------------------ failed runs

    function test_settleRunRefundsAnExpiredRun() public {
        uint256 id = _create(a, 1 days, 2);
        uint256 jobId = _trigger(id);
        uint256 balance = mgr.getSubscription(id).balance;
        vm.expectRevert(abi.encodeWithSelector(ISubscriptionManager.SubscriptionManagerRunNotFailed.selector, jobId, IJobManager.JobStatus.Open));
        mgr.settleRun(jobId);
        vm.warp(_terms[jobId].deadline + 1);
        d.jobs.expire(jobId, _terms[jobId]);
        mgr.settleRun(jobId);
        assertEq(mgr.getSubscription(id).balance, balance + _fee(), "the fee is back");
        assertEq(uint256(_state(jobId)), uint256(ISubscriptionManager.RunState.Settled), "settled");
        vm.expectRevert(abi.encodeWithSelector(ISubscriptionManager.SubscriptionManagerRunNotPending.selector, jobId, ISubscriptionManager.RunState.Settled));
        mgr.settleRun(jobId);
        vm.expectRevert(abi.encodeWithSelector(ISubscriptionManager.SubscriptionManagerUnknownRun.selector, 999));
        mgr.settleRun(999);
    }

    /// @notice A run whose worker timed out (the escrow slashed it to this manager, the job's
    /// requester, and reopened the job) and was then served: once the job is over, collectSlashes adds
    /// exactly that slash to the subscription's balance, once, and takes it from the escrow; nothing
    /// can be collected from a job still running. A refunded run's settleRun collects its slashes too.
    /// Before: the slash stayed in the manager, in no subscription's balance, and nobody could take it.
    function test_timeoutSlashesReachTheSubscription() public {
        uint256 id = _create(a, 1 days, 2);
        uint256 jobId = _trigger(id);
        vm.prank(WORKER);
        d.jobs.claim(jobId, _terms[jobId]);
        vm.warp(d.jobs.getJob(jobId).timer + 1);
        d.jobs.expire(jobId, _terms[jobId]);
        uint256 slashed = d.jobs.timeoutSlashes(jobId);
        assertTrue(slashed != 0, "no timeout slash");
        vm.expectRevert(abi.encodeWithSelector(ISubscriptionManager.SubscriptionManagerRunNotFinal.selector, jobId, IJobManager.JobStatus.Open));
        mgr.collectSlashes(jobId);

        _serve(jobId, 7);
        _finalize(jobId);
        uint256 balance = mgr.getSubscription(id).balance;
        mgr.collectSlashes(jobId);
        assertEq(mgr.getSubscription(id).balance, balance + slashed, "the slash did not reach the subscription");
        assertEq(d.jobs.balanceOf(address(mgr)), 0, "left in the escrow");
        _assertBooks(_ids(id), _keepers());
        vm.expectRevert(abi.encodeWithSelector(ISubscriptionManager.SubscriptionManagerSlashesCollected.selector, jobId));
        mgr.collectSlashes(jobId);

        // A run refunded after a timeout: settleRun brings back its fee and its slash.
        (, uint256 dueAt) = mgr.nextDue(id);
        vm.warp(dueAt);
        uint256 other = _trigger(id);
        vm.prank(WORKER);
        d.jobs.claim(other, _terms[other]);
        vm.warp(_terms[other].deadline + 1);
        d.jobs.expire(other, _terms[other]);
        assertTrue(d.jobs.getJob(other).status == IJobManager.JobStatus.Refunded, "not refunded");
        balance = mgr.getSubscription(id).balance;
        mgr.settleRun(other);
        assertEq(mgr.getSubscription(id).balance, balance + _fee() + d.jobs.timeoutSlashes(other), "fee and slash not both back");
        assertTrue(mgr.getRun(other).slashesCollected, "not marked collected");
        _assertBooks(_ids(id), _keepers());
    }

    function test_settleRunRefundsARejectedRun() public {
        uint256 id = _create(a, 1 days, 2);
        uint256 jobId = _trigger(id);
        _serve(jobId, 13);
        // This contract is the dispute manager: the result is proven wrong.
        d.jobs.freezeForDispute(jobId, _terms[jobId], TestData.commitOneChunk(_outputs[jobId]));
        d.jobs.settleDispute(jobId, false, 1 ether);
        uint256 balance = mgr.getSubscription(id).balance;
        mgr.settleRun(jobId);
        assertEq(mgr.getSubscription(id).balance, balance + _fee(), "the fee is back");
        assertEq(a.delivered(), 0, "no result reached the consumer");
    }

    function test_finalizedRunCannotBeSettled() public {
        uint256 id = _create(a, 1 days, 1);
        uint256 jobId = _trigger(id);
        _serve(jobId, 1);
        _finalize(jobId);
        vm.expectRevert(abi.encodeWithSelector(ISubscriptionManager.SubscriptionManagerRunNotPending.selector, jobId, ISubscriptionManager.RunState.Delivered));
        mgr.settleRun(jobId);
    }

    /// @notice A late worker's slash is credited to the requester of a reopened job, the manager:
    /// it belongs to no subscription, and the books still hold (the manager holds more than it owes).
    function test_timeoutSlashKeepsTheBooks() public {
        uint256 id = _create(a, 1 days, 2);
        uint256 jobId = _trigger(id);
        vm.prank(WORKER);
        d.jobs.claim(jobId, _terms[jobId]);
        vm.warp(d.jobs.getJob(jobId).timer + 1);
        d.jobs.expire(jobId, _terms[jobId]); // slashed to the manager, reopened
        assertGe(d.jobs.balanceOf(address(mgr)), 1, "the slash went to the requester");
        _serve(jobId, 5);
        _finalize(jobId);
        assertEq(a.deliveries(id, 0), 1, "the run was still served");
        _assertBooks(_ids(id), _keepers());
    }

    // ------------------------------------------------------------ cancel, withdraw, fees

    function test_cancelStopsFutureRunsAndReturnsTheRest() public {
        uint256 id = _create(a, 1 hours, 4);
        uint256 jobId = _trigger(id);
        a.cancel(id);
        assertFalse(mgr.isDue(id), "not due once cancelled");
        vm.warp(block.timestamp + 1 hours);
        vm.expectRevert(abi.encodeWithSelector(ISubscriptionManager.SubscriptionManagerCancelled.selector, id));
        mgr.trigger(id);
        vm.expectRevert(abi.encodeWithSelector(ISubscriptionManager.SubscriptionManagerCancelled.selector, id));
        a.cancel(id);
        // The run in flight is still delivered.
        _serve(jobId, 9);
        _finalize(jobId);
        assertEq(a.deliveries(id, 0), 1, "the run in flight was delivered");
        uint256 rest = mgr.getSubscription(id).balance;
        assertEq(rest, 3 * (uint256(_fee()) + REWARD), "three runs' worth left");
        uint256 before = d.token.balanceOf(address(a));
        a.withdraw(id, rest);
        assertEq(d.token.balanceOf(address(a)) - before, rest, "all of it back");
    }

    function test_onlyTheConsumerManagesItsSubscription() public {
        uint256 id = _create(a, 1 hours, 2);
        vm.expectRevert(abi.encodeWithSelector(ISubscriptionManager.SubscriptionManagerNotConsumer.selector, id, address(b)));
        b.cancel(id);
        vm.expectRevert(abi.encodeWithSelector(ISubscriptionManager.SubscriptionManagerNotConsumer.selector, id, address(b)));
        b.withdraw(id, 1);
        uint96 fee = _fee();
        vm.expectRevert(abi.encodeWithSelector(ISubscriptionManager.SubscriptionManagerNotConsumer.selector, id, address(b)));
        b.setFeePerRun(id, fee);
        vm.expectRevert(abi.encodeWithSelector(ISubscriptionManager.SubscriptionManagerNotConsumer.selector, id, address(b)));
        b.setKeeperReward(id, 0);
        vm.expectRevert(abi.encodeWithSelector(ISubscriptionManager.SubscriptionManagerOnlyJobManager.selector, address(this)));
        mgr.onInferenceResult(1, "");
        // An account without code cannot subscribe (nothing could take its inputs' calls and results).
        vm.prank(KEEPER);
        vm.expectRevert(abi.encodeWithSelector(ISubscriptionManager.SubscriptionManagerConsumerHasNoCode.selector, KEEPER));
        mgr.createSubscription(modelId, 60, 1, fee, 0, CB_GAS, 0);
    }

    function test_createChecksTheSchedule() public {
        uint96 fee = _fee();
        vm.expectRevert(abi.encodeWithSelector(ISubscriptionManager.SubscriptionManagerInvalidSchedule.selector, 0, 3));
        a.subscribe(modelId, 0, 3, fee, 0, CB_GAS, 0);
        vm.expectRevert(abi.encodeWithSelector(ISubscriptionManager.SubscriptionManagerInvalidSchedule.selector, 60, 0));
        a.subscribe(modelId, 60, 0, fee, 0, CB_GAS, 0);
        uint256 minimum = mgr.minimumFeePerRun(modelId, CB_GAS);
        vm.expectRevert(abi.encodeWithSelector(ISubscriptionManager.SubscriptionManagerFeeTooLow.selector, 0, minimum - 1, minimum));
        a.subscribe(modelId, 60, 3, uint96(minimum - 1), 0, CB_GAS, 0);
        uint256 max = d.jobs.params().maxCallbackGasLimit;
        vm.expectRevert(abi.encodeWithSelector(ISubscriptionManager.SubscriptionManagerInvalidCallbackGas.selector, max, mgr.relayGas(max, 1), max));
        a.subscribe(modelId, 60, 3, fee, 0, uint32(max), 0);
        vm.expectRevert(abi.encodeWithSelector(ISubscriptionManager.SubscriptionManagerInvalidCallbackGas.selector, 0, mgr.relayGas(0, 1), max));
        a.subscribe(modelId, 60, 3, fee, 0, 0, 0);
        vm.prank(DEV);
        d.registry.deprecate(modelId);
        vm.expectRevert(abi.encodeWithSelector(ISubscriptionManager.SubscriptionManagerModelDeprecated.selector, modelId));
        a.subscribe(modelId, 60, 3, fee, 0, CB_GAS, 0);
    }

    function test_triggerNeedsTheRunsCost() public {
        uint96 fee = _fee();
        uint256 id = a.subscribe(modelId, 60, 3, fee, REWARD, CB_GAS, uint256(fee) + REWARD - 1);
        vm.expectRevert(abi.encodeWithSelector(ISubscriptionManager.SubscriptionManagerInsufficientBalance.selector, id, uint256(fee) + REWARD - 1, uint256(fee) + REWARD));
        mgr.trigger(id);
        a.fund(id, 1);
        _trigger(id);
    }

    /// @notice The model's developer raises its price, or governance the protocol fee or the callback
    /// fee per gas, mid-subscription: the next trigger says which fee a run now needs; the consumer
    /// raises its fee per run (or cancels and takes everything back), and runs go on.
    function testFuzz_feeRiseMidSubscription(uint8 which, uint96 rise) public {
        // At the least fee (the worker earns only the callback fee): any rise is above it.
        uint96 least = uint96(mgr.minimumFeePerRun(modelId, CB_GAS));
        uint256 id = a.subscribe(modelId, 1 hours, 3, least, REWARD, CB_GAS, 3 * (uint256(least) + REWARD));
        uint256 first = _trigger(id);
        _serve(first, 1);
        _finalize(first);
        which = uint8(bound(which, 0, 2));
        IJobManager.Params memory p = d.jobs.params();
        if (which == 0) {
            rise = uint96(bound(rise, 1 ether, 50 ether));
            vm.prank(DEV);
            d.registry.setPrice(modelId, PRICE + rise);
        } else if (which == 1) {
            p.protocolFeeBps = uint16(bound(rise, p.protocolFeeBps + 1, 2_000));
            d.jobs.setParams(p);
        } else {
            p.callbackFeePerGas = uint72(bound(rise, uint256(p.callbackFeePerGas) + 1, 1e15));
            d.jobs.setParams(p);
        }
        uint256 minimum = mgr.minimumFeePerRun(modelId, CB_GAS);
        assertGe(minimum, uint256(_terms[first].fee) + 1, "the change raised the least fee above the subscription's");
        // Run 1 is due (the finalization waited out the hour-long window).
        vm.expectRevert(abi.encodeWithSelector(ISubscriptionManager.SubscriptionManagerFeeTooLow.selector, id, _terms[first].fee, minimum));
        mgr.trigger(id);
        vm.expectRevert(abi.encodeWithSelector(ISubscriptionManager.SubscriptionManagerFeeTooLow.selector, id, minimum - 1, minimum));
        a.setFeePerRun(id, uint96(minimum - 1));
        a.setFeePerRun(id, uint96(minimum));
        a.fund(id, 10 * minimum);
        uint256 jobId = _trigger(id);
        assertEq(_terms[jobId].fee, minimum, "the run pays the new fee");
        _serve(jobId, 2);
        _finalize(jobId);
        assertEq(a.deliveries(id, 1), 1, "and is served");
        // Or the consumer stops and takes everything back.
        a.cancel(id);
        a.withdraw(id, mgr.getSubscription(id).balance);
        assertEq(mgr.getSubscription(id).balance, 0, "nothing left");
        _assertBooks(_ids(id), _keepers());
    }

    function test_pausedEscrowRefusesTriggersWithItsOwnError() public {
        uint256 id = _create(a, 1 hours, 3);
        IJobManager.Params memory p = d.jobs.params();
        p.paused = true;
        d.jobs.setParams(p);
        vm.expectRevert(abi.encodeWithSelector(IJobManager.JobManagerPaused.selector));
        mgr.trigger(id);
    }

    // ------------------------------------------------------------ relays and retries

    function test_relayGivesTheConsumerItsWholeGasLimit() public {
        uint256 id = _create(a, 1 hours, 1);
        uint256 jobId = _trigger(id);
        _serve(jobId, 3);
        _finalize(jobId);
        assertGe(a.gasAtEntry(), CB_GAS - 2_000, "the consumer got its callback gas limit");
        assertLe(a.gasAtEntry(), CB_GAS, "and no more");
    }

    function test_retryDeliversAFailedRelayOnce() public {
        uint256 id = _create(a, 1 hours, 1);
        a.setModes(TestSubscriber.InputMode.Normal, TestSubscriber.ResultMode.Revert);
        uint256 jobId = _trigger(id);
        _serve(jobId, 3);
        _finalize(jobId);
        assertEq(uint256(_state(jobId)), uint256(ISubscriptionManager.RunState.RelayFailed), "the relay failed");
        assertEq(uint256(d.jobs.getJob(jobId).status), uint256(IJobManager.JobStatus.Finalized), "the job is final regardless");
        // Wrong bytes, or a stranger: refused.
        vm.expectRevert(abi.encodeWithSelector(ISubscriptionManager.SubscriptionManagerNotFinalOutput.selector, jobId));
        a.retry(jobId, _terms[jobId], TestData.tensor4(4));
        vm.expectRevert(abi.encodeWithSelector(ISubscriptionManager.SubscriptionManagerNotConsumer.selector, id, address(b)));
        b.retry(jobId, _terms[jobId], _outputs[jobId]);
        // Still broken: the retry reverts, and can be made again.
        vm.expectRevert(abi.encodeWithSelector(TestSubscriber.TestSubscriberRefused.selector, id, 0));
        a.retry(jobId, _terms[jobId], _outputs[jobId]);
        a.setModes(TestSubscriber.InputMode.Normal, TestSubscriber.ResultMode.Record);
        a.retry(jobId, _terms[jobId], _outputs[jobId]);
        assertEq(a.deliveries(id, 0), 1, "delivered by the retry");
        vm.expectRevert(abi.encodeWithSelector(ISubscriptionManager.SubscriptionManagerNoFailedRelay.selector, jobId, ISubscriptionManager.RunState.Delivered));
        a.retry(jobId, _terms[jobId], _outputs[jobId]);
    }
}

/**
 * @notice Hostile consumers: whatever a consumer does in its input or result hook (revert, burn its
 * gas, return or revert with huge data, answer the wrong size, re-enter the manager), a job's
 * settlement goes through, the manager's books hold, and other subscriptions run. Each test fails
 * without the defence it names.
 */
contract SubscriptionHostileConsumersTest is SubscriptionsBase {
    /// @dev Both subscribers subscribe; `a` is the hostile one. Returns their ids and triggered jobs.
    function _both(TestSubscriber.InputMode inMode, TestSubscriber.ResultMode outMode, uint32 gas) private returns (uint256 ida, uint256 idb) {
        ida = _createWith(a, 1 hours, 2, gas);
        idb = _create(b, 1 hours, 2);
        a.setModes(inMode, outMode);
    }

    /// @dev Serves b's due run after whatever `a` did: the other subscription is untouched.
    function _othersRun(uint256 idb) private {
        uint256 jobId = _trigger(idb);
        _serve(jobId, 77);
        _finalize(jobId);
        assertEq(b.deliveries(idb, mgr.getRun(jobId).run), 1, "the other subscription was served");
    }

    // ------------------------------------------------------------ the result callback

    /// @notice Defence: the relay catches the consumer's revert and records it (a propagated revert
    /// would leave the run Requested, undone by the escrow's catch).
    function test_revertingResultIsRecorded() public {
        (uint256 ida, uint256 idb) = _both(TestSubscriber.InputMode.Normal, TestSubscriber.ResultMode.Revert, CB_GAS);
        uint256 jobId = _trigger(ida);
        _serve(jobId, 3);
        vm.recordLogs();
        _finalize(jobId);
        assertEq(uint256(d.jobs.getJob(jobId).status), uint256(IJobManager.JobStatus.Finalized), "finalized");
        assertEq(uint256(_state(jobId)), uint256(ISubscriptionManager.RunState.RelayFailed), "the failure is recorded");
        assertEq(uint256(d.jobs.getJob(jobId).callback), uint256(IJobManager.CallbackStatus.Delivered), "the escrow's callback (the relay) succeeded");
        bytes memory reason = _relayFailedReason(jobId);
        assertEq(keccak256(reason), keccak256(abi.encodeWithSelector(TestSubscriber.TestSubscriberRefused.selector, ida, 0)), "with the consumer's reason");
        assertGe(d.jobs.balanceOf(WORKER), 1, "the worker is paid");
        _othersRun(idb);
        _assertBooks(_ids(ida, idb), _keepers());
    }

    /// @notice Defence: the consumer gets exactly its callback gas limit (a call with all the gas left
    /// would let it eat the relay's own gas, and with a small limit the 1/64 left could not record
    /// the failure).
    function test_gasBurningResultIsBounded() public {
        (uint256 ida, uint256 idb) = _both(TestSubscriber.InputMode.Normal, TestSubscriber.ResultMode.BurnGas, 20_000);
        uint256 jobId = _trigger(ida);
        _serve(jobId, 3);
        vm.warp(d.jobs.getJob(jobId).timer);
        vm.recordLogs();
        uint256 before = gasleft();
        vm.prank(FINALIZER);
        d.jobs.finalizeWithCallback(jobId, _terms[jobId], _outputs[jobId]);
        uint256 used = before - gasleft();
        assertEq(uint256(_state(jobId)), uint256(ISubscriptionManager.RunState.RelayFailed), "the failure is recorded");
        assertEq(_relayFailedReasonLength(jobId), 0, "out of gas: no reason");
        assertLe(used, mgr.relayGas(20_000, 1) + 150_000, "the finalizer paid for the job's callback gas, no more");
        _othersRun(idb);
    }

    /// @notice Defence: at most 256 bytes of revert data are copied (copying 200 KB would cost the
    /// relay ~100,000 gas of memory, more than its overhead: it would run out and record nothing).
    function test_hugeRevertDataIsNotCopied() public {
        (uint256 ida, uint256 idb) = _both(TestSubscriber.InputMode.Normal, TestSubscriber.ResultMode.HugeRevert, 200_000);
        a.setHugeSize(200_000);
        uint256 jobId = _trigger(ida);
        _serve(jobId, 3);
        vm.recordLogs();
        _finalize(jobId);
        assertEq(uint256(_state(jobId)), uint256(ISubscriptionManager.RunState.RelayFailed), "the failure is recorded");
        assertEq(_relayFailedReasonLength(jobId), 256, "its first 256 bytes");
        _othersRun(idb);
    }

    /// @notice A hook that triggers another subscription's run from inside the relay fails (the
    /// escrow's guard refuses a request inside a finalization): recorded, and that run is triggered
    /// normally afterwards.
    function test_reenteringTriggerFails() public {
        (uint256 ida, uint256 idb) = _both(TestSubscriber.InputMode.Normal, TestSubscriber.ResultMode.ReenterTrigger, CB_GAS);
        a.setReentry(idb, 0, _terms[0]);
        uint256 jobId = _trigger(ida);
        _serve(jobId, 3);
        uint256 bBalance = mgr.getSubscription(idb).balance;
        _finalize(jobId);
        assertEq(uint256(_state(jobId)), uint256(ISubscriptionManager.RunState.RelayFailed), "the hook failed");
        assertEq(mgr.getSubscription(idb).balance, bBalance, "the other subscription paid nothing");
        assertEq(mgr.getSubscription(idb).triggered, 0, "and was not triggered");
        _othersRun(idb);
        _assertBooks(_ids(ida, idb), _keepers());
    }

    /// @notice A hook that withdraws its own funds from inside the relay: the run was recorded before
    /// the call, so the books stay exact.
    function test_reenteringWithdrawKeepsTheBooks() public {
        (uint256 ida, uint256 idb) = _both(TestSubscriber.InputMode.Normal, TestSubscriber.ResultMode.ReenterWithdraw, CB_GAS);
        uint256 jobId = _trigger(ida);
        uint256 rest = mgr.getSubscription(ida).balance;
        a.setReentry(0, rest, _terms[jobId]);
        _serve(jobId, 3);
        uint256 before = d.token.balanceOf(address(a));
        _finalize(jobId);
        assertTrue(a.reentered(), "the withdrawal went through");
        assertEq(d.token.balanceOf(address(a)) - before, rest, "of the subscription's balance");
        assertEq(mgr.getSubscription(ida).balance, 0, "which is now empty");
        assertEq(uint256(_state(jobId)), uint256(ISubscriptionManager.RunState.Delivered), "and the run delivered once");
        assertEq(a.deliveries(ida, 0), 1, "once");
        _othersRun(idb);
        _assertBooks(_ids(ida, idb), _keepers());
    }

    /// @notice Defence: the run is marked delivered before the call, so a hook retrying its own run
    /// from inside the relay is refused (recorded after the call, it would be delivered twice).
    function test_reenteringRetryCannotDeliverTwice() public {
        (uint256 ida, ) = _both(TestSubscriber.InputMode.Normal, TestSubscriber.ResultMode.ReenterRetry, CB_GAS);
        uint256 jobId = _trigger(ida);
        a.setReentry(0, 0, _terms[jobId]);
        _serve(jobId, 3);
        _finalize(jobId);
        assertFalse(a.reentered(), "the retry inside the relay was refused");
        assertEq(a.deliveries(ida, 0), 1, "delivered once");
        assertEq(uint256(_state(jobId)), uint256(ISubscriptionManager.RunState.Delivered), "delivered");
    }

    // ------------------------------------------------------------ the input

    /// @notice A consumer that refuses its input: the trigger fails with its reason, nothing is paid,
    /// others run, and the run is skipped once its interval passes.
    function test_revertingInputPaysNothing() public {
        (uint256 ida, uint256 idb) = _both(TestSubscriber.InputMode.Revert, TestSubscriber.ResultMode.Record, CB_GAS);
        uint256 balance = mgr.getSubscription(ida).balance;
        vm.expectRevert(
            abi.encodeWithSelector(
                ISubscriptionManager.SubscriptionManagerInputFailed.selector,
                ida,
                0,
                abi.encodeWithSelector(TestSubscriber.TestSubscriberRefused.selector, ida, 0)
            )
        );
        mgr.trigger(ida);
        assertEq(mgr.getSubscription(ida).balance, balance, "nothing paid");
        _othersRun(idb);
        a.setModes(TestSubscriber.InputMode.Normal, TestSubscriber.ResultMode.Record);
        uint256 jobId = _trigger(ida);
        assertEq(mgr.getRun(jobId).run, 1, "run 0 was skipped, run 1 is served");
    }

    /// @notice Defence: the input call's gas is capped (with all the gas left, it would burn 63/64 of
    /// the keeper's).
    function test_gasBurningInputIsCapped() public {
        (uint256 ida, uint256 idb) = _both(TestSubscriber.InputMode.BurnGas, TestSubscriber.ResultMode.Record, CB_GAS);
        uint256 before = gasleft();
        try mgr.trigger{gas: 5_000_000}(ida) {
            fail("the trigger succeeded");
        } catch (bytes memory reason) {
            assertEq(bytes4(reason), ISubscriptionManager.SubscriptionManagerInputFailed.selector, "the input failed");
        }
        uint256 used = before - gasleft();
        assertLe(used, mgr.INPUT_GAS_LIMIT() + 100_000, "at most the cap was burned");
        _othersRun(idb);
    }

    /// @notice Defence: the size of the return data is checked before anything is copied (copying
    /// 400 KB would cost the keeper ~380,000 gas more of memory).
    function test_hugeInputIsNotCopied() public {
        (uint256 ida, uint256 idb) = _both(TestSubscriber.InputMode.HugeReturn, TestSubscriber.ResultMode.Record, CB_GAS);
        a.setHugeSize(400_000);
        uint256 before = gasleft();
        try mgr.trigger(ida) {
            fail("the trigger succeeded");
        } catch (bytes memory reason) {
            assertEq(keccak256(reason), keccak256(abi.encodeWithSelector(ISubscriptionManager.SubscriptionManagerBadInput.selector, ida, 0, 4, 400_000)), "refused by size");
        }
        uint256 used = before - gasleft();
        // The consumer's own memory for 400 KB costs it ~343,000 gas (inside the cap); a copy would cost as much again.
        assertLe(used, 420_000, "nothing was copied");
        _othersRun(idb);
    }

    function test_wrongSizeInputIsRefused() public {
        (uint256 ida, ) = _both(TestSubscriber.InputMode.WrongSize, TestSubscriber.ResultMode.Record, CB_GAS);
        vm.expectRevert(abi.encodeWithSelector(ISubscriptionManager.SubscriptionManagerBadInput.selector, ida, 0, 4, 96));
        mgr.trigger(ida);
    }

    // ------------------------------------------------------------ helpers

    function _relayFailedReason(uint256 jobId) private returns (bytes memory) {
        Vm.Log[] memory logs = vm.getRecordedLogs();
        for (uint256 i = 0; i < logs.length; ++i) {
            if (logs[i].emitter != address(mgr) || logs[i].topics[0] != ISubscriptionManager.RelayFailed.selector) continue;
            if (uint256(logs[i].topics[3]) != jobId) continue;
            return abi.decode(logs[i].data, (bytes));
        }
        revert("no RelayFailed");
    }

    function _relayFailedReasonLength(uint256 jobId) private returns (uint256) {
        return _relayFailedReason(jobId).length;
    }
}
