import { task } from "hardhat/config";
import { ArgumentType } from "hardhat/types/arguments";

import { text } from "./options.js";

export const explorerTasks = [
  task("explorer", "Serve the explorer (index of the protocol's events, web app with live updates) until Ctrl-C")
    .addOption({ name: "port", type: ArgumentType.INT, description: "Port to listen on (0: any free port)", defaultValue: 8550 })
    .addOption({ name: "host", type: ArgumentType.STRING, description: "Address to listen on", defaultValue: "127.0.0.1" })
    .addOption(text("db", "SQLite index file (default .veritensor/explorer-<chain>-<escrow>.sqlite; rebuilt from the chain if deleted)"))
    .addOption({ name: "confirmations", type: ArgumentType.INT, description: "Confirmations a block needs before its events are indexed", defaultValue: 1 })
    .addOption({ name: "poll", type: ArgumentType.INT, description: "ms between indexing passes", defaultValue: 1000 })
    .addOption({ name: "fromBlock", type: ArgumentType.INT, description: "First block to index on a new index (-1: the escrow's deployment block)", defaultValue: -1 })
    .setAction(() => import("./explorer/run.js"))
    .build(),
];
