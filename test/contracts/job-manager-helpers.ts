/** What the JobManager test files share: one chain, the deployed protocol as a fixture, and term helpers. */
import { network } from "hardhat";
import { keccak256 } from "ethers";
import { protocolFixtures } from "./fixtures.js";
import type { JobTerms, Params, Protocol } from "./fixtures.js";

export const conn = await network.create();
export const { ethers, networkHelpers } = conn;
export const { deployProtocol } = protocolFixtures(conn);
export const { time } = networkHelpers;

export async function protocol(): Promise<Protocol> {
  return networkHelpers.loadFixture(deployProtocol);
}

export async function setParams(p: Protocol, changes: Partial<Params>) {
  const next = { ...p.params, ...changes };
  await p.jm.connect(p.deployer).setParams(next);
  return next;
}

/** Lock a claim takes with the default params (twice the fee, at least minJobLock). */
export function lockFor(p: Protocol, fee: bigint) {
  const l = (fee * p.params.stakeRatioBps) / 10_000n;
  return l < p.params.minJobLock ? p.params.minJobLock : l;
}

/** The positional tuple of `terms` (for `.withArgs` on an event that carries them). */
export function termsTuple(t: JobTerms): unknown[] {
  return [
    t.requester,
    t.modelId,
    t.fee,
    t.modelFee,
    t.lock,
    t.protocolFeeBps,
    t.deadline,
    t.outputElements,
    t.consumer,
    t.callbackGasLimit,
    t.inputCommitment,
    t.paramsVersion,
  ];
}

/**
 * `terms` with one thing changed, by name: each is what a caller might try to get away with (a lower
 * fee, a smaller lock, another requester to receive refunds and slashes, ...).
 */
export function alteredTerms(terms: JobTerms, stranger: string): [string, JobTerms][] {
  return [
    ["another requester", { ...terms, requester: stranger }],
    ["a lower fee", { ...terms, fee: terms.fee - 1n }],
    ["a higher fee", { ...terms, fee: terms.fee + 1n }],
    ["another model", { ...terms, modelId: terms.modelId + 1n }],
    ["a lower model fee", { ...terms, modelFee: terms.modelFee - 1n }],
    ["a smaller lock", { ...terms, lock: terms.lock - 1n }],
    ["a larger lock", { ...terms, lock: terms.lock + 1n }],
    ["a zero lock", { ...terms, lock: 0n }],
    ["another protocol fee rate", { ...terms, protocolFeeBps: terms.protocolFeeBps + 1n }],
    ["a later deadline", { ...terms, deadline: terms.deadline + 1n }],
    ["another output size", { ...terms, outputElements: terms.outputElements + 1n }],
    ["a consumer", { ...terms, consumer: stranger, callbackGasLimit: 1n }],
    ["another input", { ...terms, inputCommitment: keccak256("0x01") }],
    // An older version has other windows, slash, treasury or dispute manager (version 1 has none).
    ["an older parameter version", { ...terms, paramsVersion: terms.paramsVersion - 1n }],
    ["a later parameter version", { ...terms, paramsVersion: terms.paramsVersion + 1n }],
  ];
}

/**
 * A consumer contract (GasRecordingConsumer, unless `name` says which) that has approved the
 * fixture's requester, so the requester may name it in a request.
 */
export async function approvedConsumer(p: Protocol, name = "GasRecordingConsumer", args: unknown[] = []): Promise<string> {
  const consumer = await p.conn.ethers.deployContract(name, args);
  await (consumer as unknown as { allow(jm: string, requester: string): Promise<unknown> }).allow(await p.jm.getAddress(), p.requester.address);
  return consumer.getAddress();
}

/** Smallest gas limit with which `call(gas)` does not revert (binary search over eth_call). */
export async function minimalGas(call: (gas: bigint) => Promise<unknown>, lo: bigint, hi: bigint) {
  await call(hi); // must pass
  while (hi - lo > 1n) {
    const mid = (lo + hi) / 2n;
    try {
      await call(mid);
      hi = mid;
    } catch {
      lo = mid;
    }
  }
  return hi;
}
