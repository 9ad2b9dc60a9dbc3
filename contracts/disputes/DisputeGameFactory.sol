// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {Clones} from "@openzeppelin/contracts/proxy/Clones.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {ERC20Burnable} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Burnable.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";

import {IDisputeGame} from "../interfaces/IDisputeGame.sol";
import {IDisputeGameFactory} from "../interfaces/IDisputeGameFactory.sol";
import {IJobManager} from "../interfaces/IJobManager.sol";
import {IModelRegistry} from "../interfaces/IModelRegistry.sol";
import {IStaking} from "../interfaces/IStaking.sol";
import {Staking} from "../staking/Staking.sol";
import {GraphLeaf, Header} from "./lib/GraphLeaf.sol";
import {ClaimedResult, GameConfig, GameStatus} from "./lib/Types.sol";
import {
    FactoryHeaderMismatch,
    FactoryInsufficientStake,
    FactoryInvalidParameter,
    FactoryNothingToWithdraw,
    FactoryResultMismatch,
    FactoryUnknownGame
} from "./lib/GameErrors.sol";

/**
 * @title DisputeGameFactory
 * @notice Opens one {DisputeGame} clone per dispute, holds the bonds, and is the job escrow's
 * single dispute manager. When a game ends it settles the job with the escrow and pays out
 * (docs/DISPUTES.md "Bonds, slashes and payouts"):
 *  - challenger wins: the worker's lock is slashed to this contract; the challenger is credited its
 *    bond plus `challengerRewardBps` of the slash; the rest of the slash is burned;
 *  - defender wins: the worker is credited `defenderRewardBps` of the bond (nothing if a parallel game
 *    already rejected the job); the rest is burned.
 * Payouts are pull balances ({withdraw}). Invariant: this contract's token balance is the bonds of
 * unsettled games plus all balances.
 * @dev Owned by the timelock: it sets the governed {Params}. Parameters are fixed per game when it opens.
 */
