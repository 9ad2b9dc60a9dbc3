/**
 * Shared fixtures and helpers of the protocol tests (test/contracts/*.ts).
 *
 * Every test file opens its own connection (`network.create()`) and builds its fixtures with
 * {@link protocolFixtures}, so that `loadFixture` snapshots are per connection. The protocol is
 * deployed by Ignition from the production builders (ignition/modules/testing/TestProtocol.ts),
 * with the test constants below as module parameters.
 */
import { expect } from "chai";
import type { AddressLike, BytesLike, Contract } from "ethers";
import { ZeroAddress, ZeroHash, getBytes, hexlify, id, resolveAddress } from "ethers";
import type { network } from "hardhat";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";

import TestProtocol, { TestGovernance } from "../../ignition/modules/testing/TestProtocol.js";
import Token from "../../ignition/modules/Token.js";
import type { JobTerms } from "../../offchain/clients/terms.js";
import { resultHash, termsFromEvent, termsHash } from "../../offchain/clients/terms.js";
import { canonicalBytes, commitBytes } from "../../offchain/commitments/tensor.js";
import type {
  JobManager,
  ModelRegistry,
  ProtocolTimelock,
  Staking,
  VeritensorGovernor,
  VeritensorToken,
} from "../../types/ethers-contracts/index.js";
import type { IJobManager } from "../../types/ethers-contracts/jobs/JobManager.js";
import type { IModelRegistry } from "../../types/ethers-contracts/registry/ModelRegistry.js";

export type Connection = Awaited<ReturnType<typeof network.create>>;
export type Signer = HardhatEthersSigner;

// ------------------------------------------------------------------ constants

export const WAD = 10n ** 18n;
export const SUPPLY = 1_000_000_000n * WAD;
export const MIN_STAKE = 1_000n * WAD;
export const UNBONDING_DELAY = 7n * 24n * 3600n;
/** The shortest challenge window the escrow lets governance set. */
export const MIN_CHALLENGE_WINDOW = 60n;
export const WORKER_STAKE = 10_000n * WAD;

/** The model price: not a multiple of 10000, so the contributors' shares leave rounding dust. */
export const PRICE = 10n * WAD + 7n;
export const DEV_BPS = 3334;
export const C1_BPS = 3333;
export const C2_BPS = 3333;
/** 600 int32 elements = 2400 bytes: three 1024-byte chunks, the last one padded, four leaves. */
export const INPUT_SHAPE = [1, 600];
export const INPUT_ELEMENTS = 600;
export const OUTPUT_SHAPE = [1, 10];
export const OUTPUT_ELEMENTS = 10;
export const CONTENT_HASH = id("model.onnx bytes");
export const GRAPH_COMMITMENT = id("canonical graph");
export const MODEL_URI = "ipfs://bafy-model-v1";
/** Scales in 18-decimal fixed point: 1/255 (pixels) in, the MNIST MLP's output scale (rounded) out. */
export const INPUT_SCALE_WAD = 3_921_568_627_450_980n;
export const OUTPUT_SCALE_WAD = 681_669_360_297_112n;

/** Protocol fee rate: 8% of each job's fee goes to the treasury. */
export const PROTOCOL_FEE_BPS = 800n;

/** The treasury's part of `fee` at `bps` (rounded down, as the escrow computes it). */
export function protocolFeeOf(fee: bigint, bps: bigint = PROTOCOL_FEE_BPS): bigint {
  return (fee * bps) / 10_000n;
}

/**
 * The least fee with fee - protocolFeeOf(fee) >= price, found by stepping up from a lower bound:
 * independent of the closed form of JobManager.minimumFee (which the clients ask for).
 */
export function minimumFeeFor(price: bigint, bps: bigint = PROTOCOL_FEE_BPS): bigint {
  let fee = (price * 10_000n) / (10_000n - bps) - 2n;
  if (fee < price) fee = price;
  while (fee - protocolFeeOf(fee, bps) < price) fee++;
  return fee;
}

