/**
 * The shipped Vision Transformer (models/mnist-vit.canonical.onnx, converted from the torch export
 * by scripts/convert-vit.ts) disputed on-chain: a worker that cheats at one layer of each role of the
 * network (patch embedding, class token and position embedding, every step of a LayerNorm, the
 * attention projections, scores, the softmax's row maximum, exp, sum, 1/sum and normalization, the
 * attention output, the residual, the GELU MLP and the head) is bisected down to that layer and to a
 * one-step check, and slashed. The layers are found by their ONNX node names and kinds, so a
 * reconversion that renumbers them keeps the test meaningful; a role that disappears fails it.
 */
import { expect } from "chai";
import { readFileSync } from "node:fs";
import { network } from "hardhat";

import { GameStatus, Level, Side } from "../../offchain/clients/game-types.js";
import { readGame } from "../../offchain/clients/disputes.js";
import { DisputePlayer } from "../../offchain/disputes/player.js";
import { gameReductionLength } from "../../offchain/disputes/proofs.js";
import type { CanonicalLayer, CanonicalModel } from "../../offchain/model/canonical.js";
import { parseCanonicalModel } from "../../offchain/model/canonical.js";
import { LayerKind, layerKindName } from "../../offchain/model/layers.js";
import { referenceTrace } from "../../offchain/runtime/reference.js";
import { disputeFixtures, expectDisputesConserved, playDispute, randomLiar, registerModel, submitTrace } from "./fixtures.js";
import { mnistInput } from "./models.js";

const conn = await network.create();
const { deployDisputes } = disputeFixtures(conn);
const { loadFixture } = conn.networkHelpers;

const vit: CanonicalModel = parseCanonicalModel(readFileSync(new URL("../../models/mnist-vit.canonical.onnx", import.meta.url)));

/** A role of the network: the `nth` layer (0-based) of `kind` whose node name matches `name`. */
interface Role {
  readonly role: string;
  readonly kind: LayerKind;
  readonly name: RegExp;
  readonly nth?: number;
}

