// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {BPS} from "../../../contracts/libraries/FeeSplit.sol";
import {IJobManager} from "../../../contracts/interfaces/IJobManager.sol";
import {IAuditManager} from "../../../contracts/interfaces/IAuditManager.sol";
import {IDisputeGameFactory} from "../../../contracts/interfaces/IDisputeGameFactory.sol";
import {IStaking} from "../../../contracts/interfaces/IStaking.sol";
import {IWorkerRoster} from "../../../contracts/interfaces/IWorkerRoster.sol";
import {DisputeGame} from "../../../contracts/disputes/DisputeGame.sol";
import {DisputeGameFactory} from "../../../contracts/disputes/DisputeGameFactory.sol";
import {GameStatus} from "../../../contracts/disputes/lib/Types.sol";

import {Vm, VM_ADDRESS} from "../utils/Vm.sol";
import {TestData, Terms, Deployment} from "../utils/Protocol.sol";

/// @dev A job's audit draw at the current block, as the handler's own model computes it.
struct Expected {
    bool readable;
    bool audited;
    bool over;
    uint256 slot;
    address auditor;
    bytes32 seedHash;
    uint256 rateBps;
}

/**
 * @title AuditHandler
 * @notice Drives the audit manager with random actions for the invariant tests: jobs requested,
 * claimed and answered right or wrong by several workers; audits committed by the auditor drawn for
 * the current slot (the handler computes the draw itself, from the roster and the seed block's
 * hash, and checks {IAuditManager-auditDraw} against it), each one honest, a copier of the worker's
 * output, lazy (commits and never reveals) or wrong; strangers and the worker trying to commit in
 * the drawn auditor's place; reveals that pass or open a game (played by real {DisputeGame}s, ended
 * by timeout: a worker with a wrong result stays silent, one with a right result defends and the
 * auditor then misses its move, so the truth wins); verifiers disputing wrong results the audits let
 * through; silent drawn auditors reported; finalizations, settlements, withdrawals, gifts to the pool,
 * and governance changing the audit and fee parameters between steps.
 *
 * Each action predicts what must move from its own records (the ghost accounting below: the pool's
 * income and payouts, every lock and slash, who was drawn) and counts a mismatch in `violations`
 * (a revert would be swallowed by the invariant runner).
 */
