// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

import {TestnetFaucet} from "../../contracts/token/TestnetFaucet.sol";
import {VeritensorToken} from "../../contracts/token/VeritensorToken.sol";

import {Test} from "./utils/Test.sol";
import {Vm} from "./utils/Vm.sol";

/// @dev A token that calls its receiver after each transfer (as ERC-777 or ERC-1363 hooks do).
contract HookToken is ERC20 {
    constructor(uint256 supply) ERC20("Hook", "HOOK") {
        _mint(msg.sender, supply);
    }

    function _update(address from, address to, uint256 value) internal override {
        super._update(from, to, value);
        // Receivers without the hook (the faucet itself) are called too, and ignore it.
        if (to.code.length > 0 && from != address(0)) {
            (bool ok, ) = to.call(abi.encodeCall(Receiver.onTokens, ()));
            ok;
        }
    }
}

/// @dev An account that drips, and drips again from inside the token's callback.
contract Receiver {
    TestnetFaucet private immutable faucet;
    /// @dev The selector the re-entrant drip reverted with (0: it did not revert).
    bytes4 public reentryError;
    bool private entered;

    constructor(TestnetFaucet faucet_) {
        faucet = faucet_;
    }

    function drip() external {
        faucet.drip();
    }

    function onTokens() external {
        if (entered) return;
        entered = true;
        try faucet.drip() {} catch (bytes memory reason) {
            reentryError = bytes4(reason);
        }
    }
}

