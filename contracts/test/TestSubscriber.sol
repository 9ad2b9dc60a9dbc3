// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

import {IJobManager} from "../interfaces/IJobManager.sol";
import {ISubscriptionConsumer} from "../interfaces/ISubscriptionConsumer.sol";
import {ISubscriptionManager} from "../interfaces/ISubscriptionManager.sol";

/**
 * @title TestSubscriber
 * @notice Test-only subscription consumer, written directly against the interfaces: anyone may make
 * it subscribe, fund, cancel, withdraw and retry, and its input and result hooks behave as the test
 * sets them: honest, or hostile in each way a consumer can be (reverting, burning its gas, returning
 * or reverting with huge data, answering the wrong size, re-entering the manager).
 */
contract TestSubscriber is ISubscriptionConsumer {
    enum InputMode {
        Normal,
        Revert,
        BurnGas,
        HugeReturn,
        WrongSize
    }

    enum ResultMode {
        Record,
        Revert,
        BurnGas,
        HugeRevert,
        ReenterTrigger,
        ReenterWithdraw,
        ReenterRetry
    }

    ISubscriptionManager public immutable manager;
    IERC20 public immutable token;

    InputMode public inputMode;
    ResultMode public resultMode;
    /// @notice Bytes of return or revert data of the HugeReturn and HugeRevert modes.
    uint256 public hugeSize = 200_000;
    bytes public input;
    /// @notice The subscription ReenterTrigger triggers, the amount ReenterWithdraw takes.
    uint256 public reenterSubscription;
    uint256 public reenterAmount;
    IJobManager.JobTerms private _retryTerms;

    /// @notice Results taken, per subscription and run.
    mapping(uint256 subscriptionId => mapping(uint256 run => uint256)) public deliveries;
    uint256 public delivered;
    uint256 public lastJobId;
    bytes32 public lastOutputHash;
    uint256 public gasAtEntry;
    /// @notice Whether the last re-entering call succeeded.
    bool public reentered;
    uint256 public burned;

    error TestSubscriberRefused(uint256 subscriptionId, uint256 run);

    constructor(ISubscriptionManager manager_) {
        manager = manager_;
        token = manager_.token();
    }

    function setInput(bytes calldata input_) external {
        input = input_;
    }

    function setModes(InputMode inputMode_, ResultMode resultMode_) external {
        inputMode = inputMode_;
        resultMode = resultMode_;
    }

    function setHugeSize(uint256 size) external {
        hugeSize = size;
    }

    function setReentry(uint256 subscriptionId, uint256 amount, IJobManager.JobTerms calldata terms) external {
        reenterSubscription = subscriptionId;
        reenterAmount = amount;
        _retryTerms = terms;
    }

    function subscribe(
        uint256 modelId,
        uint32 period,
        uint32 runs,
        uint96 feePerRun,
        uint96 keeperReward,
        uint32 callbackGasLimit,
        uint256 deposit
    ) external returns (uint256) {
        token.approve(address(manager), deposit);
        return manager.createSubscription(modelId, period, runs, feePerRun, keeperReward, callbackGasLimit, deposit);
    }

    function fund(uint256 subscriptionId, uint256 amount) external {
        token.approve(address(manager), amount);
        manager.fund(subscriptionId, amount);
    }

    function cancel(uint256 subscriptionId) external {
        manager.cancelSubscription(subscriptionId);
    }

    function withdraw(uint256 subscriptionId, uint256 amount) external {
        manager.withdrawFunds(subscriptionId, amount);
    }

    function setFeePerRun(uint256 subscriptionId, uint96 fee) external {
        manager.setFeePerRun(subscriptionId, fee);
    }

    function setKeeperReward(uint256 subscriptionId, uint96 reward) external {
        manager.setKeeperReward(subscriptionId, reward);
    }

    function retry(uint256 jobId, IJobManager.JobTerms calldata terms, bytes calldata output) external {
        manager.retryRelay(jobId, terms, output);
    }

    function subscriptionInput(uint256 subscriptionId, uint256 run) external view returns (bytes memory) {
        InputMode mode = inputMode;
        if (mode == InputMode.Revert) revert TestSubscriberRefused(subscriptionId, run);
        if (mode == InputMode.BurnGas) {
            uint256 x;
            while (true) x = uint256(keccak256(abi.encode(x)));
        }
        if (mode == InputMode.HugeReturn) {
            uint256 n = hugeSize;
            assembly {
                return(0, n)
            }
        }
        if (mode == InputMode.WrongSize) return abi.encodePacked(input, bytes4(0));
        return input;
    }

    function onSubscriptionResult(uint256 subscriptionId, uint256 run, uint256 jobId, bytes calldata output) external {
        gasAtEntry = gasleft();
        require(msg.sender == address(manager), "only the manager");
        ResultMode mode = resultMode;
        if (mode == ResultMode.Revert) revert TestSubscriberRefused(subscriptionId, run);
        if (mode == ResultMode.BurnGas) {
            while (true) ++burned;
        }
        if (mode == ResultMode.HugeRevert) {
            uint256 n = hugeSize;
            assembly {
                revert(0, n)
            }
        }
        if (mode == ResultMode.ReenterTrigger) {
            // The escrow's guard refuses the request: this hook then fails, as it should.
            manager.trigger(reenterSubscription);
        }
        if (mode == ResultMode.ReenterWithdraw) {
            manager.withdrawFunds(subscriptionId, reenterAmount);
            reentered = true;
        }
        if (mode == ResultMode.ReenterRetry) {
            // A second delivery of the same run from inside the first: refused (the run is already delivered).
            try manager.retryRelay(jobId, _retryTerms, output) {
                reentered = true;
            } catch {
                reentered = false;
            }
        }
        ++deliveries[subscriptionId][run];
        ++delivered;
        lastJobId = jobId;
        lastOutputHash = keccak256(output);
    }
}
