/** Jobs: the list (filter by status, model, worker) and one job from request to settlement. */
import { useEffect, useRef } from "preact/hooks";

import type { GroupView, JobAudit, JobDetail, JobPage, JobSummary, Tensor } from "../api.js";
import { Addr, Hash, Link, Page, Place, Rows, StatusTag, Time, Vtn, duration, navigate, short, useApi, utc } from "./util.js";
import { GamesTable } from "./disputes.js";

const STATUSES = ["", "open", "claimed", "submitted", "finalized", "refunded", "rejected", "cancelled"];

export function JobsTable({ jobs }: { jobs: readonly JobSummary[] }) {
  return (
    <table class="list" data-list="jobs">
      <thead>
        <tr><th>job</th><th>model</th><th>status</th><th>requester</th><th>worker</th><th>fee</th><th>requested</th><th>disputes</th></tr>
      </thead>
      <tbody>
        {jobs.map((j) => (
          <tr key={j.id} data-job={j.id}>
            <td><Link href={`/jobs/${j.id}`}>job {j.id}</Link>{j.batchSize > 1 ? <span class="muted" data-field="batch"> ×{j.batchSize}</span> : null}</td>
            <td><Link href={`/models/${j.model}`}>{j.model}</Link></td>
            <td><StatusTag s={j.status} /></td>
            <td><Addr a={j.requester} /></td>
            <td><Addr a={j.worker} /></td>
            <td><Vtn v={j.fee} /></td>
            <td><Time t={j.requestedAt} /></td>
            <td>{j.games > 0 ? j.games : ""}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function JobsPage({ query }: { query: URLSearchParams }) {
  const loaded = useApi<JobPage>(`/api/jobs?${query.toString()}`);
  const set = (k: string, v: string) => {
    const q = new URLSearchParams(query);
    if (v === "") q.delete(k);
    else q.set(k, v);
    if (k !== "offset") q.delete("offset");
    navigate(`/jobs${q.toString() ? `?${q}` : ""}`);
  };
  const offset = Number(query.get("offset") ?? 0);
  return (
    <Page loaded={loaded} title="jobs">
      {(page) => (
        <>
          <h1>Jobs</h1>
          <div class="filters">
            <label>status{" "}
              <select value={query.get("status") ?? ""} onChange={(e) => set("status", (e.target as HTMLSelectElement).value)}>
                {STATUSES.map((s) => <option key={s} value={s}>{s === "" ? "any" : s}</option>)}
              </select>
            </label>
            {query.get("model") ? <span class="chip">model {query.get("model")} <a href="#" onClick={(e) => { e.preventDefault(); set("model", ""); }}>×</a></span> : null}
            {query.get("worker") ? <span class="chip">worker {short(query.get("worker")!)} <a href="#" onClick={(e) => { e.preventDefault(); set("worker", ""); }}>×</a></span> : null}
            <span class="muted" data-field="total">{page.total} job(s)</span>
          </div>
          <JobsTable jobs={page.jobs} />
          <div class="pager">
            {offset > 0 ? <a href="#" onClick={(e) => { e.preventDefault(); set("offset", String(Math.max(0, offset - 50))); }}>newer</a> : null}
            {offset + page.jobs.length < page.total ? <a href="#" onClick={(e) => { e.preventDefault(); set("offset", String(offset + 50)); }}>older</a> : null}
          </div>
        </>
      )}
    </Page>
  );
}

/** A tensor with the model's scale: an image for a one-channel 2-D input, bars for a short output. */
function TensorView({ t, kind }: { t: Tensor; kind: "input" | "output" }) {
  const dims = t.shape.filter((d) => d > 1);
  const image = kind === "input" && dims.length === 2 && dims[0]! <= 128 && dims[1]! <= 128 && t.values.length === t.count;
  return (
    <div class="tensor" data-tensor={kind}>
      <p class="muted">
        {t.count} element(s), shape [{t.shape.join(", ")}], commitment <Hash h={t.commitment} />
        {t.argmax !== undefined ? <span> — largest: element <b data-field="argmax">{t.argmax}</b> (the class, for a classifier)</span> : null}
      </p>
      {image ? <Picture t={t} h={dims[0]!} w={dims[1]!} /> : null}
      {kind === "output" && t.count <= 64 ? (
        <table class="list bars">
          <thead><tr><th>element</th><th>integer</th><th>real (× scale)</th><th></th></tr></thead>
          <tbody>
            {t.values.map((v, i) => {
              const max = Math.max(...t.real.map(Math.abs), 1e-12);
              return (
                <tr key={i} class={i === t.argmax ? "best" : ""} data-element={i}>
                  <td>{i}</td>
                  <td class="num">{v}</td>
                  <td class="num">{t.real[i]}</td>
                  <td class="barcell"><span class={`bar ${t.real[i]! < 0 ? "neg" : ""}`} style={{ width: `${(Math.abs(t.real[i]!) / max) * 100}%` }} /></td>
                </tr>
              );
            })}
          </tbody>
        </table>
      ) : (
        <details>
          <summary>values ({Math.min(t.values.length, t.count)} shown)</summary>
          <p class="mono wrap small" data-field={`${kind}-values`}>{t.values.join(", ")}</p>
          <p class="mono wrap small">real: {t.real.join(", ")}</p>
        </details>
      )}
    </div>
  );
}

function Picture({ t, h, w }: { t: Tensor; h: number; w: number }) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const c = ref.current;
    if (!c) return;
    const ctx = c.getContext("2d");
    if (!ctx) return;
    const img = ctx.createImageData(w, h);
    const max = Math.max(...t.real, 1e-12);
    const min = Math.min(...t.real, 0);
    t.real.forEach((v, i) => {
      const g = Math.round(((v - min) / (max - min || 1)) * 255);
      img.data.set([g, g, g, 255], i * 4);
    });
    ctx.putImageData(img, 0, 0);
  }, [t, h, w]);
  return <canvas ref={ref} width={w} height={h} class="picture" title="the input, as the model's input scale makes it" />;
}

export function JobView({ id }: { id: string }) {
  const loaded = useApi<JobDetail>(`/api/jobs/${encodeURIComponent(id)}`);
  return (
    <Page loaded={loaded} title={`job ${id}`}>
      {(j) => (
        <>
          <h1>Job {j.id} <StatusTag s={j.status} /></h1>
          <div class="cols">
            <div>
              <Rows
                rows={[
                  ["model", <Link href={`/models/${j.model}`}>model {j.model}</Link>],
                  ["batch size", <span data-field="batch-size">{j.batchSize > 1 ? `${j.batchSize} inputs (a batch: claimed, disputed and settled as one job)` : "1 (a single input)"}</span>],
                  ["requester", <Addr a={j.requester} />],
                  ...(j.subscription
                    ? [["subscription", <span data-field="subscription">run <b>{j.subscription.run}</b> of <Link href="/subscriptions">subscription {j.subscription.id}</Link> ({j.subscription.runs} run(s); consumer <Addr a={j.subscription.consumer} />, triggered by <Addr a={j.subscription.keeper} />)</span>] as [string, preact.ComponentChildren]]
                    : []),
                  ["worker", <Addr a={j.worker} />],
                  ["fee", <span data-field="fee-split"><Vtn v={j.fee} /> (model <Vtn v={j.modelFee} />, protocol <Vtn v={j.protocolFee} /> at {(j.protocolFeeBps / 100).toFixed(2)}%{j.auditFee ? <span>, audit pool <Vtn v={j.auditFee} /> at {((j.auditFeeBps ?? 0) / 100).toFixed(2)}%</span> : null}{j.callbackFee ? <span>, callback <Vtn v={j.callbackFee} /></span> : null}, worker <b data-field="worker-part"><Vtn v={j.workerPart} /></b>)</span>],
                  ["stake locked", <Vtn v={j.lock} />],
                  ["deadline", <Time t={j.deadline} />],
                  ["result due", <Time t={j.resultDue} />],
                  ["challenge window ends", <Time t={j.challengeEnd} />],
                  ["parameter version", String(j.paramsVersion)],
                  ["input commitment", <Hash h={j.inputCommitment} />],
                  ...(j.consumer
                    ? ([
                        ["consumer", <Addr a={j.consumer} />],
                        ["callback", <span data-field="callback">{j.callback?.status}{j.callback?.reason ? ` (revert data ${short(j.callback.reason, 18)})` : ""}, {j.callbackGasLimit} gas</span>],
                      ] as [string, preact.ComponentChildren][])
                    : [["callback", <span data-field="callback">none (no consumer)</span>] as [string, preact.ComponentChildren]]),
                  ...(j.payout ? [["paid", <span>worker <Vtn v={j.payout.worker} />, model <Vtn v={j.payout.model} />, protocol <Vtn v={j.payout.protocol} />{j.payout.audit ? <span>, audit pool <Vtn v={j.payout.audit} /></span> : null}</span>] as [string, preact.ComponentChildren]] : []),
                  ...(j.audit ? [["audit", <AuditLine a={j.audit} />] as [string, preact.ComponentChildren]] : []),
                  ...(j.group ? [["redundancy group", <span data-field="group">group {j.group.id}: {j.group.k} jobs, {j.group.status}</span>] as [string, preact.ComponentChildren]] : []),
                  ...(j.rejection ? [["rejected", <span><Vtn v={j.rejection.slashed} /> of the worker's stake slashed, <Vtn v={j.rejection.refunded} /> refunded</span>] as [string, preact.ComponentChildren]] : []),
                  ["gas", <span data-field="gas">{Number(j.gasTotal).toLocaleString("en-US")} in all its transactions</span>],
                ]}
              />
            </div>
            <div>
              {j.items ? (
                <div data-list="items">
                  {j.inputUri !== undefined ? <p>input by URI: <span class="mono wrap">{j.inputUri}</span></p> : null}
                  {j.items.map((it, i) => (
                    <div key={i} id={`item-${i}`} data-item={i}>
                      <h2>Item {i}{j.disputes.some((g) => g.item === i) ? <span class="muted"> (disputed)</span> : null}</h2>
                      <h3>Input</h3>
                      {it.input ? <TensorView t={it.input} kind="input" /> : <p class="muted">{j.inputUri !== undefined ? "by URI" : "not readable"}</p>}
                      <h3>Output</h3>
                      {it.output ? <TensorView t={it.output} kind="output" /> : <p class="muted">no result yet</p>}
                    </div>
                  ))}
                </div>
              ) : (
                <>
                  <h2>Input</h2>
                  {j.input ? <TensorView t={j.input} kind="input" /> : <p>by URI: <span class="mono wrap">{j.inputUri}</span></p>}
                  <h2>Output</h2>
                  {j.output ? <TensorView t={j.output} kind="output" /> : <p class="muted">no result yet</p>}
                </>
              )}
            </div>
          </div>
          {j.group ? <GroupSection g={j.group} current={j.id} /> : null}
          <h2>Timeline</h2>
          <ol class="timeline" data-list="timeline">
            {j.timeline.map((e, i) => (
              <li key={i} data-event={e.name} class={e.at ? "" : "point"}>
                <div class="when">{e.at ? <Place at={e.at} /> : <span><Time t={e.time} /> {e.time !== undefined && j.requestedAt !== undefined ? <span class="muted">({duration(e.time - j.requestedAt)} after the request)</span> : null}</span>}</div>
                <div class="what"><b>{e.name}</b> {e.text}</div>
                <div class="gas muted">{e.gasUsed ? `${Number(e.gasUsed).toLocaleString("en-US")} gas` : ""}{e.from ? <span> from <Addr a={e.from} /></span> : null}</div>
              </li>
            ))}
          </ol>
          {j.disputes.length > 0 ? (
            <>
              <h2>Disputes</h2>
              <GamesTable games={j.disputes} />
            </>
          ) : null}
          <p class="muted small">Times are the chain's block times ({utc(j.requestedAt)} is the request's block).</p>
        </>
      )}
    </Page>
  );
}

/** A job's audit in one line: drawn or not, auditor and slot, status, reward or penalty, the game a mismatch opened. */
function AuditLine({ a }: { a: JobAudit }) {
  return (
    <span data-field="audit" data-audit-status={a.status}>
      {a.auditor ? (
        <span>
          audited by <Addr a={a.auditor} /> in slot {a.slot}: <b>{a.status}</b>
          {a.game ? <span> — <Link href={`/disputes/${a.game}`}>dispute game {short(a.game)}</Link></span> : null}
          {a.settled ? <span>; settled: reward <Vtn v={a.reward} />, slashed <Vtn v={a.slashed} /></span> : <span>; <Vtn v={a.lock} /> of its stake locked</span>}
          {a.rateBps !== undefined ? <span class="muted"> (rate {(a.rateBps / 100).toFixed(2)}%)</span> : null}
        </span>
      ) : (
        <span>{a.text}</span>
      )}
      {a.missed.length > 0 ? (
        <span class="muted" data-field="audit-missed">
          {" "}missed slots: {a.missed.map((m, i) => <span key={i}>{i > 0 ? ", " : ""}slot {m.slot} <Addr a={m.auditor} /> −<Vtn v={m.penalty} /></span>)}
        </span>
      ) : null}
    </span>
  );
}

/** The redundancy group a job belongs to: its sibling jobs, their workers and outputs, and its answer. */
export function GroupSection({ g, current }: { g: GroupView; current?: number }) {
  const how =
    g.status === "confirmed"
      ? "confirmed early: all its jobs agree, from distinct workers"
      : g.status === "resolved"
        ? `resolved after the windows (${g.finalizedJobs} job(s) finalized)`
        : "pending: no answer yet";
  return (
    <div data-group={g.id}>
      <h2>Redundancy group {g.id}</h2>
      <p>
        <span data-field="group-status">{how}</span>. {g.k} jobs of one input requested by <Addr a={g.requester} />, fee <Vtn v={g.fee} /> each, lock <Vtn v={g.lock} /> each
        (value covered <Vtn v={g.value} />){g.output ? <span>; output <Hash h={g.output} /></span> : null}.
      </p>
      <table class="list" data-list="group-jobs">
        <thead><tr><th>job</th><th>status</th><th>worker</th><th>output commitment</th><th>settled</th></tr></thead>
        <tbody>
          {g.jobs.map((x) => {
            const s = g.settled.find((y) => y.job === x.id);
            return (
              <tr key={x.id} data-group-job={x.id} class={x.id === current ? "best" : ""}>
                <td><Link href={`/jobs/${x.id}`}>job {x.id}</Link></td>
                <td><StatusTag s={x.status} /></td>
                <td><Addr a={x.worker} /></td>
                <td><Hash h={x.outputCommitment} />{g.output && x.outputCommitment ? (x.outputCommitment === g.output ? " ✓" : " ✗") : ""}</td>
                <td>{s ? <span>refund <Vtn v={s.refund} />, slashes <Vtn v={s.slashes} /></span> : <span class="muted">-</span>}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
