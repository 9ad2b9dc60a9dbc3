import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import type { ModelFileFacts } from "../../offchain/cli/index.js";
import {
  action,
  formatGas,
  formatShape,
  formatVtn,
  modelFileFacts,
  openProtocol,
  parseContributors,
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
    price: parseVtn(a.price, "--price"),
    contributors: parseContributors(a.contributors),
  };

  const result = await registerModel(p, developer, spec);
  report(`Registered model ${result.modelId}`, [
    ["owner", await developer.getAddress()],
    ["uri", spec.uri],
    ["content hash", spec.contentHash],
    ["graph commitment", spec.graphCommitment],
    ["layers", facts.layers],
    ["input shape", formatShape(spec.inputShape)],
    ["output shape", formatShape(spec.outputShape)],
    ["price", formatVtn(spec.price)],
    ["developer share", `${result.developerBps / 100}%`],
    ...spec.contributors.map((c, i) => [`contributor #${i + 1}`, `${c.account} ${c.bps / 100}%`] as const),
    ["tx", result.receipt.hash],
    ["gas used", formatGas(result.receipt.gasUsed)],
  ]);
  return result;
});