/** The least fee a job on model 1 may offer (PRICE after the 8% protocol fee). */
export const MIN_FEE = minimumFeeFor(PRICE);
/** A fee with a worker part. */
export const FEE = 25n * WAD;
/** The protocol fee of a job paying FEE (exactly 2 VTN). */
export const PROTOCOL_FEE = protocolFeeOf(FEE);
/** The worker's part of FEE on model 1. */
export const WORKER_FEE = FEE - PRICE - PROTOCOL_FEE;

export const CHALLENGE_WINDOW = 3600n;
export const RESULT_TIMEOUT = 600n;
export const MAX_JOB_DURATION = 2n * 24n * 3600n;
export const MAX_CALLBACK_GAS = 1_000_000n;
/** Token wei a consumer job pays per unit of callback gas, to its finalizer (10^-6 VTN: 200,000 gas is 0.2 VTN). */
export const CALLBACK_FEE_PER_GAS = 10n ** 12n;

/** The callback fee of a consumer job with `gas` at `perGas` (paid to its finalizer out of its fee). */
export function callbackFeeOf(gas: bigint, perGas: bigint = CALLBACK_FEE_PER_GAS): bigint {
  return gas * perGas;
}

/** JobStatus enum of IJobManager. */
export const Status = {
  None: 0n,
  Open: 1n,
  Claimed: 2n,
  Submitted: 3n,
  Finalized: 4n,
  Refunded: 5n,
  Rejected: 6n,
} as const;

/** IJobManager.Params, in its storage order (two slots: minJobLock…maxJobDuration, treasury…). */
export type Params = {
  minJobLock: bigint;
  stakeRatioBps: bigint;
  protocolFeeBps: bigint;
  timeoutSlashBps: bigint;
  paused: boolean;
  challengeWindow: bigint;
  resultTimeout: bigint;
  maxJobDuration: bigint;
  treasury: string;
  maxCallbackGasLimit: bigint;
  callbackFeePerGas: bigint;
  auditFeeBps: bigint;
};

export function defaultParams(treasury: string): Params {
  return {
    minJobLock: 20n * WAD,
    stakeRatioBps: 20_000n,
    protocolFeeBps: PROTOCOL_FEE_BPS,
    timeoutSlashBps: 5_000n,
    paused: false,
    challengeWindow: CHALLENGE_WINDOW,
    resultTimeout: RESULT_TIMEOUT,
    maxJobDuration: MAX_JOB_DURATION,
    treasury,
    maxCallbackGasLimit: MAX_CALLBACK_GAS,
    callbackFeePerGas: CALLBACK_FEE_PER_GAS,
    auditFeeBps: 0n,
  };
}

/** The params as the positional tuple an event carries (for `.withArgs`). */
export function paramsTuple(p: Params): unknown[] {
  return [
    p.minJobLock,
    p.stakeRatioBps,
    p.protocolFeeBps,
    p.timeoutSlashBps,
    p.paused,
    p.challengeWindow,
    p.resultTimeout,
    p.maxJobDuration,
    p.treasury,
    p.maxCallbackGasLimit,
    p.callbackFeePerGas,
    p.auditFeeBps,
  ];
}

// ------------------------------------------------------------------ tensors

/** Canonical bytes (int32 little-endian) of `values`, as 0x-hex. */
export function int32Bytes(values: readonly number[]): string {
  return hexlify(canonicalBytes(values));
}

/** Tensor commitment (docs/SEMANTICS.md "Commitments") of canonical bytes, via offchain/commitments. */
export function tensorCommitment(bytes: BytesLike): string {
  return commitBytes(getBytes(bytes)).root;
}

/** A deterministic input of `n` elements with negative, zero and positive values. */
export function sampleInput(n = INPUT_ELEMENTS, seed = 1): number[] {
  return Array.from({ length: n }, (_, i) => (((i + 1) * 7919 * seed) % 511) - 255);
}

/** Ten digit scores whose largest is at `best`. */
export function digitScores(best: number): number[] {
  return Array.from({ length: 10 }, (_, i) => (i === best ? 1000 : -100 + i));
}

