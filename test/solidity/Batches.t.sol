// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {FeeSplit} from "../../contracts/libraries/FeeSplit.sol";
import {BatchCommitment} from "../../contracts/libraries/BatchCommitment.sol";
import {TensorCommitment} from "../../contracts/libraries/TensorCommitment.sol";
import {IJobManager} from "../../contracts/interfaces/IJobManager.sol";
import {IDisputeGameFactory} from "../../contracts/interfaces/IDisputeGameFactory.sol";
import {IInferenceConsumer} from "../../contracts/interfaces/IInferenceConsumer.sol";
import {IModelRegistry} from "../../contracts/interfaces/IModelRegistry.sol";
import {DisputeGame} from "../../contracts/disputes/DisputeGame.sol";
import {GameStatus, Side} from "../../contracts/disputes/lib/Types.sol";
import {
    DisputeGameFactoryBatchInputMismatch,
    DisputeGameFactoryBatchItemCount,
    DisputeGameFactoryBatchOutputMismatch,
    DisputeGameFactoryItemOutOfRange
} from "../../contracts/disputes/lib/DisputeErrors.sol";

import {Test} from "./utils/Test.sol";
import {Vm} from "./utils/Vm.sol";
import {TestData, Terms, Deployment, Deployer} from "./utils/Protocol.sol";
import {DisputeFixture} from "./utils/Disputes.sol";

/// @dev The library takes calldata, so it is exercised through an external call.
contract BatchCommitmentHarness {
    function root(bytes calldata data, uint256 items) external view returns (bytes32) {
        return BatchCommitment.root(data, items);
    }

    function ofItems(bytes32[] calldata items) external pure returns (bytes32) {
        return BatchCommitment.ofItems(items);
    }

    function tensorRoot(bytes calldata data) external view returns (bytes32) {
        return TensorCommitment.root(data);
    }
}

/// @notice docs/SEMANTICS.md "Batch commitment": one item commits as a single tensor; more commit as
/// keccak256 over their tensor commitments, in order, whatever the items' size (several chunks too).
contract BatchCommitmentTest is Test {
    BatchCommitmentHarness private harness;

    function setUp() public {
        harness = new BatchCommitmentHarness();
    }

    function _random(uint256 seed, uint256 length) private pure returns (bytes memory data) {
        data = new bytes(length);
        for (uint256 i = 0; i < length; ++i) data[i] = bytes1(uint8(uint256(keccak256(abi.encode(seed, i)))));
    }

    function _slice(bytes memory data, uint256 start, uint256 length) private pure returns (bytes memory out) {
        out = new bytes(length);
        for (uint256 i = 0; i < length; ++i) out[i] = data[start + i];
    }

    /// @notice A batch of one is the item's tensor commitment, from the bytes and from the list.
    function testFuzz_oneItemIsItsTensorCommitment(uint256 elementsSeed, uint256 dataSeed) public view {
        bytes memory data = _random(dataSeed, bound(elementsSeed, 1, 700) * 4);
        bytes32 tensor = harness.tensorRoot(data);
        assertEq(harness.root(data, 1), tensor, "root of one item != its tensor commitment");
        bytes32[] memory one = new bytes32[](1);
        one[0] = tensor;
        assertEq(harness.ofItems(one), tensor, "list of one != its item");
    }

    /// @notice More items: keccak256 of the items' tensor commitments, from the bytes and from the list
    /// alike (items of up to two chunks, so that the memory the library reuses is exercised).
    function testFuzz_itemsCommitAsKeccakOfTheirTensorCommitments(uint256 nSeed, uint256 elementsSeed, uint256 dataSeed) public view {
        uint256 n = bound(nSeed, 2, 8);
        uint256 itemBytes = bound(elementsSeed, 1, 320) * 4;
        bytes memory data = _random(dataSeed, n * itemBytes);
        bytes32[] memory items = new bytes32[](n);
        for (uint256 i = 0; i < n; ++i) items[i] = harness.tensorRoot(_slice(data, i * itemBytes, itemBytes));
        bytes32 expected = keccak256(abi.encodePacked(items));
        assertEq(harness.root(data, n), expected, "root of the bytes != keccak of the item commitments");
        assertEq(harness.ofItems(items), expected, "root of the list != keccak of the item commitments");
        assertTrue(expected != harness.tensorRoot(data), "a batch commits like the concatenation as one tensor");
    }

    /// @notice The order of the items is bound: swapping two different items changes the commitment.
    function testFuzz_itemOrderIsBound(uint256 nSeed, uint256 a, uint256 b, uint256 dataSeed) public view {
        uint256 n = bound(nSeed, 2, 6);
        a = bound(a, 0, n - 1);
        b = bound(b, 0, n - 1);
        vm.assume(a != b);
        bytes memory data = _random(dataSeed, n * 8);
        bytes memory swapped = bytes.concat(data);
        for (uint256 k = 0; k < 8; ++k) (swapped[a * 8 + k], swapped[b * 8 + k]) = (data[b * 8 + k], data[a * 8 + k]);
        vm.assume(keccak256(_slice(data, a * 8, 8)) != keccak256(_slice(data, b * 8, 8)));
        assertTrue(harness.root(data, n) != harness.root(swapped, n), "swapping items kept the commitment");
    }
}

