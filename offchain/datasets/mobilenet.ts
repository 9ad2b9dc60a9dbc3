/**
 * A synthetic canonical model shaped like MobileNet v1 (for benchmarks): a strided 3×3
 * conv, 13 depthwise-3×3 + pointwise-1×1 blocks, then global MaxPool + Flatten + DENSE
 * (a global average would need a division; max needs none and keeps the DENSE input
 * small enough for the exactness bound). Weights are seeded random integers; each layer's
 * bias and shift are fitted on a seeded random image (per-channel centring, then the shift
 * that brings the spread to TARGET_STD) so outputs neither vanish nor saturate.
 * `floatTwin` builds the float model of the same architecture (the benchmarks' baseline).
 */
import { CanonicalModelBuilder } from "../model/build.js";
import type { CanonicalModel } from "../model/canonical.js";
import { ConvConst, ConvParam, DenseConst, DenseParam, LayerKind, MaxPoolParam, layerKindName } from "../model/layers.js";
import type { INodeProto, ITensorProto } from "../model/onnx.js";
import { BUILD_IR_VERSION, BUILD_OPSET, DataType, encodeModel, floatValueInfo } from "../model/onnx.js";

export interface MobileNetOptions {
  seed: number;
  /** Width multiplier (MobileNet's alpha). 0.75 at 224×224 gives ~320M MACs, ~2.6M params. */
  width: number;
  /** Input height = width. */
  resolution: number;
  classes: number;
}

export interface MobileNetModel {
  bytes: Uint8Array;
  macs: number;
  params: number;
  layers: number;
}

/** (output channels at width 1, stride) of the 13 depthwise-separable blocks. */
const BLOCKS: readonly (readonly [number, number])[] = [
  [64, 1], [128, 2], [128, 1], [256, 2], [256, 1], [512, 2],
  [512, 1], [512, 1], [512, 1], [512, 1], [512, 1], [1024, 2], [1024, 1],
];

/** Activations are ReLU outputs in [0, 255]; aim their pre-ReLU spread at this std. */
const TARGET_STD = 64;
const ACT: readonly [number, number] = [0, 255];

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Integer conv accumulators (no bias) of a [C, H, H] input, square kernel and padding. */
function convAcc(x: Int32Array, C: number, H: number, w: Int32Array, M: number, k: number, stride: number, pad: number, group: number): Float64Array {
  const OH = Math.floor((H + 2 * pad - k) / stride) + 1;
  const CG = C / group;
  const MG = M / group;
  const out = new Float64Array(M * OH * OH);
  for (let m = 0; m < M; m++) {
    const c0 = Math.floor(m / MG) * CG;
    for (let c = 0; c < CG; c++) {
      for (let i = 0; i < k; i++) {
        for (let j = 0; j < k; j++) {
          const wv = w[((m * CG + c) * k + i) * k + j]!;
          if (wv === 0) continue;
          const plane = (c0 + c) * H * H;
          for (let oy = 0; oy < OH; oy++) {
            const y = oy * stride + i - pad;
            if (y < 0 || y >= H) continue;
            const orow = (m * OH + oy) * OH;
            for (let ox = 0; ox < OH; ox++) {
              const xx = ox * stride + j - pad;
              if (xx >= 0 && xx < H) out[orow + ox] += wv * x[plane + y * H + xx]!;
            }
          }
        }
      }
    }
  }
  return out;
}

