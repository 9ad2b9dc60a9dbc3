/**
 * The explorer's JSON API: what the server (offchain/explorer/server.ts) answers and the browser app
 * (offchain/explorer/app/) reads. Types only, so the app's bundle takes nothing else from here.
 * Amounts carry their wei and their text (`1.5 VTN`, the clients' `formatVtn`); times are unix
 * seconds of the chain's blocks; addresses are lower case.
 */

export interface Amount {
  readonly wei: string;
  readonly text: string;
}

/** Where something happened on chain. */
export interface At {
  readonly block: number;
  readonly time?: number;
  readonly tx: string;
}

export interface Status {
  readonly network: string;
  readonly chainId: string;
  /** The last block indexed, and the chain's head when last read. */
  readonly cursor: number;
  readonly head: number;
  readonly confirmations: number;
  readonly addresses: Readonly<Record<string, string>>;
  /** Names of known accounts (the demo's actors, the protocol's contracts). */
  readonly labels: Readonly<Record<string, string>>;
  readonly counts: { readonly models: number; readonly jobs: number; readonly games: number; readonly accounts: number; readonly proposals: number };
}

// ------------------------------------------------------------------ models

export interface Scale {
  readonly wad: string;
  /** The real value of one unit, as a decimal number. */
  readonly value: number;
}

export interface ModelSummary {
  readonly id: number;
  readonly owner: string;
  readonly uri: string;
  readonly price: Amount;
  readonly deprecated: boolean;
  readonly jobs: number;
  readonly finalized: number;
  readonly revenue: Amount;
  readonly registered: At;
}

export interface Payee {
  readonly account: string;
  readonly role: "developer" | "contributor";
  readonly bps: number;
  /** Credited to it by distributions of this model's earnings so far. */
  readonly earned: Amount;
  /** Its share of what has accrued and is not distributed yet. */
  readonly owed: Amount;
}

export interface ModelDetail extends ModelSummary {
  readonly family: number;
  readonly previousVersion: number;
  /** Every model of the same family (versions), oldest first. */
  readonly versions: readonly number[];
  readonly contentHash: string;
  readonly graphCommitment: string;
  readonly developerBps: number;
  readonly contributors: readonly { readonly account: string; readonly bps: number }[];
  readonly inputScale: Scale;
  readonly outputScale: Scale;
  readonly inputShape: readonly number[];
  readonly outputShape: readonly number[];
  readonly priceHistory: readonly { readonly price: Amount; readonly at: At }[];
  readonly jobsByStatus: Readonly<Record<string, number>>;
  /** Σ of the model's price over its finalized jobs; distributed to payees; accrued and not yet distributed. */
  readonly earnings: { readonly total: Amount; readonly distributed: Amount; readonly undistributed: Amount; readonly protocolFees: Amount };
  readonly payees: readonly Payee[];
  readonly servedBy: readonly string[];
}

// ------------------------------------------------------------------ jobs

export type JobStatusName = "open" | "claimed" | "submitted" | "finalized" | "refunded" | "rejected" | "cancelled";

export interface JobSummary {
  readonly id: number;
  readonly model: number;
  readonly status: JobStatusName;
  readonly requester: string;
  readonly worker?: string;
  readonly fee: Amount;
  readonly requestedAt?: number;
  readonly settledAt?: number;
  readonly games: number;
  /** The number of inputs the job carries: 1 for a single job, more for a batch. */
  readonly batchSize: number;
}

export interface TimelineEntry {
  /** The event's name (JobRequested, …) or a point in time (`window closes`). */
  readonly name: string;
  /** What happened, in words. */
  readonly text: string;
  readonly at?: At;
  /** For a point in time that is not a transaction (a deadline, the end of the window). */
  readonly time?: number;
  readonly from?: string;
  readonly gasUsed?: string;
}

export interface Tensor {
  readonly count: number;
  readonly shape: readonly number[];
  /** The canonical integers (all of them, up to 4,096). */
  readonly values: readonly number[];
  /** The real values (× the model's scale). */
  readonly real: readonly number[];
  readonly commitment: string;
  /** The largest element (the class, for a classifier). */
  readonly argmax?: number;
}

