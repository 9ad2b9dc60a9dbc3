// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {GameStatus} from "../disputes/lib/Types.sol";
import {IJobManager} from "./IJobManager.sol";
import {IPullPayments} from "./IPullPayments.sol";

/**
 * @title IDisputeGameFactory
 * @notice Opens dispute games on submitted job results, holds the challengers' bonds, and is the
 * job escrow's dispute manager for the jobs requested under it: it freezes a job while games on it
 * are open, settles it when each ends, and pays the winners as pull balances (docs/DISPUTES.md
 * "Bonds, slashes and payouts"). Disputes open by commit-then-reveal ({commitDispute}, then
 * {openDispute}); of the games that prove a result wrong, the one committed first earns the reward.
 */
interface IDisputeGameFactory is IPullPayments {
    /// @notice The governed parameters, fixed per game when it opens.
    /// @param moveTimeout Seconds each side has for each move of a game alone on its job (at least
    /// the factory's `minMoveTimeout`).
    /// @param challengeBond Tokens a challenger posts per game (more than zero, at most `MAX_CHALLENGE_BOND`).
    /// @param challengerRewardBps Share of the slashed stake the first-committed winning challenger
    /// gets, beside its bond.
    /// @param defenderRewardBps Share of a losing challenger's bond the defender gets (if its result
    /// is never proven wrong).
    /// @param moveTimeoutPerGame Seconds added to every move for each further game opened on the same
    /// job, so that a defender facing a burst of games has time to answer them all.
    /// @param maxMoveTimeout Ceiling of the time per move so extended (at most `MAX_MOVE_TIMEOUT`):
    /// what bounds the longest time to finality.
    struct Params {
        uint64 moveTimeout;
        uint96 challengeBond;
        uint16 challengerRewardBps;
        uint16 defenderRewardBps;
        uint32 moveTimeoutPerGame;
        uint64 maxMoveTimeout;
    }

    /// @notice What the factory keeps of each game.
    /// @param jobId The disputed job.
    /// @param challenger Who opened it.
    /// @param bond The bond it posted.
    /// @param challengerRewardBps The challenger's share of a slash, fixed at opening.
    /// @param defenderRewardBps The defender's share of a lost bond, fixed at opening.
    /// @param settled Whether the game has been settled with the escrow.
    /// @param rank The order of the challenger's commitment among all commitments (1 is the first):
    /// of the games that prove a result wrong, the lowest rank earns the reward.
    struct GameRecord {
        uint256 jobId;
        address challenger;
        uint96 bond;
        uint16 challengerRewardBps;
        uint16 defenderRewardBps;
        bool settled;
        uint64 rank;
    }

    /// @notice The disputes of one job, as the factory accounts for them.
    /// @param gamesOpened Games ever opened on the job (scales the time per move).
    /// @param gamesOpen Games not yet settled.
    /// @param slashed The worker's lock slashed by the first winning game, held until the job's
    /// disputes close (the reward's recipient is known only then).
    /// @param defenderRewards The worker's shares of lost bonds, held until close: paid only if its
    /// result is never proven wrong.
    /// @param worker The worker whose result is disputed.
    /// @param bestRank The lowest commitment rank among the games that proved the result wrong (0: none).
    /// @param bestGame That game.
    /// @param closed Whether the held amounts were paid out.
    struct JobDisputes {
        uint32 gamesOpened;
        uint32 gamesOpen;
        uint96 slashed;
        uint96 defenderRewards;
        address worker;
        uint64 bestRank;
        bool closed;
        address bestGame;
    }