/// @notice The faucet's limits: one drip per account per period, never more than the cap in all,
/// nothing when empty, and no second drip from inside the token transfer.
contract TestnetFaucetTest is Test {
    uint256 private constant SUPPLY = 1_000_000_000 ether;
    uint256 private constant DRIP = 1_000 ether;
    uint256 private constant PERIOD = 1 days;

    VeritensorToken private token;

    function setUp() public {
        token = new VeritensorToken(address(this), SUPPLY);
        vm.warp(1_700_000_000);
    }

    function _faucet(uint256 amount, uint256 period, uint256 cap, uint256 funding) private returns (TestnetFaucet f) {
        f = new TestnetFaucet(token, amount, period, cap);
        token.transfer(address(f), funding);
    }

    function _drip(TestnetFaucet f, address account) private returns (uint256) {
        vm.prank(account);
        return f.drip();
    }

    function test_rejectsParametersOutOfRange() public {
        vm.expectRevert(abi.encodeWithSelector(TestnetFaucet.FaucetInvalidParameter.selector, "token"));
        new TestnetFaucet(IERC20(address(0)), DRIP, PERIOD, DRIP);
        vm.expectRevert(abi.encodeWithSelector(TestnetFaucet.FaucetInvalidParameter.selector, "dripAmount"));
        new TestnetFaucet(token, 0, PERIOD, DRIP);
        vm.expectRevert(abi.encodeWithSelector(TestnetFaucet.FaucetInvalidParameter.selector, "period"));
        new TestnetFaucet(token, DRIP, 0, DRIP);
        vm.expectRevert(abi.encodeWithSelector(TestnetFaucet.FaucetInvalidParameter.selector, "cap"));
        new TestnetFaucet(token, DRIP, PERIOD, DRIP - 1);
    }

    function test_dripPaysTheCallerAndSaysWhenNext() public {
        TestnetFaucet f = _faucet(DRIP, PERIOD, 10 * DRIP, 10 * DRIP);
        address alice = address(0xA11CE);
        vm.recordLogs();
        assertEq(_drip(f, alice), DRIP, "returned amount");
        Vm.Log[] memory logs = vm.getRecordedLogs();
        // Dripped comes before the token's Transfer (effects before the interaction).
        Vm.Log memory dripped = logs[logs.length - 2];
        assertEq(dripped.emitter, address(f), "event emitter");
        assertEq(dripped.topics[0], TestnetFaucet.Dripped.selector, "event");
        assertEq(dripped.topics[1], bytes32(uint256(uint160(alice))), "event account");
        (uint256 amount, uint256 total, uint256 next) = abi.decode(dripped.data, (uint256, uint256, uint256));
        assertEq(amount, DRIP, "event amount");
        assertEq(total, DRIP, "event total");
        assertEq(next, block.timestamp + PERIOD, "event next drip");
        assertEq(token.balanceOf(alice), DRIP, "balance");
        assertEq(f.nextDripAt(alice), block.timestamp + PERIOD, "nextDripAt");
        assertEq(f.dispensed(), DRIP, "dispensed");
        assertEq(f.available(), 9 * DRIP, "available");
    }

    /// @notice An account drips again exactly when its period is over, never before; others are not held up.
    function testFuzz_oneDripPerAccountPerPeriod(uint256 period, uint256 wait) public {
        period = bound(period, 1, 365 days);
        wait = bound(wait, 0, 2 * period);
        TestnetFaucet f = _faucet(DRIP, period, 100 * DRIP, 100 * DRIP);
        address alice = address(0xA11CE);
        uint256 first = block.timestamp;
        _drip(f, alice);
        vm.warp(first + wait);
        if (wait < period) {
            vm.expectRevert(abi.encodeWithSelector(TestnetFaucet.FaucetTooSoon.selector, alice, first + period));
            _drip(f, alice);
            assertEq(token.balanceOf(alice), DRIP, "a refused drip paid");
        } else {
            _drip(f, alice);
            assertEq(token.balanceOf(alice), 2 * DRIP, "second drip");
            assertEq(f.nextDripAt(alice), first + wait + period, "next after the second");
        }
        // Another account is not held up by alice's period.
        _drip(f, address(0xB0B));
        assertEq(token.balanceOf(address(0xB0B)), DRIP, "another account");
    }

    /// @notice Whatever the funding, the faucet never hands out more than its cap; once a drip would
    /// pass it, every drip is refused with the total and the cap, and the rest stays in the faucet.
    function testFuzz_neverMoreThanTheCap(uint256 amount, uint256 cap, uint256 extraFunding) public {
        amount = bound(amount, 1, 1_000_000 ether);
        cap = bound(cap, amount, 40 * amount);
        extraFunding = bound(extraFunding, 0, 10 * amount);
        TestnetFaucet f = _faucet(amount, PERIOD, cap, cap + extraFunding);
        uint256 drips = cap / amount;
        for (uint256 i = 0; i < drips; ++i) {
            _drip(f, address(uint160(0x1000 + i)));
        }
        assertEq(f.dispensed(), drips * amount, "dispensed");
        assertLe(f.dispensed(), cap, "dispensed above the cap");
        // Less than one drip is left under the cap (the balance holds more).
        assertEq(f.available(), cap - drips * amount, "available");
        vm.expectRevert(abi.encodeWithSelector(TestnetFaucet.FaucetCapReached.selector, drips * amount, cap));
        _drip(f, address(0xFFFF));
        // Later, and from an account that already dripped: still refused.
        vm.warp(block.timestamp + 10 * PERIOD);
        vm.expectRevert(abi.encodeWithSelector(TestnetFaucet.FaucetCapReached.selector, drips * amount, cap));
        _drip(f, address(0x1000));
        assertEq(token.balanceOf(address(f)), cap + extraFunding - drips * amount, "the rest stays in the faucet");
    }

    /// @notice An under-funded faucet refuses with its balance; a transfer tops it up.
    function testFuzz_emptyUntilToppedUp(uint256 funding) public {
        funding = bound(funding, 0, DRIP - 1);
        TestnetFaucet f = _faucet(DRIP, PERIOD, 10 * DRIP, funding);
        address alice = address(0xA11CE);
        vm.expectRevert(abi.encodeWithSelector(TestnetFaucet.FaucetEmpty.selector, funding, DRIP));
        _drip(f, alice);
        assertEq(f.nextDripAt(alice), 0, "a refused drip started a period");
        token.transfer(address(f), DRIP);
        _drip(f, alice);
        assertEq(token.balanceOf(alice), DRIP, "after the top-up");
    }

    /// @notice A receiver that drips again from inside the token's transfer is refused (its next time
    /// is written before the transfer); written after it, the re-entrant drip would pay twice.
    function test_reentrantDripRefused() public {
        HookToken hook = new HookToken(SUPPLY);
        TestnetFaucet f = new TestnetFaucet(hook, DRIP, PERIOD, 10 * DRIP);
        hook.transfer(address(f), 10 * DRIP);
        Receiver r = new Receiver(f);
        r.drip();
        assertEq(hook.balanceOf(address(r)), DRIP, "paid once");
        assertEq(r.reentryError(), TestnetFaucet.FaucetTooSoon.selector, "re-entrant drip error");
        assertEq(f.dispensed(), DRIP, "dispensed");
    }
}
