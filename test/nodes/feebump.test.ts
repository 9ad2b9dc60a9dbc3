/**
 * Stuck transactions: a node's signer sends a transaction not mined in time again, with the same
 * nonce and fees raised by 12.5% (never above --max-fee-gwei), the caller gets the receipt of
 * whichever was mined, and a restarted node takes over the watching of what it left in the mempool.
 * On the in-process network with automine off, so that transactions wait until a block is mined.
 */
import { expect } from "chai";
import { network } from "hardhat";
import type { TransactionReceipt } from "ethers";

import { waitMined } from "../../offchain/clients/wait.js";
import { Journal } from "../../offchain/nodes/journal.js";
import { createLogger } from "../../offchain/nodes/log.js";
import type { GasSettings } from "../../offchain/nodes/signer.js";
import { ManagedSigner, replacementFees } from "../../offchain/nodes/signer.js";
import { NodeStore } from "../../offchain/nodes/store.js";

const conn = await network.create();
const provider = conn.ethers.provider;
const [, , , , , , , sender, recipient] = await conn.ethers.getSigners();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const rpc = (method: string, params: unknown[] = []) => conn.provider.request({ method, params });
const GWEI = 10n ** 9n;

describe("nodes: stuck transactions are replaced with higher fees", function () {
  this.timeout(60_000);
  const lines: string[] = [];

  function node(gas: GasSettings, store = NodeStore.open(":memory:")) {
    const signer = new ManagedSigner(sender!, gas);
    const journal = new Journal(store, signer, createLogger("test", (l) => lines.push(l)));
    return { store, signer, journal };
  }

  beforeEach(async function () {
    lines.length = 0;
    await rpc("evm_setAutomine", [false]);
  });
  afterEach(async function () {
    await rpc("evm_mine");
    await rpc("evm_setAutomine", [true]);
  });

  it("computes replacement fees: +12.5% rounded up, at least the suggestion, never above the cap", function () {
    const suggested = { gasPrice: null, maxFeePerGas: 10n * GWEI, maxPriorityFeePerGas: 1n * GWEI } as never;
    expect(replacementFees({ maxFeePerGas: 8n * GWEI, maxPriorityFeePerGas: 2n * GWEI }, suggested)).to.deep.equal({
      maxFeePerGas: 10n * GWEI, // the suggestion beats 9 gwei
      maxPriorityFeePerGas: 2_250_000_000n,
    });
    expect(replacementFees({ maxFeePerGas: 101n, maxPriorityFeePerGas: 9n }, { maxFeePerGas: 0n, maxPriorityFeePerGas: 0n } as never)).to.deep.equal({
      maxFeePerGas: 114n, // ceil(101 * 1.125) = 113.625 -> 114
      maxPriorityFeePerGas: 11n,
    });
    expect(replacementFees({ gasPrice: 8n }, { gasPrice: 1n } as never)).to.deep.equal({ gasPrice: 9n });
    expect(replacementFees({ maxFeePerGas: 9n * GWEI, maxPriorityFeePerGas: 1n }, suggested, 10n * GWEI)).to.equal(undefined);
  });

  it("replaces a transaction not mined in time; the caller gets the mined replacement's receipt", async function () {
    const { store, signer, journal } = node({ replaceAfterMs: 200 });
    const to = await recipient!.getAddress();
    const from = await sender!.getAddress();
    const nonce = await provider.getTransactionCount(from, "latest");
    const balance = await provider.getBalance(to);
    let firstHash = "";
    let first: { nonce: number; maxFeePerGas: bigint | null; maxPriorityFeePerGas: bigint | null } | undefined;
    const done = journal.perform("pay:1", "pay 1 wei", async () => {
      const tx = await signer.sendTransaction({ to, value: 1n });
      firstHash = tx.hash;
      first = tx;
      return waitMined(tx) as Promise<TransactionReceipt | null>;
    });
    // Not mined: after replaceAfter the signer sends it again with higher fees.
    for (let i = 0; i < 50 && !lines.some((l) => l.includes("replaced pay 1 wei")); i++) await sleep(50);
    expect(lines.join("\n")).to.match(/replaced pay 1 wei \(nonce \d+\), not mined in time: fee [\d.]+ -> [\d.]+ gwei, tx 0x[0-9a-f]{64}/);
    const replacementHash = store.intent("pay:1")!.txHash!;
    expect(replacementHash).to.not.equal(firstHash);
    const second = (await provider.getTransaction(replacementHash))!;
    expect(second.nonce).to.equal(first!.nonce);
    expect(second.maxFeePerGas! * 8n >= first!.maxFeePerGas! * 9n).to.equal(true);
    expect(second.maxPriorityFeePerGas! * 8n >= first!.maxPriorityFeePerGas! * 9n).to.equal(true);
    expect(await provider.getTransaction(firstHash)).to.equal(null); // the node dropped the one it replaced

    await rpc("evm_mine");
    const receipt = await done;
    expect(receipt!.hash).to.equal(replacementHash);
    expect(store.intent("pay:1")!.state).to.equal("done");
    expect(store.intent("pay:1")!.gasUsed).to.equal(21_000n);
    // One transaction with that nonce was mined: the recipient got 1 wei, once.
    expect(await provider.getTransactionCount(from, "latest")).to.equal(nonce + 1);
    expect((await provider.getBalance(to)) - balance).to.equal(1n);
    signer.stopReplacing();
  });

  it("does not go above --max-fee-gwei: warns once and waits", async function () {
    const base = (await provider.getBlock("latest"))!.baseFeePerGas!;
    const capGwei = Number((base * 3n) / GWEI + 1n);
    const { signer, journal } = node({ replaceAfterMs: 100, maxFeeGwei: capGwei });
    const to = await recipient!.getAddress();
    const done = journal.perform("pay:cap", "pay at the cap", async () => waitMined(await signer.sendTransaction({ to, value: 1n })));
    await sleep(600);
    expect(lines.filter((l) => l.includes("is not mined and its fee is at the --max-fee-gwei cap"))).to.have.length(1);
    expect(lines.some((l) => l.includes("replaced"))).to.equal(false);
    await rpc("evm_mine");
    expect((await done)!.status).to.equal(1);
    signer.stopReplacing();
  });

  it("a restarted node watches what it left in the mempool and replaces it", async function () {
    // The first process sends and dies (nothing replaces: replaceAfter 0).
    const a = node({ replaceAfterMs: 0 });
    const to = await recipient!.getAddress();
    const sent = await a.signer.sendTransaction({ to, value: 1n });
    // What the journal holds when the process dies after sending: the intent, its nonce, its hash.
    a.store.beginIntent("pay:r", "pay before the crash");
    a.store.noteNonce("pay:r", sent.nonce);
    a.store.noteSent("pay:r", sent.hash);

    const b = node({ replaceAfterMs: 150 }, a.store);
    expect(await b.journal.reconcile()).to.equal(1); // still in the mempool: waiting, and watched
    for (let i = 0; i < 40 && b.store.intent("pay:r")!.txHash === sent.hash; i++) await sleep(50);
    const replacement = b.store.intent("pay:r")!.txHash!;
    expect(replacement).to.not.equal(sent.hash);
    await rpc("evm_mine");
    expect(await b.journal.reconcile()).to.equal(0);
    expect(b.store.intent("pay:r")!.state).to.equal("done");
    expect((await provider.getTransactionReceipt(replacement))!.status).to.equal(1);
    b.signer.stopReplacing();
  });
});
