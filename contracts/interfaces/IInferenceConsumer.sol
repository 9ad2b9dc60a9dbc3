// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/**
 * @title IInferenceConsumer
 * @notice Implemented by contracts that receive final inference results.
 * @dev Called by the job escrow when a job is finalized, with the gas limit the consumer chose at
 * request time. A revert is recorded as {IJobManager-CallbackFailed} and never blocks payment.
 */
interface IInferenceConsumer {
    /// @param jobId The job whose result is final.
    /// @param output Canonical bytes of the output tensor (int32 little-endian elements).
    function onInferenceResult(uint256 jobId, bytes calldata output) external;
}
