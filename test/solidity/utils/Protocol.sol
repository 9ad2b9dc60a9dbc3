// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

// Protocol builders of the Solidity tests. `Deployer` mirrors the wiring of the Ignition builders
// (ignition/modules/: Token, Staking, Jobs, and Protocol's escrow-as-operator step) as the
// TypeScript tests use it (ignition/modules/testing/TestProtocol.ts): the test contract owns
// Staking and the escrow and is the dispute manager. It is written out again here because Solidity
// tests run inside the EVM, where Ignition (TypeScript) cannot run; a change to the constructors or
// the wiring must be made in both places.

import {BPS} from "../../../contracts/libraries/FeeSplit.sol";
import {VeritensorToken} from "../../../contracts/token/VeritensorToken.sol";
import {ModelRegistry} from "../../../contracts/registry/ModelRegistry.sol";
import {Staking} from "../../../contracts/staking/Staking.sol";
import {JobManager} from "../../../contracts/jobs/JobManager.sol";
import {IWorkerRoster} from "../../../contracts/interfaces/IWorkerRoster.sol";
import {WorkerRoster} from "../../../contracts/assignment/WorkerRoster.sol";
import {AuditManager} from "../../../contracts/audits/AuditManager.sol";
import {IAuditManager} from "../../../contracts/interfaces/IAuditManager.sol";
import {IJobManager} from "../../../contracts/interfaces/IJobManager.sol";
import {IModelRegistry} from "../../../contracts/interfaces/IModelRegistry.sol";

/**
 * @title TestData
 * @notice Builders shared by the fuzz tests and the invariant handler: a 4-byte-in, 4-byte-out
 * model, random revenue splits, and the output commitment of a 4-byte output.
 */
library TestData {

    /// @notice Spec of a model with one int32 input and one int32 output.
    function tinyModel(
        uint96 price,
        uint16 developerBps,
        IModelRegistry.Contributor[] memory contributors,
        uint256 salt
    ) internal pure returns (IModelRegistry.ModelSpec memory spec) {
        uint32[] memory shape = new uint32[](1);
        shape[0] = 1;
        spec.contentHash = keccak256(abi.encode("content", salt));
        spec.graphCommitment = keccak256(abi.encode("graph", salt));
        spec.uri = "file://tiny.onnx";
        spec.inputShape = shape;
        spec.outputShape = shape;
        spec.inputScaleWad = 1e18;
        spec.outputScaleWad = 1e18;
        spec.price = price;
        spec.developerBps = developerBps;
        spec.contributors = contributors;
    }

    /// @notice A random split into `n` contributors (each at least 1 bp) drawn from `pool`
    /// (repeats allowed), the rest (possibly 0) to the developer. Always sums to 10000.
    function randomSplit(
        uint256 seed,
        uint256 n,
        address[] memory pool
    ) internal pure returns (uint16 developerBps, IModelRegistry.Contributor[] memory contributors) {
        contributors = new IModelRegistry.Contributor[](n);
        uint256 remaining = BPS;
        for (uint256 i = 0; i < n; ++i) {
            seed = uint256(keccak256(abi.encode(seed, i)));
            // Leave at least 1 bp for each contributor still to come.
            uint256 maxBps = remaining - (n - 1 - i);
            uint256 bps;
            // Mix shapes: sometimes a tiny share, sometimes everything left, otherwise uniform.
            uint256 mode = seed % 8;
            if (mode == 0) bps = 1;
            else if (mode == 1) bps = maxBps;
            else bps = 1 + ((seed >> 8) % maxBps);
            remaining -= bps;
            contributors[i] = IModelRegistry.Contributor({account: pool[(seed >> 128) % pool.length], bps: uint16(bps)});
        }
        developerBps = uint16(remaining);
    }

    /// @notice Canonical bytes of a single int32 element.
    function tensor4(uint32 value) internal pure returns (bytes memory) {
        return abi.encodePacked(bytes4(value));
    }

    /// @notice Tensor commitment of at most one chunk: sha256 of the bytes zero-padded to 1024.
    function commitOneChunk(bytes memory data) internal pure returns (bytes32) {
        require(data.length <= 1024, "one chunk only");
        return sha256(abi.encodePacked(data, new bytes(1024 - data.length)));
    }

    /// @notice `n` one-element inputs (or outputs) of a batch, concatenated: `first`, `first + 1`, …
    /// (wrapping around at 2^32).
    function batch4(uint32 first, uint256 n) internal pure returns (bytes memory data) {
        for (uint256 i = 0; i < n; ++i) {
            uint32 value;
            unchecked {
                value = first + uint32(i);
            }
            data = bytes.concat(data, tensor4(value));
        }
    }

    /// @notice The tensor commitments of the `n` equal items of `data` (each at most one chunk).
    function itemCommitments(bytes memory data, uint256 n) internal pure returns (bytes32[] memory items) {
        uint256 size = data.length / n;
        items = new bytes32[](n);
        for (uint256 i = 0; i < n; ++i) {
            bytes memory item = new bytes(size);
            for (uint256 b = 0; b < size; ++b) item[b] = data[i * size + b];
            items[i] = commitOneChunk(item);
        }
    }

    /// @notice The batch commitment of docs/SEMANTICS.md, computed independently of the contracts: the
    /// tensor commitment itself for one item, else keccak256 over the items' tensor commitments.
    function batchCommitment(bytes memory data, uint256 n) internal pure returns (bytes32) {
        if (n == 1) return commitOneChunk(data);
        return keccak256(abi.encodePacked(itemCommitments(data, n)));
    }

    /// @notice The least fee with fee - floor(fee * bps / 10000) >= price, by search from below
    /// (independent of the closed form the escrow uses). For small prices only.
    function minimumFeeBySearch(uint256 price, uint256 bps) internal pure returns (uint256 fee) {
        fee = price;
        while (fee - (fee * bps) / BPS < price) ++fee;
    }

    function request(
        uint256 modelId,
        bytes memory input,
        uint256 fee,
        uint256 deadline
    ) internal pure returns (IJobManager.RequestParams memory p) {
        p.modelId = modelId;
        p.input = input;
        p.fee = fee;
        p.deadline = deadline;
    }
}

