// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

import {IModelRegistry} from "./IModelRegistry.sol";
import {IPullPayments} from "./IPullPayments.sol";

/**
 * @title IJobManager
 * @notice The escrow of inference jobs: request, claim, submit, challenge window, finalize.
 * @dev A job's fee has three parts: the model's price (to its developer and data contributors),
 * the protocol fee (`protocolFeeBps` of the fee, to the treasury), and the rest, which pays the
 * worker. All payouts are credited to pull-payment balances and leave through {withdraw}; the
 * model's part first accrues per model and reaches its payees through {distributeModelEarnings}.
 * A batch job ({requestBatch}) carries several inputs for one model and is settled as one job: one
 * claim, one result (the items' outputs, concatenated), one challenge window; a dispute that proves
 * any item wrong rejects the whole batch (docs/PROTOCOL.md "Batches").
 */
interface IJobManager is IPullPayments {
    /// @notice Where a job is in its life.
    /// @dev Submitted jobs with open disputes are frozen: they finalize only once every dispute is
    /// settled in the worker's favour.
    enum JobStatus {
        None,
        Open,
        Claimed,
        Submitted,
        Finalized,
        Refunded,
        Rejected
    }

    /// @notice What became of a consumer job's callback (None for a job without consumer, or before
    /// finalization).
    enum CallbackStatus {
        None,
        Delivered,
        Failed
    }

    /// @notice What a job's request fixed, once and for all. The escrow stores only its hash
    /// ({Job.commitment}); every later call on the job passes the terms back as calldata and is
    /// checked against that hash. The terms are in {JobRequested}.
    /// @param requester Who pays, and gets refunds.
    /// @param modelId The model to run.
    /// @param fee Tokens escrowed.
    /// @param modelFee The model's price when the job was requested, times the job's batch size
    /// ({Job.batchSize}: 1 for a single job).
    /// @param lock Stake a claim locks: `fee * stakeRatioBps / 10000`, at least `minJobLock`, by
    /// the parameters at request time.
    /// @param protocolFeeBps The protocol fee rate at request time: the treasury gets
    /// `fee * protocolFeeBps / 10000` (rounded down) at finalization.
    /// @param deadline Time by which the result must be submitted.
    /// @param outputElements Elements of the model's output tensor (the output has 4 bytes each): of
    /// one item, for a batch (whose output is `batchSize` such tensors, concatenated).
    /// @param consumer Contract called back at finalization, or zero for none: the requester itself,
    /// or a contract that approved the requester ({setRequesterApproval}).
    /// @param callbackGasLimit Gas the callback gets (zero without consumer). The job's callback fee,
    /// paid to whoever finalizes it, is this times the `callbackFeePerGas` of its parameter version
    /// (see {callbackFee}): fixed at request like every other term, without a word of its own.
    /// @param inputCommitment Tensor commitment of the input; for a batch, the batch commitment of its
    /// items' input tensor commitments (docs/SEMANTICS.md "Batch commitment").
    /// @param paramsVersion The parameter version in force at request ({paramsAt}): the job's result
    /// timeout, challenge window, timeout slash, treasury and dispute manager come from it.
    struct JobTerms {
        address requester;
        uint40 modelId;
        uint96 fee;
        uint96 modelFee;
        uint96 lock;
        uint16 protocolFeeBps;
        uint40 deadline;
        uint64 outputElements;
        address consumer;
        uint24 callbackGasLimit;
        bytes32 inputCommitment;
        uint32 paramsVersion;
    }

    /// @notice A job as stored: two slots, both written at request; a claim, a submission and a
    /// settlement only rewrite them.
    /// @param timer While Open: the block the job was requested (or reopened) in, which seeds the draw
    /// of its claim slots (see {IWorkerRoster-assignee}). While Claimed: when the result is due.
    /// While Submitted: when the challenge window ends.
    /// @param openDisputes Disputes opened on the result and not yet settled (no cap: each is backed by a bond).
    /// @param worker The claiming worker (zero while Open).
    /// @param callback What became of the consumer's callback (kept in the first slot's spare bytes).
    /// @param batchSize The number of inputs the job carries: 1 for a single job ({requestInference}),
    /// up to `MAX_BATCH_SIZE` for a batch ({requestBatch}); the first slot's last byte, written at
    /// request, so that a submission reads it with the slot it reads anyway.
    /// @param commitment Until submission: `keccak256(abi.encode(terms))` (see {termsHash}). From
    /// submission on: `keccak256(abi.encode(termsHash, outputCommitment))` with its last 4 bytes
    /// cleared (see {resultHash}; the output commitment is in {ResultSubmitted}); as stored, those 4
    /// bytes hold the block the result was submitted in ({submittedBlock}), which seeds its audit
    /// draw, in the slot the submission writes anyway (no storage of its own: a 224-bit hash is still
    /// far beyond any collision search). {getJob} returns the hash with the 4 bytes cleared. No trace is bound here: the worker posts its
    /// trace root only if a dispute opens, as the game's first move (docs/DISPUTES.md).
    struct Job {
        JobStatus status;
        uint32 openDisputes;
        uint40 timer;
        address worker;
        CallbackStatus callback;
        uint8 batchSize;
        bytes32 commitment;
    }

