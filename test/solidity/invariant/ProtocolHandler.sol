// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {BPS, FeeSplit} from "../../../contracts/libraries/FeeSplit.sol";
import {IJobManager} from "../../../contracts/interfaces/IJobManager.sol";
import {IPullPayments} from "../../../contracts/interfaces/IPullPayments.sol";
import {IModelRegistry} from "../../../contracts/interfaces/IModelRegistry.sol";
import {IStaking} from "../../../contracts/interfaces/IStaking.sol";
import {IInferenceConsumer} from "../../../contracts/interfaces/IInferenceConsumer.sol";
import {JobManager} from "../../../contracts/jobs/JobManager.sol";

import {Vm, VM_ADDRESS} from "../utils/Vm.sol";
import {TestData, Terms, Deployment} from "../utils/Protocol.sol";

/// @notice The consumer of the handler's consumer jobs: approves every actor, records its callbacks,
/// and fails one in three (a revert) so that both callback outcomes are exercised.
contract InvariantConsumer is IInferenceConsumer {
    uint256 public delivered;

    error InvariantConsumerRefused(uint256 jobId);

    function approve(IJobManager jobs, address[] memory requesters) external {
        for (uint256 i = 0; i < requesters.length; ++i) jobs.setRequesterApproval(requesters[i], true);
    }

    function onInferenceResult(uint256 jobId, bytes calldata) external {
        if (jobId % 3 == 0) revert InvariantConsumerRefused(jobId);
        ++delivered;
    }
}

/**
 * @title ProtocolHandler
 * @notice Drives the protocol with bounded random actions for the invariant tests: register models,
 * stake, unstake, withdraw stake, request (with or without a consumer; a single job or a batch of 1
 * to 4 inputs), claim, submit (valid and invalid outputs, a batch's as the concatenation of its items'), finalize (a consumer job with its output bytes, by a random finalizer paid its
 * callback fee), expire, cancel, withdraw balances, distribute a model's accruals (its earnings to its payees, its jobs'
 * protocol fees to the treasury in force), freeze and settle disputes (this handler is the dispute manager and the owner of the
 * escrow and staking), change parameters, and let time pass.
 *
 * Every action first predicts whether the protocol must accept it and what it must move, then
 * compares: a wrong prediction, a credit to a settled job, a split that does not sum, a slash that
 * moves a different amount, is counted in `violations` (handler reverts would be swallowed by the
 * invariant runner, so the checks here never revert) and surfaces in `invariant_handlerChecks`.
 * Ghost variables keep what the invariants compare against the contracts.
 */
