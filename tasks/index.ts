import type { TaskDefinition } from "hardhat/types/tasks";

import { balanceTasks } from "./balance.js";
import { benchTasks } from "./bench.js";
import { demoTasks } from "./demo.js";
import { disputeTasks } from "./dispute.js";
import { econTasks } from "./econ.js";
import { explorerTasks } from "./explorer.js";
import { faucetTasks } from "./faucet.js";
import { govTasks } from "./gov.js";
import { jobTasks } from "./job.js";
import { modelTasks } from "./model.js";
import { protocolTasks } from "./protocol.js";
import { redundancyTasks } from "./redundancy.js";
import { stakeTasks } from "./stake.js";
import { subTasks } from "./sub.js";
import { tokenTasks } from "./token.js";
import { verifierTasks } from "./verifier.js";
import { workerTasks } from "./worker.js";

/** Every Veritensor task, grouped by concern (`npx hardhat <concern> --help` lists a group). */
export const veritensorTasks: TaskDefinition[] = [
  ...protocolTasks,
  ...tokenTasks,
  ...faucetTasks,
  ...modelTasks,
  ...stakeTasks,
  ...jobTasks,
  ...redundancyTasks,
  ...balanceTasks,
  ...disputeTasks,
  ...govTasks,
  ...econTasks,
  ...subTasks,
  ...benchTasks,
  ...demoTasks,
  ...explorerTasks,
  ...workerTasks,
  ...verifierTasks,
];
