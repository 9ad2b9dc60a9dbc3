/**
 * The benchmark runner behind `npm run bench` (offchain/dev/bench/), without running the benchmark:
 * the report file (one block per section, `--only` replacing one and keeping the others), the
 * sections' text from given measurements (totals, worst cases, ratios and the verdicts against
 * their targets), and the gas section run for real on the in-process network (a few seconds).
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { expect } from "chai";
import hre from "hardhat";

import { Level, Side, StepPhase } from "../../offchain/clients/game-types.js";
import type { BatchRow } from "../../offchain/dev/bench/batches.js";
import { BATCH_PER_INPUT_TARGET, batchesMarkdown } from "../../offchain/dev/bench/batches.js";
import type { Dispute } from "../../offchain/dev/bench/disputes.js";
import { MAX_TX_TARGET, disputesMarkdown } from "../../offchain/dev/bench/disputes.js";
import type { GasMeasurements } from "../../offchain/dev/bench/gas.js";
import { HAPPY_PATH_TARGET, gasMarkdown, gasSection } from "../../offchain/dev/bench/gas.js";
import type { BenchSection } from "../../offchain/dev/bench/index.js";
import { SECTIONS, runBenchmarks } from "../../offchain/dev/bench/index.js";
import { subscriptionsSection } from "../../offchain/dev/bench/subscriptions.js";
import type { VerifierRun } from "../../offchain/dev/bench/nodes.js";
import { SCALING_TARGET, VERIFIER_SETTINGS, verifierReport } from "../../offchain/dev/bench/nodes.js";
import type { OneStepMeasurements } from "../../offchain/dev/bench/onestep.js";
import { oneStepMarkdown } from "../../offchain/dev/bench/onestep.js";
import { block, header, merge } from "../../offchain/dev/bench/report.js";
import { LayerKind } from "../../offchain/model/layers.js";
import { rejection } from "../tasks/helpers.js";

const section = (id: string, body: string, runs: string[] = []): BenchSection => ({
  id,
  title: `Section ${id}`,
  async run() {
    runs.push(id);
    return body;
  },
});

/** The block of section `id` in a report. */
const blockOf = (text: string, id: string) => new RegExp(`<!-- bench:${id} -->[\\s\\S]*?<!-- /bench:${id} -->`).exec(text)?.[0];

