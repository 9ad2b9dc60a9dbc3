/**
 * A job's events on the escrow, looked up back from the head in windows of {@link LOG_WINDOW}
 * blocks, never before the escrow's deployment block: public endpoints cap the range of
 * `eth_getLogs`, and every call on a job after its request needs the terms in its `JobRequested`.
 * With a {@link Protocol}, the lookups remember what never changes (the deployment block, a job's
 * terms); on a bare escrow contract (contract tests, the dispute bench) they search the same way.
 */
import { getBytes } from "ethers";

import type { JobManager } from "../../types/ethers-contracts/jobs/JobManager.js";
import { VeritensorError } from "./errors.js";
import type { Protocol } from "./protocol.js";
import { read } from "./protocol.js";
import type { JobTerms } from "./terms.js";
import { termsFromEvent } from "./terms.js";

/**
 * Caches below are per escrow: one deployment on one chain, reached through one connection. The
 * connection is part of the key because two chains can hold an escrow at the same address with the
 * same chain id (in-process and local chains deploy deterministically): a cache keyed by address
 * alone would hand one chain's job terms to the other.
 */
const connectionIds = new WeakMap<object, number>();
let connectionsSeen = 0;
function connectionId(p: Protocol): number {
  const provider = p.connection.ethers.provider;
  const known = connectionIds.get(provider);
  if (known !== undefined) return known;
  connectionsSeen += 1;
  connectionIds.set(provider, connectionsSeen);
  return connectionsSeen;
}
const escrowKey = (p: Protocol): string => `${connectionId(p)}:${p.chainId}:${p.addresses.jobManager.toLowerCase()}`;

/** Terms already seen, per escrow and job (they never change; a request or an event scan adds them). */
const termsCache = new Map<string, Map<bigint, JobTerms>>();

function termsOfEscrow(p: Protocol): Map<bigint, JobTerms> {
  const key = escrowKey(p);
  let byId = termsCache.get(key);
  if (!byId) termsCache.set(key, (byId = new Map()));
  return byId;
}

/** Remembers the terms of `jobId` (from a `JobRequested` the caller has already read). */
export function rememberTerms(p: Protocol, jobId: bigint, terms: JobTerms): void {
  termsOfEscrow(p).set(jobId, terms);
}

/** Blocks per `eth_getLogs` call when looking up one job's events (public endpoints cap the range). */
export const LOG_WINDOW = 10_000;

/** One kind of event over blocks `from` to `to`, both included. */
type EventQuery<T> = (from: number, to: number) => Promise<T[]>;

/** Runs a query over an escrow's blocks, newest window first (see {@link newestEvents}). */
type EventSearch = <T>(query: EventQuery<T>) => Promise<T[]>;

/** The newest non-empty result of `query` over windows from `head` back to `first`. */
async function newestInWindows<T>(first: number, head: number, query: EventQuery<T>): Promise<T[]> {
  for (let to = head; to >= first; to -= LOG_WINDOW) {
    const found = await query(Math.max(first, to - LOG_WINDOW + 1), to);
    if (found.length > 0) return found;
  }
  return [];
}

/** The block `jobManager` was deployed in (0 for an escrow that does not say). */
const deploymentBlockOf = (jobManager: JobManager): Promise<number> => jobManager.deploymentBlock().then(Number, () => 0);

const firstBlocks = new Map<string, Promise<number>>();

/** The block the escrow was deployed in (0 for an escrow that does not say), read once per escrow. */
export function escrowFirstBlock(p: Protocol): Promise<number> {
  const key = escrowKey(p);
  let first = firstBlocks.get(key);
  if (!first) {
    first = deploymentBlockOf(p.jobManager);
    firstBlocks.set(key, first);
  }
  return first;
}

/**
 * The newest non-empty result of `query` over windows of {@link LOG_WINDOW} blocks, from the head
 * back to the escrow's deployment block: a job's events are found in one or two calls while the
 * job is live, and no call spans more blocks than public endpoints accept.
 */
export async function newestEvents<T>(p: Protocol, query: EventQuery<T>): Promise<T[]> {
  const [first, head] = await Promise.all([escrowFirstBlock(p), p.connection.ethers.provider.getBlockNumber()]);
  return newestInWindows(first, head, query);
}