export const SAMPLE_INPUT = int32Bytes(sampleInput());
export const SAMPLE_OUTPUT = int32Bytes(digitScores(7));

// ------------------------------------------------------------------ model specs

export function modelSpec(
  overrides: Partial<IModelRegistry.ModelSpecStruct> = {},
  contributors: IModelRegistry.ContributorStruct[] = [],
): IModelRegistry.ModelSpecStruct {
  return {
    contentHash: CONTENT_HASH,
    graphCommitment: GRAPH_COMMITMENT,
    uri: MODEL_URI,
    inputShape: INPUT_SHAPE,
    outputShape: OUTPUT_SHAPE,
    inputScaleWad: INPUT_SCALE_WAD,
    outputScaleWad: OUTPUT_SCALE_WAD,
    price: PRICE,
    developerBps: 10_000,
    contributors,
    ...overrides,
  };
}

// ------------------------------------------------------------------ fixtures

export interface Actors {
  deployer: Signer;
  treasury: Signer;
  developer: Signer;
  contributor1: Signer;
  contributor2: Signer;
  worker: Signer;
  worker2: Signer;
  requester: Signer;
  disputeManager: Signer;
  operator: Signer;
  other: Signer;
}

export interface Protocol extends Actors {
  conn: Connection;
  token: VeritensorToken;
  registry: ModelRegistry;
  staking: Staking;
  jm: JobManager;
  params: Params;
  /** Model 1: PRICE, developer 3334 bps, two contributors with 3333 bps each. */
  modelId: bigint;
}

export interface Governance extends Protocol {
  timelock: ProtocolTimelock;
  governor: VeritensorGovernor;
}

export const TIMELOCK_DELAY = 3600n;
export const VOTING_DELAY = 1n;
export const VOTING_PERIOD = 20n;
export const QUORUM_PERCENT = 4n;

export async function actors(conn: Connection): Promise<Actors> {
  const [
    deployer,
    treasury,
    developer,
    contributor1,
    contributor2,
    worker,
    worker2,
    requester,
    disputeManager,
    operator,
    other,
  ] = await conn.ethers.getSigners();
  return {
    deployer,
    treasury,
    developer,
    contributor1,
    contributor2,
    worker,
    worker2,
    requester,
    disputeManager,
    operator,
    other,
  };
}

/**
 * Ignition parameters (by module id) of the test deployments (ignition/modules/testing/): the
 * constants above, and the actors the tests act as where production has the timelock or the
 * dispute factory.
 */
export function protocolParameters(a: Actors) {
  // Every field but `paused` is a Jobs parameter: the escrow always starts unpaused.
  const { paused: _, ...jobs } = defaultParams(a.treasury.address);
  return {
    Token: { supply: SUPPLY },
    Staking: { minStake: MIN_STAKE, unbondingDelay: UNBONDING_DELAY },
    Jobs: { ...jobs, minChallengeWindow: MIN_CHALLENGE_WINDOW, disputeManager: a.disputeManager.address },
    Governance: {
      timelockDelay: TIMELOCK_DELAY,
      votingDelay: VOTING_DELAY,
      votingPeriod: VOTING_PERIOD,
      proposalThreshold: 0n,
      quorumPercent: QUORUM_PERCENT,
    },
  };
}

/** The contracts every test deployment returns (ignition/modules/testing/TestProtocol.ts). */
export interface BareContracts {
  token: Contract;
  registry: Contract;
  staking: Contract;
  jobManager: Contract;
}

/** The bare protocol of a test deployment `c`, once test tokens are handed out to those who pay or stake. */
export async function bareProtocol(conn: Connection, a: Actors, c: BareContracts): Promise<Omit<Protocol, "modelId">> {
  const token = c.token as unknown as VeritensorToken;
  for (const s of [a.requester, a.worker, a.worker2, a.other, a.operator]) {
    await token.transfer(s.address, 100_000n * WAD);
  }
  return {
    ...a,
    conn,
    token,
    registry: c.registry as unknown as ModelRegistry,
    staking: c.staking as unknown as Staking,
    jm: c.jobManager as unknown as JobManager,
    params: defaultParams(a.treasury.address),
  };
}

