// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IOneStepVerifier, StepContext} from "../../contracts/interfaces/IOneStepVerifier.sol";
import {DisputeGame} from "../../contracts/disputes/DisputeGame.sol";
import {GameStatus, Level, Reason} from "../../contracts/disputes/lib/Types.sol";

import {DisputeFixture, TestData} from "./utils/Disputes.sol";
import {Vm} from "./utils/Vm.sol";

/// @dev The one-step verifier's answer for a layer whose committed leaf is malformed (kind 0, see
/// OneStepVerifier.reductionLength); its steps are never reached.
contract MalformedStubVerifier is IOneStepVerifier {
    function reductionLength(bytes32, uint256, bytes calldata, bytes32[] calldata) external pure returns (uint8, uint256, uint256) {
        return (0, 0, 0);
    }

    function step(StepContext calldata, int256, bytes calldata) external pure returns (bool, int256) {
        revert("unreachable");
    }
}

/**
 * @title MalformedLayerTest
 * @notice A dispute that lands on a layer the model commits malformed (the verifier reports kind 0)
 * ends at once against the defender, who chose to serve a model no canonical/1 computation runs.
 * Before: the verifier reverted on such a leaf, so the challenger's landing move reverted, it timed
 * out, and the disputed result stood.
 */
contract MalformedLayerTest is DisputeFixture {
    function _gameVerifier() internal override returns (IOneStepVerifier) {
        return new MalformedStubVerifier();
    }

    function setUp() public override {
        super.setUp();
        address[3] memory parties = [REQUESTER, ROGUE, HONEST];
        for (uint256 i = 0; i < parties.length; ++i) {
            vm.prank(parties[i]);
            d.token.approve(address(factory), type(uint256).max);
        }
    }

    function test_landingOnAMalformedLayerRejectsTheResult() public {
        Case memory c = _wrongJob();
        Claim memory root = _honestClaim(c);
        _commit(HONEST, c, root, "salt");
        vm.roll(block.number + 1);
        DisputeGame g = _open(HONEST, c, root, "salt");
        _postRoot(g, c);
        bytes32 trueOutput = TestData.commitOneChunk(TestData.tensor4(TRUE_OUTPUT));
        vm.recordLogs();
        vm.prank(HONEST);
        g.traceMove(c.terms.inputCommitment, trueOutput, "layer 1", new bytes32[](0));
        assertTrue(g.status() == GameStatus.ChallengerWins, "the defender of a malformed model won");
        assertEq(uint256(_resolvedReason(address(g))), uint256(Reason.MalformedLayer), "another reason");
        assertTrue(g.level() == Level.Resolved, "not resolved");
        assertEq(uint256(d.jobs.getJob(c.id).status), 6, "job not rejected");
    }

    /// @dev The reason of the `GameResolved` event `game` emitted among the recorded logs.
    function _resolvedReason(address game) private returns (Reason) {
        Vm.Log[] memory logs = vm.getRecordedLogs();
        bytes32 topic = keccak256("GameResolved(uint8,uint8)");
        for (uint256 i = 0; i < logs.length; ++i) {
            if (logs[i].emitter == game && logs[i].topics[0] == topic) {
                (, Reason reason) = abi.decode(logs[i].data, (GameStatus, Reason));
                return reason;
            }
        }
        revert("no GameResolved");
    }
}
