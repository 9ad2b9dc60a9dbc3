/**
 * The events the explorer indexes: for each contract of the protocol (and every dispute game clone),
 * which of its events are kept and which entities each one is about (a job, a model, a game, a
 * proposal, accounts). Events are decoded with the contracts' own ABIs (the TypeChain factories),
 * and kept as JSON of their named arguments, so a page reads `args.workerFee`, never a position.
 *
 * Adding an event is one line here: name it under its contract with the entities it touches. A new
 * contract is a new {@link Source} with its ABI and address (see `sourceAddresses`).
 */
import type { LogDescription, ParamType } from "ethers";
import { Interface } from "ethers";

import {
  AuditManager__factory,
  DisputeGameFactory__factory,
  DisputeGame__factory,
  JobManager__factory,
  ModelRegistry__factory,
  ProtocolTimelock__factory,
  RedundantRequests__factory,
  Staking__factory,
  SubscriptionManager__factory,
  VeritensorGovernor__factory,
  VeritensorToken__factory,
} from "../../types/ethers-contracts/index.js";
import type { ProtocolAddresses } from "../clients/deployment.js";

/**
 * Where an event comes from: a protocol contract by role, or a dispute game clone. `audits` (the
 * audit manager) and `redundancy` (the redundancy contract) are optional: a deployment without them
 * has no such source.
 */
export type Source =
  | "token"
  | "registry"
  | "staking"
  | "jobManager"
  | "timelock"
  | "governor"
  | "disputes"
  | "game"
  | "subscriptions"
  | "audits"
  | "redundancy";

/** JSON of an event's named arguments: numbers as decimal strings, bytes and addresses as hex. */
export type Json = string | boolean | Json[] | { [key: string]: Json };
export type Args = Record<string, Json>;

/** What an event is about: the rows of the index it belongs to. */
export interface Keys {
  readonly job?: bigint;
  readonly model?: bigint;
  /** A dispute game's address (lower case). */
  readonly game?: string;
  /** A governor proposal id (decimal). */
  readonly proposal?: string;
  /** A redundancy group's id. */
  readonly group?: bigint;
  /** Accounts it names (lower case). */
  readonly accounts?: readonly string[];
}

type KeysOf = (a: Args, address: string) => Keys;

const num = (v: Json | undefined): bigint => BigInt(v as string);
const acct = (...vs: (Json | undefined)[]): string[] => vs.filter((v): v is string => typeof v === "string").map((v) => v.toLowerCase());
const job = (a: Args): bigint => num(a.jobId);
const none: KeysOf = () => ({});

