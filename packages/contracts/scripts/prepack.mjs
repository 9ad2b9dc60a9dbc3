#!/usr/bin/env node
/**
 * Builds @veritensor/contracts for `npm pack` from the repository, which stays the one home of the
 * sources: copies the interfaces, the consumer bases and exactly the files they import (followed
 * through their relative imports) from contracts/ to the paths users import, and writes each
 * shipped or deployed contract's ABI from Hardhat's artifacts to abi/<Name>.json. Fails with the
 * command to run when the artifacts are missing, and on an import the package cannot ship.
 *
 *   node scripts/prepack.mjs          build (npm runs it as `prepack`)
 *   node scripts/prepack.mjs --clean  remove what it built
 */
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const HERE = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const ROOT = path.resolve(HERE, "../..");
const CONTRACTS = path.join(ROOT, "contracts");
const ARTIFACTS = path.join(ROOT, "artifacts", "contracts");

/** What users import: every interface, and the two consumer bases. */
const ENTRY_POINTS = [
  ...readdirSync(path.join(CONTRACTS, "interfaces"))
    .filter((f) => f.endsWith(".sol"))
    .map((f) => `interfaces/${f}`),
  "jobs/InferenceConsumer.sol",
  "subscriptions/SubscriptionConsumer.sol",
];

/** The deployed protocol's contracts: their full ABIs (with every custom error) ship too. */
const DEPLOYED = [
  "token/VeritensorToken.sol",
  "registry/ModelRegistry.sol",
  "staking/Staking.sol",
  "jobs/JobManager.sol",
  "subscriptions/SubscriptionManager.sol",
  "disputes/DisputeGameFactory.sol",
  "disputes/DisputeGame.sol",
  "disputes/OneStepVerifier.sol",
  "assignment/WorkerRoster.sol",
  "governance/ProtocolTimelock.sol",
  "governance/VeritensorGovernor.sol",
];

/** Top-level folders this script writes (and --clean removes). */
const OUTPUTS = ["interfaces", "jobs", "subscriptions", "disputes", "abi"];

const PEER = "@openzeppelin/contracts";

function fail(message) {
  console.error(`@veritensor/contracts prepack: ${message}`);
  process.exit(1);
}

function clean() {
  for (const dir of OUTPUTS) rmSync(path.join(HERE, dir), { recursive: true, force: true });
}

/** The import paths of a Solidity source (`import "x";`, `import {A} from "x";`, `import * as A from "x";`). */
function importsOf(source) {
  const found = [];
  for (const m of source.matchAll(/^\s*import\s+(?:[^"';]*?\s+from\s+)?["']([^"']+)["']\s*;/gm)) found.push(m[1]);
  return found;
}

/** `relative` and every file it imports under contracts/, as paths relative to contracts/. */
function closure(entries) {
  const seen = new Set();
  const stack = [...entries];
  while (stack.length > 0) {
    const file = stack.pop();
    if (seen.has(file)) continue;
    const abs = path.join(CONTRACTS, file);
    if (!existsSync(abs)) fail(`contracts/${file} does not exist`);
    seen.add(file);
    for (const spec of importsOf(readFileSync(abs, "utf8"))) {
      if (spec.startsWith(`${PEER}/`)) {
        // A peer dependency: the user's own copy, so that IERC20 and friends are one type.
        continue;
      }
      if (!spec.startsWith(".")) fail(`contracts/${file} imports "${spec}", which is neither relative nor ${PEER}: the package cannot ship it`);
      const target = path.relative(CONTRACTS, path.resolve(path.dirname(abs), spec));
      if (target.startsWith("..")) fail(`contracts/${file} imports "${spec}", outside contracts/`);
      stack.push(target.split(path.sep).join("/"));
    }
  }
  return [...seen].sort();
}

/** The ABIs of the contracts, interfaces and libraries a source declares, from its artifacts. */
function abisOf(file) {
  const dir = path.join(ARTIFACTS, file);
  if (!existsSync(dir)) {
    fail(`no artifacts for contracts/${file} (${path.relative(ROOT, dir)} is missing): run \`npx hardhat build --no-tests\` in the repository first`);
  }
  return readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .map((f) => JSON.parse(readFileSync(path.join(dir, f), "utf8")))
    .filter((a) => Array.isArray(a.abi) && a.abi.length > 0)
    .map((a) => ({ name: a.contractName, abi: a.abi }));
}

function checkPeerVersion() {
  const root = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8"));
  const ours = JSON.parse(readFileSync(path.join(HERE, "package.json"), "utf8"));
  const repo = root.dependencies?.[PEER];
  const peer = ours.peerDependencies?.[PEER];
  if (repo !== peer) fail(`the peer dependency ${PEER}@${peer} differs from the repository's ${repo}: set package.json's peerDependencies to it`);
}

/** Official deployments are committed as deployments/<chainId>.json: each must have the fields the SDK reads. */
function checkAddressBook() {
  const dir = path.join(HERE, "deployments");
  const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith(".json")) : [];
  for (const f of files) {
    const book = JSON.parse(readFileSync(path.join(dir, f), "utf8"));
    if (`${book.chainId}.json` !== f) fail(`deployments/${f}: its chainId is ${book.chainId}, the file name must be <chainId>.json`);
    for (const role of ["token", "registry", "staking", "jobManager", "subscriptions"]) {
      if (!/^0x[0-9a-fA-F]{40}$/.test(book.contracts?.[role] ?? "")) fail(`deployments/${f}: contracts.${role} is not an address`);
    }
  }
  return files.length;
}

if (process.argv.includes("--clean")) {
  clean();
  process.exit(0);
}

checkPeerVersion();
clean();
const sources = closure(ENTRY_POINTS);
for (const file of sources) {
  mkdirSync(path.join(HERE, path.dirname(file)), { recursive: true });
  cpSync(path.join(CONTRACTS, file), path.join(HERE, file));
}
mkdirSync(path.join(HERE, "abi"), { recursive: true });
const written = new Set();
for (const file of [...sources, ...DEPLOYED]) {
  for (const { name, abi } of abisOf(file)) {
    if (written.has(name)) fail(`two contracts named ${name}: their ABIs would overwrite each other`);
    written.add(name);
    writeFileSync(path.join(HERE, "abi", `${name}.json`), `${JSON.stringify(abi, null, 2)}\n`);
  }
}
const deployments = checkAddressBook();
console.error(
  `@veritensor/contracts: ${sources.length} sources from contracts/, ${written.size} ABIs from artifacts/, ${deployments} official deployment(s) in deployments/`,
);
