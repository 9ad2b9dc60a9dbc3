/**
 * Redundancy k from TypeScript: the contract deployed by the local protocol module (address-book key
 * Redundancy#RedundantRequests), its events and views as an indexer and an integrator read them, the
 * clients (offchain/clients/redundancy.ts), and the `job redundant` and `job group` tasks run on this
 * file's network. The Solidity tests (test/solidity/Redundancy.t.sol, the invariants) cover the
 * attacks and every token path in depth.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { expect } from "chai";
import { ZeroAddress } from "ethers";
import hre, { network } from "hardhat";
import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import type { GroupInfo, Protocol, RedundantRequestResult } from "../../offchain/cli/index.js";
import {
  FUTURE_IDS,
  GroupStatus,
  JobStatus,
  REDUNDANCY_FUTURE_ID,
  addStake,
  claimJob,
  deployProtocol,
  deploymentDir,
  expireJob,
  intsToBytes,
  outputCommitmentOf,
  readDeployment,
  registerModel,
  resultHash,
  settleGroup,
  submitResult,
} from "../../offchain/cli/index.js";
import { rejection, writeJson } from "../tasks/helpers.js";

const connection = await network.create();
const { ethers, networkHelpers } = connection;
const signers = await ethers.getSigners();
const VTN = 10n ** 18n;
const INPUT = [1, 2, 3, 4];
const OUTPUT = intsToBytes([5, -6]);

const scoped = Object.create(hre, {
  network: { value: Object.create(hre.network, { getOrCreate: { value: async () => connection } }) },
}) as HardhatRuntimeEnvironment;

type Action = (args: Record<string, unknown>, hre: HardhatRuntimeEnvironment) => Promise<unknown>;
/** Runs task `job <name>` (its action module) on this file's network; returns its result and printed lines. */
async function job<T>(name: string, args: Record<string, unknown>): Promise<{ result: T; text: string }> {
  expect(hre.tasks.getTask(["job", name]).id).to.deep.equal(["job", name]);
  const action = ((await import(`../../tasks/job/${name}.js`)) as { default: Action }).default;
  const log = console.log;
  const lines: string[] = [];
  console.log = (...a: unknown[]) => void lines.push(a.join(" "));
  try {
    return { result: (await action(args, scoped)) as T, text: lines.join("\n") };
  } finally {
    console.log = log;
  }
}

const redundant = (over: Record<string, unknown>) =>
  job<RedundantRequestResult>("redundant", {
    model: "1",
    input: writeJson("redundancy-input.json", INPUT),
    inputUri: undefined,
    inputCommitment: undefined,
    redundancy: 3,
    value: undefined,
    fee: undefined,
    deadline: "1h",
    noApprove: false,
    from: "5",
    ...over,
  });

const group = (id: bigint, over: Record<string, unknown> = {}) =>
  job<GroupInfo>("group", { id: String(id), confirm: false, resolve: false, settle: false, from: "0", ...over });