/**
 * @title Terms
 * @notice The terms the escrow fixes for a request, computed independently of it (from the
 * registry's price and element counts and the escrow's parameters and their version at request
 * time), so that tests can pass them back to `claim`, `submitResult`, `finalize`, `expire` and
 * `freezeForDispute`.
 */
library Terms {
    /// @notice What `requester` gets as terms for request `p`, if it is sent now. Inline inputs of
    /// at most one chunk only (what these tests request).
    function expected(
        IJobManager jobs,
        IModelRegistry registry,
        address requester,
        IJobManager.RequestParams memory p
    ) internal view returns (IJobManager.JobTerms memory) {
        return expectedBatch(jobs, registry, requester, p, 1);
    }

    /// @notice What `requester` gets as terms for a batch request of `n` inputs (`p.input` their
    /// concatenation, each item at most one chunk): `n` times the price, the batch commitment.
    function expectedBatch(
        IJobManager jobs,
        IModelRegistry registry,
        address requester,
        IJobManager.RequestParams memory p,
        uint256 n
    ) internal view returns (IJobManager.JobTerms memory t) {
        IJobManager.Params memory params = jobs.params();
        (uint96 price, , , uint64 outputElements) = registry.pricing(p.modelId);
        uint256 lock = (p.fee * params.stakeRatioBps) / 10_000;
        if (lock < params.minJobLock) lock = params.minJobLock;
        t.requester = requester;
        t.modelId = uint40(p.modelId);
        t.fee = uint96(p.fee);
        t.modelFee = uint96(uint256(price) * n);
        t.lock = uint96(lock);
        t.protocolFeeBps = params.protocolFeeBps;
        t.deadline = uint40(p.deadline);
        t.outputElements = outputElements;
        t.consumer = p.consumer;
        t.callbackGasLimit = uint24(p.callbackGasLimit);
        t.inputCommitment = TestData.batchCommitment(p.input, n);
        t.paramsVersion = jobs.paramsVersion();
    }
}

/// @notice The four protocol contracts, wired as the Ignition builders wire them (see the file header).
struct Deployment {
    VeritensorToken token;
    ModelRegistry registry;
    Staking staking;
    JobManager jobs;
    /// @dev Zero unless deployed with {Deployer-deployAssigned} or {Deployer-deployAudited}.
    WorkerRoster roster;
    /// @dev Zero unless deployed with {Deployer-deployAudited}.
    AuditManager audits;
}

