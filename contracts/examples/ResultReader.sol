// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IJobManager} from "../interfaces/IJobManager.sol";

/**
 * @title ResultReader
 * @notice Reads the result of any job, consumer or not, without a callback (docs/INTEGRATING.md):
 * anyone hands it a job's terms (from {IJobManager-JobRequested}) and output bytes (from
 * {IJobManager-ResultSubmitted}); the escrow's {IJobManager-isFinalOutput} says whether they are
 * the job's final result. The terms name the model, so the reader also knows which model answered.
 */
contract ResultReader {
    /// @notice The job escrow.
    IJobManager public immutable jobManager;
    /// @notice The only model whose results are accepted.
    uint256 public immutable modelId;

    /// @notice The first output element of each accepted job, as the canonical integer.
    mapping(uint256 jobId => int32) public firstElement;

    /// @notice A job's final output was handed in and checked.
    event ResultAccepted(uint256 indexed jobId, int32 firstElement);

    /// @dev The bytes are not the final output of the job (not finalized, other bytes, other terms).
    error ResultReaderNotFinal(uint256 jobId);
    /// @dev The job ran another model.
    error ResultReaderWrongModel(uint256 jobId, uint256 modelId);

    constructor(IJobManager jobManager_, uint256 modelId_) {
        jobManager = jobManager_;
        modelId = modelId_;
    }

    /// @notice Anyone: records job `jobId`'s first output element, once the escrow confirms the
    /// bytes are its final output.
    function accept(uint256 jobId, IJobManager.JobTerms calldata terms, bytes calldata output) external returns (int32 value) {
        if (terms.modelId != modelId) revert ResultReaderWrongModel(jobId, terms.modelId);
        if (!jobManager.isFinalOutput(jobId, terms, output)) revert ResultReaderNotFinal(jobId);
        value = int32(uint32(uint8(output[0])) | (uint32(uint8(output[1])) << 8) | (uint32(uint8(output[2])) << 16) | (uint32(uint8(output[3])) << 24));
        firstElement[jobId] = value;
        emit ResultAccepted(jobId, value);
    }
}
