// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {IJobManager} from "../interfaces/IJobManager.sol";
import {IRedundantRequests} from "../interfaces/IRedundantRequests.sol";
import {BPS, FeeSplit} from "../libraries/FeeSplit.sol";
import {PullPayments} from "../payments/PullPayments.sol";

/**
 * @title RedundantRequests
 * @notice Redundancy k on top of the ordinary escrow: `k` jobs of one input, paid at once, whose
 * agreement from `k` distinct workers makes the output final before the challenge windows end.
 * @dev The shape of Ritual Infernet's requester-chosen redundancy, built from ordinary jobs, as the
 * subscription manager builds its runs: this contract is the jobs' requester at the escrow (no
 * consumer), so the escrow's rules (claims, assignment, windows, disputes, slashes) apply to each
 * job unchanged, and no change to the escrow is needed.
 *
 * No owner. Accounting: the tokens a group's requester pays leave for the escrow in the same call
 * (the `k` fees). The escrow credits this contract's pull balance with a job's fee when it refunds
 * or rejects it, and with its workers' timeout slashes; {settle} attributes both, per job, once the
 * job is over (its credits are then final: {IJobManager-timeoutSlashes}), to the group's requester,
 * and withdraws them from the escrow. Invariant: this contract's token balance plus its escrow
 * balance equals the requesters' pull balances plus what the escrow credited for jobs not yet settled.
 *
 * What early finality rests on: `k` distinct staked accounts posted the same output, and each has
 * its lock at risk until its own challenge window ends (a verifier that proves the output wrong
 * slashes every one of them), so a wrong confirmed output costs its authors at least `k · lock`,
 * which the requester made cover its stated value. A worker holding two of the jobs (the roster
 * draws each job alone, and first-come claims allow it) gets no early finality. A worker that
 * copies another's submitted output cannot be told apart on-chain: it stakes its lock on the copy.
 */
