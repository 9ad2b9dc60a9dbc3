import { expect } from "chai";
import { network } from "hardhat";
import { Signature, ZeroAddress, verifyTypedData } from "ethers";

import { SUPPLY, WAD, protocolFixtures } from "./fixtures.js";
import type { Signer } from "./fixtures.js";
import type { VeritensorToken } from "../../types/ethers-contracts/index.js";

const conn = await network.create();
const { ethers, networkHelpers } = conn;
const { deployToken } = protocolFixtures(conn);

const MAX_SUPPLY = 2n ** 96n - 1n;

async function permitSignature(
  token: VeritensorToken,
  owner: Signer,
  spender: string,
  value: bigint,
  deadline: bigint,
  nonce?: bigint,
) {
  const { chainId } = await ethers.provider.getNetwork();
  const domain = { name: "Veritensor", version: "1", chainId, verifyingContract: await token.getAddress() };
  const types = {
    Permit: [
      { name: "owner", type: "address" },
      { name: "spender", type: "address" },
      { name: "value", type: "uint256" },
      { name: "nonce", type: "uint256" },
      { name: "deadline", type: "uint256" },
    ],
  };
  const message = {
    owner: owner.address,
    spender,
    value,
    nonce: nonce ?? (await token.nonces(owner.address)),
    deadline,
  };
  const sig = Signature.from(await owner.signTypedData(domain, types, message));
  return { sig, domain, types, message };
}

async function delegationSignature(token: VeritensorToken, signer: Signer, delegatee: string, nonce: bigint, expiry: bigint) {
  const { chainId } = await ethers.provider.getNetwork();
  const domain = { name: "Veritensor", version: "1", chainId, verifyingContract: await token.getAddress() };
  const types = {
    Delegation: [
      { name: "delegatee", type: "address" },
      { name: "nonce", type: "uint256" },
      { name: "expiry", type: "uint256" },
    ],
  };
  return Signature.from(await signer.signTypedData(domain, types, { delegatee, nonce, expiry }));
}