/**
 * Named fixture functions bound to one connection (loadFixture caches by function identity).
 * The wiring is Ignition's (ignition/modules/testing/TestProtocol.ts).
 */
export function protocolFixtures(conn: Connection) {
  const { ethers, ignition } = conn;

  async function deployToken() {
    const a = await actors(conn);
    const { token } = await ignition.deploy(Token, { parameters: { Token: { supply: SUPPLY } } });
    return { ...a, token: token as unknown as VeritensorToken };
  }

  /** Model 1 (with two contributors), two staked workers, an approving requester. */
  async function withModel(p: Omit<Protocol, "modelId">): Promise<Protocol> {
    await p.token.connect(p.requester).approve(await p.jm.getAddress(), ethers.MaxUint256);
    for (const w of [p.worker, p.worker2]) {
      await p.token.connect(w).approve(await p.staking.getAddress(), ethers.MaxUint256);
      await p.staking.connect(w).stake(WORKER_STAKE);
    }
    await p.registry.connect(p.developer).registerModel(
      modelSpec({ developerBps: DEV_BPS }, [
        { account: p.contributor1.address, bps: C1_BPS },
        { account: p.contributor2.address, bps: C2_BPS },
      ]),
    );
    return { ...p, modelId: 1n };
  }

  /** Token, registry, staking and escrow wired together, tokens handed out; no model, no stake. */
  async function deployBareProtocol(): Promise<Omit<Protocol, "modelId">> {
    const a = await actors(conn);
    return bareProtocol(conn, a, await ignition.deploy(TestProtocol, { parameters: protocolParameters(a) }));
  }

  /** The bare protocol plus model 1 (with two contributors), two staked workers, an approving requester. */
  async function deployProtocol(): Promise<Protocol> {
    return withModel(await deployBareProtocol());
  }

  /** The protocol owned by a timelock that a VTN-voting governor controls. */
  async function deployGovernance(): Promise<Governance> {
    const a = await actors(conn);
    const c = await ignition.deploy(TestGovernance, { parameters: protocolParameters(a) });
    const p = await withModel(await bareProtocol(conn, a, c));
    // The deployer keeps most of the supply and votes with it.
    await p.token.delegate(p.deployer.address);
    return { ...p, timelock: c.timelock as unknown as ProtocolTimelock, governor: c.governor as unknown as VeritensorGovernor };
  }

  return { deployToken, deployBareProtocol, deployProtocol, deployGovernance };
}

// ------------------------------------------------------------------ job helpers

export type RequestOverrides = Partial<IJobManager.RequestParamsStruct>;

export async function requestParams(p: Protocol, overrides: RequestOverrides = {}) {
  const now = BigInt(await p.conn.networkHelpers.time.latest());
  return {
    modelId: p.modelId,
    input: SAMPLE_INPUT,
    inputURI: "",
    inputCommitment: "0x" + "00".repeat(32),
    fee: FEE,
    deadline: now + 24n * 3600n,
    consumer: ZeroAddress,
    callbackGasLimit: 0n,
    ...overrides,
  } satisfies IJobManager.RequestParamsStruct;
}

/** Requests a job (by `from`, the requester by default) and returns its id. */
export async function requestJob(p: Protocol, overrides: RequestOverrides = {}, from: Signer = p.requester) {
  const rp = await requestParams(p, overrides);
  await p.jm.connect(from).requestInference(rp);
  return p.jm.jobCount();
}

/** The stake a job of `fee` locks under `params` (fixed at request): the ratio of the fee, at least the minimum lock. */
export function lockFor(params: Pick<Params, "stakeRatioBps" | "minJobLock">, fee: bigint): bigint {
  const byFee = (fee * params.stakeRatioBps) / 10_000n;
  return byFee > params.minJobLock ? byFee : params.minJobLock;
}

