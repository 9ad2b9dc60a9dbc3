/**
 * Commitments: Merkle rule, tensor chunking, graph leaves and trace, checked against values
 * computed independently (a naive recursive Merkle tree, hand-built chunks, hand-written
 * ABI words, and golden roots computed with Python's hashlib).
 */
import { createHash } from "node:crypto";

import { expect } from "chai";

import { keccak256 } from "ethers";

import { batchCommitment, commitBatch, itemCommitments, splitItems } from "../../offchain/commitments/batch.js";
import { commitGraph, encodeHeader, encodeLayer, headerLeaf } from "../../offchain/commitments/graph.js";
import { MerkleTree, merkleRoot, rootFromProof, toHex, verifyMerkleProof } from "../../offchain/commitments/merkle.js";
import {
  CHUNK_BYTES, canonicalBytes, chunkProof, commitTensor, elementProof, tensorRoot, verifyChunkProof, verifyElementProof,
} from "../../offchain/commitments/tensor.js";
import { commitTrace, traceLeafProof, verifyTraceLeaf } from "../../offchain/commitments/trace.js";
import { CanonicalModelBuilder } from "../../offchain/model/build.js";
import { parseCanonicalModel } from "../../offchain/model/canonical.js";
import type { CanonicalLayer } from "../../offchain/model/canonical.js";
import { referenceTrace } from "../../offchain/runtime/reference.js";
import { CanonicalRunner } from "../../offchain/runtime/runner.js";
import { Rng } from "../runtime/helpers/random.js";

const h = (b: Uint8Array): Buffer => createHash("sha256").update(b).digest();

/** Textbook recursive Merkle root (zero-padded to a power of two), independent of merkle.ts. */
function naiveRoot(leaves: Buffer[]): Buffer {
  let n = 1;
  while (n < leaves.length) n *= 2;
  const padded = [...leaves, ...Array.from({ length: n - leaves.length }, () => Buffer.alloc(32))];
  const rec = (xs: Buffer[]): Buffer => (xs.length === 1 ? xs[0]! : h(Buffer.concat([rec(xs.slice(0, xs.length / 2)), rec(xs.slice(xs.length / 2))])));
  return rec(padded);
}

const word = (v: bigint): string => BigInt.asUintN(256, v).toString(16).padStart(64, "0");

