// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ClaimedResult, GameStatus} from "../disputes/lib/Types.sol";
import {IJobManager} from "./IJobManager.sol";

/**
 * @title IDisputeGameFactory
 * @notice Opens dispute games on submitted job results, holds the challengers' bonds, and is the
 * job escrow's single dispute manager: it freezes a job while games on it are open, settles it
 * when each ends, and pays the winners as pull balances (docs/DISPUTES.md "Bonds, slashes and payouts").
 */
interface IDisputeGameFactory {
    /// @notice The governed parameters.
    /// @param moveTimeout Seconds each side has for each move.
    /// @param challengeBond Tokens a challenger posts per game.
    /// @param challengerRewardBps Share of the slashed stake a winning challenger gets, beside its bond.
    /// @param defenderRewardBps Share of a losing challenger's bond the defender gets.
    struct Params {
        uint64 moveTimeout;
        uint96 challengeBond;
        uint16 challengerRewardBps;
        uint16 defenderRewardBps;
    }

    /// @notice What the factory keeps of each game.
    /// @param jobId The disputed job.
    /// @param challenger Who opened it.
    /// @param bond The bond it posted.
    /// @param challengerRewardBps The challenger's share of a slash, fixed at opening.
    /// @param defenderRewardBps The defender's share of a lost bond, fixed at opening.
    /// @param settled Whether the game has been settled with the escrow.
    struct GameRecord {
        uint256 jobId;
        address challenger;
        uint96 bond;
        uint16 challengerRewardBps;
        uint16 defenderRewardBps;
        bool settled;
    }

    /// @notice What a challenger supplies to open a dispute.
    /// @param terms The job's terms ({IJobManager-JobRequested}), checked by the escrow with the result.
    /// @param result The job's result as submitted (checked against the escrow's result hash; its
    /// input commitment must be the terms').
    /// @param challengerRoot The challenger's own trace root.
    /// @param header Graph leaf 0 (the header) of the job's model.
    /// @param headerProof Its Merkle proof against the model's graph commitment.
    /// @param outputLeaf With `challengerRoot == result.traceRoot` only: trace leaf L of that root.
    /// @param outputProof Its Merkle proof (output-mismatch claim); empty otherwise.
    struct OpenParams {
        IJobManager.JobTerms terms;
        ClaimedResult result;
        bytes32 challengerRoot;
        bytes header;
        bytes32[] headerProof;
        bytes32 outputLeaf;
        bytes32[] outputProof;
    }

    /// @notice `challenger` opened `game` on job `jobId` with trace root `challengerRoot`.
    event DisputeOpened(uint256 indexed jobId, address indexed game, address indexed challenger, bytes32 challengerRoot, uint256 bond);
    /// @notice `game` on job `jobId` ended: `slashed` came from the worker, `burned` was burned.
    event DisputeSettled(uint256 indexed jobId, address indexed game, GameStatus status, uint256 slashed, uint256 burned);
    /// @notice `account` was credited `amount` by `game`.
    event BalanceCredited(address indexed account, address indexed game, uint256 amount);
    /// @notice `account` withdrew `amount`.
    event BalanceWithdrawn(address indexed account, uint256 amount);
    /// @notice The governed parameters changed.
    event ParamsSet(Params params);

    /// @notice Opens a dispute on job `jobId`'s result, given as submitted (`result` must match the
    /// escrow's stored result hash): the caller (staked at least Staking's minimum) posts the bond
    /// (approved beforehand) and its trace root. `header` and `headerProof`
    /// open graph leaf 0 of the job's model (for its number of layers). When `challengerRoot`
    /// equals the job's trace root, `outputLeaf` and `outputProof` must prove that trace leaf L is
    /// not the job's output commitment (output mismatch, decided at once); otherwise pass them empty.
    function openDispute(uint256 jobId, OpenParams calldata o) external returns (address game);

    /// @notice Game only: the game has ended with `status`; settles the job and pays out.
    function settle(GameStatus status) external;

    /// @notice Sends the caller's whole balance to it.
    function withdraw() external;

    /// @notice Withdrawable balance of `account`.
    function balanceOf(address account) external view returns (uint256);

    /// @notice The games opened on job `jobId`, oldest first.
    function gamesOf(uint256 jobId) external view returns (address[] memory);

    /// @notice What the factory keeps of `game`.
    function gameRecord(address game) external view returns (GameRecord memory);

    /// @notice The governed parameters.
    function params() external view returns (Params memory);
}
