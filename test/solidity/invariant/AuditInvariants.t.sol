// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IJobManager} from "../../../contracts/interfaces/IJobManager.sol";
import {IAuditManager} from "../../../contracts/interfaces/IAuditManager.sol";
import {IStaking} from "../../../contracts/interfaces/IStaking.sol";

import {Deployer} from "../utils/Protocol.sol";
import {AuditFixture} from "../utils/Audits.sol";
import {AuditHandler} from "./AuditHandler.sol";

/**
 * @title AuditInvariants
 * @notice The audit pool and the audits under random sequences of jobs (right and wrong results),
 * audits by the drawn auditors (honest, copiers, lazy, wrong), silent drawn auditors, games played
 * to the truth, verifiers, settlements, withdrawals, gifts and governance changes (see
 * {AuditHandler}):
 *  - tokens are conserved: the escrow, the audit manager, the factory and the stakes hold what they
 *    held, plus what the actions paid in, less what was withdrawn and burned (by games only);
 *  - the audit manager holds its pool and what it owes, exactly (plus tokens sent to it outside
 *    {IAuditManager-fund}, which enter no account);
 *  - the pool is what entered it (fee shares, slashes, penalties, gifts) less the rewards it paid,
 *    so it never pays more than it received, and every reward is owed or withdrawn;
 *  - every account's locked stake is the locks of its open jobs and of its unsettled audits: an
 *    auditor's lock is released or slashed when its audit is settled;
 *  - nobody but the auditor the handler itself drew for the slot and block ever committed.
 */
