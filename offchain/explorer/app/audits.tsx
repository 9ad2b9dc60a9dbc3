/** Audits: the pool (in, out, balance), the parameters in force, recent audits, missed slots; and the redundancy groups. */
import type { AuditRow, AuditsView, MissedSlot } from "../api.js";
import { GroupSection } from "./jobs.js";
import { Addr, Link, Page, Place, Rows, StatusTag, Vtn, short, useApi } from "./util.js";

export function AuditsTable({ audits }: { audits: readonly AuditRow[] }) {
  return (
    <table class="list" data-list="audits">
      <thead>
        <tr><th>job</th><th>auditor</th><th>slot</th><th>status</th><th>reward</th><th>slashed</th><th>dispute</th><th>committed</th></tr>
      </thead>
      <tbody>
        {audits.map((a) => (
          <tr key={`${a.job}:${a.auditor}`} data-audit={a.job}>
            <td><Link href={`/jobs/${a.job}`}>job {a.job}</Link></td>
            <td><Addr a={a.auditor} /></td>
            <td>{a.slot}</td>
            <td><StatusTag s={a.status} />{a.settled ? "" : <span class="muted"> (not settled)</span>}</td>
            <td><Vtn v={a.reward} /></td>
            <td><Vtn v={a.slashed} /></td>
            <td>{a.game ? <Link href={`/disputes/${a.game}`}>{short(a.game)}</Link> : ""}</td>
            <td><Place at={a.committed} /></td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function MissedTable({ missed }: { missed: readonly MissedSlot[] }) {
  return (
    <table class="list" data-list="missed">
      <thead><tr><th>job</th><th>drawn auditor</th><th>slot</th><th>penalty</th><th>charged</th></tr></thead>
      <tbody>
        {missed.map((m, i) => (
          <tr key={i} data-missed={m.job}>
            <td><Link href={`/jobs/${m.job}`}>job {m.job}</Link></td>
            <td><Addr a={m.auditor} /></td>
            <td>{m.slot}</td>
            <td><Vtn v={m.penalty} /></td>
            <td><Place at={m.at} /></td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function AuditsPage() {
  const loaded = useApi<AuditsView>("/api/audits");
  return (
    <Page loaded={loaded} title="audits">
      {(v) => (
        <>
          <h1>Audits</h1>
          {!v.enabled ? (
            <p class="muted" data-field="no-audits">This deployment has no audit manager: its results are not audited, and no share of fees funds a pool.</p>
          ) : (
            <>
              <div class="cols">
                <div>
                  <h2>The pool</h2>
                  <Rows
                    rows={[
                      ["balance", <span data-field="pool-balance"><Vtn v={v.pool!.balance} /> (what rewards can be paid from)</span>],
                      ["in", <span data-field="pool-in"><Vtn v={v.pool!.funded} /> funded (collected fee shares, slashes <Vtn v={v.pool!.slashes} />, miss penalties <Vtn v={v.pool!.penalties} />, gifts), and <Vtn v={v.pool!.uncollected} /> of fee shares still with the escrow</span>],
                      ["out", <span data-field="pool-out"><Vtn v={v.pool!.rewards} /> of rewards to auditors</span>],
                      ["fee shares", <span><Vtn v={v.pool!.feeShares} /> credited by the escrow at finalization</span>],
                      ["manager", <Addr a={v.manager} />],
                    ]}
                  />
                </div>
                <div>
                  <h2>Parameters in force</h2>
                  <Rows rows={v.params!.map((p) => [p.name, p.value] as [string, string])} />
                  <p class="muted" data-field="audit-counts">
                    {v.counts!.committed} audit(s) committed: {v.counts!.passed} passed, {v.counts!.mismatch} mismatch, {v.counts!.unrevealed} settled unrevealed; {v.counts!.missedSlots} slot(s) missed.
                  </p>
                </div>
              </div>
              <h2>Recent audits</h2>
              {v.audits.length > 0 ? <AuditsTable audits={v.audits} /> : <p class="muted">No audit has been committed.</p>}
              <h2>Missed slots and penalties</h2>
              {v.missed.length > 0 ? <MissedTable missed={v.missed} /> : <p class="muted">No drawn auditor has let its slot pass.</p>}
            </>
          )}
          <h2>Redundancy groups</h2>
          {v.groups.length > 0 ? v.groups.map((g) => <GroupSection key={g.id} g={g} />) : <p class="muted">No redundancy group has been requested.</p>}
        </>
      )}
    </Page>
  );
}
