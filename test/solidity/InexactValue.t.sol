// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IOneStepVerifier, StepContext, StepPhase} from "../../contracts/interfaces/IOneStepVerifier.sol";
import {DisputeGame} from "../../contracts/disputes/DisputeGame.sol";
import {GameStatus, Level, Side} from "../../contracts/disputes/lib/Types.sol";

import {DisputeFixture} from "./utils/Disputes.sol";

/**
 * @title ReducingStubVerifier
 * @notice Test-only stand-in for the one-step verifier on a layer whose one output element is a sum
 * of 4 terms (a DENSE), with the real verifier's range rule: a step from an agreed partial sum
 * outside |v| < 2^24 is not exact. The step's "proof" is the value to return.
 */
contract ReducingStubVerifier is IOneStepVerifier {
    function reductionLength(bytes32, uint256, bytes calldata, bytes32[] calldata) external pure returns (uint8, uint256, uint256) {
        return (1, 4, 1);
    }

    function step(StepContext calldata ctx, int256 pre, bytes calldata proofs) external pure returns (bool, int256) {
        bool fromConstants = ctx.phase == StepPhase.Reduce && ctx.term == 0;
        if (!fromConstants && (pre >= 2 ** 24 || pre <= -(2 ** 24))) return (false, 0);
        return (true, abi.decode(proofs, (int256)));
    }
}

/**
 * @notice Issue 10, L4: a model whose computation takes a partial sum past 2^24 (an invalid model, or
 * an input outside its range) could never be proven wrong, because the one-step verifier reverts on
 * such a value and the challenger then lost by timeout. Now the game decides it: a step that starts
 * from an agreed value outside the exact range ends with the defender losing (no canonical/1
 * computation has such a value; an honest defender's agreed values are its own, all in range).
 */
contract InexactValueTest is DisputeFixture {
    int64 private constant OUT_OF_RANGE = 2 ** 25;

    function _gameVerifier() internal override returns (IOneStepVerifier) {
        return new ReducingStubVerifier();
    }

    function setUp() public override {
        super.setUp();
        address[3] memory parties = [REQUESTER, ROGUE, HONEST];
        for (uint256 i = 0; i < parties.length; ++i) {
            vm.prank(parties[i]);
            d.token.approve(address(factory), type(uint256).max);
        }
    }

    /// @dev A game on a wrong result, played to the accumulators, both posted as `accumulator`.
    function _gameAtAgreedAccumulator(int64 accumulator) private returns (DisputeGame g) {
        Case memory c = _wrongJob();
        Claim memory root = _honestClaim(c);
        _commit(HONEST, c, root, "salt");
        vm.roll(block.number + 1);
        g = _open(HONEST, c, root, "salt");
        _playToStep(g, c, HONEST);
        assertTrue(g.level() == Level.Accumulator, "not at the accumulators");
        vm.prank(ROGUE);
        g.postSum(accumulator);
        vm.prank(HONEST);
        g.postSum(accumulator);
        assertTrue(g.level() == Level.Step, "not at the step");
    }

    /// @notice Before issue 10 this step reverted (the verifier refused the value): no step could
    /// ever end the game, the challenger timed out and the wrong result stood. Now the verifier
    /// reports the step as not exact and the game rejects the result.
    function test_stepFromAnAgreedValueOutsideTheExactRangeRejectsTheResult() public {
        DisputeGame g = _gameAtAgreedAccumulator(OUT_OF_RANGE);
        (uint256 jobId, , , , , , , , , , , ) = g.config();
        g.step(Side.Defender, abi.encode(int256(0)));
        assertTrue(g.status() == GameStatus.ChallengerWins, "the defender of an inexact value won");
        assertEq(uint256(d.jobs.getJob(jobId).status), 6, "job not rejected");
    }

    /// @notice The same at -2^24 (the bound is exclusive on both sides).
    function test_negativeBoundIsOutsideToo() public {
        DisputeGame g = _gameAtAgreedAccumulator(-(2 ** 24));
        g.step(Side.Defender, abi.encode(int256(0)));
        assertTrue(g.status() == GameStatus.ChallengerWins, "the defender of an inexact value won");
    }

    /// @notice Inside the range the step is the verifier's, as before: the true value decides.
    function test_stepFromAnAgreedValueInsideTheRangeIsTheVerifiers() public {
        DisputeGame g = _gameAtAgreedAccumulator(2 ** 24 - 1);
        // The defender's element is the truth here: the defender wins.
        g.step(Side.Defender, abi.encode(int256(g.defenderValue())));
        assertTrue(g.status() == GameStatus.DefenderWins, "the verifier's truth was not used");
    }
}
