/**
 * The audit manager as Ignition deploys it (ignition/modules/Audits.ts, Jobs.ts, Protocol.ts): the
 * production Protocol and LocalAssignedProtocol wire it (a Staking operator before the seal, bound to
 * the escrow and its roster, owned by the timelock, the escrow's audit share set), LocalProtocol has
 * none, and the address book and the client read it. Behaviour (draws, payouts, penalties, games)
 * is tested in test/solidity/AuditManager.t.sol.
 */
import { expect } from "chai";
import { ZeroAddress } from "ethers";
import hre from "hardhat";

import { LOCAL_ASSIGNMENT, PRODUCTION } from "../../ignition/defaults.js";
import LocalProtocol, { LocalAssignedProtocol } from "../../ignition/modules/LocalProtocol.js";
import ProtocolModule from "../../ignition/modules/Protocol.js";
import { deployProtocol } from "../../offchain/cli/index.js";
import { feeSplitOf } from "../../offchain/clients/fees.js";
import { buildParamChange, describeAction, governedValues, parseSetting } from "../../offchain/clients/governance.js";
import { AuditManager__factory } from "../../types/ethers-contracts/index.js";

describe("AuditManager: deployment and wiring", function () {
  this.timeout(120_000);

  it("Protocol deploys the audit manager with the production parameters, wired and owned by the timelock", async function () {
    const conn = await hre.network.create();
    const c = await conn.ignition.deploy(ProtocolModule);
    const address = await c.jobManager.auditManager();
    expect(address).to.not.equal(ZeroAddress);
    const audits = AuditManager__factory.connect(address, conn.ethers.provider);
    expect(await audits.jobManager()).to.equal(await c.jobManager.getAddress());
    expect(await audits.roster()).to.equal(await c.jobManager.roster());
    expect(await audits.owner()).to.equal(await c.timelock.getAddress());
    expect(await c.staking.isOperator(address), "a Staking operator").to.equal(true);
    expect(await c.staking.operatorsSealed()).to.equal(true);
    const d = PRODUCTION.audits!;
    const p = await audits.params();
    expect([p.auditReward, p.auditRateBps, p.auditSafetyBps, p.auditMissPenaltyBps, p.auditSlotBlocks, p.auditSlots]).to.deep.equal([
      d.auditReward,
      BigInt(d.auditRateBps),
      BigInt(d.auditSafetyBps),
      BigInt(d.auditMissPenaltyBps),
      BigInt(d.auditSlotBlocks),
      BigInt(d.auditSlots),
    ]);
    expect((await c.jobManager.params()).auditFeeBps).to.equal(BigInt(PRODUCTION.jobs.auditFeeBps));
    // Bound once: the deployer no longer owns it, and a second binding is refused anyway.
    const [deployer] = await conn.ethers.getSigners();
    await expect(audits.connect(deployer!).bindEscrow(await c.jobManager.getAddress())).to.be.revertedWithCustomError(audits, "OwnableUnauthorizedAccount");
    expect(await audits.pool()).to.equal(0n);
  });

  it("LocalAssignedProtocol has audits (short slots), LocalProtocol none; the client reads both", async function () {
    const conn = await hre.network.create();
    const assigned = await conn.ignition.deploy(LocalAssignedProtocol);
    const audits = AuditManager__factory.connect(await assigned.jobManager.auditManager(), conn.ethers.provider);
    const p = await audits.params();
    expect([p.auditSlotBlocks, p.auditSlots]).to.deep.equal([BigInt(LOCAL_ASSIGNMENT.audits!.auditSlotBlocks), BigInt(LOCAL_ASSIGNMENT.audits!.auditSlots)]);
    // The last slot ends well inside the local challenge window (1-second blocks).
    expect(Number(p.auditSlotBlocks * p.auditSlots) + 1).to.be.below(LOCAL_ASSIGNMENT.jobs.challengeWindow);

    const plainConn = await hre.network.create();
    const plain = await plainConn.ignition.deploy(LocalProtocol);
    expect(await plain.jobManager.auditManager()).to.equal(ZeroAddress);
    expect((await plain.jobManager.params()).auditFeeBps).to.equal(0n);
    expect("auditManager" in plain).to.equal(false);

    const viaClient = await hre.network.create();
    const deployed = await deployProtocol(viaClient, hre.config.paths.ignition, { assignment: true });
    expect(deployed.protocol.audits, "Protocol.audits").to.not.equal(undefined);
    expect(deployed.protocol.addresses.auditManager).to.equal(await deployed.protocol.jobManager.auditManager());
    const demoConn = await hre.network.create();
    const demo = await deployProtocol(demoConn, hre.config.paths.ignition, {});
    expect(demo.protocol.audits).to.equal(undefined);
    expect(demo.protocol.addresses.auditManager).to.equal(undefined);
  });

  it("governance sets the audit and roster parameters by name: the proposal's calls, executed by the timelock, change only what was named", async function () {
    const conn = await hre.network.create();
    const { protocol: p } = await deployProtocol(conn, hre.config.paths.ignition, { assignment: true });
    const audits = p.audits!;
    const before = await audits.params();
    const rosterBefore = await p.roster!.params();
    const settings = ["audits.auditRateBps=5%", "audits.auditReward=0.5", "roster.slotBlocks=8", "jobs.auditFeeBps=300"].map(parseSetting);
    const change = await buildParamChange(p, settings);
    expect(change.changes).to.include.members(["audits.auditRateBps: 1% (100 bps) -> 5% (500 bps)", "audits.auditReward: 0.4 VTN -> 0.5 VTN", "roster.slotBlocks: 3 blocks -> 8 blocks", "jobs.auditFeeBps: 5% (500 bps) -> 3% (300 bps)"]);
    const described = change.actions.map((a) => describeAction(p, a));
    expect(described.some((d) => d.startsWith("AuditManager.setParams(") && d.includes("auditRateBps: 5% (500 bps)"))).to.equal(true);
    expect(described.some((d) => d.startsWith("WorkerRoster.setParams(") && d.includes("slotBlocks: 8 blocks"))).to.equal(true);
    // What the timelock would do after the vote: each call, from the timelock.
    const timelock = await audits.owner();
    await conn.provider.request({ method: "hardhat_impersonateAccount", params: [timelock] });
    await conn.provider.request({ method: "hardhat_setBalance", params: [timelock, "0x56BC75E2D63100000"] });
    const signer = await conn.ethers.getSigner(timelock);
    for (const a of change.actions) await (await signer.sendTransaction({ to: a.target, data: a.calldata })).wait();
    const after = await audits.params();
    expect([after.auditRateBps, after.auditReward]).to.deep.equal([500n, 5n * 10n ** 17n]);
    expect([after.auditSafetyBps, after.auditMissPenaltyBps, after.auditSlotBlocks, after.auditSlots]).to.deep.equal([
      before.auditSafetyBps,
      before.auditMissPenaltyBps,
      before.auditSlotBlocks,
      before.auditSlots,
    ]);
    const rosterAfter = await p.roster!.params();
    expect([rosterAfter.slotBlocks, rosterAfter.weightCap, rosterAfter.drawnSlots]).to.deep.equal([8n, rosterBefore.weightCap, rosterBefore.drawnSlots]);
    expect((await p.jobManager.params()).auditFeeBps).to.equal(300n);
    // And the values in force, as `gov params` and the explorer list them.
    const values = await governedValues(p);
    expect(values.find((v) => v.name === "audits.auditRateBps")?.value).to.equal("5% (500 bps)");
  });

  it("a fee quote counts the audit share, and the client's split is the escrow's", async function () {
    const conn = await hre.network.create();
    const { protocol: p } = await deployProtocol(conn, hre.config.paths.ignition, { assignment: true });
    const params = await p.jobManager.params();
    const version = await p.jobManager.paramsVersion();
    // Terms as the escrow's view reads them (only the fee, the rate and the version matter to it).
    const terms = (fee: bigint) => ({
      requester: ZeroAddress,
      modelId: 1n,
      fee,
      modelFee: 0n,
      lock: 0n,
      protocolFeeBps: params.protocolFeeBps,
      deadline: 0n,
      outputElements: 1n,
      consumer: ZeroAddress,
      callbackGasLimit: 0n,
      inputCommitment: "0x" + "00".repeat(32),
      paramsVersion: version,
    });
    for (const price of [0n, 1n, 10n ** 17n, 3n * 10n ** 18n + 7n]) {
      const minimum = await p.jobManager.minimumFee(price);
      // The least fee: it leaves the price after the cut, one wei less does not.
      const cut = (f: bigint) => (f * (params.protocolFeeBps + params.auditFeeBps)) / 10_000n;
      expect(minimum - cut(minimum) >= price).to.equal(true);
      if (minimum > 0n) expect(minimum - 1n - cut(minimum - 1n) < price).to.equal(true);
      for (const fee of [minimum, minimum + 12_345n, 10n ** 21n + 1n]) {
        const split = feeSplitOf(fee, params.protocolFeeBps, params.auditFeeBps);
        expect(split.protocolFee + split.auditFee).to.equal(cut(fee));
        expect(split.auditFee).to.equal((fee * params.auditFeeBps) / 10_000n);
        const [protocolFee, auditFee] = await p.jobManager.feeSplit(terms(fee));
        expect([split.protocolFee, split.auditFee]).to.deep.equal([protocolFee, auditFee]);
      }
    }
    expect(params.auditFeeBps).to.equal(BigInt(LOCAL_ASSIGNMENT.jobs.auditFeeBps));
  });
});
