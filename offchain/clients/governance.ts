/**
 * Governance by VTN vote: delegate, propose (a parameter change by name, or any call), vote, queue,
 * execute, and read proposals back from the governor's `ProposalCreated` events (so any process can
 * show them). Every action first checks what the contract would refuse (not enough votes, voting
 * not open or closed, not succeeded, not queued, timelock not ready) and says so with the numbers.
 *
 * Votes are always read through the governor (`getVotes(account, timepoint)`), never the token, so
 * whatever the governor counts (delegated VTN today, staked VTN too if it is taught to) is what is
 * shown.
 */
import type { ContractTransactionReceipt, Signer } from "ethers";
import { Interface, getAddress, id as keccakText, isAddress } from "ethers";

import {
  AuditManager__factory,
  DisputeGameFactory__factory,
  JobManager__factory,
  ProtocolTimelock__factory,
  Staking__factory,
  VeritensorGovernor__factory,
  VeritensorToken__factory,
  WorkerRoster__factory,
} from "../../types/ethers-contracts/index.js";
import { VeritensorError } from "./errors.js";
import { formatBps, formatDuration, formatTime, formatVtn, parseDuration, parseVtn } from "./format.js";
import { escrowFirstBlock, LOG_WINDOW } from "./job-events.js";
import type { Protocol } from "./protocol.js";
import { nextBlockTime, read, send } from "./protocol.js";

// ------------------------------------------------------------------ states and votes

/** OpenZeppelin's IGovernor.ProposalState, in order. */
export const PROPOSAL_STATES = ["Pending", "Active", "Canceled", "Defeated", "Succeeded", "Queued", "Expired", "Executed"] as const;
export type ProposalStateName = (typeof PROPOSAL_STATES)[number];
export const ProposalState = { Pending: 0, Active: 1, Canceled: 2, Defeated: 3, Succeeded: 4, Queued: 5, Expired: 6, Executed: 7 } as const;

/** GovernorCountingSimple's support values. */
export const VOTE_SUPPORT = { against: 0, for: 1, abstain: 2 } as const;
export type VoteChoice = keyof typeof VOTE_SUPPORT;

export function parseSupport(text: string): VoteChoice {
  const t = text.trim().toLowerCase();
  if (t === "for" || t === "yes" || t === "1") return "for";
  if (t === "against" || t === "no" || t === "0") return "against";
  if (t === "abstain" || t === "2") return "abstain";
  throw new VeritensorError(`vote "${text}" is not one of for, against, abstain`);
}

// ------------------------------------------------------------------ governed parameters

type Kind = "duration" | "bps" | "vtn" | "int" | "bool" | "address" | "blocks" | "percent";

/** One parameter governance can set, by `<contract>.<name>`. */
interface ParamSpec {
  readonly contract: "jobs" | "disputes" | "audits" | "roster" | "staking" | "governor" | "timelock";
  readonly name: string;
  readonly kind: Kind;
  /** The bound the contract enforces, in words (docs/GOVERNANCE.md lists the same). */
  readonly bound: string;
}

/** Fields of JobManager's Params (IJobManager.Params), each a `jobs.<field>`. */
const JOB_FIELDS: readonly [string, Kind, string][] = [
  ["minJobLock", "vtn", "any (fits in 96 bits)"],
  ["stakeRatioBps", "bps", "any (32 bits)"],
  ["protocolFeeBps", "bps", "at most 2000 (20%)"],
  ["timeoutSlashBps", "bps", "at most 10000 (100%)"],
  ["paused", "bool", "true or false (stops new requests only)"],
  ["challengeWindow", "duration", "from the deployment's minChallengeWindow to 30 days"],
  ["resultTimeout", "duration", "more than 0"],
  ["maxJobDuration", "duration", "at least resultTimeout"],
  ["treasury", "address", "not the zero address"],
  ["maxCallbackGasLimit", "int", "any (24 bits)"],
  ["callbackFeePerGas", "vtn", "at most 1 VTN per gas"],
  ["auditFeeBps", "bps", "at most 2000 (20%); 0 on an escrow without audit manager"],
];
/** Fields of AuditManager's Params, each an `audits.<field>` (deployments with audits only). */
const AUDIT_FIELDS: readonly [string, Kind, string][] = [
  ["auditReward", "vtn", "at most 1,000 VTN"],
  ["auditRateBps", "bps", "at most 10000 (100%)"],
  ["auditSafetyBps", "bps", "at most 1,000,000 (100 times the break-even)"],
  ["auditMissPenaltyBps", "bps", "at most 10000 (100% of the lock)"],
  ["auditSlotBlocks", "blocks", "more than 0, with auditSlots × auditSlotBlocks + 1 at most 256"],
  ["auditSlots", "int", "1 to 16, with auditSlots × auditSlotBlocks + 1 at most 256"],
];
/** Fields of WorkerRoster's Params, each a `roster.<field>` (deployments with a roster only). */
const ROSTER_FIELDS: readonly [string, Kind, string][] = [
  ["weightCap", "vtn", "more than 0"],
  ["slotBlocks", "blocks", "more than 0, with slotBlocks × drawnSlots at most 255"],
  ["drawnSlots", "int", "slotBlocks × drawnSlots at most 255"],
];
/** Fields of DisputeGameFactory's Params, each a `disputes.<field>`. */
const DISPUTE_FIELDS: readonly [string, Kind, string][] = [
  ["moveTimeout", "duration", "at least the deployment's minMoveTimeout"],
  ["challengeBond", "vtn", "more than 0, at most 1,000,000 VTN"],
  ["challengerRewardBps", "bps", "at most 10000"],
  ["defenderRewardBps", "bps", "at most 10000"],
  ["moveTimeoutPerGame", "duration", "any (32 bits)"],
  ["maxMoveTimeout", "duration", "from moveTimeout to 30 days"],
];

