/**
 * Default values of the protocol's deployment parameters: one set for public networks, one for
 * local development (short windows so that a whole job fits in a minute or two).
 * Every value can still be overridden per deployment with Ignition module parameters
 * (`--parameters file.json`, keyed by module id: Token, Staking, Jobs, Governance, Assignment, Audits, LocalProtocol).
 */
const VTN = 10n ** 18n;

export interface TokenDefaults {
  /** Total supply, in wei; all of it goes to the deployer (account 0), who distributes it. */
  readonly supply: bigint;
}

export interface StakingDefaults {
  readonly minStake: bigint;
  /** Seconds. */
  readonly unbondingDelay: number;
}

export interface JobsDefaults {
  /** Share of each job's fee that goes to the treasury, in basis points (at most 2000). */
  readonly protocolFeeBps: number;
  readonly minJobLock: bigint;
  readonly stakeRatioBps: number;
  readonly timeoutSlashBps: number;
  /** Seconds. */
  readonly challengeWindow: number;
  /** Seconds: the shortest challenge window governance may ever set (fixed at deployment). */
  readonly minChallengeWindow: number;
  /** Seconds. */
  readonly resultTimeout: number;
  readonly maxCallbackGasLimit: number;
  /**
   * Token wei a consumer job pays per unit of its callback gas limit, to whoever finalizes it (who
   * pays the callback's gas); at most 10^18 (JobManager.MAX_CALLBACK_FEE_PER_GAS). Governance keeps
   * it in line with gas prices and the token's value.
   */
  readonly callbackFeePerGas: bigint;
  /** Seconds. */
  readonly maxJobDuration: number;
  /**
   * Share of each fee that funds the audit pool, in basis points (at most 2000). Applies only to an
   * escrow deployed with an audit manager (`audits`); without one the escrow's share is 0.
   */
  readonly auditFeeBps: number;
}

export interface GovernanceDefaults {
  /** Seconds between a queued proposal and its execution. */
  readonly timelockDelay: number;
  /** Blocks. */
  readonly votingDelay: number;
  /** Blocks. */
  readonly votingPeriod: number;
  readonly proposalThreshold: bigint;
  readonly quorumPercent: number;
}

/** Governed parameters of the dispute game factory (contracts/interfaces/IDisputeGameFactory.sol). */
export interface DisputesDefaults {
  /** Seconds each side has for each move of a game alone on its job. */
  readonly moveTimeout: number;
  /** Seconds added to each move for every further game opened on the same job. */
  readonly moveTimeoutPerGame: number;
  /** Seconds: the ceiling of the time per move so extended. */
  readonly maxMoveTimeout: number;
  /** Seconds: the shortest time per move governance may ever set (fixed at deployment). */
  readonly minMoveTimeout: number;
  /** Tokens a challenger posts per game. */
  readonly challengeBond: bigint;
  /** Share of the slashed lock a winning challenger gets beside its bond. */
  readonly challengerRewardBps: number;
  /** Share of a losing challenger's bond the worker gets. */
  readonly defenderRewardBps: number;
}

/** The worker roster (contracts/assignment/WorkerRoster.sol): the stake-weighted draw of claim slots. */
export interface AssignmentDefaults {
  /** Blocks per epoch: weights change only between epochs (fixed at deployment). */
  readonly epochBlocks: number;
  /** Highest weight of one account (token wei): weights are min(stake, cap). */
  readonly weightCap: bigint;
  /** Blocks each drawn worker has to claim. */
  readonly slotBlocks: number;
  /** Slots drawn before a job is open to every worker (slotBlocks * drawnSlots at most 255). */
  readonly drawnSlots: number;
}

/** The audit manager (contracts/audits/AuditManager.sol): random audits paid from the pool. */
export interface AuditsDefaults {
  /** Tokens (wei) the pool pays an audit that stands (at most 1,000 VTN). */
  readonly auditReward: bigint;
  /** The least audit probability of a job, in basis points. */
  readonly auditRateBps: number;
  /** The audit probability as a multiple of the job's break-even, in basis points of it. */
  readonly auditSafetyBps: number;
  /** Share of the job's lock a silent drawn auditor (or one that never reveals) loses to the pool. */
  readonly auditMissPenaltyBps: number;
  /** Blocks each drawn auditor has to commit. */
  readonly auditSlotBlocks: number;
  /** Slots drawn one after the other (auditSlots * auditSlotBlocks + 1 at most 256). */
  readonly auditSlots: number;
}

export interface ProtocolDefaults {
  readonly token: TokenDefaults;
  readonly staking: StakingDefaults;
  readonly jobs: JobsDefaults;
  readonly governance: GovernanceDefaults;
  readonly disputes: DisputesDefaults;
  /** The worker roster; undefined: no roster, first-come claims. */
  readonly assignment?: AssignmentDefaults;
  /** The audit manager (needs the roster, which draws the auditors); undefined: no audits, no audit share. */
  readonly audits?: AuditsDefaults;
}