/// forge-config: default.invariant.runs = 64
/// forge-config: default.invariant.depth = 128
contract AuditInvariants is AuditFixture {
    AuditHandler private handler;
    address[] private outside;

    function setUp() public override {
        super.setUp();
        // Two more auditors serving the model (weights from the next epoch), and the rogue, which
        // works but is not in the roster.
        for (uint256 i = 0; i < 2; ++i) {
            address a = address(uint160(0xA0E1 + i));
            _fund(a, 10_000 ether);
            _stake(a, 500 ether * (i + 1));
            vm.startPrank(a);
            d.staking.setModelServed(modelId, true);
            d.roster.join(modelId);
            vm.stopPrank();
            auditors.push(a);
        }
        vm.roll((block.number / EPOCH_BLOCKS + 1) * EPOCH_BLOCKS + 1);
        address[] memory actors = new address[](auditors.length + 1);
        for (uint256 i = 0; i < auditors.length; ++i) actors[i] = auditors[i];
        actors[auditors.length] = ROGUE;
        _fund(REQUESTER, 1_000_000 ether);
        for (uint256 i = 0; i < actors.length; ++i) _fund(actors[i], 100_000 ether);

        handler = new AuditHandler(d, factory, modelId, REQUESTER, HONEST, actors, header, headerProof);
        d.token.transfer(address(handler), 10_000_000 ether);
        d.audits.transferOwnership(address(handler));
        d.jobs.transferOwnership(address(handler));

        for (uint256 i = 0; i < actors.length; ++i) outside.push(actors[i]);
        outside.push(REQUESTER);
        outside.push(HONEST);
        outside.push(TREASURY);
        outside.push(address(handler));
        outside.push(address(this));

        // Jobs from the start, so that audits happen from the first calls.
        handler.submitJob(0, 0, false);
        handler.submitJob(1, 1 ether, true);

        targetContract(address(handler));
        bytes4[] memory selectors = new bytes4[](20);
        selectors[0] = AuditHandler.submitJob.selector;
        selectors[1] = AuditHandler.submitJob.selector;
        selectors[2] = AuditHandler.commitAudit.selector;
        selectors[3] = AuditHandler.commitAudit.selector;
        selectors[4] = AuditHandler.commitAudit.selector;
        selectors[5] = AuditHandler.reveal.selector;
        selectors[6] = AuditHandler.reveal.selector;
        selectors[7] = AuditHandler.reportMissed.selector;
        selectors[8] = AuditHandler.finalize.selector;
        selectors[9] = AuditHandler.finalize.selector;
        selectors[10] = AuditHandler.settle.selector;
        selectors[11] = AuditHandler.settle.selector;
        selectors[12] = AuditHandler.verify.selector;
        selectors[13] = AuditHandler.endGame.selector;
        selectors[14] = AuditHandler.withdraw.selector;
        selectors[15] = AuditHandler.collect.selector;
        selectors[16] = AuditHandler.give.selector;
        selectors[17] = AuditHandler.setAuditParams.selector;
        selectors[18] = AuditHandler.setFeeParams.selector;
        selectors[19] = AuditHandler.roll.selector;
        targetSelector(FuzzSelector({addr: address(handler), selectors: selectors}));
    }

    /// @notice What the escrow, the audit manager, the factory and the stakes hold is what they held
    /// plus what entered (fees, stakes, bonds, gifts) less what was withdrawn and burned; burns are
    /// the supply's only loss, and every token is with a known holder.
    function invariant_tokensConserved() public view {
        assertEq(
            handler.systemHoldings(),
            handler.initialHoldings() + handler.ghostIn() - handler.ghostOut() - handler.ghostBurned(),
            "holdings != initial + in - out - burned"
        );
        assertEq(d.token.totalSupply() + handler.ghostBurned(), Deployer.SUPPLY, "supply + burned != initial supply");
        uint256 sum = handler.systemHoldings();
        for (uint256 i = 0; i < outside.length; ++i) sum += d.token.balanceOf(outside[i]);
        assertEq(sum, d.token.totalSupply(), "a token with an unknown holder");
    }

    /// @notice The audit manager's tokens cover what it owes and its pool: exactly, with what was sent
    /// to it outside {IAuditManager-fund} on top.
    function invariant_auditManagerHoldsItsPoolAndWhatItOwes() public view {
        uint256 held = d.token.balanceOf(address(d.audits));
        uint256 owed = _owedByAudits();
        // The pool as the audit manager holds it (the view adds the escrow's credit, not yet collected).
        uint256 pool = d.audits.pool() - d.jobs.balanceOf(address(d.audits));
        assertGe(held, owed + pool, "audit manager insolvent");
        assertEq(held, owed + pool + handler.ghostDonated(), "audit manager: balance != owed + pool + gifts");
    }

    /// @notice The pool is what entered it less the rewards it paid (so it never paid more than it
    /// received), and every reward paid is owed or withdrawn.
    function invariant_poolNeverPaysMoreThanItReceived() public view {
        assertLe(handler.ghostRewards(), handler.ghostPoolIn(), "paid more than received");
        assertEq(d.audits.pool(), handler.ghostPoolIn() - handler.ghostRewards(), "pool != in - paid");
        assertEq(_owedByAudits() + handler.ghostAuditWithdrawn(), handler.ghostRewards(), "rewards != owed + withdrawn");
    }

    /// @notice Each account's locked stake is the locks of its submitted jobs and of its audits not
    /// yet settled; settled audits hold nothing locked (released or slashed), and no stake is below
    /// its locks.
    function invariant_locksAreReleasedOrSlashedAtSettlement() public view {
        address[] memory actors = handler.actors();
        for (uint256 i = 0; i < actors.length; ++i) {
            IStaking.StakeInfo memory info = d.staking.stakeOf(actors[i]);
            assertEq(info.locked, handler.expectedLocked(actors[i]), "locked != open jobs + unsettled audits");
            assertLe(info.locked, info.staked, "locked > staked");
        }
        uint256[] memory jobs = handler.jobs();
        for (uint256 i = 0; i < jobs.length; ++i) {
            IAuditManager.Audit memory a = d.audits.auditOf(jobs[i]);
            assertTrue(a.settled == handler.ghostOf(jobs[i]).settled, "settled != settled by the handler");
        }
    }

    /// @notice Nobody but the auditor drawn for the slot (by the handler's own draw) ever committed,
    /// and every commit is one the handler made.
    function invariant_onlyTheDrawnAuditorCommitted() public view {
        uint256[] memory jobs = handler.jobs();
        for (uint256 i = 0; i < jobs.length; ++i) {
            IAuditManager.Audit memory a = d.audits.auditOf(jobs[i]);
            AuditHandler.JobGhost memory g = handler.ghostOf(jobs[i]);
            if (a.status == IAuditManager.AuditStatus.None || a.status == IAuditManager.AuditStatus.Missed) {
                assertEq(a.auditor, address(0), "an auditor without a commit");
                continue;
            }
            assertTrue(g.committed, "a commit the handler did not make");
            assertTrue(g.drawnAtCommit != address(0), "committed with nobody drawn");
            assertEq(a.auditor, g.drawnAtCommit, "committed by another than the drawn auditor");
            assertTrue(a.auditor != g.worker, "the worker audited itself");
        }
    }

    /// @notice Every action's own checks held (draws, penalties, slashes, rewards, refusals).
    function invariant_handlerChecks() public view {
        assertEq(handler.violations(), 0, handler.firstViolation());
    }

    /// @notice A long fixed walk reaches every path (each kind of auditor, penalties on commit and by
    /// report, both game outcomes, vouching slashes, lazy slashes, rewards paid in full and short,
    /// withdrawals, parameter changes), then settles everything: no audit lock is left.
    function test_walkReachesEveryPath() public {
        for (uint256 i = 0; i < 400; ++i) {
            uint256 r = uint256(keccak256(abi.encode("walk", i)));
            uint256 k = r % 20;
            if (k < 3) handler.submitJob(r >> 8, r >> 16, (r >> 24) % 3 == 0);
            else if (k < 7) handler.commitAudit(r >> 8, r >> 16, r >> 24);
            else if (k < 9) handler.reveal(r >> 8);
            else if (k == 9) handler.reportMissed(r >> 8, r >> 16);
            else if (k == 10) handler.finalize(r >> 8);
            else if (k == 11) handler.settle(r >> 8);
            else if (k == 12 || k == 19) handler.verify(r >> 8);
            else if (k == 13) handler.endGame(r >> 8);
            else if (k == 14) handler.withdraw(r >> 8);
            else if (k == 15) handler.collect();
            else if (k == 16) handler.give(r >> 8, (r >> 16) % 2 == 0);
            else if (k == 17 && i % 5 == 0) handler.setAuditParams(r >> 8);
            else if (k == 18 && i % 7 == 0) handler.setFeeParams(r >> 8);
            else handler.roll(r >> 8);
            if (i % 50 == 49) _checkAll();
        }
        _settleEverything();
        _checkAll();
        string[17] memory reached = [
            "commitHonest", "commitCopier", "commitLazy", "commitWrong", "commitLaterSlot", "commitRefused",
            "penaltyCharged", "reportMissed", "revealPass", "revealMismatch", "challengerWins", "defenderWins",
            "vouchingSlash", "lazySlash", "rewardPaid", "mismatchLost", "withdrawReward"
        ];
        for (uint256 i = 0; i < reached.length; ++i) {
            assertLt(0, handler.calls(bytes32(bytes(reached[i]))), string.concat("never reached: ", reached[i]));
        }
        assertLt(0, handler.ghostBurned(), "nothing burned");
        // Every audit settled: no auditor has a lock left but for jobs it works on.
        address[] memory actors = handler.actors();
        for (uint256 i = 0; i < actors.length; ++i) assertEq(d.staking.stakeOf(actors[i]).locked, 0, "a lock left");
    }

    /// @dev Ends every game, finalizes every job, settles every audit.
    function _settleEverything() private {
        for (uint256 i = 0; i < 40; ++i) handler.endGame(i);
        uint256[] memory jobs = handler.jobs();
        for (uint256 i = 0; i < jobs.length; ++i) handler.finalize(i);
        for (uint256 i = 0; i < jobs.length; ++i) handler.settle(i);
    }

    function _checkAll() private view {
        invariant_tokensConserved();
        invariant_auditManagerHoldsItsPoolAndWhatItOwes();
        invariant_poolNeverPaysMoreThanItReceived();
        invariant_locksAreReleasedOrSlashedAtSettlement();
        invariant_onlyTheDrawnAuditorCommitted();
        invariant_handlerChecks();
    }

    function _owedByAudits() private view returns (uint256 owed) {
        address[] memory actors = handler.actors();
        for (uint256 i = 0; i < actors.length; ++i) owed += d.audits.balanceOf(actors[i]);
    }
}
