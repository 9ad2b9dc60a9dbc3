import { expect } from "chai";
import { network } from "hardhat";
import { ZeroAddress } from "ethers";

import {
  C1_BPS,
  C2_BPS,
  CHALLENGE_WINDOW,
  DEV_BPS,
  SAMPLE_INPUT,
  SAMPLE_OUTPUT,
  Status,
  SUPPLY,
  UNBONDING_DELAY,
  WAD,
  expectEscrowConserved,
  expectStakingConserved,
  finalizeArgs,
  modelSpec,
  protocolFeeOf,
  protocolFixtures,
  tensorCommitment,
  termsOf,
} from "./fixtures.js";

const conn = await network.create();
const { ethers, networkHelpers } = conn;
const { deployBareProtocol } = protocolFixtures(conn);
const { time } = networkHelpers;

describe("Protocol lifecycle", function () {
  it("register, stake, request, claim, submit, finalize, withdraw: every token accounted for", async function () {
    const p = await networkHelpers.loadFixture(deployBareProtocol);
    const { token, registry, staking, jm } = p;
    const jmAddress = await jm.getAddress();
    const stakingAddress = await staking.getAddress();

    /** Every token of the fixed supply is in a signer's wallet, the escrow or the stakes. */
    async function expectSupplyAccounted() {
      let sum = (await token.balanceOf(jmAddress)) + (await token.balanceOf(stakingAddress));
      for (const s of await ethers.getSigners()) sum += await token.balanceOf(s.address);
      expect(sum).to.equal(SUPPLY);
      expect(await token.totalSupply()).to.equal(SUPPLY);
    }
    async function expectConserved() {
      await expectEscrowConserved(p);
      await expectStakingConserved(p);
      await expectSupplyAccounted();
    }

    // 1. A developer registers a model with two data contributors; the price leaves rounding dust.
    const price = 7n * WAD + 3n;
    await expect(
      registry.connect(p.developer).registerModel(
        modelSpec({ price, developerBps: DEV_BPS }, [
          { account: p.contributor1.address, bps: C1_BPS },
          { account: p.contributor2.address, bps: C2_BPS },
        ]),
      ),
    ).to.emit(registry, "ModelRegistered");
    const modelId = await registry.modelCount();

    // 2. A worker stakes and announces the model.
    const stake = 5_000n * WAD;
    await token.connect(p.worker).approve(stakingAddress, stake);
    await staking.connect(p.worker).stake(stake);
    await staking.connect(p.worker).setModelServed(modelId, true);
    await expectConserved();

    // 3. A requester asks for two inferences: one inline, one by URI.
    const fees = [20n * WAD, 15n * WAD + 1n];
    await token.connect(p.requester).approve(jmAddress, fees[0] + fees[1]);
    const deadline = BigInt(await time.latest()) + 86_400n;
    const inputCommitment = tensorCommitment(SAMPLE_INPUT);
    const base = { modelId, fee: 0n, deadline, consumer: ZeroAddress, callbackGasLimit: 0n };
    await jm.connect(p.requester).requestInference({
      ...base,
      fee: fees[0],
      input: SAMPLE_INPUT,
      inputURI: "",
      inputCommitment: "0x" + "00".repeat(32),
    });
    await jm
      .connect(p.requester)
      .requestInference({ ...base, fee: fees[1], input: "0x", inputURI: "ipfs://bafy-input", inputCommitment });
    // The jobs store the hash of their terms; the terms (from the event) hold the input commitment.
    for (const jobId of [1n, 2n]) {
      const terms = await termsOf(p, jobId);
      expect(terms.inputCommitment).to.equal(inputCommitment);
      expect((await jm.getJob(jobId)).commitment).to.equal(await jm.termsHash(terms));
    }
    expect((await expectEscrowConserved(p)).unsettled).to.equal(fees[0] + fees[1]);
    await expectConserved();

    // 4. The worker claims both, locking stake, and submits.
    for (const jobId of [1n, 2n]) await jm.connect(p.worker).claim(jobId, await termsOf(p, jobId));
    const locks = fees.map((f) => (f * p.params.stakeRatioBps) / 10_000n);
    // The locks were fixed at request, in the terms.
    for (const [i, jobId] of [1n, 2n].entries()) expect((await termsOf(p, jobId)).lock).to.equal(locks[i]);
    expect((await staking.stakeOf(p.worker.address)).locked).to.equal(locks[0] + locks[1]);
    const outputCommitment = tensorCommitment(SAMPLE_OUTPUT);
    for (const jobId of [1n, 2n]) {
      await jm.connect(p.worker).submitResult(jobId, await termsOf(p, jobId), SAMPLE_OUTPUT, outputCommitment);
    }
    await expectConserved();

    // 5. Nobody can finalize during the challenge window; anyone can after it.
    const end = (await jm.getJob(2n)).timer;
    await expect(jm.finalize(2n, ...(await finalizeArgs(p, 2n)))).to.be.revertedWithCustomError(jm, "JobManagerChallengeWindowOpen").withArgs(2n, end);
    await time.increase(CHALLENGE_WINDOW);
    for (const jobId of [1n, 2n]) await jm.connect(p.other).finalize(jobId, ...(await finalizeArgs(p, jobId)));
    for (const jobId of [1n, 2n]) expect((await jm.getJob(jobId)).status).to.equal(Status.Finalized);
    expect((await staking.stakeOf(p.worker.address)).locked).to.equal(0n);
    expect((await expectEscrowConserved(p)).unsettled).to.equal(0n);
    expect((await jm.getJob(2n)).commitment).to.equal(await jm.resultHash(await termsOf(p, 2n), outputCommitment));
    // The model's price from both jobs accrued to it; anyone distributes it to its payees.
    expect(await jm.modelEarnings(modelId)).to.equal(2n * price);
    // The protocol fees of both jobs accrued beside them; the same distribution pays the treasury.
    expect(await jm.protocolFees(modelId)).to.equal(protocolFeeOf(fees[0]) + protocolFeeOf(fees[1]));
    await jm.connect(p.other).distributeModelEarnings(modelId);
    expect(await jm.modelEarnings(modelId)).to.equal(0n);
    expect(await jm.protocolFees(modelId)).to.equal(0n);
    await expectConserved();

    // 6. Expected payouts, exactly: 8% of each fee to the treasury (rounded down per job), the
    // accrued prices split once (contributors round down, the developer takes the dust).
    const protocolFees = protocolFeeOf(fees[0]) + protocolFeeOf(fees[1]);
    expect(protocolFees).to.equal((fees[0] * 8n) / 100n + (fees[1] * 8n) / 100n);
    const share = (bps: number) => (2n * price * BigInt(bps)) / 10_000n;
    const expected = new Map<string, bigint>([
      [p.worker.address, fees[0] + fees[1] - 2n * price - protocolFees],
      [p.treasury.address, protocolFees],
      [p.contributor1.address, share(C1_BPS)],
      [p.contributor2.address, share(C2_BPS)],
      [p.developer.address, 2n * price - share(C1_BPS) - share(C2_BPS)],
    ]);
    let total = 0n;
    for (const [account, amount] of expected) {
      expect(await jm.balanceOf(account)).to.equal(amount);
      total += amount;
    }
    expect(total).to.equal(fees[0] + fees[1]);
    expect(await token.balanceOf(jmAddress)).to.equal(total);

    // 7. Everyone withdraws; the escrow ends empty.
    const signers = new Map((await ethers.getSigners()).map((s) => [s.address, s]));
    for (const [account, amount] of expected) {
      const before = await token.balanceOf(account);
      await expect(jm.connect(signers.get(account)!).withdraw())
        .to.emit(jm, "BalanceWithdrawn")
        .withArgs(account, amount);
      expect(await token.balanceOf(account)).to.equal(before + amount);
      expect(await jm.balanceOf(account)).to.equal(0n);
      await expectConserved();
    }
    expect(await token.balanceOf(jmAddress)).to.equal(0n);

    // 8. The worker leaves with its whole stake after the unbonding delay.
    await staking.connect(p.worker).requestUnstake(stake);
    await time.increase(UNBONDING_DELAY);
    await staking.connect(p.worker).withdraw();
    expect(await token.balanceOf(stakingAddress)).to.equal(0n);
    await expectConserved();
  });
});
