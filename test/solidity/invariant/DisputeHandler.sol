// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {BPS} from "../../../contracts/libraries/FeeSplit.sol";
import {IJobManager} from "../../../contracts/interfaces/IJobManager.sol";
import {IDisputeGameFactory} from "../../../contracts/interfaces/IDisputeGameFactory.sol";
import {GameConfig, GameStatus} from "../../../contracts/disputes/lib/Types.sol";
import {DisputeGameFactory} from "../../../contracts/disputes/DisputeGameFactory.sol";
import {
    DisputeGameFactoryCommitmentTooRecent,
    DisputeGameFactoryDisputesNotOver,
    DisputeGameFactoryNothingToClose,
    DisputeGameFactoryUnknownCommitment
} from "../../../contracts/disputes/lib/DisputeErrors.sol";

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
    /// @notice What the factory started the game with (checked by the handler).
    GameConfig public config;
    bytes32 public outputLeaf;
    bytes32 public outputProofHash;

    function initialize(GameConfig calldata config_, bytes32 outputLeaf_, bytes32[] calldata outputProof) external {
        require(factory == address(0), "initialized");
        factory = msg.sender;
        config = config_;
        outputLeaf = outputLeaf_;
        outputProofHash = keccak256(abi.encode(outputProof));
    }

    /// @notice The job's output and the two trace roots the game was given.
    function roots() external view returns (bytes32 output, bytes32 defenderRoot, bytes32 challengerRoot) {
        return (config.outputCommitment, config.defenderRoot, config.challengerRoot);
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
 * commit to disputes and reveal them in a later block (several games per job, bursts from one
 * challenger, reveals out of rank order, openings on jobs that can no longer be disputed), end
 * games with either winner in any order, close what is over, finalize what survives, change the
 * factory's parameters, withdraw factory balances, let time pass. Each action predicts what must
 * move (from its own record of every job's disputes, not from the factory's) and counts a mismatch
 * in `violations` (reverting would be swallowed by the invariant runner).
 */
contract DisputeHandler {
    Vm private constant vm = Vm(VM_ADDRESS);

    /// @dev A commitment made and not yet revealed.
    struct Pending {
        uint256 jobId;
        address challenger;
        bytes32 root;
        bytes32 outputLeaf;
        bytes32 salt;
        uint256 blockNumber;
        uint256 rank;
    }

    /// @dev What the factory fixed for a game at its opening (the parameters in force then).
    struct GameGhost {
        uint256 jobId;
        address challenger;
        uint256 bond;
        uint256 challengerRewardBps;
        uint256 defenderRewardBps;
        uint256 rank;
    }

    /// @notice The handler's own account of one job's disputes (what the factory must hold and pay).
    struct JobGhost {
        uint256 opened;
        uint256 open;
        uint256 slashHeld;
        uint256 defenderHeld;
        address bestGame;
        uint256 bestRank;
        bool closed;
        /// The game whose challenger was paid the reward at close (zero if none won), and the reward.
        address rewardGame;
        uint256 reward;
        /// What the worker was paid of the held defender shares at close.
        uint256 defenderPaid;
    }

    Deployment private d;
    DisputeGameFactory public immutable factory;
    uint256 public immutable modelId;
    address private immutable _requester;
    address[] private _workers;
    address[] private _challengers;
    /// @dev Workers then challengers: every account the factory can credit here.
    address[] private _accounts;
    bytes private _header;
    bytes32[] private _headerProof;

    mapping(uint256 jobId => IJobManager.JobTerms) private _terms;
    /// @dev Each submitted job's output commitment (a result binds no trace).
    mapping(uint256 jobId => bytes32) private _results;
    mapping(uint256 jobId => address) private _workerOf;
    uint256[] private _jobs;
    address[] private _games;
    Pending[] private _pending;
    uint256 private _salts;
    mapping(address game => GameGhost) private _gameGhosts;
    mapping(uint256 jobId => JobGhost) private _jobGhosts;
    mapping(address game => uint256) public endings;

    // ------------------------------------------------------------ ghosts

    /// @notice Bonds taken in by the factory.
    uint256 public ghostBonds;
    /// @notice Stake slashed to the factory.
    uint256 public ghostSlashed;
    /// @notice Credited by the factory (bonds back, rewards, defender shares).
    uint256 public ghostCredited;
    /// @notice Burned by the factory.
    uint256 public ghostBurned;
    /// @notice Withdrawn from the factory.
    uint256 public ghostWithdrawn;
    /// @notice Slashes and defender shares held for jobs whose disputes are not closed.
    uint256 public ghostHeld;
    /// @notice Fees refunded to requesters by rejections.
    uint256 public ghostRefunds;
    /// @notice Commitments made (the last rank given).
    uint256 public ghostCommits;
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
        _accounts = workers;
        for (uint256 i = 0; i < challengers.length; ++i) _accounts.push(challengers[i]);
        _header = header;
        _headerProof = headerProof;
    }

    function games() external view returns (address[] memory) {
        return _games;
    }

    function jobs() external view returns (uint256[] memory) {
        return _jobs;
    }

    function accounts() external view returns (address[] memory) {
        return _accounts;
    }

    function termsOf(uint256 jobId) external view returns (IJobManager.JobTerms memory) {
        return _terms[jobId];
    }

    function jobGhost(uint256 jobId) external view returns (JobGhost memory) {
        return _jobGhosts[jobId];
    }

    // ------------------------------------------------------------ actions: jobs

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
        d.jobs.submitResult(jobId, t, output, out);
        vm.stopPrank();
        _terms[jobId] = t;
        _results[jobId] = out;
        _workerOf[jobId] = worker;
        _jobs.push(jobId);
        calls["submitJob"]++;
    }

    /// @notice A submitted job with no open game, past its window, finalizes; before the window
    /// ends it must not (a game could still open on it and prove it wrong).
    function finalize(uint256 jobSeed) external {
        uint256 jobId = _pick(jobSeed, IJobManager.JobStatus.Submitted);
        if (jobId == 0) return;
        IJobManager.Job memory job = d.jobs.getJob(jobId);
        if (job.openDisputes != 0) return;
        if (block.timestamp < job.timer) {
            (bool early, ) = address(d.jobs).call(
                abi.encodeCall(IJobManager.finalize, (jobId, _terms[jobId], _results[jobId]))
            );
            if (early) _violation("finalized inside the challenge window");
            vm.warp(job.timer);
        }
        d.jobs.finalize(jobId, _terms[jobId], _results[jobId]);
        calls["finalize"]++;
    }

    // ------------------------------------------------------------ actions: opening

    /// @notice A challenger commits to a claim on a submitted job (revealed by a later {open}).
    function commit(uint256 jobSeed, uint256 challengerSeed) external {
        uint256 jobId = _pickDisputable(jobSeed);
        if (jobId == 0) return;
        _commit(jobId, _challengers[challengerSeed % _challengers.length]);
        calls["commit"]++;
    }

    /// @notice Reveals a pending commitment (a random one, so not in rank order), or commits a new
    /// one (now and then on a job in any status) and reveals it in the next block.
    function open(uint256 seed, uint256 challengerSeed) external {
        uint256 i;
        if (_pending.length == 0 || seed % 3 == 0) {
            uint256 jobId = seed % 4 == 0 ? _anyJob(seed >> 2) : _pickDisputable(seed >> 2);
            if (jobId == 0) return;
            i = _commit(jobId, _challengers[challengerSeed % _challengers.length]);
        } else {
            i = seed % _pending.length;
        }
        _reveal(i);
    }

    /// @notice One challenger commits to several games on one job in one block and opens them all in
    /// the next, newest first (a small cartel burst: there is no cap on the games of a job).
    function burst(uint256 jobSeed, uint256 challengerSeed, uint256 count) external {
        uint256 jobId = _pickDisputable(jobSeed);
        if (jobId == 0) return;
        count = _bound(count, 2, 6);
        address challenger = _challengers[challengerSeed % _challengers.length];
        for (uint256 k = 0; k < count; ++k) _commit(jobId, challenger);
        vm.roll(block.number + 1);
        for (uint256 k = 0; k < count; ++k) _reveal(_pending.length - 1);
        calls["burst"]++;
    }

    /// @dev Commits `challenger` to a claim on `jobId`; returns the index of the pending commitment.
    function _commit(uint256 jobId, address challenger) private returns (uint256) {
        bytes32 salt = bytes32(++_salts);
        // A one-layer trace of the challenger's (the stand-in game does not check it): the input,
        // then an output of its own.
        bytes32 leaf = keccak256(abi.encode("challenger's output", jobId, challenger));
        bytes32 root = sha256(abi.encodePacked(_terms[jobId].inputCommitment, leaf));
        bytes32 c = keccak256(abi.encode(jobId, challenger, root, leaf, salt));
        if (factory.commitmentOf(jobId, challenger, root, leaf, salt) != c) _violation("commitment formula");
        vm.prank(challenger);
        uint256 rank = factory.commitDispute(c);
        ghostCommits++;
        // Ranks are handed out in commitment order: what decides the reward.
        if (rank != ghostCommits) _violation("commitment ranked out of order");
        (uint256 r, uint256 b) = factory.commitmentInfo(c);
        if (r != rank || b != block.number) _violation("commitment stored wrong");
        _pending.push(Pending(jobId, challenger, root, leaf, salt, block.number, rank));
        return _pending.length - 1;
    }

    /// @dev Reveals pending commitment `i`: a copy by another challenger and a reveal in the block
    /// of the commitment are refused first; then the owner's reveal opens a game exactly when the
    /// job is submitted and inside its window, and is refused with the escrow's error otherwise.
    function _reveal(uint256 i) private {
        Pending memory p = _pending[i];
        _pending[i] = _pending[_pending.length - 1];
        _pending.pop();
        IDisputeGameFactory.OpenParams memory o = _openParams(p);

        // Someone else's commitment cannot be revealed: the key binds the committer.
        address copycat = _otherChallenger(p.challenger);
        _ensureStaked(copycat);
        bytes32 copyKey = keccak256(abi.encode(p.jobId, copycat, p.root, p.outputLeaf, p.salt));
        _expectOpenError(copycat, p.jobId, o, abi.encodeWithSelector(DisputeGameFactoryUnknownCommitment.selector, copyKey), "copy");
        _ensureStaked(p.challenger);
        if (p.blockNumber >= block.number) {
            bytes32 key = keccak256(abi.encode(p.jobId, p.challenger, p.root, p.outputLeaf, p.salt));
            bytes memory tooRecent = abi.encodeWithSelector(DisputeGameFactoryCommitmentTooRecent.selector, key, p.blockNumber);
            _expectOpenError(p.challenger, p.jobId, o, tooRecent, "same block");
            vm.roll(block.number + 1);
        }

        IJobManager.Job memory job = d.jobs.getJob(p.jobId);
        bool mustWork = job.status == IJobManager.JobStatus.Submitted && block.timestamp < job.timer;
        if (!mustWork) {
            bytes memory err = job.status != IJobManager.JobStatus.Submitted
                ? abi.encodeWithSelector(IJobManager.JobManagerWrongStatus.selector, p.jobId, job.status)
                : abi.encodeWithSelector(IJobManager.JobManagerChallengeWindowClosed.selector, p.jobId, job.timer);
            _expectOpenError(p.challenger, p.jobId, o, err, "late");
            calls["openRefused"]++;
            return;
        }
        _openChecked(p, o, job);
    }

    /// @dev Opens the game of `p` (which must work) and checks what the factory took and recorded.
    function _openChecked(Pending memory p, IDisputeGameFactory.OpenParams memory o, IJobManager.Job memory job) private {
        IDisputeGameFactory.Params memory params = factory.params();
        uint256 factoryBefore = d.token.balanceOf(address(factory));
        vm.startPrank(p.challenger);
        d.token.approve(address(factory), params.challengeBond);
        try factory.openDispute(p.jobId, o) returns (address game) {
            vm.stopPrank();
            if (d.token.balanceOf(address(factory)) - factoryBefore != params.challengeBond) _violation("open took != bond");
            if (d.jobs.getJob(p.jobId).openDisputes != job.openDisputes + 1) _violation("open did not freeze the job");
            (uint256 r, ) = factory.commitmentInfo(keccak256(abi.encode(p.jobId, p.challenger, p.root, p.outputLeaf, p.salt)));
            if (r != 0) _violation("a revealed commitment can be revealed again");
            _checkStart(MockGame(game), p, o);
            GameGhost memory gg = GameGhost(
                p.jobId,
                p.challenger,
                params.challengeBond,
                params.challengerRewardBps,
                params.defenderRewardBps,
                p.rank
            );
            _checkRecord(game, gg);
            _gameGhosts[game] = gg;
            JobGhost storage g = _jobGhosts[p.jobId];
            g.opened++;
            g.open++;
            if (factory.gamesOpened(p.jobId) != g.opened) _violation("games opened miscounted");
            ghostBonds += params.challengeBond;
            _games.push(game);
            calls["open"]++;
        } catch {
            vm.stopPrank();
            _violation("a valid opening reverted");
        }
    }

    /// @dev The factory's record of a new game is what was in force at its opening.
    function _checkRecord(address game, GameGhost memory gg) private {
        IDisputeGameFactory.GameRecord memory rec = factory.gameRecord(game);
        if (
            rec.jobId != gg.jobId ||
            rec.challenger != gg.challenger ||
            rec.bond != gg.bond ||
            rec.challengerRewardBps != gg.challengerRewardBps ||
            rec.defenderRewardBps != gg.defenderRewardBps ||
            rec.rank != gg.rank ||
            rec.settled
        ) _violation("game record != opening");
    }

    function _expectOpenError(
        address caller,
        uint256 jobId,
        IDisputeGameFactory.OpenParams memory o,
        bytes memory expected,
        string memory what
    ) private {
        vm.prank(caller);
        (bool ok, bytes memory err) = address(factory).call(abi.encodeCall(IDisputeGameFactory.openDispute, (jobId, o)));
        if (ok) _violation(string.concat("an opening succeeded: ", what));
        else if (keccak256(err) != keccak256(expected)) _violation(string.concat("an opening refused with another error: ", what));
    }

    function _openParams(Pending memory p) private view returns (IDisputeGameFactory.OpenParams memory o) {
        o.terms = _terms[p.jobId];
        o.outputCommitment = _results[p.jobId];
        o.challengerRoot = p.root;
        o.header = _header;
        o.headerProof = _headerProof;
        o.outputLeaf = p.outputLeaf;
        o.outputProof = new bytes32[](1);
        o.outputProof[0] = _terms[p.jobId].inputCommitment;
        o.salt = p.salt;
    }

    /// @dev The factory started the game on the job's output, with the challenger's root, output
    /// leaf and proof as revealed, and no defender root (the defender posts it as its first move).
    function _checkStart(MockGame game, Pending memory p, IDisputeGameFactory.OpenParams memory o) private {
        (bytes32 output, bytes32 defenderRoot, bytes32 challengerRoot) = game.roots();
        if (output != _results[p.jobId]) _violation("game started on another output");
        if (defenderRoot != bytes32(0)) _violation("game started with a defender root");
        if (challengerRoot != p.root) _violation("game started with another challenger root");
        if (game.outputLeaf() != p.outputLeaf || game.outputProofHash() != keccak256(abi.encode(o.outputProof))) {
            _violation("game started with another output opening");
        }
    }

    // ------------------------------------------------------------ actions: ending and closing

    /// @dev What ending a game (or closing a job) must move, and the state before it.
    struct Expect {
        uint256 jobId;
        address worker;
        bool rejects;
        uint256 slash;
        uint256 burn;
        uint256 refund;
        uint256[] credits;
        uint256[] before;
        uint256 supplyBefore;
        uint256 factoryBefore;
        uint256 stakeBefore;
        uint256 requesterBefore;
    }

    /// @notice An open game ends with either winner; checks every amount the factory moves.
    function end(uint256 gameSeed, bool challengerWins) external {
        address game = _pickOpenGame(gameSeed);
        if (game == address(0)) return;
        GameGhost memory gg = _gameGhosts[game];
        JobGhost memory g = _jobGhosts[gg.jobId];
        Expect memory e = _expectEnd(game, gg, g, challengerWins);
        MockGame(game).end(challengerWins ? GameStatus.ChallengerWins : GameStatus.DefenderWins);
        endings[game]++;
        _check(e);
        _commitGhost(e, g);
        if (!factory.gameRecord(game).settled) _violation("game not settled");
        if (e.rejects) {
            ghostRefunds += e.refund;
            ghostRejections[e.jobId]++;
        }
        calls[challengerWins ? bytes32("challengerWins") : bytes32("defenderWins")]++;
    }

    /// @notice Anyone closes a job's disputes: it must work exactly when games were opened on it,
    /// none is open, none can open any more, and it was not closed yet. Prefers a job whose games
    /// have all ended; half the time, if its window is still open, tries first (refused: a game
    /// could still open) and then lets the window pass.
    function close(uint256 jobSeed) external {
        uint256 jobId = _pickClosable(jobSeed);
        if (jobId == 0) return;
        IJobManager.Job memory job = d.jobs.getJob(jobId);
        if (jobSeed % 2 == 0 && job.status == IJobManager.JobStatus.Submitted && block.timestamp < job.timer) {
            _tryClose(jobId);
            vm.warp(job.timer);
        }
        _tryClose(jobId);
    }

    function _tryClose(uint256 jobId) private {
        JobGhost memory g = _jobGhosts[jobId];
        IJobManager.Job memory job = d.jobs.getJob(jobId);
        bool canClose = g.opened != 0 && !g.closed;
        bool over = g.open == 0 && (job.status != IJobManager.JobStatus.Submitted || block.timestamp >= job.timer);
        Expect memory e = _snapshot(jobId);
        if (canClose && over) e.burn = _expectClose(jobId, g, e.credits);
        (bool ok, bytes memory err) = address(factory).call(abi.encodeCall(IDisputeGameFactory.closeDisputes, (jobId)));
        if (ok != (canClose && over)) {
            _violation(ok ? "closed disputes that were not over" : "could not close disputes that were over");
            return;
        }
        if (!ok) {
            bytes memory expected = canClose
                ? abi.encodeWithSelector(DisputeGameFactoryDisputesNotOver.selector, jobId, g.open)
                : abi.encodeWithSelector(DisputeGameFactoryNothingToClose.selector, jobId);
            if (keccak256(err) != keccak256(expected)) _violation("closing refused with another error");
            calls["closeRefused"]++;
            return;
        }
        _check(e);
        _commitGhost(e, g);
        calls["close"]++;
    }

    /// @dev The factory's rules, restated: a winning challenger gets its bond back at once, and the
    /// first win rejects the job and slashes the whole lock into the factory, held; a losing
    /// challenger's bond is burned but for the defender's share, held. When nothing more can happen
    /// on the job its disputes close (see {_expectClose}).
    function _expectEnd(
        address game,
        GameGhost memory gg,
        JobGhost memory g,
        bool challengerWins
    ) private view returns (Expect memory e) {
        e = _snapshot(gg.jobId);
        IJobManager.Job memory job = d.jobs.getJob(gg.jobId);
        IJobManager.JobTerms storage t = _terms[gg.jobId];
        e.rejects = challengerWins && job.status == IJobManager.JobStatus.Submitted;
        e.slash = e.rejects ? t.lock : 0;
        e.refund = e.rejects ? t.fee : 0;
        g.open--;
        if (challengerWins) {
            e.credits[_index(gg.challenger)] += gg.bond;
            g.slashHeld += e.slash;
            if (g.bestRank == 0 || gg.rank < g.bestRank) {
                g.bestRank = gg.rank;
                g.bestGame = game;
            }
        } else {
            uint256 share = (gg.bond * gg.defenderRewardBps) / BPS;
            g.defenderHeld += share;
            e.burn = gg.bond - share;
        }
        bool submitted = job.status == IJobManager.JobStatus.Submitted && !e.rejects;
        if (g.open == 0 && (!submitted || block.timestamp >= job.timer)) e.burn += _expectClose(gg.jobId, g, e.credits);
    }

    /// @dev Closing: the winning game of lowest rank earns its own share of the slash, and the rest
    /// of the slash and the held defender shares are burned; with no winner the worker gets the
    /// defender shares. Updates `g`; returns the burn.
    function _expectClose(uint256 jobId, JobGhost memory g, uint256[] memory credits) private view returns (uint256 burn) {
        if (g.bestGame != address(0)) {
            GameGhost memory best = _gameGhosts[g.bestGame];
            uint256 reward = (g.slashHeld * best.challengerRewardBps) / BPS;
            credits[_index(best.challenger)] += reward;
            burn = g.slashHeld - reward + g.defenderHeld;
            g.rewardGame = g.bestGame;
            g.reward = reward;
        } else {
            credits[_index(_workerOf[jobId])] += g.defenderHeld;
            g.defenderPaid = g.defenderHeld;
        }
        g.slashHeld = 0;
        g.defenderHeld = 0;
        g.closed = true;
    }

    function _snapshot(uint256 jobId) private view returns (Expect memory e) {
        e.jobId = jobId;
        e.worker = _workerOf[jobId];
        e.credits = new uint256[](_accounts.length);
        e.before = new uint256[](_accounts.length);
        for (uint256 i = 0; i < _accounts.length; ++i) e.before[i] = factory.balanceOf(_accounts[i]);
        e.supplyBefore = d.token.totalSupply();
        e.factoryBefore = d.token.balanceOf(address(factory));
        e.stakeBefore = d.staking.stakeOf(e.worker).staked;
        e.requesterBefore = d.jobs.balanceOf(_requester);
    }

    function _check(Expect memory e) private {
        if (e.supplyBefore - d.token.totalSupply() != e.burn) _violation("burned a wrong amount");
        for (uint256 i = 0; i < _accounts.length; ++i) {
            if (factory.balanceOf(_accounts[i]) - e.before[i] != e.credits[i]) _violation("credited a wrong amount");
        }
        if (e.stakeBefore - d.staking.stakeOf(e.worker).staked != e.slash) _violation("slashed a wrong amount");
        if (d.token.balanceOf(address(factory)) + e.burn != e.factoryBefore + e.slash) _violation("factory moved != slash - burn");
        if (d.jobs.balanceOf(_requester) - e.requesterBefore != e.refund) _violation("refund");
    }

    /// @dev Books what `e` moved and stores the job's predicted account, after comparing it with
    /// the factory's own.
    function _commitGhost(Expect memory e, JobGhost memory g) private {
        JobGhost storage stored = _jobGhosts[e.jobId];
        uint256 credited;
        for (uint256 i = 0; i < e.credits.length; ++i) credited += e.credits[i];
        ghostCredited += credited;
        ghostBurned += e.burn;
        ghostSlashed += e.slash;
        ghostHeld = ghostHeld + g.slashHeld + g.defenderHeld - stored.slashHeld - stored.defenderHeld;
        _jobGhosts[e.jobId] = g;
        IDisputeGameFactory.JobDisputes memory j = factory.jobDisputes(e.jobId);
        if (
            j.gamesOpened != g.opened ||
            j.gamesOpen != g.open ||
            j.slashed != g.slashHeld ||
            j.defenderRewards != g.defenderHeld ||
            j.bestGame != g.bestGame ||
            j.bestRank != g.bestRank ||
            j.closed != g.closed
        ) _violation("the factory's account of a job != the prediction");
        if (g.closed && g.rewardGame != address(0)) calls["rewardPaid"]++;
        if (g.closed && g.defenderPaid != 0) calls["defenderPaid"]++;
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

    // ------------------------------------------------------------ actions: governance, payouts, time

    /// @notice Governance changes the bond and both shares; games already open keep theirs (the
    /// predictions use what each game recorded at its opening).
    function setFactoryParams(uint96 bond, uint16 challengerRewardBps, uint16 defenderRewardBps) external {
        IDisputeGameFactory.Params memory p = factory.params();
        p.challengeBond = uint96(_bound(bond, 1 ether, 50 ether));
        p.challengerRewardBps = uint16(_bound(challengerRewardBps, 0, BPS));
        p.defenderRewardBps = uint16(_bound(defenderRewardBps, 0, BPS));
        factory.setParams(p);
        calls["setFactoryParams"]++;
    }

    /// @notice Anyone with a factory balance withdraws it all.
    function withdraw(uint256 seed) external {
        address a = _accounts[seed % _accounts.length];
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
        vm.roll(block.number + 1);
        calls["warp"]++;
    }

    // ------------------------------------------------------------ internals

    function _ensureStaked(address a) private {
        uint256 minStake = d.staking.minStake();
        uint256 staked = d.staking.stakeOf(a).staked;
        if (staked >= minStake) return;
        vm.startPrank(a);
        d.token.approve(address(d.staking), minStake - staked);
        d.staking.stake(minStake - staked);
        vm.stopPrank();
    }

    function _otherChallenger(address a) private view returns (address) {
        for (uint256 i = 0; i < _challengers.length; ++i) {
            if (_challengers[i] == a) return _challengers[(i + 1) % _challengers.length];
        }
        return _challengers[0];
    }

    function _index(address account) private view returns (uint256) {
        for (uint256 i = 0; i < _accounts.length; ++i) if (_accounts[i] == account) return i;
        revert("untracked account");
    }

    /// @dev A job in `status` at or after a random start, or 0.
    function _pick(uint256 seed, IJobManager.JobStatus status) private view returns (uint256) {
        uint256 n = _jobs.length;
        for (uint256 k = 0; k < n; ++k) {
            uint256 id = _jobs[(seed + k) % n];
            if (d.jobs.getJob(id).status == status) return id;
        }
        return 0;
    }

    /// @dev A submitted job inside its window, else any submitted job (its opening then refused), else 0.
    function _pickDisputable(uint256 seed) private view returns (uint256) {
        uint256 n = _jobs.length;
        for (uint256 k = 0; k < n; ++k) {
            uint256 id = _jobs[(seed + k) % n];
            IJobManager.Job memory job = d.jobs.getJob(id);
            if (job.status == IJobManager.JobStatus.Submitted && block.timestamp < job.timer) return id;
        }
        return _pick(seed, IJobManager.JobStatus.Submitted);
    }

    function _anyJob(uint256 seed) private view returns (uint256) {
        return _jobs.length == 0 ? 0 : _jobs[seed % _jobs.length];
    }

    /// @dev A job whose games have all ended and whose disputes are not closed, else any job with
    /// games (closing then refused), else 0.
    function _pickClosable(uint256 seed) private view returns (uint256 fallback_) {
        uint256 n = _jobs.length;
        for (uint256 k = 0; k < n; ++k) {
            uint256 id = _jobs[(seed + k) % n];
            JobGhost storage g = _jobGhosts[id];
            if (g.opened == 0) continue;
            if (g.open == 0 && !g.closed) return id;
            if (fallback_ == 0) fallback_ = id;
        }
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