export const GOVERNED_PARAMS: readonly ParamSpec[] = [
  ...JOB_FIELDS.map(([name, kind, bound]) => ({ contract: "jobs" as const, name, kind, bound })),
  ...DISPUTE_FIELDS.map(([name, kind, bound]) => ({ contract: "disputes" as const, name, kind, bound })),
  ...AUDIT_FIELDS.map(([name, kind, bound]) => ({ contract: "audits" as const, name, kind, bound })),
  ...ROSTER_FIELDS.map(([name, kind, bound]) => ({ contract: "roster" as const, name, kind, bound })),
  { contract: "staking", name: "minStake", kind: "vtn", bound: "at most 1,000,000 VTN" },
  { contract: "staking", name: "unbondingDelay", kind: "duration", bound: "at most 90 days" },
  { contract: "governor", name: "votingDelay", kind: "blocks", bound: "any (48 bits)" },
  { contract: "governor", name: "votingPeriod", kind: "blocks", bound: "more than 0" },
  { contract: "governor", name: "proposalThreshold", kind: "vtn", bound: "any" },
  { contract: "governor", name: "quorumPercent", kind: "percent", bound: "at most 100" },
  { contract: "timelock", name: "delay", kind: "duration", bound: "any" },
];

const paramNames = () => GOVERNED_PARAMS.map((s) => `${s.contract}.${s.name}`).join(", ");

function parseValue(spec: ParamSpec, text: string): bigint | boolean | string {
  const what = `${spec.contract}.${spec.name}`;
  const t = text.trim();
  switch (spec.kind) {
    case "duration": {
      const s = parseDuration(t, what);
      if (s < 0) throw new VeritensorError(`${what} cannot be negative`);
      return BigInt(s);
    }
    case "bps": {
      const m = /^(\d+(?:\.\d+)?)\s*(%|bps)?$/i.exec(t);
      if (!m) throw new VeritensorError(`${what} "${text}" is not a share (examples: 250, 250bps, 2.5%)`);
      const v = m[2] === "%" ? Math.round(Number(m[1]) * 100) : Number(m[1]);
      if (!Number.isInteger(v)) throw new VeritensorError(`${what} "${text}" is not a whole number of basis points`);
      return BigInt(v);
    }
    case "vtn":
      return parseVtn(t, what);
    case "int":
    case "blocks":
    case "percent": {
      const clean = t.replace(/\s*(blocks?|%)$/i, "").replaceAll("_", "").replaceAll(",", "");
      if (!/^\d+$/.test(clean)) throw new VeritensorError(`${what} "${text}" is not a whole number`);
      return BigInt(clean);
    }
    case "bool":
      if (/^(true|yes|1|on)$/i.test(t)) return true;
      if (/^(false|no|0|off)$/i.test(t)) return false;
      throw new VeritensorError(`${what} "${text}" is not true or false`);
    case "address":
      if (!isAddress(t)) throw new VeritensorError(`${what} "${text}" is not an address`);
      return getAddress(t);
  }
}

function showValue(kind: Kind, v: unknown): string {
  switch (kind) {
    case "duration":
      return `${formatDuration(BigInt(v as bigint))} (${v} s)`;
    case "bps":
      return formatBps(BigInt(v as bigint));
    case "vtn":
      return formatVtn(BigInt(v as bigint));
    case "blocks":
      return `${v} blocks`;
    case "percent":
      return `${v}%`;
    default:
      return String(v);
  }
}

/** A governed parameter's value in force, in words, with its bound. */
export interface GovernedValue {
  /** `<contract>.<name>`, as `--set` takes it. */
  readonly name: string;
  readonly value: string;
  readonly bound: string;
}

/** Whether the deployment has the contract a parameter belongs to (an audit manager, a roster). */
const deployed = (p: Protocol, s: ParamSpec) => (s.contract === "audits" ? p.audits !== undefined : s.contract === "roster" ? p.roster !== undefined : true);

