// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {FeeSplit} from "../../contracts/libraries/FeeSplit.sol";
import {IJobManager} from "../../contracts/interfaces/IJobManager.sol";
import {IDisputeGameFactory} from "../../contracts/interfaces/IDisputeGameFactory.sol";
import {JobManager} from "../../contracts/jobs/JobManager.sol";
import {IWorkerRoster} from "../../contracts/interfaces/IWorkerRoster.sol";
import {DisputeGame} from "../../contracts/disputes/DisputeGame.sol";
import {DisputeGameFactory} from "../../contracts/disputes/DisputeGameFactory.sol";
import {GameStatus} from "../../contracts/disputes/lib/Types.sol";
import {DisputeGameFactoryInvalidParameter} from "../../contracts/disputes/lib/DisputeErrors.sol";

import {Deployer} from "./utils/Protocol.sol";
import {DisputeFixture} from "./utils/Disputes.sol";

/**
 * @title GovernanceBoundsTest
 * @notice What governance (the owner of the escrow and the factory) cannot do to disputes: set a
 * parameter that leaves no time or no affordable way to dispute, or reach a job already requested
 * by changing the escrow's parameters. Every test says why it failed against the contracts before
 * the dispute-security change (commit 11a90d1).
 */
contract GovernanceBoundsTest is DisputeFixture {
    address private constant NEW_TREASURY = address(0x7EA6);

    // ------------------------------------------------------------ escrow

    /// @notice Governance cannot appoint another dispute manager, neither a contract nor an account
    /// of its own, nor clear it: the one appointed at deployment judges every job. A fresh escrow
    /// refuses a zero manager at its one appointment.
    /// Before: the owner could appoint any address as the dispute manager of jobs requested later,
    /// and that address could slash the locks of the workers that claimed them.
    function test_escrowRefusesASecondDisputeManager() public {
        uint32 version = d.jobs.paramsVersion();
        bytes memory sealed_ = abi.encodeWithSelector(IJobManager.JobManagerDisputeManagerSealed.selector, address(factory));
        address[3] memory candidates = [address(this), address(0xBAD), address(0)];
        for (uint256 i = 0; i < candidates.length; ++i) {
            vm.expectRevert(sealed_);
            d.jobs.setDisputeManager(candidates[i]);
        }
        assertEq(d.jobs.disputeManager(), address(factory), "manager replaced");
        assertEq(d.jobs.paramsVersion(), version, "a refused appointment made a version");
        // Parameter changes carry the manager over.
        d.jobs.setParams(d.jobs.params());
        assertEq(d.jobs.disputeManager(), address(factory), "a parameter change dropped the manager");

        JobManager fresh = new JobManager(d.token, d.registry, d.staking, address(this), Deployer.MIN_CHALLENGE_WINDOW, d.jobs.params(), IWorkerRoster(address(0)), address(0));
        vm.expectRevert(abi.encodeWithSelector(IJobManager.JobManagerInvalidParameter.selector, "disputeManager"));
        fresh.setDisputeManager(address(0));
    }

    /// @notice The challenge window has a floor fixed at deployment: below it a change is refused
    /// (and makes no version), at it and at the ceiling it is accepted; a floor of zero or above the
    /// ceiling is refused at deployment.
    /// Before: only a zero window was refused, so a vote could set a 1-second window and let every
    /// result finalize before anyone could dispute it.
    function test_escrowRefusesAChallengeWindowBelowItsFloor() public {
        IJobManager.Params memory p = d.jobs.params();
        uint32 version = d.jobs.paramsVersion();
        bytes memory invalid = abi.encodeWithSelector(IJobManager.JobManagerInvalidParameter.selector, "challengeWindow");
        p.challengeWindow = uint24(Deployer.MIN_CHALLENGE_WINDOW - 1);
        vm.expectRevert(invalid);
        d.jobs.setParams(p);
        p.challengeWindow = 1;
        vm.expectRevert(invalid);
        d.jobs.setParams(p);
        p.challengeWindow = uint24(d.jobs.MAX_CHALLENGE_WINDOW() + 1);
        vm.expectRevert(invalid);
        d.jobs.setParams(p);
        assertEq(d.jobs.paramsVersion(), version, "a refused change made a version");

        p.challengeWindow = uint24(Deployer.MIN_CHALLENGE_WINDOW);
        d.jobs.setParams(p);
        assertEq(d.jobs.params().challengeWindow, Deployer.MIN_CHALLENGE_WINDOW, "the floor itself refused");
        p.challengeWindow = uint24(d.jobs.MAX_CHALLENGE_WINDOW());
        d.jobs.setParams(p);
        assertEq(d.jobs.paramsVersion(), version + 2, "one version per change");

        bytes memory invalidFloor = abi.encodeWithSelector(IJobManager.JobManagerInvalidParameter.selector, "minChallengeWindow");
        uint256 tooLong = d.jobs.MAX_CHALLENGE_WINDOW() + 1;
        vm.expectRevert(invalidFloor);
        new JobManager(d.token, d.registry, d.staking, address(this), 0, p, IWorkerRoster(address(0)), address(0));
        vm.expectRevert(invalidFloor);
        new JobManager(d.token, d.registry, d.staking, address(this), tooLong, p, IWorkerRoster(address(0)), address(0));
    }

    /// @notice A change of the escrow's parameters after a request reaches none of that job's
    /// users: its result time, timeout slash, challenge window (a dispute opens after the new,
    /// shorter window would have closed) and protocol fee rate are those of its request; a job
    /// requested after the change has the new ones. The protocol fee itself is governance's revenue:
    /// it accrues to the model at finalization and is paid to the treasury in force when the
    /// model's accruals are distributed (commit b299414; before it, to the request's treasury).
    /// Before: the escrow read the parameters in force at each call: the claim got the new result
    /// time, the timeout slashed at the new rate, the submission opened the new window (the dispute
    /// was refused, `JobManagerChallengeWindowClosed`).
    function test_parameterChangesNeverReachARequestedJob() public {
        IJobManager.Params memory old = d.jobs.params();
        (uint256 late, IJobManager.JobTerms memory lateTerms) = _request();
        (uint256 kept, IJobManager.JobTerms memory keptTerms) = _request();

        IJobManager.Params memory p = d.jobs.params();
        p.resultTimeout = 5 minutes;
        p.challengeWindow = uint24(Deployer.MIN_CHALLENGE_WINDOW);
        p.timeoutSlashBps = 10_000;
        p.treasury = NEW_TREASURY;
        d.jobs.setParams(p);
        assertEq(lateTerms.paramsVersion + 1, d.jobs.paramsVersion(), "the change is a new version");
        (IJobManager.Params memory atRequest, ) = d.jobs.paramsAt(lateTerms.paramsVersion);
        assertEq(atRequest.resultTimeout, old.resultTimeout, "the request's version changed");

        // The result time and the timeout slash of the request.
        _claim(late, lateTerms);
        assertEq(d.jobs.getJob(late).timer, block.timestamp + old.resultTimeout, "result time of the new parameters");
        uint256 stakedBefore = d.staking.stakeOf(ROGUE).staked;
        vm.warp(block.timestamp + old.resultTimeout + 1);
        d.jobs.expire(late, lateTerms);
        uint256 slash = FeeSplit.share(lateTerms.lock, old.timeoutSlashBps);
        assertEq(stakedBefore - d.staking.stakeOf(ROGUE).staked, slash, "timeout slashed at the new rate");
        assertEq(d.jobs.balanceOf(REQUESTER), slash, "requester credited != the request's slash");

        // The challenge window of the request: a dispute still opens after the new window would have closed.
        _claim(kept, keptTerms);
        Case memory c = _submit(kept, keptTerms, TRUE_OUTPUT);
        uint256 submittedAt = block.timestamp;
        assertEq(d.jobs.getJob(kept).timer, submittedAt + old.challengeWindow, "window of the new parameters");
        vm.warp(submittedAt + p.challengeWindow + 1);
        // A mistaken challenger: its trace ends in another output than the (right) one submitted.
        Claim memory root = _claimOf(c, WRONG_OUTPUT);
        _commit(HONEST, c, root, "salt");
        vm.roll(block.number + 1);
        DisputeGame g = _open(HONEST, c, root, "salt");
        _postRoot(g, c);
        vm.warp(block.timestamp + MOVE_TIMEOUT + 1);
        g.timeout();
        assertTrue(g.status() == GameStatus.DefenderWins, "the mistaken challenger won");

        // The protocol fee at the request's rate accrues to the model at finalization (nobody is
        // credited it then); it is governance's own revenue and goes to the treasury in force when
        // the model's accruals are distributed (the new one), not to the request's.
        uint256 protocolFee = FeeSplit.share(FEE, keptTerms.protocolFeeBps);
        d.jobs.finalize(kept, keptTerms, c.output);
        assertEq(d.jobs.protocolFees(modelId), protocolFee, "fee not accrued to the model at the request's rate");
        assertEq(d.jobs.balanceOf(TREASURY), 0, "treasury credited at finalization");
        assertEq(d.jobs.balanceOf(NEW_TREASURY), 0, "treasury credited at finalization");
        d.jobs.distributeModelEarnings(modelId);
        assertEq(d.jobs.balanceOf(NEW_TREASURY), protocolFee, "the treasury in force not paid");
        assertEq(d.jobs.balanceOf(TREASURY), 0, "a former treasury was paid");
        assertEq(d.jobs.protocolFees(modelId), 0, "fee left after distribution");

        // A job requested now has the new parameters.
        (uint256 fresh, IJobManager.JobTerms memory freshTerms) = _request();
        assertEq(freshTerms.paramsVersion, d.jobs.paramsVersion(), "new job's version");
        _claim(fresh, freshTerms);
        assertEq(d.jobs.getJob(fresh).timer, block.timestamp + p.resultTimeout, "new job's result time");
    }

    // ------------------------------------------------------------ factory

    /// @notice The factory refuses every parameter that would disable disputes: a time per move
    /// below the floor fixed at deployment, a ceiling below the time per move or above 30 days, a
    /// zero bond, or one above 1,000,000 tokens; each bound itself is accepted. A floor of zero is
    /// refused at deployment.
    /// Before: only a zero time per move was refused: a vote could set 1-second moves (no defender
    /// could answer), a zero bond (free spam of games) or a bond nobody could post (no disputes).
    function test_factoryRefusesParametersThatDisableDisputes() public {
        IDisputeGameFactory.Params memory p = _factoryParams();
        p.moveTimeout = uint64(MIN_MOVE_TIMEOUT - 1);
        _expectFactoryRefuses(p, "moveTimeout");
        p.moveTimeout = 1;
        _expectFactoryRefuses(p, "moveTimeout");
        p.moveTimeout = uint64(MIN_MOVE_TIMEOUT);
        factory.setParams(p);
        assertEq(factory.params().moveTimeout, MIN_MOVE_TIMEOUT, "the floor itself refused");

        p = _factoryParams();
        p.maxMoveTimeout = p.moveTimeout - 1;
        _expectFactoryRefuses(p, "maxMoveTimeout");
        p.maxMoveTimeout = uint64(factory.MAX_MOVE_TIMEOUT() + 1);
        _expectFactoryRefuses(p, "maxMoveTimeout");
        p.maxMoveTimeout = uint64(factory.MAX_MOVE_TIMEOUT());
        factory.setParams(p);
        p.maxMoveTimeout = p.moveTimeout;
        factory.setParams(p);

        p = _factoryParams();
        p.challengeBond = 0;
        _expectFactoryRefuses(p, "challengeBond");
        p.challengeBond = uint96(factory.MAX_CHALLENGE_BOND() + 1);
        _expectFactoryRefuses(p, "challengeBond");
        p.challengeBond = uint96(factory.MAX_CHALLENGE_BOND());
        factory.setParams(p);
        assertEq(factory.params().challengeBond, factory.MAX_CHALLENGE_BOND(), "the ceiling itself refused");

        vm.expectRevert(abi.encodeWithSelector(DisputeGameFactoryInvalidParameter.selector, "minMoveTimeout"));
        new DisputeGameFactory(d.token, d.jobs, d.registry, d.staking, address(implementation), address(this), 0, p);
        // The constructor's parameters obey the same bounds.
        p.challengeBond = 0;
        vm.expectRevert(abi.encodeWithSelector(DisputeGameFactoryInvalidParameter.selector, "challengeBond"));
        new DisputeGameFactory(d.token, d.jobs, d.registry, d.staking, address(implementation), address(this), MIN_MOVE_TIMEOUT, p);
    }

    function _expectFactoryRefuses(IDisputeGameFactory.Params memory p, string memory name) private {
        vm.expectRevert(abi.encodeWithSelector(DisputeGameFactoryInvalidParameter.selector, name));
        factory.setParams(p);
    }
}
