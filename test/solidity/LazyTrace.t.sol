// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {BPS} from "../../contracts/libraries/FeeSplit.sol";
import {IJobManager} from "../../contracts/interfaces/IJobManager.sol";
import {IDisputeGame} from "../../contracts/interfaces/IDisputeGame.sol";
import {IModelRegistry} from "../../contracts/interfaces/IModelRegistry.sol";
import {DisputeGame} from "../../contracts/disputes/DisputeGame.sol";
import {LibPosition, Position} from "../../contracts/disputes/lib/Position.sol";
import {GameStatus, Level, Reason, Side} from "../../contracts/disputes/lib/Types.sol";
import {
    DisputeGameChildrenMismatch,
    DisputeGameClockExpired,
    DisputeGameClockNotExpired,
    DisputeGameNotYourTurn,
    DisputeGameOutputNotDisputed,
    DisputeGameOutputProofMismatch,
    DisputeGameWrongLevel
} from "../../contracts/disputes/lib/DisputeErrors.sol";

import {Vm} from "./utils/Vm.sol";
import {TestData} from "./utils/Protocol.sol";
import {DisputeFixture, StubWrongTraceRoot} from "./utils/Disputes.sol";

/**
 * @title LazyTraceTest
 * @notice Issue 11, the lazy trace: a result is only the output and its commitment; the worker
 * commits its trace root in a dispute, as the defender's first move (`postRoot`), proven to end in
 * the output it submitted. The challenger opens with its own root, proving that root's output leaf,
 * which must differ from the job's. Each test says which defence it checks and what would happen
 * without it. Games are real {DisputeGame} clones with the stand-in one-step verifier.
 */
