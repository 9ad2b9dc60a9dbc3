/**
 * The economic report: every experiment of experiments.ts, run once, rendered as Markdown
 * tables. `npx hardhat econ simulate` prints it; the `economics` benchmark section writes it into
 * BENCHMARKS.md; docs/ECONOMICS.md explains it.
 */
import type { AssignmentFigures, AuditFigures, CheatingSweep, ClassFigures, EconomicsOptions, FeeRow, MissRow, NetworkRun, RedundancyRow, SybilRow, VerifierFigures, EpochRow } from "./experiments.js";
import {
  assignmentFigures,
  auditFigures,
  cheatingSweep,
  classFigures,
  feeSweep,
  missFigures,
  networkRuns,
  redundancyFigures,
  sybilTable,
  verifierFigures,
} from "./experiments.js";
import { net } from "./model.js";
import { bpsText, formatVtn, percent } from "./units.js";

export interface EconomicsReport {
  readonly options: EconomicsOptions;
  readonly classes: readonly ClassFigures[];
  readonly sweep: CheatingSweep;
  readonly fees: readonly FeeRow[];
  readonly audits: AuditFigures;
  readonly verifiers: VerifierFigures;
  readonly assignment: AssignmentFigures;
  readonly sybil: readonly SybilRow[];
  readonly miss: { readonly rows: readonly MissRow[]; readonly breakEven: readonly number[] };
  readonly redundancy: readonly RedundancyRow[];
  readonly network: readonly NetworkRun[];
  /** Wall time of the whole report, ms. */
  readonly ms: number;
}

export function economicsReport(o: EconomicsOptions): EconomicsReport {
  const started = Date.now();
  const report = {
    options: o,
    classes: classFigures(o),
    sweep: cheatingSweep(o),
    fees: feeSweep(o),
    audits: auditFigures(o),
    verifiers: verifierFigures(o),
    assignment: assignmentFigures(o),
    sybil: sybilTable(o),
    miss: missFigures(o),
    redundancy: redundancyFigures(o),
    network: networkRuns(o),
  };
  return { ...report, ms: Date.now() - started };
}

// ------------------------------------------------------------------------------------------------ rendering

const fmt = (n: bigint | number): string => n.toLocaleString("en-US");
const v = (wei: bigint, digits = 4): string => formatVtn(wei, digits);

/** A Markdown table; columns after the first are right-aligned unless `left` names them. */
export function table(head: readonly string[], rows: readonly (readonly string[])[], left: readonly number[] = [0]): string {
  const align = head.map((_, i) => (left.includes(i) ? "---" : "---:"));
  return [`| ${head.join(" | ")} |`, `|${align.join("|")}|`, ...rows.map((r) => `| ${r.join(" | ")} |`)].join("\n");
}

