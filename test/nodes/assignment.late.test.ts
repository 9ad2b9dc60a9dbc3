/**
 * A claim that would be mined after its slot is not sent (issue 18's "no claim is ever sent to
 * lose"). The worker decides a claim at the head its pass began with; by the time the claim is ready
 * (input fetched and checked, model loaded, stake read) a busy machine may have let the slot end:
 * sent then, the claim fails its gas estimate (a failed pass) or, mined, reverts. Under two
 * busy-looping processes on a 2-core machine the 100-job assignment test saw workers hold back such
 * claims. Here the chain is moved past the slot's end while
 * the drawn worker prepares its claim (at its free-stake read): it reads the head again, says so
 * and sends nothing; the job is claimed in a later slot, with no reverted claim.
 */
import { expect } from "chai";
import type { Signer } from "ethers";

import { JobStatus, getJob, jobAssignee, requestInference } from "../../offchain/cli/index.js";
import type { Worker } from "../../offchain/nodes/worker.js";
import type { AuditedChain } from "./audits-setup.js";
import { VTN, auditedChain, mineToEpoch, stakedWorker } from "./audits-setup.js";
import { digitInputs } from "./inprocess.js";

const EPOCH_BLOCKS = 100;
type Request = { method: string; params?: unknown[] };
type Eip1193 = { request(a: Request): Promise<unknown> };

describe("nodes: a claim ready after its slot ended is not sent (issue 18)", function () {
  this.timeout(120_000);

  let c: AuditedChain;
  let workers: Worker[];
  let addresses: string[];
  const logs: string[] = [];

  before(async function () {
    c = await auditedChain({ Assignment: { epochBlocks: EPOCH_BLOCKS, slotBlocks: 4, drawnSlots: 3 }, Jobs: { challengeWindow: 300 } });
    const signers = c.signers.slice(6, 8) as Signer[];
    workers = [];
    for (const [i, s] of signers.entries()) workers.push(await stakedWorker(c, s, 1_000n * VTN, { name: `worker${i + 1}`, audits: "off", log: (l) => logs.push(l) }));
    addresses = await Promise.all(signers.map(async (s) => (await s.getAddress()).toLowerCase()));
    for (const w of workers) await w.tick(); // each joins the roster (weights from the next epoch)
    await mineToEpoch(c.p, EPOCH_BLOCKS);
  });
  after(function () {
    for (const w of workers) w.close();
  });

  it("the drawn worker reads the head again before sending, and sends nothing once its slot has ended", async function () {
    const provider = c.p.connection.ethers.provider;
    const startBlock = await provider.getBlockNumber();
    await (await c.p.token.connect(c.requester).approve(c.p.addresses.jobManager, c.fee)).wait();
    const { jobId } = await requestInference(c.p, c.requester, { modelId: c.modelId, input: digitInputs(5)(), fee: c.fee, deadlineIn: 3600 });
    const requestBlock = (await getJob(c.p, jobId)).timer;
    await c.p.connection.provider.request({ method: "hardhat_mine", params: ["0x2"] }); // the draw's seed block
    const a = await jobAssignee(c.p, c.modelId, jobId, requestBlock);
    expect(a.open, "drawn, not open").to.equal(false);
    const drawn = workers[addresses.indexOf(a.worker.toLowerCase())]!;
    expect(drawn, "a drawn worker").to.not.equal(undefined);
    for (const w of workers) if (w !== drawn) await w.tick(); // the other sees the job is not its own

    // The drawn worker's pass sees the job and claims it in its slot, but its slot ends while it prepares the claim.
    const inner = (c.p.connection.provider as unknown as Eip1193).request.bind(c.p.connection.provider);
    const eip = c.p.connection.provider as unknown as Eip1193;
    const freeStake = c.p.staking.interface.getFunction("freeStake")!.selector;
    let moved = false;
    eip.request = async (args: Request) => {
      const call = args.method === "eth_call" ? (args.params?.[0] as { data?: string }) : undefined;
      if (!moved && call?.data?.startsWith(freeStake) && call.data.toLowerCase().includes(drawn.address.toLowerCase().slice(2))) {
        moved = true;
        const head = BigInt((await inner({ method: "eth_blockNumber" })) as string);
        await inner({ method: "hardhat_mine", params: [`0x${(a.slotEnd - head + 1n).toString(16)}`] });
      }
      return inner(args);
    };
    try {
      await drawn.tick();
    } finally {
      eip.request = inner;
    }
    expect(moved, "the drawn worker prepared a claim").to.equal(true);
    expect(drawn.claimCounters.claimsLate).to.equal(1);
    expect(drawn.claimCounters.claimsSent, "nothing sent").to.equal(0);
    expect(drawn.claimCounters.claimsFailed).to.equal(0);
    const said = logs.join("\n");
    expect(said).to.match(new RegExp(`job ${jobId}: our claim slot ends at block ${a.slotEnd}, and the head is already \\d+: not sending a claim that would be mined too late`));
    expect(said, "no failing pass").to.not.match(new RegExp(`! job ${jobId}: `));

    // Later passes: the job is claimed in a later slot (or once open), and no claim reverted.
    for (let i = 0; i < 40 && (await getJob(c.p, jobId)).status === JobStatus.Open; i++) {
      const before = await provider.getBlockNumber();
      for (const w of workers) await w.tick();
      if ((await provider.getBlockNumber()) === before) await c.p.connection.provider.request({ method: "hardhat_mine", params: ["0x1"] });
    }
    expect((await getJob(c.p, jobId)).status, logs.slice(-20).join("\n")).to.not.equal(JobStatus.Open);
    const claim = c.p.jobManager.interface.getFunction("claim")!.selector;
    let reverted = 0;
    for (let b = startBlock; b <= (await provider.getBlockNumber()); b++) {
      for (const tx of (await provider.getBlock(b, true))?.prefetchedTransactions ?? []) {
        if (!tx.data.startsWith(claim)) continue;
        if ((await provider.getTransactionReceipt(tx.hash))?.status !== 1) reverted++;
      }
    }
    expect(reverted, "claim transactions that reverted").to.equal(0);
  });
});
