import { createRequire } from "node:module";

import hardhatToolboxMochaEthersPlugin from "@nomicfoundation/hardhat-toolbox-mocha-ethers";
import { configVariable, defineConfig } from "hardhat/config";

import { checkOptionValues } from "./tasks/argv.js";
import { veritensorTasks } from "./tasks/index.js";

// Hardhat would take `--amount` as the value of a bare `--from` and then fail on a stray token
// (HHE506); say what is wrong instead. Only our tasks are checked (never `hardhat test` etc.).
const argvProblem = checkOptionValues(process.argv.slice(2), veritensorTasks);
if (argvProblem !== undefined) {
  console.error(`Error: ${argvProblem}`);
  process.exit(1);
}

// The Solidity compiler comes from the `solc` npm package (WASM), so builds never download.
const require = createRequire(import.meta.url);
const solcPath = require.resolve("solc/soljson.js");
const solcVersion: string = require("solc/package.json").version;

const compiler = {
  version: solcVersion,
  path: solcPath,
  settings: {
    evmVersion: "cancun",
    optimizer: { enabled: true, runs: 1000 },
  },
};

export default defineConfig({
  plugins: [hardhatToolboxMochaEthersPlugin],
  tasks: veritensorTasks,
  solidity: {
    profiles: {
      default: compiler,
      // Not isolated (Hardhat's production default): an isolated build compiles each file alone,
      // and a file with only errors or types (GameErrors.sol, Types.sol) then yields build info
      // without contracts, which the in-process network cannot load: after `npx hardhat ignition
      // deploy` (a production build), `npm run demo` and `npx hardhat test --no-compile` failed
      // with "Failed to parse build info: missing field `contracts`".
      production: { ...compiler, isolated: false },
    },
  },
  paths: {
    // VERITENSOR_IGNITION_DIR keeps deployments elsewhere (the e2e tests' own throw-away folder),
    // so that tests never replace the deployment a user made on their local node. `protocol deploy`
    // and the tasks import the modules by path and work with any folder; plain `npx hardhat ignition
    // deploy ignition/modules/...` only accepts modules under <that folder>/modules, so run it without.
    ignition: process.env.VERITENSOR_IGNITION_DIR ?? "ignition",
    tests: {
      mocha: "test",
      solidity: "test/solidity",
    },
  },
  networks: {
    hardhat: {
      type: "edr-simulated",
      chainType: "l1",
      // The demo and benchmarks send many transactions; keep blocks roomy like a testnet's.
      blockGasLimit: 60_000_000n,
    },
    localhost: {
      type: "http",
      chainType: "l1",
      // VERITENSOR_RPC_URL points `--network localhost` at another local node (the e2e tests' own).
      url: process.env.VERITENSOR_RPC_URL ?? "http://127.0.0.1:8545",
    },
    sepolia: {
      type: "http",
      chainType: "l1",
      url: configVariable("SEPOLIA_RPC_URL"),
      accounts: [configVariable("SEPOLIA_PRIVATE_KEY")],
    },
  },
});
