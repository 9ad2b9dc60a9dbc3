/**
 * docs/INTEGRATING.md, "DigitOracle on a local chain": an integrator's consumer contract, live.
 *
 *   npx hardhat run --network localhost scripts/digit-oracle-demo.ts
 *
 * With the protocol deployed (`npx hardhat protocol deploy --network localhost`) and a digit model
 * registered and served by a worker, it deploys `contracts/examples/DigitOracle.sol` owned by
 * account 3, funds it from account 3, asks it for the digit in test/tasks/fixtures/digit-7.json,
 * waits while a worker claims, runs, submits and finalizes the job (the finalization calls the
 * oracle back), and reads the answer: the digit, its score dequantized with the registry's output
 * scale, the callback's status in the escrow, and `isFinalOutput` on the job's output bytes.
 *
 * Environment (all optional):
 *   MODEL=1        the model id to ask (a 784-pixel input, ten scores out)
 *   ORACLE=0x…     use this DigitOracle instead of deploying one (account 3 must own it)
 *   FUND=1         VTN account 3 sends the oracle first (0 to send nothing)
 *   FEE=0.4        VTN the job pays (at least `minimumFeeWithCallback`, 0.202 VTN for a 0.1 VTN model)
 *   CANCEL=1       cancel the job at once instead of waiting for a worker (the failure path)
 *   TIMEOUT=600    seconds to wait for the answer
 */
import { readFile } from "node:fs/promises";
import path from "node:path";

import hre, { network } from "hardhat";
import { ZeroAddress, formatUnits, getBytes, hexlify } from "ethers";

import {
  connectProtocol,
  formatFields,
  formatGas,
  formatVtn,
  intsToBytes,
  jobTerms,
  parseVtn,
  submittedOutput,
} from "../offchain/clients/index.js";
import { DigitOracle__factory } from "../types/ethers-contracts/index.js";
import type { DigitOracle } from "../types/ethers-contracts/index.js";

const STATUS = ["None", "Open", "Claimed", "Submitted", "Finalized", "Refunded", "Rejected"];
const CALLBACK = ["none", "delivered", "failed"];

const conn = await network.getOrCreate();
const p = await connectProtocol(conn, hre.config.paths.ignition);
const owner = (await conn.ethers.getSigners())[3];
const modelId = BigInt(process.env.MODEL ?? "1");
const clock = () => new Date().toISOString().slice(11, 19);
const log = (line: string) => console.log(`${clock()} ${line}`);

// 1. Deploy the oracle (or take the one given), owned by account 3.
let oracle: DigitOracle;
if (process.env.ORACLE) {
  oracle = DigitOracle__factory.connect(process.env.ORACLE, owner);
  log(`DigitOracle at ${process.env.ORACLE} (given), owner ${await oracle.owner()}`);
} else {
  const deployed = await conn.ethers.deployContract("DigitOracle", [p.addresses.jobManager, modelId, owner.address], owner);
  await deployed.waitForDeployment();
  oracle = DigitOracle__factory.connect(await deployed.getAddress(), owner);
  const receipt = await deployed.deploymentTransaction()!.wait();
  log(`deployed DigitOracle at ${await oracle.getAddress()} (gas ${formatGas(receipt!.gasUsed)})`);
}
const address = await oracle.getAddress();
const outputScaleWad = await oracle.outputScaleWad();
console.log(
  formatFields([
    ["  owner", await oracle.owner()],
    ["  model", `${await oracle.modelId()}`],
    ["  output scale", `${formatUnits(outputScaleWad, 18)} (wad ${outputScaleWad}, read from the registry at construction)`],
    ["  callback gas", `${await oracle.CALLBACK_GAS()}`],
  ]),
);

// 2. Fund it: the oracle pays fees from its own token balance.
const fund = parseVtn(process.env.FUND ?? "1", "FUND");
if (fund > 0n) {
  const tx = await p.token.connect(owner).transfer(address, fund);
  await tx.wait();
  log(`account 3 sent the oracle ${formatVtn(fund)}`);
}
log(`oracle balance: ${formatVtn(await p.token.balanceOf(address))}`);

// 3. Quote and ask.
const [price] = await p.registry.pricing(modelId);
const callbackGas = await oracle.CALLBACK_GAS();
const minimum = await p.jobManager.minimumFeeWithCallback(price, callbackGas);
const params = await p.jobManager.params();
const fee = parseVtn(process.env.FEE ?? "0.4", "FEE");
console.log(
  formatFields([
    ["  model price", formatVtn(price)],
    ["  callback fee", `${formatVtn(callbackGas * params.callbackFeePerGas)} (${callbackGas} gas × ${params.callbackFeePerGas} wei)`],
    ["  least fee", `${formatVtn(minimum)} (minimumFeeWithCallback: price + callback fee after the ${params.protocolFeeBps} bps protocol fee)`],
    ["  fee offered", formatVtn(fee)],
  ]),
);
const pixels = JSON.parse(await readFile(path.join(hre.config.paths.root, "test/tasks/fixtures/digit-7.json"), "utf8")) as number[];
const block = await conn.ethers.provider.getBlock("latest");
const deadline = BigInt(block!.timestamp) + 600n;
const askTx = await oracle.ask(intsToBytes(pixels, "digit-7.json"), fee, deadline);
const askReceipt = await askTx.wait();
const requested = askReceipt!.logs.map((l) => oracle.interface.parseLog(l)).find((e) => e?.name === "DigitRequested");
const jobId: bigint = requested!.args.jobId;
log(`asked: job ${jobId} (DigitOracle.ask, gas ${formatGas(askReceipt!.gasUsed)})`);
const terms = await jobTerms(p, jobId);
console.log(
  formatFields([
    ["  requester", terms.requester === address ? `${terms.requester} (the oracle)` : terms.requester],
    ["  consumer", terms.consumer === address ? `${terms.consumer} (the oracle)` : terms.consumer],
    ["  callback gas limit", `${terms.callbackGasLimit}`],
    ["  fee escrowed", formatVtn(terms.fee)],
    ["  oracle balance", formatVtn(await p.token.balanceOf(address))],
  ]),
);

