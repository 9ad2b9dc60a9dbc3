import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import {
  action,
  formatGas,
  bytesToInts,
  nextBlockTime,
  computeJobResult,
  formatCheat,
  formatInts,
  formatTime,
  openProtocol,
  parseCheat,
  parseId,
  partyFrom,
  readTensorFile,
  report,
  required,
  resolveSigner,
  submitResult,
  VeritensorError,
} from "../../offchain/clients/index.js";

interface Args {
  job: string | undefined;
  output: string | undefined;
  traceRoot: string | undefined;
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
    throw new VeritensorError("give either --output with --trace-root, or --run with the model file");
  }
  if (a.cheat !== undefined && a.run === undefined) throw new VeritensorError("--cheat goes with --run (it forges the trace of a run)");
  const cheat = a.cheat !== undefined ? parseCheat(a.cheat) : undefined;
  const computed = a.run !== undefined ? await computeJobResult(p, jobId, a.run, { cheat }) : undefined;
  const output = computed?.output ?? (await readTensorFile(a.output!, "--output"));
  const traceRoot = computed?.traceRoot ?? required(a.traceRoot, "--trace-root");
  const result = await submitResult(p, worker, jobId, output, traceRoot);
  report(`Submitted the result of job ${jobId}`, [
    ["ran", computed ? `${a.run} (${computed.inferenceMs.toFixed(1)} ms)` : undefined],
    ["cheated", cheat ? `${formatCheat(cheat)}, later layers recomputed from it (a wrong result for a dispute)` : undefined],
    ["output", formatInts(bytesToInts(output))],
    ["output commitment", result.outputCommitment],
    ["trace root", traceRoot],
    ["challenge window ends", formatTime(result.challengeEnd, await nextBlockTime(p))],
    ["tx", result.receipt.hash],
    ["gas used", formatGas(result.receipt.gasUsed)],
  ]);
  return result;
});
