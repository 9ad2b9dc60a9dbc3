/**
 * Public test networks without reaching one: the networks' configuration variables (lazy, and named
 * with the keystore command when missing), the example parameters file (every key a module's
 * parameter, deployed as the production Protocol), the faucet (deployed by `protocol deploy` on test
 * chains only, dripped by `faucet drip`), and `model register` refusing file:// URIs on a chain that
 * is not local (an in-process chain with Base Sepolia's chain id stands in for it).
 */
import { readFileSync } from "node:fs";
import path from "node:path";

import { expect } from "chai";
import hre from "hardhat";

import FaucetModule, { FAUCET_DEFAULTS, TEST_CHAINS } from "../../ignition/modules/Faucet.js";
import Protocol from "../../ignition/modules/Protocol.js";
import { declaredParameters, parameterProblems, parseParameters } from "../../ignition/parameters/validate.js";
import type { DeployResult, RegisterResult } from "../../offchain/cli/index.js";
import { deployProtocol, modelFileFacts } from "../../offchain/cli/index.js";
import type { DripResult } from "../../tasks/faucet/faucet.js";
import type { WorkerRoster } from "../../types/ethers-contracts/index.js";
import { deployFaucet, drip, openFaucet } from "../../tasks/faucet/faucet.js";
import dripAction from "../../tasks/faucet/drip.js";
import registerAction from "../../tasks/model/register.js";
import deployAction from "../../tasks/protocol/deploy.js";
import { isLocalNetwork, requireReachableModelUri } from "../../tasks/model/register-uri.js";
import { missingNetworkVariables, requireNetworkVariables } from "../../tasks/protocol/network-variables.js";
import { captured, dir, hreOn, rejection, writeJson, writeTinyModel } from "./helpers.js";

const VTN = 10n ** 18n;
const EXAMPLE = path.join(hre.config.paths.root, "ignition/parameters/testnet.example.json");

