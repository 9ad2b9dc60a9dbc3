// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

import {IInferenceConsumer} from "../interfaces/IInferenceConsumer.sol";
import {IJobManager} from "../interfaces/IJobManager.sol";

/**
 * @title InferenceConsumer
 * @notice Base for integrator contracts: request an inference (or a batch of them, one job), receive
 * the final output in {_onResult}, or learn in {_onFailure} that the job was refunded or rejected
 * and get the fee back.
 * @dev The shape of Chainlink Functions' FunctionsClient: the base owns the plumbing, the
 * integrator implements the hooks. The consumer pays fees from its own token balance, and only
 * results of jobs it requested itself reach {_onResult} (the escrow calls back only the contract
 * that requested, and the base checks the job is one of its own pending ones). Refunds come back
 * to this contract's token balance: the integrator decides who may take them out.
 */
abstract contract InferenceConsumer is IInferenceConsumer {
    using SafeERC20 for IERC20;

    /// @notice The job escrow this consumer talks to.
    IJobManager public immutable jobManager;
    /// @notice The protocol token that pays fees (the escrow's, read at construction).
    IERC20 public immutable feeToken;

    /// @notice Jobs this contract requested that have not come back yet (result or failure).
    mapping(uint256 jobId => bool) public pending;

    /// @notice Emitted by {settleFailedJob} (or a cancel): a pending job ended without a result.
    /// @param jobId The job.
    /// @param status Refunded or Rejected.
    /// @param refunds The refunds withdrawn from the escrow into this contract at the same time.
    event InferenceFailed(uint256 indexed jobId, IJobManager.JobStatus status, uint256 refunds);

    /// @dev A result came from `caller`, which is not the job escrow.
    /// @param caller The account that called.
    error InferenceConsumerOnlyJobManager(address caller);

    /// @dev The job is not one this contract requested and is still waiting for.
    /// @param jobId The job.
    error InferenceConsumerUnknownJob(uint256 jobId);

    /// @dev The job has not failed: it is still running or it was finalized.
    /// @param jobId The job.
    /// @param status Its status.
    error InferenceConsumerJobNotFailed(uint256 jobId, IJobManager.JobStatus status);

    /// @param jobManager_ The job escrow; the fee token is the escrow's own.
    constructor(IJobManager jobManager_) {
        jobManager = jobManager_;
        feeToken = jobManager_.token();
    }

    /// @inheritdoc IInferenceConsumer
    function onInferenceResult(uint256 jobId, bytes calldata output) external {
        if (msg.sender != address(jobManager)) revert InferenceConsumerOnlyJobManager(msg.sender);
        if (!pending[jobId]) revert InferenceConsumerUnknownJob(jobId);
        // A hook that reverts undoes this too: the job stays pending for a retried callback.
        delete pending[jobId];
        _onResult(jobId, output);
    }

    /// @notice Anyone: closes a pending job that was refunded (expired, cancelled) or rejected (its
    /// result proven wrong), withdraws the refund into this contract and runs {_onFailure}.
    /// @param jobId The job.
    function settleFailedJob(uint256 jobId) external {
        if (!pending[jobId]) revert InferenceConsumerUnknownJob(jobId);
        IJobManager.JobStatus status = jobManager.getJob(jobId).status;
        if (status != IJobManager.JobStatus.Refunded && status != IJobManager.JobStatus.Rejected) {
            revert InferenceConsumerJobNotFailed(jobId, status);
        }
        _settleFailed(jobId, status);
    }

    /// @notice Anyone: moves this contract's refunds (and any other balance) from the escrow's pull
    /// balances into its own token balance. Harmless: the tokens stay this contract's.
    /// @return amount The tokens withdrawn (zero when there were none).
    function withdrawRefunds() public returns (uint256 amount) {
        amount = jobManager.balanceOf(address(this));
        if (amount != 0) jobManager.withdraw();
    }

    /// @dev Requests an inference on inline `input`, paying `fee` from this contract's balance,
    /// with this contract as the consumer. The fee must cover the callback fee too
    /// ({IJobManager-minimumFeeWithCallback} quotes the least one).
    function _requestInference(
        uint256 modelId,
        bytes memory input,
        uint256 fee,
        uint256 deadline,
        uint32 callbackGasLimit
    ) internal returns (uint256 jobId) {
        feeToken.forceApprove(address(jobManager), fee);
        jobId = jobManager.requestInference(_requestParams(modelId, input, fee, deadline, callbackGasLimit));
        pending[jobId] = true;
    }

    /// @dev Requests one job over `batchSize` inline inputs (`inputs`: each the model's input size,
    /// concatenated), paying `fee` from this contract's balance, with this contract as the consumer.
    /// The fee must cover the model's price once per input, and the callback fee once
    /// ({IJobManager-minimumFeeWithCallback} of `batchSize` × the price). {_onResult} gets the items'
    /// outputs concatenated, in the order of the inputs.
    function _requestBatch(
        uint256 modelId,
        bytes memory inputs,
        uint256 batchSize,
        uint256 fee,
        uint256 deadline,
        uint32 callbackGasLimit
    ) internal returns (uint256 jobId) {
        feeToken.forceApprove(address(jobManager), fee);
        jobId = jobManager.requestBatch(_requestParams(modelId, inputs, fee, deadline, callbackGasLimit), batchSize);
        pending[jobId] = true;
    }

    /// @dev A request with inline `input` and this contract as the consumer.
    function _requestParams(
        uint256 modelId,
        bytes memory input,
        uint256 fee,
        uint256 deadline,
        uint32 callbackGasLimit
    ) private view returns (IJobManager.RequestParams memory) {
        return
            IJobManager.RequestParams({
                modelId: modelId,
                input: input,
                inputURI: "",
                inputCommitment: bytes32(0),
                fee: fee,
                deadline: deadline,
                consumer: address(this),
                callbackGasLimit: callbackGasLimit
            });
    }

    /// @dev Withdraws an unclaimed job this contract requested: the fee comes back at once.
    /// `terms` are the job's terms from {IJobManager-JobRequested}.
    function _cancelInference(uint256 jobId, IJobManager.JobTerms calldata terms) internal {
        if (!pending[jobId]) revert InferenceConsumerUnknownJob(jobId);
        jobManager.cancel(jobId, terms);
        _settleFailed(jobId, IJobManager.JobStatus.Refunded);
    }

    /// @dev Has the escrow call {onInferenceResult} again for a finalized job whose callback failed
    /// (a hook that ran out of gas, say), with `gasLimit`. `terms` and `output` are the job's, from
    /// {IJobManager-JobRequested} and {IJobManager-ResultSubmitted} (the escrow checks the bytes
    /// against the job's result).
    function _retryCallback(uint256 jobId, IJobManager.JobTerms calldata terms, bytes calldata output, uint32 gasLimit) internal {
        jobManager.retryCallback(jobId, terms, output, gasLimit);
    }

    function _settleFailed(uint256 jobId, IJobManager.JobStatus status) private {
        delete pending[jobId];
        uint256 refunds = withdrawRefunds();
        emit InferenceFailed(jobId, status, refunds);
        _onFailure(jobId, status);
    }

    /// @dev Receives the final output of `jobId` (canonical int32 little-endian bytes).
    function _onResult(uint256 jobId, bytes calldata output) internal virtual;

    /// @dev A pending job ended without a result (Refunded or Rejected); its fee is back in this
    /// contract's balance. Override to react; the default does nothing.
    function _onFailure(uint256 jobId, IJobManager.JobStatus status) internal virtual {}
}
