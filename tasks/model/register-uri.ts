/**
 * Where a registered model can be fetched from. A `file://` URI names a file on the machine that
 * registered it: fine on a local chain, where the workers run on that machine, but no worker of a
 * public network can read it, and the registration (which cannot be edited) would be useless.
 */
import { VeritensorError, isLocalChain } from "../../offchain/cli/index.js";

/** The network a registration goes to. */
export interface RegistrationNetwork {
  readonly chainId: bigint;
  readonly networkName: string;
}

/**
 * Whether workers on the same machine may be all there is: chain 31337 (the in-process network,
 * `npx hardhat node`, anvil's default) or the `localhost` network (a local node, even a fork of
 * another chain).
 */
export function isLocalNetwork(n: RegistrationNetwork): boolean {
  return isLocalChain(n.chainId) || n.networkName === "localhost";
}

/** Refuses a `file://` URI on a network other than a local one, saying what to give instead. */
export function requireReachableModelUri(uri: string, n: RegistrationNetwork, fromFile: boolean): void {
  if (!/^file:/i.test(uri.trim()) || isLocalNetwork(n)) return;
  throw new VeritensorError(
    `${fromFile ? `--file without --uri records ${uri}` : `--uri ${uri} is a file:// URI`}, which no worker of network ${n.networkName} ` +
      `(chain ${n.chainId}) can read: file:// is for local chains only. Publish the file and give --uri https://… ` +
      `(any HTTP(S) server) or --uri ipfs://CID (workers read it through their --ipfs-gateway); keep --file to compute ` +
      `the content hash, commitments, shapes and scales from your copy (workers check the download against them)`,
  );
}