function assumptions(r: EconomicsReport): string {
  const { protocol: p, mechanism: m, costs, models } = r.options;
  const pr = costs.prices;
  const usd = (micros: bigint) => `$${(Number(micros) / 1e6).toLocaleString("en-US", { maximumFractionDigits: 6 })}`;
  const rows: string[][] = [
    ["protocol fee; stake ratio; minimum lock", `${bpsText(p.protocolFeeBps)}; ${p.stakeRatioBps / 10_000}× the fee; ${v(p.minJobLock, 0)} VTN`, "ignition/defaults.ts (PRODUCTION)"],
    ["timeout slash; challenge bond; challenger / defender reward", `${bpsText(p.timeoutSlashBps)} of the lock; ${v(p.challengeBond, 0)} VTN; ${bpsText(p.challengerRewardBps)} / ${bpsText(p.defenderRewardBps)}`, "ignition/defaults.ts"],
    ["minimum stake", `${v(p.minStake, 0)} VTN`, "ignition/defaults.ts"],
    ["gas price; ETH; VTN", `${(Number(pr.gasPriceWei) / 1e9).toString()} gwei; ${usd(pr.ethUsdMicros)}; ${usd(pr.vtnUsdMicros)}`, "assumed (an L2's gas price)"],
    ["so one gas costs", `${v(costs.gasCost(1_000_000n), 4)} VTN per million gas`, "derived"],
    ["CPU; a node's fixed cost", `${usd(pr.cpuUsdMicrosPerHour)} per core-hour; ${usd(pr.nodeUsdMicrosPerHour)} per hour`, "assumed (a cloud vCPU)"],
    [
      "gas: claim, submit, finalize; lost claim",
      `${fmt(costs.gas.claim)}, ${fmt(costs.gas.submit)}, ${fmt(costs.gas.finalize)}; ${fmt(costs.gas.lostClaim)}`,
      "measured (BENCHMARKS.md \"Gas\"; issue 18)",
    ],
    ["gas: the draw's extra per claim; an audit (commit + reveal + settle)", `${fmt(costs.gas.drawExtra)}; ${fmt(costs.gas.audit)}`, "measured (a roster claim in test/nodes/assignment.test.ts; BENCHMARKS.md \"Audits\")"],
    [
      "gas: challenger vs a silent cheater; challenger / defender played out",
      `${fmt(costs.gas.disputeUndefended)}; ${fmt(costs.gas.disputeChallenger)} / ${fmt(costs.gas.disputeDefender)}`,
      "measured (BENCHMARKS.md \"Disputes\"), rounded",
    ],
    ["jobs", `${fmt(r.options.jobs)} per run, ${r.options.jobsPerSecond} per second, locks held ${r.options.challengeWindowS} s`, "assumed"],
    ...models.map((c) => [
      `job mix: ${c.name}`,
      `${percent(c.share, 0)} of jobs, fee ${v(c.fee, 2)} VTN, price ${v(c.price, 2)} VTN, inference ${(Number(c.inferenceMicros) / 1000).toString()} ms CPU`,
      "inference measured (BENCHMARKS.md \"Inference\"); fees assumed",
    ]),
    [
      "mechanism (the chosen defaults unless overridden)",
      `audit ≥ ${bpsText(m.auditRateBps)}, rule ${m.auditSafetyBps / 10_000}× break-even; audit fee ${bpsText(m.auditFeeBps)}; reward ${v(m.auditReward, 2)} VTN; miss penalty ${bpsText(m.missPenaltyBps)} / ${bpsText(m.auditMissPenaltyBps)} of the lock; cap ${v(m.weightCap, 0)} VTN`,
      "offchain/economics/params.ts",
    ],
  ];
  return table(["what", "value", "source"], rows, [0, 1, 2]);
}

function classTable(r: EconomicsReport): string {
  const rows = r.classes.map((c) => [
    c.job.model.name,
    v(c.job.split.fee, 2),
    v(c.job.split.worker),
    v(c.job.lock, 0),
    v(c.job.compute, 8),
    v(c.job.gasClaimSubmit + c.job.gasFinalize),
    v(c.job.honestProfit),
    percent(c.breakEvenNoGas),
    percent(c.breakEven),
    bpsText(c.job.auditRateBps),
    v(c.evAtRuleNoGas),
    v(c.evAtRule),
  ]);
  return table(["model", "fee", "worker's part w", "lock L", "compute c", "worker's gas", "honest profit", "break-even p*, no gas", "p*, with gas", "audit rate (rule)", "cheating EV at it, no gas", "with gas"], rows);
}

function sweepTable(r: EconomicsReport): string {
  const names = r.options.models.map((m) => m.name);
  const head = ["flat audit rate", ...names.flatMap((n) => [`${n}: analytic`, "simulated"])];
  const rows = r.sweep.points.map((p) => [bpsText(p.rateBps), ...p.classes.flatMap((c) => [v(c.analytic), v(c.simulated)])]);
  rows.push([
    "**break-even**",
    ...r.sweep.breakEven.flatMap((b) => [`**${percent(b.analytic)}**`, `**${percent(b.simulated)}** ± ${percent(b.error)}`]),
  ]);
  return table(head, rows);
}

function feeTable(r: EconomicsReport): string {
  const rows = r.fees.map((f) => [v(f.fee, 1), v(f.lock, 0), v(f.worker, 3), percent(f.breakEvenNoGas), v(f.evFlat1, 3), v(f.evFlat5, 3), bpsText(f.ruleRateBps), v(f.evAtRuleNoGas, 3)]);
  return table(["fee", "lock", "w", "break-even (no gas)", "EV at a flat 1%", "at a flat 5%", "rule's rate", "EV at the rule"], rows);
}