export function mobileNetShaped(o: MobileNetOptions): MobileNetModel {
  const rnd = mulberry32(o.seed);
  const ints = (n: number, a: number): Int32Array => Int32Array.from({ length: n }, () => Math.floor(rnd() * (2 * a + 1)) - a);
  const ch = (c: number): number => Math.max(8, Math.round((c * o.width) / 8) * 8);

  const b = new CanonicalModelBuilder([1, 3, o.resolution, o.resolution], [0, 255], { inputScale: 1 / 255, graphName: "mobilenet_shaped" });
  let macs = 0;
  let params = 0;
  let C = 3;
  let H = o.resolution;
  // A seeded random image flows through the layers as they are made, so each layer's bias
  // and shift can be fitted to what actually reaches it (a synthetic batch norm).
  let x = Int32Array.from({ length: 3 * H * H }, () => Math.floor(rnd() * 256));

  const conv = (M: number, k: number, stride: number, group: number, a: number, name: string): void => {
    const pad = k === 3 ? 1 : 0;
    const OH = Math.floor((H + 2 * pad - k) / stride) + 1;
    const K = (C / group) * k * k;
    const weight = ints(M * K, a);
    const acc = convAcc(x, C, H, weight, M, k, stride, pad, group);
    const P = OH * OH;
    // Bias centres every channel at 0, so about half of each channel survives the ReLU.
    const bias = new Int32Array(M);
    let sq = 0;
    for (let m = 0; m < M; m++) {
      let mean = 0;
      for (let p = 0; p < P; p++) mean += acc[m * P + p]!;
      bias[m] = -Math.round(mean / P);
      for (let p = 0; p < P; p++) sq += (acc[m * P + p]! + bias[m]!) ** 2;
    }
    const std = Math.sqrt(sq / acc.length);
    const shift = Math.min(24, Math.max(0, Math.round(Math.log2(std / TARGET_STD))));
    const half = shift > 0 ? 2 ** (shift - 1) : 0;
    for (let m = 0; m < M; m++) bias[m] = bias[m]! + half;
    const next = new Int32Array(acc.length);
    for (let e = 0; e < acc.length; e++) {
      next[e] = Math.min(Math.max(Math.floor((acc[e]! + bias[Math.floor(e / P)]!) / 2 ** shift), ACT[0]), ACT[1]);
    }
    b.conv({ name, weight, bias, outChannels: M, kernel: [k, k], strides: [stride, stride], pads: [pad, pad, pad, pad], group, shift, clip: ACT });
    macs += P * M * K;
    params += weight.length + bias.length;
    x = next;
    C = M;
    H = OH;
  };

  conv(ch(32), 3, 2, 1, 63, "conv0");
  BLOCKS.forEach(([c, s], i) => {
    conv(C, 3, s, C, 63, `block${i + 1}_dw`);
    conv(ch(c), 1, 1, 1, 31, `block${i + 1}_pw`);
  });
  b.maxpool({ name: "global_maxpool", kernel: [H, H], strides: [1, 1] });
  b.flatten({ name: "flatten" });
  // Logits in 16 bits: the head reads per-channel maxima, up to 255 each.
  const a = 31;
  const weight = ints(C * o.classes, a);
  const shift = Math.max(0, Math.round(Math.log2((Math.sqrt(C * ((a * (a + 1)) / 3)) * 200) / 4096)));
  b.dense({ name: "classifier", weight, units: o.classes, transB: true, bias: ints(o.classes, 2 ** Math.max(0, shift - 1)), shift, clip: [-32767, 32767] });
  macs += C * o.classes;
  params += weight.length + o.classes;
  return { bytes: b.build(), macs, params, layers: b.numLayers };
}

/**
 * The float model a canonical CONV/MAXPOOL/RESHAPE/DENSE network stands for, as a timing
 * baseline (benchmarks): the same architecture in plain float ONNX, Conv → Relu per CONV
 * layer (onnxruntime fuses the pair), MaxPool, Flatten/Reshape, Gemm, with weights and biases
 * the canonical integers times each channel's 2^-s. No requantization, no clip: what
 * onnxruntime runs for an ordinary float MobileNet of this shape.
 */
