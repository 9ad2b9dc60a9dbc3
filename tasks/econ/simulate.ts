import { action, econOptions, economicsMarkdown, economicsReport, headline } from "../../offchain/cli/index.js";
import type { EconTaskArgs } from "../../offchain/cli/index.js";

export default action(async (args: EconTaskArgs) => {
  const report = economicsReport(econOptions(args));
  console.log(economicsMarkdown(report));
  console.log("");
  for (const line of headline(report)) console.log(line);
  return report;
});
