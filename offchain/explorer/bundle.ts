/**
 * The browser app's bundle: offchain/explorer/app/ (Preact, TSX) built by esbuild into one script
 * and one stylesheet, with every import taken from node_modules: nothing is fetched at run time or
 * at build time. The explorer builds it on first use and again whenever a source file is newer than
 * the bundle (about half a second on two cores), so a fresh clone needs no extra step; it is not
 * committed.
 */
import { mkdir, readdir, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { VeritensorError } from "../clients/errors.js";

export const APP_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), "app");
const ENTRY = path.join(APP_DIR, "main.tsx");

/** Where the bundle goes by default: `dist/explorer` under the project root. */
export function defaultBundleDir(root: string): string {
  return path.join(root, "dist", "explorer");
}

async function newest(dir: string): Promise<number> {
  let t = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    t = Math.max(t, entry.isDirectory() ? await newest(p) : (await stat(p)).mtimeMs);
  }
  return t;
}

async function mtime(file: string): Promise<number | undefined> {
  try {
    return (await stat(file)).mtimeMs;
  } catch {
    return undefined;
  }
}

export interface BuiltBundle {
  readonly dir: string;
  /** Whether this call built it (false: the bundle on disk was up to date). */
  readonly built: boolean;
  readonly ms: number;
  readonly bytes: number;
}

/** Builds the app into `dir` (app.js, app.css) unless the bundle there is newer than every source. */
export async function ensureBundle(dir: string, force = false): Promise<BuiltBundle> {
  const started = Date.now();
  const js = path.join(dir, "app.js");
  const sources = Math.max(await newest(APP_DIR), (await mtime(path.join(APP_DIR, "..", "api.ts"))) ?? 0);
  const built = await mtime(js);
  if (!force && built !== undefined && built >= sources) {
    return { dir, built: false, ms: Date.now() - started, bytes: (await stat(js)).size };
  }
  let esbuild: typeof import("esbuild");
  try {
    esbuild = await import("esbuild");
  } catch (e) {
    throw new VeritensorError("esbuild is not installed: run `npm install` (it builds the explorer's app)", { cause: e });
  }
  await mkdir(dir, { recursive: true });
  const result = await esbuild.build({
    entryPoints: [ENTRY],
    bundle: true,
    outfile: js,
    format: "esm",
    platform: "browser",
    target: ["es2022"],
    jsx: "automatic",
    jsxImportSource: "preact",
    minify: true,
    sourcemap: false,
    legalComments: "none",
    logLevel: "silent",
    metafile: false,
    write: true,
  });
  if (result.errors.length > 0) throw new VeritensorError(`building the explorer's app failed: ${result.errors.map((e) => e.text).join("; ")}`);
  await writeFile(path.join(dir, "BUILT"), `${new Date().toISOString()}\n`);
  return { dir, built: true, ms: Date.now() - started, bytes: (await stat(js)).size };
}
