// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

import {IJobManager} from "../interfaces/IJobManager.sol";
import {IModelRegistry} from "../interfaces/IModelRegistry.sol";
import {ISubscriptionManager} from "../interfaces/ISubscriptionManager.sol";
import {SubscriptionConsumer} from "../subscriptions/SubscriptionConsumer.sol";

/**
 * @title SignalFeed
 * @notice Example subscriber: a feed whose owner keeps the latest features (the model's input, say
 * a market's latest figures), subscribed to run a model on them every `period` seconds. Each result
 * becomes the feed's signal: the index of the model's largest output (a class, a decision) and that
 * output as a real number, dequantized with the registry's output scale.
 * @dev Worth copying: only the owner spends the feed's balance (subscribes, funds, cancels, retries,
 * takes tokens out); the input comes from state only the owner sets, never from anything a keeper
 * could move in the transaction that triggers a run; a run without features is refused (its interval
 * passes, it is skipped, and its funds stay in the subscription); a result older than the feed's
 * signal never overwrites it. A model's shapes and scales never change, so they are read once.
 */
contract SignalFeed is SubscriptionConsumer, Ownable {
    using SafeERC20 for IERC20;

    /// @notice Gas each result's callback gets: {_onSubscriptionResult} needs about 35,000 on a
    /// ten-score model (the base's check, ten scores read, one slot, an event), with room to spare.
    uint32 public constant CALLBACK_GAS = 60_000;

    /// @notice The model every run asks.
    uint256 public immutable modelId;
    /// @notice Bytes of the model's input (4 per element).
    uint256 public immutable inputBytes;
    /// @notice Elements of the model's output.
    uint256 public immutable outputElements;
    /// @notice Real value of one unit of the model's output, 18-decimal fixed point (the registry's).
    uint128 public immutable outputScaleWad;

    /// @notice The feed's latest signal, in one slot.
    /// @param subscriptionId The subscription whose run produced it (0: no signal yet).
    /// @param run That run (0-based).
    /// @param index The output element with the largest value (the first in a tie).
    /// @param valueWad That value as a real number, 18-decimal fixed point: the canonical integer
    /// times `outputScaleWad`, exact (|int32| × uint128 < 2^159).
    struct Signal {
        uint40 subscriptionId;
        uint32 run;
        uint24 index;
        int160 valueWad;
    }

    /// @notice The latest signal.
    Signal public latest;
    /// @notice The subscription the owner made last.
    uint256 public subscriptionId;
    /// @notice When the owner last set the features (0: none set).
    uint256 public featuresUpdatedAt;

    bytes private _features;

    /// @notice The owner set new features: runs triggered from now on read them.
    /// @param featuresHash keccak256 of the features.
    event FeaturesSet(bytes32 featuresHash);
    /// @notice The owner cleared the features: runs are refused until new ones are set.
    event FeaturesCleared();
    /// @notice The owner subscribed: `runs` runs every `period` seconds, `deposit` paid at once.
    event Subscribed(uint256 indexed subscriptionId, uint256 period, uint256 runs, uint256 deposit);
    /// @notice A run's result arrived.
    /// @param index The output element with the largest value.
    /// @param valueWad That value as a real number, 18-decimal fixed point.
    /// @param newest Whether it became the latest signal (a result of an older run does not).
    event SignalUpdated(uint256 indexed subscriptionId, uint256 indexed run, uint256 indexed jobId, uint256 index, int256 valueWad, bool newest);

    /// @dev No features are set: the run is refused.
    error SignalFeedNoFeatures();
    /// @dev Features of the wrong size for the model's input.
    error SignalFeedBadFeatures(uint256 length, uint256 expected);
    /// @dev The model's output has more elements than a signal's index holds (2^24).
    error SignalFeedOutputTooLarge(uint256 elements);
    /// @dev An output of the wrong size for the model's output.
    error SignalFeedBadOutput(uint256 length, uint256 expected);

    /// @param subscriptionManager_ The subscription manager (its registry holds the model's shapes and scale).
    /// @param modelId_ The model to run.
    /// @param owner_ Who sets features, subscribes, funds, cancels, retries and takes tokens out.
    constructor(ISubscriptionManager subscriptionManager_, uint256 modelId_, address owner_) SubscriptionConsumer(subscriptionManager_) Ownable(owner_) {
        IModelRegistry registry = subscriptionManager_.registry();
        (, , uint64 inputElements, uint64 outputElements_) = registry.pricing(modelId_);
        if (outputElements_ >= 1 << 24) revert SignalFeedOutputTooLarge(outputElements_);
        modelId = modelId_;
        inputBytes = uint256(inputElements) * 4;
        outputElements = outputElements_;
        (, outputScaleWad) = registry.scales(modelId_);
    }

    /// @notice Owner: sets the features the next runs read (the model's canonical input bytes).
    function setFeatures(bytes calldata features) external onlyOwner {
        if (features.length != inputBytes) revert SignalFeedBadFeatures(features.length, inputBytes);
        _features = features;
        featuresUpdatedAt = block.timestamp;
        emit FeaturesSet(keccak256(features));
    }

    /// @notice Owner: clears the features; runs are refused (and skipped) until new ones are set.
    function clearFeatures() external onlyOwner {
        delete _features;
        featuresUpdatedAt = 0;
        emit FeaturesCleared();
    }

    /// @notice Owner: subscribes to `runs` runs every `period` seconds and pays for all of them at
    /// once from this contract's balance: `runs × (feePerRun + keeperReward)`. The fee per run must be
    /// at least `subscriptionManager.minimumFeePerRun(modelId, CALLBACK_GAS)`; what it leaves above
    /// that pays the worker.
    function subscribe(uint32 period, uint32 runs, uint96 feePerRun, uint96 keeperReward) external onlyOwner returns (uint256 id) {
        uint256 deposit = uint256(runs) * (uint256(feePerRun) + keeperReward);
        id = _createSubscription(modelId, period, runs, feePerRun, keeperReward, CALLBACK_GAS, deposit);
        subscriptionId = id;
        emit Subscribed(id, period, runs, deposit);
    }

    /// @notice Owner: adds `amount` of this contract's tokens to subscription `id`.
    function fund(uint256 id, uint256 amount) external onlyOwner {
        _fundSubscription(id, amount);
    }

    /// @notice Owner: raises (or lowers) the fee of later runs, after a price or fee change.
    function setFeePerRun(uint256 id, uint96 feePerRun) external onlyOwner {
        _setFeePerRun(id, feePerRun);
    }

    /// @notice Owner: stops subscription `id`'s future runs.
    function cancel(uint256 id) external onlyOwner {
        _cancelSubscription(id);
    }

    /// @notice Owner: takes subscription `id`'s whole unused balance back and sends it to `to`.
    /// @return amount The tokens sent (zero when nothing was left).
    function withdrawUnused(uint256 id, address to) external onlyOwner returns (uint256 amount) {
        amount = subscriptionManager.getSubscription(id).balance;
        if (amount == 0) return 0;
        _withdrawSubscriptionFunds(id, amount);
        feeToken.safeTransfer(to, amount);
    }

    /// @notice Owner: has the manager deliver a result again whose relay failed.
    /// @param terms The job's terms, from {IJobManager-JobRequested}.
    /// @param output The job's output bytes, from {IJobManager-ResultSubmitted}.
    function retry(uint256 jobId, IJobManager.JobTerms calldata terms, bytes calldata output) external onlyOwner {
        _retryRelay(jobId, terms, output);
    }

    /// @notice Owner: sends `amount` of this contract's tokens to `to`.
    function withdrawTokens(address to, uint256 amount) external onlyOwner {
        feeToken.safeTransfer(to, amount);
    }

    function _subscriptionInput(uint256, uint256) internal view override returns (bytes memory) {
        if (featuresUpdatedAt == 0) revert SignalFeedNoFeatures();
        return _features;
    }

    function _onSubscriptionResult(uint256 id, uint256 run, uint256 jobId, bytes calldata output) internal override {
        uint256 n = outputElements;
        if (output.length != n * 4) revert SignalFeedBadOutput(output.length, n * 4);
        uint256 best;
        int32 bestValue = type(int32).min;
        for (uint256 i = 0; i < n; ++i) {
            int32 v = _int32At(output, i);
            if (v > bestValue) (best, bestValue) = (i, v);
        }
        int160 valueWad = int160(bestValue) * int160(uint160(outputScaleWad));
        Signal memory last = latest;
        // Results may arrive out of order (each run's job has its own challenge window).
        bool newest = id > last.subscriptionId || (id == last.subscriptionId && run >= last.run);
        // The ids fit: a subscription id below 2^40, a run below 2^32, an index below 2^24 (constructor).
        if (newest) latest = Signal(uint40(id), uint32(run), uint24(best), valueWad);
        emit SignalUpdated(id, run, jobId, best, valueWad, newest);
    }

    /// @dev Reads the `index`-th little-endian int32 of `data`.
    function _int32At(bytes calldata data, uint256 index) private pure returns (int32) {
        uint256 o = index * 4;
        uint32 v = uint32(uint8(data[o])) |
            (uint32(uint8(data[o + 1])) << 8) |
            (uint32(uint8(data[o + 2])) << 16) |
            (uint32(uint8(data[o + 3])) << 24);
        return int32(v);
    }
}
