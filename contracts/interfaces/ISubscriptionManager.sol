// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

import {IInferenceConsumer} from "./IInferenceConsumer.sol";
import {IJobManager} from "./IJobManager.sol";
import {IModelRegistry} from "./IModelRegistry.sol";
import {IPullPayments} from "./IPullPayments.sol";

/**
 * @title ISubscriptionManager
 * @notice Subscriptions: a consumer contract pays once for a schedule (run model M every `period`
 * seconds, `runs` times, with the input read from the consumer when each run is triggered), keepers
 * trigger each due run, and the consumer gets each result by callback; unused funds come back.
 * @dev Run r (0-based) is due in [start + r·period, start + (r+1)·period). A run whose interval
 * passes without a trigger is skipped: its funds stay in the subscription, and no later trigger
 * replays it. Each triggered run is an ordinary job of the escrow whose requester and consumer are
 * this manager (the escrow calls back only the contract that asked), paid from the subscription's
 * balance; the manager relays the final output to the subscription's consumer. Keepers are paid
 * the subscription's keeper reward per trigger as a pull balance ({IPullPayments-withdraw}).
 */
interface ISubscriptionManager is IInferenceConsumer, IPullPayments {
    /// @notice A subscription as stored: three slots (the configuration the relay reads, the state a
    /// trigger rewrites, and the fees).
    /// @param consumer The contract that created it: the only one that funds out, cancels, changes
    /// its fees, and receives its inputs' calls and results.
    /// @param modelId The model every run requests.
    /// @param period Seconds between the starts of two runs' intervals.
    /// @param callbackGasLimit Gas the consumer's {ISubscriptionConsumer-onSubscriptionResult} gets.
    /// @param start When run 0's interval starts (the creation time).
    /// @param runs How many runs the schedule has.
    /// @param nextRun The first run that may still be triggered: every run before it was triggered or skipped.
    /// @param triggered Runs triggered so far (the others before `nextRun` were skipped).
    /// @param cancelled No more runs will be triggered.
    /// @param balance Tokens held for the subscription's future runs, withdrawable by its consumer.
    /// @param feePerRun The fee each run's job escrows (see {minimumFeePerRun}).
    /// @param keeperReward Paid from the balance to whoever triggers a run.
    struct Subscription {
        address consumer;
        uint40 modelId;
        uint32 period;
        uint24 callbackGasLimit;
        uint40 start;
        uint32 runs;
        uint32 nextRun;
        uint32 triggered;
        bool cancelled;
        uint96 balance;
        uint96 feePerRun;
        uint96 keeperReward;
    }

    /// @notice Where a triggered run's job stands for the manager.
    /// @dev None: not a job of a subscription. Requested: triggered, no result relayed yet (or the job
    /// failed and {settleRun} has not run). Delivered: the consumer took the result. RelayFailed: the
    /// job is final but the consumer's callback reverted ({retryRelay}). Settled: the job failed and
    /// its fee is back in the subscription's balance.
    enum RunState {
        None,
        Requested,
        Delivered,
        RelayFailed,
        Settled
    }

    /// @notice A triggered run, by its job id: one slot.
    /// @param subscriptionId The subscription.
    /// @param run The run (0-based).
    /// @param state Where it stands.
    /// @param fee The fee its job escrowed (what {settleRun} returns if the job fails).
    struct Run {
        uint64 subscriptionId;
        uint32 run;
        RunState state;
        uint96 fee;
        bool slashesCollected;
    }

    /// @notice Emitted by {createSubscription}.
    /// @param subscriptionId The new subscription's id.
    /// @param consumer The consumer contract (the caller).
    /// @param modelId The model every run requests.
    /// @param period Seconds between runs.
    /// @param runs Runs in the schedule.
    /// @param start When run 0 is due.
    /// @param feePerRun Fee of each run's job.
    /// @param keeperReward Paid to each run's trigger.
    /// @param callbackGasLimit Gas of the consumer's result callback.
    event SubscriptionCreated(
        uint256 indexed subscriptionId,
        address indexed consumer,
        uint256 indexed modelId,
        uint256 period,
        uint256 runs,
        uint256 start,
        uint256 feePerRun,
        uint256 keeperReward,
        uint256 callbackGasLimit
    );

