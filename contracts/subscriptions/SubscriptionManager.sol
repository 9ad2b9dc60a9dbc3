// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {IJobManager} from "../interfaces/IJobManager.sol";
import {IModelRegistry} from "../interfaces/IModelRegistry.sol";
import {ISubscriptionConsumer} from "../interfaces/ISubscriptionConsumer.sol";
import {ISubscriptionManager} from "../interfaces/ISubscriptionManager.sol";
import {PullPayments} from "../payments/PullPayments.sol";

/**
 * @title SubscriptionManager
 * @notice Recurring inference: a consumer contract pays once for "run model M every N seconds, K
 * times", keepers trigger each due run, and each result is relayed to the consumer by callback.
 * @dev The shape of Ritual Infernet's subscriptions (a period and a run count, the input read from
 * the consumer when a run is due) served by Chainlink Automation-style keepers (anyone may trigger a
 * due run and is paid a reward). Each run is an ordinary job of the escrow with this contract as its
 * requester and consumer: the escrow's rule that callbacks go only to the contract that asked holds,
 * refunds come back here, and the relay names the subscription and the run.
 *
 * No owner. Tokens held here are the subscriptions' balances and the keepers' pull balances; a run's
 * fee leaves for the escrow when the run is triggered and comes back only through {settleRun} (a
 * refunded or rejected job). Invariant: this contract's token balance is at least the sum of all
 * subscription balances plus all keeper balances (a refund is withdrawn from the escrow by the
 * {settleRun} that credits it). A timeout slash that the escrow credits to the requester of a
 * reopened job lands here too, and reaches its subscription through {collectSlashes}, which reads
 * what the job's timeouts slashed from the escrow once the job is over.
 *
 * No consumer can block anything but its own subscription: its input is read in a static call with
 * a gas cap and a size check before any copy; its result callback runs with its own gas limit, its
 * revert data copied to at most 256 bytes, and a failure is recorded, never propagated; every state
 * change is made before the call.
 */