    /// @notice What a challenger supplies to open a dispute (the reveal of its commitment).
    /// @param terms The job's terms ({IJobManager-JobRequested}), checked by the escrow with the result.
    /// @param outputCommitment The output commitment the worker submitted ({IJobManager-ResultSubmitted}),
    /// checked against the escrow's result hash.
    /// @param challengerRoot The challenger's own trace root.
    /// @param header Graph leaf 0 (the header) of the job's model.
    /// @param headerProof Its Merkle proof against the model's graph commitment.
    /// @param outputLeaf Trace leaf L of `challengerRoot`: the challenger's output commitment, which
    /// must differ from `outputCommitment`.
    /// @param outputProof Its Merkle proof against `challengerRoot`.
    /// @param salt The secret the commitment was made with ({commitmentOf}).
    /// @param item The disputed item of a batch job (0 for a single job): the game is about its input
    /// and output tensor commitments, and its outcome settles the whole batch.
    /// @param inputItems For a batch: its items' input tensor commitments, in order, whose batch
    /// commitment must be the terms' input commitment. Empty for a single job.
    /// @param outputItems For a batch: its items' output tensor commitments as submitted, in order,
    /// whose batch commitment must be `outputCommitment`. Empty for a single job.
    struct OpenParams {
        IJobManager.JobTerms terms;
        bytes32 outputCommitment;
        bytes32 challengerRoot;
        bytes header;
        bytes32[] headerProof;
        bytes32 outputLeaf;
        bytes32[] outputProof;
        bytes32 salt;
        uint256 item;
        bytes32[] inputItems;
        bytes32[] outputItems;
    }

    /// @notice Emitted by {commitDispute}: `committer` committed to a dispute claim; `rank` orders it
    /// among all commitments.
    /// @param commitment The commitment ({commitmentOf}).
    /// @param committer The account that made it.
    /// @param rank Its order among all commitments (1 is the first).
    event DisputeCommitted(bytes32 indexed commitment, address indexed committer, uint256 rank);

    /// @notice Emitted by {openDispute}: `challenger` opened `game` on job `jobId` with trace root
    /// `challengerRoot`, revealing its commitment of rank `rank`.
    /// @param jobId The disputed job.
    /// @param game The new game.
    /// @param challenger The account that opened it.
    /// @param challengerRoot The challenger's trace root.
    /// @param bond The bond it posted.
    /// @param rank The rank of the commitment it revealed.
    event DisputeOpened(
        uint256 indexed jobId,
        address indexed game,
        address indexed challenger,
        bytes32 challengerRoot,
        uint256 bond,
        uint256 rank
    );

    /// @notice Emitted by {openDispute} after {DisputeOpened} when the job is a batch: `game` is about
    /// item `item` of it (its input and output tensor commitments), and decides the whole batch.
    /// @param jobId The disputed batch job.
    /// @param game The new game.
    /// @param item The disputed item (0 to the batch size − 1).
    event BatchItemDisputed(uint256 indexed jobId, address indexed game, uint256 item);

    /// @notice Emitted when a game is settled, by {settle}. `slashed` came from the worker (held until the job's disputes close), `burned` was
    /// burned. A winning challenger's bond is credited back at once.
    /// @param jobId The disputed job.
    /// @param game The game.
    /// @param status How it ended.
    /// @param slashed The worker's lock slashed by this game (only the first winning game slashes).
    /// @param burned The part of a losing challenger's bond burned (the bond less the defender's share).
    event DisputeSettled(uint256 indexed jobId, address indexed game, GameStatus status, uint256 slashed, uint256 burned);

    /// @notice Emitted by {closeDisputes}, or by the settlement that ends a job's last game when no
    /// other can open: every game on job `jobId` has ended and the held amounts were paid.
    /// @param jobId The disputed job.
    /// @param winnerGame The first-committed game that proved the result wrong (zero if none did).
    /// @param challengerReward Its challenger's reward, from the slash.
    /// @param defenderReward What the worker got of the lost bonds (zero if its result was wrong).
    /// @param burned The rest of the slash and, for a wrong result, the worker's shares of lost bonds.
    event DisputesClosed(
        uint256 indexed jobId,
        address indexed winnerGame,
        uint256 challengerReward,
        uint256 defenderReward,
        uint256 burned
    );

