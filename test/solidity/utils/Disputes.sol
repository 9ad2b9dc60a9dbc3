// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IJobManager} from "../../../contracts/interfaces/IJobManager.sol";
import {IDisputeGameFactory} from "../../../contracts/interfaces/IDisputeGameFactory.sol";
import {IModelRegistry} from "../../../contracts/interfaces/IModelRegistry.sol";
import {IOneStepVerifier, StepContext} from "../../../contracts/interfaces/IOneStepVerifier.sol";
import {DisputeGame} from "../../../contracts/disputes/DisputeGame.sol";
import {DisputeGameFactory} from "../../../contracts/disputes/DisputeGameFactory.sol";
import {MerkleProof} from "../../../contracts/disputes/lib/MerkleProof.sol";
import {Side} from "../../../contracts/disputes/lib/Types.sol";

import {Test} from "./Test.sol";
import {TestData, Terms, Deployment, Deployer} from "./Protocol.sol";

/// @dev The step was run against another trace root than the one the test expects.
error StubWrongTraceRoot(bytes32 traceRoot);

/**
 * @title StubVerifier
 * @notice Test-only stand-in for the one-step verifier: every layer has one output element computed
 * directly, and a step's "proof" is the honest value itself, which the stub trusts. The verifier's
 * own arithmetic and proofs are tested in test/disputes; these tests are about who may move when,
 * and who is paid. A proof `abi.encode(int256 value, bytes32 traceRoot)` also checks the trace root
 * the game runs the step against (the side's root the step's inputs are proven in).
 */
contract StubVerifier is IOneStepVerifier {
    /// @notice Kind RELU (5): one element, no reduction.
    function reductionLength(bytes32, uint256, bytes calldata, bytes32[] calldata) external pure returns (uint8, uint256, uint256) {
        return (5, 0, 1);
    }

    /// @notice The value encoded in `proofs` (reverts {StubWrongTraceRoot} unless the step runs
    /// against the trace root encoded with it, when there is one).
    function step(StepContext calldata ctx, int256, bytes calldata proofs) external pure returns (bool, int256) {
        if (proofs.length == 64) {
            (int256 value, bytes32 traceRoot) = abi.decode(proofs, (int256, bytes32));
            if (ctx.traceRoot != traceRoot) revert StubWrongTraceRoot(ctx.traceRoot);
            return (true, value);
        }
        return (true, abi.decode(proofs, (int256)));
    }
}

/**
 * @title DisputeFixture
 * @notice The protocol as deployed (operators sealed) with real {DisputeGame} clones of a
 * {StubVerifier} game and the {DisputeGameFactory} as the escrow's dispute manager, on a one-layer
 * model: trace leaf 0 is the input commitment, leaf 1 the output's, so a game is four moves (the
 * defender's root with its children, the challenger's children, both chunks) and a step. A rogue
 * worker submits a wrong output and, when disputed, posts a trace that agrees with it; an honest
 * challenger's trace ends in the true output. Helpers for deeper traces ({_merkleRoot},
 * {_merkleProof}, {_childrenAt}) serve tests on models with more layers.
 */
