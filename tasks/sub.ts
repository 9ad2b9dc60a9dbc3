import { emptyTask, task } from "hardhat/config";

import { fromOption, partyFromOption, text } from "./options.js";

const idOption = text("id", "Subscription id (required; `sub list` lists them)");

export const subTasks = [
  emptyTask("sub", "Subscriptions: schedules of runs a consumer contract paid for once; list, show, trigger a due run, settle a failed one").build(),
  task(["sub", "list"], "Every subscription: its consumer, model, runs done and left, balance and next due run")
    .addFlag({ name: "due", description: "Only the subscriptions with a run due now" })
    .setAction(() => import("./sub/list.js"))
    .build(),
  task(["sub", "show"], "One subscription: schedule, runs done, skipped and remaining, balance, next due, and each run's job and fate")
    .addOption(idOption)
    .setAction(() => import("./sub/show.js"))
    .build(),
  task(["sub", "trigger"], "Trigger a subscription's due run (anyone: you are paid its keeper reward)")
    .addOption(idOption)
    .addOption(partyFromOption)
    .setAction(() => import("./sub/trigger.js"))
    .build(),
  task(["sub", "withdraw"], "Withdraw the keeper rewards the subscription manager holds for you (one per run you triggered)")
    .addOption(partyFromOption)
    .setAction(() => import("./sub/withdraw.js"))
    .build(),
  task(["sub", "settle"], "Settle a run whose job is over (anyone): the fee of a refunded or rejected run, and what its workers' timeouts paid, back to its subscription")
    .addOption(text("job", "The run's job id (required)"))
    .addOption(fromOption)
    .setAction(() => import("./sub/settle.js"))
    .build(),
];
