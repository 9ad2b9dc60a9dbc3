// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/**
 * @title IWorkerRoster
 * @notice Who may claim a job: the workers serving a model, drawn at random weighted by stake, one
 * claim slot after another, with randomness nobody can steer (the hash of a block after the request
 * and after the weights of the epoch were fixed). A worker learns from {assignee} that a job is its
 * own before it sends anything, so no claim is sent to lose a race.
 * @dev Weights are `min(staked, weightCap)` of each member serving the model with at least the
 * minimum stake: linear below the cap, so that splitting a stake over several accounts gains nothing,
 * and capped, so that no account's share grows with stake beyond it (docs/ECONOMICS.md). A weight
 * change made in epoch `e` takes effect in epoch `e + 1`.
 */
interface IWorkerRoster {
    /// @notice The governed drawing parameters.
    /// @param weightCap Highest weight of one account (token wei).
    /// @param slotBlocks Blocks each drawn worker has to claim before the next draw may.
    /// @param drawnSlots Slots that are drawn; after them the job is open to every worker (the
    /// first-come fallback). `slotBlocks * drawnSlots` is at most 255, so that every drawn slot's
    /// seed block hash is still readable.
    struct Params {
        uint96 weightCap;
        uint32 slotBlocks;
        uint32 drawnSlots;
    }

    /// @notice Who may claim a job now.
    /// @param worker The drawn worker of the current slot (zero when the job is not drawn now).
    /// @param open Every worker may claim: the drawn slots are over, or nobody serves the model.
    /// @param slot The current slot (counted from the seed block), or the number of drawn slots when open.
    /// @param seedBlock The block whose hash seeds the draws (the job can be drawn once it is mined).
    /// @param slotEnd The last block of the current slot (of the first slot, before the seed block).
    struct Assignment {
        address worker;
        bool open;
        uint256 slot;
        uint256 seedBlock;
        uint256 slotEnd;
    }

    /// @notice Emitted when a worker takes a position in a model's roster.
    event RosterJoined(uint256 indexed modelId, address indexed worker, uint256 position);

    /// @notice Emitted when a member's weight is set (by {join}, {leave} or {refresh}).
    /// @param weight The weight from epoch `fromEpoch` on.
    event WeightScheduled(uint256 indexed modelId, address indexed worker, uint256 weight, uint256 fromEpoch);

    /// @notice Emitted by {reclaim} when a member whose weight is zero gives its position back.
    event PositionReclaimed(uint256 indexed modelId, address indexed worker, uint256 position);

    /// @notice Emitted when governance sets the drawing parameters.
    event ParamsSet(Params params);

    /// @notice Emitted once, at deployment, when the job escrow whose claims this roster checks is bound.
    event EscrowBound(address escrow);

    /// @notice Emitted by {checkClaim} for each worker drawn in an earlier slot of the job that did
    /// not claim it: it leaves the model's draws from the next epoch on (it may {join} again).
    /// @param slot The slot it missed.
    event SlotMissed(uint256 indexed modelId, uint256 indexed jobId, address indexed worker, uint256 slot);

    /// @dev The caller does not serve the model (Staking's `setModelServed`).
    error WorkerRosterNotServing(address worker, uint256 modelId);
    /// @dev The caller's stake is below the minimum, so its weight would be zero.
    error WorkerRosterInsufficientStake(address worker, uint256 staked, uint256 minStake);
    /// @dev The model's roster has no free position ({reclaim} frees those of weight zero).
    error WorkerRosterFull(uint256 modelId);
    /// @dev `worker` has no position in the model's roster.
    error WorkerRosterNotMember(address worker, uint256 modelId);
    /// @dev The member still has weight now or from the next epoch: its position is in use.
    error WorkerRosterPositionInUse(address worker, uint256 current, uint256 next);
    /// @dev A drawing parameter outside its bounds.
    error WorkerRosterInvalidParameter(string name);
    /// @dev `claimer` may not claim job `jobId` now: the current slot is `drawn`'s (zero before the
    /// job's seed block is mined), until block `slotEnd`.
    error WorkerRosterNotAssigned(uint256 jobId, address claimer, address drawn, uint256 slotEnd);
    /// @dev Only the bound job escrow checks claims.
    error WorkerRosterNotEscrow(address caller);
    /// @dev The escrow is bound once, at deployment.
    error WorkerRosterEscrowBound(address escrow);

    /// @notice Takes a position in model `modelId`'s roster (or refreshes the caller's weight there),
    /// weighted from the next epoch on. The caller must serve the model and hold the minimum stake.
    function join(uint256 modelId) external;

    /// @notice Leaves model `modelId`'s draws from the next epoch on (weight zero; the position is
    /// kept until {reclaim}).
    function leave(uint256 modelId) external;

    /// @notice Anyone: sets `worker`'s weight in `modelId`'s roster to what its stake gives now (zero
    /// once it no longer serves the model or holds the minimum stake), from the next epoch on.
    function refresh(address worker, uint256 modelId) external;

    /// @notice Anyone: frees the position of a member whose weight is zero now and from the next
    /// epoch on, for another worker to take.
    function reclaim(uint256 modelId, address worker) external;

    /// @notice The job escrow only, at a claim: reverts {WorkerRosterNotAssigned} unless `claimer`
    /// may claim job `jobId` now, and takes the workers drawn in the slots before (which let it
    /// pass) out of the model's draws from the next epoch on.
    /// @return slot The slot the claim is made in ({Params-drawnSlots} when open to all).
    function checkClaim(uint256 modelId, uint256 jobId, uint256 requestBlock, address claimer) external returns (uint256 slot);

    /// @notice Who may claim job `jobId` of model `modelId`, requested (or reopened) in block
    /// `requestBlock`, in the current block.
    function assignee(uint256 modelId, uint256 jobId, uint256 requestBlock) external view returns (Assignment memory);

    /// @notice The member drawn for `seed` in the current epoch (zero when the roster has no weight).
    function draw(uint256 modelId, bytes32 seed) external view returns (address);

    /// @notice The current epoch: `block.number / epochBlocks`.
    function epoch() external view returns (uint256);

    /// @notice `worker`'s position in `modelId`'s roster (0 for none) and its weight now and from
    /// the next epoch on.
    function memberOf(uint256 modelId, address worker) external view returns (uint256 position, uint256 current, uint256 next);

    /// @notice The total weight of `modelId`'s roster in the current epoch.
    function totalWeight(uint256 modelId) external view returns (uint256);

    /// @notice The drawing parameters in force.
    function params() external view returns (Params memory);
}
