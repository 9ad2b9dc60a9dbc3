// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IJobManager} from "../../../contracts/interfaces/IJobManager.sol";
import {IDisputeGameFactory} from "../../../contracts/interfaces/IDisputeGameFactory.sol";
import {ClaimedResult, GameConfig, GameStatus} from "../../../contracts/disputes/lib/Types.sol";
import {DisputeGameFactory} from "../../../contracts/disputes/DisputeGameFactory.sol";

import {Vm, VM_ADDRESS} from "../utils/Vm.sol";
import {TestData, Terms, Deployment} from "../utils/Protocol.sol";

/**
 * @title MockGame
 * @notice Test-only stand-in for {DisputeGame}: the factory clones it like the real game, and the
 * handler decides who wins. The bisection and the one-step proof are tested elsewhere; this is
 * for the money that moves when a game ends, whoever wins and in whatever order games end.
 */
contract MockGame {
    address public factory;
    GameStatus public status;

    function initialize(GameConfig calldata, bytes32, bytes32[] calldata) external {
        require(factory == address(0), "initialized");
        factory = msg.sender;
    }

    /// @notice Ends the game with `outcome` and has the factory settle it (as the real game does).
    function end(GameStatus outcome) external {
        require(status == GameStatus.InProgress && outcome != GameStatus.InProgress, "ended");
        status = outcome;
        IDisputeGameFactory(factory).settle(outcome);
    }
}

/**
 * @title DisputeHandler
 * @notice Drives the dispute factory with random actions for the invariant tests: submit jobs,
 * open games on them (several per job), end games with either winner in any order, finalize what
 * survives, withdraw factory balances, let time pass. Each action predicts what must move and
 * counts a mismatch in `violations` (reverting would be swallowed by the invariant runner).
 */
