/**
 * Governance on the command line: resolving `--target jobs` to an address, and the lines that
 * `gov show` and `gov power` print.
 */
import { getAddress, isAddress } from "ethers";

import type { Concentration, PowerReport, Protocol, ProposalView } from "../clients/index.js";
import { VeritensorError, formatTime, formatVtn, proposalTimeline } from "../clients/index.js";

const ROLES: Readonly<Record<string, keyof Protocol["addresses"]>> = {
  jobs: "jobManager",
  disputes: "disputeFactory",
  staking: "staking",
  governor: "governor",
  timelock: "timelock",
  token: "token",
  registry: "registry",
  roster: "roster",
};

/** `--target`: an address, or a contract's short name (jobs, disputes, staking, governor, timelock, token, roster). */
export function targetAddress(p: Protocol, target: string): string {
  const t = target.trim();
  if (isAddress(t)) return getAddress(t);
  const role = ROLES[t];
  if (!role) throw new VeritensorError(`--target "${target}" is neither an address nor one of ${Object.keys(ROLES).join(", ")}`);
  const address = p.addresses[role];
  if (address === undefined) throw new VeritensorError(`--target ${t}: this deployment has no ${t} (claims are first-come)`);
  return address;
}

/** `12.5%` of `total`. */
export function share(amount: bigint, total: bigint): string {
  if (total === 0n) return "-";
  return `${(Number((amount * 1_000_000n) / total) / 10_000).toFixed(2)}%`;
}

const bpsShare = (bps: bigint) => `${(Number(bps) / 100).toFixed(2)}%`;

/** The `key: value` rows of one proposal. */
export function proposalRows(v: ProposalView): [string, string | undefined][] {
  const counted = v.votes.for + v.votes.abstain;
  return [
    ["id", String(v.id)],
    ["state", `${v.state}: ${proposalTimeline(v)}`],
    ["proposer", v.proposer],
    ["description", v.description],
    ["votes for", formatVtn(v.votes.for)],
    ["votes against", formatVtn(v.votes.against)],
    ["votes abstain", formatVtn(v.votes.abstain)],
    ["quorum", `${formatVtn(v.quorum)} (for + abstain: ${formatVtn(counted)}, ${counted >= v.quorum ? "reached" : "not reached"})`],
    ["snapshot", `block ${v.snapshot} (votes delegated by then count)`],
    ["deadline", `block ${v.deadline} (the head is ${v.head})`],
    ["eta", v.eta === 0n ? undefined : formatTime(v.eta, v.now)],
    ...v.decoded.map((d, i): [string, string] => [`action ${i + 1}`, d]),
  ];
}

function concentrationLines(c: Concentration, top: number, label: string, names: ReadonlyMap<string, string>): string[] {
  const lines = c.holders.slice(0, top).map((h, i) => {
    const name = names.get(h.account.toLowerCase());
    return `    ${String(i + 1).padStart(2)}. ${h.account}${name ? ` (${name})` : ""}  ${formatVtn(h.amount)}  ${share(h.amount, c.total)}`;
  });
  if (c.holders.length > top) lines.push(`    … ${c.holders.length - top} more`);
  return [`  ${label}: ${c.holders.length}, together ${formatVtn(c.total)}`, ...lines];
}

/** What `gov power` prints. */
export function powerLines(r: PowerReport, top: number, names: ReadonlyMap<string, string> = new Map()): string[] {
  const v = r.votes;
  const s = r.stake;
  const fewest = (n: number | undefined, what: string, total: bigint) =>
    total === 0n ? "- (none yet)" : n === undefined ? `none: all of them together do not reach ${what}` : String(n);
  return [
    `Voting power at block ${r.block} (read through the governor)`,
    ...concentrationLines(v, top, "delegates with votes", names),
    `  top-10 share: ${bpsShare(v.top10Bps)} of the votes`,
    `  votes / supply: ${formatVtn(v.total)} of ${formatVtn(r.supply)} (${share(v.total, r.supply)}); the rest is not delegated and cannot vote`,
    `  quorum: ${formatVtn(r.quorum)}`,
    `  fewest delegates reaching quorum: ${fewest(v.toThreshold, "the quorum", v.total)}`,
    `  fewest delegates holding a majority of the votes (Nakamoto coefficient): ${fewest(v.majority, "a majority", v.total)}`,
    "",
    "Stake among workers (Staking, staked)",
    ...concentrationLines(s, top, "stakers", names),
    `  top-10 share: ${bpsShare(s.top10Bps)} of the stake`,
    `  fewest stakers holding a majority of the stake (Nakamoto coefficient): ${fewest(s.majority, "a majority", s.total)}`,
  ];
}
