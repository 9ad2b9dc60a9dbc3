import { emptyTask, task } from "hardhat/config";
import { ArgumentType } from "hardhat/types/arguments";

import { partyFromOption, text } from "./options.js";

export const modelTasks = [
  emptyTask("model", "Register and inspect models").build(),
  task(["model", "register"], "Register an ONNX model: commitments, shapes, price per inference and revenue split")
    .addOption({
      name: "file",
      type: ArgumentType.FILE_WITHOUT_DEFAULT,
      description: "Canonical ONNX file: computes the content hash, graph commitment, shapes and scales from it",
      defaultValue: undefined,
    })
    .addOption(text("uri", "Where workers fetch the file (file://, https://, ipfs://); defaults to the file's file:// URI with --file"))
    .addOption(text("contentHash", "sha256 of the ONNX file (0x…); computed with --file"))
    .addOption(text("graphCommitment", "Graph commitment (0x…, docs/SEMANTICS.md); computed with --file"))
    .addOption(text("inputShape", "Input shape, e.g. 1,784; read from the file with --file"))
    .addOption(text("outputShape", "Output shape, e.g. 1,10; read from the file with --file"))
    .addOption(text("inputScale", "Real value of one input unit, e.g. 0.00392156862745098 (stored to 1e-18); read from the file with --file"))
    .addOption(text("outputScale", "Real value of one output unit (stored to 1e-18); read from the file with --file"))
    .addOption({ name: "price", type: ArgumentType.STRING, description: "Price per inference in VTN, paid to the developer and contributors", defaultValue: "1" })
    .addOption({
      name: "contributors",
      type: ArgumentType.STRING,
      description: "Data contributors' shares of the price: address:basis-points,… (the developer gets the rest of 10000)",
      defaultValue: "",
    })
    .addOption(partyFromOption)
    .setAction(() => import("./model/register.js"))
    .build(),
  task(["model", "show"], "Show a registered model")
    .addOption(text("model", "Model id (required)"))
    .setAction(() => import("./model/show.js"))
    .build(),
  task(["model", "inspect"], "Show a canonical model's layers, shapes, parameter count and commitments, or what a float model needs to become one")
    .addOption({ name: "file", type: ArgumentType.FILE_WITHOUT_DEFAULT, description: "ONNX file, canonical or float (required)", defaultValue: undefined })
    .setAction(() => import("./model/inspect.js"))
    .build(),
  task(["model", "run"], "Run a canonical model on one input: output, trace root and commitments")
    .addOption({ name: "model", type: ArgumentType.FILE_WITHOUT_DEFAULT, description: "Canonical ONNX file (required)", defaultValue: undefined })
    .addOption({
      name: "input",
      type: ArgumentType.FILE_WITHOUT_DEFAULT,
      description: "Input tensor in canonical integers (real values with --real): JSON (an array, nested arrays, or {shape, data}), NumPy .npy or ONNX TensorProto .pb (required)",
      defaultValue: undefined,
    })
    .addFlag({ name: "real", description: "The input holds real values: quantize them with the model's input scale first" })
    .addOption({ name: "threads", type: ArgumentType.INT, description: "onnxruntime intra-op threads (results are identical for any value)", defaultValue: 1 })
    .setAction(() => import("./model/run.js"))
    .build(),
  task(["model", "convert"], "Convert a float ONNX model to the canonical integer-exact form, reporting the accuracy lost")
    .addOption({ name: "in", type: ArgumentType.FILE_WITHOUT_DEFAULT, description: "Float32 ONNX file (required)", defaultValue: undefined })
    .addOption({ name: "out", type: ArgumentType.STRING_WITHOUT_DEFAULT, description: "Where to write the canonical ONNX file (required)", defaultValue: undefined })
    .addOption({
      name: "calibration",
      type: ArgumentType.FILE_WITHOUT_DEFAULT,
      description: "Real-valued sample inputs: a JSON array of samples, or a .npy, .pb or {shape, data} JSON file whose first dimension counts them; every fifth is held out to measure the result, the rest fix the activation ranges (default: 80 seeded uniform [0, 1) inputs)",
      defaultValue: undefined,
    })
    .addOption(text("activationBits", "Least bits of tensors read by weighted sums, 2..16 (default 8; more where a layer's exactness budget leaves room)"))
    .addOption(text("wideBits", "Bits of tensors read by ADD, PRODUCT, MATMUL (within their exactness bound), a mean or LayerNorm's centering, 2..16 (default 13)"))
    .addOption(text("lutInputBits", "Bits of a LUT's input, 2..16 (default 12: tables of up to 4,096 entries)"))
    .addOption(text("outputBits", "Bits of the output, 2..24 (default 16)"))
    .addOption(text("outputHeadroom", "The output's range covers this many times its calibrated magnitude, 1..1024 (default 2: one bit, so fresh inputs beyond the calibration are not clipped)"))
    .addOption(text("activationHeadroom", "The same for hidden activations, 1..1024 (default 1; each bit costs one of --activation-bits: use it when the calibration samples are few)"))
    .addOption(text("maxWeightBits", "Cap on integer weights, 2..24 bits (default 16; the exactness rule may bind first)"))
    .addOption(text("inputScale", "Real value of one input unit, e.g. 0.00392156862745098 for pixels 0..255 (with --input-range; default: calibrated)"))
    .addOption(text("inputRange", "The input's integers lo,hi, e.g. 0,255 (with --input-scale)"))
    .addOption(text("inputShape", "The input's shape, binding the dimensions the file leaves dynamic: 1,3,48,192 or NAME=1,3,48,192"))
    .setAction(() => import("./model/convert.js"))
    .build(),
];
