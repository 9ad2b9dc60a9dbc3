// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {InferenceConsumer} from "../jobs/InferenceConsumer.sol";
import {IJobManager} from "../interfaces/IJobManager.sol";

/**
 * @title BatchTestConsumer
 * @notice Test-only consumer of batches through {InferenceConsumer-_requestBatch}: records what its
 * callback received (the items' outputs, concatenated) and what became of failed jobs.
 */
contract BatchTestConsumer is InferenceConsumer {
    /// @notice Hash and length of each answered job's output bytes.
    mapping(uint256 jobId => bytes32) public outputHash;
    mapping(uint256 jobId => uint256) public outputLength;
    /// @notice Status each failed job ended with.
    mapping(uint256 jobId => IJobManager.JobStatus) public failure;

    constructor(IJobManager jobManager_) InferenceConsumer(jobManager_) {}

    /// @notice Requests one job over `batchSize` inputs (`inputs` concatenated), paying `fee` from this contract's balance.
    function askBatch(
        uint256 modelId,
        bytes calldata inputs,
        uint256 batchSize,
        uint256 fee,
        uint256 deadline,
        uint32 callbackGasLimit
    ) external returns (uint256) {
        return _requestBatch(modelId, inputs, batchSize, fee, deadline, callbackGasLimit);
    }

    function _onResult(uint256 jobId, bytes calldata output) internal override {
        outputHash[jobId] = keccak256(output);
        outputLength[jobId] = output.length;
    }

    function _onFailure(uint256 jobId, IJobManager.JobStatus status) internal override {
        failure[jobId] = status;
    }
}
