// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

import {InferenceConsumer} from "../jobs/InferenceConsumer.sol";
import {IJobManager} from "../interfaces/IJobManager.sol";

/**
 * @title DigitOracle
 * @notice Example integrator: asks a handwritten-digit classifier which digit an image shows and
 * stores the answer (the index of the largest of the model's output scores).
 */
contract DigitOracle is InferenceConsumer {
    /// @notice The classifier's model id.
    uint256 public immutable modelId;

    /// @notice The digit found for each job (valid once `answered[jobId]`).
    mapping(uint256 jobId => uint8 digit) public digitOf;
    mapping(uint256 jobId => bool) public answered;

    event DigitRequested(uint256 indexed jobId, address indexed by);
    event DigitAnswered(uint256 indexed jobId, uint8 digit);

    /// @dev The output does not hold exactly ten int32 scores.
    error DigitOracleBadOutput(uint256 length);

    constructor(IJobManager jobManager_, IERC20 feeToken_, uint256 modelId_) InferenceConsumer(jobManager_, feeToken_) {
        modelId = modelId_;
    }

    /// @notice Asks for the digit in `image` (canonical input bytes), paying `fee` from this
    /// contract's token balance.
    function ask(bytes calldata image, uint256 fee, uint256 deadline) external returns (uint256 jobId) {
        jobId = _requestInference(modelId, image, fee, deadline, 100_000);
        emit DigitRequested(jobId, msg.sender);
    }

    function _onResult(uint256 jobId, bytes calldata output) internal override {
        if (output.length != 40) revert DigitOracleBadOutput(output.length);
        uint8 best;
        int32 bestScore = type(int32).min;
        for (uint8 i = 0; i < 10; ++i) {
            int32 score = _int32At(output, i);
            if (score > bestScore) (best, bestScore) = (i, score);
        }
        digitOf[jobId] = best;
        answered[jobId] = true;
        emit DigitAnswered(jobId, best);
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
