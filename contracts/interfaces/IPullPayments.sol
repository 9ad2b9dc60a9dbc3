// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/**
 * @title IPullPayments
 * @notice Balances that accounts withdraw themselves. The protocol never pushes tokens to an
 * account while settling a job or a game: it credits a balance here, and the account takes it out
 * with {withdraw}. A recipient that reverts, or burns gas, can then block nothing but its own payout.
 * @dev Each contract that holds balances emits its own credit event, which names what paid.
 */
interface IPullPayments {
    /// @notice Emitted by {withdraw} when an account takes out its whole balance.
    /// @param account The account, sent `amount`.
    /// @param amount Its whole balance.
    event BalanceWithdrawn(address indexed account, uint256 amount);

    /// @dev The account has no balance to withdraw.
    /// @param account The account (the caller).
    error PullPaymentsNothingToWithdraw(address account);

    /// @notice Sends the caller's whole balance to it.
    function withdraw() external;

    /// @notice Withdrawable balance of `account`.
    /// @param account The account.
    /// @return The tokens it may withdraw.
    function balanceOf(address account) external view returns (uint256);
}