function auditTables(r: EconomicsReport): string {
  const a = r.audits;
  const m = r.options.mechanism;
  const classRows = a.classes.map((c) => [
    c.model,
    v(c.cost),
    v(c.honest),
    v(c.lazySaves, 8),
    v(c.lazyVisibleUnchecked),
    v(c.lazyVisibleChecked),
    v(c.lazyHidden, 2),
    percent(c.forcedErrorRate, 6),
  ]);
  const lazyRows = a.lazyRuns.map((l) => [
    l.visible ? "visible (today's submission)" : "hidden until the auditor commits",
    fmt(l.audits),
    fmt(l.cheats),
    fmt(l.auditedCheats),
    `${fmt(l.caughtByAudit)} (${percent(l.auditedCheats === 0 ? Number.NaN : l.caughtByAudit / l.auditedCheats, 0)}; honest weight ${percent(l.honestAuditorShare, 0)})`,
    fmt(l.wrongFinal),
    fmt(l.wrongfulAudits),
    v(l.honestPerAudit),
    v(l.lazyPerAudit, 2),
  ]);
  return [
    `Per audit, with a reward of ${v(m.auditReward, 2)} VTN (the lazy columns: 1% of audited results wrong):`,
    "",
    table(
      ["model", "honest auditor's cost", "honest auditor's profit", "laziness saves", "lazy, output visible, nobody else checks", "lazy, visible, a verifier checks", "lazy, output hidden", "forced errors that deter laziness"],
      classRows,
    ),
    "",
    `The pool pays for itself from an audit fee of ${bpsText(Math.ceil(a.selfFundingFeeBps))} of every fee at these rates (chosen: ${bpsText(m.auditFeeBps)}).`,
    "",
    "Simulated: twelve equal accounts of which four audit lazily, one account with 30% of the stake cheating on every job, no independent verifier:",
    "",
    table(["worker's output", "audits", "cheated jobs", "of them audited", "caught by audits", "wrong results final", "honest results disputed", "honest auditor, per audit", "lazy auditor, per audit"], lazyRows),
  ].join("\n");
}

function epochTable(rows: readonly EpochRow[]): string {
  return table(
    ["epoch", "active verifiers", "cheater's belief", "cheated", "caught by audit", "by verifier", "wrong final", "cheater's profit", "verifiers' profit"],
    rows.map((e) => [String(e.epoch), String(e.activeVerifiers), percent(e.belief, 0), fmt(e.cheats), fmt(e.caughtByAudit), fmt(e.caughtByVerifier), fmt(e.wrongFinal), v(e.cheaterProfit, 2), v(e.verifierProfit, 2)]),
  );
}

function verifierTables(r: EconomicsReport): string {
  const f = r.verifiers;
  return [
    `One verifier checking every ${r.options.models[0]!.name} result (${fmt(f.jobsPerHour)} jobs an hour), VTN per hour, by the share of results that are wrong:`,
    "",
    table(
      ["wrong results", "no audits", "with the default audits"],
      f.rows.map((x) => [percent(x.wrong, 2), v(x.alone, 3), v(x.withAudits, 3)]),
    ),
    "",
    `It breaks even when ${percent(f.breakEvenWrong, 3)} of results are wrong; with none wrong it only pays.`,
    "",
    "Best responses, epoch by epoch (a rational cheater with 10% of the stake; three verifiers who stay while it pays). Today, no audits:",
    "",
    epochTable(f.today),
    "",
    "With the audits:",
    "",
    epochTable(f.defaults),
  ].join("\n");
}

function assignmentTables(r: EconomicsReport): string {
  const a = r.assignment;
  const conc = [
    ["stake itself", percent(a.stake.top1, 1), String(a.stake.nakamoto), a.stake.hhi.toFixed(3), "", "", "", ""],
    ...a.runs.map((x) => [
      x.name,
      percent(x.concentration.top1, 1),
      String(x.concentration.nakamoto),
      x.concentration.hhi.toFixed(3),
      percent(x.maxDeviation, 0),
      x.revertedPerJob.toFixed(2),
      v(x.wastedPerJob, 5),
      x.missedPerJob.toFixed(3),
    ]),
  ];
  const names = a.runs.map((x) => x.name);
  const base = a.runs[0]!.shares;
  const per = [...base]
    .sort((p, q) => q.stakeShare - p.stakeShare)
    .map((s) => [s.name, percent(s.stakeShare, 1), ...a.runs.map((x) => percent(x.shares.find((y) => y.name === s.name)!.jobShare, 1))]);
  return [
    table(["rule", "top-1 share", "Nakamoto coefficient", "HHI", "largest deviation from stake share", "reverted claims per job", "their gas per job (VTN)", "missed slots per job"], conc),
    "",
    `The race is calibrated on issue 18's measurement: three equal workers on a 1-second-block chain revert ${a.threeEqualRevertedPerJob.toFixed(2)} claims per job in the model (measured: 0.22 to 0.48).`,
    "",
    "Each account's share of jobs against its share of stake:",
    "",
    table(["account", "stake share", ...names], per),
  ].join("\n");
}