    /// @notice What a requester supplies.
    /// @param input Canonical bytes of the input tensor, or empty when `inputURI` is used; for a batch,
    /// its items' input tensors concatenated (each the model's input size).
    /// @param inputURI Where a large input can be fetched, when `input` is empty.
    /// @param inputCommitment Tensor commitment of the input (for a batch, the batch commitment of its
    /// items' input tensor commitments). Required with `inputURI`; with inline `input` it is computed
    /// on-chain, and a non-zero value here must match it.
    /// @param fee Tokens escrowed (approved beforehand). What it leaves after the protocol fee
    /// (`fee - fee * protocolFeeBps / 10000`) must cover the model price (times the batch size, for
    /// a batch), and with a consumer the
    /// callback fee too (`callbackGasLimit * callbackFeePerGas`); see {minimumFee} and
    /// {minimumFeeWithCallback}.
    /// @param deadline Time by which the result must be submitted.
    /// @param consumer Contract to call back with the final output, or zero for none.
    /// @param callbackGasLimit Gas the callback gets (at most the governed maximum).
    struct RequestParams {
        uint256 modelId;
        bytes input;
        string inputURI;
        bytes32 inputCommitment;
        uint256 fee;
        uint256 deadline;
        address consumer;
        uint32 callbackGasLimit;
    }

    /// @notice The governed parameters of the escrow.
    /// @dev Two storage slots. The first (minJobLock … maxJobDuration) is all that a request without
    /// consumer, a claim, a submission and an expiry read; the second (treasury,
    /// maxCallbackGasLimit, callbackFeePerGas) is read by requests with a consumer, by
    /// {finalizeWithCallback} of a consumer job that another account than its worker finalizes, and
    /// by {retryCallback}.
    /// @param minJobLock Least stake a claim locks.
    /// @param stakeRatioBps Stake locked per unit of fee, in basis points (20000 locks twice the fee).
    /// @param protocolFeeBps Share of each job's fee that goes to the treasury, in basis points
    /// (at most `MAX_PROTOCOL_FEE_BPS`).
    /// @param timeoutSlashBps Share of the lock slashed when a claimed job's result is late.
    /// @param paused When true, no new jobs are accepted; everything else works.
    /// @param challengeWindow Seconds a submitted result can be disputed (at most 30 days).
    /// @param resultTimeout Seconds a worker has, after claiming, to submit.
    /// @param maxJobDuration Latest deadline a request may set, in seconds from now.
    /// @param treasury Receives protocol fees.
    /// @param maxCallbackGasLimit Highest callback gas limit a request may ask for.
    /// @param callbackFeePerGas Token wei a consumer job pays per unit of its callback gas limit, on
    /// top of the usual minimum fee, to whoever finalizes it (and so pays for the callback's gas); at
    /// most `MAX_CALLBACK_FEE_PER_GAS`.
    /// @param auditFeeBps Share of each job's fee that funds the audit pool, in basis points (at most
    /// `MAX_AUDIT_FEE_BPS`; zero when the escrow has no audit manager): credited to the audit manager
    /// at finalization ({BalanceCredited}), fixed per job by its parameter version, and counted in
    /// {minimumFee}. A third slot, read by requests and finalizations only when the escrow has an
    /// audit manager.
    struct Params {
        uint96 minJobLock;
        uint32 stakeRatioBps;
        uint16 protocolFeeBps;
        uint16 timeoutSlashBps;
        bool paused;
        uint24 challengeWindow;
        uint32 resultTimeout;
        uint32 maxJobDuration;
        address treasury;
        uint24 maxCallbackGasLimit;
        uint72 callbackFeePerGas;
        uint16 auditFeeBps;
    }

    /// @notice Emitted by {requestInference} when a job is requested with `terms` (everything later
    /// calls pass back). The input is inline (`input`) or at `inputURI`; `terms.inputCommitment`
    /// commits to it either way.
    /// @param jobId The new job's id.
    /// @param modelId The model to run (`terms.modelId`).
    /// @param requester The account that requested the job and paid its fee (`terms.requester`).
    /// @param terms The job's terms, whose hash the job stores ({termsHash}).
    /// @param input Canonical bytes of the input tensor, or empty when `inputURI` is given.
    /// @param inputURI Where the input can be fetched, or empty when `input` is inline.
    event JobRequested(
        uint256 indexed jobId,
        uint256 indexed modelId,
        address indexed requester,
        JobTerms terms,
        bytes input,
        string inputURI
    );

