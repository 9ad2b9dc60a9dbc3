// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @dev Bytes per tensor chunk (docs/SEMANTICS.md "Tensor commitment"). The one definition of the
/// chunk size; the dispute contracts import it from here.
uint256 constant CHUNK_BYTES = 1024;

/// @dev Elements per tensor chunk: {CHUNK_BYTES} / 4 int32 elements.
uint256 constant CHUNK_ELEMS = 256;

/**
 * @title TensorCommitment
 * @notice The tensor commitment of docs/SEMANTICS.md, computed on-chain: canonical bytes (int32
 * little-endian elements) cut into 1024-byte chunks, the last one zero-padded; each leaf is
 * sha256 of its chunk; leaves are zero-padded to a power of two and hashed pairwise with sha256.
 * @dev Gas grows with the size of `data` (one sha256 per chunk); the job escrow uses it only on
 * inputs and outputs whose bytes are in calldata anyway.
 */
library TensorCommitment {
    /// @dev `length` is not a whole number of int32 elements, or is zero.
    error TensorCommitmentInvalidLength(uint256 length);

    /// @notice Commitment to the canonical bytes `data`.
    function root(bytes calldata data) internal pure returns (bytes32) {
        uint256 length = data.length;
        if (length == 0 || length % 4 != 0) revert TensorCommitmentInvalidLength(length);
        uint256 chunks = (length + CHUNK_BYTES - 1) / CHUNK_BYTES;
        uint256 width = 1;
        while (width < chunks) width <<= 1;

        bytes32[] memory level = new bytes32[](width);
        bytes memory chunk = new bytes(CHUNK_BYTES);
        for (uint256 i = 0; i < chunks; ++i) {
            uint256 start = i * CHUNK_BYTES;
            uint256 size = length - start < CHUNK_BYTES ? length - start : CHUNK_BYTES;
            assembly ("memory-safe") {
                let dst := add(chunk, 32)
                // The last chunk is shorter: clear the buffer so that its tail reads as zeros.
                if lt(size, CHUNK_BYTES) { calldatacopy(dst, calldatasize(), CHUNK_BYTES) }
                calldatacopy(dst, add(data.offset, start), size)
            }
            level[i] = sha256(chunk);
        }
        while (width > 1) {
            width >>= 1;
            for (uint256 i = 0; i < width; ++i) {
                level[i] = sha256(abi.encodePacked(level[2 * i], level[2 * i + 1]));
            }
        }
        return level[0];
    }
}
