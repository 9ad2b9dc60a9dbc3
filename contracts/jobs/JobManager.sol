// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {IJobManager} from "../interfaces/IJobManager.sol";
import {IModelRegistry} from "../interfaces/IModelRegistry.sol";
import {IStaking} from "../interfaces/IStaking.sol";
import {IInferenceConsumer} from "../interfaces/IInferenceConsumer.sol";
import {IWorkerRoster} from "../interfaces/IWorkerRoster.sol";
import {BatchCommitment} from "../libraries/BatchCommitment.sol";
import {PullPayments} from "../payments/PullPayments.sol";
import {BPS, FeeSplit} from "../libraries/FeeSplit.sol";

/**
 * @title JobManager
 * @notice Escrow and life cycle of inference jobs.
 * @dev Funds held here are exactly the fees of jobs not yet settled, plus the pull-payment
 * balances, plus the model earnings and protocol fees accrued and not yet distributed. Every state change happens before any external call (checks-effects-interactions);
 * the consumer callback runs last, with a bounded gas limit and bounded return data. Outputs are
 * never stored: a consumer job's finalizer passes the output bytes back (from `ResultSubmitted`),
 * checked against the job's result hash, and is paid the job's callback fee for the callback's gas.
 * The owner is the governance timelock: it sets parameters, and has no function that moves
 * escrowed fees or balances; the dispute manager, the one contract that can slash a claim's lock,
 * is appointed once at deployment and never replaced ({setDisputeManager}). Every change makes a new parameter version; a
 * job is bound to the version in force at its request (`terms.paramsVersion`), and everything it
 * later depends on (result timeout, challenge window, timeout slash, treasury, dispute manager)
 * is read from that version, so no governance change reaches a job already requested.
 */