contract LazyTraceTest is DisputeFixture {
    address private constant STRANGER = address(0x5757);
    /// @dev The intermediate values of the three-layer model's honest computation.
    uint32 private constant H1 = 11;
    uint32 private constant H2 = 22;

    /// @dev The three-layer model (trace leaves 0..3, depth 2), its header and the header's proof.
    uint256 private threeLayerModel;
    bytes private threeLayerHeader;
    bytes32[] private threeLayerHeaderProof;

    function setUp() public override {
        super.setUp();
        uint32[] memory shape = new uint32[](1);
        shape[0] = 1;
        threeLayerHeader = abi.encode(uint32(1), shape, int64(-128), int64(127), uint32(3));
        bytes32[] memory graph = new bytes32[](4);
        graph[0] = sha256(threeLayerHeader);
        graph[1] = keccak256("layer 1 leaf");
        graph[2] = keccak256("layer 2 leaf");
        graph[3] = keccak256("layer 3 leaf");
        bytes32[] memory proof = _merkleProof(graph, 0);
        for (uint256 i = 0; i < proof.length; ++i) threeLayerHeaderProof.push(proof[i]);
        IModelRegistry.ModelSpec memory spec = TestData.tinyModel(3 ether, 10_000, new IModelRegistry.Contributor[](0), 3);
        spec.graphCommitment = _merkleRoot(graph);
        threeLayerModel = d.registry.registerModel(spec);
    }

    // ------------------------------------------------------------ helpers

    /// @dev A wrong job with the honest challenger's game open on it (one-layer model).
    function _gameOnWrongJob() private returns (Case memory c, Claim memory honest, DisputeGame g) {
        c = _wrongJob();
        honest = _honestClaim(c);
        _commit(HONEST, c, honest, "salt");
        vm.roll(block.number + 1);
        g = _open(HONEST, c, honest, "salt");
    }

    /// @dev Expects the rogue's `postRoot(root, proof, left, right)` on `g` to revert with `err`.
    function _expectPostRootReverts(
        DisputeGame g,
        bytes32 root,
        bytes32[] memory proof,
        bytes32 left,
        bytes32 right,
        bytes memory err
    ) private {
        vm.prank(ROGUE);
        vm.expectRevert(err);
        g.postRoot(root, proof, left, right);
    }

    function _one(bytes32 a) private pure returns (bytes32[] memory p) {
        p = new bytes32[](1);
        p[0] = a;
    }

    function _two(bytes32 a, bytes32 b) private pure returns (bytes32[] memory p) {
        p = new bytes32[](2);
        p[0] = a;
        p[1] = b;
    }

    function _commitOf(uint32 value) private pure returns (bytes32) {
        return TestData.commitOneChunk(TestData.tensor4(value));
    }

    /// @dev The game still waits for the defender's root: nothing of the defender's is held.
    function _assertAwaitingRoot(DisputeGame g) private view {
        assertTrue(g.level() == Level.Root, "not at the root level");
        assertTrue(g.turn() == Side.Defender, "not the defender's turn");
        assertTrue(g.status() == GameStatus.InProgress, "game over");
        assertEq(_defenderRoot(g), bytes32(0), "a defender root before the defender's move");
        assertEq(g.defenderNode(), bytes32(0), "a defender node before the defender's move");
    }

    // ------------------------------------------------------------ postRoot: the root must end in the output

    /// @notice Defence: postRoot proves trace leaf L of the defender's root is the output it
    /// submitted, at the trace tree's depth. Refused with `DisputeGameOutputProofMismatch`: a root whose
    /// leaf L is another tensor (the honest trace, or a copy of the challenger's root: without the
    /// check the defender would post the challenger's own root, the descent would find no
    /// difference and the challenger could only time out), a wrong sibling, a proof one level too
    /// deep (its root commits to a deeper tree in which "leaf" L is an inner node: without the
    /// depth check it would be accepted) or too shallow. The game stays at the root level, and the
    /// right root is then accepted.
    function test_postRootRefusesARootThatDoesNotEndInTheOutput() public {
        (Case memory c, Claim memory honest, DisputeGame g) = _gameOnWrongJob();
        bytes32 input = c.terms.inputCommitment;
        bytes32 trueOutput = _commitOf(TRUE_OUTPUT);
        _assertAwaitingRoot(g);

        // Wrong leaf: the challenger's root (the honest trace), with its own proof.
        assertEq(honest.root, _traceRoot(input, TRUE_OUTPUT), "honest root");
        _expectPostRootReverts(
            g,
            honest.root,
            honest.outputProof,
            input,
            trueOutput,
            abi.encodeWithSelector(DisputeGameOutputProofMismatch.selector, honest.root, c.trace)
        );

        // Wrong proof: the right root, another sibling.
        bytes32 junk = keccak256("not the input");
        bytes32 computed = sha256(abi.encodePacked(junk, c.output));
        _expectPostRootReverts(
            g,
            c.trace,
            _one(junk),
            input,
            c.output,
            abi.encodeWithSelector(DisputeGameOutputProofMismatch.selector, c.trace, computed)
        );

        // Wrong depth: a proof one level too deep, of the root it leads to.
        bytes32 extra = keccak256("one level more");
        bytes32 deeper = sha256(abi.encodePacked(c.trace, extra));
        _expectPostRootReverts(
            g,
            deeper,
            _two(input, extra),
            c.trace,
            extra,
            abi.encodeWithSelector(DisputeGameOutputProofMismatch.selector, deeper, bytes32(0))
        );
        // And one too shallow (no proof: the output commitment as the root).
        _expectPostRootReverts(
            g,
            c.output,
            new bytes32[](0),
            input,
            c.output,
            abi.encodeWithSelector(DisputeGameOutputProofMismatch.selector, c.output, bytes32(0))
        );
        _assertAwaitingRoot(g);

        // The right root goes through, with its children: the first trace move.
        vm.recordLogs();
        _postRoot(g, c);
        Vm.Log[] memory logs = vm.getRecordedLogs();
        assertEq(logs.length, 2, "postRoot emitted != RootPosted + ChildrenRevealed");
        assertEq(logs[0].emitter, address(g), "emitter");
        assertEq(logs[0].topics[0], IDisputeGame.RootPosted.selector, "first event");
        assertEq(abi.decode(logs[0].data, (bytes32)), c.trace, "root posted");
        assertEq(logs[1].topics[0], IDisputeGame.ChildrenRevealed.selector, "second event");
        assertEq(uint256(logs[1].topics[1]), uint256(Level.Trace), "children revealed at another level");
        assertEq(uint256(logs[1].topics[2]), uint256(Side.Defender), "children revealed by another side");
        (Position at, bytes32 left, bytes32 right) = abi.decode(logs[1].data, (Position, bytes32, bytes32));
        assertEq(Position.unwrap(at), Position.unwrap(LibPosition.ROOT), "children of another node");
        assertEq(left, input, "left child");
        assertEq(right, c.output, "right child");
        assertTrue(g.level() == Level.Trace && g.turn() == Side.Challenger, "not the challenger's trace move");
        assertEq(_defenderRoot(g), c.trace, "posted root not stored");
        assertEq(g.defenderNode(), c.trace, "defender node != posted root");
        assertEq(g.defenderLeft(), input, "defender's left child");
        assertEq(g.defenderRight(), c.output, "defender's right child");
    }

    /// @notice Defence: the posted root also opens into the two children it is posted with (the
    /// first trace move is checked like any other).
    function test_postRootChecksItsChildren() public {
        (Case memory c, , DisputeGame g) = _gameOnWrongJob();
        bytes32 input = c.terms.inputCommitment;
        bytes32 trueOutput = _commitOf(TRUE_OUTPUT);
        bytes32 computed = sha256(abi.encodePacked(input, trueOutput));
        vm.prank(ROGUE);
        vm.expectRevert(abi.encodeWithSelector(DisputeGameChildrenMismatch.selector, c.trace, computed));
        g.postRoot(c.trace, _one(input), input, trueOutput);
        _assertAwaitingRoot(g);
    }

    // ------------------------------------------------------------ postRoot: who, when, once

    /// @notice Defence: only the defender posts the root (`DisputeGameNotYourTurn`), once, and only at the
    /// root level (`DisputeGameWrongLevel`): the challenger and a stranger are refused, no trace move comes
    /// before the root, and a second root (the defender's choice after seeing the challenger's
    /// first move) is refused once the game is at the trace level.
    function test_postRootOnlyByTheDefenderOnceAtTheRootLevel() public {
        (Case memory c, Claim memory honest, DisputeGame g) = _gameOnWrongJob();
        bytes32 input = c.terms.inputCommitment;
        bytes32[] memory proof = _one(input);
        address[2] memory others = [HONEST, STRANGER];
        for (uint256 i = 0; i < others.length; ++i) {
            vm.prank(others[i]);
            vm.expectRevert(abi.encodeWithSelector(DisputeGameNotYourTurn.selector, others[i], Side.Defender));
            g.postRoot(c.trace, proof, input, c.output);
        }
        // No trace move before the root, from either side.
        bytes memory notYet = abi.encodeWithSelector(DisputeGameWrongLevel.selector, Level.Trace, Level.Root);
        vm.prank(ROGUE);
        vm.expectRevert(notYet);
        g.traceMove(input, c.output, "", new bytes32[](0));
        vm.prank(HONEST);
        vm.expectRevert(notYet);
        g.traceMove(input, honest.outputLeaf, "layer 1", new bytes32[](0));
        _assertAwaitingRoot(g);

        _postRoot(g, c);
        // Twice: refused at the trace level, by the defender as by anyone.
        bytes memory again = abi.encodeWithSelector(DisputeGameWrongLevel.selector, Level.Root, Level.Trace);
        _expectPostRootReverts(g, c.trace, proof, input, c.output, again);
        vm.prank(HONEST);
        vm.expectRevert(again);
        g.postRoot(c.trace, proof, input, c.output);
        // Still refused after the challenger's move gives the turn back to the defender.
        bytes32 trueOutput = _commitOf(TRUE_OUTPUT);
        vm.prank(HONEST);
        g.traceMove(input, trueOutput, "layer 1", new bytes32[](0));
        assertTrue(g.level() == Level.Chunk && g.turn() == Side.Defender, "not at the defender's chunk");
        _expectPostRootReverts(
            g,
            c.trace,
            proof,
            input,
            c.output,
            abi.encodeWithSelector(DisputeGameWrongLevel.selector, Level.Root, Level.Chunk)
        );
        assertEq(_defenderRoot(g), c.trace, "the root changed");
    }

    /// @notice Defence: the root is a move like any other, due `moveTime` after the opening. At the
    /// deadline it is accepted (and `timeout` refused); after it postRoot reverts
    /// `DisputeGameClockExpired`, and `timeout` ends the game for the challenger: the job is rejected, the
    /// requester refunded, the challenger paid its bond and the reward. Without the clock a worker
    /// could leave every game waiting forever (its result frozen, never rejected).
    function test_postRootAfterItsDeadlineRevertsAndTheChallengerWinsByTimeout() public {
        Case memory early = _wrongJob();
        Case memory late = _wrongJob();
        Claim memory earlyClaim = _honestClaim(early);
        Claim memory lateClaim = _honestClaim(late);
        _commit(HONEST, early, earlyClaim, "early");
        _commit(HONEST, late, lateClaim, "late");
        vm.roll(block.number + 1);
        DisputeGame onTime = _open(HONEST, early, earlyClaim, "early");
        DisputeGame g = _open(HONEST, late, lateClaim, "late");
        uint256 due = g.deadline();
        assertEq(due, block.timestamp + MOVE_TIMEOUT, "deadline of the root");
        assertEq(onTime.deadline(), due, "same deadline");

        vm.warp(due);
        vm.expectRevert(abi.encodeWithSelector(DisputeGameClockNotExpired.selector, due));
        g.timeout();
        _postRoot(onTime, early);
        assertTrue(onTime.level() == Level.Trace, "root at the deadline refused");

        vm.warp(due + 1);
        bytes32 input = late.terms.inputCommitment;
        _expectPostRootReverts(
            g,
            late.trace,
            _one(input),
            input,
            late.output,
            abi.encodeWithSelector(DisputeGameClockExpired.selector, due)
        );
        vm.recordLogs();
        g.timeout();
        Vm.Log[] memory logs = vm.getRecordedLogs();
        _assertResolvedWith(logs, address(g), GameStatus.ChallengerWins, Reason.Timeout);
        assertTrue(g.status() == GameStatus.ChallengerWins, "the silent defender won");
        assertEq(_defenderRoot(g), bytes32(0), "a root without a move");
        assertTrue(d.jobs.getJob(late.id).status == IJobManager.JobStatus.Rejected, "wrong result not rejected");
        assertEq(d.jobs.balanceOf(REQUESTER), FEE, "requester not refunded");
        assertEq(
            factory.balanceOf(HONEST),
            BOND + (uint256(late.terms.lock) * CHALLENGER_BPS) / BPS,
            "challenger paid != bond + reward"
        );
    }

    function _assertResolvedWith(Vm.Log[] memory logs, address game, GameStatus status, Reason reason) private pure {
        for (uint256 i = 0; i < logs.length; ++i) {
            if (logs[i].emitter != game || logs[i].topics[0] != IDisputeGame.GameResolved.selector) continue;
            (GameStatus s, Reason r) = abi.decode(logs[i].data, (GameStatus, Reason));
            assertTrue(s == status, "resolved with another status");
            assertTrue(r == reason, "resolved for another reason");
            return;
        }
        fail("not resolved");
    }

    // ------------------------------------------------------------ opening: the challenger's output

    /// @notice Defence: a game opens only on another output. A challenger whose trace ends in the
    /// job's own output (the worker's own trace, or another trace to the same output) is refused
    /// `DisputeGameOutputNotDisputed`: nothing is taken, nothing frozen, no game recorded. Without it, a
    /// challenger agreeing with the output would freeze the job anyway, and a worker with the right
    /// output but a trace wrong anywhere inside could lose it (a correct output is a correct result).
    function test_openingOnTheJobsOwnOutputReverts() public {
        Case memory c = _wrongJob();
        bytes32[] memory otherTrace = new bytes32[](2);
        otherTrace[0] = keccak256("another input");
        otherTrace[1] = c.output;
        Claim[2] memory claims = [_claimOf(c, WRONG_OUTPUT), _claimOfTrace(otherTrace)];
        assertEq(claims[0].root, c.trace, "the worker's own trace");
        uint256 balanceBefore = d.token.balanceOf(HONEST);
        for (uint256 i = 0; i < claims.length; ++i) {
            bytes32 salt = bytes32(i);
            _commit(HONEST, c, claims[i], salt);
            vm.roll(block.number + 1);
            _expectOpenReverts(c, claims[i], salt, abi.encodeWithSelector(DisputeGameOutputNotDisputed.selector, c.output));
        }
        _assertNothingOpened(c, balanceBefore);
    }

    /// @notice Defence: the challenger's output leaf is proven against its root at the trace
    /// tree's depth (`DisputeGameOutputProofMismatch`): a wrong sibling, a leaf its root does not hold, a
    /// proof one level too deep (accepted without the depth check) or none. Then the honest claim
    /// opens.
    function test_openingWithABadOutputProofReverts() public {
        Case memory c = _wrongJob();
        bytes32 input = c.terms.inputCommitment;
        Claim memory honest = _honestClaim(c);
        bytes32 junk = keccak256("not the input");
        bytes32 extra = keccak256("one level more");
        bytes32 notMine = _commitOf(13);
        bytes32 deeper = sha256(abi.encodePacked(honest.root, extra));

        Claim[4] memory bad = [
            Claim(honest.root, honest.outputLeaf, _one(junk)),
            Claim(honest.root, notMine, _one(input)),
            Claim(deeper, honest.outputLeaf, _two(input, extra)),
            Claim(honest.outputLeaf, honest.outputLeaf, new bytes32[](0))
        ];
        bytes[4] memory errors = [
            abi.encodeWithSelector(DisputeGameOutputProofMismatch.selector, honest.root, sha256(abi.encodePacked(junk, honest.outputLeaf))),
            abi.encodeWithSelector(DisputeGameOutputProofMismatch.selector, honest.root, sha256(abi.encodePacked(input, notMine))),
            abi.encodeWithSelector(DisputeGameOutputProofMismatch.selector, deeper, bytes32(0)),
            abi.encodeWithSelector(DisputeGameOutputProofMismatch.selector, honest.outputLeaf, bytes32(0))
        ];
        uint256 balanceBefore = d.token.balanceOf(HONEST);
        for (uint256 i = 0; i < bad.length; ++i) {
            bytes32 salt = bytes32(i);
            _commit(HONEST, c, bad[i], salt);
            vm.roll(block.number + 1);
            _expectOpenReverts(c, bad[i], salt, errors[i]);
        }
        _assertNothingOpened(c, balanceBefore);

        _commit(HONEST, c, honest, "honest");
        vm.roll(block.number + 1);
        DisputeGame g = _open(HONEST, c, honest, "honest");
        _assertAwaitingRoot(g);
        (, , , , , bytes32 output, , bytes32 challengerRoot, uint32 numLayers, , , ) = g.config();
        assertEq(output, c.output, "game on another output");
        assertEq(challengerRoot, honest.root, "challenger root");
        assertEq(numLayers, 1, "layers");
        assertEq(g.challengerNode(), honest.root, "challenger node");
    }

    function _expectOpenReverts(Case memory c, Claim memory claim, bytes32 salt, bytes memory err) private {
        bytes memory call = abi.encodeCall(factory.openDispute, (c.id, _openParams(c, claim, salt)));
        vm.prank(HONEST);
        (bool ok, bytes memory got) = address(factory).call(call);
        assertFalse(ok, "opened");
        assertEq(keccak256(got), keccak256(err), "refused with another error");
    }

    function _assertNothingOpened(Case memory c, uint256 balanceBefore) private view {
        assertEq(factory.gamesOpened(c.id), 0, "a game was recorded");
        assertEq(d.jobs.getJob(c.id).openDisputes, 0, "the job was frozen");
        assertEq(d.token.balanceOf(HONEST), balanceBefore, "a bond was taken");
    }

    // ------------------------------------------------------------ the defender chooses its root last

    /// @dev A three-layer job answered with the wrong output, and the honest challenger's game on it.
    /// The honest trace is input, H1, H2, TRUE_OUTPUT.
    function _threeLayerGame() private returns (Case memory c, DisputeGame g, uint32[4] memory honest) {
        (uint256 oneLayerModel, bytes memory oneLayerHeader, bytes32[] memory oneLayerProof) = (modelId, header, headerProof);
        modelId = threeLayerModel;
        header = threeLayerHeader;
        headerProof = threeLayerHeaderProof;
        c = _wrongJob();
        honest = [uint32(0), H1, H2, TRUE_OUTPUT];
        Claim memory claim = _claimOfTrace(_traceLeaves(c.terms.inputCommitment, honest));
        _commit(HONEST, c, claim, "three");
        vm.roll(block.number + 1);
        g = _open(HONEST, c, claim, "three");
        assertEq(g.traceDepth(), 2, "trace depth of three layers");
        modelId = oneLayerModel;
        header = oneLayerHeader;
        headerProof = oneLayerProof;
    }

    /// @dev Trace leaves: leaf 0 `input`, leaf k the commitment of `values[k]`.
    function _traceLeaves(bytes32 input, uint32[4] memory values) private pure returns (bytes32[] memory leaves) {
        leaves = new bytes32[](4);
        leaves[0] = input;
        for (uint256 k = 1; k < 4; ++k) leaves[k] = _commitOf(values[k]);
    }

    /// @dev Plays the trace descent after the defender's root, the challenger moving first: both
    /// open their children at the cursor until the challenger's move lands on a leaf. Returns it.
    function _descend(DisputeGame g, bytes32[] memory defender, bytes32[] memory challenger) private returns (uint256 index) {
        uint256 depth;
        while (true) {
            (bytes32 cl, bytes32 cr) = _childrenAt(challenger, depth, index);
            (bytes32 dl, ) = _childrenAt(defender, depth, index);
            index = index * 2 + (dl == cl ? 1 : 0);
            ++depth;
            bool landing = depth == 2;
            bytes memory descriptor = landing && index >= 1 && index <= 3 ? bytes("layer") : bytes("");
            vm.prank(HONEST);
            g.traceMove(cl, cr, descriptor, new bytes32[](0));
            if (landing) return index;
            (bytes32 l, bytes32 r) = _childrenAt(defender, depth, index);
            vm.prank(ROGUE);
            g.traceMove(l, r, "", new bytes32[](0));
        }
    }

    /// @notice The defender posts its root after seeing the challenger's, and may copy any of it but
    /// its output leaf (postRoot binds leaf L to the wrong output). A defender that copies the honest
    /// trace up to layer `part` and then follows its own (ending in its wrong output) loses at
    /// exactly that layer: the descent lands on it, the chunks are revealed, and the one step,
    /// run against the defender's posted root, proves its value wrong. Copying the whole trace but
    /// the output still lands on the output layer.
    function test_defenderCopyingTheChallengersTraceLosesWhereTheyPart() public {
        for (uint32 part = 1; part <= 3; ++part) {
            (Case memory c, DisputeGame g, uint32[4] memory honest) = _threeLayerGame();
            // Memory arrays are references: copy the honest values, then depart from layer `part`.
            uint32[4] memory mine = [honest[0], honest[1], honest[2], WRONG_OUTPUT];
            for (uint256 k = part; k < 3; ++k) mine[k] = honest[k] + 100;
            bytes32[] memory defender = _traceLeaves(c.terms.inputCommitment, mine);
            bytes32[] memory challenger = _traceLeaves(c.terms.inputCommitment, honest);
            _postTrace(g, defender, c.output);
            bytes32 root = _merkleRoot(defender);
            assertEq(_defenderRoot(g), root, "posted root");

            assertEq(_descend(g, defender, challenger), part, "landed on another layer");
            (uint32 index, , , , ) = g.disputed();
            assertEq(index, part, "disputed layer");
            bytes memory defenderChunk = _chunk(mine[part]);
            bytes memory challengerChunk = _chunk(honest[part]);
            vm.prank(ROGUE);
            g.defendChunk(defenderChunk);
            vm.prank(HONEST);
            g.challengeChunk(defenderChunk, challengerChunk);
            assertTrue(g.level() == Level.Step, "not at the step");
            assertTrue(g.defenderValue() != g.challengerValue(), "the disputed element is agreed");

            // The honest value of layer `part` (the challenger's), proven in the defender's root.
            g.step(Side.Defender, abi.encode(int256(g.challengerValue()), root));
            assertTrue(g.status() == GameStatus.ChallengerWins, "the copying defender won");
            assertTrue(d.jobs.getJob(c.id).status == IJobManager.JobStatus.Rejected, "wrong result not rejected");
        }
    }

    /// @notice A defender that makes its wrong output the right computation of another input (its
    /// leaf 0 a lie, its other leaves copied from the challenger's but the output) loses at leaf 0:
    /// the input is the job's, fixed by its terms.
    function test_defenderLyingAboutTheInputLosesAtLeafZero() public {
        (Case memory c, DisputeGame g, uint32[4] memory honest) = _threeLayerGame();
        uint32[4] memory mine = [honest[0], honest[1], honest[2], WRONG_OUTPUT];
        bytes32[] memory defender = _traceLeaves(keccak256("another input"), mine);
        bytes32[] memory challenger = _traceLeaves(c.terms.inputCommitment, honest);
        _postTrace(g, defender, c.output);
        vm.recordLogs();
        assertEq(_descend(g, defender, challenger), 0, "landed on another leaf");
        _assertResolvedWith(vm.getRecordedLogs(), address(g), GameStatus.ChallengerWins, Reason.InputLeaf);
        assertTrue(d.jobs.getJob(c.id).status == IJobManager.JobStatus.Rejected, "wrong result not rejected");
    }

    /// @notice The defender cannot post the challenger's own root either (its leaf L is the
    /// challenger's output, not the one submitted), even with the challenger's own proof.
    function test_defenderCannotPostTheChallengersRoot() public {
        (Case memory c, DisputeGame g, uint32[4] memory honest) = _threeLayerGame();
        bytes32[] memory challenger = _traceLeaves(c.terms.inputCommitment, honest);
        Claim memory claim = _claimOfTrace(challenger);
        (bytes32 left, bytes32 right) = _rootChildren(challenger);
        bytes32 computed = _merkleRoot(_withOutput(challenger, c.output));
        _expectPostRootReverts(
            g,
            claim.root,
            claim.outputProof,
            left,
            right,
            abi.encodeWithSelector(DisputeGameOutputProofMismatch.selector, claim.root, computed)
        );
        // Nor a root of the right output one level deeper (its "leaf 3" would be an inner node).
        bytes32[] memory mine = _withOutput(challenger, c.output);
        bytes32 extra = keccak256("one level more");
        bytes32 root = _merkleRoot(mine);
        bytes32[] memory proof = _merkleProof(mine, 3);
        bytes32[] memory deeperProof = new bytes32[](3);
        (deeperProof[0], deeperProof[1], deeperProof[2]) = (proof[0], proof[1], extra);
        bytes32 deeper = sha256(abi.encodePacked(root, extra));
        _expectPostRootReverts(
            g,
            deeper,
            deeperProof,
            root,
            extra,
            abi.encodeWithSelector(DisputeGameOutputProofMismatch.selector, deeper, bytes32(0))
        );
        _assertAwaitingRoot(g);
    }

    function _withOutput(bytes32[] memory leaves, bytes32 output) private pure returns (bytes32[] memory out) {
        out = new bytes32[](leaves.length);
        for (uint256 i = 0; i < leaves.length; ++i) out[i] = leaves[i];
        out[leaves.length - 1] = output;
    }

    // ------------------------------------------------------------ the posted root in the step

    /// @notice `config().defenderRoot` is zero until the defender's first move and its posted root
    /// from then on; the one step against the defender runs on that root (the stand-in verifier
    /// checks the root it is given), against the challenger on the challenger's.
    function test_stepAgainstTheDefenderRunsOnItsPostedRoot() public {
        (Case memory c, Claim memory honest, DisputeGame g) = _gameOnWrongJob();
        assertEq(_defenderRoot(g), bytes32(0), "a defender root at opening");
        _playToStep(g, c, HONEST);
        assertEq(_defenderRoot(g), c.trace, "defender root != the posted one");
        int256 truth = int256(uint256(TRUE_OUTPUT));

        vm.expectRevert(abi.encodeWithSelector(StubWrongTraceRoot.selector, c.trace));
        g.step(Side.Defender, abi.encode(truth, bytes32(0)));
        vm.expectRevert(abi.encodeWithSelector(StubWrongTraceRoot.selector, honest.root));
        g.step(Side.Challenger, abi.encode(truth, c.trace));
        g.step(Side.Defender, abi.encode(truth, c.trace));
        assertTrue(g.status() == GameStatus.ChallengerWins, "the wrong defender won");
    }
}