if (process.env.CANCEL === "1") {
  // The failure path: an unclaimed job is withdrawn; the fee is back in the oracle at once.
  const tx = await oracle.cancel(jobId, terms);
  const receipt = await tx.wait();
  const failed = receipt!.logs.map((l) => oracle.interface.parseLog(l)).find((e) => e?.name === "DigitFailed");
  log(`cancelled job ${jobId}: DigitFailed(status ${STATUS[Number(failed!.args.status)]}), gas ${formatGas(receipt!.gasUsed)}`);
  log(`oracle balance: ${formatVtn(await p.token.balanceOf(address))}, still pending: ${await oracle.pending(jobId)}`);
  await printEvents(jobId, askReceipt!.blockNumber);
  process.exit(0);
}

// 4. Wait for a worker: claim, submit, challenge window, finalizeWithCallback → DigitOracle._onResult.
log(`waiting for a worker to serve job ${jobId} (claim, run, submit, challenge window, finalize)…`);
const timeoutMs = Number(process.env.TIMEOUT ?? "600") * 1000;
const start = Date.now();
let last = "";
for (;;) {
  const job = await p.jobManager.getJob(jobId);
  const status = STATUS[Number(job.status)];
  if (status !== last) {
    const extra = job.worker !== ZeroAddress ? ` (worker ${job.worker})` : "";
    log(`job ${jobId}: ${status}${extra}`);
    last = status;
  }
  if (job.status >= 4n) break;
  if (Date.now() - start > timeoutMs) throw new Error(`job ${jobId} not settled after ${timeoutMs / 1000} s: is a worker running for model ${modelId}?`);
  await new Promise((r) => setTimeout(r, 2000));
}

// 5. Read the answer.
const job = await p.jobManager.getJob(jobId);
if (job.status !== 4n) {
  log(`job ${jobId} ended ${STATUS[Number(job.status)]}: anyone may call oracle.settleFailedJob(${jobId}) to take the refund back`);
  process.exit(1);
}
const [delivered] = await p.jobManager.queryFilter(p.jobManager.filters.CallbackDelivered(jobId));
const [answeredEvent] = await oracle.queryFilter(oracle.filters.DigitAnswered(jobId));
const answer = await oracle.answers(jobId);
const { output } = await submittedOutput(p, jobId);
const scores = Array.from({ length: output.length / 4 }, (_, i) => new DataView(output.buffer, output.byteOffset).getInt32(i * 4, true));
console.log(
  formatFields([
    ["  callback", `${CALLBACK[Number(job.callback)]}${delivered ? ` (CallbackDelivered in block ${delivered.blockNumber})` : ""}`],
    ["  DigitAnswered", answeredEvent ? `digit ${answeredEvent.args.digit}, scoreWad ${answeredEvent.args.scoreWad}` : "none"],
    ["  answers(job)", `answered ${answer.answered}, digit ${answer.digit}, score ${formatUnits(answer.scoreWad, 18)}`],
    ["  output (integers)", `[${scores.join(", ")}]`],
    ["  check", `${scores[Number(answer.digit)]} × ${formatUnits(outputScaleWad, 18)} = ${formatUnits(BigInt(scores[Number(answer.digit)]) * outputScaleWad, 18)}`],
    ["  isFinalOutput", `${await p.jobManager.isFinalOutput(jobId, terms, hexlify(output))} (with the job's terms and its ResultSubmitted bytes)`],
    ["  … other bytes", `${await p.jobManager.isFinalOutput(jobId, terms, hexlify(getBytes(intsToBytes(scores.map((s) => s + 1)))))}`],
    ["  oracle balance", formatVtn(await p.token.balanceOf(address))],
  ]),
);

// 6. What an indexer sees.
await printEvents(jobId, askReceipt!.blockNumber);

/** Every event of job `jobId` from the escrow and the oracle since `fromBlock`, in order: what an indexer sees. */
async function printEvents(jobId: bigint, fromBlock: number) {
  log(`events of job ${jobId}:`);
  const address = await oracle.getAddress();
  const logs = await conn.ethers.provider.getLogs({ address: [p.addresses.jobManager, address], fromBlock });
  for (const entry of logs) {
    const contract = entry.address.toLowerCase() === address.toLowerCase() ? oracle : p.jobManager;
    const event = contract.interface.parseLog(entry);
    if (event === null || !event.fragment.inputs.some((input) => input.name === "jobId") || event.args.jobId !== jobId) continue;
    const args = event.fragment.inputs
      .filter((input) => !["jobId", "terms", "input", "inputURI", "output"].includes(input.name))
      .map((input) => `${input.name}=${event.args[input.name]}`);
    console.log(`  block ${entry.blockNumber}  ${contract === oracle ? "DigitOracle" : "JobManager"}.${event.name}(${args.join(", ")})`);
  }
}
