// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {FeeSplit} from "../../contracts/libraries/FeeSplit.sol";
import {IJobManager} from "../../contracts/interfaces/IJobManager.sol";
import {IInferenceConsumer} from "../../contracts/interfaces/IInferenceConsumer.sol";
import {IModelRegistry} from "../../contracts/interfaces/IModelRegistry.sol";

import {Test} from "./utils/Test.sol";
import {TestData, Terms, Deployment, Deployer} from "./utils/Protocol.sol";

/// @notice A consumer that records its callbacks, or burns all its gas when told to.
contract FeeTestConsumer is IInferenceConsumer {
    bool public immutable burn;
    uint256 public delivered;
    bytes32 public outputHash;

    constructor(bool burn_) {
        burn = burn_;
    }

    function approve(IJobManager jobs, address requester) external {
        jobs.setRequesterApproval(requester, true);
    }

    function onInferenceResult(uint256 jobId, bytes calldata output) external {
        if (burn) while (true) ++delivered;
        delivered = jobId;
        outputHash = keccak256(output);
    }
}

/**
 * @notice Fuzz tests of the callback fee (issue 14, deliverable 3): a consumer job's fee covers the
 * model's price and `callbackGasLimit * callbackFeePerGas` after the protocol fee; the callback fee
 * goes to whoever calls `finalizeWithCallback` (it pays for the callback's gas), whatever the
 * consumer does; the job's version fixes the rate; every refund path returns it to the requester
 * with the rest of the fee; and the output bytes a finalizer passes back are checked against the
 * job's result. This contract owns the escrow and staking and acts as the dispute manager.
 */