abstract contract DisputeFixture is Test {
    uint256 internal constant MIN_STAKE = 100 ether;
    uint96 internal constant BOND = 100 ether;
    uint16 internal constant CHALLENGER_BPS = 5_000;
    uint16 internal constant DEFENDER_BPS = 5_000;
    uint64 internal constant MOVE_TIMEOUT = 1 hours;
    uint32 internal constant MOVE_TIMEOUT_PER_GAME = 10 minutes;
    uint64 internal constant MAX_MOVE_TIMEOUT = 1 days;
    uint256 internal constant MIN_MOVE_TIMEOUT = 10 minutes;
    uint256 internal constant FEE = 20 ether;
    uint32 internal constant TRUE_OUTPUT = 42;
    uint32 internal constant WRONG_OUTPUT = 666;

    address internal constant TREASURY = address(0x7EA5);
    address internal constant REQUESTER = address(0x4E0);
    address internal constant ROGUE = address(0xB4D);
    address internal constant HONEST = address(0x600D);

    /// @dev A submitted job, with what a challenger passes back (terms and output commitment), and
    /// the trace root its worker posts when disputed (one layer: the input, then the output).
    struct Case {
        uint256 id;
        IJobManager.JobTerms terms;
        bytes32 output;
        bytes32 trace;
    }

    /// @dev A challenger's claim: its trace root, that root's trace leaf L (its output commitment)
    /// and the leaf's Merkle proof.
    struct Claim {
        bytes32 root;
        bytes32 outputLeaf;
        bytes32[] outputProof;
    }

    Deployment internal d;
    StubVerifier internal verifier;
    DisputeGame internal implementation;
    DisputeGameFactory internal factory;
    uint256 internal modelId;
    bytes internal header;
    bytes32[] internal headerProof;

    function setUp() public virtual {
        d = _deployment();
        verifier = new StubVerifier();
        implementation = new DisputeGame(_gameVerifier());
        factory = _newFactory();
        d.jobs.setDisputeManager(address(factory));
        // As deployed: the escrow is the only operator, and the set is final.
        d.staking.sealOperators();

        // A one-layer model: its graph commitment opens to the header at leaf 0 (depth 1).
        uint32[] memory shape = new uint32[](1);
        shape[0] = 1;
        header = abi.encode(uint32(1), shape, int64(-128), int64(127), uint32(1));
        headerProof.push(keccak256("layer 1 leaf"));
        IModelRegistry.ModelSpec memory spec = TestData.tinyModel(3 ether, 10_000, new IModelRegistry.Contributor[](0), 1);
        spec.graphCommitment = MerkleProof.root(sha256(header), 0, headerProof);
        modelId = d.registry.registerModel(spec);

        _fund(REQUESTER, 1_000 ether);
        _fund(ROGUE, 1_000 ether);
        _stake(ROGUE, MIN_STAKE + 100 ether);
        _fund(HONEST, 1_000 ether);
        _stake(HONEST, MIN_STAKE);
    }

    /// @dev The protocol under test: first-come claims, no audits, unless a fixture needs more.
    function _deployment() internal virtual returns (Deployment memory) {
        return Deployer.deploy(TREASURY, MIN_STAKE, 1 days);
    }

    /// @dev The one-step verifier the games use: the stub, unless a test needs another. (The escrow's
    /// dispute manager is appointed once, so a test cannot swap the factory after this set-up.)
    function _gameVerifier() internal virtual returns (IOneStepVerifier) {
        return verifier;
    }

    function _newFactory() internal returns (DisputeGameFactory) {
        return
            new DisputeGameFactory(
                d.token,
                d.jobs,
                d.registry,
                d.staking,
                address(implementation),
                address(this),
                MIN_MOVE_TIMEOUT,
                _factoryParams()
            );
    }

    function _factoryParams() internal pure returns (IDisputeGameFactory.Params memory) {
        return
            IDisputeGameFactory.Params({
                moveTimeout: MOVE_TIMEOUT,
                challengeBond: BOND,
                challengerRewardBps: CHALLENGER_BPS,
                defenderRewardBps: DEFENDER_BPS,
                moveTimeoutPerGame: MOVE_TIMEOUT_PER_GAME,
                maxMoveTimeout: MAX_MOVE_TIMEOUT
            });
    }

    // ------------------------------------------------------------ accounts

    /// @dev Sends `who` tokens and approves the escrow, staking and the factory for all of them.
    function _fund(address who, uint256 amount) internal {
        d.token.transfer(who, amount);
        vm.startPrank(who);
        d.token.approve(address(d.jobs), type(uint256).max);
        d.token.approve(address(d.staking), type(uint256).max);
        d.token.approve(address(factory), type(uint256).max);
        if (address(d.audits) != address(0)) d.token.approve(address(d.audits), type(uint256).max);
        vm.stopPrank();
    }

    function _stake(address who, uint256 amount) internal {
        vm.prank(who);
        d.staking.stake(amount);
    }

    // ------------------------------------------------------------ jobs

    function _request() internal returns (uint256 jobId, IJobManager.JobTerms memory t) {
        IJobManager.RequestParams memory p = TestData.request(modelId, TestData.tensor4(7), FEE, block.timestamp + 2 hours);
        t = Terms.expected(d.jobs, d.registry, REQUESTER, p);
        vm.prank(REQUESTER);
        jobId = d.jobs.requestInference(p);
    }

    function _claim(uint256 jobId, IJobManager.JobTerms memory t) internal {
        vm.prank(ROGUE);
        d.jobs.claim(jobId, t);
    }

    /// @dev The rogue submits `value` as the output (a result carries no trace: the rogue's trace,
    /// ending in it, is posted only if a dispute opens).
    function _submit(uint256 jobId, IJobManager.JobTerms memory t, uint32 value) internal returns (Case memory c) {
        c = _caseOf(jobId, t, value);
        vm.prank(ROGUE);
        d.jobs.submitResult(jobId, t, TestData.tensor4(value), c.output);
    }

    /// @dev What job `jobId` is once `value` is submitted for it (known before, to its worker).
    function _caseOf(uint256 jobId, IJobManager.JobTerms memory t, uint32 value) internal pure returns (Case memory) {
        return Case(jobId, t, TestData.commitOneChunk(TestData.tensor4(value)), _traceRoot(t.inputCommitment, value));
    }

    /// @dev A job requested, claimed by the rogue and answered with the wrong output.
    function _wrongJob() internal returns (Case memory) {
        (uint256 jobId, IJobManager.JobTerms memory t) = _request();
        _claim(jobId, t);
        return _submit(jobId, t, WRONG_OUTPUT);
    }

    // ------------------------------------------------------------ traces

    /// @dev The leaves of a one-layer trace from the input to `value`.
    function _leaves(bytes32 inputCommitment, uint32 value) internal pure returns (bytes32[] memory leaves) {
        leaves = new bytes32[](2);
        leaves[0] = inputCommitment;
        leaves[1] = TestData.commitOneChunk(TestData.tensor4(value));
    }

    /// @dev The trace root of a one-layer computation from the input to `value`.
    function _traceRoot(bytes32 inputCommitment, uint32 value) internal pure returns (bytes32) {
        return _merkleRoot(_leaves(inputCommitment, value));
    }

    /// @dev The claim of a challenger whose one-layer trace goes from case `c`'s input to `value`.
    function _claimOf(Case memory c, uint32 value) internal pure returns (Claim memory) {
        return _claimOfTrace(_leaves(c.terms.inputCommitment, value));
    }

    /// @dev The claim of a challenger with trace `leaves` (leaf 0 the input, leaf L the output).
    function _claimOfTrace(bytes32[] memory leaves) internal pure returns (Claim memory) {
        uint256 l = leaves.length - 1;
        return Claim(_merkleRoot(leaves), leaves[l], _merkleProof(leaves, l));
    }

    /// @dev The honest claim on case `c` (its input to the true output).
    function _honestClaim(Case memory c) internal pure returns (Claim memory) {
        return _claimOf(c, TRUE_OUTPUT);
    }

    /// @dev The one 1024-byte chunk of a one-element output.
    function _chunk(uint32 value) internal pure returns (bytes memory) {
        return bytes.concat(TestData.tensor4(value), new bytes(1020));
    }

    /// @dev The root of the SHA-256 tree of `leaves`, zero-padded to a power of two (docs/SEMANTICS.md).
    function _merkleRoot(bytes32[] memory leaves) internal pure returns (bytes32) {
        bytes32[] memory padded = _padded(leaves);
        return _subtree(padded, 0, padded.length);
    }

    /// @dev The two children of the root of the tree of `leaves` (at least two leaves).
    function _rootChildren(bytes32[] memory leaves) internal pure returns (bytes32 left, bytes32 right) {
        bytes32[] memory padded = _padded(leaves);
        uint256 half = padded.length / 2;
        left = _subtree(padded, 0, half);
        right = _subtree(padded, half, half);
    }

    /// @dev The children of the node at `depth`, `index` of the tree of `leaves` (the node is above the leaves).
    function _childrenAt(bytes32[] memory leaves, uint256 depth, uint256 index) internal pure returns (bytes32 left, bytes32 right) {
        bytes32[] memory padded = _padded(leaves);
        uint256 size = padded.length >> (depth + 1);
        uint256 start = index * size * 2;
        left = _subtree(padded, start, size);
        right = _subtree(padded, start + size, size);
    }

    /// @dev The siblings from leaf `index` up to the root (MerkleProof's order).
    function _merkleProof(bytes32[] memory leaves, uint256 index) internal pure returns (bytes32[] memory proof) {
        bytes32[] memory padded = _padded(leaves);
        uint256 depth;
        while ((uint256(1) << depth) < padded.length) ++depth;
        proof = new bytes32[](depth);
        for (uint256 k = 0; k < depth; ++k) {
            uint256 size = uint256(1) << k;
            uint256 sibling = ((index >> k) ^ 1) * size;
            proof[k] = _subtree(padded, sibling, size);
        }
    }

    function _padded(bytes32[] memory leaves) private pure returns (bytes32[] memory padded) {
        uint256 n = 1;
        while (n < leaves.length) n <<= 1;
        padded = new bytes32[](n);
        for (uint256 i = 0; i < leaves.length; ++i) padded[i] = leaves[i];
    }

    function _subtree(bytes32[] memory padded, uint256 start, uint256 size) private pure returns (bytes32) {
        if (size == 1) return padded[start];
        uint256 half = size / 2;
        return sha256(abi.encodePacked(_subtree(padded, start, half), _subtree(padded, start + half, half)));
    }

    // ------------------------------------------------------------ disputes

    function _commitment(address who, Case memory c, Claim memory claim, bytes32 salt) internal pure returns (bytes32) {
        return keccak256(abi.encode(c.id, who, claim.root, claim.outputLeaf, salt));
    }

    function _commit(address who, Case memory c, Claim memory claim, bytes32 salt) internal returns (uint256) {
        return _commitOn(factory, who, c, claim, salt);
    }

    function _commitOn(
        DisputeGameFactory f,
        address who,
        Case memory c,
        Claim memory claim,
        bytes32 salt
    ) internal returns (uint256 rank) {
        bytes32 commitment = _commitment(who, c, claim, salt);
        vm.prank(who);
        rank = f.commitDispute(commitment);
    }

    function _openParams(
        Case memory c,
        Claim memory claim,
        bytes32 salt
    ) internal view returns (IDisputeGameFactory.OpenParams memory o) {
        o.terms = c.terms;
        o.outputCommitment = c.output;
        o.challengerRoot = claim.root;
        o.header = header;
        o.headerProof = headerProof;
        o.outputLeaf = claim.outputLeaf;
        o.outputProof = claim.outputProof;
        o.salt = salt;
    }

    function _open(address who, Case memory c, Claim memory claim, bytes32 salt) internal returns (DisputeGame) {
        return _openOn(factory, who, c, claim, salt);
    }

    function _openOn(
        DisputeGameFactory f,
        address who,
        Case memory c,
        Claim memory claim,
        bytes32 salt
    ) internal returns (DisputeGame) {
        IDisputeGameFactory.OpenParams memory o = _openParams(c, claim, salt);
        vm.prank(who);
        return DisputeGame(f.openDispute(c.id, o));
    }

    /// @dev The defender's first move: it posts its trace root (the input, then its output), proving
    /// its output leaf the way a challenger does, and opens the root's two children.
    function _postRoot(DisputeGame g, Case memory c) internal {
        _postTrace(g, _leaves(c.terms.inputCommitment, 0), c.output);
    }

    /// @dev The defender posts the root of trace `leaves` with leaf L replaced by `output` (its own
    /// output commitment), and opens the root's children.
    function _postTrace(DisputeGame g, bytes32[] memory leaves, bytes32 output) internal {
        leaves[leaves.length - 1] = output;
        bytes32 root = _merkleRoot(leaves);
        bytes32[] memory proof = _merkleProof(leaves, leaves.length - 1);
        (bytes32 left, bytes32 right) = _rootChildren(leaves);
        vm.prank(ROGUE);
        g.postRoot(root, proof, left, right);
    }

    /// @dev Plays `g` to its step: the defender posts its root, both sides open their traces (they
    /// differ at the output, layer 1), then reveal their chunks of it. The challenger (with the
    /// honest trace) is to have the step run.
    function _playToStep(DisputeGame g, Case memory c, address challenger) internal {
        _postRoot(g, c);
        // Computed before the prank: sha256 is a call, which would take the prank.
        bytes32 trueOutput = TestData.commitOneChunk(TestData.tensor4(TRUE_OUTPUT));
        vm.prank(challenger);
        g.traceMove(c.terms.inputCommitment, trueOutput, "layer 1", new bytes32[](0));
        vm.prank(ROGUE);
        g.defendChunk(_chunk(WRONG_OUTPUT));
        vm.prank(challenger);
        g.challengeChunk(_chunk(WRONG_OUTPUT), _chunk(TRUE_OUTPUT));
    }

    /// @dev Runs the step of `g` with the honest value (the challenger's, here), which proves the
    /// defender's output wrong.
    function _step(DisputeGame g) internal {
        g.step(Side.Defender, abi.encode(int256(g.challengerValue())));
    }

    /// @dev The defender's trace root as the game holds it (zero until its first move).
    function _defenderRoot(DisputeGame g) internal view returns (bytes32 root) {
        (, , , , , , root, , , , , ) = g.config();
    }
}
