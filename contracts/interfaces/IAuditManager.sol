// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IDisputeGameFactory} from "./IDisputeGameFactory.sol";
import {IJobManager} from "./IJobManager.sol";
import {IPullPayments} from "./IPullPayments.sol";

/**
 * @title IAuditManager
 * @notice Random audits that pay, funded by a share of every fee (issue 18, docs/ECONOMICS.md). A
 * submitted result is audited with a probability set by its own terms ({auditRate}), drawn from the
 * hash of the block after its submission, which nobody knew when the result was posted. The auditor
 * of each slot is drawn from the model's roster, weighted by stake (never the job's worker); it
 * commits to its own output commitment, reveals it in a later block, and is paid from the pool when
 * its answer stands:
 *  - it agrees and the result is final: its lock back and the reward;
 *  - it agrees and the result is proven wrong: its lock slashed (it vouched for a wrong result);
 *  - it disagrees: a dispute game opens at once with it as challenger ({revealMismatch}); the truth
 *    wins as in any game; if the result is rejected it gets the reward (beside what the game pays),
 *    else its lost bond is its penalty;
 *  - it commits and never reveals, or is drawn and never commits: a small part of the lock
 *    (`auditMissPenaltyBps`) is slashed to the pool.
 * Rewards and every other payout are pull balances ({withdraw}).
 */
interface IAuditManager is IPullPayments {
    /// @notice The governed parameters (one slot).
    /// @param auditReward Tokens the pool pays an audit that stands (at most `MAX_AUDIT_REWARD`),
    /// fixed per audit at its commit.
    /// @param auditRateBps The least audit probability of any job, in basis points (at most 10000).
    /// @param auditSafetyBps The audit probability as a multiple of the job's break-even, in basis
    /// points of it (20000: twice the probability at which cheating breaks even); at most
    /// `MAX_AUDIT_SAFETY_BPS`.
    /// @param auditMissPenaltyBps Share of the job's lock a silent drawn auditor, or one that commits
    /// and never reveals, loses to the pool (at most 10000); fixed per audit at its commit.
    /// @param auditSlotBlocks Blocks each drawn auditor has to commit (at least 1).
    /// @param auditSlots Slots drawn, one after the other (1 to `MAX_AUDIT_SLOTS`), with
    /// `auditSlots * auditSlotBlocks + 1 <= 256` so that every slot's seed hash is readable.
    struct Params {
        uint96 auditReward;
        uint16 auditRateBps;
        uint32 auditSafetyBps;
        uint16 auditMissPenaltyBps;
        uint16 auditSlotBlocks;
        uint8 auditSlots;
    }

    /// @notice Where a job's audit is.
    /// @dev None: no commit (yet). Committed: an auditor committed, not revealed. Passed: it revealed
    /// the worker's output. Mismatch: it revealed another output (a game opened, when the result was
    /// still disputable). Missed: every slot passed with no commit, and the silent auditors were
    /// charged ({reportMissedAudit}).
    enum AuditStatus {
        None,
        Committed,
        Passed,
        Mismatch,
        Missed
    }

    /// @notice A job's audit.
    /// @param auditor The committing auditor (zero before a commit).
    /// @param status Where it is.
    /// @param settled Whether {settleAudit} has paid it out.
    /// @param slot The slot it committed in.
    /// @param commitment What the commit bound: `keccak256(abi.encode(c, workerOutputCommitment))` of
    /// the auditor's commitment `c` ({auditCommitmentOf}) and the worker's output commitment, so that
    /// one word says both what it committed to and what it was compared with.
    /// @param lock The auditor's stake locked (the job's lock).
    /// @param reward The reward in force at the commit (what the pool pays if it stands, as far as the
    /// pool holds it).
    /// @param missPenaltyBps The miss penalty in force at the commit.
    /// @param committedBlock The block of the commit (the reveal is from the next one).
    /// @param game The game its mismatch opened (zero if none).
    struct Audit {
        address auditor;
        AuditStatus status;
        bool settled;
        uint8 slot;
        bytes32 commitment;
        uint96 lock;
        uint96 reward;
        uint16 missPenaltyBps;
        uint64 committedBlock;
        address game;
    }