/// @notice A consumer that records what its callback received.
contract BatchConsumer is IInferenceConsumer {
    bytes32 public outputHash;
    uint256 public outputLength;

    function approve(IJobManager jobs, address requester) external {
        jobs.setRequesterApproval(requester, true);
    }

    function onInferenceResult(uint256, bytes calldata output) external {
        outputHash = keccak256(output);
        outputLength = output.length;
    }
}

/**
 * @notice Fuzz tests of batch jobs (issue 14, deliverable 6) in the escrow: a batch's least fee is
 * the least fee of `batchSize` times the price; it pays out like one job (the model accrues
 * `batchSize` prices), refunds its whole fee on every failure path, and keeps the escrow's tokens
 * conserved; a batch of one is exactly a single job; sizes, lengths and commitments are checked.
 * This contract owns the escrow and staking and acts as the dispute manager.
 */
contract BatchJobsFuzzTest is Test {
    uint256 private constant MIN_STAKE = 100 ether;

    address private constant TREASURY = address(0x7EA5);
    address private constant DEV = address(0xDE5);
    address private constant REQUESTER = address(0x4E0);
    address private constant WORKER = address(0x3012);
    address private constant KEEPER = address(0x6EE9);

    Deployment private d;
    BatchConsumer private consumer;
    address[] private accounts;

    function setUp() public {
        d = Deployer.deploy(TREASURY, MIN_STAKE, 1 days);
        // This contract judges the disputes (the refund-by-rejection path).
        d.jobs.setDisputeManager(address(this));
        accounts.push(DEV);
        accounts.push(WORKER);
        accounts.push(TREASURY);
        accounts.push(REQUESTER);
        accounts.push(KEEPER);
        d.token.transfer(REQUESTER, Deployer.SUPPLY / 4);
        d.token.transfer(WORKER, Deployer.SUPPLY / 4);
        vm.prank(REQUESTER);
        d.token.approve(address(d.jobs), type(uint256).max);
        vm.startPrank(WORKER);
        d.token.approve(address(d.staking), type(uint256).max);
        d.staking.stake(Deployer.SUPPLY / 8);
        vm.stopPrank();
        consumer = new BatchConsumer();
        consumer.approve(d.jobs, REQUESTER);
    }

    // ------------------------------------------------------------ helpers

    function _model(uint96 price) private returns (uint256 modelId) {
        IModelRegistry.Contributor[] memory contributors = new IModelRegistry.Contributor[](1);
        contributors[0] = IModelRegistry.Contributor({account: KEEPER, bps: 2_500});
        vm.prank(DEV);
        modelId = d.registry.registerModel(TestData.tinyModel(price, 7_500, contributors, price));
    }

    function _setFeeBps(uint16 protocolFeeBps) private {
        IJobManager.Params memory p = Deployer.defaultParams(TREASURY);
        p.protocolFeeBps = protocolFeeBps;
        d.jobs.setParams(p);
    }

    function _params(uint256 modelId, uint256 n, uint32 first, uint256 fee) private view returns (IJobManager.RequestParams memory) {
        return TestData.request(modelId, TestData.batch4(first, n), fee, block.timestamp + 1 hours);
    }

    /// @dev Requests `p` as a batch of `n`; checks the stored job and returns its terms.
    function _requestBatch(IJobManager.RequestParams memory p, uint256 n) private returns (uint256 jobId, IJobManager.JobTerms memory t) {
        t = Terms.expectedBatch(d.jobs, d.registry, REQUESTER, p, n);
        vm.prank(REQUESTER);
        jobId = d.jobs.requestBatch(p, n);
        IJobManager.Job memory job = d.jobs.getJob(jobId);
        assertEq(job.commitment, d.jobs.termsHash(t), "the batch stores another terms hash");
        assertEq(job.batchSize, n, "the batch stores another size");
        assertTrue(job.status == IJobManager.JobStatus.Open, "the batch is not open");
    }

    function _claim(uint256 jobId, IJobManager.JobTerms memory t) private {
        vm.prank(WORKER);
        d.jobs.claim(jobId, t);
    }

    /// @dev Submits `n` outputs (`first`, `first + 1`, …); returns the bytes and their commitment.
    function _submit(uint256 jobId, IJobManager.JobTerms memory t, uint256 n, uint32 first) private returns (bytes memory output, bytes32 commitment) {
        output = TestData.batch4(first, n);
        commitment = TestData.batchCommitment(output, n);
        vm.prank(WORKER);
        d.jobs.submitResult(jobId, t, output, commitment);
    }

    function _pulls() private view returns (uint256 total) {
        for (uint256 i = 0; i < accounts.length; ++i) total += d.jobs.balanceOf(accounts[i]);
    }

    /// @dev The escrow holds exactly the unsettled fees, the pull balances and the model's accruals.
    function _checkEscrow(uint256 modelId, uint256 unsettled) private view {
        assertEq(
            d.token.balanceOf(address(d.jobs)),
            unsettled + _pulls() + d.jobs.modelEarnings(modelId) + d.jobs.protocolFees(modelId),
            "escrow != unsettled fees + pull balances + accruals"
        );
    }

    // ------------------------------------------------------------ fees

    /// @notice The least fee of a batch is `minimumFee(batchSize × price)`: it is accepted (the terms'
    /// modelFee is batchSize × price), one wei less is refused with that minimum, and so is a single
    /// job's least fee for a batch of more than one input of a priced model.
    function testFuzz_leastFeeIsTheMinimumOfBatchSizeTimesPrice(uint96 price, uint16 protocolFeeBps, uint256 nSeed) public {
        price = uint96(bound(price, 0, 1_000_000 ether));
        protocolFeeBps = uint16(bound(protocolFeeBps, 0, 2_000));
        uint256 n = bound(nSeed, 1, d.jobs.MAX_BATCH_SIZE());
        _setFeeBps(protocolFeeBps);
        uint256 modelId = _model(price);
        uint256 minimum = d.jobs.minimumFee(uint256(price) * n);
        if (uint256(price) * n < 100_000) assertEq(minimum, TestData.minimumFeeBySearch(uint256(price) * n, protocolFeeBps), "not the least");
        if (minimum != 0) {
            vm.prank(REQUESTER);
            vm.expectRevert(abi.encodeWithSelector(IJobManager.JobManagerInsufficientFee.selector, minimum - 1, minimum));
            d.jobs.requestBatch(_params(modelId, n, 1, minimum - 1), n);
        }
        uint256 single = d.jobs.minimumFee(price);
        if (n > 1 && price != 0) {
            vm.prank(REQUESTER);
            vm.expectRevert(abi.encodeWithSelector(IJobManager.JobManagerInsufficientFee.selector, single, minimum));
            d.jobs.requestBatch(_params(modelId, n, 1, single), n);
        }
        (, IJobManager.JobTerms memory t) = _requestBatch(_params(modelId, n, 1, minimum), n);
        assertEq(t.modelFee, uint256(price) * n, "modelFee != batch size x price");
        assertEq(t.outputElements, 1, "outputElements is not one item's");
    }

    /// @notice A batch settles as one job: the worker gets the fee less batchSize × price and the
    /// protocol fee, the model accrues batchSize × price (split exactly among its payees), the lock is
    /// released, and the escrow's tokens stay accounted for at every step.
    function testFuzz_batchPaysOutLikeOneJob(uint96 price, uint16 protocolFeeBps, uint256 nSeed, uint96 extra, uint32 first) public {
        price = uint96(bound(price, 0, 10_000 ether));
        protocolFeeBps = uint16(bound(protocolFeeBps, 0, 2_000));
        uint256 n = bound(nSeed, 1, d.jobs.MAX_BATCH_SIZE());
        extra = uint96(bound(extra, 0, 1_000 ether));
        _setFeeBps(protocolFeeBps);
        uint256 modelId = _model(price);
        uint256 fee = d.jobs.minimumFee(uint256(price) * n) + extra;
        (uint256 jobId, IJobManager.JobTerms memory t) = _requestBatch(_params(modelId, n, first, fee), n);
        _checkEscrow(modelId, fee);
        uint256 lockedBefore = d.staking.stakeOf(WORKER).locked;
        _claim(jobId, t);
        assertEq(d.staking.stakeOf(WORKER).locked, lockedBefore + t.lock, "a batch locks another amount");
        (, bytes32 commitment) = _submit(jobId, t, n, first);
        vm.warp(block.timestamp + 1 hours);
        d.jobs.finalize(jobId, t, commitment);
        assertEq(d.staking.stakeOf(WORKER).locked, lockedBefore, "the lock was not released");
        _checkPayout(modelId, fee, uint256(price) * n, protocolFeeBps);
    }

    /// @dev After finalizing a job of `fee` whose model fee is `modelFee`: the worker's part, the
    /// model's accruals, and their exact distribution; the escrow accounted for throughout.
    function _checkPayout(uint256 modelId, uint256 fee, uint256 modelFee, uint16 protocolFeeBps) private {
        uint256 protocolFee = FeeSplit.share(fee, protocolFeeBps);
        assertEq(d.jobs.balanceOf(WORKER), fee - protocolFee - modelFee, "worker paid != fee - batch price - protocol fee");
        assertEq(d.jobs.modelEarnings(modelId), modelFee, "model accrued != batch size x price");
        assertEq(d.jobs.protocolFees(modelId), protocolFee, "protocol fee != share of the fee");
        _checkEscrow(modelId, 0);
        if (modelFee == 0) return;
        d.jobs.distributeModelEarnings(modelId);
        uint256 contributor = FeeSplit.share(modelFee, 2_500);
        assertEq(d.jobs.balanceOf(KEEPER), contributor, "contributor share");
        assertEq(d.jobs.balanceOf(DEV), modelFee - contributor, "owner share");
        _checkEscrow(modelId, 0);
    }

    /// @notice Every way a batch ends without a result gives the requester its whole fee back
    /// (cancel, expiry of an open batch, a late worker past the deadline, whose slash it gets too,
    /// and a rejection by a dispute, which slashes the worker's whole lock), and accrues nothing.
    function testFuzz_batchRefundsTheWholeFee(uint8 path, uint256 nSeed, uint96 extra) public {
        uint256 n = bound(nSeed, 1, d.jobs.MAX_BATCH_SIZE());
        extra = uint96(bound(extra, 0, 1_000 ether));
        path = uint8(bound(path, 0, 3));
        uint256 modelId = _model(2 ether);
        uint256 fee = d.jobs.minimumFee(2 ether * n) + extra;
        (uint256 jobId, IJobManager.JobTerms memory t) = _requestBatch(_params(modelId, n, 5, fee), n);
        uint256 refund = fee;
        uint256 stakedBefore = d.staking.stakeOf(WORKER).staked;
        if (path == 0) {
            vm.prank(REQUESTER);
            d.jobs.cancel(jobId, t);
        } else if (path == 1) {
            vm.warp(t.deadline + 1);
            d.jobs.expire(jobId, t);
        } else if (path == 2) {
            _claim(jobId, t);
            vm.warp(t.deadline + 1);
            d.jobs.expire(jobId, t);
            refund += FeeSplit.share(t.lock, Deployer.defaultParams(TREASURY).timeoutSlashBps);
        } else {
            _claim(jobId, t);
            (, bytes32 commitment) = _submit(jobId, t, n, 9);
            d.jobs.freezeForDispute(jobId, t, commitment);
            assertEq(d.jobs.settleDispute(jobId, false, type(uint256).max), t.lock, "rejection slashed != lock");
            assertEq(d.staking.stakeOf(WORKER).staked, stakedBefore - t.lock, "worker's stake not slashed by the lock");
        }
        assertEq(d.jobs.balanceOf(REQUESTER), refund, "requester not refunded the whole fee");
        assertEq(d.jobs.modelEarnings(modelId) + d.jobs.protocolFees(modelId), 0, "a failed batch accrued");
        assertEq(d.staking.stakeOf(WORKER).locked, 0, "a lock stayed");
        _checkEscrow(modelId, 0);
    }

    /// @notice `requestBatch(p, 1)` makes exactly the job `requestInference(p)` makes: the same terms
    /// (hash), the same stored job, the same events (but the job id), and the same result hash for
    /// the same output.
    function testFuzz_batchOfOneIsASingleJob(uint96 price, uint32 input, uint32 output, uint96 extra) public {
        price = uint96(bound(price, 0, 10_000 ether));
        uint256 modelId = _model(price);
        uint256 fee = d.jobs.minimumFee(price) + bound(extra, 0, 1_000 ether);
        IJobManager.RequestParams memory p = _params(modelId, 1, input, fee);

        vm.recordLogs();
        vm.prank(REQUESTER);
        uint256 single = d.jobs.requestInference(p);
        Vm.Log[] memory singleLogs = vm.getRecordedLogs();
        vm.recordLogs();
        vm.prank(REQUESTER);
        uint256 batch = d.jobs.requestBatch(p, 1);
        Vm.Log[] memory batchLogs = vm.getRecordedLogs();

        IJobManager.Job memory a = d.jobs.getJob(single);
        IJobManager.Job memory b = d.jobs.getJob(batch);
        assertEq(b.commitment, a.commitment, "other terms");
        assertEq(b.batchSize, 1, "batch size of a batch of one");
        assertEq(a.batchSize, 1, "batch size of a single job");
        assertTrue(a.status == b.status && a.timer == b.timer && a.worker == b.worker, "other stored job");
        assertEq(batchLogs.length, singleLogs.length, "other number of events");
        for (uint256 i = 0; i < singleLogs.length; ++i) {
            Vm.Log memory l = singleLogs[i];
            assertEq(batchLogs[i].emitter, l.emitter, "other emitter");
            assertEq(keccak256(batchLogs[i].data), keccak256(l.data), "other event data");
            assertEq(batchLogs[i].topics.length, l.topics.length, "other topics");
            // JobRequested's first indexed argument is the job id; nothing else differs.
            bool requested = l.emitter == address(d.jobs) && l.topics[0] == IJobManager.JobRequested.selector;
            for (uint256 k = 0; k < l.topics.length; ++k) {
                assertEq(batchLogs[i].topics[k], requested && k == 1 ? bytes32(batch) : l.topics[k], "other topic");
            }
        }

        IJobManager.JobTerms memory t = Terms.expected(d.jobs, d.registry, REQUESTER, p);
        _claim(single, t);
        _claim(batch, t);
        _submit(single, t, 1, output);
        _submit(batch, t, 1, output);
        assertEq(d.jobs.getJob(batch).commitment, d.jobs.getJob(single).commitment, "other result hash");
    }

    // ------------------------------------------------------------ sizes and lengths

    /// @notice A batch carries 1 to MAX_BATCH_SIZE inputs: 0 and more are refused with the bounds,
    /// the largest is accepted.
    function testFuzz_batchSizeBounds(uint256 tooMany) public {
        uint256 max = d.jobs.MAX_BATCH_SIZE();
        assertEq(max, 64, "MAX_BATCH_SIZE");
        tooMany = bound(tooMany, max + 1, type(uint256).max);
        uint256 modelId = _model(1 ether);
        uint256 fee = d.jobs.minimumFee(1 ether * max);
        vm.startPrank(REQUESTER);
        vm.expectRevert(abi.encodeWithSelector(IJobManager.JobManagerInvalidBatchSize.selector, 0, max));
        d.jobs.requestBatch(_params(modelId, 1, 1, fee), 0);
        vm.expectRevert(abi.encodeWithSelector(IJobManager.JobManagerInvalidBatchSize.selector, tooMany, max));
        d.jobs.requestBatch(_params(modelId, 1, 1, fee), tooMany);
        vm.stopPrank();
        _requestBatch(_params(modelId, max, 1, fee), max);
    }

    /// @notice An inline batch must hold exactly batchSize inputs of the model's size (4 bytes here),
    /// and its output exactly batchSize outputs, committed item by item: a missing or extra element,
    /// or the commitment of the concatenation as one tensor, is refused (submission and finalization
    /// with the bytes alike). A batch by URI takes the requester's batch commitment as given.
    function testFuzz_lengthsAndCommitmentsAreBatchSized(uint256 nSeed, bool extraElement, uint32 first) public {
        uint256 n = bound(nSeed, 2, 16);
        uint256 modelId = _model(1 ether);
        uint256 fee = d.jobs.minimumFee(1 ether * n);
        IJobManager.RequestParams memory p = _params(modelId, n, first, fee);
        p.input = extraElement ? TestData.batch4(first, n + 1) : TestData.batch4(first, n - 1);
        vm.prank(REQUESTER);
        vm.expectRevert(abi.encodeWithSelector(IJobManager.JobManagerInputSizeMismatch.selector, 4 * n, p.input.length));
        d.jobs.requestBatch(p, n);

        // By URI, the batch commitment is the requester's (workers check the fetched items against it).
        p.input = "";
        p.inputURI = "ipfs://batch";
        p.inputCommitment = TestData.batchCommitment(TestData.batch4(first, n), n);
        vm.prank(REQUESTER);
        uint256 byUri = d.jobs.requestBatch(p, n);
        assertEq(d.jobs.getJob(byUri).batchSize, n, "a URI batch stores another size");
        _checkOutputs(modelId, n, extraElement, first);
    }

    /// @dev The output half of {testFuzz_lengthsAndCommitmentsAreBatchSized}.
    function _checkOutputs(uint256 modelId, uint256 n, bool extraElement, uint32 first) private {
        uint256 fee = d.jobs.minimumFee(1 ether * n);
        (uint256 jobId, IJobManager.JobTerms memory t) = _requestBatch(_params(modelId, n, first, fee), n);
        _claim(jobId, t);
        bytes memory output = TestData.batch4(first, extraElement ? n + 1 : n - 1);
        // Computed before expectRevert: sha256 is a call, which the expectation would take.
        bytes32 commitment = TestData.batchCommitment(output, output.length / 4);
        vm.prank(WORKER);
        vm.expectRevert(abi.encodeWithSelector(IJobManager.JobManagerOutputSizeMismatch.selector, 4 * n, output.length));
        d.jobs.submitResult(jobId, t, output, commitment);
        output = TestData.batch4(first, n);
        bytes32 asOneTensor = TestData.commitOneChunk(output);
        commitment = TestData.batchCommitment(output, n);
        vm.prank(WORKER);
        vm.expectRevert(abi.encodeWithSelector(IJobManager.JobManagerOutputCommitmentMismatch.selector, asOneTensor, commitment));
        d.jobs.submitResult(jobId, t, output, asOneTensor);
        _submit(jobId, t, n, first);
        _checkFinalOutput(jobId, t, n, first);
    }

    /// @dev Finalizing submitted batch `jobId` (outputs `first`…) takes its whole output, which is then
    /// its final output, and nothing else is.
    function _checkFinalOutput(uint256 jobId, IJobManager.JobTerms memory t, uint256 n, uint32 first) private {
        bytes memory output = TestData.batch4(first, n);
        vm.warp(block.timestamp + 1 hours);
        bytes memory oneItem = TestData.batch4(first, 1);
        vm.expectRevert(abi.encodeWithSelector(IJobManager.JobManagerOutputSizeMismatch.selector, 4 * n, 4));
        d.jobs.finalizeWithCallback(jobId, t, oneItem);
        assertFalse(d.jobs.isFinalOutput(jobId, t, output), "final before finalization");
        d.jobs.finalizeWithCallback(jobId, t, output);
        assertTrue(d.jobs.isFinalOutput(jobId, t, output), "the batch's output is not final");
        assertFalse(d.jobs.isFinalOutput(jobId, t, oneItem), "one item alone is final");
        assertFalse(d.jobs.isFinalOutput(jobId, t, TestData.batch4(first ^ 1, n)), "other outputs are final");
    }

    /// @notice A consumer's batch: the fee covers batchSize prices plus the callback fee once, the
    /// callback gets the items' outputs concatenated, and whoever finalizes gets the callback fee.
    function testFuzz_consumerGetsTheConcatenatedOutputs(uint256 nSeed, uint256 gas, uint32 first) public {
        uint256 n = bound(nSeed, 1, 32);
        gas = bound(gas, 80_000, 200_000);
        uint256 modelId = _model(1 ether);
        uint256 rate = Deployer.defaultParams(TREASURY).callbackFeePerGas;
        uint256 minimum = d.jobs.minimumFeeWithCallback(1 ether * n, gas);
        IJobManager.RequestParams memory p = _params(modelId, n, first, minimum);
        p.consumer = address(consumer);
        p.callbackGasLimit = uint32(gas);
        if (minimum != 0) {
            p.fee = minimum - 1;
            vm.prank(REQUESTER);
            vm.expectRevert(abi.encodeWithSelector(IJobManager.JobManagerInsufficientFee.selector, minimum - 1, minimum));
            d.jobs.requestBatch(p, n);
            p.fee = minimum;
        }
        (uint256 jobId, IJobManager.JobTerms memory t) = _requestBatch(p, n);
        assertEq(d.jobs.callbackFee(t), gas * rate, "a batch's callback fee is not the job's");
        _claim(jobId, t);
        (bytes memory output, ) = _submit(jobId, t, n, first);
        vm.warp(block.timestamp + 1 hours);
        vm.prank(KEEPER);
        d.jobs.finalizeWithCallback{gas: gas + 400_000}(jobId, t, output);
        assertEq(consumer.outputHash(), keccak256(output), "the callback got other bytes");
        assertEq(consumer.outputLength(), 4 * n, "the callback got another length");
        assertEq(d.jobs.balanceOf(KEEPER), gas * rate, "the finalizer was not paid the callback fee");
        assertTrue(d.jobs.getJob(jobId).callback == IJobManager.CallbackStatus.Delivered, "callback not delivered");
    }
}

