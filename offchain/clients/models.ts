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
import { decimalToWad, formatWad, MAX_SCALE_WAD } from "../model/scales.js";
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
  /** Real value of one input (output) unit, 18-decimal fixed point (offchain/model/scales.ts). */
  readonly inputScaleWad: bigint;
  readonly outputScaleWad: bigint;
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

/** A scale's wad, checked to be one the registry stores (positive, at most a uint128). */
export function requireScaleWad(wad: bigint, what: string): bigint {
  if (wad <= 0n) {
    throw new VeritensorError(`${what} is 0 in 18-decimal fixed point (below 0.5e-18): the registry stores scales to 1e-18`);
  }
  if (wad > MAX_SCALE_WAD) {
    throw new VeritensorError(`${what} ${formatWad(wad)} is more than the registry stores (${formatWad(MAX_SCALE_WAD)}, a uint128 wad)`);
  }
  return wad;
}

/** `"0.00392156862745098"` -> its wad, rounded to the nearest 1e-18 as the registry stores it. */
export function parseScale(text: string, what: string): bigint {
  const wad = decimalToWad(text);
  if (wad === undefined) throw new VeritensorError(`${what} "${text}" is not a decimal number (e.g. 0.00392156862745098 or 2.5e-7)`);
  return requireScaleWad(wad, `${what} ${text}`);
}

export function requireBytes32(value: string, what: string): string {
  if (!isHexString(value, 32)) throw new VeritensorError(`${what} "${value}" is not a 32-byte hex value (0x + 64 hex digits)`);
  return value;
}

/** What an ONNX file says about itself: content hash, graph commitment, shapes, scales, a file:// URI. */
export interface ModelFileFacts {
  readonly uri: string;
  readonly contentHash: string;
  readonly graphCommitment: string;
  readonly inputShape: readonly number[];
  readonly outputShape: readonly number[];
  readonly inputScaleWad: bigint;
  readonly outputScaleWad: bigint;
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
    inputScaleWad: model.inputScaleWad,
    outputScaleWad: model.outputScaleWad,
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
    inputScaleWad: requireScaleWad(spec.inputScaleWad, "the input scale"),
    outputScaleWad: requireScaleWad(spec.outputScaleWad, "the output scale"),
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

/** Real value of one input and one output unit of `modelId`, 18-decimal fixed point. */
export async function modelScales(p: Protocol, modelId: bigint): Promise<{ inputScaleWad: bigint; outputScaleWad: bigint }> {
  const [inputScaleWad, outputScaleWad] = await read(p, `reading model ${modelId}'s scales`, () => p.registry.scales(modelId));
  return { inputScaleWad, outputScaleWad };
}

/** The first model registered with `contentHash`, or undefined if none is. */
export async function firstModelByContentHash(p: Protocol, contentHash: string): Promise<bigint | undefined> {
  const id = await read(p, "looking up the content hash", () => p.registry.firstModelByContentHash(requireBytes32(contentHash, "content hash")));
  return id === 0n ? undefined : id;
}

export async function getModel(p: Protocol, modelId: bigint): Promise<ModelRecord> {
  return read(p, `reading model ${modelId}`, () => p.registry.getModel(modelId));
}

/**
 * `bytes` checked to be model `modelId` as registered (`record`): its sha256 is the content hash,
 * it parses as canonical/1, and its graph commitment is the registered one, so that what runs is
 * exactly the model disputes are judged against; its scales are the registered ones too, since
 * the registry cannot check those and contracts dequantize by them. `source` names the file or URI
 * in errors. The one check of a model file, for the nodes and the tasks.
 */
export function checkModelBytes(
  modelId: bigint,
  record: Pick<ModelRecord, "contentHash" | "graphCommitment" | "inputScaleWad" | "outputScaleWad">,
  bytes: Uint8Array,
  source: string,
): CanonicalModel {
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
  for (const [what, file, registered] of [
    ["input", model.inputScaleWad, record.inputScaleWad],
    ["output", model.outputScaleWad, record.outputScaleWad],
  ] as const) {
    if (file !== registered) {
      throw new VeritensorError(
        `the ${what} scale of ${source} (${formatWad(file)}) is not model ${modelId}'s (${formatWad(registered)}): ` +
          "contracts would read its results wrongly, refusing to run it",
      );
    }
  }
  return model;
}
