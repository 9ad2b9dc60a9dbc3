/**
 * A worker that cannot claim says why: at start-up, again every 5 minutes while it lasts (a fake
 * clock here), and "ready now" once it is fixed. Before, an unstaked worker, or one serving no
 * model, ran silently and claimed nothing.
 */
import { expect } from "chai";
import hre from "hardhat";
import type { Signer } from "ethers";

import type { Protocol } from "../../offchain/cli/index.js";
import { addStake, deployProtocol, modelFileFacts, registerModel } from "../../offchain/cli/index.js";
import { createLogger } from "../../offchain/nodes/log.js";
import { READINESS_EVERY_MS, WorkerReadiness } from "../../offchain/nodes/readiness.js";
import { Worker } from "../../offchain/nodes/worker.js";
import { writeTinyModel } from "../tasks/helpers.js";

const VTN = 10n ** 18n;

describe("worker readiness: not staked, or serving no model", function () {
  let p: Protocol;
  let worker: Signer;
  let address: string;
  let modelId: bigint;
  let otherModel: bigint;

  before(async function () {
    const connection = await hre.network.create();
    p = (await deployProtocol(connection, hre.config.paths.ignition)).protocol;
    const signers = await connection.ethers.getSigners();
    const developer = signers[1]!;
    worker = signers[2]!;
    address = await worker.getAddress();
    const facts = await modelFileFacts(writeTinyModel());
    modelId = (await registerModel(p, developer, { ...facts, price: VTN, contributors: [] })).modelId;
    otherModel = (await registerModel(p, developer, { ...facts, price: VTN, contributors: [] })).modelId;
  });

  it("says at start-up and every 5 minutes what is missing, with the command, then that it is ready", async function () {
    const lines: string[] = [];
    let now = 1_000_000;
    const readiness = new WorkerReadiness({ p, address, log: createLogger("worker", (l) => lines.push(l), { timestamps: false }), now: () => now });

    const first = await readiness.check();
    expect(first!.problems).to.have.length(2);
    expect(lines).to.deep.equal([
      `worker   ! cannot claim jobs: no stake, below the minimum stake of 100.0 VTN that every claim needs: \`npx hardhat stake add --network ${p.networkName} --from ${address} --amount 100.0\``,
      `worker   ! cannot claim jobs: this account serves no model (none declared in Staking): \`npx hardhat stake add --network ${p.networkName} --from ${address} --amount <VTN> --serves <model id>\``,
    ]);

    // Not again within 5 minutes, even once part of it is fixed.
    await addStake(p, worker, 40n * VTN);
    now += READINESS_EVERY_MS - 1;
    expect(await readiness.check()).to.equal(undefined);
    expect(lines).to.have.length(2);

    // 5 minutes on: what is still missing, the stake now named with its amount.
    now += 1;
    await readiness.check();
    expect(lines.slice(2)).to.have.length(2);
    expect(lines[2]).to.include("cannot claim jobs: 40.0 VTN staked, below the minimum stake of 100.0 VTN");
    expect(lines[2]).to.include("--amount 60.0");
    expect(lines[3]).to.include("serves no model");

    // Staked enough and serving a model: "ready now", once.
    await addStake(p, worker, 60n * VTN, { serveModels: [modelId, otherModel] });
    await p.staking.connect(worker).setModelServed(otherModel, false).then((tx) => tx.wait());
    now += READINESS_EVERY_MS;
    const ready = await readiness.check();
    expect(ready!.problems).to.deep.equal([]);
    expect(ready!.served).to.deep.equal([modelId]);
    expect(lines[4]).to.equal(`worker   ready now: 100.0 VTN staked (minimum 100.0 VTN), serving model ${modelId}`);
    now += READINESS_EVERY_MS;
    await readiness.check();
    expect(lines).to.have.length(5);
  });

  it("with --models, names the given models that the account does not serve (staked: declaring them is the whole fix)", async function () {
    const lines: string[] = [];
    const readiness = new WorkerReadiness({ p, address, models: [otherModel], log: createLogger("worker", (l) => lines.push(l), { timestamps: false }) });
    const state = await readiness.check();
    expect(state!.served).to.deep.equal([]);
    expect(lines).to.deep.equal([
      `worker   ! cannot claim jobs: none of the models given with --models (${otherModel}) is declared served by this account in Staking: ` +
        `\`npx hardhat stake serve --network ${p.networkName} --from ${address} --models ${otherModel}\``,
    ]);
  });

  it("the worker's first pass logs it", async function () {
    const lines: string[] = [];
    const idle = (await p.connection.ethers.getSigners())[4]!;
    const node = await Worker.create({ protocol: p, signer: idle, db: ":memory:", cacheDir: "/tmp/veritensor-readiness-models", log: (l) => lines.push(l), pollMs: 0 });
    try {
      await node.tick();
      await node.tick();
    } finally {
      node.close();
    }
    const said = lines.filter((l) => l.includes("cannot claim jobs"));
    // Two problems, said once over two passes (the next time is 5 minutes on).
    expect(said).to.have.length(2);
    expect(said[0]).to.include("no stake, below the minimum stake");
  });
});
