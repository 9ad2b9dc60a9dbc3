/**
 * The shared receipt watcher: a transaction whose nonce another transaction took (sent from the
 * same account outside this process) fails its wait with NONCE_EXPIRED instead of hanging.
 */
import { expect } from "chai";
import { isError, parseUnits } from "ethers";
import { network } from "hardhat";

import { waitMined } from "../../offchain/clients/wait.js";

describe("clients: waiting for transactions", function () {
  this.timeout(60_000);

  it("fails the wait of a transaction whose nonce an outside transaction took, and still returns a mined one", async function () {
    const conn = await network.create();
    const [alice, bob] = await conn.ethers.getSigners();
    await conn.provider.request({ method: "evm_setAutomine", params: [false] });
    const fee = { maxFeePerGas: parseUnits("10", "gwei"), maxPriorityFeePerGas: parseUnits("1", "gwei") };
    const ours = await alice!.sendTransaction({ to: bob!.address, value: 1n, ...fee });
    // The same account, outside this process, sends another transaction with that nonce and more fee.
    await alice!.sendTransaction({ to: alice!.address, value: 0n, nonce: ours.nonce, maxFeePerGas: parseUnits("30", "gwei"), maxPriorityFeePerGas: parseUnits("5", "gwei") });
    const waiting = waitMined(ours).then(
      () => undefined,
      (e: unknown) => e,
    );
    // Blocks go by: the watcher looks the transaction up again after a few of them.
    for (let i = 0; i < 12; i++) await conn.provider.request({ method: "evm_mine", params: [] });
    const error = await waiting;
    expect(isError(error, "NONCE_EXPIRED"), String(error)).to.equal(true);
    expect((error as Error).message).to.contain(`transaction ${ours.hash.toLowerCase()} will never be mined: nonce ${ours.nonce} of ${alice!.address} was taken by another transaction`);

    // A transaction that is mined is found as before.
    const next = await bob!.sendTransaction({ to: alice!.address, value: 1n, ...fee });
    const mined = waitMined(next);
    await conn.provider.request({ method: "evm_mine", params: [] });
    expect((await mined)?.hash).to.equal(next.hash);
  });
});
