/**
 * Job inputs given by URI (a requester's `--input-uri`): read by the same schemes as models, and
 * accepted only when they are exactly the model's input size (times the batch size, for a batch
 * job) and their tensor commitment (a batch's: the batch commitment of its items) is the one the
 * requester committed to on chain. A node checks this before it claims or re-runs a job:
 * bytes that do not match the commitment cannot be served (and no worker can be blamed for them).
 */
import { readFile } from "node:fs/promises";

import { VeritensorError } from "../../clients/errors.js";
import { commitBatch } from "../../commitments/batch.js";
import { download, resolveModelUri } from "./fetch.js";

/** Why an input could not be used: `unreachable` may pass (retry later), `invalid` will not. */
export class InputError extends VeritensorError {
  readonly kind: "unreachable" | "invalid";

  constructor(kind: "unreachable" | "invalid", message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.kind = kind;
  }
}

export interface InputFetchOptions {
  readonly ipfsGateway?: string;
  /** The inputs the bytes hold, concatenated: a batch job's size (default 1). */
  readonly items?: number;
  /** Per-download timeout (ms, default 30 s). */
  readonly timeoutMs?: number;
}

/**
 * The input at `uri`, checked: `expectedBytes` long (4 bytes per element of the model's input, per
 * item) with commitment `commitment` (a batch of `o.items`: the batch commitment of its items).
 */
export async function fetchInput(uri: string, commitment: string, expectedBytes: number, o: InputFetchOptions = {}): Promise<Uint8Array> {
  let where: ReturnType<typeof resolveModelUri>;
  try {
    where = resolveModelUri(uri, o.ipfsGateway, "input");
  } catch (e) {
    throw new InputError("invalid", (e as Error).message, { cause: e });
  }
  let bytes: Uint8Array;
  try {
    bytes =
      where.kind === "file"
        ? new Uint8Array(await readFile(where.location))
        : await download(where.location, o.timeoutMs ?? 30_000, expectedBytes);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const reason = code ? `cannot read ${where.location} (${code})` : (e as Error).message;
    // Too long is a property of the content, not of the connection.
    const kind = /more than the \d+ expected/.test(reason) ? "invalid" : "unreachable";
    throw new InputError(kind, reason, { cause: e });
  }
  const items = o.items ?? 1;
  if (bytes.length !== expectedBytes) {
    const what = items === 1 ? "the model takes" : `the job's ${items} inputs take`;
    throw new InputError("invalid", `the input at ${uri} is ${bytes.length} bytes; ${what} ${expectedBytes / 4} elements (${expectedBytes} bytes)`);
  }
  const got = commitBatch(bytes, items);
  if (got.toLowerCase() !== commitment.toLowerCase()) {
    throw new InputError("invalid", `the input at ${uri} has ${items === 1 ? "tensor" : "batch"} commitment ${got}, but the job committed to ${commitment}`);
  }
  return bytes;
}
