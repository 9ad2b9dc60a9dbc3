// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IInferenceConsumer} from "../interfaces/IInferenceConsumer.sol";
import {IJobManager} from "../interfaces/IJobManager.sol";

/**
 * @title TestConsumer
 * @notice Test-only base of the hostile consumers: lets a test's requester name the consumer, as
 * a real consumer does by approving the account that requests for it.
 */
abstract contract TestConsumer is IInferenceConsumer {
    /// @notice Approves `requester` to name this contract as a job's consumer in `jobManager`.
    function allow(IJobManager jobManager, address requester) external {
        jobManager.setRequesterApproval(requester, true);
    }
}
