/**
 * The command-line check hardhat.config.ts runs before Hardhat parses: an option that needs a
 * value but is followed by another option (or by nothing) is one clear line and exit code 1,
 * instead of HHE506 about a stray token.
 */
import { execFile } from "node:child_process";
import { createRequire } from "node:module";
import path from "node:path";

import { expect } from "chai";
import { emptyTask, task } from "hardhat/config";
import { ArgumentType } from "hardhat/types/arguments";

import { checkOptionValues } from "../../tasks/argv.js";
import { veritensorTasks } from "../../tasks/index.js";

const require = createRequire(import.meta.url);
const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), "../..");
const HARDHAT_CLI = path.join(path.dirname(require.resolve("hardhat/package.json")), "dist/src/cli.js");

const TASKS = [
  emptyTask("pay", "group").build(),
  task(["pay", "in"], "a subtask")
    .addOption({ name: "from", type: ArgumentType.STRING_WITHOUT_DEFAULT, description: "sender", defaultValue: undefined })
    .addOption({ name: "amount", type: ArgumentType.STRING_WITHOUT_DEFAULT, description: "amount", defaultValue: undefined })
    .addOption({ name: "maxJobs", type: ArgumentType.INT, description: "a number", defaultValue: 0 })
    .addFlag({ name: "noApprove", description: "a flag" })
    .setAction(async () => ({ default: () => {} }))
    .build(),
  task("solo", "a top-level task")
    .addOption({ name: "out", type: ArgumentType.STRING, description: "file", defaultValue: "x" })
    .setAction(async () => ({ default: () => {} }))
    .build(),
];

/** `npx hardhat <args>` in the project; resolves with its exit code and output. */
function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [HARDHAT_CLI, ...args], { cwd: ROOT, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : -1, stdout, stderr });
    });
  });
}

describe("command line: options missing their value", function () {
  it("names the option and what follows it", function () {
    expect(checkOptionValues(["pay", "in", "--from", "--amount", "1"], TASKS)).to.equal(
      "--from needs a value (an account index or address), but it is followed by --amount",
    );
    expect(checkOptionValues(["pay", "in", "--amount", "--from", "1"], TASKS)).to.equal(
      "--amount needs a value, but it is followed by --from",
    );
    // A value's kind comes from the option's type; names are kebab-case on the command line.
    expect(checkOptionValues(["pay", "in", "--max-jobs", "--no-approve"], TASKS)).to.equal(
      "--max-jobs needs a value (a whole number), but it is followed by --no-approve",
    );
    expect(checkOptionValues(["solo", "--out", "--verbosity"], TASKS)).to.equal("--out needs a value, but it is followed by --verbosity");
  });

  it("says so when the option ends the command line", function () {
    expect(checkOptionValues(["pay", "in", "--amount", "1", "--from"], TASKS)).to.equal(
      "--from needs a value (an account index or address), but nothing follows it",
    );
  });

  it("accepts values, --option=value and flags", function () {
    expect(checkOptionValues(["pay", "in", "--from", "1", "--amount", "2"], TASKS)).to.equal(undefined);
    expect(checkOptionValues(["pay", "in", "--from=1", "--amount=2", "--no-approve"], TASKS)).to.equal(undefined);
    expect(checkOptionValues(["pay", "in", "--no-approve", "--from", "1"], TASKS)).to.equal(undefined);
    expect(checkOptionValues(["pay", "in", "--from", "-1"], TASKS)).to.equal(undefined); // a value may start with one dash
    expect(checkOptionValues(["pay", "in"], TASKS)).to.equal(undefined);
  });

  it("finds the task after global options, and checks options placed after global ones", function () {
    expect(checkOptionValues(["--network", "localhost", "pay", "in", "--from", "--amount", "1"], TASKS)).to.match(/^--from needs a value/);
    expect(checkOptionValues(["--show-stack-traces", "--network=localhost", "pay", "in", "--from"], TASKS)).to.match(/^--from needs a value/);
    expect(checkOptionValues(["pay", "in", "--network", "localhost", "--from", "--amount", "1"], TASKS)).to.match(/^--from needs a value/);
    expect(checkOptionValues(["pay", "in", "--amount", "1", "--from", "--network", "localhost"], TASKS)).to.equal(
      "--from needs a value (an account index or address), but it is followed by --network",
    );
  });

  it("leaves other commands, unknown tasks, groups and --help to Hardhat", function () {
    expect(checkOptionValues(["test", "mocha", "--grep", "--from"], TASKS)).to.equal(undefined);
    expect(checkOptionValues(["--network", "pay", "in", "--from"], TASKS)).to.equal(undefined); // "in" is no task of ours
    expect(checkOptionValues(["pay", "--from"], TASKS)).to.equal(undefined);
    expect(checkOptionValues(["pay", "in", "--from", "--help"], TASKS)).to.equal(undefined);
    expect(checkOptionValues([], TASKS)).to.equal(undefined);
  });

  it("checks the project's own tasks", function () {
    expect(checkOptionValues(["stake", "add", "--from", "--amount", "1"], veritensorTasks)).to.equal(
      "--from needs a value (an account index or address), but it is followed by --amount",
    );
    expect(checkOptionValues(["token", "faucet", "--amount", "5", "--to"], veritensorTasks)).to.equal(
      "--to needs a value (an address or an account index), but nothing follows it",
    );
    expect(checkOptionValues(["worker", "--network", "localhost", "--from", "2", "--models", "--poll", "250"], veritensorTasks)).to.equal(
      "--models needs a value, but it is followed by --poll",
    );
    expect(checkOptionValues(["stake", "add", "--from", "1", "--amount", "1", "--no-approve"], veritensorTasks)).to.equal(undefined);
  });

  it("npx hardhat stake add --from --amount 1: one line on stderr and exit code 1", async function () {
    this.timeout(60_000);
    const r = await cli(["stake", "add", "--from", "--amount", "1"]);
    expect(r.code).to.equal(1);
    expect(r.stderr.trim()).to.equal("Error: --from needs a value (an account index or address), but it is followed by --amount");
    expect(r.stdout).to.equal("");
  });
});
