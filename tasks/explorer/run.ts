import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { VeritensorError, action, openProtocol } from "../../offchain/cli/index.js";
import { serveUntilSignal, startExplorer } from "../../offchain/explorer/index.js";

interface Args {
  port: number;
  host: string;
  db: string | undefined;
  confirmations: number;
  poll: number;
  fromBlock: number;
}

export default action(async (a: Args, hre: HardhatRuntimeEnvironment) => {
  if (!Number.isInteger(a.port) || a.port < 0 || a.port > 65_535) throw new VeritensorError(`--port ${a.port}: give 0 to 65535`);
  if (!Number.isInteger(a.confirmations) || a.confirmations < 1) throw new VeritensorError(`--confirmations ${a.confirmations}: give 1 or more`);
  if (!Number.isInteger(a.poll) || a.poll < 50) throw new VeritensorError(`--poll ${a.poll}: give at least 50 (ms)`);
  const connection = await hre.network.getOrCreate();
  if (connection.networkConfig.type === "edr-simulated") {
    throw new VeritensorError(
      "the in-process network starts empty on every command, so there is nothing to explore: use `--network localhost` with `npx hardhat node` running, or `npm run demo -- --explorer` to explore the demo's chain",
    );
  }
  const protocol = await openProtocol(hre);
  const explorer = await startExplorer({
    protocol,
    root: hre.config.paths.root,
    db: a.db,
    host: a.host,
    port: a.port,
    confirmations: a.confirmations,
    pollMs: a.poll,
    ...(a.fromBlock >= 0 ? { fromBlock: a.fromBlock } : {}),
  }).catch((e: NodeJS.ErrnoException) => {
    if (e.code === "EADDRINUSE") throw new VeritensorError(`port ${a.port} on ${a.host} is in use: give another --port (0 picks a free one)`);
    throw e;
  });
  console.log(`Explorer of ${protocol.networkName} (chain ${protocol.chainId}) at ${explorer.url}`);
  console.log("Ctrl-C stops it; the index is kept and a restart resumes from it.");
  await serveUntilSignal(explorer);
});
