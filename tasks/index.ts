import type { TaskDefinition } from "hardhat/types/tasks";

export const veritensorTasks: TaskDefinition[] = [];
