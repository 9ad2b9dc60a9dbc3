// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

/**
 * @title TestnetFaucet
 * @notice Hands out test VTN on test networks: `dripAmount` to each account at most once per
 * `period`, and `cap` in all. It is funded by plain token transfers (the deployment sends it part
 * of the deployer's supply; anyone may top it up).
 * @dev Deployed only on test networks (`ignition/modules/Faucet.ts`, `protocol deploy`). It has no
 * owner and no function that moves tokens other than {drip}, which pays its caller: nobody can take
 * what was sent to it, and what is left when the cap is reached stays here. The per-account limit
 * only slows a user down (new accounts are free); the cap bounds what all of them can take.
 * Invariant: `dispensed <= cap`, and `dispensed` is the sum of every {Dripped} amount.
 */
contract TestnetFaucet {
    using SafeERC20 for IERC20;

    /// @notice The token handed out.
    IERC20 public immutable token;
    /// @notice Tokens (wei) per drip.
    uint256 public immutable dripAmount;
    /// @notice Seconds an account waits between two drips.
    uint256 public immutable period;
    /// @notice Most tokens (wei) the faucet ever hands out, in all.
    uint256 public immutable cap;

    /// @notice Tokens handed out so far.
    uint256 public dispensed;
    /// @dev When each account may drip next (0: never dripped, so at once).
    mapping(address account => uint256 timestamp) private _nextDripAt;

    /// @notice `account` received `amount`; it may drip again from `nextDripAt`.
    event Dripped(address indexed account, uint256 amount, uint256 dispensed, uint256 nextDripAt);

    /// @dev A constructor argument is out of range.
    /// @param name The argument: "token", "dripAmount", "period" or "cap".
    error FaucetInvalidParameter(string name);
    /// @dev `account` dripped less than `period` ago.
    /// @param account The caller.
    /// @param nextDripAt The first timestamp at which it may drip again.
    error FaucetTooSoon(address account, uint256 nextDripAt);
    /// @dev Another drip would take the total handed out above the cap.
    /// @param dispensed Tokens handed out so far.
    /// @param cap The most the faucet ever hands out.
    error FaucetCapReached(uint256 dispensed, uint256 cap);
    /// @dev The faucet holds less than one drip: it needs another transfer.
    /// @param balance The faucet's token balance.
    /// @param needed One drip.
    error FaucetEmpty(uint256 balance, uint256 needed);

    /// @param token_ The protocol token.
    /// @param dripAmount_ Tokens (wei) per drip; more than zero.
    /// @param period_ Seconds between two drips of one account; more than zero.
    /// @param cap_ Tokens (wei) handed out in all; at least one drip.
    constructor(IERC20 token_, uint256 dripAmount_, uint256 period_, uint256 cap_) {
        if (address(token_) == address(0)) revert FaucetInvalidParameter("token");
        if (dripAmount_ == 0) revert FaucetInvalidParameter("dripAmount");
        if (period_ == 0) revert FaucetInvalidParameter("period");
        if (cap_ < dripAmount_) revert FaucetInvalidParameter("cap");
        token = token_;
        dripAmount = dripAmount_;
        period = period_;
        cap = cap_;
    }

    /**
     * @notice Sends `dripAmount` to the caller. Emits {Dripped}.
     * @dev Checks, then effects, then the transfer: the caller's next time and the total are
     * written before the token moves, so a token calling back could not drip twice.
     */
    function drip() external returns (uint256 amount) {
        uint256 next = _nextDripAt[msg.sender];
        if (block.timestamp < next) revert FaucetTooSoon(msg.sender, next);
        amount = dripAmount;
        uint256 total = dispensed + amount;
        if (total > cap) revert FaucetCapReached(dispensed, cap);
        uint256 balance = token.balanceOf(address(this));
        if (balance < amount) revert FaucetEmpty(balance, amount);

        next = block.timestamp + period;
        _nextDripAt[msg.sender] = next;
        dispensed = total;
        emit Dripped(msg.sender, amount, total, next);
        token.safeTransfer(msg.sender, amount);
    }

    /// @notice When `account` may drip next (0: it never has, so at once).
    function nextDripAt(address account) external view returns (uint256) {
        return _nextDripAt[account];
    }

    /// @notice What the faucet can still hand out: the lower of what the cap leaves and its balance.
    function available() external view returns (uint256) {
        uint256 left = cap - dispensed;
        uint256 balance = token.balanceOf(address(this));
        return balance < left ? balance : left;
    }
}
