/**
 * Project configuration that other things rely on. An isolated production build (Hardhat's
 * default) compiles each file alone; files with only errors or types then get build info without
 * contracts, which the in-process network refuses to load ("missing field `contracts`"), so
 * `npm run demo` failed after any `npx hardhat ignition deploy`.
 */
import { expect } from "chai";
import hre from "hardhat";

describe("project configuration", function () {
  it("builds the production profile like the default one: one compilation, not isolated, same settings", function () {
    const { default: dev, production } = hre.config.solidity.profiles;
    expect(production!.isolated).to.equal(false);
    expect(production!.compilers.map((c) => [c.version, c.settings.evmVersion, c.settings.optimizer])).to.deep.equal(
      dev!.compilers.map((c) => [c.version, c.settings.evmVersion, c.settings.optimizer]),
    );
  });
});