    /// @notice Emitted when tokens are added to a subscription ({createSubscription}'s deposit, {fund}).
    /// @param subscriptionId The subscription.
    /// @param from Who paid.
    /// @param amount Tokens added.
    /// @param balance Its balance after.
    event SubscriptionFunded(uint256 indexed subscriptionId, address indexed from, uint256 amount, uint256 balance);

    /// @notice Emitted by {trigger}: run `run` was requested as job `jobId`.
    /// @param subscriptionId The subscription.
    /// @param run The run (0-based).
    /// @param jobId The escrow's job for it (its `JobRequested` holds the terms and the input).
    /// @param keeper Who triggered it, credited `keeperReward`.
    /// @param fee The job's fee, paid from the balance.
    /// @param keeperReward Paid from the balance to `keeper` (pull balance).
    /// @param skipped Runs skipped just before this one (their intervals passed without a trigger).
    event RunTriggered(
        uint256 indexed subscriptionId,
        uint256 indexed run,
        uint256 indexed jobId,
        address keeper,
        uint256 fee,
        uint256 keeperReward,
        uint256 skipped
    );

    /// @notice Emitted when a run's final output reached its consumer (at the job's finalization, or
    /// by {retryRelay}).
    event ResultRelayed(uint256 indexed subscriptionId, uint256 indexed run, uint256 indexed jobId);

    /// @notice Emitted when the consumer's result callback reverted or ran out of gas; the consumer
    /// may {retryRelay}. The job is final and paid regardless.
    /// @param reason The first 256 bytes at most of the revert data (empty when out of gas).
    event RelayFailed(uint256 indexed subscriptionId, uint256 indexed run, uint256 indexed jobId, bytes reason);

    /// @notice Emitted by {settleRun}: a run's job ended without a result and its fee is back.
    /// @param status The job's end: Refunded or Rejected.
    /// @param refund The fee added back to the subscription's balance.
    event RunSettled(uint256 indexed subscriptionId, uint256 indexed run, uint256 indexed jobId, IJobManager.JobStatus status, uint256 refund);

    /// @notice Emitted by {collectSlashes} (or a {settleRun}): what the timeouts of a run's workers
    /// paid (credited by the escrow to this contract, the job's requester) is added to the
    /// subscription's balance.
    /// @param amount The slashes added (zero when no worker of the run timed out).
    event SlashesCollected(uint256 indexed subscriptionId, uint256 indexed run, uint256 indexed jobId, uint256 amount);

    /// @notice Emitted by {cancelSubscription}: no more runs will be triggered.
    /// @param remaining Runs that will never run (from the first not yet triggered or skipped).
    event SubscriptionCancelled(uint256 indexed subscriptionId, uint256 remaining);

    /// @notice Emitted by {withdrawFunds}.
    /// @param to The consumer, sent `amount`.
    /// @param balance The subscription's balance after.
    event FundsWithdrawn(uint256 indexed subscriptionId, address indexed to, uint256 amount, uint256 balance);

    /// @notice Emitted by {setFeePerRun}: later runs' jobs pay `feePerRun`.
    event FeePerRunSet(uint256 indexed subscriptionId, uint256 feePerRun);

    /// @notice Emitted by {setKeeperReward}: later triggers are paid `keeperReward`.
    event KeeperRewardSet(uint256 indexed subscriptionId, uint256 keeperReward);

    /// @dev No subscription has id `subscriptionId`.
    error SubscriptionManagerUnknownSubscription(uint256 subscriptionId);

    /// @dev A subscription's consumer is the contract that creates it, and `caller` has no code.
    error SubscriptionManagerConsumerHasNoCode(address caller);

    /// @dev Only the subscription's consumer may do this.
    error SubscriptionManagerNotConsumer(uint256 subscriptionId, address caller);

    /// @dev A schedule needs a period and at least one run.
    error SubscriptionManagerInvalidSchedule(uint256 period, uint256 runs);

    /// @dev The model is deprecated: it takes no new jobs.
    error SubscriptionManagerModelDeprecated(uint256 modelId);

    /// @dev The callback gas limit is zero, or the job's callback gas it needs (the limit, its 1/63
    /// margin and the relay's overhead, {relayGas}) exceeds the escrow's `maxCallbackGasLimit`.
    /// @param callbackGasLimit The consumer's callback gas limit.
    /// @param jobGas The callback gas the run's job would ask for.
    /// @param max The escrow's `maxCallbackGasLimit`.
    error SubscriptionManagerInvalidCallbackGas(uint256 callbackGasLimit, uint256 jobGas, uint256 max);