/** What became of a job's audit (audit manager's events, and the draw read from the chain once). */
export interface JobAudit {
  /** Whether the job was drawn for audit, when known (undefined: its seed block is not mined, or its state is pruned). */
  readonly drawn?: boolean;
  /** The job's audit probability in basis points, when read. */
  readonly rateBps?: number;
  /** "not committed" | "committed" | "passed" | "mismatch" | "missed". */
  readonly status: string;
  readonly auditor?: string;
  readonly slot?: number;
  /** The auditor's stake locked (the job's lock). */
  readonly lock?: Amount;
  /** The game a mismatch opened. */
  readonly game?: string;
  readonly settled: boolean;
  /** At settlement: what the pool paid the auditor, and what of its lock was slashed to the pool. */
  readonly reward?: Amount;
  readonly slashed?: Amount;
  /** Drawn auditors that let their slot pass, with the penalty each lost to the pool. */
  readonly missed: readonly { readonly auditor: string; readonly slot: number; readonly penalty: Amount; readonly at: At }[];
  /** The audit in words. */
  readonly text: string;
  readonly committed?: At;
}

/** A redundancy group: k jobs of one input, final early when k distinct workers agree. */
export interface GroupView {
  readonly id: number;
  readonly requester: string;
  readonly k: number;
  readonly fee: Amount;
  readonly lock: Amount;
  readonly value: Amount;
  /** "pending" | "confirmed" (early, all k agreed) | "resolved" (after the windows). */
  readonly status: string;
  readonly output?: string;
  /** For a resolved group: how many of its jobs finalized. */
  readonly finalizedJobs?: number;
  readonly requested: At;
  readonly decided?: At;
  readonly jobs: readonly { readonly id: number; readonly status: JobStatusName; readonly worker?: string; readonly outputCommitment?: string }[];
  /** Jobs settled back to the requester (refunds and timeout slashes). */
  readonly settled: readonly { readonly job: number; readonly refund: Amount; readonly slashes: Amount }[];
}

export interface JobDetail extends JobSummary {
  readonly modelFee: Amount;
  /** The treasury's part (paid, once finalized; else as the escrow would cut it). */
  readonly protocolFee: Amount;
  readonly protocolFeeBps: number;
  /** The audit pool's part, on a deployment with audits: cut with the protocol fee (the escrow's `feeSplit`). */
  readonly auditFee?: Amount;
  readonly auditFeeBps?: number;
  /** A consumer job's callback fee (to whoever finalizes it). */
  readonly callbackFee?: Amount;
  /** fee − model − protocol − audit − callback fee. */
  readonly workerPart: Amount;
  readonly lock: Amount;
  readonly deadline: number;
  readonly paramsVersion: number;
  readonly resultDue?: number;
  readonly challengeEnd?: number;
  readonly consumer?: string;
  readonly callbackGasLimit?: number;
  readonly callback?: { readonly status: "pending" | "delivered" | "failed"; readonly reason?: string };
  readonly input?: Tensor;
  readonly inputUri?: string;
  readonly inputCommitment: string;
  readonly output?: Tensor;
  /** For a batch: each item's input and output (the model's tensors, in order), with its tensor commitment. */
  readonly items?: readonly { readonly input?: Tensor; readonly output?: Tensor }[];
  /** For a subscription's run: which run of which subscription the job is. */
  readonly subscription?: { readonly id: number; readonly run: number; readonly runs: number; readonly consumer: string; readonly keeper: string };
  readonly payout?: { readonly worker: Amount; readonly model: Amount; readonly protocol: Amount; readonly audit?: Amount };
  readonly rejection?: { readonly slashed: Amount; readonly refunded: Amount };
  readonly timeline: readonly TimelineEntry[];
  readonly gasTotal: string;
  readonly disputes: readonly GameSummary[];
  /** Its audit, on a deployment with audits, once a result was submitted. */
  readonly audit?: JobAudit;
  /** The redundancy group it belongs to, if any. */
  readonly group?: GroupView;
}

/** One audit, as the audits page and an auditor's page list them. */
export interface AuditRow {
  readonly job: number;
  readonly auditor: string;
  readonly slot: number;
  readonly status: string;
  readonly game?: string;
  readonly settled: boolean;
  readonly reward?: Amount;
  readonly slashed?: Amount;
  readonly committed: At;
}

export interface MissedSlot {
  readonly job: number;
  readonly auditor: string;
  readonly slot: number;
  readonly penalty: Amount;
  readonly at: At;
}