contract ProtocolHandler {
    Vm private constant vm = Vm(VM_ADDRESS);

    uint256 private constant MAX_MODELS = 6;

    /// @dev A job as the handler predicts with: its stored state and the terms it was requested
    /// with (the escrow stores only their hash). `lockedStake` is the terms' lock.
    struct JobView {
        IJobManager.JobStatus status;
        uint32 openDisputes;
        uint40 timer;
        address worker;
        address requester;
        uint256 modelId;
        uint96 fee;
        uint96 modelFee;
        uint96 lockedStake;
        uint16 protocolFeeBps;
        uint40 deadline;
    }

    Deployment private d;
    /// @dev Each job's terms, recorded at request and checked against the stored hash.
    mapping(uint256 jobId => IJobManager.JobTerms) private _terms;
    /// @dev Each submitted job's output commitment (a result binds no trace).
    mapping(uint256 jobId => bytes32) private _results;
    /// @dev Each submitted job's output bytes (a consumer job's finalizer passes them back).
    mapping(uint256 jobId => bytes) private _outputs;
    /// @dev Each job's batch size (1 for a single job), as requested.
    mapping(uint256 jobId => uint256) private _batch;
    /// @dev The consumer every consumer job names (it approved every actor).
    InvariantConsumer private _consumer;
    /// @dev The parameters in force when each job was requested, as read before the request: what
    /// its result time, challenge window, timeout slash and treasury must come from, whatever
    /// governance set since (the escrow reads them from the job's version; this is the prediction).
    mapping(uint256 jobId => IJobManager.Params) private _jobParams;
    /// @dev The treasury each parameter version was set with (recorded at setParams, and at
    /// construction for the version then in force): the treasury in force, paid the protocol fees a
    /// distribution finds. A version made without new parameters (the test's setDisputeManager) has
    /// the treasury of the last one recorded before it ({_treasuryAt}).
    mapping(uint32 version => address) private _versionTreasury;
    address[] private _actors;
    address[] private _pullAccounts;
    address[] private _holders;
    uint256[] private _models;

    // ------------------------------------------------------------ ghosts

    /// @notice Fees escrowed and not yet settled (Open/Claimed/Submitted jobs).
    uint256 public ghostEscrowedFees;
    /// @notice Per job: pull-balance credits made while acting on it.
    mapping(uint256 jobId => uint256) public ghostJobCredited;
    /// @notice Per job: what its finalization accrued to its model (its price at request).
    mapping(uint256 jobId => uint256) public ghostJobAccrued;
    /// @notice Per job: the protocol fee its finalization accrued to its model.
    mapping(uint256 jobId => uint256) public ghostJobProtocolFee;
    /// @notice Per model: protocol fees accrued by its jobs' finalizations / paid to the treasury
    /// by distributions.
    mapping(uint256 modelId => uint256) public ghostModelFeesAccrued;
    mapping(uint256 modelId => uint256) public ghostModelFeesPaid;
    /// @notice Per model: accrued by finalizations / credited to payees by distributions.
    mapping(uint256 modelId => uint256) public ghostModelAccrued;
    mapping(uint256 modelId => uint256) public ghostModelDistributed;
    /// @notice Per job: slashes credited to the requester by timeouts.
    mapping(uint256 jobId => uint256) public ghostJobTimeoutSlashes;
    /// @notice Per job: how many times it was settled (finalized, refunded or rejected).
    mapping(uint256 jobId => uint256) public ghostJobSettlements;
    /// @notice Per account: total credited to / withdrawn from its pull balance.
    mapping(address account => uint256) public ghostCredited;
    mapping(address account => uint256) public ghostWithdrawn;
    /// @notice Per staker: total requested for unbonding / withdrawn from staking.
    mapping(address staker => uint256) public ghostUnbondRequested;
    mapping(address staker => uint256) public ghostStakeWithdrawn;
    /// @notice Slashes sent to the dispute manager (this handler), per settleDispute's return.
    uint256 public ghostDisputeSlashes;

    uint256 public violations;
    string public firstViolation;

    /// @notice Successful calls per action, to check the campaign actually exercises the protocol.
    mapping(bytes32 action => uint256) public calls;

    /// @param consumer_ The consumer named by consumer jobs, deployed by the test, which has it
    /// approve every actor.
    constructor(Deployment memory deployment, address[] memory actors_, address[] memory pullAccounts_, InvariantConsumer consumer_) {
        d = deployment;
        _actors = actors_;
        _pullAccounts = pullAccounts_;
        _holders = pullAccounts_;
        _holders.push(address(this));
        _holders.push(address(d.jobs));
        _holders.push(address(d.staking));
        _versionTreasury[d.jobs.paramsVersion()] = d.jobs.params().treasury;
        _consumer = consumer_;
    }

    // ------------------------------------------------------------ views for the invariants

    function actors() external view returns (address[] memory) {
        return _actors;
    }

    function pullAccounts() external view returns (address[] memory) {
        return _pullAccounts;
    }

    /// @notice Every address that can hold tokens (besides the deployer, which the test adds).
    function holders() external view returns (address[] memory) {
        return _holders;
    }

    // ------------------------------------------------------------ actions: models and stake

    function registerModel(uint256 ownerSeed, uint96 price, uint256 nSeed, uint256 splitSeed) external {
        if (_models.length >= MAX_MODELS) return;
        address owner_ = _actor(ownerSeed);
        price = uint96(_bound(price, 0, 500 ether));
        (uint16 developerBps, IModelRegistry.Contributor[] memory contributors) = TestData.randomSplit(
            splitSeed,
            _bound(nSeed, 0, 8),
            _pullAccounts
        );
        IModelRegistry.ModelSpec memory spec = TestData.tinyModel(price, developerBps, contributors, splitSeed);
        vm.prank(owner_);
        try d.registry.registerModel(spec) returns (uint256 modelId) {
            _models.push(modelId);
            calls["registerModel"]++;
        } catch {
            _violation("registerModel reverted on a valid spec");
        }
    }

    function setPrice(uint256 modelSeed, uint96 price) external {
        if (_models.length == 0) return;
        uint256 modelId = _models[modelSeed % _models.length];
        (address owner_, , ) = d.registry.payees(modelId);
        price = uint96(_bound(price, 0, 500 ether));
        vm.prank(owner_);
        d.registry.setPrice(modelId, price);
        calls["setPrice"]++;
    }

    function stake(uint256 actorSeed, uint256 amount) external {
        address a = _actor(actorSeed);
        uint256 balance = d.token.balanceOf(a);
        if (balance == 0) return;
        amount = _bound(amount, 1, balance < 5_000 ether ? balance : 5_000 ether);
        _stakeAs(a, amount);
        calls["stake"]++;
    }

    function requestUnstake(uint256 actorSeed, uint256 amount) external {
        address a = _actor(actorSeed);
        uint256 free = d.staking.freeStake(a);
        if (free == 0) return;
        amount = _bound(amount, 1, free);
        IStaking.StakeInfo memory before = d.staking.stakeOf(a);
        vm.prank(a);
        try d.staking.requestUnstake(amount) {
            IStaking.StakeInfo memory info = d.staking.stakeOf(a);
            if (info.staked != before.staked - amount || info.unbonding != before.unbonding + amount) {
                _violation("requestUnstake moved a wrong amount");
            }
            if (info.locked != before.locked) _violation("requestUnstake changed the lock");
            ghostUnbondRequested[a] += amount;
            calls["requestUnstake"]++;
        } catch {
            _violation("requestUnstake of free stake reverted");
        }
    }

    function withdrawStake(uint256 actorSeed) external {
        address a = _actor(actorSeed);
        IStaking.StakeInfo memory info = d.staking.stakeOf(a);
        bool mustWork = info.unbonding != 0 && block.timestamp >= info.unbondingEnd;
        uint256 before = d.token.balanceOf(a);
        vm.prank(a);
        (bool ok, ) = address(d.staking).call(abi.encodeCall(IStaking.withdraw, ()));
        if (ok != mustWork) {
            _violation(ok ? "staking withdraw succeeded early or empty" : "staking withdraw reverted");
            return;
        }
        if (!ok) return;
        uint256 received = d.token.balanceOf(a) - before;
        if (received != info.unbonding) _violation("staking withdraw paid != unbonding");
        ghostStakeWithdrawn[a] += received;
        calls["withdrawStake"]++;
    }

    // ------------------------------------------------------------ actions: jobs

    /// @notice A request: one in three names the consumer; one in three is a batch (`requestBatch`)
    /// of 1 to 4 inputs, whose fee must cover the price once per input.
    function requestJob(uint256 actorSeed, uint256 modelSeed, uint256 extra, uint256 duration) external {
        if (_models.length == 0) return;
        address requester = _actor(actorSeed);
        uint256 modelId = _models[modelSeed % _models.length];
        (uint96 price, , , ) = d.registry.pricing(modelId);
        IJobManager.Params memory p = d.jobs.params();
        // One request in three names the consumer, with a callback gas limit it can live with.
        uint256 gas = (extra >> 200) % 3 == 0 ? _bound(extra >> 128, 50_000, 200_000) : 0;
        bool asBatch = (extra >> 192) % 3 == 0;
        uint256 n = asBatch ? 1 + ((extra >> 96) % 4) : 1;
        uint256 owed = uint256(price) * n + gas * p.callbackFeePerGas;
        uint256 minimum = gas == 0 ? d.jobs.minimumFee(price * n) : d.jobs.minimumFeeWithCallback(price * n, gas);
        // The escrow's rule, checked here independently: the minimum covers the price (and the
        // callback fee) after the protocol fee, and one wei less does not.
        if (minimum - FeeSplit.share(minimum, p.protocolFeeBps) < owed) _violation("minimumFee too small");
        if (minimum != 0 && (minimum - 1) - FeeSplit.share(minimum - 1, p.protocolFeeBps) >= owed) {
            _violation("minimumFee not the least");
        }
        uint256 fee = minimum + _bound(extra, 0, 200 ether);
        if (d.token.balanceOf(requester) < fee) return;
        duration = _bound(duration, 1, p.maxJobDuration);
        IJobManager.RequestParams memory rp = TestData.request(
            modelId,
            TestData.batch4(uint32(extra), n),
            fee,
            block.timestamp + duration
        );
        if (gas != 0) {
            rp.consumer = address(_consumer);
            rp.callbackGasLimit = uint32(gas);
        }
        IJobManager.JobTerms memory t = Terms.expectedBatch(d.jobs, d.registry, requester, rp, n);
        uint256 escrowBefore = d.token.balanceOf(address(d.jobs));
        // A batch of one, requested as a batch, is also tried: it must be exactly a single job.
        bytes memory data = asBatch ? abi.encodeCall(IJobManager.requestBatch, (rp, n)) : abi.encodeCall(IJobManager.requestInference, (rp));
        vm.startPrank(requester);
        d.token.approve(address(d.jobs), fee);
        (bool ok, bytes memory ret) = address(d.jobs).call(data);
        vm.stopPrank();
        if (!ok) {
            _violation("valid request reverted");
            return;
        }
        uint256 jobId = abi.decode(ret, (uint256));
        if (d.token.balanceOf(address(d.jobs)) - escrowBefore != fee) _violation("request escrowed != fee");
        // The lock and everything else are fixed now: the job stores exactly these terms' hash.
        if (d.jobs.getJob(jobId).commitment != keccak256(abi.encode(t))) _violation("request stored other terms");
        if (d.jobs.getJob(jobId).batchSize != n) _violation("request stored another batch size");
        _terms[jobId] = t;
        _jobParams[jobId] = p;
        _batch[jobId] = n;
        ghostEscrowedFees += fee;
        calls["requestJob"]++;
        if (gas != 0) calls["requestWithConsumer"]++;
        if (n > 1) calls["requestBatch"]++;
    }

    function claim(uint256 actorSeed, uint256 jobSeed) external {
        (uint256 jobId, JobView memory job) = _findJob(jobSeed, IJobManager.JobStatus.Open);
        if (jobId == 0 || block.timestamp > job.deadline) return;
        address worker = _actor(actorSeed);
        // The lock is a term of the job, fixed by the parameters at request time.
        uint256 lockAmount = job.lockedStake;

        // Top the worker's stake up to what the claim needs, if its wallet allows.
        IStaking.StakeInfo memory info = d.staking.stakeOf(worker);
        uint256 free = info.staked - info.locked;
        uint256 need = lockAmount > free ? lockAmount - free : 0;
        uint256 minStake = d.staking.minStake();
        if (info.staked + need < minStake) need = minStake - info.staked;
        if (need != 0) {
            if (d.token.balanceOf(worker) < need) return;
            _stakeAs(worker, need);
        }

        uint256 lockedBefore = d.staking.stakeOf(worker).locked;
        vm.prank(worker);
        try d.jobs.claim(jobId, _terms[jobId]) {
            if (d.staking.stakeOf(worker).locked != lockedBefore + lockAmount) _violation("claim locked a wrong amount");
            // The result time is the request's, not the one in force now.
            uint256 due = block.timestamp + _jobParams[jobId].resultTimeout;
            if (due > job.deadline) due = job.deadline;
            if (d.jobs.getJob(jobId).timer != due) _violation("claim set a result time of other parameters");
            calls["claim"]++;
        } catch {
            _violation("valid claim reverted");
        }
    }

    /// @notice The worker (or, one time in eight, another actor) submits: the outputs of the job's
    /// items, concatenated, with their batch commitment, or one of the lies below, which must be
    /// refused.
    function submit(uint256 jobSeed, uint32 value, uint256 lieSeed) external {
        (uint256 jobId, JobView memory job) = _findJob(jobSeed, IJobManager.JobStatus.Claimed);
        if (jobId == 0) return;
        uint256 n = _batch[jobId];
        bytes memory output = TestData.batch4(value, n);
        bytes32 commitment = TestData.batchCommitment(output, n);
        uint256 lie = lieSeed % 8;
        bool valid = block.timestamp <= job.timer;
        if (lie == 1) {
            commitment = keccak256(abi.encode(commitment)); // wrong commitment
            valid = false;
        } else if (lie == 2) {
            // A byte short of the job's output size.
            output = _withoutLastByte(output);
            valid = false;
        } else if (lie == 4) {
            // A trailing zero element: for a single job the same commitment, but the wrong length.
            output = bytes.concat(output, new bytes(4));
            if (n == 1) commitment = TestData.commitOneChunk(output);
            valid = false;
        } else if (lie == 5 && n > 1) {
            // A batch's outputs committed as one tensor instead of item by item.
            commitment = TestData.commitOneChunk(output);
            valid = false;
        }
        address caller = lie == 3 ? _actor(lieSeed >> 8) : job.worker;
        if (caller != job.worker) valid = false;
        vm.prank(caller);
        (bool ok, ) = address(d.jobs).call(
            abi.encodeCall(IJobManager.submitResult, (jobId, _terms[jobId], output, commitment))
        );
        if (ok != valid) _violation(ok ? "invalid submission accepted" : "valid submission rejected");
        if (ok) {
            _results[jobId] = commitment;
            _outputs[jobId] = output;
            if (n > 1) calls["submitBatch"]++;
            // The challenge window is the request's, not the one in force now.
            if (d.jobs.getJob(jobId).timer != block.timestamp + _jobParams[jobId].challengeWindow) {
                _violation("submission opened a window of other parameters");
            }
            if (d.jobs.getJob(jobId).commitment != d.jobs.resultHash(_terms[jobId], commitment)) {
                _violation("submission stored another result hash");
            }
            calls["submit"]++;
        }
    }

    /// @param anyJob Also try jobs in any status (must then revert and move nothing).
    /// @notice A random actor finalizes a job: a consumer job with its output bytes
    /// (`finalizeWithCallback`, the finalizer credited the callback fee of the job's version), a job
    /// without consumer with its output commitment (`finalize`) or, one time in four, with its bytes
    /// too. A consumer job's `finalize` must be refused, naming `finalizeWithCallback`.
    function finalize(uint256 jobSeed, bool anyJob) external {
        uint256 jobId = anyJob ? _anyJob(jobSeed) : _findFinalizable(jobSeed);
        if (jobId == 0) return;
        JobView memory job = _job(jobId);
        bool mustWork = job.status == IJobManager.JobStatus.Submitted &&
            block.timestamp >= job.timer &&
            job.openDisputes == 0;
        FinalizeCall memory f = _finalizeCall(jobId, jobSeed, job.status);

        uint256[] memory expected = new uint256[](_pullAccounts.length);
        if (mustWork) _expectFinalizeCredits(job, expected, f.finalizer, f.callbackFee);
        IStaking.StakeInfo memory workerBefore = d.staking.stakeOf(job.worker);
        uint256 escrowBefore = d.token.balanceOf(address(d.jobs));

        // What the model has accrued (earnings, protocol fees), before and then by the call.
        uint256[2] memory accrued = _accruals(jobId);
        uint256[] memory before = _pulls();
        vm.prank(f.finalizer);
        (bool ok, ) = address(d.jobs).call(f.data);
        uint256 credited = _recordCredits(jobId, job.status, before, expected);
        uint256[2] memory now_ = _accruals(jobId);
        accrued[0] = now_[0] - accrued[0];
        accrued[1] = now_[1] - accrued[1];
        if (ok != mustWork) {
            _violation(ok ? "finalize succeeded when it must not" : "finalize reverted when it must work");
            return;
        }
        if (!ok) {
            if (accrued[0] != 0 || accrued[1] != 0) _violation("a refused finalize accrued");
            return;
        }
        _bookFinalizeAccruals(jobId, job, accrued, credited);
        if (d.token.balanceOf(address(d.jobs)) != escrowBefore) _violation("finalize moved escrowed tokens");
        IStaking.StakeInfo memory workerAfter = d.staking.stakeOf(job.worker);
        if (workerBefore.locked - workerAfter.locked != job.lockedStake) _violation("finalize unlocked != lock");
        if (workerAfter.staked != workerBefore.staked) _violation("finalize changed the worker's stake");
        IJobManager.CallbackStatus cb = d.jobs.getJob(jobId).callback;
        if (f.withConsumer ? cb == IJobManager.CallbackStatus.None : cb != IJobManager.CallbackStatus.None) {
            _violation("finalize recorded a wrong callback status");
        }
        ghostEscrowedFees -= job.fee;
        ghostJobSettlements[jobId]++;
        _countFinalize(jobId);
        if (f.withBytes) calls["finalizeWithCallback"]++;
        if (f.callbackFee != 0) calls["callbackFeePaid"]++;
    }

    function _countFinalize(uint256 jobId) private {
        calls["finalize"]++;
        if (_batch[jobId] > 1) calls["finalizeBatch"]++;
    }

    /// @dev A finalization as {finalize} sends it.
    struct FinalizeCall {
        address finalizer;
        bool withConsumer;
        bool withBytes;
        uint256 callbackFee;
        bytes data;
    }

    /// @dev Who finalizes `jobId` and how: a consumer job with its bytes (after checking that its
    /// plain finalize is refused), a job without consumer with its commitment or, one time in four,
    /// with its bytes. The callback fee is predicted from the parameters in force at its request.
    function _finalizeCall(uint256 jobId, uint256 jobSeed, IJobManager.JobStatus status) private returns (FinalizeCall memory f) {
        IJobManager.JobTerms memory t = _terms[jobId];
        f.finalizer = _actor(jobSeed >> 64);
        f.withConsumer = t.consumer != address(0);
        f.withBytes = f.withConsumer || (jobSeed >> 128) % 4 == 0;
        if (f.withConsumer) f.callbackFee = uint256(t.callbackGasLimit) * _jobParams[jobId].callbackFeePerGas;
        f.data = f.withBytes
            ? abi.encodeCall(IJobManager.finalizeWithCallback, (jobId, t, _outputs[jobId]))
            : abi.encodeCall(IJobManager.finalize, (jobId, t, _results[jobId]));
        if (f.withConsumer && status == IJobManager.JobStatus.Submitted) {
            (bool plain, bytes memory err) = address(d.jobs).call(abi.encodeCall(IJobManager.finalize, (jobId, t, _results[jobId])));
            if (plain || keccak256(err) != keccak256(abi.encodeWithSelector(IJobManager.JobManagerUseFinalizeWithCallback.selector, jobId))) {
                _violation("a consumer job's finalize was not refused for finalizeWithCallback");
            }
        }
    }

    function expire(uint256 jobSeed, bool anyJob) external {
        uint256 jobId = anyJob ? _anyJob(jobSeed) : _findJobIn(jobSeed, (1 << 1) | (1 << 2));
        if (jobId == 0) return;
        JobView memory job = _job(jobId);
        bool openExpired = job.status == IJobManager.JobStatus.Open && block.timestamp > job.deadline;
        bool timedOut = job.status == IJobManager.JobStatus.Claimed && block.timestamp > job.timer;
        bool refund = openExpired || (timedOut && block.timestamp > job.deadline);

        // The timeout slash rate is the request's, not the one in force now.
        uint256 slash = timedOut ? FeeSplit.share(job.lockedStake, _jobParams[jobId].timeoutSlashBps) : 0;
        uint256[] memory expected = new uint256[](_pullAccounts.length);
        expected[_index(job.requester)] = slash + (refund ? job.fee : 0);
        IStaking.StakeInfo memory workerBefore = d.staking.stakeOf(job.worker);
        uint256 escrowBefore = d.token.balanceOf(address(d.jobs));

        uint256[] memory before = _pulls();
        (bool ok, ) = address(d.jobs).call(abi.encodeCall(IJobManager.expire, (jobId, _terms[jobId])));
        _recordCredits(jobId, job.status, before, expected);
        if (ok != (openExpired || timedOut)) {
            _violation(ok ? "expire succeeded when it must not" : "expire reverted when it must work");
            return;
        }
        if (!ok) return;
        if (timedOut) {
            IStaking.StakeInfo memory workerAfter = d.staking.stakeOf(job.worker);
            if (workerBefore.staked - workerAfter.staked != slash) _violation("timeout slashed != share of lock");
            if (workerBefore.locked - workerAfter.locked != job.lockedStake) _violation("timeout released != lock");
            if (d.token.balanceOf(address(d.jobs)) - escrowBefore != slash) _violation("escrow got != timeout slash");
            ghostJobTimeoutSlashes[jobId] += slash;
            calls["timeout"]++;
        }
        if (refund) {
            ghostEscrowedFees -= job.fee;
            ghostJobSettlements[jobId]++;
            calls["refund"]++;
        }
    }

    /// @notice Any actor tries to cancel any job: only the requester of an Open job may, and then
    /// exactly the fee is credited back to it.
    function cancel(uint256 jobSeed, uint256 callerSeed, bool anyJob) external {
        uint256 jobId = anyJob ? _anyJob(jobSeed) : _findJobIn(jobSeed, 1 << 1);
        if (jobId == 0) return;
        JobView memory job = _job(jobId);
        address caller = callerSeed % 4 == 0 ? _actor(callerSeed) : job.requester;
        bool allowed = job.status == IJobManager.JobStatus.Open && caller == job.requester;
        uint256[] memory expected = new uint256[](_pullAccounts.length);
        if (allowed) expected[_index(job.requester)] = job.fee;

        uint256[] memory before = _pulls();
        vm.prank(caller);
        (bool ok, ) = address(d.jobs).call(abi.encodeCall(IJobManager.cancel, (jobId, _terms[jobId])));
        _recordCredits(jobId, job.status, before, expected);
        if (ok != allowed) {
            _violation(ok ? "cancel succeeded when it must not" : "cancel reverted when it must work");
            return;
        }
        if (!ok) return;
        ghostEscrowedFees -= job.fee;
        ghostJobSettlements[jobId]++;
        calls["cancel"]++;
    }

    function withdrawBalance(uint256 accountSeed) external {
        address a = _pullAccounts[accountSeed % _pullAccounts.length];
        uint256 balance = d.jobs.balanceOf(a);
        uint256 before = d.token.balanceOf(a);
        vm.prank(a);
        (bool ok, ) = address(d.jobs).call(abi.encodeCall(IPullPayments.withdraw, ()));
        if (ok != (balance != 0)) {
            _violation(ok ? "withdraw of a zero balance succeeded" : "withdraw of a balance reverted");
            return;
        }
        if (!ok) return;
        uint256 received = d.token.balanceOf(a) - before;
        if (received != balance) _violation("withdraw paid != balance");
        if (d.jobs.balanceOf(a) != 0) _violation("balance left after withdraw");
        ghostWithdrawn[a] += received;
        calls["withdrawBalance"]++;
    }

    /// @notice Anyone distributes a model's accruals: each payee gets exactly its share of the
    /// earnings (contributors rounded down, the owner the rest) and the treasury in force exactly
    /// the protocol fees the model's jobs accrued, whatever the treasuries of their versions; both
    /// are zeroed and no token moves. With nothing accrued it is refused (`JobManagerNothingToDistribute`).
    function distribute(uint256 modelSeed, uint256 callerSeed) external {
        if (_models.length == 0) return;
        uint256 modelId = _models[modelSeed % _models.length];
        uint256 amount = d.jobs.modelEarnings(modelId);
        uint256 fees = d.jobs.protocolFees(modelId);
        uint256[] memory expected = new uint256[](_pullAccounts.length);
        (address owner_, , IModelRegistry.Contributor[] memory contributors) = d.registry.payees(modelId);
        uint256 rest = amount;
        for (uint256 i = 0; i < contributors.length; ++i) {
            uint256 s = (amount * contributors[i].bps) / BPS;
            expected[_index(contributors[i].account)] += s;
            rest -= s;
        }
        expected[_index(owner_)] += rest;
        if (fees != 0) expected[_index(_treasuryAt(d.jobs.paramsVersion()))] += fees;
        uint256 escrowBefore = d.token.balanceOf(address(d.jobs));
        uint256[] memory before = _pulls();
        vm.prank(_actor(callerSeed));
        (bool ok, bytes memory ret) = address(d.jobs).call(abi.encodeCall(IJobManager.distributeModelEarnings, (modelId)));
        uint256 credited;
        for (uint256 i = 0; i < before.length; ++i) {
            address a = _pullAccounts[i];
            uint256 balance = d.jobs.balanceOf(a);
            if (balance < before[i]) {
                _violation("a pull balance decreased outside withdraw");
                continue;
            }
            uint256 delta = balance - before[i];
            if (delta != (ok ? expected[i] : 0)) _violation("distribution credited a wrong amount");
            ghostCredited[a] += delta;
            credited += delta;
        }
        if (d.token.balanceOf(address(d.jobs)) != escrowBefore) _violation("distribution moved tokens");
        if (ok != (amount != 0 || fees != 0)) {
            _violation(ok ? "distribution of nothing succeeded" : "distribution of accruals reverted");
            return;
        }
        if (!ok) {
            if (keccak256(ret) != keccak256(abi.encodeWithSelector(IJobManager.JobManagerNothingToDistribute.selector, modelId))) {
                _violation("empty distribution refused with another error");
            }
            return;
        }
        if (abi.decode(ret, (uint256)) != amount) _violation("distribution returned != accrued earnings");
        if (credited != amount + fees) _violation("distribution credits != earnings + fees");
        if (d.jobs.modelEarnings(modelId) != 0) _violation("earnings left after distribution");
        if (d.jobs.protocolFees(modelId) != 0) _violation("protocol fees left after distribution");
        ghostModelDistributed[modelId] += amount;
        ghostModelFeesPaid[modelId] += fees;
        calls["distribute"]++;
        if (fees != 0) calls["distributeFees"]++;
    }

    /// @dev The treasury of `version`: the one recorded for it or, for a version that only changed
    /// the dispute manager (its parameters copied), for the last version before it.
    function _treasuryAt(uint32 version) private view returns (address treasury) {
        for (uint32 v = version; v != 0; --v) {
            treasury = _versionTreasury[v];
            if (treasury != address(0)) return treasury;
        }
    }

    // ------------------------------------------------------------ actions: disputes (as dispute manager)

    function freeze(uint256 jobSeed, bool anyJob) external {
        uint256 jobId = anyJob ? _anyJob(jobSeed) : _findJobIn(jobSeed, 1 << 3);
        if (jobId == 0) return;
        JobView memory job = _job(jobId);
        // No cap on the disputes of a job: a freeze inside the window always works.
        bool mustWork = job.status == IJobManager.JobStatus.Submitted && block.timestamp < job.timer;
        uint256[] memory before = _pulls();
        (bool ok, ) = address(d.jobs).call(
            abi.encodeCall(IJobManager.freezeForDispute, (jobId, _terms[jobId], _results[jobId]))
        );
        _recordCredits(jobId, job.status, before, new uint256[](_pullAccounts.length));
        if (ok != mustWork) {
            _violation(ok ? "freeze succeeded when it must not" : "freeze reverted when it must work");
            return;
        }
        if (ok) {
            if (d.jobs.getJob(jobId).openDisputes != job.openDisputes + 1) _violation("freeze did not count");
            calls["freeze"]++;
        }
    }

    function settle(uint256 jobSeed, bool valid, uint256 slashAmount, uint8 mode) external {
        uint256 jobId = mode % 4 == 0 ? _anyJob(jobSeed) : _findDisputed(jobSeed);
        if (jobId == 0) return;
        JobView memory job = _job(jobId);
        slashAmount = _bound(slashAmount, 0, uint256(job.lockedStake) * 2 + 1);
        bool rejects = !valid && job.status == IJobManager.JobStatus.Submitted && job.openDisputes != 0;
        uint256 slash = rejects ? (slashAmount < job.lockedStake ? slashAmount : job.lockedStake) : 0;

        uint256[] memory expected = new uint256[](_pullAccounts.length);
        if (rejects) expected[_index(job.requester)] = job.fee;
        IStaking.StakeInfo memory workerBefore = d.staking.stakeOf(job.worker);
        uint256 mine = d.token.balanceOf(address(this));

        uint256[] memory before = _pulls();
        (bool ok, bytes memory ret) = address(d.jobs).call(
            abi.encodeCall(IJobManager.settleDispute, (jobId, valid, slashAmount))
        );
        _recordCredits(jobId, job.status, before, expected);
        if (ok != (job.openDisputes != 0)) {
            _violation(ok ? "settle without open dispute succeeded" : "settle of open dispute reverted");
            return;
        }
        if (!ok) return;
        uint256 slashed = abi.decode(ret, (uint256));
        IStaking.StakeInfo memory workerAfter = d.staking.stakeOf(job.worker);
        if (slashed != slash) _violation("settle returned a wrong slash");
        if (d.token.balanceOf(address(this)) - mine != slash) _violation("dispute manager got != slash");
        if (workerBefore.staked - workerAfter.staked != slash) _violation("worker lost != dispute slash");
        if (workerBefore.locked - workerAfter.locked != (rejects ? job.lockedStake : 0)) {
            _violation("settle released a wrong lock");
        }
        ghostDisputeSlashes += slashed;
        if (rejects) {
            ghostEscrowedFees -= job.fee;
            ghostJobSettlements[jobId]++;
            calls["reject"]++;
            if (_batch[jobId] > 1) calls["rejectBatch"]++;
        }
        calls["settle"]++;
    }

    // ------------------------------------------------------------ action: advance one job

    /// @notice Moves a live job one natural step along its life (claim, submit, let the result
    /// time or the challenge window pass, finalize, freeze, settle, expire), or requests a new
    /// job when none is live. Keeps random sequences reaching settlement, instead of hoping the
    /// fuzzer strings the right calls together. Every step goes through the checked actions.
    function advance(uint256 jobSeed, uint256 actorSeed, uint256 choice) external {
        uint256 jobId = _findJobIn(jobSeed, (1 << 1) | (1 << 2) | (1 << 3));
        JobView memory job;
        if (jobId != 0) job = _job(jobId);
        if (jobId == 0 || uint8(job.status) >= uint8(IJobManager.JobStatus.Finalized)) {
            this.requestJob(actorSeed, choice, choice >> 64, choice >> 128);
            return;
        }
        uint256 seed = jobId - 1; // makes the actions below start their search at `jobId`
        if (job.status == IJobManager.JobStatus.Open) {
            if (block.timestamp > job.deadline) this.expire(seed, true);
            else this.claim(actorSeed, seed);
        } else if (job.status == IJobManager.JobStatus.Claimed) {
            if (block.timestamp > job.timer) this.expire(seed, true);
            else if (choice % 5 == 0) vm.warp(uint256(job.timer) + 1); // the worker misses its time
            else this.submit(seed, uint32(choice), 0);
        } else if (job.openDisputes != 0) {
            this.settle(seed, choice % 2 == 0, choice >> 8, 1);
        } else if (block.timestamp < job.timer && choice % 3 == 0) {
            this.freeze(seed, true);
        } else {
            if (block.timestamp < job.timer) vm.warp(job.timer);
            this.finalize(seed, true);
        }
        calls["advance"]++;
    }

    /// @notice A call on a job with one term altered (or, for finalize and freeze, the output
    /// commitment; for finalizeWithCallback, the output bytes): claim, submit, finalize, expire,
    /// freeze or finalizeWithCallback. It must be refused, with `JobManagerTermsMismatch` when the
    /// job's status allows the call (finalizeWithCallback: `JobManagerOutputMismatch` with the bytes'
    /// commitment, or `JobManagerOutputSizeMismatch` for an altered output size) and
    /// `JobManagerWrongStatus` (checked first) otherwise, and must leave the job, the balances and
    /// the stakes as they were.
    /// @param field Which term to alter (0-11), or 12 for the output commitment or bytes.
    /// @param op 0 claim, 1 submit, 2 finalize, 3 expire, 4 freeze, 5 finalizeWithCallback.
    function tamper(uint256 jobSeed, uint256 actorSeed, uint256 field, uint256 op) external {
        uint256 jobId = jobSeed % 4 == 0 ? _anyJob(jobSeed >> 2) : _findJobIn(jobSeed >> 2, (1 << 1) | (1 << 2) | (1 << 3));
        if (jobId == 0) return;
        op %= 6;
        IJobManager.Job memory job = d.jobs.getJob(jobId);
        bool statusFits = op == 0
            ? job.status == IJobManager.JobStatus.Open
            : op == 1
                ? job.status == IJobManager.JobStatus.Claimed
                : op == 3
                    ? job.status == IJobManager.JobStatus.Open || job.status == IJobManager.JobStatus.Claimed
                    : job.status == IJobManager.JobStatus.Submitted;
        (address caller, bytes memory data, bytes memory resultError) = _tamperedCall(jobId, job.worker, actorSeed, field, op);

        uint256[] memory before = _pulls();
        uint256 escrowBefore = d.token.balanceOf(address(d.jobs));
        uint256 stakingBefore = d.token.balanceOf(address(d.staking));
        uint256 lockedBefore = d.staking.stakeOf(caller).locked;
        vm.prank(caller);
        (bool ok, bytes memory err) = address(d.jobs).call(data);
        _recordCredits(jobId, job.status, before, new uint256[](_pullAccounts.length));
        if (ok) {
            _violation("a call with altered terms or result succeeded");
            return;
        }
        bytes memory expectedError = statusFits
            ? resultError
            : abi.encodeWithSelector(IJobManager.JobManagerWrongStatus.selector, jobId, job.status);
        if (keccak256(err) != keccak256(expectedError)) {
            _violation(statusFits ? "altered terms refused with another error" : "wrong status not refused first");
        }
        IJobManager.Job memory afterwards = d.jobs.getJob(jobId);
        if (
            afterwards.status != job.status ||
            afterwards.openDisputes != job.openDisputes ||
            afterwards.timer != job.timer ||
            afterwards.worker != job.worker ||
            afterwards.commitment != job.commitment
        ) _violation("a refused call changed the job");
        if (d.token.balanceOf(address(d.jobs)) != escrowBefore) _violation("a refused call moved escrowed tokens");
        if (d.token.balanceOf(address(d.staking)) != stakingBefore) _violation("a refused call moved staked tokens");
        if (d.staking.stakeOf(caller).locked != lockedBefore) _violation("a refused call changed a lock");
        calls[statusFits ? bytes32("tamperTerms") : bytes32("tamperStatus")]++;
        if (statusFits && op == 5) calls["tamperOutput"]++;
    }

    /// @dev Caller and calldata of `op` on `jobId` with the alteration `field` selects, and the
    /// error it must revert with when the job's status allows the call.
    function _tamperedCall(
        uint256 jobId,
        address worker,
        uint256 actorSeed,
        uint256 field,
        uint256 op
    ) private view returns (address caller, bytes memory data, bytes memory resultError) {
        IJobManager.JobTerms memory t = _terms[jobId];
        bytes32 res = _results[jobId];
        uint256 k = field % (op == 2 || op == 4 || op == 5 ? 13 : 12);
        uint256 dd = _bound(field >> 8, 1, 1000);
        if (k == 12) res ^= bytes32(dd);
        else t = _alter(t, k, dd);
        resultError = abi.encodeWithSelector(IJobManager.JobManagerTermsMismatch.selector, jobId);
        if (op == 5) {
            // The output bytes (one int32 element per item in these tests' models), the first
            // element altered for field 12.
            uint256 n = _batch[jobId];
            bytes memory out = bytes.concat(_outputs[jobId]);
            if (k == 12) {
                if (out.length == 0) out = TestData.batch4(0, n);
                bytes4 first = bytes4(uint32(bytes4(out)) ^ uint32(dd));
                for (uint256 b = 0; b < 4; ++b) out[b] = first[b];
            }
            resultError = k == 7
                ? abi.encodeWithSelector(IJobManager.JobManagerOutputSizeMismatch.selector, uint256(t.outputElements) * 4 * n, out.length)
                : abi.encodeWithSelector(IJobManager.JobManagerOutputMismatch.selector, jobId, TestData.batchCommitment(out, n));
            return (address(this), abi.encodeCall(IJobManager.finalizeWithCallback, (jobId, t, out)), resultError);
        }

        caller = address(this);
        if (op == 0) {
            caller = _actor(actorSeed);
            data = abi.encodeCall(IJobManager.claim, (jobId, t));
        } else if (op == 1) {
            caller = worker == address(0) ? _actor(actorSeed) : worker;
            bytes memory output = TestData.tensor4(uint32(actorSeed));
            bytes32 commitment = TestData.commitOneChunk(output);
            data = abi.encodeCall(IJobManager.submitResult, (jobId, t, output, commitment));
        } else if (op == 2) {
            data = abi.encodeCall(IJobManager.finalize, (jobId, t, res));
        } else if (op == 3) {
            data = abi.encodeCall(IJobManager.expire, (jobId, t));
        } else {
            data = abi.encodeCall(IJobManager.freezeForDispute, (jobId, t, res));
        }
    }

    /// @dev `t` with term `k` (0-11, in declaration order) changed by xor with `dd` (non-zero, at most 1000).
    function _alter(IJobManager.JobTerms memory t, uint256 k, uint256 dd) private pure returns (IJobManager.JobTerms memory) {
        if (k == 0) t.requester = address(uint160(t.requester) ^ uint160(dd));
        else if (k == 1) t.modelId ^= uint40(dd);
        else if (k == 2) t.fee ^= uint96(dd);
        else if (k == 3) t.modelFee ^= uint96(dd);
        else if (k == 4) t.lock ^= uint96(dd);
        else if (k == 5) t.protocolFeeBps ^= uint16(dd);
        else if (k == 6) t.deadline ^= uint40(dd);
        else if (k == 7) t.outputElements ^= uint64(dd);
        else if (k == 8) t.consumer = address(uint160(t.consumer) ^ uint160(dd));
        else if (k == 9) t.callbackGasLimit ^= uint24(dd);
        else if (k == 10) t.inputCommitment ^= bytes32(dd);
        else t.paramsVersion ^= uint32(dd);
        return t;
    }

    // ------------------------------------------------------------ actions: governance and time

    /// @notice Governance sets new parameters (a new version): rates, result time, challenge window
    /// (at least the escrow's floor) and treasury (the last pull account or the one before it). Sometimes it first
    /// tries a window below the floor, which must be refused and make no version. Jobs already
    /// requested must not see the change (checked by claim, submit, expire and finalize).
    /// Its callback fee per gas changes too, which consumer jobs already requested must not see.
    /// @param timing Bits 0-63: result time; 64-127: challenge window; 128: treasury; 129: try below the
    /// floor; 130-193: callback fee per gas.
    function setParams(
        uint16 protocolFeeBps,
        uint32 stakeRatioBps,
        uint16 timeoutSlashBps,
        uint96 minJobLock,
        uint256 timing
    ) external {
        IJobManager.Params memory p = d.jobs.params();
        uint32 version = d.jobs.paramsVersion();
        p.protocolFeeBps = uint16(_bound(protocolFeeBps, 0, 2_000));
        p.stakeRatioBps = uint32(_bound(stakeRatioBps, 0, 30_000));
        p.timeoutSlashBps = uint16(_bound(timeoutSlashBps, 0, BPS));
        p.minJobLock = uint96(_bound(minJobLock, 0, 50 ether));
        p.resultTimeout = uint32(_bound(uint64(timing), 1 minutes, p.maxJobDuration));
        uint256 floor = d.jobs.minChallengeWindow();
        p.treasury = _pullAccounts[_pullAccounts.length - 1 - ((timing >> 128) & 1)];
        p.callbackFeePerGas = uint72(_bound(uint64(timing >> 130), 0, 1e14));
        if ((timing >> 129) & 1 == 1) {
            p.challengeWindow = uint24(floor - 1);
            (bool accepted, ) = address(d.jobs).call(abi.encodeCall(JobManager.setParams, (p)));
            if (accepted) _violation("a challenge window below the floor was accepted");
            if (d.jobs.paramsVersion() != version) _violation("a refused change made a version");
        }
        p.challengeWindow = uint24(_bound(uint64(timing >> 64), floor, 3 hours));
        d.jobs.setParams(p);
        if (d.jobs.paramsVersion() != version + 1) _violation("setParams did not make one new version");
        _versionTreasury[version + 1] = p.treasury;
        calls["setParams"]++;
    }

    function warp(uint256 seconds_) external {
        // Mostly within a job's life (minutes to hours), sometimes past the unbonding delay.
        uint256 step = seconds_ % 10 == 0 ? _bound(seconds_, 1 days, 2 days) : _bound(seconds_, 1, 90 minutes);
        vm.warp(block.timestamp + step);
        calls["warp"]++;
    }

    // ------------------------------------------------------------ internals

    function _stakeAs(address a, uint256 amount) private {
        uint256 before = d.staking.stakeOf(a).staked;
        vm.startPrank(a);
        d.token.approve(address(d.staking), amount);
        d.staking.stake(amount);
        vm.stopPrank();
        if (d.staking.stakeOf(a).staked != before + amount) _violation("stake added a wrong amount");
    }

    /// @dev Expected credits of finalizing `job`: the worker's part, and the callback fee to the
    /// finalizer (the model's part and the protocol fee accrue to the model, checked separately;
    /// the treasury is credited only when the model's accruals are distributed).
    function _expectFinalizeCredits(JobView memory job, uint256[] memory expected, address finalizer, uint256 callbackFee) private view {
        uint256 protocolFee = (uint256(job.fee) * job.protocolFeeBps) / BPS;
        expected[_index(job.worker)] += uint256(job.fee) - job.modelFee - protocolFee - callbackFee;
        expected[_index(finalizer)] += callbackFee;
    }

    /// @dev What job `jobId`'s model has accrued: earnings and protocol fees.
    function _accruals(uint256 jobId) private view returns (uint256[2] memory a) {
        a[0] = d.jobs.modelEarnings(_terms[jobId].modelId);
        a[1] = d.jobs.protocolFees(_terms[jobId].modelId);
    }

    /// @dev Checks and books what finalizing `job` accrued to its model: exactly its model fee and
    /// exactly the protocol fee at its request's rate (nobody is credited it yet), so that
    /// credits + accruals == fee.
    function _bookFinalizeAccruals(uint256 jobId, JobView memory job, uint256[2] memory accrued, uint256 credited) private {
        if (accrued[0] != job.modelFee) _violation("finalize accrued != model fee");
        if (accrued[1] != FeeSplit.share(job.fee, _jobParams[jobId].protocolFeeBps)) {
            _violation("finalize accrued != protocol fee of the request's rate");
        }
        if (credited + accrued[0] + accrued[1] != job.fee) _violation("finalize credits + accruals != fee");
        ghostJobAccrued[jobId] += accrued[0];
        ghostModelAccrued[job.modelId] += accrued[0];
        ghostJobProtocolFee[jobId] += accrued[1];
        ghostModelFeesAccrued[job.modelId] += accrued[1];
    }

    /// @notice Ids of the models registered through the handler.
    function models() external view returns (uint256[] memory) {
        return _models;
    }

    function _pulls() private view returns (uint256[] memory balances) {
        balances = new uint256[](_pullAccounts.length);
        for (uint256 i = 0; i < balances.length; ++i) balances[i] = d.jobs.balanceOf(_pullAccounts[i]);
    }

    /// @dev Compares each account's credit with `expected`, books it on the job and the account,
    /// and returns the total. A job that was already settled must receive nothing.
    function _recordCredits(
        uint256 jobId,
        IJobManager.JobStatus statusBefore,
        uint256[] memory before,
        uint256[] memory expected
    ) private returns (uint256 total) {
        for (uint256 i = 0; i < before.length; ++i) {
            address a = _pullAccounts[i];
            uint256 balance = d.jobs.balanceOf(a);
            if (balance < before[i]) {
                _violation("a pull balance decreased outside withdraw");
                continue;
            }
            uint256 delta = balance - before[i];
            if (delta != expected[i]) _violation("an account was credited a wrong amount");
            ghostCredited[a] += delta;
            total += delta;
        }
        ghostJobCredited[jobId] += total;
        if (total != 0 && uint8(statusBefore) >= uint8(IJobManager.JobStatus.Finalized)) {
            _violation("a settled job credited again");
        }
    }

    function _withoutLastByte(bytes memory data) private pure returns (bytes memory shorter) {
        shorter = new bytes(data.length - 1);
        for (uint256 i = 0; i < shorter.length; ++i) shorter[i] = data[i];
    }

    function _actor(uint256 seed) private view returns (address) {
        return _actors[seed % _actors.length];
    }

    function _index(address account) private view returns (uint256) {
        for (uint256 i = 0; i < _pullAccounts.length; ++i) if (_pullAccounts[i] == account) return i;
        revert("untracked account");
    }

    function _anyJob(uint256 seed) private view returns (uint256) {
        uint256 count = d.jobs.jobCount();
        return count == 0 ? 0 : 1 + (seed % count);
    }

    /// @dev The first job with `status` at or after a random start, wrapping around.
    function _findJob(uint256 seed, IJobManager.JobStatus status) private view returns (uint256, JobView memory job) {
        uint256 count = d.jobs.jobCount();
        for (uint256 k = 0; k < count; ++k) {
            uint256 id = 1 + ((seed + k) % count);
            job = _job(id);
            if (job.status == status) return (id, job);
        }
        return (0, job);
    }

    /// @dev The first job whose status is in `mask` (bit i = JobStatus i), or any job if none.
    function _findJobIn(uint256 seed, uint256 mask) private view returns (uint256) {
        uint256 count = d.jobs.jobCount();
        for (uint256 k = 0; k < count; ++k) {
            uint256 id = 1 + ((seed + k) % count);
            if (mask & (1 << uint8(d.jobs.getJob(id).status)) != 0) return id;
        }
        return _anyJob(seed);
    }

    /// @dev A submitted job past its challenge window, else any submitted job, else any job.
    function _findFinalizable(uint256 seed) private view returns (uint256) {
        uint256 count = d.jobs.jobCount();
        for (uint256 k = 0; k < count; ++k) {
            uint256 id = 1 + ((seed + k) % count);
            IJobManager.Job memory job = d.jobs.getJob(id);
            if (job.status == IJobManager.JobStatus.Submitted && block.timestamp >= job.timer) return id;
        }
        return _findJobIn(seed, 1 << 3);
    }

    function _findDisputed(uint256 seed) private view returns (uint256) {
        uint256 count = d.jobs.jobCount();
        for (uint256 k = 0; k < count; ++k) {
            uint256 id = 1 + ((seed + k) % count);
            if (d.jobs.getJob(id).openDisputes != 0) return id;
        }
        return 0;
    }

    /// @notice Job `id` as the handler sees it (stored state and recorded terms).
    function jobOf(uint256 id) external view returns (JobView memory) {
        return _job(id);
    }

    /// @dev Job `id`: what the escrow stores, with the terms recorded at its request.
    function _job(uint256 id) private view returns (JobView memory v) {
        IJobManager.Job memory job = d.jobs.getJob(id);
        IJobManager.JobTerms storage t = _terms[id];
        v.status = job.status;
        v.openDisputes = job.openDisputes;
        v.timer = job.timer;
        v.worker = job.worker;
        v.requester = t.requester;
        v.modelId = t.modelId;
        v.fee = t.fee;
        v.modelFee = t.modelFee;
        v.lockedStake = t.lock;
        v.protocolFeeBps = t.protocolFeeBps;
        v.deadline = t.deadline;
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
