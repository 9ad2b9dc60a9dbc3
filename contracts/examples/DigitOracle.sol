// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

import {InferenceConsumer} from "../jobs/InferenceConsumer.sol";
import {IJobManager} from "../interfaces/IJobManager.sol";

/**
 * @title DigitOracle
 * @notice Example integrator: asks a handwritten-digit classifier which digit an image shows and
 * stores the answer (the index of the largest of the model's output scores) with that score as a
 * real number, dequantized by the output scale the registry holds for the model.
 * @dev Worth copying: only its owner spends its balance (asks, cancels, takes tokens out); a
 * refunded or rejected job comes back through {InferenceConsumer-settleFailedJob}, its fee with it.
 * A model's scales never change, so the output scale is read once, at construction.
 */
contract DigitOracle is InferenceConsumer, Ownable {
    using SafeERC20 for IERC20;

    /// @notice Gas each answer's callback gets: {_onResult} needs about 30,000 (one new slot, ten
    /// scores read, an event), with room to spare.
    uint32 public constant CALLBACK_GAS = 100_000;

    /// @notice The classifier's model id.
    uint256 public immutable modelId;

    /// @notice Real value of one unit of the model's output, 18-decimal fixed point (the registry's).
    uint128 public immutable outputScaleWad;

    /// @notice One job's answer, in one storage slot.
    /// @param answered The result has arrived (the other fields are valid).
    /// @param digit The class with the largest score.
    /// @param scoreWad That score as a real number, 18-decimal fixed point: the canonical integer
    /// times `outputScaleWad`, exact (|int32| × uint128 < 2^159 fits in int240).
    struct Answer {
        bool answered;
        uint8 digit;
        int240 scoreWad;
    }

    /// @notice The answer to each job.
    mapping(uint256 jobId => Answer) public answers;

    /// @notice The owner asked about an image.
    /// @param jobId The job requested.
    /// @param by The owner.
    event DigitRequested(uint256 indexed jobId, address indexed by);
    /// @notice A job's answer arrived.
    /// @param jobId The job.
    /// @param digit The class with the largest score.
    /// @param scoreWad That score as a real number, 18-decimal fixed point.
    event DigitAnswered(uint256 indexed jobId, uint8 digit, int256 scoreWad);
    /// @notice A job ended without an answer; its fee is back in this contract.
    /// @param jobId The job.
    /// @param status Refunded or Rejected.
    event DigitFailed(uint256 indexed jobId, IJobManager.JobStatus status);

    /// @dev The output does not hold exactly ten int32 scores.
    /// @param length The output's length in bytes.
    error DigitOracleBadOutput(uint256 length);

    /// @param jobManager_ The job escrow (its token pays fees, its registry holds the model's output scale).
    /// @param modelId_ The classifier.
    /// @param owner_ Who asks, cancels, retries and takes tokens out.
    constructor(IJobManager jobManager_, uint256 modelId_, address owner_) InferenceConsumer(jobManager_) Ownable(owner_) {
        modelId = modelId_;
        (, outputScaleWad) = jobManager_.registry().scales(modelId_);
    }

    /// @notice Owner: asks for the digit in `image` (canonical input bytes), paying `fee` from this
    /// contract's token balance. The fee must cover the callback fee of {CALLBACK_GAS} too: the
    /// least one is `jobManager.minimumFeeWithCallback(price, CALLBACK_GAS)`.
    function ask(bytes calldata image, uint256 fee, uint256 deadline) external onlyOwner returns (uint256 jobId) {
        jobId = _requestInference(modelId, image, fee, deadline, CALLBACK_GAS);
        emit DigitRequested(jobId, msg.sender);
    }

    /// @notice Owner: withdraws an unclaimed job; its fee is back in this contract at once.
    /// @param terms The job's terms, from {IJobManager-JobRequested}.
    function cancel(uint256 jobId, IJobManager.JobTerms calldata terms) external onlyOwner {
        _cancelInference(jobId, terms);
    }

    /// @notice Owner: has the escrow deliver a result again whose callback failed, with more gas.
    /// @param terms The job's terms, from {IJobManager-JobRequested}.
    /// @param output The job's output bytes, from {IJobManager-ResultSubmitted}.
    function retryCallback(uint256 jobId, IJobManager.JobTerms calldata terms, bytes calldata output, uint32 gasLimit) external onlyOwner {
        _retryCallback(jobId, terms, output, gasLimit);
    }

    /// @notice Owner: sends `amount` of this contract's tokens (fees it holds, refunds) to `to`.
    function withdrawTokens(address to, uint256 amount) external onlyOwner {
        feeToken.safeTransfer(to, amount);
    }

    function _onFailure(uint256 jobId, IJobManager.JobStatus status) internal override {
        emit DigitFailed(jobId, status);
    }

    function _onResult(uint256 jobId, bytes calldata output) internal override {
        if (output.length != 40) revert DigitOracleBadOutput(output.length);
        uint8 best;
        int32 bestScore = type(int32).min;
        for (uint8 i = 0; i < 10; ++i) {
            int32 score = _int32At(output, i);
            if (score > bestScore) (best, bestScore) = (i, score);
        }
        int240 scoreWad = int240(bestScore) * int240(uint240(outputScaleWad));
        answers[jobId] = Answer({answered: true, digit: best, scoreWad: scoreWad});
        emit DigitAnswered(jobId, best, scoreWad);
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