describe("testnets", function () {
  describe("network configuration", function () {
    it("keys Sepolia and Base Sepolia through configuration variables, verification through ETHERSCAN_API_KEY", function () {
      const names = (v: unknown) => (v as { name?: string }).name;
      for (const [network, prefix, chainId] of [["sepolia", "SEPOLIA", 11_155_111], ["baseSepolia", "BASE_SEPOLIA", 84_532]] as const) {
        const config = hre.config.networks[network]!;
        expect(config.type).to.equal("http");
        expect(config.chainId).to.equal(chainId);
        if (config.type !== "http") return;
        expect(names(config.url)).to.equal(`${prefix}_RPC_URL`);
        expect((config.accounts as unknown[]).map(names)).to.deep.equal([`${prefix}_PRIVATE_KEY`]);
      }
      expect(hre.config.networks.baseSepolia!.chainType).to.equal("op");
      const base = hre.config.chainDescriptors.get(84_532n)!;
      expect(base.chainType).to.equal("op");
      expect(base.blockExplorers.etherscan?.url).to.equal("https://sepolia.basescan.org");
      expect(base.blockExplorers.blockscout?.apiUrl).to.equal("https://base-sepolia.blockscout.com/api");
      expect(names(hre.config.verify.etherscan.apiKey)).to.equal("ETHERSCAN_API_KEY");
    });

    it("names every missing variable with the keystore command (environment variables count as set)", async function () {
      for (const name of ["BASE_SEPOLIA_RPC_URL", "BASE_SEPOLIA_PRIVATE_KEY"]) expect(process.env[name], `${name} is set in this environment`).to.equal(undefined);
      expect(await missingNetworkVariables(hre, "baseSepolia")).to.have.members(["BASE_SEPOLIA_RPC_URL", "BASE_SEPOLIA_PRIVATE_KEY"]);
      const message = await rejection(() => requireNetworkVariables({ config: hre.config, globalOptions: { ...hre.globalOptions, network: "baseSepolia" } }));
      expect(message).to.include("network baseSepolia needs the configuration variables");
      expect(message).to.include("npx hardhat keystore set BASE_SEPOLIA_RPC_URL");
      expect(message).to.include("npx hardhat keystore set BASE_SEPOLIA_PRIVATE_KEY");
      process.env.BASE_SEPOLIA_RPC_URL = "http://127.0.0.1:9";
      try {
        expect(await missingNetworkVariables(hre, "baseSepolia")).to.deep.equal(["BASE_SEPOLIA_PRIVATE_KEY"]);
      } finally {
        delete process.env.BASE_SEPOLIA_RPC_URL;
      }
      // The in-process and local networks need none; without --network nothing is checked.
      expect(await missingNetworkVariables(hre, "hardhat")).to.deep.equal([]);
      expect(await missingNetworkVariables(hre, "localhost")).to.deep.equal([]);
      await requireNetworkVariables({ config: hre.config, globalOptions: { ...hre.globalOptions, network: undefined } as never });
    });
  });

  describe("the example parameters file", function () {
    const example = parseParameters(readFileSync(EXAMPLE, "utf8"));
    const declared = declaredParameters(Protocol, FaucetModule);

    it("names only parameters the modules read, and every one of them (but the faucet's token)", function () {
      expect(parameterProblems(example, declared)).to.deep.equal([]);
      for (const [moduleId, names] of declared) {
        for (const name of names.keys()) {
          if (moduleId === "Faucet" && name === "token") continue;
          expect(example[moduleId]?.[name] !== undefined, `${moduleId}.${name} missing from the example`).to.equal(true);
        }
      }
      expect(typeof example.Token!.supply).to.equal("bigint");
    });

    it("catches a misspelt key, an unknown module and a rounded number, naming them", function () {
      const problems = parameterProblems({ Jobs: { challengWindow: 600 }, Job: {}, Staking: { minStake: 1.5 } }, declared);
      expect(problems[0]).to.match(/^Jobs\.challengWindow is not a parameter of module Jobs \(it has: .*challengeWindow/);
      expect(problems[1]).to.match(/^no module "Job" reads parameters/);
      expect(problems[2]).to.match(/^Staking\.minStake: 1\.5 is not a whole number/);
      expect(() => parseParameters('{"Token": {"supply": 1000000000000000000000000000}}')).to.throw(/"supply": .* is above 2\^53 and would be rounded/);
    });

    it("deploys the production Protocol module with the file's values, and the faucet with its own", async function () {
      const connection = await hre.network.create();
      const c = await connection.ignition.deploy(Protocol, { displayUi: false, parameters: example as never });
      expect(await c.staking.minStake()).to.equal(100n * VTN);
      expect(await c.staking.unbondingDelay()).to.equal(1800n);
      const params = await c.jobManager.params();
      expect([params.challengeWindow, params.resultTimeout, params.minJobLock]).to.deep.equal([600n, 300n, VTN]);
      expect(await c.jobManager.minChallengeWindow()).to.equal(60n);
      expect([await c.governor.votingDelay(), await c.governor.votingPeriod(), await c.timelock.getMinDelay()]).to.deep.equal([300n, 1800n, 3600n]);
      // Production has a roster (its type is optional: the local modules have none).
      const workerRoster = (c as unknown as { workerRoster: WorkerRoster }).workerRoster;
      const roster = await workerRoster.params();
      expect([roster.slotBlocks, roster.drawnSlots, await workerRoster.epochBlocks()]).to.deep.equal([15n, 3n, 300n]);
      const disputes = await c.disputeGameFactory.params();
      expect([disputes.moveTimeout, disputes.challengeBond]).to.deep.equal([600n, 10n * VTN]);
      // Governance holds everything: the example changes values, not who controls them.
      expect(await c.jobManager.owner()).to.equal(await c.timelock.getAddress());

      const faucet = await deployFaucet(connection, await c.token.getAddress(), example.Faucet);
      expect([faucet.dripAmount, faucet.period, faucet.cap, faucet.available]).to.deep.equal([1_000n * VTN, 86_400n, 10_000_000n * VTN, 10_000_000n * VTN]);
    });
  });

  describe("the faucet", function () {
    // The tasks' actions on a network of their own (the tasks' default network is shared with other test files).
    it("is deployed by protocol deploy on the local chain and dripped by faucet drip, once a period per account", async function () {
      const on = hreOn(await hre.network.create());
      const { result, lines } = await captured(() => deployAction({ reset: false, assignment: false, noFaucet: false, parameters: undefined }, on) as Promise<DeployResult>);
      const text = lines.join("\n");
      expect(text).to.match(/^Test-VTN faucet \(`npx hardhat faucet drip`\)$/m);
      expect(text).to.match(/^  per drip: +1,000\.0 VTN per account every 1 d$/m);
      const p = result.protocol;
      const faucet = await openFaucet(p, hre.config.paths.ignition);
      expect(await p.token.balanceOf(await faucet.getAddress())).to.equal(FAUCET_DEFAULTS.funding);

      const account = (await p.connection.ethers.getSigners())[7]!.address;
      const before = await p.token.balanceOf(account);
      const first = await captured(() => dripAction({ from: "7" }, on) as Promise<DripResult>);
      expect(first.result.amount).to.equal(FAUCET_DEFAULTS.dripAmount);
      expect(await p.token.balanceOf(account)).to.equal(before + FAUCET_DEFAULTS.dripAmount);
      expect(first.lines[0]).to.equal(`Dripped 1,000.0 VTN to ${account}`);
      expect(first.lines.join("\n")).to.match(/faucet: +0x[0-9a-fA-F]{40}: 1,000\.0 VTN of 10,000,000\.0 VTN handed out, 9,999,000\.0 VTN left/);

      const again = await rejection(() => dripAction({ from: "7" }, on));
      expect(again).to.match(new RegExp(`${account} had its 1,000.0 VTN from the faucet less than 1 d ago: it may drip again at .* UTC`));
      expect(await p.token.balanceOf(account)).to.equal(before + FAUCET_DEFAULTS.dripAmount);
      await p.connection.networkHelpers.time.increase(24 * 3600);
      await captured(() => dripAction({ from: "7" }, on));
      expect(await p.token.balanceOf(account)).to.equal(before + 2n * FAUCET_DEFAULTS.dripAmount);
    });

    it("is refused on a chain that is not a test network, before anything is sent", async function () {
      expect([...TEST_CHAINS.keys()]).to.deep.equal([31_337n, 11_155_111n, 84_532n, 11_155_420n]);
      const mainnetLike = await hre.network.create({ override: { chainId: 1 } });
      const p = (await deployProtocol(mainnetLike, hre.config.paths.ignition)).protocol;
      const nonce = await mainnetLike.ethers.provider.getTransactionCount((await mainnetLike.ethers.getSigners())[0]!.address);
      const message = await rejection(() => deployFaucet(mainnetLike, p.addresses.token));
      expect(message).to.equal(
        "not deploying a faucet: the faucet gives VTN away and exists only on test networks " +
          "(chain ids 31337 local (Hardhat, anvil), 11155111 Sepolia, 84532 Base Sepolia, 11155420 OP Sepolia); network default is chain 1",
      );
      expect(await mainnetLike.ethers.provider.getTransactionCount((await mainnetLike.ethers.getSigners())[0]!.address)).to.equal(nonce);
      expect(await rejection(() => openFaucet(p, hre.config.paths.ignition))).to.match(/^faucet: the faucet gives VTN away/);
    });

    it("drip says when the faucet is spent", async function () {
      const connection = await hre.network.create();
      const p = (await deployProtocol(connection, hre.config.paths.ignition)).protocol;
      const faucet = await deployFaucet(connection, p.addresses.token, { dripAmount: 10n * VTN, cap: 15n * VTN, funding: 100n * VTN });
      const [, a, b] = await connection.ethers.getSigners();
      const contract = await openFaucet(p, hre.config.paths.ignition);
      await drip(p, contract, a!);
      expect(await rejection(() => drip(p, contract, b!))).to.equal(
        "the faucet has handed out 10.0 VTN of its cap of 15.0 VTN: nothing is left to drip",
      );
      expect(faucet.address).to.equal(await contract.getAddress());
    });

    it("protocol deploy refuses a parameters file with a misspelt key before deploying", async function () {
      const file = writeJson("typo.json", { Faucet: { dripAmmount: "1n" } });
      const connection = await hre.network.create();
      const message = await rejection(() => captured(() => deployAction({ reset: false, assignment: false, noFaucet: false, parameters: file }, hreOn(connection))));
      expect(await connection.ethers.provider.getBlockNumber()).to.equal(0);
      expect(message).to.include(`the parameters file ${file} is not right:`);
      expect(message).to.include("Faucet.dripAmmount is not a parameter of module Faucet (it has: cap, dripAmount, funding, period, token)");
    });
  });

  describe("model register on a chain that is not local", function () {
    it("accepts file:// only on a local network, and http(s) and ipfs anywhere", function () {
      const base = { chainId: 84_532n, networkName: "baseSepolia" };
      expect(isLocalNetwork({ chainId: 31_337n, networkName: "hardhat" })).to.equal(true);
      expect(isLocalNetwork({ chainId: 11_155_111n, networkName: "localhost" })).to.equal(true); // a local fork
      expect(isLocalNetwork(base)).to.equal(false);
      expect(() => requireReachableModelUri("file:///home/me/model.onnx", base, false)).to.throw(
        /--uri file:\/\/\/home\/me\/model\.onnx is a file:\/\/ URI, which no worker of network baseSepolia \(chain 84532\) can read: .*--uri https:\/\/… .*--uri ipfs:\/\/CID/,
      );
      expect(() => requireReachableModelUri("FILE:///m.onnx", base, false)).to.throw(/file:\/\/ is for local chains only/);
      for (const uri of ["https://models.example/m.onnx", "http://10.0.0.2/m.onnx", "ipfs://bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi/m.onnx"]) {
        requireReachableModelUri(uri, base, false);
      }
      requireReachableModelUri("file:///m.onnx", { chainId: 31_337n, networkName: "localhost" }, true);
    });

    it("the task refuses --file without --uri on chain 84532, registering nothing, and registers it by https", async function () {
      const connection = await hre.network.create({ override: { chainId: 84_532 } });
      const p = (await deployProtocol(connection, path.join(dir, "ignition"))).protocol;
      expect(p.chainId).to.equal(84_532n);
      const model = writeTinyModel();
      const args = {
        file: model,
        uri: undefined,
        contentHash: undefined,
        graphCommitment: undefined,
        inputShape: undefined,
        outputShape: undefined,
        inputScale: undefined,
        outputScale: undefined,
        price: "1",
        contributors: "",
        from: "1",
      };
      const on = hreOn(connection);
      const message = await rejection(() => registerAction(args, on));
      expect(message).to.include(`--file without --uri records ${(await modelFileFacts(model)).uri}, which no worker of network default (chain 84532) can read`);
      expect(await p.registry.modelCount()).to.equal(0n);
      const { result } = await captured(() => registerAction({ ...args, uri: "https://models.example/tiny.onnx" }, on) as Promise<RegisterResult>);
      expect(result.modelId).to.equal(1n);
      expect((await p.registry.getModel(1n)).uri).to.equal("https://models.example/tiny.onnx");
    });
  });
});