function sybilTableMd(r: EconomicsReport): string {
  return table(
    ["operator's stake", "accounts", "weight vs one account: linear", `min(stake, ${v(r.options.mechanism.weightCap, 0)})`, "√stake"],
    r.sybil.map((s) => [v(s.stake, 0), String(s.parts), `${s.gain.linear.toFixed(2)}×`, `${s.gain.capped.toFixed(2)}×`, `${s.gain.sqrt.toFixed(2)}×`]),
  );
}

function missTable(r: EconomicsReport): string {
  const names = r.options.models.map((m) => m.name);
  return [
    table(
      ["availability", ...names.map((n) => `${n}: profit per draw`)],
      r.miss.rows.map((x) => [percent(x.availability, 0), ...x.perDraw.map((p) => v(p))]),
    ),
    "",
    `A worker loses money on its draws below ${r.miss.breakEven.map((b, i) => `${percent(b, 0)} availability (${names[i]})`).join(", ")}.`,
  ].join("\n");
}

function redundancyTable(r: EconomicsReport): string {
  return table(
    ["k", "requester pays", "cartel's stake s", "wrong result final: s^k", "exact (6 accounts, drawn without replacement)", "simulated"],
    r.redundancy.map((x) => [String(x.k), `${v(x.cost, 2)} VTN`, percent(x.colludingShare, 0), percent(x.approx, 2), percent(x.exact, 2), percent(x.simulated, 2)]),
  );
}

function networkTables(r: EconomicsReport): string {
  return r.network
    .map((n) => {
      const j = n.result.jobs;
      const t = n.result.tokens;
      const head = `**${n.name}**: ${fmt(j.served)} of ${fmt(j.requested)} jobs served, ${fmt(j.cheated)} cheated, ${fmt(j.caughtByAudit)} caught by audits, ${fmt(j.caughtByVerifier)} by the verifier, **${fmt(j.wrongFinal)} wrong results final**; ${fmt(j.revertedClaims)} reverted claims, ${fmt(j.missedSlots)} missed slots, ${fmt(j.openedToAll)} jobs opened to all after their drawn slots, ${fmt(j.stalls)} timeouts; audit pool in ${v(t.poolIn, 2)} VTN, out ${v(t.poolOut, 2)} VTN (${fmt(j.unpaidAudits)} audits unpaid while it filled); verifier's profit ${v(n.result.verifiers.reduce((s, x) => s + net(x.ledger), 0n), 2)} VTN.`;
      const rows = n.rows.map((x) => [
        x.kind,
        String(x.accounts),
        percent(x.stakeShare, 1),
        percent(x.jobShare, 1),
        v(x.profit, 2),
        fmt(x.cheats),
        fmt(x.caught),
        x.cheats === 0 ? "" : v(x.perCheat),
        fmt(x.missed),
      ]);
      return [head, "", table(["workers", "accounts", "stake share", "job share", "profit (VTN)", "cheated", "caught", "cheating's value per cheated job", "missed slots"], rows)].join("\n");
    })
    .join("\n\n");
}

