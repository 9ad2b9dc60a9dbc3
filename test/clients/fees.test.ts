/**
 * The fee rule has one home, the escrow: quotes take its `minimumFee` view. The protocol's share
 * of a fee is mirrored off-chain (`protocolFeeOf`, of `FeeSplit.share`) to show a split without a
 * call; here the mirror meets what finalization pays, across rates, prices and rounding edges.
 */
import { expect } from "chai";
import { ZeroAddress, getBytes } from "ethers";
import { network } from "hardhat";

import type { Protocol as Clients } from "../../offchain/cli/index.js";
import { attachProtocol, finalizeJob, protocolFeeOf, quoteFee, requestInference, sendClaim, sendSubmit } from "../../offchain/cli/index.js";
import { CHALLENGE_WINDOW, PRICE, SAMPLE_INPUT, SAMPLE_OUTPUT, protocolFixtures } from "../contracts/fixtures.js";
import type { Protocol } from "../contracts/fixtures.js";

const conn = await network.create();
const { deployProtocol } = protocolFixtures(conn);

/** The clients on the fixture's contracts (quotes and jobs need only the token, registry, staking and escrow). */
async function clientsOf(p: Protocol): Promise<Clients> {
  const address = (c: { getAddress(): Promise<string> }) => c.getAddress();
  return attachProtocol(conn, (await conn.ethers.provider.getNetwork()).chainId, {
    token: await address(p.token),
    registry: await address(p.registry),
    staking: await address(p.staking),
    jobManager: await address(p.jm),
    timelock: ZeroAddress,
    governor: ZeroAddress,
    disputeFactory: ZeroAddress,
    subscriptions: ZeroAddress,
  });
}

describe("clients: fees", function () {
  this.timeout(120_000);

  it("quotes the escrow's minimumFee, and protocolFeeOf is what finalization pays the treasury", async function () {
    const p = await conn.networkHelpers.loadFixture(deployProtocol);
    const c = await clientsOf(p);
    const [input, output] = [getBytes(SAMPLE_INPUT), getBytes(SAMPLE_OUTPUT)];
    let checked = 0;
    // Rates from none to the escrow's cap; prices of 1 wei, just under the whole and odd; fees at
    // the minimum, one wei above it and off any round number.
    for (const bps of [0n, 1n, 333n, 800n, 2_000n]) {
      await p.jm.connect(p.deployer).setParams({ ...p.params, protocolFeeBps: bps });
      for (const price of [1n, 9_999n, PRICE]) {
        await p.registry.connect(p.developer).setPrice(p.modelId, price);
        const quote = await quoteFee(c, p.modelId);
        expect(quote.minimum).to.equal(await p.jm.minimumFee(price));
        expect([quote.price, quote.protocolFeeBps]).to.deep.equal([price, bps]);
        for (const extra of [0n, 1n, 10_007n]) {
          const fee = quote.minimum + extra;
          const request = await requestInference(c, p.requester, { modelId: p.modelId, input, fee, deadlineIn: 3600 });
          expect(request.protocolFee).to.equal(protocolFeeOf(fee, bps));
          await sendClaim(c, p.worker, request.jobId);
          await sendSubmit(c, p.worker, request.jobId, output);
          await conn.networkHelpers.time.increase(CHALLENGE_WINDOW);
          const paid = await finalizeJob(c, p.other, request.jobId);
          expect(paid.protocolFee, `fee ${fee} at ${bps} bps`).to.equal(request.protocolFee);
          expect(paid.modelFee).to.equal(price);
          checked++;
        }
      }
    }
    expect(checked).to.equal(45);
  });
});
