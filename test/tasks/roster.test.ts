/**
 * `stake serve` and `stake roster`: an account declares the models it serves, and shows, joins and
 * leaves a model's worker roster by hand (a running worker joins by itself; a worker taken offline
 * leaves, so that it is not drawn for jobs and audits it would miss). On a deployment with a roster
 * (`protocol deploy --assignment`) and one without, each on a network of its own.
 */
import { expect } from "chai";
import type { Signer } from "ethers";
import hre from "hardhat";
import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";
import type { NetworkConnection } from "hardhat/types/network";

import type { DeployResult, Protocol, ServeResult } from "../../offchain/cli/index.js";
import { addStake, modelFileFacts, registerModel, rosterMember } from "../../offchain/cli/index.js";
import deployAction from "../../tasks/protocol/deploy.js";
import rosterAction from "../../tasks/stake/roster.js";
import type { RosterResult } from "../../tasks/stake/roster.js";
import serveAction from "../../tasks/stake/serve.js";
import { captured, hreOn, rejection, writeTinyModel } from "./helpers.js";

const VTN = 10n ** 18n;

async function deployed(assignment: boolean): Promise<{ conn: NetworkConnection; on: HardhatRuntimeEnvironment; p: Protocol; signers: Signer[] }> {
  const conn = await hre.network.create();
  const on = hreOn(conn);
  const { result } = await captured(() => deployAction({ reset: false, assignment, noFaucet: true, parameters: undefined }, on) as Promise<DeployResult>);
  return { conn, on, p: result.protocol, signers: (await conn.ethers.getSigners()) as Signer[] };
}

describe("tasks: stake serve and stake roster", function () {
  let conn: NetworkConnection;
  let on: HardhatRuntimeEnvironment;
  let p: Protocol;
  let worker: string;
  let modelId: bigint;
  const roster = (args: { join?: boolean; leave?: boolean; model?: string }) =>
    captured(() => rosterAction({ model: args.model ?? String(modelId), join: args.join ?? false, leave: args.leave ?? false, from: "5" }, on) as Promise<RosterResult>);
  const serve = (models: string, stop = false) => captured(() => serveAction({ models, stop, from: "5" }, on) as Promise<ServeResult>);

  before(async function () {
    let signers: Signer[];
    ({ conn, on, p, signers } = await deployed(true));
    const facts = await modelFileFacts(writeTinyModel());
    modelId = (await registerModel(p, signers[1]!, { ...facts, price: VTN / 10n, contributors: [] })).modelId;
    worker = await signers[5]!.getAddress();
    await (await p.token.connect(signers[0]!).transfer(worker, 1_500n * VTN)).wait();
    await addStake(p, signers[5]!, 1_000n * VTN); // staked, serving nothing yet
  });

  it("refuses to join a model the account does not serve, naming the command that declares it", async function () {
    const message = await rejection(() => roster({ join: true }));
    expect(message).to.include(`${worker} does not serve model ${modelId}`);
    expect(message).to.include(`\`npx hardhat stake serve --models ${modelId}\``);
    expect((await rosterMember(p, modelId, worker)).position).to.equal(0n);
  });

  it("serve declares a model once (again changes nothing) and refuses an unknown one before sending anything", async function () {
    const block = await conn.ethers.provider.getBlockNumber();
    const unknown = await rejection(() => serve(`${modelId},99`));
    expect(unknown).to.include("unknown model 99");
    expect(await conn.ethers.provider.getBlockNumber(), "nothing sent").to.equal(block);
    expect(await p.staking.servesModel(worker, modelId)).to.equal(false);

    const first = await serve(String(modelId));
    expect(first.result.changed).to.deep.equal([modelId]);
    expect(await p.staking.servesModel(worker, modelId)).to.equal(true);
    expect(first.lines[0]).to.equal(`${worker} serves model(s) ${modelId}`);
    const again = await serve(String(modelId));
    expect(again.result.changed).to.deep.equal([]);
    expect(again.lines.join("\n")).to.match(/changed: +nothing: already so/);
  });

  it("shows the place, joins (weighted from the next epoch), and leaves the draws", async function () {
    const shown = await roster({});
    expect(shown.result.status.member.position).to.equal(0n);
    expect(shown.lines.join("\n")).to.match(/position: +none \(not a member\)/);
    expect(shown.lines.join("\n")).to.include(`\`npx hardhat stake roster --model ${modelId} --join\``);

    const joined = await roster({ join: true });
    const { member, epoch, epochBlocks, weightCap } = joined.result.status;
    const weight = 1_000n * VTN < weightCap ? 1_000n * VTN : weightCap;
    expect(member.position).to.equal(1n);
    expect(member.current, "not weighted before the next epoch").to.equal(0n);
    expect(member.next).to.equal(weight);
    expect(joined.result.change?.fromEpoch).to.equal(epoch + 1n);
    const text = joined.lines.join("\n");
    expect(joined.lines[0]).to.equal(`${worker} joined model ${modelId}'s roster`);
    expect(text).to.match(new RegExp(`weight next epoch: +1,000\\.0 VTN \\(from epoch ${epoch + 1n}, block ${(epoch + 1n) * epochBlocks}\\)`));
    expect(text).to.match(/tx: +0x[0-9a-f]{64}/);

    const head = BigInt(await conn.ethers.provider.getBlockNumber());
    await conn.networkHelpers.mine((epoch + 1n) * epochBlocks - head);
    const weighted = await roster({});
    expect(weighted.result.status.member.current).to.equal(weight);
    expect(weighted.result.status.totalWeight).to.equal(weight);
    expect(weighted.lines.join("\n")).to.match(/weight now: +1,000\.0 VTN \(100\.00% of the model's weight\)/);

    const left = await roster({ leave: true });
    expect(left.result.status.member.current, "still drawn in this epoch").to.equal(weight);
    expect(left.result.status.member.next).to.equal(0n);
    expect(left.lines.join("\n")).to.include("stop the worker first: a running worker joins again by itself");
    await conn.networkHelpers.mine(left.result.status.epochBlocks);
    const out = await roster({});
    expect(out.result.status.member.current).to.equal(0n);
    expect(out.result.status.member.position, "the position is kept").to.equal(1n);
    expect(out.lines.join("\n")).to.match(/weight now: +0\.0 VTN \(the model has no weight this epoch: its jobs are open to every staked worker\)/);
  });

  it("names a contradiction, a missing --from, an unknown model, and a deployment without a roster", async function () {
    expect(await rejection(() => roster({ join: true, leave: true }))).to.include("--join and --leave contradict each other");
    expect(await rejection(() => captured(() => rosterAction({ model: "1", join: false, leave: false, from: undefined }, on)))).to.include("say which account acts with --from");
    expect(await rejection(() => roster({ model: "42" }))).to.include("unknown model 42");
    expect(await rejection(() => roster({ model: "x" }))).to.include(`--model "x" is not an id`);
    const plain = await deployed(false);
    const message = await rejection(() => captured(() => rosterAction({ model: "1", join: false, leave: false, from: "5" }, plain.on)));
    expect(message).to.include("this deployment's job escrow has no worker roster: claims are first-come, there is nothing to join");
  });
});
