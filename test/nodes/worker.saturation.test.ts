/**
 * The worker's log line for each job it runs counts the outputs at their clip bounds: the shipped
 * CNN (converted with no headroom at its output) saturates on a held-out digit, and not on another.
 */
import { expect } from "chai";

import { requestInference } from "../../offchain/cli/index.js";
import { canonicalBytes } from "../../offchain/commitments/tensor.js";
import { loadDigits } from "../../offchain/datasets/mnist.js";
import { Worker } from "../../offchain/nodes/worker.js";
import { runReference } from "../../offchain/runtime/reference.js";
import { countSaturated } from "../../offchain/runtime/saturation.js";
import { mnistCnn } from "../disputes/models.js";
import { inProcessChain } from "./inprocess.js";

describe("nodes: the worker logs saturated outputs", function () {
  this.timeout(60_000);

  it("logs, for each job it runs, how many outputs sit at their clip bounds", async function () {
    const c = await inProcessChain();
    const digits = loadDigits("heldout").pixels;
    const cnn = mnistCnn();
    const counts = [32, 0].map((i) => countSaturated(cnn, runReference(cnn, Int32Array.from(digits[i]!)).at(-1)!).saturated);
    expect(counts, "held-out digit 32 saturates the shipped CNN's output, digit 0 does not").to.deep.equal([1, 0]);
    const jobs: bigint[] = [];
    for (const i of [32, 0]) {
      const input = canonicalBytes(Int32Array.from(digits[i]!));
      jobs.push((await requestInference(c.p, c.requester, { modelId: c.modelId, input, fee: c.fee, deadlineIn: 600 })).jobId);
    }
    const lines: string[] = [];
    const worker = await Worker.create({ protocol: c.p, signer: c.worker, db: ":memory:", cacheDir: "/tmp/veritensor-saturation-models", log: (l) => lines.push(l), pollMs: 0 });
    try {
      await worker.tick();
    } finally {
      worker.close();
    }
    jobs.forEach((id, k) => {
      const ran = lines.filter((l) => l.includes(`job ${id}: ran model ${c.modelId} in `));
      expect(ran, lines.join("\n")).to.have.length(1);
      expect(ran[0]).to.match(new RegExp(`, saturated outputs ${counts[k]} of 10$`));
    });
  });
});
