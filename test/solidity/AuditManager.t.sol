// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IJobManager} from "../../contracts/interfaces/IJobManager.sol";
import {IAuditManager} from "../../contracts/interfaces/IAuditManager.sol";
import {IDisputeGameFactory} from "../../contracts/interfaces/IDisputeGameFactory.sol";
import {IStaking} from "../../contracts/interfaces/IStaking.sol";
import {IModelRegistry} from "../../contracts/interfaces/IModelRegistry.sol";
import {JobManager} from "../../contracts/jobs/JobManager.sol";
import {AuditManager} from "../../contracts/audits/AuditManager.sol";
import {DisputeGame} from "../../contracts/disputes/DisputeGame.sol";
import {DisputeGameFactoryNotAuditManager} from "../../contracts/disputes/lib/DisputeErrors.sol";
import {GameStatus} from "../../contracts/disputes/lib/Types.sol";
import {BPS} from "../../contracts/libraries/FeeSplit.sol";

import {TestData, Terms} from "./utils/Protocol.sol";
import {AuditFixture} from "./utils/Audits.sol";

/**
 * @title AuditManagerTest
 * @notice Audits that pay (issue 18): the fee share reaches the pool exactly; only the drawn auditor
 * commits in its slot and the next slot's auditor may when it is silent; auditors are paid from the
 * pool; silent drawn auditors and lazy ones (commit, no reveal) lose a small stake; an auditor that
 * vouched for a wrong result loses its lock; a mismatch opens a game with the auditor as challenger,
 * and the truth wins; a governance change reaches no committed audit; nobody reuses another's
 * commitment. Each attack is a test that fails without its defence.
 */
