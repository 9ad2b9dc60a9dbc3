/** Governance: the parameters in force, proposals, the timelock's queue, and `gov power`'s figures. */
import type { ConcentrationView, GovernanceView } from "../api.js";
import { Addr, Page, Place, Time, Vtn, useApi } from "./util.js";

function Holders({ c, what, list }: { c: ConcentrationView; what: string; list: string }) {
  return (
    <>
      <table class="list" data-list={list}>
        <thead><tr><th>#</th><th>{what}</th><th>amount</th><th>share</th></tr></thead>
        <tbody>
          {c.holders.map((h, i) => (
            <tr key={h.account} data-holder={h.account}>
              <td>{i + 1}</td>
              <td><Addr a={h.account} /></td>
              <td><Vtn v={h.amount} /></td>
              <td class="num">{h.share}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {c.count > c.holders.length ? <p class="muted">… {c.count - c.holders.length} more</p> : null}
    </>
  );
}

const fewest = (n: number | null | undefined, total: string, what: string) => (total === "0" ? "- (none yet)" : n === null || n === undefined ? `none: all together do not reach ${what}` : String(n));

export function GovernancePage() {
  const loaded = useApi<GovernanceView>("/api/governance");
  return (
    <Page loaded={loaded} title="governance">
      {(g) => (
        <>
          <h1>Governance</h1>
          <div class="cols">
            <div>
              <h2>Voting power at block {g.power.block}</h2>
              <Holders c={g.power.votes} what="delegate" list="votes" />
              <table class="rows" data-list="power">
                <tbody>
                  <tr data-row="delegates"><th>delegates with votes</th><td>{g.power.votes.count}, together <Vtn v={g.power.votes.total} /></td></tr>
                  <tr data-row="top-10 share"><th>top-10 share</th><td>{g.power.votes.top10Share} of the votes</td></tr>
                  <tr data-row="votes / supply"><th>votes / supply</th><td><Vtn v={g.power.votes.total} /> of <Vtn v={g.power.supply} /> ({g.power.votesShareOfSupply}); the rest is not delegated and cannot vote</td></tr>
                  <tr data-row="quorum"><th>quorum</th><td><Vtn v={g.power.quorum} /></td></tr>
                  <tr data-row="to quorum"><th>fewest delegates reaching quorum</th><td>{fewest(g.power.votes.toQuorum, g.power.votes.total.wei, "the quorum")}</td></tr>
                  <tr data-row="nakamoto votes"><th>Nakamoto coefficient (votes)</th><td>{fewest(g.power.votes.majority, g.power.votes.total.wei, "a majority")}</td></tr>
                </tbody>
              </table>
              <h2>Stake among stakers</h2>
              <Holders c={g.power.stake} what="staker" list="stake" />
              <table class="rows">
                <tbody>
                  <tr data-row="stakers"><th>stakers</th><td>{g.power.stake.count}, together <Vtn v={g.power.stake.total} /></td></tr>
                  <tr data-row="stake top-10 share"><th>top-10 share</th><td>{g.power.stake.top10Share} of the stake</td></tr>
                  <tr data-row="nakamoto stake"><th>Nakamoto coefficient (stake)</th><td>{fewest(g.power.stake.majority, g.power.stake.total.wei, "a majority")}</td></tr>
                </tbody>
              </table>
            </div>
            <div>
              <h2>Parameters in force</h2>
              <table class="list" data-list="params">
                <thead><tr><th>parameter</th><th>value</th><th>bound</th></tr></thead>
                <tbody>
                  {g.params.map((p) => (
                    <tr key={p.name} data-param={p.name}><td class="mono">{p.name}</td><td>{p.value}</td><td class="muted">{p.bound}</td></tr>
                  ))}
                </tbody>
              </table>
            </div>
          </div>
          <h2>Proposals</h2>
          {g.proposals.length === 0 ? <p class="muted">No proposal has been made.</p> : null}
          {g.proposals.map((p) => (
            <div class="proposal" key={p.id} data-proposal={p.index}>
              <h3>#{p.index} {p.description} <span class={`tag tag-${p.state.toLowerCase()}`}>{p.state}</span></h3>
              <p>{p.timeline}</p>
              <p>by <Addr a={p.proposer} />, <Place at={p.created} />; for <Vtn v={p.votes.for} />, against <Vtn v={p.votes.against} />, abstain <Vtn v={p.votes.abstain} />; quorum <Vtn v={p.quorum} />; snapshot block {p.snapshot}, deadline block {p.deadline}{p.eta ? <span>, eta <Time t={p.eta} /></span> : null}</p>
              <ol>{p.actions.map((a, i) => <li key={i} class="mono small">{a}</li>)}</ol>
              {p.ballots.length > 0 ? <ul>{p.ballots.map((b, i) => <li key={i}><Addr a={b.voter} /> voted {b.support} with <Vtn v={b.weight} />{b.reason ? `: “${b.reason}”` : ""}</li>)}</ul> : null}
            </div>
          ))}
          <h2>Timelock queue</h2>
          {g.queue.length === 0 ? <p class="muted">Nothing has been scheduled.</p> : (
            <table class="list" data-list="queue">
              <thead><tr><th>operation</th><th>action</th><th>scheduled</th><th>ready at</th><th>status</th></tr></thead>
              <tbody>
                {g.queue.map((q) => (
                  <tr key={`${q.id}:${q.index}`}><td class="mono small">{q.id.slice(0, 10)}…/{q.index}</td><td class="small">{q.action}</td><td><Place at={q.scheduled} /></td><td><Time t={q.readyAt} /></td><td>{q.status}</td></tr>
                ))}
              </tbody>
            </table>
          )}
        </>
      )}
    </Page>
  );
}
