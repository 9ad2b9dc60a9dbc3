// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {TestConsumer} from "./TestConsumer.sol";
import {IJobManager} from "../interfaces/IJobManager.sol";

/// @notice Test-only consumer that burns every unit of gas it is given.
contract GasBurningConsumer is TestConsumer {
    uint256 public counter;

    function onInferenceResult(uint256, bytes calldata) external {
        while (true) ++counter;
    }
}

/// @notice Test-only consumer that answers with `size` bytes of return data (a "return bomb"),
/// reverting or succeeding as configured.
contract ReturnBombConsumer is TestConsumer {
    uint256 public immutable size;
    bool public immutable succeed;

    constructor(uint256 size_, bool succeed_) {
        size = size_;
        succeed = succeed_;
    }

    function onInferenceResult(uint256, bytes calldata) external view {
        uint256 n = size;
        if (succeed) {
            assembly ("memory-safe") {
                return(0, n)
            }
        }
        assembly ("memory-safe") {
            revert(0, n)
        }
    }
}

/// @notice Test-only consumer that records the gas it received and what it was given.
contract GasRecordingConsumer is TestConsumer {
    uint256 public gasAtEntry;
    uint256 public lastJobId;
    bytes32 public outputHash;

    function onInferenceResult(uint256 jobId, bytes calldata output) external {
        gasAtEntry = gasleft();
        lastJobId = jobId;
        outputHash = keccak256(output);
    }
}

/// @notice Test-only consumer that tries to re-enter the escrow from its callback.
contract ReentrantConsumer is TestConsumer {
    function onInferenceResult(uint256, bytes calldata) external {
        IJobManager(msg.sender).withdraw();
    }
}

/// @notice Reverts its callbacks until fixed, then records them; it retries a failed one itself.
contract FlakyConsumer is TestConsumer {
    bool public fixed_;
    uint256 public delivered;

    error FlakyConsumerBroken(uint256 jobId);

    function fix() external {
        fixed_ = true;
    }

    function onInferenceResult(uint256 jobId, bytes calldata) external {
        if (!fixed_) revert FlakyConsumerBroken(jobId);
        delivered = jobId;
    }

    function retry(IJobManager jobManager, uint256 jobId, IJobManager.JobTerms calldata terms, bytes calldata output, uint32 gasLimit) external {
        jobManager.retryCallback(jobId, terms, output, gasLimit);
    }
}
