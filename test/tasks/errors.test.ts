/**
 * The clear-error cases: every mistake a user is likely to make gets a sentence with its
 * numbers, never raw revert data.
 */
import { expect } from "chai";
import { AbiCoder, ZeroAddress, ZeroHash, parseEther } from "ethers";
import { network } from "hardhat";

import type { Protocol } from "../../offchain/cli/index.js";
import {
  PROTOCOL_ERRORS,
  connectProtocol,
  decodeRevert,
  deployProtocol,
  describeError,
  faucet,
  intsToBytes,
  registerModel,
  requestInference,
  send,
} from "../../offchain/cli/index.js";
import { rejection } from "./helpers.js";

const connection = await network.create();
const { ethers, networkHelpers } = connection;
const [, developer, , requester] = await ethers.getSigners();

async function deployWithModel(): Promise<{ p: Protocol; modelId: bigint }> {
  const { protocol: p } = await deployProtocol(connection, "ignition");
  const { modelId } = await registerModel(p, developer!, {
    uri: "ipfs://model",
    contentHash: `0x${"11".repeat(32)}`,
    graphCommitment: `0x${"22".repeat(32)}`,
    inputShape: [1, 4],
    outputShape: [1, 2],
    inputScaleWad: 10n ** 18n,
    outputScaleWad: 10n ** 18n,
    price: parseEther("1.4"),
    contributors: [],
  });
  return { p, modelId };
}

/** The least fee on the test model (price 1.4 VTN) at the local default rate of 1%. */
const MINIMUM = 1_414_141_414_141_414_141n;

describe("clear errors", function () {
  const input = intsToBytes([1, 2, 3, 4]);

  it("decodes custom errors with their numbers", function () {
    const data = PROTOCOL_ERRORS.encodeErrorResult("JobManagerInsufficientFee", [parseEther("1"), parseEther("1.5")]);
    const sentence = "fee 1.0 VTN is below the minimum 1.5 VTN (what is left after the protocol fee must cover the model price)";
    expect(describeError(PROTOCOL_ERRORS.parseError(data)!)).to.equal(sentence);
    expect(decodeRevert({ error: { data } })).to.equal(sentence);
    const none = PROTOCOL_ERRORS.encodeErrorResult("JobManagerNothingToDistribute", [3n]);
    expect(decodeRevert({ error: { data: none } })).to.equal("model 3 has no accrued earnings to distribute");
    const unknown = `0xdeadbeef${AbiCoder.defaultAbiCoder().encode(["uint256"], [1]).slice(2)}`;
    expect(decodeRevert({ data: unknown })).to.match(/unknown error data 0xdeadbeef/);
  });

  it("says when the protocol is not deployed on the network", async function () {
    const fresh = await network.create();
    const message = await rejection(() => connectProtocol(fresh, "ignition"));
    expect(message).to.match(/^the protocol is not deployed on network \w+ \(chain 31337\): run `npx hardhat protocol deploy --network \w+` first/);
  });

  it("unknown model", async function () {
    const { p } = await networkHelpers.loadFixture(deployWithModel);
    const message = await rejection(() => requestInference(p, requester!, { modelId: 42n, input, deadlineIn: 600 }));
    expect(message).to.equal("looking up model 42 failed: unknown model 42: no model is registered with that id");
  });

  it("fee below the minimum", async function () {
    const { p, modelId } = await networkHelpers.loadFixture(deployWithModel);
    const message = await rejection(() => requestInference(p, requester!, { modelId, input, deadlineIn: 600, fee: parseEther("1") }));
    // 1.4 VTN after 1% of the fee: the least such fee is 1.4 / 0.99 rounded up to the wei.
    expect(MINIMUM).to.equal(1_414_141_414_141_414_141n);
    expect(await p.jobManager.minimumFee(parseEther("1.4"))).to.equal(MINIMUM);
    expect(message).to.equal(
      "fee 1.0 VTN is below the minimum 1.414141414141414141 VTN (model price 1.4 VTN after a protocol fee of 1% (100 bps) of the fee)",
    );
  });

  it("allowance too low (with --no-approve)", async function () {
    const { p, modelId } = await networkHelpers.loadFixture(deployWithModel);
    const message = await rejection(() => requestInference(p, requester!, { modelId, input, deadlineIn: 600, approve: false }));
    expect(message).to.match(/^allowance too low for the fee of 1\.414141414141414141 VTN: the job escrow may spend 0\.0 VTN of 0x[0-9a-fA-F]{40}'s VTN, 1\.414141414141414141 VTN is needed/);
  });

  it("balance too low", async function () {
    const { p, modelId } = await networkHelpers.loadFixture(deployWithModel);
    const [, , , , , , , , , , poor] = await ethers.getSigners();
    const message = await rejection(() => requestInference(p, poor!, { modelId, input, deadlineIn: 600 }));
    expect(message).to.match(/^token balance too low for the fee of 1\.414141414141414141 VTN: 0x[0-9a-fA-F]{40} has 0\.0 VTN, 1\.414141414141414141 VTN is needed \(on a local network: `npx hardhat token faucet/);
  });

  it("deadline in the past, caught before sending and decoded from the contract", async function () {
    const { p, modelId } = await networkHelpers.loadFixture(deployWithModel);
    const early = await rejection(() => requestInference(p, requester!, { modelId, input, deadlineIn: -30 }));
    expect(early).to.include("deadline -30 s from now is not in the future");

    // The contract's own check, as another client would hit it.
    await p.token.connect(requester!).approve(p.addresses.jobManager, parseEther("2"));
    const past = BigInt(await networkHelpers.time.latest()) - 10n;
    const onChain = await rejection(() =>
      send(p, "requesting", () =>
        p.jobManager.connect(requester!).requestInference({
          modelId, input, inputURI: "", inputCommitment: ZeroHash, fee: parseEther("1.5"),
          deadline: past, consumer: ZeroAddress, callbackGasLimit: 0,
        }),
      ),
    );
    expect(onChain).to.match(/^requesting failed: deadline \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(\d+ s ago\) is in the past or later than the latest allowed/);
  });

  it("wrong input size", async function () {
    const { p, modelId } = await networkHelpers.loadFixture(deployWithModel);
    const message = await rejection(() => requestInference(p, requester!, { modelId, input: intsToBytes([1, 2]), deadlineIn: 600 }));
    expect(message).to.equal(`the input has 2 elements; model ${modelId} takes 4 (shape [1, 4])`);
  });

  it("faucet on a non-local network", async function () {
    const sepoliaLike = await network.create({ network: "hardhat", override: { chainId: 11155111 } });
    const { protocol } = await deployProtocol(sepoliaLike, "ignition");
    const message = await rejection(() => faucet(protocol, requester!.address, 1n));
    expect(message).to.include("token faucet works only on a local network");
    expect(message).to.match(/network \w+ is chain 11155111/);
  });
});