/** Every parameter governance can set on this deployment (GOVERNED_PARAMS), with the value in force now. */
export async function governedValues(p: Protocol): Promise<GovernedValue[]> {
  const [jobs, disputes, audits, roster, minStake, unbonding, votingDelay, votingPeriod, threshold, quorum, delay] = await Promise.all([
    p.jobManager.params(),
    p.disputes.params(),
    p.audits?.params(),
    p.roster?.params(),
    p.staking.minStake(),
    p.staking.unbondingDelay(),
    p.governor.votingDelay(),
    p.governor.votingPeriod(),
    p.governor.proposalThreshold(),
    p.governor["quorumNumerator()"](),
    p.timelock.getMinDelay(),
  ]);
  const single: Record<string, unknown> = {
    "staking.minStake": minStake,
    "staking.unbondingDelay": unbonding,
    "governor.votingDelay": votingDelay,
    "governor.votingPeriod": votingPeriod,
    "governor.proposalThreshold": threshold,
    "governor.quorumPercent": quorum,
    "timelock.delay": delay,
  };
  const structs: Record<string, unknown> = { jobs, disputes, audits, roster };
  return GOVERNED_PARAMS.filter((s) => deployed(p, s)).map((s) => {
    const name = `${s.contract}.${s.name}`;
    const struct = structs[s.contract];
    const value = name in single ? single[name] : (struct as unknown as Record<string, unknown> | undefined)?.[s.name];
    return { name, value: showValue(s.kind, value), bound: s.bound };
  });
}

/** One `--set contract.param=value`, parsed. */
export interface ParamSetting {
  readonly spec: ParamSpec;
  readonly value: bigint | boolean | string;
}

/** Parses `jobs.challengeWindow=2h` (names are case-sensitive, as in the contracts). */
export function parseSetting(text: string): ParamSetting {
  const m = /^\s*([A-Za-z]+)\.([A-Za-z]+)\s*=\s*(.+)$/.exec(text);
  if (!m) throw new VeritensorError(`--set "${text}" is not <contract>.<param>=<value> (e.g. jobs.challengeWindow=2h)`);
  const spec = GOVERNED_PARAMS.find((s) => s.contract === m[1] && s.name === m[2]);
  if (!spec) throw new VeritensorError(`unknown parameter ${m[1]}.${m[2]}; governance sets ${paramNames()}`);
  return { spec, value: parseValue(spec, m[3]!) };
}

/** One call a proposal makes (through the timelock). */
export interface ProposalAction {
  readonly target: string;
  readonly value: bigint;
  readonly calldata: string;
}

/** A parameter change built into actions, with what each setting changes in words. */
export interface ParamChange {
  readonly actions: ProposalAction[];
  /** `jobs.challengeWindow: 1 min (60 s) -> 2 h (7200 s)` per setting. */
  readonly changes: string[];
}

/**
 * Builds the calls that make `settings`: one `setParams` per struct-parameter contract (JobManager,
 * DisputeGameFactory) carrying its current values with the settings applied, one call per other
 * setting. The struct is read now: a proposal executed after another change of the same contract
 * writes back that change's other fields as they were when this one was made.
 */