describe("RedundantRequests (redundancy k)", function () {
  let p: Protocol;
  const workers = [signers[2]!, signers[3]!, signers[4]!];

  before(async function () {
    p = (await deployProtocol(connection, "ignition")).protocol;
    await registerModel(p, signers[1]!, {
      uri: "ipfs://tiny",
      contentHash: `0x${"11".repeat(32)}`,
      graphCommitment: `0x${"22".repeat(32)}`,
      inputShape: [1, 4],
      outputShape: [1, 2],
      inputScaleWad: VTN,
      outputScaleWad: VTN / 8n,
      price: VTN / 10n,
      contributors: [],
    });
    for (const w of workers) await addStake(p, w, 1_000n * VTN, { serveModels: [1n] });
  });

  it("is deployed with the protocol, bound to its escrow, and in the address book", async function () {
    expect(p.redundancy).to.not.equal(undefined);
    expect(REDUNDANCY_FUTURE_ID).to.equal("Redundancy#RedundantRequests");
    expect(await p.redundancy!.jobManager()).to.equal(p.addresses.jobManager);
    expect(await p.redundancy!.token()).to.equal(p.addresses.token);
    expect(await p.redundancy!.MAX_REDUNDANCY()).to.equal(5n);
    // A node's deployment folder: the address book gives the contract under its key.
    const ignition = mkdtempSync(path.join(tmpdir(), "veritensor-book-"));
    const book = Object.fromEntries(Object.values(FUTURE_IDS).map((id) => [id, p.addresses.jobManager]));
    mkdirSync(deploymentDir(ignition, 31337n), { recursive: true });
    const file = path.join(deploymentDir(ignition, 31337n), "deployed_addresses.json");
    writeFileSync(file, JSON.stringify(book));
    expect((await readDeployment(ignition, 31337n))!.redundancy).to.equal(undefined);
    writeFileSync(file, JSON.stringify({ ...book, [REDUNDANCY_FUTURE_ID]: p.addresses.redundancy }));
    expect((await readDeployment(ignition, 31337n))!.redundancy).to.equal(p.addresses.redundancy);
  });

  it("job redundant: refuses a value the k locks do not cover, and names the fee that would", async function () {
    const rr = p.redundancy!;
    const cover = await rr.feeToCover(3, 1_000n * VTN);
    // Local parameters: a lock of twice the fee, at least 1 VTN. 3 locks cover 1000 VTN from a fee of 166.67.
    expect(cover).to.equal((((1_000n * VTN + 2n) / 3n) * 10_000n + 19_999n) / 20_000n);
    const message = await rejection(() => redundant({ value: "1000", fee: "1" }));
    expect(message).to.include("do not cover the value 1,000.0 VTN");
    expect(message).to.include("raise the fee to at least");
    expect(message).to.not.include("undefined");
  });

  let first: RedundantRequestResult;

  it("job redundant: requests k jobs of one input, the contract their requester, and emits GroupRequested", async function () {
    const rr = p.redundancy!;
    const before = await p.token.balanceOf(signers[5]!.address);
    const { result, text } = await redundant({ value: "3" });
    first = result;
    expect(result.groupId).to.equal(1n);
    expect(result.jobIds).to.have.length(3);
    expect(text).to.include("Requested group 1: 3 jobs of one input");
    expect(before - (await p.token.balanceOf(signers[5]!.address))).to.equal(3n * result.fee);
    expect(result.terms.requester).to.equal(await rr.getAddress());
    expect(result.terms.consumer).to.equal(ZeroAddress);

    const [event] = await rr.queryFilter(rr.filters.GroupRequested(1n));
    expect(event!.args.requester).to.equal(signers[5]!.address);
    expect(event!.args.firstJobId).to.equal(result.jobIds[0]);
    expect(event!.args.k).to.equal(3n);
    expect(event!.args.lock).to.equal(result.terms.lock);
    expect(event!.args.value).to.equal(3n * VTN);
    expect(3n * event!.args.lock).to.be.greaterThanOrEqual(event!.args.value);

    const g = await rr.getGroup(1n);
    expect(g.status).to.equal(GroupStatus.Pending);
    expect(await rr.jobIds(1n)).to.deep.equal(result.jobIds);
    expect(await rr.groupCount()).to.equal(1n);
    expect(await rr.confirmedOutput(1n)).to.equal(`0x${"00".repeat(32)}`);
  });

  it("job group: shows the jobs and why the group is not confirmable yet, then confirms when all agree", async function () {
    const rr = p.redundancy!;
    const ids = first.jobIds;
    for (let i = 0; i < 3; i++) await claimJob(p, workers[i]!, ids[i]!);
    await submitResult(p, workers[0]!, ids[0]!, OUTPUT);
    await submitResult(p, workers[1]!, ids[1]!, OUTPUT);
    let shown = await group(1n);
    expect(shown.text).to.include("Group 1: Pending");
    expect(shown.text).to.include(`job ${ids[2]}`);
    expect(shown.text).to.include(`worker ${workers[2]!.address}`);
    expect(shown.result.confirmable).to.deep.equal({ ok: false, reason: `job ${ids[2]} without a standing result` });
    expect(await rejection(() => group(1n, { confirm: true }))).to.include(`job ${ids[2]} without a standing result`);

    await submitResult(p, workers[2]!, ids[2]!, OUTPUT);
    const out = outputCommitmentOf(OUTPUT, 2n);
    shown = await group(1n, { confirm: true });
    expect(shown.text).to.include("Group 1: Confirmed");
    expect(shown.result.output).to.equal(out);
    const [confirmed] = await rr.queryFilter(rr.filters.GroupConfirmed(1n));
    expect(confirmed!.args.outputCommitment).to.equal(out);
    expect(await rr.confirmedOutput(1n)).to.equal(out);
    // Early: the jobs' challenge windows are still open, and each still stores its result hash.
    for (const id of ids) {
      const j = await p.jobManager.getJob(id);
      expect(j.status).to.equal(JobStatus.Submitted);
      expect(j.commitment).to.equal(resultHash(first.terms, out));
    }
    const receipt = (await connection.ethers.provider.getTransactionReceipt(confirmed!.transactionHash))!;
    console.log(`      gas: request k=3 ${first.receipt.gasUsed}, confirm k=3 ${receipt.gasUsed}`);
  });

  it("job group --settle: a group nobody served is refunded to its requester with the timeout slash", async function () {
    const rr = p.redundancy!;
    const { result } = await redundant({ redundancy: 2, deadline: "10m" });
    const [a, b] = result.jobIds as [bigint, bigint];
    await claimJob(p, workers[0]!, a);
    await networkHelpers.time.increase(11 * 60);
    await expireJob(p, signers[0]!, a);
    await expireJob(p, signers[0]!, b);
    const slash = await p.jobManager.timeoutSlashes(a);
    expect(slash).to.equal(result.terms.lock / 2n);
    expect(await rr.unsettled(result.groupId)).to.equal(2n * result.fee + slash);

    const before = await rr.balanceOf(signers[5]!.address);
    const { text } = await group(result.groupId, { settle: true });
    expect(text).to.include("credited");
    const settled = await rr.queryFilter(rr.filters.JobSettled(result.groupId));
    expect(settled.map((e) => [e.args.jobId, e.args.status, e.args.refund, e.args.slashes])).to.deep.equal([
      [a, JobStatus.Refunded, result.fee, slash],
      [b, JobStatus.Refunded, result.fee, 0n],
    ]);
    expect((await rr.balanceOf(signers[5]!.address)) - before).to.equal(2n * result.fee + slash);
    expect(await p.jobManager.balanceOf(await rr.getAddress())).to.equal(0n);
    expect(await rejection(() => settleGroup(p, signers[0]!, result.groupId))).to.include("group 2 has no job newly over: nothing to settle");
    const wallet = await p.token.balanceOf(signers[5]!.address);
    await (await rr.connect(signers[5]!).withdraw()).wait();
    expect((await p.token.balanceOf(signers[5]!.address)) - wallet).to.equal(before + 2n * result.fee + slash);
  });
});
