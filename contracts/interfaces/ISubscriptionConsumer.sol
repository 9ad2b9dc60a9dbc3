// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/**
 * @title ISubscriptionConsumer
 * @notice Implemented by contracts that pay once for a schedule of inferences: the subscription
 * manager reads each run's input from them when the run is triggered, and hands them each run's
 * final output.
 * @dev Both calls come from the subscription manager. {subscriptionInput} runs in a static call
 * with a fixed gas cap; a revert, or an answer of the wrong size, only makes that trigger fail (the
 * run is skipped if nobody triggers it before its interval ends). {onSubscriptionResult} runs with
 * the subscription's callback gas limit; a revert is recorded as a failed relay, which the consumer
 * may retry, and never blocks the job's settlement or any other subscription.
 */
interface ISubscriptionConsumer {
    /// @notice The input of run `run` of subscription `subscriptionId`: the canonical bytes of the
    /// model's input tensor (4 bytes per element, int32 little-endian), read when the run is triggered.
    /// @param subscriptionId The subscription.
    /// @param run The run being triggered (0-based).
    /// @return input Exactly the model's input size in bytes.
    function subscriptionInput(uint256 subscriptionId, uint256 run) external view returns (bytes memory input);

    /// @notice The final output of run `run` of subscription `subscriptionId`, served by job `jobId`.
    /// @param subscriptionId The subscription.
    /// @param run The run (0-based).
    /// @param jobId The job that served it (its events hold its terms, input and output).
    /// @param output Canonical bytes of the output tensor (int32 little-endian elements).
    function onSubscriptionResult(uint256 subscriptionId, uint256 run, uint256 jobId, bytes calldata output) external;
}