const B0 = "^/blocks\\.0/";
const ROLES: readonly Role[] = [
  { role: "patch embedding", kind: LayerKind.CONV, name: /^\/embed\// },
  { role: "class token concatenated to the patches", kind: LayerKind.GATHER, name: /^\/Concat/ },
  { role: "position embedding", kind: LayerKind.CONST, name: /^\/Add$/ },
  { role: "tokens + position embedding", kind: LayerKind.ADD, name: /^\/Add/ },
  { role: "LayerNorm: centering (x − mean)", kind: LayerKind.DENSE, name: new RegExp(`${B0}ln1/`) },
  { role: "LayerNorm: square", kind: LayerKind.LUT, name: new RegExp(`${B0}ln1/`) },
  { role: "LayerNorm: variance", kind: LayerKind.CONV, name: new RegExp(`${B0}ln1/`) },
  { role: "LayerNorm: 1/√(variance + ε)", kind: LayerKind.LUT, name: new RegExp(`${B0}ln1/`), nth: 1 },
  { role: "LayerNorm: 1/√ broadcast over the features", kind: LayerKind.GATHER, name: new RegExp(`${B0}ln1/`) },
  { role: "LayerNorm: normalized", kind: LayerKind.PRODUCT, name: new RegExp(`${B0}ln1/`) },
  { role: "attention: query projection", kind: LayerKind.DENSE, name: new RegExp(`${B0}attn/q/`) },
  { role: "attention: heads split (transpose)", kind: LayerKind.GATHER, name: new RegExp(`${B0}attn/Transpose$`) },
  { role: "attention scores Q·Kᵀ", kind: LayerKind.MATMUL, name: new RegExp(`${B0}attn/MatMul$`) },
  { role: "softmax: row maximum", kind: LayerKind.MAXPOOL, name: new RegExp(`${B0}attn/Softmax`) },
  { role: "softmax: x − max", kind: LayerKind.ADD, name: new RegExp(`${B0}attn/Softmax`) },
  { role: "softmax: exp", kind: LayerKind.LUT, name: new RegExp(`${B0}attn/Softmax`) },
  { role: "softmax: row sum", kind: LayerKind.CONV, name: new RegExp(`${B0}attn/Softmax`) },
  { role: "softmax: 1/sum", kind: LayerKind.LUT, name: new RegExp(`${B0}attn/Softmax`), nth: 1 },
  { role: "attention weights × V", kind: LayerKind.MATMUL, name: new RegExp(`${B0}attn/MatMul_1$`) },
  { role: "softmax: normalization (after ·V)", kind: LayerKind.PRODUCT, name: new RegExp(`${B0}attn/Softmax`) },
  { role: "attention output projection", kind: LayerKind.DENSE, name: new RegExp(`${B0}attn/out/`) },
  { role: "residual", kind: LayerKind.ADD, name: new RegExp(`${B0}Add$`) },
  { role: "MLP: first linear", kind: LayerKind.DENSE, name: new RegExp(`${B0}mlp/mlp\\.0/`) },
  { role: "MLP: GELU", kind: LayerKind.LUT, name: new RegExp(`${B0}mlp/mlp\\.1/`) },
  { role: "MLP: second linear", kind: LayerKind.DENSE, name: new RegExp(`${B0}mlp/mlp\\.2/`) },
  { role: "class token selected", kind: LayerKind.GATHER, name: /^\/Gather$/ },
  { role: "classification head", kind: LayerKind.DENSE, name: /^\/head\// },
];

function layerOf(r: Role): CanonicalLayer {
  const found = vit.layers.filter((l) => l.kind === r.kind && r.name.test(l.name));
  const l = found[r.nth ?? 0];
  if (!l) throw new Error(`no layer for "${r.role}" (${layerKindName(r.kind)} named ${r.name}) in the ViT: was it reconverted?`);
  return l;
}

describe("ViT on-chain: a cheat at each kind of layer is disputed to one step and slashed", function () {
  const truth = referenceTrace(vit, mnistInput(vit, 11));

  it("the roles name distinct layers, and the model holds every transformer kind", function () {
    const layers = ROLES.map(layerOf).map((l) => l.index);
    expect(new Set(layers).size).to.equal(ROLES.length);
    const kinds = new Set(vit.layers.map((l) => l.kind));
    for (const k of [LayerKind.MATMUL, LayerKind.PRODUCT, LayerKind.GATHER, LayerKind.CONST, LayerKind.LUT, LayerKind.DENSE]) expect(kinds.has(k)).to.equal(true);
  });

  for (const r of ROLES) {
    it(`${r.role}: the worker loses at that layer, every transaction below 1,000,000 gas`, async function () {
      const l = layerOf(r);
      const k = l.index;
      const n = truth[k]!.length;
      const { trace: liar } = randomLiar(vit, truth, k, (k * 37) % n, k % 2 === 0 ? -2 : 3);
      const p = await loadFixture(deployDisputes);
      const modelId = await registerModel(p, vit);
      const jobId = await submitTrace(p, modelId, liar);
      const result = await playDispute(p, jobId, new DisputePlayer(Side.Defender, p.worker, vit, liar), new DisputePlayer(Side.Challenger, p.challenger, vit, truth));
      expect(result.status).to.equal(GameStatus.ChallengerWins);
      const state = await readGame(result.game);
      expect(state.layer, "the game lands on the layer that lied").to.equal(k);
      // Sums (and the softmax's 17-wide row maximum) are bisected to one term; the rest is one Direct step.
      expect(state.reductionLength).to.equal(gameReductionLength(l));
      if (gameReductionLength(l) > 0) expect(result.moves.some((m) => m.level === Level.Accumulator)).to.equal(true);
      expect(result.maxGas).to.be.below(1_000_000n);
      expect(result.openGas).to.be.below(1_000_000n);
      await expectDisputesConserved(p);
      console.log(`      layer ${k} ${layerKindName(l.kind)}: ${result.txs.defender}+${result.txs.challenger} tx, largest ${result.maxGas.toLocaleString("en-US")} gas`);
    });
  }
});