library Deployer {
    uint256 internal constant SUPPLY = 1_000_000_000 ether;
    /// @notice The escrow's floor under the challenge window (the default window is an hour).
    uint256 internal constant MIN_CHALLENGE_WINDOW = 10 minutes;

    function defaultParams(address treasury) internal pure returns (IJobManager.Params memory p) {
        p.minJobLock = 10 ether;
        p.stakeRatioBps = 15_000;
        p.protocolFeeBps = 500;
        p.timeoutSlashBps = 5_000;
        p.paused = false;
        p.treasury = treasury;
        p.challengeWindow = 1 hours;
        p.resultTimeout = 30 minutes;
        p.maxCallbackGasLimit = 500_000;
        p.callbackFeePerGas = 1e12;
        p.maxJobDuration = 2 hours;
    }

    /// @notice Deploys with the caller as owner of staking and the job escrow and holder of the
    /// whole supply. No dispute manager is appointed (it can be, once: the caller appoints itself
    /// or a factory it deploys, which makes parameter version 2). The operator set is left open, so
    /// that a test can add a dispute contract; a test of the sealed set seals it itself.
    function deploy(address treasury, uint256 minStake, uint256 unbondingDelay) internal returns (Deployment memory d) {
        IAuditManager.Params memory none;
        d = _deploy(treasury, minStake, unbondingDelay, 0, IWorkerRoster.Params(0, 0, 0), none, 0);
    }

    /// @notice Claims assigned by a roster and results audited by an {AuditManager} (owned by the
    /// caller, bound to the escrow, a Staking operator), with `auditFeeBps` of each fee to its pool,
    /// as Ignition's Protocol wires them (ignition/modules/Audits.ts, Jobs.ts, Protocol.ts).
    function deployAudited(
        address treasury,
        uint256 minStake,
        uint256 unbondingDelay,
        uint256 epochBlocks,
        IWorkerRoster.Params memory rosterParams,
        IAuditManager.Params memory auditParams,
        uint16 auditFeeBps
    ) internal returns (Deployment memory d) {
        d = _deploy(treasury, minStake, unbondingDelay, epochBlocks, rosterParams, auditParams, auditFeeBps);
    }

    /// @notice The same, with claims assigned by a {WorkerRoster} of `epochBlocks` blocks per epoch
    /// (owned by the caller, bound to the escrow), returned as `d.roster`.
    function deployAssigned(
        address treasury,
        uint256 minStake,
        uint256 unbondingDelay,
        uint256 epochBlocks,
        IWorkerRoster.Params memory rosterParams
    ) internal returns (Deployment memory d) {
        IAuditManager.Params memory none;
        d = _deploy(treasury, minStake, unbondingDelay, epochBlocks, rosterParams, none, 0);
    }

    function _deploy(
        address treasury,
        uint256 minStake,
        uint256 unbondingDelay,
        uint256 epochBlocks,
        IWorkerRoster.Params memory rosterParams,
        IAuditManager.Params memory auditParams,
        uint16 auditFeeBps
    ) private returns (Deployment memory d) {
        d.token = new VeritensorToken(address(this), SUPPLY);
        d.registry = new ModelRegistry();
        d.staking = new Staking(d.token, address(this), minStake, unbondingDelay);
        if (epochBlocks != 0) d.roster = new WorkerRoster(d.staking, epochBlocks, address(this), rosterParams);
        bool audited = auditParams.auditSlots != 0;
        if (audited) d.audits = new AuditManager(d.token, d.staking, address(this), auditParams);
        IJobManager.Params memory params_ = defaultParams(treasury);
        params_.auditFeeBps = auditFeeBps;
        d.jobs = new JobManager(d.token, d.registry, d.staking, address(this), MIN_CHALLENGE_WINDOW, params_, d.roster, address(d.audits));
        if (epochBlocks != 0) d.roster.bindEscrow(address(d.jobs));
        d.staking.setOperator(address(d.jobs), true);
        if (audited) {
            d.audits.bindEscrow(d.jobs);
            d.staking.setOperator(address(d.audits), true);
        }
    }
}