/** The report as Markdown (the body of the `economics` section of BENCHMARKS.md). */
export function economicsMarkdown(r: EconomicsReport): string {
  const seedLine = `Seed ${String(r.options.seed)}; every figure is reproduced by \`npx hardhat econ simulate --seed ${String(r.options.seed)} --jobs ${r.options.jobs}\` (${(r.ms / 1000).toFixed(1)} s). Amounts in VTN. docs/ECONOMICS.md explains the model and the choices.`;
  return [
    "The deterministic agent-based model of offchain/economics/ (issue 18): staked workers (honest, lazy, cheating), auditors, independent verifiers and requesters, under the protocol's parameters and the measured gas and inference times.",
    seedLine,
    "",
    "### Assumptions",
    "",
    assumptions(r),
    "",
    "### One job: the worker's money and the break-even audit rate",
    "",
    "Cheating's expected value per cheated job is EV(p) = (1 − p)·(w − g_f) − p·L + c − g_cs (p: the chance of being caught; without gas, w + c − p·(w + L)). It is zero at p* = (w + c) / (w + L) without gas. The rule audits each job at twice its own p* (at least the floor).",
    "",
    classTable(r),
    "",
    "### Cheating: expected value per cheated job by audit rate (flat rate, no verifier)",
    "",
    "One account holding 60% of the stake cheats on every job; analytic EV with gas against the simulated mean over its cheated jobs.",
    "",
    sweepTable(r),
    "",
    "### A flat audit rate against the fee (model price half the fee, no gas)",
    "",
    feeTable(r),
    "",
    "### Auditing: what it pays, and lazy auditors",
    "",
    auditTables(r),
    "",
    "### Independent verifiers: the verifier's dilemma",
    "",
    verifierTables(r),
    "",
    "### Assignment: who gets the work (20 honest accounts)",
    "",
    assignmentTables(r),
    "",
    "### Sybil splitting: an operator's weight when it splits its stake",
    "",
    sybilTableMd(r),
    "",
    `### Missing a claim slot (penalty ${bpsText(r.options.mechanism.missPenaltyBps)} of the lock)`,
    "",
    missTable(r),
    "",
    "### Redundancy k: what it costs and what it buys (no audits; a cartel of accounts cheating together)",
    "",
    redundancyTable(r),
    "",
    "### The network: 20 accounts (16 honest, 2 lazy, 1 always cheating with 30,000 VTN, 1 cheating when it pays), today and with the draw and audits",
    "",
    networkTables(r),
  ].join("\n");
}

/** The headline figures (the task's summary, and the tests' targets). */
export function headline(r: EconomicsReport): string[] {
  const m = r.options.mechanism;
  const lines = [
    `Mechanism: audit rate ≥ ${bpsText(m.auditRateBps)}, and each job at ${m.auditSafetyBps / 10_000}× its break-even; audit fee ${bpsText(m.auditFeeBps)}; reward ${v(m.auditReward, 2)} VTN; miss penalty ${bpsText(m.missPenaltyBps)} of the lock; weight cap ${v(m.weightCap, 0)} VTN.`,
  ];
  r.classes.forEach((c, i) => {
    const b = r.sweep.breakEven[i]!;
    const honest = r.audits.classes[i]!;
    lines.push(
      `${c.job.model.name}: break-even audit rate ${percent(b.analytic)} analytic, ${percent(b.simulated)} simulated; at its audit rate ${bpsText(c.job.auditRateBps)} cheating EV ${v(c.evAtRule)} VTN per job (${v(c.evAtRuleNoGas)} without gas); an honest audit costs ${v(honest.cost)} and earns ${v(honest.honest)}.`,
    );
  });
  const [first, capped, racing] = [r.assignment.runs[0]!, r.assignment.runs[1]!, r.assignment.runs[4]!];
  lines.push(
    `Concentration (stake: top-1 ${percent(r.assignment.stake.top1, 1)}, Nakamoto ${r.assignment.stake.nakamoto}): the draw top-1 ${percent(capped.concentration.top1, 1)}, Nakamoto ${capped.concentration.nakamoto}, 0 reverted claims; first-come top-1 ${percent(first.concentration.top1, 1)}, Nakamoto ${first.concentration.nakamoto}, ${first.revertedPerJob.toFixed(2)} reverted claims per job, and one account that races takes ${percent(racing.concentration.top1, 1)} (Nakamoto ${racing.concentration.nakamoto}).`,
  );
  const noVerifier = r.network.find((n) => n.name === "draw + audits, no verifier")!;
  const todayNoVerifier = r.network.find((n) => n.name === "today, no verifier")!;
  lines.push(
    `Without any verifier: today ${fmt(todayNoVerifier.result.jobs.wrongFinal)} wrong results final of ${fmt(todayNoVerifier.result.jobs.requested)}; with the draw and audits ${fmt(noVerifier.result.jobs.wrongFinal)}, the always-cheater makes ${v(noVerifier.rows[2]!.perCheat)} VTN per cheated job (${v(noVerifier.rows[2]!.profit, 2)} in all), the rational cheater cheated ${fmt(noVerifier.rows[3]!.cheats)} times.`,
  );
  return lines;
}