    /// @dev The fee per run no longer covers what a run's job must pay (the model's price, the
    /// protocol fee and the callback fee), as the model's developer or governance changed them:
    /// raise it ({setFeePerRun}) or cancel.
    /// @param subscriptionId The subscription (0 when creating one).
    /// @param feePerRun The fee per run.
    /// @param minimum The least fee a run's job accepts now.
    error SubscriptionManagerFeeTooLow(uint256 subscriptionId, uint256 feePerRun, uint256 minimum);

    /// @dev The subscription was cancelled.
    error SubscriptionManagerCancelled(uint256 subscriptionId);

    /// @dev Every run of the subscription was triggered or skipped.
    error SubscriptionManagerFinished(uint256 subscriptionId, uint256 runs);

    /// @dev The current interval's run was already triggered.
    /// @param nextRun The next run that may be triggered.
    /// @param dueAt When its interval starts.
    error SubscriptionManagerNotDue(uint256 subscriptionId, uint256 nextRun, uint256 dueAt);

    /// @dev The balance does not cover a run (its fee and the keeper reward), or the amount asked.
    error SubscriptionManagerInsufficientBalance(uint256 subscriptionId, uint256 balance, uint256 needed);

    /// @dev The consumer's {ISubscriptionConsumer-subscriptionInput} reverted (or ran out of its gas cap).
    /// @param reason The first 256 bytes at most of its revert data.
    error SubscriptionManagerInputFailed(uint256 subscriptionId, uint256 run, bytes reason);

    /// @dev The consumer's {ISubscriptionConsumer-subscriptionInput} did not return `abi.encode(bytes)`
    /// of exactly the model's input size (nothing larger is ever copied).
    /// @param expectedBytes The model's input size, in bytes.
    /// @param returnDataSize The size of what it returned (`abi.encode` of the right input has 64 +
    /// `expectedBytes` rounded up to 32).
    error SubscriptionManagerBadInput(uint256 subscriptionId, uint256 run, uint256 expectedBytes, uint256 returnDataSize);

    /// @dev Results come only from the job escrow.
    error SubscriptionManagerOnlyJobManager(address caller);

    /// @dev Job `jobId` is no run of a subscription.
    error SubscriptionManagerUnknownRun(uint256 jobId);

    /// @dev Run `jobId` has already come back (delivered, relay failed, or settled).
    error SubscriptionManagerRunNotPending(uint256 jobId, RunState state);

    /// @dev Run `jobId`'s job has not failed: it is still running, or it was finalized.
    error SubscriptionManagerRunNotFailed(uint256 jobId, IJobManager.JobStatus status);

    /// @dev Run `jobId`'s job is not over (Open, Claimed or Submitted): its slashes are not final yet.
    error SubscriptionManagerRunNotFinal(uint256 jobId, IJobManager.JobStatus status);

    /// @dev Run `jobId`'s slashes were already collected.
    error SubscriptionManagerSlashesCollected(uint256 jobId);

    /// @dev Run `jobId` has no failed relay to retry.
    error SubscriptionManagerNoFailedRelay(uint256 jobId, RunState state);

    /// @dev The terms and output given are not job `jobId`'s final result ({IJobManager-isFinalOutput}).
    error SubscriptionManagerNotFinalOutput(uint256 jobId);

    /// @dev An amount of zero.
    error SubscriptionManagerZeroAmount();

    /// @notice Consumer contract (the caller): creates a subscription and pulls `deposit` tokens
    /// (approved beforehand) into its balance. Each run costs `feePerRun + keeperReward`; a deposit of
    /// `runs` times that pays for the whole schedule at once. Run 0 is due at once.
    /// @param modelId The model every run requests (not deprecated).
    /// @param period Seconds between runs (at least 1).
    /// @param runs Runs in the schedule (at least 1).
    /// @param feePerRun The fee of each run's job: at least {minimumFeePerRun}.
    /// @param keeperReward Paid to whoever triggers each run.
    /// @param callbackGasLimit Gas of the result callback (more than zero; with the relay's overhead
    /// within the escrow's `maxCallbackGasLimit`).
    /// @param deposit Tokens pulled from the caller now (zero allowed: fund later).
    /// @return subscriptionId The new subscription.
    function createSubscription(
        uint256 modelId,
        uint32 period,
        uint32 runs,
        uint96 feePerRun,
        uint96 keeperReward,
        uint32 callbackGasLimit,
        uint256 deposit
    ) external returns (uint256 subscriptionId);