    /// @notice Emitted by {requestBatch} after {JobRequested} when a job carries more than one input:
    /// nodes and indexers learn the batch size from the request's logs (a batch of one is a single job
    /// and emits only {JobRequested}). `JobRequested.input` holds the items' inputs, concatenated.
    /// @param jobId The job.
    /// @param batchSize The number of inputs (2 to `MAX_BATCH_SIZE`).
    event BatchRequested(uint256 indexed jobId, uint256 batchSize);

    /// @notice Emitted by {claim} when a worker claims an open job and its stake is locked.
    /// @param jobId The job.
    /// @param worker The claiming worker.
    /// @param lockedStake Stake locked for the job (`terms.lock`).
    /// @param resultDue When the result is due: the result timeout of the job's parameter version
    /// from the claim, but no later than the job's deadline.
    event JobClaimed(uint256 indexed jobId, address indexed worker, uint256 lockedStake, uint256 resultDue);

    /// @notice Emitted by {submitResult} when the worker posts the result; the challenge window opens.
    /// The escrow keeps only a hash binding the terms and `outputCommitment`: `output` is here, where
    /// a consumer job's finalizer reads it to pass it back to {finalizeWithCallback}.
    /// @param jobId The job.
    /// @param worker The worker that claimed the job.
    /// @param outputCommitment Tensor commitment of `output` (checked on-chain); for a batch, the batch
    /// commitment of its items' output tensor commitments.
    /// @param output Canonical bytes of the output tensor; for a batch, its items' outputs concatenated.
    /// @param challengeEnd When the challenge window closes; the job can be finalized from then on
    /// if no dispute is open.
    event ResultSubmitted(
        uint256 indexed jobId,
        address indexed worker,
        bytes32 outputCommitment,
        bytes output,
        uint256 challengeEnd
    );

    /// @notice Emitted by {finalize} or {finalizeWithCallback} when a job's result becomes final and
    /// its fee is paid out (the worker's stake is unlocked). A consumer job's callback fee is credited
    /// to the finalizer ({BalanceCredited}).
    /// @param jobId The job.
    /// @param worker The worker, credited `workerFee`.
    /// @param workerFee What the worker is credited: the fee less the model's price and the protocol
    /// fee, and less a consumer job's callback fee when another account finalized it (a worker that
    /// finalizes its own consumer job is paid the callback fee with its part, in this one credit).
    /// @param modelFee The model's price, accrued to the model's earnings ({distributeModelEarnings}).
    /// @param protocolFee The protocol fee, accrued with the model's earnings and paid to the treasury
    /// by {distributeModelEarnings}. With an audit share ({feeSplit}), the two together are
    /// `fee * (protocolFeeBps + auditFeeBps) / 10000` rounded down, of which the audit pool gets
    /// `fee * auditFeeBps / 10000` rounded down (credited to the audit manager, {BalanceCredited}) and
    /// the treasury the rest (so the split's rounding is the treasury's, and {minimumFee} stays exact).
    event JobFinalized(
        uint256 indexed jobId,
        address indexed worker,
        uint256 workerFee,
        uint256 modelFee,
        uint256 protocolFee
    );

    /// @notice Emitted by {expire} when a job ends without a result and its fee is credited back: an
    /// open job past its deadline, or a claimed one whose worker timed out after the job's deadline.
    /// @param jobId The job.
    /// @param requester The requester, credited `amount`.
    /// @param amount The job's fee.
    event JobRefunded(uint256 indexed jobId, address indexed requester, uint256 amount);

    /// @notice Emitted by {cancel} before its {JobRefunded}: the requester withdrew an unclaimed job.
    /// @param jobId The job.
    event JobCancelled(uint256 indexed jobId);

    /// @notice Emitted by {setRequesterApproval}: `consumer` lets `requester` name it as a job's
    /// consumer (or no longer does).
    /// @param consumer The consumer contract (the caller).
    /// @param requester The account it approves.
    /// @param approved Whether it may.
    event RequesterApprovalSet(address indexed consumer, address indexed requester, bool approved);

    /// @notice Emitted by {expire} after {WorkerTimedOut} when the job's deadline has not passed: the
    /// job is Open again, for any worker to claim.
    /// @param jobId The job.
    event JobReopened(uint256 indexed jobId);