export function floatTwin(model: CanonicalModel): Uint8Array {
  const nodes: INodeProto[] = [];
  const inits: ITensorProto[] = [];
  const f32 = (name: string, dims: number[], v: ArrayLike<number>): string => {
    inits.push({ name, dims, dataType: DataType.FLOAT, rawData: new Uint8Array(Float32Array.from(v).buffer) });
    return name;
  };
  const names = [model.inputName];
  const scaledBy = (v: Int32Array, s: Int32Array, per: number): Float64Array => Float64Array.from(v, (x, k) => x * 2 ** -s[Math.floor(k / per)]!);
  for (const l of model.layers) {
    const x = names[l.inputs[0]!]!;
    const out = `${l.outputName}/float`;
    const p = (i: number): number => l.params[i]!;
    if (l.kind === LayerKind.CONV) {
      const M = p(ConvParam.M), KH = p(ConvParam.KH), KW = p(ConvParam.KW), G = p(ConvParam.GROUP);
      const S = l.constants[ConvConst.S]!.values;
      const W = f32(`${out}/W`, [M, p(ConvParam.C) / G, KH, KW], scaledBy(l.constants[ConvConst.W]!.values, S, (p(ConvParam.C) / G) * KH * KW));
      const B = f32(`${out}/B`, [M], scaledBy(l.constants[ConvConst.B]!.values, S, 1));
      const attribute = [
        { name: "kernel_shape", type: 7, ints: [KH, KW] },
        { name: "strides", type: 7, ints: [p(ConvParam.SY), p(ConvParam.SX)] },
        { name: "pads", type: 7, ints: [p(ConvParam.PT), p(ConvParam.PL), p(ConvParam.PB), p(ConvParam.PR)] },
        { name: "group", type: 2, i: G },
      ];
      nodes.push({ name: `${out}/conv`, opType: "Conv", input: [x, W, B], output: [`${out}/acc`], attribute });
      nodes.push({ name: `${out}/relu`, opType: "Relu", input: [`${out}/acc`], output: [out] });
    } else if (l.kind === LayerKind.MAXPOOL) {
      const attribute = [
        { name: "kernel_shape", type: 7, ints: [p(MaxPoolParam.KH), p(MaxPoolParam.KW)] },
        { name: "strides", type: 7, ints: [p(MaxPoolParam.SY), p(MaxPoolParam.SX)] },
        { name: "pads", type: 7, ints: [p(MaxPoolParam.PT), p(MaxPoolParam.PL), p(MaxPoolParam.PB), p(MaxPoolParam.PR)] },
      ];
      nodes.push({ name: `${out}/maxpool`, opType: "MaxPool", input: [x], output: [out], attribute });
    } else if (l.kind === LayerKind.RESHAPE) {
      const shape = `${out}/shape`;
      inits.push({ name: shape, dims: [l.outShape.length], dataType: DataType.INT64, rawData: new Uint8Array(BigInt64Array.from(l.outShape.map(BigInt)).buffer) });
      nodes.push({ name: `${out}/reshape`, opType: "Reshape", input: [x, shape], output: [out] });
    } else if (l.kind === LayerKind.DENSE) {
      const K = p(DenseParam.K), M = p(DenseParam.M);
      const S = l.constants[DenseConst.S]!.values;
      const W = f32(`${out}/W`, [M, K], scaledBy(l.constants[DenseConst.W]!.values, S, K));
      const B = f32(`${out}/B`, [M], scaledBy(l.constants[DenseConst.B]!.values, S, 1));
      nodes.push({ name: `${out}/gemm`, opType: "Gemm", input: [x, W, B], output: [out], attribute: [{ name: "transB", type: 2, i: 1 }] });
    } else {
      throw new Error(`floatTwin: layer ${l.index} is ${layerKindName(l.kind)}; only CONV, MAXPOOL, RESHAPE and DENSE have a float twin here`);
    }
    names.push(out);
  }
  const last = model.layers[model.layers.length - 1]!;
  return encodeModel({
    irVersion: BUILD_IR_VERSION,
    producerName: "veritensor-float-twin",
    opsetImport: [{ domain: "", version: BUILD_OPSET }],
    graph: {
      name: "float_twin",
      node: nodes,
      initializer: inits,
      input: [floatValueInfo(model.inputName, model.inputShape)],
      output: [floatValueInfo(names[names.length - 1]!, last.outShape)],
    },
  });
}
