/** Small pieces every page uses: fetching the API, addresses, amounts, times, hashes, links. */
import type { ComponentChildren } from "preact";
import { useContext, useEffect, useState } from "preact/hooks";
import { createContext } from "preact";

import type { Amount, At, Status } from "../api.js";

/** Bumped by the server's change events: pages fetch again when it moves. */
export const Live = createContext<{ version: number; status?: Status }>({ version: 0 });

export interface Loaded<T> {
  readonly data?: T;
  readonly error?: string;
  readonly status?: number;
}

/** GETs `path` from the API, again whenever the index changes. */
export function useApi<T>(path: string): Loaded<T> {
  const { version } = useContext(Live);
  const [state, setState] = useState<Loaded<T>>({});
  useEffect(() => {
    let alive = true;
    fetch(path)
      .then(async (r) => {
        const body = (await r.json()) as T & { error?: string };
        if (!alive) return;
        if (!r.ok) setState({ error: body.error ?? `${r.status} ${r.statusText}`, status: r.status });
        else setState({ data: body, status: r.status });
      })
      .catch((e: Error) => alive && setState((s) => ({ ...s, error: e.message })));
    return () => {
      alive = false;
    };
  }, [path, version]);
  return state;
}

/** Client-side navigation (the server serves the same shell for every page). */
export function navigate(to: string): void {
  if (to === location.pathname + location.search) return;
  history.pushState(null, "", to);
  dispatchEvent(new PopStateEvent("popstate"));
}

export function Link(props: { href: string; children: ComponentChildren; class?: string }) {
  return (
    <a
      href={props.href}
      class={props.class}
      onClick={(e) => {
        if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey) return;
        e.preventDefault();
        navigate(props.href);
      }}
    >
      {props.children}
    </a>
  );
}

export const short = (h: string, n = 10): string => (h.length > n + 4 ? `${h.slice(0, n)}…${h.slice(-4)}` : h);

export function Addr({ a }: { a?: string }) {
  const { status } = useContext(Live);
  if (!a) return <span class="muted">-</span>;
  const label = status?.labels[a.toLowerCase()];
  return (
    <Link href={`/accounts/${a.toLowerCase()}`} class="addr">
      <span class="mono" title={a}>{short(a)}</span>
      {label ? <span class="label"> {label}</span> : null}
    </Link>
  );
}

export const Vtn = ({ v }: { v?: Amount }) => <span class="amount" title={v ? `${v.wei} wei` : ""}>{v ? v.text : "-"}</span>;

export function utc(t?: number): string {
  if (t === undefined || t === 0) return "-";
  return new Date(t * 1000).toISOString().replace("T", " ").replace(/\.\d{3}Z$/, " UTC");
}

export function duration(s: number): string {
  let left = Math.max(0, Math.round(s));
  if (left === 0) return "0 s";
  const parts: string[] = [];
  for (const [u, n] of [["d", 86_400], ["h", 3600], ["min", 60], ["s", 1]] as const) {
    if (left >= n) {
      parts.push(`${Math.floor(left / n)} ${u}`);
      left %= n;
    }
  }
  return parts.join(" ");
}

export const Time = ({ t }: { t?: number }) => <span class="time">{utc(t)}</span>;

export function Place({ at }: { at?: At }) {
  if (!at) return <span class="muted">-</span>;
  return (
    <span class="place">
      <Time t={at.time} /> <span class="muted">block {at.block}</span>
      {at.tx ? <span class="mono muted" title={at.tx}> tx {short(at.tx)}</span> : null}
    </span>
  );
}

export const Hash = ({ h }: { h?: string }) => (h ? <span class="mono" title={h}>{short(h, 14)}</span> : <span class="muted">-</span>);

export function Rows({ rows }: { rows: [string, ComponentChildren][] }) {
  return (
    <table class="rows">
      <tbody>
        {rows.map(([k, v]) => (
          <tr key={k} data-row={k}>
            <th>{k}</th>
            <td>{v}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function StatusTag({ s }: { s: string }) {
  return <span class={`tag tag-${s.replace(/\s+/g, "-")}`}>{s}</span>;
}

/** A page's data, or its loading line, or the error (a 404 says what does not exist). */
export function Page<T>(props: { loaded: Loaded<T>; title: string; children: (data: T) => ComponentChildren }) {
  const { loaded } = props;
  if (loaded.error) {
    return (
      <section class="notfound" data-status={loaded.status ?? 0}>
        <h1>{loaded.status === 404 ? "Not found" : "Error"}</h1>
        <p class="error">{loaded.error}</p>
        <p>
          <Link href="/">Back to the overview</Link>
        </p>
      </section>
    );
  }
  if (loaded.data === undefined) return <p class="loading">Loading {props.title}…</p>;
  return <Ready>{props.children(loaded.data)}</Ready>;
}

declare global {
  interface Window {
    /** ms from navigation start to the first page rendered with its data (the browser test reads it). */
    __veritensorLoaded?: number;
  }
}

function Ready({ children }: { children: ComponentChildren }) {
  useEffect(() => {
    if (window.__veritensorLoaded === undefined) window.__veritensorLoaded = performance.now();
  }, []);
  return <section data-loaded="1">{children}</section>;
}