/** The events kept, by source, each with the entities it touches. */
export const CATALOG: Readonly<Record<Source, Readonly<Record<string, KeysOf>>>> = {
  jobManager: {
    JobRequested: (a) => ({ job: job(a), model: num(a.modelId), accounts: acct(a.requester) }),
    BatchRequested: (a) => ({ job: job(a) }),
    JobClaimed: (a) => ({ job: job(a), accounts: acct(a.worker) }),
    ResultSubmitted: (a) => ({ job: job(a), accounts: acct(a.worker) }),
    JobFinalized: (a) => ({ job: job(a), accounts: acct(a.worker) }),
    JobRefunded: (a) => ({ job: job(a), accounts: acct(a.requester) }),
    JobCancelled: (a) => ({ job: job(a) }),
    JobReopened: (a) => ({ job: job(a) }),
    WorkerTimedOut: (a) => ({ job: job(a), accounts: acct(a.worker) }),
    JobFrozen: (a) => ({ job: job(a) }),
    DisputeSettled: (a) => ({ job: job(a) }),
    JobRejected: (a) => ({ job: job(a), accounts: acct(a.worker) }),
    CallbackDelivered: (a) => ({ job: job(a) }),
    CallbackFailed: (a) => ({ job: job(a) }),
    BalanceCredited: (a) => ({ ...(num(a.jobId) !== 0n ? { job: job(a) } : {}), accounts: acct(a.account) }),
    BalanceWithdrawn: (a) => ({ accounts: acct(a.account) }),
    ModelEarningsDistributed: (a) => ({ model: num(a.modelId) }),
    ProtocolFeesCollected: (a) => ({ model: num(a.modelId), accounts: acct(a.treasury) }),
    RequesterApprovalSet: (a) => ({ accounts: acct(a.consumer, a.requester) }),
    ParamsSet: none,
    DisputeManagerSet: none,
  },
  registry: {
    ModelRegistered: (a) => ({ model: num(a.modelId), accounts: acct(a.owner) }),
    ModelSplitSet: (a) => ({ model: num(a.modelId) }),
    ModelPriceUpdated: (a) => ({ model: num(a.modelId) }),
    ModelURIUpdated: (a) => ({ model: num(a.modelId) }),
    ModelDeprecated: (a) => ({ model: num(a.modelId) }),
    ModelOwnershipTransferred: (a) => ({ model: num(a.modelId), accounts: acct(a.previousOwner, a.newOwner) }),
  },
  staking: {
    Staked: (a) => ({ accounts: acct(a.staker) }),
    UnstakeRequested: (a) => ({ accounts: acct(a.staker) }),
    Withdrawn: (a) => ({ accounts: acct(a.staker) }),
    StakeLocked: (a) => ({ accounts: acct(a.staker) }),
    StakeUnlocked: (a) => ({ accounts: acct(a.staker) }),
    StakeSlashed: (a) => ({ accounts: acct(a.staker) }),
    ModelServed: (a) => ({ model: num(a.modelId), accounts: acct(a.staker) }),
    MinStakeSet: none,
    UnbondingDelaySet: none,
  },
  disputes: {
    DisputeCommitted: (a) => ({ accounts: acct(a.committer) }),
    DisputeOpened: (a) => ({ job: job(a), game: (a.game as string).toLowerCase(), accounts: acct(a.challenger) }),
    DisputeSettled: (a) => ({ job: job(a), game: (a.game as string).toLowerCase() }),
    BatchItemDisputed: (a) => ({ job: job(a), game: (a.game as string).toLowerCase() }),
    DisputesClosed: (a) => ({ job: job(a), ...(num(a.winnerGame) !== 0n ? { game: (a.winnerGame as string).toLowerCase() } : {}) }),
    BalanceCredited: (a) => ({ ...(num(a.game) !== 0n ? { game: (a.game as string).toLowerCase() } : {}), accounts: acct(a.account) }),
    BalanceWithdrawn: (a) => ({ accounts: acct(a.account) }),
    ParamsSet: none,
  },
  game: Object.fromEntries(
    ["RootPosted", "ChildrenRevealed", "LayerDisputed", "ChunkRevealed", "ElementDisputed", "SumPosted", "Stepped", "GameResolved"].map((name) => [
      name,
      ((a: Args, address: string) => ({ game: address.toLowerCase(), ...(name === "Stepped" ? { accounts: acct(a.caller) } : {}) })) as KeysOf,
    ]),
  ),
  governor: {
    ProposalCreated: (a) => ({ proposal: a.proposalId as string, accounts: acct(a.proposer) }),
    VoteCast: (a) => ({ proposal: a.proposalId as string, accounts: acct(a.voter) }),
    VoteCastWithParams: (a) => ({ proposal: a.proposalId as string, accounts: acct(a.voter) }),
    ProposalQueued: (a) => ({ proposal: a.proposalId as string }),
    ProposalExecuted: (a) => ({ proposal: a.proposalId as string }),
    ProposalCanceled: (a) => ({ proposal: a.proposalId as string }),
  },
  timelock: {
    CallScheduled: none,
    CallExecuted: none,
    Cancelled: none,
    MinDelayChange: none,
  },
  token: {
    DelegateChanged: (a) => ({ accounts: acct(a.delegator, a.fromDelegate, a.toDelegate) }),
  },
  // A subscription's events are found by `args.subscriptionId`; a run's also belong to its job.
  subscriptions: {
    SubscriptionCreated: (a) => ({ accounts: acct(a.consumer) }),
    SubscriptionFunded: (a) => ({ accounts: acct(a.from) }),
    RunTriggered: (a) => ({ job: job(a), accounts: acct(a.keeper) }),
    ResultRelayed: (a) => ({ job: job(a) }),
    RelayFailed: (a) => ({ job: job(a) }),
    RunSettled: (a) => ({ job: job(a) }),
    SlashesCollected: (a) => ({ job: job(a) }),
    SubscriptionCancelled: none,
    FundsWithdrawn: (a) => ({ accounts: acct(a.to) }),
    FeePerRunSet: none,
    KeeperRewardSet: none,
  },
  // An audit's events belong to its job and name its auditor; the pool's have no entity.
  audits: {
    AuditCommitted: (a) => ({ job: job(a), accounts: acct(a.auditor) }),
    AuditPassed: (a) => ({ job: job(a), accounts: acct(a.auditor) }),
    AuditMismatch: (a) => ({ job: job(a), accounts: acct(a.auditor) }),
    AuditMissed: (a) => ({ job: job(a), accounts: acct(a.auditor) }),
    AuditSettled: (a) => ({ job: job(a), accounts: acct(a.auditor) }),
    PoolFunded: none,
    ParamsSet: none,
    EscrowBound: none,
    BalanceCredited: (a) => ({ ...(num(a.jobId) !== 0n ? { job: job(a) } : {}), accounts: acct(a.account) }),
    BalanceWithdrawn: (a) => ({ accounts: acct(a.account) }),
  },
  // A group's events carry its id; its jobs are found from the request's transaction (database.ts).
  redundancy: {
    GroupRequested: (a) => ({ group: num(a.groupId), accounts: acct(a.requester) }),
    GroupConfirmed: (a) => ({ group: num(a.groupId) }),
    GroupResolved: (a) => ({ group: num(a.groupId) }),
    JobSettled: (a) => ({ group: num(a.groupId), job: job(a), accounts: acct(a.requester) }),
    BalanceWithdrawn: (a) => ({ accounts: acct(a.account) }),
  },
};

