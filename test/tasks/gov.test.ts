/**
 * Governance through the tasks, on an in-process network of its own: delegate, propose a JobManager
 * parameter change by name, vote past quorum, queue, wait out the timelock, execute; the new value
 * holds for new jobs while a job requested before keeps its terms. Every refusal of the tasks, a
 * change outside its bounds refused by the contract at execution, and `gov power` on a known
 * distribution.
 *
 * The tasks run against this file's own connection (not the shared one lifecycle.test.ts expects
 * empty): each action module is called with a runtime whose network is that connection.
 */
import { expect } from "chai";
import { parseEther } from "ethers";
import hre, { network } from "hardhat";
import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import type { PowerReport, Protocol, ProposeResult, ProposalView } from "../../offchain/cli/index.js";
import { addStake, claimJob, deployProtocol, faucet, intsToBytes, jobTerms, registerModel, requestInference, submitResult } from "../../offchain/cli/index.js";
import { rejection } from "./helpers.js";

const connection = await network.create();
const { ethers, networkHelpers } = connection;
const signers = await ethers.getSigners();
const addr = (i: number) => signers[i]!.address;
const VTN = 10n ** 18n;

/** The runtime the tasks see: the real one, with this file's connection as its network. */
const scoped = Object.create(hre, {
  network: { value: Object.create(hre.network, { getOrCreate: { value: async () => connection } }) },
}) as HardhatRuntimeEnvironment;

type Action = (args: Record<string, unknown>, hre: HardhatRuntimeEnvironment) => Promise<unknown>;
/** Runs task `gov <name>` (its action module) with `args` on this file's network; returns its result and printed lines. */
async function gov<T>(name: string, args: Record<string, unknown>): Promise<{ result: T; lines: string[] }> {
  expect(hre.tasks.getTask(["gov", name]).id).to.deep.equal(["gov", name]);
  const action = ((await import(`../../tasks/gov/${name}.js`)) as { default: Action }).default;
  const log = console.log;
  const lines: string[] = [];
  console.log = (...a: unknown[]) => void lines.push(a.join(" "));
  try {
    return { result: (await action({ from: "0", ...args }, scoped)) as T, lines };
  } finally {
    console.log = log;
  }
}
const fails = (name: string, args: Record<string, unknown>) => rejection(() => gov(name, args));