contract AuditManagerTest is AuditFixture {
    bytes32 private constant SALT = keccak256("salt");

    // ------------------------------------------------------------ the pool's share

    /// @notice The escrow's fee split: protocol fee and audit share cut together, the pool's part
    /// credited to the audit manager at finalization, every wei accounted for; `minimumFee` is the
    /// least fee accepted (one wei less is refused).
    function testFuzz_feeShareReachesThePoolExactly(uint96 price, uint16 feeBps, uint16 auditBps, uint96 extra) public {
        _fund(ROGUE, 5_000 ether);
        _stake(ROGUE, 5_000 ether);
        IJobManager.Params memory p = d.jobs.params();
        p.protocolFeeBps = uint16(bound(feeBps, 0, 2_000));
        p.auditFeeBps = uint16(bound(auditBps, 0, 2_000));
        d.jobs.setParams(p);
        price = uint96(bound(price, 0, 1_000 ether));
        uint256 model = d.registry.registerModel(TestData.tinyModel(price, 10_000, new IModelRegistry.Contributor[](0), 77));
        uint256 minimum = d.jobs.minimumFee(price);
        if (minimum != 0) {
            IJobManager.RequestParams memory low = TestData.request(model, TestData.tensor4(7), minimum - 1, block.timestamp + 1 hours);
            vm.prank(REQUESTER);
            vm.expectRevert(abi.encodeWithSelector(IJobManager.JobManagerInsufficientFee.selector, minimum - 1, minimum));
            d.jobs.requestInference(low);
        }
        uint256 fee = minimum + bound(extra, 0, 100 ether);
        (IJobManager.JobTerms memory t, uint256 workerGain, uint256 poolGain) = _finalizedJob(model, fee);
        (uint256 protocolFee, uint256 auditFee) = d.jobs.feeSplit(t);
        assertEq(auditFee, (fee * p.auditFeeBps) / BPS, "audit share");
        assertEq(protocolFee + auditFee, (fee * (uint256(p.protocolFeeBps) + p.auditFeeBps)) / BPS, "cut");
        assertEq(poolGain, auditFee, "pool credited");
        assertEq(d.jobs.protocolFees(model), protocolFee, "treasury accrual");
        assertEq(workerGain + protocolFee + auditFee + price, fee, "every wei");
    }

    /// @dev A job on `model` paying `fee`, claimed, answered and finalized: its terms, what the worker
    /// was credited and what the pool gained.
    function _finalizedJob(uint256 model, uint256 fee) private returns (IJobManager.JobTerms memory t, uint256 workerGain, uint256 poolGain) {
        IJobManager.RequestParams memory rp = TestData.request(model, TestData.tensor4(7), fee, block.timestamp + 1 hours);
        _fund(REQUESTER, fee);
        t = Terms.expected(d.jobs, d.registry, REQUESTER, rp);
        vm.prank(REQUESTER);
        uint256 jobId = d.jobs.requestInference(rp);
        vm.roll(block.number + 3);
        _claim(jobId, t);
        bytes32 out = TestData.commitOneChunk(TestData.tensor4(1));
        vm.prank(ROGUE);
        d.jobs.submitResult(jobId, t, TestData.tensor4(1), out);
        vm.warp(d.jobs.getJob(jobId).timer);
        uint256 poolBefore = d.audits.pool();
        uint256 workerBefore = d.jobs.balanceOf(ROGUE);
        d.jobs.finalize(jobId, t, out);
        workerGain = d.jobs.balanceOf(ROGUE) - workerBefore;
        poolGain = d.audits.pool() - poolBefore;
    }

    /// @notice An escrow without audit manager takes no audit share, and refuses one.
    function test_anEscrowWithoutAuditsRefusesAnAuditShare() public {
        IJobManager.Params memory p = d.jobs.params();
        p.auditFeeBps = 0;
        JobManager bare = new JobManager(d.token, d.registry, d.staking, address(this), 10 minutes, p, d.roster, address(0));
        assertGe(d.jobs.minimumFee(1 ether), bare.minimumFee(1 ether) + 1, "the share counts in the minimum");
        p.auditFeeBps = 1;
        vm.expectRevert(abi.encodeWithSelector(IJobManager.JobManagerInvalidParameter.selector, "auditFeeBps"));
        bare.setParams(p);
        // And the audit manager's bound on the share.
        p.auditFeeBps = 2_001;
        vm.expectRevert(abi.encodeWithSelector(IJobManager.JobManagerInvalidParameter.selector, "auditFeeBps"));
        d.jobs.setParams(p);
    }

    /// @notice A rejected job refunds its requester in full: no audit share is taken.
    function test_aRejectedJobPaysNoShare() public {
        Case memory c = _submitted(WRONG_OUTPUT);
        uint256 pool = d.audits.pool();
        Claim memory claim = _honestClaim(c);
        _commit(HONEST, c, claim, SALT);
        vm.roll(block.number + 1);
        DisputeGame g = _open(HONEST, c, claim, SALT);
        _playToStep(g, c, HONEST);
        _step(g);
        assertEq(uint256(d.jobs.getJob(c.id).status), uint256(IJobManager.JobStatus.Rejected), "rejected");
        assertEq(d.jobs.balanceOf(REQUESTER), FEE, "full refund");
        assertEq(d.audits.pool(), pool, "no share");
    }

    // ------------------------------------------------------------ the draw

    /// @notice In every slot, every account but the drawn auditor is refused (naming the drawn one and
    /// the slot's end), the worker included; the drawn one commits.
    function testFuzz_onlyTheDrawnAuditorCommitsInItsSlot(uint256 wait) public {
        Case memory c = _submitted(TRUE_OUTPUT);
        vm.roll(block.number + bound(wait, 0, uint256(SLOT_BLOCKS) * SLOTS - 1));
        IAuditManager.Draw memory dr = _draw(c);
        assertTrue(dr.audited && !dr.over && dr.auditor != address(0), "drawn");
        assertTrue(dr.auditor != ROGUE, "the worker audits itself");
        address[] memory others = new address[](auditors.length + 2);
        for (uint256 i = 0; i < auditors.length; ++i) others[i] = auditors[i];
        others[auditors.length] = ROGUE;
        others[auditors.length + 1] = HONEST;
        for (uint256 i = 0; i < others.length; ++i) {
            if (others[i] == dr.auditor) continue;
            bytes32 commitment = d.audits.auditCommitmentOf(c.id, others[i], c.output, SALT);
            vm.expectRevert(abi.encodeWithSelector(IAuditManager.AuditManagerNotAuditor.selector, c.id, others[i], dr.auditor, dr.slotEnd));
            vm.prank(others[i]);
            d.audits.commitAudit(c.id, c.terms, c.output, commitment);
        }
        _commitAudit(dr.auditor, c, TRUE_OUTPUT, SALT);
        IAuditManager.Audit memory a = d.audits.auditOf(c.id);
        assertEq(a.auditor, dr.auditor, "auditor");
        assertEq(a.slot, dr.slot, "slot");
        assertEq(d.staking.stakeOf(dr.auditor).locked, c.terms.lock, "lock");
    }

    /// @notice Nothing before the seed block is mined, nothing after the last slot.
    function test_noCommitBeforeTheSeedOrAfterTheSlots() public {
        (uint256 jobId, IJobManager.JobTerms memory t) = _request();
        vm.roll(block.number + 3);
        _claim(jobId, t);
        Case memory c = _submit(jobId, t, TRUE_OUTPUT);
        vm.roll(block.number + 1);
        // The seed block is being mined: not drawn yet.
        IAuditManager.Draw memory dr = _draw(c);
        assertFalse(dr.audited, "drawn before its seed");
        vm.expectRevert(abi.encodeWithSelector(IAuditManager.AuditManagerNotAudited.selector, c.id));
        vm.prank(auditors[0]);
        d.audits.commitAudit(c.id, c.terms, c.output, bytes32(0));
        vm.roll(dr.seedBlock + uint256(SLOTS) * SLOT_BLOCKS + 1);
        dr = _draw(c);
        assertTrue(dr.over && dr.auditor == address(0), "over");
        vm.expectRevert(abi.encodeWithSelector(IAuditManager.AuditManagerSlotsOver.selector, c.id));
        vm.prank(auditors[0]);
        d.audits.commitAudit(c.id, c.terms, c.output, bytes32(0));
    }

    /// @notice The fallback: when the first slot's auditor is silent, the second slot's commits, and
    /// the silent one pays the miss penalty from its free stake, into the pool.
    function test_theNextSlotsAuditorTakesOverAndTheSilentOnePays() public {
        (Case memory c, address first, address second) = _jobWithDistinctSlots();
        uint256 stakeBefore = d.staking.stakeOf(first).staked;
        uint256 pool = d.audits.pool();
        uint256 penalty = (uint256(c.terms.lock) * MISS_BPS) / BPS;
        vm.expectEmit(address(d.audits));
        emit IAuditManager.AuditMissed(c.id, first, 0, penalty);
        _commitAudit(second, c, TRUE_OUTPUT, SALT);
        assertEq(d.staking.stakeOf(first).staked, stakeBefore - penalty, "penalty");
        assertEq(d.staking.stakeOf(first).locked, 0, "nothing left locked");
        assertEq(d.audits.pool(), pool + penalty, "to the pool");
    }

    /// @notice Every slot silent: anyone reports it once the slots are over; each drawn auditor pays
    /// once, however many slots it was drawn for; the audit is over.
    function test_reportingSilentAuditors() public {
        Case memory c = _submitted(TRUE_OUTPUT);
        IAuditManager.Draw memory dr = _draw(c);
        vm.expectRevert(abi.encodeWithSelector(IAuditManager.AuditManagerSlotsNotOver.selector, c.id, dr.seedBlock + uint256(SLOTS) * SLOT_BLOCKS));
        d.audits.reportMissedAudit(c.id, c.terms, c.output);
        // Who was drawn, slot by slot, and their stakes.
        address[] memory drawn = new address[](SLOTS);
        for (uint256 s = 0; s < SLOTS; ++s) {
            vm.roll(dr.seedBlock + 1 + s * SLOT_BLOCKS);
            drawn[s] = _draw(c).auditor;
        }
        uint256[] memory before = new uint256[](auditors.length);
        for (uint256 i = 0; i < auditors.length; ++i) before[i] = d.staking.stakeOf(auditors[i]).staked;
        uint256 pool = d.audits.pool();
        vm.roll(dr.seedBlock + uint256(SLOTS) * SLOT_BLOCKS + 1);
        d.audits.reportMissedAudit(c.id, c.terms, c.output);
        uint256 penalty = (uint256(c.terms.lock) * MISS_BPS) / BPS;
        uint256 charged;
        for (uint256 i = 0; i < auditors.length; ++i) {
            bool wasDrawn = drawn[0] == auditors[i] || drawn[1] == auditors[i] || drawn[2] == auditors[i];
            assertEq(d.staking.stakeOf(auditors[i]).staked, before[i] - (wasDrawn ? penalty : 0), "once per drawn auditor");
            if (wasDrawn) charged += penalty;
        }
        assertEq(d.audits.pool(), pool + charged, "pool");
        assertEq(uint256(d.audits.auditOf(c.id).status), uint256(IAuditManager.AuditStatus.Missed), "missed");
        vm.expectRevert(abi.encodeWithSelector(IAuditManager.AuditManagerAlreadyCommitted.selector, c.id, address(0)));
        d.audits.reportMissedAudit(c.id, c.terms, c.output);
    }

    /// @notice Nobody is charged for a slot in which committing was impossible: once the job's window
    /// has closed (here during the first slot, so the later slots' auditors never could commit) or the
    /// job is over, a report is refused and every stake stays whole.
    function test_noReportOnceCommittingWasImpossible() public {
        Case memory c = _submitted(TRUE_OUTPUT);
        IAuditManager.Draw memory dr = _draw(c);
        assertTrue(dr.audited && dr.slot == 0, "in the first slot");
        uint256[] memory before = new uint256[](auditors.length);
        for (uint256 i = 0; i < auditors.length; ++i) before[i] = d.staking.stakeOf(auditors[i]).staked;
        _afterWindow(c);
        uint256 end = d.jobs.getJob(c.id).timer;
        vm.roll(dr.seedBlock + uint256(SLOTS) * SLOT_BLOCKS + 1);
        vm.expectRevert(abi.encodeWithSelector(IAuditManager.AuditManagerWindowClosed.selector, c.id, end));
        d.audits.reportMissedAudit(c.id, c.terms, c.output);
        d.jobs.finalize(c.id, c.terms, c.output);
        vm.expectRevert(
            abi.encodeWithSelector(IAuditManager.AuditManagerWrongJobStatus.selector, c.id, IJobManager.JobStatus.Finalized)
        );
        d.audits.reportMissedAudit(c.id, c.terms, c.output);
        for (uint256 i = 0; i < auditors.length; ++i) assertEq(d.staking.stakeOf(auditors[i]).staked, before[i], "charged");
        assertEq(uint256(d.audits.auditOf(c.id).status), uint256(IAuditManager.AuditStatus.None), "recorded missed");
    }

    /// @notice A silent auditor's penalty is capped at its free stake (here: none free, nothing taken).
    function test_theMissPenaltyIsCappedAtTheFreeStake() public {
        (Case memory c, address first, address second) = _jobWithDistinctSlots();
        // `first` locks all its free stake in audits of its own: simulate with the worker's claim route.
        IStaking.StakeInfo memory info = d.staking.stakeOf(first);
        vm.prank(first);
        d.staking.requestUnstake(info.staked - info.locked - MIN_STAKE);
        // What is left is the minimum stake, all free: the penalty takes its share of it.
        uint256 penalty = (uint256(c.terms.lock) * MISS_BPS) / BPS;
        _commitAudit(second, c, TRUE_OUTPUT, SALT);
        assertEq(d.staking.stakeOf(first).staked, MIN_STAKE - penalty, "from free stake");
    }

    /// @notice The worker is never its own auditor, even when it serves the model in the roster.
    function test_theWorkerIsNeverItsOwnAuditor() public {
        _fund(ROGUE, 5_000 ether);
        vm.startPrank(ROGUE);
        d.staking.stake(5_000 ether);
        d.staking.setModelServed(modelId, true);
        d.roster.join(modelId);
        vm.stopPrank();
        vm.roll((block.number / EPOCH_BLOCKS + 1) * EPOCH_BLOCKS + 1);
        for (uint256 j = 0; j < 12; ++j) {
            Case memory c = _submitted(TRUE_OUTPUT);
            for (uint256 s = 0; s < SLOTS; ++s) {
                IAuditManager.Draw memory dr = _draw(c);
                assertTrue(dr.auditor != ROGUE, "worker drawn");
                vm.roll(block.number + SLOT_BLOCKS);
            }
        }
    }

    /// @notice The rate follows the job's terms: the floor, the rule, and no audit at rate 0.
    function test_theRateAndNoAuditAtZero() public {
        Case memory c = _submitted(TRUE_OUTPUT);
        (uint256 protocolFee, uint256 auditFee) = d.jobs.feeSplit(c.terms);
        uint256 w = c.terms.fee - protocolFee - auditFee - c.terms.modelFee;
        IAuditManager.Params memory p = _auditParams(0);
        d.audits.setParams(p);
        uint256 byRule = (20_000 * w + w + c.terms.lock - 1) / (w + c.terms.lock);
        assertEq(d.audits.auditRate(c.terms), byRule, "rule");
        p.auditRateBps = uint16(byRule + 1);
        d.audits.setParams(p);
        assertEq(d.audits.auditRate(c.terms), byRule + 1, "floor");
        p.auditRateBps = 0;
        p.auditSafetyBps = 0;
        d.audits.setParams(p);
        assertEq(d.audits.auditRate(c.terms), 0, "zero");
        assertFalse(_draw(c).audited, "audited at 0");
        vm.expectRevert(abi.encodeWithSelector(IAuditManager.AuditManagerNotAudited.selector, c.id));
        vm.prank(auditors[0]);
        d.audits.commitAudit(c.id, c.terms, c.output, bytes32(0));
    }

    // ------------------------------------------------------------ outcomes

    /// @notice Passed and final: the reward from the pool (pull payment), the lock released.
    function test_anAuditThatStandsIsPaid() public {
        d.audits.fund(10 ether);
        Case memory c = _submitted(TRUE_OUTPUT);
        address auditor = _draw(c).auditor;
        _commitAudit(auditor, c, TRUE_OUTPUT, SALT);
        vm.roll(block.number + 1);
        _revealPass(auditor, c, TRUE_OUTPUT, SALT);
        vm.expectRevert(abi.encodeWithSelector(IAuditManager.AuditManagerWrongJobStatus.selector, c.id, IJobManager.JobStatus.Submitted));
        d.audits.settleAudit(c.id);
        _finalize(c);
        uint256 pool = d.audits.pool();
        vm.expectEmit(address(d.audits));
        emit IAuditManager.AuditSettled(c.id, auditor, IAuditManager.AuditStatus.Passed, REWARD, 0);
        d.audits.settleAudit(c.id);
        assertEq(d.audits.balanceOf(auditor), REWARD, "reward");
        assertEq(d.audits.pool(), pool - REWARD, "from the pool");
        assertEq(d.staking.stakeOf(auditor).locked, 0, "released");
        uint256 wallet = d.token.balanceOf(auditor);
        vm.prank(auditor);
        d.audits.withdraw();
        assertEq(d.token.balanceOf(auditor), wallet + REWARD, "withdrawn");
        vm.expectRevert(abi.encodeWithSelector(IAuditManager.AuditManagerNothingToSettle.selector, c.id));
        d.audits.settleAudit(c.id);
    }

    /// @notice The pool pays what it holds, no more, and owes nothing later.
    function test_aRewardIsPaidAsFarAsThePoolHoldsIt() public {
        Case memory c = _submitted(TRUE_OUTPUT);
        address auditor = _draw(c).auditor;
        _commitAudit(auditor, c, TRUE_OUTPUT, SALT);
        vm.roll(block.number + 1);
        _revealPass(auditor, c, TRUE_OUTPUT, SALT);
        _finalize(c);
        // The pool holds only this job's share (0.4 VTN of a 20 VTN fee), less than the 1 VTN reward.
        uint256 share = (FEE * AUDIT_FEE_BPS) / BPS;
        assertEq(d.audits.pool(), share, "pool");
        d.audits.settleAudit(c.id);
        assertEq(d.audits.balanceOf(auditor), share, "partial");
        assertEq(d.audits.pool(), 0, "empty");
        assertEq(d.token.balanceOf(address(d.audits)), share, "held for the auditor");
    }

    /// @notice Committed, never revealed: the miss penalty of the lock to the pool, the rest released.
    function test_aLazyAuditorThatNeverRevealsPays() public {
        Case memory c = _submitted(TRUE_OUTPUT);
        address auditor = _draw(c).auditor;
        _commitAudit(auditor, c, TRUE_OUTPUT, SALT);
        uint256 staked = d.staking.stakeOf(auditor).staked;
        _finalize(c);
        uint256 pool = d.audits.pool();
        d.audits.settleAudit(c.id);
        uint256 penalty = (uint256(c.terms.lock) * MISS_BPS) / BPS;
        assertEq(d.staking.stakeOf(auditor).staked, staked - penalty, "penalty");
        assertEq(d.staking.stakeOf(auditor).locked, 0, "released");
        assertEq(d.audits.pool(), pool + penalty, "pool");
        assertEq(d.audits.balanceOf(auditor), 0, "no reward");
    }

    /// @notice An auditor that vouched for a result proven wrong (by a verifier) loses its lock.
    function test_vouchingForAWrongResultIsSlashed() public {
        Case memory c = _submitted(WRONG_OUTPUT);
        address auditor = _draw(c).auditor;
        // Lazy: it agrees with the worker's public output.
        _commitAudit(auditor, c, WRONG_OUTPUT, SALT);
        vm.roll(block.number + 1);
        _revealPass(auditor, c, WRONG_OUTPUT, SALT);
        Claim memory claim = _honestClaim(c);
        _commit(HONEST, c, claim, SALT);
        vm.roll(block.number + 1);
        DisputeGame g = _open(HONEST, c, claim, SALT);
        _playToStep(g, c, HONEST);
        _step(g);
        uint256 staked = d.staking.stakeOf(auditor).staked;
        uint256 pool = d.audits.pool();
        d.audits.settleAudit(c.id);
        assertEq(d.staking.stakeOf(auditor).staked, staked - c.terms.lock, "slashed");
        assertEq(d.staking.stakeOf(auditor).locked, 0, "no lock left");
        assertEq(d.audits.pool(), pool + c.terms.lock, "to the pool");
        assertEq(d.audits.balanceOf(auditor), 0, "no reward");
    }

    /// @notice A mismatch opens a game at once, with the auditor as challenger (its bond, a fresh
    /// rank); played out, the truth wins: the result is rejected, the auditor gets its bond back, the
    /// challenger's reward and the audit reward.
    function test_aMismatchOpensAGameAndTheTruthWins() public {
        d.audits.fund(10 ether);
        Case memory c = _submitted(WRONG_OUTPUT);
        address auditor = _draw(c).auditor;
        _commitAudit(auditor, c, TRUE_OUTPUT, SALT);
        vm.roll(block.number + 1);
        uint256 wallet = d.token.balanceOf(auditor);
        DisputeGame g = _revealMismatch(auditor, c, TRUE_OUTPUT, SALT);
        assertTrue(address(g) != address(0), "game");
        IDisputeGameFactory.GameRecord memory rec = factory.gameRecord(address(g));
        assertEq(rec.challenger, auditor, "challenger");
        assertEq(rec.jobId, c.id, "job");
        assertEq(d.token.balanceOf(auditor), wallet - BOND, "bond from the auditor");
        assertEq(uint256(d.jobs.getJob(c.id).openDisputes), 1, "frozen");
        IAuditManager.Audit memory a = d.audits.auditOf(c.id);
        assertEq(uint256(a.status), uint256(IAuditManager.AuditStatus.Mismatch), "mismatch");
        assertEq(a.game, address(g), "recorded");

        _playToStep(g, c, auditor);
        _step(g);
        assertEq(uint256(g.status()), uint256(GameStatus.ChallengerWins), "the truth wins");
        assertEq(uint256(d.jobs.getJob(c.id).status), uint256(IJobManager.JobStatus.Rejected), "rejected");
        d.audits.settleAudit(c.id);
        assertEq(d.audits.balanceOf(auditor), REWARD, "audit reward");
        assertEq(d.staking.stakeOf(auditor).locked, 0, "released");
        // The game's own payout: the bond back, and half the worker's slashed lock.
        assertEq(factory.balanceOf(auditor), BOND + (uint256(c.terms.lock) * CHALLENGER_BPS) / BPS, "game payout");
    }

    /// @notice A mismatch against a correct result loses: the worker's result stands (the auditor
    /// misses its moves), the auditor's bond is lost and it gets no reward; its lock is released.
    function test_aWrongMismatchLosesItsBond() public {
        d.audits.fund(10 ether);
        Case memory c = _submitted(TRUE_OUTPUT);
        address auditor = _draw(c).auditor;
        _commitAudit(auditor, c, WRONG_OUTPUT, SALT);
        vm.roll(block.number + 1);
        DisputeGame g = _revealMismatch(auditor, c, WRONG_OUTPUT, SALT);
        // The worker defends; the auditor never answers.
        _postTrace(g, _leaves(c.terms.inputCommitment, 0), c.output);
        vm.warp(block.timestamp + MAX_MOVE_TIMEOUT + 1);
        g.timeout();
        assertEq(uint256(g.status()), uint256(GameStatus.DefenderWins), "defender");
        _finalize(c);
        d.audits.settleAudit(c.id);
        assertEq(d.audits.balanceOf(auditor), 0, "no reward");
        assertEq(d.staking.stakeOf(auditor).locked, 0, "released");
        assertEq(factory.balanceOf(auditor), 0, "bond lost");
    }

    /// @notice Governance changing the reward and the penalty mid-audit changes neither for an audit
    /// already committed.
    function test_aParameterChangeReachesNoCommittedAudit() public {
        d.audits.fund(100 ether);
        Case memory c = _submitted(TRUE_OUTPUT);
        address auditor = _draw(c).auditor;
        _commitAudit(auditor, c, TRUE_OUTPUT, SALT);
        IAuditManager.Params memory p = _auditParams(10_000);
        p.auditReward = 50 ether;
        p.auditMissPenaltyBps = 10_000;
        d.audits.setParams(p);
        vm.roll(block.number + 1);
        _revealPass(auditor, c, TRUE_OUTPUT, SALT);
        _finalize(c);
        d.audits.settleAudit(c.id);
        assertEq(d.audits.balanceOf(auditor), REWARD, "the commit's reward");

        // And the commit's penalty, for one that never reveals.
        d.audits.setParams(_auditParams(10_000));
        Case memory c2 = _submitted(TRUE_OUTPUT);
        address auditor2 = _draw(c2).auditor;
        _commitAudit(auditor2, c2, TRUE_OUTPUT, SALT);
        d.audits.setParams(p);
        uint256 staked = d.staking.stakeOf(auditor2).staked;
        _finalize(c2);
        d.audits.settleAudit(c2.id);
        assertEq(d.staking.stakeOf(auditor2).staked, staked - (uint256(c2.terms.lock) * MISS_BPS) / BPS, "the commit's penalty");
    }

    // ------------------------------------------------------------ hostile callers

    /// @notice Nobody reuses another's commitment: it names its auditor; only the committed auditor
    /// reveals, in a later block, with its own salt and output; a second commit is refused.
    function test_aCopycatCannotUseAnotherAuditorsCommitment() public {
        Case memory c = _submitted(TRUE_OUTPUT);
        address auditor = _draw(c).auditor;
        address other = auditor == auditors[0] ? auditors[1] : auditors[0];
        _commitAudit(auditor, c, TRUE_OUTPUT, SALT);
        vm.expectRevert(abi.encodeWithSelector(IAuditManager.AuditManagerAlreadyCommitted.selector, c.id, auditor));
        vm.prank(other);
        d.audits.commitAudit(c.id, c.terms, c.output, bytes32(0));
        bytes32 mine = TestData.commitOneChunk(TestData.tensor4(TRUE_OUTPUT));
        vm.expectRevert(abi.encodeWithSelector(IAuditManager.AuditManagerRevealTooEarly.selector, c.id, block.number));
        vm.prank(auditor);
        d.audits.revealAudit(c.id, mine, SALT);
        vm.roll(block.number + 1);
        vm.expectRevert(abi.encodeWithSelector(IAuditManager.AuditManagerNotCommitted.selector, c.id, other));
        vm.prank(other);
        d.audits.revealAudit(c.id, mine, SALT);
        vm.expectRevert(abi.encodeWithSelector(IAuditManager.AuditManagerCommitmentMismatch.selector, c.id));
        vm.prank(auditor);
        d.audits.revealAudit(c.id, mine, keccak256("another salt"));
        // A commitment made for another account's address does not open for the auditor either.
        assertTrue(d.audits.auditCommitmentOf(c.id, other, mine, SALT) != d.audits.auditCommitmentOf(c.id, auditor, mine, SALT), "named");
    }

    /// @notice An auditor cannot turn its answer after seeing others: a mismatch must reveal what it
    /// committed (another output fails), must differ from the worker's, and the game's claim must be it.
    function test_aMismatchPlaysExactlyTheCommittedOutput() public {
        Case memory c = _submitted(WRONG_OUTPUT);
        address auditor = _draw(c).auditor;
        _commitAudit(auditor, c, TRUE_OUTPUT, SALT);
        vm.roll(block.number + 1);
        Claim memory claim = _claimOf(c, 5);
        bytes32 mine = TestData.commitOneChunk(TestData.tensor4(TRUE_OUTPUT));
        IDisputeGameFactory.OpenParams memory o = _openParams(c, claim, SALT);
        // Revealing another output than committed.
        vm.expectRevert(abi.encodeWithSelector(IAuditManager.AuditManagerCommitmentMismatch.selector, c.id));
        vm.prank(auditor);
        d.audits.revealMismatch(c.id, claim.outputLeaf, SALT, o);
        // A pass reveal of an output that differs from the worker's.
        vm.expectRevert(abi.encodeWithSelector(IAuditManager.AuditManagerCommitmentMismatch.selector, c.id));
        vm.prank(auditor);
        d.audits.revealAudit(c.id, mine, SALT);
        // The right output, but a game claim about another one.
        vm.expectRevert(abi.encodeWithSelector(IAuditManager.AuditManagerClaimMismatch.selector, c.id, claim.outputLeaf, mine));
        vm.prank(auditor);
        d.audits.revealMismatch(c.id, mine, SALT, o);
    }

    /// @notice A mismatch that agrees is refused (an auditor cannot dispute what it agreed with).
    function test_aMismatchThatAgreesIsRefused() public {
        Case memory c = _submitted(TRUE_OUTPUT);
        address auditor = _draw(c).auditor;
        _commitAudit(auditor, c, TRUE_OUTPUT, SALT);
        vm.roll(block.number + 1);
        Claim memory claim = _claimOf(c, TRUE_OUTPUT);
        IDisputeGameFactory.OpenParams memory o = _openParams(c, claim, SALT);
        vm.expectRevert(abi.encodeWithSelector(IAuditManager.AuditManagerOutputsAgree.selector, c.id));
        vm.prank(auditor);
        d.audits.revealMismatch(c.id, c.output, SALT, o);
    }

    /// @notice Only the audit manager opens games for others: an account that calls the factory's
    /// audit entry directly is refused (it would otherwise skip the factory's commit-reveal, and take
    /// a bond from anyone that approved the factory).
    function test_onlyTheAuditManagerOpensAuditDisputes() public {
        Case memory c = _submitted(WRONG_OUTPUT);
        IDisputeGameFactory.OpenParams memory o = _openParams(c, _honestClaim(c), SALT);
        vm.expectRevert(abi.encodeWithSelector(DisputeGameFactoryNotAuditManager.selector, HONEST));
        vm.prank(HONEST);
        factory.openAuditDispute(HONEST, c.id, o);
    }

    /// @notice The terms and output committed must be the job's submitted result.
    function test_aCommitOnAnotherResultIsRefused() public {
        Case memory c = _submitted(TRUE_OUTPUT);
        address auditor = _draw(c).auditor;
        vm.expectRevert(abi.encodeWithSelector(IAuditManager.AuditManagerResultMismatch.selector, c.id));
        vm.prank(auditor);
        d.audits.commitAudit(c.id, c.terms, keccak256("another output"), bytes32(0));
    }

    /// @notice No reveal once the challenge window is over (the commit's lock is then settled as unrevealed).
    function test_noRevealAfterTheWindow() public {
        Case memory c = _submitted(TRUE_OUTPUT);
        address auditor = _draw(c).auditor;
        _commitAudit(auditor, c, TRUE_OUTPUT, SALT);
        vm.roll(block.number + 1);
        _afterWindow(c);
        uint256 end = d.jobs.getJob(c.id).timer;
        bytes32 mine = c.output;
        vm.expectRevert(abi.encodeWithSelector(IAuditManager.AuditManagerWindowClosed.selector, c.id, end));
        vm.prank(auditor);
        d.audits.revealAudit(c.id, mine, SALT);
    }

    /// @notice Deployment bindings are sealed, and parameters bounded; the owner has nothing that moves funds.
    function test_bindingIsOnceAndParametersAreBounded() public {
        vm.expectRevert(abi.encodeWithSelector(IAuditManager.AuditManagerEscrowBound.selector, address(d.jobs)));
        d.audits.bindEscrow(d.jobs);
        AuditManager fresh = new AuditManager(d.token, d.staking, address(this), _auditParams(0));
        // An escrow that does not name it.
        vm.expectRevert(abi.encodeWithSelector(IAuditManager.AuditManagerInvalidParameter.selector, "escrow"));
        fresh.bindEscrow(d.jobs);
        IAuditManager.Params memory p = _auditParams(0);
        p.auditSlots = 64;
        p.auditSlotBlocks = 4;
        vm.expectRevert(abi.encodeWithSelector(IAuditManager.AuditManagerInvalidParameter.selector, "auditSlots"));
        d.audits.setParams(p);
        p = _auditParams(10_001);
        vm.expectRevert(abi.encodeWithSelector(IAuditManager.AuditManagerInvalidParameter.selector, "auditRateBps"));
        d.audits.setParams(p);
        p = _auditParams(0);
        p.auditReward = 1_001 ether;
        vm.expectRevert(abi.encodeWithSelector(IAuditManager.AuditManagerInvalidParameter.selector, "auditReward"));
        d.audits.setParams(p);
        vm.prank(HONEST);
        vm.expectRevert();
        d.audits.setParams(_auditParams(0));
    }

    // ------------------------------------------------------------ conservation

    /// @notice Over random jobs and audit outcomes, tokens are conserved: the audit manager holds
    /// exactly its pool plus its auditors' balances, and the whole supply stays where it was (wallets,
    /// escrow, stakes, factory, audit manager), less only what games burned.
    function testFuzz_tokensAreConserved(uint256 seed) public {
        d.audits.fund(5 ether);
        address[] memory holders = _holders();
        uint256 supply = d.token.totalSupply();
        for (uint256 j = 0; j < 4; ++j) {
            seed = uint256(keccak256(abi.encode(seed, j)));
            bool wrong = seed % 3 == 0;
            Case memory c = _submitted(wrong ? WRONG_OUTPUT : TRUE_OUTPUT);
            // 0: the first auditor is silent and the next slot's audits honestly; 1: a lazy auditor
            // copies the worker's output; 2: an honest one; 3: an honest one that never reveals.
            uint256 action = (seed >> 8) % 4;
            address auditor = _draw(c).auditor;
            if (action == 0) {
                vm.roll(block.number + SLOT_BLOCKS);
                auditor = _draw(c).auditor;
            }
            uint32 committed = action == 1 ? (wrong ? WRONG_OUTPUT : TRUE_OUTPUT) : TRUE_OUTPUT;
            _commitAudit(auditor, c, committed, SALT);
            vm.roll(block.number + 1);
            bool agrees = (committed == WRONG_OUTPUT) == wrong;
            if (action == 3) {
                // Never revealed.
            } else if (agrees) {
                _revealPass(auditor, c, committed, SALT);
            } else {
                // An honest auditor against a wrong result: the game, played to the truth.
                DisputeGame g = _revealMismatch(auditor, c, committed, SALT);
                _playToStep(g, c, auditor);
                _step(g);
            }
            if (wrong && d.jobs.getJob(c.id).status == IJobManager.JobStatus.Submitted && (seed >> 16) % 2 == 0) {
                // A verifier catches what the audit let through.
                Claim memory claim = _honestClaim(c);
                _commit(HONEST, c, claim, SALT);
                vm.roll(block.number + 1);
                DisputeGame v = _open(HONEST, c, claim, SALT);
                _playToStep(v, c, HONEST);
                _step(v);
            }
            if (d.jobs.getJob(c.id).status == IJobManager.JobStatus.Submitted) _finalize(c);
            d.audits.settleAudit(c.id);
            _checkConservation(holders, supply);
        }
        d.audits.collect();
        _checkConservation(holders, supply);
    }

    // ------------------------------------------------------------ helpers

    /// @dev A submitted job whose first two slots drew two different auditors (rolled to slot 1).
    function _jobWithDistinctSlots() private returns (Case memory c, address first, address second) {
        for (uint256 i = 0; i < 20; ++i) {
            c = _submitted(TRUE_OUTPUT);
            first = _draw(c).auditor;
            vm.roll(block.number + SLOT_BLOCKS);
            second = _draw(c).auditor;
            if (first != second && first != address(0) && second != address(0)) return (c, first, second);
        }
        revert("no job with two auditors");
    }

    function _holders() private view returns (address[] memory h) {
        h = new address[](auditors.length + 6);
        for (uint256 i = 0; i < auditors.length; ++i) h[i] = auditors[i];
        h[auditors.length] = ROGUE;
        h[auditors.length + 1] = HONEST;
        h[auditors.length + 2] = REQUESTER;
        h[auditors.length + 3] = address(this);
        h[auditors.length + 4] = TREASURY;
        h[auditors.length + 5] = address(d.jobs);
    }

    /// @dev The audit manager holds its pool and its balances, exactly; every token is somewhere known.
    function _checkConservation(address[] memory holders, uint256 supplyBefore) private view {
        uint256 balances;
        for (uint256 i = 0; i < holders.length; ++i) balances += d.audits.balanceOf(holders[i]);
        uint256 held = d.token.balanceOf(address(d.audits));
        assertEq(held, d.audits.pool() - d.jobs.balanceOf(address(d.audits)) + balances, "audit manager: pool + balances");
        uint256 total = d.token.balanceOf(address(d.staking)) + d.token.balanceOf(address(factory)) + held;
        for (uint256 i = 0; i < holders.length; ++i) total += d.token.balanceOf(holders[i]);
        assertEq(total, d.token.totalSupply(), "every token accounted for");
        assertLe(d.token.totalSupply(), supplyBefore, "burns only");
    }
}
