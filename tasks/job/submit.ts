import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import {
  action,
  bytesToInts,
  chainTime,
  formatInts,
  formatTime,
  openProtocol,
  parseId,
  readTensorFile,
  report,
  required,
  resolveSigner,
  submitResult,
} from "../../offchain/clients/index.js";

interface Args {
  job: string | undefined;
  output: string | undefined;
  traceRoot: string | undefined;
  from: string;
}

export default action(async (a: Args, hre: HardhatRuntimeEnvironment) => {
  const p = await openProtocol(hre);
  const worker = await resolveSigner(p.connection, a.from);
  const jobId = parseId(a.job, "--job");
  const output = await readTensorFile(required(a.output, "--output"), "--output");
  const result = await submitResult(p, worker, jobId, output, required(a.traceRoot, "--trace-root"));
  report(`Submitted the result of job ${jobId}`, [
    ["output", formatInts(bytesToInts(output))],
    ["output commitment", result.outputCommitment],
    ["trace root", a.traceRoot],
    ["challenge window ends", formatTime(result.challengeEnd, await chainTime(p))],
    ["tx", result.receipt.hash],
    ["gas used", result.receipt.gasUsed],
  ]);
  return result;
});