/** Each source's ABI. */
export const INTERFACES: Readonly<Record<Source, Interface>> = {
  token: new Interface(VeritensorToken__factory.abi),
  registry: new Interface(ModelRegistry__factory.abi),
  staking: new Interface(Staking__factory.abi),
  jobManager: new Interface(JobManager__factory.abi),
  timelock: new Interface(ProtocolTimelock__factory.abi),
  governor: new Interface(VeritensorGovernor__factory.abi),
  disputes: new Interface(DisputeGameFactory__factory.abi),
  game: new Interface(DisputeGame__factory.abi),
  subscriptions: new Interface(SubscriptionManager__factory.abi),
  audits: new Interface(AuditManager__factory.abi),
  redundancy: new Interface(RedundantRequests__factory.abi),
};

/**
 * The protocol contracts' addresses (lower case) by source; games are found from `DisputeOpened`.
 * The audit manager and the redundancy contract are in only when the address book names them.
 */
export function sourceAddresses(a: ProtocolAddresses): Map<string, Source> {
  const optional: [string | undefined, Source][] = [
    [a.auditManager, "audits"],
    [a.redundancy, "redundancy"],
  ];
  return new Map<string, Source>([
    [a.token.toLowerCase(), "token"],
    [a.registry.toLowerCase(), "registry"],
    [a.staking.toLowerCase(), "staking"],
    [a.jobManager.toLowerCase(), "jobManager"],
    [a.timelock.toLowerCase(), "timelock"],
    [a.governor.toLowerCase(), "governor"],
    [a.disputeFactory.toLowerCase(), "disputes"],
    [a.subscriptions.toLowerCase(), "subscriptions"],
    ...optional.filter(([address]) => address !== undefined && BigInt(address) !== 0n).map(([address, source]) => [address!.toLowerCase(), source] as [string, Source]),
  ]);
}

