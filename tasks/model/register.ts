import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import type { ModelFileFacts } from "../../offchain/cli/index.js";
import { requireReachableModelUri } from "./register-uri.js";
import {
  action,
  firstModelByContentHash,
  formatGas,
  formatShape,
  formatVtn,
  formatWad,
  modelFileFacts,
  openProtocol,
  parseContributors,
  parseScale,
  parseShape,
  parseVtn,
  partyFrom,
  registerModel,
  report,
  required,
  resolveSigner,
  VeritensorError,
} from "../../offchain/cli/index.js";

interface Args {
  file: string | undefined;
  uri: string | undefined;
  contentHash: string | undefined;
  graphCommitment: string | undefined;
  inputShape: string | undefined;
  outputShape: string | undefined;
  inputScale: string | undefined;
  outputScale: string | undefined;
  price: string;
  contributors: string;
  from: string | undefined;
}

/** The shape given on the command line, else the one read from the file. */
function shape(given: string | undefined, fromFile: readonly number[] | undefined, option: string): readonly number[] {
  if (given !== undefined) return parseShape(given, option);
  if (fromFile !== undefined) return fromFile;
  throw new VeritensorError(`${option} is required (or --file)`);
}

/** The scale given on the command line (which must be the file's), else the file's. */
function scale(given: string | undefined, fromFile: bigint | undefined, option: string, file: string | undefined): bigint {
  if (given === undefined) {
    if (fromFile === undefined) throw new VeritensorError(`${option} is required (or --file)`);
    return fromFile;
  }
  const wad = parseScale(given, option);
  if (fromFile !== undefined && wad !== fromFile) {
    throw new VeritensorError(`${option} ${given} is not the scale in ${file}'s metadata (${formatWad(fromFile)}): workers would refuse the model`);
  }
  return wad;
}

/** A scale as stored: its exact decimal value and the integer a contract reads. */
const scaleLine = (wad: bigint): string => `${formatWad(wad)} (wad ${wad})`;

export default action(async (a: Args, hre: HardhatRuntimeEnvironment) => {
  const from = partyFrom(a.from, "model register makes the sender the model's developer, who earns its revenue");
  const p = await openProtocol(hre);
  const developer = await resolveSigner(p.connection, from);
  const facts: Partial<ModelFileFacts> = a.file !== undefined ? await modelFileFacts(a.file) : {};
  if (facts.contentHash !== undefined && a.contentHash !== undefined && a.contentHash.toLowerCase() !== facts.contentHash) {
    throw new VeritensorError(`--content-hash ${a.contentHash} is not the sha256 of ${a.file} (${facts.contentHash})`);
  }
  if (facts.graphCommitment !== undefined && a.graphCommitment !== undefined && a.graphCommitment.toLowerCase() !== facts.graphCommitment) {
    throw new VeritensorError(`--graph-commitment ${a.graphCommitment} is not the graph commitment of ${a.file} (${facts.graphCommitment})`);
  }
  const spec = {
    uri: a.uri ?? required(facts.uri, "--uri (or --file)"),
    contentHash: facts.contentHash ?? required(a.contentHash, "--content-hash (or --file)"),
    graphCommitment: facts.graphCommitment ?? required(a.graphCommitment, "--graph-commitment (or --file)"),
    inputShape: shape(a.inputShape, facts.inputShape, "--input-shape"),
    outputShape: shape(a.outputShape, facts.outputShape, "--output-shape"),
    inputScaleWad: scale(a.inputScale, facts.inputScaleWad, "--input-scale", a.file),
    outputScaleWad: scale(a.outputScale, facts.outputScaleWad, "--output-scale", a.file),
    price: parseVtn(a.price, "--price"),
    contributors: parseContributors(a.contributors),
  };

  requireReachableModelUri(spec.uri, p, a.uri === undefined);

  // Registering a file again is allowed (a re-registration, a version), but should not go unnoticed.
  const earlier = await firstModelByContentHash(p, spec.contentHash);
  if (earlier !== undefined) {
    console.warn(`Warning: content hash ${spec.contentHash} is already registered, as model ${earlier}; registering it again as a new model`);
  }
  const result = await registerModel(p, developer, spec);
  report(`Registered model ${result.modelId}`, [
    ["already registered", earlier === undefined ? undefined : `as model ${earlier} (same content hash)`],
    ["owner", await developer.getAddress()],
    ["uri", spec.uri],
    ["content hash", spec.contentHash],
    ["graph commitment", spec.graphCommitment],
    ["layers", facts.layers],
    ["input shape", formatShape(spec.inputShape)],
    ["output shape", formatShape(spec.outputShape)],
    ["input scale", scaleLine(spec.inputScaleWad)],
    ["output scale", scaleLine(spec.outputScaleWad)],
    ["price", formatVtn(spec.price)],
    ["developer share", `${result.developerBps / 100}%`],
    ...spec.contributors.map((c, i) => [`contributor #${i + 1}`, `${c.account} ${c.bps / 100}%`] as const),
    ["tx", result.receipt.hash],
    ["gas used", formatGas(result.receipt.gasUsed)],
  ]);
  return result;
});
