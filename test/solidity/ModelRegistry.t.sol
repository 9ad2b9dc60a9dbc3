// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

import {DigitOracle} from "../../contracts/examples/DigitOracle.sol";
import {IJobManager} from "../../contracts/interfaces/IJobManager.sol";
import {IModelRegistry} from "../../contracts/interfaces/IModelRegistry.sol";
import {ModelRegistry} from "../../contracts/registry/ModelRegistry.sol";

import {Test} from "./utils/Test.sol";
import {TestData} from "./utils/Protocol.sol";

/// @dev Delivers results straight to the oracle's hook: the arithmetic, without a job's life.
/// @dev What the oracle reads of its escrow at construction: the token and the registry.
contract EscrowStub {
    IERC20 public token = IERC20(address(2));
    IModelRegistry public registry;

    constructor(IModelRegistry registry_) {
        registry = registry_;
    }
}

contract DigitOracleHarness is DigitOracle {
    constructor(IModelRegistry registry_, uint256 modelId_)
        DigitOracle(IJobManager(address(new EscrowStub(registry_))), modelId_, msg.sender)
    {}

    function deliver(uint256 jobId, bytes calldata output) external {
        _onResult(jobId, output);
    }
}

/// @notice Scales and first registrations in the registry, and the example consumer's dequantization.
contract ModelRegistryTest is Test {
    ModelRegistry private registry;

    function setUp() public {
        registry = new ModelRegistry();
    }

    function _spec(uint256 salt, uint128 inputScaleWad, uint128 outputScaleWad) private pure returns (IModelRegistry.ModelSpec memory spec) {
        spec = TestData.tinyModel(1 ether, 10_000, new IModelRegistry.Contributor[](0), salt);
        (spec.inputScaleWad, spec.outputScaleWad) = (inputScaleWad, outputScaleWad);
    }

    /// @notice Any non-zero scales come back as given, beside an intact version link and pricing.
    function testFuzz_scalesRoundTrip(uint128 in1, uint128 out1, uint128 in2, uint128 out2, uint96 price) public {
        in1 = uint128(bound(in1, 1, type(uint128).max));
        out1 = uint128(bound(out1, 1, type(uint128).max));
        in2 = uint128(bound(in2, 1, type(uint128).max));
        out2 = uint128(bound(out2, 1, type(uint128).max));
        IModelRegistry.ModelSpec memory first = _spec(1, in1, out1);
        first.price = price;
        uint256 id1 = registry.registerModel(first);
        uint256 id2 = registry.publishVersion(id1, _spec(2, in2, out2));

        (uint128 i, uint128 o) = registry.scales(id1);
        assertEq(i, in1, "input scale");
        assertEq(o, out1, "output scale");
        (i, o) = registry.scales(id2);
        assertEq(i, in2, "version's input scale");
        assertEq(o, out2, "version's output scale");
        IModelRegistry.Model memory m = registry.getModel(id2);
        assertEq(m.previousVersion, id1, "previous version");
        assertEq(m.family, id1, "family");
        assertEq(m.inputScaleWad, in2, "getModel input scale");
        assertEq(m.outputScaleWad, out2, "getModel output scale");
        (uint96 p, , uint64 inputElements, uint64 outputElements) = registry.pricing(id1);
        assertEq(p, price, "price");
        assertEq(inputElements, 1, "input elements");
        assertEq(outputElements, 1, "output elements");
    }

    function testFuzz_zeroScaleRefused(uint128 scale, bool zeroInput) public {
        scale = uint128(bound(scale, 1, type(uint128).max));
        (uint128 i, uint128 o) = zeroInput ? (uint128(0), scale) : (scale, uint128(0));
        vm.expectRevert(abi.encodeWithSelector(IModelRegistry.ModelRegistryInvalidScale.selector, i, o));
        registry.registerModel(_spec(1, i, o));
    }

    /// @notice Whatever order files are registered in, each content hash names its first model id.
    function testFuzz_firstModelByContentHash(uint256 seed) public {
        uint256[4] memory first;
        for (uint256 n = 1; n <= 12; ++n) {
            uint256 file = uint256(keccak256(abi.encode(seed, n))) % 4;
            uint256 id = registry.registerModel(_spec(file, 1e18, 1e18));
            if (first[file] == 0) first[file] = id;
        }
        for (uint256 file = 0; file < 4; ++file) {
            assertEq(registry.firstModelByContentHash(keccak256(abi.encode("content", file))), first[file], "first id of a file");
        }
        assertEq(registry.firstModelByContentHash(bytes32(0)), 0, "no model");
    }

    /// @notice The example consumer's real score is exactly the winning integer times the
    /// registered output scale, for every int32 score and every uint128 scale (no overflow in int240).
    function testFuzz_digitOracleScoreIsIntegerTimesScale(int32[10] memory scores, uint128 scale) public {
        scale = uint128(bound(scale, 1, type(uint128).max));
        uint256 modelId = registry.registerModel(_spec(1, 1e18, scale));
        DigitOracleHarness oracle = new DigitOracleHarness(registry, modelId);
        assertEq(oracle.outputScaleWad(), scale, "scale read at construction");

        bytes memory output;
        uint8 best;
        for (uint8 k = 0; k < 10; ++k) {
            output = bytes.concat(output, _le(scores[k]));
            if (scores[k] > scores[best]) best = k;
        }
        oracle.deliver(7, output);
        (bool answered, uint8 digit, int240 scoreWad) = oracle.answers(7);
        assertTrue(answered, "answered");
        assertEq(digit, best, "digit");
        assertEq(scoreWad, int256(scores[best]) * int256(uint256(scale)), "score wad");
    }

    function _le(int32 v) private pure returns (bytes memory) {
        uint32 u = uint32(v);
        return abi.encodePacked(uint8(u), uint8(u >> 8), uint8(u >> 16), uint8(u >> 24));
    }
}
