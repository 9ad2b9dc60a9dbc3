/** Subscriptions: each one's consumer, model, schedule and the runs triggered so far, each a job. */
import type { SubscriptionSummary } from "../api.js";
import { Addr, Link, Page, Time, Vtn, duration, useApi } from "./util.js";

export function SubscriptionsPage() {
  const loaded = useApi<SubscriptionSummary[]>("/api/subscriptions");
  return (
    <Page loaded={loaded} title="subscriptions">
      {(subs) => (
        <>
          <h1>Subscriptions</h1>
          <table class="list" data-list="subscriptions">
            <thead>
              <tr><th>subscription</th><th>consumer</th><th>model</th><th>schedule</th><th>fee per run</th><th>keeper reward</th><th>runs triggered</th><th>created</th></tr>
            </thead>
            <tbody>
              {subs.map((s) => (
                <tr key={s.id} data-subscription={s.id}>
                  <td>subscription {s.id}{s.cancelled ? <span class="muted"> (cancelled)</span> : null}</td>
                  <td><Addr a={s.consumer} /></td>
                  <td><Link href={`/models/${s.model}`}>{s.model}</Link></td>
                  <td>{s.runs} run(s) every {duration(s.period)}</td>
                  <td><Vtn v={s.feePerRun} /></td>
                  <td><Vtn v={s.keeperReward} /></td>
                  <td data-field="runs">
                    {s.triggered.length === 0 ? "none yet" : s.triggered.map((r, i) => <span key={r.run}>{i > 0 ? ", " : ""}run {r.run}: <Link href={`/jobs/${r.job}`}>job {r.job}</Link></span>)}
                  </td>
                  <td><Time t={s.created.time} /></td>
                </tr>
              ))}
            </tbody>
          </table>
          {subs.length === 0 ? <p class="muted">No subscription has been created.</p> : null}
        </>
      )}
    </Page>
  );
}
