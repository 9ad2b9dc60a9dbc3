// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {BPS, FeeSplit} from "../../contracts/libraries/FeeSplit.sol";
import {IModelRegistry} from "../../contracts/interfaces/IModelRegistry.sol";

import {Test} from "./utils/Test.sol";
import {TestData} from "./utils/Protocol.sol";

/// @notice Pure properties of FeeSplit and of the job fee split built on it (no contracts).
contract FeeSplitTest is Test {

    function testFuzz_shareIsFloorOfProduct(uint256 amount, uint256 bps) public pure {
        amount = bound(amount, 0, (uint256(1) << 240) - 1);
        bps = bound(bps, 0, BPS);
        uint256 s = FeeSplit.share(amount, bps);
        assertEq(s, (amount * bps) / BPS, "share != floor(amount * bps / 10000)");
        assertLe(s, amount, "share exceeds amount");
        // Rounding down: the share is within 1 wei below the exact rational value.
        assertLe(s * BPS, amount * bps, "share rounds up");
        assertLt(amount * bps - s * BPS, BPS, "share rounds down by more than 1 wei");
    }

    function testFuzz_shareEdges(uint256 amount) public pure {
        amount = bound(amount, 0, (uint256(1) << 240) - 1);
        assertEq(FeeSplit.share(amount, 0), 0, "0 bps");
        assertEq(FeeSplit.share(amount, BPS), amount, "10000 bps");
    }

    /// @notice Complementary shares never exceed the whole, and lose at most 1 wei together.
    function testFuzz_complementarySharesLoseAtMostOneWei(uint96 amount, uint256 bps) public pure {
        bps = bound(bps, 0, BPS);
        uint256 a = FeeSplit.share(amount, bps);
        uint256 b = FeeSplit.share(amount, BPS - bps);
        assertLe(a + b, amount, "shares exceed amount");
        assertLe(amount - (a + b), 1, "more than 1 wei of dust");
    }

    /// @notice JobManager's model split (contributors floor, owner takes the rest), re-done here:
    /// the parts sum exactly to the model fee and the owner's dust is below one wei per contributor.
    function testFuzz_modelSplitSumsExactly(uint96 modelFee, uint256 n, uint256 seed) public pure {
        n = bound(n, 0, 8);
        address[] memory pool = _pool();
        (uint16 developerBps, IModelRegistry.Contributor[] memory contributors) = TestData.randomSplit(seed, n, pool);

        uint256 total = developerBps;
        for (uint256 i = 0; i < n; ++i) total += contributors[i].bps;
        assertEq(total, BPS, "generated split does not sum to 10000");

        uint256 rest = modelFee;
        uint256 paid;
        for (uint256 i = 0; i < n; ++i) {
            uint256 s = FeeSplit.share(modelFee, contributors[i].bps);
            rest -= s; // checked: reverts if contributors' shares exceeded the fee
            paid += s;
        }
        paid += rest;
        assertEq(paid, modelFee, "model split does not sum to the model fee");
        uint256 developerExact = FeeSplit.share(modelFee, developerBps);
        assertGe(rest, developerExact, "developer gets less than its share");
        assertLe(rest - developerExact, n, "developer dust exceeds one wei per contributor");
    }

    /// @notice Whole fee: worker + model payees + treasury == fee, for any fee that satisfies the
    /// escrow's rule (fee - protocol fee >= price) at any protocol fee rate up to 20%.
    function testFuzz_jobFeeSplitSumsExactly(
        uint96 price,
        uint16 protocolFeeBps,
        uint96 extra,
        uint256 n,
        uint256 seed
    ) public pure {
        protocolFeeBps = uint16(bound(protocolFeeBps, 0, 2_000));
        // The least fee for the price (closed form, as JobManager.minimumFee), plus a surplus.
        uint256 minimum = price == 0 ? 0 : ((uint256(price) - 1) * 10_000) / (10_000 - protocolFeeBps) + 1;
        uint256 fee = minimum + extra;
        vm.assume(fee <= type(uint96).max);
        n = bound(n, 0, 8);
        (, IModelRegistry.Contributor[] memory contributors) = TestData.randomSplit(seed, n, _pool());

        uint256 protocolFee = FeeSplit.share(fee, protocolFeeBps);
        assertGe(fee - protocolFee, price, "the minimum fee does not cover the price");
        if (minimum != 0) {
            uint256 less = minimum - 1;
            assertLt(less - FeeSplit.share(less, protocolFeeBps), price, "a smaller fee also covers the price");
        }
        uint256 workerFee = fee - price - protocolFee;
        uint256 rest = price;
        uint256 sum = workerFee + protocolFee;
        for (uint256 i = 0; i < n; ++i) {
            uint256 s = FeeSplit.share(price, contributors[i].bps);
            rest -= s;
            sum += s;
        }
        sum += rest;
        assertEq(sum, fee, "job fee split does not sum to the fee");
    }

    function _pool() private pure returns (address[] memory pool) {
        pool = new address[](5);
        for (uint256 i = 0; i < pool.length; ++i) pool[i] = address(uint160(0xC0 + i));
    }
}
