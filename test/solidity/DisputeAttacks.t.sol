// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {BPS} from "../../contracts/libraries/FeeSplit.sol";
import {IJobManager} from "../../contracts/interfaces/IJobManager.sol";
import {IDisputeGameFactory} from "../../contracts/interfaces/IDisputeGameFactory.sol";
import {DisputeGame} from "../../contracts/disputes/DisputeGame.sol";
import {DisputeGameFactory} from "../../contracts/disputes/DisputeGameFactory.sol";
import {GameStatus, Level, Side} from "../../contracts/disputes/lib/Types.sol";
import {
    DisputeGameFactoryCommitmentTooRecent,
    DisputeGameFactoryUnknownCommitment,
    DisputeGameClockExpired,
    DisputeGameClockNotExpired
} from "../../contracts/disputes/lib/DisputeErrors.sol";

import {DisputeFixture} from "./utils/Disputes.sol";

/**
 * @title DisputeAttacksTest
 * @notice The attacks on disputes that the dispute-security change closes, each played against
 * real {DisputeGame} clones (with a stand-in one-step verifier, see {StubVerifier}). Every test
 * says why it failed against the contracts before the change (commit 11a90d1).
 */
contract DisputeAttacksTest is DisputeFixture {
    /// @dev More games than the old escrow let a job have open at once (255, a uint8 counter).
    uint256 private constant CARTEL_GAMES = 300;

    address private constant PARTNER = address(0xCA27E1);
    address private constant COPYCAT = address(0xC0FFEE);
    address private constant MISTAKEN = address(0x0D0D0);

    // ------------------------------------------------------------ cartel

    /// @notice A rogue worker submits a wrong result; its partner, staked at the minimum, committed
    /// beforehand and opens 300 games in the result's block, to shut others out and then lose them.
    /// The honest challenger still commits, opens and wins: the job is rejected and the requester
    /// refunded; the honest challenger gets its bond and the reward (the partner's commitments rank
    /// first, but its games lost); the partner gets nothing back, and the rogue none of its bonds.
    /// Before: the escrow refused a 256th open dispute (`JobManagerDisputeCount`, its counter a uint8), so
    /// the partner's games filled the job and the honest opening reverted; the partner then lost them
    /// by timeout, the wrong result finalized, and the rogue was credited a defender share of every
    /// bond as each game ended.
    function test_cartelCannotShutTheHonestChallengerOut() public {
        _fund(PARTNER, CARTEL_GAMES * BOND + MIN_STAKE);
        _stake(PARTNER, MIN_STAKE);
        uint256 supplyBefore = d.token.totalSupply();
        (uint256 jobId, IJobManager.JobTerms memory t) = _request();
        _claim(jobId, t);
        // The partner knows the result before it is submitted, and commits to its games at once.
        Case memory c = _caseOf(jobId, t, WRONG_OUTPUT);
        // A trace of its own, ending in neither output (a game opens only on another output).
        Claim memory junk = _claimOf(c, 13);
        for (uint256 i = 0; i < CARTEL_GAMES; ++i) _commit(PARTNER, c, junk, bytes32(i + 1));
        vm.roll(block.number + 1);
        _submit(jobId, t, WRONG_OUTPUT);
        DisputeGame[] memory partnerGames = new DisputeGame[](CARTEL_GAMES);
        for (uint256 i = 0; i < CARTEL_GAMES; ++i) partnerGames[i] = _open(PARTNER, c, junk, bytes32(i + 1));
        assertEq(d.jobs.getJob(jobId).openDisputes, CARTEL_GAMES, "the partner's games are not all open");

        // The honest challenger sees the result, commits, and opens in the next block: no cap.
        Claim memory root = _honestClaim(c);
        assertEq(_commit(HONEST, c, root, "honest"), CARTEL_GAMES + 1, "honest rank");
        vm.roll(block.number + 1);
        DisputeGame honest = _open(HONEST, c, root, "honest");
        assertEq(factory.gamesOpened(jobId), CARTEL_GAMES + 1, "games opened");
        // The burst stretched every move of every game on the job, up to the ceiling.
        assertEq(honest.moveTime(), MAX_MOVE_TIMEOUT, "time per move not at its ceiling");

        // The rogue posts its root in its partner's games, which the partner never answers, and
        // loses the honest one at the step.
        for (uint256 i = 0; i < CARTEL_GAMES; ++i) _postRoot(partnerGames[i], c);
        _playToStep(honest, c, HONEST);
        _step(honest);
        assertTrue(honest.status() == GameStatus.ChallengerWins, "the honest challenger lost");
        assertTrue(d.jobs.getJob(jobId).status == IJobManager.JobStatus.Rejected, "wrong result not rejected");
        assertEq(d.jobs.balanceOf(REQUESTER), FEE, "requester not refunded");

        // The partner's games run out of time: the defender wins each, and the last one closes the job.
        vm.warp(block.timestamp + MAX_MOVE_TIMEOUT + 1);
        for (uint256 i = 0; i < CARTEL_GAMES; ++i) {
            partnerGames[i].timeout();
            assertTrue(partnerGames[i].status() == GameStatus.DefenderWins, "a partner's game did not lose");
        }
        IDisputeGameFactory.JobDisputes memory j = factory.jobDisputes(jobId);
        assertTrue(j.closed, "disputes not closed");
        assertEq(j.bestGame, address(honest), "reward to another game");
        uint256 reward = (uint256(t.lock) * CHALLENGER_BPS) / BPS;
        assertEq(factory.balanceOf(HONEST), BOND + reward, "honest challenger paid != bond + reward");
        assertEq(factory.balanceOf(PARTNER), 0, "the partner got something back");
        assertEq(factory.balanceOf(ROGUE), 0, "the rogue got shares of its partner's bonds");
        assertEq(
            supplyBefore - d.token.totalSupply(),
            CARTEL_GAMES * BOND + t.lock - reward,
            "burned != the partner's bonds + the slash left after the reward"
        );
        assertEq(d.token.balanceOf(address(factory)), BOND + reward, "the factory holds more than it owes");
    }

    // ------------------------------------------------------------ copycat

    /// @notice An honest challenger commits and opens; a copycat that saw the claim commits to the
    /// same one later, opens its own game, and wins first. The honest game then wins too: the reward
    /// goes to the honest challenger (lower rank), the copycat gets only its bond back. The copycat
    /// can neither reveal the honest commitment (it binds its committer) nor reveal its own in the
    /// block it committed in.
    /// Before: there was no commitment, so a copy of a claim (or a front-run of its opening) opened at
    /// once; a game paid bond plus reward at its own settlement and only the first win slashed, so
    /// the copycat's game, settled first, took the whole reward and the honest challenger got only
    /// its bond back.
    function test_copycatEarnsNothingBeyondItsBond() public {
        _fund(COPYCAT, 1_000 ether);
        _stake(COPYCAT, MIN_STAKE);
        Case memory c = _wrongJob();
        Claim memory root = _honestClaim(c);
        assertEq(_commit(HONEST, c, root, "honest salt"), 1, "honest rank");
        vm.roll(block.number + 1);

        // The copycat front-runs the honest opening with the very same claim and salt: refused.
        IDisputeGameFactory.OpenParams memory stolen = _openParams(c, root, "honest salt");
        vm.prank(COPYCAT);
        vm.expectRevert(abi.encodeWithSelector(DisputeGameFactoryUnknownCommitment.selector, _commitment(COPYCAT, c, root, "honest salt")));
        factory.openDispute(c.id, stolen);
        DisputeGame honest = _open(HONEST, c, root, "honest salt");

        // Having seen the claim revealed, the copycat commits to it in its own name: it cannot reveal
        // it in the same block, only in a later one, ranked after the original.
        assertEq(_commit(COPYCAT, c, root, "copy"), 2, "copycat rank");
        IDisputeGameFactory.OpenParams memory copyParams = _openParams(c, root, "copy");
        vm.prank(COPYCAT);
        vm.expectRevert(
            abi.encodeWithSelector(DisputeGameFactoryCommitmentTooRecent.selector, _commitment(COPYCAT, c, root, "copy"), block.number)
        );
        factory.openDispute(c.id, copyParams);
        vm.roll(block.number + 1);
        DisputeGame copy = _open(COPYCAT, c, root, "copy");

        // Both games reach the step; the copycat's is stepped, and settles, first.
        _playToStep(honest, c, HONEST);
        _playToStep(copy, c, COPYCAT);
        _step(copy);
        assertTrue(d.jobs.getJob(c.id).status == IJobManager.JobStatus.Rejected, "first win did not reject");
        assertEq(factory.balanceOf(COPYCAT), BOND, "copycat credited != its bond");
        IDisputeGameFactory.JobDisputes memory j = factory.jobDisputes(c.id);
        assertEq(j.slashed, c.terms.lock, "slash not held");
        assertFalse(j.closed, "closed with a game still open");

        _step(honest);
        uint256 reward = (uint256(c.terms.lock) * CHALLENGER_BPS) / BPS;
        j = factory.jobDisputes(c.id);
        assertTrue(j.closed, "not closed after the last game");
        assertEq(j.bestGame, address(honest), "best game is the copy");
        assertEq(factory.balanceOf(HONEST), BOND + reward, "honest challenger paid != bond + reward");
        assertEq(factory.balanceOf(COPYCAT), BOND, "copycat paid more than its bond");
        uint256 before = d.token.balanceOf(COPYCAT);
        vm.prank(COPYCAT);
        factory.withdraw();
        assertEq(d.token.balanceOf(COPYCAT) - before, BOND, "copycat withdrew != its bond");
    }

    // ------------------------------------------------------------ dispute manager sealed

    /// @notice The dispute manager is appointed once: the owner (governance) cannot appoint another
    /// factory B, whatever it is; B, deployed by anyone against this escrow, can neither open a game
    /// on a job, nor freeze nor settle one directly; A judges its games to the end (a won game rejects
    /// its job, a lost one lets its job finalize), and so it does for jobs requested afterwards.
    /// Before: governance could appoint any contract as the manager of jobs requested afterwards, and a
    /// hostile one could slash the locks of the workers that claimed them.
    function test_disputeManagerIsSealed() public {
        DisputeGameFactory a = factory;
        _fund(MISTAKEN, 1_000 ether);
        _stake(MISTAKEN, MIN_STAKE);
        Case memory wrong = _wrongJob();
        (uint256 rightId, IJobManager.JobTerms memory rightTerms) = _request();
        _claim(rightId, rightTerms);
        Case memory right = _submit(rightId, rightTerms, TRUE_OUTPUT);
        Claim memory root = _honestClaim(wrong);
        // The mistaken challenger's trace ends in the wrong output.
        Claim memory mistaken = _claimOf(right, WRONG_OUTPUT);
        _commit(HONEST, wrong, root, "a");
        _commit(MISTAKEN, right, mistaken, "a");
        vm.roll(block.number + 1);
        DisputeGame won = _open(HONEST, wrong, root, "a");
        DisputeGame lost = _open(MISTAKEN, right, mistaken, "a");

        DisputeGameFactory b = _newFactory();
        uint32 version = d.jobs.paramsVersion();
        vm.expectRevert(abi.encodeWithSelector(IJobManager.JobManagerDisputeManagerSealed.selector, address(a)));
        d.jobs.setDisputeManager(address(b));
        assertEq(d.jobs.disputeManager(), address(a), "manager replaced");
        assertEq(d.jobs.paramsVersion(), version, "a refused appointment made a version");
        vm.prank(HONEST);
        d.token.approve(address(b), type(uint256).max);
        _checkManagerRefused(b, HONEST, wrong, root);

        // A judges its games to the end: the won one rejects its job...
        _playToStep(won, wrong, HONEST);
        _step(won);
        assertTrue(d.jobs.getJob(wrong.id).status == IJobManager.JobStatus.Rejected, "A's win did not reject");
        assertEq(d.jobs.balanceOf(REQUESTER), FEE, "requester not refunded");
        assertEq(a.balanceOf(HONEST), BOND + (uint256(wrong.terms.lock) * CHALLENGER_BPS) / BPS, "A did not pay its winner");
        // ...and the lost one lets its job finalize, once its window is over.
        _postRoot(lost, right);
        vm.warp(block.timestamp + MOVE_TIMEOUT + 1);
        lost.timeout();
        assertTrue(lost.status() == GameStatus.DefenderWins, "mistaken challenger won");
        d.jobs.finalize(right.id, right.terms, right.output);
        assertTrue(d.jobs.getJob(right.id).status == IJobManager.JobStatus.Finalized, "not finalized");
        assertEq(a.balanceOf(ROGUE), (uint256(BOND) * DEFENDER_BPS) / BPS, "A did not pay the defender its share");

        // A job requested later is A's too, and B still cannot touch it.
        Case memory later = _wrongJob();
        Claim memory laterRoot = _honestClaim(later);
        _checkManagerRefused(b, HONEST, later, laterRoot);
        _commit(HONEST, later, laterRoot, "a2");
        vm.roll(block.number + 1);
        DisputeGame judged = _open(HONEST, later, laterRoot, "a2");
        _playToStep(judged, later, HONEST);
        _step(judged);
        assertTrue(d.jobs.getJob(later.id).status == IJobManager.JobStatus.Rejected, "A's later win did not reject");
    }

    /// @dev `f` is not the manager of job `c`: a game of `f` cannot open on it (the commitment is
    /// made and revealed in the next block), and `f` can neither freeze nor settle it directly.
    function _checkManagerRefused(DisputeGameFactory f, address challenger, Case memory c, Claim memory root) private {
        _commitOn(f, challenger, c, root, "refused");
        vm.roll(block.number + 1);
        IDisputeGameFactory.OpenParams memory o = _openParams(c, root, "refused");
        bytes memory notManager = abi.encodeWithSelector(IJobManager.JobManagerNotDisputeManager.selector, address(f));
        vm.prank(challenger);
        vm.expectRevert(notManager);
        f.openDispute(c.id, o);
        vm.prank(address(f));
        vm.expectRevert(notManager);
        d.jobs.freezeForDispute(c.id, c.terms, c.output);
        vm.prank(address(f));
        vm.expectRevert(notManager);
        d.jobs.settleDispute(c.id, false, type(uint256).max);
    }

    // ------------------------------------------------------------ the step obeys the clock

    /// @notice At the step, the challenger must have it run before its deadline: after it the step
    /// reverts `DisputeGameClockExpired`, and `timeout` ends the game for the defender (whose held share is
    /// paid when the job's disputes close, and whose result then finalizes).
    /// Before: the step did not look at the clock: past the deadline it still ran and ended the game
    /// for the challenger, racing the defender's timeout.
    function test_stepAfterItsDeadlineRevertsAndTimeoutEndsTheGame() public {
        Case memory c = _wrongJob();
        Claim memory root = _honestClaim(c);
        _commit(HONEST, c, root, "salt");
        vm.roll(block.number + 1);
        DisputeGame g = _open(HONEST, c, root, "salt");
        _playToStep(g, c, HONEST);
        assertTrue(g.level() == Level.Step && g.turn() == Side.Challenger, "not at the step");
        uint256 due = g.deadline();
        assertEq(due, block.timestamp + MOVE_TIMEOUT, "deadline of a game alone on its job");

        vm.warp(due);
        vm.expectRevert(abi.encodeWithSelector(DisputeGameClockNotExpired.selector, due));
        g.timeout();
        vm.warp(due + 1);
        bytes memory proof = abi.encode(int256(g.challengerValue()));
        vm.expectRevert(abi.encodeWithSelector(DisputeGameClockExpired.selector, due));
        g.step(Side.Defender, proof);

        g.timeout();
        assertTrue(g.status() == GameStatus.DefenderWins, "the late challenger won");
        // The window is over and no game is open: the disputes closed, and the defender has its share.
        assertTrue(factory.jobDisputes(c.id).closed, "disputes not closed");
        assertEq(factory.balanceOf(ROGUE), (uint256(BOND) * DEFENDER_BPS) / BPS, "defender share");
        d.jobs.finalize(c.id, c.terms, c.output);
        assertTrue(d.jobs.getJob(c.id).status == IJobManager.JobStatus.Finalized, "not finalized");
    }

    // ------------------------------------------------------------ time per move

    /// @notice A game's time per move is the base time plus the extension for every further game
    /// opened on its job, up to the ceiling, read live: the deadline of a move already running moves
    /// later as games open, never earlier. The defender moves after the base time, inside the
    /// extended one; the timeout waits for the capped deadline.
    /// Before: every move had the fixed `moveTimeout` of the game, however many games the defender
    /// had to answer: its move 80 minutes in reverted `DisputeGameClockExpired`, and the timeout ended
    /// the game against it.
    function test_timePerMoveGrowsWithTheGamesOnAJobUpToTheCeiling() public {
        IDisputeGameFactory.Params memory p = _factoryParams();
        p.maxMoveTimeout = MOVE_TIMEOUT + 3 * MOVE_TIMEOUT_PER_GAME;
        factory.setParams(p);
        Case memory c = _wrongJob();
        Claim memory root = _honestClaim(c);
        uint256 start = block.timestamp;
        _commit(HONEST, c, root, bytes32(uint256(0)));
        vm.roll(block.number + 1);
        DisputeGame g = _open(HONEST, c, root, bytes32(uint256(0)));
        assertEq(g.moveTime(), MOVE_TIMEOUT, "time per move of a game alone on its job");
        assertEq(g.deadline(), start + MOVE_TIMEOUT, "deadline of a game alone on its job");

        uint256 previous = g.deadline();
        for (uint256 n = 2; n <= 5; ++n) {
            _commit(HONEST, c, root, bytes32(n));
            vm.roll(block.number + 1);
            _open(HONEST, c, root, bytes32(n));
            uint256 grown = MOVE_TIMEOUT + (n - 1) * MOVE_TIMEOUT_PER_GAME;
            uint256 expected = grown < p.maxMoveTimeout ? grown : p.maxMoveTimeout;
            assertEq(g.moveTime(), expected, "time per move with n games");
            assertGe(g.deadline(), previous, "a deadline moved earlier");
            previous = g.deadline();
        }
        assertEq(g.moveTime(), p.maxMoveTimeout, "time per move above its ceiling");

        vm.warp(start + MOVE_TIMEOUT + 20 minutes);
        _postRoot(g, c);
        uint256 due = g.deadline();
        assertEq(due, block.timestamp + p.maxMoveTimeout, "deadline after the move");
        vm.warp(due);
        vm.expectRevert(abi.encodeWithSelector(DisputeGameClockNotExpired.selector, due));
        g.timeout();
        vm.warp(due + 1);
        g.timeout();
        assertTrue(g.status() == GameStatus.DefenderWins, "the silent challenger won");
    }
}