/**
 * @notice Disputes on one item of a batch (real {DisputeGame} clones with the stand-in verifier):
 * the game is about that item's input and output; proving it wrong rejects the whole batch (the
 * whole fee refunded, the worker's lock slashed); an honest item beats its challenger and the batch
 * finalizes; lists that do not open the job's batch commitments, and items out of range, are refused.
 */
contract BatchDisputesTest is DisputeFixture {
    uint256 private constant N = 3;
    address private constant MISTAKEN = address(0x0D0D0);

    /// @dev A submitted batch and what a challenger passes back.
    struct Batch {
        uint256 id;
        IJobManager.JobTerms terms;
        bytes32 output;
        bytes32[] inputItems;
        bytes32[] outputItems;
    }

    /// @dev A batch of inputs 7, 8, 9, claimed by the rogue, which submits `outputs`.
    function _batch(uint32[N] memory outputs) private returns (Batch memory b) {
        IJobManager.RequestParams memory p = TestData.request(modelId, TestData.batch4(7, N), FEE, block.timestamp + 2 hours);
        b.terms = Terms.expectedBatch(d.jobs, d.registry, REQUESTER, p, N);
        vm.prank(REQUESTER);
        b.id = d.jobs.requestBatch(p, N);
        _claim(b.id, b.terms);
        bytes memory output;
        for (uint256 i = 0; i < N; ++i) output = bytes.concat(output, TestData.tensor4(outputs[i]));
        b.output = TestData.batchCommitment(output, N);
        b.inputItems = TestData.itemCommitments(p.input, N);
        b.outputItems = TestData.itemCommitments(output, N);
        assertEq(keccak256(abi.encodePacked(b.inputItems)), b.terms.inputCommitment, "the input items do not open the terms");
        vm.prank(ROGUE);
        d.jobs.submitResult(b.id, b.terms, output, b.output);
    }

    /// @dev Item `item` of `b` as the fixture's one-layer helpers see a job: its input and output.
    function _itemCase(Batch memory b, uint256 item) private pure returns (Case memory c) {
        c.id = b.id;
        // A copy: the fixture's helpers read the item's input from the terms, the batch keeps its own.
        c.terms = abi.decode(abi.encode(b.terms), (IJobManager.JobTerms));
        c.terms.inputCommitment = b.inputItems[item];
        c.output = b.outputItems[item];
    }

    function _openParams(Batch memory b, uint256 item, Claim memory claim, bytes32 salt) private view returns (IDisputeGameFactory.OpenParams memory o) {
        o.terms = b.terms;
        o.outputCommitment = b.output;
        o.challengerRoot = claim.root;
        o.header = header;
        o.headerProof = headerProof;
        o.outputLeaf = claim.outputLeaf;
        o.outputProof = claim.outputProof;
        o.salt = salt;
        o.item = item;
        o.inputItems = b.inputItems;
        o.outputItems = b.outputItems;
    }

    /// @dev Commits `who` to `claim` on `b` and moves to the next block.
    function _commitOn(address who, Batch memory b, Claim memory claim, bytes32 salt) private {
        vm.prank(who);
        factory.commitDispute(keccak256(abi.encode(b.id, who, claim.root, claim.outputLeaf, salt)));
        vm.roll(block.number + 1);
    }

    function _openItem(address who, Batch memory b, uint256 item, Claim memory claim, bytes32 salt) private returns (DisputeGame) {
        _commitOn(who, b, claim, salt);
        IDisputeGameFactory.OpenParams memory o = _openParams(b, item, claim, salt);
        vm.prank(who);
        return DisputeGame(factory.openDispute(b.id, o));
    }

    /// @dev The game's input and output commitments.
    function _gameItem(DisputeGame g) private view returns (bytes32 input, bytes32 output) {
        (, , , , input, output, , , , , , ) = g.config();
    }

    /// @notice The rogue forges item 1 of 3; the honest challenger disputes that item and proves it
    /// wrong: the whole batch is rejected, its whole fee refunded, the rogue's lock slashed, and the
    /// challenger paid its bond and reward.
    function test_forgedItemRejectsTheWholeBatch() public {
        Batch memory b = _batch([TRUE_OUTPUT, WRONG_OUTPUT, TRUE_OUTPUT]);
        uint256 stakedBefore = d.staking.stakeOf(ROGUE).staked;
        Case memory c = _itemCase(b, 1);
        DisputeGame g = _openItem(HONEST, b, 1, _honestClaim(c), "honest");
        (bytes32 input, bytes32 output) = _gameItem(g);
        assertEq(input, b.inputItems[1], "the game is not about item 1's input");
        assertEq(output, b.outputItems[1], "the game is not about item 1's output");

        _playToStep(g, c, HONEST);
        _step(g);
        assertTrue(g.status() == GameStatus.ChallengerWins, "the forged item was not proven wrong");
        assertTrue(d.jobs.getJob(b.id).status == IJobManager.JobStatus.Rejected, "the batch was not rejected");
        assertEq(d.jobs.balanceOf(REQUESTER), FEE, "the requester did not get the whole fee back");
        assertEq(d.staking.stakeOf(ROGUE).staked, stakedBefore - b.terms.lock, "the rogue's lock was not slashed");
        assertEq(d.staking.stakeOf(ROGUE).locked, 0, "a lock stayed");
        uint256 reward = (uint256(b.terms.lock) * CHALLENGER_BPS) / 10_000;
        assertEq(factory.balanceOf(HONEST), BOND + reward, "challenger paid != bond + reward");
        vm.expectRevert(abi.encodeWithSelector(IJobManager.JobManagerWrongStatus.selector, b.id, IJobManager.JobStatus.Rejected));
        d.jobs.finalize(b.id, b.terms, b.output);
    }

    /// @notice Every item right: a challenger that claims another output for item 0 loses the game,
    /// the batch finalizes after its window and pays the rogue as usual.
    function test_honestItemBeatsItsChallenger() public {
        _fund(MISTAKEN, 1_000 ether);
        _stake(MISTAKEN, MIN_STAKE);
        Batch memory b = _batch([TRUE_OUTPUT, TRUE_OUTPUT, TRUE_OUTPUT]);
        Case memory c = _itemCase(b, 0);
        DisputeGame g = _openItem(MISTAKEN, b, 0, _claimOf(c, 13), "mistaken");
        _postTrace(g, _leaves(c.terms.inputCommitment, 0), c.output);
        bytes32 wrong = TestData.commitOneChunk(TestData.tensor4(13));
        vm.prank(MISTAKEN);
        g.traceMove(c.terms.inputCommitment, wrong, "layer 1", new bytes32[](0));
        vm.prank(ROGUE);
        g.defendChunk(_chunk(TRUE_OUTPUT));
        vm.prank(MISTAKEN);
        g.challengeChunk(_chunk(TRUE_OUTPUT), _chunk(13));
        g.step(Side.Defender, abi.encode(int256(g.defenderValue())));
        assertTrue(g.status() == GameStatus.DefenderWins, "the honest item lost");
        assertTrue(d.jobs.getJob(b.id).status == IJobManager.JobStatus.Submitted, "the batch did not survive");

        vm.warp(block.timestamp + 1 hours);
        factory.closeDisputes(b.id);
        assertEq(factory.balanceOf(ROGUE), (uint256(BOND) * DEFENDER_BPS) / 10_000, "defender share of the bond");
        d.jobs.finalize(b.id, b.terms, b.output);
        assertTrue(d.jobs.getJob(b.id).status == IJobManager.JobStatus.Finalized, "the batch did not finalize");
        assertEq(d.jobs.balanceOf(REQUESTER), 0, "the requester was refunded a good batch");
    }

    /// @notice A challenger whose trace starts from another item's input loses at the input leaf: the
    /// game holds the disputed item's own input commitment.
    function test_anotherItemsInputLosesAtTheInputLeaf() public {
        Batch memory b = _batch([TRUE_OUTPUT, WRONG_OUTPUT, TRUE_OUTPUT]);
        // A trace of item 0's input to the true output, revealed against item 1.
        Claim memory claim = _claimOf(_itemCase(b, 0), TRUE_OUTPUT);
        DisputeGame g = _openItem(HONEST, b, 1, claim, "other input");
        Case memory c = _itemCase(b, 1);
        _postRoot(g, c);
        bytes32 trueOutput = TestData.commitOneChunk(TestData.tensor4(TRUE_OUTPUT));
        vm.prank(HONEST);
        g.traceMove(b.inputItems[0], trueOutput, "", new bytes32[](0));
        assertTrue(g.status() == GameStatus.DefenderWins, "a trace from another item's input won");
    }

    /// @notice Openings that do not name an item of the job, or whose lists do not open the job's
    /// batch commitments, are refused, each with its error (the freeze reverts with them).
    function test_badItemsAndListsAreRefused() public {
        Batch memory b = _batch([TRUE_OUTPUT, WRONG_OUTPUT, TRUE_OUTPUT]);
        Claim memory claim = _honestClaim(_itemCase(b, 1));
        _commitOn(HONEST, b, claim, "salt");

        IDisputeGameFactory.OpenParams memory o = _openParams(b, N, claim, "salt");
        _refused(b.id, o, abi.encodeWithSelector(DisputeGameFactoryItemOutOfRange.selector, N, N));

        o = _openParams(b, 1, claim, "salt");
        o.inputItems = new bytes32[](0);
        o.outputItems = new bytes32[](0);
        _refused(b.id, o, abi.encodeWithSelector(DisputeGameFactoryBatchItemCount.selector, N, 0, 0));

        o = _openParams(b, 1, claim, "salt");
        bytes32[] memory two = new bytes32[](2);
        (two[0], two[1]) = (b.inputItems[0], b.inputItems[1]);
        o.inputItems = two;
        _refused(b.id, o, abi.encodeWithSelector(DisputeGameFactoryBatchItemCount.selector, N, 2, N));

        o = _openParams(b, 1, claim, "salt");
        o.inputItems = _swapped(b.inputItems);
        _refused(
            b.id,
            o,
            abi.encodeWithSelector(DisputeGameFactoryBatchInputMismatch.selector, b.terms.inputCommitment, keccak256(abi.encodePacked(o.inputItems)))
        );

        // The challenger cannot claim the worker submitted the true output for the item.
        o = _openParams(b, 1, claim, "salt");
        o.outputItems = _copy(b.outputItems);
        o.outputItems[1] = claim.outputLeaf;
        _refused(
            b.id,
            o,
            abi.encodeWithSelector(DisputeGameFactoryBatchOutputMismatch.selector, b.output, keccak256(abi.encodePacked(o.outputItems)))
        );

        assertEq(d.jobs.getJob(b.id).openDisputes, 0, "a refused opening froze the batch");
        DisputeGame g = DisputeGame(_open(b.id, _openParams(b, 1, claim, "salt")));
        (bytes32 input, ) = _gameItem(g);
        assertEq(input, b.inputItems[1], "the good opening is about another item");
        assertEq(d.jobs.getJob(b.id).openDisputes, 1, "the good opening did not freeze the batch");
    }

    /// @notice A single job has one item: another item, or lists that do not have one entry each, are
    /// refused; lists of one entry (its own commitments) open the same game as none.
    function test_singleJobHasOneItem() public {
        Case memory c = _wrongJob();
        Claim memory claim = _honestClaim(c);
        _commit(HONEST, c, claim, "salt");
        vm.roll(block.number + 1);
        IDisputeGameFactory.OpenParams memory o = _openParams(c, claim, "salt");
        o.item = 1;
        _refused(c.id, o, abi.encodeWithSelector(DisputeGameFactoryItemOutOfRange.selector, 1, 1));
        o = _openParams(c, claim, "salt");
        o.inputItems = new bytes32[](2);
        o.outputItems = new bytes32[](2);
        _refused(c.id, o, abi.encodeWithSelector(DisputeGameFactoryBatchItemCount.selector, 1, 2, 2));
        o = _openParams(c, claim, "salt");
        o.inputItems = new bytes32[](1);
        o.outputItems = new bytes32[](1);
        o.inputItems[0] = c.terms.inputCommitment;
        o.outputItems[0] = c.output;
        DisputeGame g = DisputeGame(_open(c.id, o));
        (bytes32 input, bytes32 output) = _gameItem(g);
        assertEq(input, c.terms.inputCommitment, "a single job's game has another input");
        assertEq(output, c.output, "a single job's game has another output");
    }

    function _open(uint256 jobId, IDisputeGameFactory.OpenParams memory o) private returns (address) {
        vm.prank(HONEST);
        return factory.openDispute(jobId, o);
    }

    function _refused(uint256 jobId, IDisputeGameFactory.OpenParams memory o, bytes memory err) private {
        vm.prank(HONEST);
        vm.expectRevert(err);
        factory.openDispute(jobId, o);
    }

    function _copy(bytes32[] memory items) private pure returns (bytes32[] memory out) {
        out = new bytes32[](items.length);
        for (uint256 i = 0; i < items.length; ++i) out[i] = items[i];
    }

    function _swapped(bytes32[] memory items) private pure returns (bytes32[] memory out) {
        out = _copy(items);
        (out[0], out[1]) = (items[1], items[0]);
    }
}