export interface LocalDefaults {
  /** Accounts 1..fundedAccounts receive test tokens from the deployer. */
  readonly fundedAccounts: number;
  readonly fundAmount: bigint;
}

export const PRODUCTION: ProtocolDefaults = {
  token: { supply: 1_000_000_000n * VTN },
  // Shorter than the timelock delay, so stakers can leave before a governance change takes effect.
  staking: { minStake: 1_000n * VTN, unbondingDelay: 24 * 3600 },
  jobs: {
    protocolFeeBps: 100,
    minJobLock: 10n * VTN,
    stakeRatioBps: 20_000,
    timeoutSlashBps: 5_000,
    challengeWindow: 3600,
    minChallengeWindow: 15 * 60,
    resultTimeout: 15 * 60,
    maxCallbackGasLimit: 500_000,
    // 10^-6 VTN per gas: a 100,000-gas callback pays its finalizer 0.1 VTN.
    callbackFeePerGas: 10n ** 12n,
    maxJobDuration: 24 * 3600,
    // docs/ECONOMICS.md "Chosen defaults": at the measured audit gas the pool needs 4.03% of every fee at
    // the rule's rates and a 0.40 VTN reward; 5% leaves a margin.
    auditFeeBps: 500,
  },
  governance: {
    timelockDelay: 2 * 24 * 3600,
    votingDelay: 7200,
    votingPeriod: 50_400,
    proposalThreshold: 100_000n * VTN,
    quorumPercent: 4,
  },
  disputes: {
    moveTimeout: 3600,
    // Every further game on a job adds an hour to each move; from 24 games on, a move has a day,
    // never more (docs/DISPUTES.md "Clocks": the longest time to finality follows from this).
    moveTimeoutPerGame: 3600,
    maxMoveTimeout: 24 * 3600,
    minMoveTimeout: 15 * 60,
    challengeBond: 100n * VTN,
    challengerRewardBps: 5_000,
    defenderRewardBps: 5_000,
  },
  // An epoch of 300 blocks (an hour at 12 s); 3 slots of 5 blocks, then open to all. The cap is
  // the economics' (docs/ECONOMICS.md): above 100,000 VTN more stake draws no more jobs.
  assignment: { epochBlocks: 300, weightCap: 100_000n * VTN, slotBlocks: 5, drawnSlots: 3 },
  // docs/ECONOMICS.md "Chosen defaults": twice each job's break-even, a 1% floor, 0.40 VTN per audit
  // (about twice its measured gas, 330,971), 1% of the lock for a silent auditor; 3 slots of 10 blocks (2 minutes each on
  // a 12-second-block chain, 20 s on a 2-second L2): a miss costs an honest auditor 1% of a lock, so a
  // slot must outlast a busy node's pass (4-block slots lost 5 of 18 audits in the audits bench).
  audits: {
    auditReward: (40n * VTN) / 100n,
    auditRateBps: 100,
    auditSafetyBps: 20_000,
    auditMissPenaltyBps: 100,
    auditSlotBlocks: 10,
    auditSlots: 3,
  },
};

/**
 * The local protocol keeps first-come claims (no roster) so that the demo and a single local worker
 * need nothing more; LOCAL_ASSIGNMENT (`protocol deploy --assignment`) adds a roster with short epochs.
 */
export const LOCAL: ProtocolDefaults = {
  assignment: undefined,
  audits: undefined,
  token: PRODUCTION.token,
  staking: { minStake: 100n * VTN, unbondingDelay: 120 },
  jobs: { ...PRODUCTION.jobs, minJobLock: VTN, challengeWindow: 60, minChallengeWindow: 1, resultTimeout: 300 },
  governance: { ...PRODUCTION.governance, timelockDelay: 180, votingDelay: 1, votingPeriod: 20 },
  disputes: { ...PRODUCTION.disputes, moveTimeout: 120, moveTimeoutPerGame: 10, maxMoveTimeout: 600, minMoveTimeout: 1, challengeBond: 10n * VTN },
};

export const LOCAL_FUNDING: LocalDefaults = { fundedAccounts: 5, fundAmount: 100_000n * VTN };

/**
 * LOCAL with a worker roster (epochs of 10 blocks, 3 slots of 3 blocks) and audits: 3 audit slots of
 * 6 blocks, so that on a 1-second-block chain the last slot ends 19 s after the submission, inside
 * the 60 s challenge window the reveal (and a mismatch's dispute) must fit in.
 */
export const LOCAL_ASSIGNMENT: ProtocolDefaults = {
  ...LOCAL,
  assignment: { epochBlocks: 10, weightCap: PRODUCTION.assignment!.weightCap, slotBlocks: 3, drawnSlots: 3 },
  audits: { ...PRODUCTION.audits!, auditSlotBlocks: 6, auditSlots: 3 },
};
