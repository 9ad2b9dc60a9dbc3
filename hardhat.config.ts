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
    // Public test networks (docs/DEPLOYING.md). Their URL and deployer key are configuration
    // variables: `npx hardhat keystore set SEPOLIA_RPC_URL` (or an environment variable of that
    // name). Hardhat reads them only when a command connects to the network, so every other command
    // runs without them; `protocol deploy` names the ones missing (tasks/protocol/network-variables.ts).
    sepolia: {
      type: "http",
      chainType: "l1",
      chainId: 11_155_111,
      url: configVariable("SEPOLIA_RPC_URL"),
      accounts: [configVariable("SEPOLIA_PRIVATE_KEY")],
    },
    // The L2: Base Sepolia, an OP-stack rollup ("op": Hardhat then estimates the L1 data fee).
    baseSepolia: {
      type: "http",
      chainType: "op",
      chainId: 84_532,
      url: configVariable("BASE_SEPOLIA_RPC_URL"),
      accounts: [configVariable("BASE_SEPOLIA_PRIVATE_KEY")],
    },
  },
  // Hardhat 3.18 already knows Base Sepolia; the descriptor is stated so that verification and the
  // chain type do not depend on the installed Hardhat's built-in list. Etherscan's API (v2) serves
  // Basescan with the same key as Etherscan.
  chainDescriptors: {
    84_532: {
      name: "Base Sepolia",
      chainType: "op",
      blockExplorers: {
        etherscan: { name: "Basescan", url: "https://sepolia.basescan.org", apiUrl: "https://api.etherscan.io/v2/api" },
        blockscout: { url: "https://base-sepolia.blockscout.com", apiUrl: "https://base-sepolia.blockscout.com/api" },
      },
    },
  },
  // `npx hardhat ignition verify chain-<id> --network <name>`: Etherscan (one key for every chain it
  // serves), Blockscout and Sourcify (no key). The key is read only when verifying on Etherscan.
  verify: {
    etherscan: { apiKey: configVariable("ETHERSCAN_API_KEY") },
  },
});
