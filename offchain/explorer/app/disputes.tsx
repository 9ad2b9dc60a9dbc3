/** Disputes: every game, and one game move by move, its bisection drawn as it narrowed, the one step. */
import type { DescentStep, GameDetail, GameSummary } from "../api.js";
import { Addr, Hash, Link, Page, Place, Rows, StatusTag, Time, Vtn, duration, short, useApi } from "./util.js";

export function GamesTable({ games }: { games: readonly GameSummary[] }) {
  return (
    <table class="list" data-list="games">
      <thead>
        <tr><th>game</th><th>job</th><th>defender</th><th>challenger</th><th>status</th><th>level</th><th>disputed</th><th>moves</th><th>opened</th></tr>
      </thead>
      <tbody>
        {games.map((g) => (
          <tr key={g.game} data-game={g.game}>
            <td><Link href={`/disputes/${g.game}`}><span class="mono">{short(g.game)}</span></Link></td>
            <td><Link href={`/jobs/${g.job}`}>job {g.job}</Link>{g.item !== undefined ? <span class="muted" data-field="item"> item {g.item}</span> : null}</td>
            <td><Addr a={g.defender} /></td>
            <td><Addr a={g.challenger} /></td>
            <td><StatusTag s={g.status} /></td>
            <td>{g.level}</td>
            <td>{g.layer !== undefined ? `layer ${g.layer} (${g.kind ?? "?"})${g.element !== undefined ? `, element ${g.element}` : ""}` : "-"}</td>
            <td>{g.moves}</td>
            <td><Time t={g.opened.time} /></td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function DisputesPage() {
  const loaded = useApi<GameSummary[]>("/api/disputes");
  return (
    <Page loaded={loaded} title="disputes">
      {(games) => (
        <>
          <h1>Disputes</h1>
          <GamesTable games={games} />
          {games.length === 0 ? <p class="muted">No dispute has been opened.</p> : null}
        </>
      )}
    </Page>
  );
}

/** A bar over `total` positions with the span [lo, hi) lit: where the cursor is, at one level. */
function Span({ lo, hi, total, mark }: { lo: number; hi: number; total: number; mark?: number }) {
  const pct = (x: number) => `${(x / Math.max(total, 1)) * 100}%`;
  return (
    <div class="span" title={`${lo}..${hi - 1} of ${total}`}>
      <div class="lit" style={{ left: pct(lo), width: pct(Math.max(hi - lo, total / 200)) }} />
      {mark !== undefined ? <div class="mark" style={{ left: pct(mark) }} /> : null}
    </div>
  );
}

function Descent({ steps, depth, leafName, list }: { steps: readonly DescentStep[]; depth: number; leafName: string; list: string }) {
  const total = 2 ** depth;
  return (
    <table class="list descent" data-list={list}>
      <thead><tr><th>depth</th><th>node</th><th>covers</th><th></th><th>defender's children</th><th>challenger's children</th><th>went</th></tr></thead>
      <tbody>
        {steps.map((s) => {
          const width = 2 ** (depth - s.depth);
          const lo = s.index * width;
          const differ = (k: "left" | "right") => s.defender && s.challenger && s.defender[k] !== s.challenger[k];
          return (
            <tr key={`${s.depth}:${s.index}`} data-depth={s.depth}>
              <td>{s.depth}</td>
              <td>{s.index}</td>
              <td>{leafName} {lo}–{lo + width - 1}</td>
              <td class="spancell"><Span lo={lo} hi={lo + width} total={total} /></td>
              <td class="mono small">{s.defender ? <><span class={differ("left") ? "differ" : ""}>{short(s.defender.left, 8)}</span> <span class={differ("right") ? "differ" : ""}>{short(s.defender.right, 8)}</span></> : "…"}</td>
              <td class="mono small">{s.challenger ? <><span class={differ("left") ? "differ" : ""}>{short(s.challenger.left, 8)}</span> <span class={differ("right") ? "differ" : ""}>{short(s.challenger.right, 8)}</span></> : "…"}</td>
              <td>{s.went ?? "…"}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

export function DisputeView({ game }: { game: string }) {
  const loaded = useApi<GameDetail>(`/api/disputes/${encodeURIComponent(game)}`);
  return (
    <Page loaded={loaded} title={`dispute ${game}`}>
      {(g) => (
        <>
          <h1>Dispute on <Link href={`/jobs/${g.job}`}>job {g.job}</Link> <StatusTag s={g.status} /></h1>
          <div class="cols">
            <div>
              <Rows
                rows={[
                  ["game", <span class="mono">{g.game}</span>],
                  ...(g.batchSize > 1
                    ? [["batch item", <span data-field="item">{g.item !== undefined ? <span>item <b>{g.item}</b> of the job's {g.batchSize} (<Link href={`/jobs/${g.job}#item-${g.item}`}>its input and output</Link>)</span> : `not named (a batch of ${g.batchSize})`}</span>] as [string, preact.ComponentChildren]]
                    : []),
                  ["defender", <span><Addr a={g.defender} /> (the worker; its locked stake is its collateral)</span>],
                  ["challenger", <span><Addr a={g.challenger} /> (bond <Vtn v={g.bond} />, commitment rank {g.rank})</span>],
                  ["trace roots", <span>defender <Hash h={g.roots.defender} />, challenger <Hash h={g.roots.challenger} /></span>],
                  ["clock", `${duration(g.clock.moveTimeout)} per move, +${duration(g.clock.perGame)} per further game on the job, at most ${duration(g.clock.max)}`],
                  ["level", <span data-field="level">{g.level}</span>],
                  ...(g.reason ? [["why it ended", <span data-field="reason">{g.reason}</span>] as [string, preact.ComponentChildren]] : []),
                  ...(g.live ? [["to move", <span>{g.live.turn}: {g.live.next}; deadline <Time t={g.live.deadline} /> ({g.live.deadline >= g.live.now ? `${duration(g.live.deadline - g.live.now)} left` : "missed: anyone may time it out"})</span>] as [string, preact.ComponentChildren]] : []),
                ]}
              />
            </div>
            <div>
              <h2>Bonds, slashes, payouts</h2>
              <Rows
                rows={[
                  ["bond", <Vtn v={g.bond} />],
                  ["slashed", <span data-field="slashed"><Vtn v={g.money.slashed} /></span>],
                  ["burned", <Vtn v={g.money.burned} />],
                  ["refunded to the requester", <Vtn v={g.money.refunded} />],
                  ["credited", g.money.credits.length === 0 ? "nobody yet" : <span>{g.money.credits.map((c, i) => <div key={i}><Vtn v={c.amount} /> to <Addr a={c.account} /></div>)}</span>],
                  ["job's disputes", g.money.closed ? <span>closed: challenger reward <Vtn v={g.money.closed.challengerReward} />, defender reward <Vtn v={g.money.closed.defenderReward} />, burned <Vtn v={g.money.closed.burned} /></span> : "not closed yet"],
                ]}
              />
            </div>
          </div>

          <h2>Moves</h2>
          <table class="list moves" data-list="moves">
            <thead><tr><th>#</th><th>side</th><th>move</th><th>when</th><th>clock</th><th>gas</th></tr></thead>
            <tbody>
              {g.timeline.map((m) => (
                <tr key={m.n} data-move={m.n} class={`side-${m.side}`}>
                  <td>{m.n}</td>
                  <td>{m.side}</td>
                  <td>{m.what}</td>
                  <td><Place at={m.at} /></td>
                  <td class="small">
                    {m.used !== undefined && m.allowed !== undefined ? <div>took {duration(m.used)} of its {duration(m.allowed)}</div> : null}
                    {m.nextSide && m.nextDeadline !== undefined ? <div class="muted">{m.nextSide} due by <Time t={m.nextDeadline} /></div> : null}
                  </td>
                  <td class="num">{m.gasUsed ? Number(m.gasUsed).toLocaleString("en-US") : ""}</td>
                </tr>
              ))}
            </tbody>
          </table>

          <h2>The bisection</h2>
          <h3>1. Trace: the first layer the sides disagree on</h3>
          <p class="muted">Trace leaves: the input, then the outputs of the {g.trace.numLayers} layers, padded to {2 ** g.trace.depth}; each level keeps the node whose hashes differ.</p>
          <Descent steps={g.trace.steps} depth={g.trace.depth} leafName="leaves" list="trace" />
          {g.trace.leaf !== undefined ? <p data-field="trace-leaf">Landed on trace leaf <b>{g.trace.leaf}</b>{g.disputedLayer ? <span>: layer {g.disputedLayer.index} ({g.disputedLayer.kind}), {g.disputedLayer.numel} elements{g.disputedLayer.reduction > 0 ? `, each a sum of ${g.disputedLayer.reduction} terms` : ""}</span> : null}.</p> : null}
          {g.tensor ? (
            <>
              <h3>2. Tensor: the first chunk, then the first element</h3>
              <Descent steps={g.tensor.steps} depth={g.tensor.depth} leafName="chunks" list="tensor" />
              {g.tensor.chunk !== undefined ? <p data-field="chunk">Both sides revealed chunk <b>{g.tensor.chunk}</b> (elements {g.tensor.chunk * 256}–{g.tensor.chunk * 256 + 255}).</p> : null}
            </>
          ) : null}
          {g.disputedElement ? (
            <div data-field="element">
              <p>First differing element: <b>{g.disputedElement.index}</b>, the defender claims <b>{g.disputedElement.defenderValue}</b>, the challenger <b>{g.disputedElement.challengerValue}</b>.</p>
              <table class="list small">
                <thead><tr><th>element</th>{g.disputedElement.around.map((a) => <th key={a.index} class={a.index === g.disputedElement!.index ? "differ" : ""}>{a.index}</th>)}</tr></thead>
                <tbody>
                  <tr><th>defender</th>{g.disputedElement.around.map((a) => <td key={a.index} class={a.defender !== a.challenger ? "differ num" : "num"}>{a.defender}</td>)}</tr>
                  <tr><th>challenger</th>{g.disputedElement.around.map((a) => <td key={a.index} class={a.defender !== a.challenger ? "differ num" : "num"}>{a.challenger}</td>)}</tr>
                </tbody>
              </table>
            </div>
          ) : null}
          {g.reduction ? (
            <>
              <h3>3. Reduction: one term of the sum</h3>
              <p class="muted">Partial sums s_0 … s_{g.reduction.length}: the accumulators first, then each round halves the disputed span [lo, hi].</p>
              <table class="list" data-list="reduction">
                <thead><tr><th>round</th><th>index</th><th>defender</th><th>challenger</th><th></th><th>span after</th><th></th></tr></thead>
                <tbody>
                  {g.reduction.rounds.map((r, i) => (
                    <tr key={i} data-round={i}>
                      <td>{i === 0 ? "accumulators" : i}</td>
                      <td>s_{r.index}</td>
                      <td class="num">{r.defender ?? "…"}</td>
                      <td class="num">{r.challenger ?? "…"}</td>
                      <td>{r.agreed === undefined ? "" : r.agreed ? "agree" : <span class="differ">differ</span>}</td>
                      <td>{r.lo !== undefined ? `[${r.lo}, ${r.hi}]` : ""}</td>
                      <td class="spancell">{r.lo !== undefined ? <Span lo={r.lo} hi={(r.hi ?? r.lo) + 1} total={g.reduction!.length + 1} /> : null}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </>
          ) : null}
          {g.step ? (
            <div class="step" data-field="step">
              <h3>The one-step check</h3>
              <Rows
                rows={[
                  ["op", <span data-field="op">{g.step.op} ({g.step.phase}{g.step.term !== undefined ? `, term ${g.step.term}` : ""})</span>],
                  ["claim", g.step.claim],
                  ["defender", <span class="num" data-field="defender-value">{g.step.defenderValue ?? "-"}</span>],
                  ["challenger", <span class="num" data-field="challenger-value">{g.step.challengerValue ?? "-"}</span>],
                  ["operands", g.step.operands.length === 0 ? g.step.note ?? "-" : <span>{g.step.operands.map((o) => <div key={o.name} data-operand={o.name}><span class="mono">{o.name}</span> = <b>{o.value}</b></div>)}</span>],
                  ["computed on-chain", <span class="num" data-field="truth">{g.step.truth}</span>],
                  ["check", <span class="mono wrap" data-field="formula">{g.step.formula ?? "-"}</span>],
                  ["run by", <span><Addr a={g.step.caller} />, proofs against the {g.step.against ?? "?"}'s trace, <Place at={g.step.at} /></span>],
                ]}
              />
            </div>
          ) : null}
        </>
      )}
    </Page>
  );
}