/** An `eth_getLogs` entry as the endpoint sends it (hex quantities). */
export interface RawLog {
  readonly address: string;
  readonly topics: readonly string[];
  readonly data: string;
  readonly blockNumber: string;
  readonly blockHash: string;
  readonly blockTimestamp?: string;
  readonly transactionHash: string;
  readonly transactionIndex: string;
  readonly logIndex: string;
  readonly removed?: boolean;
}

/** A kept event, decoded. */
export interface DecodedEvent {
  readonly block: number;
  readonly blockHash: string;
  readonly logIndex: number;
  readonly txHash: string;
  readonly txIndex: number;
  readonly address: string;
  readonly source: Source;
  readonly name: string;
  readonly args: Args;
  readonly keys: Keys;
}

/** A decoded value as JSON, by its ABI type (as ethers decodes it; addresses in lower case). */
export function toJson(value: unknown, type: ParamType): Json {
  if (type.isTuple()) {
    const out: Record<string, Json> = {};
    type.components.forEach((c, i) => {
      out[c.name || String(i)] = toJson((value as unknown[])[i], c);
    });
    return out;
  }
  if (type.isArray()) return (value as unknown[]).map((v) => toJson(v, type.arrayChildren));
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "boolean") return value;
  if (type.baseType === "address") return (value as string).toLowerCase();
  return String(value);
}

/** An event's named arguments decoded by ethers (the reference the fast decoder is tested against). */
export function argsOf(d: LogDescription): Args {
  const out: Args = {};
  d.fragment.inputs.forEach((input, i) => {
    out[input.name || String(i)] = toJson(d.args[i], input);
  });
  return out;
}

// ------------------------------------------------------------------ the fast decoder
//
// ethers' decoder takes about 0.2 ms per event (it builds Results and checksums every address),
// most of an indexing pass. Events are decoded here straight from the hex of their data into the
// same JSON, by the standard ABI layout: heads of 32 bytes (a static tuple inline), dynamic values
// at offsets from the start of their enclosing tuple. The catalog's events use nothing else.

const TWO_255 = 1n << 255n;
const TWO_256 = 1n << 256n;

const isDynamic = (t: ParamType): boolean =>
  t.baseType === "string" ||
  t.baseType === "bytes" ||
  (t.isArray() && (t.arrayLength === -1 || isDynamic(t.arrayChildren))) ||
  (t.isTuple() && t.components.some(isDynamic));

const staticSize = (t: ParamType): number =>
  t.isTuple() ? t.components.reduce((s, c) => s + staticSize(c), 0) : t.isArray() ? t.arrayLength * staticSize(t.arrayChildren) : 32;

/** 64 hex digits of the word at byte `pos` of `hex` (no 0x). */
const wordAt = (hex: string, pos: number): string => {
  const w = hex.slice(pos * 2, pos * 2 + 64);
  if (w.length !== 64) throw new Error(`event data ends before byte ${pos + 32}`);
  return w;
};

function staticValue(t: ParamType, w: string): Json {
  const base = t.baseType;
  if (base.startsWith("uint")) return BigInt(`0x${w}`).toString();
  if (base.startsWith("int")) {
    const v = BigInt(`0x${w}`);
    return (v >= TWO_255 ? v - TWO_256 : v).toString();
  }
  if (base === "address") return `0x${w.slice(24)}`;
  if (base === "bool") return /[^0]/.test(w);
  if (base.startsWith("bytes")) return `0x${w.slice(0, Number(base.slice(5)) * 2)}`;
  throw new Error(`no fast decoding for ${t.type}`);
}

