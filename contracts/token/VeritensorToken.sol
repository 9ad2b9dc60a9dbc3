// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Burnable} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Burnable.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";
import {ERC20Votes} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Votes.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";

/**
 * @title VeritensorToken
 * @notice The protocol token (VTN): fees, stakes, dispute bonds and governance votes.
 * @dev Fixed supply minted once to `initialHolder`; there is no mint function, so no key can
 * create tokens later. Burnable so that dispute resolution can destroy part of a slash.
 * Votes are checkpointed by block number (ERC20Votes' default clock).
 */
contract VeritensorToken is ERC20, ERC20Burnable, ERC20Permit, ERC20Votes {
    /// @param initialHolder Receives the whole supply (a treasury, a distributor or the deployer).
    /// @param supply Total supply in wei. Must fit in 96 bits, which every protocol amount assumes.
    constructor(address initialHolder, uint256 supply) ERC20("Veritensor", "VTN") ERC20Permit("Veritensor") {
        _mint(initialHolder, supply);
    }

    /// @dev Caps the supply at 2^96 - 1 so that every amount in the protocol packs into a uint96.
    function _maxSupply() internal pure override returns (uint256) {
        return type(uint96).max;
    }

    function _update(address from, address to, uint256 value) internal override(ERC20, ERC20Votes) {
        super._update(from, to, value);
    }

    function nonces(address owner) public view override(ERC20Permit, Nonces) returns (uint256) {
        return super.nonces(owner);
    }
}
