import { emptyTask, task } from "hardhat/config";

import { file, fromOption, noApproveFlag, partyFromOption, text } from "./options.js";

const gameOption = text("game", "Address of the dispute game (required; `dispute show --job N` lists a job's games)");
const modelOption = file("model", "The job's model as a canonical ONNX file (checked against the registry's hash and graph commitment)");

export const disputeTasks = [
  emptyTask("dispute", "Dispute a job's result and play the dispute game by hand (docs/DISPUTES.md)").build(),
  task(["dispute", "open"], "Re-run a job with the model; if the submitted result differs, open a dispute with the bond")
    .addOption(text("job", "Job id (required)"))
    .addOption(modelOption)
    .addFlag(noApproveFlag)
    .addOption(partyFromOption)
    .setAction(() => import("./dispute/open.js"))
    .build(),
  task(["dispute", "show"], "Show a job's dispute games (or one game): status, level, cursor, whose turn, deadline, bonds")
    .addOption(text("job", "Job id: show all its games"))
    .addOption(text("game", "Address of one dispute game (instead of --job)"))
    .setAction(() => import("./dispute/show.js"))
    .build(),
  task(["dispute", "move"], "Play the next move of your side (defender or challenger) in a dispute game")
    .addOption(gameOption)
    .addOption(modelOption)
    .addOption(
      text(
        "cheat",
        "Worker only: the LAYER[:ELEMENT[:DELTA]] it submitted with `job submit --run … --cheat`, to defend that forged trace",
      ),
    )
    .addOption(partyFromOption)
    .setAction(() => import("./dispute/move.js"))
    .build(),
  task(["dispute", "timeout"], "End a dispute game whose side to move missed its deadline (that side loses; anyone may)")
    .addOption(gameOption)
    .addOption(fromOption)
    .setAction(() => import("./dispute/timeout.js"))
    .build(),
  task(["dispute", "close"], "Pay out what a job's disputes held once none can open any more (the reward, or the worker's share of lost bonds; anyone may)")
    .addOption(text("job", "Job id (required)"))
    .addOption(fromOption)
    .setAction(() => import("./dispute/close.js"))
    .build(),
  task(["dispute", "withdraw"], "Withdraw your balance in the dispute factory (returned bonds, rewards)")
    .addOption(partyFromOption)
    .setAction(() => import("./dispute/withdraw.js"))
    .build(),
];