contract SubscriptionManager is ISubscriptionManager, PullPayments {
    using SafeERC20 for IERC20;
    using SafeCast for uint256;

    /// @inheritdoc ISubscriptionManager
    uint256 public constant INPUT_GAS_LIMIT = 500_000;
    /// @inheritdoc ISubscriptionManager
    uint256 public constant RELAY_OVERHEAD = 30_000;
    /// @dev Gas the relay keeps back for its work after the consumer's call (a state write and an
    /// event with up to 256 bytes of reason); part of {RELAY_OVERHEAD}.
    uint256 private constant RELAY_RESERVE = 12_000;
    /// @dev Bytes of a consumer's revert data that are kept.
    uint256 private constant MAX_REASON_BYTES = 256;

    /// @inheritdoc ISubscriptionManager
    IJobManager public immutable jobManager;
    /// @inheritdoc ISubscriptionManager
    IERC20 public immutable token;
    /// @inheritdoc ISubscriptionManager
    IModelRegistry public immutable registry;
    /// @inheritdoc ISubscriptionManager
    uint256 public immutable deploymentBlock;

    uint64 private _count;
    mapping(uint256 subscriptionId => Subscription) private _subscriptions;
    mapping(uint256 jobId => Run) private _runs;

    /// @param jobManager_ The job escrow; the token and the registry are its own.
    constructor(IJobManager jobManager_) {
        jobManager = jobManager_;
        token = jobManager_.token();
        registry = jobManager_.registry();
        deploymentBlock = block.number;
        // The escrow pulls each run's fee, and only the fee each request names.
        token.forceApprove(address(jobManager_), type(uint256).max);
    }

    // ---------------------------------------------------------------- consumer

    /// @inheritdoc ISubscriptionManager
    function createSubscription(
        uint256 modelId,
        uint32 period,
        uint32 runs,
        uint96 feePerRun,
        uint96 keeperReward,
        uint32 callbackGasLimit,
        uint256 deposit
    ) external nonReentrant returns (uint256 subscriptionId) {
        // The consumer is the caller, so a subscription's calls go only to a contract that asked for them.
        if (msg.sender.code.length == 0) revert SubscriptionManagerConsumerHasNoCode(msg.sender);
        if (period == 0 || runs == 0) revert SubscriptionManagerInvalidSchedule(period, runs);
        _checkRunTerms(modelId, feePerRun, callbackGasLimit);

        subscriptionId = ++_count;
        Subscription storage s = _subscriptions[subscriptionId];
        s.consumer = msg.sender;
        s.modelId = modelId.toUint40();
        s.period = period;
        // Within the escrow's maxCallbackGasLimit, a uint24 (_checkRunTerms).
        s.callbackGasLimit = uint24(callbackGasLimit);
        s.start = uint40(block.timestamp);
        s.runs = runs;
        s.balance = deposit.toUint96();
        s.feePerRun = feePerRun;
        s.keeperReward = keeperReward;
        _emitCreated(subscriptionId, s);
        if (deposit != 0) {
            emit SubscriptionFunded(subscriptionId, msg.sender, deposit, deposit);
            token.safeTransferFrom(msg.sender, address(this), deposit);
        }
    }

    /// @inheritdoc ISubscriptionManager
    function fund(uint256 subscriptionId, uint256 amount) external nonReentrant {
        Subscription storage s = _existing(subscriptionId);
        if (amount == 0) revert SubscriptionManagerZeroAmount();
        // Every amount is below the token's supply cap of 2^96; the cast checks it all the same.
        uint256 balance = uint256(s.balance) + amount;
        s.balance = balance.toUint96();
        emit SubscriptionFunded(subscriptionId, msg.sender, amount, balance);
        token.safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @inheritdoc ISubscriptionManager
    function cancelSubscription(uint256 subscriptionId) external nonReentrant {
        Subscription storage s = _ownSubscription(subscriptionId);
        if (s.cancelled) revert SubscriptionManagerCancelled(subscriptionId);
        s.cancelled = true;
        uint256 from = _currentRun(s);
        if (from < s.nextRun) from = s.nextRun;
        emit SubscriptionCancelled(subscriptionId, from < s.runs ? s.runs - from : 0);
    }

    /// @inheritdoc ISubscriptionManager
    function withdrawFunds(uint256 subscriptionId, uint256 amount) external nonReentrant {
        Subscription storage s = _ownSubscription(subscriptionId);
        if (amount == 0) revert SubscriptionManagerZeroAmount();
        uint256 balance = s.balance;
        if (amount > balance) revert SubscriptionManagerInsufficientBalance(subscriptionId, balance, amount);
        s.balance = uint96(balance - amount);
        emit FundsWithdrawn(subscriptionId, msg.sender, amount, balance - amount);
        token.safeTransfer(msg.sender, amount);
    }

    /// @inheritdoc ISubscriptionManager
    function setFeePerRun(uint256 subscriptionId, uint96 feePerRun) external nonReentrant {
        Subscription storage s = _ownSubscription(subscriptionId);
        uint256 minimum = _minimumFeePerRun(s.modelId, s.callbackGasLimit);
        if (feePerRun < minimum) revert SubscriptionManagerFeeTooLow(subscriptionId, feePerRun, minimum);
        s.feePerRun = feePerRun;
        emit FeePerRunSet(subscriptionId, feePerRun);
    }

    /// @inheritdoc ISubscriptionManager
    function setKeeperReward(uint256 subscriptionId, uint96 keeperReward) external nonReentrant {
        Subscription storage s = _ownSubscription(subscriptionId);
        s.keeperReward = keeperReward;
        emit KeeperRewardSet(subscriptionId, keeperReward);
    }

    /// @inheritdoc ISubscriptionManager
    function retryRelay(uint256 jobId, IJobManager.JobTerms calldata terms, bytes calldata output) external nonReentrant {
        Run memory r = _runs[jobId];
        // Requested too: a finalized job whose relay never recorded anything (its frame ran out of gas).
        if (r.state != RunState.RelayFailed && r.state != RunState.Requested) revert SubscriptionManagerNoFailedRelay(jobId, r.state);
        address consumer = _subscriptions[r.subscriptionId].consumer;
        if (msg.sender != consumer) revert SubscriptionManagerNotConsumer(r.subscriptionId, msg.sender);
        if (!jobManager.isFinalOutput(jobId, terms, output)) revert SubscriptionManagerNotFinalOutput(jobId);
        _runs[jobId].state = RunState.Delivered;
        emit ResultRelayed(r.subscriptionId, r.run, jobId);
        // The consumer asked and pays: a revert reverts the retry, and the relay stays failed.
        ISubscriptionConsumer(consumer).onSubscriptionResult(r.subscriptionId, r.run, jobId, output);
    }

    // ---------------------------------------------------------------- keepers

    /// @inheritdoc ISubscriptionManager
    function trigger(uint256 subscriptionId) external nonReentrant returns (uint256 jobId) {
        Subscription storage s = _existing(subscriptionId);
        Subscription memory m = s;
        if (m.cancelled) revert SubscriptionManagerCancelled(subscriptionId);
        uint256 run = _currentRun(m);
        if (run >= m.runs || m.nextRun >= m.runs) revert SubscriptionManagerFinished(subscriptionId, m.runs);
        // At most one run per interval, and never one of an interval already past (skipped).
        if (run < m.nextRun) revert SubscriptionManagerNotDue(subscriptionId, m.nextRun, uint256(m.start) + uint256(m.nextRun) * m.period);
        uint256 cost = uint256(m.feePerRun) + m.keeperReward;
        if (m.balance < cost) revert SubscriptionManagerInsufficientBalance(subscriptionId, m.balance, cost);

        s.nextRun = uint32(run + 1);
        s.triggered = m.triggered + 1;
        s.balance = uint96(m.balance - cost);
        _addBalance(msg.sender, m.keeperReward);

        (, , uint64 inputElements, uint64 outputElements) = registry.pricing(m.modelId);
        bytes memory input = _readInput(m.consumer, subscriptionId, run, uint256(inputElements) * 4);
        jobId = _request(subscriptionId, m, input, relayGas(m.callbackGasLimit, outputElements));
        // The job id is new (the escrow's counter), so no run is ever overwritten.
        _runs[jobId] = Run(uint64(subscriptionId), uint32(run), RunState.Requested, m.feePerRun, false);
        emit RunTriggered(subscriptionId, run, jobId, msg.sender, m.feePerRun, m.keeperReward, run - m.nextRun);
    }

    /// @inheritdoc ISubscriptionManager
    function settleRun(uint256 jobId) external nonReentrant {
        Run memory r = _runs[jobId];
        if (r.state == RunState.None) revert SubscriptionManagerUnknownRun(jobId);
        if (r.state != RunState.Requested) revert SubscriptionManagerRunNotPending(jobId, r.state);
        IJobManager.JobStatus status = jobManager.getJob(jobId).status;
        if (status != IJobManager.JobStatus.Refunded && status != IJobManager.JobStatus.Rejected) {
            revert SubscriptionManagerRunNotFailed(jobId, status);
        }
        _runs[jobId].state = RunState.Settled;
        Subscription storage s = _subscriptions[r.subscriptionId];
        // Below the token's supply cap of 2^96, as every balance.
        s.balance += r.fee;
        emit RunSettled(r.subscriptionId, r.run, jobId, status, r.fee);
        if (!r.slashesCollected) _collectSlashes(jobId, r, s);
        // The escrow credited the refund to this contract's pull balance: take it now, with anything
        // else there (other runs' refunds, slashes), so that the token balance covers every balance.
        if (jobManager.balanceOf(address(this)) != 0) jobManager.withdraw();
    }

    /// @inheritdoc ISubscriptionManager
    function collectSlashes(uint256 jobId) external nonReentrant {
        Run memory r = _runs[jobId];
        if (r.state == RunState.None) revert SubscriptionManagerUnknownRun(jobId);
        if (r.slashesCollected) revert SubscriptionManagerSlashesCollected(jobId);
        IJobManager.JobStatus status = jobManager.getJob(jobId).status;
        if (status != IJobManager.JobStatus.Finalized && status != IJobManager.JobStatus.Refunded && status != IJobManager.JobStatus.Rejected) {
            revert SubscriptionManagerRunNotFinal(jobId, status);
        }
        _collectSlashes(jobId, r, _subscriptions[r.subscriptionId]);
        if (jobManager.balanceOf(address(this)) != 0) jobManager.withdraw();
    }

    /// @dev Adds what the timeouts of run `r`'s workers paid to its subscription, once (the job is
    /// over: no worker of it can time out again).
    function _collectSlashes(uint256 jobId, Run memory r, Subscription storage s) private {
        _runs[jobId].slashesCollected = true;
        uint256 amount = jobManager.timeoutSlashes(jobId);
        // Below the token's supply cap of 2^96, as every balance.
        if (amount != 0) s.balance += uint96(amount);
        emit SlashesCollected(r.subscriptionId, r.run, jobId, amount);
    }

    // ---------------------------------------------------------------- escrow

    /// @notice The escrow: relays a run's final output to its subscription's consumer with the
    /// subscription's callback gas limit. Never reverts for the escrow: a consumer's revert or
    /// exhausted gas is recorded ({RelayFailed}) for a {retryRelay}.
    /// @dev Not `nonReentrant`: the escrow calls it inside its own guard, and a guard here would let
    /// a consumer retrying its own relay (which holds this contract's guard) make the relays of
    /// other subscriptions' jobs it finalizes meanwhile fail. The run is marked delivered before the call.
    function onInferenceResult(uint256 jobId, bytes calldata output) external {
        if (msg.sender != address(jobManager)) revert SubscriptionManagerOnlyJobManager(msg.sender);
        Run memory r = _runs[jobId];
        // Only this contract's runs have it as consumer, and each is finalized once.
        if (r.state != RunState.Requested) return;
        Subscription storage s = _subscriptions[r.subscriptionId];
        address consumer = s.consumer;
        uint256 gasLimit = s.callbackGasLimit;
        _runs[jobId].state = RunState.Delivered;
        (bool success, bytes memory reason) = _relay(consumer, gasLimit, r, jobId, output);
        if (success) {
            emit ResultRelayed(r.subscriptionId, r.run, jobId);
        } else {
            _runs[jobId].state = RunState.RelayFailed;
            emit RelayFailed(r.subscriptionId, r.run, jobId, reason);
        }
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc ISubscriptionManager
    function getSubscription(uint256 subscriptionId) external view returns (Subscription memory) {
        return _existing(subscriptionId);
    }

    /// @inheritdoc ISubscriptionManager
    function getRun(uint256 jobId) external view returns (Run memory) {
        return _runs[jobId];
    }

    /// @inheritdoc ISubscriptionManager
    function nextDue(uint256 subscriptionId) external view returns (uint256 run, uint256 dueAt) {
        Subscription storage s = _existing(subscriptionId);
        run = _currentRun(s);
        if (run < s.nextRun) run = s.nextRun;
        if (s.cancelled || run >= s.runs) return (s.runs, 0);
        dueAt = uint256(s.start) + run * s.period;
    }

    /// @inheritdoc ISubscriptionManager
    function isDue(uint256 subscriptionId) external view returns (bool) {
        Subscription storage s = _existing(subscriptionId);
        uint256 run = _currentRun(s);
        return !s.cancelled && run < s.runs && run >= s.nextRun && s.balance >= uint256(s.feePerRun) + s.keeperReward;
    }

    /// @inheritdoc ISubscriptionManager
    function relayGas(uint256 callbackGasLimit, uint256 outputElements) public pure returns (uint256) {
        // The output, copied into the call to the consumer, costs 3 gas a word to copy and its
        // memory 3 a word plus the quadratic term; a word's worth of margin per word besides.
        uint256 words = (outputElements * 4 + 31) / 32;
        return callbackGasLimit + callbackGasLimit / 63 + RELAY_OVERHEAD + words * 7 + (words * words) / 512;
    }

    /// @inheritdoc ISubscriptionManager
    function minimumFeePerRun(uint256 modelId, uint256 callbackGasLimit) external view returns (uint256) {
        return _minimumFeePerRun(modelId, callbackGasLimit);
    }

    /// @inheritdoc ISubscriptionManager
    function subscriptionCount() external view returns (uint256) {
        return _count;
    }

    // ---------------------------------------------------------------- internals

    /// @inheritdoc PullPayments
    function _paymentToken() internal view override returns (IERC20) {
        return token;
    }

    function _existing(uint256 subscriptionId) private view returns (Subscription storage s) {
        s = _subscriptions[subscriptionId];
        if (s.consumer == address(0)) revert SubscriptionManagerUnknownSubscription(subscriptionId);
    }

    function _ownSubscription(uint256 subscriptionId) private view returns (Subscription storage s) {
        s = _existing(subscriptionId);
        if (msg.sender != s.consumer) revert SubscriptionManagerNotConsumer(subscriptionId, msg.sender);
    }

    /// @dev The run whose interval contains now (the schedule starts at creation, never later).
    function _currentRun(Subscription memory s) private view returns (uint256) {
        return (block.timestamp - s.start) / s.period;
    }

    /// @dev Checks what every run of a new subscription will ask of the escrow: a model that takes
    /// jobs, a callback gas limit whose job gas ({relayGas}) is within the escrow's maximum, and a
    /// fee per run that covers the least fee of such a job now.
    function _checkRunTerms(uint256 modelId, uint256 feePerRun, uint256 callbackGasLimit) private view {
        (uint96 price, bool deprecated, , uint64 outputElements) = registry.pricing(modelId);
        if (deprecated) revert SubscriptionManagerModelDeprecated(modelId);
        uint256 jobGas = relayGas(callbackGasLimit, outputElements);
        uint256 maxGas = jobManager.params().maxCallbackGasLimit;
        if (callbackGasLimit == 0 || jobGas > maxGas) revert SubscriptionManagerInvalidCallbackGas(callbackGasLimit, jobGas, maxGas);
        uint256 minimum = jobManager.minimumFeeWithCallback(price, jobGas);
        if (feePerRun < minimum) revert SubscriptionManagerFeeTooLow(0, feePerRun, minimum);
    }

    function _emitCreated(uint256 subscriptionId, Subscription storage s) private {
        emit SubscriptionCreated(subscriptionId, s.consumer, s.modelId, s.period, s.runs, s.start, s.feePerRun, s.keeperReward, s.callbackGasLimit);
    }

    function _minimumFeePerRun(uint256 modelId, uint256 callbackGasLimit) private view returns (uint256) {
        (uint96 price, , , uint64 outputElements) = registry.pricing(modelId);
        return jobManager.minimumFeeWithCallback(price, relayGas(callbackGasLimit, outputElements));
    }

    /// @dev Reads run `run`'s input from `consumer` in a static call of at most {INPUT_GAS_LIMIT}
    /// gas. The return data must be `abi.encode(bytes)` of exactly `inputBytes` bytes; its size is
    /// checked before anything is copied, so a consumer returning a huge blob costs the trigger nothing.
    function _readInput(address consumer, uint256 subscriptionId, uint256 run, uint256 inputBytes) private view returns (bytes memory input) {
        bytes memory data = abi.encodeCall(ISubscriptionConsumer.subscriptionInput, (subscriptionId, run));
        bool success;
        uint256 size;
        assembly ("memory-safe") {
            success := staticcall(INPUT_GAS_LIMIT, consumer, add(data, 32), mload(data), 0, 0)
            size := returndatasize()
        }
        if (!success) revert SubscriptionManagerInputFailed(subscriptionId, run, _boundedReturnData());
        // abi.encode(bytes): its offset (32), its length, its bytes padded to a whole word.
        uint256 expected = 64 + ((inputBytes + 31) / 32) * 32;
        if (size != expected) revert SubscriptionManagerBadInput(subscriptionId, run, inputBytes, size);
        uint256 offset;
        uint256 length;
        assembly ("memory-safe") {
            returndatacopy(0, 0, 32)
            offset := mload(0)
            // The length word and the padded bytes, laid out as a `bytes` in fresh memory.
            input := mload(0x40)
            returndatacopy(input, 32, sub(size, 32))
            length := mload(input)
            mstore(0x40, add(input, sub(size, 32)))
        }
        if (offset != 32 || length != inputBytes) revert SubscriptionManagerBadInput(subscriptionId, run, inputBytes, size);
    }

    /// @dev Requests run's job: inline input, this contract as requester and consumer, the deadline
    /// as late as the escrow allows (a worker has the most time; a job nobody serves is refunded
    /// after it). The escrow's fee error is restated with the subscription's numbers.
    function _request(uint256 subscriptionId, Subscription memory m, bytes memory input, uint256 jobGas) private returns (uint256 jobId) {
        IJobManager.RequestParams memory p = IJobManager.RequestParams({
            modelId: m.modelId,
            input: input,
            inputURI: "",
            inputCommitment: bytes32(0),
            fee: m.feePerRun,
            deadline: block.timestamp + jobManager.params().maxJobDuration,
            consumer: address(this),
            callbackGasLimit: uint32(jobGas)
        });
        try jobManager.requestInference(p) returns (uint256 id) {
            return id;
        } catch (bytes memory reason) {
            // JobManagerInsufficientFee(fee, minimum): the price, the protocol fee or the callback
            // fee rose since the subscription was made.
            if (reason.length == 68 && bytes4(reason) == IJobManager.JobManagerInsufficientFee.selector) {
                uint256 minimum;
                assembly ("memory-safe") {
                    minimum := mload(add(reason, 68))
                }
                revert SubscriptionManagerFeeTooLow(subscriptionId, m.feePerRun, minimum);
            }
            // The escrow's own errors (paused, deprecated model, callback gas above its maximum) as they are.
            assembly ("memory-safe") {
                revert(add(reason, 32), mload(reason))
            }
        }
    }

    /// @dev Calls the consumer's result callback with exactly `gasLimit` gas (or not at all, as a
    /// failure, if the escrow's call left too little: see {relayGas}); returns whether it succeeded
    /// and at most {MAX_REASON_BYTES} of its revert data.
    function _relay(address consumer, uint256 gasLimit, Run memory r, uint256 jobId, bytes calldata output) private returns (bool success, bytes memory reason) {
        bytes memory data = abi.encodeCall(ISubscriptionConsumer.onSubscriptionResult, (r.subscriptionId, r.run, jobId, output));
        reason = new bytes(MAX_REASON_BYTES);
        // EIP-150 forwards at most 63/64 of what is left: the consumer gets all of its limit or no call.
        if (gasleft() < gasLimit + gasLimit / 63 + RELAY_RESERVE) {
            assembly ("memory-safe") {
                mstore(reason, 0)
            }
            return (false, reason);
        }
        assembly ("memory-safe") {
            success := call(gasLimit, consumer, 0, add(data, 32), mload(data), 0, 0)
            let size := returndatasize()
            if gt(size, MAX_REASON_BYTES) {
                size := MAX_REASON_BYTES
            }
            returndatacopy(add(reason, 32), 0, size)
            mstore(reason, size)
        }
    }

    /// @dev The last call's return data, at most {MAX_REASON_BYTES} of it.
    function _boundedReturnData() private pure returns (bytes memory reason) {
        reason = new bytes(MAX_REASON_BYTES);
        assembly ("memory-safe") {
            let size := returndatasize()
            if gt(size, MAX_REASON_BYTES) {
                size := MAX_REASON_BYTES
            }
            returndatacopy(add(reason, 32), 0, size)
            mstore(reason, size)
        }
    }
}
