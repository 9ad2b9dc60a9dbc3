/**
 * The glue of the `worker` and `verifier` tasks (offchain/cli/nodes.ts), in process: their options
 * become node options (or a clear error, before any endpoint is asked), the protocol is opened
 * with retries while the endpoint is unreachable, and a node runs until SIGINT/SIGTERM.
 */
import { expect } from "chai";
import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";
import type { NetworkConnection } from "hardhat/types/network";

import { VeritensorError } from "../../offchain/cli/index.js";
import type { NodeTaskArgs } from "../../offchain/cli/nodes.js";
import { nodeOptionsFromArgs, openWithRetry, parseModelList, runUntilSignal } from "../../offchain/cli/nodes.js";
import type { ProtocolNode } from "../../offchain/nodes/node.js";
import { createLogger } from "../../offchain/nodes/log.js";
import { rejection } from "../tasks/helpers.js";
import type { InProcessChain } from "../nodes/inprocess.js";
import { inProcessChain } from "../nodes/inprocess.js";

/** The task's defaults (tasks/options.ts), with an account. */
const DEFAULTS: NodeTaskArgs = {
  from: "2",
  models: undefined,
  db: undefined,
  cacheDir: undefined,
  ipfsGateway: undefined,
  poll: 1000,
  confirmations: 1,
  maxFeeGwei: undefined,
  priorityFeeGwei: undefined,
  gasMultiplier: undefined,
  replaceAfter: 60,
  fromBlock: 0,
  cheat: undefined,
};

/**
 * What the glue reads of the runtime environment: its network (the in-process chain's connection,
 * or failures first), project paths and the network's name. `opened` counts the connections asked for.
 */
function fakeHre(conn: () => Promise<NetworkConnection>): { hre: HardhatRuntimeEnvironment; opened: () => number } {
  let opened = 0;
  const hre = {
    network: {
      getOrCreate: () => {
        opened++;
        return conn();
      },
    },
    config: { paths: { root: "/project/root", ignition: "/project/root/ignition" } },
    globalOptions: { network: "testnet" },
  } as unknown as HardhatRuntimeEnvironment;
  return { hre, opened: () => opened };
}

