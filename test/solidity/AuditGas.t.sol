// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {console} from "hardhat/console.sol";

import {IJobManager} from "../../contracts/interfaces/IJobManager.sol";
import {DisputeGame} from "../../contracts/disputes/DisputeGame.sol";

import {TestData, Terms, Deployment} from "./utils/Protocol.sol";
import {DisputeFixture} from "./utils/Disputes.sol";
import {AuditFixture} from "./utils/Audits.sol";

/// @dev The four transactions of a job without callback, each as execution gas (no 21,000 base, no
/// calldata): the second job of a run (steady state: the escrow's counters and balances warm).
abstract contract HappyPathGas is DisputeFixture {
    function _happyPath() internal returns (uint256[4] memory g) {
        _oneJob();
        g = _oneJob();
        console.log("request, claim, submit, finalize:", g[0], g[1], g[2]);
        console.log("  finalize:", g[3], "total:", g[0] + g[1] + g[2] + g[3]);
    }

    function _oneJob() private returns (uint256[4] memory g) {
        IJobManager.RequestParams memory p = TestData.request(modelId, TestData.tensor4(7), FEE, block.timestamp + 2 hours);
        IJobManager.JobTerms memory t = Terms.expected(d.jobs, d.registry, REQUESTER, p);
        uint256 before = gasleft();
        vm.prank(REQUESTER);
        uint256 jobId = d.jobs.requestInference(p);
        g[0] = before - gasleft();
        _beforeClaim();
        bytes memory output = TestData.tensor4(TRUE_OUTPUT);
        bytes32 out = TestData.commitOneChunk(output);
        before = gasleft();
        vm.prank(ROGUE);
        d.jobs.claim(jobId, t);
        g[1] = before - gasleft();
        before = gasleft();
        vm.prank(ROGUE);
        d.jobs.submitResult(jobId, t, output, out);
        g[2] = before - gasleft();
        vm.warp(d.jobs.getJob(jobId).timer);
        before = gasleft();
        vm.prank(ROGUE);
        d.jobs.finalize(jobId, t, out);
        g[3] = before - gasleft();
    }

    function _beforeClaim() internal virtual {}
}

/**
 * @title PlainJobGasTest
 * @notice The happy path on an escrow without audits (first-come claims), the reference for the
 * audited one below.
 */
contract PlainJobGasTest is HappyPathGas {
    function test_gasOfTheHappyPathWithoutAudits() public {
        uint256[4] memory g = _happyPath();
        // The 4-byte job of these tests: a regression bound, not a figure (BENCHMARKS.md has the figures).
        assertLe(g[0] + g[1] + g[2] + g[3], 260_000, "happy path");
    }
}

/**
 * @title AuditGasTest
 * @notice Gas of the audit operations and of the happy path on an audited escrow (claims through
 * the roster, once its slot is open to all; 2% of the fee to the pool). Run with `npx hardhat test
 * solidity test/solidity/AuditGas.t.sol` to print the figures.
 */
contract AuditGasTest is AuditFixture, HappyPathGas {
    bytes32 private constant SALT = keccak256("salt");

    function setUp() public override(AuditFixture, DisputeFixture) {
        AuditFixture.setUp();
    }

    function _deployment() internal override(AuditFixture, DisputeFixture) returns (Deployment memory) {
        return AuditFixture._deployment();
    }

    function _beforeClaim() internal override {
        vm.roll(block.number + 3);
    }

    function test_gasOfTheHappyPathWithTheAuditShare() public {
        uint256[4] memory g = _happyPath();
        assertLe(g[0] + g[1] + g[2] + g[3], 320_000, "happy path");
    }

    function test_gasOfAnAuditThatPasses() public {
        _warmUp();
        Case memory c = _submitted(TRUE_OUTPUT);
        address auditor = _draw(c).auditor;
        bytes32 commitment = d.audits.auditCommitmentOf(c.id, auditor, c.output, SALT);
        uint256 before = gasleft();
        vm.prank(auditor);
        d.audits.commitAudit(c.id, c.terms, c.output, commitment);
        uint256 commitGas = before - gasleft();
        vm.roll(block.number + 1);
        before = gasleft();
        vm.prank(auditor);
        d.audits.revealAudit(c.id, c.output, SALT);
        uint256 revealGas = before - gasleft();
        _finalize(c);
        before = gasleft();
        d.audits.settleAudit(c.id);
        uint256 settleGas = before - gasleft();
        console.log("commit (slot 0), reveal (pass), settle (reward):", commitGas, revealGas, settleGas);
        assertLe(commitGas + revealGas + settleGas, 250_000, "an audit");
    }

    function test_gasOfACommitAfterAMissedSlot() public {
        _warmUp();
        Case memory c;
        address second;
        for (uint256 i = 0; i < 20; ++i) {
            c = _submitted(TRUE_OUTPUT);
            address first = _draw(c).auditor;
            vm.roll(block.number + SLOT_BLOCKS);
            second = _draw(c).auditor;
            if (first != second) break;
        }
        bytes32 commitment = d.audits.auditCommitmentOf(c.id, second, c.output, SALT);
        uint256 before = gasleft();
        vm.prank(second);
        d.audits.commitAudit(c.id, c.terms, c.output, commitment);
        console.log("commit (slot 1, charging the silent slot 0):", before - gasleft());
    }

    function test_gasOfAMismatchThatOpensAGame() public {
        _warmUp();
        Case memory c = _submitted(WRONG_OUTPUT);
        address auditor = _draw(c).auditor;
        _commitAudit(auditor, c, TRUE_OUTPUT, SALT);
        vm.roll(block.number + 1);
        Claim memory claim = _claimOf(c, TRUE_OUTPUT);
        bytes32 mine = claim.outputLeaf;
        uint256 before = gasleft();
        vm.prank(auditor);
        address game = d.audits.revealMismatch(c.id, mine, SALT, _openParams(c, claim, SALT));
        console.log("reveal (mismatch, opening the game):", before - gasleft());
        _playToStep(DisputeGame(game), c, auditor);
        _step(DisputeGame(game));
        before = gasleft();
        d.audits.settleAudit(c.id);
        console.log("settle (mismatch, rejected: reward):", before - gasleft());
    }

    /// @dev A first audited job run through, so that the measured one sees warm counters and pool.
    function _warmUp() private {
        d.audits.fund(10 ether);
        Case memory c = _submitted(TRUE_OUTPUT);
        address auditor = _draw(c).auditor;
        _commitAudit(auditor, c, TRUE_OUTPUT, SALT);
        vm.roll(block.number + 1);
        _revealPass(auditor, c, TRUE_OUTPUT, SALT);
        _finalize(c);
        d.audits.settleAudit(c.id);
    }
}