describe("dev/bench: the benchmark report and its sections", function () {
  this.timeout(60_000);
  let dir: string;

  before(async function () {
    dir = await mkdtemp(join(tmpdir(), "veritensor-bench-"));
  });
  after(async function () {
    await rm(dir, { recursive: true, force: true });
  });

  describe("the report file", function () {
    it("has a header (date, machine, Node) and one delimited block per section", function () {
      const h = header(new Date("2025-01-02T03:04:05.678Z"));
      expect(h).to.match(/^# Benchmarks\n/);
      expect(h).to.include("- Date: 2025-01-02 03:04:05 UTC");
      expect(h).to.match(/- Machine: .+, \d+ cores, \d+ GiB/);
      expect(h).to.include(`- Node ${process.version}`);
      expect(block(section("gas", ""), "\n  body\n\n")).to.equal("<!-- bench:gas -->\n## Section gas\n\nbody\n<!-- /bench:gas -->\n");
    });

    it("merges: fresh sections replace their blocks, the others are kept, in the sections' order, unknown ones last", function () {
      const old = [
        "# Benchmarks\n\n- Date: long ago\n",
        block(section("b", ""), "old b"),
        block(section("zz", ""), "a section no longer listed"),
        block(section("a", ""), "old a"),
      ].join("\n");
      const text = merge(old, new Map([["b", block(section("b", ""), "new b")]]), ["a", "b", "c"]);
      expect(text).to.not.include("long ago");
      expect(text).to.not.include("old b");
      expect(blockOf(text, "b")).to.include("new b");
      expect(blockOf(text, "a")).to.include("old a");
      expect(blockOf(text, "zz")).to.include("a section no longer listed");
      expect(blockOf(text, "c")).to.equal(undefined);
      const at = (id: string) => text.indexOf(`<!-- bench:${id} -->`);
      expect(at("a")).to.be.below(at("b"));
      expect(at("b")).to.be.below(at("zz"));
      expect(merge(undefined, new Map([["c", block(section("c", ""), "only c")]]), ["a", "c"])).to.match(/^# Benchmarks[\s\S]*only c/);
    });

    it("runs every section into the file, or only the one asked for (the others keep their text)", async function () {
      const out = join(dir, "nested", "BENCHMARKS.md");
      const runs: string[] = [];
      const first = [section("one", "first one", runs), section("two", "first two", runs)];
      const lines: string[] = [];
      await runBenchmarks({ network: hre.network, log: (l) => lines.push(l) }, { out, sections: first });
      expect(runs).to.deep.equal(["one", "two"]);
      expect(lines[0]).to.equal("▸ Section one");
      expect(lines).to.have.length(4);
      const second = [section("one", "second one", runs), section("two", "second two", runs)];
      const text = await runBenchmarks({ network: hre.network, log: () => {} }, { out, only: "two", sections: second });
      expect(runs).to.deep.equal(["one", "two", "two"]);
      expect(await readFile(out, "utf8")).to.equal(text);
      expect(blockOf(text, "one")).to.include("first one");
      expect(blockOf(text, "two")).to.include("second two");
    });

    it("names the sections when --only names none of them, and writes nothing", async function () {
      const out = join(dir, "untouched.md");
      await writeFile(out, "as it was");
      const message = await rejection(() => runBenchmarks({ network: hre.network, log: () => {} }, { out, only: "gass" }));
      expect(message).to.equal(`no benchmark section "gass"; sections: ${SECTIONS.map((s) => s.id).join(", ")}`);
      expect(SECTIONS.map((s) => s.id)).to.deep.equal(["gas", "batches", "subscriptions", "inference", "disputes", "onestep", "nodes", "audits", "economics", "explorer"]);
      expect(await readFile(out, "utf8")).to.equal("as it was");
    });
  });

  describe("the sections' text from measurements", function () {
    const happy = (gas: bigint[], when: string) => gas.map((g, i) => ({ tx: ["request", "claim", "submit", "finalize"][i]!, when, gas: g }));

    it("gas: the happy path's totals, its largest share, and the verdict against the target", function () {
      const m = (steady: bigint[]): GasMeasurements => ({
        rows: [{ tx: "approve", when: "once", gas: 46_000n }],
        happyFirst: happy([150_000n, 60_000n, 70_000n, 80_000n], "first job"),
        happySteady: happy(steady, "steady"),
      });
      const within = gasMarkdown(m([100_000n, 50_000n, 60_000n, HAPPY_PATH_TARGET - 210_000n - 1_000n]));
      expect(within).to.include("| first job (cold storage) | 150,000 | 60,000 | 70,000 | 80,000 | **360,000** |");
      expect(within).to.include(`**${(HAPPY_PATH_TARGET - 1_000n).toLocaleString("en-US")}** | within the ${HAPPY_PATH_TARGET.toLocaleString("en-US")} target (1,000 to spare)`);
      expect(within).to.include("Largest share of the first job: request (150,000, 42%).");
      expect(within).to.include("| approve | once | 46,000 |");
      const over = gasMarkdown(m([100_000n, 50_000n, 60_000n, HAPPY_PATH_TARGET - 210_000n + 5n]));
      expect(over).to.include(`**over** the ${HAPPY_PATH_TARGET.toLocaleString("en-US")} target by 5`);
      // At the target exactly it is met.
      expect(gasMarkdown(m([100_000n, 50_000n, 60_000n, HAPPY_PATH_TARGET - 210_000n]))).to.include("(0 to spare)");
    });

    it("batches: per input at 1, 8 and 32, the verdict at 32, and where one more input's gas goes (the calldata floor apart)", function () {
      // A fixed 280,000 a job and 4,000 an input (of which 400 calldata, 200 log data); the second kind's request pays
      // the calldata floor: 2,000 more per input than without it.
      const row = (kind: string, size: number, perExtra: bigint, floor: bigint): BatchRow => {
        const n = BigInt(size);
        return {
          kind,
          size,
          request: 120_000n + (perExtra + floor) * n,
          claim: 55_000n,
          submit: 40_000n,
          finalize: 65_000n,
          withoutFloor: 280_000n + perExtra * n,
          requestAtFloor: floor > 0n,
          calldata: 400n * n,
          logData: 200n * n,
        };
      };
      const rows = [1, 8, 32].flatMap((size) => [row("small (4 in)", size, 4_000n, 0n), row("MNIST-shaped (784 in)", size, 60_000n, 2_000n)]);
      const text = batchesMarkdown(rows);
      expect(text).to.include("| 32 | 248,000 | 55,000 | 40,000 | 65,000 | 408,000 | **12,750** | within the 60,000 target (47,250 to spare) |");
      expect(text).to.include("| 1 | 124,000 | 55,000 | 40,000 | 65,000 | 284,000 | **284,000** |  |");
      expect(text).to.include(`**over** the ${BATCH_PER_INPUT_TARGET.toLocaleString("en-US")} target by 10,750`);
      expect(text).to.include("| small | 4,000 | 400 | 200 | 3,400 | 0 | 280,000 | 8,750 |");
      expect(text).to.include("| MNIST-shaped | 62,000 | 400 | 200 | 59,400 | +2,000 (the request is floor-priced) | 280,000 | 8,750 |");
      expect(text).to.include("- Why the dense MNIST-shaped input cannot meet it inline");
    });

    it("one-step: the worst transaction gas per kind and phase, per model, with the most openings", function () {
      const row = (model: string, layer: number, kind: LayerKind, phase: StepPhase, term: number, openings: number, tx: bigint) =>
        ({ model, layer, kind, phase, term, openings, bytes: 1000, depth: 3, exec: tx - 21_000n, tx }) as OneStepMeasurements["rows"][number];
      const text = oneStepMarkdown({
        rows: [
          row("A", 1, LayerKind.DENSE, StepPhase.Reduce, 0, 2, 50_000n),
          row("A", 3, LayerKind.DENSE, StepPhase.Reduce, 0, 3, 70_000n),
          row("B", 2, LayerKind.DENSE, StepPhase.Reduce, 0, 2, 60_000n),
          row("A", 3, LayerKind.DENSE, StepPhase.Reduce, 4, 2, 65_000n),
          row("A", 2, LayerKind.MAXPOOL, StepPhase.Direct, 0, 49, 90_000n),
        ],
      });
      expect(text).to.include("| kind / phase | openings | A | B |");
      // Term 0 (which also reads s_0) is a row of its own, apart from the other terms.
      expect(text).to.include("| DENSE Reduce j=0 | 3 | 70,000 | 60,000 |");
      expect(text).to.include("| DENSE Reduce | 2 | 65,000 | – |");
      expect(text).to.include("| MAXPOOL Direct | 49 | 90,000 | – |");
      expect(text).to.include("| A | 3 | DENSE | Reduce j=0 | 3 | 1,000 | 3 | 49,000 | 70,000 |");
    });

    it("disputes: mean and max per move kind, one row per dispute, and the largest transaction against the target", function () {
      const dispute = (maxGas: bigint, noRoot = false): Dispute => ({
        name: "M",
        noRoot,
        layer: 4,
        kind: "DENSE",
        moves: [
          { side: Side.Defender, kind: "root", level: Level.Root, gasUsed: 300_000n },
          { side: Side.Challenger, kind: "timeout", level: Level.Trace, gasUsed: 100_000n },
        ],
        openGas: 400_000n,
        commitGas: 50_000n,
        txs: { defender: 1, challenger: 3 },
        totalGas: 850_000n,
        maxGas,
        seconds: 1.25,
      });
      const met = disputesMarkdown([dispute(400_000n), dispute(MAX_TX_TARGET, true)]);
      expect(met).to.include("| commitDispute (the commitment, a block before opening) | 2 | 50,000 | 50,000 |");
      expect(met).to.include("| postRoot: root + output proof + children (root, defender) | 2 | 300,000 | 300,000 |");
      expect(met).to.include("| timeout (trace, challenger) | 2 | 100,000 | 100,000 |");
      expect(met).to.include("| M | 4 (DENSE) | 1 + 3 | 850,000 | 400,000 | 1.3 s |");
      expect(met).to.include("| M | none (no root posted) | 1 + 3 |");
      expect(met).to.include(`Largest single transaction: 1,000,000 gas (target: none above 1,000,000: met).`);
      expect(disputesMarkdown([dispute(MAX_TX_TARGET + 1n)])).to.include("1,000,001 gas (target: none above 1,000,000: MISSED)");
      expect(() => disputesMarkdown([{ ...dispute(1n), moves: [] }])).to.throw("no dispute posted a root");
    });

    it("nodes: the verifier's 2-core over 1-core ratio against its target, from the settings' rows", function () {
      const runs = (oneCore: number, twoCores: number, pinned = true): VerifierRun[] =>
        VERIFIER_SETTINGS.map((setting, i) => ({
          setting,
          pinned,
          jobs: 32,
          // The other settings' rates differ from both: a ratio taken from the wrong row shows.
          jobsPerSecond: setting.cores === 1 ? oneCore : setting.parallel === 2 && !setting.sameThread ? twoCores : 3 + i,
          rerunMs: 10,
          cpuPerJob: 20,
        }));
      const met = verifierReport(runs(10, 18), runs(100, 120));
      expect(met).to.include(`| **2 cores / 1 core** | **1.80x** (target ≥ ${SCALING_TARGET}x: met) | | | 1.20x | | |`);
      expect(met).to.include("pinned\nwith `taskset`");
      expect(met.split("\n").filter((l) => l.startsWith("| ") && l.includes(" ms |"))).to.have.length(VERIFIER_SETTINGS.length);
      const missed = verifierReport(runs(10, 16, false), runs(100, 120));
      expect(missed).to.include("**1.60x** (target ≥ 1.7x: **not met**)");
      expect(missed).to.include("(not pinned here: no `taskset`)");
    });
  });

  it("the gas section runs on the in-process network: a lifecycle's gas, its totals adding up", async function () {
    const lines: string[] = [];
    const text = await gasSection.run({ network: hre.network, log: (l) => lines.push(l) });
    const row = (label: string) => {
      const line = text.split("\n").find((l) => l.startsWith(`| ${label} |`));
      expect(line, label).to.not.equal(undefined);
      return line!.split("|").slice(2, 7).map((c) => BigInt(c.replace(/[*,\s]/g, "")));
    };
    for (const label of ["first job (cold storage)", "steady state"]) {
      const [request, claim, submit, finalize, total] = row(label);
      expect(request! + claim! + submit! + finalize!, label).to.equal(total);
      expect(total! > 21_000n * 4n, label).to.equal(true);
    }
    const steady = row("steady state")[4]!;
    expect(text).to.include(steady <= HAPPY_PATH_TARGET ? "to spare)" : "**over** the");
    expect(text).to.match(/\| claim \| .* \| [\d,]+ \|/);
    expect(text.split("\n").filter((l) => /^\| .+ \| .+ \| [\d,]+ \|$/.test(l)).length).to.be.greaterThan(10);
  });

  it("the subscriptions section runs on the in-process network: a run's gas, its totals and frames adding up", async function () {
    const text = await subscriptionsSection.run({ network: hre.network, log: () => {} });
    const runs = text.split("\n").filter((l) => / run \| [\d,]+ \|/.test(l));
    expect(runs).to.have.length(4);
    for (const line of runs) {
      const [trigger, claim, submit, finalize, total, input, relay, callback, without] = line
        .split("|")
        .slice(2, 11)
        .map((c) => BigInt(c.replace(/[*,\s]/g, "")));
      expect(trigger! + claim! + submit! + finalize!, line).to.equal(total);
      expect(total! - callback!, line).to.equal(without);
      expect(input! < trigger! && relay! + callback! < finalize! && callback! > 0n, line).to.equal(true);
    }
    expect(text).to.match(/\| settleRun \| .* \| [\d,]+ \|/);
    expect(text).to.match(/\| SignalFeed\.withdrawUnused \| .* \| [\d,]+ \|/);
  });
});