export async function buildParamChange(p: Protocol, settings: readonly ParamSetting[]): Promise<ParamChange> {
  if (settings.length === 0) throw new VeritensorError("say what to change with --set <contract>.<param>=<value>");
  const seen = new Set<string>();
  for (const s of settings) {
    const key = `${s.spec.contract}.${s.spec.name}`;
    if (seen.has(key)) throw new VeritensorError(`${key} is set twice`);
    seen.add(key);
  }
  const actions: ProposalAction[] = [];
  const changes: string[] = [];
  const note = (s: ParamSetting, before: unknown) =>
    changes.push(`${s.spec.contract}.${s.spec.name}: ${showValue(s.spec.kind, before)} -> ${showValue(s.spec.kind, s.value)}`);

  const structChange = async (contract: "jobs" | "disputes" | "audits" | "roster") => {
    const mine = settings.filter((s) => s.spec.contract === contract);
    if (mine.length === 0) return;
    const owner = { jobs: p.jobManager, disputes: p.disputes, audits: p.audits, roster: p.roster }[contract];
    if (owner === undefined) {
      throw new VeritensorError(`this deployment has no ${contract === "audits" ? "audit manager" : "worker roster"}: ${mine.map((s) => `${contract}.${s.spec.name}`).join(", ")} cannot be set`);
    }
    const current = await owner.params();
    const fields = { jobs: JOB_FIELDS, disputes: DISPUTE_FIELDS, audits: AUDIT_FIELDS, roster: ROSTER_FIELDS }[contract].map(([n]) => n);
    const next: Record<string, unknown> = {};
    for (const f of fields) next[f] = (current as unknown as Record<string, unknown>)[f];
    for (const s of mine) {
      note(s, next[s.spec.name]);
      next[s.spec.name] = s.value;
    }
    const target = await owner.getAddress();
    actions.push({ target, value: 0n, calldata: encode(owner.interface, "setParams", [next], `${contract}.setParams`) });
  };
  await structChange("jobs");
  await structChange("disputes");
  await structChange("audits");
  await structChange("roster");

  for (const s of settings) {
    const single = async (target: string, iface: Interface, fn: string, before: unknown, arg: unknown = s.value) => {
      note(s, before);
      actions.push({ target, value: 0n, calldata: encode(iface, fn, [arg], `${s.spec.contract}.${s.spec.name}`) });
    };
    const key = `${s.spec.contract}.${s.spec.name}`;
    if (key === "staking.minStake") await single(p.addresses.staking, p.staking.interface, "setMinStake", await p.staking.minStake());
    else if (key === "staking.unbondingDelay") await single(p.addresses.staking, p.staking.interface, "setUnbondingDelay", await p.staking.unbondingDelay());
    else if (key === "governor.votingDelay") await single(p.addresses.governor, p.governor.interface, "setVotingDelay", await p.governor.votingDelay());
    else if (key === "governor.votingPeriod") await single(p.addresses.governor, p.governor.interface, "setVotingPeriod", await p.governor.votingPeriod());
    else if (key === "governor.proposalThreshold") await single(p.addresses.governor, p.governor.interface, "setProposalThreshold", await p.governor.proposalThreshold());
    else if (key === "governor.quorumPercent") await single(p.addresses.governor, p.governor.interface, "updateQuorumNumerator", await p.governor["quorumNumerator()"]());
    else if (key === "timelock.delay") await single(p.addresses.timelock, p.timelock.interface, "updateDelay", await p.timelock.getMinDelay());
  }
  return { actions, changes };
}

function encode(iface: Interface, fn: string, args: unknown[], what: string): string {
  try {
    return iface.encodeFunctionData(fn, args);
  } catch (e) {
    throw new VeritensorError(`${what}: the value does not fit the contract's type (${(e as Error).message.split(" (")[0]})`, { cause: e });
  }
}

/**
 * An expert's call: `signature` like `setMinStake(uint256)` and its arguments as text (JSON arrays
 * for tuples and arrays), encoded against the signature.
 */
