// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Governor} from "@openzeppelin/contracts/governance/Governor.sol";
import {GovernorSettings} from "@openzeppelin/contracts/governance/extensions/GovernorSettings.sol";
import {GovernorCountingSimple} from "@openzeppelin/contracts/governance/extensions/GovernorCountingSimple.sol";
import {GovernorVotes} from "@openzeppelin/contracts/governance/extensions/GovernorVotes.sol";
import {GovernorVotesQuorumFraction} from "@openzeppelin/contracts/governance/extensions/GovernorVotesQuorumFraction.sol";
import {GovernorTimelockControl} from "@openzeppelin/contracts/governance/extensions/GovernorTimelockControl.sol";
import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";
import {IVotes} from "@openzeppelin/contracts/governance/utils/IVotes.sol";
import {IERC5805} from "@openzeppelin/contracts/interfaces/IERC5805.sol";

/**
 * @title VeritensorGovernor
 * @notice Token holders' governance of the protocol's parameters. Proposals pass by VTN vote and
 * are executed by a TimelockController, which owns the staking and job escrow contracts.
 * A holder's votes at a proposal's snapshot are the sum of two sources on the same clock: its
 * votes on the token (ERC20Votes: the wallet tokens delegated to it) and its votes in Staking (the
 * staked and unbonding tokens delegated to it there). Staking never delegates the tokens it holds
 * on the token, so each token counts in exactly one source; the quorum is a share of the token's
 * total supply, which includes the staked tokens.
 * @dev Composed of OpenZeppelin modules; besides the overrides Solidity requires, only
 * {_getVotes} (the two sources) and the constructor's clock check are the project's.
 */
contract VeritensorGovernor is
    Governor,
    GovernorSettings,
    GovernorCountingSimple,
    GovernorVotes,
    GovernorVotesQuorumFraction,
    GovernorTimelockControl
{
    /// @notice The second source of votes: Staking, whose voting units are staked + unbonding VTN.
    IERC5805 public immutable stakedVotes;

    /// @dev The staking contract's clock differs from the token's: the snapshot would mean two
    /// different moments.
    /// @param tokenClock The token's CLOCK_MODE.
    /// @param stakingClock The staking contract's CLOCK_MODE.
    error VeritensorGovernorClockMismatch(string tokenClock, string stakingClock);

    /// @param token The VTN token (ERC20Votes).
    /// @param staking The staking contract (votes of staked and unbonding VTN), on the token's clock.
    /// @param timelock The timelock that executes proposals and owns the protocol.
    /// @param votingDelay_ Blocks between a proposal and the start of its vote.
    /// @param votingPeriod_ Blocks a vote lasts.
    /// @param proposalThreshold_ Votes needed to make a proposal.
    /// @param quorumPercent Share of the supply (in percent) that must vote for a proposal to pass.
    constructor(
        IVotes token,
        IERC5805 staking,
        TimelockController timelock,
        uint48 votingDelay_,
        uint32 votingPeriod_,
        uint256 proposalThreshold_,
        uint256 quorumPercent
    )
        Governor("Veritensor Governor")
        GovernorSettings(votingDelay_, votingPeriod_, proposalThreshold_)
        GovernorVotes(token)
        GovernorVotesQuorumFraction(quorumPercent)
        GovernorTimelockControl(timelock)
    {
        string memory tokenClock = CLOCK_MODE();
        string memory stakingClock = staking.CLOCK_MODE();
        if (keccak256(bytes(tokenClock)) != keccak256(bytes(stakingClock))) {
            revert VeritensorGovernorClockMismatch(tokenClock, stakingClock);
        }
        stakedVotes = staking;
    }

    /// @dev An account's votes at `timepoint`: its wallet votes on the token plus its staked votes.
    function _getVotes(
        address account,
        uint256 timepoint,
        bytes memory params
    ) internal view override(Governor, GovernorVotes) returns (uint256) {
        return super._getVotes(account, timepoint, params) + stakedVotes.getPastVotes(account, timepoint);
    }

    function proposalThreshold() public view override(Governor, GovernorSettings) returns (uint256) {
        return super.proposalThreshold();
    }

    function state(uint256 proposalId) public view override(Governor, GovernorTimelockControl) returns (ProposalState) {
        return super.state(proposalId);
    }

    function proposalNeedsQueuing(
        uint256 proposalId
    ) public view override(Governor, GovernorTimelockControl) returns (bool) {
        return super.proposalNeedsQueuing(proposalId);
    }

    function _queueOperations(
        uint256 proposalId,
        address[] memory targets,
        uint256[] memory values,
        bytes[] memory calldatas,
        bytes32 descriptionHash
    ) internal override(Governor, GovernorTimelockControl) returns (uint48) {
        return super._queueOperations(proposalId, targets, values, calldatas, descriptionHash);
    }

    function _executeOperations(
        uint256 proposalId,
        address[] memory targets,
        uint256[] memory values,
        bytes[] memory calldatas,
        bytes32 descriptionHash
    ) internal override(Governor, GovernorTimelockControl) {
        super._executeOperations(proposalId, targets, values, calldatas, descriptionHash);
    }

    function _cancel(
        address[] memory targets,
        uint256[] memory values,
        bytes[] memory calldatas,
        bytes32 descriptionHash
    ) internal override(Governor, GovernorTimelockControl) returns (uint256) {
        return super._cancel(targets, values, calldatas, descriptionHash);
    }

    function _executor() internal view override(Governor, GovernorTimelockControl) returns (address) {
        return super._executor();
    }
}