contract AuditHandler {
    Vm private constant vm = Vm(VM_ADDRESS);

    uint32 private constant TRUE_OUTPUT = 42;
    uint32 private constant WRONG_OUTPUT = 666;
    /// @dev What a wrong auditor commits to (neither the true output nor the rogue's).
    uint32 private constant AUDITOR_ERROR = 7;
    /// @dev How an auditor behaves once drawn.
    enum Kind {
        Honest,
        Copier,
        Lazy,
        Wrong
    }

    /// @notice The handler's own record of a job and its audit.
    struct JobGhost {
        IJobManager.JobTerms t;
        bytes32 output;
        address worker;
        bool wrong;
        uint64 submittedBlock;
        // the audit
        bool committed;
        bool revealed;
        bool revealedOk;
        bool settled;
        bool reported;
        bool feeCounted;
        Kind kind;
        /// The auditor the handler computed as drawn for the slot and block of the commit (before it).
        address drawnAtCommit;
        address auditor;
        uint8 slot;
        uint96 lock;
        uint96 reward;
        uint16 missBps;
        bytes32 auditorOutput;
        bytes32 salt;
        uint64 committedBlock;
    }

    /// @dev An open game and the side the truth is on.
    struct GameGhost {
        uint256 jobId;
        bool challengerRight;
        bool ended;
    }


    Deployment private d;
    DisputeGameFactory public immutable factory;
    uint256 public immutable modelId;
    address private immutable _requester;
    address private immutable _verifier;
    address[] private _actors;
    bytes private _header;
    bytes32[] private _headerProof;

    uint256[] private _jobs;
    mapping(uint256 jobId => JobGhost) private _ghosts;
    address[] private _games;
    mapping(address game => GameGhost) private _gameGhosts;
    uint256 private _salts;
    AuditDrawModel public immutable model;

    // ------------------------------------------------------------ ghosts

    /// @notice What the escrow, the audit manager, the factory and the stakes held when the handler was made.
    uint256 public immutable initialHoldings;
    /// @notice Tokens paid into those contracts by the actions (fees, stakes, bonds, gifts).
    uint256 public ghostIn;
    /// @notice Tokens withdrawn from them (pull balances).
    uint256 public ghostOut;
    /// @notice Tokens burned (only by games that end).
    uint256 public ghostBurned;
    /// @notice What entered the pool: audit shares of finalized fees, slashes, penalties, {fund}.
    uint256 public ghostPoolIn;
    /// @notice What the pool paid: rewards credited to auditors.
    uint256 public ghostRewards;
    /// @notice Rewards withdrawn from the audit manager.
    uint256 public ghostAuditWithdrawn;
    /// @notice Tokens sent straight to the audit manager (not through {fund}: not in the pool).
    uint256 public ghostDonated;
    /// @notice Penalties charged to silent drawn auditors (part of `ghostPoolIn`).
    uint256 public ghostPenalties;

    uint256 public violations;
    string public firstViolation;
    mapping(bytes32 action => uint256) public calls;

    /// @dev Only a game that ends burns (the factory's share of a lost bond or slash).
    modifier burnsNothing() {
        uint256 supply = d.token.totalSupply();
        _;
        if (d.token.totalSupply() != supply) _violation("burned outside a game's end");
    }

    constructor(
        Deployment memory deployment,
        DisputeGameFactory factory_,
        uint256 modelId_,
        address requester,
        address verifier,
        address[] memory actors_,
        bytes memory header,
        bytes32[] memory headerProof
    ) {
        d = deployment;
        factory = factory_;
        modelId = modelId_;
        _requester = requester;
        _verifier = verifier;
        _actors = actors_;
        _header = header;
        _headerProof = headerProof;
        model = new AuditDrawModel(deployment.audits, deployment.jobs, deployment.roster, deployment.staking, modelId_);
        initialHoldings = _systemHoldings();
    }

    // ------------------------------------------------------------ views for the invariants

    function jobs() external view returns (uint256[] memory) {
        return _jobs;
    }

    function actors() external view returns (address[] memory) {
        return _actors;
    }

    function ghostOf(uint256 jobId) external view returns (JobGhost memory) {
        return _ghosts[jobId];
    }

    /// @notice What the escrow, the audit manager, the factory and the stakes hold now.
    function systemHoldings() external view returns (uint256) {
        return _systemHoldings();
    }

    /// @notice What `a` must have locked by the handler's own records: the locks of its jobs not yet
    /// finalized or rejected, and of its audits not yet settled.
    function expectedLocked(address a) external view returns (uint256 locked) {
        for (uint256 i = 0; i < _jobs.length; ++i) {
            JobGhost storage g = _ghosts[_jobs[i]];
            if (g.worker == a && d.jobs.getJob(_jobs[i]).status == IJobManager.JobStatus.Submitted) locked += g.t.lock;
            if (g.committed && g.auditor == a && !g.settled) locked += g.lock;
        }
    }

    // ------------------------------------------------------------ actions: jobs

    /// @notice A job requested, claimed by a worker once the roster's slot has passed (open to all),
    /// and answered with the true output or a wrong one.
    function submitJob(uint256 workerSeed, uint256 extra, bool wrong) external burnsNothing {
        (uint96 price, , , ) = d.registry.pricing(modelId);
        uint256 fee = d.jobs.minimumFee(price) + (extra % 30 ether);
        IJobManager.RequestParams memory rp = TestData.request(modelId, TestData.tensor4(7), fee, block.timestamp + 2 hours);
        IJobManager.JobTerms memory t = Terms.expected(d.jobs, d.registry, _requester, rp);
        vm.prank(_requester);
        uint256 jobId = d.jobs.requestInference(rp);
        ghostIn += fee;
        // The roster's one drawn slot passes: anyone serving the model may claim.
        _roll(3);
        address worker = _actors[workerSeed % _actors.length];
        _ensureFree(worker, t.lock);
        uint32 value = wrong ? WRONG_OUTPUT : TRUE_OUTPUT;
        bytes memory output = TestData.tensor4(value);
        bytes32 out = TestData.commitOneChunk(output);
        vm.startPrank(worker);
        d.jobs.claim(jobId, t);
        d.jobs.submitResult(jobId, t, output, out);
        vm.stopPrank();
        if (d.jobs.submittedBlock(jobId) != block.number) _violation("submission block");

        JobGhost storage g = _ghosts[jobId];
        g.t = t;
        g.output = out;
        g.worker = worker;
        g.wrong = wrong;
        g.submittedBlock = uint64(block.number);
        _jobs.push(jobId);
        calls["submitJob"]++;
    }

    /// @notice A submitted job with no open game finalizes once its window is over; the pool's share
    /// of its fee is credited to the audit manager.
    function finalize(uint256 jobSeed) external burnsNothing {
        uint256 jobId = _pick(jobSeed, IJobManager.JobStatus.Submitted);
        if (jobId == 0) return;
        IJobManager.Job memory job = d.jobs.getJob(jobId);
        if (job.openDisputes != 0) return;
        if (block.timestamp < job.timer) vm.warp(job.timer);
        JobGhost storage g = _ghosts[jobId];
        uint256 poolBefore = d.audits.pool();
        d.jobs.finalize(jobId, g.t, g.output);
        // The audit share of the job's parameter version, computed here, not read from the escrow.
        (IJobManager.Params memory p, ) = d.jobs.paramsAt(g.t.paramsVersion);
        uint256 share = (uint256(g.t.fee) * p.auditFeeBps) / BPS;
        if (d.audits.pool() - poolBefore != share) _violation("pool share of a finalized fee");
        ghostPoolIn += share;
        g.feeCounted = true;
        calls["finalize"]++;
    }

    // ------------------------------------------------------------ actions: audits

    /// @notice The auditor drawn for the current slot of a job commits (moving into the slots first
    /// when its seed block is not mined yet); a stranger and the worker are refused first. Auditors of
    /// earlier slots that were silent pay the miss penalty from their free stake.
    function commitAudit(uint256 jobSeed, uint256 kindSeed, uint256 wait) external burnsNothing {
        uint256 jobId = _pickUnaudited(jobSeed);
        if (jobId == 0) return;
        JobGhost storage g = _ghosts[jobId];
        uint256 seedBlock = uint256(g.submittedBlock) + 1;
        if (block.number <= seedBlock) _roll(seedBlock + 1 - block.number + (wait % 6));
        IJobManager.Job memory job = d.jobs.getJob(jobId);
        if (block.timestamp >= job.timer) return;

        Expected memory e = _expected(jobId);
        _checkDraw(jobId, e);
        address stranger = _actors[(kindSeed >> 8) % _actors.length];
        // Who may commit now, by the handler's draw (compared with the audit manager's record by the
        // invariant on who committed).
        g.drawnAtCommit = e.auditor;
        if (!e.audited || e.over || e.auditor == address(0)) {
            // Nobody may commit: try one account anyway.
            _tryCommit(jobId, stranger, "commit with nobody drawn");
            calls["commitRefused"]++;
            return;
        }
        if (stranger != e.auditor && _tryCommit(jobId, stranger, "a stranger committed")) return;
        if (g.worker != e.auditor && _tryCommit(jobId, g.worker, "the worker committed")) return;
        calls["commitIntruderRefused"]++;

        _commit(jobId, e, Kind(kindSeed % 4));
    }

    /// @dev The drawn auditor `e.auditor` commits as a `kind` auditor; the penalties it charges are checked.
    function _commit(uint256 jobId, Expected memory e, Kind kind) private {
        JobGhost storage g = _ghosts[jobId];
        bytes32 mine = kind == Kind.Copier
            ? g.output
            : TestData.commitOneChunk(TestData.tensor4(kind == Kind.Wrong ? AUDITOR_ERROR : TRUE_OUTPUT));
        bytes32 salt = bytes32(++_salts);
        bytes32 commitment = d.audits.auditCommitmentOf(jobId, e.auditor, mine, salt);
        if (commitment != keccak256(abi.encode(jobId, e.auditor, mine, salt))) _violation("commitment formula");
        _ensureFree(e.auditor, g.t.lock);

        // Penalties of the silent auditors of the earlier slots, predicted from their stakes now.
        (address[] memory charged, uint256[] memory penalties, uint256[] memory stakesBefore) = _predictMissed(
            jobId,
            e,
            e.slot,
            e.auditor
        );
        IAuditManager.Params memory p = d.audits.params();
        IStaking.StakeInfo memory mineBefore = d.staking.stakeOf(e.auditor);
        uint256 poolBefore = d.audits.pool();

        vm.prank(e.auditor);
        d.audits.commitAudit(jobId, g.t, g.output, commitment);

        g.committed = true;
        g.kind = kind;
        g.auditor = e.auditor;
        g.slot = uint8(e.slot);
        g.lock = g.t.lock;
        g.reward = p.auditReward;
        g.missBps = p.auditMissPenaltyBps;
        g.auditorOutput = mine;
        g.salt = salt;
        g.committedBlock = uint64(block.number);

        IStaking.StakeInfo memory mineAfter = d.staking.stakeOf(e.auditor);
        if (mineAfter.locked != mineBefore.locked + g.t.lock || mineAfter.staked != mineBefore.staked) _violation("commit lock");
        uint256 total = _checkCharged(charged, penalties, stakesBefore);
        if (d.audits.pool() != poolBefore + total) _violation("penalties to the pool");
        ghostPoolIn += total;
        ghostPenalties += total;
        if (total != 0) calls["penaltyCharged"]++;
        calls[kind == Kind.Honest ? bytes32("commitHonest") : kind == Kind.Copier ? bytes32("commitCopier") : kind == Kind.Lazy
            ? bytes32("commitLazy")
            : bytes32("commitWrong")]++;
        if (e.slot != 0) calls["commitLaterSlot"]++;
    }

    /// @notice A committed auditor (not a lazy one) reveals in a later block: a pass when its output is
    /// the worker's, a mismatch (a game, when the result is still disputable) otherwise. After the
    /// window it is refused.
    function reveal(uint256 jobSeed) external burnsNothing {
        uint256 jobId = _pickRevealable(jobSeed);
        if (jobId == 0) return;
        JobGhost storage g = _ghosts[jobId];
        if (block.number <= g.committedBlock) {
            _expectRevert(
                g.auditor,
                abi.encodeCall(IAuditManager.revealAudit, (jobId, g.auditorOutput, g.salt)),
                abi.encodeWithSelector(IAuditManager.AuditManagerRevealTooEarly.selector, jobId, g.committedBlock),
                "revealed in the commit's block"
            );
            _roll(1);
        }
        IJobManager.Job memory job = d.jobs.getJob(jobId);
        if (block.timestamp >= job.timer) {
            _expectRevert(
                g.auditor,
                abi.encodeCall(IAuditManager.revealAudit, (jobId, g.auditorOutput, g.salt)),
                abi.encodeWithSelector(IAuditManager.AuditManagerWindowClosed.selector, jobId, job.timer),
                "revealed after the window"
            );
            g.revealed = true; // never again: it stays committed, unrevealed
            calls["revealLate"]++;
            return;
        }
        g.revealed = true;
        g.revealedOk = true;
        if (g.auditorOutput == g.output) {
            vm.prank(g.auditor);
            d.audits.revealAudit(jobId, g.auditorOutput, g.salt);
            calls["revealPass"]++;
            return;
        }
        _revealMismatch(jobId, g, job.status == IJobManager.JobStatus.Submitted);
    }

    function _revealMismatch(uint256 jobId, JobGhost storage g, bool submitted) private {
        IDisputeGameFactory.OpenParams memory o = _openParams(g, g.auditorOutput, g.salt);
        uint256 bond = factory.params().challengeBond;
        _ensureFree(g.auditor, 0);
        _ensureWallet(g.auditor, bond);
        uint256 factoryBefore = d.token.balanceOf(address(factory));
        vm.prank(g.auditor);
        address game = d.audits.revealMismatch(jobId, g.auditorOutput, g.salt, o);
        IAuditManager.Audit memory a = d.audits.auditOf(jobId);
        if (a.status != IAuditManager.AuditStatus.Mismatch || a.game != game) _violation("mismatch recorded");
        if (!submitted) {
            if (game != address(0)) _violation("a game on a result no longer disputable");
            calls["mismatchNoGame"]++;
            return;
        }
        if (game == address(0)) {
            _violation("no game on a disputable result");
            return;
        }
        if (d.token.balanceOf(address(factory)) != factoryBefore + bond) _violation("mismatch bond");
        ghostIn += bond;
        _addGame(game, jobId, g.wrong);
        calls["revealMismatch"]++;
    }

    /// @notice Anyone reports the silent drawn auditors of a job nobody audited, once every slot has
    /// passed: each distinct drawn auditor pays the miss penalty once. Refused before the slots are
    /// over, for a job that is not audited, and once committing was impossible in some slot (the job
    /// over, or its window closed).
    function reportMissed(uint256 jobSeed, uint256 wait) external burnsNothing {
        uint256 jobId = _pickUnreported(jobSeed);
        if (jobId == 0) return;
        JobGhost storage g = _ghosts[jobId];
        IAuditManager.Params memory p = d.audits.params();
        uint256 seedBlock = uint256(g.submittedBlock) + 1;
        uint256 lastBlock = seedBlock + uint256(p.auditSlots) * p.auditSlotBlocks;
        if (block.number <= lastBlock) {
            IJobManager.Job memory early = d.jobs.getJob(jobId);
            if (block.number > seedBlock && early.status == IJobManager.JobStatus.Submitted && block.timestamp < early.timer) {
                _expectRevert(
                    address(this),
                    abi.encodeCall(IAuditManager.reportMissedAudit, (jobId, g.t, g.output)),
                    _earlyReportError(jobId, lastBlock),
                    "reported before the slots were over"
                );
            }
            _roll(lastBlock + 1 - block.number + (wait % 4));
        }
        IJobManager.Job memory job = d.jobs.getJob(jobId);
        if (job.status != IJobManager.JobStatus.Submitted || block.timestamp >= job.timer) {
            // Committing was impossible in some slot (the job over, or its window closed): nobody pays.
            bytes memory err = job.status != IJobManager.JobStatus.Submitted
                ? abi.encodeWithSelector(IAuditManager.AuditManagerWrongJobStatus.selector, jobId, job.status)
                : abi.encodeWithSelector(IAuditManager.AuditManagerWindowClosed.selector, jobId, job.timer);
            _expectRevert(address(this), abi.encodeCall(IAuditManager.reportMissedAudit, (jobId, g.t, g.output)), err, "reported too late");
            calls["reportTooLate"]++;
            return;
        }
        Expected memory e = _expected(jobId);
        if (!e.audited) {
            _expectRevert(
                address(this),
                abi.encodeCall(IAuditManager.reportMissedAudit, (jobId, g.t, g.output)),
                abi.encodeWithSelector(IAuditManager.AuditManagerNotAudited.selector, jobId),
                "reported a job not audited"
            );
            calls["reportRefused"]++;
            return;
        }
        (address[] memory charged, uint256[] memory penalties, uint256[] memory stakesBefore) = _predictMissed(
            jobId,
            e,
            p.auditSlots,
            address(0)
        );
        uint256 poolBefore = d.audits.pool();
        d.audits.reportMissedAudit(jobId, g.t, g.output);
        g.reported = true;
        uint256 total = _checkCharged(charged, penalties, stakesBefore);
        if (d.audits.pool() != poolBefore + total) _violation("reported penalties to the pool");
        if (d.audits.auditOf(jobId).status != IAuditManager.AuditStatus.Missed) _violation("not recorded missed");
        ghostPoolIn += total;
        ghostPenalties += total;
        calls["reportMissed"]++;
    }

    /// @dev The error of a report while the slots are not over (or not audited, when the job's draw is not).
    function _earlyReportError(uint256 jobId, uint256 lastBlock) private view returns (bytes memory) {
        if (!_expected(jobId).audited) return abi.encodeWithSelector(IAuditManager.AuditManagerNotAudited.selector, jobId);
        return abi.encodeWithSelector(IAuditManager.AuditManagerSlotsNotOver.selector, jobId, lastBlock);
    }

    /// @notice Anyone settles the audit of a finalized or rejected job: the handler predicts the
    /// slash, the release and the reward (as far as its own account of the pool holds it). Settling
    /// before the job is over, or twice, is refused.
    function settle(uint256 jobSeed) external burnsNothing {
        uint256 jobId = _pickSettleable(jobSeed);
        if (jobId == 0) return;
        JobGhost storage g = _ghosts[jobId];
        IJobManager.JobStatus status = d.jobs.getJob(jobId).status;
        if (status == IJobManager.JobStatus.Submitted) {
            _expectRevert(
                address(this),
                abi.encodeCall(IAuditManager.settleAudit, (jobId)),
                abi.encodeWithSelector(IAuditManager.AuditManagerWrongJobStatus.selector, jobId, status),
                "settled a job still submitted"
            );
            calls["settleRefused"]++;
            return;
        }
        bool finalized = status == IJobManager.JobStatus.Finalized;
        (IAuditManager.AuditStatus expected, uint256 slash, uint256 reward, bool earns) = _predictSettlement(g, finalized);
        if (d.audits.auditOf(jobId).status != expected) _violation("audit status");

        IStaking.StakeInfo memory before = d.staking.stakeOf(g.auditor);
        uint256 owedBefore = d.audits.balanceOf(g.auditor);
        d.audits.settleAudit(jobId);
        g.settled = true;
        IStaking.StakeInfo memory afterwards = d.staking.stakeOf(g.auditor);
        if (before.staked - afterwards.staked != slash) _violation("settlement slash");
        if (before.locked - afterwards.locked != g.lock) _violation("settlement left stake locked");
        if (d.audits.balanceOf(g.auditor) - owedBefore != reward) _violation("settlement reward");
        ghostPoolIn += slash;
        ghostRewards += reward;
        _expectRevert(
            address(this),
            abi.encodeCall(IAuditManager.settleAudit, (jobId)),
            abi.encodeWithSelector(IAuditManager.AuditManagerNothingToSettle.selector, jobId),
            "settled twice"
        );
        if (expected == IAuditManager.AuditStatus.Passed && !finalized) calls["vouchingSlash"]++;
        else if (expected == IAuditManager.AuditStatus.Committed) calls["lazySlash"]++;
        else if (earns) calls[reward == g.reward ? bytes32("rewardPaid") : bytes32("rewardShort")]++;
        else calls["mismatchLost"]++;
    }

    /// @dev What settling `g`'s audit must do, from the handler's own record: the audit's status
    /// (unrevealed, agreeing or disagreeing), the slash, the reward (as far as the handler's own
    /// account of the pool holds it) and whether it earns one.
    function _predictSettlement(
        JobGhost storage g,
        bool finalized
    ) private view returns (IAuditManager.AuditStatus expected, uint256 slash, uint256 reward, bool earns) {
        if (!g.revealedOk) {
            expected = IAuditManager.AuditStatus.Committed;
            slash = (uint256(g.lock) * g.missBps) / BPS;
        } else if (g.auditorOutput == g.output) {
            // It vouched: paid if the result stands, its whole lock slashed if it fell.
            expected = IAuditManager.AuditStatus.Passed;
            if (finalized) earns = true;
            else slash = g.lock;
        } else {
            expected = IAuditManager.AuditStatus.Mismatch;
            earns = !finalized;
        }
        uint256 available = ghostPoolIn - ghostRewards;
        if (earns) reward = g.reward < available ? g.reward : available;
    }

    // ------------------------------------------------------------ actions: games

    /// @notice A verifier (not an auditor) catches a wrong result still in its window: commit, then
    /// open in the next block.
    function verify(uint256 jobSeed) external burnsNothing {
        uint256 jobId = _pickWrongDisputable(jobSeed);
        if (jobId == 0) return;
        JobGhost storage g = _ghosts[jobId];
        bytes32 salt = bytes32(++_salts);
        bytes32 mine = TestData.commitOneChunk(TestData.tensor4(TRUE_OUTPUT));
        IDisputeGameFactory.OpenParams memory o = _openParams(g, mine, salt);
        bytes32 c = factory.commitmentOf(jobId, _verifier, o.challengerRoot, mine, salt);
        vm.prank(_verifier);
        factory.commitDispute(c);
        _roll(1);
        if (block.timestamp >= d.jobs.getJob(jobId).timer) return;
        uint256 bond = factory.params().challengeBond;
        _ensureWallet(_verifier, bond);
        vm.prank(_verifier);
        address game = factory.openDispute(jobId, o);
        ghostIn += bond;
        _addGame(game, jobId, true);
        calls["verify"]++;
    }

    /// @notice An open game ends by timeout: the worker of a wrong result never defends (the
    /// challenger wins); the worker of a right result defended at once, and the challenger, whose
    /// claim is wrong, misses its move (the defender wins).
    function endGame(uint256 seed) external {
        uint256 n = _games.length;
        for (uint256 k = 0; k < n; ++k) {
            address game = _games[(seed + k) % n];
            GameGhost storage gg = _gameGhosts[game];
            if (gg.ended) continue;
            DisputeGame g = DisputeGame(game);
            uint256 due = g.deadline();
            if (block.timestamp <= due) vm.warp(due + 1);
            uint256 supply = d.token.totalSupply();
            g.timeout();
            gg.ended = true;
            ghostBurned += supply - d.token.totalSupply();
            GameStatus expected = gg.challengerRight ? GameStatus.ChallengerWins : GameStatus.DefenderWins;
            if (g.status() != expected) _violation("the truth lost a game");
            IJobManager.JobStatus s = d.jobs.getJob(gg.jobId).status;
            if (gg.challengerRight && s != IJobManager.JobStatus.Rejected) _violation("a wrong result not rejected");
            calls[gg.challengerRight ? bytes32("challengerWins") : bytes32("defenderWins")]++;
            return;
        }
    }

    // ------------------------------------------------------------ actions: money

    /// @notice An actor (or the requester, or the verifier) withdraws its balance from the audit
    /// manager, the escrow or the factory.
    function withdraw(uint256 seed) external burnsNothing {
        address a = seed % 5 == 0 ? _requester : seed % 5 == 1 ? _verifier : _actors[(seed >> 8) % _actors.length];
        uint256 which = (seed >> 16) % 3;
        address from = which == 0 ? address(d.audits) : which == 1 ? address(d.jobs) : address(factory);
        uint256 owed = which == 0 ? d.audits.balanceOf(a) : which == 1 ? d.jobs.balanceOf(a) : factory.balanceOf(a);
        if (owed == 0) return;
        uint256 walletBefore = d.token.balanceOf(a);
        vm.prank(a);
        (bool ok, ) = from.call(abi.encodeWithSignature("withdraw()"));
        if (!ok) _violation("a withdrawal failed");
        if (d.token.balanceOf(a) - walletBefore != owed) _violation("withdrawn != owed");
        ghostOut += owed;
        if (which == 0) {
            ghostAuditWithdrawn += owed;
            calls["withdrawReward"]++;
        }
        calls["withdraw"]++;
    }

    /// @notice Anyone collects the escrow's credit into the pool: the pool does not change.
    function collect() external burnsNothing {
        uint256 poolBefore = d.audits.pool();
        uint256 held = d.token.balanceOf(address(d.audits));
        uint256 credit = d.jobs.balanceOf(address(d.audits));
        uint256 got = d.audits.collect();
        if (got != credit || d.audits.pool() != poolBefore) _violation("collect changed the pool");
        if (d.token.balanceOf(address(d.audits)) != held + credit) _violation("collect moved a wrong amount");
        calls["collect"]++;
    }

    /// @notice A gift to the pool ({fund}), or tokens sent straight to the audit manager (outside the pool).
    function give(uint256 amount, bool direct) external burnsNothing {
        amount = 1 + (amount % 5 ether);
        uint256 poolBefore = d.audits.pool();
        if (direct) {
            d.token.transfer(address(d.audits), amount);
            ghostDonated += amount;
            if (d.audits.pool() != poolBefore) _violation("a transfer entered the pool");
        } else {
            d.token.approve(address(d.audits), amount);
            d.audits.fund(amount);
            ghostPoolIn += amount;
            if (d.audits.pool() != poolBefore + amount) _violation("fund");
        }
        ghostIn += amount;
        calls["give"]++;
    }

    // ------------------------------------------------------------ actions: governance, time

    /// @notice Governance sets the audit parameters (within their bounds); committed audits keep
    /// their reward and penalty, the draw of the others follows.
    function setAuditParams(uint256 seed) external burnsNothing {
        uint256 rates = seed % 4;
        IAuditManager.Params memory p = IAuditManager.Params({
            auditReward: uint96((seed >> 8) % 4 ether),
            // Mostly every job, sometimes a share, sometimes none.
            auditRateBps: rates == 0 ? 0 : rates == 1 ? uint16((seed >> 80) % BPS) : uint16(BPS),
            auditSafetyBps: uint32((seed >> 96) % 40_000),
            auditMissPenaltyBps: uint16((seed >> 128) % 2_001),
            auditSlotBlocks: uint16(1 + ((seed >> 144) % 6)),
            auditSlots: uint8(1 + ((seed >> 160) % 4))
        });
        d.audits.setParams(p);
        calls["setAuditParams"]++;
    }

    /// @notice Governance sets the escrow's fee shares (a new parameter version: jobs keep theirs).
    function setFeeParams(uint256 seed) external burnsNothing {
        IJobManager.Params memory p = d.jobs.params();
        p.protocolFeeBps = uint16(seed % 1_001);
        p.auditFeeBps = uint16((seed >> 16) % 2_001);
        d.jobs.setParams(p);
        calls["setFeeParams"]++;
    }

    /// @notice Blocks pass (about 2 seconds each).
    function roll(uint256 blocks) external {
        _roll(1 + (blocks % 12));
        calls["roll"]++;
    }

    /// @notice Time passes (up to 20 minutes), and a block.
    function warp(uint256 seconds_) external {
        vm.warp(block.timestamp + 1 + (seconds_ % 20 minutes));
        vm.roll(block.number + 1);
        calls["warp"]++;
    }

    // ------------------------------------------------------------ the draw, independently

    function _expected(uint256 jobId) private view returns (Expected memory) {
        JobGhost storage g = _ghosts[jobId];
        return model.expected(jobId, g.t, g.worker, g.submittedBlock);
    }

    /// @dev The audit manager's view of the draw must be the handler's.
    function _checkDraw(uint256 jobId, Expected memory e) private {
        IAuditManager.Draw memory dr = d.audits.auditDraw(jobId, _ghosts[jobId].t);
        if (dr.audited != e.audited || dr.over != e.over) _violation("auditDraw: audited or over");
        if (!e.over && dr.slot != e.slot) _violation("auditDraw: slot");
        if (dr.auditor != e.auditor) _violation("auditDraw: auditor");
        if (dr.rateBps != e.rateBps) _violation("auditDraw: rate");
    }

    function _predictMissed(
        uint256 jobId,
        Expected memory e,
        uint256 slots,
        address exclude
    ) private view returns (address[] memory, uint256[] memory, uint256[] memory) {
        JobGhost storage g = _ghosts[jobId];
        return model.predictMissed(jobId, e.seedHash, g.t.lock, g.worker, slots, exclude);
    }

    /// @dev Checks each charged account lost exactly its predicted penalty; returns their sum.
    function _checkCharged(
        address[] memory charged,
        uint256[] memory penalties,
        uint256[] memory stakesBefore
    ) private returns (uint256 total) {
        for (uint256 k = 0; k < charged.length; ++k) {
            if (stakesBefore[k] - d.staking.stakeOf(charged[k]).staked != penalties[k]) _violation("miss penalty");
            total += penalties[k];
        }
    }

    // ------------------------------------------------------------ internals

    /// @dev `who` (not drawn) tries to commit; returns whether it (wrongly) could.
    function _tryCommit(uint256 jobId, address who, string memory what) private returns (bool ok) {
        JobGhost storage g = _ghosts[jobId];
        bytes32 commitment = d.audits.auditCommitmentOf(jobId, who, g.output, bytes32(uint256(1)));
        _ensureFree(who, g.t.lock);
        vm.prank(who);
        (ok, ) = address(d.audits).call(abi.encodeCall(IAuditManager.commitAudit, (jobId, g.t, g.output, commitment)));
        if (ok) {
            // Recorded as the handler saw it, so that the invariant on who committed shows it too.
            _violation(what);
            g.committed = true;
            g.auditor = who;
            g.lock = g.t.lock;
        }
    }

    /// @dev Calls `data` on the audit manager as `who` and counts a violation unless it reverts with `err`.
    function _expectRevert(address who, bytes memory data, bytes memory err, string memory what) private {
        vm.prank(who);
        (bool ok, bytes memory ret) = address(d.audits).call(data);
        if (ok || keccak256(ret) != keccak256(err)) _violation(what);
    }

    function _addGame(address game, uint256 jobId, bool challengerRight) private {
        _games.push(game);
        _gameGhosts[game] = GameGhost(jobId, challengerRight, false);
        if (!_ghosts[jobId].wrong) {
            // The worker of a right result defends at once: its one-layer trace, input then output.
            JobGhost storage g = _ghosts[jobId];
            bytes32 input = g.t.inputCommitment;
            bytes32 root = sha256(abi.encodePacked(input, g.output));
            bytes32[] memory proof = new bytes32[](1);
            proof[0] = input;
            vm.prank(g.worker);
            DisputeGame(game).postRoot(root, proof, input, g.output);
        }
    }

    /// @dev The game a challenger with output `mine` (a one-layer trace from the job's input) opens.
    function _openParams(
        JobGhost storage g,
        bytes32 mine,
        bytes32 salt
    ) private view returns (IDisputeGameFactory.OpenParams memory o) {
        bytes32 input = g.t.inputCommitment;
        o.terms = g.t;
        o.outputCommitment = g.output;
        o.challengerRoot = sha256(abi.encodePacked(input, mine));
        o.header = _header;
        o.headerProof = _headerProof;
        o.outputLeaf = mine;
        o.outputProof = new bytes32[](1);
        o.outputProof[0] = input;
        o.salt = salt;
    }

    /// @dev Stakes what `a` needs to have `amount` free (and the minimum stake), from its wallet.
    function _ensureFree(address a, uint256 amount) private {
        IStaking.StakeInfo memory info = d.staking.stakeOf(a);
        uint256 free = info.staked - info.locked;
        uint256 need = amount > free ? amount - free : 0;
        uint256 minStake = d.staking.minStake();
        if (info.staked + need < minStake) need = minStake - info.staked;
        if (need == 0) return;
        _ensureWallet(a, need);
        vm.prank(a);
        d.staking.stake(need);
        ghostIn += need;
    }

    /// @dev Tops up `a`'s wallet from the handler's (outside the system: no ghost moves).
    function _ensureWallet(address a, uint256 amount) private {
        uint256 has = d.token.balanceOf(a);
        if (has < amount) d.token.transfer(a, amount - has);
    }

    function _roll(uint256 blocks) private {
        vm.roll(block.number + blocks);
        vm.warp(block.timestamp + 2 * blocks);
    }

    function _systemHoldings() private view returns (uint256) {
        return
            d.token.balanceOf(address(d.jobs)) +
            d.token.balanceOf(address(d.audits)) +
            d.token.balanceOf(address(factory)) +
            d.token.balanceOf(address(d.staking));
    }

    /// @dev A job in `status` at or after a random start, or 0.
    function _pick(uint256 seed, IJobManager.JobStatus status) private view returns (uint256) {
        uint256 n = _jobs.length;
        for (uint256 k = 0; k < n; ++k) {
            uint256 id = _jobs[(seed + k) % n];
            if (d.jobs.getJob(id).status == status) return id;
        }
        return 0;
    }

    /// @dev A submitted job inside its window with no audit yet (committed or reported).
    function _pickUnaudited(uint256 seed) private view returns (uint256) {
        uint256 n = _jobs.length;
        for (uint256 k = 0; k < n; ++k) {
            uint256 id = _jobs[(seed + k) % n];
            JobGhost storage g = _ghosts[id];
            if (g.committed || g.reported) continue;
            IJobManager.Job memory job = d.jobs.getJob(id);
            if (job.status == IJobManager.JobStatus.Submitted && block.timestamp < job.timer) return id;
        }
        return 0;
    }

    /// @dev A job with a commit that is not lazy and not yet revealed.
    function _pickRevealable(uint256 seed) private view returns (uint256) {
        uint256 n = _jobs.length;
        for (uint256 k = 0; k < n; ++k) {
            uint256 id = _jobs[(seed + k) % n];
            JobGhost storage g = _ghosts[id];
            if (g.committed && !g.revealed && g.kind != Kind.Lazy) return id;
        }
        return 0;
    }

    /// @dev A job submitted (or over) with neither commit nor report, whose seed hash is still readable.
    function _pickUnreported(uint256 seed) private view returns (uint256) {
        uint256 n = _jobs.length;
        for (uint256 k = 0; k < n; ++k) {
            uint256 id = _jobs[(seed + k) % n];
            JobGhost storage g = _ghosts[id];
            if (g.committed || g.reported) continue;
            if (block.number < uint256(g.submittedBlock) + 200) return id;
        }
        return 0;
    }

    /// @dev A committed audit not settled, its job over (or, now and then, still submitted: refused).
    function _pickSettleable(uint256 seed) private view returns (uint256 fallback_) {
        uint256 n = _jobs.length;
        for (uint256 k = 0; k < n; ++k) {
            uint256 id = _jobs[(seed + k) % n];
            JobGhost storage g = _ghosts[id];
            if (!g.committed || g.settled) continue;
            IJobManager.JobStatus s = d.jobs.getJob(id).status;
            if (s == IJobManager.JobStatus.Finalized || s == IJobManager.JobStatus.Rejected) return id;
            if (fallback_ == 0 && seed % 8 == 0) fallback_ = id;
        }
    }

    /// @dev A wrong result still submitted and inside its window.
    function _pickWrongDisputable(uint256 seed) private view returns (uint256) {
        uint256 n = _jobs.length;
        for (uint256 k = 0; k < n; ++k) {
            uint256 id = _jobs[(seed + k) % n];
            if (!_ghosts[id].wrong) continue;
            IJobManager.Job memory job = d.jobs.getJob(id);
            if (job.status == IJobManager.JobStatus.Submitted && block.timestamp + 30 < job.timer) return id;
        }
        return 0;
    }

    function _violation(string memory what) private {
        if (violations == 0) firstViolation = what;
        violations++;
    }
}