describe("inference: commitments", function () {
  this.timeout(60_000);

  describe("Merkle trees", () => {
    it("roots match a naive recursive tree for 1..33 leaves; all proofs round-trip", () => {
      for (let n = 1; n <= 33; n++) {
        const leaves = Array.from({ length: n }, (_, i) => h(Buffer.from(`leaf ${i}`)));
        const tree = MerkleTree.from(leaves);
        expect(tree.root.equals(naiveRoot(leaves)), `n=${n}`).to.equal(true);
        for (let i = 0; i < n; i++) {
          const p = tree.proof(i);
          expect(verifyMerkleProof(leaves[i]!, i, p, tree.root)).to.equal(true);
          expect(verifyMerkleProof(tree.proofHex(i).length ? toHex(leaves[i]!) : leaves[i]!, i, tree.proofHex(i), tree.rootHex)).to.equal(true);
          // A proof proves one position only.
          if (n > 1) expect(verifyMerkleProof(leaves[i]!, i ^ 1, p, tree.root)).to.equal(false);
          expect(verifyMerkleProof(leaves[i]!, i + 2 ** p.length, p, tree.root)).to.equal(false);
        }
      }
    });

    it("one leaf is its own root; tampered siblings fail", () => {
      const leaf = h(Buffer.from("x"));
      expect(merkleRoot([leaf]).equals(leaf)).to.equal(true);
      const leaves = Array.from({ length: 5 }, (_, i) => h(Buffer.from([i])));
      const tree = MerkleTree.from(leaves);
      const p = tree.proof(3);
      p[1] = Buffer.from(p[1]!).fill(7);
      expect(verifyMerkleProof(leaves[3]!, 3, p, tree.root)).to.equal(false);
      expect(rootFromProof(leaves[4]!, 4, tree.proof(4)).equals(tree.root)).to.equal(true);
      expect(() => MerkleTree.from([])).to.throw(/at least one leaf/);
    });
  });

  describe("tensor commitments", () => {
    it("match golden roots computed with Python hashlib", () => {
      expect(tensorRoot(Int32Array.from([-1, 0, 1, 8388608, -16777215]))).to.equal(
        "0x70ecbfb4207bf51c4623934d914d7b970d7287c83802b9300de0e858824e0a97",
      );
      expect(tensorRoot(Array.from({ length: 300 }, (_, i) => i * 7 - 1000))).to.equal(
        "0x7cbdc98c8f6ab43fce33dd1c210d160f28ed6bb74429d6630f84f3c4a6d75ef5",
      );
      expect(tensorRoot(Float32Array.from({ length: 1000 }, (_, i) => ((i * 37) % 2001) - 1000))).to.equal(
        "0xaf7690d948654400d86930364fefa7459635d78c69b13ab756982edd221002aa",
      );
    });

    it("equal a root built by hand from int32 LE chunks (2 chunks, padded last chunk)", () => {
      const values = Array.from({ length: 300 }, (_, i) => i * 7 - 1000);
      const c0 = Buffer.alloc(CHUNK_BYTES);
      const c1 = Buffer.alloc(CHUNK_BYTES);
      values.forEach((v, i) => (i < 256 ? c0 : c1).writeInt32LE(v, (i % 256) * 4));
      const root = h(Buffer.concat([h(c0), h(c1)]));
      expect(tensorRoot(Int32Array.from(values))).to.equal(toHex(root));
      // One chunk: the root is the leaf itself.
      const small = Buffer.alloc(CHUNK_BYTES);
      small.writeInt32LE(-5, 0);
      expect(tensorRoot([-5])).to.equal(toHex(h(small)));
      // Exactly 4 chunks (no padding leaves) and 5 chunks (3 zero leaves).
      for (const n of [1024, 1280]) {
        const t = Int32Array.from({ length: n }, (_, i) => i - 500);
        const bytes = canonicalBytes(t);
        const leaves: Buffer[] = [];
        for (let o = 0; o < bytes.length; o += CHUNK_BYTES) {
          const c = Buffer.alloc(CHUNK_BYTES);
          bytes.copy(c, 0, o, Math.min(o + CHUNK_BYTES, bytes.length));
          leaves.push(h(c));
        }
        expect(tensorRoot(t)).to.equal(toHex(naiveRoot(leaves)));
      }
    });

    it("treat -0 as 0 and refuse non-integers and |v| >= 2^24", () => {
      expect(tensorRoot(Float32Array.from([-0, 1]))).to.equal(tensorRoot(Int32Array.from([0, 1])));
      expect(canonicalBytes(Float32Array.from([-0])).readInt32LE(0)).to.equal(0);
      expect(() => canonicalBytes(Float32Array.from([0.5]))).to.throw(/element 0 is 0.5/);
      expect(() => canonicalBytes([2 ** 24])).to.throw(/2\^24/);
    });

    it("element and chunk proofs round-trip; tampering fails", () => {
      const r = new Rng(7);
      const t = Int32Array.from(r.ints(1500, -(2 ** 23), 2 ** 23));
      const c = commitTensor(t);
      expect(c.numChunks).to.equal(6);
      for (let e = 0; e < t.length; e += 7) {
        const p = elementProof(t, e, c);
        expect(p.value).to.equal(t[e]);
        expect(verifyElementProof(c.root, p), `element ${e}`).to.equal(true);
        expect(verifyElementProof(c.root, { ...p, value: p.value + 1 })).to.equal(false);
      }
      const cp = chunkProof(t, 5, c);
      expect(verifyChunkProof(c.root, cp)).to.equal(true);
      expect(verifyChunkProof(c.root, { ...cp, chunkIndex: 4 })).to.equal(false);
    });

    it("hash tens of MB fast (hot path)", () => {
      const t = new Int32Array(8 * 1024 * 1024); // 32 MB
      for (let i = 0; i < t.length; i++) t[i] = (i * 2654435761) % 1000;
      const t0 = performance.now();
      const c = commitTensor(t);
      const ms = performance.now() - t0;
      console.log(`      32 MB tensor committed in ${ms.toFixed(0)} ms (${((32 / ms) * 1000).toFixed(0)} MB/s)`);
      expect(c.numChunks).to.equal(32768);
      expect(ms).to.be.below(5000);
    });
  });

  describe("batch commitment", () => {
    it("is an item's tensor commitment for one item, keccak256 over the items' for more (contracts/libraries/BatchCommitment.sol)", () => {
      const items = [canonicalBytes([1, -2, 3]), canonicalBytes([4, 5, -6]), canonicalBytes([7, 8, 9])];
      const bytes = Buffer.concat(items);
      const roots = items.map((x) => tensorRoot(Array.from(new Int32Array(new Uint8Array(x).buffer))));
      expect(itemCommitments(bytes, 3)).to.deep.equal(roots);
      expect(commitBatch(bytes, 3)).to.equal(keccak256(Buffer.concat(roots.map((r) => Buffer.from(r.slice(2), "hex")))));
      expect(commitBatch(items[0]!, 1)).to.equal(roots[0]);
      expect(batchCommitment([roots[0]!])).to.equal(roots[0]);
      // Order is bound, and a batch is not its concatenation committed as one tensor.
      expect(commitBatch(Buffer.concat([items[1]!, items[0]!, items[2]!]), 3)).not.to.equal(commitBatch(bytes, 3));
      expect(commitBatch(bytes, 3)).not.to.equal(commitBatch(bytes, 1));
    });

    it("cuts bytes into equal items of whole int32 elements, and refuses anything else", () => {
      const bytes = canonicalBytes([1, 2, 3, 4, 5, 6]);
      expect(splitItems(bytes, 3).map((x) => x.length)).to.deep.equal([8, 8, 8]);
      expect(() => splitItems(bytes, 4)).to.throw(RangeError, /24 bytes are not 4 items/);
      expect(() => splitItems(bytes, 0)).to.throw(RangeError, /at least one item/);
      expect(() => batchCommitment([])).to.throw(RangeError);
    });
  });

  describe("graph commitment", () => {
    const bytes = new CanonicalModelBuilder([1, 4], [-128, 127])
      .relu({ name: "r" })
      .dense({ weight: [1, 2, 3, 4, 5, 6, 7, 8], units: 2, bias: [10, -10], shift: [1, 2], clip: [-100, 100], name: "fc" })
      .build();
    const model = parseCanonicalModel(bytes);

    it("header and layer leaves have the ABI words of docs/SEMANTICS.md", () => {
      const header =
        "0x" + [1n, 0xa0n, -128n, 127n, 2n, 2n, 1n, 4n].map(word).join("");
      expect(encodeHeader(model)).to.equal(header);
      expect(headerLeaf(model)).to.equal(toHex(h(Buffer.from(header.slice(2), "hex"))));
      // RELU: kind 5, inputs [0], outShape [1,4], params [], constants [].
      const relu = "0x" + [5n, 0xa0n, 0xe0n, 0x140n, 0x160n, 1n, 0n, 2n, 1n, 4n, 0n, 0n].map(word).join("");
      expect(encodeLayer(model.layers[0]!)).to.equal(relu);
    });

    it("GATHER has one param per input (its sizes) and CONST none and no inputs: their ABI words", () => {
      const m = parseCanonicalModel(
        new CanonicalModelBuilder([1, 4], [-128, 127])
          .constant({ values: [7, -7], shape: [1, 2], name: "c" })
          .gather({ inputs: [0, 1], index: [5, 6, 0], outShape: [1, 3], name: "g" })
          .build(),
      );
      const [c, g] = m.layers as [CanonicalLayer, CanonicalLayer];
      const cRoot = BigInt(tensorRoot([7, -7]));
      // CONST: kind 13, inputs [], outShape [1,2], params [], constants [C].
      const constWords = [13n, 0xa0n, 0xc0n, 0x120n, 0x140n, 0n, 2n, 1n, 2n, 0n, 1n, cRoot];
      expect(encodeLayer(c)).to.equal("0x" + constWords.map(word).join(""));
      // GATHER: kind 12, inputs [0,1], outShape [1,3], params [4,2] (the inputs' sizes), constants [idx].
      const idxRoot = BigInt(tensorRoot([5, 6, 0]));
      const gatherWords = [12n, 0xa0n, 0x100n, 0x160n, 0x1c0n, 2n, 0n, 1n, 2n, 1n, 3n, 2n, 4n, 2n, 1n, idxRoot];
      expect(encodeLayer(g)).to.equal("0x" + gatherWords.map(word).join(""));
      expect(() => encodeLayer({ ...g, params: [4] })).to.throw(/1 params, kind 12 needs 2/);
    });

    it("DENSE constants are W as [M,K], B, shifts s — committed as tensors", () => {
      const dense = model.layers[1]!;
      // weight given as [K=4, M=2] row-major: W[k][m] = weight[k*2+m]
      expect(Array.from(dense.constants[0]!.values)).to.deep.equal([1, 3, 5, 7, 2, 4, 6, 8]);
      expect(Array.from(dense.constants[1]!.values)).to.deep.equal([10, -10]);
      expect(Array.from(dense.constants[2]!.values)).to.deep.equal([1, 2]);
      expect(dense.params).to.deep.equal([4, 2, -100, 100]);
      const g = commitGraph(model);
      expect(g.constants[1]).to.deep.equal([
        tensorRoot([1, 3, 5, 7, 2, 4, 6, 8]),
        tensorRoot([10, -10]),
        tensorRoot([1, 2]),
      ]);
      expect(g.leaves).to.have.length(3);
      expect(g.root).to.equal(toHex(naiveRoot(g.leaves.map((l) => Buffer.from(l.slice(2), "hex")))));
      g.leaves.forEach((l, i) => expect(verifyMerkleProof(l, i, g.tree.proofHex(i), g.root)).to.equal(true));
    });

    it("changing one weight changes exactly that layer's leaf", () => {
      const other = parseCanonicalModel(
        new CanonicalModelBuilder([1, 4], [-128, 127])
          .relu({ name: "r" })
          .dense({ weight: [1, 2, 3, 4, 5, 6, 7, 9], units: 2, bias: [10, -10], shift: [1, 2], clip: [-100, 100], name: "fc" })
          .build(),
      );
      const a = commitGraph(model);
      const b = commitGraph(other);
      expect(b.leaves[0]).to.equal(a.leaves[0]);
      expect(b.leaves[1]).to.equal(a.leaves[1]);
      expect(b.leaves[2]).to.not.equal(a.leaves[2]);
      expect(b.root).to.not.equal(a.root);
    });
  });

  describe("trace commitment", () => {
    it("runner trace == commitment of the reference trace; leaf 0 = input, last = output; proofs verify", async () => {
      const bytes = new CanonicalModelBuilder([1, 1, 40, 40], [-128, 127])
        .conv({ weight: Array.from({ length: 8 * 9 }, (_, i) => (i % 7) - 3), outChannels: 8, kernel: [3, 3], pads: [1, 1, 1, 1], shift: 3, clip: [-128, 127] })
        .relu()
        .flatten()
        .build();
      const model = parseCanonicalModel(bytes);
      const runner = await CanonicalRunner.create(model);
      try {
        const x = new Rng(3).input(1600, -128, 127);
        const res = await runner.runWithTrace(x);
        const expected = commitTrace(referenceTrace(model, x));
        expect(res.traceRoot).to.equal(expected.root);
        expect(res.inputCommitment).to.equal(tensorRoot(x));
        expect(res.outputCommitment).to.equal(tensorRoot(res.output));
        expect(res.trace.tensors).to.have.length(4);
        res.trace.tensors.forEach((t, i) => {
          expect(verifyTraceLeaf(res.traceRoot, i, t.root, traceLeafProof(res.trace, i))).to.equal(true);
        });
        expect(verifyTraceLeaf(res.traceRoot, 1, res.trace.tensors[2]!.root, traceLeafProof(res.trace, 1))).to.equal(false);
        expect(Array.from(await runner.runPlain(x))).to.deep.equal(Array.from(res.output));
      } finally {
        await runner.release();
      }
    });
  });
});
