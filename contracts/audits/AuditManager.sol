// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

import {IAuditManager} from "../interfaces/IAuditManager.sol";
import {IDisputeGameFactory} from "../interfaces/IDisputeGameFactory.sol";
import {IJobManager} from "../interfaces/IJobManager.sol";
import {IStaking} from "../interfaces/IStaking.sol";
import {IWorkerRoster} from "../interfaces/IWorkerRoster.sol";
import {BPS, FeeSplit} from "../libraries/FeeSplit.sol";
import {PullPayments} from "../payments/PullPayments.sol";

/**
 * @title AuditManager
 * @notice The audit pool and each job's audit (see {IAuditManager}; docs/ECONOMICS.md for the rule
 * and its parameters).
 * @dev Randomness: a job's audit (whether, and who) is drawn from the hash of the block after its
 * submission ({IJobManager-submittedBlock}), which the worker could not know when it posted the
 * result; the auditor of each slot is drawn by the escrow's roster from the weights of the current
 * epoch (a weight change takes effect only in the next epoch, as for claims). The worker is never its
 * own auditor (a draw that falls on it is redrawn once, then the slot has nobody).
 *
 * Copying: an auditor commits to `keccak256(abi.encode(jobId, auditor, output, salt))` and reveals
 * in a later block. The commitment names the auditor, so nobody can reuse another's, and only one
 * auditor commits per job, so there is nothing to copy but the worker's own (public) output: an
 * auditor that agrees without computing vouches for it, and loses its lock if the result is proven
 * wrong.
 *
 * Funds: this contract holds the pool (`_pool`) and the auditors' pull balances; its token balance
 * is exactly their sum. Tokens enter the pool from the escrow's audit share of each finalized fee
 * ({collect}), from slashes and penalties, and from gifts ({fund}); they leave it only as the
 * rewards of audits that stood, credited to their auditors. A reward is paid as far as the pool
 * holds it at settlement: what the pool lacks is not paid, and not owed later (an owed reward
 * would be a claim on future fees that nobody bounded).
 *
 * Stakes: this contract is a Staking operator (appointed before the operator set was sealed). It
 * locks an auditor's stake at its commit, and unlocks or slashes it at settlement, by the rules
 * above and nothing else; a silent drawn auditor's penalty is taken from its free stake (locked and
 * slashed at once, capped at what is free). None of this is an admin power over users' funds: the
 * owner (the timelock) only sets the bounded {Params} (the reward, the rate, the penalty, the
 * slots); it has no function that moves the pool, a balance or a stake, the escrow and the roster
 * are bound once at deployment, and Staking's operators are sealed, so no later vote can add a
 * contract that reaches a stake. The reward and the penalty of an audit are fixed at its commit, and
 * its lock is the job's, so a parameter change reaches no audit already committed.
 */