    /// @notice Emitted by {expire} when a claimed job's result is overdue: the worker loses the claim
    /// and `timeoutSlashBps` (of the job's parameter version) of its lock, credited to the requester;
    /// the rest of the lock is unlocked. {JobReopened} or {JobRefunded} follows.
    /// @param jobId The job.
    /// @param worker The worker that missed its result time.
    /// @param slashed Stake slashed, credited to the requester's balance.
    event WorkerTimedOut(uint256 indexed jobId, address indexed worker, uint256 slashed);

    /// @notice Emitted by {freezeForDispute} each time a dispute opens on a job's result: the job
    /// cannot be finalized until every dispute on it is settled.
    /// @param jobId The job.
    /// @param openDisputes Disputes now open on the job, this one included.
    event JobFrozen(uint256 indexed jobId, uint256 openDisputes);

    /// @notice Emitted by {settleDispute} when the dispute manager settles one dispute on a job.
    /// @param jobId The job.
    /// @param resultValid Whether that dispute upheld the result (the worker won it).
    /// @param openDisputes Disputes still open on the job.
    event DisputeSettled(uint256 indexed jobId, bool resultValid, uint256 openDisputes);

    /// @notice Emitted by {settleDispute} when the first dispute that proves a result wrong rejects
    /// the job: the fee is credited back to the requester and the worker's lock slashed to the
    /// dispute manager (what is not slashed is unlocked).
    /// @param jobId The job.
    /// @param worker The worker whose result was rejected.
    /// @param slashed Stake slashed to the dispute manager (at most the job's lock).
    /// @param refunded The job's fee, credited to the requester.
    event JobRejected(uint256 indexed jobId, address indexed worker, uint256 slashed, uint256 refunded);

    /// @notice Emitted by {finalizeWithCallback} (or {retryCallback}) when the consumer's
    /// {IInferenceConsumer-onInferenceResult} returned without reverting.
    /// @param jobId The job.
    /// @param consumer The consumer contract called back.
    event CallbackDelivered(uint256 indexed jobId, address indexed consumer);

    /// @notice Emitted by {finalizeWithCallback} (or {retryCallback}) when the consumer's callback reverted (or
    /// ran out of its gas limit); the job is finalized and paid all the same, and the consumer may
    /// retry the callback with more gas.
    /// @param jobId The job.
    /// @param consumer The consumer contract called back.
    /// @param reason The callback's revert data, cut to its first 256 bytes.
    event CallbackFailed(uint256 indexed jobId, address indexed consumer, bytes reason);

    /// @notice Emitted when a pull balance grows (withdrawn with {withdraw}): by {finalize} and
    /// {finalizeWithCallback} (worker fee; a consumer job's callback fee, to the finalizer), {cancel}
    /// and {expire} (refund, timeout slash), {settleDispute} (refund of a rejected job),
    /// and {distributeModelEarnings} (model earnings, see {ModelEarningsDistributed}; protocol fees,
    /// see {ProtocolFeesCollected}).
    /// @param account The account credited.
    /// @param jobId The job that paid it, or 0 for a share of a model's accruals.
    /// @param amount The amount credited (never zero).
    event BalanceCredited(address indexed account, uint256 indexed jobId, uint256 amount);

    /// @notice Emitted by {distributeModelEarnings} when a model's accrued earnings are split among
    /// its payees (one {BalanceCredited} with job id 0 per payee with a non-zero share, in the same
    /// transaction).
    /// @param modelId The model.
    /// @param amount The earnings distributed: all that had accrued.
    event ModelEarningsDistributed(uint256 indexed modelId, uint256 amount);

    /// @notice Emitted by {distributeModelEarnings} when the protocol fees accrued by a model's jobs
    /// are credited to the treasury in force (with a {BalanceCredited}, job id 0).
    /// @param modelId The model whose jobs paid them.
    /// @param treasury The treasury credited: the one of the current parameter version.
    /// @param amount The fees collected: all that had accrued.
    event ProtocolFeesCollected(uint256 indexed modelId, address indexed treasury, uint256 amount);

    /// @notice Emitted when the governed parameters are set (at deployment, then by governance): a
    /// new parameter version, in force for jobs requested from now on.
    /// @param version The new parameter version.
    /// @param params Its parameters (its dispute manager carries over from the version before).
    event ParamsSet(uint32 indexed version, Params params);

    /// @notice Emitted once, at deployment, when the dispute manager is appointed: a new parameter
    /// version, in force for jobs requested from then on (jobs requested before have none, and
    /// cannot be disputed). It is never replaced.
    /// @param version The new parameter version (its parameters carry over from the version before).
    /// @param disputeManager The dispute manager of that version.
    event DisputeManagerSet(uint32 indexed version, address disputeManager);

    /// @dev No job has id `jobId` (ids run from 1 to {jobCount}).
    /// @param jobId The id given.
    error JobManagerUnknownJob(uint256 jobId);

