import { expect } from "chai";
import { network } from "hardhat";
import { anyValue } from "@nomicfoundation/hardhat-ethers-chai-matchers/withArgs";

import {
  FEE,
  SAMPLE_INPUT,
  WAD,
  claimJob,
  digitScores,
  endChallengeWindow,
  expectEscrowConserved,
  finalizeArgs,
  int32Bytes,
  protocolFixtures,
  submitJob,
  tensorCommitment,
  termsOf,
} from "./fixtures.js";
import type { Protocol } from "./fixtures.js";

const conn = await network.create();
const { ethers, networkHelpers } = conn;
const { deployProtocol } = protocolFixtures(conn);

async function withOracle() {
  const p: Protocol = await networkHelpers.loadFixture(deployProtocol);
  const oracle = await ethers.deployContract("DigitOracle", [p.jm, p.token, p.modelId]);
  await p.token.transfer(await oracle.getAddress(), 100n * WAD);
  return { p, oracle };
}

describe("DigitOracle (InferenceConsumer)", function () {
  it("requests from its own balance with itself as consumer", async function () {
    const { p, oracle } = await withOracle();
    const address = await oracle.getAddress();
    expect(await oracle.jobManager()).to.equal(await p.jm.getAddress());
    expect(await oracle.feeToken()).to.equal(await p.token.getAddress());
    expect(await oracle.modelId()).to.equal(p.modelId);
    const deadline = BigInt(await networkHelpers.time.latest()) + 3600n;
    const tx = oracle.connect(p.other).ask(SAMPLE_INPUT, FEE, deadline);
    await expect(tx)
      .to.emit(oracle, "DigitRequested")
      .withArgs(1n, p.other.address)
      .and.to.emit(p.jm, "JobRequested")
      .withArgs(1n, p.modelId, address, anyValue, SAMPLE_INPUT, "");
    await expect(tx).to.changeTokenBalances(ethers, p.token, [oracle, p.jm], [-FEE, FEE]);
    // The oracle is requester and consumer, with its callback gas; the input is committed on-chain.
    const terms = await termsOf(p, 1n);
    expect([terms.requester, terms.fee, terms.deadline, terms.inputCommitment, terms.consumer, terms.callbackGasLimit]).to.deep.equal([
      address,
      FEE,
      deadline,
      tensorCommitment(SAMPLE_INPUT),
      address,
      100_000n,
    ]);
    expect(await p.token.allowance(address, await p.jm.getAddress())).to.equal(0n);
  });

  it("stores the argmax of the final output when the job finalizes", async function () {
    const { p, oracle } = await withOracle();
    const deadline = BigInt(await networkHelpers.time.latest()) + 3600n;
    await oracle.ask(SAMPLE_INPUT, FEE, deadline);
    await claimJob(p, 1n);
    await submitJob(p, 1n, int32Bytes(digitScores(4)));
    expect(await oracle.answered(1n)).to.equal(false);
    await endChallengeWindow(p, 1n);
    await expect(p.jm.finalize(1n, ...(await finalizeArgs(p, 1n))))
      .to.emit(oracle, "DigitAnswered")
      .withArgs(1n, 4n)
      .and.to.emit(p.jm, "CallbackDelivered")
      .withArgs(1n, await oracle.getAddress());
    expect(await oracle.answered(1n)).to.equal(true);
    expect(await oracle.digitOf(1n)).to.equal(4n);
    await expectEscrowConserved(p, [oracle]);
  });

  it("reads little-endian int32 scores, negative ones included", async function () {
    const { p, oracle } = await withOracle();
    const deadline = BigInt(await networkHelpers.time.latest()) + 3600n;
    await oracle.ask(SAMPLE_INPUT, FEE, deadline);
    await claimJob(p, 1n);
    // All negative; the largest is -3 at index 9. A first maximum wins ties (index 2 vs 5).
    await submitJob(p, 1n, int32Bytes([-70000, -9, -4, -300, -16777215, -4, -100, -8, -65536, -3]));
    await endChallengeWindow(p, 1n);
    await p.jm.finalize(1n, ...(await finalizeArgs(p, 1n)));
    expect(await oracle.digitOf(1n)).to.equal(9n);

    await oracle.ask(SAMPLE_INPUT, FEE, deadline + 3600n);
    await claimJob(p, 2n);
    await submitJob(p, 2n, int32Bytes([1, 2, 300, 4, 5, 300, 0, 0, 0, 0]));
    await endChallengeWindow(p, 2n);
    await p.jm.finalize(2n, ...(await finalizeArgs(p, 2n)));
    expect(await oracle.digitOf(2n)).to.equal(2n);
  });

  it("accepts results only from the job escrow", async function () {
    const { p, oracle } = await withOracle();
    await expect(oracle.connect(p.other).onInferenceResult(1n, int32Bytes(digitScores(1))))
      .to.be.revertedWithCustomError(oracle, "InferenceConsumerOnlyJobManager")
      .withArgs(p.other.address);
  });

  it("refuses an output that is not ten scores", async function () {
    const { p, oracle } = await withOracle();
    const jmAddress = await p.jm.getAddress();
    await networkHelpers.setBalance(jmAddress, WAD);
    const jm = await ethers.getImpersonatedSigner(jmAddress);
    await expect(oracle.connect(jm).onInferenceResult(1n, int32Bytes(new Array(11).fill(0))))
      .to.be.revertedWithCustomError(oracle, "DigitOracleBadOutput")
      .withArgs(44n);
    await oracle.connect(jm).onInferenceResult(1n, int32Bytes(digitScores(6)));
    expect(await oracle.digitOf(1n)).to.equal(6n);
  });

  it("cannot pay more than it holds", async function () {
    const { p, oracle } = await withOracle();
    const deadline = BigInt(await networkHelpers.time.latest()) + 3600n;
    await expect(oracle.ask(SAMPLE_INPUT, 101n * WAD, deadline))
      .to.be.revertedWithCustomError(p.token, "ERC20InsufficientBalance")
      .withArgs(await oracle.getAddress(), 100n * WAD, 101n * WAD);
  });
});
