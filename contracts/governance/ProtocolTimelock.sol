// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";

/**
 * @title ProtocolTimelock
 * @notice The owner of the protocol's contracts: executes what governance voted, after a delay
 * that gives everyone time to react (for instance to unstake before a parameter change).
 * @dev OpenZeppelin's TimelockController under a project name, so that Ignition and TypeChain
 * have an artifact to deploy.
 */
contract ProtocolTimelock is TimelockController {
    constructor(
        uint256 minDelay,
        address[] memory proposers,
        address[] memory executors,
        address admin
    ) TimelockController(minDelay, proposers, executors, admin) {}
}
