/** `npm run demo` in-process: the honest jobs finalized and paid, the cheat caught and slashed. */
import { expect } from "chai";
import hre from "hardhat";

import { runDemo } from "../../offchain/dev/demo/run.js";

describe("demo: honest worker, cheating worker and verifier on the in-process chain", function () {
  it("finalizes the honest jobs, rejects the cheat after a dispute the verifier wins, and prints a summary", async function () {
    const lines: string[] = [];
    const connection = await hre.network.create();
    const s = await runDemo(connection, { jobs: 4, root: hre.config.paths.root, ignitionDir: hre.config.paths.ignition, log: (l) => lines.push(l) });
    const log = () => lines.join("\n");
    expect(s.rejected, log()).to.equal(1);
    expect(s.finalized, log()).to.equal(3);
    expect(s.disputes).to.have.length(1);
    expect(s.disputes[0]!.winner).to.equal("verifier");
    expect(s.disputes[0]!.workerMoves).to.be.greaterThan(3);
    const diff = (who: string) => s.balances.get(who)!.after - s.balances.get(who)!.before;
    expect(diff("cheating worker") < 0n).to.equal(true);
    expect(diff("honest worker") > 0n).to.equal(true);
    expect(diff("verifier") > 0n, lines.join("\n")).to.equal(true);
    const text = lines.join("\n");
    expect(text).to.match(/\[7\/7\] Summary/);
    expect(text).to.match(/CHEATING at layer/);
    expect(text).to.match(/WON \(challenger wins\)/);
    expect(s.asDesigned, text).to.equal(true);
    expect(lines.at(-1)).to.match(/^result: the cheat was caught and slashed \(1\.0 VTN of the cheating worker's stake\); 3 honest job\(s\) finalized/);
  });
});
