/**
 * The explorer's HTTP server (node:http): the JSON API over the index (offchain/explorer/queries.ts),
 * server-sent events when the index changes, and the bundled app. Every page path serves the same
 * HTML shell, which the app renders; a page about an entity the index does not have answers 404
 * (and the app says which entity). Nothing is fetched from elsewhere: the page loads its script and
 * stylesheet from this server only (a Content-Security-Policy says so to the browser too).
 */
import { readFile } from "node:fs/promises";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";

import type { ChangeMessage } from "./api.js";
import type { IndexChange } from "./indexer.js";
import type { ExplorerQueries } from "./queries.js";
import { QueryError } from "./queries.js";

const HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Veritensor explorer</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/assets/app.css">
<script type="module" src="/assets/app.js"></script>
</head>
<body><div id="app"><p class="loading">Loading…</p></div></body>
</html>
`;

const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'";

const TYPES: Readonly<Record<string, string>> = { ".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8" };

/** Page paths whose second part names an entity: /jobs/3, /models/1, /disputes/0x…, /accounts/0x…. */
const ENTITY_PAGES = new Set(["jobs", "models", "disputes", "accounts"]);
const PAGES = new Set(["", "models", "jobs", "accounts", "disputes", "subscriptions", "audits", "governance"]);

export interface ServerOptions {
  readonly queries: ExplorerQueries;
  readonly bundleDir: string;
  readonly host?: string;
  /** 0: any free port. */
  readonly port?: number;
  readonly log?: (line: string) => void;
}

export class ExplorerServer {
  readonly queries: ExplorerQueries;
  private readonly bundleDir: string;
  private readonly server: Server;
  private readonly clients = new Set<ServerResponse>();
  private readonly assets = new Map<string, Buffer>();
  private readonly log: (line: string) => void;
  private heartbeat?: NodeJS.Timeout;

  constructor(o: ServerOptions) {
    this.queries = o.queries;
    this.bundleDir = o.bundleDir;
    this.log = o.log ?? (() => {});
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((e: unknown) => this.fail(res, e));
    });
  }

  /** Listens on `host:port`; resolves with the URL. */
  async listen(port = 0, host = "127.0.0.1"): Promise<string> {
    for (const name of ["app.js", "app.css"]) {
      this.assets.set(name, await readFile(path.join(this.bundleDir, name)).catch(() => Buffer.from("")));
    }
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(port, host, () => {
        this.server.off("error", reject);
        resolve();
      });
    });
    this.heartbeat = setInterval(() => {
      for (const c of this.clients) c.write(": keep-alive\n\n");
    }, 15_000);
    this.heartbeat.unref();
    return this.url;
  }

  get url(): string {
    const a = this.server.address() as AddressInfo;
    const host = a.family === "IPv6" ? `[${a.address}]` : a.address;
    return `http://${host}:${a.port}/`;
  }

  async close(): Promise<void> {
    if (this.heartbeat) clearInterval(this.heartbeat);
    for (const c of this.clients) c.end();
    this.clients.clear();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Tells every open page what changed (server-sent event `change`). */
  notify(change: IndexChange): void {
    const t = change.touched;
    const msg: ChangeMessage = {
      cursor: change.cursor,
      ...(change.rolledBackTo !== undefined ? { rolledBackTo: change.rolledBackTo } : {}),
      jobs: [...t.jobs].slice(0, 200).map(Number),
      games: [...t.games].slice(0, 200),
      models: [...t.models].slice(0, 200).map(Number),
      accounts: [...t.accounts].slice(0, 200),
      proposals: t.proposals.size,
    };
    const data = `event: change\ndata: ${JSON.stringify(msg)}\n\n`;
    for (const c of this.clients) c.write(data);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const parts = url.pathname.split("/").filter((x) => x !== "").map(decodeURIComponent);
    if (req.method !== "GET" && req.method !== "HEAD") return this.json(res, 405, { error: `${req.method} is not served: the explorer only reads` });
    if (parts[0] === "assets") return this.asset(res, parts[1] ?? "");
    if (parts[0] === "api") return this.api(req, res, parts.slice(1), url.searchParams);
    if (parts.length <= 2 && PAGES.has(parts[0] ?? "")) {
      const found = parts.length < 2 || !ENTITY_PAGES.has(parts[0]!) || this.queries.exists(parts[0]!, parts[1]!);
      return this.send(res, found ? 200 : 404, "text/html; charset=utf-8", HTML);
    }
    return this.send(res, 404, "text/html; charset=utf-8", HTML);
  }

  private async api(req: IncomingMessage, res: ServerResponse, parts: string[], q: URLSearchParams): Promise<void> {
    const q1 = (k: string) => q.get(k) ?? undefined;
    const [what, id, ...rest] = parts;
    if (rest.length > 0) return this.json(res, 404, { error: `no API path /api/${parts.join("/")}` });
    const x = this.queries;
    switch (what) {
      case "status":
        if (id === undefined) return this.json(res, 200, x.status());
        break;
      case "models":
        return this.json(res, 200, id === undefined ? x.models() : await x.model(id));
      case "jobs":
        return this.json(
          res,
          200,
          id === undefined
            ? x.jobs({ status: q1("status"), model: q1("model"), worker: q1("worker"), requester: q1("requester"), offset: q1("offset"), limit: q1("limit") })
            : await x.job(id),
        );
      case "accounts":
        return this.json(res, 200, id === undefined ? x.accounts() : x.account(id));
      case "disputes":
        return this.json(res, 200, id === undefined ? x.disputes() : await x.dispute(id));
      case "subscriptions":
        if (id === undefined) return this.json(res, 200, x.subscriptions());
        break;
      case "audits":
        if (id === undefined) return this.json(res, 200, await x.audits());
        break;
      case "governance":
        if (id === undefined) return this.json(res, 200, await x.governance());
        break;
      case "events":
        if (id === undefined) return this.events(req, res);
        break;
    }
    return this.json(res, 404, { error: `no API path /api/${parts.join("/")}` });
  }

  private events(req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-store", connection: "keep-alive" });
    res.write(`event: hello\ndata: ${JSON.stringify({ cursor: this.queries.db.cursor() ?? -1 })}\n\n`);
    this.clients.add(res);
    req.on("close", () => this.clients.delete(res));
  }

  private asset(res: ServerResponse, name: string): void {
    const body = this.assets.get(name);
    if (!body) return this.send(res, 404, "text/plain; charset=utf-8", `no asset ${name}`);
    this.send(res, 200, TYPES[path.extname(name)] ?? "application/octet-stream", body, "no-cache");
  }

  private json(res: ServerResponse, status: number, body: unknown): void {
    this.send(res, status, "application/json; charset=utf-8", JSON.stringify(body), "no-store");
  }

  private send(res: ServerResponse, status: number, type: string, body: string | Buffer, cache = "no-store"): void {
    res.writeHead(status, { "content-type": type, "cache-control": cache, "content-security-policy": CSP, "x-content-type-options": "nosniff" });
    res.end(body);
  }

  private fail(res: ServerResponse, e: unknown): void {
    if (e instanceof QueryError) return this.json(res, e.status, { error: e.message });
    this.log(`explorer: ${(e as Error).message}`);
    if (!res.headersSent) this.json(res, 500, { error: (e as Error).message.split("\n")[0] });
    else res.end();
  }
}