    /// @dev The terms (and, after submission, the output commitment and trace root) given for job
    /// `jobId` do not hash to the commitment it stores.
    /// @param jobId The job.
    error JobManagerTermsMismatch(uint256 jobId);

    /// @dev The action needs job `jobId` in another status.
    /// @param jobId The job.
    /// @param status Its current status.
    error JobManagerWrongStatus(uint256 jobId, JobStatus status);

    /// @dev New jobs are paused by governance (`Params.paused`).
    error JobManagerPaused();

    /// @dev The model is deprecated: it takes no new jobs.
    /// @param modelId The model requested.
    error JobManagerModelDeprecated(uint256 modelId);

    /// @dev The fee is too low: after the protocol fee it would not cover the model's price (and,
    /// with a consumer, the callback fee).
    /// @param fee The fee offered.
    /// @param minimum The least fee accepted ({minimumFee} of the model's price, or
    /// {minimumFeeWithCallback} of the price and the callback gas limit).
    error JobManagerInsufficientFee(uint256 fee, uint256 minimum);

    /// @dev The deadline is not in the future, or is later than the longest job duration allows.
    /// @param deadline The deadline given.
    /// @param latest The latest deadline allowed now (`maxJobDuration` from now).
    error JobManagerInvalidDeadline(uint256 deadline, uint256 latest);

    /// @dev Neither or both of inline input and input URI were given, or the URI came without an
    /// input commitment.
    error JobManagerInvalidInput();

    /// @dev The inline input has the wrong size for the model's input.
    /// @param expected Bytes the model's input needs (4 per element), times the batch size.
    /// @param got Bytes of the inline input.
    error JobManagerInputSizeMismatch(uint256 expected, uint256 got);

    /// @dev A batch must carry 1 to `max` inputs.
    /// @param batchSize The batch size asked for.
    /// @param max The most a batch may carry (`MAX_BATCH_SIZE`).
    error JobManagerInvalidBatchSize(uint256 batchSize, uint256 max);

    /// @dev The input commitment given differs from the commitment of the inline input.
    /// @param given The commitment in the request.
    /// @param computed The commitment of the inline input, computed on-chain.
    error JobManagerInputCommitmentMismatch(bytes32 given, bytes32 computed);

    /// @dev The callback gas limit exceeds the maximum, is zero with a consumer (the callback could only
    /// fail), or is non-zero without a consumer.
    /// @param limit The callback gas limit asked for.
    /// @param max The governed maximum (`maxCallbackGasLimit`).
    error JobManagerInvalidCallback(uint256 limit, uint256 max);

    /// @dev The named consumer has no code: nothing could receive its callback.
    /// @param consumer The address named as consumer.
    error JobManagerConsumerHasNoCode(address consumer);

    /// @dev The requester named a consumer that is neither itself nor a contract that approved it:
    /// a callback goes only to a contract that asked for it.
    /// @param consumer The consumer named.
    /// @param requester The caller.
    error JobManagerConsumerNotApproved(address consumer, address requester);

    /// @dev Only the job's requester may do this.
    /// @param jobId The job.
    /// @param caller The account that called.
    error JobManagerNotRequester(uint256 jobId, address caller);

    /// @dev Only the job's consumer may retry its callback, and only after a failed one.
    /// @param jobId The job.
    /// @param caller The account that called.
    error JobManagerNoFailedCallback(uint256 jobId, address caller);

    /// @dev Job `jobId` can no longer be claimed: its deadline has passed.
    /// @param jobId The job.
    /// @param deadline Its deadline.
    error JobManagerDeadlinePassed(uint256 jobId, uint256 deadline);

    /// @dev Only the worker that claimed job `jobId` may submit its result.
    /// @param jobId The job.
    /// @param caller The account that called.
    error JobManagerNotWorker(uint256 jobId, address caller);

    /// @dev The worker's time to submit job `jobId`'s result is over; the job can only be expired.
    /// @param jobId The job.
    /// @param due When the result was due.
    error JobManagerResultOverdue(uint256 jobId, uint256 due);

    /// @dev The output has the wrong size for the model's output.
    /// @param expected Bytes the model's output needs (4 per element, `terms.outputElements`), times
    /// the job's batch size.
    /// @param got Bytes of the output given.
    error JobManagerOutputSizeMismatch(uint256 expected, uint256 got);

    /// @dev The output commitment given does not match the output bytes.
    /// @param given The output commitment given.
    /// @param computed The commitment of the output bytes, computed on-chain.
    error JobManagerOutputCommitmentMismatch(bytes32 given, bytes32 computed);

