/** Workers and challengers: stake, jobs served, earnings, slashes, disputes won and lost. */
import type { AccountDetail, AccountSummary } from "../api.js";
import { AuditsTable, MissedTable } from "./audits.js";
import { GamesTable } from "./disputes.js";
import { JobsTable } from "./jobs.js";
import { Addr, Link, Page, Place, Rows, Time, Vtn, useApi } from "./util.js";

export function AccountsPage() {
  const loaded = useApi<AccountSummary[]>("/api/accounts");
  return (
    <Page loaded={loaded} title="workers and challengers">
      {(accounts) => (
        <>
          <h1>Workers and challengers</h1>
          <table class="list" data-list="accounts">
            <thead>
              <tr><th>account</th><th>roles</th><th>staked</th><th>locked</th><th>free</th><th>jobs served</th><th>earned</th><th>slashed</th><th>disputes won / lost</th></tr>
            </thead>
            <tbody>
              {accounts.map((a) => (
                <tr key={a.address} data-account={a.address}>
                  <td><Addr a={a.address} /></td>
                  <td>{a.roles.join(", ")}</td>
                  <td><Vtn v={a.stake.staked} /></td>
                  <td><Vtn v={a.stake.locked} /></td>
                  <td><Vtn v={a.stake.free} /></td>
                  <td>{a.jobsServed}</td>
                  <td><Vtn v={a.earned} /></td>
                  <td><Vtn v={a.slashed} /></td>
                  <td>{a.disputesWon} / {a.disputesLost}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </Page>
  );
}

export function AccountView({ address }: { address: string }) {
  const loaded = useApi<AccountDetail>(`/api/accounts/${encodeURIComponent(address)}`);
  return (
    <Page loaded={loaded} title={`account ${address}`}>
      {(a) => (
        <>
          <h1>Account <Addr a={a.address} /></h1>
          <div class="cols">
            <div>
              <h2>Stake</h2>
              <Rows
                rows={[
                  ["staked", <span data-field="staked"><Vtn v={a.stake.staked} /></span>],
                  ["locked", <span data-field="locked"><Vtn v={a.stake.locked} /></span>],
                  ["free", <span data-field="free"><Vtn v={a.stake.free} /></span>],
                  ["unbonding", <span><Vtn v={a.stake.unbonding} />{a.stake.unbondingEnd ? <span> until <Time t={a.stake.unbondingEnd} /></span> : null}</span>],
                  ["serves models", a.serves.length === 0 ? "none declared" : <span>{a.serves.map((m, i) => <span key={m}>{i > 0 ? ", " : ""}<Link href={`/models/${m}`}>{m}</Link></span>)}</span>],
                  ["roles", a.roles.join(", ") || "-"],
                ]}
              />
            </div>
            <div>
              <h2>Work and money</h2>
              <Rows
                rows={[
                  ["jobs served", <span data-field="served">{a.jobsServed} (claimed {a.jobs.claimed}, finalized {a.jobs.finalized}, rejected {a.jobs.rejected}, timed out {a.jobs.timedOut})</span>],
                  ["earned", <span data-field="earned"><Vtn v={a.earned} /> (worker fees of finalized jobs)</span>],
                  ["credited", <span>escrow <Vtn v={a.credits.escrow} />, dispute factory <Vtn v={a.credits.disputes} />, audit rewards <Vtn v={a.credits.audits} />; withdrawn <Vtn v={a.credits.withdrawn} /></span>],
                  ["audits", <span data-field="audits">{a.audits.length} made ({a.audits.filter((x) => x.status === "passed").length} passed, {a.audits.filter((x) => x.status === "mismatch").length} mismatch, {a.audits.filter((x) => x.status === "committed").length} unrevealed); {a.missedAudits.length} slot(s) missed</span>],
                  ["slashed", <span data-field="slashed"><Vtn v={a.slashed} /> in {a.slashes.length} slash(es)</span>],
                  ["disputes", <span data-field="disputes">won {a.disputesWon}, lost {a.disputesLost}</span>],
                  ["jobs requested", String(a.requested)],
                ]}
              />
            </div>
          </div>
          {a.slashes.length > 0 ? (
            <>
              <h2>Slashes</h2>
              <ul data-list="slashes">{a.slashes.map((s, i) => <li key={i}><Vtn v={s.amount} /> {s.job !== undefined ? <Link href={`/jobs/${s.job}`}>job {s.job}</Link> : null}: {s.why}, <Place at={s.at} /></li>)}</ul>
            </>
          ) : null}
          {a.audits.length > 0 ? (
            <>
              <h2>Audits</h2>
              <AuditsTable audits={a.audits} />
            </>
          ) : null}
          {a.missedAudits.length > 0 ? (
            <>
              <h2>Missed audit slots</h2>
              <MissedTable missed={a.missedAudits} />
            </>
          ) : null}
          {a.disputes.length > 0 ? (
            <>
              <h2>Disputes</h2>
              <GamesTable games={a.disputes} />
            </>
          ) : null}
          {a.recentJobs.length > 0 ? (
            <>
              <h2>Recent jobs</h2>
              <JobsTable jobs={a.recentJobs} />
              <p><Link href={`/jobs?worker=${a.address}`}>every job it served</Link></p>
            </>
          ) : null}
        </>
      )}
    </Page>
  );
}
