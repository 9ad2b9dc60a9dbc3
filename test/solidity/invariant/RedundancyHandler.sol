// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IJobManager} from "../../../contracts/interfaces/IJobManager.sol";
import {IRedundantRequests} from "../../../contracts/interfaces/IRedundantRequests.sol";
import {RedundantRequests} from "../../../contracts/redundancy/RedundantRequests.sol";

import {Vm, VM_ADDRESS} from "../utils/Vm.sol";
import {TestData, Deployment} from "../utils/Protocol.sol";

/**
 * @title RedundancyHandler
 * @notice Drives groups with bounded random actions for the invariant tests: requesters ask for
 * groups of 2 to 5 jobs; workers claim and submit right or wrong outputs, or claim and go silent;
 * results are rejected in disputes (this handler is the dispute manager), finalized, expired;
 * groups are confirmed, resolved and settled; requesters withdraw; time passes. Ghost sums keep what
 * requesters paid in and withdrew. Reverts of the escrow's rules are expected and swallowed (a
 * claim of a claimed job, a finalize inside the window); the contract under test must never fail
 * an action that its rules allow, which the handler counts in `violations`.
 */
contract RedundancyHandler {
    Vm private constant vm = Vm(VM_ADDRESS);
    uint32 private constant TRUE_OUTPUT = 42;

    Deployment private d;
    // Storage, not immutables: the invariant runner recognizes the handler by its deployed code.
    RedundantRequests public rr;
    uint256 public modelId;
    address[] private _requesters;
    address[] private _workers;
    uint256[] private _groups;
    uint256[] private _jobs;
    mapping(uint256 groupId => IJobManager.JobTerms) private _terms;
    mapping(uint256 jobId => uint256) public groupOfJob;
    mapping(uint256 jobId => uint32) private _output;
    bytes32 private _trueCommitment;
    bytes32 private _wrongCommitment;

    /// @notice Tokens requesters paid for groups (k fees each).
    uint256 public ghostPaidIn;
    /// @notice Tokens requesters withdrew from the contract.
    uint256 public ghostWithdrawn;
    /// @notice Actions the contract's rules allow that failed, or succeeded with wrong numbers.
    uint256 public violations;

    constructor(Deployment memory d_, RedundantRequests rr_, uint256 modelId_, address[] memory requesters, address[] memory workers) {
        d = d_;
        rr = rr_;
        modelId = modelId_;
        _requesters = requesters;
        _workers = workers;
        _trueCommitment = TestData.commitOneChunk(TestData.tensor4(TRUE_OUTPUT));
        _wrongCommitment = TestData.commitOneChunk(TestData.tensor4(TRUE_OUTPUT + 1));
    }

    // ------------------------------------------------------------ requesters

    function request(uint256 who, uint256 k, uint256 extra) external {
        address requester = _requesters[who % _requesters.length];
        k = 2 + (k % 4);
        uint256 fee = d.jobs.minimumFee(1 ether) + (extra % 20 ether);
        IJobManager.RequestParams memory p = TestData.request(modelId, TestData.tensor4(7), fee, block.timestamp + 2 hours);
        vm.recordLogs();
        vm.prank(requester);
        try rr.request(p, k, 0) returns (uint256 groupId) {
            ghostPaidIn += k * fee;
            _groups.push(groupId);
            Vm.Log[] memory logs = vm.getRecordedLogs();
            for (uint256 i = 0; i < logs.length; ++i) {
                if (logs[i].emitter != address(d.jobs) || logs[i].topics[0] != IJobManager.JobRequested.selector) continue;
                (IJobManager.JobTerms memory t, , ) = abi.decode(logs[i].data, (IJobManager.JobTerms, bytes, string));
                _terms[groupId] = t;
                uint256 jobId = uint256(logs[i].topics[1]);
                _jobs.push(jobId);
                groupOfJob[jobId] = groupId;
            }
        } catch {
            ++violations;
        }
    }

    function withdraw(uint256 who) external {
        address requester = _requesters[who % _requesters.length];
        uint256 owed = rr.balanceOf(requester);
        if (owed == 0) return;
        uint256 before = d.token.balanceOf(requester);
        vm.prank(requester);
        try rr.withdraw() {
            ghostWithdrawn += owed;
            if (d.token.balanceOf(requester) - before != owed) ++violations;
        } catch {
            ++violations;
        }
    }

    // ------------------------------------------------------------ workers and the escrow

    function serve(uint256 jobSeed, uint256 who, bool wrong) external {
        (uint256 jobId, IJobManager.JobTerms memory t) = _pick(jobSeed);
        if (jobId == 0) return;
        address worker = _workers[who % _workers.length];
        if (d.jobs.getJob(jobId).status == IJobManager.JobStatus.Open) {
            vm.prank(worker);
            try d.jobs.claim(jobId, t) {} catch {
                return;
            }
        }
        IJobManager.Job memory job = d.jobs.getJob(jobId);
        if (job.status != IJobManager.JobStatus.Claimed) return;
        uint32 value = wrong ? TRUE_OUTPUT + 1 : TRUE_OUTPUT;
        bytes memory output = TestData.tensor4(value);
        bytes32 commitment = wrong ? _wrongCommitment : _trueCommitment;
        vm.prank(job.worker);
        try d.jobs.submitResult(jobId, t, output, commitment) {
            _output[jobId] = value;
        } catch {}
    }

    function claimOnly(uint256 jobSeed, uint256 who) external {
        (uint256 jobId, IJobManager.JobTerms memory t) = _pick(jobSeed);
        if (jobId == 0) return;
        vm.prank(_workers[who % _workers.length]);
        try d.jobs.claim(jobId, t) {} catch {}
    }

    function reject(uint256 jobSeed, uint256 slash) external {
        (uint256 jobId, IJobManager.JobTerms memory t) = _pick(jobSeed);
        if (jobId == 0 || d.jobs.getJob(jobId).status != IJobManager.JobStatus.Submitted) return;
        try d.jobs.freezeForDispute(jobId, t, _commitmentOf(jobId)) {
            d.jobs.settleDispute(jobId, false, slash % (uint256(t.lock) + 1));
        } catch {}
    }

    function finalize(uint256 jobSeed) external {
        (uint256 jobId, IJobManager.JobTerms memory t) = _pick(jobSeed);
        if (jobId == 0) return;
        try d.jobs.finalize(jobId, t, _commitmentOf(jobId)) {} catch {}
    }

    function expire(uint256 jobSeed) external {
        (uint256 jobId, IJobManager.JobTerms memory t) = _pick(jobSeed);
        if (jobId == 0) return;
        try d.jobs.expire(jobId, t) {} catch {}
    }

    function warp(uint256 seconds_) external {
        vm.warp(block.timestamp + (seconds_ % 1 hours));
    }

    // ------------------------------------------------------------ groups

    function confirm(uint256 groupSeed) external {
        if (_groups.length == 0) return;
        uint256 groupId = _groups[groupSeed % _groups.length];
        try rr.confirm(groupId, _terms[groupId], _trueCommitment) {} catch {}
    }

    function resolve(uint256 groupSeed, bool wrong) external {
        if (_groups.length == 0) return;
        uint256 groupId = _groups[groupSeed % _groups.length];
        try rr.resolve(groupId, _terms[groupId], wrong ? _wrongCommitment : _trueCommitment) {} catch {}
    }

    function settle(uint256 groupSeed) external {
        if (_groups.length == 0) return;
        uint256 groupId = _groups[groupSeed % _groups.length];
        uint256 expected = rr.unsettled(groupId);
        address requester = rr.getGroup(groupId).requester;
        uint256 before = rr.balanceOf(requester);
        try rr.settle(groupId) returns (uint256 credited) {
            if (credited != expected || rr.balanceOf(requester) - before != credited) ++violations;
        } catch {
            // Only "nothing to settle" may fail it, and then nothing was owed.
            if (expected != 0) ++violations;
        }
    }

    // ------------------------------------------------------------ views for the invariants

    function requesters() external view returns (address[] memory) {
        return _requesters;
    }

    function groups() external view returns (uint256[] memory) {
        return _groups;
    }

    function termsOf(uint256 groupId) external view returns (IJobManager.JobTerms memory) {
        return _terms[groupId];
    }

    function jobs() external view returns (uint256[] memory) {
        return _jobs;
    }

    /// @notice Whether job `jobId` (`index` in its group) is settled by the contract.
    function isSettled(uint256 jobId) public view returns (bool) {
        IRedundantRequests.Group memory g = rr.getGroup(groupOfJob[jobId]);
        return g.settled & (1 << (jobId - g.firstJobId)) != 0;
    }

    function _pick(uint256 seed) private view returns (uint256 jobId, IJobManager.JobTerms memory t) {
        if (_jobs.length == 0) return (0, t);
        jobId = _jobs[seed % _jobs.length];
        t = _terms[groupOfJob[jobId]];
    }

    function _commitmentOf(uint256 jobId) private view returns (bytes32) {
        return _output[jobId] == TRUE_OUTPUT + 1 ? _wrongCommitment : _trueCommitment;
    }
}
