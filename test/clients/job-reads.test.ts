/**
 * A job's details show its payout split as the escrow pays it: on an escrow with audits, the audit
 * pool's share beside the treasury's (the escrow's `feeSplit`, and what finalization credits the
 * audit manager), every wei of the fee accounted for; on an escrow without audits, the same
 * outputs as before audits existed (no audit field, the treasury's share by the mirror).
 */
import { expect } from "chai";
import type { Signer } from "ethers";
import hre from "hardhat";
import { join } from "node:path";

import type { Protocol } from "../../offchain/cli/index.js";
import {
  addStake,
  deployProtocol,
  finalizeJob,
  jobDetails,
  modelFileFacts,
  protocolFeeOf,
  registerModel,
  requestInference,
  sendClaim,
  sendSubmit,
} from "../../offchain/cli/index.js";
import { feeSplitOf } from "../../offchain/clients/fees.js";
import { digitInputs } from "../nodes/inprocess.js";

const VTN = 10n ** 18n;

interface Finalized {
  readonly p: Protocol;
  readonly jobId: bigint;
  readonly fee: bigint;
}

/**
 * A protocol deployed as `protocol deploy` does (with audits when `assignment`), one job on it
 * requested with an odd fee (so that the split rounds), claimed, answered and finalized, and a
 * second one left submitted.
 */
async function finalizedJob(assignment: boolean): Promise<Finalized & { pending: bigint }> {
  const conn = await hre.network.create();
  const { protocol: p } = await deployProtocol(conn, hre.config.paths.ignition, assignment ? { assignment: true } : {});
  const signers = (await conn.ethers.getSigners()) as Signer[];
  const [deployer, developer, requester, worker] = [signers[0]!, signers[1]!, signers[3]!, signers[6]!];
  const facts = await modelFileFacts(join(hre.config.paths.root, "models/mnist-cnn.canonical.onnx"));
  const modelId = (await registerModel(p, developer, { ...facts, price: VTN / 10n, contributors: [] })).modelId;
  await (await p.token.connect(deployer).transfer(await worker.getAddress(), 1_000n * VTN)).wait();
  await (await p.token.connect(deployer).transfer(await requester.getAddress(), 100n * VTN)).wait();
  // Not in the roster: nobody serves the model there, so the job is open to any staked worker.
  await addStake(p, worker, 1_000n * VTN);
  const input = digitInputs(1)();
  const fee = 3n * VTN + 12_345n;
  const { jobId } = await requestInference(p, requester, { modelId, input, fee, deadlineIn: 3600 });
  await sendClaim(p, worker, jobId);
  const output = new Uint8Array(Number((await p.registry.pricing(modelId))[3]) * 4);
  await sendSubmit(p, worker, jobId, output);
  // A second job left submitted: its split is shown before any payout.
  const pending = (await requestInference(p, requester, { modelId, input, fee, deadlineIn: 3600 })).jobId;
  await sendClaim(p, worker, pending);
  await sendSubmit(p, worker, pending, output);
  await conn.networkHelpers.time.increase(Number((await p.jobManager.params()).challengeWindow));
  await finalizeJob(p, signers[4]!, jobId);
  return { p, jobId, fee, pending };
}

describe("clients: job reads (payout split)", function () {
  this.timeout(180_000);

  it("on an escrow with audits, shows the audit pool's share as the escrow splits and pays it", async function () {
    const { p, jobId, fee, pending } = await finalizedJob(true);
    expect(p.audits, "the deployment has an audit manager").to.not.equal(undefined);
    const params = await p.jobManager.params();
    expect(params.auditFeeBps > 0n, "an audit share is set").to.equal(true);

    const d = await jobDetails(p, jobId);
    const [protocolFee, auditFee] = await p.jobManager.feeSplit(d.job.terms);
    expect(auditFee > 0n).to.equal(true);
    expect([d.protocolFee, d.auditFee]).to.deep.equal([protocolFee, auditFee]);
    // The client's mirror agrees with the escrow, and differs from the treasury-only rule.
    expect(feeSplitOf(fee, d.job.protocolFeeBps, params.auditFeeBps)).to.deep.equal({ protocolFee, auditFee });
    // The payout: JobFinalized's parts and the audit share make up the whole fee (no consumer here).
    const payout = d.payout!;
    expect(payout.auditFee).to.equal(auditFee);
    expect(payout.protocolFee).to.equal(protocolFee);
    expect(payout.workerFee + payout.modelFee + payout.protocolFee + payout.auditFee!).to.equal(fee);
    // And it is what finalization credited to the audit manager.
    expect(await p.jobManager.balanceOf(p.addresses.auditManager!)).to.equal(auditFee);

    const before = await jobDetails(p, pending);
    expect(before.payout).to.equal(undefined);
    expect([before.protocolFee, before.auditFee]).to.deep.equal([protocolFee, auditFee]);
  });

  it("on an escrow without audits, shows the same split as before audits: no audit field", async function () {
    const { p, jobId, fee, pending } = await finalizedJob(false);
    expect(p.audits).to.equal(undefined);
    const d = await jobDetails(p, jobId);
    expect("auditFee" in d, "an audit field").to.equal(false);
    expect(d.protocolFee).to.equal(protocolFeeOf(fee, d.job.protocolFeeBps));
    const payout = d.payout!;
    expect(Object.keys(payout).sort()).to.deep.equal(["modelFee", "protocolFee", "workerFee"]);
    expect(payout.workerFee + payout.modelFee + payout.protocolFee).to.equal(fee);
    const before = await jobDetails(p, pending);
    expect("auditFee" in before).to.equal(false);
    expect(before.protocolFee).to.equal(d.protocolFee);
  });
});