    /// @notice A job's audit draw at the current block.
    /// @param audited Whether the job is audited (false until its seed block is mined, and once its
    /// seed hash is unreadable).
    /// @param auditor The drawn auditor of the current slot (zero if none: not audited, before the
    /// first slot, after the last, or a slot with nobody to draw).
    /// @param slot The current slot (`auditSlots` once they are over).
    /// @param seedBlock The block whose hash seeds the draw: the submission block + 1.
    /// @param slotEnd The last block of the current slot (of the first, before the seed block).
    /// @param over Every slot has passed (or the seed hash is no longer readable).
    /// @param rateBps The job's audit probability, in basis points ({auditRate}).
    struct Draw {
        bool audited;
        address auditor;
        uint256 slot;
        uint256 seedBlock;
        uint256 slotEnd;
        bool over;
        uint256 rateBps;
    }

    /// @notice Emitted by {commitAudit}: `auditor`, drawn for `slot`, committed and locked `lock`.
    event AuditCommitted(uint256 indexed jobId, address indexed auditor, uint256 slot, uint256 lock);
    /// @notice Emitted by {revealAudit}: the auditor's output is the worker's.
    event AuditPassed(uint256 indexed jobId, address indexed auditor);
    /// @notice Emitted by {revealMismatch}: the auditor's output differs; `game` is the dispute it
    /// opened (zero when the result could no longer be disputed: already rejected).
    event AuditMismatch(uint256 indexed jobId, address indexed auditor, address game);
    /// @notice Emitted when the auditor drawn for `slot` let it pass without committing and lost
    /// `penalty` of its free stake to the pool (zero when it had none free).
    event AuditMissed(uint256 indexed jobId, address indexed auditor, uint256 slot, uint256 penalty);
    /// @notice Emitted by {settleAudit}: `reward` credited to the auditor, `slashed` of its lock taken
    /// to the pool, the rest of the lock released.
    event AuditSettled(uint256 indexed jobId, address indexed auditor, AuditStatus status, uint256 reward, uint256 slashed);
    /// @notice Emitted when tokens enter the pool: fees collected from the escrow, slashes, penalties
    /// and gifts ({fund}).
    event PoolFunded(uint256 amount);
    /// @notice Emitted when the governed parameters are set.
    event ParamsSet(Params params);
    /// @notice Emitted once, when the escrow (and its roster) is bound.
    event EscrowBound(address escrow, address roster);
    /// @notice Emitted when a pull balance grows: `account` was credited `amount` for job `jobId`.
    event BalanceCredited(address indexed account, uint256 indexed jobId, uint256 amount);

    /// @dev A governed parameter out of its bounds, or a deployment argument that is not allowed.
    error AuditManagerInvalidParameter(string name);
    /// @dev The escrow is bound once, at deployment (and must name this contract its audit manager).
    error AuditManagerEscrowBound(address escrow);
    /// @dev No escrow is bound yet.
    error AuditManagerNotBound();
    /// @dev Job `jobId` is not in a status that allows this (`status`).
    error AuditManagerWrongJobStatus(uint256 jobId, IJobManager.JobStatus status);
    /// @dev The terms and output commitment given are not job `jobId`'s submitted result.
    error AuditManagerResultMismatch(uint256 jobId);
    /// @dev Job `jobId`'s challenge window (which bounds its audit) is over since `challengeEnd`.
    error AuditManagerWindowClosed(uint256 jobId, uint256 challengeEnd);
    /// @dev Job `jobId` is not audited (or its seed block is not mined yet, or its seed hash is no
    /// longer readable).
    error AuditManagerNotAudited(uint256 jobId);
    /// @dev Every audit slot of job `jobId` has passed.
    error AuditManagerSlotsOver(uint256 jobId);
    /// @dev The slots of job `jobId` have not all passed yet (the last ends at `lastBlock`).
    error AuditManagerSlotsNotOver(uint256 jobId, uint256 lastBlock);
    /// @dev `caller` is not the auditor of job `jobId` in the current slot: `drawn` is, until block `slotEnd`.
    error AuditManagerNotAuditor(uint256 jobId, address caller, address drawn, uint256 slotEnd);
    /// @dev Job `jobId`'s audit already has a commit (by `auditor`) or is over.
    error AuditManagerAlreadyCommitted(uint256 jobId, address auditor);
    /// @dev Job `jobId` has no committed, unrevealed audit by the caller.
    error AuditManagerNotCommitted(uint256 jobId, address caller);
    /// @dev A reveal must come in a later block than the commit (block `committedBlock`).
    error AuditManagerRevealTooEarly(uint256 jobId, uint256 committedBlock);
    /// @dev The reveal does not open the commitment against the worker's output: a wrong output or
    /// salt, or (for {revealAudit}) an output that differs from the worker's (use {revealMismatch}).
    error AuditManagerCommitmentMismatch(uint256 jobId);
    /// @dev {revealMismatch} of an output equal to the worker's: use {revealAudit}.
    error AuditManagerOutputsAgree(uint256 jobId);
    /// @dev The dispute's claim must be the revealed output: `outputLeaf` (the game's output leaf)
    /// differs from the revealed `auditorOutput`.
    error AuditManagerClaimMismatch(uint256 jobId, bytes32 outputLeaf, bytes32 auditorOutput);
    /// @dev Job `jobId`'s audit has nothing (more) to settle.
    error AuditManagerNothingToSettle(uint256 jobId);
    /// @dev The amount is zero.
    error AuditManagerZeroAmount();

