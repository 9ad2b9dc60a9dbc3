/**
 * Models: parse what a developer gives on the command line (shapes, revenue split, the ONNX file
 * itself), register, read back.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { pathToFileURL } from "node:url";

import type { ContractTransactionReceipt, Signer } from "ethers";
import { isAddress, isHexString } from "ethers";

import { commitGraph } from "../commitments/graph.js";
import type { CanonicalModel } from "../model/canonical.js";
import { parseCanonicalModel, sha256Hex } from "../model/canonical.js";
import type { IModelRegistry } from "../../types/ethers-contracts/registry/ModelRegistry.js";
import { VeritensorError } from "./errors.js";
import type { Protocol } from "./protocol.js";
import { read, send } from "./protocol.js";

export const BPS = 10_000;

export interface Contributor {
  readonly account: string;
  readonly bps: number;
}

export interface ModelSpec {
  readonly uri: string;
  readonly contentHash: string;
  readonly graphCommitment: string;
  readonly inputShape: readonly number[];
  readonly outputShape: readonly number[];
  readonly price: bigint;
  readonly contributors: readonly Contributor[];
}

/** `"1,1,28,28"`, `"[1, 784]"` or `"1x784"` -> `[1, 1, 28, 28]`. */
export function parseShape(text: string, what: string): number[] {
  const parts = text.trim().replace(/^\[|\]$/g, "").split(/[\s,x×]+/).filter(Boolean);
  const dims = parts.map(Number);
  if (dims.length === 0 || dims.some((d) => !Number.isInteger(d) || d <= 0)) {
    throw new VeritensorError(`${what} "${text}" is not a shape (positive integers, e.g. 1,784 or 1x1x28x28)`);
  }
  return dims;
}

/** `"0xabc…:1500,0xdef…:500"` -> contributors (basis points of the model price). */
export function parseContributors(text: string): Contributor[] {
  if (text.trim() === "") return [];
  return text.split(",").map((item, i) => {
    const [account, bps, extra] = item.trim().split(":");
    const share = Number(bps);
    if (extra !== undefined || account === undefined || !isAddress(account) || !Number.isInteger(share) || share <= 0) {
      throw new VeritensorError(
        `contributor #${i + 1} "${item.trim()}" must be address:basis-points, e.g. 0x70997970C51812dc3A010C7d01b50e0d17dc79C8:1500`,
      );
    }
    return { account, bps: share };
  });
}

/** The developer's share: what the contributors leave of 10000 basis points. */
export function developerShare(contributors: readonly Contributor[]): number {
  const total = contributors.reduce((sum, c) => sum + c.bps, 0);
  if (total > BPS) {
    throw new VeritensorError(`the contributors' shares add up to ${total} basis points, more than the whole (10000)`);
  }
  return BPS - total;
}

export function requireBytes32(value: string, what: string): string {
  if (!isHexString(value, 32)) throw new VeritensorError(`${what} "${value}" is not a 32-byte hex value (0x + 64 hex digits)`);
  return value;
}

/** What an ONNX file says about itself: content hash, graph commitment, shapes, a file:// URI. */
export interface ModelFileFacts {
  readonly uri: string;
  readonly contentHash: string;
  readonly graphCommitment: string;
  readonly inputShape: readonly number[];
  readonly outputShape: readonly number[];
  readonly layers: number;
}

/**
 * Reads a canonical/1 ONNX file (docs/SEMANTICS.md): the content hash is its sha256, the graph
 * commitment and shapes come from the canonical parser (offchain/model, offchain/commitments).
 */
export async function modelFileFacts(file: string): Promise<ModelFileFacts> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (e) {
    throw new VeritensorError(`cannot read model file ${file} (${(e as NodeJS.ErrnoException).code ?? String(e)})`, { cause: e });
  }
  let model;
  try {
    model = parseCanonicalModel(bytes);
  } catch (e) {
    throw new VeritensorError(
      `${file} is not a canonical/1 model, so its graph commitment cannot be computed: ${(e as Error).message}` +
        ` (convert it first, or give --content-hash and --graph-commitment yourself)`,
      { cause: e },
    );
  }
  const last = model.layers[model.layers.length - 1];
  return {
    uri: pathToFileURL(path.resolve(file)).href,
    contentHash: sha256Hex(bytes),
    graphCommitment: commitGraph(model).root,
    inputShape: model.inputShape,
    outputShape: last ? last.outShape : model.inputShape,
    layers: model.layers.length,
  };
}

export interface RegisterResult {
  readonly modelId: bigint;
  readonly developerBps: number;
  readonly receipt: ContractTransactionReceipt;
}

export async function registerModel(p: Protocol, developer: Signer, spec: ModelSpec): Promise<RegisterResult> {
  const developerBps = developerShare(spec.contributors);
  const onChain: IModelRegistry.ModelSpecStruct = {
    contentHash: requireBytes32(spec.contentHash, "content hash"),
    graphCommitment: requireBytes32(spec.graphCommitment, "graph commitment"),
    uri: spec.uri,
    inputShape: [...spec.inputShape],
    outputShape: [...spec.outputShape],
    price: spec.price,
    developerBps,
    contributors: spec.contributors.map((c) => ({ account: c.account, bps: c.bps })),
  };
  const receipt = await send(p, "registering the model", () => p.registry.connect(developer).registerModel(onChain));
  const event = receipt.logs
    .map((log) => (log.address.toLowerCase() === p.addresses.registry.toLowerCase() ? p.registry.interface.parseLog(log) : null))
    .find((e) => e?.name === "ModelRegistered");
  if (!event) throw new VeritensorError("the registration transaction emitted no ModelRegistered event");
  return { modelId: event.args[0] as bigint, developerBps, receipt };
}

export type ModelRecord = IModelRegistry.ModelStructOutput;

export async function getModel(p: Protocol, modelId: bigint): Promise<ModelRecord> {
  return read(p, `reading model ${modelId}`, () => p.registry.getModel(modelId));
}

/**
 * `bytes` checked to be model `modelId` as registered (`record`): its sha256 is the content hash,
 * it parses as canonical/1, and its graph commitment is the registered one, so that what runs is
 * exactly the model disputes are judged against. `source` names the file or URI in errors. The one
 * check of a model file, for the nodes and the tasks.
 */
export function checkModelBytes(modelId: bigint, record: Pick<ModelRecord, "contentHash" | "graphCommitment">, bytes: Uint8Array, source: string): CanonicalModel {
  const hash = sha256Hex(bytes);
  if (hash.toLowerCase() !== record.contentHash.toLowerCase()) {
    throw new VeritensorError(`${source} is not model ${modelId}: its sha256 is ${hash}, the registry says ${record.contentHash}`);
  }
  let model: CanonicalModel;
  try {
    model = parseCanonicalModel(bytes);
  } catch (e) {
    throw new VeritensorError(`${source} (model ${modelId}) is not a canonical/1 model: ${(e as Error).message}`, { cause: e });
  }
  const graph = commitGraph(model).root;
  if (graph.toLowerCase() !== record.graphCommitment.toLowerCase()) {
    throw new VeritensorError(
      `the graph commitment of ${source} (${graph}) is not model ${modelId}'s (${record.graphCommitment}): refusing to run it`,
    );
  }
  return model;
}
