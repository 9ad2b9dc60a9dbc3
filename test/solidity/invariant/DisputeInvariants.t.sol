// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IJobManager} from "../../../contracts/interfaces/IJobManager.sol";
import {IDisputeGameFactory} from "../../../contracts/interfaces/IDisputeGameFactory.sol";
import {IModelRegistry} from "../../../contracts/interfaces/IModelRegistry.sol";
import {DisputeGameFactory} from "../../../contracts/disputes/DisputeGameFactory.sol";
import {MerkleProof} from "../../../contracts/disputes/lib/MerkleProof.sol";

import {Test} from "../utils/Test.sol";
import {TestData, Deployment, Deployer} from "../utils/Protocol.sol";
import {DisputeHandler, MockGame} from "./DisputeHandler.sol";

/**
 * @title DisputeInvariants
 * @notice The dispute factory's accounting under random sequences of games opened and ended with
 * either winner, in any order, several per job: tokens are conserved up to what is burned, the
 * factory holds exactly its balances plus the bonds of games still open, every token that entered
 * it (bonds, slashes) left as a credit or a burn or is still held, each game settles once, and a
 * job is rejected (and refunded) at most once. The games are stand-ins (see {MockGame}).
 */
/// forge-config: default.invariant.runs = 48
/// forge-config: default.invariant.depth = 96
contract DisputeInvariants is Test {
    uint256 private constant MIN_STAKE = 50 ether;
    uint256 private constant ACTOR_TOKENS = 100_000 ether;

    Deployment private d;
    DisputeGameFactory private factory;
    DisputeHandler private handler;
    address[] private holders;
    address[] private accounts;

    function setUp() public {
        d = Deployer.deploy(address(0x7EA5), MIN_STAKE, 1 days);
        factory = new DisputeGameFactory(
            d.token,
            d.jobs,
            d.registry,
            d.staking,
            address(new MockGame()),
            address(this),
            IDisputeGameFactory.Params({moveTimeout: 1 hours, challengeBond: 10 ether, challengerRewardBps: 5_000, defenderRewardBps: 3_000})
        );
        d.jobs.setDisputeManager(address(factory));
        d.staking.setOperator(address(factory), true);

        // A model whose graph commitment opens to a one-layer header at leaf 0 (depth 1).
        uint32[] memory shape = new uint32[](1);
        shape[0] = 1;
        bytes memory header = abi.encode(uint32(1), shape, int64(-128), int64(127), uint32(1));
        bytes32[] memory proof = new bytes32[](1);
        proof[0] = keccak256("layer 1 leaf");
        IModelRegistry.ModelSpec memory spec = TestData.tinyModel(3 ether, 10_000, new IModelRegistry.Contributor[](0), 1);
        spec.graphCommitment = MerkleProof.root(sha256(header), 0, proof);
        uint256 modelId = d.registry.registerModel(spec);

        address requester = address(0xE0);
        address[] memory workers = new address[](2);
        address[] memory challengers = new address[](3);
        for (uint256 i = 0; i < 2; ++i) workers[i] = address(uint160(0xA0 + i));
        for (uint256 i = 0; i < 3; ++i) challengers[i] = address(uint160(0xC0 + i));
        d.token.transfer(requester, ACTOR_TOKENS);
        holders.push(requester);
        for (uint256 i = 0; i < 2; ++i) {
            d.token.transfer(workers[i], ACTOR_TOKENS);
            holders.push(workers[i]);
            accounts.push(workers[i]);
        }
        for (uint256 i = 0; i < 3; ++i) {
            d.token.transfer(challengers[i], ACTOR_TOKENS);
            holders.push(challengers[i]);
            accounts.push(challengers[i]);
        }
        holders.push(address(this));
        holders.push(address(d.jobs));
        holders.push(address(d.staking));
        holders.push(address(factory));

        handler = new DisputeHandler(d, factory, modelId, requester, workers, challengers, header, proof);
        // Jobs from the start, so that games open from the first calls.
        handler.submitJob(0, 0, 1);
        handler.submitJob(1, 1 ether, 2);

        targetContract(address(handler));
        bytes4[] memory selectors = new bytes4[](10);
        selectors[0] = DisputeHandler.submitJob.selector;
        selectors[1] = DisputeHandler.open.selector;
        selectors[2] = DisputeHandler.open.selector;
        selectors[3] = DisputeHandler.end.selector;
        selectors[4] = DisputeHandler.end.selector;
        selectors[5] = DisputeHandler.settleAgain.selector;
        selectors[6] = DisputeHandler.finalize.selector;
        selectors[7] = DisputeHandler.withdraw.selector;
        selectors[8] = DisputeHandler.warp.selector;
        selectors[9] = DisputeHandler.submitJob.selector;
        targetSelector(FuzzSelector({addr: address(handler), selectors: selectors}));
    }

    /// @notice Every token is with a known holder, and the supply shrank by exactly what was burned.
    function invariant_tokensConservedUpToBurns() public view {
        assertEq(d.token.totalSupply() + handler.ghostBurned(), Deployer.SUPPLY, "supply + burned != initial supply");
        uint256 sum;
        for (uint256 i = 0; i < holders.length; ++i) sum += d.token.balanceOf(holders[i]);
        assertEq(sum, d.token.totalSupply(), "holdings != supply");
    }

    /// @notice The factory holds exactly the pull balances plus the bonds of games not yet settled.
    function invariant_factoryHoldsBalancesPlusOpenBonds() public view {
        uint256 owed;
        for (uint256 i = 0; i < accounts.length; ++i) owed += factory.balanceOf(accounts[i]);
        assertEq(d.token.balanceOf(address(factory)), owed + _openBonds(), "factory balance");
    }

    /// @notice Bonds and slashes in == credits + burns + bonds still held; credits out == withdrawn + owed.
    function invariant_valueThroughTheFactory() public view {
        assertEq(
            handler.ghostBonds() + handler.ghostSlashed(),
            handler.ghostCredited() + handler.ghostBurned() + _openBonds(),
            "bonds + slashes != credits + burns + open bonds"
        );
        uint256 owed;
        for (uint256 i = 0; i < accounts.length; ++i) owed += factory.balanceOf(accounts[i]);
        assertEq(handler.ghostCredited(), handler.ghostWithdrawn() + owed, "credits != withdrawn + owed");
    }

    /// @notice Each game settled at most once, exactly when it ended; a job's open-dispute count is
    /// its games not yet settled; a job is rejected (and its fee refunded) at most once.
    function invariant_gamesSettleOnceAndJobsRejectOnce() public view {
        address[] memory games = handler.games();
        for (uint256 i = 0; i < games.length; ++i) {
            uint256 ended = handler.endings(games[i]);
            assertLe(ended, 1, "a game ended twice");
            assertTrue(factory.gameRecord(games[i]).settled == (ended == 1), "settled != ended");
        }
        uint256[] memory jobs = handler.jobs();
        for (uint256 i = 0; i < jobs.length; ++i) {
            address[] memory onJob = factory.gamesOf(jobs[i]);
            uint256 open;
            for (uint256 k = 0; k < onJob.length; ++k) if (!factory.gameRecord(onJob[k]).settled) ++open;
            IJobManager.Job memory job = d.jobs.getJob(jobs[i]);
            assertEq(job.openDisputes, open, "open disputes != unsettled games");
            uint256 rejections = handler.ghostRejections(jobs[i]);
            assertLe(rejections, 1, "a job was rejected twice");
            assertTrue((job.status == IJobManager.JobStatus.Rejected) == (rejections == 1), "rejected != refunded once");
        }
    }

    /// @notice Stake never goes below what is locked, for every worker.
    function invariant_lockedNeverExceedsStake() public view {
        for (uint256 i = 0; i < accounts.length; ++i) {
            assertLe(d.staking.stakeOf(accounts[i]).locked, d.staking.stakeOf(accounts[i]).staked, "locked > staked");
        }
    }

    /// @notice Every action's own checks held (amounts credited, slashed, burned, refunded).
    function invariant_handlerChecks() public view {
        assertEq(handler.violations(), 0, handler.firstViolation());
    }

    /// @notice A long fixed walk reaches both outcomes, repeated games on a job, and withdrawals.
    function test_walkReachesEveryOutcome() public {
        for (uint256 i = 0; i < 120; ++i) {
            uint256 r = uint256(keccak256(abi.encode(i)));
            uint256 k = r % 7;
            if (k == 0) handler.submitJob(r >> 8, r >> 16, uint32(r >> 32));
            else if (k == 1 || k == 2) handler.open(r >> 8, r >> 16);
            else if (k == 3 || k == 4) handler.end(r >> 8, (r >> 16) % 2 == 0);
            else if (k == 5) handler.withdraw(r >> 8);
            else handler.finalize(r >> 8);
        }
        handler.settleAgain(1, true);
        assertEq(handler.violations(), 0, handler.firstViolation());
        assertLt(0, handler.calls("challengerWins"), "no challenger win");
        assertLt(0, handler.calls("defenderWins"), "no defender win");
        assertLt(0, handler.calls("withdraw"), "no withdrawal");
        assertLt(0, handler.ghostBurned(), "nothing burned");
        invariant_tokensConservedUpToBurns();
        invariant_factoryHoldsBalancesPlusOpenBonds();
        invariant_valueThroughTheFactory();
        invariant_gamesSettleOnceAndJobsRejectOnce();
    }

    function _openBonds() private view returns (uint256 bonds) {
        address[] memory games = handler.games();
        for (uint256 i = 0; i < games.length; ++i) {
            IDisputeGameFactory.GameRecord memory rec = factory.gameRecord(games[i]);
            if (!rec.settled) bonds += rec.bond;
        }
    }
}
