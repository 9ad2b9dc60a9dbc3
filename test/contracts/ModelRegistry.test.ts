import { expect } from "chai";
import { network } from "hardhat";
import { ZeroAddress, ZeroHash, id } from "ethers";

import {
  C1_BPS,
  C2_BPS,
  CONTENT_HASH,
  DEV_BPS,
  FEE,
  GRAPH_COMMITMENT,
  INPUT_ELEMENTS,
  INPUT_SCALE_WAD,
  MODEL_URI,
  OUTPUT_ELEMENTS,
  OUTPUT_SCALE_WAD,
  PRICE,
  PROTOCOL_FEE,
  Status,
  endChallengeWindow,
  expectEscrowConserved,
  finalizeArgs,
  jobOf,
  minimumFeeFor,
  modelSpec,
  modelSplit,
  protocolFixtures,
  requestJob,
  requestParams,
  submittedJob,
} from "./fixtures.js";
import type { Protocol } from "./fixtures.js";

const conn = await network.create();
const { ethers, networkHelpers } = conn;
const { deployProtocol } = protocolFixtures(conn);
const MAX_UINT128 = 2n ** 128n - 1n;

async function protocol(): Promise<Protocol> {
  return networkHelpers.loadFixture(deployProtocol);
}

describe("ModelRegistry", function () {
  describe("registerModel", function () {
    it("stores the model, makes the caller its owner and emits the registration and split", async function () {
      const p = await protocol();
      const contributors = [{ account: p.contributor1.address, bps: 2_500 }];
      // The scales at their bounds: 1e-18 and the largest uint128, both in one slot.
      const spec = modelSpec({ price: 5n, developerBps: 7_500, uri: "ipfs://second", inputScaleWad: 1n, outputScaleWad: MAX_UINT128 }, contributors);
      const r = p.registry.connect(p.other);
      expect(await r.registerModel.staticCall(spec)).to.equal(2n);
      await expect(r.registerModel(spec))
        .to.emit(p.registry, "ModelRegistered")
        .withArgs(2n, p.other.address, 2n, 0n, CONTENT_HASH, GRAPH_COMMITMENT, "ipfs://second", 5n, 1n, MAX_UINT128)
        .and.to.emit(p.registry, "ModelSplitSet")
        .withArgs(2n, 7_500, [[p.contributor1.address, 2_500n]]);
      expect(await p.registry.modelCount()).to.equal(2n);

      const m = await p.registry.getModel(2n);
      expect(m.owner).to.equal(p.other.address);
      expect(m.price).to.equal(5n);
      expect(m.family).to.equal(2n);
      expect(m.previousVersion).to.equal(0n);
      expect(m.deprecated).to.equal(false);
      expect(m.developerBps).to.equal(7_500n);
      expect(m.inputElements).to.equal(BigInt(INPUT_ELEMENTS));
      expect(m.outputElements).to.equal(BigInt(OUTPUT_ELEMENTS));
      expect(m.contentHash).to.equal(CONTENT_HASH);
      expect(m.graphCommitment).to.equal(GRAPH_COMMITMENT);
      expect(m.inputShape).to.deep.equal([1n, 600n]);
      expect(m.outputShape).to.deep.equal([1n, 10n]);
      expect([m.inputScaleWad, m.outputScaleWad]).to.deep.equal([1n, MAX_UINT128]);
      expect(m.uri).to.equal("ipfs://second");
      expect(m.contributors).to.deep.equal([[p.contributor1.address, 2_500n]]);
      expect(await p.registry.latestVersion(2n)).to.equal(2n);
      expect(await p.registry.pricing(2n)).to.deep.equal([5n, false, BigInt(INPUT_ELEMENTS), BigInt(OUTPUT_ELEMENTS)]);
      expect(await p.registry.elements(2n)).to.deep.equal([BigInt(INPUT_ELEMENTS), BigInt(OUTPUT_ELEMENTS)]);
      expect(await p.registry.scales(2n)).to.deep.equal([1n, MAX_UINT128]);
      expect(await p.registry.scales(1n)).to.deep.equal([INPUT_SCALE_WAD, OUTPUT_SCALE_WAD]);
      expect(await p.registry.payees(2n)).to.deep.equal([p.other.address, 7_500n, [[p.contributor1.address, 2_500n]]]);
    });

    it("keeps the fixture's model with its two contributors", async function () {
      const p = await protocol();
      expect(await p.registry.payees(p.modelId)).to.deep.equal([
        p.developer.address,
        BigInt(DEV_BPS),
        [
          [p.contributor1.address, BigInt(C1_BPS)],
          [p.contributor2.address, BigInt(C2_BPS)],
        ],
      ]);
    });

    it("needs a content hash, a graph commitment and a URI", async function () {
      const p = await protocol();
      for (const o of [{ contentHash: ZeroHash }, { graphCommitment: ZeroHash }, { uri: "" }]) {
        await expect(p.registry.registerModel(modelSpec(o))).to.be.revertedWithCustomError(
          p.registry,
          "ModelRegistryInvalidCommitment",
        );
      }
    });

    it("needs non-zero scales: every canonical/1 scale is positive", async function () {
      const p = await protocol();
      await expect(p.registry.registerModel(modelSpec({ inputScaleWad: 0n })))
        .to.be.revertedWithCustomError(p.registry, "ModelRegistryInvalidScale")
        .withArgs(0n, OUTPUT_SCALE_WAD);
      await expect(p.registry.connect(p.developer).publishVersion(1n, modelSpec({ outputScaleWad: 0n })))
        .to.be.revertedWithCustomError(p.registry, "ModelRegistryInvalidScale")
        .withArgs(INPUT_SCALE_WAD, 0n);
    });

    it("names the first model registered with a content hash, through re-registrations and versions", async function () {
      const p = await protocol();
      expect(await p.registry.firstModelByContentHash(CONTENT_HASH)).to.equal(1n);
      expect(await p.registry.firstModelByContentHash(id("never registered"))).to.equal(0n);
      // The same file again (allowed), by someone else and as a version: still model 1.
      await p.registry.connect(p.other).registerModel(modelSpec());
      await p.registry.connect(p.developer).publishVersion(1n, modelSpec());
      expect((await p.registry.getModel(3n)).contentHash).to.equal(CONTENT_HASH);
      expect(await p.registry.firstModelByContentHash(CONTENT_HASH)).to.equal(1n);
      // A new file is its own first.
      await p.registry.connect(p.other).registerModel(modelSpec({ contentHash: id("other file") }));
      expect(await p.registry.firstModelByContentHash(id("other file"))).to.equal(4n);
    });

    it("needs non-empty shapes with non-zero dimensions and at most 2^32 - 1 elements", async function () {
      const p = await protocol();
      for (const o of [
        { inputShape: [] },
        { outputShape: [] },
        { inputShape: [1, 0, 3] },
        { outputShape: [0] },
        { inputShape: [65_536, 65_536] },
        { outputShape: [2, 2_147_483_648] },
      ]) {
        await expect(p.registry.registerModel(modelSpec(o))).to.be.revertedWithCustomError(
          p.registry,
          "ModelRegistryInvalidShape",
        );
      }
      await p.registry.registerModel(modelSpec({ inputShape: [65_535, 65_537] }));
      expect((await p.registry.getModel(2n)).inputElements).to.equal(2n ** 32n - 1n);
    });

    it("needs a split that sums to 10000 basis points", async function () {
      const p = await protocol();
      const c = (bps: number) => [{ account: p.contributor1.address, bps }];
      await expect(p.registry.registerModel(modelSpec({ developerBps: 9_999 })))
        .to.be.revertedWithCustomError(p.registry, "ModelRegistryInvalidSplit")
        .withArgs(9_999n);
      await expect(p.registry.registerModel(modelSpec({ developerBps: 9_000 }, c(1_001))))
        .to.be.revertedWithCustomError(p.registry, "ModelRegistryInvalidSplit")
        .withArgs(10_001n);
      await expect(p.registry.registerModel(modelSpec({ developerBps: 10_000 }, c(1))))
        .to.be.revertedWithCustomError(p.registry, "ModelRegistryInvalidSplit")
        .withArgs(10_001n);
      // The developer may take nothing, the contributors everything.
      await p.registry.registerModel(modelSpec({ developerBps: 0 }, c(10_000)));
      expect((await p.registry.getModel(2n)).developerBps).to.equal(0n);
    });

    it("caps the contributors at 8", async function () {
      const p = await protocol();
      const signers = await ethers.getSigners();
      const many = (n: number) => signers.slice(10, 10 + n).map((s) => ({ account: s.address, bps: 1_000 }));
      expect(await p.registry.MAX_CONTRIBUTORS()).to.equal(8n);
      await expect(p.registry.registerModel(modelSpec({ developerBps: 1_000 }, many(9))))
        .to.be.revertedWithCustomError(p.registry, "ModelRegistryTooManyContributors")
        .withArgs(9n, 8n);
      await p.registry.registerModel(modelSpec({ developerBps: 2_000 }, many(8)));
      expect((await p.registry.getModel(2n)).contributors.length).to.equal(8);
    });

    it("refuses a contributor with the zero address or a zero share", async function () {
      const p = await protocol();
      const ok = { account: p.contributor1.address, bps: 1_000 };
      await expect(p.registry.registerModel(modelSpec({ developerBps: 8_000 }, [ok, { account: ZeroAddress, bps: 1_000 }])))
        .to.be.revertedWithCustomError(p.registry, "ModelRegistryInvalidContributor")
        .withArgs(1n);
      await expect(
        p.registry.registerModel(modelSpec({ developerBps: 9_000 }, [{ account: p.contributor2.address, bps: 0 }, ok])),
      )
        .to.be.revertedWithCustomError(p.registry, "ModelRegistryInvalidContributor")
        .withArgs(0n);
    });

    it("answers ModelRegistryUnknownModel for unknown ids in every view", async function () {
      const p = await protocol();
      for (const idx of [0n, 2n]) {
        for (const call of [
          p.registry.getModel(idx),
          p.registry.latestVersion(idx),
          p.registry.pricing(idx),
          p.registry.elements(idx),
          p.registry.scales(idx),
          p.registry.payees(idx),
        ]) {
          await expect(call).to.be.revertedWithCustomError(p.registry, "ModelRegistryUnknownModel").withArgs(idx);
        }
      }
    });
  });

  describe("versions", function () {
    it("links a new version to the latest one of its family", async function () {
      const p = await protocol();
      const r = p.registry.connect(p.developer);
      const v2 = modelSpec({ contentHash: id("v2"), uri: "ipfs://v2", price: 3n, outputScaleWad: 5n * 10n ** 17n });
      await expect(r.publishVersion(1n, v2))
        .to.emit(p.registry, "ModelRegistered")
        .withArgs(2n, p.developer.address, 1n, 1n, id("v2"), GRAPH_COMMITMENT, "ipfs://v2", 3n, INPUT_SCALE_WAD, 5n * 10n ** 17n)
        .and.to.emit(p.registry, "ModelSplitSet")
        .withArgs(2n, 10_000n, []);
      const m2 = await p.registry.getModel(2n);
      expect(m2.family).to.equal(1n);
      expect(m2.previousVersion).to.equal(1n);
      expect(await p.registry.scales(2n)).to.deep.equal([INPUT_SCALE_WAD, 5n * 10n ** 17n]);
      expect(m2.owner).to.equal(p.developer.address);
      expect(await p.registry.latestVersion(1n)).to.equal(2n);
      expect(await p.registry.latestVersion(2n)).to.equal(2n);

      // An unrelated model in between does not disturb the family.
      await p.registry.connect(p.other).registerModel(modelSpec());
      await r.publishVersion(2n, modelSpec({ contentHash: id("v3") }));
      expect(await p.registry.latestVersion(1n)).to.equal(4n);
      expect(await p.registry.latestVersion(3n)).to.equal(3n);
      expect((await p.registry.getModel(4n)).previousVersion).to.equal(2n);
      // The old versions stay as they were.
      expect((await p.registry.getModel(1n)).price).to.equal(PRICE);
    });

    it("allows a new version only of the latest version, by its owner, with a valid spec", async function () {
      const p = await protocol();
      const r = p.registry.connect(p.developer);
      await r.publishVersion(1n, modelSpec());
      await expect(r.publishVersion(1n, modelSpec()))
        .to.be.revertedWithCustomError(p.registry, "ModelRegistryNotLatestVersion")
        .withArgs(1n, 2n);
      await expect(p.registry.connect(p.other).publishVersion(2n, modelSpec()))
        .to.be.revertedWithCustomError(p.registry, "ModelRegistryNotModelOwner")
        .withArgs(2n, p.other.address);
      await expect(r.publishVersion(9n, modelSpec()))
        .to.be.revertedWithCustomError(p.registry, "ModelRegistryUnknownModel")
        .withArgs(9n);
      await expect(r.publishVersion(2n, modelSpec({ developerBps: 1 })))
        .to.be.revertedWithCustomError(p.registry, "ModelRegistryInvalidSplit")
        .withArgs(1n);
    });
  });

  describe("price and URI", function () {
    it("lets the owner change the price; jobs requested before keep theirs", async function () {
      const p = await protocol();
      const jobId = await requestJob(p);
      await expect(p.registry.connect(p.developer).setPrice(p.modelId, 42n))
        .to.emit(p.registry, "ModelPriceUpdated")
        .withArgs(p.modelId, PRICE, 42n);
      expect((await p.registry.getModel(p.modelId)).price).to.equal(42n);
      expect((await jobOf(p, jobId)).modelFee).to.equal(PRICE);
      await requestJob(p, { fee: minimumFeeFor(42n) });
      expect((await jobOf(p, 2n)).modelFee).to.equal(42n);
    });

    it("lets the owner change the URI, never to empty", async function () {
      const p = await protocol();
      await expect(p.registry.connect(p.developer).setURI(p.modelId, "https://models.example/v1.onnx"))
        .to.emit(p.registry, "ModelURIUpdated")
        .withArgs(p.modelId, "https://models.example/v1.onnx");
      const m = await p.registry.getModel(p.modelId);
      expect(m.uri).to.equal("https://models.example/v1.onnx");
      expect(m.contentHash).to.equal(CONTENT_HASH);
      await expect(p.registry.connect(p.developer).setURI(p.modelId, "")).to.be.revertedWithCustomError(
        p.registry,
        "ModelRegistryInvalidCommitment",
      );
    });

    it("refuses owner actions by others or on unknown models", async function () {
      const p = await protocol();
      await expect(p.registry.connect(p.other).setPrice(p.modelId, 1n))
        .to.be.revertedWithCustomError(p.registry, "ModelRegistryNotModelOwner")
        .withArgs(p.modelId, p.other.address);
      await expect(p.registry.connect(p.other).setURI(p.modelId, "x"))
        .to.be.revertedWithCustomError(p.registry, "ModelRegistryNotModelOwner")
        .withArgs(p.modelId, p.other.address);
      await expect(p.registry.connect(p.developer).setPrice(7n, 1n))
        .to.be.revertedWithCustomError(p.registry, "ModelRegistryUnknownModel")
        .withArgs(7n);
      await expect(p.registry.connect(p.developer).setURI(7n, "x"))
        .to.be.revertedWithCustomError(p.registry, "ModelRegistryUnknownModel")
        .withArgs(7n);
      await expect(p.registry.connect(p.developer).deprecate(7n))
        .to.be.revertedWithCustomError(p.registry, "ModelRegistryUnknownModel")
        .withArgs(7n);
      await expect(p.registry.connect(p.developer).transferModelOwnership(7n, p.other.address))
        .to.be.revertedWithCustomError(p.registry, "ModelRegistryUnknownModel")
        .withArgs(7n);
    });
  });

  describe("deprecate", function () {
    it("stops new jobs, once, while a job in flight still finalizes and pays the developer", async function () {
      const p = await protocol();
      const jobId = await submittedJob(p);
      await expect(p.registry.connect(p.other).deprecate(p.modelId))
        .to.be.revertedWithCustomError(p.registry, "ModelRegistryNotModelOwner")
        .withArgs(p.modelId, p.other.address);
      await expect(p.registry.connect(p.developer).deprecate(p.modelId))
        .to.emit(p.registry, "ModelDeprecated")
        .withArgs(p.modelId);
      expect((await p.registry.pricing(p.modelId))[1]).to.equal(true);
      await expect(p.registry.connect(p.developer).deprecate(p.modelId))
        .to.be.revertedWithCustomError(p.registry, "ModelRegistryModelDeprecated")
        .withArgs(p.modelId);
      await expect(p.jm.connect(p.requester).requestInference(await requestParams(p)))
        .to.be.revertedWithCustomError(p.jm, "JobManagerModelDeprecated")
        .withArgs(p.modelId);

      await endChallengeWindow(p, jobId);
      await expect(p.jm.finalize(jobId, ...(await finalizeArgs(p, jobId))))
        .to.emit(p.jm, "JobFinalized")
        .withArgs(jobId, p.worker.address, FEE - PRICE - PROTOCOL_FEE, PRICE, PROTOCOL_FEE);
      expect((await jobOf(p, jobId)).status).to.equal(Status.Finalized);
      expect(await p.jm.modelEarnings(p.modelId)).to.equal(PRICE);
      await p.jm.distributeModelEarnings(p.modelId);
      expect(await p.jm.balanceOf(p.developer.address)).to.be.greaterThan(0n);
      await expectEscrowConserved(p);
    });

    it("leaves other versions of the family usable", async function () {
      const p = await protocol();
      await p.registry.connect(p.developer).publishVersion(1n, modelSpec());
      await p.registry.connect(p.developer).deprecate(1n);
      await requestJob(p, { modelId: 2n });
      expect((await jobOf(p, 1n)).modelId).to.equal(2n);
    });
  });

  describe("ownership", function () {
    it("hands the model's controls and revenue to the new owner", async function () {
      const p = await protocol();
      const jobId = await submittedJob(p);
      await expect(p.registry.connect(p.developer).transferModelOwnership(p.modelId, ZeroAddress))
        .to.be.revertedWithCustomError(p.registry, "ModelRegistryInvalidOwner");
      await expect(p.registry.connect(p.other).transferModelOwnership(p.modelId, p.other.address))
        .to.be.revertedWithCustomError(p.registry, "ModelRegistryNotModelOwner")
        .withArgs(p.modelId, p.other.address);
      await expect(p.registry.connect(p.developer).transferModelOwnership(p.modelId, p.other.address))
        .to.emit(p.registry, "ModelOwnershipTransferred")
        .withArgs(p.modelId, p.developer.address, p.other.address);
      expect((await p.registry.getModel(p.modelId)).owner).to.equal(p.other.address);

      await expect(p.registry.connect(p.developer).setPrice(p.modelId, 1n))
        .to.be.revertedWithCustomError(p.registry, "ModelRegistryNotModelOwner")
        .withArgs(p.modelId, p.developer.address);
      await expect(p.registry.connect(p.developer).publishVersion(p.modelId, modelSpec()))
        .to.be.revertedWithCustomError(p.registry, "ModelRegistryNotModelOwner")
        .withArgs(p.modelId, p.developer.address);
      await p.registry.connect(p.other).setURI(p.modelId, MODEL_URI + "-moved");

      // The developer's share of earnings distributed after the transfer goes to the new owner.
      await endChallengeWindow(p, jobId);
      await p.jm.finalize(jobId, ...(await finalizeArgs(p, jobId)));
      await p.jm.distributeModelEarnings(p.modelId);
      expect(await p.jm.balanceOf(p.developer.address)).to.equal(0n);
      expect(await p.jm.balanceOf(p.other.address)).to.equal(modelSplit(PRICE).developer);
      await expectEscrowConserved(p);
    });
  });
});
