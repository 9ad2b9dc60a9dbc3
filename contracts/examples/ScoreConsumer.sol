// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

import {InferenceConsumer} from "../jobs/InferenceConsumer.sol";
import {IJobManager} from "../interfaces/IJobManager.sol";

/**
 * @title ScoreConsumer
 * @notice The smallest useful consumer (docs/INTEGRATING.md): asks a model about an input and keeps
 * one element of its output as a real number, dequantized with the registry's output scale.
 * @dev Every hook of {InferenceConsumer} in use: a request paid from this contract's balance, the
 * result, the failure hook, a cancel, a retried callback, and the owner taking tokens out.
 */
contract ScoreConsumer is InferenceConsumer, Ownable {
    using SafeERC20 for IERC20;

    /// @notice Gas the callback gets: {_onResult} writes one new slot and emits one event.
    uint32 public constant CALLBACK_GAS = 60_000;

    /// @notice The model asked.
    uint256 public immutable modelId;
    /// @notice Which output element is kept (0 for the first).
    uint256 public immutable element;
    /// @notice Real value of one output unit, 18-decimal fixed point (the registry's; never changes).
    uint128 public immutable outputScaleWad;

    /// @notice Each answered job's kept element, as a real number (18-decimal fixed point).
    mapping(uint256 jobId => int256) public scoreWad;
    /// @notice Jobs that ended without a result (refunded or rejected).
    mapping(uint256 jobId => bool) public failed;

    /// @notice A job's result arrived.
    event Scored(uint256 indexed jobId, int256 scoreWad);
    /// @notice A job ended without a result; its fee is back in this contract.
    event Failed(uint256 indexed jobId, IJobManager.JobStatus status);

    /// @dev The output has no element `element`.
    error ScoreConsumerShortOutput(uint256 length);

    constructor(IJobManager jobManager_, uint256 modelId_, uint256 element_, address owner_)
        InferenceConsumer(jobManager_)
        Ownable(owner_)
    {
        modelId = modelId_;
        element = element_;
        (, outputScaleWad) = jobManager_.registry().scales(modelId_);
    }

    /// @notice Owner: asks about `input` (canonical int32 little-endian bytes), paying `fee` from
    /// this contract's balance; at least `jobManager.minimumFeeWithCallback(price, CALLBACK_GAS)`.
    function ask(bytes calldata input, uint256 fee, uint256 deadline) external onlyOwner returns (uint256 jobId) {
        return _requestInference(modelId, input, fee, deadline, CALLBACK_GAS);
    }

    /// @notice Owner: withdraws an unclaimed job; the fee is back here at once and {Failed} fires.
    function cancel(uint256 jobId, IJobManager.JobTerms calldata terms) external onlyOwner {
        _cancelInference(jobId, terms);
    }

    /// @notice Owner: has the escrow deliver a failed callback again, with `gasLimit`.
    function retry(uint256 jobId, IJobManager.JobTerms calldata terms, bytes calldata output, uint32 gasLimit) external onlyOwner {
        _retryCallback(jobId, terms, output, gasLimit);
    }

    /// @notice Owner: takes `amount` of this contract's tokens (unspent funds, refunds) to `to`.
    function withdrawTokens(address to, uint256 amount) external onlyOwner {
        feeToken.safeTransfer(to, amount);
    }

    function _onResult(uint256 jobId, bytes calldata output) internal override {
        uint256 o = element * 4;
        if (output.length < o + 4) revert ScoreConsumerShortOutput(output.length);
        // One little-endian int32.
        int32 q = int32(
            uint32(uint8(output[o])) |
                (uint32(uint8(output[o + 1])) << 8) |
                (uint32(uint8(output[o + 2])) << 16) |
                (uint32(uint8(output[o + 3])) << 24)
        );
        // Dequantize: real = q × scale. |int32| × uint128 < 2^159, so this never overflows.
        int256 value = int256(q) * int256(uint256(outputScaleWad));
        scoreWad[jobId] = value;
        emit Scored(jobId, value);
    }

    function _onFailure(uint256 jobId, IJobManager.JobStatus status) internal override {
        failed[jobId] = true;
        emit Failed(jobId, status);
    }
}