contract RedundantRequests is IRedundantRequests, PullPayments {
    using SafeERC20 for IERC20;
    using SafeCast for uint256;

    /// @inheritdoc IRedundantRequests
    uint256 public constant MAX_REDUNDANCY = 5;

    /// @inheritdoc IRedundantRequests
    IJobManager public immutable jobManager;
    /// @inheritdoc IRedundantRequests
    IERC20 public immutable token;
    /// @inheritdoc IRedundantRequests
    uint256 public immutable deploymentBlock;

    uint64 private _count;
    mapping(uint256 groupId => Group) private _groups;

    /// @param jobManager_ The job escrow; the token is its own.
    constructor(IJobManager jobManager_) {
        jobManager = jobManager_;
        token = jobManager_.token();
        deploymentBlock = block.number;
        // The escrow pulls each job's fee, and only the fee each request names.
        token.forceApprove(address(jobManager_), type(uint256).max);
    }

    // ---------------------------------------------------------------- requester

    /// @inheritdoc IRedundantRequests
    function request(IJobManager.RequestParams calldata p, uint256 k, uint256 value) external nonReentrant returns (uint256 groupId) {
        if (k < 2 || k > MAX_REDUNDANCY) revert RedundantRequestsInvalidRedundancy(k, MAX_REDUNDANCY);
        // A consumer would have to approve this contract, and would get k callbacks: integrators read
        // the group's answer instead.
        if (p.consumer != address(0)) revert RedundantRequestsConsumerNotSupported(p.consumer);
        IJobManager.Params memory params_ = jobManager.params();
        uint256 lock = _lockFor(p.fee, params_);
        // INVARIANT: the k locks at risk cover the value the requester stated.
        if (k * lock < value) revert RedundantRequestsValueNotCovered(value, k * lock, _feeToCover(k, value, params_));

        uint256 firstJobId = jobManager.jobCount() + 1;
        groupId = ++_count;
        Group storage g = _groups[groupId];
        g.requester = msg.sender;
        g.k = uint8(k);
        g.status = GroupStatus.Pending;
        g.firstJobId = firstJobId.toUint64();
        g.fee = p.fee.toUint96();
        // value <= k * lock: below 2^99 for any lock; the cast checks the 96 bits every amount of the token fits.
        g.value = value.toUint96();
        emit GroupRequested(groupId, msg.sender, firstJobId, k, p.fee, lock, value);

        token.safeTransferFrom(msg.sender, address(this), k * p.fee);
        for (uint256 i = 0; i < k; ++i) {
            uint256 jobId = jobManager.requestInference(p);
            // INVARIANT: the group's jobs are consecutive (the escrow's counter, one call after another).
            if (jobId != firstJobId + i) revert RedundantRequestsUnexpectedJobId(firstJobId + i, jobId);
        }
    }

    // ---------------------------------------------------------------- anyone

    /// @inheritdoc IRedundantRequests
    function confirm(uint256 groupId, IJobManager.JobTerms calldata terms, bytes32 outputCommitment) external nonReentrant {
        Group storage g = _pending(groupId);
        (uint256 k, uint256 first) = (g.k, g.firstJobId);
        // The k jobs were requested with the same terms: one result hash for all.
        bytes32 expected = jobManager.resultHash(terms, outputCommitment);
        address[MAX_REDUNDANCY] memory workers;
        for (uint256 i = 0; i < k; ++i) {
            uint256 jobId = first + i;
            IJobManager.Job memory job = jobManager.getJob(jobId);
            if (job.status != IJobManager.JobStatus.Submitted && job.status != IJobManager.JobStatus.Finalized) {
                revert RedundantRequestsNoResult(jobId, job.status);
            }
            if (job.commitment != expected) revert RedundantRequestsResultMismatch(jobId);
            // A disputed result waits for its dispute: early finality never overrides a challenge.
            if (job.openDisputes != 0) revert RedundantRequestsUnderDispute(jobId, job.openDisputes);
            // INVARIANT: k distinct accounts, each with its own lock at risk, agree.
            for (uint256 j = 0; j < i; ++j) {
                if (workers[j] == job.worker) revert RedundantRequestsRepeatedWorker(job.worker, first + j, jobId);
            }
            workers[i] = job.worker;
        }
        g.status = GroupStatus.Confirmed;
        g.outputCommitment = outputCommitment;
        emit GroupConfirmed(groupId, outputCommitment);
    }

    /// @inheritdoc IRedundantRequests
    function resolve(uint256 groupId, IJobManager.JobTerms calldata terms, bytes32 outputCommitment) external nonReentrant {
        Group storage g = _pending(groupId);
        (uint256 k, uint256 first) = (g.k, g.firstJobId);
        bytes32 expected = jobManager.resultHash(terms, outputCommitment);
        uint256 finalized;
        for (uint256 i = 0; i < k; ++i) {
            uint256 jobId = first + i;
            IJobManager.Job memory job = jobManager.getJob(jobId);
            if (job.status == IJobManager.JobStatus.Finalized) {
                // A finalized job with another output (or terms that are not the group's) blocks it.
                if (job.commitment != expected) revert RedundantRequestsResultMismatch(jobId);
                ++finalized;
            } else if (job.status == IJobManager.JobStatus.Rejected) {
                // The terms are the group's (a finalized job matched them, or this reverts below), so a
                // match here is a rejected job with this very output: proven wrong.
                if (job.commitment == expected) revert RedundantRequestsOutputRejected(jobId);
            } else if (job.status != IJobManager.JobStatus.Refunded) {
                revert RedundantRequestsJobNotOver(jobId, job.status);
            }
        }
        if (finalized == 0) revert RedundantRequestsNoFinalizedJob(groupId);
        g.status = GroupStatus.Resolved;
        g.outputCommitment = outputCommitment;
        emit GroupResolved(groupId, outputCommitment, finalized);
    }

    /// @inheritdoc IRedundantRequests
    function settle(uint256 groupId) external nonReentrant returns (uint256 credited) {
        Group storage g = _existing(groupId);
        (address requester, uint256 k, uint256 settled) = (g.requester, g.k, g.settled);
        uint256 nowSettled = settled;
        for (uint256 i = 0; i < k; ++i) {
            if (settled & (1 << i) != 0) continue;
            (bool over, uint256 amount) = _settleJob(groupId, g, i);
            if (!over) continue;
            nowSettled |= 1 << i;
            credited += amount;
        }
        if (nowSettled == settled) revert RedundantRequestsNothingToSettle(groupId);
        // At most 2^MAX_REDUNDANCY - 1: a uint8.
        g.settled = uint8(nowSettled);
        _addBalance(requester, credited);
        // The escrow credited the refunds and slashes to this contract's pull balance: take them now,
        // with anything else there (other groups' credits), so that the token balance covers every balance.
        if (jobManager.balanceOf(address(this)) != 0) jobManager.withdraw();
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc IRedundantRequests
    function groupCount() external view returns (uint256) {
        return _count;
    }

    /// @inheritdoc IRedundantRequests
    function getGroup(uint256 groupId) external view returns (Group memory) {
        return _existing(groupId);
    }

    /// @inheritdoc IRedundantRequests
    function jobIds(uint256 groupId) external view returns (uint256[] memory ids) {
        Group storage g = _existing(groupId);
        ids = new uint256[](g.k);
        for (uint256 i = 0; i < ids.length; ++i) ids[i] = uint256(g.firstJobId) + i;
    }

    /// @inheritdoc IRedundantRequests
    function confirmedOutput(uint256 groupId) external view returns (bytes32) {
        return _existing(groupId).outputCommitment;
    }

    /// @inheritdoc IRedundantRequests
    function unsettled(uint256 groupId) external view returns (uint256 amount) {
        Group storage g = _existing(groupId);
        (uint256 k, uint256 first, uint256 settled, uint256 fee) = (g.k, g.firstJobId, g.settled, g.fee);
        for (uint256 i = 0; i < k; ++i) {
            if (settled & (1 << i) != 0) continue;
            (bool over, , uint256 refund, uint256 slashes) = _credits(first + i, fee);
            if (over) amount += refund + slashes;
        }
    }

    /// @inheritdoc IRedundantRequests
    function lockFor(uint256 fee) external view returns (uint256) {
        return _lockFor(fee, jobManager.params());
    }

    /// @inheritdoc IRedundantRequests
    function feeToCover(uint256 k, uint256 value) external view returns (uint256) {
        if (k == 0) revert RedundantRequestsInvalidRedundancy(k, MAX_REDUNDANCY);
        return _feeToCover(k, value, jobManager.params());
    }

    // ---------------------------------------------------------------- internals

    /// @inheritdoc PullPayments
    function _paymentToken() internal view override returns (IERC20) {
        return token;
    }

    function _existing(uint256 groupId) private view returns (Group storage g) {
        g = _groups[groupId];
        if (g.status == GroupStatus.None) revert RedundantRequestsUnknownGroup(groupId);
    }

    function _pending(uint256 groupId) private view returns (Group storage g) {
        g = _existing(groupId);
        if (g.status != GroupStatus.Pending) revert RedundantRequestsNotPending(groupId, g.status);
    }

    /// @dev Job `i` of group `g`: when it is over, what the escrow credited for it, announced
    /// ({JobSettled}); the caller records it.
    function _settleJob(uint256 groupId, Group storage g, uint256 i) private returns (bool over, uint256 amount) {
        uint256 jobId = uint256(g.firstJobId) + i;
        (bool over_, IJobManager.JobStatus status, uint256 refund, uint256 slashes) = _credits(jobId, g.fee);
        if (!over_) return (false, 0);
        emit JobSettled(groupId, jobId, g.requester, status, refund, slashes);
        return (true, refund + slashes);
    }

    /// @dev What the escrow credited this contract for job `jobId` (fee `fee`), final once the job is
    /// over (`over`): its fee when refunded or rejected, and its workers' timeout slashes.
    function _credits(uint256 jobId, uint256 fee) private view returns (bool over, IJobManager.JobStatus status, uint256 refund, uint256 slashes) {
        status = jobManager.getJob(jobId).status;
        if (status == IJobManager.JobStatus.Refunded || status == IJobManager.JobStatus.Rejected) refund = fee;
        else if (status != IJobManager.JobStatus.Finalized) return (false, status, 0, 0);
        return (true, status, refund, jobManager.timeoutSlashes(jobId));
    }

    /// @dev The escrow's lock for a job with `fee` under `params_` (the rule of its request, which
    /// fixes `terms.lock`): `fee · stakeRatioBps / 10000` rounded down, at least `minJobLock`.
    function _lockFor(uint256 fee, IJobManager.Params memory params_) private pure returns (uint256 lock) {
        lock = FeeSplit.share(fee, params_.stakeRatioBps);
        if (lock < params_.minJobLock) lock = params_.minJobLock;
    }

    /// @dev The least fee with `k · lock(fee) >= value`: zero when `k · minJobLock` covers it; else the
    /// least fee whose share at `stakeRatioBps` is `ceil(value / k)`, `ceil(ceil(value / k) · 10000 / ratio)`.
    function _feeToCover(uint256 k, uint256 value, IJobManager.Params memory params_) private pure returns (uint256) {
        if (k * params_.minJobLock >= value) return 0;
        uint256 ratio = params_.stakeRatioBps;
        if (ratio == 0) return type(uint256).max;
        uint256 perJob = (value + k - 1) / k;
        return (perJob * BPS + ratio - 1) / ratio;
    }
}
