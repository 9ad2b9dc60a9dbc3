// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

import {IPullPayments} from "../interfaces/IPullPayments.sol";

/**
 * @title PullPayments
 * @notice The one implementation of {IPullPayments}, shared by the job escrow and the dispute game
 * factory: a balance per account in one token, credited by the inheriting contract and withdrawn by
 * the account. OpenZeppelin 5 has no pull-payment base (its `PullPayment` and escrow were removed).
 * @dev Invariant (with the inheriting contract's own): the contract holds at least the sum of all
 * balances. {withdraw} zeroes the balance before the transfer (checks-effects-interactions) and is
 * also `nonReentrant`; the guard is the inheriting contract's too.
 */
abstract contract PullPayments is IPullPayments, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    mapping(address account => uint256 amount) private _balances;

    /// @inheritdoc IPullPayments
    function withdraw() external nonReentrant {
        uint256 amount = _balances[msg.sender];
        if (amount == 0) revert PullPaymentsNothingToWithdraw(msg.sender);
        _balances[msg.sender] = 0;
        emit BalanceWithdrawn(msg.sender, amount);
        _paymentToken().safeTransfer(msg.sender, amount);
    }

    /// @inheritdoc IPullPayments
    function balanceOf(address account) external view returns (uint256) {
        return _balances[account];
    }

    /// @dev Adds `amount` to `account`'s balance. The caller emits its own credit event, which says
    /// what paid; a zero amount changes nothing and returns false, so that no event is emitted for it.
    function _addBalance(address account, uint256 amount) internal returns (bool credited) {
        if (amount == 0) return false;
        _balances[account] += amount;
        return true;
    }

    /// @dev The token the balances are in.
    function _paymentToken() internal view virtual returns (IERC20);
}
