import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { action, VeritensorError } from "../../offchain/cli/index.js";
import { runDemo } from "../../offchain/dev/demo/run.js";
import { serveUntilSignal, startExplorer } from "../../offchain/explorer/index.js";

interface Args {
  jobs: number;
  explorer: boolean;
  explorerPort: number;
}

export default action(async ({ jobs, explorer, explorerPort }: Args, hre: HardhatRuntimeEnvironment) => {
  if (!Number.isInteger(jobs) || jobs < 1 || jobs > 100) throw new VeritensorError(`--jobs ${jobs}: give 1 to 100`);
  const connection = await hre.network.getOrCreate();
  if (connection.networkConfig.type !== "edr-simulated") {
    throw new VeritensorError("the demo runs on the in-process network only (drop --network)");
  }
  const summary = await runDemo(connection, { jobs, root: hre.config.paths.root, ignitionDir: hre.config.paths.ignition });
  // A demo that did not catch the cheat is a failure, also for scripts and CI that only read the exit code.
  if (!summary.asDesigned) throw new VeritensorError("the demo did not go as designed (see the result line above)");
  if (explorer) {
    const options = { protocol: summary.protocol, root: hre.config.paths.root, db: ":memory:", labels: summary.labels };
    // The in-process chain lives as long as this process: its index is kept in memory.
    const running = await startExplorer({ ...options, port: explorerPort }).catch((e: NodeJS.ErrnoException) =>
      e.code === "EADDRINUSE" ? startExplorer({ ...options, port: 0 }) : Promise.reject(e),
    );
    console.log(`\nexplorer: the demo's chain at ${running.url} (jobs, the dispute move by move, workers, governance); Ctrl-C stops it`);
    await serveUntilSignal(running);
  }
  return summary;
});