describe("cli/nodes: the worker and verifier tasks' glue", function () {
  this.timeout(60_000);
  let c: InProcessChain;

  before(async function () {
    c = await inProcessChain();
  });

  describe("parseModelList", function () {
    it("reads a comma-separated list of model ids; nothing given is every model", function () {
      expect(parseModelList("1, 2,17")).to.deep.equal([1n, 2n, 17n]);
      expect(parseModelList(undefined)).to.equal(undefined);
      expect(parseModelList("  ")).to.equal(undefined);
    });

    it("names the option and the bad entry", function () {
      for (const [text, bad] of [["0", "0"], ["1,x", "x"], ["1,,2", ""], ["-3", "-3"], ["1.5", "1.5"]] as const) {
        expect(() => parseModelList(text), text).to.throw(VeritensorError, `--models: "${bad}" is not a model id`);
      }
    });
  });

  describe("nodeOptionsFromArgs", function () {
    it("builds the node's options from the task's: account, protocol, paths, loop, gas, models, cheat", async function () {
      const { hre } = fakeHre(async () => c.p.connection);
      const { node, models, cheat } = await nodeOptionsFromArgs(
        {
          ...DEFAULTS,
          from: "5",
          models: "1,3",
          db: "state.sqlite",
          cacheDir: "cache",
          ipfsGateway: "https://gw.example",
          poll: 250,
          confirmations: 3,
          maxFeeGwei: "40",
          priorityFeeGwei: "1.5",
          gasMultiplier: "1.2",
          replaceAfter: 30,
          fromBlock: 12,
          cheat: "4:100:-2",
        },
        hre,
        "verifier",
      );
      expect(await node.signer.getAddress()).to.equal(await c.verifier.getAddress());
      expect(node.protocol.addresses).to.deep.equal(c.p.addresses);
      expect(node.protocol.chainId).to.equal(c.p.chainId);
      expect(node).to.deep.include({ root: "/project/root", db: "state.sqlite", cacheDir: "cache", ipfsGateway: "https://gw.example" });
      expect(node).to.deep.include({ pollMs: 250, confirmations: 3, fromBlock: 12 });
      expect(node.gas).to.deep.equal({ maxFeeGwei: 40, priorityFeeGwei: 1.5, gasLimitMultiplier: 1.2, replaceAfterMs: 30_000 });
      expect(models).to.deep.equal([1n, 3n]);
      expect(cheat).to.deep.equal({ layer: 4, element: 100, delta: -2 });
    });

    it("leaves out what was not given: every model, no cheat, from the first block, the endpoint's fees", async function () {
      const { hre } = fakeHre(async () => c.p.connection);
      const { node, models, cheat } = await nodeOptionsFromArgs({ ...DEFAULTS, from: await c.worker.getAddress() }, hre, "worker");
      expect(await node.signer.getAddress()).to.equal(await c.worker.getAddress());
      expect(models).to.equal(undefined);
      expect(cheat).to.equal(undefined);
      expect(node.fromBlock).to.equal(undefined);
      expect(node.db).to.equal(undefined);
      expect(node.gas).to.deep.equal({ maxFeeGwei: undefined, priorityFeeGwei: undefined, gasLimitMultiplier: undefined, replaceAfterMs: 60_000 });
      // `--cheat random` is a choice of every part.
      expect((await nodeOptionsFromArgs({ ...DEFAULTS, cheat: "random" }, hre, "worker")).cheat).to.deep.equal({});
    });

    it("refuses bad options with a message naming the option, before asking the endpoint", async function () {
      const { hre, opened } = fakeHre(async () => {
        throw new Error("the endpoint must not be asked");
      });
      const bad: [Partial<NodeTaskArgs>, "worker" | "verifier", RegExp][] = [
        [{ from: undefined }, "worker", /worker claims jobs with the sender's stake.*--from/],
        [{ from: " " }, "verifier", /verifier posts dispute bonds.*--from/],
        [{ poll: -1 }, "worker", /--poll -1: give milliseconds/],
        [{ poll: 1.5 }, "worker", /--poll 1.5/],
        [{ confirmations: 0 }, "verifier", /--confirmations 0: give 1 or more/],
        [{ replaceAfter: -5 }, "worker", /--replace-after -5: give seconds/],
      ];
      for (const [args, role, message] of bad) {
        expect(await rejection(() => nodeOptionsFromArgs({ ...DEFAULTS, ...args }, hre, role)), JSON.stringify(args)).to.match(message);
      }
      expect(opened(), "no endpoint was asked").to.equal(0);
    });

    it("refuses bad fees, models, cheats and accounts, naming each", async function () {
      const { hre } = fakeHre(async () => c.p.connection);
      const bad: [Partial<NodeTaskArgs>, RegExp][] = [
        [{ maxFeeGwei: "abc" }, /--max-fee-gwei "abc" is not a positive number/],
        [{ priorityFeeGwei: "0" }, /--priority-fee-gwei "0" is not a positive number/],
        [{ gasMultiplier: "-1" }, /--gas-multiplier "-1" is not a positive number/],
        [{ models: "1,zero" }, /--models: "zero" is not a model id/],
        [{ cheat: "layer 3" }, /--cheat "layer 3" is not random or LAYER/],
        [{ cheat: "0" }, /--cheat: layers are numbered from 1/],
        [{ from: "99" }, /account #99 does not exist/],
        [{ from: "0x" + "ab".repeat(20) }, /is not one of the accounts/],
      ];
      for (const [args, message] of bad) {
        expect(await rejection(() => nodeOptionsFromArgs({ ...DEFAULTS, ...args }, hre, "worker")), JSON.stringify(args)).to.match(message);
      }
    });
  });

  describe("openWithRetry", function () {
    let printed: string[];
    const realLog = console.log;
    beforeEach(function () {
      printed = [];
      console.log = (...a: unknown[]) => void printed.push(a.join(" "));
    });
    afterEach(function () {
      console.log = realLog;
    });

    it("retries while the endpoint is unreachable, saying so, then opens the protocol", async function () {
      let failures = 1;
      const { hre, opened } = fakeHre(async () => {
        if (failures-- > 0) throw new Error("connect ECONNREFUSED 127.0.0.1:8545");
        return c.p.connection;
      });
      const p = await openWithRetry(hre);
      expect(p.addresses).to.deep.equal(c.p.addresses);
      expect(opened()).to.equal(2);
      expect(printed).to.deep.equal(["! the endpoint of network testnet is unreachable; retrying in 0.5 s"]);
    });

    it("gives up on an endpoint still unreachable after its patience, and at once on any other failure", async function () {
      const down = fakeHre(async () => {
        throw new Error("connect ECONNREFUSED 127.0.0.1:8545");
      });
      const started = Date.now();
      expect(await rejection(() => openWithRetry(down.hre, 100))).to.match(/ECONNREFUSED/);
      expect(down.opened()).to.equal(2);
      expect(Date.now() - started).to.be.below(5_000);

      const broken = fakeHre(async () => {
        throw new VeritensorError("the protocol is not deployed on network testnet");
      });
      expect(await rejection(() => openWithRetry(broken.hre))).to.match(/not deployed/);
      expect(broken.opened()).to.equal(1);
      expect(printed).to.have.length(1);
    });
  });

  describe("runUntilSignal", function () {
    /** A node whose run ends when its signal aborts (as ProtocolNode.run does). */
    function fakeNode(lines: string[]) {
      let started: () => void = () => {};
      const state = { aborted: false, started: new Promise<void>((resolve) => (started = resolve)) };
      const node = {
        log: createLogger("test", (l) => lines.push(l)),
        counters: { ticks: 7, txs: 3 },
        async run(signal?: AbortSignal) {
          started();
          await new Promise<void>((resolve) => signal!.addEventListener("abort", () => resolve()));
          state.aborted = true;
        },
      };
      return { node: node as unknown as ProtocolNode, state, started: () => started() };
    }

    it("stops the node after the current step on SIGTERM or SIGINT, and removes its handlers", async function () {
      for (const signal of ["SIGTERM", "SIGINT"] as const) {
        const before = process.listenerCount(signal);
        const lines: string[] = [];
        const { node, state } = fakeNode(lines);
        const running = runUntilSignal(node);
        await state.started;
        expect(process.listenerCount(signal)).to.equal(before + 1);
        process.emit(signal, signal);
        await running;
        expect(state.aborted).to.equal(true);
        expect(lines.join("\n")).to.match(new RegExp(`${signal}: stopping after the current step`));
        expect(lines.join("\n")).to.match(/stopped after 7 pass\(es\) and 3 transaction\(s\)/);
        expect(process.listenerCount(signal), "handlers removed").to.equal(before);
      }
    });

    it("exits at once (130) on a second signal", async function () {
      const lines: string[] = [];
      const { node, state, started } = fakeNode(lines);
      // The node does not stop on the first signal: its step hangs.
      (node as unknown as { run: (s?: AbortSignal) => Promise<void> }).run = async () => {
        started();
        await new Promise<void>((resolve) => (release = resolve));
      };
      let release: () => void = () => {};
      const exits: (number | undefined)[] = [];
      const realExit = process.exit;
      process.exit = ((code?: number) => void exits.push(code)) as typeof process.exit;
      try {
        const running = runUntilSignal(node);
        await state.started;
        process.emit("SIGINT", "SIGINT");
        expect(exits).to.deep.equal([]);
        process.emit("SIGINT", "SIGINT");
        expect(exits).to.deep.equal([130]);
        expect(lines.join("\n")).to.match(/SIGINT again: exiting now/);
        release();
        await running;
      } finally {
        process.exit = realExit;
      }
    });
  });
});
