import { emptyTask, task } from "hardhat/config";
import { ArgumentType } from "hardhat/types/arguments";

import { fromOption, text } from "./options.js";

const proposalOption = text("proposal", "Proposal: its id, or #n / n for the n-th proposal made (`gov show` lists them) (required)");

export const govTasks = [
  emptyTask("gov", "Govern the protocol by VTN vote: delegate, propose, vote, queue, execute, show").build(),
  task(["gov", "delegate"], "Delegate your VTN votes (to yourself to vote with your own tokens)")
    .addOption(text("to", "Delegate: an address or an account index (default: the sender itself)"))
    .addOption(fromOption)
    .setAction(() => import("./gov/delegate.js"))
    .build(),
  task(["gov", "propose"], "Propose a parameter change by name and value; prints the calldata it builds")
    .addOption(
      text(
        "set",
        "Change(s) <contract>.<param>=<value>, several separated by commas or semicolons, e.g. jobs.challengeWindow=2h (durations 90s/10m/2h/1d, VTN amounts, bps or %); see docs/GOVERNANCE.md",
      ),
    )
    .addOption(text("description", "What the proposal does and why (default: the changes, in words)"))
    .addFlag({ name: "dryRun", description: "Only print the actions and calldata; send nothing" })
    .addOption(fromOption)
    .setAction(() => import("./gov/propose.js"))
    .build(),
  task(["gov", "propose-call"], "Propose one arbitrary call (experts): target, function signature and arguments")
    .addOption(text("target", "Contract to call: an address, or jobs, disputes, staking, governor, timelock, token (required)"))
    .addOption(text("signature", "Function signature, e.g. setMinStake(uint256) (required)"))
    .addOption(text("description", "What the proposal does and why (required)"))
    .addOption({ name: "value", type: ArgumentType.STRING, description: "Wei sent with the call", defaultValue: "0" })
    .addFlag({ name: "dryRun", description: "Only print the action and calldata; send nothing" })
    .addOption(fromOption)
    .addVariadicArgument({ name: "args", description: "The call's arguments (JSON for tuples and arrays)", defaultValue: [] })
    .setAction(() => import("./gov/propose-call.js"))
    .build(),
  task(["gov", "vote"], "Vote on an open proposal: for, against or abstain")
    .addOption(proposalOption)
    .addOption(text("support", "for, against or abstain (required)"))
    .addOption({ name: "reason", type: ArgumentType.STRING, description: "Why (recorded on-chain)", defaultValue: "" })
    .addOption(fromOption)
    .setAction(() => import("./gov/vote.js"))
    .build(),
  task(["gov", "queue"], "Queue a passed proposal in the timelock")
    .addOption(proposalOption)
    .addOption(fromOption)
    .setAction(() => import("./gov/queue.js"))
    .build(),
  task(["gov", "execute"], "Execute a queued proposal once its timelock delay is over (anyone)")
    .addOption(proposalOption)
    .addOption(fromOption)
    .setAction(() => import("./gov/execute.js"))
    .build(),
  task(["gov", "show"], "One proposal, or all: state, votes, quorum, snapshot, deadline, eta and the decoded actions")
    .addOption(text("proposal", "A proposal id, or #n (default: all proposals)"))
    .setAction(() => import("./gov/show.js"))
    .build(),
  task(["gov", "power"], "How voting power and stake are spread: top holders, top-10 share, fewest to reach quorum or a majority")
    .addOption({ name: "top", type: ArgumentType.INT, description: "Holders to list", defaultValue: 10 })
    .setAction(() => import("./gov/power.js"))
    .build(),
];
