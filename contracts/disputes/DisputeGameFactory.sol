// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {Clones} from "@openzeppelin/contracts/proxy/Clones.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {ERC20Burnable} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Burnable.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

import {IDisputeGame} from "../interfaces/IDisputeGame.sol";
import {IDisputeGameFactory} from "../interfaces/IDisputeGameFactory.sol";
import {IJobManager} from "../interfaces/IJobManager.sol";
import {IModelRegistry} from "../interfaces/IModelRegistry.sol";
import {IStaking} from "../interfaces/IStaking.sol";
import {BatchCommitment} from "../libraries/BatchCommitment.sol";
import {BPS} from "../libraries/FeeSplit.sol";
import {PullPayments} from "../payments/PullPayments.sol";
import {GraphLeaf, Header} from "./lib/GraphLeaf.sol";
import {GameConfig, GameStatus} from "./lib/Types.sol";
import {
    DisputeGameFactoryBatchInputMismatch,
    DisputeGameFactoryBatchItemCount,
    DisputeGameFactoryBatchOutputMismatch,
    DisputeGameFactoryCommitmentExists,
    DisputeGameFactoryCommitmentTooRecent,
    DisputeGameFactoryDisputesNotOver,
    DisputeGameFactoryHeaderMismatch,
    DisputeGameFactoryInsufficientStake,
    DisputeGameFactoryInvalidParameter,
    DisputeGameFactoryItemOutOfRange,
    DisputeGameFactoryNotAuditManager,
    DisputeGameFactoryNothingToClose,
    DisputeGameFactoryUnknownCommitment,
    DisputeGameFactoryUnknownGame
} from "./lib/DisputeErrors.sol";

/**
 * @title DisputeGameFactory
 * @notice Opens one {DisputeGame} clone per dispute, holds the bonds, and is the dispute manager of
 * the jobs requested under it. Disputes open by commit-then-reveal: a challenger commits to its
 * claim ({commitDispute}) and reveals it in a later block ({openDispute}); the commitment's rank
 * orders the games. Any number of games may be open on a job, each backed by its own bond. When a
 * game ends it settles the job with the escrow; what it decides is paid once every game on the job
 * has ended and no other can open (docs/DISPUTES.md "Bonds, slashes and payouts"):
 *  - challenger wins: the first such game rejects the job and slashes the worker's lock to this
 *    contract; every winning challenger gets its bond back at once; at close, the winning game
 *    committed first gets `challengerRewardBps` of the slash, and the rest is burned. A copy of an
 *    honest claim is committed after it, so it earns nothing beyond its bond;
 *  - defender wins: `defenderRewardBps` of the bond is held for the worker and the rest burned; at
 *    close the worker gets what it holds only if no game proved its result wrong (else it is burned).
 * A game on a batch job is about one item (its input and output tensor commitments, opened from the
 * lists the challenger passes against the job's batch commitments); its outcome settles the whole
 * batch, as one job.
 * Payouts are pull balances ({withdraw}). Invariant: this contract's token balance is the bonds of
 * unsettled games, plus the slashes and defender rewards held for unclosed jobs, plus all balances.
 * @dev Owned by the timelock: it sets the governed {Params}, within bounds that keep disputes
 * possible. Parameters are fixed per game when it opens.
 */