    /// @notice Emitted when a pull balance grows (withdrawn with {withdraw}): `account` was credited
    /// `amount` by `game`.
    /// @param account The account credited.
    /// @param game The game it comes from (a winning challenger's bond back, or the reward of the
    /// first-committed winner), or zero for the worker's defender reward at close.
    /// @param amount The amount credited (never zero).
    event BalanceCredited(address indexed account, address indexed game, uint256 amount);

    /// @notice Emitted when the governed parameters are set (at deployment, then by governance); they
    /// apply to games opened from then on.
    /// @param params The new parameters.
    event ParamsSet(Params params);

    /// @notice Commits to a dispute claim before revealing it: `commitment` is {commitmentOf} the
    /// job, the caller, its trace root, that root's output leaf and a secret salt. Its rank orders it among all commitments; it can be revealed from the next block on.
    function commitDispute(bytes32 commitment) external returns (uint256 rank);

    /// @notice Opens a dispute on job `jobId`'s result, given as submitted (terms and output
    /// commitment must match the escrow's stored result hash), revealing the caller's commitment
    /// (made in an earlier block): the caller (staked at least Staking's minimum) posts the bond
    /// (approved beforehand) and its trace root, with `outputLeaf` and `outputProof` proving that
    /// root's trace leaf L, which must differ from the job's output commitment. `header` and
    /// `headerProof` open graph leaf 0 of the job's model (for its number of layers). The defender
    /// moves first, posting its own trace root. There is no cap on the games of a job. On a batch
    /// job, `o.item` names the disputed item and `o.inputItems`, `o.outputItems` open the job's batch
    /// commitments ({BatchItemDisputed}); the game is about that item, and rejects the whole batch
    /// if it proves it wrong.
    function openDispute(uint256 jobId, OpenParams calldata o) external returns (address game);

    /// @notice The escrow's audit manager only ({IJobManager-auditManager}): opens a dispute on job
    /// `jobId` for `challenger`, an auditor whose revealed audit output differs from the worker's,
    /// exactly as {openDispute} would for it (its minimum stake, its bond taken from it (approved to
    /// this factory beforehand), the freeze, the item checks), but without this factory's
    /// commit-reveal: the audit's commitment, made before the auditor could see any other auditor's
    /// answer, plays that role. The game gets a fresh rank (after every commitment made so far).
    function openAuditDispute(address challenger, uint256 jobId, OpenParams calldata o) external returns (address game);

    /// @notice Anyone: pays out what job `jobId`'s disputes held (the first-committed winner's reward,
    /// or the worker's shares of lost bonds) once every game on it has ended and no other can open
    /// (its result is rejected, or its challenge window has closed). The last settlement does this
    /// itself when it can.
    function closeDisputes(uint256 jobId) external;

    /// @notice Game only: the game has ended with `status`; settles the job and pays out.
    function settle(GameStatus status) external;

    /// @notice The games opened on job `jobId`, oldest first.
    function gamesOf(uint256 jobId) external view returns (address[] memory);

    /// @notice What the factory keeps of `game`.
    function gameRecord(address game) external view returns (GameRecord memory);

    /// @notice The factory's account of job `jobId`'s disputes.
    function jobDisputes(uint256 jobId) external view returns (JobDisputes memory);

    /// @notice Games ever opened on job `jobId` (each game's time per move grows with it).
    function gamesOpened(uint256 jobId) external view returns (uint256);

    /// @notice The commitment {commitDispute} takes for a claim.
    function commitmentOf(
        uint256 jobId,
        address challenger,
        bytes32 challengerRoot,
        bytes32 outputLeaf,
        bytes32 salt
    ) external pure returns (bytes32);

    /// @notice The rank and block of an unrevealed commitment (zeros if none).
    function commitmentInfo(bytes32 commitment) external view returns (uint256 rank, uint256 blockNumber);

    /// @notice The governed parameters.
    function params() external view returns (Params memory);
}
