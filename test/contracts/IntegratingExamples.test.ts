import { expect } from "chai";
import { network } from "hardhat";

import {
  FEE,
  OUTPUT_SCALE_WAD,
  SAMPLE_INPUT,
  Status,
  WAD,
  callbackArgs,
  claimJob,
  digitScores,
  endChallengeWindow,
  expectEscrowConserved,
  int32Bytes,
  modelSpec,
  protocolFixtures,
  requestJob,
  submitJob,
  termsOf,
} from "./fixtures.js";
import type { Protocol } from "./fixtures.js";

// The example contracts of docs/INTEGRATING.md: they must do what the guide says they do.
const conn = await network.create();
const { ethers, networkHelpers } = conn;
const { deployProtocol } = protocolFixtures(conn);

async function withConsumer(element = 7n) {
  const p: Protocol = await networkHelpers.loadFixture(deployProtocol);
  const consumer = await ethers.deployContract("ScoreConsumer", [p.jm, p.modelId, element, p.deployer.address]);
  await p.token.transfer(await consumer.getAddress(), 100n * WAD);
  const deadline = BigInt(await networkHelpers.time.latest()) + 3600n;
  return { p, consumer, deadline };
}

describe("docs/INTEGRATING.md examples", function () {
  describe("ScoreConsumer", function () {
    it("keeps one output element as a real number, by the registry's output scale", async function () {
      const { p, consumer, deadline } = await withConsumer();
      expect(await consumer.outputScaleWad()).to.equal(OUTPUT_SCALE_WAD);
      await consumer.ask(SAMPLE_INPUT, FEE, deadline);
      const terms = await termsOf(p, 1n);
      expect([terms.requester, terms.consumer, terms.callbackGasLimit]).to.deep.equal([await consumer.getAddress(), await consumer.getAddress(), 60_000n]);
      await claimJob(p, 1n);
      await submitJob(p, 1n, int32Bytes([5, -6, 7, 8, 9, 10, 11, -1234, 13, 14]));
      await endChallengeWindow(p, 1n);
      await expect(p.jm.finalizeWithCallback(1n, ...(await callbackArgs(p, 1n))))
        .to.emit(consumer, "Scored")
        .withArgs(1n, -1234n * OUTPUT_SCALE_WAD)
        .and.to.emit(p.jm, "CallbackDelivered");
      expect(await consumer.scoreWad(1n)).to.equal(-1234n * OUTPUT_SCALE_WAD);
      expect((await p.jm.getJob(1n)).callback).to.equal(1n); // Delivered
      await expectEscrowConserved(p, [consumer]);
    });

    it("hears of a cancelled or expired job through the failure hook, the fee back in its balance", async function () {
      const { p, consumer, deadline } = await withConsumer();
      const address = await consumer.getAddress();
      await consumer.ask(SAMPLE_INPUT, FEE, deadline);
      await expect(consumer.cancel(1n, await termsOf(p, 1n)))
        .to.emit(consumer, "Failed")
        .withArgs(1n, Status.Refunded)
        .and.to.emit(consumer, "InferenceFailed")
        .withArgs(1n, Status.Refunded, FEE);
      expect(await consumer.failed(1n)).to.equal(true);
      expect(await p.token.balanceOf(address)).to.equal(100n * WAD);

      await consumer.ask(SAMPLE_INPUT, FEE, deadline);
      await networkHelpers.time.increaseTo(deadline + 1n);
      await p.jm.expire(2n, await termsOf(p, 2n));
      expect(await p.jm.balanceOf(address)).to.equal(FEE);
      await expect(consumer.connect(p.other).settleFailedJob(2n)).to.emit(consumer, "Failed").withArgs(2n, Status.Refunded);
      expect(await p.token.balanceOf(address)).to.equal(100n * WAD);
      await expect(consumer.withdrawTokens(p.deployer.address, 100n * WAD)).to.changeTokenBalance(ethers, p.token, p.deployer, 100n * WAD);
    });

    it("retries a failed callback (an element the output lacks: the hook reverts, the job stays pending)", async function () {
      const { p, consumer, deadline } = await withConsumer(10n);
      await consumer.ask(SAMPLE_INPUT, FEE, deadline);
      await claimJob(p, 1n);
      await submitJob(p, 1n, int32Bytes(digitScores(3)));
      await endChallengeWindow(p, 1n);
      const [terms, output] = await callbackArgs(p, 1n);
      const reason = consumer.interface.encodeErrorResult("ScoreConsumerShortOutput", [40n]);
      await expect(p.jm.finalizeWithCallback(1n, terms, output)).to.emit(p.jm, "CallbackFailed").withArgs(1n, await consumer.getAddress(), reason);
      expect((await p.jm.getJob(1n)).callback).to.equal(2n); // Failed
      expect(await consumer.pending(1n)).to.equal(true);
      await expect(consumer.connect(p.other).retry(1n, terms, output, 100_000n)).to.be.revertedWithCustomError(consumer, "OwnableUnauthorizedAccount");
      await expect(consumer.retry(1n, terms, output, 100_000n)).to.emit(p.jm, "CallbackFailed");
    });
  });

  describe("ResultReader", function () {
    it("accepts a job's output only once it is final, for its model, with the job's own bytes", async function () {
      const p: Protocol = await networkHelpers.loadFixture(deployProtocol);
      const reader = await ethers.deployContract("ResultReader", [p.jm, p.modelId]);
      const jobId = await requestJob(p); // a plain job: no consumer
      await claimJob(p, jobId);
      const output = int32Bytes(digitScores(2).map((v, i) => (i === 0 ? -42 : v)));
      await submitJob(p, jobId, output);
      const terms = await termsOf(p, jobId);
      await expect(reader.accept(jobId, terms, output)).to.be.revertedWithCustomError(reader, "ResultReaderNotFinal").withArgs(jobId);
      await endChallengeWindow(p, jobId);
      await p.jm.finalizeWithCallback(jobId, terms, output);
      await expect(reader.accept(jobId, terms, int32Bytes(digitScores(2)))).to.be.revertedWithCustomError(reader, "ResultReaderNotFinal");
      await expect(reader.accept(jobId, terms, output)).to.emit(reader, "ResultAccepted").withArgs(jobId, -42n);
      expect(await reader.firstElement(jobId)).to.equal(-42n);

      await p.registry.connect(p.developer).registerModel(modelSpec());
      const other = await ethers.deployContract("ResultReader", [p.jm, 2n]);
      await expect(other.accept(jobId, terms, output)).to.be.revertedWithCustomError(other, "ResultReaderWrongModel").withArgs(jobId, p.modelId);
    });
  });
});