contract DisputeGameFactory is IDisputeGameFactory, Ownable, PullPayments {
    using SafeERC20 for IERC20;

    /// @notice Highest bond governance may set (1,000,000 tokens of 18 decimals): a higher one could
    /// price every challenger out.
    uint256 public constant MAX_CHALLENGE_BOND = 1_000_000 ether;
    /// @notice Longest time per move governance may allow, extensions included.
    uint256 public constant MAX_MOVE_TIMEOUT = 30 days;

    /// @notice The protocol token (bonds, slashes, burns).
    IERC20 public immutable token;
    /// @notice The job escrow whose dispute manager this is.
    IJobManager public immutable jobManager;
    /// @notice The model registry (graph commitments).
    IModelRegistry public immutable registry;
    /// @notice The stakes (a challenger needs the minimum stake).
    IStaking public immutable staking;
    /// @notice The game every dispute is a clone of.
    address public immutable gameImplementation;
    /// @notice Shortest time per move governance may set, fixed at deployment so that no vote can
    /// leave a defender too little time to answer.
    uint256 public immutable minMoveTimeout;

    /// @dev An unrevealed commitment: its rank among all commitments and the block it was made in.
    struct Commitment {
        uint64 rank;
        uint64 blockNumber;
    }

    Params private _params;
    uint64 private _commitCount;
    mapping(bytes32 commitment => Commitment) private _commitments;
    mapping(uint256 jobId => address[] games) private _games;
    mapping(uint256 jobId => JobDisputes) private _jobs;
    mapping(address game => GameRecord record) private _records;

    /// @param token_ The protocol token (ERC20Burnable).
    /// @param jobManager_ The job escrow.
    /// @param registry_ The model registry.
    /// @param staking_ The stakes.
    /// @param gameImplementation_ A deployed {DisputeGame} (never played itself).
    /// @param owner_ The owner (the timelock).
    /// @param minMoveTimeout_ Shortest time per move governance may ever set (at least 1 s).
    /// @param params_ The initial governed parameters.
    constructor(
        IERC20 token_,
        IJobManager jobManager_,
        IModelRegistry registry_,
        IStaking staking_,
        address gameImplementation_,
        address owner_,
        uint256 minMoveTimeout_,
        Params memory params_
    ) Ownable(owner_) {
        if (minMoveTimeout_ == 0 || minMoveTimeout_ > MAX_MOVE_TIMEOUT) revert DisputeGameFactoryInvalidParameter("minMoveTimeout");
        token = token_;
        jobManager = jobManager_;
        registry = registry_;
        staking = staking_;
        gameImplementation = gameImplementation_;
        minMoveTimeout = minMoveTimeout_;
        _setParams(params_);
    }

    // ---------------------------------------------------------------- opening

    /// @inheritdoc IDisputeGameFactory
    function commitDispute(bytes32 commitment) external returns (uint256 rank) {
        if (_commitments[commitment].rank != 0) revert DisputeGameFactoryCommitmentExists(commitment);
        uint64 r = _commitCount + 1;
        _commitCount = r;
        _commitments[commitment] = Commitment({rank: r, blockNumber: uint64(block.number)});
        emit DisputeCommitted(commitment, msg.sender, r);
        return r;
    }

    /// @inheritdoc IDisputeGameFactory
    function openDispute(uint256 jobId, OpenParams calldata o) external nonReentrant returns (address game) {
        // INVARIANT: a claim opens only as the reveal of the caller's own commitment, made in an
        // earlier block: a copy of someone's revealed claim is committed after it, so ranks lower.
        uint64 rank = _reveal(jobId, o);
        return _open(msg.sender, jobId, o, rank);
    }

    /// @inheritdoc IDisputeGameFactory
    function openAuditDispute(address challenger, uint256 jobId, OpenParams calldata o) external nonReentrant returns (address game) {
        // INVARIANT: only the escrow's audit manager (fixed in the escrow at deployment, so bound once
        // and for all) opens games for others: an auditor's own commit-reveal there stands in for
        // this factory's, and the auditor pays the bond as any challenger.
        address manager = jobManager.auditManager();
        if (manager == address(0) || msg.sender != manager) revert DisputeGameFactoryNotAuditManager(msg.sender);
        // A fresh rank: the audit's commitment is not among this factory's, so it ranks from now.
        uint64 rank = _commitCount + 1;
        _commitCount = rank;
        return _open(challenger, jobId, o, rank);
    }

    /// @dev Opens a game on job `jobId` for `challenger` (who posts the bond), as ranked `rank`: the
    /// one path of {openDispute} and {openAuditDispute} once the claim's commitment is accounted for.
    function _open(address challenger, uint256 jobId, OpenParams calldata o, uint64 rank) private returns (address game) {
        // INVARIANT: only a staked party challenges (minimum stake, not locked).
        uint256 staked = staking.stakeOf(challenger).staked;
        uint256 minStake = staking.minStake();
        if (staked < minStake) revert DisputeGameFactoryInsufficientStake(challenger, staked, minStake);

        // INVARIANT: the game is about exactly the result the worker submitted: the escrow checks
        // the terms and output commitment against its hash, and accepts the freeze only for a
        // submitted result inside its challenge window.
        (address worker, uint256 batchSize) = jobManager.freezeForDispute(jobId, o.terms, o.outputCommitment);
        // INVARIANT: a game on a batch is about one of its items, as committed in the job's terms
        // (inputs) and result (outputs).
        (bytes32 input, bytes32 output) = _disputedItem(o, batchSize);
        GameConfig memory config = _configFor(jobId, worker, challenger, input, output, o);

        JobDisputes storage j = _jobs[jobId];
        if (j.gamesOpened == 0) j.worker = worker;
        j.gamesOpened += 1;
        j.gamesOpen += 1;
        game = _create(challenger, jobId, o.challengerRoot, rank);
        if (batchSize > 1) emit BatchItemDisputed(jobId, game, o.item);
        IDisputeGame(game).initialize(config, o.outputLeaf, o.outputProof);
    }

    /// @dev The input and output tensor commitments of the item `o` disputes, checked against the
    /// job's: a single job's own (no lists needed), or a batch's item `o.item`, from lists that must
    /// hash to the terms' input commitment and the submitted output commitment.
    function _disputedItem(OpenParams calldata o, uint256 batchSize) private pure returns (bytes32 input, bytes32 output) {
        if (o.item >= batchSize) revert DisputeGameFactoryItemOutOfRange(o.item, batchSize);
        uint256 inputs = o.inputItems.length;
        uint256 outputs = o.outputItems.length;
        if (batchSize == 1 && inputs == 0 && outputs == 0) return (o.terms.inputCommitment, o.outputCommitment);
        if (inputs != batchSize || outputs != batchSize) revert DisputeGameFactoryBatchItemCount(batchSize, inputs, outputs);
        bytes32 computed = BatchCommitment.ofItems(o.inputItems);
        if (computed != o.terms.inputCommitment) revert DisputeGameFactoryBatchInputMismatch(o.terms.inputCommitment, computed);
        computed = BatchCommitment.ofItems(o.outputItems);
        if (computed != o.outputCommitment) revert DisputeGameFactoryBatchOutputMismatch(o.outputCommitment, computed);
        return (o.inputItems[o.item], o.outputItems[o.item]);
    }

    /// @dev The game's fixed data, from the job, the disputed item's commitments (the job's own for
    /// a single job) and the model's proven graph header.
    function _configFor(
        uint256 jobId,
        address worker,
        address challenger,
        bytes32 input,
        bytes32 output,
        OpenParams calldata o
    ) private view returns (GameConfig memory config) {
        // INVARIANT: the number of layers comes from the model's own graph header, at the depth it implies.
        bytes32 graphRoot = registry.getModel(o.terms.modelId).graphCommitment;
        Header memory h = GraphLeaf.header(graphRoot, o.header, o.headerProof);
        if (o.headerProof.length != _ceilLog2(uint256(h.numLayers) + 1)) revert DisputeGameFactoryHeaderMismatch(graphRoot, bytes32(0));
        config = GameConfig({
            jobId: jobId,
            defender: worker,
            challenger: challenger,
            graphRoot: graphRoot,
            inputCommitment: input,
            outputCommitment: output,
            // Posted by the defender's first move: the worker commits its trace only when disputed.
            defenderRoot: bytes32(0),
            challengerRoot: o.challengerRoot,
            numLayers: h.numLayers,
            moveTimeout: _params.moveTimeout,
            moveTimeoutPerGame: _params.moveTimeoutPerGame,
            maxMoveTimeout: _params.maxMoveTimeout
        });
    }

    /// @dev Checks and consumes the caller's commitment to `o`; returns its rank.
    function _reveal(uint256 jobId, OpenParams calldata o) private returns (uint64 rank) {
        bytes32 key = _commitmentOf(jobId, msg.sender, o.challengerRoot, o.outputLeaf, o.salt);
        Commitment memory c = _commitments[key];
        if (c.rank == 0) revert DisputeGameFactoryUnknownCommitment(key);
        if (c.blockNumber >= block.number) revert DisputeGameFactoryCommitmentTooRecent(key, c.blockNumber);
        delete _commitments[key];
        return c.rank;
    }

    /// @dev Takes the bond from `challenger`, clones the game and records it. Emits {DisputeOpened}.
    function _create(address challenger, uint256 jobId, bytes32 challengerRoot, uint64 rank) private returns (address game) {
        Params memory p = _params;
        token.safeTransferFrom(challenger, address(this), p.challengeBond);
        game = Clones.clone(gameImplementation);
        _games[jobId].push(game);
        _records[game] = GameRecord({
            jobId: jobId,
            challenger: challenger,
            bond: p.challengeBond,
            challengerRewardBps: p.challengerRewardBps,
            defenderRewardBps: p.defenderRewardBps,
            settled: false,
            rank: rank
        });
        emit DisputeOpened(jobId, game, challenger, challengerRoot, p.challengeBond, rank);
    }

    // ---------------------------------------------------------------- settlement

    /// @inheritdoc IDisputeGameFactory
    function settle(GameStatus status) external nonReentrant {
        // INVARIANT: only an unsettled game of this factory settles, and only itself, once.
        _settle(msg.sender, status);
    }

    /// @inheritdoc IDisputeGameFactory
    function closeDisputes(uint256 jobId) external nonReentrant {
        JobDisputes storage j = _jobs[jobId];
        if (j.gamesOpened == 0 || j.closed) revert DisputeGameFactoryNothingToClose(jobId);
        if (!_over(jobId, j)) revert DisputeGameFactoryDisputesNotOver(jobId, j.gamesOpen);
        uint256 burned = _close(jobId, j);
        if (burned != 0) ERC20Burnable(address(token)).burn(burned);
    }

    // ---------------------------------------------------------------- governance

    /// @notice Owner (the timelock): sets the governed parameters, for games opened from now on.
    function setParams(Params calldata params_) external onlyOwner {
        _setParams(params_);
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc IDisputeGameFactory
    function gamesOf(uint256 jobId) external view returns (address[] memory) {
        return _games[jobId];
    }

    /// @inheritdoc IDisputeGameFactory
    function gameRecord(address game) external view returns (GameRecord memory) {
        return _records[game];
    }

    /// @inheritdoc IDisputeGameFactory
    function params() external view returns (Params memory) {
        return _params;
    }

    /// @inheritdoc IDisputeGameFactory
    function jobDisputes(uint256 jobId) external view returns (JobDisputes memory) {
        return _jobs[jobId];
    }

    /// @inheritdoc IDisputeGameFactory
    function gamesOpened(uint256 jobId) external view returns (uint256) {
        return _jobs[jobId].gamesOpened;
    }

    /// @inheritdoc IDisputeGameFactory
    function commitmentOf(
        uint256 jobId,
        address challenger,
        bytes32 challengerRoot,
        bytes32 outputLeaf,
        bytes32 salt
    ) external pure returns (bytes32) {
        return _commitmentOf(jobId, challenger, challengerRoot, outputLeaf, salt);
    }

    /// @inheritdoc IDisputeGameFactory
    function commitmentInfo(bytes32 commitment) external view returns (uint256 rank, uint256 blockNumber) {
        Commitment memory c = _commitments[commitment];
        return (c.rank, c.blockNumber);
    }

    // ---------------------------------------------------------------- internals

    /// @dev Settles `game` with the escrow, credits a winning challenger its bond, holds the rest
    /// for the job's close, and closes the job's disputes when nothing more can happen on them.
    /// Emits {DisputeSettled}.
    function _settle(address game, GameStatus status) private {
        GameRecord storage rec = _records[game];
        if (rec.challenger == address(0) || rec.settled || status == GameStatus.InProgress) revert DisputeGameFactoryUnknownGame(game);
        rec.settled = true;
        uint256 jobId = rec.jobId;
        uint256 bond = rec.bond;
        JobDisputes storage j = _jobs[jobId];
        j.gamesOpen -= 1;

        uint256 slashed;
        uint256 burned;
        if (status == GameStatus.ChallengerWins) {
            // The first winning game rejects the job and slashes the whole lock here; later ones slash
            // nothing. Who earns the reward is known only when every game has ended (lowest rank).
            slashed = jobManager.settleDispute(jobId, false, type(uint256).max);
            j.slashed += uint96(slashed);
            uint64 best = j.bestRank;
            if (best == 0 || rec.rank < best) {
                j.bestRank = rec.rank;
                j.bestGame = game;
            }
            _credit(rec.challenger, game, bond);
        } else {
            jobManager.settleDispute(jobId, true, 0);
            uint256 reward = (bond * rec.defenderRewardBps) / BPS;
            j.defenderRewards += uint96(reward);
            burned = bond - reward;
        }
        emit DisputeSettled(jobId, game, status, slashed, burned);
        if (_over(jobId, j)) burned += _close(jobId, j);
        if (burned != 0) ERC20Burnable(address(token)).burn(burned);
    }

    /// @dev Whether nothing more can happen on job `jobId`'s disputes: every game has ended, and no
    /// other can open (the result is rejected, or its challenge window has closed).
    function _over(uint256 jobId, JobDisputes storage j) private view returns (bool) {
        if (j.gamesOpen != 0) return false;
        IJobManager.Job memory job = jobManager.getJob(jobId);
        return job.status != IJobManager.JobStatus.Submitted || block.timestamp >= job.timer;
    }

    /// @dev Pays out what job `jobId`'s disputes held; returns what is to be burned (the caller burns
    /// it, or {closeDisputes} does). Emits {DisputesClosed}.
    function _close(uint256 jobId, JobDisputes storage j) private returns (uint256 burned) {
        j.closed = true;
        uint256 slashed = j.slashed;
        uint256 held = j.defenderRewards;
        j.slashed = 0;
        j.defenderRewards = 0;
        address winner = j.bestGame;
        uint256 challengerReward;
        uint256 defenderReward;
        if (winner != address(0)) {
            // The result was proven wrong: the first-committed winner earns the reward; the worker's
            // shares of bonds it won are burned with the rest of the slash.
            GameRecord storage rec = _records[winner];
            challengerReward = (slashed * rec.challengerRewardBps) / BPS;
            _credit(rec.challenger, winner, challengerReward);
            burned = slashed - challengerReward + held;
        } else {
            defenderReward = held;
            _credit(j.worker, address(0), defenderReward);
        }
        emit DisputesClosed(jobId, winner, challengerReward, defenderReward, burned);
    }

    /// @dev The one place balances grow. Emits {BalanceCredited}.
    function _credit(address account, address game, uint256 amount) private {
        if (_addBalance(account, amount)) emit BalanceCredited(account, game, amount);
    }

    /// @inheritdoc PullPayments
    function _paymentToken() internal view override returns (IERC20) {
        return token;
    }

    function _commitmentOf(
        uint256 jobId,
        address challenger,
        bytes32 challengerRoot,
        bytes32 outputLeaf,
        bytes32 salt
    ) private pure returns (bytes32) {
        return keccak256(abi.encode(jobId, challenger, challengerRoot, outputLeaf, salt));
    }

    /// @dev Refuses any value that would disable disputes: no time to move, no bond, or a bond nobody can post.
    function _setParams(Params memory p) private {
        if (p.moveTimeout < minMoveTimeout) revert DisputeGameFactoryInvalidParameter("moveTimeout");
        if (p.maxMoveTimeout < p.moveTimeout || p.maxMoveTimeout > MAX_MOVE_TIMEOUT) revert DisputeGameFactoryInvalidParameter("maxMoveTimeout");
        if (p.challengeBond == 0 || p.challengeBond > MAX_CHALLENGE_BOND) revert DisputeGameFactoryInvalidParameter("challengeBond");
        if (p.challengerRewardBps > BPS) revert DisputeGameFactoryInvalidParameter("challengerRewardBps");
        if (p.defenderRewardBps > BPS) revert DisputeGameFactoryInvalidParameter("defenderRewardBps");
        _params = p;
        emit ParamsSet(p);
    }

    function _ceilLog2(uint256 n) private pure returns (uint256 d) {
        while ((uint256(1) << d) < n) ++d;
    }
}
