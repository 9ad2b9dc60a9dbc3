// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IJobManager} from "../../../contracts/interfaces/IJobManager.sol";
import {ISubscriptionManager} from "../../../contracts/interfaces/ISubscriptionManager.sol";
import {SubscriptionManager} from "../../../contracts/subscriptions/SubscriptionManager.sol";
import {TestSubscriber} from "../../../contracts/test/TestSubscriber.sol";

import {Vm, VM_ADDRESS} from "../utils/Vm.sol";
import {TestData, Deployment} from "../utils/Protocol.sol";

/**
 * @title SubscriptionHandler
 * @notice Drives subscriptions with bounded random actions for the invariant tests: consumers
 * (honest or hostile, switching at random) create, fund, cancel, withdraw and change their fees;
 * keepers trigger runs; a worker claims and submits; runs are finalized (the relay runs inside),
 * expired, rejected in disputes (this handler is the dispute manager and governance), settled back
 * and retried; governance and the model's developer change the fees; time passes.
 *
 * Every action first predicts what the manager must do, then compares: a due, funded, honest run
 * that is refused, a trigger that should fail and does not, a relay that records nothing, a token
 * moved by a wrong amount, a result delivered twice, is counted in `violations` (the invariant runner
 * swallows reverts, so the checks never revert). Ghost sums keep every token path the subscriptions
 * have: what was paid in, refunded, paid out as fees and rewards, and withdrawn.
 */
