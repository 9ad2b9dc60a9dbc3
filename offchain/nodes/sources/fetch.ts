/**
 * Models by URI, checked against their registered hash and cached by it: `file://` (a local
 * path), `http(s)://` (fetch), `ipfs://CID[/path]` through a configurable HTTP gateway. Nothing
 * is used before its sha256 equals the registry's content hash; the cache is keyed by that hash,
 * so a cached file is checked again on every read.
 */
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { VeritensorError } from "../../clients/errors.js";
import { sha256Hex } from "../../model/canonical.js";

export interface FetchOptions {
  /** Folder of verified model files, named by content hash. */
  readonly cacheDir: string;
  /** Base URL of an IPFS HTTP gateway: `ipfs://CID/x` is read from `<gateway>/ipfs/CID/x`. */
  readonly ipfsGateway?: string;
  /** Per-download timeout (ms). */
  readonly timeoutMs?: number;
}

export type ModelOrigin = "cache" | "file" | "http" | "ipfs";

export interface FetchedModel {
  readonly bytes: Uint8Array;
  readonly origin: ModelOrigin;
  readonly url: string;
}

const hashOf = (bytes: Uint8Array) => sha256Hex(bytes).toLowerCase();

/** Where `uri` is read from: a local path or an http(s) URL. */
export function resolveModelUri(uri: string, ipfsGateway?: string, what = "model"): { kind: "file" | "http" | "ipfs"; location: string } {
  const u = uri.trim();
  if (u.startsWith("file://")) return { kind: "file", location: fileURLToPath(u) };
  if (/^https?:\/\//i.test(u)) return { kind: "http", location: u };
  if (u.startsWith("ipfs://")) {
    if (!ipfsGateway) throw new VeritensorError(`${what} URI ${u} is on IPFS: give an HTTP gateway (--ipfs-gateway)`);
    const rest = u.slice("ipfs://".length).replace(/^ipfs\//, "");
    return { kind: "ipfs", location: `${ipfsGateway.replace(/\/+$/, "")}/ipfs/${rest}` };
  }
  if (u.startsWith("/") || u.startsWith("./")) return { kind: "file", location: path.resolve(u) };
  throw new VeritensorError(`${what} URI "${u}" has an unsupported scheme (file://, http(s)://, ipfs://)`);
}

/** The body at `url` (at most `maxBytes` of it, when given: a longer body is refused, not read). */
export async function download(url: string, timeoutMs: number, maxBytes?: number): Promise<Uint8Array> {
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  } catch (e) {
    throw new VeritensorError(`cannot download ${url}: ${(e as Error).message}`, { cause: e });
  }
  if (!res.ok) throw new VeritensorError(`cannot download ${url}: HTTP ${res.status} ${res.statusText}`);
  if (maxBytes !== undefined && Number(res.headers.get("content-length") ?? 0) > maxBytes) {
    await res.body?.cancel();
    throw new VeritensorError(`${url} is ${res.headers.get("content-length")} bytes, more than the ${maxBytes} expected`);
  }
  return new Uint8Array(await res.arrayBuffer());
}

/** The model at `uri` whose sha256 must be `contentHash` (0x-hex), from the cache when it is there. */
export async function fetchModel(uri: string, contentHash: string, o: FetchOptions): Promise<FetchedModel> {
  const want = contentHash.toLowerCase();
  const cached = path.join(o.cacheDir, `${want.replace(/^0x/, "")}.onnx`);
  const hit = await readFile(cached).catch(() => undefined);
  if (hit && hashOf(hit) === want) return { bytes: new Uint8Array(hit), origin: "cache", url: cached };

  const { kind, location } = resolveModelUri(uri, o.ipfsGateway);
  let bytes: Uint8Array;
  if (kind === "file") {
    try {
      bytes = new Uint8Array(await readFile(location));
    } catch (e) {
      throw new VeritensorError(`cannot read model file ${location} (${(e as NodeJS.ErrnoException).code ?? String(e)})`, { cause: e });
    }
  } else bytes = await download(location, o.timeoutMs ?? 60_000);
  const got = hashOf(bytes);
  if (got !== want) {
    throw new VeritensorError(`the model at ${uri} has sha256 ${got}, but the registry says ${want}: refusing to run it`);
  }
  await mkdir(o.cacheDir, { recursive: true });
  const tmp = `${cached}.${process.pid}.tmp`;
  await writeFile(tmp, bytes);
  await rename(tmp, cached);
  return { bytes, origin: kind, url: location };
}
