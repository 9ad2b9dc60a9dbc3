// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {TestConsumer} from "./TestConsumer.sol";

/**
 * @title RevertingConsumer
 * @notice Test-only consumer whose callback always reverts: with a custom error, or (when built
 * with `longReason`) with a revert string longer than the escrow keeps in {CallbackFailed}.
 */
contract RevertingConsumer is TestConsumer {
    bool public immutable longReason;

    error ConsumerRejected(uint256 jobId, uint256 outputLength);

    constructor(bool longReason_) {
        longReason = longReason_;
    }

    function onInferenceResult(uint256 jobId, bytes calldata output) external view {
        if (longReason) revert(string(new bytes(400)));
        revert ConsumerRejected(jobId, output.length);
    }
}
