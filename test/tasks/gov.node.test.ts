/**
 * Governance end to end on a local node, as a user runs it: `npx hardhat node` in its own process,
 * the protocol deployed by the `protocol deploy` task, and every governance step a `npx hardhat gov
 * …` process of its own (delegate, propose a challenge-window change by name, vote past quorum,
 * queue, wait out the timelock, execute), with the tasks' refusals on the way (voting not open, not
 * succeeded, timelock not ready). Blocks and time move with the node's own RPC methods, as in the
 * README's walk. A job requested before the execution keeps its window; one requested after gets
 * the new one. (test/tasks/gov.test.ts walks every refusal and `gov power` in-process, faster.)
 */
import { expect } from "chai";

import { jobTerms } from "../../offchain/cli/index.js";
import type { RpcNode } from "../nodes/harness.js";
import { killAll, runTask, startRpcNode } from "../nodes/harness.js";
import type { Chain } from "../nodes/setup.js";
import { CHALLENGE_WINDOW, requestDigits, setUpChain, tearDownChain } from "../nodes/setup.js";

const VOTER = "1";
const NEW_WINDOW = 2n * 3600n;

describe("tasks: governance from proposal to execution on `npx hardhat node`", function () {
  this.timeout(300_000);
  let node: RpcNode;
  let c: Chain;

  /** `npx hardhat gov|token …` as its own process against the node; its output. */
  const task = (...args: string[]) => runTask([...args, "--network", "localhost"], c.env);
  /** The same, expected to fail: its output (the error the user sees). */
  async function refused(...args: string[]): Promise<string> {
    try {
      await task(...args);
    } catch (e) {
      return (e as Error).message;
    }
    throw new Error(`npx hardhat ${args.join(" ")} succeeded; it should have been refused`);
  }
  const rpc = (method: string, params: unknown[]) => c.conn.provider.request({ method, params });

  before(async function () {
    node = await startRpcNode("hardhat");
    c = await setUpChain(node.url);
  });

  after(async function () {
    await killAll();
    await tearDownChain(c);
  });

  it("delegates, proposes, votes, queues, waits out the timelock and executes; jobs requested before keep their window", async function () {
    await task("token", "faucet", "--to", VOTER, "--amount", "50000000");
    expect(await task("gov", "delegate", "--from", VOTER)).to.include("delegates its votes to itself");
    const [before] = await requestDigits(c, 1);

    const proposed = await task("gov", "propose", "--set", "jobs.challengeWindow=2h", "--description", "Challenge window 2 h", "--from", VOTER);
    expect(proposed).to.match(/jobs\.challengeWindow: .* -> 2 h \(7200 s\)/);
    const number = /Proposal #(\d+) made by/.exec(proposed)?.[1];
    expect(number, proposed).to.not.equal(undefined);
    const proposal = ["--proposal", number!];

    // The snapshot block must pass before anyone votes.
    expect(await refused("gov", "vote", ...proposal, "--support", "for", "--from", VOTER)).to.include("is not open yet");
    await rpc("hardhat_mine", ["0x1"]);
    expect(await task("gov", "vote", ...proposal, "--support", "for", "--reason", "disputes need time", "--from", VOTER)).to.match(/voted for .*quorum:.*\(reached\)/s);

    // Queued only once the vote is over; executed only once the timelock delay is.
    expect(await refused("gov", "queue", ...proposal)).to.include("has not succeeded");
    const period = await c.p.governor.votingPeriod();
    await rpc("hardhat_mine", [`0x${(period + 1n).toString(16)}`]);
    expect(await task("gov", "queue", ...proposal)).to.include("queued in the timelock");
    expect(await refused("gov", "execute", ...proposal)).to.include("the timelock is not ready");
    await rpc("evm_increaseTime", [Number(await c.p.timelock.getMinDelay())]);
    await rpc("hardhat_mine", ["0x1"]);
    expect(await task("gov", "execute", ...proposal)).to.include("executed");

    // In force for new jobs; the job requested before keeps the window of its parameter version.
    expect((await c.p.jobManager.params()).challengeWindow).to.equal(NEW_WINDOW);
    const [after] = await requestDigits(c, 1);
    const windowOf = async (id: bigint) => (await c.p.jobManager.paramsAt((await jobTerms(c.p, id!)).paramsVersion))[0].challengeWindow;
    expect(await windowOf(before!)).to.equal(BigInt(CHALLENGE_WINDOW));
    expect(await windowOf(after!)).to.equal(NEW_WINDOW);
    expect(await task("gov", "show", ...proposal)).to.include("Executed");
  });
});