    /// @notice Anyone: adds `amount` tokens (approved beforehand) to a subscription's balance.
    function fund(uint256 subscriptionId, uint256 amount) external;

    /// @notice Anyone (keepers, workers): triggers the run due now. Reads its input from the consumer
    /// (a static call with at most {INPUT_GAS_LIMIT} gas), requests the job with this manager as
    /// requester and consumer, pays its fee from the balance, and credits the caller the keeper reward.
    /// @return jobId The run's job.
    function trigger(uint256 subscriptionId) external returns (uint256 jobId);

    /// @notice The subscription's consumer: delivers a final result again whose relay failed, with
    /// all the gas the caller gives (a revert reverts the retry). `terms` and `output` are the job's,
    /// from its `JobRequested` and `ResultSubmitted` events, checked by {IJobManager-isFinalOutput}.
    function retryRelay(uint256 jobId, IJobManager.JobTerms calldata terms, bytes calldata output) external;

    /// @notice Anyone: a run whose job was refunded (expired, no worker) or rejected (its result
    /// proven wrong) gets its fee back into the subscription's balance.
    function settleRun(uint256 jobId) external;

    /// @notice Anyone, once a run's job is over (Finalized, Refunded or Rejected): adds what the
    /// timeouts of its workers paid ({IJobManager-timeoutSlashes}, credited by the escrow to this
    /// contract) to the subscription's balance, once. {settleRun} does it too.
    function collectSlashes(uint256 jobId) external;

    /// @notice The consumer: stops future runs. Runs in flight still deliver or settle.
    function cancelSubscription(uint256 subscriptionId) external;

    /// @notice The consumer: takes `amount` of the subscription's unused balance back, at any time.
    function withdrawFunds(uint256 subscriptionId, uint256 amount) external;

    /// @notice The consumer: sets the fee of later runs' jobs (at least {minimumFeePerRun}).
    function setFeePerRun(uint256 subscriptionId, uint96 feePerRun) external;

    /// @notice The consumer: sets the reward of later triggers.
    function setKeeperReward(uint256 subscriptionId, uint96 keeperReward) external;

    /// @notice The subscription as stored.
    function getSubscription(uint256 subscriptionId) external view returns (Subscription memory);

    /// @notice The run a job serves (state None for a job that is no run).
    function getRun(uint256 jobId) external view returns (Run memory);

    /// @notice The next run that can still be triggered and when its interval starts (in the past when
    /// it is due now); `run` is the subscription's `runs` and `dueAt` 0 when none can (finished or cancelled).
    function nextDue(uint256 subscriptionId) external view returns (uint256 run, uint256 dueAt);

    /// @notice Whether {trigger} passes its schedule and balance checks now (the consumer's input
    /// and the fee are checked by the trigger itself).
    function isDue(uint256 subscriptionId) external view returns (bool);

    /// @notice The callback gas a run's job asks for, given the consumer's callback gas limit and the
    /// model's output size: the limit, its 1/63 margin (EIP-150), the relay's own overhead
    /// ({RELAY_OVERHEAD}) and the memory of the output it passes on (a few gas per 32 bytes).
    function relayGas(uint256 callbackGasLimit, uint256 outputElements) external pure returns (uint256);

    /// @notice The least fee per run for a subscription to `modelId` with `callbackGasLimit`, under
    /// the model's price and the escrow's parameters now.
    function minimumFeePerRun(uint256 modelId, uint256 callbackGasLimit) external view returns (uint256);

    /// @notice Subscriptions created so far (the highest id).
    function subscriptionCount() external view returns (uint256);

    /// @notice The job escrow runs are requested from.
    function jobManager() external view returns (IJobManager);

    /// @notice The token fees and rewards are paid in (the escrow's).
    function token() external view returns (IERC20);

    /// @notice The model registry (the escrow's).
    function registry() external view returns (IModelRegistry);

    /// @notice The block the manager was deployed in: where clients start reading its events.
    function deploymentBlock() external view returns (uint256);

    /// @notice Gas the consumer's {ISubscriptionConsumer-subscriptionInput} gets at most.
    function INPUT_GAS_LIMIT() external view returns (uint256);

    /// @notice Gas a run's job asks for beyond the consumer's callback gas, its 1/63 margin and the
    /// output's memory: the relay's own work.
    function RELAY_OVERHEAD() external view returns (uint256);
}
