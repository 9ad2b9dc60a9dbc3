// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IJobManager} from "../../../contracts/interfaces/IJobManager.sol";
import {IStaking} from "../../../contracts/interfaces/IStaking.sol";

import {Strings} from "@openzeppelin/contracts/utils/Strings.sol";

import {Test} from "../utils/Test.sol";
import {Deployment, Deployer} from "../utils/Protocol.sol";
import {InvariantConsumer, ProtocolHandler} from "./ProtocolHandler.sol";

/**
 * @title ProtocolInvariants
 * @notice Accounting invariants of token, staking and job escrow under random sequences of the
 * handler's actions. Run and depth are set inline below so that the suite stays quick.
 */
/// forge-config: default.invariant.runs = 64
/// forge-config: default.invariant.depth = 128
contract ProtocolInvariants is Test {
    uint256 private constant ACTORS = 5;
    uint256 private constant MIN_STAKE = 50 ether;
    uint256 private constant ACTOR_TOKENS = 100_000 ether;
    /// @dev Short, so that unstaked tokens are withdrawn within a run's few warps.
    uint256 private constant UNBONDING_DELAY = 2 hours;

    Deployment private d;
    ProtocolHandler private handler;
    address[] private actors;
    address[] private pullAccounts;
    address[] private holders;

    function setUp() public {
        address treasury = address(0x7EA5);
        d = Deployer.deploy(treasury, MIN_STAKE, UNBONDING_DELAY);

        for (uint256 i = 0; i < ACTORS; ++i) {
            address a = address(uint160(0xA0000 + i));
            actors.push(a);
            pullAccounts.push(a);
            d.token.transfer(a, ACTOR_TOKENS);
        }
        // Contributors that only ever receive model revenue (the last one sometimes also protocol
        // fees, as the treasury of a parameter version), and the treasury.
        pullAccounts.push(address(0xC0001));
        pullAccounts.push(address(0xC0002));
        pullAccounts.push(address(0xC0003));
        pullAccounts.push(treasury);

        InvariantConsumer consumer = new InvariantConsumer();
        consumer.approve(d.jobs, actors);
        handler = new ProtocolHandler(d, actors, pullAccounts, consumer);
        d.jobs.setDisputeManager(address(handler));
        d.jobs.transferOwnership(address(handler));
        d.staking.transferOwnership(address(handler));

        // One model from the start, so that jobs flow from the first calls.
        handler.registerModel(0, 10 ether, 3, 42);

        holders = handler.holders();
        holders.push(address(this));

        targetContract(address(handler));
        bytes4[] memory selectors = new bytes4[](23);
        selectors[0] = ProtocolHandler.registerModel.selector;
        selectors[1] = ProtocolHandler.setPrice.selector;
        selectors[2] = ProtocolHandler.stake.selector;
        selectors[3] = ProtocolHandler.requestUnstake.selector;
        selectors[4] = ProtocolHandler.withdrawStake.selector;
        selectors[5] = ProtocolHandler.requestJob.selector;
        selectors[6] = ProtocolHandler.requestJob.selector; // twice: jobs are the point
        selectors[7] = ProtocolHandler.claim.selector;
        selectors[8] = ProtocolHandler.submit.selector;
        selectors[9] = ProtocolHandler.finalize.selector;
        selectors[10] = ProtocolHandler.expire.selector;
        selectors[11] = ProtocolHandler.withdrawBalance.selector;
        selectors[12] = ProtocolHandler.freeze.selector;
        selectors[13] = ProtocolHandler.settle.selector;
        selectors[14] = ProtocolHandler.setParams.selector;
        selectors[15] = ProtocolHandler.warp.selector;
        selectors[16] = ProtocolHandler.claim.selector;
        selectors[17] = ProtocolHandler.advance.selector;
        selectors[18] = ProtocolHandler.advance.selector;
        selectors[19] = ProtocolHandler.advance.selector;
        selectors[20] = ProtocolHandler.distribute.selector;
        selectors[21] = ProtocolHandler.tamper.selector;
        selectors[22] = ProtocolHandler.cancel.selector;
        targetSelector(FuzzSelector({addr: address(handler), selectors: selectors}));
    }

    // ------------------------------------------------------------ tokens are conserved

    /// @notice Every token is somewhere we know: actors, payees, treasury, the dispute manager,
    /// the escrow, staking and the deployer together hold exactly the (fixed) total supply.
    function invariant_tokensConserved() public view {
        uint256 sum;
        for (uint256 i = 0; i < holders.length; ++i) sum += d.token.balanceOf(holders[i]);
        assertEq(d.token.totalSupply(), Deployer.SUPPLY, "supply changed");
        assertEq(sum, d.token.totalSupply(), "sum of holdings != total supply");
    }

    /// @notice The escrow holds exactly the fees of unsettled jobs, plus all pull balances, plus the
    /// earnings and protocol fees accrued to models and not yet distributed.
    function invariant_escrowEqualsUnsettledFeesPlusBalances() public view {
        uint256 unsettled;
        uint256 count = d.jobs.jobCount();
        for (uint256 id = 1; id <= count; ++id) {
            ProtocolHandler.JobView memory job = handler.jobOf(id);
            if (
                job.status == IJobManager.JobStatus.Open ||
                job.status == IJobManager.JobStatus.Claimed ||
                job.status == IJobManager.JobStatus.Submitted
            ) unsettled += job.fee;
        }
        uint256 pulls;
        for (uint256 i = 0; i < pullAccounts.length; ++i) pulls += d.jobs.balanceOf(pullAccounts[i]);
        uint256[] memory models = handler.models();
        uint256 accrued;
        for (uint256 i = 0; i < models.length; ++i) {
            uint256 m = d.jobs.modelEarnings(models[i]);
            assertEq(
                m,
                handler.ghostModelAccrued(models[i]) - handler.ghostModelDistributed(models[i]),
                "model earnings != accrued - distributed"
            );
            uint256 f = d.jobs.protocolFees(models[i]);
            assertEq(
                f,
                handler.ghostModelFeesAccrued(models[i]) - handler.ghostModelFeesPaid(models[i]),
                "protocol fees != accrued - paid"
            );
            accrued += m + f;
        }
        assertEq(unsettled, handler.ghostEscrowedFees(), "unsettled fees != ghost");
        assertEq(
            d.token.balanceOf(address(d.jobs)),
            unsettled + pulls + accrued,
            "escrow != unsettled fees + pull balances + model earnings + protocol fees"
        );
    }

    /// @notice Staking holds exactly the sum of `staked + unbonding`.
    function invariant_stakingHoldsStakedPlusUnbonding() public view {
        uint256 sum;
        for (uint256 i = 0; i < actors.length; ++i) {
            IStaking.StakeInfo memory s = d.staking.stakeOf(actors[i]);
            sum += uint256(s.staked) + s.unbonding;
        }
        assertEq(d.token.balanceOf(address(d.staking)), sum, "staking balance != staked + unbonding");
    }

    /// @notice Staked votes: each staker votes (by default, for itself) with exactly its `staked +
    /// unbonding`, so slashes and withdrawals take their votes with them; every account's votes
    /// from the token and from Staking together never exceed the supply (nothing counts twice).
    function invariant_stakedVotesNeverCountTwice() public view {
        uint256 sum;
        for (uint256 i = 0; i < holders.length; ++i) {
            address a = holders[i];
            IStaking.StakeInfo memory s = d.staking.stakeOf(a);
            assertEq(d.staking.getVotes(a), uint256(s.staked) + s.unbonding, "staked votes != staked + unbonding");
            sum += d.token.getVotes(a) + d.staking.getVotes(a);
        }
        assertEq(d.token.getVotes(address(d.staking)), 0, "staking's own tokens vote");
        assertLe(sum, d.token.totalSupply(), "votes exceed supply");
    }

    // ------------------------------------------------------------ stake

    /// @notice For every staker, locked <= staked, and locked is exactly the locks of its
    /// claimed and submitted jobs (the escrow is the only operator).
    function invariant_lockedNeverExceedsStake() public view {
        uint256 count = d.jobs.jobCount();
        for (uint256 i = 0; i < actors.length; ++i) {
            IStaking.StakeInfo memory s = d.staking.stakeOf(actors[i]);
            assertLe(s.locked, s.staked, "locked > staked");
            uint256 jobLocks;
            for (uint256 id = 1; id <= count; ++id) {
                ProtocolHandler.JobView memory job = handler.jobOf(id);
                if (
                    job.worker == actors[i] &&
                    (job.status == IJobManager.JobStatus.Claimed || job.status == IJobManager.JobStatus.Submitted)
                ) jobLocks += job.lockedStake;
            }
            assertEq(s.locked, jobLocks, "locked != locks of the staker's live jobs");
        }
    }

    // ------------------------------------------------------------ payouts

    /// @notice A job is settled at most once, and what it ever credited (plus what it accrued to its
    /// model, earnings and protocol fee) is exactly its timeout slashes, plus its fee once it is
    /// finalized, refunded or rejected.
    function invariant_jobPaysOutAtMostOnce() public view {
        uint256 count = d.jobs.jobCount();
        for (uint256 id = 1; id <= count; ++id) {
            ProtocolHandler.JobView memory job = handler.jobOf(id);
            bool settled = uint8(job.status) >= uint8(IJobManager.JobStatus.Finalized);
            assertLe(handler.ghostJobSettlements(id), 1, "job settled twice");
            assertEq(handler.ghostJobSettlements(id), settled ? 1 : 0, "settlement count != status");
            assertEq(
                handler.ghostJobCredited(id) + handler.ghostJobAccrued(id) + handler.ghostJobProtocolFee(id),
                handler.ghostJobTimeoutSlashes(id) + (settled ? job.fee : 0),
                "job credited + accrued != timeout slashes + fee once"
            );
            if (job.status != IJobManager.JobStatus.Finalized) {
                assertEq(handler.ghostJobAccrued(id) + handler.ghostJobProtocolFee(id), 0, "accrued unfinalized");
            }
        }
    }

    /// @notice Nobody withdrew more than was credited to them: escrow balance == credited -
    /// withdrawn; staking withdrawals never exceed what was put into unbonding.
    function invariant_withdrawalsNeverExceedBalances() public view {
        for (uint256 i = 0; i < pullAccounts.length; ++i) {
            address a = pullAccounts[i];
            assertLe(handler.ghostWithdrawn(a), handler.ghostCredited(a), "withdrew more than credited");
            assertEq(
                d.jobs.balanceOf(a),
                handler.ghostCredited(a) - handler.ghostWithdrawn(a),
                "pull balance != credited - withdrawn"
            );
        }
        for (uint256 i = 0; i < actors.length; ++i) {
            address a = actors[i];
            IStaking.StakeInfo memory s = d.staking.stakeOf(a);
            assertEq(
                handler.ghostStakeWithdrawn(a) + s.unbonding,
                handler.ghostUnbondRequested(a),
                "staking withdrawn + unbonding != requested"
            );
        }
    }

    /// @notice Slashes from disputes went to the dispute manager, and only there.
    function invariant_disputeSlashesReachDisputeManager() public view {
        assertEq(d.token.balanceOf(address(handler)), handler.ghostDisputeSlashes(), "dispute manager balance");
    }

    /// @notice Every per-action check of the handler held (exact splits, exact slashes, expected
    /// successes and reverts, no credit to a settled job).
    function invariant_handlerChecks() public view {
        assertEq(handler.violations(), 0, handler.firstViolation());
    }

    // ------------------------------------------------------------ the handler is not vacuous

    /// @notice A seeded random walk of the handler's actions (outside the invariant runner),
    /// then every invariant. Each run is one more random sequence of 96 actions.
    function testFuzz_randomWalkKeepsInvariants(uint256 seed) public {
        _walk(seed, 96);
        _checkAll();
    }

    /// @notice A long walk reaches every kind of outcome: the handler's preconditions are right
    /// and the invariants above are not passing on an idle protocol.
    function test_longWalkReachesEveryOutcome() public {
        _walk(0xbeef, 600);
        _checkAll();
        string[28] memory actions = [
            "registerModel", "setPrice", "stake", "requestUnstake", "withdrawStake", "requestJob", "claim",
            "submit", "finalize", "timeout", "refund", "withdrawBalance", "freeze", "reject", "settle", "distribute",
            "tamperTerms", "tamperStatus", "distributeFees", "cancel", "requestWithConsumer", "finalizeWithCallback",
            "callbackFeePaid", "tamperOutput", "requestBatch", "submitBatch", "finalizeBatch", "rejectBatch"
        ];
        for (uint256 i = 0; i < actions.length; ++i) {
            assertGe(handler.calls(bytes32(bytes(actions[i]))), 1, string.concat("never reached: ", actions[i]));
        }
    }

    function _walk(uint256 seed, uint256 steps) private {
        for (uint256 i = 0; i < steps; ++i) {
            uint256 r = uint256(keccak256(abi.encode(seed, i)));
            uint256 a = uint256(keccak256(abi.encode(r)));
            uint256 b = uint256(keccak256(abi.encode(a)));
            uint256 c = uint256(keccak256(abi.encode(b)));
            uint256 k = r % 25;
            if (k == 0) handler.registerModel(a, uint96(b), c, r);
            else if (k == 1) handler.setPrice(a, uint96(b));
            else if (k == 2) handler.stake(a, b);
            else if (k == 3) handler.requestUnstake(a, b);
            else if (k == 4) handler.withdrawStake(a);
            else if (k == 5) handler.requestJob(a, b, c, r);
            else if (k == 6) handler.claim(a, b);
            else if (k == 7) handler.submit(a, uint32(b), c);
            else if (k == 8) handler.finalize(a, b % 4 == 0);
            else if (k == 9) handler.expire(a, b % 4 == 0);
            else if (k == 10) handler.withdrawBalance(a);
            else if (k == 11) handler.freeze(a, b % 4 == 0);
            else if (k == 12) handler.settle(a, b % 2 == 0, c, uint8(r >> 8));
            else if (k == 13) handler.setParams(uint16(a), uint32(b), uint16(c), uint96(r >> 100), uint256(keccak256(abi.encode(c))));
            else if (k == 22) handler.distribute(a, b);
            else if (k == 23) handler.tamper(a, b, c, r);
            else if (k == 24) handler.cancel(a, b, c % 4 == 0);
            else if (k <= 15) handler.warp(a);
            else handler.advance(a, b, c);
        }
    }

    function _checkAll() private view {
        invariant_tokensConserved();
        invariant_escrowEqualsUnsettledFeesPlusBalances();
        invariant_stakingHoldsStakedPlusUnbonding();
        invariant_stakedVotesNeverCountTwice();
        invariant_lockedNeverExceedsStake();
        invariant_jobPaysOutAtMostOnce();
        invariant_withdrawalsNeverExceedBalances();
        invariant_disputeSlashesReachDisputeManager();
        invariant_handlerChecks();
    }

    function _count(string memory action) private view returns (string memory) {
        return string.concat(action, "=", Strings.toString(handler.calls(bytes32(bytes(action)))), " ");
    }
}
