/**
 * The off-chain code's layers (docs/ARCHITECTURE.md): imports only run downward, or sideways
 * within a layer, and no chain of imports comes back to where it started.
 */
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import path from "node:path";

import { expect } from "chai";

/** Each folder of offchain/ and its layer: a file may import from its own layer or lower ones. */
const LAYERS: Readonly<Record<string, number>> = {
  model: 0,
  commitments: 1,
  runtime: 2,
  clients: 2,
  datasets: 2,
  economics: 2,
  convert: 3,
  disputes: 4,
  nodes: 5,
  cli: 6,
  explorer: 7,
  dev: 8,
};

const ROOT = path.resolve("offchain");
const IMPORT = /(?:\bfrom|\bimport)\s*\(?\s*["'](\.{1,2}\/[^"']+)["']/g;

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) return sources(p);
    return p.endsWith(".ts") || p.endsWith(".tsx") ? [p] : [];
  });
}

/** Relative imports of `file` that stay inside offchain/, as .ts paths. */
function importsOf(file: string): string[] {
  const out: string[] = [];
  for (const m of readFileSync(file, "utf8").matchAll(IMPORT)) {
    const target = path.resolve(path.dirname(file), m[1]!).replace(/\.js$/, ".ts");
    // The explorer's browser app (offchain/explorer/app/) imports its own .tsx files by the .js name too.
    const tsx = target.replace(/\.ts$/, ".tsx");
    if (target.startsWith(ROOT + path.sep)) out.push(!existsSync(target) && existsSync(tsx) ? tsx : target);
  }
  return out;
}

const layerOf = (file: string): string => path.relative(ROOT, file).split(path.sep)[0]!;

describe("architecture: offchain/ imports run downward, without loops", function () {
  const files = sources(ROOT);
  const graph = new Map(files.map((f) => [f, importsOf(f)]));

  it("finds the files and their imports (the check is not empty)", function () {
    expect(files.length).to.be.greaterThan(80);
    expect([...graph.values()].flat().length).to.be.greaterThan(200);
  });

  it("gives every folder of offchain/ a layer", function () {
    const folders = readdirSync(ROOT).filter((n) => statSync(path.join(ROOT, n)).isDirectory());
    expect(folders.filter((f) => LAYERS[f] === undefined), "folders without a layer in LAYERS").to.deep.equal([]);
  });

  it("imports only from the same layer or a lower one", function () {
    const upward: string[] = [];
    for (const [file, targets] of graph) {
      for (const t of targets) {
        const [from, to] = [layerOf(file), layerOf(t)];
        if (LAYERS[from]! < LAYERS[to]!) upward.push(`${path.relative(ROOT, file)} -> ${path.relative(ROOT, t)} (${from} is below ${to})`);
      }
    }
    expect(upward, "imports that run upward").to.deep.equal([]);
  });

  it("has no import loop", function () {
    const state = new Map<string, "open" | "done">();
    const loops: string[] = [];
    const visit = (file: string, trail: string[]): void => {
      state.set(file, "open");
      for (const t of graph.get(file) ?? []) {
        if (state.get(t) === "open") loops.push([...trail.slice(trail.indexOf(t)), t].map((f) => path.relative(ROOT, f)).join(" -> "));
        else if (!state.has(t)) visit(t, [...trail, t]);
      }
      state.set(file, "done");
    };
    for (const f of files) if (!state.has(f)) visit(f, [f]);
    expect(loops, "import loops").to.deep.equal([]);
  });
});