contract DisputeGameFactory is IDisputeGameFactory, Ownable, ReentrancyGuard {
    using SafeERC20 for IERC20;

    uint256 private constant BPS = 10_000;

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

    Params private _params;
    mapping(uint256 jobId => address[] games) private _games;
    mapping(address game => GameRecord record) private _records;
    mapping(address account => uint256 amount) private _balances;

    /// @param token_ The protocol token (ERC20Burnable).
    /// @param jobManager_ The job escrow.
    /// @param registry_ The model registry.
    /// @param staking_ The stakes.
    /// @param gameImplementation_ A deployed {DisputeGame} (never played itself).
    /// @param owner_ The owner (the timelock).
    /// @param params_ The initial governed parameters.
    constructor(
        IERC20 token_,
        IJobManager jobManager_,
        IModelRegistry registry_,
        IStaking staking_,
        address gameImplementation_,
        address owner_,
        Params memory params_
    ) Ownable(owner_) {
        token = token_;
        jobManager = jobManager_;
        registry = registry_;
        staking = staking_;
        gameImplementation = gameImplementation_;
        _setParams(params_);
    }

    // ---------------------------------------------------------------- opening

    /// @inheritdoc IDisputeGameFactory
    function openDispute(uint256 jobId, OpenParams calldata o) external nonReentrant returns (address game) {
        // INVARIANT: only a staked party challenges (minimum stake, not locked).
        uint256 staked = staking.stakeOf(msg.sender).staked;
        // Staking's governed minimum is a public variable of `Staking`, not part of {IStaking}.
        uint256 minStake = Staking(address(staking)).minStake();
        if (staked < minStake) revert FactoryInsufficientStake(msg.sender, staked, minStake);

        // INVARIANT: the game is about exactly the result the worker submitted: the escrow checks
        // the terms and result against its hash, and accepts the freeze only for a submitted result
        // inside its challenge window.
        if (o.result.inputCommitment != o.terms.inputCommitment) revert FactoryResultMismatch(jobId);
        address worker = jobManager.freezeForDispute(jobId, o.terms, o.result.outputCommitment, o.result.traceRoot);
        GameConfig memory config = _configFor(jobId, worker, o);

        game = _create(jobId, o.challengerRoot);
        IDisputeGame(game).initialize(config, o.outputLeaf, o.outputProof);
        // An output-mismatch claim is decided inside initialize: settle it now.
        GameStatus s = _statusOf(game);
        if (s != GameStatus.InProgress) _settle(game, s);
    }

    /// @dev The game's fixed data, from the job and the model's proven graph header.
    function _configFor(
        uint256 jobId,
        address worker,
        OpenParams calldata o
    ) private view returns (GameConfig memory config) {
        // INVARIANT: the number of layers comes from the model's own graph header, at the depth it implies.
        bytes32 graphRoot = registry.getModel(o.terms.modelId).graphCommitment;
        Header memory h = GraphLeaf.header(graphRoot, o.header, o.headerProof);
        if (o.headerProof.length != _ceilLog2(uint256(h.numLayers) + 1)) revert FactoryHeaderMismatch(graphRoot, bytes32(0));
        config = GameConfig({
            jobId: jobId,
            defender: worker,
            challenger: msg.sender,
            graphRoot: graphRoot,
            inputCommitment: o.result.inputCommitment,
            outputCommitment: o.result.outputCommitment,
            defenderRoot: o.result.traceRoot,
            challengerRoot: o.challengerRoot,
            numLayers: h.numLayers,
            moveTimeout: _params.moveTimeout
        });
    }

    /// @dev Takes the bond, clones the game and records it. Emits {DisputeOpened}.
    function _create(uint256 jobId, bytes32 challengerRoot) private returns (address game) {
        Params memory p = _params;
        token.safeTransferFrom(msg.sender, address(this), p.challengeBond);
        game = Clones.clone(gameImplementation);
        _games[jobId].push(game);
        _records[game] = GameRecord({
            jobId: jobId,
            challenger: msg.sender,
            bond: p.challengeBond,
            challengerRewardBps: p.challengerRewardBps,
            defenderRewardBps: p.defenderRewardBps,
            settled: false
        });
        emit DisputeOpened(jobId, game, msg.sender, challengerRoot, p.challengeBond);
    }

    // ---------------------------------------------------------------- settlement

    /// @inheritdoc IDisputeGameFactory
    function settle(GameStatus status) external nonReentrant {
        // INVARIANT: only an unsettled game of this factory settles, and only itself, once.
        _settle(msg.sender, status);
    }

    /// @inheritdoc IDisputeGameFactory
    function withdraw() external nonReentrant {
        uint256 amount = _balances[msg.sender];
        if (amount == 0) revert FactoryNothingToWithdraw(msg.sender);
        _balances[msg.sender] = 0;
        emit BalanceWithdrawn(msg.sender, amount);
        token.safeTransfer(msg.sender, amount);
    }

    // ---------------------------------------------------------------- governance

    /// @notice Owner (the timelock): sets the governed parameters, for games opened from now on.
    function setParams(Params calldata params_) external onlyOwner {
        _setParams(params_);
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc IDisputeGameFactory
    function balanceOf(address account) external view returns (uint256) {
        return _balances[account];
    }

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

    // ---------------------------------------------------------------- internals

    /// @dev Settles `game` with the escrow and credits the winners. Emits {DisputeSettled}.
    function _settle(address game, GameStatus status) private {
        GameRecord storage rec = _records[game];
        if (rec.challenger == address(0) || rec.settled || status == GameStatus.InProgress) revert FactoryUnknownGame(game);
        rec.settled = true;
        uint256 jobId = rec.jobId;
        uint256 bond = rec.bond;

        uint256 slashed;
        uint256 burned;
        if (status == GameStatus.ChallengerWins) {
            // The whole lock is slashed here; a job already rejected by a parallel game slashes nothing.
            slashed = jobManager.settleDispute(jobId, false, type(uint256).max);
            uint256 reward = (slashed * rec.challengerRewardBps) / BPS;
            _credit(rec.challenger, game, bond + reward);
            burned = slashed - reward;
        } else {
            jobManager.settleDispute(jobId, true, 0);
            IJobManager.Job memory job = jobManager.getJob(jobId);
            // A worker whose result another game has already proven wrong earns nothing from a
            // challenger that lost (or colluded): the whole bond is burned.
            uint256 reward = job.status == IJobManager.JobStatus.Rejected ? 0 : (bond * rec.defenderRewardBps) / BPS;
            _credit(job.worker, game, reward);
            burned = bond - reward;
        }
        emit DisputeSettled(jobId, game, status, slashed, burned);
        if (burned != 0) ERC20Burnable(address(token)).burn(burned);
    }

    function _credit(address account, address game, uint256 amount) private {
        if (amount == 0) return;
        _balances[account] += amount;
        emit BalanceCredited(account, game, amount);
    }

    function _statusOf(address game) private view returns (GameStatus) {
        (bool ok, bytes memory ret) = game.staticcall(abi.encodeWithSignature("status()"));
        return ok ? abi.decode(ret, (GameStatus)) : GameStatus.InProgress;
    }

    function _setParams(Params memory p) private {
        if (p.moveTimeout == 0) revert FactoryInvalidParameter("moveTimeout");
        if (p.challengerRewardBps > BPS) revert FactoryInvalidParameter("challengerRewardBps");
        if (p.defenderRewardBps > BPS) revert FactoryInvalidParameter("defenderRewardBps");
        _params = p;
        emit ParamsSet(p);
    }

    function _ceilLog2(uint256 n) private pure returns (uint256 d) {
        while ((uint256(1) << d) < n) ++d;
    }
}
