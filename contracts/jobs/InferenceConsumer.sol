// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

import {IInferenceConsumer} from "../interfaces/IInferenceConsumer.sol";
import {IJobManager} from "../interfaces/IJobManager.sol";

/**
 * @title InferenceConsumer
 * @notice Base for integrator contracts: request an inference, receive the final output in
 * {_onResult}. Only the job escrow can deliver results.
 * @dev The shape of Chainlink Functions' FunctionsClient: the base owns the plumbing, the
 * integrator implements one hook. The consumer pays fees from its own token balance.
 */
abstract contract InferenceConsumer is IInferenceConsumer {
    using SafeERC20 for IERC20;

    /// @notice The job escrow this consumer talks to.
    IJobManager public immutable jobManager;
    /// @notice The protocol token that pays fees.
    IERC20 public immutable feeToken;

    /// @dev A result came from `caller`, which is not the job escrow.
    error InferenceConsumerOnlyJobManager(address caller);

    constructor(IJobManager jobManager_, IERC20 feeToken_) {
        jobManager = jobManager_;
        feeToken = feeToken_;
    }

    /// @inheritdoc IInferenceConsumer
    function onInferenceResult(uint256 jobId, bytes calldata output) external {
        if (msg.sender != address(jobManager)) revert InferenceConsumerOnlyJobManager(msg.sender);
        _onResult(jobId, output);
    }

    /// @dev Requests an inference on inline `input`, paying `fee` from this contract's balance,
    /// with this contract as the consumer.
    function _requestInference(
        uint256 modelId,
        bytes memory input,
        uint256 fee,
        uint256 deadline,
        uint32 callbackGasLimit
    ) internal returns (uint256 jobId) {
        feeToken.forceApprove(address(jobManager), fee);
        jobId = jobManager.requestInference(
            IJobManager.RequestParams({
                modelId: modelId,
                input: input,
                inputURI: "",
                inputCommitment: bytes32(0),
                fee: fee,
                deadline: deadline,
                consumer: address(this),
                callbackGasLimit: callbackGasLimit
            })
        );
    }

    /// @dev Receives the final output of `jobId` (canonical int32 little-endian bytes).
    function _onResult(uint256 jobId, bytes calldata output) internal virtual;
}