contract JobManager is IJobManager, Ownable, PullPayments {
    using SafeERC20 for IERC20;
    using SafeCast for uint256;

    /// @dev Gas kept back for the work after the callback returns (events, bookkeeping).
    uint256 private constant CALLBACK_RESERVE = 30_000;
    /// @dev Bytes of a failing callback's revert data that are kept in {CallbackFailed}.
    uint256 private constant MAX_REASON_BYTES = 256;
    /// @notice Highest protocol fee rate governance may set: 20% of a job's fee.
    uint16 public constant MAX_PROTOCOL_FEE_BPS = 2_000;
    /// @notice Longest challenge window governance may set.
    uint256 public constant MAX_CHALLENGE_WINDOW = 30 days;
    /// @notice Highest callback fee per unit of gas governance may set: 1 token per gas. With
    /// callback gas limits below 2^24, a callback fee stays below 2^84 wei.
    uint256 public constant MAX_CALLBACK_FEE_PER_GAS = 1 ether;
    /// @notice Most inputs one batch job may carry ({requestBatch}). It keeps a batch's output
    /// commitment (one SHA-256 tree per item) and a dispute's item lists (one word per item) small,
    /// and fits the job's `uint8 batchSize`.
    uint256 public constant MAX_BATCH_SIZE = 64;
    /// @notice Highest audit share governance may set: 20% of a job's fee (with the protocol fee's
    /// 20%, a fee always leaves 60% to the model and the worker).
    uint16 public constant MAX_AUDIT_FEE_BPS = 2_000;
    /// @dev The bits of a stored result hash that are the hash: all but the last 4 bytes, which hold
    /// the submission block (see {IJobManager-Job}).
    bytes32 private constant RESULT_HASH_MASK = ~bytes32(uint256(type(uint32).max));

    /// @dev What settling a dispute against a result needs, kept when the first dispute opens
    /// (the terms are not stored, and the dispute manager does not have them at settlement),
    /// with the dispute manager of the job's parameter version: the only one that may settle it.
    struct DisputedTerms {
        address requester;
        uint96 fee;
        uint96 lock;
        address manager;
    }

    /// @dev What a model's finalized jobs accrued and {distributeModelEarnings} has not paid out yet:
    /// the model's price (to its payees) and the protocol fee (to the treasury), in one slot, so
    /// that a finalization writes both with one store. Both are at most the token's supply (< 2^96).
    struct Accrued {
        uint128 modelEarnings;
        uint128 protocolFees;
    }

    /// @dev The job counter and the parameter version in force, in one slot (a request reads both).
    struct Counters {
        uint64 jobCount;
        uint32 paramsVersion;
    }

    /// @notice The protocol token.
    IERC20 public immutable token;
    /// @notice The model registry.
    IModelRegistry public immutable registry;
    /// @notice Where workers' stakes are locked.
    IStaking public immutable staking;
    /// @notice The block the escrow was deployed in: where clients and indexers start reading its
    /// events (a job's terms are only in its `JobRequested`).
    uint256 public immutable deploymentBlock;
    /// @notice Shortest challenge window governance may set, fixed at deployment so that no vote
    /// can shorten the window until nobody has time to dispute.
    uint256 public immutable minChallengeWindow;
    /// @notice Who may claim a job (fixed at deployment): the stake-weighted draw of its claim slots,
    /// or zero for the first-come rule (the first worker to claim wins).
    IWorkerRoster public immutable roster;
    /// @notice The audit manager (fixed at deployment), credited each finalized job's audit share
    /// (`Params.auditFeeBps`), or zero for an escrow without audits (and without audit share).
    address public immutable auditManager;

    Counters private _counters;
    mapping(uint256 version => Params) private _paramsAt;
    mapping(uint256 version => address) private _disputeManagerAt;
    mapping(uint256 jobId => Job) private _jobs;
    mapping(uint256 jobId => DisputedTerms) private _disputed;
    mapping(address consumer => mapping(address requester => bool)) private _approvedRequesters;
    mapping(uint256 modelId => Accrued) private _accrued;
    /// @dev What the timeouts of each job's workers credited its requester (a requester that pools its
    /// jobs' refunds, such as a subscription manager, reads it to know whose they are).
    mapping(uint256 jobId => uint256) private _timeoutSlashes;

    /// @param minChallengeWindow_ Shortest challenge window governance may ever set (at least 1 s).
    /// @param roster_ The roster that assigns claims, or zero for first-come claims.
    /// @param auditManager_ The audit manager (which binds itself to this escrow once deployed), or
    /// zero for none; with none, `auditFeeBps` must be zero.
    constructor(
        IERC20 token_,
        IModelRegistry registry_,
        IStaking staking_,
        address owner_,
        uint256 minChallengeWindow_,
        Params memory params_,
        IWorkerRoster roster_,
        address auditManager_
    ) Ownable(owner_) {
        if (minChallengeWindow_ == 0 || minChallengeWindow_ > MAX_CHALLENGE_WINDOW) revert JobManagerInvalidParameter("minChallengeWindow");
        token = token_;
        registry = registry_;
        staking = staking_;
        deploymentBlock = block.number;
        minChallengeWindow = minChallengeWindow_;
        roster = roster_;
        auditManager = auditManager_;
        _setParams(params_);
    }

    // ---------------------------------------------------------------- requester

    /// @inheritdoc IJobManager
    function requestInference(RequestParams calldata p) external nonReentrant returns (uint256 jobId) {
        return _request(p, 1);
    }

    /// @inheritdoc IJobManager
    function requestBatch(RequestParams calldata p, uint256 batchSize) external nonReentrant returns (uint256 jobId) {
        if (batchSize == 0 || batchSize > MAX_BATCH_SIZE) revert JobManagerInvalidBatchSize(batchSize, MAX_BATCH_SIZE);
        jobId = _request(p, batchSize);
        // A batch names its size; a batch of one is a single job, with exactly its events. (Here,
        // after the fee's transfer, rather than in _request: a single job then pays no check for it.)
        if (batchSize > 1) emit BatchRequested(jobId, batchSize);
    }

    /// @dev Opens a job over `batchSize` inputs (1: a single job) and escrows its fee. The batch size
    /// shares the job's first slot, written here anyway, so a single job pays no new slot for it.
    function _request(RequestParams calldata p, uint256 batchSize) private returns (uint256 jobId) {
        Counters memory c = _counters;
        JobTerms memory terms = _termsOf(p, c.paramsVersion, batchSize);
        jobId = uint256(c.jobCount) + 1;
        _counters.jobCount = uint64(jobId);
        Job storage job = _jobs[jobId];
        job.status = JobStatus.Open;
        // While Open, the timer holds the block the job was requested in: its claim draws' seed.
        job.timer = uint40(block.number);
        job.batchSize = uint8(batchSize);
        job.commitment = keccak256(abi.encode(terms));

        emit JobRequested(jobId, p.modelId, msg.sender, terms, p.input, p.inputURI);
        token.safeTransferFrom(msg.sender, address(this), terms.fee);
    }

    /// @dev Checks a request over `batchSize` inputs and fixes its terms by the current parameters and
    /// model price (`batchSize` times the price).
    function _termsOf(
        RequestParams calldata p,
        uint32 version,
        uint256 batchSize
    ) private view returns (JobTerms memory terms) {
        // One storage read for every parameter a request without consumer needs.
        Params storage params_ = _paramsAt[version];
        if (params_.paused) revert JobManagerPaused();
        uint256 feeBps = params_.protocolFeeBps;
        uint256 latest = block.timestamp + params_.maxJobDuration;
        (uint96 price, bool deprecated, uint64 inputElements, uint64 outputElements) = registry.pricing(p.modelId);
        if (deprecated) revert JobManagerModelDeprecated(p.modelId);
        uint96 fee = p.fee.toUint96();
        // What the fee must leave after the protocol fee: the price and, with a consumer, the callback
        // fee (the second parameter slot, read only for a consumer job). The version fixes the rate,
        // so finalization recomputes the same callback fee from the terms.
        uint256 modelFee;
        // A uint96 price times at most MAX_BATCH_SIZE: below 2^103.
        unchecked {
            modelFee = uint256(price) * batchSize;
        }
        uint256 owed = modelFee;
        if (p.consumer != address(0)) owed += uint256(p.callbackGasLimit) * params_.callbackFeePerGas;
        _checkFee(fee, feeBps, owed, params_);
        if (p.deadline <= block.timestamp || p.deadline > latest) revert JobManagerInvalidDeadline(p.deadline, latest);
        _checkCallback(p, params_);
        uint256 lock = FeeSplit.share(fee, params_.stakeRatioBps);
        if (lock < params_.minJobLock) lock = params_.minJobLock;

        terms.requester = msg.sender;
        terms.modelId = p.modelId.toUint40();
        terms.fee = fee;
        // modelFee <= owed <= fee - protocolFee < 2^96 (checked above): the cast is exact.
        terms.modelFee = uint96(modelFee);
        terms.lock = lock.toUint96();
        terms.protocolFeeBps = uint16(feeBps);
        terms.deadline = uint40(p.deadline);
        terms.outputElements = outputElements;
        terms.consumer = p.consumer;
        terms.callbackGasLimit = uint24(p.callbackGasLimit);
        terms.inputCommitment = _inputCommitment(p, inputElements, batchSize);
        terms.paramsVersion = version;
    }

    // ---------------------------------------------------------------- worker

    /// @inheritdoc IJobManager
    function claim(uint256 jobId, JobTerms calldata t) external nonReentrant {
        Job storage job = _jobIn(jobId, JobStatus.Open);
        _checkTerms(job, jobId, t);
        uint256 deadline = t.deadline;
        if (block.timestamp > deadline) revert JobManagerDeadlinePassed(jobId, deadline);
        uint256 due = block.timestamp + _paramsAt[t.paramsVersion].resultTimeout;
        if (due > deadline) due = deadline;

        // While Open, the timer holds the block the job was requested (or reopened) in: its draws' seed.
        uint256 openedBlock = job.timer;
        job.worker = msg.sender;
        job.status = JobStatus.Claimed;
        job.timer = uint40(due);
        emit JobClaimed(jobId, msg.sender, t.lock, due);

        // INVARIANT: with a roster, only the worker drawn for the current slot claims (or anyone
        // once the drawn slots are over); it reverts before anything is kept.
        if (address(roster) != address(0)) roster.checkClaim(t.modelId, jobId, openedBlock, msg.sender);
        staking.lock(msg.sender, t.lock);
    }

    /// @inheritdoc IJobManager
    function submitResult(
        uint256 jobId,
        JobTerms calldata t,
        bytes calldata output,
        bytes32 outputCommitment
    ) external {
        Job storage job = _jobIn(jobId, JobStatus.Claimed);
        _checkTerms(job, jobId, t);
        // Read together, from the one slot they share (the batch size costs no read of its own).
        (address worker, uint256 due, uint256 batchSize) = (job.worker, job.timer, job.batchSize);
        if (msg.sender != worker) revert JobManagerNotWorker(jobId, msg.sender);
        if (block.timestamp > due) revert JobManagerResultOverdue(jobId, due);
        bytes32 computed = _outputCommitment(t, batchSize, output);
        if (computed != outputCommitment) revert JobManagerOutputCommitmentMismatch(outputCommitment, computed);

        uint256 challengeEnd = block.timestamp + _paramsAt[t.paramsVersion].challengeWindow;
        job.status = JobStatus.Submitted;
        job.timer = uint40(challengeEnd);
        // The terms hash is replaced by the hash binding terms and output (no trace: a dispute's
        // defender posts its trace root as its first move, bound to this output commitment), its last
        // 4 bytes holding this block (the audit draw's seed is the next block's hash): the same store.
        job.commitment = _resultHash(job.commitment, outputCommitment) | bytes32(uint256(uint32(block.number)));
        // The output is not stored, not even for a consumer: its finalizer passes it back from this event.
        emit ResultSubmitted(jobId, msg.sender, outputCommitment, output, challengeEnd);
    }

    // ---------------------------------------------------------------- settlement

    /// @inheritdoc IJobManager
    function finalize(uint256 jobId, JobTerms calldata t, bytes32 outputCommitment) external nonReentrant {
        Job storage job = _jobIn(jobId, JobStatus.Submitted);
        _checkResult(job, jobId, t, outputCommitment);
        // A consumer needs the output bytes, which the escrow does not keep.
        if (t.consumer != address(0)) revert JobManagerUseFinalizeWithCallback(jobId);
        _payOut(job, jobId, t, 0);
    }

    /// @inheritdoc IJobManager
    function finalizeWithCallback(uint256 jobId, JobTerms calldata t, bytes calldata output) external nonReentrant {
        Job storage job = _jobIn(jobId, JobStatus.Submitted);
        _checkOutput(job, jobId, t, output);
        address consumer = t.consumer;
        if (consumer == address(0)) return _payOut(job, jobId, t, 0);
        // The callback fee is the finalizer's. A worker finalizing its own job is paid it with its
        // own part, in one credit, without reading the rate (the usual case: one store, one event
        // and one cold read less).
        _payOut(job, jobId, t, msg.sender == job.worker ? 0 : _callbackFee(t));
        _callBack(job, jobId, consumer, t.callbackGasLimit, output);
    }

    /// @dev Finalizes a Submitted job whose terms and result the caller checked: after its window,
    /// with no dispute open, it pays the worker, accrues the model's price and the protocol fee,
    /// credits `finalizerFee` (the callback fee, when the caller is not the worker) to the caller, who
    /// pays for the callback that follows, and unlocks the worker's stake. Everything before the
    /// callback (checks-effects-interactions).
    function _payOut(Job storage job, uint256 jobId, JobTerms calldata t, uint256 finalizerFee) private {
        uint256 challengeEnd = job.timer;
        if (block.timestamp < challengeEnd) revert JobManagerChallengeWindowOpen(jobId, challengeEnd);
        if (job.openDisputes != 0) revert JobManagerUnderDispute(jobId, job.openDisputes);

        job.status = JobStatus.Finalized;
        address worker = job.worker;
        uint256 fee = t.fee;
        uint256 modelFee = t.modelFee;
        (uint256 protocolFee, uint256 auditFee) = _feeSplit(t);
        uint256 workerFee;
        // requestInference checked fee - protocolFee - auditFee >= modelFee + callbackFee, with the
        // same fee, rates, price, callback gas limit and parameter version (so the same callback fee).
        unchecked {
            workerFee = fee - protocolFee - auditFee - modelFee - finalizerFee;
        }

        _credit(worker, jobId, workerFee);
        _credit(msg.sender, jobId, finalizerFee);
        // The audit pool's share: a pull balance of the audit manager, which collects it into its pool.
        _credit(auditManager, jobId, auditFee);
        // The model's and the protocol's parts accrue to the model, in one slot (one store);
        // distributeModelEarnings pays them out on demand.
        if (modelFee != 0 || protocolFee != 0) {
            Accrued memory a = _accrued[t.modelId];
            // Cannot overflow: every amount is below the token's supply cap of 2^96.
            a.modelEarnings += uint128(modelFee);
            a.protocolFees += uint128(protocolFee);
            _accrued[t.modelId] = a;
        }
        emit JobFinalized(jobId, worker, workerFee, modelFee, protocolFee);

        staking.unlock(worker, t.lock);
    }

    /// @inheritdoc IJobManager
    function cancel(uint256 jobId, JobTerms calldata t) external nonReentrant {
        Job storage job = _jobIn(jobId, JobStatus.Open);
        _checkTerms(job, jobId, t);
        if (msg.sender != t.requester) revert JobManagerNotRequester(jobId, msg.sender);
        emit JobCancelled(jobId);
        _refund(job, jobId, t.requester, t.fee);
    }

    /// @inheritdoc IJobManager
    function setRequesterApproval(address requester, bool approved) external {
        _approvedRequesters[msg.sender][requester] = approved;
        emit RequesterApprovalSet(msg.sender, requester, approved);
    }

    /// @inheritdoc IJobManager
    function retryCallback(uint256 jobId, JobTerms calldata t, bytes calldata output, uint32 gasLimit) external nonReentrant {
        Job storage job = _existing(jobId);
        _checkOutput(job, jobId, t, output);
        if (msg.sender != t.consumer || job.callback != CallbackStatus.Failed) revert JobManagerNoFailedCallback(jobId, msg.sender);
        // Within the limit of the job's own parameter version: governance cannot change it mid-job.
        uint256 max = _paramsAt[t.paramsVersion].maxCallbackGasLimit;
        if (gasLimit == 0 || gasLimit > max) revert JobManagerInvalidCallback(gasLimit, max);
        _callBack(job, jobId, t.consumer, gasLimit, output);
    }

    /// @inheritdoc IJobManager
    function expire(uint256 jobId, JobTerms calldata t) external nonReentrant {
        Job storage job = _existing(jobId);
        JobStatus status = job.status;
        if (status != JobStatus.Open && status != JobStatus.Claimed) revert JobManagerWrongStatus(jobId, status);
        _checkTerms(job, jobId, t);
        if (status == JobStatus.Open) {
            if (block.timestamp <= t.deadline) revert JobManagerNotExpired(jobId, t.deadline);
            _refund(job, jobId, t.requester, t.fee);
        } else {
            if (block.timestamp <= job.timer) revert JobManagerNotExpired(jobId, job.timer);
            _timeOutWorker(job, jobId, t);
        }
    }

    /// @inheritdoc IJobManager
    function distributeModelEarnings(uint256 modelId) external nonReentrant returns (uint256 amount) {
        Accrued memory a = _accrued[modelId];
        amount = a.modelEarnings;
        uint256 fees = a.protocolFees;
        if (amount == 0 && fees == 0) revert JobManagerNothingToDistribute(modelId);
        delete _accrued[modelId];
        if (fees != 0) {
            // Protocol revenue goes to the treasury in force now (no user's funds: governance's own).
            address treasury = _paramsAt[_counters.paramsVersion].treasury;
            emit ProtocolFeesCollected(modelId, treasury, fees);
            _credit(treasury, 0, fees);
        }
        if (amount == 0) return 0;
        emit ModelEarningsDistributed(modelId, amount);
        (address owner_, , IModelRegistry.Contributor[] memory contributors) = registry.payees(modelId);
        uint256 rest = amount;
        for (uint256 i = 0; i < contributors.length; ++i) {
            uint256 share = FeeSplit.share(amount, contributors[i].bps);
            // The registry's split sums to 10000 bps, so the shares never exceed `amount`.
            rest -= share;
            _credit(contributors[i].account, 0, share);
        }
        _credit(owner_, 0, rest);
    }

    // ---------------------------------------------------------------- disputes

    /// @inheritdoc IJobManager
    function freezeForDispute(
        uint256 jobId,
        JobTerms calldata t,
        bytes32 outputCommitment
    ) external returns (address worker, uint256 batchSize) {
        Job storage job = _jobIn(jobId, JobStatus.Submitted);
        _checkResult(job, jobId, t, outputCommitment);
        // INVARIANT: a job is judged by the dispute manager of the parameters it was requested under.
        address manager = _disputeManagerAt[t.paramsVersion];
        if (msg.sender != manager) revert JobManagerNotDisputeManager(msg.sender);
        uint256 challengeEnd = job.timer;
        if (block.timestamp >= challengeEnd) revert JobManagerChallengeWindowClosed(jobId, challengeEnd);
        // No cap: every staked party can dispute while the window is open (each game is backed by
        // its own bond), so a cartel cannot fill the slots and shut the honest challenger out.
        uint256 open = uint256(job.openDisputes) + 1;
        job.openDisputes = open.toUint32();
        // The first dispute keeps what a rejection needs; later ones find it there.
        if (_disputed[jobId].requester == address(0)) _disputed[jobId] = DisputedTerms(t.requester, t.fee, t.lock, manager);
        emit JobFrozen(jobId, open);
        return (job.worker, job.batchSize);
    }

    /// @inheritdoc IJobManager
    function settleDispute(
        uint256 jobId,
        bool resultValid,
        uint256 slashAmount
    ) external nonReentrant returns (uint256 slashed) {
        Job storage job = _existing(jobId);
        DisputedTerms memory d = _disputed[jobId];
        // INVARIANT: only the manager that froze the job settles it (a later replacement cannot).
        if (d.manager == address(0) || msg.sender != d.manager) revert JobManagerNotDisputeManager(msg.sender);
        uint256 open = job.openDisputes;
        if (open == 0) revert JobManagerDisputeCount(jobId, 0);
        job.openDisputes = uint32(open - 1);
        emit DisputeSettled(jobId, resultValid, open - 1);

        // A result already rejected by a parallel dispute stays rejected; nothing more to move.
        if (resultValid || job.status != JobStatus.Submitted) return 0;

        job.status = JobStatus.Rejected;
        address worker = job.worker;
        uint256 locked = d.lock;
        slashed = slashAmount < locked ? slashAmount : locked;
        _credit(d.requester, jobId, d.fee);
        emit JobRejected(jobId, worker, slashed, d.fee);

        if (slashed != 0) staking.slash(worker, slashed, msg.sender);
        if (locked > slashed) staking.unlock(worker, locked - slashed);
    }

    // ---------------------------------------------------------------- governance

    /// @notice Sets the governed parameters, all at once (see {Params} for their meaning and
    /// bounds), as a new version: jobs requested from now on use it, jobs already requested keep theirs.
    function setParams(Params calldata params_) external onlyOwner {
        _setParams(params_);
    }

    /// @notice Deployment only: appoints the dispute manager, once, for jobs requested from now on (a
    /// new parameter version). No later owner can replace it: the dispute manager slashes the stakes
    /// that claims lock, so a governance that could appoint another could take workers' funds through
    /// it (as {Staking} seals its operators at deployment, for the same reason). A new dispute layer
    /// comes with a new escrow.
    function setDisputeManager(address disputeManager_) external onlyOwner {
        address current = _disputeManagerAt[_counters.paramsVersion];
        if (current != address(0)) revert JobManagerDisputeManagerSealed(current);
        if (disputeManager_ == address(0)) revert JobManagerInvalidParameter("disputeManager");
        uint32 version = _nextVersion();
        _paramsAt[version] = _paramsAt[version - 1];
        _disputeManagerAt[version] = disputeManager_;
        emit DisputeManagerSet(version, disputeManager_);
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc IJobManager
    function getJob(uint256 jobId) external view returns (Job memory job) {
        job = _existing(jobId);
        // A submitted result's hash, without the submission block kept in its last 4 bytes.
        if (_wasSubmitted(job.status)) job.commitment &= RESULT_HASH_MASK;
    }

    /// @inheritdoc IJobManager
    function submittedBlock(uint256 jobId) external view returns (uint256) {
        Job storage job = _jobs[jobId];
        if (!_wasSubmitted(job.status)) return 0;
        // The latest block at or before now whose low 32 bits are the stored ones.
        uint32 low = uint32(uint256(job.commitment));
        unchecked {
            return block.number - uint32(uint32(block.number) - low);
        }
    }

    /// @inheritdoc IJobManager
    function feeSplit(JobTerms calldata t) external view returns (uint256 protocolFee, uint256 auditFee) {
        return _feeSplit(t);
    }

    /// @inheritdoc IJobManager
    function termsHash(JobTerms calldata t) external pure returns (bytes32) {
        return keccak256(abi.encode(t));
    }

    /// @inheritdoc IJobManager
    function resultHash(JobTerms calldata t, bytes32 outputCommitment) external pure returns (bytes32) {
        return _resultHash(keccak256(abi.encode(t)), outputCommitment);
    }

    /// @inheritdoc IJobManager
    function modelEarnings(uint256 modelId) external view returns (uint256) {
        return _accrued[modelId].modelEarnings;
    }

    /// @inheritdoc IJobManager
    function protocolFees(uint256 modelId) external view returns (uint256) {
        return _accrued[modelId].protocolFees;
    }

    /// @inheritdoc IJobManager
    function minimumFee(uint256 price) external view returns (uint256) {
        Params storage p = _paramsAt[_counters.paramsVersion];
        return _minimumFee(price, uint256(p.protocolFeeBps) + p.auditFeeBps);
    }

    /// @inheritdoc IJobManager
    function minimumFeeWithCallback(uint256 price, uint256 callbackGasLimit) external view returns (uint256) {
        Params storage p = _paramsAt[_counters.paramsVersion];
        return _minimumFee(price + callbackGasLimit * p.callbackFeePerGas, uint256(p.protocolFeeBps) + p.auditFeeBps);
    }

    /// @inheritdoc IJobManager
    function callbackFee(JobTerms calldata t) external view returns (uint256) {
        return t.consumer == address(0) ? 0 : _callbackFee(t);
    }

    /// @inheritdoc IJobManager
    function isFinalOutput(uint256 jobId, JobTerms calldata t, bytes calldata output) external view returns (bool) {
        // An unknown job is no job with a final output: false, not a revert, for a contract that asks.
        Job storage job = _jobs[jobId];
        uint256 batchSize = job.batchSize;
        if (job.status != JobStatus.Finalized || output.length != _outputLength(t, batchSize)) return false;
        return job.commitment & RESULT_HASH_MASK == _resultHash(keccak256(abi.encode(t)), BatchCommitment.root(output, batchSize));
    }

    /// @inheritdoc IJobManager
    function timeoutSlashes(uint256 jobId) external view returns (uint256) {
        return _timeoutSlashes[jobId];
    }

    /// @inheritdoc IJobManager
    function isApprovedRequester(address consumer, address requester) external view returns (bool) {
        return _approvedRequesters[consumer][requester];
    }

    /// @inheritdoc IJobManager
    function jobCount() external view returns (uint256) {
        return _counters.jobCount;
    }

    /// @inheritdoc IJobManager
    function params() external view returns (Params memory) {
        return _paramsAt[_counters.paramsVersion];
    }

    /// @inheritdoc IJobManager
    function disputeManager() external view returns (address) {
        return _disputeManagerAt[_counters.paramsVersion];
    }

    /// @inheritdoc IJobManager
    function paramsVersion() external view returns (uint32) {
        return _counters.paramsVersion;
    }

    /// @inheritdoc IJobManager
    function paramsAt(uint32 version) external view returns (Params memory, address manager) {
        if (version == 0 || version > _counters.paramsVersion) revert JobManagerUnknownParamsVersion(version);
        return (_paramsAt[version], _disputeManagerAt[version]);
    }

    // ---------------------------------------------------------------- internals

    /// @dev Validates the input form and returns its commitment (computed on-chain when inline: the
    /// batch commitment of `batchSize` inputs of `inputElements` elements each).
    function _inputCommitment(RequestParams calldata p, uint64 inputElements, uint256 batchSize) private view returns (bytes32) {
        bool inlined = p.input.length != 0;
        bool remote = bytes(p.inputURI).length != 0;
        if (inlined == remote) revert JobManagerInvalidInput();
        if (remote) {
            if (p.inputCommitment == bytes32(0)) revert JobManagerInvalidInput();
            return p.inputCommitment;
        }
        uint256 expected;
        // A uint64 count times 4 times at most MAX_BATCH_SIZE: below 2^74.
        unchecked {
            expected = uint256(inputElements) * 4 * batchSize;
        }
        if (p.input.length != expected) revert JobManagerInputSizeMismatch(expected, p.input.length);
        bytes32 computed = BatchCommitment.root(p.input, batchSize);
        if (p.inputCommitment != bytes32(0) && p.inputCommitment != computed) {
            revert JobManagerInputCommitmentMismatch(p.inputCommitment, computed);
        }
        return computed;
    }

    /// @dev The hash a submitted job stores in place of its terms hash: the last 4 bytes cleared, for
    /// the submission block.
    function _resultHash(bytes32 termsHash_, bytes32 outputCommitment) private pure returns (bytes32) {
        return keccak256(abi.encode(termsHash_, outputCommitment)) & RESULT_HASH_MASK;
    }

    /// @dev Whether a job in `status` has had its result submitted (its commitment is a result hash).
    function _wasSubmitted(JobStatus status) private pure returns (bool) {
        return status == JobStatus.Submitted || status == JobStatus.Finalized || status == JobStatus.Rejected;
    }

    /// @dev The treasury's and the audit pool's parts of job `t`'s fee: cut together at the job's
    /// rates, `fee * (protocolFeeBps + auditFeeBps) / 10000` rounded down (the rule {minimumFee}
    /// inverts), of which the pool gets `fee * auditFeeBps / 10000` rounded down and the treasury the
    /// rest. Without audit manager the audit share is zero and its slot is not read.
    function _feeSplit(JobTerms calldata t) private view returns (uint256 protocolFee, uint256 auditFee) {
        uint256 fee = t.fee;
        if (auditManager == address(0)) return (FeeSplit.share(fee, t.protocolFeeBps), 0);
        uint256 auditBps = _paramsAt[t.paramsVersion].auditFeeBps;
        auditFee = FeeSplit.share(fee, auditBps);
        protocolFee = FeeSplit.share(fee, t.protocolFeeBps + auditBps) - auditFee;
    }

    /// @dev The least fee f with f - floor(f * bps / 10000) >= price. That difference,
    /// ceil(f * (10000 - bps) / 10000), grows by 0 or 1 per unit of f, so the least f is
    /// floor((price - 1) * 10000 / (10000 - bps)) + 1 (and 0 for a free model). bps < 10000.
    function _minimumFee(uint256 price, uint256 bps) private pure returns (uint256) {
        if (price == 0) return 0;
        return ((price - 1) * BPS) / (BPS - bps) + 1;
    }

    /// @dev The one place balances grow. Emits {BalanceCredited}.
    function _credit(address account, uint256 jobId, uint256 amount) private {
        if (_addBalance(account, amount)) emit BalanceCredited(account, jobId, amount);
    }

    /// @inheritdoc PullPayments
    function _paymentToken() internal view override returns (IERC20) {
        return token;
    }

    function _refund(Job storage job, uint256 jobId, address requester, uint256 amount) private {
        job.status = JobStatus.Refunded;
        _credit(requester, jobId, amount);
        emit JobRefunded(jobId, requester, amount);
    }

    /// @dev Slashes a worker whose result is late (to the requester), then reopens or refunds the job.
    function _timeOutWorker(Job storage job, uint256 jobId, JobTerms calldata t) private {
        address worker = job.worker;
        uint256 locked = t.lock;
        uint256 slashed = FeeSplit.share(locked, _paramsAt[t.paramsVersion].timeoutSlashBps);
        bool reopen = block.timestamp <= t.deadline;

        job.worker = address(0);
        // A reopened job is drawn again, seeded after this block.
        job.timer = uint40(block.number);
        if (slashed != 0) _timeoutSlashes[jobId] += slashed;
        _credit(t.requester, jobId, slashed);
        emit WorkerTimedOut(jobId, worker, slashed);
        if (reopen) {
            job.status = JobStatus.Open;
            emit JobReopened(jobId);
        } else {
            _refund(job, jobId, t.requester, t.fee);
        }

        if (slashed != 0) staking.slash(worker, slashed, address(this));
        if (locked > slashed) staking.unlock(worker, locked - slashed);
    }

    /// @dev The callback fee of a consumer job: its gas limit at its parameter version's rate, the
    /// rate its request was checked against.
    function _callbackFee(JobTerms calldata t) private view returns (uint256) {
        return uint256(t.callbackGasLimit) * _paramsAt[t.paramsVersion].callbackFeePerGas;
    }

    /// @dev Calls the consumer with a fixed gas limit; a revert is recorded (in the job and an event),
    /// never propagated. The return data is not copied beyond `MAX_REASON_BYTES`, so a consumer
    /// cannot make the caller run out of gas by returning a huge blob.
    function _callBack(Job storage job, uint256 jobId, address consumer, uint256 gasLimit, bytes calldata output) private {
        bytes memory data = abi.encodeCall(IInferenceConsumer.onInferenceResult, (jobId, output));
        bool success;
        bytes memory reason = new bytes(MAX_REASON_BYTES);
        // EIP-150 forwards at most 63/64 of what is left: make sure the consumer gets all of `gasLimit`.
        // Checked after the call data is built (its cost grows with the output's size), just
        // before the call, so that a finalizer cannot starve the callback by sending less gas.
        uint256 needed = gasLimit + gasLimit / 63 + CALLBACK_RESERVE;
        if (gasleft() < needed) revert JobManagerInsufficientGasForCallback(needed, gasleft());
        assembly ("memory-safe") {
            success := call(gasLimit, consumer, 0, add(data, 32), mload(data), 0, 0)
            let size := returndatasize()
            if gt(size, MAX_REASON_BYTES) { size := MAX_REASON_BYTES }
            returndatacopy(add(reason, 32), 0, size)
            mstore(reason, size)
        }
        if (success) {
            job.callback = CallbackStatus.Delivered;
            emit CallbackDelivered(jobId, consumer);
        } else {
            job.callback = CallbackStatus.Failed;
            emit CallbackFailed(jobId, consumer, reason);
        }
    }

    function _setParams(Params memory p) private {
        if (p.treasury == address(0)) revert JobManagerInvalidParameter("treasury");
        if (p.protocolFeeBps > MAX_PROTOCOL_FEE_BPS) revert JobManagerInvalidParameter("protocolFeeBps");
        if (p.timeoutSlashBps > BPS) revert JobManagerInvalidParameter("timeoutSlashBps");
        if (p.challengeWindow < minChallengeWindow || p.challengeWindow > MAX_CHALLENGE_WINDOW) {
            revert JobManagerInvalidParameter("challengeWindow");
        }
        if (p.resultTimeout == 0) revert JobManagerInvalidParameter("resultTimeout");
        if (p.maxJobDuration < p.resultTimeout) revert JobManagerInvalidParameter("maxJobDuration");
        if (p.callbackFeePerGas > MAX_CALLBACK_FEE_PER_GAS) revert JobManagerInvalidParameter("callbackFeePerGas");
        // INVARIANT: an escrow without audit manager takes no audit share (nobody could collect it).
        if (p.auditFeeBps > (auditManager == address(0) ? 0 : MAX_AUDIT_FEE_BPS)) revert JobManagerInvalidParameter("auditFeeBps");
        uint32 version = _nextVersion();
        _paramsAt[version] = p;
        // The dispute manager carries over (unset, zero, before the first setDisputeManager).
        _disputeManagerAt[version] = _disputeManagerAt[version - 1];
        emit ParamsSet(version, p);
    }

    /// @dev Starts the next parameter version (versions start at 1) and makes it the current one.
    function _nextVersion() private returns (uint32 version) {
        version = _counters.paramsVersion + 1;
        _counters.paramsVersion = version;
    }

    /// @dev Job `jobId`, which must exist and be in status `expected`: one read of its status (the
    /// unknown job first, so that a wrong id says so).
    function _jobIn(uint256 jobId, JobStatus expected) private view returns (Job storage job) {
        job = _jobs[jobId];
        JobStatus status = job.status;
        if (status != expected) {
            if (status == JobStatus.None) revert JobManagerUnknownJob(jobId);
            revert JobManagerWrongStatus(jobId, status);
        }
    }

    function _existing(uint256 jobId) private view returns (Job storage job) {
        job = _jobs[jobId];
        if (job.status == JobStatus.None) revert JobManagerUnknownJob(jobId);
    }

    /// @dev Reverts unless `t` are the terms of `job` (before submission).
    function _checkTerms(Job storage job, uint256 jobId, JobTerms calldata t) private view {
        if (job.commitment != keccak256(abi.encode(t))) revert JobManagerTermsMismatch(jobId);
    }

    /// @dev Reverts unless `t` and the result are those of `job` (after submission).
    function _checkResult(Job storage job, uint256 jobId, JobTerms calldata t, bytes32 outputCommitment) private view {
        if (job.commitment & RESULT_HASH_MASK != _resultHash(keccak256(abi.encode(t)), outputCommitment)) revert JobManagerTermsMismatch(jobId);
    }

    /// @dev Reverts unless `output` is the result of `job` with terms `t`: the length rule of
    /// {submitResult}, and the commitment of the bytes is the one the job's result hash binds with
    /// the terms.
    function _checkOutput(Job storage job, uint256 jobId, JobTerms calldata t, bytes calldata output) private view {
        bytes32 computed = _outputCommitment(t, job.batchSize, output);
        if (job.commitment & RESULT_HASH_MASK != _resultHash(keccak256(abi.encode(t)), computed)) revert JobManagerOutputMismatch(jobId, computed);
    }

    /// @dev Bytes of a job's output: 4 per element of the model's output, per item.
    function _outputLength(JobTerms calldata t, uint256 batchSize) private pure returns (uint256 length) {
        // A uint64 count times 4 times at most MAX_BATCH_SIZE (a uint8): below 2^74.
        unchecked {
            length = uint256(t.outputElements) * 4 * batchSize;
        }
    }

    /// @dev The commitment of a job's `output` of `batchSize` items (one item: its tensor commitment),
    /// after checking its length: the tensor commitment zero-pads its last chunk, so it does not bind
    /// the length, and the items are cut by it.
    function _outputCommitment(JobTerms calldata t, uint256 batchSize, bytes calldata output) private view returns (bytes32) {
        uint256 expectedLength = _outputLength(t, batchSize);
        if (output.length != expectedLength) revert JobManagerOutputSizeMismatch(expectedLength, output.length);
        return BatchCommitment.root(output, batchSize);
    }

    /// @dev Reverts unless `fee` leaves `owed` (the model's price, and a consumer's callback fee) after
    /// the protocol fee (`feeBps`) and the audit share of parameters `params_`. The two are cut together
    /// (one rounding), so that the least fee has a closed form ({minimumFee}); the audit share's slot
    /// is read only by an escrow with audits. The worker's part, fee - modelFee - protocolFee -
    /// auditFee - callbackFee, is then never negative (finalize relies on it).
    function _checkFee(uint256 fee, uint256 feeBps, uint256 owed, Params storage params_) private view {
        uint256 cutBps = feeBps;
        if (auditManager != address(0)) cutBps += params_.auditFeeBps;
        if (fee - FeeSplit.share(fee, cutBps) < owed) revert JobManagerInsufficientFee(fee, _minimumFee(owed, cutBps));
    }

    /// @dev Checks a request's consumer and callback gas limit under parameters `params_`.
    function _checkCallback(RequestParams calldata p, Params storage params_) private view {
        address consumer = p.consumer;
        uint256 gasLimit = p.callbackGasLimit;
        if (consumer == address(0)) {
            // A job without consumer takes no callback gas.
            if (gasLimit != 0) revert JobManagerInvalidCallback(gasLimit, params_.maxCallbackGasLimit);
            return;
        }
        // A consumer's callback needs gas: with none it could only fail.
        uint256 max = params_.maxCallbackGasLimit;
        if (gasLimit == 0 || gasLimit > max) revert JobManagerInvalidCallback(gasLimit, max);
        // INVARIANT: a callback goes only to a contract that asked for it, itself or through a
        // requester it approved.
        if (consumer.code.length == 0) revert JobManagerConsumerHasNoCode(consumer);
        if (consumer != msg.sender && !_approvedRequesters[consumer][msg.sender]) revert JobManagerConsumerNotApproved(consumer, msg.sender);
    }
}