contract SubscriptionHandler {
    Vm private constant vm = Vm(VM_ADDRESS);

    uint32 public constant CB_GAS = 150_000;

    Deployment private d;
    // Storage, not immutables: the invariant runner recognizes the handler by its deployed code.
    SubscriptionManager public mgr;
    uint256 public modelId;
    address public dev;
    address public worker;

    TestSubscriber[] private _consumers;
    address[] private _keepers;
    uint256[] private _subs;
    uint256[] private _jobs;
    mapping(uint256 jobId => IJobManager.JobTerms) private _terms;
    mapping(uint256 jobId => bytes) private _outputs;
    mapping(uint256 subscriptionId => TestSubscriber) public consumerOf;
    /// @notice Successful triggers per subscription and run (at most one).
    mapping(uint256 subscriptionId => mapping(uint256 run => uint256)) public ghostTriggers;

    /// @notice Tokens paid into subscriptions (deposits and top-ups).
    uint256 public ghostPaidIn;
    /// @notice Fees returned to subscriptions by {settleRun}.
    uint256 public ghostRefunded;
    /// @notice Fees paid to the escrow by triggers.
    uint256 public ghostFees;
    /// @notice Keeper rewards credited by triggers.
    uint256 public ghostRewards;
    /// @notice Tokens consumers withdrew from their subscriptions (inside a relay too).
    uint256 public ghostWithdrawn;
    /// @notice Tokens keepers withdrew.
    uint256 public ghostKeeperWithdrawn;

    uint256 public violations;
    string public firstViolation;
    mapping(bytes32 action => uint256) public calls;

    constructor(Deployment memory deployment, SubscriptionManager mgr_, uint256 modelId_, address dev_, address worker_, TestSubscriber[] memory consumers_, address[] memory keepers_) {
        d = deployment;
        mgr = mgr_;
        modelId = modelId_;
        dev = dev_;
        worker = worker_;
        _consumers = consumers_;
        _keepers = keepers_;
    }

    // ------------------------------------------------------------ views for the invariants

    function subscriptions() external view returns (uint256[] memory) {
        return _subs;
    }

    function jobs() external view returns (uint256[] memory) {
        return _jobs;
    }

    function consumers() external view returns (TestSubscriber[] memory) {
        return _consumers;
    }

    function keepers() external view returns (address[] memory) {
        return _keepers;
    }

    // ------------------------------------------------------------ consumers

    function create(uint256 consumerSeed, uint256 period, uint256 runs, uint256 extra, uint256 reward, uint256 depositSeed) external {
        if (_subs.length >= 40) return;
        TestSubscriber c = _consumers[consumerSeed % _consumers.length];
        period = _bound(period, 10 minutes, 6 hours);
        runs = _bound(runs, 1, 12);
        uint256 fee = mgr.minimumFeePerRun(modelId, CB_GAS) + _bound(extra, 0, 2 ether);
        reward = _bound(reward, 0, 0.1 ether);
        uint256 full = runs * (fee + reward);
        // Mostly the whole schedule at once; sometimes part of it, or nothing (funded later).
        uint256 deposit = depositSeed % 4 == 0 ? _bound(depositSeed >> 8, 0, full) : full;
        uint256 before = d.token.balanceOf(address(mgr));
        try c.subscribe(modelId, uint32(period), uint32(runs), uint96(fee), uint96(reward), CB_GAS, deposit) returns (uint256 id) {
            _subs.push(id);
            consumerOf[id] = c;
            ghostPaidIn += deposit;
            if (d.token.balanceOf(address(mgr)) != before + deposit) _violation("create pulled a wrong deposit");
            if (mgr.getSubscription(id).balance != deposit) _violation("create recorded a wrong balance");
            calls["create"]++;
        } catch {
            _violation("a valid subscription was refused");
        }
    }

    function fund(uint256 subSeed, uint256 amount) external {
        if (_subs.length == 0) return;
        uint256 id = _subs[subSeed % _subs.length];
        amount = _bound(amount, 1, 10 ether);
        uint256 balance = mgr.getSubscription(id).balance;
        d.token.approve(address(mgr), amount);
        mgr.fund(id, amount);
        ghostPaidIn += amount;
        if (mgr.getSubscription(id).balance != balance + amount) _violation("fund added a wrong amount");
        calls["fund"]++;
    }

    function cancel(uint256 subSeed) external {
        if (_subs.length == 0) return;
        uint256 id = _subs[subSeed % _subs.length];
        bool was = mgr.getSubscription(id).cancelled;
        try consumerOf[id].cancel(id) {
            if (was) _violation("cancelled twice");
            calls["cancel"]++;
        } catch {
            if (!was) _violation("a cancel was refused");
        }
    }

    function withdrawFunds(uint256 subSeed, uint256 amount) external {
        if (_subs.length == 0) return;
        uint256 id = _subs[subSeed % _subs.length];
        uint256 balance = mgr.getSubscription(id).balance;
        if (balance == 0) return;
        amount = _bound(amount, 1, balance);
        TestSubscriber c = consumerOf[id];
        uint256 before = d.token.balanceOf(address(c));
        try c.withdraw(id, amount) {
            ghostWithdrawn += amount;
            if (d.token.balanceOf(address(c)) != before + amount) _violation("withdrawFunds paid a wrong amount");
            calls["withdrawFunds"]++;
        } catch {
            _violation("a withdrawal within the balance was refused");
        }
    }

    function setFee(uint256 subSeed, uint256 extra) external {
        if (_subs.length == 0) return;
        uint256 id = _subs[subSeed % _subs.length];
        uint256 fee = mgr.minimumFeePerRun(modelId, CB_GAS) + _bound(extra, 0, 1 ether);
        try consumerOf[id].setFeePerRun(id, uint96(fee)) {
            calls["setFee"]++;
        } catch {
            _violation("a fee per run at least the minimum was refused");
        }
    }

    /// @dev Mostly honest; sometimes each kind of hostile input or result hook.
    function setModes(uint256 consumerSeed, uint256 inSeed, uint256 outSeed) external {
        TestSubscriber c = _consumers[consumerSeed % _consumers.length];
        uint256 i = inSeed % 10;
        TestSubscriber.InputMode inMode = i < 6 ? TestSubscriber.InputMode.Normal : TestSubscriber.InputMode(i - 5 > 4 ? 4 : i - 5);
        uint256 o = outSeed % 12;
        TestSubscriber.ResultMode outMode = o < 5 ? TestSubscriber.ResultMode.Record : TestSubscriber.ResultMode(o - 5);
        c.setModes(inMode, outMode);
        c.setHugeSize(_bound(outSeed >> 8, 300, 100_000));
        calls["setModes"]++;
    }

    // ------------------------------------------------------------ keepers

    function trigger(uint256 subSeed, uint256 keeperSeed) external {
        if (_subs.length == 0) return;
        uint256 id = _subs[subSeed % _subs.length];
        address keeper = _keepers[keeperSeed % _keepers.length];
        ISubscriptionManager.Subscription memory s = mgr.getSubscription(id);
        uint256 run = (block.timestamp - s.start) / s.period;
        uint256 cost = uint256(s.feePerRun) + s.keeperReward;
        bool expected = !s.cancelled && run < s.runs && run >= s.nextRun && s.balance >= cost &&
            consumerOf[id].inputMode() == TestSubscriber.InputMode.Normal &&
            s.feePerRun >= mgr.minimumFeePerRun(modelId, s.callbackGasLimit);
        uint256 escrow = d.token.balanceOf(address(d.jobs));
        uint256 owed = mgr.balanceOf(keeper);
        vm.recordLogs();
        vm.prank(keeper);
        try mgr.trigger(id) returns (uint256 jobId) {
            if (!expected) _violation("a trigger that should fail went through");
            if (++ghostTriggers[id][run] > 1) _violation("a run was triggered twice");
            if (mgr.getRun(jobId).run != run) _violation("the trigger served another run than the current one");
            if (mgr.getSubscription(id).balance != s.balance - cost) _violation("the trigger took a wrong amount");
            if (mgr.balanceOf(keeper) != owed + s.keeperReward) _violation("the keeper was credited a wrong reward");
            if (d.token.balanceOf(address(d.jobs)) != escrow + s.feePerRun) _violation("the escrow got a wrong fee");
            ghostFees += s.feePerRun;
            ghostRewards += s.keeperReward;
            _keepTerms(jobId);
            _jobs.push(jobId);
            calls["trigger"]++;
        } catch {
            if (expected) _violation("a due, funded, honest run was refused");
            calls["triggerRefused"]++;
        }
    }

    function keeperWithdraw(uint256 keeperSeed) external {
        address keeper = _keepers[keeperSeed % _keepers.length];
        uint256 owed = mgr.balanceOf(keeper);
        if (owed == 0) return;
        uint256 before = d.token.balanceOf(keeper);
        vm.prank(keeper);
        mgr.withdraw();
        ghostKeeperWithdrawn += owed;
        if (d.token.balanceOf(keeper) != before + owed) _violation("a keeper withdrew a wrong amount");
        calls["keeperWithdraw"]++;
    }

    // ------------------------------------------------------------ the runs' jobs

    function serve(uint256 jobSeed, uint32 value) external {
        if (_jobs.length == 0) return;
        uint256 jobId = _jobs[jobSeed % _jobs.length];
        if (d.jobs.getJob(jobId).status != IJobManager.JobStatus.Open || block.timestamp > _terms[jobId].deadline) return;
        bytes memory output = TestData.tensor4(value);
        vm.startPrank(worker);
        d.jobs.claim(jobId, _terms[jobId]);
        d.jobs.submitResult(jobId, _terms[jobId], output, TestData.commitOneChunk(output));
        vm.stopPrank();
        _outputs[jobId] = output;
        calls["serve"]++;
    }

    /// @dev The worker claims a run's job and never answers: an expiry later slashes it to the
    /// manager (the job's requester), which collectSlashes or settleRun must give back to the run's
    /// subscription.
    function claimOnly(uint256 jobSeed) external {
        if (_jobs.length == 0) return;
        uint256 jobId = _jobs[jobSeed % _jobs.length];
        if (d.jobs.getJob(jobId).status != IJobManager.JobStatus.Open || block.timestamp > _terms[jobId].deadline) return;
        vm.prank(worker);
        d.jobs.claim(jobId, _terms[jobId]);
        calls["claimOnly"]++;
    }

    function collectSlashes(uint256 jobSeed) external {
        if (_jobs.length == 0) return;
        uint256 jobId = _jobs[jobSeed % _jobs.length];
        ISubscriptionManager.Run memory r = mgr.getRun(jobId);
        IJobManager.JobStatus status = d.jobs.getJob(jobId).status;
        bool over = status == IJobManager.JobStatus.Finalized || status == IJobManager.JobStatus.Refunded || status == IJobManager.JobStatus.Rejected;
        bool expected = over && !r.slashesCollected;
        uint256 balance = mgr.getSubscription(r.subscriptionId).balance;
        uint256 slashes = d.jobs.timeoutSlashes(jobId);
        try mgr.collectSlashes(jobId) {
            if (!expected) _violation("collectSlashes of a running or collected run went through");
            if (mgr.getSubscription(r.subscriptionId).balance != balance + slashes) _violation("collectSlashes added a wrong amount");
            ghostRefunded += slashes;
            calls["collectSlashes"]++;
        } catch {
            if (expected) _violation("collectSlashes of a finished run was refused");
        }
    }

    /// @dev Finalizes a submitted run after its window (waiting it out): whatever the consumer does,
    /// the job is final and the relay records what happened.
    function finalize(uint256 jobId_, uint256 finalizerSeed) external {
        if (_jobs.length == 0) return;
        uint256 jobId = _jobs[jobId_ % _jobs.length];
        IJobManager.Job memory job = d.jobs.getJob(jobId);
        if (job.status != IJobManager.JobStatus.Submitted || job.openDisputes != 0) return;
        if (block.timestamp < job.timer) vm.warp(job.timer);
        ISubscriptionManager.Run memory r = mgr.getRun(jobId);
        TestSubscriber c = consumerOf[r.subscriptionId];
        // What the re-entering hooks use: its own subscription, one wei, this job's terms.
        c.setReentry(r.subscriptionId, 1, _terms[jobId]);
        TestSubscriber.ResultMode mode = c.resultMode();
        uint256 tokens = d.token.balanceOf(address(c));
        address finalizer = _keepers[finalizerSeed % _keepers.length];
        vm.prank(finalizer);
        try d.jobs.finalizeWithCallback(jobId, _terms[jobId], _outputs[jobId]) {
            ISubscriptionManager.RunState state = mgr.getRun(jobId).state;
            if (state != ISubscriptionManager.RunState.Delivered && state != ISubscriptionManager.RunState.RelayFailed) {
                _violation("a finalized run's relay recorded nothing");
            }
            if (mode == TestSubscriber.ResultMode.Record && state != ISubscriptionManager.RunState.Delivered) {
                _violation("an honest consumer's result was not delivered");
            }
            if (mode == TestSubscriber.ResultMode.Revert && state != ISubscriptionManager.RunState.RelayFailed) {
                _violation("a reverting consumer's relay was not recorded as failed");
            }
            // A hook that withdrew (re-entering) moved tokens out of its subscription.
            ghostWithdrawn += d.token.balanceOf(address(c)) - tokens;
            if (state == ISubscriptionManager.RunState.Delivered) calls["delivered"]++;
            else calls["relayFailed"]++;
        } catch {
            _violation("a run's finalization reverted");
        }
    }

    function expire(uint256 jobSeed) external {
        if (_jobs.length == 0) return;
        uint256 jobId = _jobs[jobSeed % _jobs.length];
        try d.jobs.expire(jobId, _terms[jobId]) {
            calls["expire"]++;
        } catch {}
    }

    /// @dev A dispute proves a submitted run's result wrong (this handler is the dispute manager).
    function reject(uint256 jobSeed) external {
        if (_jobs.length == 0) return;
        uint256 jobId = _jobs[jobSeed % _jobs.length];
        IJobManager.Job memory job = d.jobs.getJob(jobId);
        if (job.status != IJobManager.JobStatus.Submitted || block.timestamp >= job.timer) return;
        d.jobs.freezeForDispute(jobId, _terms[jobId], TestData.commitOneChunk(_outputs[jobId]));
        d.jobs.settleDispute(jobId, false, _terms[jobId].lock);
        calls["reject"]++;
    }

    function settleRun(uint256 jobSeed) external {
        if (_jobs.length == 0) return;
        uint256 jobId = _jobs[jobSeed % _jobs.length];
        ISubscriptionManager.Run memory r = mgr.getRun(jobId);
        IJobManager.JobStatus status = d.jobs.getJob(jobId).status;
        bool expected = r.state == ISubscriptionManager.RunState.Requested &&
            (status == IJobManager.JobStatus.Refunded || status == IJobManager.JobStatus.Rejected);
        uint256 balance = mgr.getSubscription(r.subscriptionId).balance;
        // Its fee, and what its workers' timeouts paid unless already collected.
        uint256 slashes = r.slashesCollected ? 0 : d.jobs.timeoutSlashes(jobId);
        try mgr.settleRun(jobId) {
            if (!expected) _violation("settleRun of a run that had not failed went through");
            if (mgr.getSubscription(r.subscriptionId).balance != balance + r.fee + slashes) _violation("settleRun returned a wrong amount");
            ghostRefunded += r.fee + slashes;
            calls["settleRun"]++;
        } catch {
            if (expected) _violation("settleRun of a failed run was refused");
        }
    }

    /// @dev The consumer of a run whose relay failed fixes its hook and retries.
    function retry(uint256 jobSeed) external {
        if (_jobs.length == 0) return;
        uint256 jobId = _jobs[jobSeed % _jobs.length];
        ISubscriptionManager.Run memory r = mgr.getRun(jobId);
        if (r.state != ISubscriptionManager.RunState.RelayFailed) return;
        TestSubscriber c = consumerOf[r.subscriptionId];
        c.setModes(c.inputMode(), TestSubscriber.ResultMode.Record);
        try c.retry(jobId, _terms[jobId], _outputs[jobId]) {
            if (mgr.getRun(jobId).state != ISubscriptionManager.RunState.Delivered) _violation("a retry did not deliver");
            calls["retry"]++;
        } catch {
            _violation("a fixed consumer's retry was refused");
        }
    }

    // ------------------------------------------------------------ fees and time

    /// @dev Governance changes the protocol fee or the callback fee per gas, or the developer the price.
    function changeFees(uint256 seed) external {
        uint256 which = seed % 3;
        if (which == 0) {
            vm.prank(dev);
            d.registry.setPrice(modelId, uint96(_bound(seed >> 8, 0, 1.5 ether)));
        } else {
            IJobManager.Params memory p = d.jobs.params();
            if (which == 1) p.protocolFeeBps = uint16(_bound(seed >> 8, 0, 2_000));
            else p.callbackFeePerGas = uint72(_bound(seed >> 8, 0, 1e13));
            d.jobs.setParams(p);
        }
        calls["changeFees"]++;
    }

    function warp(uint256 seconds_) external {
        // Mostly within a period; sometimes past a few runs or a job's deadline.
        vm.warp(block.timestamp + (seconds_ % 8 == 0 ? _bound(seconds_, 1 hours, 4 hours) : _bound(seconds_, 1, 20 minutes)));
        calls["warp"]++;
    }

    // ------------------------------------------------------------ internals

    function _keepTerms(uint256 jobId) private {
        Vm.Log[] memory logs = vm.getRecordedLogs();
        for (uint256 i = 0; i < logs.length; ++i) {
            if (logs[i].emitter != address(d.jobs) || logs[i].topics[0] != IJobManager.JobRequested.selector) continue;
            if (uint256(logs[i].topics[1]) != jobId) continue;
            (IJobManager.JobTerms memory t, , ) = abi.decode(logs[i].data, (IJobManager.JobTerms, bytes, string));
            _terms[jobId] = t;
            return;
        }
        _violation("a triggered job emitted no JobRequested");
    }

    function _violation(string memory what) private {
        if (violations == 0) firstViolation = what;
        violations++;
    }

    function _bound(uint256 x, uint256 min, uint256 max) private pure returns (uint256) {
        if (x >= min && x <= max) return x;
        return min + (x % (max - min + 1));
    }
}
