/**
 * A job's terms are hashed off-chain with the escrow's own ABI type for them: the hashes must be
 * the escrow's (`termsHash`, `resultHash` views, and what it stores) for any terms, not just one job's.
 */
import { expect } from "chai";
import { getAddress, id, toBigInt } from "ethers";
import { network } from "hardhat";

import type { JobTerms } from "../../offchain/cli/index.js";
import { escrowSubmittedCommitments, requestedTerms, resultHash, termsHash } from "../../offchain/cli/index.js";
import { JobManager__factory } from "../../types/ethers-contracts/index.js";
import { SAMPLE_OUTPUT, protocolFixtures, submittedJob, tensorCommitment } from "../contracts/fixtures.js";

const conn = await network.create();
const { deployProtocol } = protocolFixtures(conn);

/** The escrow's ABI type of the terms: each field's width, as the random terms below need. */
const TERMS_FIELDS = JobManager__factory.createInterface().getFunction("termsHash").inputs[0]!.components!;

/** Terms with every field drawn at random over its whole Solidity type (case `i`). */
function randomTerms(i: number): JobTerms {
  const bits = (name: string, width: number) => toBigInt(id(`${name}/${i}`)) & ((1n << BigInt(width)) - 1n);
  const terms: Record<string, bigint | string> = {};
  for (const { name, type } of TERMS_FIELDS) {
    const uint = /^uint(\d+)$/.exec(type);
    if (uint) terms[name] = bits(name, Number(uint[1]));
    else if (type === "address") terms[name] = getAddress("0x" + bits(name, 160).toString(16).padStart(40, "0"));
    else if (type === "bytes32") terms[name] = id(`${name}/${i}`);
    else throw new Error(`no random value for ${name} of type ${type}`);
  }
  return terms as unknown as JobTerms;
}

describe("clients: job terms", function () {
  it("hashes a job's terms and result as the escrow stores them (terms read from its events)", async function () {
    const p = await conn.networkHelpers.loadFixture(deployProtocol);
    const jobId = await submittedJob(p);
    const terms = await requestedTerms(p.jm, jobId);
    const { outputCommitment } = await escrowSubmittedCommitments(p.jm, jobId);
    expect(outputCommitment).to.equal(tensorCommitment(SAMPLE_OUTPUT));
    expect((await p.jm.getJob(jobId)).commitment).to.equal(resultHash(terms, outputCommitment));
    expect(termsHash(terms)).to.equal(await p.jm.termsHash(terms));
  });

  it("hashes any terms as the escrow's termsHash and resultHash views do", async function () {
    const p = await conn.networkHelpers.loadFixture(deployProtocol);
    for (let i = 0; i < 32; i++) {
      const terms = randomTerms(i);
      const output = id(`output/${i}`);
      expect(termsHash(terms), `case ${i}`).to.equal(await p.jm.termsHash(terms));
      expect(resultHash(terms, output), `case ${i}`).to.equal(await p.jm.resultHash(terms, output));
    }
  });
});
