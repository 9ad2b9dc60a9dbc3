// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IJobManager} from "../../../contracts/interfaces/IJobManager.sol";
import {IModelRegistry} from "../../../contracts/interfaces/IModelRegistry.sol";
import {ISubscriptionManager} from "../../../contracts/interfaces/ISubscriptionManager.sol";
import {SubscriptionManager} from "../../../contracts/subscriptions/SubscriptionManager.sol";
import {TestSubscriber} from "../../../contracts/test/TestSubscriber.sol";


import {Test} from "../utils/Test.sol";
import {Deployment, Deployer, TestData} from "../utils/Protocol.sol";
import {SubscriptionHandler} from "./SubscriptionHandler.sol";

/**
 * @title SubscriptionInvariants
 * @notice Accounting and liveness invariants of the subscription manager under random sequences of
 * the handler's actions, with consumers that turn hostile at random: the manager's tokens cover every
 * subscription's and keeper's balance; its ledger is exactly what was paid in, refunded, paid out and
 * withdrawn; tokens are conserved; no run is triggered or delivered twice; every finalized run's relay
 * is recorded; and (in the handler) no hostile consumer stops a due, funded, honest run elsewhere.
 */
/// forge-config: default.invariant.runs = 48
/// forge-config: default.invariant.depth = 96
contract SubscriptionInvariants is Test {
    address private constant TREASURY = address(0x7EA5);
    address private constant DEV = address(0xDE5);
    address private constant WORKER = address(0x3012);

    Deployment private d;
    SubscriptionManager private mgr;
    SubscriptionHandler private handler;
    address[] private holders;

    function setUp() public {
        d = Deployer.deploy(TREASURY, 100 ether, 1 days);
        mgr = new SubscriptionManager(d.jobs);
        vm.prank(DEV);
        uint256 modelId = d.registry.registerModel(TestData.tinyModel(1 ether, 10_000, new IModelRegistry.Contributor[](0), 1));
        d.token.transfer(WORKER, 10_000_000 ether);
        vm.startPrank(WORKER);
        d.token.approve(address(d.staking), type(uint256).max);
        d.staking.stake(10_000_000 ether);
        vm.stopPrank();

        TestSubscriber[] memory consumers = new TestSubscriber[](3);
        for (uint256 i = 0; i < consumers.length; ++i) {
            consumers[i] = new TestSubscriber(mgr);
            consumers[i].setInput(TestData.tensor4(7));
            d.token.transfer(address(consumers[i]), 100_000 ether);
        }
        address[] memory keepers = new address[](3);
        for (uint256 i = 0; i < keepers.length; ++i) keepers[i] = address(uint160(0xEE000 + i));
        handler = new SubscriptionHandler(d, mgr, modelId, DEV, WORKER, consumers, keepers);
        d.token.transfer(address(handler), 100_000 ether);
        d.jobs.setDisputeManager(address(handler));
        d.jobs.transferOwnership(address(handler));

        holders.push(address(this));
        holders.push(address(handler));
        holders.push(address(mgr));
        holders.push(address(d.jobs));
        holders.push(address(d.staking));
        holders.push(WORKER);
        holders.push(DEV);
        holders.push(TREASURY);
        for (uint256 i = 0; i < consumers.length; ++i) holders.push(address(consumers[i]));
        for (uint256 i = 0; i < keepers.length; ++i) holders.push(keepers[i]);

        targetContract(address(handler));
        bytes4[] memory selectors = new bytes4[](22);
        selectors[0] = SubscriptionHandler.create.selector;
        selectors[1] = SubscriptionHandler.create.selector;
        selectors[2] = SubscriptionHandler.fund.selector;
        selectors[3] = SubscriptionHandler.cancel.selector;
        selectors[4] = SubscriptionHandler.withdrawFunds.selector;
        selectors[5] = SubscriptionHandler.setFee.selector;
        selectors[6] = SubscriptionHandler.setModes.selector;
        selectors[7] = SubscriptionHandler.trigger.selector;
        selectors[8] = SubscriptionHandler.trigger.selector; // twice: runs are the point
        selectors[9] = SubscriptionHandler.keeperWithdraw.selector;
        selectors[10] = SubscriptionHandler.serve.selector;
        selectors[11] = SubscriptionHandler.serve.selector;
        selectors[12] = SubscriptionHandler.finalize.selector;
        selectors[13] = SubscriptionHandler.finalize.selector;
        selectors[14] = SubscriptionHandler.expire.selector;
        selectors[15] = SubscriptionHandler.reject.selector;
        selectors[16] = SubscriptionHandler.settleRun.selector;
        selectors[17] = SubscriptionHandler.retry.selector;
        selectors[18] = SubscriptionHandler.changeFees.selector;
        selectors[19] = SubscriptionHandler.warp.selector;
        selectors[20] = SubscriptionHandler.claimOnly.selector;
        selectors[21] = SubscriptionHandler.collectSlashes.selector;
        targetSelector(FuzzSelector({addr: address(handler), selectors: selectors}));
    }

    // ------------------------------------------------------------ tokens

    /// @notice Every token is somewhere we know, and the supply is fixed.
    function invariant_tokensConserved() public view {
        uint256 sum;
        for (uint256 i = 0; i < holders.length; ++i) sum += d.token.balanceOf(holders[i]);
        assertEq(sum, Deployer.SUPPLY, "sum of holdings != total supply");
    }

    /// @notice The manager's own tokens cover every subscription balance and every keeper's pull
    /// balance (refunds are taken from the escrow by the settleRun that credits them); with its pull
    /// balance in the escrow, all the more.
    function invariant_managerCoversWhatItOwes() public view {
        uint256 owed = _subscriptionBalances() + _keeperBalances();
        uint256 held = d.token.balanceOf(address(mgr));
        assertGe(held, owed, "the manager holds less than it owes");
        assertGe(held + d.jobs.balanceOf(address(mgr)), owed, "with its escrow balance, less than it owes");
    }

    /// @notice The ledger is exact: the subscriptions hold what was paid in and refunded, less the
    /// runs' fees and keeper rewards and what consumers withdrew; keepers are owed what they were
    /// credited less what they withdrew.
    function invariant_ledgerIsExact() public view {
        assertEq(
            _subscriptionBalances() + handler.ghostFees() + handler.ghostRewards() + handler.ghostWithdrawn(),
            handler.ghostPaidIn() + handler.ghostRefunded(),
            "balances != paid in + refunded - fees - rewards - withdrawn"
        );
        assertEq(_keeperBalances() + handler.ghostKeeperWithdrawn(), handler.ghostRewards(), "keeper balances != rewards - withdrawn");
    }

    // ------------------------------------------------------------ runs

    /// @notice A schedule never runs more than its runs, in order: triggered <= nextRun <= runs, and
    /// the triggered count is exactly the runs the handler saw triggered.
    function invariant_scheduleIsRespected() public view {
        uint256[] memory ids = handler.subscriptions();
        for (uint256 i = 0; i < ids.length; ++i) {
            ISubscriptionManager.Subscription memory s = mgr.getSubscription(ids[i]);
            assertLe(s.triggered, s.nextRun, "more runs triggered than passed");
            assertLe(s.nextRun, s.runs, "past the schedule");
            uint256 seen;
            for (uint256 r = 0; r < s.nextRun; ++r) seen += handler.ghostTriggers(ids[i], r);
            assertEq(seen, s.triggered, "triggered count != runs triggered");
        }
    }

    /// @notice Each run's job is accounted for: a finalized job's relay recorded its outcome, only a
    /// failed job is settled, a delivered run's job is final; and no consumer got a run's result twice.
    function invariant_everyRunIsAccountedFor() public view {
        uint256[] memory jobIds = handler.jobs();
        for (uint256 i = 0; i < jobIds.length; ++i) {
            ISubscriptionManager.Run memory r = mgr.getRun(jobIds[i]);
            IJobManager.JobStatus status = d.jobs.getJob(jobIds[i]).status;
            if (status == IJobManager.JobStatus.Finalized) {
                assertTrue(
                    r.state == ISubscriptionManager.RunState.Delivered || r.state == ISubscriptionManager.RunState.RelayFailed,
                    "a finalized run's relay recorded nothing"
                );
            }
            if (r.state == ISubscriptionManager.RunState.Settled) {
                assertTrue(status == IJobManager.JobStatus.Refunded || status == IJobManager.JobStatus.Rejected, "a run settled without failing");
            }
            if (r.state == ISubscriptionManager.RunState.Delivered) {
                assertTrue(status == IJobManager.JobStatus.Finalized, "a run delivered before its job was final");
            }
            assertLe(handler.consumerOf(r.subscriptionId).deliveries(r.subscriptionId, r.run), 1, "a result delivered twice");
        }
    }

    /// @notice The handler's step-by-step predictions all held (amounts moved, triggers accepted and
    /// refused, relays recorded, retries delivered).
    function invariant_handlerChecks() public view {
        assertEq(handler.violations(), 0, handler.firstViolation());
    }

    // ------------------------------------------------------------ the handler is not vacuous

    /// @notice A seeded random walk of the handler's actions, then every invariant.
    function testFuzz_randomWalkKeepsInvariants(uint256 seed) public {
        _walk(seed, 80);
        _checkAll();
    }

    /// @notice A long walk reaches every kind of outcome.
    function test_longWalkReachesEveryOutcome() public {
        _walk(0x1234, 800);
        _checkAll();
        string[18] memory actions = [
            "create", "fund", "cancel", "withdrawFunds", "setFee", "trigger", "triggerRefused", "keeperWithdraw",
            "serve", "delivered", "relayFailed", "expire", "reject", "settleRun", "retry", "changeFees",
            "claimOnly", "collectSlashes"
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
            uint256 k = r % 21;
            // One step in twelve leaves a claimed run unanswered (a timeout slash) or collects slashes.
            if (c % 12 == 0) {
                if (c % 24 == 0) handler.claimOnly(a);
                else handler.collectSlashes(a);
                continue;
            }
            if (k <= 1) handler.create(a, b, c, r >> 8, a >> 8, b >> 8);
            else if (k == 2) handler.fund(a, b);
            else if (k == 3 && a % 3 == 0) handler.cancel(b);
            else if (k == 4) handler.withdrawFunds(a, b);
            else if (k == 5) handler.setFee(a, b);
            else if (k == 6) handler.setModes(a, b, c);
            else if (k <= 9) handler.trigger(a, b);
            else if (k == 10) handler.keeperWithdraw(a);
            else if (k <= 12) handler.serve(a, uint32(b));
            else if (k <= 14) handler.finalize(a, b);
            else if (k == 15) handler.expire(a);
            else if (k == 16) handler.reject(a);
            else if (k == 17) handler.settleRun(a);
            else if (k == 18) handler.retry(a);
            else if (k == 19 && a % 2 == 0) handler.changeFees(b);
            else handler.warp(a);
        }
    }

    function _checkAll() private view {
        invariant_tokensConserved();
        invariant_managerCoversWhatItOwes();
        invariant_ledgerIsExact();
        invariant_scheduleIsRespected();
        invariant_everyRunIsAccountedFor();
        invariant_handlerChecks();
    }

    function _subscriptionBalances() private view returns (uint256 sum) {
        uint256[] memory ids = handler.subscriptions();
        for (uint256 i = 0; i < ids.length; ++i) sum += mgr.getSubscription(ids[i]).balance;
    }

    function _keeperBalances() private view returns (uint256 sum) {
        address[] memory keepers = handler.keepers();
        for (uint256 i = 0; i < keepers.length; ++i) sum += mgr.balanceOf(keepers[i]);
    }
}