contract DisputeHandler {
    Vm private constant vm = Vm(VM_ADDRESS);
    uint256 private constant BPS = 10_000;

    Deployment private d;
    DisputeGameFactory public immutable factory;
    uint256 public immutable modelId;
    address private immutable _requester;
    address[] private _workers;
    address[] private _challengers;
    bytes private _header;
    bytes32[] private _headerProof;

    mapping(uint256 jobId => IJobManager.JobTerms) private _terms;
    mapping(uint256 jobId => bytes32[2]) private _results;
    uint256[] private _jobs;
    address[] private _games;
    mapping(address game => uint256) public endings;

    // ------------------------------------------------------------ ghosts

    /// @notice Bonds taken in by the factory.
    uint256 public ghostBonds;
    /// @notice Stake slashed to the factory.
    uint256 public ghostSlashed;
    /// @notice Credited by the factory to winners.
    uint256 public ghostCredited;
    /// @notice Burned by the factory.
    uint256 public ghostBurned;
    /// @notice Withdrawn from the factory.
    uint256 public ghostWithdrawn;
    /// @notice Fees refunded to requesters by rejections.
    uint256 public ghostRefunds;
    mapping(uint256 jobId => uint256) public ghostRejections;

    uint256 public violations;
    string public firstViolation;
    mapping(bytes32 action => uint256) public calls;

    constructor(
        Deployment memory deployment,
        DisputeGameFactory factory_,
        uint256 modelId_,
        address requester,
        address[] memory workers,
        address[] memory challengers,
        bytes memory header,
        bytes32[] memory headerProof
    ) {
        d = deployment;
        factory = factory_;
        modelId = modelId_;
        _requester = requester;
        _workers = workers;
        _challengers = challengers;
        _header = header;
        _headerProof = headerProof;
    }

    function games() external view returns (address[] memory) {
        return _games;
    }

    function jobs() external view returns (uint256[] memory) {
        return _jobs;
    }

    function termsOf(uint256 jobId) external view returns (IJobManager.JobTerms memory) {
        return _terms[jobId];
    }

    // ------------------------------------------------------------ actions

    /// @notice A job requested, claimed by a worker and answered (right or wrong does not matter here).
    function submitJob(uint256 workerSeed, uint256 extra, uint32 value) external {
        address worker = _workers[workerSeed % _workers.length];
        (uint96 price, , , ) = d.registry.pricing(modelId);
        uint256 fee = d.jobs.minimumFee(price) + _bound(extra, 0, 50 ether);
        IJobManager.RequestParams memory rp = TestData.request(modelId, TestData.tensor4(7), fee, block.timestamp + 2 hours);
        IJobManager.JobTerms memory t = Terms.expected(d.jobs, d.registry, _requester, rp);
        vm.startPrank(_requester);
        d.token.approve(address(d.jobs), fee);
        uint256 jobId = d.jobs.requestInference(rp);
        vm.stopPrank();

        uint256 free = d.staking.freeStake(worker);
        uint256 need = t.lock > free ? t.lock - free : 0;
        uint256 staked = d.staking.stakeOf(worker).staked;
        if (staked + need < d.staking.minStake()) need = d.staking.minStake() - staked;
        vm.startPrank(worker);
        if (need != 0) {
            d.token.approve(address(d.staking), need);
            d.staking.stake(need);
        }
        d.jobs.claim(jobId, t);
        bytes memory output = TestData.tensor4(value);
        bytes32 out = TestData.commitOneChunk(output);
        bytes32 trace = keccak256(abi.encode("trace", jobId, value));
        d.jobs.submitResult(jobId, t, output, out, trace);
        vm.stopPrank();
        _terms[jobId] = t;
        _results[jobId] = [out, trace];
        _jobs.push(jobId);
        calls["submitJob"]++;
    }

    /// @notice A challenger opens a game on a submitted job inside its window.
    function open(uint256 jobSeed, uint256 challengerSeed) external {
        uint256 jobId = _pick(jobSeed, IJobManager.JobStatus.Submitted);
        if (jobId == 0) return;
        IJobManager.Job memory job = d.jobs.getJob(jobId);
        if (block.timestamp >= job.timer) return;
        address challenger = _challengers[challengerSeed % _challengers.length];
        uint256 bond = factory.params().challengeBond;
        uint256 minStake = d.staking.minStake();
        uint256 staked = d.staking.stakeOf(challenger).staked;
        vm.startPrank(challenger);
        if (staked < minStake) {
            d.token.approve(address(d.staking), minStake - staked);
            d.staking.stake(minStake - staked);
        }
        d.token.approve(address(factory), bond);
        uint256 factoryBefore = d.token.balanceOf(address(factory));
        IDisputeGameFactory.OpenParams memory o;
        o.terms = _terms[jobId];
        o.result = ClaimedResult(_terms[jobId].inputCommitment, _results[jobId][0], _results[jobId][1]);
        o.challengerRoot = keccak256(abi.encode("challenger", jobId, challenger));
        o.header = _header;
        o.headerProof = _headerProof;
        try factory.openDispute(jobId, o) returns (address game) {
            vm.stopPrank();
            if (d.token.balanceOf(address(factory)) - factoryBefore != bond) _violation("open took != bond");
            if (d.jobs.getJob(jobId).openDisputes != job.openDisputes + 1) _violation("open did not freeze the job");
            ghostBonds += bond;
            _games.push(game);
            calls["open"]++;
        } catch {
            vm.stopPrank();
            _violation("a valid opening reverted");
        }
    }

    /// @dev What ending a game must move, and the balances before it.
    struct Expect {
        uint256 jobId;
        address challenger;
        address worker;
        address requester;
        bool rejects;
        uint256 slash;
        uint256 challengerCredit;
        uint256 workerCredit;
        uint256 burn;
        uint256 refund;
        uint256 supplyBefore;
        uint256 challengerBefore;
        uint256 workerBefore;
        uint256 stakeBefore;
        uint256 requesterBefore;
    }

    /// @notice An open game ends with either winner; checks every amount the factory moves.
    function end(uint256 gameSeed, bool challengerWins) external {
        address game = _pickOpenGame(gameSeed);
        if (game == address(0)) return;
        Expect memory e = _expect(game, challengerWins);
        MockGame(game).end(challengerWins ? GameStatus.ChallengerWins : GameStatus.DefenderWins);
        endings[game]++;
        _check(e);
        if (!factory.gameRecord(game).settled) _violation("game not settled");
        ghostSlashed += e.slash;
        ghostCredited += e.challengerCredit + e.workerCredit;
        ghostBurned += e.burn;
        if (e.rejects) {
            ghostRefunds += e.refund;
            ghostRejections[e.jobId]++;
        }
        calls[challengerWins ? bytes32("challengerWins") : bytes32("defenderWins")]++;
    }

    /// @dev The factory's rules, restated: a winning challenger gets its bond back and its share of
    /// the slash (the whole lock, if the result was still standing); a winning defender gets its
    /// share of the bond unless another game already proved its result wrong; the rest is burned.
    function _expect(address game, bool challengerWins) private view returns (Expect memory e) {
        IDisputeGameFactory.GameRecord memory rec = factory.gameRecord(game);
        IJobManager.Job memory job = d.jobs.getJob(rec.jobId);
        IJobManager.JobTerms storage t = _terms[rec.jobId];
        e.jobId = rec.jobId;
        e.challenger = rec.challenger;
        e.worker = job.worker;
        e.requester = t.requester;
        e.rejects = challengerWins && job.status == IJobManager.JobStatus.Submitted;
        e.slash = e.rejects ? t.lock : 0;
        e.refund = e.rejects ? t.fee : 0;
        if (challengerWins) {
            uint256 reward = (e.slash * rec.challengerRewardBps) / BPS;
            e.challengerCredit = rec.bond + reward;
            e.burn = e.slash - reward;
        } else {
            uint256 reward = job.status == IJobManager.JobStatus.Rejected ? 0 : (uint256(rec.bond) * rec.defenderRewardBps) / BPS;
            e.workerCredit = reward;
            e.burn = rec.bond - reward;
        }
        e.supplyBefore = d.token.totalSupply();
        e.challengerBefore = factory.balanceOf(e.challenger);
        e.workerBefore = factory.balanceOf(e.worker);
        e.stakeBefore = d.staking.stakeOf(e.worker).staked;
        e.requesterBefore = d.jobs.balanceOf(e.requester);
    }

    function _check(Expect memory e) private {
        if (e.supplyBefore - d.token.totalSupply() != e.burn) _violation("burned a wrong amount");
        if (factory.balanceOf(e.challenger) - e.challengerBefore != e.challengerCredit) _violation("challenger credit");
        if (factory.balanceOf(e.worker) - e.workerBefore != e.workerCredit) _violation("worker credit");
        if (e.stakeBefore - d.staking.stakeOf(e.worker).staked != e.slash) _violation("slashed a wrong amount");
        if (d.jobs.balanceOf(e.requester) - e.requesterBefore != e.refund) _violation("refund");
    }

    /// @notice A game (or anyone) settling a second time, or a stranger settling, is refused.
    function settleAgain(uint256 gameSeed, bool challengerWins) external {
        if (_games.length == 0) return;
        address game = _games[gameSeed % _games.length];
        bool settled = factory.gameRecord(game).settled;
        address caller = settled ? game : address(uint160(0xBAD0 + (gameSeed % 7)));
        vm.prank(caller);
        (bool ok, ) = address(factory).call(
            abi.encodeCall(IDisputeGameFactory.settle, (challengerWins ? GameStatus.ChallengerWins : GameStatus.DefenderWins))
        );
        if (ok) _violation("a settled game or a stranger settled");
        calls["settleAgain"]++;
    }

    /// @notice A submitted job with no open game, past its window, finalizes.
    function finalize(uint256 jobSeed) external {
        uint256 jobId = _pick(jobSeed, IJobManager.JobStatus.Submitted);
        if (jobId == 0) return;
        IJobManager.Job memory job = d.jobs.getJob(jobId);
        if (job.openDisputes != 0) return;
        if (block.timestamp < job.timer) vm.warp(job.timer);
        d.jobs.finalize(jobId, _terms[jobId], _results[jobId][0], _results[jobId][1]);
        calls["finalize"]++;
    }

    /// @notice Anyone with a factory balance withdraws it all.
    function withdraw(uint256 seed) external {
        address a = seed % 2 == 0 ? _challengers[seed % _challengers.length] : _workers[seed % _workers.length];
        uint256 owed = factory.balanceOf(a);
        if (owed == 0) return;
        uint256 before = d.token.balanceOf(a);
        vm.prank(a);
        factory.withdraw();
        if (d.token.balanceOf(a) - before != owed) _violation("withdraw paid != balance");
        if (factory.balanceOf(a) != 0) _violation("balance left after withdraw");
        ghostWithdrawn += owed;
        calls["withdraw"]++;
    }

    function warp(uint256 seconds_) external {
        vm.warp(block.timestamp + _bound(seconds_, 1, 20 minutes));
        calls["warp"]++;
    }

    // ------------------------------------------------------------ internals

    /// @dev A job in `status` at or after a random start, or 0.
    function _pick(uint256 seed, IJobManager.JobStatus status) private view returns (uint256) {
        uint256 n = _jobs.length;
        for (uint256 k = 0; k < n; ++k) {
            uint256 id = _jobs[(seed + k) % n];
            if (d.jobs.getJob(id).status == status) return id;
        }
        return 0;
    }

    function _pickOpenGame(uint256 seed) private view returns (address) {
        uint256 n = _games.length;
        for (uint256 k = 0; k < n; ++k) {
            address g = _games[(seed + k) % n];
            if (!factory.gameRecord(g).settled) return g;
        }
        return address(0);
    }

    function _violation(string memory what) private {
        if (violations == 0) firstViolation = what;
        violations++;
    }

    function _bound(uint256 x, uint256 min, uint256 max) private pure returns (uint256) {
        return min + (x % (max - min + 1));
    }
}