contract CallbackFeesFuzzTest is Test {
    uint256 private constant MIN_STAKE = 100 ether;

    address private constant TREASURY = address(0x7EA5);
    address private constant DEV = address(0xDE5);
    address private constant REQUESTER = address(0x4E0);
    address private constant WORKER = address(0x3012);
    address private constant KEEPER = address(0x6EE9);

    Deployment private d;
    FeeTestConsumer private consumer;
    FeeTestConsumer private burner;
    mapping(uint256 jobId => IJobManager.JobTerms) private _terms;
    mapping(uint256 jobId => bytes) private _outputs;
    /// @dev Every account that can hold a pull balance in these tests.
    address[] private accounts;

    function setUp() public {
        d = Deployer.deploy(TREASURY, MIN_STAKE, 1 days);
        // The test contract judges disputes itself (it freezes and settles jobs directly).
        d.jobs.setDisputeManager(address(this));
        accounts.push(DEV);
        accounts.push(WORKER);
        accounts.push(TREASURY);
        accounts.push(REQUESTER);
        accounts.push(KEEPER);
        accounts.push(address(this));
        d.token.transfer(REQUESTER, Deployer.SUPPLY / 4);
        d.token.transfer(WORKER, Deployer.SUPPLY / 4);
        vm.prank(REQUESTER);
        d.token.approve(address(d.jobs), type(uint256).max);
        vm.prank(WORKER);
        d.token.approve(address(d.staking), type(uint256).max);
        consumer = new FeeTestConsumer(false);
        burner = new FeeTestConsumer(true);
        consumer.approve(d.jobs, REQUESTER);
        burner.approve(d.jobs, REQUESTER);
    }

    // ------------------------------------------------------------ helpers

    function _setParams(uint16 protocolFeeBps, uint256 callbackFeePerGas) private {
        IJobManager.Params memory p = Deployer.defaultParams(TREASURY);
        p.protocolFeeBps = protocolFeeBps;
        p.callbackFeePerGas = uint72(callbackFeePerGas);
        d.jobs.setParams(p);
    }

    function _registerModel(uint96 price, uint256 salt) private returns (uint256) {
        vm.prank(DEV);
        return d.registry.registerModel(TestData.tinyModel(price, 10_000, new IModelRegistry.Contributor[](0), salt));
    }

    function _consumerRequest(
        uint256 modelId,
        address to,
        uint256 gas,
        uint256 fee
    ) private view returns (IJobManager.RequestParams memory p) {
        p = TestData.request(modelId, TestData.tensor4(7), fee, block.timestamp + 2 hours);
        p.consumer = to;
        p.callbackGasLimit = uint32(gas);
    }

    function _request(IJobManager.RequestParams memory p) private returns (uint256 jobId) {
        IJobManager.JobTerms memory t = Terms.expected(d.jobs, d.registry, REQUESTER, p);
        vm.prank(REQUESTER);
        jobId = d.jobs.requestInference(p);
        assertEq(d.jobs.getJob(jobId).commitment, d.jobs.termsHash(t), "the job stores another terms hash");
        _terms[jobId] = t;
    }

    function _claim(uint256 jobId) private {
        uint256 lockAmount = _terms[jobId].lock;
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
        bytes memory output = TestData.tensor4(value);
        // Before the prank: the commitment calls the sha256 precompile, which would take it.
        bytes32 commitment = TestData.commitOneChunk(output);
        vm.prank(WORKER);
        d.jobs.submitResult(jobId, _terms[jobId], output, commitment);
        _outputs[jobId] = output;
    }

    function _pulls() private view returns (uint256[] memory balances, uint256 total) {
        balances = new uint256[](accounts.length);
        for (uint256 i = 0; i < accounts.length; ++i) {
            balances[i] = d.jobs.balanceOf(accounts[i]);
            total += balances[i];
        }
    }

    function _indexOf(address account) private view returns (uint256) {
        for (uint256 i = 0; i < accounts.length; ++i) if (accounts[i] == account) return i;
        revert("untracked account");
    }

    /// @dev Escrow balance == unsettled fees + pull balances + model accruals (one model per test).
    function _checkEscrow(uint256 modelId) private view {
        uint256 escrowed;
        for (uint256 id = 1; id <= d.jobs.jobCount(); ++id) {
            IJobManager.JobStatus s = d.jobs.getJob(id).status;
            if (s == IJobManager.JobStatus.Open || s == IJobManager.JobStatus.Claimed || s == IJobManager.JobStatus.Submitted) {
                escrowed += _terms[id].fee;
            }
        }
        (, uint256 pulls) = _pulls();
        assertEq(
            d.token.balanceOf(address(d.jobs)),
            escrowed + pulls + d.jobs.modelEarnings(modelId) + d.jobs.protocolFees(modelId),
            "escrow != unsettled fees + pull balances + accruals"
        );
    }

    // ------------------------------------------------------------ the fee covers the callback

    /// @notice minimumFeeWithCallback(price, gas) is the least fee a consumer request accepts: after
    /// the protocol fee it leaves the price plus gas x callbackFeePerGas, one wei less does not (and
    /// is refused with that minimum in the error); with no gas it is minimumFee(price).
    function testFuzz_minimumFeeWithCallbackIsTheLeastAccepted(uint96 price, uint16 protocolFeeBps, uint256 gas, uint256 rate) public {
        price = uint96(bound(price, 0, 1_000_000 ether));
        protocolFeeBps = uint16(bound(protocolFeeBps, 0, 2_000));
        gas = bound(gas, 1, 500_000);
        rate = bound(rate, 0, d.jobs.MAX_CALLBACK_FEE_PER_GAS());
        _setParams(protocolFeeBps, rate);
        uint256 owed = uint256(price) + gas * rate;
        uint256 minimum = d.jobs.minimumFeeWithCallback(price, gas);
        assertEq(d.jobs.minimumFeeWithCallback(price, 0), d.jobs.minimumFee(price), "no gas is not the plain minimum");
        assertGe(minimum - FeeSplit.share(minimum, protocolFeeBps), owed, "minimum does not cover price and callback");
        if (owed < 100_000) assertEq(minimum, TestData.minimumFeeBySearch(owed, protocolFeeBps), "not the least");
        vm.assume(minimum < type(uint96).max);
        uint256 modelId = _registerModel(price, uint256(price) ^ gas);
        if (minimum != 0) {
            uint256 less = minimum - 1;
            assertLt(less - FeeSplit.share(less, protocolFeeBps), owed, "one wei less also covers it");
            vm.prank(REQUESTER);
            vm.expectRevert(abi.encodeWithSelector(IJobManager.JobManagerInsufficientFee.selector, less, minimum));
            d.jobs.requestInference(_consumerRequest(modelId, address(consumer), gas, less));
        }
        uint256 jobId = _request(_consumerRequest(modelId, address(consumer), gas, minimum));
        assertEq(d.jobs.callbackFee(_terms[jobId]), gas * rate, "callback fee != gas x rate");
    }

    /// @notice Finalizing a consumer job credits the worker its part less the callback fee and
    /// whoever calls finalizeWithCallback (worker, keeper or requester) exactly the callback fee, at
    /// the rate of the job's version whatever governance set since, whether the consumer takes its
    /// callback or burns all its gas; the model accrues the price and protocol fee; all of it sums to
    /// the fee and no token leaves the escrow.
    function testFuzz_callbackFeePaidToTheFinalizer(
        uint96 price,
        uint16 protocolFeeBps,
        uint256 gas,
        uint256 rate,
        uint96 extra,
        uint256 seed
    ) public {
        Case memory c;
        c.price = bound(price, 0, 1_000_000 ether);
        protocolFeeBps = uint16(bound(protocolFeeBps, 0, 2_000));
        // Enough for the recording consumer's two new slots.
        gas = bound(gas, 60_000, 200_000);
        rate = bound(rate, 0, d.jobs.MAX_CALLBACK_FEE_PER_GAS());
        _setParams(protocolFeeBps, rate);
        c.modelId = _registerModel(uint96(c.price), seed);
        c.fee = d.jobs.minimumFeeWithCallback(c.price, gas) + bound(extra, 0, 1_000_000 ether);
        c.to = seed % 4 == 0 ? burner : consumer;
        c.jobId = _request(_consumerRequest(c.modelId, address(c.to), gas, c.fee));

        // Governance changes the rate (and the fee rate) mid-job: the job keeps its own.
        _setParams(uint16((seed >> 8) % 2_001), bound(seed >> 24, 0, 1 ether));
        _claim(c.jobId);
        _submit(c.jobId, uint32(seed >> 64));
        vm.warp(block.timestamp + 1 hours);

        c.finalizer = [WORKER, KEEPER, REQUESTER][(seed >> 128) % 3];
        c.callbackFee = gas * rate;
        c.protocolFee = FeeSplit.share(c.fee, protocolFeeBps);
        assertEq(d.jobs.callbackFee(_terms[c.jobId]), c.callbackFee, "the job's callback fee moved with governance");
        _finalizeChecked(c);
    }

    /// @dev One consumer job of {testFuzz_callbackFeePaidToTheFinalizer}.
    struct Case {
        uint256 jobId;
        uint256 modelId;
        uint256 price;
        uint256 fee;
        uint256 protocolFee;
        uint256 callbackFee;
        address finalizer;
        FeeTestConsumer to;
    }

    /// @dev `c.finalizer` finalizes `c.jobId` with its output bytes; checks every credit and accrual.
    function _finalizeChecked(Case memory c) private {
        (uint256[] memory before, uint256 totalBefore) = _pulls();
        uint256 escrowBefore = d.token.balanceOf(address(d.jobs));
        vm.prank(c.finalizer);
        d.jobs.finalizeWithCallback{gas: 2_000_000}(c.jobId, _terms[c.jobId], _outputs[c.jobId]);
        (uint256[] memory afterwards, uint256 totalAfter) = _pulls();

        uint256[] memory expected = new uint256[](accounts.length);
        expected[_indexOf(WORKER)] += c.fee - c.protocolFee - c.price - c.callbackFee;
        expected[_indexOf(c.finalizer)] += c.callbackFee;
        for (uint256 i = 0; i < accounts.length; ++i) {
            assertEq(afterwards[i] - before[i], expected[i], "finalize credited a wrong amount");
        }
        assertEq(
            totalAfter - totalBefore + d.jobs.modelEarnings(c.modelId) + d.jobs.protocolFees(c.modelId),
            c.fee,
            "credits + accruals != fee"
        );
        assertEq(d.jobs.modelEarnings(c.modelId), c.price, "model accrued != price");
        assertEq(d.jobs.protocolFees(c.modelId), c.protocolFee, "model accrued != protocol fee");
        assertEq(d.token.balanceOf(address(d.jobs)), escrowBefore, "finalize moved tokens");
        IJobManager.Job memory job = d.jobs.getJob(c.jobId);
        assertTrue(job.status == IJobManager.JobStatus.Finalized, "not finalized");
        bool burnt = c.to == burner;
        assertTrue(job.callback == (burnt ? IJobManager.CallbackStatus.Failed : IJobManager.CallbackStatus.Delivered), "callback status");
        if (!burnt) assertEq(consumer.outputHash(), keccak256(_outputs[c.jobId]), "the consumer got other bytes");
        _checkEscrow(c.modelId);
    }

    /// @notice A consumer job that ends without a result (cancelled, expired open, timed out past its
    /// deadline, rejected) credits its requester the whole fee, callback fee included (plus a timeout
    /// slash), and nobody else anything; it can then never be finalized.
    function testFuzz_callbackFeeRefundedWithTheFee(uint8 path, uint256 gas, uint256 rate, uint96 extra) public {
        gas = bound(gas, 1, 500_000);
        rate = bound(rate, 1, d.jobs.MAX_CALLBACK_FEE_PER_GAS());
        extra = uint96(bound(extra, 0, 1_000 ether));
        _setParams(500, rate);
        uint256 modelId = _registerModel(3 ether, gas);
        uint256 fee = d.jobs.minimumFeeWithCallback(3 ether, gas) + extra;
        uint256 jobId = _request(_consumerRequest(modelId, address(consumer), gas, fee));
        path = uint8(bound(path, 0, 3));
        (uint256[] memory before, ) = _pulls();
        uint256 slashed;
        if (path == 0) {
            vm.prank(REQUESTER);
            d.jobs.cancel(jobId, _terms[jobId]);
        } else if (path == 1) {
            vm.warp(block.timestamp + 2 hours + 1);
            d.jobs.expire(jobId, _terms[jobId]);
        } else if (path == 2) {
            _claim(jobId);
            vm.warp(block.timestamp + 2 hours + 1);
            uint256 stakedBefore = d.staking.stakeOf(WORKER).staked;
            d.jobs.expire(jobId, _terms[jobId]);
            slashed = stakedBefore - d.staking.stakeOf(WORKER).staked;
        } else {
            _claim(jobId);
            _submit(jobId, 3);
            d.jobs.freezeForDispute(jobId, _terms[jobId], TestData.commitOneChunk(_outputs[jobId]));
            d.jobs.settleDispute(jobId, false, 0);
        }
        (uint256[] memory afterwards, ) = _pulls();
        for (uint256 i = 0; i < accounts.length; ++i) {
            uint256 want = accounts[i] == REQUESTER ? fee + slashed : 0;
            assertEq(afterwards[i] - before[i], want, "a refund credited a wrong amount");
        }
        if (path == 3) {
            vm.warp(block.timestamp + 1 hours);
            vm.prank(KEEPER);
            vm.expectRevert(abi.encodeWithSelector(IJobManager.JobManagerWrongStatus.selector, jobId, IJobManager.JobStatus.Rejected));
            d.jobs.finalizeWithCallback(jobId, _terms[jobId], _outputs[jobId]);
        }
        _checkEscrow(modelId);
    }

    // ------------------------------------------------------------ the bytes passed back

    /// @notice finalizeWithCallback and retryCallback take only the job's own output bytes: any other
    /// bytes of the right length are refused with their commitment, any other length (a trailing
    /// zero element keeps the commitment) by the length rule, and the refused call changes nothing;
    /// a consumer job's finalize names finalizeWithCallback.
    function testFuzz_onlyTheSubmittedBytesFinalize(uint32 value, uint32 other, uint256 extraWords) public {
        vm.assume(value != other);
        uint256 modelId = _registerModel(1 ether, 1);
        uint256 jobId = _request(_consumerRequest(modelId, address(consumer), 100_000, 100 ether));
        _claim(jobId);
        _submit(jobId, value);
        vm.warp(block.timestamp + 1 hours);
        IJobManager.JobTerms memory t = _terms[jobId];
        IJobManager.Job memory before = d.jobs.getJob(jobId);
        (, uint256 pullsBefore) = _pulls();

        bytes memory wrong = TestData.tensor4(other);
        // Commitments first: the sha256 precompile would take a prank or an expected revert.
        bytes32 wrongCommitment = TestData.commitOneChunk(wrong);
        bytes32 rightCommitment = TestData.commitOneChunk(_outputs[jobId]);
        vm.expectRevert(abi.encodeWithSelector(IJobManager.JobManagerOutputMismatch.selector, jobId, wrongCommitment));
        d.jobs.finalizeWithCallback(jobId, t, wrong);
        bytes memory longer = abi.encodePacked(_outputs[jobId], new bytes(4 * bound(extraWords, 1, 300)));
        vm.expectRevert(abi.encodeWithSelector(IJobManager.JobManagerOutputSizeMismatch.selector, 4, longer.length));
        d.jobs.finalizeWithCallback(jobId, t, longer);
        vm.expectRevert(abi.encodeWithSelector(IJobManager.JobManagerUseFinalizeWithCallback.selector, jobId));
        d.jobs.finalize(jobId, t, rightCommitment);

        IJobManager.Job memory now_ = d.jobs.getJob(jobId);
        assertTrue(now_.status == before.status && now_.commitment == before.commitment, "a refused call changed the job");
        (, uint256 pullsAfter) = _pulls();
        assertEq(pullsAfter, pullsBefore, "a refused call credited");
        assertEq(consumer.delivered(), 0, "a refused call reached the consumer");

        d.jobs.finalizeWithCallback(jobId, t, _outputs[jobId]);
        assertEq(consumer.delivered(), jobId, "not delivered");
        // A retry is for failed callbacks only, by the consumer, with the same bytes.
        vm.prank(address(consumer));
        vm.expectRevert(abi.encodeWithSelector(IJobManager.JobManagerNoFailedCallback.selector, jobId, address(consumer)));
        d.jobs.retryCallback(jobId, t, _outputs[jobId], 100_000);
        vm.prank(address(consumer));
        vm.expectRevert(abi.encodeWithSelector(IJobManager.JobManagerOutputMismatch.selector, jobId, wrongCommitment));
        d.jobs.retryCallback(jobId, t, wrong, 100_000);
    }
}