/** {@link newestEvents} on a bare escrow contract: its deployment block is read on each search. */
function searchEscrow(jobManager: JobManager): EventSearch {
  return async <T>(query: EventQuery<T>): Promise<T[]> => {
    const provider = jobManager.runner?.provider;
    if (!provider) throw new VeritensorError("the escrow contract is not connected to a provider: its events cannot be read");
    const [first, head] = await Promise.all([deploymentBlockOf(jobManager), provider.getBlockNumber()]);
    return newestInWindows(first, head, query);
  };
}

/** {@link newestEvents} as an {@link EventSearch}: the escrow's deployment block is remembered. */
const searchProtocol = (p: Protocol): EventSearch => (query) => newestEvents(p, query);

const requestEvents = (jm: JobManager, search: EventSearch, jobId: bigint) =>
  search((from, to) => jm.queryFilter(jm.filters.JobRequested(jobId), from, to));

const resultEvents = (jm: JobManager, search: EventSearch, jobId: bigint) =>
  search((from, to) => jm.queryFilter(jm.filters.ResultSubmitted(jobId), from, to));

type RequestEvents = Awaited<ReturnType<typeof requestEvents>>;
type ResultEvents = Awaited<ReturnType<typeof resultEvents>>;

function termsOfRequest(jobId: bigint, [event]: RequestEvents): JobTerms {
  if (!event) throw new VeritensorError(`job ${jobId} does not exist (no JobRequested event for it)`);
  return termsFromEvent(event.args.terms);
}

function lastResult(jobId: bigint, events: ResultEvents): ResultEvents[number] {
  const last = events[events.length - 1];
  if (!last) throw new VeritensorError(`job ${jobId} has no submitted result`);
  return last;
}

function commitmentsOfResult(jobId: bigint, events: ResultEvents): { outputCommitment: string } {
  return { outputCommitment: lastResult(jobId, events).args.outputCommitment };
}

/** The terms of `jobId`, from its `JobRequested` event (read once, then remembered). */
export async function jobTerms(p: Protocol, jobId: bigint): Promise<JobTerms> {
  const known = termsOfEscrow(p).get(jobId);
  if (known) return known;
  const events = await read(p, `reading the request of job ${jobId}`, () => requestEvents(p.jobManager, searchProtocol(p), jobId));
  const terms = termsOfRequest(jobId, events);
  rememberTerms(p, jobId, terms);
  return terms;
}

/** The output commitment of the result submitted for `jobId` (its latest `ResultSubmitted`). */
export async function submittedCommitments(p: Protocol, jobId: bigint): Promise<{ outputCommitment: string }> {
  const events = await read(p, `reading the result of job ${jobId}`, () => resultEvents(p.jobManager, searchProtocol(p), jobId));
  return commitmentsOfResult(jobId, events);
}

/**
 * The result submitted for `jobId` (its latest `ResultSubmitted`): the output bytes with their
 * commitment. The escrow keeps no output: a consumer job's finalization passes these bytes back.
 */
export async function submittedOutput(p: Protocol, jobId: bigint): Promise<{ outputCommitment: string; output: Uint8Array }> {
  const events = await read(p, `reading the result of job ${jobId}`, () => resultEvents(p.jobManager, searchProtocol(p), jobId));
  const { args } = lastResult(jobId, events);
  return { outputCommitment: args.outputCommitment, output: getBytes(args.output) };
}

/** {@link jobTerms} on a bare escrow contract, for callers without a {@link Protocol}: not remembered. */
export async function requestedTerms(jobManager: JobManager, jobId: bigint): Promise<JobTerms> {
  return termsOfRequest(jobId, await requestEvents(jobManager, searchEscrow(jobManager), jobId));
}

/** {@link submittedCommitments} on a bare escrow contract, for callers without a {@link Protocol}. */
export async function escrowSubmittedCommitments(jobManager: JobManager, jobId: bigint): Promise<{ outputCommitment: string }> {
  return commitmentsOfResult(jobId, await resultEvents(jobManager, searchEscrow(jobManager), jobId));
}