contract AuditManager is IAuditManager, Ownable, PullPayments {
    using SafeERC20 for IERC20;

    /// @notice Highest reward governance may set (1,000 tokens of 18 decimals).
    uint256 public constant MAX_AUDIT_REWARD = 1_000 ether;
    /// @notice Highest safety factor governance may set: 100 times the break-even probability.
    uint256 public constant MAX_AUDIT_SAFETY_BPS = 1_000_000;
    /// @notice Most slots an audit may draw (each draw is a roster read; a commit in slot s charges the s before).
    uint256 public constant MAX_AUDIT_SLOTS = 16;
    /// @dev How far back `blockhash` reaches.
    uint256 private constant SEED_REACH = 256;

    /// @dev A job's audit as stored: three slots at a commit (the game's, a fourth, only at a mismatch).
    struct Record {
        address auditor;
        uint96 lock;
        bytes32 commitment;
        uint96 reward;
        uint64 committedBlock;
        uint16 missPenaltyBps;
        uint8 slot;
        AuditStatus status;
        bool settled;
        address game;
    }

    /// @notice The protocol token (the pool, rewards, slashes).
    IERC20 public immutable token;
    /// @notice Where auditors' stakes are locked and slashed.
    IStaking public immutable staking;
    /// @notice The job escrow whose results this contract audits (bound once, at deployment).
    IJobManager public jobManager;
    /// @notice The escrow's roster, which draws the auditors (read from the escrow at binding).
    IWorkerRoster public roster;

    Params private _params;
    /// @dev Tokens held for rewards (the rest of this contract's balance is the auditors' balances).
    uint256 private _pool;
    mapping(uint256 jobId => Record) private _records;

    /// @param token_ The protocol token.
    /// @param staking_ The stakes (this contract must be made an operator before they are sealed).
    /// @param owner_ The owner: the deployer, which binds the escrow and hands ownership to the timelock.
    /// @param params_ The initial governed parameters.
    constructor(IERC20 token_, IStaking staking_, address owner_, Params memory params_) Ownable(owner_) {
        token = token_;
        staking = staking_;
        _setParams(params_);
    }

    // ---------------------------------------------------------------- auditors

    /// @inheritdoc IAuditManager
    function commitAudit(
        uint256 jobId,
        IJobManager.JobTerms calldata t,
        bytes32 outputCommitment,
        bytes32 commitment
    ) external nonReentrant {
        (Record storage r, address worker, Draw memory d, bytes32 seedHash) = _uncommitted(jobId, t, outputCommitment);
        if (d.over) revert AuditManagerSlotsOver(jobId);
        // INVARIANT: only the auditor drawn for the current slot commits (never the worker).
        if (msg.sender != d.auditor) revert AuditManagerNotAuditor(jobId, msg.sender, d.auditor, d.slotEnd);

        Params memory p = _params;
        r.auditor = msg.sender;
        r.lock = t.lock;
        // Bound to the worker's output, so that the reveal says pass or mismatch without the terms.
        r.commitment = keccak256(abi.encode(commitment, outputCommitment));
        r.reward = p.auditReward;
        r.committedBlock = uint64(block.number);
        r.missPenaltyBps = p.auditMissPenaltyBps;
        r.slot = uint8(d.slot);
        r.status = AuditStatus.Committed;
        emit AuditCommitted(jobId, msg.sender, d.slot, t.lock);

        staking.lock(msg.sender, t.lock);
        if (d.slot != 0) _chargeMissed(jobId, t, worker, seedHash, d.slot, msg.sender, p.auditMissPenaltyBps);
    }

    /// @inheritdoc IAuditManager
    function revealAudit(uint256 jobId, bytes32 auditorOutputCommitment, bytes32 salt) external nonReentrant {
        Record storage r = _revealable(jobId);
        // The output revealed is the worker's iff it opens the commitment as bound to the worker's output.
        bytes32 c = _commitmentOf(jobId, msg.sender, auditorOutputCommitment, salt);
        if (keccak256(abi.encode(c, auditorOutputCommitment)) != r.commitment) revert AuditManagerCommitmentMismatch(jobId);
        r.status = AuditStatus.Passed;
        emit AuditPassed(jobId, msg.sender);
    }

    /// @inheritdoc IAuditManager
    function revealMismatch(
        uint256 jobId,
        bytes32 auditorOutputCommitment,
        bytes32 salt,
        IDisputeGameFactory.OpenParams calldata o
    ) external nonReentrant returns (address game) {
        Record storage r = _revealable(jobId);
        bytes32 c = _commitmentOf(jobId, msg.sender, auditorOutputCommitment, salt);
        // `o.outputCommitment` must be the worker's output the commit was bound to.
        if (keccak256(abi.encode(c, o.outputCommitment)) != r.commitment) revert AuditManagerCommitmentMismatch(jobId);
        if (auditorOutputCommitment == o.outputCommitment) revert AuditManagerOutputsAgree(jobId);
        // INVARIANT: the game plays the output the auditor committed to, nothing chosen after.
        if (o.outputLeaf != auditorOutputCommitment) revert AuditManagerClaimMismatch(jobId, o.outputLeaf, auditorOutputCommitment);
        r.status = AuditStatus.Mismatch;

        // A result already rejected (by another dispute) needs no game: the mismatch stands as recorded.
        if (jobManager.getJob(jobId).status == IJobManager.JobStatus.Submitted) {
            // The job's own dispute manager (of its parameter version) opens the game.
            (, address factory) = jobManager.paramsAt(o.terms.paramsVersion);
            game = IDisputeGameFactory(factory).openAuditDispute(msg.sender, jobId, o);
            r.game = game;
        }
        emit AuditMismatch(jobId, msg.sender, game);
    }

    /// @inheritdoc IAuditManager
    function reportMissedAudit(uint256 jobId, IJobManager.JobTerms calldata t, bytes32 outputCommitment) external nonReentrant {
        // Only auditors that could have committed are charged: the same checks as a commit's. A commit
        // needs the job submitted and inside its window; both only ever end, so if they hold now they
        // held in every slot before. Once either ended (possibly before the last slots began) nobody
        // is charged: a drawn auditor must not pay for a slot in which committing was impossible.
        (Record storage r, address worker, Draw memory d, bytes32 seedHash) = _uncommitted(jobId, t, outputCommitment);
        Params memory p = _params;
        if (!d.over) revert AuditManagerSlotsNotOver(jobId, d.seedBlock + uint256(p.auditSlots) * p.auditSlotBlocks);
        r.status = AuditStatus.Missed;
        _chargeMissed(jobId, t, worker, seedHash, p.auditSlots, address(0), p.auditMissPenaltyBps);
    }

    // ---------------------------------------------------------------- settlement

    /// @inheritdoc IAuditManager
    function settleAudit(uint256 jobId) external nonReentrant {
        Record storage r = _records[jobId];
        AuditStatus status = r.status;
        if (r.settled || status == AuditStatus.None || status == AuditStatus.Missed) revert AuditManagerNothingToSettle(jobId);
        IJobManager.JobStatus jobStatus = _bound().getJob(jobId).status;
        bool finalized = jobStatus == IJobManager.JobStatus.Finalized;
        if (!finalized && jobStatus != IJobManager.JobStatus.Rejected) revert AuditManagerWrongJobStatus(jobId, jobStatus);
        r.settled = true;
        address auditor = r.auditor;
        uint256 lock = r.lock;

        uint256 slashed;
        bool earns;
        if (status == AuditStatus.Committed) {
            // Committed and never revealed: the miss penalty of the commit's time.
            slashed = FeeSplit.share(lock, r.missPenaltyBps);
        } else if (status == AuditStatus.Passed) {
            // It vouched for the result: paid if it stands, slashed like its worker if proven wrong.
            if (finalized) earns = true;
            else slashed = lock;
        } else {
            // It disagreed: paid if the result fell; if it stood, the auditor's lost bond was its price.
            earns = !finalized;
        }

        uint256 reward = earns ? _payReward(auditor, jobId, r.reward) : 0;
        if (slashed != 0) {
            _pool += slashed;
            emit PoolFunded(slashed);
        }
        emit AuditSettled(jobId, auditor, status, reward, slashed);
        if (slashed != 0) staking.slash(auditor, slashed, address(this));
        if (lock > slashed) staking.unlock(auditor, lock - slashed);
    }

    /// @inheritdoc IAuditManager
    function collect() external nonReentrant returns (uint256 amount) {
        return _collect();
    }

    /// @inheritdoc IAuditManager
    function fund(uint256 amount) external nonReentrant {
        if (amount == 0) revert AuditManagerZeroAmount();
        _pool += amount;
        emit PoolFunded(amount);
        token.safeTransferFrom(msg.sender, address(this), amount);
    }

    // ---------------------------------------------------------------- governance

    /// @notice Deployment only: binds the escrow this contract audits, once. The escrow must name this
    /// contract its audit manager and have a roster (audits draw from it); its token must be this one's.
    function bindEscrow(IJobManager jobManager_) external onlyOwner {
        if (address(jobManager) != address(0)) revert AuditManagerEscrowBound(address(jobManager));
        if (address(jobManager_) == address(0) || jobManager_.auditManager() != address(this)) revert AuditManagerInvalidParameter("escrow");
        if (address(jobManager_.token()) != address(token)) revert AuditManagerInvalidParameter("token");
        address roster_ = address(_rosterOf(jobManager_));
        if (roster_ == address(0)) revert AuditManagerInvalidParameter("roster");
        jobManager = jobManager_;
        roster = IWorkerRoster(roster_);
        emit EscrowBound(address(jobManager_), roster_);
    }

    /// @notice Owner (the timelock): sets the governed parameters. An audit already committed keeps its
    /// reward, penalty and lock; the draw of slots not yet committed follows the parameters of each block.
    function setParams(Params calldata params_) external onlyOwner {
        _setParams(params_);
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc IAuditManager
    function auditRate(IJobManager.JobTerms calldata t) external view returns (uint256) {
        _bound();
        return _rate(t);
    }

    /// @inheritdoc IAuditManager
    function auditDraw(uint256 jobId, IJobManager.JobTerms calldata t) external view returns (Draw memory d) {
        (d, ) = _draw(jobId, t, _bound().getJob(jobId).worker);
    }

    /// @inheritdoc IAuditManager
    function auditOf(uint256 jobId) external view returns (Audit memory a) {
        Record storage r = _records[jobId];
        a.auditor = r.auditor;
        a.status = r.status;
        a.settled = r.settled;
        a.slot = r.slot;
        a.commitment = r.commitment;
        a.lock = r.lock;
        a.reward = r.reward;
        a.missPenaltyBps = r.missPenaltyBps;
        a.committedBlock = r.committedBlock;
        a.game = r.game;
    }

    /// @inheritdoc IAuditManager
    function pool() external view returns (uint256) {
        if (address(jobManager) == address(0)) return _pool;
        return _pool + jobManager.balanceOf(address(this));
    }

    /// @inheritdoc IAuditManager
    function params() external view returns (Params memory) {
        return _params;
    }

    /// @inheritdoc IAuditManager
    function auditCommitmentOf(uint256 jobId, address auditor, bytes32 auditorOutputCommitment, bytes32 salt) external pure returns (bytes32) {
        return _commitmentOf(jobId, auditor, auditorOutputCommitment, salt);
    }

    // ---------------------------------------------------------------- internals

    /// @dev The bound escrow (reverts {AuditManagerNotBound} before binding).
    function _bound() private view returns (IJobManager) {
        IJobManager j = jobManager;
        if (address(j) == address(0)) revert AuditManagerNotBound();
        return j;
    }

    /// @dev Job `jobId` as stored, after checking that `t` and `outputCommitment` are its submitted result.
    function _result(uint256 jobId, IJobManager.JobTerms calldata t, bytes32 outputCommitment) private view returns (IJobManager.Job memory job) {
        IJobManager j = _bound();
        job = j.getJob(jobId);
        IJobManager.JobStatus s = job.status;
        if (s != IJobManager.JobStatus.Submitted && s != IJobManager.JobStatus.Finalized && s != IJobManager.JobStatus.Rejected) {
            revert AuditManagerWrongJobStatus(jobId, s);
        }
        if (j.resultHash(t, outputCommitment) != job.commitment) revert AuditManagerResultMismatch(jobId);
    }

    /// @dev Job `jobId`'s audit record, still uncommitted, with the job's worker and its draw now, after
    /// checking what a commit (or a report of a commit that never came) needs: `t` and
    /// `outputCommitment` are its submitted result, still inside its challenge window, and drawn for audit.
    function _uncommitted(
        uint256 jobId,
        IJobManager.JobTerms calldata t,
        bytes32 outputCommitment
    ) private view returns (Record storage r, address worker, Draw memory d, bytes32 seedHash) {
        r = _records[jobId];
        if (r.status != AuditStatus.None) revert AuditManagerAlreadyCommitted(jobId, r.auditor);
        IJobManager.Job memory job = _result(jobId, t, outputCommitment);
        if (job.status != IJobManager.JobStatus.Submitted) revert AuditManagerWrongJobStatus(jobId, job.status);
        if (block.timestamp >= job.timer) revert AuditManagerWindowClosed(jobId, job.timer);
        worker = job.worker;
        (d, seedHash) = _draw(jobId, t, worker);
        if (!d.audited) revert AuditManagerNotAudited(jobId);
    }

    /// @dev The caller's committed, unrevealed audit of job `jobId`, in its reveal window: from the block
    /// after the commit until the job's challenge window ends.
    function _revealable(uint256 jobId) private view returns (Record storage r) {
        r = _records[jobId];
        if (r.status != AuditStatus.Committed || r.auditor != msg.sender) revert AuditManagerNotCommitted(jobId, msg.sender);
        if (block.number <= r.committedBlock) revert AuditManagerRevealTooEarly(jobId, r.committedBlock);
        uint256 challengeEnd = jobManager.getJob(jobId).timer;
        if (block.timestamp >= challengeEnd) revert AuditManagerWindowClosed(jobId, challengeEnd);
    }

    /// @dev Job `t`'s audit probability (see {auditRate}).
    function _rate(IJobManager.JobTerms calldata t) private view returns (uint256 rate) {
        (uint256 protocolFee, uint256 auditFee) = jobManager.feeSplit(t);
        // The request checked fee - protocolFee - auditFee >= modelFee (+ a callback fee).
        uint256 w = t.fee - protocolFee - auditFee - t.modelFee;
        Params memory p = _params;
        rate = p.auditRateBps;
        if (w != 0) {
            // ceil(safety * w / (w + L)), w + L > 0 here.
            uint256 denominator = w + t.lock;
            uint256 byRisk = (uint256(p.auditSafetyBps) * w + denominator - 1) / denominator;
            if (byRisk > rate) rate = byRisk;
        }
        if (rate > BPS) rate = BPS;
    }

    /// @dev Job `jobId`'s draw now (see {Draw}), with its seed hash (zero when not readable).
    function _draw(uint256 jobId, IJobManager.JobTerms calldata t, address worker) private view returns (Draw memory d, bytes32 seedHash) {
        Params memory p = _params;
        d.seedBlock = jobManager.submittedBlock(jobId) + 1;
        d.rateBps = _rate(t);
        if (block.number <= d.seedBlock) {
            d.slotEnd = d.seedBlock + p.auditSlotBlocks;
            return (d, 0);
        }
        uint256 elapsed = block.number - d.seedBlock;
        d.slot = (elapsed - 1) / p.auditSlotBlocks;
        if (elapsed > SEED_REACH) {
            d.over = true;
            d.slot = p.auditSlots;
            return (d, 0);
        }
        seedHash = blockhash(d.seedBlock);
        d.audited = uint256(keccak256(abi.encode(seedHash, jobId, "audit"))) % BPS < d.rateBps;
        if (d.slot >= p.auditSlots) {
            d.over = true;
            d.slot = p.auditSlots;
            return (d, seedHash);
        }
        d.slotEnd = d.seedBlock + (d.slot + 1) * p.auditSlotBlocks;
        if (d.audited) d.auditor = _auditorAt(t.modelId, seedHash, jobId, d.slot, worker);
    }

    /// @dev The auditor drawn for `slot`: the roster's draw, redrawn once if it is the worker; zero if
    /// the redraw is the worker too (or the roster is empty).
    function _auditorAt(uint256 modelId, bytes32 seedHash, uint256 jobId, uint256 slot, address worker) private view returns (address a) {
        IWorkerRoster r = roster;
        a = r.draw(modelId, keccak256(abi.encode(seedHash, jobId, "auditor", slot)));
        if (a == worker) a = r.draw(modelId, keccak256(abi.encode(seedHash, jobId, "auditor", slot, uint256(1))));
        if (a == worker) a = address(0);
    }

    /// @dev Charges the auditors drawn in slots `0 .. slots - 1` (each account once per job, and never
    /// `exclude`, the committing auditor) the miss penalty from their free stake.
    function _chargeMissed(
        uint256 jobId,
        IJobManager.JobTerms calldata t,
        address worker,
        bytes32 seedHash,
        uint256 slots,
        address exclude,
        uint256 missPenaltyBps
    ) private {
        uint256 penalty = FeeSplit.share(t.lock, missPenaltyBps);
        uint256 minStake = staking.minStake();
        address[] memory drawn = new address[](slots);
        for (uint256 s = 0; s < slots; ++s) {
            address a = _auditorAt(t.modelId, seedHash, jobId, s, worker);
            drawn[s] = a;
            if (a == address(0) || a == exclude || _seen(drawn, s, a)) continue;
            emit AuditMissed(jobId, a, s, _penalize(a, penalty, minStake));
        }
    }

    /// @dev Whether `a` is among `drawn[0 .. n - 1]`.
    function _seen(address[] memory drawn, uint256 n, address a) private pure returns (bool) {
        for (uint256 i = 0; i < n; ++i) if (drawn[i] == a) return true;
        return false;
    }

    /// @dev Takes up to `amount` of `staker`'s free stake into the pool (lock, then slash: Staking slashes
    /// only locked stake); nothing from a staker below the minimum stake, which Staking cannot lock.
    function _penalize(address staker, uint256 amount, uint256 minStake) private returns (uint256 taken) {
        IStaking.StakeInfo memory info = staking.stakeOf(staker);
        if (info.staked < minStake) return 0;
        uint256 free = info.staked - info.locked;
        taken = amount < free ? amount : free;
        if (taken == 0) return 0;
        _pool += taken;
        emit PoolFunded(taken);
        staking.lock(staker, taken);
        staking.slash(staker, taken, address(this));
    }

    /// @dev Credits `auditor` the reward `amount`, as far as the pool holds it (collecting the escrow's
    /// credit first when the pool alone is short). Returns what was credited.
    function _payReward(address auditor, uint256 jobId, uint256 amount) private returns (uint256 paid) {
        if (_pool < amount) _collect();
        uint256 available = _pool;
        paid = amount < available ? amount : available;
        _pool = available - paid;
        if (_addBalance(auditor, paid)) emit BalanceCredited(auditor, jobId, paid);
    }

    /// @dev Moves the escrow's credit to this contract into the pool.
    function _collect() private returns (uint256 amount) {
        IJobManager j = _bound();
        amount = j.balanceOf(address(this));
        if (amount == 0) return 0;
        _pool += amount;
        emit PoolFunded(amount);
        j.withdraw();
    }

    /// @inheritdoc PullPayments
    function _paymentToken() internal view override returns (IERC20) {
        return token;
    }

    function _commitmentOf(uint256 jobId, address auditor, bytes32 output, bytes32 salt) private pure returns (bytes32) {
        return keccak256(abi.encode(jobId, auditor, output, salt));
    }

    /// @dev The escrow's roster, read through a minimal call (the escrow's `roster` getter is not in
    /// {IJobManager}).
    function _rosterOf(IJobManager j) private view returns (IWorkerRoster) {
        return RosterOf(address(j)).roster();
    }

    function _setParams(Params memory p) private {
        if (p.auditReward > MAX_AUDIT_REWARD) revert AuditManagerInvalidParameter("auditReward");
        if (p.auditRateBps > BPS) revert AuditManagerInvalidParameter("auditRateBps");
        if (p.auditSafetyBps > MAX_AUDIT_SAFETY_BPS) revert AuditManagerInvalidParameter("auditSafetyBps");
        if (p.auditMissPenaltyBps > BPS) revert AuditManagerInvalidParameter("auditMissPenaltyBps");
        if (p.auditSlotBlocks == 0) revert AuditManagerInvalidParameter("auditSlotBlocks");
        // Every slot's seed hash must be readable: the last slot ends auditSlots * auditSlotBlocks
        // blocks after the seed block, and blockhash reaches 256 back.
        if (p.auditSlots == 0 || p.auditSlots > MAX_AUDIT_SLOTS || uint256(p.auditSlots) * p.auditSlotBlocks + 1 > SEED_REACH) {
            revert AuditManagerInvalidParameter("auditSlots");
        }
        _params = p;
        emit ParamsSet(p);
    }
}

/// @dev The escrow's public `roster` getter (JobManager's immutable).
interface RosterOf {
    function roster() external view returns (IWorkerRoster);
}
