// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IJobManager} from "../../../contracts/interfaces/IJobManager.sol";
import {IAuditManager} from "../../../contracts/interfaces/IAuditManager.sol";
import {IWorkerRoster} from "../../../contracts/interfaces/IWorkerRoster.sol";
import {DisputeGame} from "../../../contracts/disputes/DisputeGame.sol";

import {TestData, Deployment, Deployer} from "./Protocol.sol";
import {DisputeFixture} from "./Disputes.sol";

/**
 * @title AuditFixture
 * @notice The dispute fixture (real games over a stub verifier, operators sealed) on a protocol with
 * a roster and an audit manager, as Ignition's Protocol deploys it. Four auditors (stakes 1:2:3:4
 * thousand VTN) serve the model in its roster; the rogue worker is not in it, and claims once the
 * roster's single one-block slot has passed (open to all), so that the tests choose the worker.
 * Every job is audited unless a test lowers the rate.
 */
abstract contract AuditFixture is DisputeFixture {
    uint256 internal constant EPOCH_BLOCKS = 1_000;
    uint16 internal constant SLOT_BLOCKS = 4;
    uint8 internal constant SLOTS = 3;
    uint96 internal constant REWARD = 1 ether;
    uint16 internal constant MISS_BPS = 100;
    uint16 internal constant AUDIT_FEE_BPS = 200;

    address[] internal auditors;

    function _deployment() internal virtual override returns (Deployment memory) {
        return
            Deployer.deployAudited(
                TREASURY,
                MIN_STAKE,
                1 days,
                EPOCH_BLOCKS,
                IWorkerRoster.Params(1_000_000 ether, 1, 1),
                _auditParams(10_000),
                AUDIT_FEE_BPS
            );
    }

    /// @dev Audit parameters with floor rate `rateBps` (10000: every job audited).
    function _auditParams(uint16 rateBps) internal pure returns (IAuditManager.Params memory) {
        return
            IAuditManager.Params({
                auditReward: REWARD,
                auditRateBps: rateBps,
                auditSafetyBps: 20_000,
                auditMissPenaltyBps: MISS_BPS,
                auditSlotBlocks: SLOT_BLOCKS,
                auditSlots: SLOTS
            });
    }

    function setUp() public virtual override {
        super.setUp();
        // The test contract seeds the pool in some tests ({IAuditManager-fund}).
        d.token.approve(address(d.audits), type(uint256).max);
        for (uint256 i = 0; i < 4; ++i) {
            address a = address(uint160(0xA0D1 + i));
            auditors.push(a);
            _fund(a, 10_000 ether);
            _stake(a, (i + 1) * 1_000 ether);
            vm.startPrank(a);
            d.staking.setModelServed(modelId, true);
            d.roster.join(modelId);
            vm.stopPrank();
        }
        // The weights are in force from the next epoch.
        vm.roll((block.number / EPOCH_BLOCKS + 1) * EPOCH_BLOCKS + 1);
    }

    /// @dev A job requested, claimed by the rogue once the roster's slot has passed, and answered with
    /// `value`; then the chain rolls to the first audit slot (the seed block mined).
    function _submitted(uint32 value) internal returns (Case memory c) {
        (uint256 jobId, IJobManager.JobTerms memory t) = _request();
        vm.roll(block.number + 3);
        _claim(jobId, t);
        c = _submit(jobId, t, value);
        vm.roll(block.number + 2);
    }

    function _draw(Case memory c) internal view returns (IAuditManager.Draw memory) {
        return d.audits.auditDraw(c.id, c.terms);
    }

    /// @dev `who` commits to `output` (a one-element output value) with `salt`.
    function _commitAudit(address who, Case memory c, uint32 output, bytes32 salt) internal {
        bytes32 mine = TestData.commitOneChunk(TestData.tensor4(output));
        bytes32 commitment = d.audits.auditCommitmentOf(c.id, who, mine, salt);
        vm.prank(who);
        d.audits.commitAudit(c.id, c.terms, c.output, commitment);
    }

    function _revealPass(address who, Case memory c, uint32 output, bytes32 salt) internal {
        bytes32 mine = TestData.commitOneChunk(TestData.tensor4(output));
        vm.prank(who);
        d.audits.revealAudit(c.id, mine, salt);
    }

    /// @dev `who` reveals `output` (its trace from the job's input) and opens the game it implies.
    function _revealMismatch(address who, Case memory c, uint32 output, bytes32 salt) internal returns (DisputeGame) {
        Claim memory claim = _claimOf(c, output);
        bytes32 mine = TestData.commitOneChunk(TestData.tensor4(output));
        vm.prank(who);
        return DisputeGame(d.audits.revealMismatch(c.id, mine, salt, _openParams(c, claim, salt)));
    }

    /// @dev Past the job's challenge window.
    function _afterWindow(Case memory c) internal {
        vm.warp(d.jobs.getJob(c.id).timer);
    }

    function _finalize(Case memory c) internal {
        _afterWindow(c);
        d.jobs.finalize(c.id, c.terms, c.output);
    }
}