/**
 * @title AuditDrawModel
 * @notice The handler's own model of the audit draw and of the miss penalties, written from the rule
 * in AUDIT_API / docs/ECONOMICS.md (not from the audit manager's code paths): the seed is the hash of
 * the block after the submission; the rate min(1, max(floor, ceil(safety * w / (w + L)))); the
 * auditor of a slot the roster's draw, redrawn once when it is the worker. (A separate contract, to
 * keep the handler under the code size the invariant runner identifies.)
 */
contract AuditDrawModel {
    uint256 private constant SEED_REACH = 256;

    IAuditManager private immutable _audits;
    IJobManager private immutable _jobs;
    IWorkerRoster private immutable _roster;
    IStaking private immutable _staking;
    uint256 private immutable _modelId;

    constructor(IAuditManager audits, IJobManager jobs_, IWorkerRoster roster, IStaking staking, uint256 modelId) {
        _audits = audits;
        _jobs = jobs_;
        _roster = roster;
        _staking = staking;
        _modelId = modelId;
    }

    /// @notice Job `jobId`'s draw at the current block: audited, the current slot, its auditor.
    function expected(
        uint256 jobId,
        IJobManager.JobTerms calldata t,
        address worker,
        uint256 submittedBlock
    ) external view returns (Expected memory e) {
        IAuditManager.Params memory p = _audits.params();
        uint256 seedBlock = submittedBlock + 1;
        e.rateBps = rate(t);
        if (block.number <= seedBlock) return e;
        uint256 elapsed = block.number - seedBlock;
        if (elapsed > SEED_REACH) {
            e.over = true;
            return e;
        }
        e.readable = true;
        e.seedHash = blockhash(seedBlock);
        e.audited = uint256(keccak256(abi.encode(e.seedHash, jobId, "audit"))) % BPS < e.rateBps;
        e.slot = (elapsed - 1) / p.auditSlotBlocks;
        if (e.slot >= p.auditSlots) {
            e.over = true;
            e.slot = p.auditSlots;
            return e;
        }
        if (e.audited) e.auditor = drawnAt(jobId, e.seedHash, e.slot, worker);
    }

    /// @notice The auditor of `slot`: the roster's draw, redrawn once if it is the worker, else nobody.
    function drawnAt(uint256 jobId, bytes32 seedHash, uint256 slot, address worker) public view returns (address a) {
        a = _roster.draw(_modelId, keccak256(abi.encode(seedHash, jobId, "auditor", slot)));
        if (a == worker) a = _roster.draw(_modelId, keccak256(abi.encode(seedHash, jobId, "auditor", slot, uint256(1))));
        if (a == worker) a = address(0);
    }

    /// @notice min(1, max(floor, ceil(safety * w / (w + L)))), w the worker's part of the fee.
    function rate(IJobManager.JobTerms calldata t) public view returns (uint256 r) {
        (IJobManager.Params memory jp, ) = _jobs.paramsAt(t.paramsVersion);
        uint256 fee = t.fee;
        uint256 cut = (fee * (uint256(t.protocolFeeBps) + jp.auditFeeBps)) / BPS;
        uint256 w = fee - cut - t.modelFee;
        IAuditManager.Params memory p = _audits.params();
        r = p.auditRateBps;
        if (w != 0) {
            uint256 byRisk = (uint256(p.auditSafetyBps) * w + w + t.lock - 1) / (w + t.lock);
            if (byRisk > r) r = byRisk;
        }
        if (r > BPS) r = BPS;
    }

    /// @notice The distinct auditors drawn in slots `0 .. slots - 1` other than `exclude`, the penalty
    /// each must pay (the miss penalty in force on the job's lock, capped at its free stake; nothing
    /// below the minimum stake), and their stakes now.
    function predictMissed(
        uint256 jobId,
        bytes32 seedHash,
        uint256 lock,
        address worker,
        uint256 slots,
        address exclude
    ) external view returns (address[] memory charged, uint256[] memory penalties, uint256[] memory stakes) {
        uint256 penalty = (lock * _audits.params().auditMissPenaltyBps) / BPS;
        uint256 minStake = _staking.minStake();
        charged = new address[](slots);
        penalties = new uint256[](slots);
        stakes = new uint256[](slots);
        uint256 n;
        for (uint256 s = 0; s < slots; ++s) {
            address a = drawnAt(jobId, seedHash, s, worker);
            if (a == address(0) || a == exclude) continue;
            bool seen;
            for (uint256 k = 0; k < n; ++k) if (charged[k] == a) seen = true;
            if (seen) continue;
            IStaking.StakeInfo memory info = _staking.stakeOf(a);
            uint256 free = info.staked - info.locked;
            charged[n] = a;
            penalties[n] = info.staked < minStake ? 0 : penalty < free ? penalty : free;
            stakes[n] = info.staked;
            ++n;
        }
        assembly {
            mstore(charged, n)
            mstore(penalties, n)
            mstore(stakes, n)
        }
    }
}