export function buildCall(target: string, signature: string, args: readonly string[], value = 0n): ProposalAction {
  if (!isAddress(target)) throw new VeritensorError(`--target "${target}" is not an address`);
  let iface: Interface;
  try {
    iface = new Interface([`function ${signature.trim()}`]);
  } catch (e) {
    throw new VeritensorError(`--signature "${signature}" is not a function signature (e.g. setMinStake(uint256))`, { cause: e });
  }
  const fn = iface.fragments[0] as unknown as { name: string; inputs: readonly unknown[] };
  if (fn.inputs.length !== args.length) {
    throw new VeritensorError(`${signature} takes ${fn.inputs.length} argument(s), ${args.length} given`);
  }
  const parsed = args.map((a) => (/^\s*[[{]/.test(a) ? (JSON.parse(a) as unknown) : a));
  return { target: getAddress(target), value, calldata: encode(iface, fn.name, parsed, signature) };
}

// ------------------------------------------------------------------ decoding actions

const DECODERS: readonly [keyof Protocol["addresses"], string, Interface][] = [
  ["jobManager", "JobManager", new Interface(JobManager__factory.abi)],
  ["disputeFactory", "DisputeGameFactory", new Interface(DisputeGameFactory__factory.abi)],
  ["staking", "Staking", new Interface(Staking__factory.abi)],
  ["governor", "Governor", new Interface(VeritensorGovernor__factory.abi)],
  ["timelock", "Timelock", new Interface(ProtocolTimelock__factory.abi)],
  ["token", "VTN", new Interface(VeritensorToken__factory.abi)],
  ["roster", "WorkerRoster", new Interface(WorkerRoster__factory.abi)],
  ["auditManager", "AuditManager", new Interface(AuditManager__factory.abi)],
];
/** The fields of each contract's `setParams` struct, by the name DECODERS gives it. */
const STRUCT_FIELDS: Record<string, readonly [string, Kind, string][]> = {
  JobManager: JOB_FIELDS,
  DisputeGameFactory: DISPUTE_FIELDS,
  AuditManager: AUDIT_FIELDS,
  WorkerRoster: ROSTER_FIELDS,
};

/** An action in words: `JobManager.setParams(challengeWindow: 2 h (7200 s))`, the fields that differ from `current` when given. */
export function describeAction(p: Protocol, a: ProposalAction, current?: Record<string, unknown>): string {
  const known = DECODERS.find(([role]) => p.addresses[role]?.toLowerCase() === a.target.toLowerCase());
  const value = a.value > 0n ? ` with ${a.value} wei` : "";
  if (!known) return `call ${a.target} with data ${a.calldata.slice(0, 74)}${a.calldata.length > 74 ? "…" : ""}${value}`;
  const [, name, iface] = known;
  let parsed;
  try {
    parsed = iface.parseTransaction({ data: a.calldata });
  } catch {
    parsed = null;
  }
  if (!parsed) return `${name} at ${a.target}: unknown call ${a.calldata.slice(0, 10)}${value}`;
  const fields = STRUCT_FIELDS[name];
  if (parsed.name === "setParams" && fields !== undefined) {
    const given = parsed.args[0] as Record<string, unknown>;
    const parts = fields
      .filter(([f]) => current === undefined || String(current[f]) !== String(given[f]))
      .map(([f, kind]) => `${f}: ${showValue(kind, given[f])}${current ? ` (now ${showValue(kind, current[f])})` : ""}`);
    return `${name}.setParams(${parts.length > 0 ? parts.join(", ") : "no change from the current values"})${value}`;
  }
  const kinds: Record<string, Kind> = {
    setMinStake: "vtn", setUnbondingDelay: "duration", setVotingDelay: "blocks", setVotingPeriod: "blocks",
    setProposalThreshold: "vtn", updateQuorumNumerator: "percent", updateDelay: "duration",
  };
  const args = parsed.args.toArray().map((v) => (kinds[parsed.name] ? showValue(kinds[parsed.name]!, v) : String(v)));
  return `${name}.${parsed.name}(${args.join(", ")})${value}`;
}

async function currentStructs(p: Protocol): Promise<Map<string, Record<string, unknown>>> {
  const asRecord = (r: object, fields: readonly [string, Kind, string][]) =>
    Object.fromEntries(fields.map(([f]) => [f, (r as Record<string, unknown>)[f]]));
  const structs = new Map([
    [p.addresses.jobManager.toLowerCase(), asRecord(await p.jobManager.params(), JOB_FIELDS)],
    [p.addresses.disputeFactory.toLowerCase(), asRecord(await p.disputes.params(), DISPUTE_FIELDS)],
  ]);
  if (p.audits !== undefined) structs.set((await p.audits.getAddress()).toLowerCase(), asRecord(await p.audits.params(), AUDIT_FIELDS));
  if (p.roster !== undefined) structs.set((await p.roster.getAddress()).toLowerCase(), asRecord(await p.roster.params(), ROSTER_FIELDS));
  return structs;
}

// ------------------------------------------------------------------ reading proposals

export interface Proposal {
  /** 1 for the first proposal on this governor, 2 for the next… (`#n` in the tasks). */
  readonly index: number;
  readonly id: bigint;
  readonly proposer: string;
  readonly description: string;
  readonly descriptionHash: string;
  readonly actions: ProposalAction[];
  readonly createdBlock: number;
}

export interface ProposalView extends Proposal {
  readonly state: ProposalStateName;
  readonly votes: { readonly for: bigint; readonly against: bigint; readonly abstain: bigint };
  readonly quorum: bigint;
  /** Block numbers (the token's clock): voting opens after `snapshot` and ends with `deadline`. */
  readonly snapshot: bigint;
  readonly deadline: bigint;
  /** Seconds; 0 unless queued. */
  readonly eta: bigint;
  readonly head: number;
  readonly now: bigint;
  readonly decoded: string[];
}

/** Every proposal made on the governor, oldest first, from its `ProposalCreated` events. */
export async function listProposals(p: Protocol): Promise<Proposal[]> {
  const provider = p.connection.ethers.provider;
  const [first, head] = await Promise.all([escrowFirstBlock(p), provider.getBlockNumber()]);
  const out: Proposal[] = [];
  for (let from = first; from <= head; from += LOG_WINDOW) {
    const to = Math.min(head, from + LOG_WINDOW - 1);
    const events = await read(p, "reading proposals", () => p.governor.queryFilter(p.governor.filters.ProposalCreated(), from, to));
    for (const e of events) {
      const a = e.args;
      out.push({
        index: out.length + 1,
        id: a.proposalId,
        proposer: a.proposer,
        description: a.description,
        descriptionHash: keccakText(a.description),
        actions: a.targets.map((target, i) => ({ target, value: a[3][i]!, calldata: a.calldatas[i]! })),
        createdBlock: e.blockNumber,
      });
    }
  }
  return out;
}

/** A proposal by its id, or by `#n` / `n` (its rank on this governor) when n is small. */
export async function findProposal(p: Protocol, ref: string): Promise<Proposal> {
  const text = ref.trim().replace(/^#/, "");
  if (!/^\d+$/.test(text)) throw new VeritensorError(`proposal "${ref}" is neither a proposal id nor #n`);
  const all = await listProposals(p);
  const n = BigInt(text);
  const found = all.find((x) => x.id === n) ?? (n > 0n && n <= BigInt(all.length) ? all[Number(n) - 1] : undefined);
  if (!found) {
    throw new VeritensorError(
      all.length === 0
        ? `no proposal has been made on this governor (${p.addresses.governor}): make one with \`gov propose\``
        : `no proposal ${ref}: the governor has ${all.length} (#1..#${all.length}; \`gov show\` lists them)`,
    );
  }
  return found;
}

/** State, votes, quorum, snapshot, deadline and eta of `x`, with its actions decoded. */
export async function proposalView(p: Protocol, x: Proposal): Promise<ProposalView> {
  const g = p.governor;
  const [stateN, votes, snapshot, deadline, eta, head, now, structs] = await Promise.all([
    // The state a transaction sent now meets: the pending block's (the head's on endpoints without one).
    g.state(x.id, { blockTag: "pending" }).catch(() => g.state(x.id)),
    g.proposalVotes(x.id),
    g.proposalSnapshot(x.id),
    g.proposalDeadline(x.id),
    g.proposalEta(x.id),
    p.connection.ethers.provider.getBlockNumber(),
    nextBlockTime(p),
    currentStructs(p),
  ]);
  // quorum(t) needs a past timepoint: before the snapshot has passed, the quorum as of the last block.
  const quorumAt = snapshot < BigInt(head) ? snapshot : BigInt(head) - 1n;
  const quorum = await g.quorum(quorumAt < 0n ? 0n : quorumAt);
  return {
    ...x,
    state: PROPOSAL_STATES[Number(stateN)]!,
    votes: { against: votes[0], for: votes[1], abstain: votes[2] },
    quorum,
    snapshot,
    deadline,
    eta,
    head,
    now,
    decoded: x.actions.map((a) => describeAction(p, a, structs.get(a.target.toLowerCase()))),
  };
}

/** When the proposal's vote opens or closes, and what comes next, in words. */
export function proposalTimeline(v: ProposalView): string {
  switch (v.state) {
    case "Pending":
      return `voting opens at block ${v.snapshot + 1n} (the head is ${v.head}), closes at block ${v.deadline}`;
    case "Active":
      return `voting open until block ${v.deadline} (${v.deadline - BigInt(v.head)} block(s) left)`;
    case "Succeeded":
      return "passed: queue it with `gov queue`";
    case "Queued":
      return v.eta > v.now ? `queued: executable from ${formatTime(v.eta, v.now)}` : "queued and ready: execute it with `gov execute`";
    case "Defeated":
      return v.votes.for + v.votes.abstain < v.quorum
        ? `defeated: quorum not reached (${formatVtn(v.votes.for + v.votes.abstain)} of ${formatVtn(v.quorum)} counted)`
        : "defeated: not more votes for than against";
    default:
      return v.state.toLowerCase();
  }
}

// ------------------------------------------------------------------ actions

export interface DelegateResult {
  readonly delegator: string;
  readonly delegatee: string;
  /** Votes of the delegatee once the delegation is mined (at the next block, as the governor counts). */
  readonly votes: bigint;
  readonly balance: bigint;
  readonly receipt: ContractTransactionReceipt;
}

/** Delegates the signer's VTN votes to `delegatee` (itself to vote with its own tokens). */
export async function delegateVotes(p: Protocol, signer: Signer, delegatee: string): Promise<DelegateResult> {
  const delegator = await signer.getAddress();
  const balance = await p.token.balanceOf(delegator);
  const receipt = await send(p, `delegating the votes of ${delegator}`, () => p.token.connect(signer).delegate(delegatee));
  return { delegator, delegatee, balance, votes: await p.token.getVotes(delegatee), receipt };
}

/**
 * Votes of `account` at block `timepoint` as the governor counts them. The governor only answers for
 * past blocks; the head itself is past for the next block, so it is read from the pending block
 * (what a transaction sent now would see), falling back to the block before on endpoints without one.
 */
export async function votesAt(p: Protocol, account: string, timepoint: bigint): Promise<bigint> {
  const head = BigInt(await p.connection.ethers.provider.getBlockNumber());
  if (timepoint < head) return read(p, `reading the votes of ${account}`, () => p.governor.getVotes(account, timepoint));
  try {
    return await p.governor.getVotes(account, head, { blockTag: "pending" });
  } catch {
    return read(p, `reading the votes of ${account}`, () => p.governor.getVotes(account, head - 1n));
  }
}

export interface ProposeResult {
  readonly id: bigint;
  readonly proposal: Proposal;
  readonly receipt: ContractTransactionReceipt;
  readonly snapshot: bigint;
  readonly deadline: bigint;
}

/** Makes a proposal of `actions`, refusing first when the proposer has too few votes or it exists. */
export async function propose(p: Protocol, proposer: Signer, actions: readonly ProposalAction[], description: string): Promise<ProposeResult> {
  if (actions.length === 0) throw new VeritensorError("a proposal needs at least one action");
  if (description.trim() === "") throw new VeritensorError("a proposal needs a description (--description)");
  const who = await proposer.getAddress();
  const head = BigInt(await p.connection.ethers.provider.getBlockNumber());
  // The governor checks the proposer's votes at clock() - 1: the head, for a transaction in the next block.
  const [votes, threshold] = await Promise.all([votesAt(p, who, head), p.governor.proposalThreshold()]);
  if (votes < threshold) {
    const balance = await p.token.balanceOf(who);
    const hint = balance >= threshold && (await p.token.delegates(who)) !== who
      ? ` it holds ${formatVtn(balance)}: delegate them to itself first (\`gov delegate --to ${who}\`)`
      : " gather delegations first (`gov delegate`)";
    throw new VeritensorError(
      `not enough votes to propose: ${who} has ${formatVtn(votes)} of votes at block ${head}, the proposal threshold is ${formatVtn(threshold)};${hint}`,
    );
  }
  const targets = actions.map((a) => a.target);
  const values = actions.map((a) => a.value);
  const calldatas = actions.map((a) => a.calldata);
  const id = await p.governor.hashProposal(targets, values, calldatas, keccakText(description));
  if ((await p.governor.proposalSnapshot(id)) !== 0n) {
    throw new VeritensorError(`the same actions with the same description were already proposed (id ${id}): see \`gov show --proposal ${id}\``);
  }
  const receipt = await send(p, "proposing", () => p.governor.connect(proposer).propose(targets, values, calldatas, description));
  const proposal = (await listProposals(p)).find((x) => x.id === id);
  if (!proposal) throw new VeritensorError(`proposal ${id} was sent but its ProposalCreated event is not found`);
  const [snapshot, deadline] = await Promise.all([p.governor.proposalSnapshot(id), p.governor.proposalDeadline(id)]);
  return { id, proposal, receipt, snapshot, deadline };
}

export interface VoteResult {
  readonly proposal: Proposal;
  readonly voter: string;
  readonly support: VoteChoice;
  readonly weight: bigint;
  readonly receipt: ContractTransactionReceipt;
  readonly view: ProposalView;
}

/** Casts the signer's vote, refusing first when voting is not open, it voted already or it has no votes. */
export async function castVote(p: Protocol, voter: Signer, ref: string, support: VoteChoice, reason = ""): Promise<VoteResult> {
  const proposal = await findProposal(p, ref);
  const v = await proposalView(p, proposal);
  const name = `proposal #${proposal.index}`;
  if (v.state === "Pending") {
    throw new VeritensorError(`voting on ${name} is not open yet: it opens at block ${v.snapshot + 1n} (the head is ${v.head})`);
  }
  if (v.state !== "Active") {
    throw new VeritensorError(`voting on ${name} is closed (it ended at block ${v.deadline}; the proposal is ${v.state}): ${proposalTimeline(v)}`);
  }
  const who = await voter.getAddress();
  if (await p.governor.hasVoted(proposal.id, who)) throw new VeritensorError(`${who} has already voted on ${name}`);
  const weight = await votesAt(p, who, v.snapshot);
  if (weight === 0n) {
    throw new VeritensorError(
      `${who} had no votes at ${name}'s snapshot (block ${v.snapshot}): votes count only if delegated before the snapshot`,
    );
  }
  const receipt = await send(p, `voting ${support} on ${name}`, () =>
    reason === ""
      ? p.governor.connect(voter).castVote(proposal.id, VOTE_SUPPORT[support])
      : p.governor.connect(voter).castVoteWithReason(proposal.id, VOTE_SUPPORT[support], reason),
  );
  return { proposal, voter: who, support, weight, receipt, view: await proposalView(p, proposal) };
}

export interface QueueResult {
  readonly proposal: Proposal;
  readonly eta: bigint;
  readonly receipt: ContractTransactionReceipt;
}

const proposalArgs = (x: Proposal) =>
  [x.actions.map((a) => a.target), x.actions.map((a) => a.value), x.actions.map((a) => a.calldata), x.descriptionHash] as const;

/** Queues a succeeded proposal in the timelock; refuses one that has not succeeded, saying why. */
export async function queueProposal(p: Protocol, sender: Signer, ref: string): Promise<QueueResult> {
  const proposal = await findProposal(p, ref);
  const v = await proposalView(p, proposal);
  const name = `proposal #${proposal.index}`;
  if (v.state === "Queued") throw new VeritensorError(`${name} is already queued: ${proposalTimeline(v)}`);
  if (v.state !== "Succeeded") throw new VeritensorError(`${name} has not succeeded, so it cannot be queued (it is ${v.state}: ${proposalTimeline(v)})`);
  const receipt = await send(p, `queueing ${name}`, () => p.governor.connect(sender).queue(...proposalArgs(proposal)));
  return { proposal, eta: await p.governor.proposalEta(proposal.id), receipt };
}

export interface ExecuteResult {
  readonly proposal: Proposal;
  readonly receipt: ContractTransactionReceipt;
  readonly decoded: string[];
}

/** Executes a queued proposal once its timelock delay is over; refuses before that, with the time left. */
export async function executeProposal(p: Protocol, sender: Signer, ref: string): Promise<ExecuteResult> {
  const proposal = await findProposal(p, ref);
  const v = await proposalView(p, proposal);
  const name = `proposal #${proposal.index}`;
  if (v.state === "Executed") throw new VeritensorError(`${name} was already executed`);
  if (v.state !== "Queued") {
    throw new VeritensorError(`${name} is not queued, so it cannot be executed (it is ${v.state}: ${proposalTimeline(v)})`);
  }
  if (v.now < v.eta) {
    throw new VeritensorError(
      `the timelock is not ready for ${name}: it can be executed from ${formatTime(v.eta, v.now)}, ${formatDuration(v.eta - v.now)} from now`,
    );
  }
  const receipt = await send(p, `executing ${name}`, () => p.governor.connect(sender).execute(...proposalArgs(proposal)));
  return { proposal, receipt, decoded: v.decoded };
}

// ------------------------------------------------------------------ concentration

export interface Holding {
  readonly account: string;
  readonly amount: bigint;
}

export interface Concentration {
  /** Largest first. */
  readonly holders: Holding[];
  readonly total: bigint;
  /** Share of the largest 10, in basis points of `total`. */
  readonly top10Bps: bigint;
  /** Fewest holders that together hold more than half of `total` (undefined when total is 0). */
  readonly majority: number | undefined;
  /** Fewest holders that together reach `threshold`, when one is given and reachable. */
  readonly toThreshold: number | undefined;
}

/** Sorts `amounts` and measures them: the top-10 share and the fewest that reach a majority or `threshold`. */
export function concentration(amounts: ReadonlyMap<string, bigint>, threshold?: bigint): Concentration {
  const holders = [...amounts].map(([account, amount]) => ({ account, amount })).filter((h) => h.amount > 0n);
  holders.sort((a, b) => (b.amount > a.amount ? 1 : b.amount < a.amount ? -1 : a.account.localeCompare(b.account)));
  const total = holders.reduce((s, h) => s + h.amount, 0n);
  const fewest = (enough: (sum: bigint) => boolean): number | undefined => {
    let sum = 0n;
    for (const [i, h] of holders.entries()) {
      sum += h.amount;
      if (enough(sum)) return i + 1;
    }
    return undefined;
  };
  const top10 = holders.slice(0, 10).reduce((s, h) => s + h.amount, 0n);
  return {
    holders,
    total,
    top10Bps: total === 0n ? 0n : (top10 * 10_000n) / total,
    majority: total === 0n ? undefined : fewest((s) => s * 2n > total),
    toThreshold: threshold === undefined || total === 0n ? undefined : fewest((s) => s >= threshold),
  };
}

export interface PowerReport {
  /** The block the votes are read at. */
  readonly block: bigint;
  readonly supply: bigint;
  readonly quorum: bigint;
  readonly votes: Concentration;
  readonly stake: Concentration;
}

/**
 * Voting power at the latest past block, read through the governor for every account that ever
 * had delegated votes or staked, and stake among stakers (Staking's `staked`).
 */
export async function votingPower(p: Protocol): Promise<PowerReport> {
  const provider = p.connection.ethers.provider;
  const [first, head] = await Promise.all([escrowFirstBlock(p), provider.getBlockNumber()]);
  if (head === 0) throw new VeritensorError("the chain has no past block to read votes at");
  const block = BigInt(head) - 1n;
  const accounts = new Set<string>();
  const stakers = new Set<string>();
  // Tokens are minted before the escrow exists: read the token's delegations from block 0.
  for (let from = 0; from <= head; from += LOG_WINDOW) {
    const to = Math.min(head, from + LOG_WINDOW - 1);
    const delegations = await read(p, "reading delegations", () => p.token.queryFilter(p.token.filters.DelegateVotesChanged(), from, to));
    for (const e of delegations) accounts.add(getAddress(e.args.delegate));
    if (to >= first) {
      const staked = await read(p, "reading stakes", () => p.staking.queryFilter(p.staking.filters.Staked(), Math.max(from, first), to));
      for (const e of staked) stakers.add(getAddress(e.args.staker));
    }
  }
  for (const s of stakers) accounts.add(s);
  const votes = new Map<string, bigint>();
  for (const a of accounts) votes.set(a, await votesAt(p, a, block));
  const stakes = new Map<string, bigint>();
  for (const s of stakers) stakes.set(s, (await p.staking.stakeOf(s)).staked);
  const [supply, quorum] = await Promise.all([p.token.totalSupply(), p.governor.quorum(block)]);
  return { block, supply, quorum, votes: concentration(votes, quorum), stake: concentration(stakes) };
}