/** A job's terms, their hashes and their decoding are the clients' (offchain/clients/terms.ts). */
export type { JobTerms };
export { resultHash, termsFromEvent, termsHash };

/** Terms with every field zero: what tests pass for a job that does not exist. */
const NO_TERMS: Readonly<JobTerms> = {
  requester: ZeroAddress,
  modelId: 0n,
  fee: 0n,
  modelFee: 0n,
  lock: 0n,
  protocolFeeBps: 0n,
  deadline: 0n,
  outputElements: 0n,
  consumer: ZeroAddress,
  callbackGasLimit: 0n,
  inputCommitment: ZeroHash,
  paramsVersion: 0n,
};

/** The escrow itself, or anything that carries it as `jm` (a {@link Protocol}). */
export type EscrowRef = JobManager | Pick<Protocol, "jm">;

function escrowOf(ref: EscrowRef): JobManager {
  return "queryFilter" in ref ? ref : ref.jm;
}

/**
 * The terms of `jobId` from its `JobRequested` (zero terms for a job that was never requested, so
 * that calls on unknown ids still reach the escrow and revert `JobManagerUnknownJob`). Takes the escrow or
 * a protocol fixture.
 */
export async function termsOf(ref: EscrowRef, jobId: bigint): Promise<JobTerms> {
  const jm = escrowOf(ref);
  const events = await jm.queryFilter(jm.filters.JobRequested(jobId), 0);
  if (events.length > 1) throw new Error(`job ${jobId} has ${events.length} JobRequested events`);
  return events[0] ? termsFromEvent(events[0].args.terms) : { ...NO_TERMS };
}

/** The output commitment submitted for `jobId` (zero before any submission). */
export async function resultOf(ref: EscrowRef, jobId: bigint): Promise<string> {
  const jm = escrowOf(ref);
  const events = await jm.queryFilter(jm.filters.ResultSubmitted(jobId), 0);
  const last = events[events.length - 1];
  return last ? last.args.outputCommitment : ZeroHash;
}

/** The output bytes submitted for `jobId` (its latest `ResultSubmitted`; "0x" before any submission). */
export async function outputOf(ref: EscrowRef, jobId: bigint): Promise<string> {
  const jm = escrowOf(ref);
  const events = await jm.queryFilter(jm.filters.ResultSubmitted(jobId), 0);
  const last = events[events.length - 1];
  return last ? last.args.output : "0x";
}

/** What `finalizeWithCallback` takes after the job id: its terms and submitted output bytes. */
export async function callbackArgs(ref: EscrowRef, jobId: bigint): Promise<[JobTerms, string]> {
  const [terms, output] = await Promise.all([termsOf(ref, jobId), outputOf(ref, jobId)]);
  return [terms, output];
}

/** What `finalize` and `freezeForDispute` take after the job id: its terms and submitted output commitment. */
export async function finalizeArgs(ref: EscrowRef, jobId: bigint): Promise<[JobTerms, string]> {
  const [terms, output] = await Promise.all([termsOf(ref, jobId), resultOf(ref, jobId)]);
  return [terms, output];
}

/** Job `jobId` as stored, merged with its terms; `lockedStake` is the lock while it is held. */
export async function jobOf(p: Pick<Protocol, "jm">, jobId: bigint) {
  const [job, terms] = await Promise.all([p.jm.getJob(jobId), termsOf(p, jobId)]);
  const held = ([Status.Claimed, Status.Submitted, Status.Finalized, Status.Rejected] as bigint[]).includes(job.status);
  return {
    ...terms,
    status: job.status,
    openDisputes: job.openDisputes,
    timer: job.timer,
    worker: job.worker,
    commitment: job.commitment,
    lockedStake: held ? terms.lock : 0n,
    hasConsumer: terms.consumer !== ZeroAddress,
    terms,
  };
}

export async function claimJob(p: Protocol, jobId: bigint, worker: Signer = p.worker) {
  await p.jm.connect(worker).claim(jobId, await termsOf(p, jobId));
}