function valueAt(t: ParamType, hex: string, pos: number): Json {
  if (t.isTuple()) return tupleAt(t.components, hex, pos, t.components.map((c, i) => c.name || String(i)));
  if (t.isArray()) {
    const dynamicLength = t.arrayLength === -1;
    const n = dynamicLength ? Number(BigInt(`0x${wordAt(hex, pos)}`)) : t.arrayLength;
    const items = tupleAt(Array<ParamType>(n).fill(t.arrayChildren), hex, dynamicLength ? pos + 32 : pos, undefined);
    return items as Json[];
  }
  if (t.baseType === "bytes" || t.baseType === "string") {
    const n = Number(BigInt(`0x${wordAt(hex, pos)}`));
    const body = hex.slice((pos + 32) * 2, (pos + 32 + n) * 2);
    if (body.length !== n * 2) throw new Error("event data ends inside a bytes value");
    return t.baseType === "bytes" ? `0x${body}` : Buffer.from(body, "hex").toString("utf8");
  }
  return staticValue(t, wordAt(hex, pos));
}

/** A tuple's values at byte `start`: an object by `names`, or an array when names is undefined. */
function tupleAt(types: readonly ParamType[], hex: string, start: number, names: readonly string[] | undefined): Json {
  const values: Json[] = [];
  let head = start;
  for (const t of types) {
    if (isDynamic(t)) {
      values.push(valueAt(t, hex, start + Number(BigInt(`0x${wordAt(hex, head)}`))));
      head += 32;
    } else {
      values.push(valueAt(t, hex, head));
      head += staticSize(t);
    }
  }
  if (names === undefined) return values;
  return Object.fromEntries(names.map((n, i) => [n, values[i]!]));
}

interface Decoder {
  readonly name: string;
  readonly inputs: readonly ParamType[];
  readonly data: readonly ParamType[];
  readonly keysOf: KeysOf;
}

const decoders = new Map<string, Decoder | null>();

function decoderOf(source: Source, topic0: string): Decoder | null {
  const key = `${source}:${topic0}`;
  let d = decoders.get(key);
  if (d === undefined) {
    const fragment = INTERFACES[source].getEvent(topic0);
    const keysOf = fragment ? CATALOG[source][fragment.name] : undefined;
    d = fragment && keysOf ? { name: fragment.name, inputs: fragment.inputs, data: fragment.inputs.filter((i) => !i.indexed), keysOf } : null;
    decoders.set(key, d);
  }
  return d;
}

/** The named arguments of `log` by decoder `d`: indexed ones from the topics, the rest from the data. */
function fastArgs(d: Decoder, log: RawLog): Args {
  const data = tupleAt(d.data, log.data.slice(2), 0, undefined) as Json[];
  const out: Args = {};
  let topic = 1;
  let next = 0;
  d.inputs.forEach((input, i) => {
    const name = input.name || String(i);
    if (input.indexed) {
      const t = log.topics[topic++]!;
      out[name] = isDynamic(input) || input.isTuple() ? t : staticValue(input, t.slice(2));
    } else out[name] = data[next++]!;
  });
  return out;
}

/** Decodes `log` from `source` if the catalog keeps it (undefined for any other event). */
export function decodeLog(log: RawLog, source: Source): DecodedEvent | undefined {
  const topic0 = log.topics[0];
  if (topic0 === undefined) return undefined;
  const d = decoderOf(source, topic0.toLowerCase());
  if (!d) return undefined;
  let args: Args;
  try {
    args = fastArgs(d, log);
  } catch {
    // Anything the fast decoder cannot read goes through ethers, which says what is wrong.
    const parsed = INTERFACES[source].parseLog({ topics: [...log.topics], data: log.data });
    if (!parsed) return undefined;
    args = argsOf(parsed);
  }
  return {
    block: Number(log.blockNumber),
    blockHash: log.blockHash.toLowerCase(),
    logIndex: Number(log.logIndex),
    txHash: log.transactionHash.toLowerCase(),
    txIndex: Number(log.transactionIndex),
    address: log.address.toLowerCase(),
    source,
    name: d.name,
    args,
    keys: d.keysOf(args, log.address),
  };
}
