/**
 * A fresh in-process chain for node tests: LocalProtocol deployed by Ignition, the shipped MNIST
 * CNN registered (price 0.1 VTN), a worker, a second worker and a verifier staked.
 */
import hre from "hardhat";
import type { Signer } from "ethers";
import { join } from "node:path";

import type { Protocol } from "../../offchain/cli/index.js";
import { canonicalBytes } from "../../offchain/commitments/tensor.js";
import { quantizeInput } from "../../offchain/convert/evaluate.js";
import { loadDigits, toFloat } from "../../offchain/datasets/mnist.js";
import { mnistCnn } from "../disputes/models.js";
import { addStake, deployProtocol, modelFileFacts, registerModel } from "../../offchain/cli/index.js";

const VTN = 10n ** 18n;

export interface InProcessChain {
  readonly p: Protocol;
  readonly modelId: bigint;
  /** The minimum fee plus 0.2 VTN for the worker. */
  readonly fee: bigint;
  readonly requester: Signer;
  readonly worker: Signer;
  /** A second worker (the cheater in tests that need one). */
  readonly cheater: Signer;
  readonly verifier: Signer;
}

export async function inProcessChain(
  parameters?: Record<string, Record<string, unknown>>,
  /** Blocks may share a timestamp: the chain's clock then stays with the wall clock through a burst. */
  sameTimestamps = false,
  /** The chain's genesis time (Hardhat's default is when Hardhat started, so a later chain lags the wall clock). */
  initialDate = new Date(),
): Promise<InProcessChain> {
  const asked = Date.now();
  const conn = await hre.network.create({ override: { initialDate, ...(sameTimestamps ? { allowBlocksWithSameTimestamp: true } : {}) } });
  // The chain's clock starts at initialDate when it is created: the first network of a process can
  // take seconds to create (loading the artifacts), and its clock would lag by as much. Move it on
  // so that it runs initialDate + the wall-clock time since the call, as asked.
  const late = Math.floor((Date.now() - asked) / 1000);
  if (late > 0) await conn.provider.request({ method: "evm_increaseTime", params: [late] });
  const p = (await deployProtocol(conn, hre.config.paths.ignition, { parameters })).protocol;
  const signers = (await conn.ethers.getSigners()) as Signer[];
  const [developer, worker, requester, cheater, verifier] = [signers[1]!, signers[2]!, signers[3]!, signers[4]!, signers[5]!];
  const facts = await modelFileFacts(join(hre.config.paths.root, "models/mnist-cnn.canonical.onnx"));
  const modelId = (await registerModel(p, developer, { ...facts, price: VTN / 10n, contributors: [] })).modelId;
  await addStake(p, worker, 500n * VTN, { serveModels: [modelId] });
  await addStake(p, cheater, 500n * VTN, { serveModels: [modelId] });
  await addStake(p, verifier, 200n * VTN);
  const fee = (await p.jobManager.minimumFee(VTN / 10n)) + VTN / 5n;
  return { p, modelId, fee, requester, worker, cheater, verifier };
}

/**
 * Job inputs for the shipped MNIST CNN: held-out digits, quantized, one after another `stride`
 * apart (each test file its own stride, so files do not send the same inputs).
 */
export function digitInputs(stride: number): () => Uint8Array {
  const model = mnistCnn();
  const digits = loadDigits("heldout");
  let digit = 0;
  return () => canonicalBytes(quantizeInput(model, toFloat(digits.pixels[(digit++ * stride) % digits.labels.length]!)));
}
