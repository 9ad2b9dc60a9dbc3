// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

import {IJobManager} from "./IJobManager.sol";
import {IPullPayments} from "./IPullPayments.sol";

/**
 * @title IRedundantRequests
 * @notice Redundancy k: a requester pays `k` fees for `k` ordinary jobs of the escrow on the same
 * input (a group), and the group's output is final early, before any challenge window ends, when
 * all `k` results agree and come from `k` distinct workers, whose locks together cover a value
 * the requester stated at request (`k · lock ≥ value`). docs/ECONOMICS.md "Redundancy k".
 * @dev This contract is the requester of the group's jobs at the escrow (no consumer). The escrow
 * settles each job as usual: when the results disagree, the nodes' verifiers dispute the wrong ones,
 * the disputes decide each job, and the group's answer is the output its finalized jobs share
 * ({resolve}). What the escrow credits this contract for a group's jobs (the fee of a refunded or
 * rejected job, the timeout slashes of its workers) reaches the group's requester through
 * {settle}, as a pull balance ({IPullPayments-withdraw}).
 */
interface IRedundantRequests is IPullPayments {
    /// @notice Where a group's answer stands.
    /// @dev Pending: no answer yet (its jobs run as usual). Confirmed: all `k` results agreed, from
    /// distinct workers, and {confirm} made the output final early. Resolved: every job is over, and
    /// the jobs that finalized share one output, which no rejected job had ({resolve}).
    enum GroupStatus {
        None,
        Pending,
        Confirmed,
        Resolved
    }

    /// @notice A group as stored: two slots written at request, a third at confirmation or
    /// resolution.
    /// @param requester Who paid the `k` fees, and is owed the refunds and timeout slashes.
    /// @param k The number of jobs (2 to `MAX_REDUNDANCY`), with ids `firstJobId` to `firstJobId + k - 1`.
    /// @param settled Bit `i` is set once job `firstJobId + i` is over and what the escrow credited
    /// for it has been credited to the requester ({settle}).
    /// @param status Where its answer stands.
    /// @param firstJobId The escrow id of its first job.
    /// @param fee The fee of each job.
    /// @param value The value the requester stated, which the `k` locks cover.
    /// @param outputCommitment The group's output once Confirmed or Resolved (zero before).
    struct Group {
        address requester;
        uint8 k;
        uint8 settled;
        GroupStatus status;
        uint64 firstJobId;
        uint96 fee;
        uint96 value;
        bytes32 outputCommitment;
    }

    /// @notice Emitted by {request}: the group's `k` jobs were requested from the escrow (their terms,
    /// identical but for the id, are in the escrow's {IJobManager-JobRequested}).
    /// @param groupId The new group's id.
    /// @param requester The caller, who paid `k · fee`.
    /// @param firstJobId The escrow id of the first job; the others follow it.
    /// @param k The number of jobs.
    /// @param fee The fee of each job.
    /// @param lock The stake each job's claim locks (its terms' `lock`).
    /// @param value The value stated by the requester (`k · lock ≥ value`).
    event GroupRequested(
        uint256 indexed groupId,
        address indexed requester,
        uint256 firstJobId,
        uint256 k,
        uint256 fee,
        uint256 lock,
        uint256 value
    );

    /// @notice Emitted by {confirm}: all the group's results are `outputCommitment`, from distinct
    /// workers; the group's output is final.
    /// @param groupId The group.
    /// @param outputCommitment The output the `k` jobs agree on.
    event GroupConfirmed(uint256 indexed groupId, bytes32 outputCommitment);

    /// @notice Emitted by {resolve}: every job of the group is over, and those that finalized share
    /// `outputCommitment`.
    /// @param groupId The group.
    /// @param outputCommitment The output of its finalized jobs.
    /// @param finalizedJobs How many of its jobs finalized (the others were refunded or rejected).
    event GroupResolved(uint256 indexed groupId, bytes32 outputCommitment, uint256 finalizedJobs);

