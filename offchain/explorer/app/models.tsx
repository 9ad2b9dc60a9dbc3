/** Models: the registry's data, versions, price, split, earnings per payee, jobs served, scales. */
import type { ModelDetail, ModelSummary } from "../api.js";
import { Addr, Hash, Link, Page, Place, Rows, Vtn, useApi } from "./util.js";

export function ModelsPage() {
  const loaded = useApi<ModelSummary[]>("/api/models");
  return (
    <Page loaded={loaded} title="models">
      {(models) => (
        <>
          <h1>Models</h1>
          <table class="list" data-list="models">
            <thead>
              <tr><th>model</th><th>owner</th><th>price</th><th>jobs</th><th>finalized</th><th>revenue</th><th>registered</th></tr>
            </thead>
            <tbody>
              {models.map((m) => (
                <tr key={m.id} data-model={m.id}>
                  <td><Link href={`/models/${m.id}`}>model {m.id}</Link>{m.deprecated ? " (deprecated)" : ""}</td>
                  <td><Addr a={m.owner} /></td>
                  <td><Vtn v={m.price} /></td>
                  <td>{m.jobs}</td>
                  <td>{m.finalized}</td>
                  <td><Vtn v={m.revenue} /></td>
                  <td><Place at={m.registered} /></td>
                </tr>
              ))}
            </tbody>
          </table>
          {models.length === 0 ? <p class="muted">No model registered yet.</p> : null}
        </>
      )}
    </Page>
  );
}

export function ModelPage({ id }: { id: string }) {
  const loaded = useApi<ModelDetail>(`/api/models/${encodeURIComponent(id)}`);
  return (
    <Page loaded={loaded} title={`model ${id}`}>
      {(m) => (
        <>
          <h1>Model {m.id}{m.deprecated ? " (deprecated)" : ""}</h1>
          <div class="cols">
            <div>
              <h2>Registry</h2>
              <Rows
                rows={[
                  ["owner", <Addr a={m.owner} />],
                  ["uri", <span class="mono wrap">{m.uri}</span>],
                  ["content hash", <Hash h={m.contentHash} />],
                  ["graph commitment", <Hash h={m.graphCommitment} />],
                  ["price", <Vtn v={m.price} />],
                  ["family", `${m.family}${m.previousVersion ? `, version of model ${m.previousVersion}` : ""}`],
                  ["versions", <span>{m.versions.map((v, i) => <span key={v}>{i > 0 ? ", " : ""}<Link href={`/models/${v}`}>model {v}</Link></span>)}</span>],
                  ["input", `shape [${m.inputShape.join(", ")}], scale ${m.inputScale.value} (wad ${m.inputScale.wad})`],
                  ["output", `shape [${m.outputShape.join(", ")}], scale ${m.outputScale.value} (wad ${m.outputScale.wad})`],
                  ["registered", <Place at={m.registered} />],
                  ["served by", m.servedBy.length === 0 ? "nobody declared it" : <span>{m.servedBy.map((a) => <div key={a}><Addr a={a} /></div>)}</span>],
                ]}
              />
            </div>
            <div>
              <h2>Jobs and earnings</h2>
              <Rows
                rows={[
                  ["jobs", <Link href={`/jobs?model=${m.id}`}>{`${m.jobs} requested`}</Link>],
                  ...Object.entries(m.jobsByStatus).map(([s, n]): [string, string] => [`  ${s}`, String(n)]),
                  ["earned", <span><Vtn v={m.earnings.total} /> (its price over {m.finalized} finalized job(s))</span>],
                  ["distributed", <Vtn v={m.earnings.distributed} />],
                  ["not yet distributed", <Vtn v={m.earnings.undistributed} />],
                  ["protocol fees", <span><Vtn v={m.earnings.protocolFees} /> (of its finalized jobs, to the treasury)</span>],
                ]}
              />
              <h2>Revenue split</h2>
              <table class="list" data-list="payees">
                <thead><tr><th>payee</th><th>role</th><th>share</th><th>earned</th><th>owed</th></tr></thead>
                <tbody>
                  {m.payees.map((p) => (
                    <tr key={p.account + p.role} data-payee={p.role}>
                      <td><Addr a={p.account} /></td>
                      <td>{p.role}</td>
                      <td>{(p.bps / 100).toFixed(2)}%</td>
                      <td><Vtn v={p.earned} /></td>
                      <td><Vtn v={p.owed} /></td>
                    </tr>
                  ))}
                </tbody>
              </table>
              {m.priceHistory.length > 1 ? (
                <>
                  <h2>Price history</h2>
                  <ul>{m.priceHistory.map((h) => <li key={h.at.tx}><Vtn v={h.price} /> from <Place at={h.at} /></li>)}</ul>
                </>
              ) : null}
            </div>
          </div>
        </>
      )}
    </Page>
  );
}
