/**
 * Tasks that write files: a missing parent folder is created (like `mkdir -p`), and a write that
 * still fails is one line naming the file, never Hardhat's "An unexpected error occurred".
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";

import { expect } from "chai";
import hre from "hardhat";

import { parseCanonicalModel } from "../../offchain/model/canonical.js";
import { NodeStore } from "../../offchain/nodes/store.js";
import { writeOutput } from "../../offchain/cli/model/files.js";
import { dir, rejection } from "./helpers.js";

const FLOAT_MLP = "models/mnist-mlp.float.onnx";

const quiet = async <T>(fn: () => Promise<T>): Promise<T> => {
  const log = console.log;
  console.log = () => {};
  try {
    return await fn();
  } finally {
    console.log = log;
  }
};

describe("tasks: writing output files", function () {
  const root = path.join(dir, "outputs");
  /** A plain file where a folder is expected: no write under it can succeed, even as root. */
  const blocker = path.join(root, "a-file");
  before(function () {
    mkdirSync(root, { recursive: true });
    writeFileSync(blocker, "not a folder");
  });

  it("model convert creates the missing folders of --out", async function () {
    this.timeout(120_000);
    const out = path.join(root, "some", "missing", "folder", "out.onnx");
    await quiet(() => hre.tasks.getTask(["model", "convert"]).run({ in: FLOAT_MLP, out }));
    expect(parseCanonicalModel(readFileSync(out)).layers).to.have.length(2);
  });

  it("model convert names --out when it cannot be written", async function () {
    this.timeout(120_000);
    const out = path.join(blocker, "out.onnx");
    const message = await rejection(() => quiet(() => hre.tasks.getTask(["model", "convert"]).run({ in: FLOAT_MLP, out })));
    expect(message).to.match(new RegExp(`^cannot write the canonical model ${out.replaceAll(/[.\\/]/g, "\\$&")} \\((ENOTDIR|EEXIST): a part of its path is a file, not a folder\\)$`));
  });

  it("writeOutput (model convert, bench --out) creates folders and names the file on any failure", async function () {
    const nested = path.join(root, "x", "y", "report.md");
    await writeOutput(nested, "hello", "the report");
    expect(readFileSync(nested, "utf8")).to.equal("hello");
    await writeOutput(nested, "again", "the report"); // an existing file and folder are fine
    expect(readFileSync(nested, "utf8")).to.equal("again");
    expect(await rejection(() => writeOutput(path.join(root, "x"), "z", "the report"))).to.equal(
      `cannot write the report ${path.join(root, "x")} (EISDIR: it is a folder)`,
    );
    expect(await rejection(() => writeOutput(path.join(blocker, "deeper", "r.md"), "z", "the report"))).to.match(
      /^cannot write the report .*a-file\/deeper\/r\.md \((ENOTDIR|EEXIST): a part of its path is a file, not a folder\)$/,
    );
  });

  it("a node's --db: created with its folders, or refused in one line naming the file", async function () {
    const file = path.join(root, "state", "deep", "w.sqlite");
    NodeStore.open(file).close();
    expect(existsSync(file)).to.equal(true);
    const bad = path.join(blocker, "w.sqlite");
    expect(() => NodeStore.open(bad)).to.throw(`cannot open the state database ${bad} (`);
    expect(() => NodeStore.open(bad)).to.throw(/: give another --db$/);
  });
});