/** The audits page: the pool, the parameters, recent audits, missed slots; and the redundancy groups. */
export interface AuditsView {
  /** False on a deployment without an audit manager (the rest is then empty). */
  readonly enabled: boolean;
  readonly manager?: string;
  readonly pool?: {
    /** Fee shares the escrow credited the manager (finalized jobs), and what of them is not collected yet. */
    readonly feeShares: Amount;
    readonly uncollected: Amount;
    /** PoolFunded: collected fee shares, slashes, miss penalties and gifts. */
    readonly funded: Amount;
    readonly penalties: Amount;
    readonly slashes: Amount;
    /** Rewards the pool credited auditors. */
    readonly rewards: Amount;
    /** What the pool can pay: funded − rewards + uncollected (the manager's `pool()`). */
    readonly balance: Amount;
  };
  readonly params?: readonly { readonly name: string; readonly value: string }[];
  readonly counts?: { readonly committed: number; readonly passed: number; readonly mismatch: number; readonly unrevealed: number; readonly missedSlots: number };
  readonly audits: readonly AuditRow[];
  readonly missed: readonly MissedSlot[];
  readonly groups: readonly GroupView[];
}

export interface SubscriptionSummary {
  readonly id: number;
  readonly consumer: string;
  readonly model: number;
  /** Seconds between runs, and the runs in the schedule. */
  readonly period: number;
  readonly runs: number;
  readonly feePerRun: Amount;
  readonly keeperReward: Amount;
  readonly created: At;
  readonly cancelled: boolean;
  /** The runs triggered so far, each with its job. */
  readonly triggered: readonly { readonly run: number; readonly job: number }[];
}

export interface JobPage {
  readonly total: number;
  readonly offset: number;
  readonly jobs: readonly JobSummary[];
}

// ------------------------------------------------------------------ accounts

export interface Stake {
  readonly staked: Amount;
  readonly locked: Amount;
  readonly free: Amount;
  readonly unbonding: Amount;
  readonly unbondingEnd?: number;
}

export interface AccountSummary {
  readonly address: string;
  readonly roles: readonly string[];
  readonly stake: Stake;
  readonly jobsServed: number;
  readonly earned: Amount;
  readonly slashed: Amount;
  readonly disputesWon: number;
  readonly disputesLost: number;
}

export interface AccountDetail extends AccountSummary {
  readonly jobs: { readonly claimed: number; readonly finalized: number; readonly rejected: number; readonly timedOut: number };
  readonly slashes: readonly { readonly amount: Amount; readonly at: At; readonly job?: number; readonly why: string }[];
  readonly disputes: readonly (GameSummary & { readonly side: "defender" | "challenger"; readonly won: boolean | undefined })[];
  readonly credits: { readonly escrow: Amount; readonly disputes: Amount; readonly audits: Amount; readonly withdrawn: Amount };
  /** Audits it made (committed), and the slots it let pass. */
  readonly audits: readonly AuditRow[];
  readonly missedAudits: readonly MissedSlot[];
  readonly requested: number;
  readonly serves: readonly number[];
  readonly recentJobs: readonly JobSummary[];
}

// ------------------------------------------------------------------ disputes

export interface GameSummary {
  readonly game: string;
  readonly job: number;
  readonly defender?: string;
  readonly challenger: string;
  /** In progress, challenger won, defender won. */
  readonly status: string;
  readonly level: string;
  readonly layer?: number;
  readonly kind?: string;
  readonly element?: number;
  /** For a game on a batch: the item (0-based) it is about. */
  readonly item?: number;
  readonly moves: number;
  readonly opened: At;
  readonly resolvedAt?: number;
}

export interface Move {
  readonly n: number;
  readonly side: "defender" | "challenger" | "anyone";
  readonly what: string;
  readonly at: At;
  readonly from?: string;
  readonly gasUsed?: string;
  /** Seconds the mover took since the previous move, of the `allowed` it had. */
  readonly used?: number;
  readonly allowed?: number;
  /** The other side's deadline after this move. */
  readonly nextDeadline?: number;
  readonly nextSide?: "defender" | "challenger";
}

/** One level of a bisection descent: both sides' children of the cursor node, and where it went. */
export interface DescentStep {
  readonly depth: number;
  readonly index: number;
  readonly defender?: { readonly left: string; readonly right: string };
  readonly challenger?: { readonly left: string; readonly right: string };
  readonly went?: "left" | "right";
}

export interface SumRound {
  readonly index: number;
  readonly defender?: string;
  readonly challenger?: string;
  readonly agreed?: boolean;
  /** The agreed and disputed indices after this round. */
  readonly lo?: number;
  readonly hi?: number;
}

export interface Operand {
  readonly name: string;
  readonly index: number;
  readonly value: string;
}