    /// @notice The drawn auditor of the current slot of audited job `jobId` (`terms` and the worker's
    /// `outputCommitment` as submitted) commits to its own output commitment: `commitment` is
    /// {auditCommitmentOf} it. Locks the job's lock of the caller's stake, fixes the reward and the
    /// miss penalty in force, and charges the auditors drawn in earlier slots, who let them pass, the
    /// miss penalty from their free stake. While the job is Submitted and its challenge window open.
    function commitAudit(uint256 jobId, IJobManager.JobTerms calldata terms, bytes32 outputCommitment, bytes32 commitment) external;

    /// @notice The committed auditor, from the block after its commit and before the job's challenge
    /// window ends: reveals an output commitment equal to the worker's. The audit passes.
    function revealAudit(uint256 jobId, bytes32 auditorOutputCommitment, bytes32 salt) external;

    /// @notice The committed auditor, from the block after its commit and before the job's challenge
    /// window ends: reveals an output commitment that differs from the worker's (`o.outputCommitment`)
    /// and opens a dispute game on the job at once with itself as challenger (through the job's
    /// dispute manager's {IDisputeGameFactory-openAuditDispute}: its bond, approved to that factory
    /// beforehand; `o.outputLeaf` must be the revealed output). Returns the game (zero when the
    /// result was already rejected: the mismatch is recorded, nothing to open).
    function revealMismatch(
        uint256 jobId,
        bytes32 auditorOutputCommitment,
        bytes32 salt,
        IDisputeGameFactory.OpenParams calldata o
    ) external returns (address game);

    /// @notice Anyone, once every slot of audited job `jobId` has passed without a commit, while its
    /// seed hash is readable and the job is still submitted and inside its challenge window (so that
    /// every drawn auditor could have committed): charges each drawn auditor the miss penalty. The
    /// audit is then Missed.
    function reportMissedAudit(uint256 jobId, IJobManager.JobTerms calldata terms, bytes32 outputCommitment) external;

    /// @notice Anyone, once job `jobId` is Finalized or Rejected: settles its audit (see the contract's
    /// notice for who gets what).
    function settleAudit(uint256 jobId) external;

    /// @notice Anyone: moves the audit share the escrow credited this contract into the pool.
    function collect() external returns (uint256 amount);

    /// @notice Anyone: adds `amount` tokens (approved beforehand) to the pool.
    function fund(uint256 amount) external;

    /// @notice Job `terms`' audit probability, in basis points:
    /// `min(10000, max(auditRateBps, ceil(auditSafetyBps * w / (w + L))))` with `w` the worker's part
    /// (fee less protocol fee, audit share and model fee) and `L` the job's lock.
    function auditRate(IJobManager.JobTerms calldata terms) external view returns (uint256);

    /// @notice Submitted job `jobId`'s audit draw at the current block.
    function auditDraw(uint256 jobId, IJobManager.JobTerms calldata terms) external view returns (Draw memory);

    /// @notice Job `jobId`'s audit.
    function auditOf(uint256 jobId) external view returns (Audit memory);

    /// @notice Tokens the pool can pay rewards from: held here, plus the escrow's credit not yet collected.
    function pool() external view returns (uint256);

    /// @notice The governed parameters in force.
    function params() external view returns (Params memory);

    /// @notice The commitment an auditor commits: `keccak256(abi.encode(jobId, auditor, auditorOutputCommitment, salt))`.
    function auditCommitmentOf(uint256 jobId, address auditor, bytes32 auditorOutputCommitment, bytes32 salt) external pure returns (bytes32);
}
