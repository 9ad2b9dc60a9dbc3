import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import {
  action,
  firstModelByContentHash,
  formatBps,
  formatShape,
  formatVtn,
  formatWad,
  getModel,
  openProtocol,
  parseId,
  quoteFee,
  report,
} from "../../offchain/cli/index.js";

interface Args {
  model: string | undefined;
}

export default action(async ({ model }: Args, hre: HardhatRuntimeEnvironment) => {
  const p = await openProtocol(hre);
  const modelId = parseId(model, "--model");
  const m = await getModel(p, modelId);
  const quote = await quoteFee(p, modelId);
  const first = await firstModelByContentHash(p, m.contentHash);
  report(`Model ${modelId}${m.deprecated ? " (deprecated)" : ""}`, [
    ["owner", m.owner],
    ["uri", m.uri],
    ["content hash", m.contentHash],
    ["graph commitment", m.graphCommitment],
    ["same file as", first !== undefined && first !== modelId ? `model ${first} (registered first with this content hash)` : undefined],
    ["input shape", `${formatShape(m.inputShape)} (${m.inputElements} elements)`],
    ["output shape", `${formatShape(m.outputShape)} (${m.outputElements} elements)`],
    // canonical/1 has no zero point: real = scale × integer.
    ["input scale", `${formatWad(m.inputScaleWad)} (wad ${m.inputScaleWad}: real = integer × wad / 1e18)`],
    ["output scale", `${formatWad(m.outputScaleWad)} (wad ${m.outputScaleWad})`],
    ["price", formatVtn(m.price)],
    ["minimum fee", `${formatVtn(quote.minimum)} (price + protocol fee of ${formatBps(quote.protocolFeeBps)}: ${formatVtn(quote.protocolFee)})`],
    ["undistributed earnings", formatVtn(await p.jobManager.modelEarnings(modelId))],
    ["developer share", `${Number(m.developerBps) / 100}%`],
    ...m.contributors.map((c, i) => [`contributor #${i + 1}`, `${c.account} ${Number(c.bps) / 100}%`] as const),
    ["version", m.previousVersion === 0n ? `first of family ${m.family}` : `follows model ${m.previousVersion} (family ${m.family})`],
  ]);
  return m;
});
