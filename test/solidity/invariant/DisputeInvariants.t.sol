// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IJobManager} from "../../../contracts/interfaces/IJobManager.sol";
import {IDisputeGameFactory} from "../../../contracts/interfaces/IDisputeGameFactory.sol";
import {IModelRegistry} from "../../../contracts/interfaces/IModelRegistry.sol";
import {DisputeGameFactory} from "../../../contracts/disputes/DisputeGameFactory.sol";
import {GameStatus} from "../../../contracts/disputes/lib/Types.sol";
import {MerkleProof} from "../../../contracts/disputes/lib/MerkleProof.sol";

import {Test} from "../utils/Test.sol";
import {TestData, Deployment, Deployer} from "../utils/Protocol.sol";
import {DisputeHandler, MockGame} from "./DisputeHandler.sol";

/**
 * @title DisputeInvariants
 * @notice The dispute factory's accounting under random sequences of games committed, revealed and
 * ended with either winner, in any order, several per job: tokens are conserved up to what is
 * burned, the factory holds exactly its balances plus the bonds of games still open plus what it
 * holds for jobs whose disputes are not closed, every token that entered it (bonds, slashes) left
 * as a credit or a burn or is still held, each game settles once, a job is rejected (and refunded)
 * exactly when a game on it ended with the challenger winning, no job finalizes while a game on it
 * could still prove it wrong, and every closed job paid the reward to its winning game of lowest
 * commitment rank. The games are stand-ins (see {MockGame}).
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
            10 minutes,
            IDisputeGameFactory.Params({
                moveTimeout: 1 hours,
                challengeBond: 10 ether,
                challengerRewardBps: 5_000,
                defenderRewardBps: 3_000,
                moveTimeoutPerGame: 10 minutes,
                maxMoveTimeout: 6 hours
            })
        );
        d.jobs.setDisputeManager(address(factory));
        // The factory needs no operator role: the escrow (an operator) slashes to it.
        d.staking.sealOperators();

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
        factory.transferOwnership(address(handler));
        // Jobs from the start, so that games open from the first calls.
        handler.submitJob(0, 0, 1);
        handler.submitJob(1, 1 ether, 2);

        targetContract(address(handler));
        bytes4[] memory selectors = new bytes4[](15);
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
        selectors[10] = DisputeHandler.commit.selector;
        selectors[11] = DisputeHandler.burst.selector;
        selectors[12] = DisputeHandler.close.selector;
        selectors[13] = DisputeHandler.setFactoryParams.selector;
        selectors[14] = DisputeHandler.end.selector;
        targetSelector(FuzzSelector({addr: address(handler), selectors: selectors}));
    }

    /// @notice Every token is with a known holder, and the supply shrank by exactly what was burned.
    function invariant_tokensConservedUpToBurns() public view {
        assertEq(d.token.totalSupply() + handler.ghostBurned(), Deployer.SUPPLY, "supply + burned != initial supply");
        uint256 sum;
        for (uint256 i = 0; i < holders.length; ++i) sum += d.token.balanceOf(holders[i]);
        assertEq(sum, d.token.totalSupply(), "holdings != supply");
    }

    /// @notice The factory holds exactly the pull balances, plus the bonds of games not yet settled,
    /// plus the slashes and defender shares it holds for jobs whose disputes are not closed.
    function invariant_factoryHoldsBalancesOpenBondsAndHeld() public view {
        uint256 held = _held();
        assertEq(held, handler.ghostHeld(), "held != the handler's account");
        assertEq(d.token.balanceOf(address(factory)), _owed() + _openBonds() + held, "factory balance");
    }

    /// @notice Bonds and slashes in == credits + burns + bonds and amounts still held; credits out
    /// == withdrawn + owed.
    function invariant_valueThroughTheFactory() public view {
        assertEq(
            handler.ghostBonds() + handler.ghostSlashed(),
            handler.ghostCredited() + handler.ghostBurned() + _openBonds() + handler.ghostHeld(),
            "bonds + slashes != credits + burns + open bonds + held"
        );
        assertEq(handler.ghostCredited(), handler.ghostWithdrawn() + _owed(), "credits != withdrawn + owed");
    }

    /// @notice Each game settled at most once, exactly when it ended; a job's open-dispute count is
    /// its games not yet settled; a job is rejected (and its fee refunded) at most once, and exactly
    /// when some game on it ended with the challenger winning.
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
            bool challengerWon;
            for (uint256 k = 0; k < onJob.length; ++k) {
                if (!factory.gameRecord(onJob[k]).settled) ++open;
                if (MockGame(onJob[k]).status() == GameStatus.ChallengerWins) challengerWon = true;
            }
            IJobManager.Job memory job = d.jobs.getJob(jobs[i]);
            assertEq(job.openDisputes, open, "open disputes != unsettled games");
            uint256 rejections = handler.ghostRejections(jobs[i]);
            assertLe(rejections, 1, "a job was rejected twice");
            assertTrue((job.status == IJobManager.JobStatus.Rejected) == (rejections == 1), "rejected != refunded once");
            assertTrue((job.status == IJobManager.JobStatus.Rejected) == challengerWon, "rejected != some challenger won");
        }
    }

    /// @notice No job finalizes while a game on it could still prove it wrong: a finalized job has
    /// every game settled, none won by its challenger, and its window is over (no game can open).
    function invariant_finalizedOnlyWhenNoChallengerCanWin() public view {
        uint256[] memory jobs = handler.jobs();
        for (uint256 i = 0; i < jobs.length; ++i) {
            IJobManager.Job memory job = d.jobs.getJob(jobs[i]);
            if (job.status != IJobManager.JobStatus.Finalized) continue;
            assertLe(job.timer, block.timestamp, "finalized inside its window");
            address[] memory onJob = factory.gamesOf(jobs[i]);
            for (uint256 k = 0; k < onJob.length; ++k) {
                assertTrue(factory.gameRecord(onJob[k]).settled, "finalized with a game unsettled");
                assertTrue(MockGame(onJob[k]).status() == GameStatus.DefenderWins, "finalized though a challenger won");
            }
        }
    }

    /// @notice Every closed job paid the reward, its own share of the whole lock, to the winning game
    /// of lowest commitment rank (whatever the order the games ended in), and holds nothing more;
    /// one without a winning game paid the worker its held shares instead.
    function invariant_closedJobsRewardTheFirstCommittedWinner() public view {
        uint256[] memory jobs = handler.jobs();
        for (uint256 i = 0; i < jobs.length; ++i) {
            IDisputeGameFactory.JobDisputes memory j = factory.jobDisputes(jobs[i]);
            if (!j.closed) continue;
            assertEq(uint256(j.slashed) + j.defenderRewards, 0, "a closed job still holds tokens");
            address first = _firstWinner(jobs[i]);
            assertEq(j.bestGame, first, "best game != lowest-rank winner");
            DisputeHandler.JobGhost memory g = handler.jobGhost(jobs[i]);
            assertEq(g.rewardGame, first, "reward paid to another game");
            if (first == address(0)) {
                assertEq(g.reward, 0, "a reward without a winner");
                continue;
            }
            IDisputeGameFactory.GameRecord memory rec = factory.gameRecord(first);
            uint256 lock = handler.termsOf(jobs[i]).lock;
            assertEq(g.reward, (lock * rec.challengerRewardBps) / 10_000, "reward != the winner's share of the lock");
            assertEq(g.defenderPaid, 0, "the worker of a wrong result was paid");
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

    /// @notice A long fixed walk reaches both outcomes, repeated games on a job, bursts, refused
    /// openings, rewards, defender payouts, closings by anyone, and withdrawals.
    function test_walkReachesEveryOutcome() public {
        for (uint256 i = 0; i < 300; ++i) {
            uint256 r = uint256(keccak256(abi.encode(i)));
            uint256 k = r % 16;
            if (k == 0) handler.submitJob(r >> 8, r >> 16, uint32(r >> 32));
            else if (k == 1 || k == 2) handler.open(r >> 8, r >> 16);
            else if (k == 3) handler.commit(r >> 8, r >> 16);
            else if (k == 4) handler.burst(r >> 8, r >> 16, r >> 24);
            else if (k <= 8) handler.end(r >> 8, (r >> 16) % 2 == 0);
            else if (k == 9) handler.withdraw(r >> 8);
            else if (k == 10) handler.finalize(r >> 8);
            else if (k == 11 || k == 12) handler.close(r >> 8);
            else if (k == 13) handler.warp(r >> 8);
            else if (k == 14) handler.setFactoryParams(uint96(r >> 8), uint16(r >> 112), uint16(r >> 128));
            else handler.submitJob(r >> 8, r >> 16, uint32(r >> 32));
        }
        handler.settleAgain(1, true);
        assertEq(handler.violations(), 0, handler.firstViolation());
        string[13] memory reached = [
            "challengerWins", "defenderWins", "withdraw", "open", "openRefused", "commit", "burst", "close", "closeRefused",
            "rewardPaid", "defenderPaid", "finalize", "setFactoryParams"
        ];
        for (uint256 i = 0; i < reached.length; ++i) {
            assertLt(0, handler.calls(bytes32(bytes(reached[i]))), string.concat("never reached: ", reached[i]));
        }
        assertLt(0, handler.ghostBurned(), "nothing burned");
        invariant_tokensConservedUpToBurns();
        invariant_factoryHoldsBalancesOpenBondsAndHeld();
        invariant_valueThroughTheFactory();
        invariant_gamesSettleOnceAndJobsRejectOnce();
        invariant_finalizedOnlyWhenNoChallengerCanWin();
        invariant_closedJobsRewardTheFirstCommittedWinner();
    }

    /// @dev The game on `jobId` won by its challenger with the lowest commitment rank (zero if none).
    function _firstWinner(uint256 jobId) private view returns (address first) {
        address[] memory onJob = factory.gamesOf(jobId);
        uint256 best;
        for (uint256 k = 0; k < onJob.length; ++k) {
            if (MockGame(onJob[k]).status() != GameStatus.ChallengerWins) continue;
            uint256 rank = factory.gameRecord(onJob[k]).rank;
            if (best == 0 || rank < best) {
                best = rank;
                first = onJob[k];
            }
        }
    }

    function _owed() private view returns (uint256 owed) {
        for (uint256 i = 0; i < accounts.length; ++i) owed += factory.balanceOf(accounts[i]);
    }

    function _held() private view returns (uint256 held) {
        uint256[] memory jobs = handler.jobs();
        for (uint256 i = 0; i < jobs.length; ++i) {
            IDisputeGameFactory.JobDisputes memory j = factory.jobDisputes(jobs[i]);
            if (!j.closed) held += uint256(j.slashed) + j.defenderRewards;
        }
    }

    function _openBonds() private view returns (uint256 bonds) {
        address[] memory games = handler.games();
        for (uint256 i = 0; i < games.length; ++i) {
            IDisputeGameFactory.GameRecord memory rec = factory.gameRecord(games[i]);
            if (!rec.settled) bonds += rec.bond;
        }
    }
}
