import { expect } from "chai";
import { network } from "hardhat";
import { anyValue } from "@nomicfoundation/hardhat-ethers-chai-matchers/withArgs";

import {
  FEE,
  OUTPUT_SCALE_WAD,
  SAMPLE_INPUT,
  WAD,
  callbackArgs,
  claimJob,
  digitScores,
  endChallengeWindow,
  expectEscrowConserved,
  int32Bytes,
  modelSpec,
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
  // Owned by the deployer (the default signer), which asks.
  const oracle = await ethers.deployContract("DigitOracle", [p.jm, p.modelId, p.deployer.address]);
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
    expect(await oracle.outputScaleWad()).to.equal(OUTPUT_SCALE_WAD);
    const deadline = BigInt(await networkHelpers.time.latest()) + 3600n;
    const tx = oracle.ask(SAMPLE_INPUT, FEE, deadline);
    await expect(tx)
      .to.emit(oracle, "DigitRequested")
      .withArgs(1n, p.deployer.address)
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

  it("stores the argmax of the final output and its real score, by the registry's output scale", async function () {
    const { p, oracle } = await withOracle();
    const deadline = BigInt(await networkHelpers.time.latest()) + 3600n;
    await oracle.ask(SAMPLE_INPUT, FEE, deadline);
    await claimJob(p, 1n);
    await submitJob(p, 1n, int32Bytes(digitScores(4)));
    expect((await oracle.answers(1n)).answered).to.equal(false);
    await endChallengeWindow(p, 1n);
    // digitScores puts 1000 at the winner: its real value is 1000 × the output scale, in wad.
    const scoreWad = 1000n * OUTPUT_SCALE_WAD;
    await expect(p.jm.finalizeWithCallback(1n, ...(await callbackArgs(p, 1n))))
      .to.emit(oracle, "DigitAnswered")
      .withArgs(1n, 4n, scoreWad)
      .and.to.emit(p.jm, "CallbackDelivered")
      .withArgs(1n, await oracle.getAddress());
    expect(await oracle.answers(1n)).to.deep.equal([true, 4n, scoreWad]);
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
    await p.jm.finalizeWithCallback(1n, ...(await callbackArgs(p, 1n)));
    expect(await oracle.answers(1n)).to.deep.equal([true, 9n, -3n * OUTPUT_SCALE_WAD]);

    await oracle.ask(SAMPLE_INPUT, FEE, deadline + 3600n);
    await claimJob(p, 2n);
    await submitJob(p, 2n, int32Bytes([1, 2, 300, 4, 5, 300, 0, 0, 0, 0]));
    await endChallengeWindow(p, 2n);
    await p.jm.finalizeWithCallback(2n, ...(await callbackArgs(p, 2n)));
    expect((await oracle.answers(2n)).digit).to.equal(2n);
  });

  it("lets its owner retry a failed callback with the job's output bytes, which the escrow checks", async function () {
    const { p } = await withOracle();
    // A model with eleven outputs: the oracle refuses them, so its callback fails.
    await p.registry.connect(p.developer).registerModel(modelSpec({ outputShape: [1, 11] }));
    const oracle = await ethers.deployContract("DigitOracle", [p.jm, 2n, p.deployer.address]);
    await p.token.transfer(await oracle.getAddress(), 100n * WAD);
    await oracle.ask(SAMPLE_INPUT, FEE, BigInt(await networkHelpers.time.latest()) + 3600n);
    const output = int32Bytes(new Array(11).fill(3));
    await claimJob(p, 1n);
    await submitJob(p, 1n, output);
    await endChallengeWindow(p, 1n);
    const reason = oracle.interface.encodeErrorResult("DigitOracleBadOutput", [44n]);
    const [terms] = await callbackArgs(p, 1n);
    await expect(p.jm.finalizeWithCallback(1n, terms, output)).to.emit(p.jm, "CallbackFailed").withArgs(1n, await oracle.getAddress(), reason);
    expect(await oracle.pending(1n)).to.equal(true);
    await expect(oracle.retryCallback(1n, terms, int32Bytes(new Array(11).fill(4)), 200_000n)).to.be.revertedWithCustomError(p.jm, "JobManagerOutputMismatch");
    await expect(oracle.retryCallback(1n, terms, output, 200_000n)).to.emit(p.jm, "CallbackFailed").withArgs(1n, await oracle.getAddress(), reason);
  });

  it("cannot be built for a model the registry does not know (it reads the output scale)", async function () {
    const p: Protocol = await networkHelpers.loadFixture(deployProtocol);
    const factory = await ethers.getContractFactory("DigitOracle");
    await expect(factory.deploy(p.jm, 9n, p.deployer.address))
      .to.be.revertedWithCustomError(p.registry, "ModelRegistryUnknownModel")
      .withArgs(9n);
  });

  it("accepts results only from the job escrow", async function () {
    const { p, oracle } = await withOracle();
    await expect(oracle.connect(p.other).onInferenceResult(1n, int32Bytes(digitScores(1))))
      .to.be.revertedWithCustomError(oracle, "InferenceConsumerOnlyJobManager")
      .withArgs(p.other.address);
  });

  it("refuses an output that is not ten scores", async function () {
    const { p, oracle } = await withOracle();
    await oracle.ask(SAMPLE_INPUT, FEE, BigInt(await networkHelpers.time.latest()) + 3600n);
    const jmAddress = await p.jm.getAddress();
    await networkHelpers.setBalance(jmAddress, WAD);
    const jm = await ethers.getImpersonatedSigner(jmAddress);
    await expect(oracle.connect(jm).onInferenceResult(1n, int32Bytes(new Array(11).fill(0))))
      .to.be.revertedWithCustomError(oracle, "DigitOracleBadOutput")
      .withArgs(44n);
    await oracle.connect(jm).onInferenceResult(1n, int32Bytes(digitScores(6)));
    expect((await oracle.answers(1n)).digit).to.equal(6n);
  });

  it("accepts a result only for a job it requested and still waits for, even from the escrow", async function () {
    const { p, oracle } = await withOracle();
    const jmAddress = await p.jm.getAddress();
    await networkHelpers.setBalance(jmAddress, WAD);
    const jm = await ethers.getImpersonatedSigner(jmAddress);
    await expect(oracle.connect(jm).onInferenceResult(7n, int32Bytes(digitScores(6))))
      .to.be.revertedWithCustomError(oracle, "InferenceConsumerUnknownJob")
      .withArgs(7n);
    await oracle.ask(SAMPLE_INPUT, FEE, BigInt(await networkHelpers.time.latest()) + 3600n);
    expect(await oracle.pending(1n)).to.equal(true);
    await oracle.connect(jm).onInferenceResult(1n, int32Bytes(digitScores(6)));
    expect(await oracle.pending(1n)).to.equal(false);
    // Delivered once: a second delivery of the same job is refused.
    await expect(oracle.connect(jm).onInferenceResult(1n, int32Bytes(digitScores(2)))).to.be.revertedWithCustomError(oracle, "InferenceConsumerUnknownJob");
  });

  it("cannot be named as consumer by a stranger, so no stranger's job reaches it (issue 14's spoofed callback)", async function () {
    const { p, oracle } = await withOracle();
    const deadline = BigInt(await networkHelpers.time.latest()) + 3600n;
    await p.token.connect(p.requester).approve(await p.jm.getAddress(), FEE);
    const params = {
      modelId: p.modelId, input: SAMPLE_INPUT, inputURI: "", inputCommitment: "0x" + "00".repeat(32), fee: FEE, deadline,
      consumer: await oracle.getAddress(), callbackGasLimit: 100_000n,
    };
    await expect(p.jm.connect(p.requester).requestInference(params))
      .to.be.revertedWithCustomError(p.jm, "JobManagerConsumerNotApproved")
      .withArgs(await oracle.getAddress(), p.requester.address);
    // An address without code is no consumer at all.
    await expect(p.jm.connect(p.requester).requestInference({ ...params, consumer: p.other.address }))
      .to.be.revertedWithCustomError(p.jm, "JobManagerConsumerHasNoCode")
      .withArgs(p.other.address);
  });

  it("only its owner asks, cancels, retries a callback and takes tokens out", async function () {
    const { p, oracle } = await withOracle();
    const deadline = BigInt(await networkHelpers.time.latest()) + 3600n;
    const stranger = oracle.connect(p.other);
    await expect(stranger.ask(SAMPLE_INPUT, FEE, deadline)).to.be.revertedWithCustomError(oracle, "OwnableUnauthorizedAccount").withArgs(p.other.address);
    await expect(stranger.withdrawTokens(p.other.address, 1n)).to.be.revertedWithCustomError(oracle, "OwnableUnauthorizedAccount");
    await oracle.ask(SAMPLE_INPUT, FEE, deadline);
    const terms = await termsOf(p, 1n);
    await expect(stranger.cancel(1n, terms)).to.be.revertedWithCustomError(oracle, "OwnableUnauthorizedAccount");
    await expect(stranger.retryCallback(1n, terms, int32Bytes(digitScores(1)), 100_000n)).to.be.revertedWithCustomError(oracle, "OwnableUnauthorizedAccount");
    await expect(oracle.withdrawTokens(p.deployer.address, 5n * WAD)).to.changeTokenBalances(ethers, p.token, [oracle, p.deployer], [-5n * WAD, 5n * WAD]);
  });

  it("cancels an unclaimed job: the fee is back in its balance at once, and it hears of it", async function () {
    const { p, oracle } = await withOracle();
    await oracle.ask(SAMPLE_INPUT, FEE, BigInt(await networkHelpers.time.latest()) + 3600n);
    const tx = oracle.cancel(1n, await termsOf(p, 1n));
    await expect(tx).to.emit(p.jm, "JobCancelled").withArgs(1n).and.to.emit(p.jm, "JobRefunded").withArgs(1n, await oracle.getAddress(), FEE);
    await expect(tx).to.emit(oracle, "DigitFailed").withArgs(1n, 5n).and.to.emit(oracle, "InferenceFailed").withArgs(1n, 5n, FEE);
    await expect(tx).to.changeTokenBalances(ethers, p.token, [oracle, p.jm], [FEE, -FEE]);
    expect(await oracle.pending(1n)).to.equal(false);
    expect((await p.jm.getJob(1n)).status).to.equal(5n);
    // A claimed job can no longer be cancelled.
    await oracle.ask(SAMPLE_INPUT, FEE, BigInt(await networkHelpers.time.latest()) + 3600n);
    await claimJob(p, 2n);
    await expect(oracle.cancel(2n, await termsOf(p, 2n))).to.be.revertedWithCustomError(p.jm, "JobManagerWrongStatus");
    await expectEscrowConserved(p, [oracle]);
  });

  it("gets an expired job's fee back through settleFailedJob, which anyone may call; a running or unknown job is refused", async function () {
    const { p, oracle } = await withOracle();
    const deadline = BigInt(await networkHelpers.time.latest()) + 3600n;
    await oracle.ask(SAMPLE_INPUT, FEE, deadline);
    await expect(oracle.settleFailedJob(1n)).to.be.revertedWithCustomError(oracle, "InferenceConsumerJobNotFailed").withArgs(1n, 1n);
    await expect(oracle.settleFailedJob(9n)).to.be.revertedWithCustomError(oracle, "InferenceConsumerUnknownJob").withArgs(9n);
    await networkHelpers.time.increaseTo(deadline + 1n);
    await p.jm.expire(1n, await termsOf(p, 1n));
    const tx = oracle.connect(p.other).settleFailedJob(1n);
    await expect(tx).to.emit(oracle, "DigitFailed").withArgs(1n, 5n);
    await expect(tx).to.changeTokenBalances(ethers, p.token, [oracle, p.jm], [FEE, -FEE]);
    await expect(oracle.settleFailedJob(1n)).to.be.revertedWithCustomError(oracle, "InferenceConsumerUnknownJob");
  });

  it("cannot pay more than it holds", async function () {
    const { p, oracle } = await withOracle();
    const deadline = BigInt(await networkHelpers.time.latest()) + 3600n;
    await expect(oracle.ask(SAMPLE_INPUT, 101n * WAD, deadline))
      .to.be.revertedWithCustomError(p.token, "ERC20InsufficientBalance")
      .withArgs(await oracle.getAddress(), 100n * WAD, 101n * WAD);
  });
});
