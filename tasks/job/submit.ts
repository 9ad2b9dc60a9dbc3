import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import {
  action,
  formatGas,
  bytesToInts,
  nextBlockTime,
  computeJobOutput,
  exactCheat,
  formatCheat,
  formatInts,
  formatTime,
  openProtocol,
  parseCheat,
  parseId,
  partyFrom,
  intsToBytes,
  report,
  resolveSigner,
  submitResult,
  VeritensorError,
} from "../../offchain/cli/index.js";
import { readTensor } from "../../offchain/cli/model/tensors.js";

interface Args {
  job: string | undefined;
  output: string | undefined;
  run: string | undefined;
  cheat: string | undefined;
  from: string | undefined;
}

export default action(async (a: Args, hre: HardhatRuntimeEnvironment) => {
  const from = partyFrom(a.from, "job submit answers for the worker that claimed the job");
  const p = await openProtocol(hre);
  const worker = await resolveSigner(p.connection, from);
  const jobId = parseId(a.job, "--job");
  if ((a.run === undefined) === (a.output === undefined)) {
    throw new VeritensorError("give either --output (the output tensor file), or --run with the model file");
  }
  if (a.cheat !== undefined && a.run === undefined) throw new VeritensorError("--cheat goes with --run (it forges the trace of a run)");
  const cheat = a.cheat !== undefined ? exactCheat(parseCheat(a.cheat)) : undefined;
  // The happy path runs the plain model: the trace is built only if the result is disputed.
  const computed = a.run !== undefined ? await computeJobOutput(p, jobId, a.run, { cheat }) : undefined;
  const output = computed?.output ?? intsToBytes(Array.from((await readTensor(a.output!, "output file")).data), `output file ${a.output}`);
  const result = await submitResult(p, worker, jobId, output);
  report(`Submitted the result of job ${jobId}`, [
    ["ran", computed ? `${a.run} (${computed.ms.toFixed(1)} ms)` : undefined],
    ["cheated", cheat ? `${formatCheat(cheat)}, later layers recomputed from it (a wrong result for a dispute)` : undefined],
    ["output", formatInts(bytesToInts(output))],
    ["output commitment", result.outputCommitment],
    ["challenge window ends", formatTime(result.challengeEnd, await nextBlockTime(p))],
    ["tx", result.receipt.hash],
    ["gas used", formatGas(result.receipt.gasUsed)],
  ]);
  return result;
});
