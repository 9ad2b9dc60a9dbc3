// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

import {IStaking} from "../interfaces/IStaking.sol";
import {IWorkerRoster} from "../interfaces/IWorkerRoster.sol";
import {CAPACITY, EpochSortition} from "./EpochSortition.sol";

/**
 * @title WorkerRoster
 * @notice The workers serving each model, and the stake-weighted draw that assigns a job to one of
 * them, slot by slot (see {IWorkerRoster}).
 * @dev Steering: the draws of a job in epoch `E` are seeded by the hash of a block after both the
 * request and the first block of `E`, and read the weights in force in `E`, which were fixed by
 * changes made before `E` began. So neither the requester (who cannot know the hash of a later
 * block) nor a worker (whose weight changes after seeing the hash take effect only in `E + 1`, where
 * the job is drawn again with a new seed) can choose the draw.
 * Weights follow stakes through {refresh}, which anyone may call: a worker raises its own weight
 * after a top-up; anyone lowers that of a worker that unstaked or stopped serving (its competitors
 * gain from it). Between refreshes a member keeps its last weight; a drawn worker without enough
 * free stake cannot claim, and its slot passes to the next draw.
 * The owner (the timelock) sets the drawing parameters, which move no funds.
 */
contract WorkerRoster is IWorkerRoster, Ownable {
    using EpochSortition for EpochSortition.Tree;

    /// @notice Highest `slotBlocks * drawnSlots`: every drawn slot's seed hash must be readable
    /// (`blockhash` reaches 256 blocks back).
    uint256 public constant MAX_DRAW_BLOCKS = 255;

    /// @dev A model's roster: the sortition tree, who holds each position, and the free positions.
    struct Roster {
        EpochSortition.Tree tree;
        address[CAPACITY + 1] holders;
        uint16 size;
        uint16[] free;
    }

    /// @dev A member: its position, and the weight it was last given (in force from the epoch after).
    struct Member {
        uint16 position;
        uint96 weight;
    }

    /// @notice Where stakes and served models are read.
    IStaking public immutable staking;
    /// @notice Blocks per epoch (fixed at deployment): weights change only between epochs.
    uint256 public immutable epochBlocks;

    /// @notice The job escrow whose claims this roster checks (bound once, at deployment).
    address public escrow;

    Params private _params;
    mapping(uint256 modelId => Roster) private _rosters;
    mapping(uint256 modelId => mapping(address worker => Member)) private _members;

    constructor(IStaking staking_, uint256 epochBlocks_, address owner_, Params memory params_) Ownable(owner_) {
        if (epochBlocks_ == 0) revert WorkerRosterInvalidParameter("epochBlocks");
        staking = staking_;
        epochBlocks = epochBlocks_;
        _setParams(params_);
    }

    // ---------------------------------------------------------------- members

    /// @inheritdoc IWorkerRoster
    function join(uint256 modelId) external {
        if (!staking.servesModel(msg.sender, modelId)) revert WorkerRosterNotServing(msg.sender, modelId);
        uint256 weight = _weightOf(msg.sender, modelId);
        if (weight == 0) revert WorkerRosterInsufficientStake(msg.sender, staking.stakeOf(msg.sender).staked, staking.minStake());
        Member storage m = _members[modelId][msg.sender];
        if (m.position == 0) {
            Roster storage r = _rosters[modelId];
            uint256 position;
            uint256 freed = r.free.length;
            if (freed != 0) {
                position = r.free[freed - 1];
                r.free.pop();
            } else {
                if (r.size == CAPACITY) revert WorkerRosterFull(modelId);
                position = ++r.size;
            }
            r.holders[position] = msg.sender;
            m.position = uint16(position);
            emit RosterJoined(modelId, msg.sender, position);
        }
        _schedule(modelId, msg.sender, m, weight);
    }

    /// @inheritdoc IWorkerRoster
    function leave(uint256 modelId) external {
        _schedule(modelId, msg.sender, _member(modelId, msg.sender), 0);
    }

    /// @inheritdoc IWorkerRoster
    function refresh(address worker, uint256 modelId) external {
        _schedule(modelId, worker, _member(modelId, worker), _weightOf(worker, modelId));
    }

    /// @inheritdoc IWorkerRoster
    function reclaim(uint256 modelId, address worker) external {
        Member storage m = _member(modelId, worker);
        uint256 position = m.position;
        Roster storage r = _rosters[modelId];
        (uint256 current, uint256 next) = r.tree.weightOf(position, epoch());
        if (current != 0 || next != 0) revert WorkerRosterPositionInUse(worker, current, next);
        delete _members[modelId][worker];
        r.holders[position] = address(0);
        r.free.push(uint16(position));
        emit PositionReclaimed(modelId, worker, position);
    }

    // ---------------------------------------------------------------- drawing

    /// @inheritdoc IWorkerRoster
    function checkClaim(uint256 modelId, uint256 jobId, uint256 requestBlock, address claimer) external returns (uint256) {
        if (msg.sender != escrow) revert WorkerRosterNotEscrow(msg.sender);
        Assignment memory a = assignee(modelId, jobId, requestBlock);
        if (!a.open && a.worker != claimer) revert WorkerRosterNotAssigned(jobId, claimer, a.worker, a.slotEnd);
        // The light penalty: whoever was drawn before and let its slot pass leaves the draws from the
        // next epoch (no stake is taken: it may have been offline, or its stake all locked). At most
        // `drawnSlots` draws, paid by the claim that follows a miss (none in the usual first slot).
        // (Only while the seed's hash is readable: a claim long after the drawn slots benches nobody.)
        if (a.slot != 0 && a.seedBlock < block.number && block.number - a.seedBlock <= 256) {
            bytes32 seedHash = blockhash(a.seedBlock);
            for (uint256 s = 0; s < a.slot; ++s) {
                address missed = draw(modelId, keccak256(abi.encode(seedHash, jobId, s)));
                Member storage m = _members[modelId][missed];
                if (missed == claimer || m.weight == 0) continue;
                _schedule(modelId, missed, m, 0);
                emit SlotMissed(modelId, jobId, missed, s);
            }
        }
        return a.slot;
    }

    /// @inheritdoc IWorkerRoster
    function assignee(uint256 modelId, uint256 jobId, uint256 requestBlock) public view returns (Assignment memory a) {
        Params memory p = _params;
        uint256 epochStart = (block.number / epochBlocks) * epochBlocks;
        // After the request (the requester cannot know its hash) and after the epoch's weights were fixed.
        a.seedBlock = requestBlock >= epochStart ? requestBlock + 1 : epochStart + 1;
        // Nobody to draw: open to every worker at once.
        if (_rosters[modelId].tree.total(epoch()) == 0) {
            a.open = true;
            a.slot = p.drawnSlots;
            return a;
        }
        if (block.number <= a.seedBlock) {
            a.slotEnd = a.seedBlock + p.slotBlocks;
            return a;
        }
        a.slot = (block.number - a.seedBlock - 1) / p.slotBlocks;
        if (a.slot >= p.drawnSlots) {
            a.open = true;
            a.slot = p.drawnSlots;
            return a;
        }
        a.slotEnd = a.seedBlock + (a.slot + 1) * p.slotBlocks;
        a.worker = draw(modelId, keccak256(abi.encode(blockhash(a.seedBlock), jobId, a.slot)));
    }

    /// @inheritdoc IWorkerRoster
    function draw(uint256 modelId, bytes32 seed) public view returns (address) {
        Roster storage r = _rosters[modelId];
        uint256 e = epoch();
        uint256 total = r.tree.total(e);
        if (total == 0) return address(0);
        return r.holders[r.tree.find(uint256(seed) % total, e)];
    }

    // ---------------------------------------------------------------- governance

    /// @notice Deployment only: binds the job escrow whose claims this roster checks, once.
    function bindEscrow(address escrow_) external onlyOwner {
        if (escrow != address(0)) revert WorkerRosterEscrowBound(escrow);
        if (escrow_ == address(0)) revert WorkerRosterInvalidParameter("escrow");
        escrow = escrow_;
        emit EscrowBound(escrow_);
    }

    /// @notice Sets the drawing parameters (the timelock). They move no funds; a job being drawn
    /// follows the slots of the parameters in force at each block.
    function setParams(Params calldata params_) external onlyOwner {
        _setParams(params_);
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc IWorkerRoster
    function epoch() public view returns (uint256) {
        return block.number / epochBlocks;
    }

    /// @inheritdoc IWorkerRoster
    function memberOf(uint256 modelId, address worker) external view returns (uint256 position, uint256 current, uint256 next) {
        position = _members[modelId][worker].position;
        if (position != 0) (current, next) = _rosters[modelId].tree.weightOf(position, epoch());
    }

    /// @inheritdoc IWorkerRoster
    function totalWeight(uint256 modelId) external view returns (uint256) {
        return _rosters[modelId].tree.total(epoch());
    }

    /// @inheritdoc IWorkerRoster
    function params() external view returns (Params memory) {
        return _params;
    }

    // ---------------------------------------------------------------- internals

    /// @dev The weight `worker`'s stake gives it in `modelId`'s draws: `min(staked, weightCap)` while
    /// it serves the model with at least the minimum stake, else zero.
    function _weightOf(address worker, uint256 modelId) private view returns (uint256) {
        if (!staking.servesModel(worker, modelId)) return 0;
        uint256 staked = staking.stakeOf(worker).staked;
        if (staked < staking.minStake()) return 0;
        uint256 cap = _params.weightCap;
        return staked < cap ? staked : cap;
    }

    function _member(uint256 modelId, address worker) private view returns (Member storage m) {
        m = _members[modelId][worker];
        if (m.position == 0) revert WorkerRosterNotMember(worker, modelId);
    }

    /// @dev Gives member `m` the weight `weight` from the next epoch on.
    function _schedule(uint256 modelId, address worker, Member storage m, uint256 weight) private {
        uint256 before = m.weight;
        uint256 e = epoch();
        if (weight != before) {
            _rosters[modelId].tree.update(m.position, weight > before ? weight - before : 0, before > weight ? before - weight : 0, e);
            m.weight = uint96(weight);
        }
        emit WeightScheduled(modelId, worker, weight, e + 1);
    }

    function _setParams(Params memory p) private {
        if (p.weightCap == 0) revert WorkerRosterInvalidParameter("weightCap");
        if (p.slotBlocks == 0) revert WorkerRosterInvalidParameter("slotBlocks");
        if (uint256(p.slotBlocks) * p.drawnSlots > MAX_DRAW_BLOCKS) revert WorkerRosterInvalidParameter("drawnSlots");
        _params = p;
        emit ParamsSet(p);
    }
}