    /// @dev The output bytes given to {finalizeWithCallback} or {retryCallback} are not job `jobId`'s
    /// submitted result: their tensor commitment, with the terms given, does not hash to the result
    /// hash the job stores (the bytes are another output, or the terms are not the job's).
    /// @param jobId The job.
    /// @param outputCommitment The tensor commitment of the bytes given, computed on-chain.
    error JobManagerOutputMismatch(uint256 jobId, bytes32 outputCommitment);

    /// @dev Job `jobId` has a consumer, which needs the output bytes the escrow does not keep:
    /// finalize it with {finalizeWithCallback}, passing the output from {ResultSubmitted}.
    /// @param jobId The job.
    error JobManagerUseFinalizeWithCallback(uint256 jobId);

    /// @dev Job `jobId` cannot be finalized while its challenge window is open.
    /// @param jobId The job.
    /// @param challengeEnd When the window closes.
    error JobManagerChallengeWindowOpen(uint256 jobId, uint256 challengeEnd);

    /// @dev No dispute can open on job `jobId` any more: its challenge window is over.
    /// @param jobId The job.
    /// @param challengeEnd When the window closed.
    error JobManagerChallengeWindowClosed(uint256 jobId, uint256 challengeEnd);

    /// @dev Job `jobId` cannot be finalized while disputes on it are unsettled.
    /// @param jobId The job.
    /// @param openDisputes Disputes open on it.
    error JobManagerUnderDispute(uint256 jobId, uint256 openDisputes);

    /// @dev Job `jobId` has no open dispute to settle.
    /// @param jobId The job.
    /// @param openDisputes Disputes open on it (zero).
    error JobManagerDisputeCount(uint256 jobId, uint256 openDisputes);

    /// @dev No parameter version `version` exists (versions run from 1 to {paramsVersion}).
    /// @param version The version asked for.
    error JobManagerUnknownParamsVersion(uint32 version);

    /// @dev Job `jobId` has not expired yet: an open job before its deadline, or a claimed one
    /// before its result is due.
    /// @param jobId The job.
    /// @param time The last moment it is not expired: its deadline (open) or the time its result
    /// is due (claimed).
    error JobManagerNotExpired(uint256 jobId, uint256 time);

    /// @dev The caller is not the dispute manager of the job's parameter version (to freeze it), or
    /// not the manager that froze it (to settle a dispute).
    /// @param caller The account that called.
    error JobManagerNotDisputeManager(address caller);

    /// @dev The dispute manager is already appointed: it is set once, at deployment, and never replaced.
    /// @param disputeManager The dispute manager in force.
    error JobManagerDisputeManagerSealed(address disputeManager);

    /// @dev Finalizing a job with a consumer was sent too little gas for the consumer to get all of
    /// its callback gas limit (EIP-150 forwards at most 63/64 of what is left).
    /// @param needed Gas needed just before the call: the callback gas limit, its 1/63 margin and a
    /// reserve for the work after the call.
    /// @param available Gas left at that point.
    error JobManagerInsufficientGasForCallback(uint256 needed, uint256 available);

    /// @dev The model has accrued neither earnings nor protocol fees to distribute.
    /// @param modelId The model.
    error JobManagerNothingToDistribute(uint256 modelId);

    /// @dev A governed parameter, or the minimum challenge window given at deployment, is out of its
    /// allowed range.
    /// @param name The parameter: a field of {Params}, or `minChallengeWindow`.
    error JobManagerInvalidParameter(string name);

    /// @notice Requests an inference, escrowing `p.fee` from the caller. Returns the new job id.
    function requestInference(RequestParams calldata p) external returns (uint256 jobId);

    /// @notice Requests one job over `batchSize` inputs of the same model, escrowing `p.fee` from the
    /// caller; returns the new job id. `p.input` is the inputs concatenated (or `p.inputURI` and
    /// `p.inputCommitment`, the batch commitment). The fee must cover `batchSize` times the model's
    /// price (plus a consumer's callback fee, once); the job is claimed, submitted (the outputs
    /// concatenated), disputed and settled as one. A batch of one is exactly the job
    /// {requestInference} makes; a larger one also emits {BatchRequested}.
    /// @param p The request, as for {requestInference}.
    /// @param batchSize The number of inputs: 1 to `MAX_BATCH_SIZE`.
    /// @return jobId The new job's id.
    function requestBatch(RequestParams calldata p, uint256 batchSize) external returns (uint256 jobId);

    /// @notice Claims open job `jobId` for the caller, locking `terms.lock` of its stake.
    function claim(uint256 jobId, JobTerms calldata terms) external;

    /// @notice The claiming worker posts the output; the challenge window opens. A result is the
    /// output and its commitment: the trace behind it is committed only in a dispute.
    /// @param output Canonical bytes of the output tensor (a batch: its items' outputs, concatenated).
    /// @param outputCommitment Tensor commitment of `output` (a batch: the batch commitment of its
    /// items' output tensor commitments), checked on-chain.
    function submitResult(uint256 jobId, JobTerms calldata terms, bytes calldata output, bytes32 outputCommitment) external;