    /// @notice Emitted by {settle} for each job of the group that is over: what the escrow credited
    /// this contract for it is credited to the group's requester (`refund + slashes`, withdrawn with
    /// {IPullPayments-withdraw}).
    /// @param groupId The group.
    /// @param jobId The job.
    /// @param requester The group's requester, credited.
    /// @param status The job's final status (Finalized, Refunded or Rejected).
    /// @param refund The job's fee when it was refunded or rejected, else zero.
    /// @param slashes What its workers' timeouts slashed ({IJobManager-timeoutSlashes}).
    event JobSettled(
        uint256 indexed groupId,
        uint256 indexed jobId,
        address indexed requester,
        IJobManager.JobStatus status,
        uint256 refund,
        uint256 slashes
    );

    /// @dev A group has 2 to `max` jobs.
    /// @param k The redundancy asked for.
    /// @param max The most allowed (`MAX_REDUNDANCY`).
    error RedundantRequestsInvalidRedundancy(uint256 k, uint256 max);

    /// @dev A group's jobs have no consumer (integrators read {confirmedOutput}).
    /// @param consumer The consumer named in the request.
    error RedundantRequestsConsumerNotSupported(address consumer);

    /// @dev The `k` locks do not cover the value stated. A job's lock grows with its fee (the escrow's
    /// `stakeRatioBps`): raise the fee to at least `minimumFee` per job (see {feeToCover}).
    /// @param value The value stated.
    /// @param covered What the `k` locks cover at this fee: `k · lock`.
    /// @param minimumFee The least fee per job whose lock covers the value (the maximum uint256
    /// when no fee can: a zero stake ratio).
    error RedundantRequestsValueNotCovered(uint256 value, uint256 covered, uint256 minimumFee);

    /// @dev No group has id `groupId`.
    /// @param groupId The id given.
    error RedundantRequestsUnknownGroup(uint256 groupId);

    /// @dev The group already has its answer (Confirmed or Resolved).
    /// @param groupId The group.
    /// @param status Its status.
    error RedundantRequestsNotPending(uint256 groupId, GroupStatus status);

    /// @dev Job `jobId` has no result that can confirm its group: it is not Submitted or Finalized.
    /// @param jobId The job.
    /// @param status Its status at the escrow.
    error RedundantRequestsNoResult(uint256 jobId, IJobManager.JobStatus status);

    /// @dev Job `jobId`'s result is not the output commitment given, with the terms given: another
    /// output, or terms that are not the group's.
    /// @param jobId The job.
    error RedundantRequestsResultMismatch(uint256 jobId);

    /// @dev Job `jobId`'s result is disputed: no early finality while a dispute is open.
    /// @param jobId The job.
    /// @param openDisputes Disputes open on it.
    error RedundantRequestsUnderDispute(uint256 jobId, uint256 openDisputes);

    /// @dev One worker holds two of the group's jobs: its agreement with itself proves nothing, so
    /// the group waits for the ordinary windows ({resolve}).
    /// @param worker The worker.
    /// @param firstJobId One of its jobs.
    /// @param secondJobId Another.
    error RedundantRequestsRepeatedWorker(address worker, uint256 firstJobId, uint256 secondJobId);

    /// @dev Job `jobId` is not over yet (not Finalized, Refunded or Rejected).
    /// @param jobId The job.
    /// @param status Its status at the escrow.
    error RedundantRequestsJobNotOver(uint256 jobId, IJobManager.JobStatus status);

    /// @dev Job `jobId` had the output given and was rejected: that output was proven wrong.
    /// @param jobId The job.
    error RedundantRequestsOutputRejected(uint256 jobId);

    /// @dev None of the group's jobs finalized: the group has no answer (its fees come back, {settle}).
    /// @param groupId The group.
    error RedundantRequestsNoFinalizedJob(uint256 groupId);

    /// @dev None of the group's jobs is newly over: nothing to settle.
    /// @param groupId The group.
    error RedundantRequestsNothingToSettle(uint256 groupId);

