// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

import {IJobManager} from "../interfaces/IJobManager.sol";
import {ISubscriptionConsumer} from "../interfaces/ISubscriptionConsumer.sol";
import {ISubscriptionManager} from "../interfaces/ISubscriptionManager.sol";

/**
 * @title SubscriptionConsumer
 * @notice Base for integrator contracts that subscribe to a model: create a schedule paid from this
 * contract's token balance, give each run's input in {_subscriptionInput}, receive each result in
 * {_onSubscriptionResult}, and take unused funds back.
 * @dev The counterpart of `InferenceConsumer` for schedules: the base owns the plumbing, the
 * integrator implements the hooks and decides who may call the internal functions (whoever can
 * spends this contract's balance). Only results of subscriptions this contract created reach
 * {_onSubscriptionResult}, and only from the manager.
 */
abstract contract SubscriptionConsumer is ISubscriptionConsumer {
    using SafeERC20 for IERC20;

    /// @notice The subscription manager this consumer subscribes through.
    ISubscriptionManager public immutable subscriptionManager;
    /// @notice The protocol token that pays fees (the manager's, read at construction).
    IERC20 public immutable feeToken;

    /// @notice Subscriptions this contract created.
    mapping(uint256 subscriptionId => bool) public ownSubscription;

    /// @dev A call that only the subscription manager may make came from `caller`.
    error SubscriptionConsumerOnlyManager(address caller);

    /// @dev Subscription `subscriptionId` is not one this contract created.
    error SubscriptionConsumerUnknownSubscription(uint256 subscriptionId);

    /// @param subscriptionManager_ The subscription manager; the fee token is its own.
    constructor(ISubscriptionManager subscriptionManager_) {
        subscriptionManager = subscriptionManager_;
        feeToken = subscriptionManager_.token();
    }

    /// @inheritdoc ISubscriptionConsumer
    /// @dev Anyone may read it (a keeper may look before it triggers); the input is public once the
    /// run's job is requested anyway.
    function subscriptionInput(uint256 subscriptionId, uint256 run) external view returns (bytes memory) {
        if (!ownSubscription[subscriptionId]) revert SubscriptionConsumerUnknownSubscription(subscriptionId);
        return _subscriptionInput(subscriptionId, run);
    }

    /// @inheritdoc ISubscriptionConsumer
    function onSubscriptionResult(uint256 subscriptionId, uint256 run, uint256 jobId, bytes calldata output) external {
        if (msg.sender != address(subscriptionManager)) revert SubscriptionConsumerOnlyManager(msg.sender);
        if (!ownSubscription[subscriptionId]) revert SubscriptionConsumerUnknownSubscription(subscriptionId);
        _onSubscriptionResult(subscriptionId, run, jobId, output);
    }

    /// @dev Creates a subscription paid from this contract's balance: `deposit` tokens are approved
    /// and pulled now (`runs × (feePerRun + keeperReward)` pays for every run at once). The fee per
    /// run must be at least {ISubscriptionManager-minimumFeePerRun}.
    function _createSubscription(
        uint256 modelId,
        uint32 period,
        uint32 runs,
        uint96 feePerRun,
        uint96 keeperReward,
        uint32 callbackGasLimit,
        uint256 deposit
    ) internal returns (uint256 subscriptionId) {
        feeToken.forceApprove(address(subscriptionManager), deposit);
        subscriptionId = subscriptionManager.createSubscription(modelId, period, runs, feePerRun, keeperReward, callbackGasLimit, deposit);
        ownSubscription[subscriptionId] = true;
    }

    /// @dev Adds `amount` of this contract's tokens to a subscription's balance.
    function _fundSubscription(uint256 subscriptionId, uint256 amount) internal {
        feeToken.forceApprove(address(subscriptionManager), amount);
        subscriptionManager.fund(subscriptionId, amount);
    }

    /// @dev Stops a subscription's future runs (runs in flight still deliver or settle).
    function _cancelSubscription(uint256 subscriptionId) internal {
        subscriptionManager.cancelSubscription(subscriptionId);
    }

    /// @dev Takes `amount` of a subscription's unused balance back into this contract.
    function _withdrawSubscriptionFunds(uint256 subscriptionId, uint256 amount) internal {
        subscriptionManager.withdrawFunds(subscriptionId, amount);
    }

    /// @dev Sets the fee of a subscription's later runs (after a price or fee rise: the trigger then
    /// fails with `SubscriptionManagerFeeTooLow` naming the least fee).
    function _setFeePerRun(uint256 subscriptionId, uint96 feePerRun) internal {
        subscriptionManager.setFeePerRun(subscriptionId, feePerRun);
    }

    /// @dev Has the manager deliver a result again whose relay failed, with the gas this call has.
    /// `terms` and `output` are the job's, from {IJobManager-JobRequested} and {IJobManager-ResultSubmitted}.
    function _retryRelay(uint256 jobId, IJobManager.JobTerms calldata terms, bytes calldata output) internal {
        subscriptionManager.retryRelay(jobId, terms, output);
    }

    /// @dev The input of run `run`: exactly the model's input size, canonical int32 little-endian
    /// bytes. Runs in a static call with at most the manager's `INPUT_GAS_LIMIT`. Revert to refuse a
    /// run (no fresh data, say): nothing is paid, and the run is skipped if its interval passes.
    function _subscriptionInput(uint256 subscriptionId, uint256 run) internal view virtual returns (bytes memory);

    /// @dev Receives the final output of run `run` (canonical int32 little-endian bytes), served by
    /// job `jobId`. Runs with the subscription's callback gas limit; a revert is recorded as a failed
    /// relay, which {_retryRelay} can deliver again.
    function _onSubscriptionResult(uint256 subscriptionId, uint256 run, uint256 jobId, bytes calldata output) internal virtual;
}