    /// @notice Anyone, after the challenge window with no open dispute: pays out and unlocks the
    /// worker's stake, for a job without consumer. `outputCommitment` is the submitted result's
    /// ({ResultSubmitted}). A consumer job reverts {JobManagerUseFinalizeWithCallback}.
    function finalize(uint256 jobId, JobTerms calldata terms, bytes32 outputCommitment) external;

    /// @notice Anyone, after the challenge window with no open dispute: finalizes a job given its
    /// output bytes (the `output` of its {ResultSubmitted}), as {finalize} does, and calls its
    /// consumer back with them, with exactly its `callbackGasLimit`. The bytes are checked against
    /// the job's result: 4 bytes per output element and item ({JobManagerOutputSizeMismatch}), and
    /// their commitment must be the submitted one ({JobManagerOutputMismatch}). A batch's consumer gets
    /// its items' outputs concatenated, in the order of its inputs. The caller, who pays
    /// for the callback's gas, is credited the job's callback fee ({callbackFee}); the worker, when it
    /// is the caller, with its own part ({JobFinalized}). The only way to finalize a consumer job; it
    /// finalizes a job without consumer too (no callback, no fee).
    /// @param jobId The job.
    /// @param terms The job's terms, as in {JobRequested}.
    /// @param output The job's output bytes, as in {ResultSubmitted}.
    function finalizeWithCallback(uint256 jobId, JobTerms calldata terms, bytes calldata output) external;

    /// @notice Anyone: enforces a missed deadline. An open job past its deadline is refunded; a
    /// claimed job past its result time slashes the worker, then reopens (if the deadline allows)
    /// or refunds.
    function expire(uint256 jobId, JobTerms calldata terms) external;

    /// @notice Requester: withdraws an unclaimed (Open) job; its fee is credited back at once
    /// ({JobCancelled}, {JobRefunded}).
    /// @param jobId The job.
    /// @param terms The job's terms, as in {JobRequested}.
    function cancel(uint256 jobId, JobTerms calldata terms) external;

    /// @notice Consumer contract: lets `requester` name it as a job's consumer, or stops it. A
    /// consumer is always allowed to request for itself.
    /// @param requester The account.
    /// @param approved Whether it may.
    function setRequesterApproval(address requester, bool approved) external;

    /// @notice Consumer: calls {IInferenceConsumer-onInferenceResult} again for a finalized job whose
    /// callback failed, with `gasLimit` (at most the `maxCallbackGasLimit` of the job's parameter
    /// version); the consumer pays for it. The output bytes are checked as {finalizeWithCallback}
    /// checks them.
    /// @param jobId The job.
    /// @param terms The job's terms, as in {JobRequested}.
    /// @param output The job's output bytes, as in {ResultSubmitted}.
    /// @param gasLimit Gas the callback gets.
    function retryCallback(uint256 jobId, JobTerms calldata terms, bytes calldata output, uint32 gasLimit) external;

    /// @notice Whether `output` is the final result of job `jobId`: the job is Finalized and its
    /// stored result hash binds `terms` and the tensor commitment of `output` (for a batch: `output`
    /// is its items' outputs concatenated, and their batch commitment is bound). Any contract can so
    /// read any job's result (not only a consumer's), given its bytes from {ResultSubmitted}.
    /// @param jobId The job.
    /// @param terms The job's terms, as in {JobRequested}.
    /// @param output The output bytes (int32 little-endian elements).
    /// @return Whether it is the job's final output.
    function isFinalOutput(uint256 jobId, JobTerms calldata terms, bytes calldata output) external view returns (bool);

    /// @notice The audit manager fixed at deployment (zero: no audits, and no audit share of fees).
    function auditManager() external view returns (address);

    /// @notice The block job `jobId`'s result was submitted in (zero before submission): its audit
    /// draw is seeded by the hash of the block after it. Stored as 32 bits beside the result hash
    /// and read back as the latest block at or before now with those low bits (exact for 2^32 blocks).
    function submittedBlock(uint256 jobId) external view returns (uint256);

    /// @notice How job `terms`' fee splits at finalization: the treasury's `protocolFee` and the audit
    /// pool's `auditFee` (zero without audit manager); the model gets `terms.modelFee` and the worker
    /// the rest (less a consumer job's callback fee, when another account finalizes it).
    function feeSplit(JobTerms calldata terms) external view returns (uint256 protocolFee, uint256 auditFee);

    /// @notice The protocol token fees are paid in.
    function token() external view returns (IERC20);

    /// @notice The model registry jobs are priced from (models' scales included).
    function registry() external view returns (IModelRegistry);