    /// @dev The escrow numbered a group's job otherwise than consecutively (it cannot: its counter
    /// grows by one per request, and nothing else runs between the group's requests).
    /// @param expected The id expected.
    /// @param got The id the escrow returned.
    error RedundantRequestsUnexpectedJobId(uint256 expected, uint256 got);

    /// @notice Requests `k` jobs of the same input `p` (no consumer), each with fee `p.fee`, paying
    /// `k · p.fee` from the caller at once (approved beforehand). The `k` locks must cover `value`.
    /// @param p The request, as for {IJobManager-requestInference}; `p.consumer` must be zero.
    /// @param k The number of jobs: 2 to `MAX_REDUNDANCY`.
    /// @param value The value the group's output decides, which `k` locks must cover.
    /// @return groupId The new group's id.
    function request(IJobManager.RequestParams calldata p, uint256 k, uint256 value) external returns (uint256 groupId);

    /// @notice Anyone: makes the group's output final early when every one of its `k` jobs has
    /// `outputCommitment` as its result (Submitted or Finalized, no dispute open), from `k` distinct
    /// workers. The group's jobs share their terms (one request, one block): `terms` are those of
    /// {IJobManager-JobRequested}, and each job's stored result hash is checked against them.
    /// @param groupId The group.
    /// @param terms The terms of the group's jobs.
    /// @param outputCommitment The output they agree on.
    function confirm(uint256 groupId, IJobManager.JobTerms calldata terms, bytes32 outputCommitment) external;

    /// @notice Anyone, once every job of the group is over (Finalized, Refunded or Rejected): records
    /// the group's answer, `outputCommitment`, when every finalized job has it (at least one did),
    /// and no rejected job had it.
    /// @param groupId The group.
    /// @param terms The terms of the group's jobs.
    /// @param outputCommitment The output of its finalized jobs.
    function resolve(uint256 groupId, IJobManager.JobTerms calldata terms, bytes32 outputCommitment) external;

    /// @notice Anyone: for each job of the group that is over and not yet settled, credits the group's
    /// requester what the escrow credited this contract for it (its fee if it was refunded or
    /// rejected, plus its workers' timeout slashes), then withdraws this contract's escrow balance.
    /// @param groupId The group.
    /// @return credited What the requester was credited now.
    function settle(uint256 groupId) external returns (uint256 credited);

    /// @notice Most jobs a group may have.
    function MAX_REDUNDANCY() external view returns (uint256);

    /// @notice The job escrow.
    function jobManager() external view returns (IJobManager);

    /// @notice The token fees are paid in (the escrow's).
    function token() external view returns (IERC20);

    /// @notice The block this contract was deployed in (where readers of its events start).
    function deploymentBlock() external view returns (uint256);

    /// @notice Groups requested so far (the highest id).
    function groupCount() external view returns (uint256);

    /// @notice Group `groupId` as stored.
    function getGroup(uint256 groupId) external view returns (Group memory);

    /// @notice The escrow ids of group `groupId`'s jobs.
    function jobIds(uint256 groupId) external view returns (uint256[] memory);

    /// @notice The group's output once Confirmed or Resolved, else zero.
    function confirmedOutput(uint256 groupId) external view returns (bytes32);

    /// @notice What the group's jobs that are over and not yet settled have left with the escrow for
    /// its requester ({settle} credits it): their refunds and timeout slashes.
    function unsettled(uint256 groupId) external view returns (uint256);

    /// @notice The stake a job with fee `fee` locks under the escrow's current parameters.
    function lockFor(uint256 fee) external view returns (uint256);

    /// @notice The least fee per job whose lock, `k` times, covers `value` under the escrow's current
    /// parameters (zero when the minimum lock covers it; the maximum uint256 when no fee can). The
    /// fee must also be at least the escrow's {IJobManager-minimumFee}.
    function feeToCover(uint256 k, uint256 value) external view returns (uint256);
}
