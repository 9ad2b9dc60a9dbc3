/** Checks a job input against the model's declared shape and range before anything runs. */
import type { CanonicalModel } from "../model/canonical.js";
import { numel } from "../model/canonical.js";
import { InputError } from "../model/errors.js";
import { shapeStr } from "../model/shapes.js";

export type InputLike = Int32Array | Float32Array | readonly number[];

/**
 * Returns the input as Int32Array. Throws InputError naming expected vs got for a wrong
 * shape, wrong length, non-integer or out-of-range element. `floats`, when given (of the
 * input's length), receives the same values as float32 in the same pass: what onnxruntime is fed.
 */
export function validateInput(model: CanonicalModel, input: InputLike, shape?: readonly number[], floats?: Float32Array): Int32Array {
  const expected = numel(model.inputShape);
  if (shape && (shape.length !== model.inputShape.length || shape.some((d, i) => d !== model.inputShape[i]))) {
    throw new InputError(
      "INPUT_SHAPE",
      `input "${model.inputName}" has shape ${shapeStr(shape)}, expected ${shapeStr(model.inputShape)}`,
    );
  }
  if (input.length !== expected) {
    throw new InputError(
      "INPUT_LENGTH",
      `input "${model.inputName}" has ${input.length} elements, expected ${expected} (shape ${shapeStr(model.inputShape)})`,
    );
  }
  const [lo, hi] = model.inputRange;
  const outOfRange = (i: number, v: number) =>
    new InputError("INPUT_RANGE", `input element ${i} is ${v}, outside the declared range [${lo}, ${hi}]`);
  if (input instanceof Int32Array) {
    // Integers by type: only the range to check (one pass, also filling `floats`).
    for (let i = 0; i < expected; i++) {
      const v = input[i]!;
      if (v < lo || v > hi) throw outOfRange(i, v);
      if (floats) floats[i] = v;
    }
    return input;
  }
  const out = new Int32Array(expected);
  for (let i = 0; i < expected; i++) {
    const v = input[i]!;
    if (!Number.isInteger(v)) {
      throw new InputError("INPUT_NOT_INTEGER", `input element ${i} is ${v}, expected an integer in [${lo}, ${hi}]`);
    }
    if (v < lo || v > hi) throw outOfRange(i, v);
    out[i] = v;
    if (floats) floats[i] = v;
  }
  return out;
}
