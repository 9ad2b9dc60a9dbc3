/**
 * The explorer's browser app (Preact): one shell, pages chosen by the path, data from the JSON API,
 * and live updates from the server's change events (every open page fetches again).
 */
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";

import type { ChangeMessage, Status } from "../api.js";
import "./style.css";
import { AccountView, AccountsPage } from "./accounts.js";
import { AuditsPage } from "./audits.js";
import { DisputeView, DisputesPage, GamesTable } from "./disputes.js";
import { SubscriptionsPage } from "./subscriptions.js";
import { GovernancePage } from "./governance.js";
import { JobView, JobsPage, JobsTable } from "./jobs.js";
import { ModelPage, ModelsPage } from "./models.js";
import type { JobPage } from "../api.js";
import type { GameSummary } from "../api.js";
import { Link, Live, Page, Rows, useApi } from "./util.js";

function Overview() {
  const jobs = useApi<JobPage>("/api/jobs?limit=10");
  const games = useApi<GameSummary[]>("/api/disputes");
  const status = useApi<Status>("/api/status");
  return (
    <Page loaded={status} title="overview">
      {(s) => (
        <>
          <h1>Overview</h1>
          <Rows
            rows={[
              ["network", `${s.network} (chain ${s.chainId})`],
              ["indexed to", <span data-field="cursor">block {s.cursor} (head {s.head}, {s.confirmations} confirmation(s))</span>],
              ["models", <Link href="/models">{String(s.counts.models)}</Link>],
              ["jobs", <Link href="/jobs">{String(s.counts.jobs)}</Link>],
              ["disputes", <Link href="/disputes">{String(s.counts.games)}</Link>],
              ["workers and challengers", <Link href="/accounts">{String(s.counts.accounts)}</Link>],
              ["proposals", <Link href="/governance">{String(s.counts.proposals)}</Link>],
            ]}
          />
          <h2>Latest jobs</h2>
          {jobs.data ? <JobsTable jobs={jobs.data.jobs} /> : null}
          <h2>Disputes</h2>
          {games.data ? <GamesTable games={games.data.slice(0, 10)} /> : null}
        </>
      )}
    </Page>
  );
}

function NotFound({ path }: { path: string }) {
  return (
    <section class="notfound" data-status="404">
      <h1>Not found</h1>
      <p class="error">There is no page {path}.</p>
      <p><Link href="/">Back to the overview</Link></p>
    </section>
  );
}

function Route({ path, query }: { path: string; query: URLSearchParams }) {
  const [a, b, extra] = path.split("/").filter((x) => x !== "").map(decodeURIComponent);
  if (extra !== undefined) return <NotFound path={path} />;
  switch (a) {
    case undefined:
      return <Overview />;
    case "models":
      return b === undefined ? <ModelsPage /> : <ModelPage id={b} />;
    case "jobs":
      return b === undefined ? <JobsPage query={query} /> : <JobView id={b} />;
    case "accounts":
      return b === undefined ? <AccountsPage /> : <AccountView address={b} />;
    case "disputes":
      return b === undefined ? <DisputesPage /> : <DisputeView game={b} />;
    case "subscriptions":
      return b === undefined ? <SubscriptionsPage /> : <NotFound path={path} />;
    case "audits":
      return b === undefined ? <AuditsPage /> : <NotFound path={path} />;
    case "governance":
      return b === undefined ? <GovernancePage /> : <NotFound path={path} />;
    default:
      return <NotFound path={path} />;
  }
}

const NAV: [string, string][] = [["/", "Overview"], ["/models", "Models"], ["/jobs", "Jobs"], ["/accounts", "Workers & challengers"], ["/disputes", "Disputes"], ["/subscriptions", "Subscriptions"], ["/audits", "Audits"], ["/governance", "Governance"]];

function App() {
  const [where, setWhere] = useState({ path: location.pathname, search: location.search });
  const [version, setVersion] = useState(0);
  const [status, setStatus] = useState<Status | undefined>(undefined);
  const [cursor, setCursor] = useState<number | undefined>(undefined);
  const [connected, setConnected] = useState(false);
  useEffect(() => {
    const onPop = () => {
      setWhere({ path: location.pathname, search: location.search });
      window.scrollTo(0, 0);
    };
    addEventListener("popstate", onPop);
    return () => removeEventListener("popstate", onPop);
  }, []);
  useEffect(() => {
    fetch("/api/status").then((r) => r.json()).then((s: Status) => {
      setStatus(s);
      setCursor(s.cursor);
    }).catch(() => undefined);
  }, [version]);
  useEffect(() => {
    // Server-sent events: a change in the index makes every open page fetch again (at most every 300 ms).
    const es = new EventSource("/api/events");
    let timer: number | undefined;
    es.addEventListener("open", () => setConnected(true));
    es.addEventListener("error", () => setConnected(false));
    es.addEventListener("change", (e) => {
      const msg = JSON.parse((e as MessageEvent<string>).data) as ChangeMessage;
      setCursor(msg.cursor);
      if (timer === undefined) {
        timer = window.setTimeout(() => {
          timer = undefined;
          setVersion((v) => v + 1);
        }, 300);
      }
    });
    return () => es.close();
  }, []);
  const first = where.path.split("/")[1] ?? "";
  return (
    <Live.Provider value={{ version, status }}>
      <header>
        <Link href="/" class="brand">Veritensor explorer</Link>
        <nav>
          {NAV.map(([href, name]) => (
            <Link key={href} href={href} class={(href === "/" ? first === "" : href.slice(1) === first) ? "active" : ""}>{name}</Link>
          ))}
        </nav>
        <span class={`live ${connected ? "on" : "off"}`} title="live updates from the index" data-field="live">
          {connected ? "live" : "offline"}{cursor !== undefined ? ` · block ${cursor}` : ""}
        </span>
      </header>
      <main>
        <Route path={where.path} query={new URLSearchParams(where.search)} />
      </main>
    </Live.Provider>
  );
}

const root = document.getElementById("app")!;
root.textContent = "";
render(<App />, root);
