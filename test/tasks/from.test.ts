/**
 * `--from` has no default where the sender is a party (pays, stakes, locks stake, earns, answers a
 * dispute): account 0 is the deployer, which holds the whole local supply, and a forgotten --from
 * silently spent from it. Tasks anyone may call for anyone keep the default of account 0.
 */
import { execFile } from "node:child_process";
import { createRequire } from "node:module";
import path from "node:path";

import { expect } from "chai";
import hre from "hardhat";

import { rejection } from "./helpers.js";

const require = createRequire(import.meta.url);
const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), "../..");
const HARDHAT_CLI = path.join(path.dirname(require.resolve("hardhat/package.json")), "dist/src/cli.js");

/** Each party task with otherwise complete arguments: only --from is missing. */
const PARTY_TASKS: [string[], Record<string, unknown>][] = [
  [["stake", "add"], { amount: "1" }],
  [["stake", "unstake"], { amount: "1" }],
  [["stake", "withdraw"], {}],
  [["job", "request"], { model: "1", input: "input.json" }],
  [["job", "claim"], { job: "1" }],
  [["job", "submit"], { job: "1", run: "model.onnx" }],
  [["balance", "withdraw"], {}],
  [["dispute", "open"], { job: "1", model: "model.onnx" }],
  [["dispute", "move"], { game: "0x0000000000000000000000000000000000000001", model: "model.onnx" }],
  [["dispute", "withdraw"], {}],
  [["model", "register"], { file: "model.onnx" }],
  [["worker"], {}],
  [["verifier"], {}],
];
const ANYONE_TASKS = [["job", "finalize"], ["dispute", "timeout"], ["balance", "distribute"]];
const ACCOUNT_HINT =
  ": say which account acts with --from (an account index such as 1, or an address); account 0 is the deployer, which holds the local supply";

describe("tasks: --from is required where the sender is a party", function () {
  for (const [id, args] of PARTY_TASKS) {
    it(`${id.join(" ")} refuses to run without --from`, async function () {
      expect(hre.tasks.getTask(id).options.get("from")?.defaultValue).to.equal(undefined);
      // Refused before connecting to any network: no protocol needs to be deployed.
      for (const from of [undefined, " "]) {
        const message = await rejection(() => hre.tasks.getTask(id).run({ ...args, from }));
        expect(message).to.match(new RegExp(`^${id.join(" ")} [^:]+: say which account acts with --from`));
        expect(message.endsWith(ACCOUNT_HINT)).to.equal(true, message);
      }
    });
  }

  it("stake add says it moves funds", async function () {
    const message = await rejection(() => hre.tasks.getTask(["stake", "add"]).run({ amount: "1" }));
    expect(message).to.equal(`stake add moves funds${ACCOUNT_HINT}`);
  });

  it("tasks anyone may call, and the deployer's own, keep account 0", function () {
    for (const id of ANYONE_TASKS) expect(hre.tasks.getTask(id).options.get("from")?.defaultValue, id.join(" ")).to.equal("0");
    for (const id of [["protocol", "deploy"], ["token", "faucet"]]) expect(hre.tasks.getTask(id).options.has("from"), id.join(" ")).to.equal(false);
  });

  it("npx hardhat stake add --amount 1 (no --from): one line, exit code 1, nothing sent", async function () {
    this.timeout(60_000);
    const r = await new Promise<{ code: number; out: string }>((resolve) => {
      // As in a user's terminal: Hardhat always prints stack traces when it sees CI=true.
      const env = { ...process.env };
      delete env.CI;
      execFile(process.execPath, [HARDHAT_CLI, "stake", "add", "--amount", "1"], { cwd: ROOT, env, timeout: 60_000 }, (error, stdout, stderr) =>
        resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : -1, out: `${stdout}${stderr}` }),
      );
    });
    expect(r.code).to.equal(1);
    expect(r.out).to.include(`stake add moves funds${ACCOUNT_HINT}`);
    expect(r.out).not.to.include("Deploying");
    expect(r.out).not.to.match(/\n\s+at /); // no stack trace
  });
});
