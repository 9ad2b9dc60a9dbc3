/**
 * The command line of the protocol, run as a user would (hre.tasks…run) on the in-process
 * network: deploy, register, stake, request, claim, submit, finalize, withdraw.
 */
import { writeFileSync } from "node:fs";
import path from "node:path";

import { expect } from "chai";
import { ZeroHash } from "ethers";
import hre from "hardhat";

import type { DeployResult, DistributeResult, FinalizeResult, JobDetails, RegisterResult, RequestResult } from "../../offchain/cli/index.js";
import { bytesToInts, resultHash } from "../../offchain/cli/index.js";
import { bytes, npy } from "../cli/npy.js";
import { captured, dir, rejection, writeJson, writeTinyModel } from "./helpers.js";

const run = (name: string | string[], args: Record<string, unknown> = {}) => hre.tasks.getTask(name).run(args);
const quiet = async <T>(fn: () => Promise<T>): Promise<T> => (await captured(fn)).result;

const connection = await hre.network.getOrCreate();
const { ethers, networkHelpers } = connection;
const [, , , requester] = await ethers.getSigners();
const model = writeTinyModel();
const input = writeJson("input.json", [[1, 2, 3, 4]]);

describe("tasks: one job from deploy to withdraw", function () {
  it("refuses every task before the protocol is deployed, naming the command to run", async function () {
    const message = await rejection(() => quiet(() => run(["model", "show"], { model: "1" })));
    expect(message).to.include("npx hardhat protocol deploy --network");
  });

  let timelock: string;

  it("deploys LocalProtocol and funds the test accounts", async function () {
    const { result, lines } = await captured(async () => (await run(["protocol", "deploy"], { reset: false, parameters: undefined })) as DeployResult);
    expect(result.module).to.equal("LocalProtocol");
    const p = result.protocol;
    // Every contract's address, and on the in-process chain: nothing saved, and how to keep a deployment.
    const text = lines.join("\n");
    expect(result.deploymentDir).to.equal(undefined);
    expect(text).to.match(new RegExp(`^  DisputeGameFactory: +${p.addresses.disputeFactory}$`, "m"));
    expect(await ethers.provider.getCode(p.addresses.disputeFactory)).to.not.equal("0x");
    expect(text).to.match(/^  addresses saved in: +nothing: the in-process chain ends with this command/m);
    expect(text).to.include("`npx hardhat node` in another terminal, then `npx hardhat protocol deploy --network localhost`");
    expect(await p.staking.owner()).to.equal(p.addresses.timelock);
    expect(await p.jobManager.owner()).to.equal(p.addresses.timelock);
    expect(await p.staking.isOperator(p.addresses.jobManager)).to.equal(true);
    expect(await p.timelock.hasRole(await p.timelock.DEFAULT_ADMIN_ROLE(), (await ethers.getSigners())[0]!.address)).to.equal(false);
    expect(await p.timelock.hasRole(await p.timelock.PROPOSER_ROLE(), p.addresses.governor)).to.equal(true);
    expect((await p.jobManager.params()).treasury).to.equal(p.addresses.timelock);
    timelock = p.addresses.timelock;
    expect(await p.token.balanceOf(requester!.address)).to.equal(100_000n * 10n ** 18n);
  });

  let modelId: bigint;
  it("registers a model from its file (hash, graph commitment, shapes and scales computed)", async function () {
    const { result: r, lines } = await captured(async () =>
      (await run(["model", "register"], { file: model, price: "1", contributors: `${requester!.address}:1000`, from: "1" })) as RegisterResult,
    );
    modelId = r.modelId;
    expect(modelId).to.equal(1n);
    expect(r.developerBps).to.equal(9000);
    const text = lines.join("\n");
    expect(text).to.match(/^  input scale: +1 \(wad 1000000000000000000\)$/m);
    expect(text).to.match(/^  output scale: +0\.125 \(wad 125000000000000000\)$/m);
    expect(text).not.to.include("already registered");
  });

  it("stakes, requests, claims, submits (running the model) and shows the job", async function () {
    await quiet(() => run(["stake", "add"], { amount: "200", serves: "1", noApprove: false, from: "2" }));
    const req = (await quiet(() =>
      run(["job", "request"], { model: "1", input, fee: "2", deadline: "10m", callbackGasLimit: 0, noApprove: false, from: "3" }),
    )) as RequestResult;
    expect(req.jobId).to.equal(1n);
    await quiet(() => run(["job", "claim"], { job: "1", from: "2" }));
    await quiet(() => run(["job", "submit"], { job: "1", run: model, from: "2" }));
    const { result: d, lines } = await captured(async () => (await run(["job", "show"], { job: "1" })) as JobDetails);
    expect(d.job.status).to.equal(3n);
    // x = [1, 2, 3, 4], W = [[1, -1], [2, 0], [0, 1], [-1, 3]] -> [1, 14], at 0.125 a unit.
    expect(bytesToInts(d.output!)).to.deep.equal([1, 14]);
    expect(lines.join("\n")).to.match(/^  output \(real\): +\[0\.125, 1\.75\] \(× the registry's output scale\)$/m);
  });

  it("explains that finalizing has to wait for the challenge window", async function () {
    const message = await rejection(() => quiet(() => run(["job", "finalize"], { job: "1", wait: false, from: "0" })));
    expect(message).to.match(/challenge window of job 1 is still open: it ends at .* UTC \(in \d+/);
  });

  it("finalizes after the window and pays everyone, who withdraw", async function () {
    await networkHelpers.time.increase(61);
    const f = (await quiet(() => run(["job", "finalize"], { job: "1", wait: false, from: "0" }))) as FinalizeResult;
    // Fee 2 VTN: 1% (0.02 VTN) to the treasury, the price (1 VTN) to the model, 0.98 VTN to the worker.
    expect(f.protocolFee).to.equal(2n * 10n ** 16n);
    expect(f.modelFee).to.equal(10n ** 18n);
    expect(f.workerFee).to.equal(98n * 10n ** 16n);
    const shown = (await quiet(() => run(["job", "show"], { job: "1" }))) as JobDetails;
    expect(shown.job.status).to.equal(4n);
    expect(shown.protocolFee).to.equal(2n * 10n ** 16n);
    expect(shown.job.commitment).to.equal(
      resultHash(shown.job.terms, shown.outputCommitment!),
    );
    // The model's revenue reaches developer (90%) and contributor (10%) once distributed (anyone
    // may), and the protocol fee of its jobs the treasury (the timelock).
    const dist = (await quiet(() => run(["balance", "distribute"], { model: "1", from: "4" }))) as DistributeResult;
    expect(dist.amount).to.equal(10n ** 18n);
    expect(dist.protocolFees).to.equal(2n * 10n ** 16n);
    expect(dist.credits).to.deep.equal([
      { account: timelock, amount: 2n * 10n ** 16n },
      { account: dist.credits[1]!.account, amount: 10n ** 17n },
      { account: dist.credits[2]!.account, amount: 9n * 10n ** 17n },
    ]);
    const again = await rejection(() => quiet(() => run(["balance", "distribute"], { model: "1", from: "4" })));
    expect(again).to.include("model 1 has no accrued earnings to distribute");
    for (const from of ["2", "1", "3"]) await quiet(() => run(["balance", "withdraw"], { from }));
    const message = await rejection(() => quiet(() => run(["balance", "withdraw"], { from: "2" })));
    expect(message).to.include("has no balance to withdraw");
  });

  it("unstakes and refuses to withdraw before the unbonding delay", async function () {
    await quiet(() => run(["stake", "unstake"], { amount: "200", from: "2" }));
    const message = await rejection(() => quiet(() => run(["stake", "withdraw"], { from: "2" })));
    expect(message).to.match(/200\.0 VTN is unbonding until/);
    await networkHelpers.time.increase(121);
    await quiet(() => run(["stake", "withdraw"], { from: "2" }));
  });

  it("job request reads .npy and {shape, data} inputs, checks their shape, and quantizes --real inputs, counting the clamps", async function () {
    const request = (args: Record<string, unknown>) =>
      captured(() => run(["job", "request"], { model: "1", deadline: "10m", callbackGasLimit: 0, noApprove: false, real: false, from: "3", ...args }));
    const inputOf = async (jobId: bigint) => bytesToInts(((await quiet(() => run(["job", "show"], { job: String(jobId) }))) as JobDetails).input!);

    const npyInput = path.join(dir, "job-input.npy");
    writeFileSync(npyInput, npy("<i4", [1, 4], bytes(new Int32Array([5, -6, 7, 8]))));
    const fromNpy = (await request({ input: npyInput })).result as RequestResult;
    expect(await inputOf(fromNpy.jobId)).to.deep.equal([5, -6, 7, 8]);

    const square = writeJson("job-square.json", { shape: [2, 2], data: [1, 2, 3, 4] });
    expect(await rejection(() => request({ input: square }))).to.equal(
      `input file ${square} has shape [2, 2], but model 1's input has shape [1, 4] (the shapes must agree, leading 1s aside)`,
    );
    const real = writeJson("job-real.json", { shape: [4], data: [1.4, 2.6, 300, -500] });
    expect(await rejection(() => request({ input: real }))).to.equal(
      `input file ${real}: element 0 is 1.4, not an integer (give --real to quantize real values)`,
    );
    expect(await rejection(() => request({ inputUri: "file:///x.bin", inputCommitment: ZeroHash, real: true }))).to.match(/^--real quantizes the --input file/);

    // The tiny model's input is integers in [-128, 127] at scale 1: 300 and -500 are clamped.
    const warnings: string[] = [];
    const warn = console.warn;
    console.warn = (...a: unknown[]) => void warnings.push(a.join(" "));
    let quantized;
    try {
      quantized = await request({ input: real, real: true, cacheDir: path.join(dir, "model-cache") });
    } finally {
      console.warn = warn;
    }
    expect(await inputOf((quantized.result as RequestResult).jobId)).to.deep.equal([1, 3, 127, -128]);
    expect(quantized.lines.join("\n")).to.match(/^  clamped by --real: +2 of 4 values \(outside the real range \[-128, 127\] of the model's input\)$/m);
    expect(warnings).to.deep.equal(["Warning: 2 of 4 input values lie outside the real range [-128, 127] of the model's input and were clamped to it"]);
  });

  it("job cancel withdraws an unclaimed job at once; job expire refunds one past its deadline; both say why they refuse", async function () {
    const request = async () =>
      ((await quiet(() => run(["job", "request"], { model: "1", input, deadline: "10m", callbackGasLimit: 0, noApprove: false, real: false, from: "3" }))) as RequestResult).jobId;
    const status = async (jobId: bigint) => ((await quiet(() => run(["job", "show"], { job: String(jobId) }))) as JobDetails).job.status;

    const cancelled = await request();
    expect(await rejection(() => quiet(() => run(["job", "cancel"], { job: String(cancelled), from: "4" })))).to.match(
      new RegExp(`^job ${cancelled} was requested by 0x[0-9a-fA-F]{40}, not 0x[0-9a-fA-F]{40}: only its requester may cancel it$`),
    );
    const { result, lines } = await captured(() => run(["job", "cancel"], { job: String(cancelled), from: "3" }));
    expect((result as { refunded: bigint }).refunded).to.be.greaterThan(0n);
    expect(lines.join("\n")).to.match(new RegExp(`Cancelled job ${cancelled}[\\s\\S]*refunded: +[\\d.]+ VTN \\(credited in the job escrow\\)`));
    expect(await status(cancelled)).to.equal(5n); // Refunded
    expect(await rejection(() => quiet(() => run(["job", "cancel"], { job: String(cancelled), from: "3" })))).to.match(/is Refunded, which does not allow this/);

    const expired = await request();
    expect(await rejection(() => quiet(() => run(["job", "expire"], { job: String(expired), from: "4" })))).to.match(new RegExp(`^expiring job ${expired} failed: job ${expired} has not expired: nothing to enforce before `));
    await networkHelpers.time.increase(11 * 60);
    const out = await captured(() => run(["job", "expire"], { job: String(expired), from: "4" }));
    expect(out.lines.join("\n")).to.match(/outcome: +refunded to its requester/);
    expect(await status(expired)).to.equal(5n);
  });

  it("job request --inputs requests a batch; job submit --run runs each input; job show lists each item's input and output", async function () {
    await quiet(() => run(["stake", "add"], { amount: "200", serves: "1", noApprove: false, from: "2" }));
    const second = writeJson("input-2.json", [[4, 3, 2, 1]]);
    const request = (args: Record<string, unknown>) =>
      captured(() => run(["job", "request"], { model: "1", deadline: "10m", callbackGasLimit: 0, noApprove: false, real: false, from: "3", ...args }));
    expect(await rejection(() => request({ input, inputs: `${input},${second}` }))).to.equal("give --input (one input) or --inputs (a batch), not both");
    expect(await rejection(() => request({ inputs: `${input},,${second}` }))).to.match(/^--inputs ".*": give files separated by commas, without empty entries$/);
    // The least fee of a batch of two at 1 VTN a run is over 2 VTN.
    expect(await rejection(() => request({ inputs: `${input},${second}`, fee: "1.5" }))).to.match(/^fee 1\.5 VTN is below the minimum .*model price 1\.0 VTN × 2 inputs/);
    const { result, lines } = await request({ inputs: `${input},${second}`, fee: "3" });
    const batch = result as RequestResult;
    expect(batch.batchSize).to.equal(2n);
    const text = lines.join("\n");
    expect(text).to.match(new RegExp(`^Requested batch job ${batch.jobId} of 2 inputs$`, "m"));
    expect(text).to.match(/^  fee escrowed: +3\.0 VTN \(model 2\.0 VTN = 2 × 1\.0 VTN, /m);

    await quiet(() => run(["job", "claim"], { job: String(batch.jobId), from: "2" }));
    await quiet(() => run(["job", "submit"], { job: String(batch.jobId), run: model, from: "2" }));
    const shown = await captured(async () => (await run(["job", "show"], { job: String(batch.jobId) })) as JobDetails);
    expect(shown.result.job.batchSize).to.equal(2n);
    // [1, 2, 3, 4] -> [1, 14] and [4, 3, 2, 1] -> [9, 1], each by W = [[1, -1], [2, 0], [0, 1], [-1, 3]].
    expect(bytesToInts(shown.result.output!)).to.deep.equal([1, 14, 9, 1]);
    const out = shown.lines.join("\n");
    expect(out).to.match(/^  batch size: +2 inputs, settled as one job/m);
    expect(out).to.match(/^  input \(item 1\): +\[4, 3, 2, 1\]$/m);
    expect(out).to.match(/^  output \(item 0\): +\[1, 14\]$/m);
    expect(out).to.match(/^  output \(item 1\): +\[9, 1\]$/m);
    expect(out).to.match(/^  output \(item 1\) \(real\): +\[1\.125, 0\.125\]/m);
  });

  it("gives test tokens on the local network", async function () {
    const result = (await quiet(() => run(["token", "faucet"], { to: "9", amount: "5" }))) as { balance: bigint };
    expect(result.balance).to.equal(5n * 10n ** 18n);
  });

  it("model register warns when the file is already registered, naming the model, and registers it again; model show says so", async function () {
    const warnings: string[] = [];
    const warn = console.warn;
    console.warn = (...a: unknown[]) => void warnings.push(a.join(" "));
    let again;
    try {
      again = await captured(async () => (await run(["model", "register"], { file: model, price: "2", contributors: "", from: "1" })) as RegisterResult);
    } finally {
      console.warn = warn;
    }
    const first = (await quiet(() => run(["model", "show"], { model: "1" }))) as { contentHash: string };
    expect(again.result.modelId).to.equal(2n);
    expect(warnings).to.deep.equal([`Warning: content hash ${first.contentHash} is already registered, as model 1; registering it again as a new model`]);
    expect(again.lines.join("\n")).to.match(/^  already registered: +as model 1 \(same content hash\)$/m);

    const shown = (await captured(() => run(["model", "show"], { model: "2" }))).lines.join("\n");
    expect(shown).to.match(/^  same file as: +model 1 \(registered first with this content hash\)$/m);
    expect(shown).to.match(/^  input scale: +1 \(wad 1000000000000000000: real = integer × wad \/ 1e18\)$/m);
    expect(shown).to.match(/^  output scale: +0\.125 \(wad 125000000000000000\)$/m);
    expect((await captured(() => run(["model", "show"], { model: "1" }))).lines.join("\n")).not.to.include("same file as");
  });

  it("model register takes scales with --file only if they are the file's, and requires them without", async function () {
    const register = (args: Record<string, unknown>) => quiet(() => run(["model", "register"], { price: "1", contributors: "", from: "1", ...args }));
    expect(await rejection(() => register({ file: model, outputScale: "0.25" }))).to.equal(
      `--output-scale 0.25 is not the scale in ${model}'s metadata (0.125): workers would refuse the model`,
    );
    const bare = { uri: "ipfs://m", contentHash: `0x${"11".repeat(32)}`, graphCommitment: `0x${"22".repeat(32)}`, inputShape: "1,4", outputShape: "1,2" };
    expect(await rejection(() => register({ ...bare, outputScale: "1" }))).to.equal("--input-scale is required (or --file)");
    expect(await rejection(() => register({ ...bare, inputScale: "0x10", outputScale: "1" }))).to.equal(
      '--input-scale "0x10" is not a decimal number (e.g. 0.00392156862745098 or 2.5e-7)',
    );
    expect(await rejection(() => register({ ...bare, inputScale: "1e-19", outputScale: "1" }))).to.match(/^--input-scale 1e-19 is 0 in 18-decimal fixed point/);
    const r = (await register({ ...bare, inputScale: "2.5e-7", outputScale: "0.0006816693602971121" })) as RegisterResult;
    const m = (await quiet(() => run(["model", "show"], { model: String(r.modelId) }))) as { inputScaleWad: bigint; outputScaleWad: bigint };
    // Rounded to the nearest 1e-18: ...1121 -> ...112.
    expect([m.inputScaleWad, m.outputScaleWad]).to.deep.equal([250_000_000_000n, 681_669_360_297_112n]);
  });
});