describe("VeritensorToken", function () {
  describe("supply", function () {
    it("mints the whole fixed supply once, to the initial holder", async function () {
      const { token, deployer } = await networkHelpers.loadFixture(deployToken);
      expect(await token.name()).to.equal("Veritensor");
      expect(await token.symbol()).to.equal("VTN");
      expect(await token.decimals()).to.equal(18n);
      expect(await token.totalSupply()).to.equal(SUPPLY);
      expect(await token.balanceOf(deployer.address)).to.equal(SUPPLY);
    });

    it("has no function that can mint more", async function () {
      const { token } = await networkHelpers.loadFixture(deployToken);
      const names: string[] = [];
      token.interface.forEachFunction((f) => names.push(f.name));
      expect(names.filter((n) => /mint/i.test(n))).to.deep.equal([]);
    });

    it("keeps the supply constant across transfers and only lowers it by burning", async function () {
      const { token, deployer, other } = await networkHelpers.loadFixture(deployToken);
      await token.transfer(other.address, 5n * WAD);
      await token.connect(other).transfer(deployer.address, 2n * WAD);
      expect(await token.totalSupply()).to.equal(SUPPLY);
      await token.connect(other).burn(3n * WAD);
      expect(await token.totalSupply()).to.equal(SUPPLY - 3n * WAD);
    });

    it("accepts a supply of exactly 2^96 - 1 and refuses one above it", async function () {
      const [holder] = await ethers.getSigners();
      const max = await ethers.deployContract("VeritensorToken", [holder.address, MAX_SUPPLY]);
      expect(await max.totalSupply()).to.equal(MAX_SUPPLY);
      const factory = await ethers.getContractFactory("VeritensorToken");
      await expect(factory.deploy(holder.address, MAX_SUPPLY + 1n))
        .to.be.revertedWithCustomError(factory, "ERC20ExceededSafeSupply")
        .withArgs(MAX_SUPPLY + 1n, MAX_SUPPLY);
    });

    it("refuses the zero address as initial holder", async function () {
      const factory = await ethers.getContractFactory("VeritensorToken");
      await expect(factory.deploy(ZeroAddress, SUPPLY))
        .to.be.revertedWithCustomError(factory, "ERC20InvalidReceiver")
        .withArgs(ZeroAddress);
    });
  });

  describe("transfers", function () {
    it("moves balances and emits Transfer", async function () {
      const { token, deployer, other } = await networkHelpers.loadFixture(deployToken);
      await expect(token.transfer(other.address, 10n))
        .to.emit(token, "Transfer")
        .withArgs(deployer.address, other.address, 10n);
      expect(await token.balanceOf(other.address)).to.equal(10n);
    });

    it("reverts a transfer above the balance or to the zero address", async function () {
      const { token, other, deployer } = await networkHelpers.loadFixture(deployToken);
      await expect(token.connect(other).transfer(deployer.address, 1n))
        .to.be.revertedWithCustomError(token, "ERC20InsufficientBalance")
        .withArgs(other.address, 0n, 1n);
      await expect(token.transfer(ZeroAddress, 1n))
        .to.be.revertedWithCustomError(token, "ERC20InvalidReceiver")
        .withArgs(ZeroAddress);
    });

    it("reverts transferFrom above the allowance", async function () {
      const { token, deployer, other } = await networkHelpers.loadFixture(deployToken);
      await token.approve(other.address, 5n);
      await expect(token.connect(other).transferFrom(deployer.address, other.address, 6n))
        .to.be.revertedWithCustomError(token, "ERC20InsufficientAllowance")
        .withArgs(other.address, 5n, 6n);
      await token.connect(other).transferFrom(deployer.address, other.address, 5n);
      expect(await token.allowance(deployer.address, other.address)).to.equal(0n);
    });
  });

  describe("permit", function () {
    it("sets an allowance from a signature and consumes the nonce", async function () {
      const { token, deployer, other } = await networkHelpers.loadFixture(deployToken);
      const deadline = BigInt(await networkHelpers.time.latest()) + 3600n;
      const { sig } = await permitSignature(token, deployer, other.address, 123n, deadline);
      await expect(token.connect(other).permit(deployer.address, other.address, 123n, deadline, sig.v, sig.r, sig.s))
        .to.emit(token, "Approval")
        .withArgs(deployer.address, other.address, 123n);
      expect(await token.allowance(deployer.address, other.address)).to.equal(123n);
      expect(await token.nonces(deployer.address)).to.equal(1n);
      await token.connect(other).transferFrom(deployer.address, other.address, 123n);
      expect(await token.balanceOf(other.address)).to.equal(123n);
    });

    it("refuses an expired permit", async function () {
      const { token, deployer, other } = await networkHelpers.loadFixture(deployToken);
      const deadline = BigInt(await networkHelpers.time.latest()) - 1n;
      const { sig } = await permitSignature(token, deployer, other.address, 1n, deadline);
      await expect(token.permit(deployer.address, other.address, 1n, deadline, sig.v, sig.r, sig.s))
        .to.be.revertedWithCustomError(token, "ERC2612ExpiredSignature")
        .withArgs(deadline);
    });

    it("refuses a permit signed by someone else than the owner", async function () {
      const { token, deployer, other } = await networkHelpers.loadFixture(deployToken);
      const deadline = BigInt(await networkHelpers.time.latest()) + 3600n;
      // `other` signs a permit that claims to be from `deployer` (nonce 0, as the contract checks).
      const { sig } = await permitSignature(token, other, other.address, 1n, deadline, 0n);
      const forged = { owner: deployer.address, spender: other.address, value: 1n, nonce: 0n, deadline };
      const { domain, types } = await permitSignature(token, other, other.address, 1n, deadline, 0n);
      const recovered = verifyTypedData(domain, types, forged, sig);
      await expect(token.permit(deployer.address, other.address, 1n, deadline, sig.v, sig.r, sig.s))
        .to.be.revertedWithCustomError(token, "ERC2612InvalidSigner")
        .withArgs(recovered, deployer.address);
    });

    it("refuses a replayed permit", async function () {
      const { token, deployer, other } = await networkHelpers.loadFixture(deployToken);
      const deadline = BigInt(await networkHelpers.time.latest()) + 3600n;
      const { sig, domain, types, message } = await permitSignature(token, deployer, other.address, 9n, deadline);
      await token.permit(deployer.address, other.address, 9n, deadline, sig.v, sig.r, sig.s);
      // The second time the contract hashes nonce 1, so the signature recovers another address.
      const recovered = verifyTypedData(domain, types, { ...message, nonce: 1n }, sig);
      expect(recovered).to.not.equal(deployer.address);
      await expect(token.permit(deployer.address, other.address, 9n, deadline, sig.v, sig.r, sig.s))
        .to.be.revertedWithCustomError(token, "ERC2612InvalidSigner")
        .withArgs(recovered, deployer.address);
    });
  });

  describe("votes", function () {
    it("counts no votes until a holder delegates", async function () {
      const { token, deployer } = await networkHelpers.loadFixture(deployToken);
      expect(await token.getVotes(deployer.address)).to.equal(0n);
      expect(await token.delegates(deployer.address)).to.equal(ZeroAddress);
    });

    it("delegates, checkpoints by block number and follows transfers and burns", async function () {
      const { token, deployer, other } = await networkHelpers.loadFixture(deployToken);
      expect(await token.CLOCK_MODE()).to.equal("mode=blocknumber&from=default");
      await expect(token.delegate(deployer.address))
        .to.emit(token, "DelegateChanged")
        .withArgs(deployer.address, ZeroAddress, deployer.address)
        .and.to.emit(token, "DelegateVotesChanged")
        .withArgs(deployer.address, 0n, SUPPLY);
      const delegatedAt = BigInt(await ethers.provider.getBlockNumber());
      expect(await token.clock()).to.equal(delegatedAt);
      expect(await token.getVotes(deployer.address)).to.equal(SUPPLY);

      await token.connect(other).delegate(other.address);
      await expect(token.transfer(other.address, 100n))
        .to.emit(token, "DelegateVotesChanged")
        .withArgs(other.address, 0n, 100n);
      expect(await token.getVotes(deployer.address)).to.equal(SUPPLY - 100n);
      await token.connect(other).burn(40n);
      expect(await token.getVotes(other.address)).to.equal(60n);

      await networkHelpers.mine();
      expect(await token.getPastVotes(deployer.address, delegatedAt)).to.equal(SUPPLY);
      expect(await token.getPastTotalSupply(delegatedAt)).to.equal(SUPPLY);
      const now = BigInt(await ethers.provider.getBlockNumber());
      await expect(token.getPastVotes(deployer.address, now))
        .to.be.revertedWithCustomError(token, "ERC5805FutureLookup")
        .withArgs(now, now);
    });

    it("moves votes when the delegate changes", async function () {
      const { token, deployer, other } = await networkHelpers.loadFixture(deployToken);
      await token.delegate(deployer.address);
      await expect(token.delegate(other.address))
        .to.emit(token, "DelegateChanged")
        .withArgs(deployer.address, deployer.address, other.address);
      expect(await token.getVotes(deployer.address)).to.equal(0n);
      expect(await token.getVotes(other.address)).to.equal(SUPPLY);
    });

    it("delegates by signature, once", async function () {
      const { token, deployer, other } = await networkHelpers.loadFixture(deployToken);
      const expiry = BigInt(await networkHelpers.time.latest()) + 3600n;
      const sig = await delegationSignature(token, deployer, other.address, 0n, expiry);
      await expect(token.connect(other).delegateBySig(other.address, 0n, expiry, sig.v, sig.r, sig.s))
        .to.emit(token, "DelegateChanged")
        .withArgs(deployer.address, ZeroAddress, other.address);
      expect(await token.getVotes(other.address)).to.equal(SUPPLY);
      await expect(token.connect(other).delegateBySig(other.address, 0n, expiry, sig.v, sig.r, sig.s))
        .to.be.revertedWithCustomError(token, "InvalidAccountNonce")
        .withArgs(deployer.address, 1n);
    });

    it("refuses an expired delegation signature", async function () {
      const { token, deployer, other } = await networkHelpers.loadFixture(deployToken);
      const expiry = BigInt(await networkHelpers.time.latest()) - 1n;
      const sig = await delegationSignature(token, deployer, other.address, 0n, expiry);
      await expect(token.delegateBySig(other.address, 0n, expiry, sig.v, sig.r, sig.s))
        .to.be.revertedWithCustomError(token, "VotesExpiredSignature")
        .withArgs(expiry);
    });
  });

  describe("burn", function () {
    it("burns the caller's tokens", async function () {
      const { token, deployer } = await networkHelpers.loadFixture(deployToken);
      await expect(token.burn(WAD)).to.emit(token, "Transfer").withArgs(deployer.address, ZeroAddress, WAD);
      expect(await token.balanceOf(deployer.address)).to.equal(SUPPLY - WAD);
      expect(await token.totalSupply()).to.equal(SUPPLY - WAD);
    });

    it("refuses to burn more than the balance", async function () {
      const { token, other } = await networkHelpers.loadFixture(deployToken);
      await expect(token.connect(other).burn(1n))
        .to.be.revertedWithCustomError(token, "ERC20InsufficientBalance")
        .withArgs(other.address, 0n, 1n);
    });

    it("burns from an allowance, and only within it", async function () {
      const { token, deployer, other } = await networkHelpers.loadFixture(deployToken);
      await expect(token.connect(other).burnFrom(deployer.address, 1n))
        .to.be.revertedWithCustomError(token, "ERC20InsufficientAllowance")
        .withArgs(other.address, 0n, 1n);
      await token.approve(other.address, 10n);
      await token.connect(other).burnFrom(deployer.address, 10n);
      expect(await token.totalSupply()).to.equal(SUPPLY - 10n);
      expect(await token.allowance(deployer.address, other.address)).to.equal(0n);
    });
  });
});