export interface StepCheck {
  readonly op: string;
  readonly phase: "Direct" | "Reduce" | "Final";
  readonly term?: number;
  readonly operands: readonly Operand[];
  /** What was disputed at the step, and each side's claim. */
  readonly claim: string;
  readonly defenderValue?: string;
  readonly challengerValue?: string;
  readonly truth: string;
  readonly formula?: string;
  readonly caller: string;
  readonly against?: string;
  readonly at: At;
  /** Why the operands could not be read (a step not sent as a direct call), if so. */
  readonly note?: string;
}

export interface GameDetail extends GameSummary {
  /** Its job's number of inputs (1 for a single job). */
  readonly batchSize: number;
  readonly statusCode: number;
  readonly reason?: string;
  readonly bond: Amount;
  readonly rank: number;
  readonly roots: { readonly defender?: string; readonly challenger: string };
  readonly clock: { readonly moveTimeout: number; readonly perGame: number; readonly max: number };
  readonly live?: { readonly turn: "defender" | "challenger"; readonly deadline: number; readonly now: number; readonly next: string };
  readonly timeline: readonly Move[];
  readonly trace: { readonly depth: number; readonly numLayers: number; readonly steps: readonly DescentStep[]; readonly leaf?: number };
  readonly disputedLayer?: { readonly index: number; readonly kind: string; readonly numel: number; readonly reduction: number };
  readonly tensor?: { readonly depth: number; readonly steps: readonly DescentStep[]; readonly chunk?: number };
  readonly disputedElement?: {
    readonly index: number;
    readonly defenderValue: string;
    readonly challengerValue: string;
    /** The elements around it in both sides' revealed chunks. */
    readonly around: readonly { readonly index: number; readonly defender: number; readonly challenger: number }[];
  };
  readonly reduction?: { readonly length: number; readonly rounds: readonly SumRound[]; readonly final?: "Final" | "Reduce" };
  readonly step?: StepCheck;
  readonly money: {
    readonly slashed?: Amount;
    readonly burned?: Amount;
    readonly credits: readonly { readonly account: string; readonly amount: Amount; readonly at: At }[];
    readonly closed?: { readonly winnerGame: string; readonly challengerReward: Amount; readonly defenderReward: Amount; readonly burned: Amount; readonly at: At };
    readonly refunded?: Amount;
  };
}

// ------------------------------------------------------------------ governance

export interface ParamRow {
  readonly name: string;
  readonly value: string;
  readonly bound: string;
}

export interface ProposalRow {
  readonly index: number;
  readonly id: string;
  readonly proposer: string;
  readonly description: string;
  readonly state: string;
  readonly timeline: string;
  readonly votes: { readonly for: Amount; readonly against: Amount; readonly abstain: Amount };
  readonly quorum: Amount;
  readonly snapshot: string;
  readonly deadline: string;
  readonly eta?: number;
  readonly actions: readonly string[];
  readonly ballots: readonly { readonly voter: string; readonly support: string; readonly weight: Amount; readonly reason: string; readonly at: At }[];
  readonly created: At;
}

export interface QueuedCall {
  readonly id: string;
  readonly index: number;
  readonly action: string;
  readonly readyAt?: number;
  readonly status: "waiting" | "ready" | "executed" | "cancelled";
  readonly scheduled: At;
}

export interface ConcentrationView {
  readonly holders: readonly { readonly account: string; readonly amount: Amount; readonly share: string }[];
  readonly count: number;
  readonly total: Amount;
  readonly top10Share: string;
  /** Fewest holders holding a majority (Nakamoto coefficient); null when nobody holds any. */
  readonly majority: number | null;
  /** Fewest delegates reaching the quorum (votes only); null when unreachable or nobody holds any. */
  readonly toQuorum?: number | null;
}

export interface GovernanceView {
  readonly params: readonly ParamRow[];
  readonly proposals: readonly ProposalRow[];
  readonly queue: readonly QueuedCall[];
  readonly power: {
    readonly block: string;
    readonly supply: Amount;
    readonly quorum: Amount;
    readonly votesShareOfSupply: string;
    readonly votes: ConcentrationView;
    readonly stake: ConcentrationView;
  };
}

/** What the server pushes on `/api/events` (server-sent events, event `change`). */
export interface ChangeMessage {
  readonly cursor: number;
  readonly rolledBackTo?: number;
  readonly jobs: readonly number[];
  readonly games: readonly string[];
  readonly models: readonly number[];
  readonly accounts: readonly string[];
  readonly proposals: number;
}
