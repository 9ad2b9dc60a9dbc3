// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {TensorCommitment} from "../../contracts/libraries/TensorCommitment.sol";

import {Test} from "./utils/Test.sol";
import {TestData} from "./utils/Protocol.sol";

/// @dev The library takes calldata, so it is exercised through an external call.
contract TensorCommitmentHarness {
    function root(bytes calldata data) external view returns (bytes32) {
        return TensorCommitment.root(data);
    }
}

contract TensorCommitmentTest is Test {
    uint256 private constant CHUNK = 1024;

    TensorCommitmentHarness private harness;

    function setUp() public {
        harness = new TensorCommitmentHarness();
    }

    /// @notice Equal to a straightforward recomputation of docs/SEMANTICS.md for random data of
    /// random lengths up to 5 chunks (1 to 1280 int32 elements), including exact chunk multiples.
    function testFuzz_rootMatchesReference(uint256 elementsSeed, uint256 dataSeed) public view {
        uint256 elements = bound(elementsSeed, 1, 1280);
        // Bias a quarter of the runs onto chunk boundaries (256, 512, ...) and their neighbours.
        if (dataSeed % 4 == 0) {
            uint256 chunks = 1 + ((dataSeed >> 2) % 5);
            uint256 delta = (dataSeed >> 8) % 3; // 0, +1, -1 element
            elements = chunks * 256;
            if (delta == 1 && elements < 1280) elements += 1;
            if (delta == 2) elements -= 1;
        }
        bytes memory data = _randomBytes(dataSeed, elements * 4);
        assertEq(harness.root(data), _reference(data), "root != reference");
    }

    /// @notice One chunk: the root is sha256 of the zero-padded chunk (the 4-byte model's case).
    function testFuzz_singleChunkRootIsLeaf(uint256 elementsSeed, uint256 dataSeed) public view {
        uint256 elements = bound(elementsSeed, 1, 256);
        bytes memory data = _randomBytes(dataSeed, elements * 4);
        assertEq(harness.root(data), TestData.commitOneChunk(data), "single-chunk root != leaf");
    }

    /// @notice Flipping any single bit of the data changes the root.
    function testFuzz_commitmentDependsOnEveryByte(uint256 elementsSeed, uint256 dataSeed, uint256 pos) public view {
        uint256 elements = bound(elementsSeed, 1, 1280);
        bytes memory data = _randomBytes(dataSeed, elements * 4);
        bytes32 before = harness.root(data);
        pos = bound(pos, 0, data.length - 1);
        data[pos] = bytes1(uint8(data[pos]) ^ 0x01);
        assertTrue(harness.root(data) != before, "flipping a byte did not change the root");
    }

    /// @notice The commitment does not bind the length: appending zero elements that stay inside
    /// the last chunk leaves the root unchanged. Whoever checks a commitment must also check the
    /// byte length against the tensor's shape (JobManager does, for inputs and outputs).
    function testFuzz_trailingZeroElementsInLastChunkKeepTheRoot(uint256 elementsSeed, uint256 dataSeed) public view {
        uint256 elements = bound(elementsSeed, 1, 1279);
        vm.assume(elements % 256 != 0); // room left in the last chunk
        bytes memory data = _randomBytes(dataSeed, elements * 4);
        bytes memory longer = bytes.concat(data, new bytes(4));
        assertEq(harness.root(longer), harness.root(data), "zero padding is not length-blind");
    }

    function testFuzz_invalidLengthReverts(uint256 length) public {
        length = bound(length, 0, 5000);
        vm.assume(length % 4 != 0 || length == 0);
        bytes memory data = new bytes(length);
        vm.expectRevert(abi.encodeWithSelector(TensorCommitment.TensorCommitmentInvalidLength.selector, length));
        harness.root(data);
    }

    /// @notice Known vector: a single int32 1 (little-endian 01 00 00 00), computed independently
    /// with Node's crypto as sha256 of the 1024-byte padded chunk.
    function test_knownVectorOneElement() public view {
        bytes memory data = hex"01000000";
        assertEq(
            harness.root(data),
            0x91fd9dbe4d5a5fd8a32c47425d44e07358443d88ddc196ecd52b491fd32382b9,
            "known vector, one element"
        );
    }

    /// @notice Known vector: 513 elements (3 chunks, padded with a zero leaf to 4), byte i = i % 251,
    /// computed independently with Node's crypto.
    function test_knownVectorThreeChunks() public view {
        bytes memory data = new bytes(2052);
        for (uint256 i = 0; i < data.length; ++i) data[i] = bytes1(uint8(i % 251));
        assertEq(
            harness.root(data),
            0xb891cd71e61b458bd7280b2fc7255868e2f9b41fa5bd81a7eac5bd4e65541d0f,
            "known vector, three chunks"
        );
        assertEq(harness.root(data), _reference(data), "reference disagrees with the known vector");
    }

    // ------------------------------------------------------------ reference

    function _reference(bytes memory data) private pure returns (bytes32) {
        uint256 chunks = (data.length + CHUNK - 1) / CHUNK;
        uint256 width = 1;
        while (width < chunks) width *= 2;
        bytes32[] memory nodes = new bytes32[](width); // padding leaves stay bytes32(0)
        for (uint256 c = 0; c < chunks; ++c) {
            bytes memory chunk = new bytes(CHUNK);
            for (uint256 j = 0; j < CHUNK && c * CHUNK + j < data.length; ++j) chunk[j] = data[c * CHUNK + j];
            nodes[c] = sha256(chunk);
        }
        while (width > 1) {
            width /= 2;
            bytes32[] memory next = new bytes32[](width);
            for (uint256 i = 0; i < width; ++i) next[i] = sha256(bytes.concat(nodes[2 * i], nodes[2 * i + 1]));
            nodes = next;
        }
        return nodes[0];
    }

    function _randomBytes(uint256 seed, uint256 length) private pure returns (bytes memory out) {
        out = new bytes(length);
        // A few runs use sparse data (mostly zeros), the rest dense pseudo-random bytes.
        bool sparse = (seed >> 200) % 3 == 0;
        for (uint256 i = 0; i < length; i += 32) {
            bytes32 word = keccak256(abi.encode(seed, i));
            for (uint256 j = 0; j < 32 && i + j < length; ++j) {
                out[i + j] = sparse && uint8(word[j]) > 16 ? bytes1(0) : word[j];
            }
        }
    }
}
