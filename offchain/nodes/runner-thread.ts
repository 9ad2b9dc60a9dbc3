/**
 * Entry point of a verifier's runner thread (see offchain/nodes/runner-threads.ts): one
 * CanonicalRunner of one model, running the inputs it is sent, one at a time, and sending back the
 * output and its commitment.
 *
 * onnxruntime-node runs `session.run` on the calling JavaScript thread (its promise resolves after
 * a synchronous native call), so sessions in one thread run one after another whatever their
 * number: parallel runs need threads of their own. A thread is started by Node's own TypeScript
 * support, without the project's loader: this file uses only erasable syntax and registers the
 * loader Hardhat itself uses (tsx) before it imports the runner.
 */
import { parentPort, workerData } from "node:worker_threads";

import { register } from "tsx/esm/api";

interface Setup {
  readonly model: Uint8Array;
  readonly options: Record<string, unknown>;
}
type Request =
  | { readonly id: number; readonly input: Int32Array | Float32Array | number[] }
  | { readonly id: number; readonly from: { uri: string; commitment: string; bytes: number; ipfsGateway?: string; items?: number } };

register();
const { CanonicalRunner } = await import("../runtime/runner.js");
const { tensorRoot } = await import("../commitments/tensor.js");
const { InputError, fetchInput } = await import("./sources/inputs.js");

const port = parentPort!;
const setup = workerData as Setup;
const runner = await CanonicalRunner.create(setup.model, setup.options).catch((e: unknown) => {
  port.postMessage({ ready: false, error: (e as Error)?.message ?? String(e) });
  return undefined;
});
if (runner) {
  port.postMessage({ ready: true });
  port.on("message", async (m: Request) => {
    try {
      let input: Int32Array | Float32Array | number[];
      if ("from" in m) {
        // Fetched and checked here (its size and tensor commitment), off the node's thread.
        const bytes = await fetchInput(m.from.uri, m.from.commitment, m.from.bytes, { ipfsGateway: m.from.ipfsGateway, items: m.from.items });
        input = bytes.byteOffset % 4 === 0 ? new Int32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4) : new Int32Array(new Uint8Array(bytes).buffer);
      } else input = m.input;
      const output = Int32Array.from(await runner.runPlain(input));
      port.postMessage({ id: m.id, output, outputCommitment: tensorRoot(output) }, [output.buffer]);
    } catch (e) {
      const inputError = e instanceof InputError ? e.kind : undefined;
      port.postMessage({ id: m.id, error: (e as Error)?.message ?? String(e), inputError });
    }
  });
}
