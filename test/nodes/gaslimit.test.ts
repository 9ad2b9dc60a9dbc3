/**
 * The node's signer puts a margin on estimated gas limits (DEFAULT_GAS_LIMIT_MULTIPLIER): an
 * estimate is made on the state of the moment, and a transaction may run on a costlier one (other
 * nodes' transactions mined before it in the same block). `--gas-multiplier 1` sends the bare
 * estimate; a limit the caller sets is kept. The e2e case that needed it: a roster claim estimated
 * at 104,957 gas ran out of gas when mined after a claim that changed what it had to do (150,649).
 */
import { expect } from "chai";
import { network } from "hardhat";

import { DEFAULT_GAS_LIMIT_MULTIPLIER, ManagedSigner } from "../../offchain/nodes/signer.js";

const conn = await network.create();
const [, , , , , , , , sender, recipient] = await conn.ethers.getSigners();

describe("nodes: the signer's margin on estimated gas limits", function () {
  const send = async (signer: ManagedSigner, gasLimit?: bigint) => {
    const tx = await signer.sendTransaction({ to: await recipient!.getAddress(), value: 1n, ...(gasLimit ? { gasLimit } : {}) });
    await tx.wait();
    return (await conn.ethers.provider.getTransaction(tx.hash))!.gasLimit; // as mined
  };

  it("sends the estimate times 1.5 by default, the bare estimate with a multiplier of 1, and keeps a limit the caller set", async function () {
    expect(DEFAULT_GAS_LIMIT_MULTIPLIER).to.equal(1.5);
    const estimate = await conn.ethers.provider.estimateGas({ from: await sender!.getAddress(), to: await recipient!.getAddress(), value: 1n });
    expect(await send(new ManagedSigner(sender!))).to.equal((estimate * 1500n) / 1000n);
    expect(await send(new ManagedSigner(sender!, { gasLimitMultiplier: 1.2 }))).to.equal((estimate * 1200n) / 1000n);
    expect(await send(new ManagedSigner(sender!, { gasLimitMultiplier: 1 }))).to.equal(estimate);
    expect(await send(new ManagedSigner(sender!), 50_000n)).to.equal(50_000n);
  });
});