describe("tasks: governance from proposal to execution", function () {
  let p: Protocol;

  before(async function () {
    p = (await deployProtocol(connection, "ignition")).protocol;
    // A known distribution: accounts 1..5 hold 100,000 VTN each from the deployment.
    await faucet(p, addr(1), 30_000_000n * VTN);
    await faucet(p, addr(2), 20_000_000n * VTN);
    await faucet(p, addr(3), 10_000_000n * VTN);
  });

  it("delegates (to itself, or to another account), and `token delegate` is the same task", async function () {
    const { result, lines } = await gov<{ votes: bigint }>("delegate", { from: "1" });
    expect(result.votes).to.equal(30_100_000n * VTN);
    expect(lines.join("\n")).to.include(`${addr(1)} delegates its votes to itself`);
    await gov("delegate", { from: "2" });
    await gov("delegate", { from: "3", to: "2" });
    await gov("delegate", { from: "4" });
    expect(hre.tasks.getTask(["token", "delegate"]).options.has("to")).to.equal(true);
    expect(await p.governor.getVotes(addr(2), (await ethers.provider.getBlockNumber()) - 1)).to.equal(30_200_000n * VTN);
  });

  it("gov power: top holders, top-10 share, fewest delegates to quorum and to a majority", async function () {
    await networkHelpers.mine(1);
    const { result: r, lines } = await gov<PowerReport>("power", { top: 10 });
    // Votes: #2 30.2M (its own 20.1M + #3's 10.1M), #1 30.1M, #4 0.1M; the deployer never delegated.
    expect(r.votes.holders.map((h) => [h.account, h.amount])).to.deep.equal([
      [addr(2), 30_200_000n * VTN],
      [addr(1), 30_100_000n * VTN],
      [addr(4), 100_000n * VTN],
    ]);
    expect(r.votes.total).to.equal(60_400_000n * VTN);
    expect(r.quorum).to.equal(40_000_000n * VTN); // 4% of the 1e9 supply
    expect(r.votes.toThreshold).to.equal(2); // 30.2M < 40M <= 60.3M
    expect(r.votes.majority).to.equal(2); // 30.2M is exactly half, not more
    expect(r.votes.top10Bps).to.equal(10_000n);
    const text = lines.join("\n");
    expect(text).to.include(`1. ${addr(2)}  30,200,000.0 VTN  50.00%`);
    expect(text).to.include("fewest delegates reaching quorum: 2");
    expect(text).to.include("fewest delegates holding a majority of the votes (Nakamoto coefficient): 2");
    expect(text).to.include("votes / supply: 60,400,000.0 VTN of 1,000,000,000.0 VTN (6.04%)");

    // Stake among workers: 600, 200 and 200 VTN.
    await addStake(p, signers[5]!, 600n * VTN);
    await addStake(p, signers[3]!, 200n * VTN);
    await addStake(p, signers[2]!, 200n * VTN);
    await networkHelpers.mine(1);
    const { result: s, lines: stakeLines } = await gov<PowerReport>("power", { top: 10 });
    expect(s.stake.holders.map((h) => [h.account, h.amount])).to.deep.equal([
      [addr(5), 600n * VTN],
      [addr(2), 200n * VTN],
      [addr(3), 200n * VTN],
    ]);
    expect(s.stake.majority).to.equal(1);
    expect(stakeLines.join("\n")).to.include("fewest stakers holding a majority of the stake (Nakamoto coefficient): 1");
  });

  it("refuses a proposal from an account below the proposal threshold, saying how to get there", async function () {
    const message = await fails("propose", { set: "jobs.challengeWindow=2h", from: "5" });
    // #5 holds no delegated VTN, but its 600 VTN of stake vote for it (staked tokens keep their votes).
    expect(message).to.include(`not enough votes to propose: ${addr(5)} has 600.0 VTN of votes`);
    expect(message).to.include("the proposal threshold is 100,000.0 VTN");
    expect(message).to.include("gather delegations first (`gov delegate`)");
    // The deployer holds most of the supply but never delegated it: told to delegate to itself.
    expect(await fails("propose", { set: "jobs.challengeWindow=2h", from: "0" })).to.include(
      `delegate them to itself first (\`gov delegate --to ${addr(0)}\`)`,
    );
    expect(await fails("propose", { set: "jobs.nope=1", from: "4" })).to.include("unknown parameter jobs.nope; governance sets jobs.minJobLock");
    expect(await fails("propose", { set: "jobs.challengeWindow=soon", from: "4" })).to.include('jobs.challengeWindow "soon" is not a duration');
    // This deployment (LocalProtocol) has neither audits nor a roster: their parameters are named, and refused.
    expect(await fails("propose", { set: "audits.auditRateBps=5%", from: "4" })).to.include("this deployment has no audit manager: audits.auditRateBps cannot be set");
    expect(await fails("propose", { set: "roster.slotBlocks=8", from: "4" })).to.include("this deployment has no worker roster: roster.slotBlocks cannot be set");
  });

  let jobBefore: bigint;
  let proposal: ProposeResult;
  let modelId: bigint;

  it("proposes jobs.challengeWindow=2h: the calldata built and shown, the proposal readable from its event", async function () {
    ({ modelId } = await registerModel(p, signers[1]!, {
      uri: "ipfs://model", contentHash: `0x${"11".repeat(32)}`, graphCommitment: `0x${"22".repeat(32)}`,
      inputShape: [1, 4], outputShape: [1, 2], inputScaleWad: VTN, outputScaleWad: VTN, price: parseEther("1"), contributors: [],
    }));
    // A job requested before the change: it must keep its 1-minute window.
    jobBefore = (await requestInference(p, signers[4]!, { modelId, input: intsToBytes([1, 2, 3, 4]), deadlineIn: 3 * 3600 })).jobId;

    const { result, lines } = await gov<ProposeResult & { changes: string[] }>("propose", {
      set: "jobs.challengeWindow=2h", description: "Longer challenge window: 2 hours", from: "1",
    });
    proposal = result;
    const text = lines.join("\n");
    expect(text).to.include("jobs.challengeWindow: 1 min (60 s) -> 2 h (7200 s)");
    expect(text).to.match(new RegExp(`1\\. target ${p.addresses.jobManager}, value 0, calldata 0x[0-9a-f]{8}`));
    expect(text).to.include("Proposal #1 made by");
    expect(proposal.proposal.description).to.equal("Longer challenge window: 2 hours");

    const { result: views } = await gov<ProposalView[]>("show", {});
    expect(views).to.have.length(1);
    expect(views[0]!.id).to.equal(proposal.id);
    expect(views[0]!.state).to.equal("Pending");
    expect(views[0]!.decoded).to.deep.equal(["JobManager.setParams(challengeWindow: 2 h (7200 s) (now 1 min (60 s)))"]);
  });

  it("refuses a vote before voting opens, a queue before success, an execution before queueing", async function () {
    expect(await fails("vote", { proposal: "1", support: "for", from: "1" })).to.include("voting on proposal #1 is not open yet: it opens at block");
    expect(await fails("queue", { proposal: "1" })).to.include("proposal #1 has not succeeded, so it cannot be queued (it is Pending");
    expect(await fails("execute", { proposal: "1" })).to.include("proposal #1 is not queued, so it cannot be executed (it is Pending");
    expect(await fails("vote", { proposal: "7", support: "for" })).to.include("no proposal 7: the governor has 1");
    expect(await fails("vote", { proposal: "1", support: "maybe" })).to.include('vote "maybe" is not one of for, against, abstain');
  });

  it("votes past quorum with reasons; a second vote and a voter without votes at the snapshot are refused", async function () {
    await networkHelpers.mine(1);
    const { result, lines } = await gov<{ weight: bigint }>("vote", { proposal: "1", support: "for", reason: "disputes need time", from: "1" });
    expect(result.weight).to.equal(30_100_000n * VTN);
    expect(lines.join("\n")).to.include("quorum:                        40,000,000.0 VTN (not reached)");
    expect(await fails("vote", { proposal: "1", support: "against", from: "1" })).to.include(`${addr(1)} has already voted on proposal #1`);
    expect(await fails("vote", { proposal: "1", support: "for", from: "6" })).to.include(`${addr(6)} had no votes at proposal #1's snapshot`);
    await gov("vote", { proposal: "1", support: "abstain", from: "4" });
    const { lines: second } = await gov("vote", { proposal: proposal.id.toString(), support: "against", reason: "too slow", from: "2" });
    // Quorum counts for and abstain only: 30.1M + 0.1M is still short of 40M.
    expect(second.join("\n")).to.include("(not reached)");
    expect(await fails("queue", { proposal: "1" })).to.match(/has not succeeded, so it cannot be queued \(it is Active: voting open until block \d+/);
  });

  it("after the vote: closed to voters; queued; the timelock refuses until its delay is over, then executes", async function () {
    // For 30.1M, abstain 0.1M, against 30.2M: short of the 40M quorum (for + abstain), and fewer for than against.
    const view = (await gov<ProposalView[]>("show", { proposal: "#1" })).result[0]!;
    await networkHelpers.mine(Number(view.deadline) - (await ethers.provider.getBlockNumber()));
    expect(await fails("vote", { proposal: "1", support: "for", from: "3" })).to.include("voting on proposal #1 is closed");
    const defeated = (await gov<ProposalView[]>("show", { proposal: "1" })).result[0]!;
    expect(defeated.state).to.equal("Defeated");
    expect(await fails("queue", { proposal: "1" })).to.include("it is Defeated: defeated: quorum not reached (30,199,998.989898989898989899 VTN of 40,000,000.0 VTN counted)");
  });

  let passed: bigint;
  it("a second proposal passes: delegate, vote past quorum, queue, wait out the timelock, execute", async function () {
    // #3 takes its votes back from #2 and gives them to #1: for 40.2M, against 20.1M.
    await gov("delegate", { from: "3", to: "1" });
    const made = await gov<ProposeResult>("propose", { set: "jobs.challengeWindow=2h", description: "Longer challenge window, again", from: "1" });
    passed = made.result.id;
    await networkHelpers.mine(1);
    await gov("vote", { proposal: "2", support: "for", from: "1" });
    await gov("vote", { proposal: "2", support: "against", from: "2" });
    const v = (await gov<ProposalView[]>("show", { proposal: "2" })).result[0]!;
    expect(v.votes.for).to.equal(40_200_000n * VTN - 200n * VTN); // #3 staked 200 VTN before delegating
    await networkHelpers.mine(Number(v.deadline) - (await ethers.provider.getBlockNumber()));
    expect((await gov<ProposalView[]>("show", { proposal: "2" })).result[0]!.state).to.equal("Succeeded");

    const queued = await gov<{ eta: bigint }>("queue", { proposal: "2" });
    expect(queued.lines.join("\n")).to.include("Proposal #2 queued in the timelock");
    expect(await fails("queue", { proposal: "2" })).to.include("proposal #2 is already queued");
    const early = await fails("execute", { proposal: "2" });
    expect(early).to.match(/the timelock is not ready for proposal #2: it can be executed from .* UTC \(in \d min \d+ s\), \d min \d+ s from now/);

    await networkHelpers.time.increaseTo(queued.result.eta);
    const { lines } = await gov("execute", { proposal: "2" });
    expect(lines.join("\n")).to.include("Proposal #2 executed");
    expect((await p.jobManager.params()).challengeWindow).to.equal(7200n);
    expect(await fails("execute", { proposal: "2" })).to.include("proposal #2 was already executed");
  });

  it("the new window holds for new jobs; the job requested before keeps its terms", async function () {
    const version = await p.jobManager.paramsVersion();
    const before = await jobTerms(p, jobBefore);
    expect(BigInt(before.paramsVersion)).to.equal(version - 1n);
    const after = (await requestInference(p, signers[4]!, { modelId, input: intsToBytes([1, 2, 3, 4]), deadlineIn: 3 * 3600 })).jobId;
    expect(BigInt((await jobTerms(p, after)).paramsVersion)).to.equal(version);

    const output = intsToBytes([5, 6]);
    for (const [job, window] of [[jobBefore, 60n], [after, 7200n]] as const) {
      await claimJob(p, signers[5]!, job);
      const s = await submitResult(p, signers[5]!, job, output);
      const block = await ethers.provider.getBlock(s.receipt.blockNumber);
      expect(s.challengeEnd - BigInt(block!.timestamp)).to.equal(window);
    }
  });

  it("a proposal outside the safe bounds passes the vote but the contract refuses it at execution", async function () {
    const made = await gov<ProposeResult>("propose", { set: "jobs.challengeWindow=31d", description: "A month and a day", from: "1" });
    await networkHelpers.mine(1);
    await gov("vote", { proposal: made.result.id.toString(), support: "for", from: "1" });
    const v = (await gov<ProposalView[]>("show", { proposal: "3" })).result[0]!;
    await networkHelpers.mine(Number(v.deadline) - (await ethers.provider.getBlockNumber()));
    const { result: q } = await gov<{ eta: bigint }>("queue", { proposal: "3" });
    await networkHelpers.time.increaseTo(q.eta);
    const message = await fails("execute", { proposal: "3" });
    expect(message).to.equal("executing proposal #3 failed: job parameter challengeWindow is out of its allowed range");
    expect((await p.jobManager.params()).challengeWindow).to.equal(7200n);
    expect(passed).to.not.equal(made.result.id);
  });

  it("propose-call encodes an expert's call against its signature and decodes it back", async function () {
    const { result, lines } = await gov<{ action: { target: string; calldata: string } }>("propose-call", {
      target: "staking", signature: "setMinStake(uint256)", args: [String(500n * VTN)], description: "x", value: "0", dryRun: true,
    });
    expect(result.action.target).to.equal(p.addresses.staking);
    expect(lines[0]).to.equal("Action: Staking.setMinStake(500.0 VTN)");
    expect(await fails("propose-call", { target: "staking", signature: "setMinStake(uint256)", args: [], description: "x", value: "0", dryRun: true }))
      .to.include("setMinStake(uint256) takes 1 argument(s), 0 given");
  });

  it("gov show lists every proposal from the events, as a fresh process would", async function () {
    const { result, lines } = await gov<ProposalView[]>("show", {});
    expect(result.map((v) => v.state)).to.deep.equal(["Defeated", "Executed", "Queued"]);
    const text = lines.join("\n");
    expect(text).to.include("Proposal #2");
    expect(text).to.match(/votes for: +40,199,800\.0 VTN/);
    expect(text).to.match(/action 1: +JobManager\.setParams\(challengeWindow: 31 d \(2678400 s\) \(now 2 h \(7200 s\)\)\)/);
  });
});