    /// @notice Whether `consumer` has approved `requester` ({setRequesterApproval}).
    /// @param consumer The consumer contract.
    /// @param requester The account.
    /// @return Whether `requester` may name `consumer` in a request.
    function isApprovedRequester(address consumer, address requester) external view returns (bool);

    /// @notice Anyone: pays out what `modelId`'s jobs accrued since the last distribution (both parts
    /// accrue in one slot at finalization, one write per job). Its earnings (the price of every
    /// finalized job) are split among the model's current payees ({IModelRegistry.payees}): each
    /// contributor gets `floor(amount * bps / 10000)`, the owner the rest (so the parts sum exactly
    /// to `amount`); the protocol fees of those jobs go to the treasury of the current parameter
    /// version. All as pull balances. Returns the earnings distributed (the fees are in
    /// {ProtocolFeesCollected}).
    function distributeModelEarnings(uint256 modelId) external returns (uint256 amount);

    /// @notice The dispute manager of the job's parameter version only: freezes `jobId` while a
    /// dispute on its result is open, however many are open. The terms and result must be the
    /// job's, and its challenge window open; the escrow keeps what a rejection needs (requester,
    /// fee, lock, manager). Returns the worker who submitted the result, and the job's batch size
    /// (1 for a single job): a dispute on a batch is about one of its items.
    function freezeForDispute(
        uint256 jobId,
        JobTerms calldata terms,
        bytes32 outputCommitment
    ) external returns (address worker, uint256 batchSize);

    /// @notice The manager that froze `jobId` only: settles one dispute on it. An invalid result is rejected:
    /// up to `slashAmount` of the worker's lock is slashed to the dispute manager, the rest
    /// unlocked, and the requester refunded. Returns the amount slashed.
    function settleDispute(uint256 jobId, bool resultValid, uint256 slashAmount) external returns (uint256 slashed);

    /// @notice Job `jobId` as stored (its terms are in {JobRequested}).
    function getJob(uint256 jobId) external view returns (Job memory);

    /// @notice The hash a job stores for `terms` until its result is submitted.
    function termsHash(JobTerms calldata terms) external pure returns (bytes32);

    /// @notice The hash a job stores from submission on: `keccak256(abi.encode(termsHash, outputCommitment))`
    /// with its last 4 bytes cleared (they hold the submission block in storage; {getJob} clears them).
    function resultHash(JobTerms calldata terms, bytes32 outputCommitment) external pure returns (bytes32);

    /// @notice Earnings accrued by `modelId` and not yet distributed.
    function modelEarnings(uint256 modelId) external view returns (uint256);

    /// @notice Protocol fees accrued by `modelId`'s jobs and not yet paid to the treasury.
    function protocolFees(uint256 modelId) external view returns (uint256);

    /// @notice The smallest fee a job without consumer on a model priced `price` may offer under the
    /// current protocol fee and audit share: the least `fee` with
    /// `fee - fee * (protocolFeeBps + auditFeeBps) / 10000 >= price`.
    function minimumFee(uint256 price) external view returns (uint256);

    /// @notice The smallest fee a consumer job with `callbackGasLimit` on a model priced `price` may
    /// offer under the current parameters: the least `fee` with
    /// `fee - fee * (protocolFeeBps + auditFeeBps) / 10000 >= price + callbackGasLimit * callbackFeePerGas`.
    function minimumFeeWithCallback(uint256 price, uint256 callbackGasLimit) external view returns (uint256);

    /// @notice The callback fee of a job with `terms`: its `callbackGasLimit` times the
    /// `callbackFeePerGas` of its parameter version (zero without consumer), paid out of its fee to
    /// whoever calls {finalizeWithCallback}. Fixed at request: versions never change.
    function callbackFee(JobTerms calldata terms) external view returns (uint256);

    /// @notice Number of jobs requested so far (the highest id).
    function jobCount() external view returns (uint256);

    /// @notice The governed parameters in force for new jobs.
    function params() external view returns (Params memory);

    /// @notice What the timeouts of job `jobId`'s workers credited its requester, in all (a job can
    /// time out, reopen and time out again). Final once the job is Finalized, Refunded or Rejected.
    /// A requester that pools many jobs' credits, such as the subscription manager, reads it to
    /// attribute them.
    function timeoutSlashes(uint256 jobId) external view returns (uint256);

    /// @notice The dispute manager for new jobs.
    function disputeManager() external view returns (address);

    /// @notice The parameter version in force for new jobs (versions start at 1).
    function paramsVersion() external view returns (uint32);

    /// @notice Parameter version `version` and its dispute manager, as jobs requested under it use them.
    function paramsAt(uint32 version) external view returns (Params memory params, address manager);
}
