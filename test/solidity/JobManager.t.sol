// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {FeeSplit} from "../../contracts/libraries/FeeSplit.sol";
import {IJobManager} from "../../contracts/interfaces/IJobManager.sol";
import {IPullPayments} from "../../contracts/interfaces/IPullPayments.sol";
import {IModelRegistry} from "../../contracts/interfaces/IModelRegistry.sol";
import {IStaking} from "../../contracts/interfaces/IStaking.sol";

import {Test} from "./utils/Test.sol";
import {Vm} from "./utils/Vm.sol";
import {TestData, Terms, Deployment, Deployer} from "./utils/Protocol.sol";

/**
 * @notice Focused fuzz tests of the job escrow's accounting: the fee split of finalize, timeout
 * slashes, dispute slashes, protocol fees accrued per model and paid to the treasury in force
 * at distribution, and that a job pays out at most once. This contract owns the escrow and
 * staking and acts as the dispute manager.
 */
contract JobManagerFuzzTest is Test {
    uint256 private constant MIN_STAKE = 100 ether;

    address private constant TREASURY = address(0x7EA5);
    address private constant DEV = address(0xDE5);
    address private constant REQUESTER = address(0x4E0);
    address private constant WORKER = address(0x3012);
    /// @dev Treasuries of later parameter versions (the protocol fee tests).
    address private constant TREASURY_1 = address(0x7EA1);
    address private constant TREASURY_2 = address(0x7EA2);
    address private constant TREASURY_3 = address(0x7EA3);

    Deployment private d;
    /// @dev Each job's terms, as the escrow fixed them (checked against its stored hash).
    mapping(uint256 jobId => IJobManager.JobTerms) private _terms;
    /// @dev Each submitted job's output commitment (a result is the output; no trace is bound).
    mapping(uint256 jobId => bytes32) private _results;
    address[] private payeePool;
    /// @dev Every account that can hold a pull balance in these tests.
    address[] private accounts;

    function setUp() public {
        d = Deployer.deploy(TREASURY, MIN_STAKE, 1 days);
        // The test contract judges disputes itself (it freezes and settles jobs directly).
        d.jobs.setDisputeManager(address(this));
        payeePool.push(DEV);
        payeePool.push(WORKER);
        payeePool.push(TREASURY);
        payeePool.push(REQUESTER);
        payeePool.push(address(0xC1));
        payeePool.push(address(0xC2));
        payeePool.push(address(0xC3));
        accounts = payeePool;
        accounts.push(address(this));
        accounts.push(TREASURY_1);
        accounts.push(TREASURY_2);
        accounts.push(TREASURY_3);

        d.token.transfer(REQUESTER, Deployer.SUPPLY / 4);
        d.token.transfer(WORKER, Deployer.SUPPLY / 4);
        vm.prank(REQUESTER);
        d.token.approve(address(d.jobs), type(uint256).max);
        vm.prank(WORKER);
        d.token.approve(address(d.staking), type(uint256).max);
    }

    // ------------------------------------------------------------ helpers

    struct Snap {
        uint256 staked;
        uint256 locked;
        uint256 requesterPull;
        uint256 escrow;
        uint256 stakingBalance;
    }

    function _snap() private view returns (Snap memory s) {
        IStaking.StakeInfo memory info = d.staking.stakeOf(WORKER);
        s.staked = info.staked;
        s.locked = info.locked;
        s.requesterPull = d.jobs.balanceOf(REQUESTER);
        s.escrow = d.token.balanceOf(address(d.jobs));
        s.stakingBalance = d.token.balanceOf(address(d.staking));
    }

    function _setParams(uint16 protocolFeeBps, uint32 stakeRatioBps, uint16 timeoutSlashBps) private {
        IJobManager.Params memory p = Deployer.defaultParams(TREASURY);
        p.protocolFeeBps = protocolFeeBps;
        p.stakeRatioBps = stakeRatioBps;
        p.timeoutSlashBps = timeoutSlashBps;
        d.jobs.setParams(p);
    }

    function _registerModel(uint96 price, uint256 n, uint256 seed) private returns (uint256 modelId) {
        (uint16 developerBps, IModelRegistry.Contributor[] memory contributors) = TestData.randomSplit(
            seed,
            n,
            payeePool
        );
        IModelRegistry.ModelSpec memory spec = TestData.tinyModel(price, developerBps, contributors, seed);
        vm.prank(DEV);
        modelId = d.registry.registerModel(spec);
    }

    function _request(uint256 modelId, uint256 fee, uint256 duration) private returns (uint256 jobId) {
        IJobManager.RequestParams memory p = TestData.request(
            modelId,
            TestData.tensor4(7),
            fee,
            block.timestamp + duration
        );
        IJobManager.JobTerms memory t = Terms.expected(d.jobs, d.registry, REQUESTER, p);
        vm.prank(REQUESTER);
        jobId = d.jobs.requestInference(p);
        assertEq(d.jobs.getJob(jobId).commitment, d.jobs.termsHash(t), "the job stores another terms hash");
        _terms[jobId] = t;
    }

    /// @dev Stakes what the worker needs for `jobId` and claims it.
    function _claim(uint256 jobId) private returns (uint256 lockAmount) {
        lockAmount = _terms[jobId].lock;
        uint256 free = d.staking.freeStake(WORKER);
        uint256 staked = d.staking.stakeOf(WORKER).staked;
        uint256 need = lockAmount > free ? lockAmount - free : 0;
        if (staked + need < MIN_STAKE) need = MIN_STAKE - staked;
        if (need != 0) {
            vm.prank(WORKER);
            d.staking.stake(need);
        }
        vm.prank(WORKER);
        d.jobs.claim(jobId, _terms[jobId]);
    }

    function _submit(uint256 jobId, uint32 value) private {
        _submit(jobId, TestData.tensor4(value));
    }

    function _submit(uint256 jobId, bytes memory output) private {
        bytes32 commitment = TestData.commitOneChunk(output);
        vm.prank(WORKER);
        d.jobs.submitResult(jobId, _terms[jobId], output, commitment);
        _results[jobId] = commitment;
    }

    function _finalize(uint256 jobId) private {
        d.jobs.finalize(jobId, _terms[jobId], _results[jobId]);
    }

    function _expire(uint256 jobId) private {
        d.jobs.expire(jobId, _terms[jobId]);
    }

    function _freeze(uint256 jobId) private {
        d.jobs.freezeForDispute(jobId, _terms[jobId], _results[jobId]);
    }

    function _pullBalances() private view returns (uint256[] memory balances, uint256 total) {
        balances = new uint256[](accounts.length);
        for (uint256 i = 0; i < accounts.length; ++i) {
            balances[i] = d.jobs.balanceOf(accounts[i]);
            total += balances[i];
        }
    }

    function _indexOf(address account) private view returns (uint256) {
        for (uint256 i = 0; i < accounts.length; ++i) if (accounts[i] == account) return i;
        revert("unknown account");
    }

    /// @dev Distributes a model's accruals (anyone may), when there are any, with every check of
    /// {_distributeChecked}.
    function _distribute(uint256 modelId) private {
        if (d.jobs.modelEarnings(modelId) != 0 || d.jobs.protocolFees(modelId) != 0) _distributeChecked(modelId);
    }

    /// @dev Protocol fees accrued by the jobs of every model and not yet paid to the treasury.
    function _accruedProtocolFees() private view returns (uint256 total) {
        uint256 models = d.registry.modelCount();
        for (uint256 id = 1; id <= models; ++id) total += d.jobs.protocolFees(id);
    }

    /// @dev Distributes `modelId`'s accruals, checking that its earnings are split exactly among its
    /// payees and its protocol fees credited exactly to the treasury in force now (whatever the
    /// treasuries of its jobs' versions), both zeroed, no token moved, and the events; with nothing
    /// accrued it must be refused (`JobManagerNothingToDistribute`). Returns what was paid.
    function _distributeChecked(uint256 modelId) private returns (uint256 earnings, uint256 fees) {
        earnings = d.jobs.modelEarnings(modelId);
        fees = d.jobs.protocolFees(modelId);
        if (earnings == 0 && fees == 0) {
            vm.expectRevert(abi.encodeWithSelector(IJobManager.JobManagerNothingToDistribute.selector, modelId));
            d.jobs.distributeModelEarnings(modelId);
            return (0, 0);
        }
        address treasury = d.jobs.params().treasury;
        uint256[] memory expected = _expectedModelCredits(modelId, earnings);
        expected[_indexOf(treasury)] += fees;
        (uint256[] memory before, uint256 totalBefore) = _pullBalances();
        uint256 escrowBefore = d.token.balanceOf(address(d.jobs));
        vm.recordLogs();
        vm.prank(REQUESTER); // anyone may distribute
        assertEq(d.jobs.distributeModelEarnings(modelId), earnings, "distributed != accrued earnings");
        _checkDistributionLogs(vm.getRecordedLogs(), modelId, treasury, fees, earnings);
        (uint256[] memory afterwards, uint256 totalAfter) = _pullBalances();
        for (uint256 i = 0; i < accounts.length; ++i) {
            assertEq(afterwards[i] - before[i], expected[i], "distribution credited a wrong amount");
        }
        assertEq(totalAfter - totalBefore, earnings + fees, "distribution credits != earnings + fees");
        assertEq(d.jobs.modelEarnings(modelId), 0, "earnings left after distribution");
        assertEq(d.jobs.protocolFees(modelId), 0, "protocol fees left after distribution");
        assertEq(d.token.balanceOf(address(d.jobs)), escrowBefore, "distribution moved tokens out of the escrow");
    }

    /// @dev A distribution first logs, when fees accrued, ProtocolFeesCollected(modelId, treasury,
    /// fees) then BalanceCredited(treasury, 0, fees); then, when earnings accrued,
    /// ModelEarningsDistributed(modelId, earnings); all from the escrow.
    function _checkDistributionLogs(
        Vm.Log[] memory logs,
        uint256 modelId,
        address treasury,
        uint256 fees,
        uint256 earnings
    ) private view {
        uint256 k;
        if (fees != 0) {
            assertEq(logs[0].emitter, address(d.jobs), "ProtocolFeesCollected emitter");
            assertEq(logs[0].topics[0], IJobManager.ProtocolFeesCollected.selector, "first event != ProtocolFeesCollected");
            assertEq(logs[0].topics[1], bytes32(modelId), "ProtocolFeesCollected model");
            assertEq(logs[0].topics[2], bytes32(uint256(uint160(treasury))), "ProtocolFeesCollected treasury");
            assertEq(abi.decode(logs[0].data, (uint256)), fees, "ProtocolFeesCollected amount");
            assertEq(logs[1].topics[0], IJobManager.BalanceCredited.selector, "second event != BalanceCredited");
            assertEq(logs[1].topics[1], bytes32(uint256(uint160(treasury))), "BalanceCredited account");
            assertEq(logs[1].topics[2], bytes32(0), "BalanceCredited job id != 0");
            assertEq(abi.decode(logs[1].data, (uint256)), fees, "BalanceCredited amount");
            k = 2;
        }
        if (earnings != 0) {
            assertEq(logs[k].emitter, address(d.jobs), "ModelEarningsDistributed emitter");
            assertEq(logs[k].topics[0], IJobManager.ModelEarningsDistributed.selector, "ModelEarningsDistributed missing");
            assertEq(abi.decode(logs[k].data, (uint256)), earnings, "ModelEarningsDistributed amount");
        } else {
            assertEq(logs.length, 2, "a distribution of fees only logged more");
        }
    }

    /// @dev Escrow solvency for the jobs of these tests: balance == unsettled fees + pull balances
    /// + undistributed model earnings + undistributed protocol fees.
    function _checkEscrow() private view {
        uint256 escrowed;
        uint256 count = d.jobs.jobCount();
        for (uint256 id = 1; id <= count; ++id) {
            IJobManager.Job memory job = d.jobs.getJob(id);
            if (
                job.status == IJobManager.JobStatus.Open ||
                job.status == IJobManager.JobStatus.Claimed ||
                job.status == IJobManager.JobStatus.Submitted
            ) escrowed += _terms[id].fee;
        }
        (, uint256 pulls) = _pullBalances();
        uint256 accrued;
        for (uint256 id = 1; id <= d.registry.modelCount(); ++id) accrued += d.jobs.modelEarnings(id);
        assertEq(
            d.token.balanceOf(address(d.jobs)),
            escrowed + pulls + accrued + _accruedProtocolFees(),
            "escrow != unsettled fees + pull balances + model earnings + protocol fees"
        );
        IStaking.StakeInfo memory s = d.staking.stakeOf(WORKER);
        assertLe(s.locked, s.staked, "locked > staked");
        assertEq(d.token.balanceOf(address(d.staking)), uint256(s.staked) + s.unbonding, "staking backing");
    }

    // ------------------------------------------------------------ fee split of finalize

    /// @notice Finalize credits the worker exactly its part and accrues exactly the job's price and
    /// exactly its protocol fee to the model; distributing credits each payee exactly its share
    /// (contributors rounded down, developer takes the dust) and the treasury the protocol fee, so
    /// worker + treasury + payees == fee, for random prices, protocol fee rates, fees and splits of
    /// up to 8 contributors (payees may coincide with worker/treasury). The job keeps the price and
    /// rate of its request.
    function testFuzz_finalizeSplitsFeeExactly(
        uint96 price,
        uint16 protocolFeeBps,
        uint96 extra,
        uint256 n,
        uint256 seed
    ) public {
        price = uint96(bound(price, 0, 1_000_000 ether));
        protocolFeeBps = uint16(bound(protocolFeeBps, 0, 2_000));
        extra = uint96(bound(extra, 0, 1_000_000 ether));
        n = bound(n, 0, 8);
        _setParams(protocolFeeBps, 15_000, 5_000);
        uint256 modelId = _registerModel(price, n, seed);
        uint256 fee = d.jobs.minimumFee(price) + extra;

        uint256 jobId = _request(modelId, fee, 2 hours);
        // The price and protocol fee rate change after the request: the job keeps its own.
        vm.prank(DEV);
        d.registry.setPrice(modelId, uint96(seed >> 160) % 1000 ether);
        _setParams(uint16((seed >> 100) % 2_001), 15_000, 5_000);

        _claim(jobId);
        _submit(jobId, 42);
        vm.warp(block.timestamp + 1 hours);

        _finalizeAndDistribute(jobId, modelId, fee, price, FeeSplit.share(fee, protocolFeeBps));
    }

    /// @dev Finalizes `jobId` (the only job of its model) and distributes its model's accruals,
    /// checking every credit.
    function _finalizeAndDistribute(uint256 jobId, uint256 modelId, uint256 fee, uint256 price, uint256 protocolFee) private {
        uint256 escrowBefore = d.token.balanceOf(address(d.jobs));
        (, uint256 totalBefore) = _pullBalances();
        _finalizeChecked(jobId, modelId, fee, price, protocolFee);
        (uint256 earnings, uint256 fees) = _distributeChecked(modelId);
        assertEq(earnings, price, "distributed earnings != price at request");
        assertEq(fees, protocolFee, "treasury paid != protocol fee");
        (, uint256 totalAfter) = _pullBalances();
        assertEq(totalAfter - totalBefore, fee, "credits do not sum to the fee");
        assertEq(d.token.balanceOf(address(d.jobs)), escrowBefore, "tokens left the escrow");
        _checkEscrow();
    }

    /// @dev Finalizes `jobId`: only the worker is credited (its part); the model accrues the price
    /// and the protocol fee; no token moves.
    function _finalizeChecked(uint256 jobId, uint256 modelId, uint256 fee, uint256 price, uint256 protocolFee) private {
        (uint256[] memory before, uint256 totalBefore) = _pullBalances();
        uint256 escrowBefore = d.token.balanceOf(address(d.jobs));
        assertEq(d.jobs.protocolFees(modelId), 0, "the model already has fees");
        _finalize(jobId);
        (uint256[] memory afterFinalize, uint256 totalAfterFinalize) = _pullBalances();

        uint256[] memory expected = new uint256[](accounts.length);
        expected[_indexOf(WORKER)] += fee - protocolFee - price;
        for (uint256 i = 0; i < accounts.length; ++i) {
            assertEq(afterFinalize[i] - before[i], expected[i], "finalize credited a wrong amount");
        }
        assertEq(d.jobs.modelEarnings(modelId), price, "model accrued != price at request");
        assertEq(d.jobs.protocolFees(modelId), protocolFee, "model accrued != protocol fee at request");
        assertEq(totalAfterFinalize - totalBefore + price + protocolFee, fee, "credits + accruals != fee");
        assertEq(d.token.balanceOf(address(d.jobs)), escrowBefore, "finalize moved tokens out of the escrow");
        assertEq(d.staking.stakeOf(WORKER).locked, 0, "worker still locked after finalize");
        assertTrue(d.jobs.getJob(jobId).status == IJobManager.JobStatus.Finalized, "not finalized");
        _checkEscrow();
    }

    /// @dev Expected credits of distributing `amount` of a model's earnings, recomputed
    /// independently of JobManager.
    function _expectedModelCredits(uint256 modelId, uint256 amount) private view returns (uint256[] memory expected) {
        expected = new uint256[](accounts.length);
        (address owner_, , IModelRegistry.Contributor[] memory contributors) = d.registry.payees(modelId);
        uint256 rest = amount;
        for (uint256 i = 0; i < contributors.length; ++i) {
            uint256 s = (amount * contributors[i].bps) / 10_000;
            expected[_indexOf(contributors[i].account)] += s;
            rest -= s;
        }
        expected[_indexOf(owner_)] += rest;
    }

    /// @notice Earnings and protocol fees of many jobs (at different prices) accrue into one amount
    /// each; one distribution splits exactly the earnings among the payees and pays exactly the
    /// fees to the treasury, and a second finds nothing.
    function testFuzz_distributeSplitsAccruedEarningsExactly(uint96 price, uint256 jobs, uint256 n, uint256 seed) public {
        price = uint96(bound(price, 1, 1_000_000 ether));
        jobs = bound(jobs, 1, 4);
        n = bound(n, 0, 8);
        uint256 modelId = _registerModel(price, n, seed);
        uint256 accrued;
        uint256 fees;
        for (uint256 k = 0; k < jobs; ++k) {
            uint96 p = uint96(price + k * 7);
            vm.prank(DEV);
            d.registry.setPrice(modelId, p);
            uint256 jobId = _request(modelId, d.jobs.minimumFee(p) + k, 2 hours);
            _claim(jobId);
            _submit(jobId, uint32(k));
            vm.warp(block.timestamp + 1 hours);
            _finalize(jobId);
            accrued += p;
            fees += FeeSplit.share(_terms[jobId].fee, _terms[jobId].protocolFeeBps);
        }
        assertEq(d.jobs.modelEarnings(modelId), accrued, "accrued != sum of prices");
        assertEq(d.jobs.protocolFees(modelId), fees, "accrued fees != sum of protocol fees");
        _checkEscrow();

        (uint256 earnings, uint256 paid) = _distributeChecked(modelId);
        assertEq(earnings, accrued, "distributed != accrued");
        assertEq(paid, fees, "treasury paid != accrued fees");
        vm.expectRevert(abi.encodeWithSelector(IJobManager.JobManagerNothingToDistribute.selector, modelId));
        d.jobs.distributeModelEarnings(modelId);
        _checkEscrow();
    }

    // ------------------------------------------------------------ protocol fees across versions

    /// @notice Jobs on two models requested under two parameter versions with different rates and
    /// treasuries, finalized in a random order, with distributions of a random model and changes
    /// of the treasury in force in between: at every step `protocolFees(m)` is the sum of
    /// `FeeSplit.share(fee, bps)` of m's finalized jobs (each at its request's rate) less what was
    /// paid, and the escrow holds unsettled fees + pull balances + model earnings + protocol fees.
    /// Each distribution pays exactly the accrued fees to the treasury in force then (not the
    /// treasuries of the jobs' versions) and zeroes them; at the end each treasury holds exactly
    /// what was paid while it was in force, and a second distribution is refused.
    function testFuzz_protocolFeesAccruePerModel(
        uint16 bps1,
        uint16 bps2,
        uint96 price,
        uint256 jobs1,
        uint256 jobs2,
        uint256 seed
    ) public {
        bps1 = uint16(bound(bps1, 0, 2_000));
        bps2 = uint16(bound(bps2, 0, 2_000));
        price = uint96(bound(price, 0, 100 ether));
        jobs1 = bound(jobs1, 1, 4);
        jobs2 = bound(jobs2, 1, 4);
        uint256[2] memory models = [_registerModel(price, 2, seed), _registerModel(price / 2, 1, seed >> 1)];

        uint256[] memory ids = new uint256[](jobs1 + jobs2);
        _setVersion(TREASURY_1, bps1);
        for (uint256 k = 0; k < jobs1; ++k) ids[k] = _requestOn(models, k, seed);
        _setVersion(TREASURY_2, bps2);
        for (uint256 k = jobs1; k < ids.length; ++k) ids[k] = _requestOn(models, k, seed);
        for (uint256 k = 0; k < ids.length; ++k) {
            _claim(ids[k]);
            _submit(ids[k], uint32(k));
        }
        vm.warp(block.timestamp + 1 hours);
        _shuffle(ids, seed);

        uint256[2] memory shares; // per model: the shares of its finalized jobs
        uint256[2] memory paid; // per model: what distributions paid the treasury
        uint256[3] memory treasuryGot; // TREASURY_1, TREASURY_2, TREASURY_3 (never model payees)
        for (uint256 k = 0; k < ids.length; ++k) {
            IJobManager.JobTerms memory t = _terms[ids[k]];
            assertEq(t.protocolFeeBps, _versionOf(t) == 1 ? bps1 : bps2, "job's rate != its version's");
            _finalize(ids[k]);
            shares[t.modelId == models[0] ? 0 : 1] += FeeSplit.share(t.fee, t.protocolFeeBps);
            uint256 r = uint256(keccak256(abi.encode(seed, k)));
            if (r % 4 == 0) _setVersion([TREASURY_1, TREASURY_2, TREASURY_3][(r >> 8) % 3], uint16((r >> 16) % 2_001));
            if ((r >> 4) % 3 == 0) _distributeAndBook(models, (r >> 24) % 2, paid, treasuryGot);
            for (uint256 m = 0; m < 2; ++m) {
                assertEq(d.jobs.protocolFees(models[m]), shares[m] - paid[m], "accrued fees != shares - paid");
            }
            _checkEscrow();
        }

        _setVersion(TREASURY_3, 0);
        for (uint256 m = 0; m < 2; ++m) {
            _distributeAndBook(models, m, paid, treasuryGot);
            assertEq(paid[m], shares[m], "paid != sum of the model's shares");
            vm.expectRevert(abi.encodeWithSelector(IJobManager.JobManagerNothingToDistribute.selector, models[m]));
            d.jobs.distributeModelEarnings(models[m]);
        }
        address[3] memory treasuries = [TREASURY_1, TREASURY_2, TREASURY_3];
        for (uint256 i = 0; i < 3; ++i) {
            assertEq(d.jobs.balanceOf(treasuries[i]), treasuryGot[i], "a treasury got != what was paid while in force");
        }
        _checkEscrow();
    }

    /// @dev Requests job number `k` of the per-model fee test, on one of `models`, with a random fee.
    function _requestOn(uint256[2] memory models, uint256 k, uint256 seed) private returns (uint256) {
        uint256 modelId = models[uint256(keccak256(abi.encode(seed, "model", k))) % 2];
        (uint96 price, , , ) = d.registry.pricing(modelId);
        return _request(modelId, d.jobs.minimumFee(price) + (seed >> (k * 8)) % 50 ether, 2 hours);
    }

    /// @dev 1 for a job of the first version the per-model fee test makes, 2 for the second.
    function _versionOf(IJobManager.JobTerms memory t) private view returns (uint256) {
        (IJobManager.Params memory p, ) = d.jobs.paramsAt(t.paramsVersion);
        return p.treasury == TREASURY_1 ? 1 : 2;
    }

    /// @dev Distributes model `models[m]` (checked) and books what its treasury in force got.
    function _distributeAndBook(
        uint256[2] memory models,
        uint256 m,
        uint256[2] memory paid,
        uint256[3] memory treasuryGot
    ) private {
        address treasury = d.jobs.params().treasury;
        (, uint256 fees) = _distributeChecked(models[m]);
        paid[m] += fees;
        treasuryGot[treasury == TREASURY_1 ? 0 : treasury == TREASURY_2 ? 1 : 2] += fees;
    }

    /// @dev Makes a new parameter version with `treasury` and `protocolFeeBps`.
    function _setVersion(address treasury, uint16 protocolFeeBps) private {
        IJobManager.Params memory p = Deployer.defaultParams(treasury);
        p.protocolFeeBps = protocolFeeBps;
        d.jobs.setParams(p);
        assertEq(d.jobs.params().treasury, treasury, "treasury in force");
    }

    /// @dev Fisher-Yates shuffle of `a` by `seed`.
    function _shuffle(uint256[] memory a, uint256 seed) private pure {
        for (uint256 i = a.length; i > 1; --i) {
            uint256 j = uint256(keccak256(abi.encode(seed, "shuffle", i))) % i;
            (a[i - 1], a[j]) = (a[j], a[i - 1]);
        }
    }

    // ------------------------------------------------------------ protocol fee rule

    /// @notice minimumFee(price) is the least fee a request accepts: it leaves at least the price
    /// after the protocol fee, one wei less does not (checked against a search from below), and
    /// the escrow accepts the one and rejects the other with that minimum in the error.
    function testFuzz_minimumFeeIsTheLeastAccepted(uint96 price, uint16 protocolFeeBps) public {
        protocolFeeBps = uint16(bound(protocolFeeBps, 0, 2_000));
        price = uint96(bound(price, 0, 1_000_000 ether));
        _setParams(protocolFeeBps, 15_000, 5_000);
        uint256 minimum = d.jobs.minimumFee(price);
        assertGe(minimum - FeeSplit.share(minimum, protocolFeeBps), price, "minimum does not cover the price");
        if (price < 100_000) assertEq(minimum, TestData.minimumFeeBySearch(price, protocolFeeBps), "not the least");
        uint256 modelId = _registerModel(price, 1, price);
        if (minimum != 0) {
            uint256 less = minimum - 1;
            assertLt(less - FeeSplit.share(less, protocolFeeBps), price, "one wei less also covers the price");
            IJobManager.RequestParams memory p = TestData.request(modelId, TestData.tensor4(7), less, block.timestamp + 1 hours);
            vm.prank(REQUESTER);
            vm.expectRevert(abi.encodeWithSelector(IJobManager.JobManagerInsufficientFee.selector, less, minimum));
            d.jobs.requestInference(p);
        }
        uint256 jobId = _request(modelId, minimum, 1 hours);
        assertEq(_terms[jobId].fee, minimum, "minimum fee not accepted");
        assertEq(_terms[jobId].protocolFeeBps, protocolFeeBps, "rate not snapshotted");
    }

    // ------------------------------------------------------------ result commitment

    /// @notice A job stores only the hash of its terms, then of terms and output commitment (no
    /// trace: a worker commits its trace only in a dispute): every call after the request must pass
    /// back exactly those; terms with one field changed, or another output commitment, are refused.
    function testFuzz_onlyTheJobsOwnTermsAndResultAreAccepted(uint32 value, uint256 field, uint256 delta) public {
        uint256 modelId = _registerModel(1 ether, 0, value);
        uint256 jobId = _request(modelId, 10 ether, 2 hours);
        uint256 other = _request(modelId, 10 ether, 2 hours);
        IJobManager.JobTerms memory t = _terms[jobId];
        assertEq(t.inputCommitment, TestData.commitOneChunk(TestData.tensor4(7)), "input commitment of the terms");
        IJobManager.JobTerms memory wrong = _altered(t, field, delta);
        IJobManager.JobTerms memory wrongOther = _altered(_terms[other], field, delta);
        _claim(jobId);
        vm.prank(WORKER);
        vm.expectRevert(abi.encodeWithSelector(IJobManager.JobManagerTermsMismatch.selector, other));
        d.jobs.claim(other, wrongOther);

        bytes memory output = TestData.tensor4(value);
        bytes32 out = TestData.commitOneChunk(output);
        vm.prank(WORKER);
        vm.expectRevert(abi.encodeWithSelector(IJobManager.JobManagerTermsMismatch.selector, jobId));
        d.jobs.submitResult(jobId, wrong, output, out);
        _submit(jobId, output);
        assertEq(d.jobs.getJob(jobId).commitment, d.jobs.resultHash(t, out), "stored result hash");
        // The hash with its last 4 bytes cleared: the stored word keeps the submission block there.
        bytes32 mask = ~bytes32(uint256(type(uint32).max));
        assertEq(d.jobs.resultHash(t, out), keccak256(abi.encode(keccak256(abi.encode(t)), out)) & mask, "result hash formula");
        assertEq(d.jobs.submittedBlock(jobId), block.number, "submission block");

        vm.warp(block.timestamp + 1 hours);
        vm.expectRevert(abi.encodeWithSelector(IJobManager.JobManagerTermsMismatch.selector, jobId));
        d.jobs.finalize(jobId, wrong, out);
        vm.expectRevert(abi.encodeWithSelector(IJobManager.JobManagerTermsMismatch.selector, jobId));
        d.jobs.finalize(jobId, t, bytes32(uint256(out) ^ (delta | 1)));
        _finalize(jobId);
        assertTrue(d.jobs.getJob(jobId).status == IJobManager.JobStatus.Finalized, "not finalized");

        // An open job past its deadline: expiring it with wrong terms is refused, with its own it refunds.
        vm.warp(block.timestamp + 2 hours);
        vm.expectRevert(abi.encodeWithSelector(IJobManager.JobManagerTermsMismatch.selector, other));
        d.jobs.expire(other, wrongOther);
        _expire(other);
        assertTrue(d.jobs.getJob(other).status == IJobManager.JobStatus.Refunded, "not refunded");
        _checkEscrow();
    }

    /// @dev `t` with field `field % 12` changed by a non-zero amount (the parameter version too:
    /// a job cannot be moved to another version's window, timeout, treasury or dispute manager).
    function _altered(
        IJobManager.JobTerms memory t,
        uint256 field,
        uint256 delta
    ) private pure returns (IJobManager.JobTerms memory w) {
        w = IJobManager.JobTerms(
            t.requester,
            t.modelId,
            t.fee,
            t.modelFee,
            t.lock,
            t.protocolFeeBps,
            t.deadline,
            t.outputElements,
            t.consumer,
            t.callbackGasLimit,
            t.inputCommitment,
            t.paramsVersion
        );
        uint256 k = field % 12;
        uint256 dd = bound(delta, 1, 1000);
        if (k == 0) w.requester = address(uint160(t.requester) ^ uint160(dd));
        else if (k == 1) w.modelId = t.modelId + uint40(dd);
        else if (k == 2) w.fee = t.fee - 1;
        else if (k == 3) w.modelFee = t.modelFee + uint96(dd);
        else if (k == 4) w.lock = t.lock - 1;
        else if (k == 5) w.protocolFeeBps = t.protocolFeeBps + uint16(dd);
        else if (k == 6) w.deadline = t.deadline + uint40(dd);
        else if (k == 7) w.outputElements = t.outputElements + uint64(dd);
        else if (k == 8) w.consumer = address(uint160(dd));
        else if (k == 9) w.callbackGasLimit = t.callbackGasLimit + uint24(dd);
        else if (k == 10) w.inputCommitment = bytes32(uint256(t.inputCommitment) ^ dd);
        else w.paramsVersion = t.paramsVersion + uint32(dd);
    }

    /// @notice Every stage after the request refuses terms with one field altered, with exactly
    /// `JobManagerTermsMismatch`: the claim of an open job and of a reopened one, the submission, a
    /// dispute's freeze (also with the right terms and a wrong output commitment),
    /// the timeout of a claimed job, the finalization. Its own terms then work at each stage, and a
    /// timeout keeps the terms hash. Once settled, the status is refused first (`JobManagerWrongStatus`),
    /// whatever the terms.
    function testFuzz_alteredTermsRefusedAtEveryStage(uint256 field, uint256 delta, uint32 value) public {
        uint256 modelId = _registerModel(2 ether, 2, value);
        uint256 a = _request(modelId, 20 ether, 2 hours);
        uint256 b = _request(modelId, 30 ether, 2 hours);
        IJobManager.JobTerms memory wa = _altered(_terms[a], field, delta);
        IJobManager.JobTerms memory wb = _altered(_terms[b], field, delta);
        assertTrue(d.jobs.termsHash(wa) != d.jobs.termsHash(_terms[a]), "altered terms hash alike");

        vm.prank(WORKER);
        vm.expectRevert(abi.encodeWithSelector(IJobManager.JobManagerTermsMismatch.selector, a));
        d.jobs.claim(a, wa);
        _claim(a);
        _claim(b);
        // A claimed job refuses a second claim on its status, before looking at the terms.
        vm.prank(WORKER);
        vm.expectRevert(
            abi.encodeWithSelector(IJobManager.JobManagerWrongStatus.selector, b, IJobManager.JobStatus.Claimed)
        );
        d.jobs.claim(b, wb);
        bytes memory output = TestData.tensor4(value);
        bytes32 out = TestData.commitOneChunk(output);
        vm.prank(WORKER);
        vm.expectRevert(abi.encodeWithSelector(IJobManager.JobManagerTermsMismatch.selector, a));
        d.jobs.submitResult(a, wa, output, out);
        _submit(a, output);

        _checkFreezeRefusals(a, wa, out, bound(delta, 1, 1000));

        // Timeout of the claimed job b: wrong terms refused, its own slash and reopen it.
        vm.warp(d.jobs.getJob(b).timer + 1);
        vm.expectRevert(abi.encodeWithSelector(IJobManager.JobManagerTermsMismatch.selector, b));
        d.jobs.expire(b, wb);
        assertTrue(d.jobs.getJob(b).status == IJobManager.JobStatus.Claimed, "a refused expiry moved the job");
        _expire(b);
        IJobManager.Job memory jb = d.jobs.getJob(b);
        assertTrue(jb.status == IJobManager.JobStatus.Open, "timed-out job not reopened");
        assertEq(jb.commitment, d.jobs.termsHash(_terms[b]), "reopened job lost its terms hash");
        vm.prank(WORKER);
        vm.expectRevert(abi.encodeWithSelector(IJobManager.JobManagerTermsMismatch.selector, b));
        d.jobs.claim(b, wb);
        uint256 lockedBefore = d.staking.stakeOf(WORKER).locked;
        _claim(b);
        assertEq(d.staking.stakeOf(WORKER).locked - lockedBefore, _terms[b].lock, "reclaim locked another amount");

        // Finalization of a.
        vm.warp(d.jobs.getJob(a).timer);
        vm.expectRevert(abi.encodeWithSelector(IJobManager.JobManagerTermsMismatch.selector, a));
        d.jobs.finalize(a, wa, out);
        _finalize(a);

        _checkSettledRefusals(a, wa, output, out);
        // A job that does not exist is unknown, whatever the terms.
        vm.expectRevert(abi.encodeWithSelector(IJobManager.JobManagerUnknownJob.selector, b + 1));
        d.jobs.expire(b + 1, _terms[a]);
        _checkEscrow();
    }

    /// @dev Freeze of submitted job `a`: refused with wrong terms or output commitment (without
    /// counting a dispute); with its own, it counts one and returns the worker.
    function _checkFreezeRefusals(uint256 a, IJobManager.JobTerms memory wa, bytes32 out, uint256 dd) private {
        bytes32 res = d.jobs.getJob(a).commitment;
        vm.expectRevert(abi.encodeWithSelector(IJobManager.JobManagerTermsMismatch.selector, a));
        d.jobs.freezeForDispute(a, wa, out);
        vm.expectRevert(abi.encodeWithSelector(IJobManager.JobManagerTermsMismatch.selector, a));
        d.jobs.freezeForDispute(a, _terms[a], bytes32(uint256(out) ^ dd));
        assertEq(d.jobs.getJob(a).openDisputes, 0, "a refused freeze froze");
        (address frozenWorker, uint256 batchSize) = d.jobs.freezeForDispute(a, _terms[a], out);
        assertEq(frozenWorker, WORKER, "freeze returned another worker");
        assertEq(batchSize, 1, "freeze returned another batch size for a single job");
        assertEq(d.jobs.getJob(a).openDisputes, 1, "freeze did not count");
        assertEq(d.jobs.settleDispute(a, true, type(uint256).max), 0, "valid verdict slashed");
        assertEq(d.jobs.getJob(a).commitment, res, "a dispute changed the result hash");
    }

    /// @dev Finalized job `a`: every call is refused on its status first, with wrong or right terms.
    function _checkSettledRefusals(
        uint256 a,
        IJobManager.JobTerms memory wa,
        bytes memory output,
        bytes32 out
    ) private {
        bytes memory wrongStatus = abi.encodeWithSelector(
            IJobManager.JobManagerWrongStatus.selector,
            a,
            IJobManager.JobStatus.Finalized
        );
        for (uint256 i = 0; i < 2; ++i) {
            IJobManager.JobTerms memory t = i == 0 ? wa : _terms[a];
            vm.expectRevert(wrongStatus);
            d.jobs.finalize(a, t, out);
            vm.expectRevert(wrongStatus);
            d.jobs.expire(a, t);
            vm.expectRevert(wrongStatus);
            d.jobs.freezeForDispute(a, t, out);
            vm.prank(WORKER);
            vm.expectRevert(wrongStatus);
            d.jobs.claim(a, t);
            vm.prank(WORKER);
            vm.expectRevert(wrongStatus);
            d.jobs.submitResult(a, t, output, out);
        }
    }

    /// @notice The stake a claim locks is the terms' lock, max(fee * stakeRatioBps / 10000,
    /// minJobLock) by the parameters at request time: a parameter change between request and
    /// claim moves neither what the claim locks nor what finalization or a timeout releases.
    function testFuzz_lockIsFixedAtRequest(
        uint96 fee,
        uint32 ratioAtRequest,
        uint96 minAtRequest,
        uint32 ratioLater,
        uint96 minLater,
        bool timeout
    ) public {
        fee = uint96(bound(fee, 3 ether, 1_000_000 ether));
        IJobManager.Params memory p = Deployer.defaultParams(TREASURY);
        p.stakeRatioBps = uint32(bound(ratioAtRequest, 0, 50_000));
        p.minJobLock = uint96(bound(minAtRequest, 0, 1_000 ether));
        d.jobs.setParams(p);
        uint256 expectedLock = (uint256(fee) * p.stakeRatioBps) / 10_000;
        if (expectedLock < p.minJobLock) expectedLock = p.minJobLock;

        uint256 modelId = _registerModel(1 ether, 1, fee);
        uint256 jobId = _request(modelId, fee, 2 hours);
        assertEq(_terms[jobId].lock, expectedLock, "terms lock != lock by the request's parameters");

        p.stakeRatioBps = uint32(bound(ratioLater, 0, 50_000));
        p.minJobLock = uint96(bound(minLater, 0, 1_000 ether));
        d.jobs.setParams(p);

        uint256 lockedBefore = d.staking.stakeOf(WORKER).locked;
        _claim(jobId);
        assertEq(d.staking.stakeOf(WORKER).locked - lockedBefore, expectedLock, "claim locked another amount");
        Snap memory before = _snap();
        if (timeout) {
            vm.warp(d.jobs.getJob(jobId).timer + 1);
            _expire(jobId);
            uint256 slash = FeeSplit.share(expectedLock, p.timeoutSlashBps);
            assertEq(before.staked - _snap().staked, slash, "timeout slashed another amount");
        } else {
            _submit(jobId, 5);
            vm.warp(block.timestamp + 1 hours);
            _finalize(jobId);
            assertEq(_snap().staked, before.staked, "finalize took stake");
        }
        assertEq(before.locked - _snap().locked, expectedLock, "release != the lock of the terms");
        assertEq(_snap().locked, 0, "stake left locked");
        _checkEscrow();
    }

    /// @notice Every payee can withdraw exactly its credit; the escrow ends empty.
    function testFuzz_withdrawalsDrainExactlyTheCredits(uint96 price, uint256 n, uint256 seed) public {
        price = uint96(bound(price, 0, 1_000_000 ether));
        n = bound(n, 0, 8);
        uint256 modelId = _registerModel(price, n, seed);
        uint256 fee = d.jobs.minimumFee(price) + 1 ether + (seed % 1000 ether);
        uint256 jobId = _request(modelId, fee, 2 hours);
        _claim(jobId);
        _submit(jobId, 1);
        vm.warp(block.timestamp + 1 hours);
        _finalize(jobId);
        _distribute(modelId);

        for (uint256 i = 0; i < accounts.length; ++i) {
            address a = accounts[i];
            uint256 credit = d.jobs.balanceOf(a);
            uint256 tokensBefore = d.token.balanceOf(a);
            vm.prank(a);
            if (credit == 0) {
                vm.expectRevert(abi.encodeWithSelector(IPullPayments.PullPaymentsNothingToWithdraw.selector, a));
                d.jobs.withdraw();
                continue;
            }
            d.jobs.withdraw();
            assertEq(d.token.balanceOf(a) - tokensBefore, credit, "withdrawal != credit");
            assertEq(d.jobs.balanceOf(a), 0, "balance left after withdrawal");
            vm.prank(a);
            vm.expectRevert(abi.encodeWithSelector(IPullPayments.PullPaymentsNothingToWithdraw.selector, a));
            d.jobs.withdraw();
        }
        assertEq(d.token.balanceOf(address(d.jobs)), 0, "escrow not empty after all withdrawals");
    }

    // ------------------------------------------------------------ output length

    /// @notice An output whose length is not the model's output size is rejected, even when its
    /// commitment equals the right output's (trailing zero elements inside the last chunk).
    function testFuzz_submitRejectsWrongOutputLength(uint256 elements, uint32 value, bool samePadding) public {
        uint256 modelId = _registerModel(1 ether, 1, value);
        uint256 jobId = _request(modelId, 10 ether, 2 hours);
        _claim(jobId);
        elements = bound(elements, 2, 300); // 0 elements fail the commitment's own length check
        // Either the right value followed by zero elements (same commitment as the right output
        // when it stays in one chunk), or random words.
        bytes memory output = samePadding
            ? bytes.concat(TestData.tensor4(value), new bytes((elements - 1) * 4))
            : _words(value, elements);
        bytes32 commitment = output.length <= 1024
            ? TestData.commitOneChunk(output)
            : keccak256(output);
        vm.prank(WORKER);
        vm.expectRevert(abi.encodeWithSelector(IJobManager.JobManagerOutputSizeMismatch.selector, 4, output.length));
        d.jobs.submitResult(jobId, _terms[jobId], output, commitment);

        // The right length still goes through.
        _submit(jobId, value);
        assertTrue(d.jobs.getJob(jobId).status == IJobManager.JobStatus.Submitted, "valid output rejected");
    }

    function _words(uint32 seed, uint256 n) private pure returns (bytes memory out) {
        for (uint256 i = 0; i < n; ++i) out = bytes.concat(out, bytes4(keccak256(abi.encode(seed, i))));
    }

    // ------------------------------------------------------------ timeouts

    /// @notice A late worker loses exactly share(lock, timeoutSlashBps), all of it credited to
    /// the requester; the rest of the lock is released; the job reopens or is refunded.
    function testFuzz_timeoutCreditsExactlyTheSlash(
        uint96 fee,
        uint32 stakeRatioBps,
        uint16 timeoutSlashBps,
        uint256 claimDelay,
        uint256 lateBy
    ) public {
        stakeRatioBps = uint32(bound(stakeRatioBps, 0, 50_000));
        timeoutSlashBps = uint16(bound(timeoutSlashBps, 0, 10_000));
        _setParams(500, stakeRatioBps, timeoutSlashBps);
        uint256 modelId = _registerModel(10 ether, 2, uint256(fee));
        fee = uint96(bound(fee, 11 ether, 10_000_000 ether)); // >= minimumFee(10 ether) at 5%
        uint256 deadline = block.timestamp + 2 hours;
        uint256 jobId = _request(modelId, fee, 2 hours);

        claimDelay = bound(claimDelay, 0, 2 hours);
        vm.warp(block.timestamp + claimDelay);
        uint256 lockAmount = _claim(jobId);
        uint256 due = d.jobs.getJob(jobId).timer;
        lateBy = bound(lateBy, 1, 3 hours);
        vm.warp(due + lateBy);

        Snap memory before = _snap();
        _expire(jobId);
        Snap memory afterwards = _snap();

        uint256 slash = FeeSplit.share(lockAmount, timeoutSlashBps);
        bool refunded = block.timestamp > deadline;
        assertEq(afterwards.requesterPull - before.requesterPull, slash + (refunded ? fee : 0), "requester credit");
        assertEq(before.staked - afterwards.staked, slash, "worker lost != slash");
        assertEq(before.locked - afterwards.locked, lockAmount, "lock not fully released");
        assertEq(afterwards.escrow - before.escrow, slash, "escrow received != slash");
        assertEq(before.stakingBalance - afterwards.stakingBalance, slash, "staking sent != slash");
        IJobManager.Job memory job = d.jobs.getJob(jobId);
        assertTrue(
            job.status == (refunded ? IJobManager.JobStatus.Refunded : IJobManager.JobStatus.Open),
            "wrong status after timeout"
        );
        assertEq(job.worker, address(0), "worker not cleared");
        _checkEscrow();
    }

    // ------------------------------------------------------------ disputes

    /// @notice Rejecting a result slashes exactly min(slashAmount, lock) to the dispute manager,
    /// releases the rest and refunds the fee; a valid verdict moves nothing.
    function testFuzz_disputeSlashMovesExactAmount(
        uint96 fee,
        uint256 slashAmount,
        bool valid,
        uint256 disputes
    ) public {
        uint256 modelId = _registerModel(5 ether, 3, uint256(fee));
        fee = uint96(bound(fee, 6 ether, 10_000_000 ether));
        uint256 jobId = _request(modelId, fee, 2 hours);
        uint256 lockAmount = _claim(jobId);
        _submit(jobId, 9);
        disputes = bound(disputes, 1, 4);
        for (uint256 i = 0; i < disputes; ++i) _freeze(jobId);
        slashAmount = bound(slashAmount, 0, type(uint96).max);

        Snap memory before = _snap();
        uint256 mine = d.token.balanceOf(address(this));
        (, uint256 pullsBefore) = _pullBalances();
        uint256 slashed = d.jobs.settleDispute(jobId, valid, slashAmount);
        Snap memory afterwards = _snap();
        (, uint256 pullsAfter) = _pullBalances();

        if (valid) {
            assertEq(slashed, 0, "valid verdict slashed");
            assertEq(pullsAfter, pullsBefore, "valid verdict credited");
            assertEq(afterwards.locked, before.locked, "valid verdict unlocked");
        } else {
            uint256 expectedSlash = slashAmount < lockAmount ? slashAmount : lockAmount;
            assertEq(slashed, expectedSlash, "returned slash");
            assertEq(d.token.balanceOf(address(this)) - mine, expectedSlash, "dispute manager got != slash");
            assertEq(before.staked - afterwards.staked, expectedSlash, "worker lost != slash");
            assertEq(before.stakingBalance - afterwards.stakingBalance, expectedSlash, "staking sent != slash");
            assertEq(before.locked - afterwards.locked, lockAmount, "lock not fully released");
            assertEq(afterwards.requesterPull - before.requesterPull, fee, "refund != fee");
            assertEq(pullsAfter - pullsBefore, fee, "credits != fee");
        }
        // The remaining disputes settle without moving anything more, whatever their verdicts.
        _settleRemaining(jobId, disputes - 1, slashAmount);
        _checkEscrow();
    }

    /// @dev Settles the other open disputes: while the job is still Submitted an invalid verdict
    /// rejects it (once, moving exactly the fee and the slash); after a rejection nothing moves.
    function _settleRemaining(uint256 jobId, uint256 remaining, uint256 slashAmount) private {
        for (uint256 i = 0; i < remaining; ++i) {
            bool valid = i % 2 == 1;
            bool rejects = !valid && d.jobs.getJob(jobId).status == IJobManager.JobStatus.Submitted;
            (, uint256 p0) = _pullBalances();
            uint256 st = d.token.balanceOf(address(d.staking));
            uint256 slashed = d.jobs.settleDispute(jobId, valid, slashAmount);
            (, uint256 p1) = _pullBalances();
            uint256 expectedSlash = rejects ? (slashAmount < _terms[jobId].lock ? slashAmount : _terms[jobId].lock) : 0;
            assertEq(slashed, expectedSlash, "later settlement slash");
            assertEq(p1 - p0, rejects ? _terms[jobId].fee : 0, "later settlement credit");
            assertEq(st - d.token.balanceOf(address(d.staking)), expectedSlash, "later settlement staking outflow");
        }
        assertEq(d.jobs.getJob(jobId).openDisputes, 0, "disputes left open");
    }

    // ------------------------------------------------------------ pays at most once

    /// @notice Drive a job to Finalized, Refunded (open or timed out) or Rejected; afterwards no
    /// call of finalize / expire / freeze / settle, at any later time, credits anything or slashes.
    function testFuzz_jobPaysOutAtMostOnce(uint8 path, uint96 fee, uint256 ops, uint256 warpSeed) public {
        uint256 modelId = _registerModel(3 ether, 2, uint256(fee));
        fee = uint96(bound(fee, 4 ether, 1_000_000 ether));
        uint256 jobId = _request(modelId, fee, 2 hours);
        path = uint8(bound(path, 0, 3));
        bool disputed;
        if (path == 0) {
            _claim(jobId);
            _submit(jobId, 3);
            if (ops % 2 == 0) {
                _freeze(jobId);
                d.jobs.settleDispute(jobId, true, type(uint256).max);
            }
            vm.warp(block.timestamp + 1 hours);
            _finalize(jobId);
        } else if (path == 1) {
            vm.warp(block.timestamp + 2 hours + 1);
            _expire(jobId);
        } else if (path == 2) {
            _claim(jobId);
            vm.warp(block.timestamp + 2 hours + 1);
            _expire(jobId);
        } else {
            _claim(jobId);
            _submit(jobId, 3);
            _freeze(jobId);
            _freeze(jobId);
            d.jobs.settleDispute(jobId, false, ops);
            disputed = true;
        }
        IJobManager.JobStatus terminal = d.jobs.getJob(jobId).status;
        assertTrue(uint8(terminal) >= uint8(IJobManager.JobStatus.Finalized), "not terminal");
        (, uint256 pulls) = _pullBalances();
        uint256 stakingBalance = d.token.balanceOf(address(d.staking));
        IStaking.StakeInfo memory s = d.staking.stakeOf(WORKER);

        for (uint256 i = 0; i < 8; ++i) {
            uint256 r = uint256(keccak256(abi.encode(ops, i)));
            vm.warp(block.timestamp + bound(warpSeed >> (i * 16), 0, 3 hours));
            uint256 op = r % 5;
            bool ok = _tryAction(jobId, op, r);
            if (op == 3) {
                // Only the second dispute of the rejected job may still be settled, moving nothing.
                if (ok) assertTrue(disputed, "settled a dispute that was never opened");
                if (ok) disputed = false;
            }
            if (op != 3) assertFalse(ok, "an action succeeded on a settled job");
            (, uint256 p) = _pullBalances();
            assertEq(p, pulls, "a settled job credited again");
            assertEq(d.token.balanceOf(address(d.staking)), stakingBalance, "a settled job slashed again");
            IStaking.StakeInfo memory s2 = d.staking.stakeOf(WORKER);
            assertEq(s2.locked, s.locked, "a settled job changed the lock");
            assertTrue(d.jobs.getJob(jobId).status == terminal, "terminal status changed");
        }
        _checkEscrow();
    }

    /// @dev One action on `jobId` (finalize, expire, freeze, settle, submit), with the job's own
    /// terms and result, so that only its status can refuse it. Returns whether it succeeded.
    function _tryAction(uint256 jobId, uint256 op, uint256 r) private returns (bool ok) {
        IJobManager.JobTerms memory t = _terms[jobId];
        bytes32 res = _results[jobId];
        if (op == 0) (ok, ) = address(d.jobs).call(abi.encodeCall(IJobManager.finalize, (jobId, t, res)));
        else if (op == 1) (ok, ) = address(d.jobs).call(abi.encodeCall(IJobManager.expire, (jobId, t)));
        else if (op == 2)
            (ok, ) = address(d.jobs).call(abi.encodeCall(IJobManager.freezeForDispute, (jobId, t, res)));
        else if (op == 3)
            (ok, ) = address(d.jobs).call(abi.encodeCall(IJobManager.settleDispute, (jobId, r % 7 == 0, r >> 128)));
        else {
            bytes memory output = TestData.tensor4(3);
            vm.prank(WORKER);
            (ok, ) = address(d.jobs).call(
                abi.encodeCall(IJobManager.submitResult, (jobId, t, output, TestData.commitOneChunk(output)))
            );
        }
    }
}