export async function submitJob(
  p: Protocol,
  jobId: bigint,
  output: string = SAMPLE_OUTPUT,
  worker: Signer = p.worker,
) {
  await p.jm.connect(worker).submitResult(jobId, await termsOf(p, jobId), output, tensorCommitment(output));
}

/** Requests, claims and submits a job; returns its id. */
export async function submittedJob(p: Protocol, overrides: RequestOverrides = {}, output: string = SAMPLE_OUTPUT) {
  const jobId = await requestJob(p, overrides);
  await claimJob(p, jobId);
  await submitJob(p, jobId, output);
  return jobId;
}

/** Mines a block at the end of `jobId`'s challenge window (finalize is allowed from then on). */
export async function endChallengeWindow(p: Protocol, jobId: bigint) {
  const job = await p.jm.getJob(jobId);
  await p.conn.networkHelpers.time.increaseTo(job.timer);
}

/** The expected split of model earnings: contributors round down, the developer takes the rest. */
export function modelSplit(modelFee: bigint) {
  const c1 = (modelFee * BigInt(C1_BPS)) / 10_000n;
  const c2 = (modelFee * BigInt(C2_BPS)) / 10_000n;
  return { c1, c2, developer: modelFee - c1 - c2 };
}

/**
 * Escrow conservation: the JobManager's token balance equals the fees of unsettled jobs
 * (Open, Claimed, Submitted) plus every pull-payment balance plus the earnings accrued to models
 * and not yet distributed. `accounts` must name every account that may hold a balance (all
 * signers by default, plus any contract).
 */
export async function expectEscrowConserved(p: Pick<Protocol, "conn" | "jm" | "token" | "registry">, extra: AddressLike[] = []) {
  const count = await p.jm.jobCount();
  let unsettled = 0n;
  for (let i = 1n; i <= count; i++) {
    const job = await jobOf(p, i);
    if (job.status === Status.Open || job.status === Status.Claimed || job.status === Status.Submitted) {
      unsettled += job.fee;
    }
  }
  const signers = await p.conn.ethers.getSigners();
  const accounts = new Set<string>(signers.map((s) => s.address));
  for (const a of extra) accounts.add(await resolveAddress(a));
  let balances = 0n;
  for (const a of accounts) balances += await p.jm.balanceOf(a);
  let accrued = 0n;
  const models = await p.registry.modelCount();
  // A model's jobs accrue its earnings and the protocol fees until distributed.
  for (let m = 1n; m <= models; m++) accrued += (await p.jm.modelEarnings(m)) + (await p.jm.protocolFees(m));
  expect(await p.token.balanceOf(await p.jm.getAddress())).to.equal(unsettled + balances + accrued);
  return { unsettled, balances, accrued };
}

/** Staking conservation: its token balance equals the sum of staked + unbonding. */
export async function expectStakingConserved(p: Pick<Protocol, "conn" | "token" | "staking">) {
  const signers = await p.conn.ethers.getSigners();
  let total = 0n;
  for (const s of signers) {
    const info = await p.staking.stakeOf(s.address);
    expect(info.locked).to.be.lte(info.staked);
    total += info.staked + info.unbonding;
  }
  expect(await p.token.balanceOf(await p.staking.getAddress())).to.equal(total);
}

/** The BalanceCredited events of a transaction, in order, as [account, jobId, amount]. */
export async function creditsOf(p: Pick<Protocol, "jm">, tx: Promise<{ wait(): Promise<unknown> }>) {
  const receipt = (await (await tx).wait()) as { logs: readonly { address: string; topics: readonly string[]; data: string }[] };
  const jmAddress = await p.jm.getAddress();
  const out: [string, bigint, bigint][] = [];
  for (const log of receipt.logs) {
    if (log.address !== jmAddress) continue;
    const parsed = p.jm.interface.parseLog(log);
    if (parsed?.name === "BalanceCredited") out.push([parsed.args[0], parsed.args[1], parsed.args[2]]);
  }
  return out;
}
